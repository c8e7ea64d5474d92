#!/usr/bin/env bash
# stats-vs-postgres.sh — the eight dashboard queries of `cityops bench stats`
# against PostgreSQL 15 on the same synthetic cases.
#
#   bench/stats-vs-postgres.sh [--cases N] [--seed S] [--runs R] [--bin PATH]
#
# 1. runs `cityops bench stats --dump-csv DIR` (which prints cityops' p50/p99
#    per query and writes DIR/cases.csv and DIR/answers.csv);
# 2. starts a throw-away PostgreSQL 15 cluster on 127.0.0.1 in a temporary
#    directory (bench/lib.sh pg_start; installs postgresql-15 if it is missing),
#    COPYs the cases, builds the indexes a user would add, VACUUM ANALYZE;
# 3. runs the same eight queries R times each (median of the \timing
#    figures), checks that every answer equals cityops' answer (same keys,
#    same integer counts), prints each query's times and the ratio;
# 4. stops the cluster and removes the directory (bench/lib.sh does both on exit).
# Exit status: 0 when every answer agrees, 1 otherwise.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init

CASES=10000000
SEED=1
RUNS=5
BIN="$CITYOPS"
NOW="2026-06-30 18:00:00+08" # BENCH_NOW in src/cli/bench_stats.c

while [ $# -gt 0 ]; do
    case "$1" in
    --cases) CASES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    *) echo "usage: $0 [--cases N] [--seed S] [--runs R] [--bin PATH]" >&2; exit 2 ;;
    esac
done

bench_machine
[ -x "$BIN" ] || bench_build

# ------------------------------------------------------------------ cityops
bench_log "cityops bench stats --cases $CASES --seed $SEED"
DUMP="$BENCH_TMP/dump"
mkdir -p "$DUMP"
"$BIN" bench stats --cases "$CASES" --seed "$SEED" --dump-csv "$DUMP" | tee "$BENCH_TMP/cityops.txt"

# --------------------------------------------------------------- PostgreSQL
pg_start "shared_buffers = '4GB'" "work_mem = '256MB'" "max_wal_size = '8GB'" \
    "timezone = 'Asia/Shanghai'"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

t0=$(date +%s.%N)
"${PSQL[@]}" <<SQL
CREATE UNLOGGED TABLE cases (
    id bigint PRIMARY KEY, created timestamptz NOT NULL,
    district text, street text, community text, grid text, category text,
    dept text, first_dept text, channel text, state text, flags integer,
    dispatched_at timestamptz, disposal_due timestamptz, handled_at timestamptz,
    closed_at timestamptz, close_type text, satisfaction text, rework integer);
\copy cases FROM '$DUMP/cases.csv' WITH (FORMAT csv)
CREATE INDEX cases_created ON cases (created);
CREATE INDEX cases_open_due ON cases (disposal_due) WHERE state IN ('dispatched', 'handling');
VACUUM ANALYZE cases;
SQL
t1=$(date +%s.%N)
bench_log "loaded $("${PSQL[@]}" -Atc 'SELECT count(*) FROM cases') rows into PostgreSQL in \
$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s (COPY + 2 indexes + VACUUM ANALYZE)"

# ------------------------------------------------------------------ queries
# Each query returns the same lines as answers.csv: Qn,key,integers...
# Counts leave out merged duplicates (state 'merged'): a merged case counts once,
# in its master, as cityops' statistics do when no state filter is given.
Q[1]="SELECT 'Q1', district, count(*) FROM cases
      WHERE created >= timestamptz '$NOW' - interval '30 days' AND state <> 'merged'
      GROUP BY district ORDER BY 3 DESC, 2"
Q[2]="SELECT 'Q2', category, count(*) FROM cases WHERE created >= '2026-01-01 00:00+08'
      AND state <> 'merged' GROUP BY category ORDER BY 3 DESC, 2 LIMIT 10"
Q[3]="SELECT 'Q3', dept, count(*) FROM cases
      WHERE state IN ('dispatched', 'handling') AND disposal_due < '$NOW'
      GROUP BY dept ORDER BY 3 DESC, 2"
Q[4]="SELECT 'Q4', to_char(date_trunc('day', created), 'YYYY-MM-DD'), count(*) FROM cases
      WHERE created >= '2026-04-02 00:00+08' AND created < '2026-07-01 00:00+08'
        AND state <> 'merged' GROUP BY 2 ORDER BY 2"
Q[5]="SELECT 'Q5', grid, count(*) FROM cases
      WHERE created >= '2026-05-01 00:00+08' AND created < '2026-06-01 00:00+08'
        AND state <> 'merged' GROUP BY grid ORDER BY 2"
Q[6]="SELECT 'Q6', street, count(*) FILTER (WHERE state = 'closed'),
             count(*) FILTER (WHERE state = 'closed' AND close_type IS DISTINCT FROM 'overdue'
                                AND flags & 16 = 0)
      FROM cases WHERE created >= '2026-01-01 00:00+08' GROUP BY street ORDER BY 2"
Q[7]="SELECT 'Q7', district, count(*) FILTER (WHERE flags & 64 <> 0),
             count(*) FILTER (WHERE flags & 64 <> 0 AND satisfaction = 'satisfied'),
             count(*) FILTER (WHERE flags & 64 <> 0 AND satisfaction = 'basic')
      FROM cases WHERE created >= '2026-01-01 00:00+08' AND created < '2026-04-01 00:00+08'
      GROUP BY district ORDER BY 2"
Q[8]="WITH c AS (
        SELECT dept, rework,
               state = 'closed' AND filed AS closed,
               state = 'closed' AND filed AND close_type IS DISTINCT FROM 'overdue' AND NOT hl AS closed_ontime,
               filed AND state IN ('registered','verifying','filed','dispatched','handling',
                                   'suspended','handled','checking','checked') AND (ov OR hl) AS pending,
               handled, hl, ov, flags
        FROM (SELECT *, handled_at IS NOT NULL AS handled, flags & 16 <> 0 AS hl,
                     coalesce(state IN ('dispatched','handling') AND disposal_due < '$NOW', false) AS ov,
                     state IN ('filed','dispatched','handling','suspended','handled','checking','checked')
                     OR (state = 'closed' AND flags & 16384 = 0) OR dispatched_at IS NOT NULL
                     OR flags & 131072 <> 0 AS filed
              FROM cases
              WHERE created >= '2026-05-01 00:00+08' AND created < '2026-06-01 00:00+08'
                AND dept IS NOT NULL) x)
      SELECT 'Q8', dept,
             count(*) FILTER (WHERE handled OR ov),
             count(*) FILTER (WHERE handled),
             count(*) FILTER (WHERE handled AND NOT hl),
             count(*) FILTER (WHERE ov),
             count(*) FILTER (WHERE (handled OR ov) AND (ov OR flags & 48 <> 0)),
             count(*) FILTER (WHERE (handled OR ov) AND flags & 1024 <> 0),
             count(*) FILTER (WHERE closed OR pending),
             count(*) FILTER (WHERE closed),
             count(*) FILTER (WHERE closed_ontime),
             count(*) FILTER (WHERE (closed OR pending) AND rework > 0)
      FROM c GROUP BY dept ORDER BY 2"

NAMES=("" "count by district, last 30 days" "top 10 categories, this year"
       "overdue open cases by department" "daily series, last 90 days"
       "heat map by grid, one month" "on-time closure rate by street, this year"
       "satisfaction by district, one quarter" "evaluation of departments, one month")

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo
printf "%-46s %12s %12s %9s  %s\n" "query" "cityops p50" "PostgreSQL" "ratio" "answers"
fail=0
for i in 1 2 3 4 5 6 7 8; do
    sql="${Q[$i]}"
    # timing: R runs in one session, results discarded
    { echo '\timing on'; echo '\o /dev/null'; for _ in $(seq "$RUNS"); do echo "$sql;"; done; } |
        "${PSQL[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' >"$BENCH_TMP/t$i"
    pg_ms=$(median <"$BENCH_TMP/t$i")
    # answers
    "${PSQL[@]}" -A -t -F, -c "$sql" | sort >"$BENCH_TMP/pg$i.csv"
    { grep "^Q$i," "$DUMP/answers.csv" || true; } | sort >"$BENCH_TMP/co$i.csv"
    if cmp -s "$BENCH_TMP/pg$i.csv" "$BENCH_TMP/co$i.csv" && [ -s "$BENCH_TMP/co$i.csv" ]; then
        ok="agree ($(wc -l <"$BENCH_TMP/co$i.csv") rows)"
    else
        ok="DIFFER"
        fail=1
        diff "$BENCH_TMP/co$i.csv" "$BENCH_TMP/pg$i.csv" | head -5 >&2 || true
    fi
    co_ms=$(awk -v q="Q$i " 'index($0, q) == 1 {print $(NF-1)}' "$BENCH_TMP/cityops.txt")
    ratio=$(bench_ratio "$pg_ms" "$co_ms")
    printf "Q%d %-43s %9.2f ms %9.1f ms %8sx  %s\n" "$i" "${NAMES[$i]}" "$co_ms" "$pg_ms" "$ratio" "$ok"
done
exit $fail
