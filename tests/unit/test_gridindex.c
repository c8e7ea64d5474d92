/* test_gridindex.c — unit tests for geo/gridindex.
 * Hand-made cases (3x3 lattice with shared edges/vertices, holes,
 * multipolygons, nearest, empty and invalid input) and a randomized check:
 * a jittered lattice tiling (bent shared edges, T-junctions, holes, filled
 * holes, two-part polygons) inside a diamond "frame" polygon with long edges,
 * queried at random points, vertices and points on edges, must agree exactly
 * with a brute-force crossing-number test in exact integer arithmetic. All
 * coordinates of that test are multiples of 2^-34 degrees (odd multiples
 * too, so vertices land on every row and column of the cells), which the
 * index's lattice represents exactly, so "exactly" is meaningful. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "geo/gridindex.h"
#include "lib/alloc.h"
#include "xorshift.h"

#define DEG2RAD (3.14159265358979323846 / 180.0)

static const unsigned cell_divs[] = {1, 2, 4, 8, 16};
#define NDIVS (sizeof cell_divs / sizeof cell_divs[0])

/* ---- a small store of polygons for tests ---- */

typedef struct tset {
    double *xy;
    size_t nxy, xycap;
    struct { size_t off, n; } *r;
    size_t nr, rcap;
    struct { size_t r0, nr; } *p;
    size_t np, pcap;
    struct { uint32_t id; size_t p0, np; } *g;
    size_t ng, gcap;
    co_ring *rings;
    co_gridindex_part *parts;
    co_gridindex_poly *polys;
} tset;

static void ts_poly(tset *t, uint32_t id)
{
    t->g = co_xgrow(t->g, &t->gcap, t->ng + 1, sizeof *t->g);
    t->g[t->ng].id = id;
    t->g[t->ng].p0 = t->np;
    t->g[t->ng++].np = 0;
}

static void ts_part(tset *t)
{
    t->p = co_xgrow(t->p, &t->pcap, t->np + 1, sizeof *t->p);
    t->p[t->np].r0 = t->nr;
    t->p[t->np++].nr = 0;
    t->g[t->ng - 1].np++;
}

static void ts_ring(tset *t)
{
    t->r = co_xgrow(t->r, &t->rcap, t->nr + 1, sizeof *t->r);
    t->r[t->nr].off = t->nxy;
    t->r[t->nr++].n = 0;
    t->p[t->np - 1].nr++;
}

static void ts_pt(tset *t, double x, double y)
{
    t->xy = co_xgrow(t->xy, &t->xycap, t->nxy + 2, sizeof *t->xy);
    t->xy[t->nxy++] = x;
    t->xy[t->nxy++] = y;
    t->r[t->nr - 1].n++;
}

static void ts_close(tset *t)
{
    size_t off = t->r[t->nr - 1].off;
    ts_pt(t, t->xy[off], t->xy[off + 1]);
}

static void ts_rect(tset *t, double x0, double y0, double x1, double y1)
{
    ts_ring(t);
    ts_pt(t, x0, y0);
    ts_pt(t, x1, y0);
    ts_pt(t, x1, y1);
    ts_pt(t, x0, y1);
    ts_close(t);
}

static void ts_finish(tset *t)
{
    t->rings = co_xcalloc(t->nr + 1, sizeof *t->rings);
    t->parts = co_xcalloc(t->np + 1, sizeof *t->parts);
    t->polys = co_xcalloc(t->ng + 1, sizeof *t->polys);
    for (size_t i = 0; i < t->nr; i++)
        t->rings[i] = (co_ring){t->xy + t->r[i].off, t->r[i].n};
    for (size_t i = 0; i < t->np; i++)
        t->parts[i] = (co_gridindex_part){t->rings + t->p[i].r0, t->p[i].nr};
    for (size_t i = 0; i < t->ng; i++)
        t->polys[i] = (co_gridindex_poly){t->g[i].id, t->parts + t->g[i].p0, t->g[i].np};
}

static void ts_free(tset *t)
{
    co_free(t->xy);
    co_free(t->r);
    co_free(t->p);
    co_free(t->g);
    co_free(t->rings);
    co_free(t->parts);
    co_free(t->polys);
}

static co_gridindex *build(const tset *t, unsigned div)
{
    co_gridindex *ix = NULL;
    co_gridindex_opts o = {.cell_div = div};
    size_t bad = 12345;
    assert_int_equal(co_gridindex_build(t->polys, t->ng, &o, &ix, &bad), CO_OK);
    assert_non_null(ix);
    assert_int_equal(bad, 12345);
    return ix;
}

/* ---- 3x3 lattice ---- */

static double LX[4], LY[4];

static void make_lattice(tset *t)
{
    for (int i = 0; i < 4; i++) {
        LX[i] = 111.0 + 0.01 * i;
        LY[i] = 40.0 + 0.01 * i;
    }
    for (int j = 0; j < 3; j++) {
        for (int i = 0; i < 3; i++) {
            ts_poly(t, (uint32_t)(100 + 3 * j + i));
            ts_part(t);
            ts_rect(t, LX[i], LY[j], LX[i + 1], LY[j + 1]);
        }
    }
    ts_finish(t);
}

/* The east-north rule on the lattice: the cell whose half-open box
 * [X_i, X_i+1) x [Y_j, Y_j+1) holds the point. */
static int64_t lattice_expect(double x, double y)
{
    if (x < LX[0] || x >= LX[3] || y < LY[0] || y >= LY[3])
        return -1;
    int i = (x >= LX[1]) + (x >= LX[2]), j = (y >= LY[1]) + (y >= LY[2]);
    return 100 + 3 * j + i;
}

static size_t axis_samples(const double *L, double *out)
{
    size_t n = 0;
    double d = L[1] - L[0];
    out[n++] = L[0] - d / 5;
    out[n++] = L[3] + d / 5;
    for (int i = 0; i < 4; i++)
        out[n++] = L[i];
    for (int i = 0; i < 3; i++)
        for (int k = 1; k < 7; k += 2)
            out[n++] = L[i] + (L[i + 1] - L[i]) * k / 7.0;
    return n;
}

static void test_lattice_shared_edges(void **state)
{
    (void)state;
    tset t = {0};
    make_lattice(&t);
    double xs[16], ys[16];
    size_t nx = axis_samples(LX, xs), ny = axis_samples(LY, ys);
    for (size_t d = 0; d < NDIVS; d++) {
        co_gridindex *ix = build(&t, cell_divs[d]);
        for (size_t a = 0; a < nx; a++) {
            for (size_t b = 0; b < ny; b++) {
                int64_t want = lattice_expect(xs[a], ys[b]);
                assert_int_equal(co_gridindex_lookup(ix, xs[a], ys[b]), want);
                assert_int_equal(co_gridindex_lookup(ix, xs[a], ys[b]), want);
            }
        }
        /* the named cases */
        assert_int_equal(co_gridindex_lookup(ix, LX[1], LY[0] + 0.005), 101); /* N-S edge: east */
        assert_int_equal(co_gridindex_lookup(ix, LX[0] + 0.005, LY[1]), 103); /* E-W edge: north */
        assert_int_equal(co_gridindex_lookup(ix, LX[1], LY[1]), 104);         /* vertex: north-east */
        assert_int_equal(co_gridindex_lookup(ix, LX[2], LY[2]), 108);
        assert_int_equal(co_gridindex_lookup(ix, LX[0], LY[0]), 100);
        assert_int_equal(co_gridindex_lookup(ix, LX[3], LY[1] + 0.005), -1); /* east rim */
        assert_int_equal(co_gridindex_lookup(ix, LX[1] + 0.005, LY[3]), -1); /* north rim */
        assert_int_equal(co_gridindex_lookup(ix, NAN, 40.01), -1);
        assert_int_equal(co_gridindex_lookup(ix, 111.01, INFINITY), -1);
        assert_int_equal(co_gridindex_count(ix), 9);
        assert_true(co_gridindex_memory(ix) > 0);
        co_gridindex_free(ix);
    }
    ts_free(&t);
}

static void test_hole(void **state)
{
    (void)state;
    for (int filled = 0; filled < 2; filled++) {
        tset t = {0};
        ts_poly(&t, 1);
        ts_part(&t);
        ts_rect(&t, 111.0, 40.0, 111.03, 40.03);
        ts_rect(&t, 111.01, 40.01, 111.02, 40.02); /* hole */
        if (filled) {
            ts_poly(&t, 2);
            ts_part(&t);
            ts_rect(&t, 111.01, 40.01, 111.02, 40.02);
        }
        ts_finish(&t);
        int64_t hole = filled ? 2 : -1;
        for (size_t d = 0; d < NDIVS; d++) {
            co_gridindex *ix = build(&t, cell_divs[d]);
            assert_int_equal(co_gridindex_lookup(ix, 111.015, 40.015), hole);
            assert_int_equal(co_gridindex_lookup(ix, 111.005, 40.015), 1);
            assert_int_equal(co_gridindex_lookup(ix, 111.025, 40.025), 1);
            assert_int_equal(co_gridindex_lookup(ix, 111.01, 40.015), hole); /* west side of hole */
            assert_int_equal(co_gridindex_lookup(ix, 111.02, 40.015), 1);    /* east side */
            assert_int_equal(co_gridindex_lookup(ix, 111.015, 40.01), hole); /* south side */
            assert_int_equal(co_gridindex_lookup(ix, 111.015, 40.02), 1);    /* north side */
            co_gridindex_free(ix);
        }
        ts_free(&t);
    }
}

static void test_multipolygon(void **state)
{
    (void)state;
    tset t = {0};
    ts_poly(&t, 7);
    ts_part(&t);
    ts_rect(&t, 111.0, 40.0, 111.01, 40.01);
    ts_part(&t);
    ts_rect(&t, 111.05, 40.0, 111.06, 40.01);
    ts_rect(&t, 111.052, 40.002, 111.058, 40.008); /* a lake */
    ts_part(&t);
    ts_rect(&t, 111.054, 40.004, 111.056, 40.006); /* an island in it */
    ts_poly(&t, 8);
    ts_part(&t);
    ts_rect(&t, 111.02, 40.0, 111.03, 40.01);
    ts_finish(&t);
    for (size_t d = 0; d < NDIVS; d++) {
        co_gridindex *ix = build(&t, cell_divs[d]);
        assert_int_equal(co_gridindex_lookup(ix, 111.005, 40.005), 7);
        assert_int_equal(co_gridindex_lookup(ix, 111.051, 40.005), 7);
        assert_int_equal(co_gridindex_lookup(ix, 111.053, 40.005), -1); /* lake */
        assert_int_equal(co_gridindex_lookup(ix, 111.055, 40.005), 7);  /* island */
        assert_int_equal(co_gridindex_lookup(ix, 111.025, 40.005), 8);
        assert_int_equal(co_gridindex_lookup(ix, 111.015, 40.005), -1);
        assert_int_equal(co_gridindex_lookup(ix, 111.04, 40.005), -1);
        co_gridindex_free(ix);
    }
    ts_free(&t);
}

static void test_overlap_first_wins(void **state)
{
    (void)state;
    tset t = {0};
    ts_poly(&t, 1);
    ts_part(&t);
    ts_rect(&t, 111.0, 40.0, 111.02, 40.02);
    ts_poly(&t, 2);
    ts_part(&t);
    ts_rect(&t, 111.01, 40.01, 111.03, 40.03);
    ts_poly(&t, 3); /* wholly inside 1 */
    ts_part(&t);
    ts_rect(&t, 111.001, 40.001, 111.009, 40.009);
    ts_finish(&t);
    for (size_t d = 0; d < NDIVS; d++) {
        co_gridindex *ix = build(&t, cell_divs[d]);
        assert_int_equal(co_gridindex_lookup(ix, 111.015, 40.015), 1);
        assert_int_equal(co_gridindex_lookup(ix, 111.025, 40.025), 2);
        assert_int_equal(co_gridindex_lookup(ix, 111.005, 40.005), 1);
        co_gridindex_free(ix);
    }
    ts_free(&t);
}

static double haversine_m(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 6371008.8;
    double dlat = (lat2 - lat1) * DEG2RAD, dlon = (lon2 - lon1) * DEG2RAD;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * DEG2RAD) * cos(lat2 * DEG2RAD) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a));
}

static void test_nearest(void **state)
{
    (void)state;
    tset t = {0};
    make_lattice(&t);
    co_gridindex *ix = build(&t, 0);
    uint32_t id = 0;
    double dist = -1;
    double lat = 40.015, lon = LX[0] - 50.0 / (111320.0 * cos(lat * DEG2RAD));
    double want = haversine_m(lon, lat, LX[0], lat);
    assert_int_equal(co_gridindex_nearest(ix, lon, lat, 60, &id, &dist), CO_OK);
    assert_int_equal(id, 103);
    assert_true(fabs(dist - want) < 0.005 * want);
    id = 0;
    assert_int_equal(co_gridindex_nearest(ix, lon, lat, want * 0.9, &id, &dist), CO_ENOTFOUND);
    assert_int_equal(id, 0);
    /* north-east of the lattice: the corner vertex of 108 */
    double plon = LX[3] + 0.0004, plat = LY[3] + 0.0003;
    want = haversine_m(plon, plat, LX[3], LY[3]);
    assert_int_equal(co_gridindex_nearest(ix, plon, plat, 1000, &id, &dist), CO_OK);
    assert_int_equal(id, 108);
    assert_true(fabs(dist - want) < 0.005 * want);
    /* north of the top of the edge shared by 106 and 107: a tie, the
     * earlier polygon wins */
    assert_int_equal(co_gridindex_nearest(ix, LX[1], LY[3] + 0.0002, 100, &id, &dist), CO_OK);
    assert_int_equal(id, 106);
    assert_int_equal(co_gridindex_nearest(ix, LX[2], LY[3] + 0.0002, 100, &id, &dist), CO_OK);
    assert_int_equal(id, 107);
    /* inside */
    assert_int_equal(co_gridindex_nearest(ix, 111.015, 40.025, 0, &id, &dist), CO_OK);
    assert_int_equal(id, 107);
    assert_true(dist == 0);
    /* far away, unlimited range: the south-west corner of 100 */
    want = haversine_m(110.9, 39.9, LX[0], LY[0]);
    assert_int_equal(co_gridindex_nearest(ix, 110.9, 39.9, INFINITY, &id, &dist), CO_OK);
    assert_int_equal(id, 100);
    assert_true(fabs(dist - want) < 0.01 * want);
    assert_int_equal(co_gridindex_nearest(ix, 110.9, 39.9, 1000, &id, &dist), CO_ENOTFOUND);
    /* bad arguments */
    assert_int_equal(co_gridindex_nearest(ix, 111, 40, NAN, &id, &dist), CO_EINVAL);
    assert_int_equal(co_gridindex_nearest(ix, 111, 40, -1, &id, &dist), CO_EINVAL);
    assert_int_equal(co_gridindex_nearest(ix, 181, 40, 10, &id, &dist), CO_EINVAL);
    assert_int_equal(co_gridindex_nearest(ix, 111, NAN, 10, &id, &dist), CO_EINVAL);
    co_gridindex_free(ix);
    ts_free(&t);
}

/* A long, nearly north-south edge that stays between the last lattice
 * column of one cell and the first column of the next: the nearest search
 * must still see it from a point a few cells west of its middle. */
static void gap_strip_set(tset *t, double xg, double w, double h)
{
    for (int i = 0; i < 3; i++) { /* small squares: the origin, median size */
        ts_poly(t, (uint32_t)(10 + i));
        ts_part(t);
        ts_rect(t, 111.0 + 2 * i * w, 40.0, 111.0 + (2 * i + 1) * w, 40.0 + w);
    }
    ts_poly(t, 2);
    ts_part(t);
    ts_ring(t);
    ts_pt(t, xg, 40.0);
    ts_pt(t, xg + w, 40.0);
    ts_pt(t, xg + w, 40.0 + h);
    ts_pt(t, xg, 40.0 + h); /* replaced below */
    ts_close(t);
    ts_finish(t);
}

static void test_nearest_gap_strip(void **state)
{
    (void)state;
    const double w = 0x1p-10, h = 0x1p-6;
    tset t0 = {0};
    gap_strip_set(&t0, 111.0 + 10 * w, w, h);
    co_gridindex *ix = build(&t0, 0);
    co_gridindex_stats st0, st;
    co_gridindex_get_stats(ix, &st0);
    co_gridindex_free(ix);
    ts_free(&t0);
    /* the west edge runs from the last column of cell k - 1 (bottom) to the
     * first column of cell k (top) */
    double k = round(10 * w / st0.cell_w_deg), xg = 111.0 + k * st0.cell_w_deg - st0.step_deg;
    tset t = {0};
    gap_strip_set(&t, xg, w, h);
    t.xy[t.r[3].off + 6] = xg + st0.step_deg; /* top vertex of the west edge */
    ix = build(&t, 0);
    co_gridindex_get_stats(ix, &st);
    assert_true(st.cell_w_deg == st0.cell_w_deg && st.step_deg == st0.step_deg);
    assert_true(st.cell_w_deg < w / 2 && st.cell_h_deg < w / 2);
    double lat = 40.0 + h / 2, lon = xg - 2 * st.cell_w_deg;
    double want = haversine_m(lon, lat, xg, lat);
    uint32_t id = 0;
    double dist = -1;
    assert_int_equal(co_gridindex_nearest(ix, lon, lat, INFINITY, &id, &dist), CO_OK);
    assert_int_equal(id, 2);
    assert_true(fabs(dist - want) < 0.005 * want);
    co_gridindex_free(ix);
    ts_free(&t);
}

static void test_empty(void **state)
{
    (void)state;
    co_gridindex *ix = NULL;
    assert_int_equal(co_gridindex_build(NULL, 0, NULL, &ix, NULL), CO_OK);
    assert_non_null(ix);
    assert_int_equal(co_gridindex_lookup(ix, 111.0, 40.0), -1);
    assert_int_equal(co_gridindex_lookup(ix, 0.0, 0.0), -1);
    uint32_t id;
    double dist;
    assert_int_equal(co_gridindex_nearest(ix, 0.0, 0.0, INFINITY, &id, &dist), CO_ENOTFOUND);
    assert_int_equal(co_gridindex_count(ix), 0);
    co_gridindex_stats st;
    co_gridindex_get_stats(ix, &st);
    assert_int_equal(st.polygons, 0);
    assert_int_equal(st.bytes, co_gridindex_memory(ix));
    co_gridindex_free(ix);
    co_gridindex_free(NULL);
}

static void expect_bad(const co_gridindex_poly *polys, size_t n, size_t want_bad)
{
    co_gridindex *ix = (co_gridindex *)&ix; /* must be reset to NULL */
    size_t bad = 999;
    assert_int_equal(co_gridindex_build(polys, n, NULL, &ix, &bad), CO_EINVAL);
    assert_null(ix);
    assert_int_equal(bad, want_bad);
}

static void test_invalid_input(void **state)
{
    (void)state;
    const double ok[] = {111, 40, 111.01, 40, 111.01, 40.01, 111, 40.01, 111, 40};
    const double three[] = {111, 40, 111.01, 40, 111, 40};
    const double open[] = {111, 40, 111.01, 40, 111.01, 40.01, 111, 40.01};
    const double nan_pt[] = {111, 40, NAN, 40, 111.01, 40.01, 111, 40};
    const double inf_pt[] = {111, 40, 111.01, INFINITY, 111.01, 40.01, 111, 40};
    const double range[] = {111, 40, 111.01, 91, 111.01, 40.01, 111, 40};
    const co_ring rings[] = {{ok, 5}, {three, 3}, {open, 4}, {nan_pt, 4}, {inf_pt, 4}, {range, 4}, {NULL, 5}};
    for (size_t r = 1; r < sizeof rings / sizeof rings[0]; r++) {
        co_gridindex_part parts[2] = {{&rings[0], 1}, {&rings[r], 1}};
        co_gridindex_poly polys[2] = {{1, &parts[0], 1}, {2, &parts[1], 1}};
        expect_bad(polys, 2, 1);
        /* as a hole of an otherwise fine polygon */
        const co_ring two[2] = {rings[0], rings[r]};
        co_gridindex_part hp = {two, 2};
        co_gridindex_poly hpoly = {3, &hp, 1};
        expect_bad(&hpoly, 1, 0);
    }
    co_gridindex_part noring = {&rings[0], 0}, nullrings = {NULL, 1};
    co_gridindex_poly p1 = {1, &noring, 1}, p2 = {1, &nullrings, 1}, p3 = {1, NULL, 1};
    co_gridindex_part good = {&rings[0], 1};
    co_gridindex_poly p4 = {1, &good, 0};
    expect_bad(&p1, 1, 0);
    expect_bad(&p2, 1, 0);
    expect_bad(&p3, 1, 0);
    expect_bad(&p4, 1, 0);
    co_gridindex *ix = NULL;
    co_gridindex_opts big = {.cell_div = 65};
    co_gridindex_poly fine = {1, &good, 1};
    assert_int_equal(co_gridindex_build(&fine, 1, &big, &ix, NULL), CO_EINVAL);
    assert_int_equal(co_gridindex_build(NULL, 3, NULL, &ix, NULL), CO_EINVAL);
    assert_int_equal(co_gridindex_build(&fine, 1, NULL, NULL, NULL), CO_EINVAL);
    assert_int_equal(co_gridindex_build(&fine, 1, NULL, &ix, NULL), CO_OK);
    assert_int_equal(co_gridindex_lookup(ix, 111.005, 40.005), 1);
    co_gridindex_free(ix);
}

/* ---- randomized tiling vs exact brute force ---- */

#define TN 24                    /* lattice cells per side */
#define TS (1.0 / 1024)          /* lattice spacing, degrees */
#define TJ 0x1p-34               /* jitter unit = coordinate resolution */
#define TJMAX (200 << 14)        /* jitter up to ~20 % of the spacing */
#define TX0 111.5
#define TY0 40.5

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    return (uint32_t)(xorshift64(&rng_state) >> 16);
}

static int rnd_range(int lo, int hi) /* inclusive */
{
    return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

typedef struct tiling {
    double vx[TN + 1][TN + 1], vy[TN + 1][TN + 1];
    /* extra point on the edge east of (i,j) (h) / north of (i,j) (v);
     * kind 0 none, 1 bend shared by both sides, 2 T-junction on one side */
    int hk[TN][TN + 1], vk[TN + 1][TN];
    double hx[TN][TN + 1], hy[TN][TN + 1], qx[TN + 1][TN], qy[TN + 1][TN];
} tiling;

/* With probability 1/3, moves v next to a multiple of 2^g steps from o,
 * g in 20..25 (-2..+2 steps), unless that is further than the jitter. Cell
 * sides are powers of two of at most 2^25 steps here (asserted in the test)
 * and cell corners are multiples of them from o, so this puts vertices on
 * the first, second, last and next-to-last rows and columns of cells, where
 * the boundary-cell rules have their edge cases. */
static double maybe_align(double v, double o)
{
    if (rnd_range(0, 2) != 0)
        return v;
    double g = ldexp(1.0, rnd_range(20, 25));
    double u = ldexp(v - o, 34), m = round(u / g) * g;
    if (fabs(m - u) > TJMAX)
        return v;
    return o + ldexp(m + rnd_range(-2, 2), -34);
}

/* Picks the extra point of an edge: none, a bend off the line (shared by
 * both sides) or, when the exact midpoint is on the 2^-34 lattice, a
 * T-junction there. Returns the kind. */
static int extra_point(double ax, double ay, double bx, double by, int vertical, double *x, double *y)
{
    int kind = rnd_range(0, 2);
    double mx = (ax + bx) / 2, my = (ay + by) / 2;
    int on_lattice = ldexp(mx - TX0, 34) == floor(ldexp(mx - TX0, 34)) &&
                     ldexp(my - TY0, 34) == floor(ldexp(my - TY0, 34));
    if (kind == 2 && !on_lattice)
        kind = 1;
    mx = TX0 + ldexp(floor(ldexp(mx - TX0, 34)), -34);
    my = TY0 + ldexp(floor(ldexp(my - TY0, 34)), -34);
    int bend = kind == 1 ? rnd_range(-TJMAX / 2, TJMAX / 2) : 0;
    *x = mx + (vertical ? bend * TJ : 0);
    *y = my + (vertical ? 0 : bend * TJ);
    if (kind == 1) {
        *x = vertical ? maybe_align(*x, TX0) : *x;
        *y = vertical ? *y : maybe_align(*y, TY0);
    }
    return kind;
}

static void tiling_make(tiling *T)
{
    for (int i = 0; i <= TN; i++) {
        for (int j = 0; j <= TN; j++) {
            int rim = i == 0 || j == 0 || i == TN || j == TN;
            T->vx[i][j] = TX0 + i * TS + (rim ? 0 : rnd_range(-TJMAX, TJMAX) * TJ);
            T->vy[i][j] = TY0 + j * TS + (rim ? 0 : rnd_range(-TJMAX, TJMAX) * TJ);
            if (!rim) {
                T->vx[i][j] = maybe_align(T->vx[i][j], TX0);
                T->vy[i][j] = maybe_align(T->vy[i][j], TY0);
            }
        }
    }
    for (int i = 0; i < TN; i++)
        for (int j = 0; j <= TN; j++)
            T->hk[i][j] = (j == 0 || j == TN) ? 0
                          : extra_point(T->vx[i][j], T->vy[i][j], T->vx[i + 1][j], T->vy[i + 1][j],
                                        0, &T->hx[i][j], &T->hy[i][j]);
    for (int i = 0; i <= TN; i++)
        for (int j = 0; j < TN; j++)
            T->vk[i][j] = (i == 0 || i == TN) ? 0
                          : extra_point(T->vx[i][j], T->vy[i][j], T->vx[i][j + 1], T->vy[i][j + 1],
                                        1, &T->qx[i][j], &T->qy[i][j]);
}

/* Ring of lattice cell (i,j), counter-clockwise. A T-junction point is
 * used by the cell south/west of the edge only; the other side runs
 * straight through it. */
static void tiling_cell_ring(tset *t, const tiling *T, int i, int j)
{
    ts_ring(t);
    ts_pt(t, T->vx[i][j], T->vy[i][j]);
    if (T->hk[i][j] == 1)
        ts_pt(t, T->hx[i][j], T->hy[i][j]);
    ts_pt(t, T->vx[i + 1][j], T->vy[i + 1][j]);
    if (T->vk[i + 1][j] >= 1)
        ts_pt(t, T->qx[i + 1][j], T->qy[i + 1][j]);
    ts_pt(t, T->vx[i + 1][j + 1], T->vy[i + 1][j + 1]);
    if (T->hk[i][j + 1] >= 1)
        ts_pt(t, T->hx[i][j + 1], T->hy[i][j + 1]);
    ts_pt(t, T->vx[i][j + 1], T->vy[i][j + 1]);
    if (T->vk[i][j] == 1)
        ts_pt(t, T->qx[i][j], T->qy[i][j]);
    ts_close(t);
}

static void tiling_hole(tset *t, int i, int j)
{
    double cx = TX0 + (i + 0.5) * TS, cy = TY0 + (j + 0.5) * TS, h = TS / 16;
    ts_rect(t, cx - h, cy - h, cx + h, cy + h);
}

/* The diamond frame around the lattice, with the lattice's rim as hole. */
static void tiling_frame(tset *t, const tiling *T)
{
    double cx = TX0 + TN * TS / 2, cy = TY0 + TN * TS / 2, r = TN * TS * 1.25;
    ts_poly(t, 1);
    ts_part(t);
    ts_ring(t);
    ts_pt(t, cx, cy - r);
    ts_pt(t, cx + r, cy);
    ts_pt(t, cx, cy + r);
    ts_pt(t, cx - r, cy);
    ts_close(t);
    ts_ring(t);
    for (int i = 0; i < TN; i++)
        ts_pt(t, T->vx[i][0], T->vy[i][0]);
    for (int j = 0; j < TN; j++)
        ts_pt(t, T->vx[TN][j], T->vy[TN][j]);
    for (int i = TN; i > 0; i--)
        ts_pt(t, T->vx[i][TN], T->vy[i][TN]);
    for (int j = TN; j > 0; j--)
        ts_pt(t, T->vx[0][j], T->vy[0][j]);
    ts_close(t);
}

static void tiling_polys(tset *t, const tiling *T)
{
    tiling_frame(t, T);
    for (int j = 0; j < TN; j++) {
        for (int i = 0; i < TN; i++) {
            if (i % 6 == 2 && j % 4 == 1)
                continue; /* second part of (i-2, j) */
            int hole = rnd_range(0, 9);
            ts_poly(t, (uint32_t)(1000 + 7 * (j * TN + i)));
            ts_part(t);
            tiling_cell_ring(t, T, i, j);
            if (hole <= 1)
                tiling_hole(t, i, j);
            if (i % 6 == 0 && j % 4 == 1) {
                ts_part(t);
                tiling_cell_ring(t, T, i + 2, j);
            }
            if (hole == 1) { /* a filled hole */
                ts_poly(t, (uint32_t)(500000 + j * TN + i));
                ts_part(t);
                tiling_hole(t, i, j);
            }
        }
    }
    ts_finish(t);
}

/* Exact integer coordinates: units of 2^-34 degrees from (TX0, TY0). */
static int64_t fix(double v, double o)
{
    double u = ldexp(v - o, 34);
    assert_true(u == floor(u));
    return (int64_t)u;
}

static int ref_crosses(const int64_t *a, const int64_t *b, int64_t px, int64_t py)
{
    int64_t ax = a[0], ay = a[1], bx = b[0], by = b[1];
    if (ay > by) {
        ax = b[0], ay = b[1], bx = a[0], by = a[1];
    }
    if (!(ay <= py && py < by))
        return 0;
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0;
}

/* fx: the store's coordinates converted by fix(), same layout as t->xy. */
static int ref_inside(const tset *t, const int64_t *fx, const co_gridindex_poly *p, int64_t px,
                      int64_t py)
{
    int par = 0;
    for (size_t k = 0; k < p->nparts; k++) {
        for (size_t r = 0; r < p->parts[k].nrings; r++) {
            const co_ring *ring = &p->parts[k].rings[r];
            const int64_t *f = fx + (ring->xy - t->xy);
            for (size_t i = 0; i + 1 < ring->n; i++)
                par ^= ref_crosses(f + 2 * i, f + 2 * i + 2, px, py);
        }
    }
    return par;
}

/* First polygon containing the point; asserts no point is in two. */
static int64_t ref_lookup(const tset *t, const int64_t *fx, double x, double y)
{
    int64_t px = fix(x, TX0), py = fix(y, TY0), found = -1;
    for (size_t i = 0; i < t->ng; i++) {
        if (ref_inside(t, fx, &t->polys[i], px, py)) {
            assert_int_equal(found, -1);
            found = t->polys[i].id;
        }
    }
    return found;
}

static int64_t *ref_fix_all(const tset *t)
{
    int64_t *fx = co_xmalloc((t->nxy ? t->nxy : 1) * sizeof *fx);
    for (size_t i = 0; i < t->nxy; i++)
        fx[i] = fix(t->xy[i], (i % 2) ? TY0 : TX0);
    return fx;
}

typedef struct qset {
    double *xy;
    size_t n, cap;
} qset;

static void q_add(qset *q, double x, double y)
{
    q->xy = co_xgrow(q->xy, &q->cap, 2 * q->n + 2, sizeof *q->xy);
    q->xy[2 * q->n] = x;
    q->xy[2 * q->n + 1] = y;
    q->n++;
}

static void queries(const tset *t, qset *q)
{
    double span = TN * TS * 1.4, x0 = TX0 + TN * TS / 2 - span, y0 = TY0 + TN * TS / 2 - span;
    for (int k = 0; k < 2000; k++) /* snapped to 2^-34 by snap_queries() */
        q_add(q, x0 + 2 * span * (rnd() % 1000003) / 1000003.0,
              y0 + 2 * span * (rnd() % 1000003) / 1000003.0);
    for (size_t r = 0; r < t->nr; r++) {
        const co_ring *g = &t->rings[r];
        for (size_t i = 0; i + 1 < g->n; i++) {
            const double *a = g->xy + 2 * i, *b = a + 2;
            q_add(q, a[0], a[1]);
            int k = rnd_range(1, 3);
            q_add(q, a[0] + (b[0] - a[0]) * k / 4, a[1] + (b[1] - a[1]) * k / 4);
            if (rnd_range(0, 1))
                continue;
            /* rays that run exactly through the vertex, or one step off */
            double w = rnd_range(1, 3 << 22) * TJ;
            q_add(q, a[0] - TJ, a[1]);
            q_add(q, a[0] - w, a[1]);
            q_add(q, a[0] - w, a[1] + TJ * rnd_range(-1, 1));
            q_add(q, a[0] + TJ, a[1]);
            q_add(q, a[0], a[1] + TJ * (rnd_range(0, 1) ? 1 : -1));
        }
    }
}

static void snap_queries(qset *q)
{
    /* round to the 2^-34 lattice so fix() is exact */
    for (size_t i = 0; i < 2 * q->n; i++) {
        double o = (i % 2) ? TY0 : TX0;
        q->xy[i] = o + ldexp(round(ldexp(q->xy[i] - o, 34)), -34);
    }
}

static void test_random_tiling_vs_brute_force(void **state)
{
    (void)state;
    tiling *T = co_xcalloc(1, sizeof *T);
    tset t = {0};
    qset q = {0};
    tiling_make(T);
    tiling_polys(&t, T);
    queries(&t, &q);
    snap_queries(&q);
    int64_t *want = co_xmalloc(q.n * sizeof *want), *fx = ref_fix_all(&t);
    size_t in_frame = 0, outside = 0;
    for (size_t i = 0; i < q.n; i++) {
        want[i] = ref_lookup(&t, fx, q.xy[2 * i], q.xy[2 * i + 1]);
        in_frame += want[i] == 1;
        outside += want[i] == -1;
    }
    assert_true(in_frame > 100 && outside > 100 && q.n - in_frame - outside > 1000);
    for (size_t d = 0; d < NDIVS; d++) {
        co_gridindex *ix = build(&t, cell_divs[d]);
        co_gridindex_stats st;
        co_gridindex_get_stats(ix, &st);
        assert_true(st.step_deg <= TJ); /* the index represents the data exactly */
        /* cells of at most 2^25 steps, as maybe_align() assumes; the
         * lattice origin (the frame's south-west) is a multiple of 2^25 too */
        assert_true(st.cell_w_deg <= 0x1p25 * TJ && st.cell_h_deg <= 0x1p25 * TJ);
        for (size_t i = 0; i < q.n; i++)
            if (co_gridindex_lookup(ix, q.xy[2 * i], q.xy[2 * i + 1]) != want[i])
                fail_msg("div %u point %zu (%.10f, %.10f): index %lld, brute force %lld",
                         cell_divs[d], i, q.xy[2 * i], q.xy[2 * i + 1],
                         (long long)co_gridindex_lookup(ix, q.xy[2 * i], q.xy[2 * i + 1]),
                         (long long)want[i]);
        co_gridindex_free(ix);
    }
    co_free(want);
    co_free(fx);
    co_free(q.xy);
    ts_free(&t);
    co_free(T);
}

/* Brute-force nearest boundary with the metric the index documents. */
static double ref_nearest(const tset *t, double lon, double lat, uint32_t *id)
{
    const double a = 6378137.0, e2 = 0.00669437999014;
    double phi = lat * DEG2RAD, w = 1 - e2 * sin(phi) * sin(phi);
    double kx = a / sqrt(w) * cos(phi) * DEG2RAD, ky = a * (1 - e2) / (w * sqrt(w)) * DEG2RAD;
    double best = INFINITY;
    for (size_t p = 0; p < t->ng; p++) {
        const co_gridindex_poly *g = &t->polys[p];
        for (size_t k = 0; k < g->nparts; k++) {
            for (size_t r = 0; r < g->parts[k].nrings; r++) {
                const co_ring *ring = &g->parts[k].rings[r];
                for (size_t i = 0; i + 1 < ring->n; i++) {
                    double ax = (ring->xy[2 * i] - lon) * kx, ay = (ring->xy[2 * i + 1] - lat) * ky;
                    double bx = (ring->xy[2 * i + 2] - lon) * kx, by = (ring->xy[2 * i + 3] - lat) * ky;
                    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
                    double s = l2 > 0 ? fmin(1, fmax(0, -(ax * dx + ay * dy) / l2)) : 0;
                    double d = hypot(ax + s * dx, ay + s * dy);
                    if (d < best - 1e-6) {
                        best = d;
                        *id = g->id;
                    }
                }
            }
        }
    }
    return best;
}

static void test_random_nearest_vs_brute_force(void **state)
{
    (void)state;
    tiling *T = co_xcalloc(1, sizeof *T);
    tset t = {0};
    tiling_make(T);
    tiling_polys(&t, T);
    double cx = TX0 + TN * TS / 2, cy = TY0 + TN * TS / 2, r = TN * TS * 1.25;
    for (size_t d = 0; d < NDIVS; d++) {
        co_gridindex *ix = build(&t, cell_divs[d]);
        for (int k = 0; k < 200; k++) {
            /* outside the diamond frame: nearest is the frame (id 1) */
            double ang = (rnd() % 3600) * 0.1 * DEG2RAD, rr = r * (1.05 + (rnd() % 1000) / 1000.0);
            double lon = cx + rr * cos(ang), lat = cy + rr * sin(ang);
            uint32_t want_id = 0, id = 0;
            double want = ref_nearest(&t, lon, lat, &want_id), dist = -1;
            assert_int_equal(co_gridindex_nearest(ix, lon, lat, INFINITY, &id, &dist), CO_OK);
            assert_int_equal(id, want_id);
            assert_true(fabs(dist - want) < 1e-3);
            co_err rc = co_gridindex_nearest(ix, lon, lat, want * 0.999, &id, &dist);
            assert_int_equal(rc, CO_ENOTFOUND);
            assert_int_equal(co_gridindex_nearest(ix, lon, lat, want * 1.001, &id, &dist), CO_OK);
        }
        co_gridindex_free(ix);
    }
    ts_free(&t);
    co_free(T);
}

typedef struct reader {
    const co_gridindex *ix;
    const qset *q;
    const int64_t *want;
    size_t wrong;
} reader;

static void *reader_run(void *arg)
{
    reader *r = arg;
    for (int rep = 0; rep < 20; rep++)
        for (size_t i = 0; i < r->q->n; i++)
            r->wrong += co_gridindex_lookup(r->ix, r->q->xy[2 * i], r->q->xy[2 * i + 1]) != r->want[i];
    return NULL;
}

/* The index is read-only after build: four threads querying at once all
 * get the single-threaded answers. */
static void test_concurrent_readers(void **state)
{
    (void)state;
    tiling *T = co_xcalloc(1, sizeof *T);
    tset t = {0};
    qset q = {0};
    tiling_make(T);
    tiling_polys(&t, T);
    queries(&t, &q);
    co_gridindex *ix = build(&t, 0);
    int64_t *want = co_xmalloc(q.n * sizeof *want);
    for (size_t i = 0; i < q.n; i++)
        want[i] = co_gridindex_lookup(ix, q.xy[2 * i], q.xy[2 * i + 1]);
    pthread_t th[4];
    reader rd[4];
    for (int i = 0; i < 4; i++) {
        rd[i] = (reader){ix, &q, want, 0};
        assert_int_equal(pthread_create(&th[i], NULL, reader_run, &rd[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(rd[i].wrong, 0);
    }
    co_free(want);
    co_gridindex_free(ix);
    co_free(q.xy);
    ts_free(&t);
    co_free(T);
}

static void test_stats(void **state)
{
    (void)state;
    tiling *T = co_xcalloc(1, sizeof *T);
    tset t = {0};
    tiling_make(T);
    tiling_polys(&t, T);
    co_gridindex *ix = build(&t, 0);
    co_gridindex_stats st;
    co_gridindex_get_stats(ix, &st);
    assert_int_equal(st.polygons, t.ng);
    assert_int_equal(st.cells_empty + st.cells_full + st.cells_mixed, (size_t)st.cells_x * st.cells_y);
    assert_true(st.cells_full > 0 && st.cells_mixed > 0 && st.cells_empty > 0);
    assert_true(st.stored_edges >= st.input_edges);
    assert_int_equal(st.bytes, co_gridindex_memory(ix));
    assert_true(st.cell_w_deg > 0 && st.cell_w_deg < TS);
    co_gridindex_free(ix);
    ts_free(&t);
    co_free(T);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lattice_shared_edges),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_overlap_first_wins),
        cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_nearest_gap_strip),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_random_tiling_vs_brute_force),
        cmocka_unit_test(test_random_nearest_vs_brute_force),
        cmocka_unit_test(test_concurrent_readers),
        cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
