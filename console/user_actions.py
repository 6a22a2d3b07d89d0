"""The buttons at the top of a user's admin page, as one table (:data:`USER_ACTIONS`): each row
names its URL, icon and permission, the wording of its confirmation and of its refusal, and the
function that does it. :func:`with_user_actions` makes them unfold's detail actions of an admin.

Every action asks first (a GET shows a confirmation page, a POST does it), is refused on one's own
account and, for staff who are not superusers, on a superuser's or another staff member's
(``console/guard.py``, whose object permission refuses them with a 403 before this), and is written
to the audit trail by the function that does it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from unfold.decorators import action as unfold_action

from accounts import services
from accounts.models import Plan, User, UserSettings
from conversations.quota import daily_usage, quota_reset
from portability.services import user_export_start

from .audit import record_staff_action
from .guard import SUPERUSER_REFUSAL, Refusal, may_act_on

SELF_REFUSAL = Refusal(_("You cannot %(what)s your own account: ask another staff member to do it."))


CONFIRMATION_TEMPLATE = "admin/accounts/user/confirm_action.html"


@dataclass(frozen=True)
class Done:
    """What an action did: the message shown, its level, and where the operator lands (the user's
    page when ``to`` is None)."""

    message: str
    level: int = messages.SUCCESS
    to: str | None = None


@dataclass(frozen=True)
class UserAction:
    name: str  # the admin's name for it; its URL is named admin:accounts_user_<name>
    label: str  # the button
    url_path: str  # /admin/accounts/user/<id>/<url_path>/
    icon: str  # a material icon
    permission: str  # the model permission it needs: "change" or "delete"
    what: str  # the refusal: "You cannot <what> your own account" (translated, context "an action on an account")
    title: str  # the confirmation page's
    text: str  # the confirmation's question; %(user)s is the user's email
    button: str  # the confirmation's
    do: Callable[[HttpRequest, User], Done]
    offers_plans: bool = False  # the confirmation has a choice of plan (the POST's "plan")


# --- what each action does --------------------------------------------------------------------


def _deactivate(request, user) -> Done:
    services.users_deactivate(users=User.objects.filter(pk=user.pk))
    record_staff_action([user], action="deactivate and sign out everywhere", changes={"is_active": [True, False]})
    return Done(
        gettext("%(email)s is deactivated: signed out on every device, API keys revoked.") % {"email": user.email}
    )


def _reactivate(request, user) -> Done:
    services.users_reactivate(users=User.objects.filter(pk=user.pk))
    record_staff_action([user], action="reactivate", changes={"is_active": [False, True]})
    return Done(
        gettext("%(email)s can sign in again (old sessions and API keys stay revoked).") % {"email": user.email}
    )


def _grant_plan(request, user) -> Done:
    slug = request.POST.get("plan", "")
    old = services.user_settings_get(user=user).plan.slug
    try:
        services.user_settings_update(user=user, by_staff=True, plan=slug)
    except ValidationError:
        return Done(gettext("No plan '%(slug)s'.") % {"slug": slug[:40]}, messages.ERROR)
    record_staff_action([user], action="grant plan", changes={"plan": [old, slug]})
    return Done(gettext("%(email)s is now on the %(plan)s plan.") % {"email": user.email, "plan": slug})


def _revoke_sessions(request, user) -> Done:
    count = services.devices_revoke_all(user=user)
    record_staff_action([user], action="revoke all sessions", changes={"active devices": [count, 0]})
    return Done(
        ngettext(
            "Signed %(email)s out of %(count)d device. API keys are left alone (revoke them in API keys).",
            "Signed %(email)s out of %(count)d devices. API keys are left alone (revoke them in API keys).",
            count,
        )
        % {"email": user.email, "count": count}
    )


def _reset_quota(request, user) -> Done:
    before = daily_usage(settings_row=services.user_settings_get(user=user)).messages_sent
    quota_reset(settings_rows=UserSettings.objects.filter(user=user))
    record_staff_action([user], action="reset today's quota", changes={"messages sent today": [before, 0]})
    return Done(
        gettext("%(email)s's messages sent today no longer count: a full day's quota until the daily reset.")
        % {"email": user.email}
    )


def _export_data(request, user) -> Done:
    export = user_export_start(user=user)
    record_staff_action([user], action="export the account's data")
    return Done(
        format_html(
            gettext(
                'An export of {}\'s data is queued (<a href="{}">export {}</a>): a zip of their profile, '
                "settings, conversations, collector items and files, todos and shares, which they can also "
                "download themselves (GET /api/v1/user/exports/{}/download)."
            ),
            user.email,
            reverse("admin:portability_export_change", args=[export.pk]),
            export.pk,
            export.pk,
        )
    )


def _delete_account(request, user) -> Done:
    # Written first, in the deletion's transaction: the entry keeps the account's id and email
    # once the row is gone, and goes away with it if the deletion fails.
    with transaction.atomic():
        record_staff_action([user], action="delete account and all data", changes={"email": [user.email, None]})
        deleted = services.user_delete(user=user)
    return Done(
        gettext(
            "Deleted %(email)s: %(conversations)d conversation(s) and everything else the account owned, "
            "%(files)d stored file(s)."
        )
        % {"email": deleted.email, "conversations": deleted.conversations, "files": deleted.files},
        to=reverse("admin:accounts_user_changelist"),
    )


# --- the table, in the order of the buttons ---------------------------------------------------

USER_ACTIONS = (
    UserAction(
        name="deactivate_user",
        label=_("Deactivate"),
        url_path="deactivate",
        icon="block",
        permission="change",
        what=pgettext_lazy("an action on an account", "deactivate"),
        title=_("Deactivate this user?"),
        text=_("%(user)s can no longer sign in; every device is signed out and every API key revoked at once."),
        button=_("Deactivate and sign out everywhere"),
        do=_deactivate,
    ),
    UserAction(
        name="reactivate_user",
        label=_("Reactivate"),
        url_path="reactivate",
        icon="check_circle",
        permission="change",
        what=pgettext_lazy("an action on an account", "reactivate"),
        title=_("Reactivate this user?"),
        text=_("%(user)s can sign in again."),
        button=_("Reactivate"),
        do=_reactivate,
    ),
    UserAction(
        name="grant_plan",
        label=_("Grant plan"),
        url_path="grant-plan",
        icon="workspace_premium",
        permission="change",
        what=pgettext_lazy("an action on an account", "grant a plan to"),
        title=_("Grant a plan"),
        text=_("Choose the plan %(user)s is on from now."),
        button=_("Grant plan"),
        do=_grant_plan,
        offers_plans=True,
    ),
    UserAction(
        name="revoke_sessions",
        label=_("Revoke all sessions"),
        url_path="revoke-sessions",
        icon="logout",
        permission="change",
        what=pgettext_lazy("an action on an account", "revoke the sessions of"),
        title=_("Revoke all sessions?"),
        text=_("%(user)s is signed out on every device and must sign in again; the account stays active."),
        button=_("Revoke all sessions"),
        do=_revoke_sessions,
    ),
    UserAction(
        name="reset_quota",
        label=_("Reset today's quota"),
        url_path="reset-quota",
        icon="restart_alt",
        permission="change",
        what=pgettext_lazy("an action on an account", "reset the quota of"),
        title=_("Reset today's quota?"),
        text=_("The messages %(user)s sent today stop counting against the daily limit until the daily reset."),
        button=_("Reset today's quota"),
        do=_reset_quota,
    ),
    UserAction(
        name="export_data",
        label=_("Export data"),
        url_path="export-data",
        icon="download",
        permission="change",
        what=pgettext_lazy("an action on an account", "export the data of"),
        title=_("Export this user's data?"),
        text=_("A zip of everything %(user)s owns is made by the background worker (a data request)."),
        button=_("Export data"),
        do=_export_data,
    ),
    UserAction(
        name="delete_account",
        label=_("Delete account and all data"),
        url_path="delete-account",
        icon="delete",
        permission="delete",
        what=pgettext_lazy("an action on an account", "delete"),
        title=_("Delete this account and all its data?"),
        text=_(
            "%(user)s and everything the account owns (conversations, collector items and files, todos, shares, "
            "API keys, sessions, feedback, settings, social accounts) are deleted for good. This cannot be undone."
        ),
        button=_("Delete account and all data"),
        do=_delete_account,
    ),
)


# --- one way to run them ----------------------------------------------------------------------


def refusal(request, user, what: str) -> str | None:
    """Why the staff member may not act on ``user`` (themselves, or an account only a superuser
    manages), or None."""
    if user.pk == request.user.pk:
        return SELF_REFUSAL.format(what=what)
    if not may_act_on(request.user, user):
        return SUPERUSER_REFUSAL.format(what=what)
    return None


def run(model_admin, request, object_id, action: UserAction):
    """GET: the confirmation page; POST: ``action.do``, its message, then back to the user's page
    (or where it says)."""
    if not str(object_id).isdigit():
        raise Http404(gettext("No such user."))
    user = get_object_or_404(User, pk=object_id)
    back = reverse("admin:accounts_user_change", args=[user.pk])
    refused = refusal(request, user, action.what)
    if refused is not None:
        model_admin.message_user(request, refused, messages.ERROR)
        return redirect(back)
    if request.method != "POST":
        context = {
            **model_admin.admin_site.each_context(request),
            "title": action.title,
            "action_title": action.title,
            "action_text": str(action.text) % {"user": user.email},
            "action_button": action.button,
            "back_url": back,
            "plans": list(Plan.objects.order_by("order", "id")) if action.offers_plans else None,
            "current_plan": getattr(getattr(user, "settings", None), "plan", None) and user.settings.plan.slug,
            "opts": model_admin.opts,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)
    done = action.do(request, user)
    model_admin.message_user(request, done.message, done.level)
    return redirect(done.to or back)


def _detail_action(action: UserAction):
    def run_action(model_admin, request, object_id):
        return run(model_admin, request, object_id, action)

    # unfold asks a detail action for its object's permission when it finds the action's name in
    # actions_detail, by the function's name: without it, only the model's permission is asked.
    run_action.__name__ = run_action.__qualname__ = action.name
    return unfold_action(
        description=action.label, url_path=action.url_path, permissions=[action.permission], icon=action.icon
    )(run_action)


def with_user_actions(admin_class):
    """Class decorator: :data:`USER_ACTIONS` as the admin's detail actions (the buttons at the top
    of a user's page), in the table's order."""
    for action in USER_ACTIONS:
        setattr(admin_class, action.name, _detail_action(action))
    admin_class.actions_detail = tuple(action.name for action in USER_ACTIONS)
    return admin_class
