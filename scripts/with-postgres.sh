#!/usr/bin/env bash
# Run a command with GUNMANE_TEST_DATABASE_URL pointing at a PostgreSQL server (`make test` runs the suite's
# database tests through this).
#
# When GUNMANE_TEST_DATABASE_URL is already set, that server is used as it is. Otherwise a throwaway cluster is
# made in a temporary directory, listening on 127.0.0.1 only (and a socket in that directory), on a free port,
# with trust authentication (nothing but this machine reaches it), fsync off (it is thrown away), and removed
# when the command ends. As root the cluster runs as the `postgres` user, because PostgreSQL refuses root.
# Without a PostgreSQL server installed the command runs without the variable: its PostgreSQL tests are then
# skipped with the reason, or fail under CI.
set -euo pipefail

if [ -n "${GUNMANE_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "== PostgreSQL サーバーがありません（apt-get install postgresql）: PostgreSQL のテストは省略します" >&2
  exec "$@"
fi

PGDATA=$(mktemp -d "${TMPDIR:-/tmp}/gunmane-test-pg.XXXXXX")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$PGDATA"
  AS=(runuser -u postgres --)
else
  AS=()
fi
stop() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap stop EXIT

echo "== 使い捨ての PostgreSQL（$("$PGBIN/postgres" --version | awk '{print $3}')）を 127.0.0.1:$PORT に起動します（$PGDATA）"
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA/data" -l "$PGDATA/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDATA -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
  start >/dev/null
"${AS[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE gunmane" >/dev/null

export GUNMANE_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/gunmane"
"$@"
