# Sourced by scripts/test and scripts/bench: a throwaway PostgreSQL cluster
# (trust auth, first free loopback port from 55432, socket and data in a temp
# dir), stopped and deleted when the sourcing script exits. On a fresh Debian
# machine it installs the `postgresql` package first; as root it runs the
# server as the postgres user (PostgreSQL refuses to run as root).
#
# The sourcing script defines log and die, then calls
#   start_throwaway_postgres [server options...]
# which sets PG_BIN, PG_DIR, PG_PORT and PG_URL (the `postgres` database) and
# an EXIT trap that removes the cluster; a script with more to clean up sets
# its own trap afterwards and calls stop_throwaway_postgres from it (safe to
# call when no cluster was started).
# shellcheck source=scripts/debian-packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-packages.sh"

find_pg_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && echo "$dir"
}


if [[ $EUID -eq 0 ]]; then
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

# The first loopback port from $1 up (a thousand at most) where nothing accepts connections.
free_port() {
  local port=$1
  while (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
    [[ $port -lt $(($1 + 1000)) ]] || die "no free port in $1-$(($1 + 999))"
  done
  echo "$port"
}

PG_STARTED=0
PG_DIR=

# shellcheck disable=SC2317  # only called via the trap
stop_throwaway_postgres() {
  if [[ $PG_STARTED -eq 1 ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [[ -z "$PG_DIR" ]] || rm -rf "$PG_DIR"
}

start_throwaway_postgres() {
  PG_BIN=$(find_pg_bin || true)
  if [[ -z "$PG_BIN" ]]; then
    install_debian_packages "no PostgreSQL server under /usr/lib/postgresql" postgresql
    PG_BIN=$(find_pg_bin || true)
    [[ -n "$PG_BIN" ]] || die "installed postgresql but found no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
  fi
  log "using PostgreSQL $("$PG_BIN/pg_ctl" --version | awk '{print $3}') from $PG_BIN"
  if [[ $EUID -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
    log "creating system user postgres"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  fi

  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/referral-hub-pg.XXXXXX")
  if [[ $EUID -eq 0 ]]; then chown postgres: "$PG_DIR"; fi
  trap stop_throwaway_postgres EXIT

  PG_PORT=$(free_port 55432)

  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  PG_STARTED=1
  # A port nothing listens on may still be bound (another program's outgoing
  # connection took it as its local port): then the next free one, a few times.
  local attempt
  for attempt in 1 2 3 4 5; do
    if as_pg "$PG_BIN/pg_ctl" -w -D "$PG_DIR/data" -l "$PG_DIR/log" \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR $*" start >/dev/null; then
      break
    fi
    grep -q "Address already in use" "$PG_DIR/log" && [[ $attempt -lt 5 ]] \
      || { cat "$PG_DIR/log" >&2 || true; die "could not start PostgreSQL"; }
    log "port $PG_PORT is taken; trying the next free one"
    PG_PORT=$(free_port $((PG_PORT + 1)))
  done
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  log "throwaway PostgreSQL running on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}
