"""Settings shared by every profile, read from the environment (django-environ).

The defaults are the *embedded* profile: a fresh checkout runs with SQLite (WAL mode), the
in-memory channel layer and the local SmolLM2 model, with DEBUG off. Production overrides live in
``config/settings/production.py``; the test profile in ``config/settings/test.py``.
"""

import os
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def local_secret_key(path: Path) -> str:
    """A random key made on first run and kept in ``path`` (git-ignored, readable by its owner only).

    Without ``DJANGO_SECRET_KEY`` a server started with ``make run`` must not sign its tokens with
    a key anyone can read in this repository. Several processes may start at once: the first to
    create the file wins and the others read it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            key = path.read_text().strip()
            if len(key) >= 50:
                return key
            time.sleep(0.02)
        return ""  # Django then refuses to start: SECRET_KEY must not be empty
    except OSError:  # a read-only checkout: DJANGO_SECRET_KEY must be given
        return ""
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


LOCAL_SECRET_KEY_FILE = Path(env("DJANGO_LOCAL_SECRET_KEY_FILE", default=str(BASE_DIR / ".secret_key")))
# The production profile refuses to start without DJANGO_SECRET_KEY (it never uses the local file).
SECRET_KEY = env_secret("DJANGO_SECRET_KEY") or local_secret_key(LOCAL_SECRET_KEY_FILE)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin's theme (before django.contrib.admin, whose templates it overrides).
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "console.apps.ConsoleAdminConfig",  # django.contrib.admin with our site class
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # third party
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.headless",
    "axes",
    "auditlog",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    # ours
    "core",
    "accounts",
    "conversations",
    "sharing",
    "collector",
    "todos",
    "portability",
    "openai_api",
    "jobs",
    # The operator console, after the apps whose admins it replaces (console/apps.py).
    "console.apps.ConsoleConfig",
]
SITE_ID = 1

MIDDLEWARE = [
    "core.logging.RequestIdMiddleware",
    "core.json_limits.JsonDepthLimitMiddleware",
    "core.errors.BackingServiceDownMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, so its 429 for a locked-out sign-in passes through CORS and the request id on the way out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The console's admin pages override unfold's and Django's: app directories are searched
        # in INSTALLED_APPS order, where unfold comes first and the console last, so its
        # directory is named here, searched before any app's.
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "console" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run while a reply is being checkpointed; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file (not :memory:) so the real ASGI server thread in tests sees the same database;
    # the pid keeps parallel test runs on one machine apart.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"chat-test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DB_POOL", default=True):
        # A pool per process (psycopg_pool), sized from the env: under ASGI every sync view runs
        # on a thread of its own, so a burst of requests used to open a connection each and get
        # "too many clients"; now they wait up to DB_POOL_TIMEOUT for one of the pool's.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DB_POOL_TIMEOUT", default=30.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and cache ---------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
REDIS_PREFIX = env("REDIS_PREFIX", default="chat")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:layer", "capacity": 1000},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its account or address is locked out (accounts/lockout.py).
    # AxesBackend, not the standalone one: it also answers get_user(), as a first backend must.
    "axes.backends.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
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

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
# --- Background jobs (django-tasks, the backport of Django 6's tasks) ---------------------------
# Imports, exports and purges run in the worker process (`manage.py jobs_worker`, started by
# `make serve`), never in a web request; jobs are rows, so they wait out a worker restart.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Job workers beat every JOBS_WORKER_HEARTBEAT_SECONDS; one silent for JOBS_WORKER_DEAD_AFTER_SECONDS
# (or gone from this host) is dead, and the jobs it was running run again, up to JOBS_MAX_ATTEMPTS
# claims in all, then fail (jobs/workers.py).
JOBS_WORKER_HEARTBEAT_SECONDS = env.float("JOBS_WORKER_HEARTBEAT_SECONDS", default=10.0)
JOBS_WORKER_DEAD_AFTER_SECONDS = env.float("JOBS_WORKER_DEAD_AFTER_SECONDS", default=60.0)
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)

# --- Admin console (django-unfold; console/) ------------------------------------------------
# Where a sign-in with no "next" lands: unfold's login form carries none, and Django's default
# (/accounts/profile/) does not exist here. Only the admin signs in through Django's login view.
LOGIN_REDIRECT_URL = "admin:index"
UNFOLD = {
    "SITE_TITLE": "Chat server admin",
    "SITE_HEADER": "Chat server",
    "SITE_SUBHEADER": "Operator console",
    "SITE_SYMBOL": "forum",
    "SITE_URL": "/",
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "console.dashboard.admin_home_context",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "console.sidebar.sidebar_navigation",
    },
}
# The audit trail (django-auditlog): what staff manage, not the chat traffic itself. The admin
# records who made each change (ConsoleAdminSite); addresses come from our proxy-aware client_ip.
AUDITLOG_DISABLE_REMOTE_ADDR = False
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "accounts.user", "exclude_fields": ["password", "last_login", "updated_at"]},
    # Only what is billing history: a theme or language change is not an audit event.
    {"model": "accounts.usersettings", "include_fields": ["plan", "plan_renews_at", "auto_renew"]},
    "accounts.plan",
    {"model": "accounts.apikey", "exclude_fields": ["last_used_at", "key_hash"]},
    {"model": "conversations.llmmodel", "m2m_fields": ["plans"]},
    "conversations.prompt",
    "sharing.sample",
    {"model": "socialaccount.socialapp", "mask_fields": ["secret"]},
)
AUDITLOG_MASK_CALLABLE = "console.audit.mask_whole"
# Exported CSV cells a spreadsheet would run as formulas (=, +, -, @, tab, CR first) are quoted by
# the admin's CSV format (console/spreadsheets.py). The library's own escaping is off: it removed
# one leading "=" only, and from JSON exports too (changing the data, protecting nothing).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The web client's bundle (frontend/, built by `make install`), served as /static/client/.
STATICFILES_DIRS = [("client", BASE_DIR / "frontend" / "dist" / "client")]
MEDIA_URL = "media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Served by the ASGI app itself in the embedded profile; put a web server in front in production.
SERVE_STATIC = env.bool("DJANGO_SERVE_STATIC", default=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- CORS -----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "last-event-id",
    "x-request-id",
    "x-device-id",
]

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.DeviceJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, unless a view says otherwise (collector uploads take multipart, the login form
    # of Swagger's Authorize is form-encoded): any other body is a 415, as the schema says.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.openapi.ApiAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.AnonThrottle", "core.throttles.UserThrottle"],
    # Rates are read through core.throttles at request time, so tests and operators can
    # change them without re-importing DRF.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="300/min"),
        "user": env("THROTTLE_USER", default="1200/min"),
        # Attempts per address (successes too): a cap on password hashing, never a lockout of an
        # owner elsewhere. Failed passwords are limited by accounts/lockout.py.
        "login_ip": env("THROTTLE_LOGIN_IP", default="20/min"),
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "refresh": env("THROTTLE_REFRESH", default="60/min"),
        "api_key": env("THROTTLE_API_KEY", default="600/min"),  # the OpenAI-compatible API, per key
    },
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

JWT_SIGNING_KEY = env_secret("JWT_SIGNING_KEY") or SECRET_KEY
# Within this many seconds of a rotation, presenting the just-rotated refresh token returns the same
# new pair (tabs and apps waking up race); after it, that is reuse and signs the device out.
JWT_REFRESH_REUSE_SECONDS = env.int("JWT_REFRESH_REUSE_SECONDS", default=10)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_SECONDS", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_SECONDS", default=14 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUDIENCE": env("JWT_AUDIENCE", default="chat-api"),
    "ISSUER": env("JWT_ISSUER", default="chat-server"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Chat API",
    "DESCRIPTION": (
        "Self-hosted ChatGPT-style service. Authenticate with `POST /api/v1/auth/login`, then send "
        "`Authorization: Bearer <access>`. Replies stream over Server-Sent Events "
        "(`GET /api/v1/conversations/{id}/stream`) or the WebSocket `/ws/conversations/{id}/`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # Swagger UI and Redoc assets are served from this server (no CDN): works with no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

# --- django-allauth (headless, app client; social login issues Device sessions) ------------
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
# A reset asked for an address with no account sends nothing (the answer is the same either way):
# the form must not become a way to mail strangers.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_ADAPTER = "accounts.social.adapters.AccountAdapter"
HEADLESS_ONLY = True
HEADLESS_CLIENTS = ("app",)
# One token system: allauth's app endpoints hand out the same simplejwt + Device pair as
# POST /api/v1/auth/login (see accounts/social/token_strategy.py).
HEADLESS_TOKEN_STRATEGY = "accounts.social.token_strategy.DeviceTokenStrategy"  # noqa: S105 (a class path)
HEADLESS_FRONTEND_URLS = {
    # Where a provider callback lands when its state is missing or unknown (no client to return to).
    "socialaccount_login_error": env("SOCIAL_LOGIN_ERROR_URL", default="/"),
    # The link in a password-reset email: the web client's reset page (another front-end points
    # it at its own page; {key} is the reset key it posts back with the new password). The key
    # rides in the fragment, which browsers never send: it stays out of request lines, so out of
    # access logs and proxies, and the page takes it out of the address bar at once.
    "account_reset_password_from_key": env("PASSWORD_RESET_URL", default="/reset-password#key={key}"),
}
# A reset key works once, for this long (Django's PASSWORD_RESET_TIMEOUT, in seconds; ASVS asks
# for short-lived reset tokens). Signing in or changing the password also ends it.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
# callback_url values outside ALLOWED_HOSTS the redirect flow may return to (e.g. an SPA origin
# or an app scheme such as "myapp://auth"): same scheme and host, path at or below the entry's
# (accounts/social/callback_urls.py).
SOCIAL_ALLOWED_CALLBACK_URLS = env.list("SOCIAL_ALLOWED_CALLBACK_URLS", default=[])
SOCIAL_PROVIDER_IDS = ("google", "github", "kakao", "naver")
INSTALLED_APPS += [f"allauth.socialaccount.providers.{provider_id}" for provider_id in SOCIAL_PROVIDER_IDS]
SOCIALACCOUNT_ADAPTER = "accounts.social.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_QUERY_EMAIL = True
SOCIALACCOUNT_STORE_TOKENS = False
# A provider's email never signs into, nor attaches to, an existing local account.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
_SOCIAL_PROVIDER_EXTRA = {
    "google": {"SCOPE": ["openid", "profile", "email"], "AUTH_PARAMS": {"access_type": "online"}},
    "github": {"SCOPE": ["read:user", "user:email"]},
    "kakao": {},
    "naver": {},
}
# A provider is offered only when both its client id and secret are in the environment.
SOCIALACCOUNT_PROVIDERS = {}
for _provider_id in SOCIAL_PROVIDER_IDS:
    _client_id = env_secret(f"SOCIAL_{_provider_id.upper()}_CLIENT_ID")
    _secret = env_secret(f"SOCIAL_{_provider_id.upper()}_SECRET")
    if _client_id and _secret:
        SOCIALACCOUNT_PROVIDERS[_provider_id] = {
            **_SOCIAL_PROVIDER_EXTRA[_provider_id],
            "APPS": [{"client_id": _client_id, "secret": _secret, "key": ""}],
        }

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="chat@localhost")
# With the SMTP backend (DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend):
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # a stalled SMTP server must not hold requests

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FILE = env("LOG_FILE", default=str(BASE_DIR / "logs" / "app.log"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        "redact": {"()": "core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "standard": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact"],
            "formatter": "standard",
        },
        "file": {
            # Rotation guarded by a lock file, so several worker processes can share one log.
            "class": "concurrent_log_handler.ConcurrentRotatingFileHandler",
            "filename": LOG_FILE,
            "maxBytes": env.int("LOG_FILE_MAX_BYTES", default=10 * 1024 * 1024),
            "backupCount": env.int("LOG_FILE_BACKUPS", default=5),
            "filters": ["request_id", "redact"],
            "formatter": "standard",
        },
    },
    "root": {"handlers": ["console", "file"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The loggers that write request lines redact them themselves (a reset key in an old
        # link's path, a token in a query string), before any handler, whoever attached it.
        "uvicorn.access": {
            "handlers": ["console", "file"],
            "level": LOG_LEVEL,
            "propagate": False,
            "filters": ["redact"],
        },
        "uvicorn.error": {"filters": ["redact"]},
        "django.request": {"filters": ["redact"]},
        "django.server": {"handlers": ["console", "file"], "level": "INFO", "propagate": False, "filters": ["redact"]},
    },
}
Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)

# --- Chat service knobs (used by the conversations app) -------------------------------------
CHAT = {
    # Coalesce deltas for this long before publishing them.
    "DELTA_COALESCE_SECONDS": env.float("CHAT_DELTA_COALESCE_SECONDS", default=0.05),
    # Checkpoint a streaming reply to the database at most this often.
    "CHECKPOINT_SECONDS": env.float("CHAT_CHECKPOINT_SECONDS", default=1.0),
    # A streaming reply whose heartbeat is older than this is marked interrupted.
    "STALE_AFTER_SECONDS": env.float("CHAT_STALE_AFTER_SECONDS", default=30.0),
    "LOCAL_MODEL_THREADS": env.int("CHAT_LOCAL_MODEL_THREADS", default=2),
    "LOCAL_MODEL_URL": env.str("CHAT_LOCAL_MODEL_URL", default="http://127.0.0.1:8081/v1"),
    "MAX_MESSAGE_CHARS": env.int("CHAT_MAX_MESSAGE_CHARS", default=32000),
    # How long a ?wait=true request waits for its reply; past it, 202 and the reply goes on.
    "WAIT_SECONDS": env.float("CHAT_WAIT_SECONDS", default=300.0),
    # Whether the OpenAI-compatible API keeps what requests said and got back; its usage figures
    # (tokens, timings, status) are kept either way.
    "API_KEEP_CONTENT": env.bool("CHAT_API_KEEP_CONTENT", default=False),
    # A single-process server (no Redis) ends every in-flight reply when it starts: none of them
    # can still have a worker. With Redis, other processes may: the heartbeat decides.
    "REAP_ON_START": env.bool("CHAT_REAP_ON_START", default=not REDIS_URL),
    # Conversations without activity (updated_at) for this many days are deleted by the daily
    # purge job (conversations/tasks.py) and `manage.py purge --apply`; 0 keeps them forever.
    "RETENTION_DAYS": env.int("CHAT_RETENTION_DAYS", default=0),
    # The environment variables a model row may name as its API key (names, PREFIX* patterns);
    # the server's own settings are never allowed, whatever this says (conversations/llm/keys.py).
    "API_KEY_ENV_ALLOWED": env.list(
        "CHAT_API_KEY_ENV_ALLOWED", default=["LLM_KEY_*", "OPENAI_API_KEY", "VLLM_API_KEY", "OPENROUTER_API_KEY"]
    ),
}

# --- Collector ------------------------------------------------------------------------------
COLLECTOR_MAX_UPLOAD_BYTES = env.int("COLLECTOR_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)

# --- Request body limits (core/body_limits.py), checked before a body is read --------------
# The proxy in front should refuse the same sizes first (docs/deployment.md shows them).
PORTABILITY_MAX_IMPORT_BYTES = env.int("PORTABILITY_MAX_IMPORT_BYTES", default=200 * 1024 * 1024)
_MULTIPART_OVERHEAD = 1024 * 1024  # form fields and boundaries around an uploaded file
REQUEST_MAX_BODY_BYTES = env.int("REQUEST_MAX_BODY_BYTES", default=1024 * 1024)
OPENAI_API_MAX_BODY_BYTES = env.int("OPENAI_API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
ADMIN_MAX_BODY_BYTES = env.int("ADMIN_MAX_BODY_BYTES", default=10 * 1024 * 1024)
# (path prefix, methods (empty: any), most bytes); the first match wins, else REQUEST_MAX_BODY_BYTES.
REQUEST_BODY_LIMITS = [
    ("/api/v1/imports", {"POST"}, PORTABILITY_MAX_IMPORT_BYTES + _MULTIPART_OVERHEAD),
    ("/api/v1/collector/items", {"POST", "PATCH", "PUT"}, COLLECTOR_MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD),
    ("/v1/", set(), OPENAI_API_MAX_BODY_BYTES),
    ("/admin/", set(), ADMIN_MAX_BODY_BYTES),
]
