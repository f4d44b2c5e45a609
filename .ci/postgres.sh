#!/usr/bin/env bash
# Start a throwaway PostgreSQL for the tests and print its URL (used by .ci/run and by hand:
# `export AMC_TEST_POSTGRES_URL=$(bash .ci/postgres.sh)`). Installs Debian's server if missing.
set -euo pipefail
PORT="${AMC_TEST_POSTGRES_PORT:-54329}"
DATA="${AMC_TEST_POSTGRES_DIR:-/tmp/amc-test-postgres}"
find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  echo "$found"
}
BIN=$(find_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN=$(find_bin)
fi
id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
if [ -f "$DATA/postmaster.pid" ] && su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  echo "postgresql://postgres@127.0.0.1:$PORT/amc_test"
  exit 0
fi
rm -rf "$DATA"
mkdir -p "$DATA"
chown postgres "$DATA"
su postgres -s /bin/sh -c "$BIN/initdb -D $DATA -A trust -U postgres >/dev/null"
su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -l $DATA/server.log -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' -w start >/dev/null"
su postgres -s /bin/sh -c "$BIN/createdb -h 127.0.0.1 -p $PORT amc_test"
echo "postgresql://postgres@127.0.0.1:$PORT/amc_test"
