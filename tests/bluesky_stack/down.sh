#!/usr/bin/env bash
# Stop the local Bluesky stack started by up.sh. Idempotent. `down.sh --purge` also deletes the state dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[ -d "$STACK_DIR" ] || { log "nothing to stop ($STACK_DIR does not exist)"; exit 0; }
lock_stack 120

if pid="$(net_pid)"; then
  log "stopping network (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "still alive after 15 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
fi
rm -f "$NET_PID_FILE" "$READY_FILE"

if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
  if find_pgbin; then
    log "stopping PostgreSQL"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if [ -f "$PGDATA_DIR/postmaster.pid" ]; then      # pg_ctl missing/failed: stop the postmaster by its pid
    ppid="$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)"
    if [ -n "$ppid" ] && tr '\0' ' ' <"/proc/$ppid/cmdline" 2>/dev/null | grep -q postgres; then
      kill -INT "$ppid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
fi

if [ "${1:-}" = "--purge" ]; then
  log "removing $STACK_DIR"
  [ "$PG_ROOT" != "$STACK_DIR/pg" ] && rm -rf "$PG_ROOT"
  rm -rf "$STACK_DIR"
fi
log "down"
