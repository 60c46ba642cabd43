# Shared settings for up.sh / down.sh (sourced, not executed).
# shellcheck shell=bash
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
STACK_DIR="$(realpath -m "${BSKY_STACK_DIR:-$REPO_ROOT/.stack}")"
PG_PORT="${BSKY_PG_PORT:-55432}"
PG_DB="${BSKY_PG_DB:-bsky_dev}"
export BSKY_PLC_PORT="${BSKY_PLC_PORT:-2582}"
export BSKY_PDS_PORT="${BSKY_PDS_PORT:-2583}"
export BSKY_APPVIEW_PORT="${BSKY_APPVIEW_PORT:-2584}"
export BSKY_OZONE_PORT="${BSKY_OZONE_PORT:-2587}"
export BSKY_CTRL_PORT="${BSKY_CTRL_PORT:-2589}"
# PostgreSQL lives in $STACK_DIR/pg, unless the postgres OS user cannot reach it (e.g. a checkout
# under /root as root): then up.sh uses /tmp/bsky-stack-pg-<cksum> and records it in pg.path.
PG_ROOT="$STACK_DIR/pg"
[ -f "$STACK_DIR/pg.path" ] && PG_ROOT="$(cat "$STACK_DIR/pg.path")"
PGDATA_DIR="$PG_ROOT/data"
PGLOG="$PG_ROOT/server.log"
NET_PID_FILE="$STACK_DIR/net.pid"
NET_LOG="$STACK_DIR/net.log"
READY_FILE="$STACK_DIR/ready.json"

log() { echo "[bsky-stack] $*" >&2; }
die() { echo "[bsky-stack] ERROR: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = "0" ]; }

# Locate a PostgreSQL bin dir holding initdb + pg_ctl + postgres (sets PGBIN; returns 1 if none).
find_pgbin() {
  PGBIN=""
  if [ -n "${BSKY_PGBIN:-}" ] && [ -x "$BSKY_PGBIN/pg_ctl" ]; then PGBIN="$BSKY_PGBIN"; return 0; fi
  local c d
  for c in pg_ctl initdb postgres; do
    if command -v "$c" >/dev/null 2>&1; then
      d="$(dirname "$(readlink -f "$(command -v "$c")")")"
      if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then PGBIN="$d"; return 0; fi
    fi
  done
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/pgsql/bin; do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then PGBIN="$d"; return 0; fi
  done
  return 1
}

# Run a command as the postgres OS user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if is_root; then
    local q="" a
    for a in "$@"; do q="$q $(printf '%q' "$a")"; done
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- sh -c "cd / && exec $q" 8>&- 9>&-
    else
      su postgres -s /bin/sh -c "cd / && exec $q" 8>&- 9>&-
    fi
  else
    "$@" 8>&- 9>&-     # lock fds must not leak into the long-lived postmaster
  fi
}

pg_running() { [ -n "${PGBIN:-}" ] && [ -f "$PGDATA_DIR/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

# pid in net.pid is alive AND really is our launcher (guards against pid reuse)
net_pid() {
  [ -f "$NET_PID_FILE" ] || return 1
  local pid; pid="$(cat "$NET_PID_FILE" 2>/dev/null)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "start-network.js" || return 1
  echo "$pid"
}

http_ok() { curl -sf -o /dev/null --max-time 3 "$1"; }

# Serialise up.sh / down.sh on one state dir (fd 8), and npm ci on this checkout (fd 9).
lock_stack() {
  mkdir -p "$STACK_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 8>"$STACK_DIR/.lock"
    flock -w "${1:-600}" 8 || die "could not lock $STACK_DIR/.lock (another up.sh/down.sh running?)"
  fi
}
lock_npm() {
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/bsky-stack-npm-$(id -u)-$(printf '%s' "$HERE" | cksum | cut -d' ' -f1).lock"
    flock -w 1200 9 || die "could not get the npm install lock"
  fi
}
unlock_npm() { command -v flock >/dev/null 2>&1 && flock -u 9 2>/dev/null || true; }

# node_modules usable? (complete install for the current package-lock.json)
node_modules_ok() {
  local marker="$HERE/node_modules/.bsky-stack-ok" want
  want="$(cksum <"$HERE/package-lock.json")"
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && return 0
  # installed by someone else (e.g. a plain `npm ci`): accept it if it loads, then mark it
  [ -f "$HERE/node_modules/.package-lock.json" ] || return 1
  (cd "$HERE" && node -e "require('better-sqlite3')(':memory:').close(); require('@atproto/dev-env')") >/dev/null 2>&1 || return 1
  echo "$want" >"$marker"
}
