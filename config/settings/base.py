"""Settings shared by every profile, read from the environment (django-environ), composed from one
module per concern in ``parts/`` (Django itself, Redis, sign-in, jobs, the console, the REST API,
allauth, mail, logging, the chat service's knobs, knowledge, tools).

The defaults are the *embedded* profile: a fresh checkout runs with SQLite (WAL mode), the
in-memory channel layer and the local SmolLM2 model, with DEBUG off. Production overrides live in
``config/settings/production.py``; the test profile in ``config/settings/test.py``.
"""

from .parts.allauth import *  # noqa: F403
from .parts.allauth import SOCIAL_PROVIDER_APPS
from .parts.api import *  # noqa: F403
from .parts.auth import *  # noqa: F403
from .parts.chat import *  # noqa: F403
from .parts.console import *  # noqa: F403
from .parts.django import *  # noqa: F403
from .parts.django import INSTALLED_APPS as _APPS
from .parts.email import *  # noqa: F403
from .parts.env import BASE_DIR, env, env_secret  # noqa: F401 (the profiles read these)
from .parts.jobs import *  # noqa: F403
from .parts.knowledge import *  # noqa: F403
from .parts.logging import *  # noqa: F403
from .parts.redis import *  # noqa: F403
from .parts.tools import *  # noqa: F403

INSTALLED_APPS = [*_APPS, *SOCIAL_PROVIDER_APPS]
