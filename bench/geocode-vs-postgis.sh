#!/usr/bin/env bash
# bench/geocode-vs-postgis.sh [--points N] [--data DIR] [--seed S] [--tol DEG]
#
# Point → unit grid: cityops' in-memory grid index against PostGIS, on the same grids and
# the same points, measured in the same run.
#
#  1. `cityops bench geocode --points N --dump FILE` (N default 10,000,000): the single-thread
#     lookup rate over N random points in the bounding box of the gridded area (best of 3
#     runs), and the first min(N, 1,000,000) points with the grid cityops gives each.
#  2. A throw-away PostgreSQL 15 + PostGIS 3 cluster (bench/lib.sh): the grids from
#     `cityops export areas --level grid` (ST_GeomFromGeoJSON, GiST index), the dumped points
#     (geometry column, in dump order), then
#         SELECT count(*) FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)
#     timed with \timing, single worker (max_parallel_workers_per_gather = 0: "per core",
#     like cityops), best of 2 after a warm-up run; and once more with PostgreSQL's default
#     of 2 parallel workers, for information.
#  3. Every point's PostGIS grid is compared with cityops'. A point may legitimately differ
#     only when it lies on a grid boundary: cityops has a tie-break rule (a shared edge belongs
#     to the grid east/north of it), PostGIS has none (ST_Contains is false on the boundary).
#     A differing point must be within --tol degrees (default 2e-9) of the boundary of every
#     grid either side names; anything else is a real mismatch and fails the run (exit 1).
#     Why 2e-9: the dump prints 9 decimals (≤ 0.71e-9° off the point cityops looked up) and
#     cityops snaps vertices and queries to a 2^-32° lattice for this extent (≤ 0.33e-9°):
#     ≤ 1.04e-9°, doubled for margin. 1e-9° is about 0.1 mm.
#
# Target (issue): ≥ 5,000,000 lookups/s per core and ≥ 100× PostGIS.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_init

POINTS=10000000 DATA="" SEED=42 TOL=2e-9
while [ $# -gt 0 ]; do
    case "$1" in
    --points) POINTS=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --tol) TOL=$2; shift 2 ;;
    *) echo "usage: $0 [--points N] [--data DIR] [--seed S] [--tol DEG]" >&2; exit 2 ;;
    esac
done

bench_machine
bench_build
bench_ensure_pkgs postgresql-15 postgresql-15-postgis-3
if [ -z "$DATA" ]; then
    DATA="$BENCH_TMP/demo"
    bench_demo "$DATA" 0
fi

# ---- cityops: 3 runs (the first also dumps), the best counts
CO_RATE=0 CO_RATES=()
for run in 1 2 3; do
    bench_log "cityops bench geocode --points $POINTS (run $run/3, load $(cut -d' ' -f1 /proc/loadavg))"
    dump=()
    [ $run -eq 1 ] && dump=(--dump "$BENCH_TMP/points.csv")
    "$CITYOPS" bench geocode --data "$DATA" --points "$POINTS" --seed "$SEED" "${dump[@]}" |
        tee "$BENCH_TMP/geocode.out"
    rate=$(sed -n 's/.* = \([0-9]*\) lookups\/s.*/\1/p' "$BENCH_TMP/geocode.out")
    [ -n "$rate" ] || bench_die "no rate in the cityops output"
    CO_RATES+=("$rate")
    if [ "$rate" -gt "$CO_RATE" ]; then CO_RATE=$rate; fi
done
GRIDS=$(sed -n 's/^geocode: \([0-9]*\) grids.*/\1/p' "$BENCH_TMP/geocode.out")
NPTS=$(wc -l <"$BENCH_TMP/points.csv")

"$CITYOPS" export areas --data "$DATA" --level grid --out "$BENCH_TMP/grids.geojson"
node -e '
const fs = require("fs");
const fc = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const out = fc.features.map(f => f.properties.code + "\t" + JSON.stringify(f.geometry));
fs.writeFileSync(process.argv[2], out.join("\n") + "\n");
' "$BENCH_TMP/grids.geojson" "$BENCH_TMP/grids.tsv"

# ---- PostGIS
pg_start "shared_buffers = 256MB" "work_mem = 64MB"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
bench_log "loading $(wc -l <"$BENCH_TMP/grids.tsv") grids and $NPTS points into PostGIS"
"${PSQL[@]}" <<SQL
CREATE EXTENSION postgis;
CREATE TABLE grids_raw (code text, gj text);
\copy grids_raw FROM '$BENCH_TMP/grids.tsv'
CREATE TABLE grids AS SELECT code, ST_SetSRID(ST_GeomFromGeoJSON(gj), 4326)::geometry(Geometry, 4326) AS geom FROM grids_raw;
CREATE INDEX grids_geom ON grids USING gist (geom);
CREATE TABLE pts_raw (i int, lon float8, lat float8, cityops text);
\copy pts_raw FROM '$BENCH_TMP/points.csv' WITH (FORMAT csv)
CREATE TABLE pts AS SELECT i, lon, lat, cityops, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) AS geom FROM pts_raw ORDER BY i;
DROP TABLE grids_raw, pts_raw;
VACUUM ANALYZE grids;
VACUUM ANALYZE pts;
SQL
echo "PostGIS $("${PSQL[@]}" -Atc 'SELECT postgis_lib_version()') (GEOS $("${PSQL[@]}" -Atc 'SELECT postgis_geos_version()'))," \
    "$("${PSQL[@]}" -Atc 'SELECT count(*) FROM grids') grids, $("${PSQL[@]}" -Atc 'SELECT count(*) FROM pts') points"

JOIN='SELECT count(*) FROM pts p JOIN grids g ON ST_Contains(g.geom, p.geom)'
echo "plan (single worker):"
"${PSQL[@]}" -Atc "SET max_parallel_workers_per_gather = 0; EXPLAIN $JOIN" | sed 's/^/    /'

# pg_join WORKERS RUNS: prints "ms count" of the best of RUNS timed runs (after a warm-up run)
pg_join() {
    local workers=$1 runs=$2 i
    {
        echo "SET max_parallel_workers_per_gather = $workers;"
        echo "$JOIN;"                     # warm-up (caches, not timed)
        printf '%s\n' '\timing on'
        for ((i = 0; i < runs; i++)); do echo "$JOIN;"; done
    } | "${PSQL[@]}" -At >"$BENCH_TMP/join.out"
    local count ms
    count=$(sed -n '1p' "$BENCH_TMP/join.out")
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$BENCH_TMP/join.out" | sort -g | head -1)
    echo "$ms $count"
}
bench_log "timing the ST_Contains join over $NPTS points (1 worker, warm-up + best of 2)"
OUT=$(pg_join 0 2)
read -r PG_MS PG_HITS <<<"$OUT"
PG_RATE=$(awk -v n="$NPTS" -v ms="$PG_MS" 'BEGIN { printf "%.0f", n / (ms / 1000) }')
bench_log "timing it again with PostgreSQL's default of 2 parallel workers (for information)"
OUT=$(pg_join 2 1)
read -r PGP_MS _ <<<"$OUT"
PGP_RATE=$(awk -v n="$NPTS" -v ms="$PGP_MS" 'BEGIN { printf "%.0f", n / (ms / 1000) }')

# ---- same answers?
bench_log "comparing the answers point by point"
"${PSQL[@]}" <<SQL
SET max_parallel_workers_per_gather = 0;
CREATE TABLE ans AS
  SELECT p.i, p.cityops, array_remove(array_agg(g.code ORDER BY g.code), NULL) AS pg
  FROM pts p LEFT JOIN grids g ON ST_Contains(g.geom, p.geom) GROUP BY p.i, p.cityops;
CREATE TABLE diff AS
  SELECT a.i, a.cityops, a.pg, p.lon, p.lat,
         (SELECT max(ST_Distance(p.geom, ST_Boundary(g.geom))) FROM grids g
           WHERE g.code = a.cityops OR g.code = ANY (a.pg)) AS dist
  FROM ans a JOIN pts p USING (i)
  WHERE NOT (coalesce(cardinality(a.pg), 0) = 0 AND a.cityops IS NULL
             OR cardinality(a.pg) = 1 AND a.pg[1] = a.cityops);
SQL
read -r N_SAME N_DIFF N_EDGE N_REAL N_MULTI MAXD <<<"$("${PSQL[@]}" -AtF' ' -c "
  SELECT (SELECT count(*) FROM ans) - (SELECT count(*) FROM diff),
         count(*), count(*) FILTER (WHERE dist <= $TOL), count(*) FILTER (WHERE dist IS NULL OR dist > $TOL),
         (SELECT count(*) FROM ans WHERE cardinality(pg) > 1),
         coalesce(to_char(max(dist) FILTER (WHERE dist <= $TOL), '9.99EEEE'), '-')
  FROM diff")"
if [ "$N_DIFF" -gt 0 ]; then
    echo "differing points (first 20): i, lon, lat, cityops, PostGIS, distance to boundary (deg):"
    "${PSQL[@]}" -AtF', ' -c "SELECT i, lon, lat, coalesce(cityops,'-'), coalesce(nullif(array_to_string(pg,'+'),''),'-'), dist
                              FROM diff ORDER BY dist DESC NULLS FIRST LIMIT 20" | sed 's/^/    /'
fi
pg_stop

# ---- report
RATIO=$(bench_ratio "$CO_RATE" "$PG_RATE")
echo
echo "== geocode: point -> unit grid, $GRIDS grids"
printf '  cityops  bench geocode      %12s lookups/s  (1 thread, %s random points, best of 3: %s)\n' \
    "$CO_RATE" "$POINTS" "${CO_RATES[*]}"
printf '  PostGIS  ST_Contains + GiST %12s points/s   (1 worker, %s points in %.0f ms, %s inside a grid)\n' \
    "$PG_RATE" "$NPTS" "$PG_MS" "$PG_HITS"
printf '  PostGIS  2 parallel workers %12s points/s   (default plan, for information)\n' "$PGP_RATE"
echo "  ratio cityops / PostGIS (per core): ${RATIO}x"
echo "  answers: $N_SAME of $NPTS points identical; $N_DIFF differ: $N_EDGE on a grid boundary (<= $TOL deg," \
    "the farthest $MAXD deg), $N_REAL real mismatches; points in >1 grid under PostGIS: $N_MULTI"
ok() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
if ok "$CO_RATE" 5000000; then echo "  target >= 5,000,000 lookups/s per core: met ($CO_RATE)"
else echo "  target >= 5,000,000 lookups/s per core: NOT MET ($CO_RATE)"; fi
if ok "$RATIO" 100; then echo "  target >= 100x PostGIS: met (${RATIO}x)"
else echo "  target >= 100x PostGIS: NOT MET (${RATIO}x)"; fi
if [ "$N_REAL" -gt 0 ]; then
    echo "FAIL: $N_REAL points get a different grid from cityops and PostGIS away from any boundary"
    exit 1
fi
