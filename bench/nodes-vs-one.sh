#!/usr/bin/env bash
# bench/nodes-vs-one.sh [--clients K] [--count N] [--cases C] [--rounds R] [--no-fsync]
#
# Durable case intake on PostgreSQL: one cityops node against three nodes behind nginx
# (issue 10: "intake through 3 nodes should beat one node").
#
# One throw-away PostgreSQL 15 + PostGIS cluster with the durable defaults
# (scripts/pg-test-cluster.sh with PG_TEST_DURABLE=1: fsync, synchronous_commit and
# full_page_writes on), a demo city built into a template database (--cases C of
# history, default 2000), one data directory (media, classifier) shared by every node.
# Then the same `cityops bench intake --clients K --count N` (K default 16, N default
# 6000: K keep-alive connections, each POST /api/v1/cases answered 201 after its commit)
# against:
#   1node   one node, directly;
#   nginx1  one node behind nginx (the proxy's own cost);
#   3nodes  three nodes behind nginx (round robin, tests/multinode/nginx.mjs's config).
# Each run starts from a fresh copy of the city database (CREATE DATABASE … TEMPLATE),
# with freshly started nodes. R rounds (default 1) repeat the three runs in turn; the
# best rate of each set-up is kept. Prints cases/s, p50 and p99 of every run, how many
# writes a commit carried (group commit, summed over the run's nodes from their /metrics)
# and the ratios 3nodes / 1node and nginx1 / 1node. PostgreSQL, the nodes, nginx and the load
# generator all share this machine's cores. --no-fsync runs PostgreSQL with fsync,
# synchronous_commit and full_page_writes off (not durable: what the WAL flush costs).
#
# The binary: CITYOPS_BIN, else bin/cityops (built with `make -j2` when missing).
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

CLIENTS=16 COUNT=6000 CASES=2000 ROUNDS=1 DURABLE=1
while [ $# -gt 0 ]; do
    case "$1" in
    --clients) CLIENTS=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --no-fsync) DURABLE=0; shift ;;
    *) echo "usage: $0 [--clients K] [--count N] [--cases C] [--rounds R] [--no-fsync]" >&2; exit 2 ;;
    esac
done

bench_machine
[ -x "$CITYOPS" ] || bench_build
bench_ensure_pkgs postgresql-15 postgresql-15-postgis-3 nginx
NGINX=${NGINX_BIN:-/usr/sbin/nginx}

# ---- PostgreSQL (durable unless --no-fsync) and the demo city in a template database
eval "$(PG_TEST_DURABLE=$DURABLE bash scripts/pg-test-cluster.sh start)"
bench_on_exit "bash scripts/pg-test-cluster.sh stop '$CITYOPS_TEST_PG_DIR'"
PG_BASE=${CITYOPS_TEST_PG%/*} # postgres://postgres@127.0.0.1:PORT
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -d "$PG_BASE/postgres")
"${PSQL[@]}" -c "CREATE DATABASE city TEMPLATE cityops_test"
bench_log "PostgreSQL on ${PG_BASE#*@} ($("${PSQL[@]}" -Atc "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name)
    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')"))"
DATA="$BENCH_TMP/data"
bench_log "building the demo city (--cases $CASES) into database city, media in $DATA"
"$CITYOPS" demo --data "$DATA" --no-serve --cases "$CASES" --store "$PG_BASE/city" >"$BENCH_TMP/demo.log" 2>&1 ||
    { tail -20 "$BENCH_TMP/demo.log" >&2; bench_die "cityops demo failed"; }
"${PSQL[@]}" -c "ALTER DATABASE city WITH IS_TEMPLATE true"
# `bench intake` opens a store at --data only for the city's bounding box; with the city in
# PostgreSQL it gets an empty scratch dir and uses its built-in box (inner Hohhot)
mkdir -p "$BENCH_TMP/scratch"

# ---- processes of one run: nodes and nginx, stopped after every run and on exit
PIDS=()
stop_all() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
bench_on_exit stop_all

start_node() { # DB NAME → sets NODE_PORT (not in a subshell: PIDS must keep the pid)
    local db=$1 name=$2 port i
    port=$(bench_free_port)
    "$CITYOPS" serve --data "$DATA" --listen "127.0.0.1:$port" --store "$PG_BASE/$db" \
        >"$BENCH_TMP/node-$name.log" 2>&1 &
    PIDS+=("$!")
    for ((i = 0; i < 300; i++)); do bench_http_ok "$port" /api/v1/health && break; sleep 0.2; done
    bench_http_ok "$port" /api/v1/health || { tail "$BENCH_TMP/node-$name.log" >&2; bench_die "node $name did not come up"; }
    NODE_PORT=$port
}

start_nginx() { # PORT UPSTREAM… (HOST:PORT)
    local port=$1 dir="$BENCH_TMP/nginx" i
    shift
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    node tests/multinode/nginx.mjs "$dir" "$port" "$@" >/dev/null
    "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/nginx.out" 2>&1 &
    PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do bench_http_ok "$port" /api/v1/health && return 0; sleep 0.1; done
    cat "$dir/nginx.out" "$dir/error.log" >&2
    bench_die "nginx did not come up"
}

# group commit of the nodes of a run, from their /metrics (loopback: no login): "C commands
# in T commits"; the counters start at 0 with every node, and the set-up's logins write none
group_commit() {
    local port m commits=0 commands=0
    for port in "$@"; do
        m=$(curl -s "http://127.0.0.1:$port/metrics") || continue
        commits=$((commits + $(awk '$1 == "cityops_writer_commits_total" { print $2 }' <<<"$m")))
        commands=$((commands + $(awk '$1 == "cityops_writer_commands_total" { print $2 }' <<<"$m")))
    done
    awk -v c="$commands" -v t="$commits" \
        'BEGIN { printf "%d writes in %d commits (%.1f a commit)", c, t, (t > 0 ? c / t : 0) }'
}

# the machine's busy and total CPU time so far (clock ticks, every CPU): "BUSY TOTAL"
machine_ticks() {
    awk '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}
# machine_cpu T0 T1 N: "M µs of machine CPU a case, U % of the cores busy"
machine_cpu() {
    local b0 t0 b1 t1
    read -r b0 t0 <<<"$1"
    read -r b1 t1 <<<"$2"
    awk -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v n="$3" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f µs of machine CPU a case, %.0f %% of the cores busy", b / hz / n * 1e6, (t > 0 ? 100 * b / t : 0) }'
}

declare -A BEST RATES LAT GROUP CPU
RUN_NO=0
# run SETUP: fresh database, nodes (and nginx), the intake bench, everything stopped
run() {
    local setup=$1 db nodes port url out rate p50 p99 fails ups=() i
    RUN_NO=$((RUN_NO + 1))
    db="run$RUN_NO"
    "${PSQL[@]}" -c "CREATE DATABASE $db TEMPLATE city"
    case "$setup" in
    1node) nodes=1 ;;
    nginx1) nodes=1 ;;
    3nodes) nodes=3 ;;
    esac
    for ((i = 1; i <= nodes; i++)); do
        start_node "$db" "$setup-$i"
        ups+=("127.0.0.1:$NODE_PORT")
    done
    if [ "$setup" = 1node ]; then
        url="http://${ups[0]}"
    else
        port=$(bench_free_port)
        start_nginx "$port" "${ups[@]}"
        url="http://127.0.0.1:$port"
    fi
    sleep 1
    out="$BENCH_TMP/intake-$RUN_NO.out"
    bench_log "$setup: cityops bench intake --url $url --clients $CLIENTS --count $COUNT (load $(cut -d' ' -f1 /proc/loadavg))"
    local perf_pid=""
    if [ -n "${BENCH_PERF:-}" ]; then # a system-wide profile of the run: BENCH_PERF=FILE-PREFIX
        perf record -a -g -F 999 -o "$BENCH_PERF.$setup" 2>/dev/null &
        perf_pid=$!
    fi
    local m0 m1
    m0=$(machine_ticks)
    "$CITYOPS" bench intake --data "$BENCH_TMP/scratch" --url "$url" --clients "$CLIENTS" --count "$COUNT" \
        >"$out" 2>&1 || true
    m1=$(machine_ticks)
    if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
    grep -v 'level=info' "$out" | sed 's/^/    /' || true
    local group
    group=$(group_commit "${ups[@]##*:}")
    echo "    group commit, all nodes: $group"
    local cpu
    cpu=$(machine_cpu "$m0" "$m1" "$COUNT")
    echo "    the whole machine (PostgreSQL, nodes, nginx, load generator): $cpu"
    stop_all
    "${PSQL[@]}" -c "DROP DATABASE $db WITH (FORCE)"
    rate=$(sed -n 's/.* = \([0-9]*\) cases\/s.*/\1/p' "$out")
    p50=$(sed -n 's/.*latency p50 \([0-9.]*\) ms.*/\1/p' "$out")
    p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$out")
    fails=$(sed -n 's/.*failures \([0-9]*\).*/\1/p' "$out")
    if [ -z "$rate" ] || [ "${fails:-1}" != 0 ]; then
        bench_log "$setup: run failed (${fails:-no} failures; every answer but 201 is one); node logs:"
        grep -h -v 'status=201' "$BENCH_TMP"/node-"$setup"-*.log | tail -5 >&2 || true
        RATES[$setup]="${RATES[$setup]:-}failed "
        return 0
    fi
    RATES[$setup]="${RATES[$setup]:-}$rate "
    if [ "$rate" -gt "${BEST[$setup]:-0}" ]; then
        BEST[$setup]=$rate
        LAT[$setup]="p50 $p50 ms, p99 $p99 ms"
        GROUP[$setup]=$group
        CPU[$setup]=$cpu
    fi
}

for ((r = 1; r <= ROUNDS; r++)); do
    for setup in ${SETUPS:-1node nginx1 3nodes}; do run "$setup"; done
done

echo
if [ "$DURABLE" = 1 ]; then commits="durable commits"; else commits="fsync off, not durable"; fi
echo "== intake on PostgreSQL ($commits): $CLIENTS clients, $COUNT cases a run, best of $ROUNDS"
label() {
    case "$1" in
    1node) echo "one node, direct" ;;
    nginx1) echo "one node behind nginx" ;;
    3nodes) echo "three nodes behind nginx" ;;
    esac
}
for setup in 1node nginx1 3nodes; do
    if [ -n "${BEST[$setup]:-}" ]; then
        printf '  %-26s %7s cases/s  (%s; runs: %s)\n' "$(label "$setup")" "${BEST[$setup]}" "${LAT[$setup]}" "${RATES[$setup]% }"
        printf '  %-26s %s\n' "" "${GROUP[$setup]}"
        printf '  %-26s %s\n' "" "${CPU[$setup]}"
    else
        printf '  %-26s  failed    (runs: %s)\n' "$(label "$setup")" "${RATES[$setup]% }"
    fi
done
status=0
if [ -n "${BEST[1node]:-}" ] && [ -n "${BEST[3nodes]:-}" ]; then
    echo "  ratio 3 nodes / 1 node: $(bench_ratio "${BEST[3nodes]}" "${BEST[1node]}")x"
else
    echo "  ratio 3 nodes / 1 node: n/a (a run failed)"
    status=1
fi
if [ -n "${BEST[1node]:-}" ] && [ -n "${BEST[nginx1]:-}" ]; then
    echo "  ratio nginx + 1 node / 1 node: $(bench_ratio "${BEST[nginx1]}" "${BEST[1node]}")x (the proxy's cost)"
fi
exit "$status"
