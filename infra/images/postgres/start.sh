#!/bin/bash
# First start: initdb (superuser `postgres`, password POSTGRES_PASSWORD, SCRAM for every network client),
# then for each database:role pair in POSTGRES_DATABASES a role (password from POSTGRES_PASSWORD_<ROLE>)
# owning its database — each service sees only its own. Then PostgreSQL in the foreground.
set -euo pipefail

: "${PGDATA:?}"
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD (password of the superuser postgres)}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username=postgres --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" > /dev/null
  rm -f "$pwfile"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"

  # Set up over the socket only, before anything can connect from outside.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start > /dev/null
  for pair in ${POSTGRES_DATABASES:-}; do
    database="${pair%%:*}"
    role="${pair#*:}"
    var="POSTGRES_PASSWORD_${role^^}"
    password="${!var:?set $var (the password of role $role)}"
    psql -v ON_ERROR_STOP=1 -q -h /tmp -U postgres -d postgres \
      -v role="$role" -v database="$database" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
  done
  pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
