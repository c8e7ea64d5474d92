#!/usr/bin/env bash
# bench/intake-vs-postgres.sh [--clients K] [--count N] [--data DIR] [--cases C] [--rounds R]
#
# Durable case intake: cityops against plain PostgreSQL commits, same concurrency, same run.
#
#  1. cityops: a demo city (built with --cases C, default 200,000 cases of history; or a COPY
#     of --data DIR), then `cityops bench intake --clients K --count N` (K default 16,
#     N default 50,000) against `cityops serve` on that copy (started by this script so it
#     can read the server's CPU time): K keep-alive HTTP connections driven by one epoll
#     thread, each POST /api/v1/cases validated, geocoded, classified, routed and committed
#     (SQLite WAL, synchronous=FULL, group commit) before its 201.
#  2. PostgreSQL 15 (throw-away cluster from bench/lib.sh, default configuration: fsync on,
#     synchronous_commit on, full_page_writes on): a `cases` table with a bigserial primary
#     key and two secondary indexes, pre-filled with C rows like the demo's history, then
#     pgbench with K clients on one thread (-j 1, like the cityops client), prepared
#     statements, N single-row INSERT transactions in total, each a ~1 KB JSON text.
#     Both data directories are under the same temp dir, on the same disk.
#  3. nginx answering a canned reply (a 201 the size of cityops' answer), the same client
#     and count: the HTTP exchange alone on this machine, its ceiling for any intake.
#  R rounds (default 2) alternate cityops and PostgreSQL, so both see the same background
#  load (the machine is shared); cityops starts each round from a fresh copy of the demo,
#  the PostgreSQL table keeps growing by N a round. Prints every
#  round's rate, the best of each with its p50/p99 latency, and the ratio best / best.
#
# Target (issue): ≥ 10,000 cases/s with 16 clients; reference: PostgreSQL 15 about
# 9,700 such commits/s on this machine class.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

CLIENTS=16 COUNT=50000 DATA="" CASES=200000 ROUNDS=2
while [ $# -gt 0 ]; do
    case "$1" in
    --clients) CLIENTS=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $0 [--clients K] [--count N] [--data DIR] [--cases C] [--rounds R]" >&2; exit 2 ;;
    esac
done
PER_CLIENT=$(((COUNT + CLIENTS - 1) / CLIENTS))
PG_COUNT=$((PER_CLIENT * CLIENTS))

bench_machine
bench_build
bench_ensure_pkgs postgresql-15 nginx
# $BENCH_TMP/demo0 stays pristine; each round runs on a fresh copy of it, $BENCH_TMP/demo
# (case numbers are YYYYMMDD + a 5-digit daily sequence: cityops refuses the 100,000th
# case of a day with 413, so rounds must not pile up on one data dir)
if [ -z "$DATA" ]; then
    bench_demo "$BENCH_TMP/demo0" "$CASES"
else
    bench_log "copying $DATA"
    mkdir -p "$BENCH_TMP/demo0"
    cp -a "$DATA/." "$BENCH_TMP/demo0/"
fi

# ---- PostgreSQL set-up (before any timing; the server idles while cityops runs)
# shellcheck disable=SC2119 # no extra postgresql.conf lines: the defaults are the point
pg_start "max_connections = $((CLIENTS + 20))" # its default 100 would refuse --clients 256
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -Atc "SELECT 'PostgreSQL settings: ' || string_agg(name || '=' || setting, ', ' ORDER BY name)
                   FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
                   'wal_sync_method', 'commit_delay', 'shared_buffers', 'wal_level', 'max_connections')"
BODY='{"description":"压测：人行道井盖破损 #:n","category":"C0101","type":"部件","subtype":"井盖","severity":"urgent","channel":"hotline","source":{"system":"12345","ticket":"HX20261125000123","operator":"王芳"},"location":{"lon":111.6712345,"lat":40.8176543,"address":"内蒙古自治区呼和浩特市新城区某某街道某某社区某某路123号附近"},"caller":{"name":"张先生","phone":"13800138000"},"grid":"150102001001001","community":"150102001001","street":"150102001","district":"150102","department":"市政设施管理处","state":"filed","deadline":"2026-11-26T17:30:00+08:00","events":[{"seq":1,"type":"created","by":"operator","at":"2026-11-25T16:00:00+08:00","note":"市民来电反映人行道井盖破损，存在安全隐患，请尽快处置。"}],"flags":[],"tags":["人行道","井盖","安全隐患"],"attachments":[{"name":"现场照片1.jpg","size":482113,"sha256":"9f2b6c1e4d8a7b3c5e0f1a2d4c6b8e0f1a3c5e7d9b1f3a5c7e9d1b3f5a7c9e1d"}]}'
"${PSQL[@]}" <<SQL
CREATE TABLE cases (
    id         bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    grid       text NOT NULL,
    category   text NOT NULL,
    state      text NOT NULL,
    body       text NOT NULL
);
INSERT INTO cases (created_at, grid, category, state, body)
SELECT now() - g * interval '1 minute', '1501' || lpad((g % 12010)::text, 11, '0'), 'C0101', 'closed',
       replace('$BODY', ':n', g::text)
FROM generate_series(1, $CASES) g;
CREATE INDEX cases_grid ON cases (grid, created_at);
CREATE INDEX cases_state ON cases (state, created_at);
VACUUM ANALYZE cases;
CHECKPOINT;
SQL
cat >"$BENCH_TMP/insert.sql" <<SQL
\set n random(1, 1000000000)
\set g random(1, 12010)
INSERT INTO cases (grid, category, state, body) VALUES ('1501' || lpad(:g::text, 11, '0'), 'C0101', 'filed', '${BODY%%:n*}' || :n || '${BODY#*:n}');
SQL
echo "PostgreSQL row body: $(printf '%s' "$BODY" | wc -c) bytes of JSON text; table pre-filled with $CASES rows, 3 indexes"

# ---- rounds: cityops (on a fresh copy of the demo), then PostgreSQL (its table keeps
# growing by N a round), alternately
CO_RATES=() PG_RATES=() CO_BEST=0 PG_BEST=0 CO_LAT="" PG_LAT="" CO_CPUS=() PG_CPUS=()
CO_STEALS=() PG_STEALS=()
TCK=$(getconf CLK_TCK)
SERVE_PID=""
stop_serve() {
    [ -n "$SERVE_PID" ] || return 0
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
    SERVE_PID=""
}
bench_on_exit stop_serve
# writer_phases METRICS_FILE: the writer's commits and the wall time of a commit's batch by
# phase, from the server's /metrics (its counters cover this round: the server is fresh)
writer_phases() {
    awk '/^cityops_writer_commits_total / { c = $2 } /^cityops_writer_commands_total / { n = $2 }
         /^cityops_writer_seconds_total\{phase="execute"\}/ { e = $2 }
         /^cityops_writer_seconds_total\{phase="commit"\}/ { k = $2 }
         /^cityops_writer_seconds_total\{phase="after"\}/ { a = $2 }
         END { if (c > 0) printf "cityops writer: %d commits, %.1f cases a commit; a batch: execute %.0f µs, commit %.0f µs (log write + flush), after %.0f µs\n", c, n / c, e / c * 1e6, k / c * 1e6, a / c * 1e6 }' "$1"
}
# cpu_us TICKS_SERVER TICKS_CLIENT_SECONDS N: "server S µs + client C µs"
cpu_us() {
    awk -v s="$1" -v c="$2" -v n="$3" -v t="$TCK" \
        'BEGIN { printf "server %.0f µs + client %.0f µs", s / t / n * 1e6, c / n * 1e6 }'
}
for ((r = 1; r <= ROUNDS; r++)); do
    # cityops: `cityops serve` on a fresh copy, then `cityops bench intake --url` against it
    # (the bench would start the same server itself; starting it here lets the script read
    # the server's CPU time, and keeps its log)
    rm -rf "$BENCH_TMP/demo"
    cp -a "$BENCH_TMP/demo0" "$BENCH_TMP/demo"
    sync
    port=$(bench_free_port)
    "$CITYOPS" serve --data "$BENCH_TMP/demo" --listen "127.0.0.1:$port" 2>"$BENCH_TMP/serve.log" &
    SERVE_PID=$!
    for ((i = 0; i < 600; i++)); do bench_http_ok "$port" /api/v1/health && break; sleep 0.2; done
    bench_http_ok "$port" /api/v1/health || { tail "$BENCH_TMP/serve.log" >&2; bench_die "cityops serve did not come up"; }
    sleep 1
    bench_log "round $r/$ROUNDS: cityops bench intake --clients $CLIENTS --count $COUNT (load $(cut -d' ' -f1 /proc/loadavg))"
    t0=$(bench_cpu_ticks "$SERVE_PID")
    /usr/bin/time -f '%U %S' -o "$BENCH_TMP/client.time" \
        "$CITYOPS" bench intake --data "$BENCH_TMP/demo" --url "http://127.0.0.1:$port" \
        --clients "$CLIENTS" --count "$COUNT" | tee "$BENCH_TMP/intake.out" || {
        grep -v 'status=201' "$BENCH_TMP/serve.log" | tail -5 >&2
        bench_die "cityops bench intake failed (every answer other than 201 counts as a failure)"
    }
    t1=$(bench_cpu_ticks "$SERVE_PID")
    bench_http_get "$port" /metrics >"$BENCH_TMP/metrics.txt" && writer_phases "$BENCH_TMP/metrics.txt"
    stop_serve
    cpu=$(cpu_us $((t1 - t0)) "$(awk '{ print $1 + $2 }' "$BENCH_TMP/client.time")" "$COUNT")
    echo "cityops CPU per case: $cpu"
    rate=$(sed -n 's/.* = \([0-9]*\) cases\/s.*/\1/p' "$BENCH_TMP/intake.out")
    [ -n "$rate" ] || bench_die "no rate in the cityops output"
    CO_STEALS+=("$(sed -n 's/.*, steal \([0-9.]*\) %.*/\1/p' "$BENCH_TMP/intake.out")")
    CO_RATES+=("$rate")
    CO_CPUS+=("$cpu")
    if [ "$rate" -gt "$CO_BEST" ]; then
        CO_BEST=$rate
        CO_LAT=$(sed -n 's/.*latency \(p50 [0-9.]* ms, p99 [0-9.]* ms\).*/\1/p' "$BENCH_TMP/intake.out")
    fi

    # PostgreSQL: pgbench
    sync
    bench_log "round $r/$ROUNDS: pgbench -n -M prepared -c $CLIENTS -j 1 -t $PER_CLIENT (= $PG_COUNT INSERT transactions) (load $(cut -d' ' -f1 /proc/loadavg))"
    rm -f "$BENCH_TMP"/pgb.*
    before=$("${PSQL[@]}" -Atc "SELECT count(*) FROM cases")
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    t0=$(bench_cpu_ticks "$pm")
    mark=$(bench_cpu_mark)
    (cd "$BENCH_TMP" && /usr/bin/time -f '%U %S' -o client.time \
        pgbench -n -M prepared -c "$CLIENTS" -j 1 -t "$PER_CLIENT" -l --log-prefix=pgb -f insert.sql) \
        >"$BENCH_TMP/pgbench.out" 2>&1 || { cat "$BENCH_TMP/pgbench.out" >&2; bench_die "pgbench failed"; }
    t1=$(bench_cpu_ticks "$pm")
    machine=$(bench_cpu_share "$mark")
    cpu=$(cpu_us $((t1 - t0)) "$(awk '{ print $1 + $2 }' "$BENCH_TMP/client.time")" "$PG_COUNT")
    added=$(("$("${PSQL[@]}" -Atc "SELECT count(*) FROM cases")" - before))
    rate=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$BENCH_TMP/pgbench.out" |
        awk '{ printf "%.0f", $1 }')
    [ -n "$rate" ] || bench_die "no tps in the pgbench output"
    [ "$added" -eq "$PG_COUNT" ] || bench_die "pgbench added $added rows, expected $PG_COUNT"
    # per-transaction log: client_id transaction_no time(us) script_no time_epoch time_us
    lat=$(cat "$BENCH_TMP"/pgb.* | awk '{ print $3 / 1000 }' | sort -g |
        awk '{ v[NR] = $1 } END { printf "p50 %.2f ms, p99 %.2f ms", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
    echo "pgbench: $added rows committed with $CLIENTS clients, $rate tx/s, latency $lat;" \
        "$(grep -o 'number of failed transactions: [0-9]*' "$BENCH_TMP/pgbench.out")"
    echo "PostgreSQL CPU per transaction: $cpu"
    echo "pgbench: the machine during the run: $machine (/proc/stat)"
    PG_STEALS+=("$(sed -n 's/.*, steal \([0-9.]*\) %.*/\1/p' <<<"$machine")")
    PG_RATES+=("$rate")
    PG_CPUS+=("$cpu")
    if [ "$rate" -gt "$PG_BEST" ]; then PG_BEST=$rate PG_LAT=$lat; fi
done
pg_stop
CO_RATE=$CO_BEST PG_RATE=$PG_BEST

# ---- the HTTP ceiling: nginx answering every request with a canned reply (login, health,
# and a 201 with a body the size of cityops' reply to an intake), the same client, the same
# count: what the HTTP exchange alone costs on this machine, with nothing parsed or stored
NGX="$BENCH_TMP/nginx"
mkdir -p "$NGX"
chmod 755 "$NGX"
REPLY=$(printf '{"id":1,"number":"2026112600001","pad":"%s"}' "$(head -c 900 /dev/zero | tr '\0' x)")
ngx_port=$(bench_free_port)
cat >"$NGX/nginx.conf" <<NGINX
worker_processes 2;
pid $NGX/nginx.pid;
events { worker_connections 1024; }
http {
    access_log $NGX/access.log;
    client_body_temp_path $NGX/body;
    proxy_temp_path $NGX/proxy;
    fastcgi_temp_path $NGX/fastcgi;
    uwsgi_temp_path $NGX/uwsgi;
    scgi_temp_path $NGX/scgi;
    keepalive_requests 100000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$ngx_port;
        location = /api/v1/health { return 200 '{"status":"ok"}'; }
        location = /api/v1/login { return 200 '{"token":"$(head -c 64 /dev/zero | tr '\0' a)"}'; }
        location = /api/v1/cases { return 201 '$REPLY'; }
    }
}
NGINX
/usr/sbin/nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;' >"$NGX/out" 2>&1 &
NGX_PID=$!
bench_on_exit "kill $NGX_PID 2>/dev/null || true"
for ((i = 0; i < 100; i++)); do bench_http_ok "$ngx_port" /api/v1/health && break; sleep 0.1; done
bench_log "the HTTP ceiling: the same client against nginx answering a canned 201 (load $(cut -d' ' -f1 /proc/loadavg))"
"$CITYOPS" bench intake --data "$BENCH_TMP/demo0" --url "http://127.0.0.1:$ngx_port" \
    --clients "$CLIENTS" --count "$COUNT" >"$BENCH_TMP/ngx.out" 2>&1 || { cat "$BENCH_TMP/ngx.out" >&2; bench_die "the nginx run failed"; }
NGX_RATE=$(sed -n 's/.* = \([0-9]*\) cases\/s.*/\1/p' "$BENCH_TMP/ngx.out")
kill "$NGX_PID" 2>/dev/null || true
wait "$NGX_PID" 2>/dev/null || true

RATIO=$(bench_ratio "$CO_RATE" "$PG_RATE")
echo
echo "== intake: durable single-case commits, $CLIENTS clients"
printf '  cityops     bench intake (HTTP POST, 201 after commit) %8s cases/s  (best of %s rounds of %s cases: %s; %s)\n' \
    "$CO_RATE" "$ROUNDS" "$COUNT" "${CO_RATES[*]}" "$CO_LAT"
printf '  PostgreSQL  pgbench single-row INSERT transactions    %8s tx/s     (best of %s rounds of %s rows: %s; %s)\n' \
    "$PG_RATE" "$ROUNDS" "$PG_COUNT" "${PG_RATES[*]}" "$PG_LAT"
echo "  ratio cityops / PostgreSQL (best / best): ${RATIO}x"
printf '  nginx       a canned 201, nothing parsed or stored    %8s req/s    (the HTTP ceiling of this machine with this client; cityops at %sx of it)\n' \
    "$NGX_RATE" "$(bench_ratio "$CO_RATE" "$NGX_RATE")"
co_cpus=$(IFS='|'; echo "${CO_CPUS[*]}") pg_cpus=$(IFS='|'; echo "${PG_CPUS[*]}")
echo "  CPU per committed case, cityops:    ${co_cpus//|/; }"
echo "  CPU per transaction,    PostgreSQL: ${pg_cpus//|/; }"
echo "  steal time in each round (/proc/stat, %): cityops ${CO_STEALS[*]}; PostgreSQL ${PG_STEALS[*]}"
if awk -v a="$CO_RATE" 'BEGIN { exit !(a >= 10000) }'; then
    echo "  target >= 10,000 cases/s: met ($CO_RATE)"
else
    echo "  target >= 10,000 cases/s: NOT MET ($CO_RATE cases/s)"
fi
