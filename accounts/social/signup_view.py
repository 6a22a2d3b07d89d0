"""allauth's headless password sign-up (``POST /_allauth/app/v1/auth/signup``), kept closed.

Password sign-up has one door, ``POST /api/v1/auth/register``, which never says whether an email
already has an account. allauth's own would say so ("A user is already registered with this email
address"), and it signs in at once, which cannot be kept without saying so. The account adapter
closes it (``AccountAdapter.is_open_for_signup``), but allauth asks the adapter only after
validating the input, whose errors name a taken email: this view asks first, so every sign-up
there gets allauth's own 403, whatever its email. Social sign-ups are not affected.
"""

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.headless.account.views import SignupView as AllauthSignupView

from .allauth_internals import ForbiddenResponse


class SignupView(AllauthSignupView):
    def handle(self, request, *args, **kwargs):
        if request.method == "POST" and not get_account_adapter().is_open_for_signup(request):
            return ForbiddenResponse(request)
        return super().handle(request, *args, **kwargs)
