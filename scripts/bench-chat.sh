#!/usr/bin/env bash
# The chat load benchmark (README, "Benchmark: chat load"): a fresh database, the release server
# and `loadgen` on this machine, one run per line of the table; prints loadgen's figures.
#
#   bash scripts/bench-chat.sh                  # SQLite (target/load/kefu.db)
#   bash scripts/bench-chat.sh postgres         # PostgreSQL: database kefu_bench on 127.0.0.1
#   RUNS="idle rate500 rate5000 saturate" bash scripts/bench-chat.sh   # which runs (all by default)
#
# Needs `cargo build --release -p server -p loadgen` done (it is run here if missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

engine=${1:-sqlite}
runs=${RUNS:-"idle rate500 rate5000 saturate"}
port=3100
export KEFU_BUYER_TOKEN_SECRET=load-test-secret
mkdir -p target/load

if [ ! -x target/release/server ] || [ ! -x target/release/loadgen ]; then
  cargo build --release -p server -p loadgen
fi

case "$engine" in
  sqlite) url='sqlite://target/load/kefu.db?mode=rwc' ;;
  postgres)
    url='postgres://kefu:kefu@127.0.0.1:5432/kefu_bench'
    ;;
  *)
    echo "bench-chat: unknown engine $engine (sqlite or postgres)" >&2
    exit 2
    ;;
esac

fresh_database() {
  if [ "$engine" = sqlite ]; then
    rm -f target/load/kefu.db*
  else
    PGPASSWORD=kefu psql -q -h 127.0.0.1 -U kefu -d kefu_test \
      -c 'DROP DATABASE IF EXISTS kefu_bench' -c 'CREATE DATABASE kefu_bench'
  fi
  target/release/loadgen prepare --database-url "$url" --suppliers 50 >/dev/null
}

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

start_server() {
  DATABASE_URL="$url" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    KEFU_LOGIN_IDLE_TIMEOUT_SECS=86400 KEFU_DEV_MODE=true KEFU_CHAT_SOCKETS_PER_ADDR=30000 \
    RUST_LOG=warn target/release/server serve &
  server_pid=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/login"; then
      return 0
    fi
    sleep 0.2
  done
  echo "bench-chat: the server did not start" >&2
  return 1
}

ulimit -n 65536 2>/dev/null || ulimit -n 20000

# One run on a fresh database and server.
run() {
  local name=$1
  shift
  printf '\n=== %s (%s): loadgen run %s\n' "$name" "$engine" "$*"
  fresh_database
  start_server
  target/release/loadgen run --addr "127.0.0.1:$port" "$@"
  stop_server
}

for r in $runs; do
  case "$r" in
    idle) run idle --idle 10000 --buyers 1 --messages 1 ;;
    idle20k) run idle20k --idle 20000 --buyers 1 --messages 1 ;;
    rate500) run rate500 --idle 2000 --buyers 2000 --rate 500 --messages 30000 ;;
    rate5000) run rate5000 --idle 0 --buyers 2000 --rate 5000 --messages 50000 ;;
    saturate) run saturate --idle 0 --buyers 5000 --messages 100000 ;;
    *)
      echo "bench-chat: unknown run $r" >&2
      exit 2
      ;;
  esac
done
