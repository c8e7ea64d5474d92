#!/usr/bin/env bash
# run.sh — the load test: a bounded mixed read/write load with wrk on
# loopback against a real server (tests/load/mixed.lua: ~80 % reads, ~20 %
# intake as a logged-in operator).
#
# Serves a copy of the HTTP tests' demo city (or of LOAD_DATA=DIR), then runs
# the same wrk load twice (LOAD_SECONDS each, LOAD_CONNECTIONS connections)
# while sampling the server's resident memory (VmRSS from /proc) once a second.
# Prints per run: requests/s, p50/p99 latency, non-2xx replies, socket errors,
# RSS before/peak/after; and the server's RSS growth over the second run.
#
# Fails (exit 1) on any socket error, any non-2xx reply, a server that dies,
# or RSS growing more than LOAD_RSS_GROWTH_MAX_MB (default 48) over the
# second run — the first run warms the caches (SQLite page cache, the
# projection's arrays, allocator arenas); an identical second run that still
# grows memory materially leaks. It never fails on timing: the figures are
# reported, not judged.
#
# Environment: CITYOPS_BIN (default bin/cityops), LOAD_SECONDS (10),
# LOAD_CONNECTIONS (16), LOAD_THREADS (wrk threads, 2), LOAD_SERVER_THREADS
# (2), LOAD_RSS_GROWTH_MAX_MB (48), LOAD_DATA (a data dir to copy), LOAD_REPORT
# (a path: the figures as JSON), LOAD_SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${CITYOPS_BIN:-bin/cityops}
SECONDS_PER_RUN=${LOAD_SECONDS:-10}
CONNS=${LOAD_CONNECTIONS:-16}
WRK_THREADS=${LOAD_THREADS:-2}
SRV_THREADS=${LOAD_SERVER_THREADS:-2}
GROWTH_MAX_MB=${LOAD_RSS_GROWTH_MAX_MB:-48}
SEED=${LOAD_SEED:-$RANDOM}

die() { echo "load: $*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is not installed (scripts/install-deps.sh installs it)"
command -v curl >/dev/null || die "curl is not installed"
[ -x "$BIN" ] || die "no binary at $BIN (make, or set CITYOPS_BIN)"
BIN=$(realpath "$BIN")

# ---- the data: a copy of LOAD_DATA or of the HTTP tests' demo city
if [ -n "${LOAD_DATA:-}" ]; then
  src=$LOAD_DATA
else
  src=$(CITYOPS_BIN=$BIN node --input-type=module \
    -e "import('./tests/http/lib.mjs').then((m) => console.log(m.demoCity()))")
fi
[ -f "$src/cityops.db" ] || die "no data directory at $src"
work=$(mktemp -d /tmp/cityops-load-XXXXXX)
cp -r "$src"/. "$work"/
rm -f "$work/server.log"

pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "${KEEP_SERVER_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# ---- serve it on a free loopback port
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
url="http://127.0.0.1:$port"
"$BIN" serve --data "$work" --listen "127.0.0.1:$port" --threads "$SRV_THREADS" \
  >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -sf "$url/api/v1/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { tail -20 "$work/server.log" >&2; die "the server exited"; }
  sleep 0.1
done
curl -sf "$url/api/v1/health" >/dev/null || die "the server does not answer"

# ---- a session, some case ids, points inside the city
json() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log($1)})"; }
token=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"username":"operator","password":"demo"}' "$url/api/v1/login" | json 'j.token')
[ -n "$token" ] || die "login failed"
auth=(-H "Authorization: Bearer $token")
ids=$(curl -sf "${auth[@]}" "$url/api/v1/cases?limit=200" | json "j.items.map(c=>c.id).join(',')")
points=$(curl -sf "${auth[@]}" "$url/api/v1/areas?level=community&parent=150102" |
  json "j.items.filter(a=>a.center).map(a=>a.center.join(' ')).join(';')")
[ -n "$ids" ] && [ -n "$points" ] || die "no cases or no areas in $src"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0; }

# One wrk run; sets RUN_* variables and prints a line.
run_once() {
  local n=$1 out peak before after sampler
  before=$(rss_kb)
  peak=$before
  out=$(mktemp)
  LOAD_TOKEN=$token LOAD_IDS=$ids LOAD_POINTS=$points LOAD_SEED=$((SEED + n)) \
    wrk -t "$WRK_THREADS" -c "$CONNS" -d "${SECONDS_PER_RUN}s" --timeout 10s --latency \
    -s tests/load/mixed.lua "$url" >"$out" 2>&1 &
  sampler=$!
  while kill -0 "$sampler" 2>/dev/null; do
    local r
    r=$(rss_kb)
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 1
  done
  wait "$sampler" || { cat "$out" >&2; die "wrk failed"; }
  kill -0 "$pid" 2>/dev/null || { tail -30 "$work/server.log" >&2; die "the server died under load"; }
  sleep 1 # let the writer and the checkpointer settle
  after=$(rss_kb)
  get() { awk -v k="$1" '$1 == k {print $2}' "$out"; }
  RUN_RPS=$(get LOAD_RPS)
  RUN_P50=$(get LOAD_P50_MS)
  RUN_P99=$(get LOAD_P99_MS)
  RUN_REQ=$(get LOAD_REQUESTS)
  RUN_NON2XX=$(get LOAD_NON2XX)
  RUN_SOCK=$(get LOAD_SOCKET_ERRORS)
  RUN_BEFORE=$before RUN_PEAK=$peak RUN_AFTER=$after
  [ -n "$RUN_RPS" ] || { cat "$out" >&2; die "no figures from wrk"; }
  printf 'run %d: %s requests in %ss, %s req/s, p50 %s ms, p99 %s ms, non-2xx %s, socket errors %s, RSS %d → %d (peak %d) MB\n' \
    "$n" "$RUN_REQ" "$SECONDS_PER_RUN" "$RUN_RPS" "$RUN_P50" "$RUN_P99" "$RUN_NON2XX" "$RUN_SOCK" \
    $((before / 1024)) $((after / 1024)) $((peak / 1024))
  grep '^LOAD_STATUS' "$out" | sed 's/^LOAD_STATUS/  status/' || true
  rm -f "$out"
}

echo "load: $url, $CONNS connections, ${SECONDS_PER_RUN}s per run, seed $SEED, data $(du -sh "$work" | cut -f1)"
fail=0
run_once 1
r1=("$RUN_RPS" "$RUN_P50" "$RUN_P99" "$RUN_REQ" "$RUN_NON2XX" "$RUN_SOCK" "$RUN_BEFORE" "$RUN_AFTER" "$RUN_PEAK")
[ "$RUN_NON2XX" = 0 ] && [ "$RUN_SOCK" = 0 ] || fail=1
run_once 2
r2=("$RUN_RPS" "$RUN_P50" "$RUN_P99" "$RUN_REQ" "$RUN_NON2XX" "$RUN_SOCK" "$RUN_BEFORE" "$RUN_AFTER" "$RUN_PEAK")
[ "$RUN_NON2XX" = 0 ] && [ "$RUN_SOCK" = 0 ] || fail=1

growth_kb=$((r2[7] - r1[7]))
echo "load: RSS after run 1 $((r1[7] / 1024)) MB, after run 2 $((r2[7] / 1024)) MB: growth $((growth_kb / 1024)) MB (bound ${GROWTH_MAX_MB} MB)"
[ "$growth_kb" -le $((GROWTH_MAX_MB * 1024)) ] || { echo "load: memory is not flat" >&2; fail=1; }

if [ -n "${LOAD_REPORT:-}" ]; then
  cat >"$LOAD_REPORT" <<EOF
{"seconds_per_run": $SECONDS_PER_RUN, "connections": $CONNS, "server_threads": $SRV_THREADS, "seed": $SEED,
 "runs": [
  {"rps": ${r1[0]}, "p50_ms": ${r1[1]}, "p99_ms": ${r1[2]}, "requests": ${r1[3]}, "non2xx": ${r1[4]}, "socket_errors": ${r1[5]}, "rss_before_kb": ${r1[6]}, "rss_after_kb": ${r1[7]}, "rss_peak_kb": ${r1[8]}},
  {"rps": ${r2[0]}, "p50_ms": ${r2[1]}, "p99_ms": ${r2[2]}, "requests": ${r2[3]}, "non2xx": ${r2[4]}, "socket_errors": ${r2[5]}, "rss_before_kb": ${r2[6]}, "rss_after_kb": ${r2[7]}, "rss_peak_kb": ${r2[8]}}],
 "rss_growth_run2_kb": $growth_kb, "rss_growth_max_kb": $((GROWTH_MAX_MB * 1024))}
EOF
fi
if [ "$fail" -ne 0 ]; then
  echo "load: FAILED (errors, non-2xx replies or memory growth); server log tail:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
fi
echo "load: ok — 0 errors, 0 non-2xx, memory flat"
