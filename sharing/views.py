"""The public share page, /share/<id>/, and its session-signed-in "continue" action."""

import secrets
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from tools.models import WEB_SEARCH

from . import selectors, services, snapshot
from .markdown import render_markdown

# No script from what strangers wrote may ever run on the page that shows it: the CSP allows one
# script, the page's own (frontend/src/share_page.js: local times, highlighted code, Copy), by the
# nonce of this response alone, and nothing inline or from anywhere else. The rest keeps the link
# private (no referrer leaks it, no search engine indexes it).
CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}
SCRIPT = "client/share.js"  # built by frontend/build.mjs


def _page(request, template: str, context: dict | None = None, *, status: int = 200, referrer: bool = False):
    """A page of this app with its headers; ``referrer`` keeps the default referrer policy (a form
    that POSTs: "no-referrer" would make the browser send ``Origin: null``)."""
    nonce = secrets.token_urlsafe(16)
    context = {
        **(context or {}),
        "csp_nonce": nonce,
        "site_name": settings.SITE_NAME,
        "share_script": static(SCRIPT),
    }
    response = render(request, template, context, status=status)
    response["Content-Security-Policy"] = CSP.format(nonce=nonce)
    for name, value in PAGE_HEADERS.items():
        if referrer and name == "Referrer-Policy":
            continue
        response[name] = value
    return response


def time_element(moment) -> str:
    """``<time datetime="<UTC ISO>">`` with the moment in the zone of this request (UTC, or the
    signed-in reader's) and the zone's name: readable as it is, and what the page's script rewrites
    in the browser's own zone and language."""
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{} ({})</time>',
        moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        formats.date_format(local, "DATETIME_FORMAT"),
        timezone.get_current_timezone_name(),
    )


# A call's status as the page says it (the same words as the web client's).
_CALL_STATUSES = {
    "running": gettext_lazy("Running"),
    "ok": gettext_lazy("Done"),
    "error": gettext_lazy("Failed"),
    "timeout": gettext_lazy("Timed out"),
    "stopped": gettext_lazy("Stopped"),
    "interrupted": gettext_lazy("Interrupted"),
    "refused": gettext_lazy("Not run"),
}


def _call_shown(call: dict) -> dict:
    """A shared tool call as the page shows it: the tool's name, its status in words, the
    arguments as indented JSON; everything is text the template escapes."""
    web = call["server"] == WEB_SEARCH
    return {
        **call,
        "label": gettext("Web search") if web else f"{call['server']} · {call['name']}",
        "status_label": _CALL_STATUSES.get(call["status"], call["status"]),
        "arguments_text": snapshot.arguments_text(call["arguments"]),
        "failed": call["status"] not in ("ok", "running"),
    }


def _not_found(request):
    return _page(request, "sharing/share_not_found.html", status=404)


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
            "tool_calls": [_call_shown(call) for call in item.get("tool_calls", [])],
            "notices": item.get("notices", []),
        }
        for item in snapshot.shown_messages(share.messages)
    ]
    context = {
        "share": share,
        "shared_at": time_element(share.created_at),
        "messages": messages,
        "clone_api_path": reverse("share-clone", kwargs={"share_id": share.pk}),
        "continue_path": reverse("share-continue", kwargs={"share_id": share.pk}),
        # The reference client clones the share for whoever signs in there.
        "client_continue_url": f"{reverse('client')}?{urlencode({'continue_share': share.pk})}",
    }
    return _page(request, "sharing/share_detail.html", context)


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
        return _page(request, "sharing/share_continue.html", {"share": share}, referrer=True)
    conversation = services.share_clone(share=share, user=request.user)
    return HttpResponseRedirect(_conversation_admin_url(conversation))
