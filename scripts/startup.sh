#!/usr/bin/env bash
# Measures start-up to ready and idle resident memory of the built binary,
# on an empty data folder and on one holding the demo data.
#   scripts/startup.sh            (builds ./bin/tenken first)
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/tenken ./cmd/tenken
bin=$PWD/bin/tenken
port=${PORT:-18080}

measure() { # label data-dir extra-args...
  local label=$1 data=$2; shift 2
  local start end pid rss
  start=$(date +%s%N)
  TENKEN_DEMO_PASSWORD=demo-password-123 "$bin" serve --addr 127.0.0.1:$port --data "$data" "$@" >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:$port/readyz; do sleep 0.005; done
  end=$(date +%s%N)
  sleep 3   # idle
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill -TERM $pid; wait $pid || true
  printf '%-34s start-up to ready %4d ms   idle RSS %3d MB\n' "$label" $(( (end-start)/1000000 )) $(( rss/1024 ))
}

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
measure "empty data folder (first start)" "$tmp/empty"
measure "empty data folder (second start)" "$tmp/empty"
measure "demo data (first start, seeding)" "$tmp/demo" --demo
measure "demo data (restart)" "$tmp/demo" --demo
