#!/usr/bin/env bash
# Load test on the embedded default: starts `tenken serve --demo` in a
# fresh data folder, runs tenkenload (by default -mode save: 20 tablets
# saving every second for 60 s) and stops the server.
#
#   scripts/load.sh                       # 20 tablets, 60 s, over the demo data
#   scripts/load.sh -tablets 40 -duration 30s
#   scripts/load.sh -mode submit -duration 20s
#                                         # full submissions back to back: the
#                                         # tool reads the server's CPU itself
#   DEMO_INSPECTIONS=false scripts/load.sh  # without the demo inspections
#   DEMO_FACILITIES=200 DEMO_YEARS=3 scripts/load.sh
#                                         # over a bigger bureau's data first
#                                         # (tenken demo: 2 inspections per
#                                         # facility and year)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
data=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$bin" "$data"' EXIT
go build -o "$bin/tenken" ./cmd/tenken
go build -o "$bin/tenkenload" ./cmd/tenkenload
export TENKEN_DEMO_PASSWORD=load-test-password-1
export TENKEN_LOG_LEVEL=warn
if [ -n "${DEMO_FACILITIES:-}" ]; then
  "$bin/tenken" demo --data "$data" --facilities "$DEMO_FACILITIES" --years "${DEMO_YEARS:-3}" --seed 1 2>/dev/null
fi
port=$((20000 + RANDOM % 20000))
"$bin/tenken" serve --demo --demo-inspections="${DEMO_INSPECTIONS:-true}" --data "$data" --addr "127.0.0.1:$port" >"$data/serve.out" 2>"$data/serve.err" &
pid=$!
for _ in $(seq 1 300); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$data/serve.err"; exit 1; }
# The server's CPU time over the run, per save: unlike latency, it hardly
# depends on what else the machine is doing.
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu)
status=0
args=("$@")
case " $* " in
*" -mode submit "* | *" -mode=submit "*) args+=(-pid "$pid") ;;
esac
"$bin/tenkenload" -url "http://127.0.0.1:$port" "${args[@]}" | tee "$data/load.out" || status=$?
saves=$(awk '/^saves:/ {print $2}' "$data/load.out")
awk -v t="$(( $(cpu) - before ))" -v hz="$(getconf CLK_TCK)" -v n="${saves:-0}" \
  'BEGIN { if (n > 0) printf "server CPU: %.1f s, %.2f ms per save\n", t / hz, 1000 * t / hz / n }'
exit "$status"
