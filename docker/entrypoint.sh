#!/bin/sh
# The image's commands (the Dockerfile's ENTRYPOINT, under tini):
#
#   all        (default) every process of the service in this container, as `make run` does:
#              migrations, seed_demo, then web, model, embedding and worker under honcho (Procfile)
#   web        the web server: uvicorn on 0.0.0.0:$PORT (8000), $WEB_WORKERS workers (1)
#   model      the embedded model's server on 0.0.0.0:$MODEL_PORT (8081); no database, no secrets
#   embedding  its embedding twin on 0.0.0.0:$EMBEDDING_PORT (8082)
#   worker     the background job worker (manage.py jobs_worker --queue-name '*')
#   migrate    migrations, then seed_demo (the admin and demo accounts from the environment); run once
#   manage ... manage.py with these arguments (`manage createsuperuser`, `manage shell`)
#   healthcheck  what HEALTHCHECK runs: /healthz for web and all, /v1/models for the model servers
#   anything else is run as given (`bash`)
#
# web and worker first wait until the database answers with every migration applied (the migrate
# service's work; CHAT_WAIT_FOR_MIGRATIONS=0 skips that), at most CHAT_WAIT_SECONDS (300).
# Configuration is the environment only (README, Configuration); data lives under /data.
set -eu
cd /app

role=${1:-all}

log() { printf '%s\n' "entrypoint: $*" >&2; }

# Run "$@" every $2 seconds until it succeeds, saying "waiting for $1" meanwhile; give up (exit 1,
# with its last output) after CHAT_WAIT_SECONDS (300).
wait_until() {
  what=$1 pause=$2
  shift 2
  deadline=$(($(date +%s) + ${CHAT_WAIT_SECONDS:-300}))
  until out=$("$@" 2>&1); do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "still waiting for $what after ${CHAT_WAIT_SECONDS:-300} s:"
      printf '%s\n' "$out" | tail -n 5 >&2
      exit 1
    fi
    log "waiting for $what"
    sleep "$pause"
  done
}

# Until `migrate --check` passes: the database answers and holds every migration.
wait_for_migrations() {
  [ "${CHAT_WAIT_FOR_MIGRATIONS:-1}" = 1 ] || return 0
  wait_until "the database and its migrations (the migrate service)" 3 python manage.py migrate --check
}

# Until the database accepts a connection (migrate's only precondition).
wait_for_database() {
  wait_until "the database" 2 python -c \
    'import django; django.setup(); from django.db import connection; connection.ensure_connection()'
}

# Several uvicorn workers sum /metrics through a directory of theirs. Set but empty, it would
# make prometheus_client write its files into the working directory (/app, read-only here).
metrics_dir() {
  if [ "${WEB_WORKERS:-1}" != 1 ] && [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    export PROMETHEUS_MULTIPROC_DIR=/tmp/metrics
  fi
  if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    unset PROMETHEUS_MULTIPROC_DIR
  fi
}

healthcheck() {
  role=$(cat /tmp/chat-role 2>/dev/null || echo all)
  exec python - "$role" <<'EOF'
import os, sys, urllib.request

role = sys.argv[1]
if role == "model":
    url, host = f"http://127.0.0.1:{os.environ.get('MODEL_PORT', '8081')}/v1/models", None
elif role == "embedding":
    url, host = f"http://127.0.0.1:{os.environ.get('EMBEDDING_PORT', '8082')}/v1/models", None
elif role in ("web", "all"):
    # /healthz answers under a host the settings allow (400 otherwise): the first named one.
    names = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    named = [h for h in names if h and h != "*" and not h.startswith(".")]
    url, host = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz", (named[0] if named else "localhost")
else:
    sys.exit(0)  # the worker and one-shot commands: running is all the runtime can tell
request = urllib.request.Request(url, headers={"Host": host} if host else {})
try:
    with urllib.request.urlopen(request, timeout=8) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{url}: {exc}")
    sys.exit(1)
EOF
}

case "$role" in
  all|web|model|embedding|worker|migrate) echo "$role" > /tmp/chat-role 2>/dev/null || true ;;
esac

case "$role" in
  all)
    python manage.py migrate --noinput
    python manage.py seed_demo
    metrics_dir
    # The Procfile's variables, as `make serve` sets them; the model servers stay on loopback.
    export VENV=/opt/venv HOST=0.0.0.0 WEB_PORT="${PORT:-8000}" WORKERS="${WEB_WORKERS:-1}" \
      MODEL_PORT="${MODEL_PORT:-8081}" EMBEDDING_PORT="${EMBEDDING_PORT:-8082}"
    export CHAT_LOCAL_MODEL_URL="${CHAT_LOCAL_MODEL_URL:-http://127.0.0.1:$MODEL_PORT/v1}" \
      CHAT_LOCAL_EMBEDDING_URL="${CHAT_LOCAL_EMBEDDING_URL-http://127.0.0.1:$EMBEDDING_PORT/v1}"
    exec honcho start --no-colour --procfile Procfile --app-root /app
    ;;
  web)
    wait_for_migrations
    metrics_dir
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR" && rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
    fi
    # X-Forwarded-* are trusted from FORWARDED_ALLOW_IPS (uvicorn's variable; 127.0.0.1 unless set).
    exec uvicorn config.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" --workers "${WEB_WORKERS:-1}" \
      --proxy-headers --timeout-graceful-shutdown 10
    ;;
  model)
    exec python -m conversations.llm.model_server --host 0.0.0.0 --port "${MODEL_PORT:-8081}"
    ;;
  embedding)
    exec python -m conversations.llm.model_server --embedding --host 0.0.0.0 --port "${EMBEDDING_PORT:-8082}"
    ;;
  worker)
    wait_for_migrations
    exec python manage.py jobs_worker --queue-name '*'
    ;;
  migrate)
    wait_for_database
    python manage.py migrate --noinput
    exec python manage.py seed_demo
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  healthcheck)
    healthcheck
    ;;
  *)
    exec "$@"
    ;;
esac
