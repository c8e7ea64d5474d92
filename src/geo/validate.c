/* validate.c — checks a GeoJSON FeatureCollection of areas before import
 * (see validate.h and docs/internals/import.md).
 *
 * Per feature: code/name/parent shape, the 6/9/12/15-digit scheme and the
 * parent prefix, geometry structure (Polygon/MultiPolygon, finite lon/lat,
 * closed rings of >= 4 points), then GEOS validity. The normalised text
 * (RFC 7946 ring orientation, shortest round-trip numbers, full precision)
 * holds exactly the doubles that were validated. Across features:
 * duplicates, parents that must exist in the store, area outside the parent,
 * overlaps between features of the level (STRtree), and for grids gaps
 * inside each gridded community.
 * Overlays run in lon/lat, where GeoJSON edges are straight; every area (and
 * so every threshold) is measured in m² by densifying the result and
 * projecting it with PROJ (Lambert azimuthal equal-area on the GRS80
 * ellipsoid, centred on the data), never in degrees.
 * Ownership: the co_import_vctx owns every geometry and string; functions
 * here that build a geometry either hand it to the context or destroy it. */
#include "geo/validate.h"

#include <math.h>
#include <proj.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo/area.h"
#include "geo/coord.h"
#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

static const unsigned code_len[5] = {0, 6, 9, 12, 15};

/* ---- problems ------------------------------------------------------------ */

void co_import_problem_add(co_import_report *rep, const char *code, size_t index, double lon,
                           double lat, const char *fmt, ...)
{
    rep->problems = co_xgrow(rep->problems, &rep->cap, rep->nproblems + 1, sizeof *rep->problems);
    co_import_problem *p = &rep->problems[rep->nproblems++];
    memset(p, 0, sizeof *p);
    if (code && *code)
        snprintf(p->code, sizeof p->code, "%s", code);
    else if (index == (size_t)-1)
        snprintf(p->code, sizeof p->code, "(file)");
    else
        snprintf(p->code, sizeof p->code, "#%zu", index);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof p->reason, fmt, ap);
    va_end(ap);
    p->lon = lon;
    p->lat = lat;
}

static void feat_problem(co_import_vctx *v, const co_import_feat *f, double lon, double lat,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void feat_problem(co_import_vctx *v, const co_import_feat *f, double lon, double lat,
                         const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    co_import_problem_add(v->rep, f->code, f->index, lon, lat, "%s", reason);
}

/* ---- metres (PROJ) ---------------------------------------------------------
 * Lambert azimuthal equal-area centred on the data, GRS80 (= CGCS2000 and
 * WGS84 to well under a millimetre per km²). Equal-area means the m² do not
 * depend on the centre; the centre only keeps shapes undistorted. */

struct co_import_metric {
    PJ_CONTEXT *pc;
    PJ *pj;
    double *buf;   /* scratch: x0,y0,x1,y1,... */
    size_t cap;    /* in points */
};

static void metric_close(struct co_import_metric *m)
{
    if (!m)
        return;
    if (m->pj)
        proj_destroy(m->pj);
    if (m->pc)
        proj_context_destroy(m->pc);
    co_free(m->buf);
    co_free(m);
}

static co_err metric_open(double lon0, double lat0, struct co_import_metric **out)
{
    struct co_import_metric *m = co_xcalloc(1, sizeof *m);
    co_err rc = CO_OK;
    char def[256];
    snprintf(def, sizeof def,
             "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
             "+step +proj=laea +lat_0=%.6f +lon_0=%.6f +ellps=GRS80",
             lat0, lon0);
    m->pc = proj_context_create();
    if (!m->pc) {
        rc = CO_EINTERNAL;
        goto out;
    }
    proj_log_level(m->pc, PJ_LOG_NONE);
    m->pj = proj_create(m->pc, def);
    if (!m->pj) {
        co_log_error("msg=\"PROJ cannot create the metric projection\" def=\"%s\"", def);
        rc = CO_EINTERNAL;
        goto out;
    }
out:
    if (rc) {
        metric_close(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* Area in m² of one ring (absolute), NaN when PROJ fails. */
static double ring_m2(co_import_vctx *v, const GEOSGeometry *ring)
{
    struct co_import_metric *m = v->metric;
    const GEOSCoordSequence *s = GEOSGeom_getCoordSeq_r(v->gc, ring);
    unsigned n = 0;
    if (!s || !GEOSCoordSeq_getSize_r(v->gc, s, &n) || n < 4)
        return 0;
    m->buf = co_xgrow(m->buf, &m->cap, n, 2 * sizeof *m->buf);
    if (!GEOSCoordSeq_copyToBuffer_r(v->gc, s, m->buf, 0, 0))
        return NAN;
    size_t st = 2 * sizeof(double);
    if (proj_trans_generic(m->pj, PJ_FWD, m->buf, st, n, m->buf + 1, st, n, NULL, 0, 0, NULL,
                           0, 0) != n)
        return NAN;
    /* shoelace relative to the first point, for precision */
    double x0 = m->buf[0], y0 = m->buf[1], a = 0;
    for (unsigned i = 1; i + 1 < n; i++)
        a += (m->buf[2 * i] - x0) * (m->buf[2 * i + 3] - y0) -
             (m->buf[2 * i + 2] - x0) * (m->buf[2 * i + 1] - y0);
    return fabs(a) / 2;
}

/* Area in m² of the polygonal parts of g, vertices projected as they are. */
static double projected_area(co_import_vctx *v, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(v->gc, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(v->gc, g))
            return 0;
        double a = ring_m2(v, GEOSGetExteriorRing_r(v->gc, g));
        int nh = GEOSGetNumInteriorRings_r(v->gc, g);
        for (int i = 0; i < nh; i++)
            a -= ring_m2(v, GEOSGetInteriorRingN_r(v->gc, g, i));
        return a;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        double a = 0;
        int ng = GEOSGetNumGeometries_r(v->gc, g);
        for (int i = 0; i < ng; i++)
            a += projected_area(v, GEOSGetGeometryN_r(v->gc, g, i));
        return a;
    }
    return 0;
}

/* Area in m² of the polygonal parts of g (lines and points count 0).
 * Edges are straight in lon/lat (as GeoJSON says and as GEOS computed the
 * overlay); projected, such an edge is a slight curve, so g is densified to
 * segments of at most CO_IMPORT_DENSIFY_DEG first. Without that, a sliver
 * that is exactly zero in lon/lat (a vertex lying on a 10 km edge of the
 * neighbour) measures tens of m² between the chord and the curve. */
static double metric_area(co_import_vctx *v, const GEOSGeometry *g)
{
    GEOSGeometry *dense = GEOSDensify_r(v->gc, g, CO_IMPORT_DENSIFY_DEG);
    double a = projected_area(v, dense ? dense : g);
    if (dense)
        GEOSGeom_destroy_r(v->gc, dense);
    return a;
}

/* A point inside the largest polygonal part of g (by area in degrees, which
 * orders parts the same way as m² at city scale). NaN when g has none. */
static void where(co_import_vctx *v, const GEOSGeometry *g, double *lon, double *lat)
{
    *lon = *lat = NAN;
    const GEOSGeometry *best = NULL;
    double best_a = -1;
    int t = GEOSGeomTypeId_r(v->gc, g);
    if (t == GEOS_POLYGON) {
        best = g;
    } else if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int ng = GEOSGetNumGeometries_r(v->gc, g);
        for (int i = 0; i < ng; i++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(v->gc, g, i);
            double a = 0;
            if (GEOSGeomTypeId_r(v->gc, p) == GEOS_POLYGON && GEOSArea_r(v->gc, p, &a) &&
                a > best_a) {
                best = p;
                best_a = a;
            }
        }
    }
    if (!best)
        return;
    GEOSGeometry *pt = GEOSPointOnSurface_r(v->gc, best);
    if (pt && !GEOSisEmpty_r(v->gc, pt)) {
        GEOSGeomGetX_r(v->gc, pt, lon);
        GEOSGeomGetY_r(v->gc, pt, lat);
    }
    if (pt)
        GEOSGeom_destroy_r(v->gc, pt);
}

/* ---- context ------------------------------------------------------------- */

static void on_geos_error(const char *msg, void *ud)
{
    co_import_vctx *v = ud;
    snprintf(v->geos_msg, sizeof v->geos_msg, "%s", msg ? msg : "?");
}

co_err co_import_vctx_init(co_import_vctx *v, co_level level, co_import_report *rep)
{
    memset(v, 0, sizeof *v);
    v->level = level;
    v->rep = rep;
    if ((unsigned)level < CO_LEVEL_DISTRICT || (unsigned)level > CO_LEVEL_GRID)
        return CO_EINVAL;
    v->gc = GEOS_init_r();
    if (!v->gc)
        return CO_EGEOM;
    GEOSContext_setErrorMessageHandler_r(v->gc, on_geos_error, v);
    return CO_OK;
}

void co_import_vctx_free(co_import_vctx *v)
{
    if (!v->gc)
        return;
    for (size_t i = 0; i < v->n; i++) {
        co_import_feat *f = &v->f[i];
        if (f->prep)
            GEOSPreparedGeom_destroy_r(v->gc, f->prep);
        if (f->g)
            GEOSGeom_destroy_r(v->gc, f->g);
        co_free(f->name);
        co_free(f->geojson);
    }
    for (size_t i = 0; i < v->nparents; i++) {
        if (v->parents[i].prep)
            GEOSPreparedGeom_destroy_r(v->gc, v->parents[i].prep);
        if (v->parents[i].g)
            GEOSGeom_destroy_r(v->gc, v->parents[i].g);
    }
    co_free(v->f);
    co_free(v->parents);
    metric_close(v->metric);
    GEOS_finish_r(v->gc);
    memset(v, 0, sizeof *v);
}

/* ---- geometry parsing ------------------------------------------------------ */

typedef struct gparse {
    co_import_vctx *v;
    co_import_feat *f;
    co_buf text;      /* normalised GeoJSON */
    double *xy;       /* scratch ring */
    size_t cap;
    size_t npoints;   /* so far in this feature */
    int bad;          /* a problem was reported */
} gparse;

/* Coordinates are kept at full double precision (no rounding: rounding to
 * 1e-7° moves vertices that lie on a neighbour's edge by up to ~0.5 cm, and
 * along a long boundary that alone makes more than 1 m² of overlap; see
 * docs/internals/import.md). -0 becomes 0. */
static double norm(double x)
{
    return x == 0 ? 0.0 : x;
}

/* Appends x in its shortest form that reads back as the same double. */
static co_err put_num(co_buf *b, double x)
{
    char s[48];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(s, sizeof s, "%.*g", prec, x);
        if (n <= 0 || (size_t)n >= sizeof s)
            return CO_EINTERNAL;
        if (strtod(s, NULL) == x)
            break;
    }
    return co_buf_append(b, s, (size_t)n);
}

/* Marks the feature's first usable vertex as its location. */
static void locate_once(co_import_feat *f, double lon, double lat)
{
    if (isnan(f->lon)) {
        f->lon = lon;
        f->lat = lat;
    }
}

/* Reads ring json into gp->xy as rounded lon/lat pairs; *n_out points.
 * Returns 0 when a problem was reported (label names the ring). */
static int read_ring(gparse *gp, json_t *ring, const char *label, size_t *n_out)
{
    co_import_vctx *v = gp->v;
    co_import_feat *f = gp->f;
    if (!json_is_array(ring)) {
        feat_problem(v, f, f->lon, f->lat, "环不是数组 / %s is not an array of positions", label);
        return 0;
    }
    size_t n = json_array_size(ring);
    gp->npoints += n;
    if (gp->npoints > CO_IMPORT_MAX_POINTS) {
        feat_problem(v, f, f->lon, f->lat, "点数过多 / more than %u points", CO_IMPORT_MAX_POINTS);
        return 0;
    }
    gp->xy = co_xgrow(gp->xy, &gp->cap, n + 1, 2 * sizeof *gp->xy);
    double plon = NAN, plat = NAN; /* previous good vertex */
    for (size_t i = 0; i < n; i++) {
        json_t *pos = json_array_get(ring, i);
        json_t *jx = json_array_get(pos, 0), *jy = json_array_get(pos, 1);
        if (!json_is_array(pos) || json_array_size(pos) < 2 || json_is_null(jx) ||
            json_is_null(jy) || !json_is_number(jx) || !json_is_number(jy)) {
            int nonfinite = json_is_array(pos) && (json_is_null(jx) || json_is_null(jy));
            feat_problem(v, f, isnan(plon) ? f->lon : plon, isnan(plon) ? f->lat : plat,
                         nonfinite ? "坐标不是有限数 / %s point %zu: coordinate is not a finite "
                                     "number"
                                   : "坐标格式错误 / %s point %zu is not [lon, lat]",
                         label, i + 1);
            return 0;
        }
        double x = json_number_value(jx), y = json_number_value(jy);
        if (!isfinite(x) || !isfinite(y)) {
            feat_problem(v, f, isnan(plon) ? f->lon : plon, isnan(plon) ? f->lat : plat,
                         "坐标不是有限数 / %s point %zu: coordinate is not a finite number",
                         label, i + 1);
            return 0;
        }
        if (!co_coord_valid(x, y)) {
            feat_problem(v, f, x, y, "坐标超出经纬度范围 / %s point %zu (%g, %g) is outside "
                                     "lon [-180,180] / lat [-90,90]",
                         label, i + 1, x, y);
            return 0;
        }
        gp->xy[2 * i] = norm(x);
        gp->xy[2 * i + 1] = norm(y);
        plon = x;
        plat = y;
        locate_once(f, x, y);
    }
    if (n < 4) {
        feat_problem(v, f, f->lon, f->lat,
                     "环点数不足 / %s has %zu points; a closed ring needs at least 4", label, n);
        return 0;
    }
    if (gp->xy[0] != gp->xy[2 * n - 2] || gp->xy[1] != gp->xy[2 * n - 1]) {
        feat_problem(v, f, gp->xy[2 * n - 2], gp->xy[2 * n - 1],
                     "环未闭合 / %s is not closed (first point != last point)", label);
        return 0;
    }
    *n_out = n;
    return 1;
}

/* Twice the signed area in degrees² (> 0 counter-clockwise). */
static double signed2(const double *xy, size_t n)
{
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++)
        a += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) -
             (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    return a;
}

static void reverse(double *xy, size_t n)
{
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        double tx = xy[2 * i], ty = xy[2 * i + 1];
        xy[2 * i] = xy[2 * j];
        xy[2 * i + 1] = xy[2 * j + 1];
        xy[2 * j] = tx;
        xy[2 * j + 1] = ty;
    }
}

/* Parses one ring, orients it (RFC 7946: exterior counter-clockwise, holes
 * clockwise), appends its text and returns it as a GEOS linear ring (caller
 * owns) or NULL after reporting a problem. */
static GEOSGeometry *parse_ring(gparse *gp, json_t *ring, int hole, const char *label)
{
    size_t n = 0;
    if (!read_ring(gp, ring, label, &n))
        return NULL;
    double s = signed2(gp->xy, n);
    if ((!hole && s < 0) || (hole && s > 0))
        reverse(gp->xy, n);
    co_err rc = co_buf_puts(&gp->text, "[");
    for (size_t i = 0; !rc && i < n; i++) {
        rc = co_buf_puts(&gp->text, i ? ",[" : "[");
        if (!rc)
            rc = put_num(&gp->text, gp->xy[2 * i]);
        if (!rc)
            rc = co_buf_puts(&gp->text, ",");
        if (!rc)
            rc = put_num(&gp->text, gp->xy[2 * i + 1]);
        if (!rc)
            rc = co_buf_puts(&gp->text, "]");
    }
    if (!rc)
        rc = co_buf_puts(&gp->text, "]");
    if (rc) {
        feat_problem(gp->v, gp->f, gp->f->lon, gp->f->lat,
                     "几何过大 / geometry text longer than %u bytes", CO_IMPORT_GEOJSON_MAX);
        return NULL;
    }
    GEOSContextHandle_t gc = gp->v->gc;
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(gc, gp->xy, (unsigned)n, 0, 0);
    GEOSGeometry *lr = seq ? GEOSGeom_createLinearRing_r(gc, seq) : NULL;
    if (!lr)
        feat_problem(gp->v, gp->f, gp->f->lon, gp->f->lat, "几何无效 / %s: %s", label,
                     gp->v->geos_msg);
    return lr;
}

/* Parses a Polygon's coordinates (array of rings). poly_no > 0 names the
 * polygon inside a MultiPolygon. Returns a GEOS polygon (caller owns) or NULL
 * after reporting a problem. */
static GEOSGeometry *parse_polygon(gparse *gp, json_t *rings, size_t poly_no)
{
    GEOSContextHandle_t gc = gp->v->gc;
    GEOSGeometry *shell = NULL, **holes = NULL, *poly = NULL;
    size_t nh = 0;
    if (!json_is_array(rings) || json_array_size(rings) == 0) {
        feat_problem(gp->v, gp->f, gp->f->lon, gp->f->lat,
                     "多边形没有环 / polygon %zu has no rings", poly_no ? poly_no : 1);
        return NULL;
    }
    size_t nr = json_array_size(rings);
    holes = co_xcalloc(nr, sizeof *holes);
    if (co_buf_puts(&gp->text, "["))
        goto out;
    for (size_t r = 0; r < nr; r++) {
        char label[64];
        if (poly_no)
            snprintf(label, sizeof label, "polygon %zu ring %zu", poly_no, r + 1);
        else
            snprintf(label, sizeof label, "ring %zu", r + 1);
        if (r && co_buf_puts(&gp->text, ","))
            goto out;
        GEOSGeometry *lr = parse_ring(gp, json_array_get(rings, r), r > 0, label);
        if (!lr)
            goto out;
        if (r == 0)
            shell = lr;
        else
            holes[nh++] = lr;
    }
    if (co_buf_puts(&gp->text, "]"))
        goto out;
    poly = GEOSGeom_createPolygon_r(gc, shell, holes, (unsigned)nh);
    if (poly) {
        shell = NULL; /* owned by poly now */
        nh = 0;
    } else {
        feat_problem(gp->v, gp->f, gp->f->lon, gp->f->lat, "几何无效 / %s", gp->v->geos_msg);
    }
out:
    if (shell)
        GEOSGeom_destroy_r(gc, shell);
    for (size_t i = 0; i < nh; i++)
        GEOSGeom_destroy_r(gc, holes[i]);
    co_free(holes);
    return poly;
}

/* Parses the geometry member into f->g (valid) and f->geojson, or reports. */
static void parse_geometry(co_import_vctx *v, co_import_feat *f, json_t *geom)
{
    gparse gp = {.v = v, .f = f};
    co_buf_init(&gp.text, CO_IMPORT_GEOJSON_MAX);
    GEOSGeometry *g = NULL, **parts = NULL;
    size_t np = 0, nparts = 0;
    const char *type = json_string_value(json_object_get(geom, "type"));
    json_t *coords = json_object_get(geom, "coordinates");
    if (!json_is_object(geom) || !type ||
        (strcmp(type, "Polygon") != 0 && strcmp(type, "MultiPolygon") != 0)) {
        feat_problem(v, f, NAN, NAN,
                     "几何类型错误 / geometry must be a Polygon or MultiPolygon (got %.40s)",
                     !geom || json_is_null(geom) ? "null" : type ? type : "no type");
        goto out;
    }
    if (co_buf_printf(&gp.text, "{\"type\":\"%s\",\"coordinates\":", type))
        goto out;
    if (!strcmp(type, "Polygon")) {
        g = parse_polygon(&gp, coords, 0);
    } else {
        if (!json_is_array(coords) || (np = json_array_size(coords)) == 0) {
            feat_problem(v, f, NAN, NAN, "几何为空 / MultiPolygon has no polygons");
            goto out;
        }
        parts = co_xcalloc(np, sizeof *parts);
        if (co_buf_puts(&gp.text, "["))
            goto out;
        for (size_t i = 0; i < np; i++) {
            if (i && co_buf_puts(&gp.text, ","))
                goto out;
            if (!(parts[nparts] = parse_polygon(&gp, json_array_get(coords, i), i + 1)))
                goto out;
            nparts++;
        }
        if (co_buf_puts(&gp.text, "]"))
            goto out;
        g = GEOSGeom_createCollection_r(v->gc, GEOS_MULTIPOLYGON, parts, (unsigned)nparts);
        if (g)
            nparts = 0; /* owned by g */
        else
            feat_problem(v, f, f->lon, f->lat, "几何无效 / %s", v->geos_msg);
    }
    if (!g || co_buf_puts(&gp.text, "}"))
        goto out;
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    char valid = GEOSisValidDetail_r(v->gc, g, 0, &reason, &loc);
    if (valid != 1) {
        double lon = f->lon, lat = f->lat;
        if (loc && !GEOSisEmpty_r(v->gc, loc)) {
            GEOSGeomGetX_r(v->gc, loc, &lon);
            GEOSGeomGetY_r(v->gc, loc, &lat);
        }
        feat_problem(v, f, lon, lat, "几何无效 / invalid geometry: %s",
                     valid == 0 && reason ? reason : v->geos_msg);
        GEOSGeom_destroy_r(v->gc, g);
        g = NULL;
    }
    if (reason)
        GEOSFree_r(v->gc, reason);
    if (loc)
        GEOSGeom_destroy_r(v->gc, loc);
    if (!g)
        goto out;
    f->g = g;
    g = NULL;
    f->geojson = co_buf_take(&gp.text);
    where(v, f->g, &f->cx, &f->cy);
    f->lon = f->cx;
    f->lat = f->cy;
    GEOSGeom_getExtent_r(v->gc, f->g, &f->minx, &f->miny, &f->maxx, &f->maxy);
out:
    for (size_t i = 0; i < nparts; i++)
        GEOSGeom_destroy_r(v->gc, parts[i]);
    co_free(parts);
    if (g)
        GEOSGeom_destroy_r(v->gc, g);
    co_buf_free(&gp.text);
    co_free(gp.xy);
}

/* ---- properties and hierarchy ------------------------------------------- */

static int parent_cmp(const void *a, const void *b)
{
    return strcmp(((const co_import_parent *)a)->code, ((const co_import_parent *)b)->code);
}

static int find_parent(const co_import_vctx *v, const char *code)
{
    size_t lo = 0, hi = v->nparents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v->parents[mid].code, code);
        if (!c)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

typedef struct parent_load {
    co_import_vctx *v;
    GEOSGeoJSONReader *reader;
} parent_load;

static int load_parent(void *ctx, const co_area_rec *rec)
{
    parent_load *pl = ctx;
    co_import_vctx *v = pl->v;
    v->parents = co_xgrow(v->parents, &v->capparents, v->nparents + 1, sizeof *v->parents);
    co_import_parent *p = &v->parents[v->nparents++];
    memset(p, 0, sizeof *p);
    snprintf(p->code, sizeof p->code, "%s", rec->code);
    if (rec->geometry && *rec->geometry) {
        p->g = GEOSGeoJSONReader_readGeometry_r(v->gc, pl->reader, rec->geometry);
        if (!p->g)
            co_log_warn("msg=\"stored geometry unreadable; containment not checked\" code=%s "
                        "geos=\"%s\"",
                        rec->code, v->geos_msg);
    }
    return 0;
}

static co_err load_parents(co_import_vctx *v, co_store *st)
{
    parent_load pl = {v, GEOSGeoJSONReader_create_r(v->gc)};
    if (!pl.reader)
        return CO_EGEOM;
    co_err rc = co_store_areas_each(st, (int)v->level - 1, 1, load_parent, &pl);
    GEOSGeoJSONReader_destroy_r(v->gc, pl.reader);
    if (rc)
        return rc;
    if (v->nparents)
        qsort(v->parents, v->nparents, sizeof *v->parents, parent_cmp);
    return CO_OK;
}

/* Copies a string property into out (n bytes). Returns 1 when present as a
 * string, 0 when missing/null, -1 when present but not a string. */
static int str_prop(json_t *props, const char *key, char *out, size_t n)
{
    json_t *j = json_object_get(props, key);
    out[0] = '\0';
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_string(j))
        return -1;
    snprintf(out, n, "%s", json_string_value(j));
    return 1;
}

static void check_code(co_import_vctx *v, co_import_feat *f, int has_code)
{
    unsigned want = code_len[v->level];
    if (has_code <= 0 || !f->code[0]) {
        feat_problem(v, f, f->lon, f->lat, "缺少编码 / missing property \"code\" (a string)");
        return;
    }
    if (!co_is_digits(f->code, want)) {
        feat_problem(v, f, f->lon, f->lat, "编码应为 %u 位数字 / code of a %s must be %u digits",
                     want, co_level_name(v->level), want);
        return;
    }
    f->code_ok = 1;
}

static void check_parent(co_import_vctx *v, co_import_feat *f, int has_parent)
{
    unsigned plen = code_len[v->level - 1];
    const char *up = co_level_name((co_level)(v->level - 1));
    if (has_parent < 0) {
        feat_problem(v, f, f->lon, f->lat, "上级编码格式错误 / property \"parent\" must be a string");
        return;
    }
    if (v->level == CO_LEVEL_DISTRICT) {
        /* a city code (4 or 6 digits) or nothing */
        if (!f->parent[0])
            return;
        if ((!co_is_digits(f->parent, 4) && !co_is_digits(f->parent, 6)) ||
            (f->code_ok && strncmp(f->code, f->parent, 4) != 0)) {
            feat_problem(v, f, f->lon, f->lat,
                         "上级编码不符 / parent %.20s of a district must be empty or its city "
                         "code (4 or 6 digits starting with the district's first 4)",
                         f->parent);
            return;
        }
        f->parent_idx = find_parent(v, f->parent);
        return;
    }
    if (!f->parent[0]) {
        feat_problem(v, f, f->lon, f->lat, "缺少上级编码 / missing property \"parent\" (the %s code)",
                     up);
        return;
    }
    if (!co_is_digits(f->parent, plen)) {
        feat_problem(v, f, f->lon, f->lat, "上级编码应为 %u 位数字 / parent %.20s must be a %u-digit "
                                           "%s code",
                     plen, f->parent, plen, up);
        return;
    }
    if (f->code_ok && strncmp(f->code, f->parent, plen) != 0) {
        feat_problem(v, f, f->lon, f->lat,
                     "编码与上级不符 / code does not start with its parent's code %s", f->parent);
        return;
    }
    f->parent_idx = find_parent(v, f->parent);
    if (f->parent_idx < 0)
        feat_problem(v, f, f->lon, f->lat,
                     "上级不存在 / unknown parent %s: no %s with that code in the store (import "
                     "the %s level first)",
                     f->parent, up, up);
}

static void check_name(co_import_vctx *v, co_import_feat *f, json_t *props)
{
    json_t *j = json_object_get(props, "name");
    const char *s = json_string_value(j);
    size_t len = s ? json_string_length(j) : 0;
    int blank = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            blank = 0;
    if (!s || blank) {
        feat_problem(v, f, f->lon, f->lat, "缺少名称 / missing property \"name\" (a non-empty "
                                           "string)");
        return;
    }
    if (len > CO_IMPORT_NAME_MAX || strlen(s) != len) {
        feat_problem(v, f, f->lon, f->lat, "名称过长或含 NUL / name longer than %d bytes or "
                                           "contains NUL",
                     CO_IMPORT_NAME_MAX);
        return;
    }
    f->name = co_xstrdup(s);
}

static void parse_feature(co_import_vctx *v, co_import_feat *f, json_t *feat)
{
    const char *type = json_string_value(json_object_get(feat, "type"));
    json_t *props = json_object_get(feat, "properties");
    int has_code = 0, has_parent = 0;
    if (json_is_object(props)) {
        has_code = str_prop(props, "code", f->code, sizeof f->code);
        has_parent = str_prop(props, "parent", f->parent, sizeof f->parent);
    }
    if (!json_is_object(feat) || !type || strcmp(type, "Feature") != 0) {
        feat_problem(v, f, NAN, NAN, "不是 Feature / element is not a GeoJSON Feature");
        return;
    }
    parse_geometry(v, f, json_object_get(feat, "geometry"));
    if (!json_is_object(props)) {
        feat_problem(v, f, f->lon, f->lat, "缺少属性 / missing \"properties\" object");
        return;
    }
    check_code(v, f, has_code);
    check_name(v, f, props);
    check_parent(v, f, has_parent);
    /* "level" is optional (export writes it); when present it must agree */
    const char *lv = json_string_value(json_object_get(props, "level"));
    if (lv && strcmp(lv, co_level_name(v->level)) != 0)
        feat_problem(v, f, f->lon, f->lat, "层级不符 / feature says level \"%.20s\" but the "
                                           "import is for level %s",
                     lv, co_level_name(v->level));
}

static int feat_code_cmp(const void *a, const void *b)
{
    const co_import_feat *x = *(co_import_feat *const *)a, *y = *(co_import_feat *const *)b;
    int c = strcmp(x->code, y->code);
    return c ? c : (x->index < y->index ? -1 : x->index > y->index);
}

static void check_duplicates(co_import_vctx *v)
{
    co_import_feat **s = co_xcalloc(v->n + 1, sizeof *s);
    for (size_t i = 0; i < v->n; i++)
        s[i] = &v->f[i];
    qsort(s, v->n, sizeof *s, feat_code_cmp);
    for (size_t i = 1; i < v->n; i++) {
        if (!s[i]->code[0] || strcmp(s[i]->code, s[i - 1]->code) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && !strcmp(s[first - 1]->code, s[i]->code))
            first--;
        feat_problem(v, s[i], s[i]->lon, s[i]->lat,
                     "编码重复 / duplicate code (also feature #%zu)", s[first]->index);
    }
    co_free(s);
}

/* ---- spatial checks --------------------------------------------------------- */

static const GEOSPreparedGeometry *feat_prep(co_import_vctx *v, co_import_feat *f)
{
    if (!f->prep)
        f->prep = GEOSPrepare_r(v->gc, f->g);
    return f->prep;
}

static void geos_failed(co_import_vctx *v, co_import_feat *f, const char *what)
{
    feat_problem(v, f, f->lon, f->lat, "几何运算失败 / GEOS failed computing %s: %s", what,
                 v->geos_msg);
}

/* Area of f outside its parent must be <= the tolerance. */
static void check_inside_parent(co_import_vctx *v, co_import_feat *f)
{
    co_import_parent *p = &v->parents[f->parent_idx];
    if (!p->g)
        return;
    if (!p->prep)
        p->prep = GEOSPrepare_r(v->gc, p->g);
    if (p->prep && GEOSPreparedCovers_r(v->gc, p->prep, f->g) == 1)
        return;
    GEOSGeometry *d = GEOSDifference_r(v->gc, f->g, p->g);
    if (!d) {
        geos_failed(v, f, "the area outside its parent");
        return;
    }
    double a = metric_area(v, d);
    if (!(a <= CO_IMPORT_TOLERANCE_M2)) {
        double lon, lat;
        where(v, d, &lon, &lat);
        feat_problem(v, f, lon, lat, "超出上级范围 / %.1f m² lie outside its parent %s", a,
                     p->code);
    }
    GEOSGeom_destroy_r(v->gc, d);
}

typedef struct hits {
    size_t *v;
    size_t n, cap;
    const co_import_feat *base;
} hits;

static void on_hit(void *item, void *ud)
{
    hits *h = ud;
    h->v = co_xgrow(h->v, &h->cap, h->n + 1, sizeof *h->v);
    h->v[h->n++] = (size_t)((const co_import_feat *)item - h->base);
}

/* An upper bound in m² of the area two bounding boxes share (0 when they
 * only touch): the cheap filter in front of GEOSIntersection. */
static double shared_box_m2(const co_import_feat *a, const co_import_feat *b)
{
    double dx = fmin(a->maxx, b->maxx) - fmax(a->minx, b->minx);
    double dy = fmin(a->maxy, b->maxy) - fmax(a->miny, b->miny);
    if (dx <= 0 || dy <= 0)
        return 0;
    double lo = fmax(a->miny, b->miny), hi = fmin(a->maxy, b->maxy);
    double c = (lo <= 0 && hi >= 0) ? 1.0 : cos(fmin(fabs(lo), fabs(hi)) * M_PI / 180.0);
    return dx * 111321.0 * c * dy * 111700.0 * 1.01;
}

static int check_pair(co_import_vctx *v, co_import_feat *a, co_import_feat *b)
{
    if (shared_box_m2(a, b) <= CO_IMPORT_TOLERANCE_M2)
        return 0;
    const GEOSPreparedGeometry *pa = feat_prep(v, a);
    if (pa && GEOSPreparedIntersects_r(v->gc, pa, b->g) == 0)
        return 0;
    GEOSGeometry *x = GEOSIntersection_r(v->gc, a->g, b->g);
    if (!x) {
        geos_failed(v, a, "an overlap");
        return 0;
    }
    double m2 = metric_area(v, x);
    int hit = !(m2 <= CO_IMPORT_TOLERANCE_M2);
    if (hit) {
        double lon, lat;
        where(v, x, &lon, &lat);
        char other[40];
        if (b->code[0])
            snprintf(other, sizeof other, "%s", b->code);
        else
            snprintf(other, sizeof other, "#%zu", b->index);
        feat_problem(v, a, lon, lat, "与 %s 重叠 / overlaps %s by %.1f m²", other, other, m2);
    }
    GEOSGeom_destroy_r(v->gc, x);
    return hit;
}

static void check_overlaps(co_import_vctx *v)
{
    GEOSSTRtree *tree = GEOSSTRtree_create_r(v->gc, 10);
    hits h = {.base = v->f};
    if (!tree) {
        co_import_problem_add(v->rep, NULL, (size_t)-1, NAN, NAN,
                              "几何运算失败 / GEOS cannot build an STRtree: %s", v->geos_msg);
        return;
    }
    for (size_t i = 0; i < v->n; i++)
        if (v->f[i].g)
            GEOSSTRtree_insert_r(v->gc, tree, v->f[i].g, &v->f[i]);
    for (size_t i = 0; i < v->n; i++) {
        co_import_feat *a = &v->f[i];
        if (!a->g)
            continue;
        h.n = 0;
        GEOSSTRtree_query_r(v->gc, tree, a->g, on_hit, &h);
        int found = 0;
        for (size_t k = 0; k < h.n && found < CO_IMPORT_MAX_OVERLAPS; k++)
            if (h.v[k] > i)
                found += check_pair(v, a, &v->f[h.v[k]]);
    }
    co_free(h.v);
    GEOSSTRtree_destroy_r(v->gc, tree);
}

static int by_parent(const void *a, const void *b)
{
    const co_import_feat *x = *(co_import_feat *const *)a, *y = *(co_import_feat *const *)b;
    return x->parent_idx < y->parent_idx ? -1 : x->parent_idx > y->parent_idx;
}

/* The grids of one community (fs[0..k), all with geometry) must cover it. */
static void check_cover(co_import_vctx *v, co_import_parent *p, co_import_feat **fs, size_t k)
{
    GEOSGeometry **clones = co_xcalloc(k, sizeof *clones);
    GEOSGeometry *coll = NULL, *u = NULL, *d = NULL;
    size_t nc = 0;
    for (; nc < k; nc++)
        if (!(clones[nc] = GEOSGeom_clone_r(v->gc, fs[nc]->g)))
            goto fail;
    coll = GEOSGeom_createCollection_r(v->gc, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)k);
    if (!coll)
        goto fail;
    nc = 0; /* owned by coll */
    if (!(u = GEOSUnaryUnion_r(v->gc, coll)) || !(d = GEOSDifference_r(v->gc, p->g, u)))
        goto fail;
    int ng = GEOSGetNumGeometries_r(v->gc, d);
    for (int i = 0; i < ng; i++) {
        const GEOSGeometry *piece = GEOSGetGeometryN_r(v->gc, d, i);
        double a = metric_area(v, piece);
        if (a <= CO_IMPORT_TOLERANCE_M2)
            continue;
        double lon, lat;
        where(v, piece, &lon, &lat);
        co_import_problem_add(v->rep, p->code, 0, lon, lat,
                              "社区内有空隙 / gap of %.1f m² inside the community not covered by "
                              "its grids",
                              a);
    }
    goto out;
fail:
    co_import_problem_add(v->rep, p->code, 0, NAN, NAN,
                          "几何运算失败 / GEOS failed computing the union of its grids: %s",
                          v->geos_msg);
out:
    for (size_t i = 0; i < nc; i++)
        GEOSGeom_destroy_r(v->gc, clones[i]);
    co_free(clones);
    if (coll)
        GEOSGeom_destroy_r(v->gc, coll);
    if (u)
        GEOSGeom_destroy_r(v->gc, u);
    if (d)
        GEOSGeom_destroy_r(v->gc, d);
}

/* Groups grids by community; communities whose grids all have a usable
 * geometry are checked for gaps (an ungridded community has no features
 * here and is fine). */
static void check_gaps(co_import_vctx *v)
{
    co_import_feat **s = co_xcalloc(v->n + 1, sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->f[i].parent_idx >= 0)
            s[m++] = &v->f[i];
    qsort(s, m, sizeof *s, by_parent);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        int all_ok = 1;
        while (j < m && s[j]->parent_idx == s[i]->parent_idx)
            all_ok &= s[j++]->g != NULL;
        co_import_parent *p = &v->parents[s[i]->parent_idx];
        if (all_ok && p->g)
            check_cover(v, p, s + i, j - i);
        i = j;
    }
    co_free(s);
}

/* ---- the whole validation --------------------------------------------------- */

static co_err compute_areas(co_import_vctx *v)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t i = 0; i < v->n; i++) {
        const co_import_feat *f = &v->f[i];
        if (!f->g)
            continue;
        minx = fmin(minx, f->minx);
        miny = fmin(miny, f->miny);
        maxx = fmax(maxx, f->maxx);
        maxy = fmax(maxy, f->maxy);
    }
    if (!(minx <= maxx))
        return CO_OK; /* no usable geometry */
    co_err rc = metric_open((minx + maxx) / 2, (miny + maxy) / 2, &v->metric);
    if (rc)
        return rc;
    for (size_t i = 0; i < v->n; i++) {
        co_import_feat *f = &v->f[i];
        if (!f->g)
            continue;
        f->area_m2 = metric_area(v, f->g);
        if (!isfinite(f->area_m2))
            feat_problem(v, f, f->lon, f->lat, "无法计算面积 / PROJ cannot compute the area");
    }
    return CO_OK;
}

co_err co_import_validate(co_import_vctx *v, co_store *st, json_t *fc)
{
    const char *type = json_string_value(json_object_get(fc, "type"));
    json_t *features = json_object_get(fc, "features");
    if (!json_is_object(fc) || !type || strcmp(type, "FeatureCollection") != 0 ||
        !json_is_array(features)) {
        co_import_problem_add(v->rep, NULL, (size_t)-1, NAN, NAN,
                              "不是 FeatureCollection / the file is not a GeoJSON "
                              "FeatureCollection with a \"features\" array");
        return CO_OK;
    }
    size_t n = json_array_size(features);
    v->rep->nfeatures = n;
    if (n == 0 || n > CO_IMPORT_MAX_FEATURES) {
        co_import_problem_add(v->rep, NULL, (size_t)-1, NAN, NAN,
                              n ? "要素过多 / more than %u features"
                                : "没有要素 / the FeatureCollection is empty (%u allowed)",
                              CO_IMPORT_MAX_FEATURES);
        return CO_OK;
    }
    co_err rc = load_parents(v, st);
    if (rc)
        return rc;
    double t[6];
    t[0] = co_time_mono();
    v->f = co_xcalloc(n, sizeof *v->f);
    v->cap = n;
    for (size_t i = 0; i < n; i++) {
        co_import_feat *f = &v->f[v->n++];
        f->index = i;
        f->parent_idx = -1;
        f->lon = f->lat = f->cx = f->cy = NAN;
        parse_feature(v, f, json_array_get(features, i));
    }
    check_duplicates(v);
    t[1] = co_time_mono();
    if ((rc = compute_areas(v)))
        return rc;
    t[2] = co_time_mono();
    for (size_t i = 0; i < v->n; i++)
        if (v->f[i].g && v->f[i].parent_idx >= 0)
            check_inside_parent(v, &v->f[i]);
    t[3] = co_time_mono();
    check_overlaps(v);
    t[4] = co_time_mono();
    if (v->level == CO_LEVEL_GRID)
        check_gaps(v);
    t[5] = co_time_mono();
    co_log(CO_LOG_DEBUG,
           "msg=\"validation phases\" level=%s features=%zu parse=%.3f areas=%.3f parent=%.3f "
           "overlaps=%.3f gaps=%.3f",
           co_level_name(v->level), v->n, t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3],
           t[5] - t[4]);
    return CO_OK;
}
