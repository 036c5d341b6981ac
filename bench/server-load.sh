#!/usr/bin/env bash
# Load benchmark of `tessera serve` on this machine (loopback only, bounded in time):
# client_credentials issuance, refresh rotation, introspection and the JWKS, with wrk;
# requests/s, p50/p99 latency, RSS idle and peak per workload, and the time from start to ready.
# Usage: bench/server-load.sh [seconds per run, default 15] [connections, default 50]
# BENCH_TESSERA_BIN=path runs that binary instead of building this tree's release binary (to compare
# two builds in one session, alternating).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-15}"
CONNECTIONS="${2:-50}"
PORT="${BENCH_PORT:-18080}"
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BENCH_TESSERA_BIN:-}" ]; then
  BIN="$BENCH_TESSERA_BIN"
else
  cargo build --release -q -p tessera-cli
  BIN="$PWD/target/release/tessera"
fi
WORK="$(mktemp -d)"
DATA="$WORK/data"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
export TESSERA_RATE_LIMIT_LOGIN_PER_IP=100000 TESSERA_LOG_LEVEL=warn

# start_server DIR: starts `tessera serve` on DIR (sets PID) and sets READY_MS, the milliseconds
# from the exec to the first 200 from /readyz. The poller starts first and polls every 0.5 ms
# with a raw socket, so neither Python's start-up nor a process spawn is counted.
start_server() {
  local stamp="$WORK/ready"
  python3 - "$PORT" "$stamp" <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
request = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
open(out + ".polling", "w").close()
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(request)
            if s.recv(16).startswith(b"HTTP/1.1 200"):
                break
    except OSError:
        pass
    time.sleep(0.0005)
open(out, "w").write(str(time.time_ns()))
PY
  local poller=$!
  while [ ! -e "$stamp.polling" ]; do sleep 0.01; done
  local start; start=$(date +%s%N)
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$1" & PID=$!
  wait "$poller"
  kill -0 "$PID" 2>/dev/null || { echo "tessera serve did not start" >&2; exit 1; }
  READY_MS=$(awk -v a="$start" -v b="$(cat "$stamp")" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
  rm -f "$stamp" "$stamp.polling"
}

stop_server() { kill -TERM "$PID"; wait "$PID" || true; }

rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
# Resets VmHWM to the current RSS (Linux >= 4.0), so each workload reports its own peak.
reset_peak() { echo 5 > "/proc/$1/clear_refs"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# First starts (keys generated: an RSA-2048 key, whose generation time varies) on fresh
# folders, then restarts of the last folder; the median and the slowest of each.
STARTS="${BENCH_STARTS:-5}"
FIRST=(); AGAIN=()
for _ in $(seq "$STARTS"); do
  rm -rf "$DATA"; mkdir -p "$DATA"
  start_server "$DATA"; FIRST+=("$READY_MS"); stop_server
done
for _ in $(seq "$STARTS"); do
  start_server "$DATA"; AGAIN+=("$READY_MS"); stop_server
done
start_server "$DATA"
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
reset_peak "$PID"
for _ in $(seq "$CONNECTIONS"); do
  curl -sf -H 'content-type: application/json' -d '{"username":"bench@example.com","password":"bench-password-1"}' \
    "$BASE/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])'
done > "$BENCH_REFRESH_TOKENS"
# Argon2id (19 MiB per check) on the blocking pool: glibc keeps freed blocks in per-thread
# arenas, so this phase sets the RSS that the process keeps afterwards; reported on its own.
LOGIN_PEAK=$(rss_kib "$PID" VmHWM); AFTER_LOGIN=$(rss_kib "$PID" VmRSS)

run() { # name, wrk arguments...
  local name="$1"; shift
  reset_peak "$PID"
  local out; out=$(wrk --latency -d "${DURATION}s" "$@")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "$(rss_kib "$PID" VmHWM)"
}

echo "tessera serve load test: ${DURATION}s per run, $CONNECTIONS connections, $(date -u +%F)"
echo "machine: nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(rustc --version)"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| workload | requests/s | p50 | p99 | non-2xx | peak RSS (KiB) |"
echo "|---|---:|---:|---:|---:|---:|"
run "client_credentials (POST /oauth/token)" -t2 -c"$CONNECTIONS" -s bench/wrk/client_credentials.lua "$BASE/oauth/token"
run "introspection (POST /oauth/introspect)" -t2 -c"$CONNECTIONS" -s bench/wrk/introspect.lua "$BASE/oauth/introspect"
run "JWKS (GET /.well-known/jwks.json)" -t2 -c"$CONNECTIONS" "$BASE/.well-known/jwks.json"
run "refresh rotation (POST /auth/refresh, $CONNECTIONS chains)" -t"$CONNECTIONS" -c"$CONNECTIONS" -s bench/wrk/refresh.lua "$BASE/auth/refresh"
echo
echo "ready after a first start (keys generated), ms: median $(printf '%s\n' "${FIRST[@]}" | median), slowest $(printf '%s\n' "${FIRST[@]}" | sort -n | tail -1) (${FIRST[*]})"
echo "ready after a restart, ms: median $(printf '%s\n' "${AGAIN[@]}" | median), slowest $(printf '%s\n' "${AGAIN[@]}" | sort -n | tail -1) (${AGAIN[*]})"
echo "RSS idle after start: ${IDLE_RSS} KiB; during the $CONNECTIONS logins (Argon2id): peak ${LOGIN_PEAK} KiB, ${AFTER_LOGIN} KiB after"
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
