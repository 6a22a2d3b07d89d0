from config.throttles import IPRateThrottle, SettingsRateThrottle, UserRateThrottle

from ..models import User


class LoginIPThrottle(IPRateThrottle):
    scope = "login_ip"


class RegisterIPThrottle(IPRateThrottle):
    scope = "register_ip"


class RefreshIPThrottle(IPRateThrottle):
    scope = "refresh"


class PasswordChangeThrottle(UserRateThrottle):
    scope = "password_change"


class LoginEmailThrottle(SettingsRateThrottle):
    """Per target email, whichever IPs the attempts come from (credential stuffing)."""

    scope = "login_email"

    def get_cache_key(self, request, view):
        email = request.data.get("email") or request.data.get("username")
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": User.objects.normalize_email(email)[:254]}
