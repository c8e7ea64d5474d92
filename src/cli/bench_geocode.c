/* bench_geocode.c — `cityops bench geocode --data DIR [--points N]`:
 * single-thread point → unit grid lookups per second over random points in
 * the bounding box of the city's gridded area, through the same locator the
 * server uses. With --dump FILE it also writes the points and the grid each
 * got (for bench/geocode-vs-postgis.sh to compare against PostGIS). */
#include <stdio.h>
#include <string.h>

#include "cli/bench.h"
#include "geo/area.h"
#include "geo/locator.h"
#include "lib/alloc.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "store/store.h"

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(rng(s) >> 11) / 9007199254740992.0;
}

typedef struct opts {
    const char *dir, *dump;
    int64_t points, seed;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){NULL, NULL, 10000000, 42};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data"))
            o->dir = argv[i + 1];
        else if (!strcmp(argv[i], "--dump"))
            o->dump = argv[i + 1];
        else if (!strcmp(argv[i], "--points")) {
            if (co_parse_i64(argv[i + 1], 1, 1000000000, &o->points))
                return -1;
        } else if (!strcmp(argv[i], "--seed")) {
            if (co_parse_i64(argv[i + 1], 0, INT64_MAX, &o->seed))
                return -1;
        } else
            return -1;
    }
    return o->dir ? 0 : -1;
}

static void grid_bbox(const co_areas *as, double bb[4])
{
    bb[0] = bb[1] = 1e9;
    bb[2] = bb[3] = -1e9;
    for (size_t i = 0; i < co_areas_count(as); i++) {
        const co_area *a = co_areas_at(as, (int32_t)i);
        if (a->level != CO_LEVEL_GRID)
            continue;
        bb[0] = a->minx < bb[0] ? a->minx : bb[0];
        bb[1] = a->miny < bb[1] ? a->miny : bb[1];
        bb[2] = a->maxx > bb[2] ? a->maxx : bb[2];
        bb[3] = a->maxy > bb[3] ? a->maxy : bb[3];
    }
}

static int dump_points(const char *path, const co_areas *as, const co_locator *loc,
                       const double *xy, int64_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        int32_t g = co_locator_grid(loc, xy[2 * i], xy[2 * i + 1]);
        const co_area *a = co_areas_at(as, g);
        fprintf(f, "%lld,%.9f,%.9f,%s\n", (long long)i, xy[2 * i], xy[2 * i + 1], a ? a->code : "");
    }
    return fclose(f) == 0 ? 0 : -1;
}

int co_bench_geocode(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: cityops bench geocode --data DIR [--points N] [--seed S] [--dump FILE]\n");
        return 2;
    }
    co_store *st = NULL;
    co_areas *as = NULL;
    co_locator *loc = NULL;
    int rc = 1;
    if (co_store_open(o.dir, &st) || co_areas_load(st, &as))
        goto out;
    double t0 = co_time_mono();
    if (co_locator_build(st, as, &loc))
        goto out;
    double build_s = co_time_mono() - t0;
    double bb[4];
    grid_bbox(as, bb);
    double *xy = co_xmalloc((size_t)o.points * 2 * sizeof *xy);
    uint64_t s = (uint64_t)o.seed;
    for (int64_t i = 0; i < o.points; i++) {
        xy[2 * i] = bb[0] + unit(&s) * (bb[2] - bb[0]);
        xy[2 * i + 1] = bb[1] + unit(&s) * (bb[3] - bb[1]);
    }
    int64_t hits = 0;
    t0 = co_time_mono();
    for (int64_t i = 0; i < o.points; i++)
        hits += co_locator_grid(loc, xy[2 * i], xy[2 * i + 1]) >= 0;
    double secs = co_time_mono() - t0;
    printf("geocode: %zu grids, index %zu bytes built in %.2f s\n", co_locator_grids(loc),
           co_locator_memory(loc), build_s);
    printf("geocode: %lld lookups in %.3f s = %.0f lookups/s (single thread), %lld inside a grid\n",
           (long long)o.points, secs, (double)o.points / secs, (long long)hits);
    rc = o.dump ? dump_points(o.dump, as, loc, xy, o.points < 1000000 ? o.points : 1000000) : 0;
    co_free(xy);
out:
    co_locator_free(loc);
    co_areas_free(as);
    co_store_close(st);
    return rc ? 1 : 0;
}
