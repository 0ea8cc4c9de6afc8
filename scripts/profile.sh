#!/usr/bin/env bash
# Profiles `tenken serve` under the load tool: seeds the demo data in a
# fresh folder first (so that the profile holds the load only), restarts
# serve on it with --cpuprofile and --metrics-addr, runs tenkenload with
# the given arguments (and the server's pid, so it prints the server's CPU
# per unit of work), then prints the database commands the load caused,
# per kind, and writes the profile and the binary it belongs to.
#
#   scripts/profile.sh /tmp/submit.pprof -mode submit -duration 20s
#   go tool pprof -top -cum /tmp/submit.pprof.bin /tmp/submit.pprof
#   TREE=/tmp/other-checkout scripts/profile.sh /tmp/before.pprof -mode save
#                                   # another checkout's code, to compare
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PROFILE [tenkenload arguments]" >&2; exit 2; }
prof=$(realpath -m "$1"); shift
cd "${TREE:-$(dirname "$0")/..}"
tmp=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/tenken" ./cmd/tenken
go build -o "$tmp/tenkenload" ./cmd/tenkenload
export TENKEN_DEMO_PASSWORD=load-test-password-1 TENKEN_LOG_LEVEL=warn
port=$((20000 + RANDOM % 10000))
api=http://127.0.0.1:$port metrics=http://127.0.0.1:$((port + 1))/metrics
ready() {
  for _ in $(seq 1 300); do curl -fs "$api/readyz" >/dev/null 2>&1 && return; sleep 0.2; done
  cat "$tmp/serve.err" >&2; exit 1
}
"$tmp/tenken" serve --demo --data "$tmp/data" --addr "127.0.0.1:$port" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
ready
kill "$pid"; wait "$pid" || true
"$tmp/tenken" serve --demo --data "$tmp/data" --addr "127.0.0.1:$port" \
  --cpuprofile "$prof" --metrics-addr "127.0.0.1:$((port + 1))" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
ready
commands() { curl -fs "$metrics" | sed -n 's/^tenken_database_command_duration_seconds_count{command="\([a-zA-Z]*\)",outcome="ok"} \([0-9]*\)$/\1 \2/p' | sort; }
commands >"$tmp/before"
status=0
"$tmp/tenkenload" -url "$api" -pid "$pid" "$@" || status=$?
commands >"$tmp/after"
echo "database commands during the load (the read-back included):"
join -a 2 -e 0 -o 0,1.2,2.2 "$tmp/before" "$tmp/after" | awk '$3 > $2 { printf "  %-16s %d\n", $1, $3 - $2 }'
kill "$pid"; wait "$pid" || true
pid=""
cp "$tmp/tenken" "$prof.bin"
echo "profile: $prof (binary: $prof.bin)"
exit "$status"
