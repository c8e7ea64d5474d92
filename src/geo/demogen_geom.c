/* demogen_geom.c — GEOS helpers for the demo-city generator: the metric
 * frame, the PRNG, polygonal clean-up, GeoJSON → GEOS, seeded sampling and
 * the Voronoi partition (communities in a street, zone parks, and the small
 * cells streets are grown from in demogen_grow.c). GEOS only through the reentrant _r API with the caller's
 * context; every function says which geometries it consumes, and every
 * geometry it returns is owned by the caller (GEOSGeom_destroy_r). */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "demogen_int.h"
#include "lib/alloc.h"
#include "lib/log.h"

/* ---- PRNG ------------------------------------------------------------------ */

uint64_t co_demogen_rng_next(dg_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void co_demogen_rng_init(dg_rng *r, uint64_t seed, const char *salt)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the salt */
    for (const unsigned char *p = (const unsigned char *)salt; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    r->s = seed ^ h;
    (void)co_demogen_rng_next(r);
}

double co_demogen_rng_unit(dg_rng *r)
{
    return (double)(co_demogen_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- frame: local equirectangular metres around the centre --------------- */

/* Metres per degree of longitude (kx) and latitude (ky) at DG_LAT0 on the
 * WGS84 ellipsoid: prime-vertical and meridional radii of curvature. */
static void frame_k(double *kx, double *ky)
{
    const double a = 6378137.0, e2 = 0.00669437999014;
    double phi = DG_LAT0 * M_PI / 180.0;
    double s = sin(phi);
    double w = sqrt(1.0 - e2 * s * s);
    *kx = a / w * cos(phi) * M_PI / 180.0;
    *ky = a * (1.0 - e2) / (w * w * w) * M_PI / 180.0;
}

void co_demogen_to_frame(double lon, double lat, double *x, double *y)
{
    double kx, ky;
    frame_k(&kx, &ky);
    *x = (lon - DG_LON0) * kx;
    *y = (lat - DG_LAT0) * ky;
}

void co_demogen_from_frame(double x, double y, double *lon, double *lat)
{
    double kx, ky;
    frame_k(&kx, &ky);
    *lon = DG_LON0 + x / kx;
    *lat = DG_LAT0 + y / ky;
}

/* ---- polygonal clean-up ------------------------------------------------------ */

double co_demogen_area(GEOSContextHandle_t gc, const GEOSGeometry *g)
{
    double a = 0;
    if (!g || !GEOSArea_r(gc, g, &a))
        return 0;
    return a;
}

double co_demogen_shared_len(GEOSContextHandle_t gc, const GEOSGeometry *ba, const GEOSGeometry *b)
{
    double len = 0;
    GEOSGeometry *bb = GEOSBoundary_r(gc, b);
    GEOSGeometry *x = bb ? GEOSIntersection_r(gc, ba, bb) : NULL;
    if (x && !GEOSLength_r(gc, x, &len))
        len = 0;
    if (x)
        GEOSGeom_destroy_r(gc, x);
    if (bb)
        GEOSGeom_destroy_r(gc, bb);
    return len;
}

/* Appends clones of the polygons of g with area > min_area to *parts. */
static co_err collect_polys(GEOSContextHandle_t gc, const GEOSGeometry *g, double min_area,
                            GEOSGeometry ***parts, size_t *n, size_t *cap)
{
    int t = GEOSGeomTypeId_r(gc, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(gc, g) || co_demogen_area(gc, g) <= min_area)
            return CO_OK;
        GEOSGeometry *c = GEOSGeom_clone_r(gc, g);
        if (!c)
            return CO_EGEOM;
        *parts = co_xgrow(*parts, cap, *n + 1, sizeof **parts);
        (*parts)[(*n)++] = c;
        return CO_OK;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int k = GEOSGetNumGeometries_r(gc, g);
        for (int i = 0; i < k; i++) {
            co_err rc = collect_polys(gc, GEOSGetGeometryN_r(gc, g, i), min_area, parts, n, cap);
            if (rc != CO_OK)
                return rc;
        }
    }
    return CO_OK; /* points and lines are dropped */
}

/* True when g is already a Polygon/MultiPolygon whose parts all pass. */
static int all_polys_pass(GEOSContextHandle_t gc, const GEOSGeometry *g, double min_area)
{
    int t = GEOSGeomTypeId_r(gc, g);
    if (t == GEOS_POLYGON)
        return !GEOSisEmpty_r(gc, g) && co_demogen_area(gc, g) > min_area;
    if (t != GEOS_MULTIPOLYGON)
        return 0;
    int k = GEOSGetNumGeometries_r(gc, g);
    if (k < 1)
        return 0;
    for (int i = 0; i < k; i++)
        if (!all_polys_pass(gc, GEOSGetGeometryN_r(gc, g, i), min_area))
            return 0;
    return 1;
}

co_err co_demogen_polygonal(GEOSContextHandle_t gc, GEOSGeometry *g, double min_area, GEOSGeometry **out)
{
    co_err rc = CO_OK;
    GEOSGeometry **parts = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    if (!g)
        return CO_EGEOM;
    if (all_polys_pass(gc, g, min_area)) {
        *out = g;
        return CO_OK;
    }
    rc = collect_polys(gc, g, min_area, &parts, &n, &cap);
    if (rc != CO_OK || n == 0)
        goto out;
    if (n == 1) {
        *out = parts[0];
    } else {
        *out = GEOSGeom_createCollection_r(gc, GEOS_MULTIPOLYGON, parts, (unsigned)n);
        if (!*out) {
            rc = CO_EGEOM;
            goto out;
        }
    }
    n = 0; /* ownership of the parts went to *out */
out:
    for (size_t i = 0; i < n; i++)
        GEOSGeom_destroy_r(gc, parts[i]);
    co_free(parts);
    GEOSGeom_destroy_r(gc, g);
    return rc;
}

/* ---- GeoJSON → GEOS ------------------------------------------------------------ */

static co_err ring_from_json(GEOSContextHandle_t gc, const json_t *ring, co_crs crs, GEOSGeometry **out)
{
    co_err rc = CO_OK;
    GEOSCoordSequence *seq = NULL;
    double *xy = NULL;
    *out = NULL;
    size_t n = json_is_array(ring) ? json_array_size(ring) : 0;
    if (n < 3)
        return CO_EINVAL;
    xy = co_xmalloc((n + 1) * 2 * sizeof *xy);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(ring, i);
        if (!json_is_array(p) || json_array_size(p) < 2 || !json_is_number(json_array_get(p, 0)) ||
            !json_is_number(json_array_get(p, 1))) {
            rc = CO_EINVAL;
            goto out;
        }
        double lon, lat;
        rc = co_coord_to_wgs84(crs, json_number_value(json_array_get(p, 0)),
                               json_number_value(json_array_get(p, 1)), &lon, &lat);
        if (rc != CO_OK)
            goto out;
        co_demogen_to_frame(lon, lat, &xy[2 * i], &xy[2 * i + 1]);
    }
    if (xy[0] != xy[2 * n - 2] || xy[1] != xy[2 * n - 1]) { /* close it */
        xy[2 * n] = xy[0];
        xy[2 * n + 1] = xy[1];
        n++;
    }
    if (n < 4) {
        rc = CO_EINVAL;
        goto out;
    }
    seq = GEOSCoordSeq_copyFromBuffer_r(gc, xy, (unsigned)n, 0, 0);
    if (!seq) {
        rc = CO_EGEOM;
        goto out;
    }
    *out = GEOSGeom_createLinearRing_r(gc, seq); /* takes seq */
    seq = NULL;
    if (!*out)
        rc = CO_EGEOM;
out:
    if (seq)
        GEOSCoordSeq_destroy_r(gc, seq);
    co_free(xy);
    return rc;
}

static co_err polygon_from_json(GEOSContextHandle_t gc, const json_t *rings, co_crs crs, GEOSGeometry **out)
{
    co_err rc = CO_OK;
    GEOSGeometry *shell = NULL, **holes = NULL;
    size_t nh = 0;
    *out = NULL;
    size_t n = json_is_array(rings) ? json_array_size(rings) : 0;
    if (n < 1)
        return CO_EINVAL;
    rc = ring_from_json(gc, json_array_get(rings, 0), crs, &shell);
    if (rc != CO_OK)
        goto out;
    holes = co_xcalloc(n, sizeof *holes);
    for (nh = 0; nh + 1 < n; nh++) {
        rc = ring_from_json(gc, json_array_get(rings, nh + 1), crs, &holes[nh]);
        if (rc != CO_OK)
            goto out;
    }
    *out = GEOSGeom_createPolygon_r(gc, shell, holes, (unsigned)nh); /* takes the rings */
    shell = NULL;
    nh = 0;
    if (!*out)
        rc = CO_EGEOM;
out:
    if (shell)
        GEOSGeom_destroy_r(gc, shell);
    for (size_t i = 0; i < nh; i++)
        GEOSGeom_destroy_r(gc, holes[i]);
    co_free(holes);
    return rc;
}

co_err co_demogen_geom_from_geojson(GEOSContextHandle_t gc, const void *json, co_crs crs, GEOSGeometry **out)
{
    co_err rc = CO_OK;
    const json_t *j = json;
    GEOSGeometry *g = NULL, **polys = NULL;
    size_t np = 0;
    *out = NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    const json_t *coords = json_object_get(j, "coordinates");
    if (!type || !json_is_array(coords))
        return CO_EINVAL;
    if (strcmp(type, "Polygon") == 0) {
        rc = polygon_from_json(gc, coords, crs, &g);
    } else if (strcmp(type, "MultiPolygon") == 0) {
        size_t n = json_array_size(coords);
        if (n == 0)
            return CO_EINVAL;
        polys = co_xcalloc(n, sizeof *polys);
        for (np = 0; np < n; np++) {
            rc = polygon_from_json(gc, json_array_get(coords, np), crs, &polys[np]);
            if (rc != CO_OK)
                goto out;
        }
        g = GEOSGeom_createCollection_r(gc, GEOS_MULTIPOLYGON, polys, (unsigned)np);
        np = 0;
        if (!g)
            rc = CO_EGEOM;
    } else {
        return CO_EINVAL;
    }
    if (rc != CO_OK)
        goto out;
    if (GEOSisValid_r(gc, g) != 1) {
        GEOSGeometry *v = GEOSMakeValid_r(gc, g);
        GEOSGeom_destroy_r(gc, g);
        g = v;
    }
    rc = co_demogen_polygonal(gc, g, 0.0, out); /* consumes g */
    g = NULL;
    if (rc == CO_OK && !*out)
        rc = CO_EINVAL;
out:
    if (g)
        GEOSGeom_destroy_r(gc, g);
    for (size_t i = 0; i < np; i++)
        if (polys[i])
            GEOSGeom_destroy_r(gc, polys[i]);
    co_free(polys);
    return rc;
}

/* ---- discs, sampling ------------------------------------------------------------- */

co_err co_demogen_disc(GEOSContextHandle_t gc, double x, double y, double r, GEOSGeometry **out)
{
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(gc, x, y);
    *out = NULL;
    if (!p)
        return CO_EGEOM;
    *out = GEOSBuffer_r(gc, p, r, 16);
    GEOSGeom_destroy_r(gc, p);
    return *out ? CO_OK : CO_EGEOM;
}

/* One uniform random point inside region (rejection in its extent). */
static co_err random_inside(GEOSContextHandle_t gc, const GEOSPreparedGeometry *pg, const double ext[4],
                            dg_rng *rng, double *x, double *y)
{
    for (int tries = 0; tries < 200000; tries++) {
        double px = ext[0] + (ext[2] - ext[0]) * co_demogen_rng_unit(rng);
        double py = ext[1] + (ext[3] - ext[1]) * co_demogen_rng_unit(rng);
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(gc, px, py);
        if (!pt)
            return CO_EGEOM;
        char in = GEOSPreparedContainsProperly_r(gc, pg, pt);
        GEOSGeom_destroy_r(gc, pt);
        if (in == 2)
            return CO_EGEOM;
        if (in) {
            *x = px;
            *y = py;
            return CO_OK;
        }
    }
    return CO_EGEOM;
}

co_err co_demogen_sample(GEOSContextHandle_t gc, const GEOSGeometry *region, dg_rng *rng, double *xs, double *ys,
                 size_t nold, size_t n)
{
    enum { K = 12 };
    co_err rc = CO_OK;
    double ext[4];
    const GEOSPreparedGeometry *pg = NULL;
    if (n == 0)
        return CO_OK;
    if (co_demogen_area(gc, region) <= 1.0 ||
        !GEOSGeom_getExtent_r(gc, region, &ext[0], &ext[1], &ext[2], &ext[3]))
        return CO_EGEOM;
    pg = GEOSPrepare_r(gc, region);
    if (!pg)
        return CO_EGEOM;
    for (size_t i = 0; i < n; i++) {
        size_t have = nold + i;
        double bx = 0, by = 0, best = -1;
        for (int c = 0; c < K; c++) {
            double x, y, d = INFINITY;
            rc = random_inside(gc, pg, ext, rng, &x, &y);
            if (rc != CO_OK)
                goto out;
            for (size_t j = 0; j < have; j++) {
                double dx = x - xs[j], dy = y - ys[j];
                double dd = dx * dx + dy * dy;
                if (dd < d)
                    d = dd;
            }
            if (d > best) {
                best = d;
                bx = x;
                by = y;
            }
            if (have == 0)
                break;
        }
        xs[have] = bx;
        ys[have] = by;
    }
out:
    GEOSPreparedGeom_destroy_r(gc, pg);
    return rc;
}

/* ---- Voronoi partition --------------------------------------------------------- */

/* Voronoi diagram of the sites, covering at least parent's extent. */
static co_err voronoi(GEOSContextHandle_t gc, const GEOSGeometry *parent, const double *xs, const double *ys,
                      size_t n, GEOSGeometry **out)
{
    co_err rc = CO_OK;
    GEOSGeometry *mp = NULL, **pts = co_xcalloc(n, sizeof *pts);
    size_t np = 0;
    *out = NULL;
    for (np = 0; np < n; np++) {
        pts[np] = GEOSGeom_createPointFromXY_r(gc, xs[np], ys[np]);
        if (!pts[np]) {
            rc = CO_EGEOM;
            goto out;
        }
    }
    mp = GEOSGeom_createCollection_r(gc, GEOS_MULTIPOINT, pts, (unsigned)np);
    if (!mp) {
        rc = CO_EGEOM;
        goto out;
    }
    np = 0;
    *out = GEOSVoronoiDiagram_r(gc, mp, parent, 0.0, 0);
    if (!*out)
        rc = CO_EGEOM;
out:
    for (size_t i = 0; i < np; i++)
        GEOSGeom_destroy_r(gc, pts[i]);
    co_free(pts);
    if (mp)
        GEOSGeom_destroy_r(gc, mp);
    return rc;
}

/* Index of the site inside cell (GEOS 3.11 does not keep the input order). */
static co_err match_site(GEOSContextHandle_t gc, const GEOSGeometry *cell, const double *xs, const double *ys,
                         size_t n, GEOSGeometry *const *done, size_t *which)
{
    co_err rc = CO_EINTERNAL;
    const GEOSPreparedGeometry *pc = GEOSPrepare_r(gc, cell);
    if (!pc)
        return CO_EGEOM;
    for (size_t j = 0; j < n; j++) {
        if (done[j])
            continue;
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(gc, xs[j], ys[j]);
        if (!pt) {
            rc = CO_EGEOM;
            break;
        }
        char in = GEOSPreparedIntersects_r(gc, pc, pt);
        GEOSGeom_destroy_r(gc, pt);
        if (in == 1) {
            *which = j;
            rc = CO_OK;
            break;
        }
    }
    GEOSPreparedGeom_destroy_r(gc, pc);
    return rc;
}

/* Index of the part of the multi-polygon m holding (x, y); -1 if none. */
static int part_with(GEOSContextHandle_t gc, const GEOSGeometry *m, double x, double y)
{
    int k = GEOSGetNumGeometries_r(gc, m), found = -1;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(gc, x, y);
    for (int q = 0; pt && q < k && found < 0; q++)
        if (GEOSIntersects_r(gc, GEOSGetGeometryN_r(gc, m, q), pt) == 1)
            found = q;
    if (pt)
        GEOSGeom_destroy_r(gc, pt);
    return found;
}

/* Replaces *g with *g ∪ add (both polygonal); consumes add. */
static co_err absorb(GEOSContextHandle_t gc, GEOSGeometry **g, GEOSGeometry *add)
{
    GEOSGeometry *u = GEOSUnion_r(gc, *g, add), *p = NULL;
    GEOSGeom_destroy_r(gc, add);
    co_err rc = co_demogen_polygonal(gc, u, 0.0, &p);
    if (rc != CO_OK || !p)
        return rc != CO_OK ? rc : CO_EGEOM;
    GEOSGeom_destroy_r(gc, *g);
    *g = p;
    return CO_OK;
}

/* Moves the parts of cell i that do not hold site i to the cell sharing the
 * longest edge with them (see co_demogen_partition). */
static co_err reassign_parts(GEOSContextHandle_t gc, GEOSGeometry **cells, const double *xs, const double *ys,
                             size_t n, size_t i)
{
    co_err rc = CO_OK;
    GEOSGeometry *m = cells[i], *keep = NULL;
    int k = GEOSGetNumGeometries_r(gc, m);
    int home = part_with(gc, m, xs[i], ys[i]);
    if (GEOSGeomTypeId_r(gc, m) != GEOS_MULTIPOLYGON || home < 0)
        return CO_OK;
    keep = GEOSGeom_clone_r(gc, GEOSGetGeometryN_r(gc, m, home));
    if (!keep)
        return CO_EGEOM;
    for (int q = 0; q < k; q++) {
        if (q == home)
            continue;
        GEOSGeometry *part = GEOSGeom_clone_r(gc, GEOSGetGeometryN_r(gc, m, q));
        GEOSGeometry *bp = part ? GEOSBoundary_r(gc, part) : NULL;
        size_t best = i;
        double best_len = 0;
        for (size_t j = 0; bp && j < n; j++) {
            if (j == i || !cells[j] || GEOSDisjoint_r(gc, part, cells[j]) != 0)
                continue;
            double len = co_demogen_shared_len(gc, bp, cells[j]);
            if (len > best_len) {
                best_len = len;
                best = j;
            }
        }
        if (bp)
            GEOSGeom_destroy_r(gc, bp);
        if (!part || !bp) {
            if (part)
                GEOSGeom_destroy_r(gc, part);
            rc = CO_EGEOM;
            goto out;
        }
        rc = absorb(gc, best == i ? &keep : &cells[best], part); /* consumes part */
        if (rc != CO_OK)
            goto out;
    }
    GEOSGeom_destroy_r(gc, cells[i]);
    cells[i] = keep;
    keep = NULL;
out:
    if (keep)
        GEOSGeom_destroy_r(gc, keep);
    return rc;
}

co_err co_demogen_partition(GEOSContextHandle_t gc, const GEOSGeometry *parent, const double *xs, const double *ys,
                    size_t n, GEOSGeometry **cells)
{
    co_err rc = CO_OK;
    GEOSGeometry *vd = NULL;
    for (size_t i = 0; i < n; i++)
        cells[i] = NULL;
    if (n == 0)
        return CO_EINVAL;
    if (n == 1) {
        cells[0] = GEOSGeom_clone_r(gc, parent);
        return cells[0] ? CO_OK : CO_EGEOM;
    }
    rc = voronoi(gc, parent, xs, ys, n, &vd);
    if (rc != CO_OK)
        goto out;
    if ((size_t)GEOSGetNumGeometries_r(gc, vd) != n) {
        co_log_error("demogen: voronoi gave %d cells for %zu sites", GEOSGetNumGeometries_r(gc, vd), n);
        rc = CO_EGEOM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const GEOSGeometry *cell = GEOSGetGeometryN_r(gc, vd, (int)i);
        size_t j = 0;
        rc = match_site(gc, cell, xs, ys, n, cells, &j);
        if (rc != CO_OK)
            goto out;
        rc = co_demogen_polygonal(gc, GEOSIntersection_r(gc, cell, parent), 0.0, &cells[j]);
        if (rc == CO_OK && !cells[j])
            rc = CO_EGEOM; /* the site is inside parent, so the cell cannot be empty */
        if (rc != CO_OK)
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = reassign_parts(gc, cells, xs, ys, n, i)) != CO_OK)
            goto out;
out:
    if (vd)
        GEOSGeom_destroy_r(gc, vd);
    if (rc != CO_OK) {
        for (size_t i = 0; i < n; i++) {
            if (cells[i])
                GEOSGeom_destroy_r(gc, cells[i]);
            cells[i] = NULL;
        }
    }
    return rc;
}
