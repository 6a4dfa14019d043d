# Start a throwaway PostgreSQL server on loopback and export ORDERSYNC_TEST_POSTGRES_URL.
# Sourced by .ci/run; safe to source by hand for local runs.
start_postgres() {
  local bindir
  bindir=$(dirname "$(command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl | tail -1)")
  local dir=${PGTEST_DIR:-/tmp/ordersync-pg}
  local port=${PGTEST_PORT:-54329}
  local run_as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd -r -m postgres
    run_as=(runuser -u postgres --)
  fi
  if [ ! -s "$dir/PG_VERSION" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    "${run_as[@]}" "$bindir/initdb" -D "$dir" -U ordersync --auth=trust >/dev/null
  fi
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" status >/dev/null 2>&1 ||
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export ORDERSYNC_TEST_POSTGRES_URL="postgresql+psycopg://ordersync@127.0.0.1:$port/postgres"
}
