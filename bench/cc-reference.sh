#!/usr/bin/env bash
# client_credentials issuance of `tessera serve` against the bare reference handler
# (bench/reference-cc: axum + aws-lc-rs, Basic secret checked in constant time, the same RFC 9068
# claims signed with ES256, nothing else), in one run, alternating, on loopback only.
# Prints requests/s of both per round and the median of the per-round ratios.
# Usage: bench/cc-reference.sh [rounds, default 6] [seconds per run, default 5] [connections, default 50]
# BENCH_TESSERA_BIN / BENCH_REFERENCE_BIN: use these binaries instead of building this tree's release ones.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-6}"
DURATION="${2:-5}"
CONNECTIONS="${3:-50}"
TESSERA_PORT="${BENCH_PORT:-18090}"
REFERENCE_PORT=$((TESSERA_PORT + 1))

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -z "${BENCH_TESSERA_BIN:-}" ] || [ -z "${BENCH_REFERENCE_BIN:-}" ]; then
  cargo build --release -q -p tessera-cli -p reference-cc
fi
BENCH_TESSERA_BIN="${BENCH_TESSERA_BIN:-$PWD/target/release/tessera}"
BENCH_REFERENCE_BIN="${BENCH_REFERENCE_BIN:-$PWD/target/release/reference-cc}"
WORK="$(mktemp -d)"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
export TESSERA_LOG_LEVEL=warn

wait_for() { # port path
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$1$2" && return 0
    sleep 0.05
  done
  echo "nothing answers on port $1" >&2; exit 1
}

"$BENCH_TESSERA_BIN" serve --listen "127.0.0.1:$TESSERA_PORT" --data-dir "$WORK/data" & PIDS+=($!)
wait_for "$TESSERA_PORT" /readyz
tessera_secret=$("$BENCH_TESSERA_BIN" client add bench --confidential --grant client_credentials --audience api://bench \
  --data-dir "$WORK/data" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
"$BENCH_REFERENCE_BIN" "$REFERENCE_PORT" > "$WORK/reference.out" & PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/reference.out" ] && break; sleep 0.05; done
reference_secret=$(head -n1 "$WORK/reference.out")

rps() { # port secret
  BENCH_BASIC=$(printf 'bench:%s' "$2" | base64 -w0) \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/wrk/client_credentials.lua "http://127.0.0.1:$1/oauth/token" |
    awk '/Requests\/sec/ { print $2 }'
}
# Warm both (the client cache, the allocator) before measuring.
DURATION=2 rps "$TESSERA_PORT" "$tessera_secret" >/dev/null
DURATION=2 rps "$REFERENCE_PORT" "$reference_secret" >/dev/null

echo "client_credentials: tessera serve vs the bare reference, $ROUNDS rounds of ${DURATION}s each, $CONNECTIONS connections, $(date -u +%F)"
echo "machine: nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | tessera req/s | reference req/s | ratio |"
echo "|---:|---:|---:|---:|"
RATIOS=()
for round in $(seq "$ROUNDS"); do
  # Alternate which goes first, so neither always runs on a warmer or cooler machine.
  if [ $((round % 2)) -eq 1 ]; then
    t=$(rps "$TESSERA_PORT" "$tessera_secret"); r=$(rps "$REFERENCE_PORT" "$reference_secret")
  else
    r=$(rps "$REFERENCE_PORT" "$reference_secret"); t=$(rps "$TESSERA_PORT" "$tessera_secret")
  fi
  ratio=$(awk -v t="$t" -v r="$r" 'BEGIN { printf "%.3f", t / r }')
  RATIOS+=("$ratio")
  echo "| $round | $t | $r | $ratio |"
done
echo
echo "median ratio: $(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
