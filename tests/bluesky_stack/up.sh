#!/usr/bin/env bash
# Start a local Bluesky/atproto stack (PostgreSQL + PLC + PDS + AppView + Ozone) bound to 127.0.0.1.
# Idempotent: if the stack is already up and healthy it just prints the URLs.
# Env: BSKY_STACK_DIR (default <repo>/.stack), BSKY_STACK_TIMEOUT (s, default 180),
#      BSKY_PG_PORT (55432), BSKY_{PLC,PDS,APPVIEW,OZONE,CTRL}_PORT (2582/2583/2584/2587/2589),
#      UNRESERVE_HANDLES (e.g. "bot,user"), BSKY_PGBIN (PostgreSQL bin dir).
# Output (stdout): shell-style KEY=VALUE lines (BSKY_PDS_URL=... etc.); logs go to stderr.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export DEBIAN_FRONTEND=noninteractive
TIMEOUT="${BSKY_STACK_TIMEOUT:-180}"
T0=$(date +%s%N)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

print_urls() {
  python3 - "$READY_FILE" <<'PY' 2>/dev/null || node -e "const i=require(process.argv[1]);for(const[k,v]of Object.entries({PDS:i.pds,APPVIEW:i.appview,PLC:i.plc,OZONE:i.ozone,PROCESS_ALL:i.processAll,APPVIEW_DID:i.appviewDid}))console.log('BSKY_'+k+(k.endsWith('DID')?'':'_URL')+'='+v)" "$READY_FILE"
import json, sys
i = json.load(open(sys.argv[1]))
for k, v in [("PDS_URL", i["pds"]), ("APPVIEW_URL", i["appview"]), ("PLC_URL", i["plc"]),
             ("OZONE_URL", i["ozone"]), ("PROCESS_ALL_URL", i["processAll"]), ("APPVIEW_DID", i["appviewDid"])]:
    print(f"BSKY_{k}={v}")
PY
  echo "BSKY_STACK_DIR=$STACK_DIR"
}

healthy() {
  [ -f "$READY_FILE" ] && http_ok "http://127.0.0.1:$BSKY_PDS_PORT/xrpc/_health" \
    && http_ok "http://127.0.0.1:$BSKY_APPVIEW_PORT/xrpc/_health" \
    && http_ok "http://127.0.0.1:$BSKY_CTRL_PORT/health"
}

lock_stack 600

# ---- 0. already running? -------------------------------------------------------------------
if pid="$(net_pid)" && healthy; then
  log "already running (pid $pid)"
  print_urls
  echo "BSKY_STACK_REUSED=1"
  exit 0
fi

command -v curl >/dev/null 2>&1 || { is_root && command -v apt-get >/dev/null && { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }; }
command -v curl >/dev/null 2>&1 || die "curl is required"
command -v node >/dev/null 2>&1 || die "node is required (Node 20; @atproto/dev-env 0.3.x)"
command -v npm  >/dev/null 2>&1 || die "npm is required"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 18 ] || die "Node >= 18 required, found $(node -v)"

mkdir -p "$STACK_DIR"

# ---- 1. stale launcher? stop it so we start clean -----------------------------------------
if pid="$(net_pid)"; then
  log "launcher pid $pid is alive but not healthy; stopping it"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$READY_FILE" "$NET_PID_FILE"

# ---- 2. PostgreSQL binaries --------------------------------------------------------------
if ! find_pgbin; then
  log "no PostgreSQL binaries found; installing via apt"
  is_root || die "PostgreSQL not found and not root: install postgresql (initdb/pg_ctl) or set BSKY_PGBIN"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL not found and apt-get unavailable"
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null || apt-get install -y -qq postgresql-15 >/dev/null
  find_pgbin || die "PostgreSQL still not found after apt-get install"
fi
PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL="$(command -v psql || true)"
[ -n "$PSQL" ] || die "psql not found (looked in $PGBIN and PATH)"
log "PostgreSQL bin dir: $PGBIN ($("$PGBIN/postgres" --version))"

# ---- 3. node_modules ---------------------------------------------------------------------
if ! node_modules_ok; then
  lock_npm
  if ! node_modules_ok; then        # someone else may have installed it while we waited
    # better-sqlite3 is compiled from source when its prebuilt binary (GitHub) is unreachable
    if ! { command -v make && command -v g++ && command -v python3; } >/dev/null 2>&1; then
      if is_root && command -v apt-get >/dev/null 2>&1; then
        log "installing build tools for better-sqlite3 (make, g++, python3)"
        apt-get update -qq && apt-get install -y -qq build-essential python3 >/dev/null
      else
        log "WARNING: make/g++/python3 missing; npm ci may fail compiling better-sqlite3"
      fi
    fi
    T_NPM=$(date +%s%N)
    for attempt in 1 2; do
      log "npm ci, attempt $attempt (first install: ~75-90 s, mostly compiling better-sqlite3)"
      if (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) >&2 && node_modules_ok; then break; fi
      [ "$attempt" = 2 ] && die "npm ci failed twice in $HERE (see output above)"
      sleep 2
    done
    log "npm ci took $(ms_since "$T_NPM") ms"
  fi
  unlock_npm
fi

# ---- 4. PostgreSQL cluster (fresh database every start) ----------------------------------
if is_root; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres \
    || die "could not create the postgres system user"
fi
mkdir -p "$PG_ROOT" "$STACK_DIR/tmp"
if is_root; then
  chown postgres "$PG_ROOT"
  if ! as_pg test -w "$PG_ROOT"; then
    PG_ROOT="${TMPDIR:-/tmp}/bsky-stack-pg-$(printf '%s' "$STACK_DIR" | cksum | cut -d' ' -f1)"
    log "user postgres cannot reach $STACK_DIR (parent dir not traversable); PostgreSQL data goes to $PG_ROOT"
    mkdir -p "$PG_ROOT" && chown postgres "$PG_ROOT" && chmod 700 "$PG_ROOT"
    as_pg test -w "$PG_ROOT" || die "user postgres cannot write $PG_ROOT either"
    echo "$PG_ROOT" >"$STACK_DIR/pg.path"
    PGDATA_DIR="$PG_ROOT/data"; PGLOG="$PG_ROOT/server.log"
  fi
fi
if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
  rm -rf "$PGDATA_DIR"
  log "initdb $PGDATA_DIR"
  as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --no-locale >"$STACK_DIR/initdb.log" 2>&1 \
    || { cat "$STACK_DIR/initdb.log" >&2; die "initdb failed"; }
fi
if ! pg_running; then
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
    || { tail -n 30 "$PGLOG" >&2 || true; die "pg_ctl start failed (port $PG_PORT busy? set BSKY_PG_PORT)"; }
fi
# PLC lives in memory, so a database from an earlier run holds stale AppView rows: recreate it.
PGOPTIONS="-c client_min_messages=warning" "$PSQL" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null \
  || die "could not (re)create database $PG_DB"
rm -rf "$STACK_DIR/tmp" && mkdir -p "$STACK_DIR/tmp"     # PDS sqlite + blobs from earlier runs

# ---- 5. ports free? ----------------------------------------------------------------------
for p in "$BSKY_PLC_PORT" "$BSKY_PDS_PORT" "$BSKY_APPVIEW_PORT" "$BSKY_OZONE_PORT" "$BSKY_CTRL_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p on 127.0.0.1 is already in use (another stack? run down.sh, or override BSKY_*_PORT)"
  fi
done

# ---- 6. launch the network in the background ---------------------------------------------
log "starting atproto network (PLC :$BSKY_PLC_PORT, PDS :$BSKY_PDS_PORT, AppView :$BSKY_APPVIEW_PORT)"
T_NET=$(date +%s%N)
(
  cd "$HERE"
  export DB_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
  export REDIS_HOST="${REDIS_HOST:-127.0.0.1:6379}"   # asserted by dev-env, never used
  export TMPDIR="$STACK_DIR/tmp" READY_FILE="$READY_FILE" LOG_ENABLED="${LOG_ENABLED:-false}"
  export NODE_OPTIONS="${BSKY_NODE_OPTIONS:-}" PID_FILE="$NET_PID_FILE"
  exec 8>&- 9>&-     # do not leak the lock fds into the long-lived launcher
  exec setsid nohup node -r ./force-localhost.js start-network.js >"$NET_LOG" 2>&1 </dev/null
) &
NPID=$!   # start-network.js writes its own pid to $NET_PID_FILE first thing

# ---- 7. wait for readiness ---------------------------------------------------------------
deadline=$(( $(date +%s) + TIMEOUT ))
until healthy; do
  if ! kill -0 "$NPID" 2>/dev/null && ! net_pid >/dev/null; then
    log "network process exited during start-up; last log lines:"; tail -n 40 "$NET_LOG" >&2 || true
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "not ready after ${TIMEOUT}s; last log lines:"; tail -n 40 "$NET_LOG" >&2 || true
    exit 1
  fi
  sleep 0.2
done
log "ready: network $(ms_since "$T_NET") ms, total up.sh $(ms_since "$T0") ms (pid $(cat "$NET_PID_FILE"))"
print_urls
echo "BSKY_STACK_REUSED=0"
