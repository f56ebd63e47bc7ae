#!/usr/bin/env bash
# Starts a private PostgreSQL 15 cluster in a temporary directory on a free loopback port and prints the DSN
# (postgres refuses to run as root, so the cluster belongs to the postgres user). Usage:
#   eval "$(.ci/start-postgres.sh)"   # sets GATEHOUSE_TEST_POSTGRES_DSN and PG_DIR
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
  echo "installing postgresql-15" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
fi
dir=$(mktemp -d /tmp/gatehouse-pg.XXXXXX)
chown postgres:postgres "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >&2
# A throwaway cluster: no fsync, and no autovacuum, whose launcher visits every database once a minute: the suite
# makes a few hundred test databases during a run, and with 417 of them it kept a fifth of one of the 2 cores busy.
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off -c max_connections=300" start >&2
echo "export PG_DIR=$dir"
echo "export GATEHOUSE_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
