"""Test profile: base settings with a fast hasher, locmem email and quiet logs."""

from .base import *  # noqa: F403
from .base import DATABASES, LOGGING, SIMPLE_JWT

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEBUG = False
LOGGING["root"]["handlers"] = ["console"]
LOGGING["loggers"]["uvicorn.access"]["handlers"] = ["console"]
LOGGING["loggers"]["django.server"]["handlers"] = ["console"]
LOGGING["root"]["level"] = "WARNING"
# Test servers start beside replies the test itself runs in this process.
CHAT = {**CHAT, "REAP_ON_START": False}  # noqa: F405
# No embedded embedding server unless a test starts one (the ``embedding_model`` fixture).
CHAT["LOCAL_EMBEDDING_URL"] = ""
# A fixed key, so test runs do not depend on the local key file a development server makes.
SECRET_KEY = "test-only-secret-key-0123456789-0123456789-0123456789-abcdef"  # noqa: S105
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY}
# The test database is created and dropped around the run: no pool holding connections to it
# (the pool itself is exercised by a test server process, tests/conversations/test_db_pool.py).
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
# Jobs run inside the test, at enqueue time (jobs through a real db_worker process have tests of
# their own that use the database backend).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
