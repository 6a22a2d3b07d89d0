"""The public share page, /share/<id>/, and its session-signed-in "continue" action."""

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_safe

from . import selectors, services
from .markdown import render_markdown

# No script may ever run on a page that shows what strangers wrote: the CSP forbids it outright,
# the rest keeps the link private (no referrer leaks it, no search engine indexes it).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}


def _with_headers(response):
    for name, value in PAGE_HEADERS.items():
        response[name] = value
    return response


def _not_found(request):
    return _with_headers(render(request, "sharing/share_not_found.html", status=404))


@require_safe
def share_detail(request, share_id: str):
    try:
        share = selectors.share_get_public(share_id=share_id)
    except Http404:
        return _not_found(request)
    if request.method == "GET":
        services.share_register_view(share=share)
    messages = [
        {
            "role": item["role"],
            "created_at": parse_datetime(item["created_at"]),
            # Replies are Markdown; what the user typed is shown as typed (escaped by the template).
            "html": render_markdown(item["content"]) if item["role"] == "assistant" else None,
            "text": item["content"],
            "attachments": item.get("attachments", []),
            "sources": item.get("sources", []),
        }
        for item in share.messages
    ]
    context = {
        "share": share,
        "messages": messages,
        "clone_api_path": reverse("share-clone", kwargs={"share_id": share.pk}),
        "continue_path": reverse("share-continue", kwargs={"share_id": share.pk}),
        # The reference client clones the share for whoever signs in there.
        "client_continue_url": f"{reverse('client')}?{urlencode({'continue_share': share.pk})}",
    }
    return _with_headers(render(request, "sharing/share_detail.html", context))


def _conversation_admin_url(conversation) -> str:
    try:
        return reverse("admin:conversations_conversation_change", args=[conversation.pk])
    except NoReverseMatch:
        return reverse("admin:index")


@require_http_methods(["GET", "POST"])
def share_continue(request, share_id: str):
    """Clone for a user signed in with a Django session (the admin login), then open the copy.

    GET shows a confirmation with the POST form. The form cannot live on the share page itself:
    that page's ``Referrer-Policy: no-referrer`` makes browsers send ``Origin: null`` on a POST,
    which Django's CSRF check rightly refuses. This page keeps the default referrer policy.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    try:
        share = selectors.share_get_public(share_id=share_id)
    except Http404:
        return _not_found(request)
    if request.method == "GET":
        response = render(request, "sharing/share_continue.html", {"share": share})
        for name, value in PAGE_HEADERS.items():
            if name != "Referrer-Policy":
                response[name] = value
        return response
    conversation = services.share_clone(share=share, user=request.user)
    return HttpResponseRedirect(_conversation_admin_url(conversation))
