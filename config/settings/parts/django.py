"""Django itself: the key, hosts, apps, middleware, templates, the database, i18n, static files, headers."""

import os
import tempfile
from pathlib import Path

from .env import BASE_DIR, env, env_secret, local_secret_key

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
    "files",
    "knowledge",
    "tools",
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
    # First: every request's time by route, whatever answers it (/metrics).
    "core.metrics.RequestMetricsMiddleware",
    "core.logging.RequestIdMiddleware",
    "core.json_limits.JsonDepthLimitMiddleware",
    "core.errors.BackingServiceDownMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language) first; a signed-in user's saved one replaces it
    # (UserPreferencesMiddleware for the admin's sessions, the API's authentication for tokens).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.preferences.UserPreferencesMiddleware",
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
    # Kept open between requests: a request's thread outlives it (core/asgi.py), and opening the
    # file and setting up a connection was most of a plain request's CPU.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
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


# --- Internationalisation -------------------------------------------------------------------
# Everything the service says to people exists in these languages (the catalogs are each app's
# locale/ directory and locale/ at the root for templates and config; `manage.py
# compile_translations` compiles them at install). A request is answered in the user's saved
# language, else the browser's (Accept-Language), else LANGUAGE_CODE (accounts/preferences.py).
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Static and media -----------------------------------------------------------------------
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


# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
