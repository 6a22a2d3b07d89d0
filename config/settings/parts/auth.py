"""Sign-in: the user model, backends, password rules, and brute-force protection (django-axes)."""

from datetime import timedelta

from .env import env

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its account or address is locked out (accounts/lockout.py).
    # AxesBackend, not the standalone one: it also answers get_user(), as a first backend must.
    "axes.backends.AxesBackend",
    # Django's ModelBackend that also marks the right password of a deactivated account.
    "accounts.backends.AccountBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.DigitAndUppercaseValidator"},
]
LOGIN_URL = "admin:login"

# --- Brute-force protection (NIST SP 800-63B 5.2.2): django-axes + accounts/lockout.py ----------
# Failed passwords only, on every path that checks one (API login, Swagger's form login, the
# admin, allauth's headless login and re-authentication, the current password of a password
# change). An account+address pair or an address is refused for the window after its limit;
# an account is refused, from every address it has not signed in from lately, once it has
# LOGIN_FAILURES_PER_ACCOUNT failures within LOGIN_ACCOUNT_LOCK_MINUTES since its last
# successful sign-in. Every refusal ends by itself (Retry-After); a password reset ends it too.
LOGIN_FAILURES_PER_ACCOUNT_IP = env.int("LOGIN_FAILURES_PER_ACCOUNT_IP", default=10)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=50)
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=100)
LOGIN_FAILURE_WINDOW = timedelta(minutes=env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15))
LOGIN_ACCOUNT_LOCK_WINDOW = timedelta(minutes=env.int("LOGIN_ACCOUNT_LOCK_MINUTES", default=60))
# The account limit does not hold at an address the account signed in from within this many
# days (its Device rows' ip); 0 holds it everywhere.
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=30)
AXES_HANDLER = "accounts.lockout.LockoutHandler"
# axes' own rule is the account+address one; the handler adds the per-address and per-account ones.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ACCOUNT_IP
AXES_COOLOFF_TIME = LOGIN_FAILURE_WINDOW
# A success forgets that account's failures from that address only (never the address's other
# failures: an attacker's own account must not reset its budget).
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lockout check no password: they neither count nor extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Every failure is kept (the per-account count); successes are on Device rows and last_login.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = max(1000, LOGIN_FAILURES_PER_ACCOUNT)
AXES_DISABLE_ACCESS_LOG = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username_key"
# The one client-IP rule (DJANGO_NUM_PROXIES), an IPv6 address counted as its /64.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.lockout_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_VERBOSE = False
# allauth's own limits: its per-email "login_failed" lock (which locked owners out) is off, the
# rules above govern its login too; its per-address attempt limit is the API's, and it finds the
# client's address as the API does.
_login_ip_rate, _login_ip_period = env("THROTTLE_LOGIN_IP", default="20/min").split("/")
ACCOUNT_RATE_LIMITS = {"login_failed": None, "login": f"{_login_ip_rate}/{_login_ip_period[0]}/ip"}
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("DJANGO_NUM_PROXIES", default=0)
