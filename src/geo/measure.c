/* measure.c — metric geometry through PROJ (see measure.h).
 * Owns, per co_measure: one PJ_CONTEXT (proj_context_destroy) and one
 * normalised transformer PJ (proj_destroy) from EPSG:4326 (lon, lat order)
 * to the region's projected CRS (easting, northing), plus a WGS84
 * geod_geodesic (plain data). Everything is released by co_measure_free, and
 * by co_measure_new itself on its failure paths. PROJ's own logging is
 * silenced; failures come back as co_err. */
#include "measure.h"

#include <geodesic.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>

#include "lib/alloc.h"

#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define EPSG_GK3_CM75 4534 /* CGCS2000 / 3-degree Gauss-Kruger CM 75E; +1 per 3 degrees */
#define GK3_CM_MIN 75
#define GK3_CM_MAX 135

struct co_measure {
    PJ_CONTEXT *ctx;
    PJ *pj;
    int epsg;
    struct geod_geodesic geod;
};

/* The CGCS2000 3-degree GK zone nearest lon0 inside China's bounding box,
 * else the WGS84 UTM zone. */
static int pick_epsg(double lon0, double lat0)
{
    if (lon0 >= 73.5 && lon0 < 136.5 && lat0 >= 0.8293 && lat0 <= 55.8271) {
        int cm = 3 * (int)floor((lon0 + 1.5) / 3.0);
        cm = cm < GK3_CM_MIN ? GK3_CM_MIN : (cm > GK3_CM_MAX ? GK3_CM_MAX : cm);
        return EPSG_GK3_CM75 + (cm - GK3_CM_MIN) / 3;
    }
    int zone = (int)floor((lon0 + 180.0) / 6.0) + 1;
    zone = zone < 1 ? 1 : (zone > 60 ? 60 : zone);
    return (lat0 < 0 ? 32700 : 32600) + zone;
}

co_err co_measure_new(double lon0, double lat0, co_measure **out)
{
    co_err rc = CO_OK;
    co_measure *m = NULL;
    PJ *raw = NULL;
    char target[16];
    if (!out)
        return CO_EINVAL;
    *out = NULL;
    if (!co_coord_valid(lon0, lat0))
        return CO_EINVAL;
    m = co_xcalloc(1, sizeof *m);
    m->epsg = pick_epsg(lon0, lat0);
    geod_init(&m->geod, WGS84_A, WGS84_F);
    m->ctx = proj_context_create();
    if (!m->ctx) {
        rc = CO_EGEOM;
        goto out;
    }
    proj_log_level(m->ctx, PJ_LOG_NONE);
    snprintf(target, sizeof target, "EPSG:%d", m->epsg);
    raw = proj_create_crs_to_crs(m->ctx, "EPSG:4326", target, NULL);
    if (raw)
        m->pj = proj_normalize_for_visualization(m->ctx, raw);
    if (!m->pj) {
        rc = CO_EGEOM;
        goto out;
    }
    *out = m;
    m = NULL;
out:
    if (raw)
        proj_destroy(raw);
    co_measure_free(m);
    return rc;
}

void co_measure_free(co_measure *m)
{
    if (!m)
        return;
    if (m->pj)
        proj_destroy(m->pj);
    if (m->ctx)
        proj_context_destroy(m->ctx);
    co_free(m);
}

int co_measure_epsg(const co_measure *m)
{
    return m ? m->epsg : 0;
}

static co_err transform(co_measure *m, PJ_DIRECTION dir, double a, double b, double *oa, double *ob)
{
    proj_errno_reset(m->pj);
    PJ_COORD r = proj_trans(m->pj, dir, proj_coord(a, b, 0, 0));
    if (proj_errno(m->pj) || !isfinite(r.xy.x) || !isfinite(r.xy.y)) /* HUGE_VAL on error */
        return CO_EGEOM;
    *oa = r.xy.x;
    *ob = r.xy.y;
    return CO_OK;
}

co_err co_measure_project(co_measure *m, double lon, double lat, double *x, double *y)
{
    if (!m || !x || !y || !co_coord_valid(lon, lat))
        return CO_EINVAL;
    return transform(m, PJ_FWD, lon, lat, x, y);
}

co_err co_measure_unproject(co_measure *m, double x, double y, double *lon, double *lat)
{
    if (!m || !lon || !lat || !isfinite(x) || !isfinite(y))
        return CO_EINVAL;
    return transform(m, PJ_INV, x, y, lon, lat);
}

co_err co_measure_distance(const co_measure *m, double lon1, double lat1, double lon2, double lat2,
                           double *metres)
{
    if (!m || !metres || !co_coord_valid(lon1, lat1) || !co_coord_valid(lon2, lat2))
        return CO_EINVAL;
    geod_inverse(&m->geod, lat1, lon1, lat2, lon2, metres, NULL, NULL);
    return CO_OK;
}

static int rings_valid(const co_ring *rings, size_t nrings)
{
    if (!rings || nrings == 0)
        return 0;
    for (size_t i = 0; i < nrings; i++)
        if (!co_ring_valid(&rings[i]))
            return 0;
    return 1;
}

/* Unsigned ellipsoidal area of one ring (the closing point is implied). */
static double ring_area(const struct geod_geodesic *g, const co_ring *r)
{
    struct geod_polygon p;
    double area = 0, perimeter = 0;
    geod_polygon_init(&p, 0);
    for (size_t i = 0; i + 1 < r->n; i++)
        geod_polygon_addpoint(g, &p, r->xy[2 * i + 1], r->xy[2 * i]);
    geod_polygon_compute(g, &p, 0, 1, &area, &perimeter);
    return fabs(area);
}

co_err co_measure_area(const co_measure *m, const co_ring *rings, size_t nrings, double *m2)
{
    if (!m || !m2 || !rings_valid(rings, nrings))
        return CO_EINVAL;
    double a = ring_area(&m->geod, &rings[0]);
    for (size_t i = 1; i < nrings; i++)
        a -= ring_area(&m->geod, &rings[i]);
    if (a < 0)
        return CO_EGEOM;
    *m2 = a;
    return CO_OK;
}

/* Nearest point to (px, py) on segment (ax, ay)-(bx, by), and its squared
 * distance; all in projected metres. */
static double seg_nearest(double px, double py, double ax, double ay, double bx, double by, double *qx,
                          double *qy)
{
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : (t > 1 ? 1 : t);
    *qx = ax + t * dx;
    *qy = ay + t * dy;
    return (*qx - px) * (*qx - px) + (*qy - py) * (*qy - py);
}

typedef struct nearest_pt {
    double px, py; /* query, projected */
    double d2, qx, qy;
} nearest_pt;

static co_err ring_nearest(co_measure *m, const co_ring *r, nearest_pt *np)
{
    double ax, ay, bx, by, qx, qy;
    co_err rc = transform(m, PJ_FWD, r->xy[0], r->xy[1], &ax, &ay);
    for (size_t i = 1; rc == CO_OK && i < r->n; i++) {
        rc = transform(m, PJ_FWD, r->xy[2 * i], r->xy[2 * i + 1], &bx, &by);
        if (rc != CO_OK)
            break;
        double d2 = seg_nearest(np->px, np->py, ax, ay, bx, by, &qx, &qy);
        if (d2 < np->d2) {
            np->d2 = d2;
            np->qx = qx;
            np->qy = qy;
        }
        ax = bx;
        ay = by;
    }
    return rc;
}

co_err co_measure_boundary_distance(co_measure *m, double lon, double lat, const co_ring *rings,
                                    size_t nrings, double *metres)
{
    if (!m || !metres || !co_coord_valid(lon, lat) || !rings_valid(rings, nrings))
        return CO_EINVAL;
    nearest_pt np = {.d2 = INFINITY};
    co_err rc = transform(m, PJ_FWD, lon, lat, &np.px, &np.py);
    for (size_t i = 0; rc == CO_OK && i < nrings; i++)
        rc = ring_nearest(m, &rings[i], &np);
    if (rc != CO_OK)
        return rc;
    double qlon, qlat;
    rc = transform(m, PJ_INV, np.qx, np.qy, &qlon, &qlat);
    if (rc != CO_OK)
        return rc;
    geod_inverse(&m->geod, lat, lon, qlat, qlon, metres, NULL, NULL);
    return CO_OK;
}
