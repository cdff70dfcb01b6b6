#!/usr/bin/env bash
# Run a command with throwaway PostgreSQL 15 and Redis servers on free loopback ports.
#
# Installs Debian's redis-server, chromium, nginx and a CJK font when missing (needs root and the
# package mirror), exports CHATBOT_TEST_POSTGRES_URL / CHATBOT_TEST_REDIS_URL for the tests,
# and stops both servers on exit, also when the command fails. A server that cannot start
# leaves its variable unset; the tests that need it then skip and say why.
set -uo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d /tmp/chatbot-test-services.XXXXXX)
chmod 755 "$WORK"
PG_PID_DIR=""
REDIS_PID=""

log() { echo "[test-services] $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)  # tests/test_deploy_topology.py runs its own, on free ports
  compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null \
    || compgen -G '/usr/share/fonts/truetype/wqy/*' >/dev/null || missing+=(fonts-noto-cjk)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing ${missing[*]} and not root: the tests needing them will skip"
    return 0
  fi
  log "installing ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
    >"$WORK/apt.log" 2>&1 || log "apt-get failed (see $WORK/apt.log): the tests needing ${missing[*]} will skip"
}

start_postgres() {
  [ -x "$PG_BIN/initdb" ] || { log "no PostgreSQL server binaries in $PG_BIN"; return 0; }
  id postgres >/dev/null 2>&1 || { log "no postgres user"; return 0; }
  local port data="$WORK/pg"
  port=$(free_port)
  mkdir -p "$data" && chown postgres "$data" 2>/dev/null
  if ! as_postgres "$PG_BIN/initdb" -D "$data/db" -U postgres -A trust --no-sync -E UTF8 >"$WORK/initdb.log" 2>&1; then
    log "initdb failed (see $WORK/initdb.log)"; return 0
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 30 \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
    log "PostgreSQL did not start (see $data/server.log)"; return 0
  fi
  PG_PID_DIR="$data/db"
  export CHATBOT_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  log "PostgreSQL on 127.0.0.1:$port"
}

start_redis() {
  command -v redis-server >/dev/null || { log "no redis-server"; return 0; }
  local port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      export CHATBOT_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
      log "Redis on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  log "Redis did not answer (see $WORK/redis.log)"
}

stop_all() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  [ -n "$PG_PID_DIR" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_PID_DIR" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap stop_all EXIT INT TERM

install_packages
start_postgres
start_redis
"$@"
exit $?
