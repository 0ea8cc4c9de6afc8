#!/usr/bin/env bash
# The version download over the wire against a bare Gin handler (issue 13,
# item 6): starts `tenken serve --demo` in a fresh data folder and
# scripts/bare, which replays the bytes and headers tenken answered with
# from memory with no middleware, then runs wrk against the two
# alternately — identity and gzip, each round tenken then bare or bare
# then tenken, so that noise from elsewhere on the machine falls on both —
# and prints per round each side's req/s, their ratio, each server's CPU
# time per request and the load average.
#
#   scripts/download.sh                    # 3 rounds × 10 s, -t2 -c50
#   ROUNDS=5 DURATION=20s scripts/download.sh
#   CPUPROFILE=/tmp/tenken.pprof scripts/download.sh
#                                          # profile tenken over the run
#   BARE_CPUPROFILE=/tmp/bare.pprof scripts/download.sh
#                                          # and/or the bare handler
#   TENKEN=/tmp/tenken-before scripts/download.sh
#                                          # another build of tenken (to compare
#                                          # before and after in one session)
#   ACCESS_LOG=/dev/null scripts/download.sh
#                                          # tenken's log to /dev/null (default:
#                                          # a file in the temporary folder)
#
# Needs wrk (apt-get install wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}
threads=${THREADS:-2}
conns=${CONNS:-50}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done # TERM: a background job ignores INT
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
if [ -n "${TENKEN:-}" ]; then cp "$TENKEN" "$tmp/tenken"; else go build -o "$tmp/tenken" ./cmd/tenken; fi
go build -o "$tmp/bare" ./scripts/bare
export TENKEN_DEMO_PASSWORD=download-bench-password-1
export TENKEN_ACCESS_TTL=1h # the token must outlive the run
port=$((20000 + RANDOM % 20000))
tenken="http://127.0.0.1:$port"
profile=()
[ -n "${CPUPROFILE:-}" ] && profile=(--cpuprofile "$CPUPROFILE")
"$tmp/tenken" serve --demo --demo-inspections=false --data "$tmp/data" --addr "127.0.0.1:$port" "${profile[@]}" \
  >"$tmp/serve.out" 2>"${ACCESS_LOG:-$tmp/serve.err}" &
pids+=($!)
for _ in $(seq 1 300); do
  curl -fs "$tenken/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$tenken/readyz" >/dev/null || { cat "$tmp/serve.err" "$tmp/serve.out" >&2; exit 1; }
token=$(curl -fs "$tenken/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"inspector1\",\"password\":\"$TENKEN_DEMO_PASSWORD\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "login failed" >&2; exit 1; }
path=/v1/checklists/default/versions/1
bport=$((port + 1))
bare="http://127.0.0.1:$bport"
bprofile=()
[ -n "${BARE_CPUPROFILE:-}" ] && bprofile=(-cpuprofile "$BARE_CPUPROFILE")
"$tmp/bare" -from "$tenken$path" -token "$token" -addr "127.0.0.1:$bport" "${bprofile[@]}" >"$tmp/bare.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs -o /dev/null "$bare$path" 2>/dev/null && break
  sleep 0.1
done
# Same bytes: both sides' bodies, per encoding, compared once.
for enc in identity gzip; do
  for side in tenken bare; do
    base=$tenken; [ "$side" = bare ] && base=$bare
    curl -fs -H "Authorization: Bearer $token" -H "Accept-Encoding: $enc" -D "$tmp/$side.$enc.h" -o "$tmp/$side.$enc" "$base$path"
  done
  cmp -s "$tmp/tenken.$enc" "$tmp/bare.$enc" || { echo "$enc: the bodies differ" >&2; exit 1; }
  grep -qi '^content-encoding: gzip' "$tmp/tenken.$enc.h" && [ "$enc" = identity ] && { echo "tenken gzips without being asked" >&2; exit 1; }
  printf '%-8s %6d bytes, %2d headers (tenken) / %2d (bare)\n' "$enc" "$(wc -c <"$tmp/tenken.$enc")" \
    "$(($(grep -c : "$tmp/tenken.$enc.h")))" "$(($(grep -c : "$tmp/bare.$enc.h")))"
done

# wrk prints "N requests in" and "Requests/sec: N"; non-2xx/3xx answers
# would inflate them. measure prints req/s and the server's CPU time per
# request in µs (user + system, from /proc): unlike req/s, the CPU per
# request hardly depends on what else the machine is doing.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
measure() { # base pid encoding [duration]
  local out before
  before=$(cpu "$2")
  out=$(wrk -t"$threads" -c"$conns" -d"${4:-$duration}" -H "Authorization: Bearer $token" -H "Accept-Encoding: $3" "$1$path")
  if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; exit 1; fi
  awk -v t="$(( $(cpu "$2") - before ))" -v hz="$hz" '/ requests in / {n = $1} /^Requests\/sec:/ {r = $2}
    END {printf "%s %.1f\n", r, 1e6 * t / hz / n}' <<<"$out"
}
tpid=${pids[0]} bpid=${pids[1]}
printf '%s wrk -t%s -c%s -d%s, %s rounds\n' "$(date -u +%FT%TZ)" "$threads" "$conns" "$duration" "$rounds"
printf '%-8s %5s %10s %10s %6s %9s %9s  %s\n' encoding round tenken bare ratio "tenken µs" "bare µs" "load average"
for enc in identity gzip; do
  measure "$tenken" "$tpid" "$enc" 2s >/dev/null # warm up both, briefly
  measure "$bare" "$bpid" "$enc" 2s >/dev/null
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then
      read -r t tc < <(measure "$tenken" "$tpid" "$enc"); read -r b bc < <(measure "$bare" "$bpid" "$enc")
    else
      read -r b bc < <(measure "$bare" "$bpid" "$enc"); read -r t tc < <(measure "$tenken" "$tpid" "$enc")
    fi
    [ -n "$t" ] && [ -n "$b" ] || exit 1
    printf '%-8s %5d %10.0f %10.0f %6.2f %9s %9s  %s\n' "$enc" "$r" "$t" "$b" "$(awk -v t="$t" -v b="$b" 'BEGIN{print t/b}')" \
      "$tc" "$bc" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
