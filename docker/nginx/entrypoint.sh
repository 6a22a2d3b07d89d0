#!/bin/sh
# The proxy's start: nginx resolves the web service's name itself (every replica, again and
# again), through the DNS server the container was given (docker: 127.0.0.11; podman: the
# network's gateway). CHAT_WEB_UPSTREAM names the web service (default web:8000).
set -eu
mkdir -p /tmp/nginx
# The first nameserver only: podman lists the host's after its own, which know no service names
# (nginx would ask them in turn).
server=$(awk '$1 == "nameserver" { a = $2; if (a ~ /:/) a = "[" a "]"; print a; exit }' /etc/resolv.conf)
printf 'resolver %s valid=10s ipv6=off;\nset $chat_web %s;\n' "${server:-127.0.0.11}" "${CHAT_WEB_UPSTREAM:-web:8000}" \
  > /tmp/nginx/upstream.conf
exec nginx -e stderr -g 'daemon off;' "$@"
