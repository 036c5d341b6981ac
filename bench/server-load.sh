#!/usr/bin/env bash
# Load benchmark of `tessera serve` on this machine (loopback only, bounded in time):
# client_credentials issuance, refresh rotation, introspection and the JWKS, with wrk;
# requests/s, p50/p99 latency, RSS idle and peak, and the time from start to ready.
# Usage: bench/server-load.sh [seconds per run, default 15] [connections, default 50]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CONNECTIONS="${2:-50}"
PORT="${BENCH_PORT:-18080}"
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p tessera-cli
BIN="$PWD/target/release/tessera"
DATA="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
export TESSERA_RATE_LIMIT_LOGIN_PER_IP=100000 TESSERA_LOG_LEVEL=warn

# Milliseconds from exec to the first 200 from /readyz (polled every millisecond).
ready_ms() {
  python3 - "$BASE/readyz" "$1" <<'PY'
import sys, time, urllib.request
url, start_ns = sys.argv[1], int(sys.argv[2])
while True:
    try:
        if urllib.request.urlopen(url, timeout=1).status == 200:
            break
    except Exception:
        time.sleep(0.001)
print(round((time.time_ns() - start_ns) / 1e6, 1))
PY
}

rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

start=$(date +%s%N); "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" & PID=$!
FIRST_READY=$(ready_ms "$start")
kill -TERM "$PID"; wait "$PID" || true
start=$(date +%s%N); "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" & PID=$!
READY=$(ready_ms "$start")
sleep 1
IDLE_RSS=$(rss_kib "$PID" VmRSS)

secret=$("$BIN" client add bench --confidential --grant client_credentials --audience api://bench --data-dir "$DATA" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
export BENCH_BASIC
BENCH_BASIC=$(printf 'bench:%s' "$secret" | base64 -w0)
export BENCH_ACCESS_TOKEN
BENCH_ACCESS_TOKEN=$(curl -sf -u "bench:$secret" -d grant_type=client_credentials "$BASE/oauth/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
printf 'bench-password-1\n' | "$BIN" user add bench@example.com --password-stdin --data-dir "$DATA" >/dev/null
export BENCH_REFRESH_TOKENS="$DATA/refresh-tokens"
for _ in $(seq "$CONNECTIONS"); do
  curl -sf -H 'content-type: application/json' -d '{"username":"bench@example.com","password":"bench-password-1"}' \
    "$BASE/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])'
done > "$BENCH_REFRESH_TOKENS"

run() { # name, wrk arguments...
  local name="$1"; shift
  local out; out=$(wrk --latency -d "${DURATION}s" "$@")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "$(rss_kib "$PID" VmHWM)"
}

echo "tessera serve load test: ${DURATION}s per run, $CONNECTIONS connections, $(nproc) cores, $(date -u +%F)"
echo
echo "| workload | requests/s | p50 | p99 | non-2xx | peak RSS so far (KiB) |"
echo "|---|---:|---:|---:|---:|---:|"
run "client_credentials (POST /oauth/token)" -t2 -c"$CONNECTIONS" -s bench/wrk/client_credentials.lua "$BASE/oauth/token"
run "introspection (POST /oauth/introspect)" -t2 -c"$CONNECTIONS" -s bench/wrk/introspect.lua "$BASE/oauth/introspect"
run "JWKS (GET /.well-known/jwks.json)" -t2 -c"$CONNECTIONS" "$BASE/.well-known/jwks.json"
run "refresh rotation (POST /auth/refresh, $CONNECTIONS chains)" -t"$CONNECTIONS" -c"$CONNECTIONS" -s bench/wrk/refresh.lua "$BASE/auth/refresh"
echo
echo "ready after first start (keys generated): ${FIRST_READY} ms; after a restart: ${READY} ms"
echo "idle RSS: ${IDLE_RSS} KiB; peak RSS: $(rss_kib "$PID" VmHWM) KiB"
