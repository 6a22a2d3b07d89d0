import hashlib

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
        data = request.data
        if not hasattr(data, "get"):  # a JSON list/string/null: the serializer will answer 400
            return None
        email = data.get("email") or data.get("username")
        if not isinstance(email, str) or not email.strip():
            return None
        # Hashed: a bounded key (memcached caps keys at 250 chars) and no addresses in the cache.
        ident = hashlib.sha256(User.objects.normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
