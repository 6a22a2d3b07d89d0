#!/bin/sh
# `redis-server ARGS` listens on every address of the container without protected mode (the
# container network is its boundary, as in the official image) and runs in the foreground.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server --bind '* -::*' --protected-mode no --daemonize no --dir /data --logfile '' "$@"
fi
exec "$@"
