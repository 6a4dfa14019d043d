# A throwaway PostgreSQL server on loopback for the tests; exports ORDERSYNC_TEST_POSTGRES_URL.
#
# Sourced by .ci/run; safe to source by hand:  source .ci/postgres.sh && start_postgres
# Works as root (CI: PostgreSQL is installed but not running; the cluster is created and run
# as the unprivileged `postgres` user, since the server refuses to run as root) and as an
# ordinary user (runs as that user). Starting twice reuses the running server.
#
#   PGTEST_DIR   data folder            (default /tmp/ordersync-pg)
#   PGTEST_PORT  port on 127.0.0.1      (default: the first free port from 54329)
#   stop_postgres stops it again; the data folder stays for the next start.

_pgtest_bindir() {
  # Debian keeps the server programs out of PATH, one folder per major version: take the newest.
  local pg_ctl
  pg_ctl=$(command -v pg_ctl 2>/dev/null ||
    ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$pg_ctl" ] || [ ! -x "$pg_ctl" ]; then
    echo "postgres.sh: pg_ctl not found (install the postgresql package)" >&2
    return 1
  fi
  # Resolve symlinks (e.g. /usr/local/bin/pg_ctl): the other server programs sit beside the real one.
  dirname "$(readlink -f "$pg_ctl")"
}

_pgtest_port_free() {
  # Nothing answers on 127.0.0.1:$1 (bash's /dev/tcp; no extra tools needed).
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_pgtest_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_pgtest_init() {
  # A new cluster in $2 (emptied first), owned by whoever runs the server.
  local bindir=$1 dir=$2
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir" || return 1; fi
  chmod 700 "$dir"
  # Trust on loopback only: a disposable test cluster. UTF8 so tests can store any text.
  _pgtest_as_owner "$bindir/initdb" -D "$dir" -U ordersync --auth=trust \
    --encoding=UTF8 --no-locale >"$dir.initdb.log" 2>&1 || {
    echo "postgres.sh: initdb failed:" >&2; cat "$dir.initdb.log" >&2; return 1
  }
}

_pgtest_start() {
  # Start the cluster in $2 on port $3; fails quietly (the caller shows the log).
  local bindir=$1 dir=$2 port=$3
  # fsync and friends off: the data is thrown away, speed matters. The socket lives in the
  # data folder so that two clusters never fight over /tmp/.s.PGSQL.<port>.
  _pgtest_as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 2>&1
}

start_postgres() {
  local bindir dir port=""
  bindir=$(_pgtest_bindir) || return 1
  dir=${PGTEST_DIR:-/tmp/ordersync-pg}

  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --create-home --shell /usr/sbin/nologin postgres || return 1
  fi

  if [ -s "$dir/PG_VERSION" ] && _pgtest_as_owner "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1
  then
    # Already running (sourced twice, or a previous run): reuse it on its own port, if it
    # answers. A server killed with -9 can look alive (its pid lingers): stop what is left.
    port=$(sed -n 4p "$dir/postmaster.pid")
    if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5; then
      _pgtest_as_owner "$bindir/pg_ctl" -D "$dir" -m immediate -w -t 5 stop >/dev/null 2>&1 || true
      port=""
    fi
  fi
  if [ -z "${port:-}" ]; then
    port=${PGTEST_PORT:-}
    if [ -z "$port" ]; then
      port=54329
      while ! _pgtest_port_free "$port"; do
        port=$((port + 1))
        if [ "$port" -gt 54429 ]; then
          echo "postgres.sh: no free port in 54329-54429 on 127.0.0.1" >&2; return 1
        fi
      done
    fi
    if [ ! -s "$dir/PG_VERSION" ]; then _pgtest_init "$bindir" "$dir" || return 1; fi
    if ! _pgtest_start "$bindir" "$dir" "$port"; then
      # A cluster left behind by a killed run (stale lock file, other owner, other major
      # version) is not worth repairing: start over from a new one, once.
      echo "postgres.sh: could not start the cluster in $dir; making a new one" >&2
      _pgtest_init "$bindir" "$dir" || return 1
      _pgtest_start "$bindir" "$dir" "$port" || {
        echo "postgres.sh: the server did not start; its log:" >&2
        tail -n 30 "$dir/server.log" >&2
        return 1
      }
    fi
    if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30; then
      echo "postgres.sh: the server on 127.0.0.1:$port does not answer" >&2
      return 1
    fi
  fi
  export ORDERSYNC_TEST_POSTGRES_URL="postgresql+psycopg://ordersync@127.0.0.1:$port/postgres"
  echo "postgres.sh: PostgreSQL ready: ORDERSYNC_TEST_POSTGRES_URL=$ORDERSYNC_TEST_POSTGRES_URL" >&2
}

stop_postgres() {
  local bindir dir
  bindir=$(_pgtest_bindir) || return 1
  dir=${PGTEST_DIR:-/tmp/ordersync-pg}
  _pgtest_as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  unset ORDERSYNC_TEST_POSTGRES_URL
}
