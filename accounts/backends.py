"""Django's ModelBackend (``AUTHENTICATION_BACKENDS``), telling the sign-in view when a password
was right but its account is deactivated: that user reads "This account is deactivated." instead
of "Invalid email or password.", and nobody without the password learns anything."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# Set on the request by a right password of a deactivated account (read by the login view).
ACCOUNT_INACTIVE_MARK = "account_inactive"


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # ModelBackend's steps (one password hash whatever the account, so timing tells nothing),
        # plus the mark.
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            model().set_password(password)
            return None
        if not user.check_password(password):
            return None
        if self.user_can_authenticate(user):
            return user
        if request is not None:
            setattr(request, ACCOUNT_INACTIVE_MARK, True)
        return None
