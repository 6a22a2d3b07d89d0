"""Reading the environment: django-environ, secrets from ``NAME`` or ``NAME_FILE``, the local key."""

import os
import secrets
import time
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent.parent

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
