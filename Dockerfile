# The chat server's one image: the web server, the model server, the embedding server and the job
# worker are this image with different commands (docker/entrypoint.sh), and with no command at all
# every process of the service in one container on SQLite, as `make run` does.
#
#   docker build -t chat-server .                                   (FROM python:3.11-slim)
#   podman build --format docker --build-arg BASE_IMAGE=localhost/bookworm -t chat-server .
#   docker run -p 127.0.0.1:8000:8000 -v chat-data:/data chat-server
#
# BASE_IMAGE is any Debian-based image: python:3.11-slim, or plain Debian bookworm without Python,
# whose python3 (3.11), Node.js and npm then come from Debian's packages (same file, only the build
# argument differs). `--format docker` keeps the HEALTHCHECK under podman (OCI images have none).
# `--target proxy` builds the compose stack's nginx (compose.yaml).
ARG BASE_IMAGE=python:3.11-slim

# --- python: Python 3.11 (the base's own, else Debian's) and the libraries the service needs at run time
FROM ${BASE_IMAGE} AS python
ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# libgomp1: llama.cpp's OpenMP threads; tini: PID 1 that forwards signals and reaps children.
RUN set -eux; \
    packages="ca-certificates libgomp1 tini"; \
    command -v python3 >/dev/null || packages="$packages python3"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, not " + sys.version'

# --- builder: the virtualenv, with llama-cpp-python compiled portably as `make install` does
FROM python AS builder
RUN set -eux; \
    packages="gcc g++ make cmake"; \
    python3 -c 'import ensurepip' 2>/dev/null || packages="$packages python3-venv"; \
    python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || packages="$packages python3-dev"; \
    apt-get update; \
    apt-get install -y --no-install-recommends $packages; \
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    python3 -m venv /opt/venv
# The Makefile's portable build: no -march=native (a native build crashed in llama.cpp's AMX
# kernels on a CPU it was not built on), an AVX2 baseline. The wheel is built without pip's cache
# into a build cache directory keyed like the Makefile's LLAMA_WHEEL_DIR (version, CMAKE_ARGS,
# Python, machine), which docker and podman keep between builds: a rebuild after a requirements
# change reuses it instead of compiling for minutes again.
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
ARG CMAKE_BUILD_PARALLEL_LEVEL=
COPY requirements.txt constraints.txt /src/
RUN --mount=type=cache,id=chat-server-llama-wheels,target=/cache/llama-wheels \
    set -eu; \
    version=$(sed -n 's/^llama-cpp-python[^=]*==\([^ ;]*\).*/\1/p' /src/requirements.txt); \
    key=$(/opt/venv/bin/python -c 'import hashlib, platform, sys; \
print(hashlib.sha256("\n".join([*sys.argv[1:], sys.implementation.cache_tag, platform.machine()]).encode()).hexdigest()[:16])' \
        "$version" "$CMAKE_ARGS"); \
    dir="/cache/llama-wheels/$key"; \
    if ls "$dir"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then \
        echo "llama-cpp-python $version: reusing the wheel in $dir"; \
    else \
        echo "llama-cpp-python $version: building with CMAKE_ARGS='$CMAKE_ARGS' (minutes)"; \
        tmp=$(mktemp -d); \
        CMAKE_ARGS="$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
            /opt/venv/bin/pip wheel --no-deps --no-binary llama-cpp-python --no-cache-dir \
            --wheel-dir "$tmp" "llama-cpp-python==$version"; \
        mkdir -p "$dir"; mv "$tmp"/llama_cpp_python-*.whl "$dir"/; rm -rf "$tmp"; \
    fi; \
    /opt/venv/bin/pip install --no-cache-dir --no-deps --no-index --find-links "$dir" "llama-cpp-python==$version"
RUN --mount=type=cache,id=chat-server-pip,target=/root/.cache/pip \
    /opt/venv/bin/pip install -r /src/requirements.txt -c /src/constraints.txt

# --- client: the web client (frontend/) bundled by esbuild; Node.js exists only in this stage
FROM ${BASE_IMAGE} AS client
RUN set -eux; \
    if ! command -v npm >/dev/null; then \
        apt-get update; \
        apt-get install -y --no-install-recommends ca-certificates nodejs npm; \
        apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    fi; \
    node --version; npm --version
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,id=chat-server-npm,target=/root/.npm \
    npm ci --no-audit --no-fund --loglevel=error
COPY frontend/build.mjs ./
COPY frontend/src ./src
RUN npm run --silent build

# --- files: the application with its compiled catalogs, its static files and its bytecode
FROM python AS files
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . .
COPY --from=client /src/frontend/dist/client frontend/dist/client
# Django starts here only to compile: a throw-away key, log file and database, none kept.
RUN set -eu; \
    rm -rf frontend/src frontend/node_modules docker Dockerfile .dockerignore; \
    export DJANGO_SETTINGS_MODULE=config.settings.base DJANGO_SECRET_KEY=build-time-only-not-a-secret \
        LOG_FILE=/tmp/build/app.log DATABASE_URL=sqlite:////tmp/build/db.sqlite3 DJANGO_MEDIA_ROOT=/tmp/build/media; \
    /opt/venv/bin/python manage.py compile_translations; \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0; \
    /opt/venv/bin/python -m compileall -q -j 0 /app; \
    rm -rf /tmp/build; \
    test ! -e .secret_key

# --- proxy: nginx from Debian's packages in front of the web replicas (compose.yaml), serving /static/
FROM ${BASE_IMAGE} AS proxy
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends nginx; \
    apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /etc/nginx/sites-enabled/* /etc/nginx/conf.d/*
COPY docker/nginx/nginx.conf /etc/nginx/nginx.conf
COPY docker/nginx/chat-proxy.conf /etc/nginx/chat-proxy.conf
COPY docker/nginx/entrypoint.sh /usr/local/bin/proxy-entrypoint.sh
COPY --from=files /app/staticfiles /srv/static
USER www-data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/proxy-entrypoint.sh"]

# --- the image: the virtualenv and the application, run as an unprivileged user
FROM python
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.base \
    DATABASE_URL=sqlite:////data/db.sqlite3 \
    DJANGO_MEDIA_ROOT=/data/media \
    DJANGO_LOCAL_SECRET_KEY_FILE=/data/secret_key \
    LOG_FILE=/data/logs/app.log
RUN set -eux; \
    groupadd --system --gid 1000 chat; \
    useradd --system --uid 1000 --gid chat --home-dir /data --shell /usr/sbin/nologin chat; \
    mkdir -p /data; chown chat:chat /data
COPY --from=builder /opt/venv /opt/venv
COPY --from=files /app /app
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /app
USER chat
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["docker-entrypoint.sh", "healthcheck"]
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD ["all"]
