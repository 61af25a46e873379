#!/bin/sh
# PostgreSQL for hotline12328: on an empty data volume, make the cluster, the role
# POSTGRES_USER with POSTGRES_PASSWORD and the database POSTGRES_DB (default hotline); then
# serve on POSTGRES_LISTEN (127.0.0.1) and PGPORT (5432). The password never appears on a
# command line (a file for initdb, a psql variable for the role).
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user=${POSTGRES_USER:-hotline}
dbname=${POSTGRES_DB:-hotline}
port=${PGPORT:-5432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
sock=$(mktemp -d)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pw=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pw"
    "$bin/initdb" -D "$PGDATA" -U postgres --pwfile="$pw" --auth-local=peer \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    "$bin/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses= -p $port -k $sock" start >/dev/null
    "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 --no-psqlrc \
        -v user="$user" -v pw="$POSTGRES_PASSWORD" -v db="$dbname" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user";
SQL
    "$bin/pg_ctl" -D "$PGDATA" -w -m fast stop >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA" -c "listen_addresses=${POSTGRES_LISTEN:-127.0.0.1}" \
    -c "port=$port" -c "unix_socket_directories=$sock"
