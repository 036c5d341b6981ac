#!/usr/bin/env bash
# Load benchmark of the browser flows of `tessera serve` (loopback only, bounded in time), with
# bench/code-flow as the browsers and the relying party:
# - flows: complete authorization-code flows with an existing browser session (GET /oauth/authorize
#   → 303 with a code → POST /oauth/token with the PKCE verifier → RS256 ID token, ES256 access
#   token, refresh token), one flow in flight per worker;
# - pages: renders of the login page of a pending interaction (GET /interaction/{id});
# - visits: new sign-ins as a browser without a session starts one (authorize, which stores an
#   interaction, then its login page).
# Each mode runs ROUNDS times, the order rotating every round, after a warm-up; prints one row per
# run (rate, p50/p90/p99/max, failures) and the median of each mode. Any failed request fails the run.
# Usage: bench/code-flow.sh [seconds per run, default 10] [concurrency, default 50] [rounds, default 3]
# (at most 28 rounds: every flows run logs each browser in once from its own loopback address, and
# the server allows 30 logins per address per 15 minutes).
# BENCH_TESSERA_BIN / BENCH_CODE_FLOW_BIN: use these binaries instead of building this tree's release
# ones (to compare two builds in one session, alternating). BENCH_PORT: the port (default: a free one).
# No TESSERA_* variable is set: the server runs its zero-configuration defaults (logging at info,
# so one audit line per flow goes to the log file, as in production).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONCURRENCY="${2:-50}"
ROUNDS="${3:-3}"

# Two builds, not one: built together, cargo would unify the features of their shared
# dependencies (hyper's client) into the server, which would then differ from server-load.sh's.
[ -n "${BENCH_TESSERA_BIN:-}" ] || cargo build --release -q -p tessera-cli
[ -n "${BENCH_CODE_FLOW_BIN:-}" ] || cargo build --release -q -p code-flow
BIN="${BENCH_TESSERA_BIN:-$PWD/target/release/tessera}"
GENERATOR="${BENCH_CODE_FLOW_BIN:-$PWD/target/release/code-flow}"
PORT="${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"
DATA="$WORK/data"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

# The log (stdout and stderr) goes to a file: one line per audit event.
"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" > "$WORK/server.log" 2>&1 & PID=$!
for _ in $(seq 300); do
  curl -sf -o /dev/null "$BASE/readyz" && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "tessera serve did not start" >&2; exit 1; }
  sleep 0.05
done

EMAIL=bench@example.com
PASSWORD=bench-password-1
REDIRECT_URI=https://rp.example/cb
printf '%s\n' "$PASSWORD" | "$BIN" user add "$EMAIL" --password-stdin --data-dir "$DATA" >/dev/null
SECRET=$("$BIN" client add bench --confidential --first-party --redirect-uri "$REDIRECT_URI" \
  --grant authorization_code --grant refresh_token --scope openid --scope email --data-dir "$DATA" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')

RESULTS="$WORK/results.jsonl"
run() { # mode seconds: one run of the generator; its JSON line is appended to $RESULTS
  local line
  if ! line=$("$GENERATOR" "$1" --base "$BASE" --client-id bench --client-secret "$SECRET" \
    --redirect-uri "$REDIRECT_URI" --email "$EMAIL" --password "$PASSWORD" \
    --concurrency "$CONCURRENCY" --seconds "$2" --server-pid "$PID"); then
    echo "$line" >&2
    echo "code-flow $1 FAILED (above: its summary and the failures); server log: $(tail -n 5 "$WORK/server.log")" >&2
    exit 1
  fi
  echo "$line" >> "$RESULTS"
}

# Warm-up (client cache, allocator, SQLite page cache, the first RSA signatures): not recorded.
for mode in flows pages visits; do run "$mode" 3; done
: > "$RESULTS"

echo "browser flows of tessera serve: ${DURATION}s per run, $CONCURRENCY concurrent, $ROUNDS rounds, $(date -u +%F)"
echo "machine: nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(rustc --version)"
echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
MODES=(flows pages visits)
for round in $(seq "$ROUNDS"); do
  # Rotate the order, so that no mode always runs first (on a cooler machine) or last.
  for i in 0 1 2; do
    mode="${MODES[$(((i + round - 1) % 3))]}"
    run "$mode" "$DURATION"
  done
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server RSS after the runs: $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$PID/status") KiB, peak $(awk '$1 == "VmHWM:" { print $2 }' "/proc/$PID/status") KiB"
echo "server log: $(wc -l < "$WORK/server.log") lines, $(grep -c ' WARN \| ERROR ' "$WORK/server.log" || true) of them warnings or errors"
kill -TERM "$PID"; wait "$PID" || true; PID=""
echo
python3 - "$RESULTS" <<'PY'
import json, os, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("| mode | rate | p50 ms | p90 ms | p99 ms | max ms | steps p50 / p99 ms | server CPU ms per | generator CPU ms per | other cores ¹ | failures |")
print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
for r in runs:
    steps = ", ".join(f"{name} {s['p50_ms']} / {s['p99_ms']}" for name, s in r["steps"].items()) or "—"
    unit = r["unit"][:-1]
    server = 1000 * r["server_cpu_s"] / r["count"]
    generator = 1000 * r["generator_cpu_s"] / r["count"]
    others = max(0.0, r["machine_cpu_s"] - r["server_cpu_s"] - r["generator_cpu_s"]) / r["seconds"]
    print(f"| {r['mode']} | {r['per_s']:,.0f} {r['unit']}/s | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | {r['max_ms']} "
          f"| {steps} | {server:.3f} / {unit} | {generator:.3f} / {unit} | {others:.2f} | {r['failures']} |")
print()
print(f"¹ CPU used during the measurement by every other process and the hypervisor (steal), of {os.cpu_count()} cores: a loud neighbour shows here.")
print()
for mode in ("flows", "pages", "visits"):
    mine = [r for r in runs if r["mode"] == mode]
    if not mine:
        continue
    rates = ", ".join(f"{r['per_s']:,.0f}" for r in mine)
    p99s = ", ".join(str(r["p99_ms"]) for r in mine)
    print(f"{mode}: median {statistics.median(r['per_s'] for r in mine):,.0f} {mine[0]['unit']}/s ({rates}); "
          f"median p99 {statistics.median(r['p99_ms'] for r in mine)} ms ({p99s}); "
          f"{sum(r['count'] for r in mine)} measured, {sum(r['failures'] for r in mine)} failed, "
          f"{sum(r['verified'] for r in mine)} with signatures and claims verified")
median = lambda mode, key: statistics.median(r[key] for r in runs if r["mode"] == mode)
print()
if any(r["mode"] == "flows" for r in runs):
    rate, p99 = median("flows", "per_s"), median("flows", "p99_ms")
    met = "met" if rate >= 1000 and p99 < 100 else "NOT met"
    print(f"target: >= 1,000 flows/s with p99 < 100 ms at 50 concurrent: {rate:,.0f}/s, p99 {p99} ms at {runs[0]['concurrency']}: {met}")
if any(r["mode"] == "pages" for r in runs):
    rate = median("pages", "per_s")
    print(f"target: >= 10,000 login-page renders/s: {rate:,.0f}/s: {'met' if rate >= 10000 else 'NOT met'}")
PY
