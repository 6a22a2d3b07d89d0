#!/bin/sh
# First start: a cluster in $PGDATA whose superuser is $POSTGRES_USER (postgres) with
# $POSTGRES_PASSWORD (required), and the database $POSTGRES_DB (default: the user's name),
# reachable from other containers with that password (scram-sha-256), as the official image does.
set -eu
bin=/usr/local/lib/postgresql-bin
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD must be set for a new database" >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  "$bin/initdb" --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    "$bin/pg_ctl" --pgdata="$PGDATA" --silent --wait -o "-c listen_addresses=''" start
    echo 'CREATE DATABASE :"db";' | "$bin/psql" --username="$user" --dbname=postgres --quiet \
      --set ON_ERROR_STOP=1 --set db="$db"
    "$bin/pg_ctl" --pgdata="$PGDATA" --silent --wait stop
  fi
  echo "postgres: database $db created for $user"
fi
exec "$bin/postgres" -D "$PGDATA" "$@"
