/* test_import.c — unit tests of the area importer/exporter (src/geo/import.c,
 * src/geo/validate.c) and of `cityops import|export areas` (src/cli/).
 *
 * Every test gets a fresh store in a mkdtemp directory holding a small valid
 * hierarchy near Hohhot: district 150102 (111.60–111.64 E, 40.80–40.82 N),
 * streets 150102001 / 150102002 (west / east half), one community filling
 * each street, and six grids (2×2 in the west community, 1×2 in the east).
 * Error tests import a broken grid (or street) level over the valid one and
 * check that the report names the offending code with a location and that
 * the store is byte-for-byte unchanged (the import is atomic).
 * Documents are built with jansson; file-only cases (non-finite numbers,
 * non-JSON) are written to the temp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "geo/import.h"
#include "geo/locator.h"
#include "lib/alloc.h"
#include "store/store.h"
#include "store_fixture.h"

typedef struct fx {
    char dir[64];
    co_store *st;
} fx;

/* ---- building documents ---------------------------------------------------- */

static json_t *ring_rect(double x0, double y0, double x1, double y1)
{
    return json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
}

static json_t *feature(const char *code, const char *name, const char *parent, json_t *geom)
{
    json_t *props = json_object();
    if (code)
        json_object_set_new(props, "code", json_string(code));
    if (name)
        json_object_set_new(props, "name", json_string(name));
    if (parent)
        json_object_set_new(props, "parent", json_string(parent));
    return json_pack("{s:s,s:o,s:o}", "type", "Feature", "properties", props, "geometry", geom);
}

static json_t *polygon(json_t *ring)
{
    return json_pack("{s:s,s:[o]}", "type", "Polygon", "coordinates", ring);
}

static json_t *rect_feature(const char *code, const char *parent, double x0, double y0, double x1,
                            double y1)
{
    char name[64];
    snprintf(name, sizeof name, "区域 %s", code);
    return feature(code, name, parent, polygon(ring_rect(x0, y0, x1, y1)));
}

static json_t *fc(void)
{
    return json_pack("{s:s,s:[]}", "type", "FeatureCollection", "features");
}

static void add(json_t *doc, json_t *feat)
{
    json_array_append_new(json_object_get(doc, "features"), feat);
}

static json_t *districts(void)
{
    json_t *d = fc();
    add(d, rect_feature("150102", "150100", 111.60, 40.80, 111.64, 40.82));
    return d;
}

static json_t *streets(void)
{
    json_t *d = fc();
    add(d, rect_feature("150102001", "150102", 111.60, 40.80, 111.62, 40.82));
    add(d, rect_feature("150102002", "150102", 111.62, 40.80, 111.64, 40.82));
    return d;
}

static json_t *communities(void)
{
    json_t *d = fc();
    add(d, rect_feature("150102001001", "150102001", 111.60, 40.80, 111.62, 40.82));
    add(d, rect_feature("150102002001", "150102002", 111.62, 40.80, 111.64, 40.82));
    return d;
}

/* The six valid grids; skip (1-based, 0 = none) leaves one out. */
static json_t *grids_without(int skip)
{
    static const struct {
        const char *code, *parent;
        double x0, y0, x1, y1;
    } g[] = {
        {"150102001001001", "150102001001", 111.60, 40.80, 111.61, 40.81},
        {"150102001001002", "150102001001", 111.61, 40.80, 111.62, 40.81},
        {"150102001001003", "150102001001", 111.60, 40.81, 111.61, 40.82},
        {"150102001001004", "150102001001", 111.61, 40.81, 111.62, 40.82},
        {"150102002001001", "150102002001", 111.62, 40.80, 111.63, 40.82},
        {"150102002001002", "150102002001", 111.63, 40.80, 111.64, 40.82},
    };
    json_t *d = fc();
    for (int i = 0; i < 6; i++)
        if (i + 1 != skip)
            add(d, rect_feature(g[i].code, g[i].parent, g[i].x0, g[i].y0, g[i].x1, g[i].y1));
    return d;
}

static json_t *grids(void) { return grids_without(0); }

/* Replaces feature i of doc (0-based). */
static void put(json_t *doc, size_t i, json_t *feat)
{
    json_array_set_new(json_object_get(doc, "features"), i, feat);
}

/* ---- store helpers --------------------------------------------------------- */

static co_err import_doc(fx *f, co_level level, json_t *doc, co_import_report *rep)
{
    co_err rc = co_import_areas_json(f->st, level, doc, rep);
    json_decref(doc);
    return rc;
}

static void import_ok(fx *f, co_level level, json_t *doc)
{
    co_import_report rep;
    co_err rc = import_doc(f, level, doc, &rep);
    if (rc)
        co_import_report_print(&rep, stderr);
    assert_int_equal(rc, CO_OK);
    assert_int_equal(rep.nproblems, 0);
    assert_int_equal(rep.imported, rep.nfeatures);
    co_import_report_free(&rep);
}

/* Everything the store holds about areas, as text. Caller frees. */
static char *snapshot(co_store *st)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&mem, &len);
    assert_non_null(m);
    for (int l = CO_LEVEL_DISTRICT; l <= CO_LEVEL_GRID; l++)
        assert_int_equal(co_export_areas(st, (co_level)l, NULL, m), CO_OK);
    fclose(m);
    return mem;
}

static char *export_level(co_store *st, co_level level, const char *within)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&mem, &len);
    assert_non_null(m);
    assert_int_equal(co_export_areas(st, level, within, m), CO_OK);
    fclose(m);
    return mem;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fx *f = co_xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_import.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(fx_store_open(f->dir, &f->st), CO_OK);
    import_ok(f, CO_LEVEL_DISTRICT, districts());
    import_ok(f, CO_LEVEL_STREET, streets());
    import_ok(f, CO_LEVEL_COMMUNITY, communities());
    import_ok(f, CO_LEVEL_GRID, grids());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    co_store_close(f->st);
    nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
    co_free(f);
    return 0;
}

/* Finds the problem of code whose reason contains what; asserts it has a
 * location unless nowhere. */
static const co_import_problem *find(const co_import_report *rep, const char *code,
                                     const char *what)
{
    for (size_t i = 0; i < rep->nproblems; i++) {
        const co_import_problem *p = &rep->problems[i];
        if (!strcmp(p->code, code) && strstr(p->reason, what))
            return p;
    }
    co_import_report_print(rep, stderr);
    fail_msg("no problem for %s containing \"%s\"", code, what);
    return NULL;
}

static void assert_located(const co_import_problem *p, double lon0, double lat0, double lon1,
                           double lat1)
{
    assert_true(isfinite(p->lon) && isfinite(p->lat));
    assert_true(p->lon >= lon0 && p->lon <= lon1);
    assert_true(p->lat >= lat0 && p->lat <= lat1);
}

/* Imports doc as level expecting a validation failure that names code with
 * what, located inside the given box; checks the store did not change. */
static void expect_fail(fx *f, co_level level, json_t *doc, const char *code, const char *what,
                        double lon0, double lat0, double lon1, double lat1)
{
    char *before = snapshot(f->st);
    co_import_report rep;
    assert_int_equal(import_doc(f, level, doc, &rep), CO_EINVAL);
    assert_true(rep.nproblems > 0);
    assert_int_equal(rep.imported, 0);
    const co_import_problem *p = find(&rep, code, what);
    if (isfinite(lon0))
        assert_located(p, lon0, lat0, lon1, lat1);
    char *after = snapshot(f->st);
    assert_string_equal(before, after);
    co_free(before);
    co_free(after);
    co_import_report_free(&rep);
}

#define AREA_BOX 111.599, 40.799, 111.641, 40.821 /* anywhere in the district */

/* ---- tests: the valid hierarchy ------------------------------------------- */

typedef struct collect {
    int n;
    double area, cx, cy, minx, miny, maxx, maxy;
    char geometry[512];
} collect;

static int take(void *ctx, const co_area_rec *r)
{
    collect *c = ctx;
    c->n++;
    c->area = r->area_m2;
    c->cx = r->cx;
    c->cy = r->cy;
    c->minx = r->minx;
    c->miny = r->miny;
    c->maxx = r->maxx;
    c->maxy = r->maxy;
    snprintf(c->geometry, sizeof c->geometry, "%s", r->geometry ? r->geometry : "");
    return 0;
}

static int count_cb(void *ctx, const co_area_rec *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

static void test_valid_hierarchy(void **state)
{
    fx *f = *state;
    int n = 0;
    assert_int_equal(co_store_areas_each(f->st, CO_LEVEL_GRID, 0, count_cb, &n), CO_OK);
    assert_int_equal(n, 6);
    collect c = {0};
    assert_int_equal(co_store_area_get(f->st, "150102001001001", take, &c), CO_OK);
    /* 0.01° × 0.01° at 40.805° N on GRS80: about 843 m × 1111 m */
    double want = 0.01 * 111320.0 * cos(40.805 * M_PI / 180) * 0.01 * 111050.0;
    assert_true(fabs(c.area - want) / want < 0.005);
    assert_true(c.cx > 111.60 && c.cx < 111.61 && c.cy > 40.80 && c.cy < 40.81);
    assert_true(c.minx == 111.60 && c.miny == 40.80 && c.maxx == 111.61 && c.maxy == 40.81);
    assert_string_equal(c.geometry, "{\"type\":\"Polygon\",\"coordinates\":[[[111.6,40.8],"
                                    "[111.61,40.8],[111.61,40.81],[111.6,40.81],[111.6,40.8]]]}");
    collect d = {0};
    assert_int_equal(co_store_area_get(f->st, "150102", take, &d), CO_OK);
    assert_true(fabs(d.area - 8 * want) / (8 * want) < 0.005);
}

static void test_reimport_idempotent(void **state)
{
    fx *f = *state;
    char *before = snapshot(f->st);
    import_ok(f, CO_LEVEL_GRID, grids());
    import_ok(f, CO_LEVEL_COMMUNITY, communities());
    char *after = snapshot(f->st);
    assert_string_equal(before, after);
    co_free(before);
    co_free(after);
}

static void test_replace_level(void **state)
{
    fx *f = *state;
    /* the east community not gridded any more: fine, and the level shrinks */
    json_t *g = fc();
    json_t *all = grids();
    for (size_t i = 0; i < 4; i++)
        add(g, json_incref(json_array_get(json_object_get(all, "features"), i)));
    json_decref(all);
    import_ok(f, CO_LEVEL_GRID, g);
    int n = 0;
    assert_int_equal(co_store_areas_each(f->st, CO_LEVEL_GRID, 0, count_cb, &n), CO_OK);
    assert_int_equal(n, 4);
}

static void test_ring_orientation_normalised(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    /* a clockwise ring: stored counter-clockwise (RFC 7946), every digit kept */
    json_t *cw = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", 111.600000000001, 40.80, 111.60,
                           40.81, 111.61, 40.81, 111.61, 40.80, 111.600000000001, 40.80);
    put(g, 0, feature("150102001001001", "一号网格", "150102001001", polygon(cw)));
    import_ok(f, CO_LEVEL_GRID, g);
    collect c = {0};
    assert_int_equal(co_store_area_get(f->st, "150102001001001", take, &c), CO_OK);
    assert_string_equal(c.geometry, "{\"type\":\"Polygon\",\"coordinates\":[[[111.600000000001,"
                                    "40.8],[111.61,40.8],[111.61,40.81],[111.6,40.81],"
                                    "[111.600000000001,40.8]]]}");
}

static void test_multipolygon_and_hole(void **state)
{
    fx *f = *state;
    /* west community as two grids: a square with a hole, and the rest as a
     * MultiPolygon of the hole plus the other three quarters */
    json_t *g = grids();
    json_t *outer = ring_rect(111.60, 40.80, 111.61, 40.81);
    json_t *hole = ring_rect(111.603, 40.803, 111.606, 40.806);
    json_t *holed = json_pack("{s:s,s:[o,o]}", "type", "Polygon", "coordinates", outer, hole);
    put(g, 0, feature("150102001001001", "带洞网格", "150102001001", holed));
    json_t *mp = json_pack("{s:s,s:[[o],[o]]}", "type", "MultiPolygon", "coordinates",
                           ring_rect(111.603, 40.803, 111.606, 40.806),
                           ring_rect(111.61, 40.80, 111.62, 40.81));
    put(g, 1, feature("150102001001002", "两块网格", "150102001001", mp));
    import_ok(f, CO_LEVEL_GRID, g);
}

static void test_district_parent_city_code(void **state)
{
    fx *f = *state;
    json_t *d = fc();
    add(d, rect_feature("150102", "1501", 111.60, 40.80, 111.64, 40.82));
    import_ok(f, CO_LEVEL_DISTRICT, d);
    d = fc();
    add(d, rect_feature("150102", "", 111.60, 40.80, 111.64, 40.82));
    import_ok(f, CO_LEVEL_DISTRICT, d);
    d = fc();
    add(d, rect_feature("150102", "160100", 111.60, 40.80, 111.64, 40.82));
    expect_fail(f, CO_LEVEL_DISTRICT, d, "150102", "parent 160100", AREA_BOX);
}

/* ---- tests: geometry errors ------------------------------------------------ */

static void test_bowtie(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    json_t *bow = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", 111.60, 40.80, 111.61, 40.81,
                            111.61, 40.80, 111.60, 40.81, 111.60, 40.80);
    put(g, 0, feature("150102001001001", "蝴蝶结", "150102001001", polygon(bow)));
    /* the crossing point is (111.605, 40.805) */
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "Self-intersection", 111.6049, 40.8049,
                111.6051, 40.8051);
}

static void test_unclosed_ring(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    json_t *open = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", 111.60, 40.80, 111.61, 40.80,
                             111.61, 40.81, 111.60, 40.81, 111.6001, 40.8001);
    put(g, 0, feature("150102001001001", "未闭合", "150102001001", polygon(open)));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "not closed", AREA_BOX);
}

static void test_short_ring(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    json_t *tri = json_pack("[[f,f],[f,f],[f,f]]", 111.60, 40.80, 111.61, 40.80, 111.60, 40.80);
    put(g, 0, feature("150102001001001", "太短", "150102001001", polygon(tri)));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "at least 4", AREA_BOX);
}

static void test_not_polygon(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    json_t *pt = json_pack("{s:s,s:[f,f]}", "type", "Point", "coordinates", 111.605, 40.805);
    put(g, 0, feature("150102001001001", "点", "150102001001", pt));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "Polygon or MultiPolygon", NAN, 0, 0, 0);
}

static void test_out_of_range(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    json_t *bad = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f]]", 111.60, 40.80, 191.61, 40.80,
                            111.61, 40.81, 111.60, 40.81, 111.60, 40.80);
    put(g, 0, feature("150102001001001", "越界", "150102001001", polygon(bad)));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "outside lon", 191.6, 40.79, 191.62,
                40.81);
}

static void test_overlapping_grids(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    /* grid 002 reaches 0.002° west into grid 001: ≈ 169 m × 1111 m */
    put(g, 1, rect_feature("150102001001002", "150102001001", 111.608, 40.80, 111.62, 40.81));
    char *before = snapshot(f->st);
    co_import_report rep;
    assert_int_equal(import_doc(f, CO_LEVEL_GRID, g, &rep), CO_EINVAL);
    const co_import_problem *p = find(&rep, "150102001001001", "overlaps 150102001001002");
    assert_located(p, 111.608, 40.80, 111.61, 40.81);
    char *after = snapshot(f->st);
    assert_string_equal(before, after);
    co_free(before);
    co_free(after);
    co_import_report_free(&rep);
}

/* Grid 002 with a triangular bump of depth dx degrees (over 0.0002° ≈ 22 m
 * of its west edge) into grid 001. */
static json_t *bumped_grid_002(double dx)
{
    json_t *r = json_pack("[[f,f],[f,f],[f,f],[f,f],[f,f],[f,f],[f,f]]", 111.61, 40.80, 111.62,
                          40.80, 111.62, 40.81, 111.61, 40.81, 111.61, 40.8002, 111.61 - dx,
                          40.8001, 111.61, 40.80);
    return feature("150102001001002", "凸起", "150102001001", polygon(r));
}

static void test_sliver_tolerance(void **state)
{
    fx *f = *state;
    /* 1e-7° ≈ 0.84 cm deep: ≈ 0.09 m² of overlap, under 1 m² */
    json_t *g = grids();
    put(g, 1, bumped_grid_002(1e-7));
    import_ok(f, CO_LEVEL_GRID, g);
    /* 3e-6° ≈ 25 cm deep: ≈ 2.8 m², reported */
    g = grids();
    put(g, 1, bumped_grid_002(3e-6));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "overlaps 150102001001002", 111.6099,
                40.8, 111.61, 40.8002);
}

static void test_overlapping_streets(void **state)
{
    fx *f = *state;
    json_t *s = streets();
    put(s, 1, rect_feature("150102002", "150102", 111.615, 40.80, 111.64, 40.82));
    expect_fail(f, CO_LEVEL_STREET, s, "150102001", "overlaps 150102002", 111.615, 40.80, 111.62,
                40.82);
}

static void test_gap_in_community(void **state)
{
    fx *f = *state;
    /* grid 004 (NE quarter of the west community) missing */
    expect_fail(f, CO_LEVEL_GRID, grids_without(4), "150102001001", "gap", 111.61, 40.81, 111.62,
                40.82);
}

static void test_grid_outside_community(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 0, rect_feature("150102001001001", "150102001001", 111.59, 40.80, 111.61, 40.81));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "outside its parent 150102001001", 111.59,
                40.80, 111.60, 40.81);
}

/* ---- tests: codes and properties ------------------------------------------ */

static void test_bad_code_length(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 0, rect_feature("15010200100101", "150102001001", 111.60, 40.80, 111.61, 40.81));
    expect_fail(f, CO_LEVEL_GRID, g, "15010200100101", "15 digits", 111.60, 40.80, 111.61, 40.81);
}

static void test_code_not_matching_parent(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 0, rect_feature("150102002001005", "150102001001", 111.60, 40.80, 111.61, 40.81));
    expect_fail(f, CO_LEVEL_GRID, g, "150102002001005", "does not start with", 111.60, 40.80,
                111.61, 40.81);
}

static void test_unknown_parent(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 0, rect_feature("150102001009001", "150102001009", 111.60, 40.80, 111.61, 40.81));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001009001", "unknown parent 150102001009", 111.60,
                40.80, 111.61, 40.81);
}

static void test_duplicate_code(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 1, rect_feature("150102001001001", "150102001001", 111.61, 40.80, 111.62, 40.81));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001001", "duplicate code (also feature #0)",
                111.61, 40.80, 111.62, 40.81);
}

static void test_missing_name(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 2, feature("150102001001003", NULL, "150102001001",
                      polygon(ring_rect(111.60, 40.81, 111.61, 40.82))));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001003", "missing property \"name\"", 111.60,
                40.81, 111.61, 40.82);
}

static void test_long_name(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    char name[128];
    memset(name, 'x', 91);
    name[91] = '\0';
    put(g, 2, feature("150102001001003", name, "150102001001",
                      polygon(ring_rect(111.60, 40.81, 111.61, 40.82))));
    expect_fail(f, CO_LEVEL_GRID, g, "150102001001003", "longer than 90", AREA_BOX);
}

static void test_level_property_mismatch(void **state)
{
    fx *f = *state;
    /* the communities file imported as grids: codes and "level" both say so */
    json_t *c = communities();
    json_object_set_new(json_object_get(json_array_get(json_object_get(c, "features"), 0),
                                        "properties"),
                        "level", json_string("community"));
    expect_fail(f, CO_LEVEL_GRID, c, "150102001001", "says level \"community\"", AREA_BOX);
}

static void test_missing_code(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 2, feature(NULL, "无编码", "150102001001",
                      polygon(ring_rect(111.60, 40.81, 111.61, 40.82))));
    expect_fail(f, CO_LEVEL_GRID, g, "#2", "missing property \"code\"", AREA_BOX);
}

static void test_not_feature_collection(void **state)
{
    fx *f = *state;
    json_t *one = rect_feature("150102001001001", "150102001001", 111.60, 40.80, 111.61, 40.81);
    expect_fail(f, CO_LEVEL_GRID, one, "(file)", "not a GeoJSON FeatureCollection", NAN, 0, 0, 0);
    expect_fail(f, CO_LEVEL_GRID, fc(), "(file)", "empty", NAN, 0, 0, 0);
}

static void test_every_problem_reported(void **state)
{
    fx *f = *state;
    json_t *g = grids();
    put(g, 0, rect_feature("150102001001001", "150102001001", 111.59, 40.80, 111.61, 40.81));
    put(g, 2, feature("150102001001003", NULL, "150102001001",
                      polygon(ring_rect(111.60, 40.81, 111.61, 40.82))));
    put(g, 3, rect_feature("150102001009004", "150102001009", 111.61, 40.81, 111.62, 40.82));
    co_import_report rep;
    assert_int_equal(import_doc(f, CO_LEVEL_GRID, g, &rep), CO_EINVAL);
    find(&rep, "150102001001001", "outside its parent");
    find(&rep, "150102001001003", "name");
    find(&rep, "150102001009004", "unknown parent");
    co_import_report_free(&rep);
}

/* ---- tests: files ------------------------------------------------------------ */

static void write_text(const char *path, const char *text)
{
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fputs(text, o);
    fclose(o);
}

static void expect_file_fail(fx *f, const char *text, const char *code, const char *what,
                             int located)
{
    char path[128];
    snprintf(path, sizeof path, "%s/in.geojson", f->dir);
    write_text(path, text);
    char *before = snapshot(f->st);
    co_import_report rep;
    assert_int_equal(co_import_areas_file(f->st, CO_LEVEL_GRID, path, &rep), CO_EINVAL);
    const co_import_problem *p = find(&rep, code, what);
    if (located)
        assert_located(p, 111.599, 40.799, 111.641, 40.821);
    char *after = snapshot(f->st);
    assert_string_equal(before, after);
    co_free(before);
    co_free(after);
    co_import_report_free(&rep);
}

/* The grids as text with grid 002's geometry replaced by raw (any bytes). */
static char *grids_text_with(const char *raw)
{
    json_t *g = grids();
    json_t *f2 = json_array_get(json_object_get(g, "features"), 1);
    json_object_set_new(f2, "geometry", json_string("@GEOM@"));
    char *text = json_dumps(g, JSON_COMPACT);
    json_decref(g);
    char *at = strstr(text, "\"@GEOM@\"");
    assert_non_null(at);
    size_t head = (size_t)(at - text);
    const char *tail = at + strlen("\"@GEOM@\"");
    size_t nraw = strlen(raw), ntail = strlen(tail);
    char *out = co_xmalloc(head + nraw + ntail + 1);
    memcpy(out, text, head);
    memcpy(out + head, raw, nraw);
    memcpy(out + head + nraw, tail, ntail + 1);
    co_free(text); /* jansson allocates with malloc; co_free is free() */
    return out;
}

static void test_nonfinite_coordinate(void **state)
{
    fx *f = *state;
    static const char *bad[] = {
        "{\"type\":\"Polygon\",\"coordinates\":[[[111.61,40.8],[1e999,40.8],[111.62,40.81],"
        "[111.61,40.81],[111.61,40.8]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[111.61,40.8],[111.62,-Infinity],[111.62,"
        "40.81],[111.61,40.81],[111.61,40.8]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[111.61,40.8],[111.62,40.8],[NaN,40.81],"
        "[111.61,40.81],[111.61,40.8]]]}",
    };
    for (size_t i = 0; i < 3; i++) {
        char *text = grids_text_with(bad[i]);
        expect_file_fail(f, text, "150102001001002", "not a finite number", 1);
        co_free(text);
    }
}

static void test_not_json(void **state)
{
    fx *f = *state;
    expect_file_fail(f, "this is not json", "(file)", "invalid JSON at line 1", 0);
    expect_file_fail(f, "{\"type\":\"FeatureCollection\",\"features\":[],\"x\":1e999}", "(file)",
                     "empty", 0);
    char path[128];
    snprintf(path, sizeof path, "%s/missing.geojson", f->dir);
    co_import_report rep;
    assert_int_equal(co_import_areas_file(f->st, CO_LEVEL_GRID, path, &rep), CO_EIO);
    find(&rep, "(file)", "cannot read");
    co_import_report_free(&rep);
}

/* ---- tests: export round trip, within, CLI --------------------------------- */

static void test_export_roundtrip(void **state)
{
    fx *f = *state;
    fx g = {0};
    snprintf(g.dir, sizeof g.dir, "/tmp/test_import2.XXXXXX");
    assert_non_null(mkdtemp(g.dir));
    assert_int_equal(fx_store_open(g.dir, &g.st), CO_OK);
    for (int l = CO_LEVEL_DISTRICT; l <= CO_LEVEL_GRID; l++) {
        json_t *doc = NULL;
        assert_int_equal(co_export_areas_json(f->st, (co_level)l, NULL, &doc), CO_OK);
        json_t *p = json_object_get(json_array_get(json_object_get(doc, "features"), 0),
                                    "properties");
        assert_string_equal(json_string_value(json_object_get(p, "level")),
                            l == 1 ? "district" : l == 2 ? "street" : l == 3 ? "community" : "grid");
        assert_int_equal(json_object_size(p), 4);
        import_ok(&g, (co_level)l, doc);
    }
    char *a = snapshot(f->st), *b = snapshot(g.st);
    assert_string_equal(a, b);
    co_free(a);
    co_free(b);
    /* and through files, as the CLI does */
    char path[128];
    snprintf(path, sizeof path, "%s/grids.geojson", g.dir);
    FILE *o = fopen(path, "w");
    assert_int_equal(co_export_areas(f->st, CO_LEVEL_GRID, NULL, o), CO_OK);
    fclose(o);
    co_import_report rep;
    assert_int_equal(co_import_areas_file(g.st, CO_LEVEL_GRID, path, &rep), CO_OK);
    assert_int_equal(rep.imported, 6);
    co_import_report_free(&rep);
    co_store_close(g.st);
    nftw(g.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_export_within(void **state)
{
    fx *f = *state;
    json_t *doc = NULL;
    assert_int_equal(co_export_areas_json(f->st, CO_LEVEL_GRID, "150102002", &doc), CO_OK);
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 2);
    json_decref(doc);
    assert_int_equal(co_export_areas_json(f->st, CO_LEVEL_GRID, "150102001001", &doc), CO_OK);
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 4);
    json_decref(doc);
    assert_int_equal(co_export_areas_json(f->st, CO_LEVEL_STREET, "150102", &doc), CO_OK);
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 2);
    json_decref(doc);
    assert_int_equal(co_export_areas_json(f->st, CO_LEVEL_GRID, "150199", &doc), CO_ENOTFOUND);
    assert_null(doc);
    char *all = export_level(f->st, CO_LEVEL_GRID, NULL);
    char *some = export_level(f->st, CO_LEVEL_GRID, "150102");
    assert_string_equal(all, some);
    co_free(all);
    co_free(some);
}

static int run_cli(int (*fn)(int, char **), const char *a0, ...)
{
    char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1);
    FILE *devnull = freopen("/dev/null", "w", stdout);
    (void)devnull;
    int rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return rc;
}

static void test_cli(void **state)
{
    fx *f = *state;
    /* --data DIR (SQLite), or --store URL (the PostgreSQL run) */
    char store[1024];
    assert_int_equal(fx_store_url(f->dir, store, sizeof store), CO_OK);
    const char *opt = fx_pg_url() ? "--store" : "--data", *where = fx_pg_url() ? store : f->dir;
    char out[128];
    snprintf(out, sizeof out, "%s/export.geojson", f->dir);
    assert_int_equal(run_cli(co_cli_export, "export", "areas", opt, where, "--level", "grid",
                             "--within", "150102001", "--out", out, NULL),
                     0);
    /* only the west community's grids: the east one is then not gridded (fine) */
    assert_int_equal(run_cli(co_cli_import, "import", "areas", opt, where, "--level", "grid",
                             out, NULL),
                     0);
    int n = 0;
    assert_int_equal(co_store_areas_each(f->st, CO_LEVEL_GRID, 0, count_cb, &n), CO_OK);
    assert_int_equal(n, 4);
}

static void test_cli_codes(void **state)
{
    fx *f = *state;
    char store[1024];
    assert_int_equal(fx_store_url(f->dir, store, sizeof store), CO_OK);
    char out[128], bad[128];
    snprintf(out, sizeof out, "%s/export.geojson", f->dir);
    snprintf(bad, sizeof bad, "%s/bad.geojson", f->dir);
    assert_int_equal(run_cli(co_cli_export, "export", "areas", "--store", store, "--level", "grid",
                             "--out", out, NULL),
                     0);
    assert_int_equal(run_cli(co_cli_import, "import", "areas", "--store", store, "--level", "grid",
                             out, NULL),
                     0);
    write_text(bad, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    assert_int_equal(run_cli(co_cli_import, "import", "areas", "--store", store, "--level", "grid",
                             bad, NULL),
                     1);
    assert_int_equal(run_cli(co_cli_import, "import", "areas", "--store", store, "--level",
                             "block", out, NULL),
                     2);
    assert_int_equal(run_cli(co_cli_import, "import", "areas", "--store", store, NULL), 2);
    assert_int_equal(run_cli(co_cli_import, "import", "zones", NULL), 2);
    assert_int_equal(run_cli(co_cli_export, "export", "areas", "--store", store, "--level", "grid",
                             "--within", "999999", NULL),
                     1);
    assert_int_equal(run_cli(co_cli_export, "export", "areas", "--level", "grid", NULL), 2);
}

/* The checked-in fixtures (tests/fixtures/areas/) import into a new store;
 * skipped when the test does not run from the repository root. */
static void test_fixture_files(void **state)
{
    (void)state;
    static const char *files[] = {"districts", "streets", "communities", "grids"};
    char path[256];
    if (access("tests/fixtures/areas/grids.geojson", R_OK) != 0)
        skip();
    fx g = {0};
    snprintf(g.dir, sizeof g.dir, "/tmp/test_import3.XXXXXX");
    assert_non_null(mkdtemp(g.dir));
    assert_int_equal(fx_store_open(g.dir, &g.st), CO_OK);
    for (int l = 0; l < 4; l++) {
        snprintf(path, sizeof path, "tests/fixtures/areas/%s.geojson", files[l]);
        co_import_report rep;
        co_err rc = co_import_areas_file(g.st, (co_level)(l + 1), path, &rep);
        if (rc)
            co_import_report_print(&rep, stderr);
        assert_int_equal(rc, CO_OK);
        co_import_report_free(&rep);
    }
    static const struct {
        const char *file, *code, *what;
    } broken[] = {
        {"grids-overlap", "150102001001001", "overlaps 150102001001002"},
        {"grids-gap", "150102001001", "gap"},
        {"grids-outside", "150102001001001", "outside its parent"},
        {"grids-bowtie", "150102001001001", "Self-intersection"},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        snprintf(path, sizeof path, "tests/fixtures/areas/%s.geojson", broken[i].file);
        co_import_report rep;
        assert_int_equal(co_import_areas_file(g.st, CO_LEVEL_GRID, path, &rep), CO_EINVAL);
        find(&rep, broken[i].code, broken[i].what);
        co_import_report_free(&rep);
    }
    co_store_close(g.st);
    nftw(g.dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- tests: locating points in the imported areas --------------------------- */

static const char *code_at(const co_areas *as, int32_t idx)
{
    const co_area *a = co_areas_at(as, idx);
    return a ? a->code : "";
}

/* A point outside every grid is given the nearest grid within 50 m only when
 * that grid is in the point's own community: a grid across the boundary
 * would file a case under one community's grid and another's district. */
static void test_locate_nearest_grid_stays_in_community(void **state)
{
    fx *f = *state;
    json_t *g = fc(); /* the west community's four grids; the east one has none */
    for (int i = 0; i < 4; i++) {
        json_t *all = grids();
        add(g, json_incref(json_array_get(json_object_get(all, "features"), (size_t)i)));
        json_decref(all);
    }
    import_ok(f, CO_LEVEL_GRID, g);
    co_areas *as = NULL;
    co_locator *loc = NULL;
    assert_int_equal(co_areas_load(f->st, &as), CO_OK);
    assert_int_equal(co_locator_build(f->st, as, &loc), CO_OK);
    co_location l;
    /* 25 m east of the boundary: in the east community, 25 m from the west
     * community's grid 002 */
    assert_int_equal(co_locator_locate(loc, 111.6203, 40.805, &l), CO_OK);
    assert_string_equal(code_at(as, l.community), "150102002001");
    assert_string_equal(code_at(as, l.district), "150102");
    assert_int_equal(l.grid, -1);
    assert_int_equal(l.nearest_grid, -1);
    /* 25 m west of it: inside that grid */
    assert_int_equal(co_locator_locate(loc, 111.6197, 40.805, &l), CO_OK);
    assert_string_equal(code_at(as, l.grid), "150102001001002");
    assert_string_equal(code_at(as, l.community), "150102001001");
    co_locator_free(loc);
    co_areas_free(as);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_valid_hierarchy),
        T(test_reimport_idempotent),
        T(test_replace_level),
        T(test_ring_orientation_normalised),
        T(test_multipolygon_and_hole),
        T(test_district_parent_city_code),
        T(test_bowtie),
        T(test_unclosed_ring),
        T(test_short_ring),
        T(test_not_polygon),
        T(test_out_of_range),
        T(test_overlapping_grids),
        T(test_sliver_tolerance),
        T(test_overlapping_streets),
        T(test_gap_in_community),
        T(test_grid_outside_community),
        T(test_bad_code_length),
        T(test_code_not_matching_parent),
        T(test_unknown_parent),
        T(test_duplicate_code),
        T(test_missing_name),
        T(test_long_name),
        T(test_level_property_mismatch),
        T(test_missing_code),
        T(test_not_feature_collection),
        T(test_every_problem_reported),
        T(test_nonfinite_coordinate),
        T(test_not_json),
        T(test_export_roundtrip),
        T(test_export_within),
        T(test_cli),
        T(test_cli_codes),
        T(test_fixture_files),
        T(test_locate_nearest_grid_stays_in_community),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
