"""allauth's account and social-account adapters (``ACCOUNT_ADAPTER``, ``SOCIALACCOUNT_ADAPTER``)."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core import context as allauth_context  # send_mail has a parameter named context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from .. import services
from ..models import User
from ..preferences import mail_language
from . import pending_flows
from .allauth_internals import Client
from .callback_urls import is_listed_callback_url
from .device_sessions import device_id_from_request


def is_app_request(request: HttpRequest | None) -> bool:
    headless = getattr(getattr(request, "allauth", None), "headless", None)
    return getattr(headless, "client", None) == Client.APP


class AccountAdapter(DefaultAccountAdapter):
    def is_safe_url(self, url: str | None) -> bool:
        # Besides our own hosts, the redirect flow may return to the operator's listed clients.
        return is_listed_callback_url(url) or super().is_safe_url(url)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            services.user_settings_get(user=user)  # signups through allauth get the default plan too
        return user

    def is_open_for_signup(self, request) -> bool:
        # Password sign-up has one door, POST /api/v1/auth/register, which never says whether an
        # email already has an account; allauth's own (/_allauth/app/v1/auth/signup) says so (and
        # signs in at once, which cannot be kept without saying so). Social sign-ups are open:
        # SocialAccountAdapter.is_open_for_signup.
        return False

    def format_email_subject(self, subject: str) -> str:
        # "[Chat] ...": the site's name from the one setting (allauth would take the Site row's,
        # "example.com" unless someone edited it).
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        if template_prefix == "account/email/password_reset_key":
            # The reset mail says how long its link lasts (templates/account/email/).
            context = {**context, "password_reset_minutes": settings.PASSWORD_RESET_TIMEOUT // 60}
        # Rendered here (allauth's context: the request, the site), delivered by the job worker:
        # allauth mails only known addresses (a reset asked for an unknown one sends nothing), so
        # delivering in the request would make its answer slower for accounts that exist.
        request = allauth_context.request
        recipient = User.objects.filter(email__iexact=email).select_related("settings").first()
        # In the recipient's language (their saved one, else the request's).
        with translation.override(mail_language(recipient)):
            rendered = self.render_mail(
                template_prefix,
                email,
                {"request": request, "email": email, "current_site": mail_site(request), **context},
            )
        services.mail_deliver_later(rendered)


@dataclass(frozen=True)
class MailSite:
    """What allauth's mail templates read as ``current_site``: the name from ``settings.SITE_NAME``
    and the address the request came to, not the ``django.contrib.sites`` row."""

    name: str
    domain: str


def mail_site(request: HttpRequest | None) -> MailSite:
    return MailSite(name=settings.SITE_NAME, domain=request.get_host() if request is not None else "")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    # Naver marks every address as verified, whoever owns it; we trust nobody's word on that.
    UNVERIFIED_EMAIL_PROVIDERS = frozenset({"naver"})

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # allauth asks the account adapter, which closes password sign-ups; social ones stay open.
        return True

    def pre_social_login(self, request, sociallogin) -> None:
        provider_id = sociallogin.account.provider
        if provider_id in self.UNVERIFIED_EMAIL_PROVIDERS:
            for address in sociallogin.email_addresses:
                address.verified = False
        if sociallogin.is_existing or sociallogin.state.get("process") == "connect":
            return
        email = User.objects.normalize_email(sociallogin.user.email if sociallogin.user else "")
        if not email:
            raise ValidationError(
                _("%(provider)s did not share an email address; allow it and try again.")
                % {"provider": self._provider_name(provider_id)},
                code="email_required",
            )
        if User.objects.filter(email__iexact=email).exists():
            # Never sign into (or attach to) an existing account because a provider says the
            # email matches: the owner signs in as usual and links the provider themselves.
            raise ValidationError(
                _("An account with this email already exists. Sign in to it, then link %(provider)s from your account.")
                % {"provider": self._provider_name(provider_id)},
                code="email_taken",
            )

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        extra = sociallogin.account.extra_data or {}
        name = (
            data.get("name")
            or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
            or extra.get("name")
            or extra.get("nickname")
            or data.get("username")
            or ""
        )
        user.display_name = str(name).strip()[:150]
        user.email = User.objects.normalize_email(user.email)
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form=form)
        services.user_settings_get(user=user)  # the default plan, as for password signups
        return user

    def generate_state_param(self, state: dict) -> str:
        state_id = super().generate_state_param(state)
        request = context.request
        if is_app_request(request):
            # The callback arrives from a browser that does not carry this app session: remember
            # which session holds the state, so the callback can run on it (provider_callback).
            if not request.session.session_key:
                request.session.save()
            flow = pending_flows.PendingFlow(
                session_key=request.session.session_key,
                process=state.get("process"),
                device_id=device_id_from_request(request),
                callback_url=state["next"],
            )
            pending_flows.remember(state_id, flow)
            # allauth ends the flow with a redirect to state["next"], which Django refuses for an
            # app scheme (myapp://...) once the user exists; it returns to our path instead, and
            # the callback sends the browser on to flow.callback_url (allauth stashes this dict).
            state["next"] = pending_flows.ALLAUTH_RETURN_PATH
        return state_id

    @staticmethod
    def _provider_name(provider_id: str) -> str:
        return {"github": "GitHub"}.get(provider_id, provider_id.capitalize())
