/* demogen.c — builds the Hohhot demo city (see demogen.h and
 * docs/internals/demo-city.md). The pipeline, all in a local metric frame:
 *   1. load the input (demogen_io.c), outlines converted via WGS84;
 *   2. make districts disjoint (each loses what earlier codes already hold)
 *      and carve functional zones (150172) out of them from their sites;
 *   3. streets: seeded sites, then a Voronoi-based tiling of the district
 *      in which each street's area follows its number of communities
 *      (demogen_grow.c); in the city districts the 街道 tile a built-up
 *      area around the centre and the towns the rest;
 *   4. communities = Voronoi cells of seeded sites clipped to their street;
 *   5. grids: urban 街道 communities, nearest the centre first, are cut into
 *      lattice grids (demogen_grid.c) until CO_DEMOGEN_GRID_TARGET is met;
 *   6. write the four GeoJSON files (demogen_io.c).
 * After steps 3-5 the children's areas are checked to add up to the
 * parent's. One GEOS context per call; the dg_city owns every geometry and
 * is freed on every path. */
#include "demogen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demogen_int.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* Mean radius of the built-up area the 街道 of the city districts tile. */
#define DG_URBAN_R 10000.0
/* Each side of an urban district split needs this share of its area. */
#define DG_MIN_SHARE 0.02
/* Pieces left by overlapping source outlines smaller than this are dropped. */
#define DG_OVERLAP_SLIVER_M2 1e5
/* Relative tolerance of the children-tile-parent self-check. */
#define DG_TILE_TOL 1e-9

static void geos_error(const char *msg, void *ud)
{
    (void)ud;
    co_log_warn("demogen: GEOS: %s", msg);
}

static void geos_notice(const char *msg, void *ud)
{
    (void)ud;
    (void)msg;
}

/* ---- step 2: districts ------------------------------------------------------- */

/* Replaces *g with *g - sub (polygonal parts above min_area); consumes the old *g. */
static co_err subtract(GEOSContextHandle_t gc, GEOSGeometry **g, const GEOSGeometry *sub, double min_area)
{
    GEOSGeometry *d = GEOSDifference_r(gc, *g, sub);
    if (!d)
        return CO_EGEOM;
    GEOSGeom_destroy_r(gc, *g);
    *g = NULL;
    return co_demogen_polygonal(gc, d, min_area, g);
}

static co_err union_into(GEOSContextHandle_t gc, GEOSGeometry **acc, const GEOSGeometry *g)
{
    GEOSGeometry *u = *acc ? GEOSUnion_r(gc, *acc, g) : GEOSGeom_clone_r(gc, g);
    if (!u)
        return CO_EGEOM;
    if (*acc)
        GEOSGeom_destroy_r(gc, *acc);
    *acc = u;
    return CO_OK;
}

/* *d -= *zone; parts of *d smaller than DG_OVERLAP_SLIVER_M2 that this
 * leaves go to the zone too, so no district keeps crumbs around a disc. */
static co_err carve(GEOSContextHandle_t gc, GEOSGeometry **d, GEOSGeometry **zone)
{
    GEOSGeometry *big = NULL, *crumbs = NULL, *z = NULL;
    co_err rc = subtract(gc, d, *zone, 0.0);
    if (rc != CO_OK || !*d)
        return rc;
    GEOSGeometry *copy = GEOSGeom_clone_r(gc, *d);
    if ((rc = co_demogen_polygonal(gc, copy, DG_OVERLAP_SLIVER_M2, &big)) != CO_OK || !big)
        goto out; /* nothing big left: keep *d as it is */
    if ((rc = co_demogen_polygonal(gc, GEOSDifference_r(gc, *d, big), 0.0, &crumbs)) != CO_OK)
        goto out;
    if (crumbs) {
        if ((rc = co_demogen_polygonal(gc, GEOSUnion_r(gc, *zone, crumbs), 0.0, &z)) != CO_OK || !z) {
            rc = rc != CO_OK ? rc : CO_EGEOM;
            goto out;
        }
        GEOSGeom_destroy_r(gc, *zone);
        *zone = z;
    }
    GEOSGeom_destroy_r(gc, *d);
    *d = big;
    big = NULL;
out:
    if (big)
        GEOSGeom_destroy_r(gc, big);
    if (crumbs)
        GEOSGeom_destroy_r(gc, crumbs);
    return rc;
}

/* The zone: discs around its streets' sites, inside the districts' union. */
static co_err build_zone(dg_city *c, dg_unit *z, const GEOSGeometry *land)
{
    GEOSContextHandle_t gc = c->gc;
    GEOSGeometry *acc = NULL, *disc = NULL;
    co_err rc = CO_OK;
    for (size_t k = 0; k < z->nchild; k++) {
        const dg_unit *s = &c->lv[DG_STREET][z->child0 + k];
        if ((rc = co_demogen_disc(gc, s->sx, s->sy, s->sr, &disc)) != CO_OK ||
            (rc = union_into(gc, &acc, disc)) != CO_OK)
            goto out;
        GEOSGeom_destroy_r(gc, disc);
        disc = NULL;
    }
    rc = co_demogen_polygonal(gc, GEOSIntersection_r(gc, acc, land), 0.0, &z->geom);
    if (rc == CO_OK && !z->geom) {
        co_log_error("demogen: zone %s lies outside every district", z->code);
        rc = CO_EINVAL;
    }
out:
    if (disc)
        GEOSGeom_destroy_r(gc, disc);
    if (acc)
        GEOSGeom_destroy_r(gc, acc);
    return rc;
}

static co_err resolve_districts(dg_city *c)
{
    GEOSContextHandle_t gc = c->gc;
    GEOSGeometry *land = NULL;
    co_err rc = CO_OK;
    for (size_t i = 0; i < c->n[DG_DISTRICT]; i++) {
        dg_unit *d = &c->lv[DG_DISTRICT][i];
        if (d->flags & DG_F_ZONE)
            continue;
        if (land) {
            double before = co_demogen_area(gc, d->geom);
            if ((rc = subtract(gc, &d->geom, land, DG_OVERLAP_SLIVER_M2)) != CO_OK)
                goto out;
            if (!d->geom) {
                co_log_error("demogen: district %s is covered by earlier ones", d->code);
                rc = CO_EINVAL;
                goto out;
            }
            double lost = before - co_demogen_area(gc, d->geom);
            if (lost > 1.0)
                co_log_info("demogen: district %s: %.0f m² overlapping earlier districts removed", d->code, lost);
        }
        if ((rc = union_into(gc, &land, d->geom)) != CO_OK)
            goto out;
    }
    for (size_t i = 0; i < c->n[DG_DISTRICT]; i++) {
        dg_unit *z = &c->lv[DG_DISTRICT][i];
        if (!(z->flags & DG_F_ZONE))
            continue;
        if ((rc = build_zone(c, z, land)) != CO_OK)
            goto out;
        for (size_t k = 0; k < c->n[DG_DISTRICT]; k++) {
            dg_unit *d = &c->lv[DG_DISTRICT][k];
            if (k == i || !d->geom || (d->flags & DG_F_ZONE))
                continue;
            if ((rc = carve(gc, &d->geom, &z->geom)) != CO_OK)
                goto out;
            if (!d->geom) {
                co_log_error("demogen: zone %s covers district %s", z->code, d->code);
                rc = CO_EINVAL;
                goto out;
            }
        }
        if ((rc = subtract(gc, &land, z->geom, 0.0)) != CO_OK)
            goto out;
    }
    for (size_t i = 0; i < c->n[DG_DISTRICT]; i++)
        c->lv[DG_DISTRICT][i].area = co_demogen_area(gc, c->lv[DG_DISTRICT][i].geom);
out:
    if (land)
        GEOSGeom_destroy_r(gc, land);
    return rc;
}

/* ---- steps 3 and 4: Voronoi tilings ---------------------------------------------- */

/* The built-up area: a wobbly disc of radius DG_URBAN_R ± 25 % around the
 * centre (three seeded harmonics), 128 vertices. Caller owns *out. */
static co_err urban_blob(uint64_t seed, GEOSContextHandle_t gc, GEOSGeometry **out)
{
    enum { N = 128 };
    double xy[2 * (N + 1)], ph[3];
    dg_rng rng;
    co_demogen_rng_init(&rng, seed, "urban");
    for (int k = 0; k < 3; k++)
        ph[k] = 2 * M_PI * co_demogen_rng_unit(&rng);
    for (int i = 0; i < N; i++) {
        double t = 2 * M_PI * i / N;
        double r = DG_URBAN_R * (1 + 0.12 * sin(2 * t + ph[0]) + 0.08 * sin(3 * t + ph[1]) + 0.05 * sin(5 * t + ph[2]));
        xy[2 * i] = r * cos(t);
        xy[2 * i + 1] = r * sin(t);
    }
    xy[2 * N] = xy[0];
    xy[2 * N + 1] = xy[1];
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(gc, xy, N + 1, 0, 0);
    GEOSGeometry *ring = seq ? GEOSGeom_createLinearRing_r(gc, seq) : NULL;
    *out = ring ? GEOSGeom_createPolygon_r(gc, ring, NULL, 0) : NULL;
    return *out ? CO_OK : CO_EGEOM;
}

/* Tiles region with the n children who[] of level lvl: given sites first,
 * the others sampled in region with rng; then a Voronoi partition, area-
 * weighted by the number of communities for streets without given sites.
 * Stores each child's geometry and area. */
static co_err tile_group(dg_city *c, int lvl, const GEOSGeometry *region, const size_t *who, size_t n, dg_rng *rng)
{
    co_err rc = CO_OK;
    double *xs = co_xmalloc(n * sizeof *xs), *ys = co_xmalloc(n * sizeof *ys);
    size_t *order = co_xmalloc(n * sizeof *order), m = 0, nsite = 0;
    GEOSGeometry **cells = co_xcalloc(n, sizeof *cells);
    for (int pass = 0; pass < 2; pass++) { /* given sites, then the rest */
        for (size_t k = 0; k < n; k++) {
            const dg_unit *u = &c->lv[lvl][who[k]];
            if (!(u->flags & DG_F_SITE) == !pass)
                continue;
            if (pass == 0) {
                xs[m] = u->sx;
                ys[m] = u->sy;
            }
            order[m++] = who[k];
        }
        if (pass == 0)
            nsite = m;
        if (pass == 0 && n > 1 && (rc = co_demogen_sample(c->gc, region, rng, xs, ys, m, n - m)) != CO_OK)
            goto out;
    }
    if (lvl == DG_STREET && nsite == 0) { /* streets: area ~ number of communities */
        double *w = co_xmalloc(n * sizeof *w);
        for (size_t k = 0; k < n; k++)
            w[k] = (double)c->lv[lvl][order[k]].nchild;
        rc = co_demogen_grow(c->gc, region, xs, ys, w, n, rng, cells);
        co_free(w);
    } else {
        rc = co_demogen_partition(c->gc, region, xs, ys, n, cells);
    }
    if (rc != CO_OK)
        goto out;
    for (size_t k = 0; k < n; k++) {
        dg_unit *u = &c->lv[lvl][order[k]];
        u->geom = cells[k];
        u->area = co_demogen_area(c->gc, u->geom);
        cells[k] = NULL;
    }
out:
    co_free(xs);
    co_free(ys);
    co_free(order);
    co_free(cells);
    return rc;
}

/* Streets of an urban district: the 街道 tile its part of the built-up area
 * and the towns the rest, when both exist and both parts are big enough;
 * otherwise all streets tile the whole district. */
static co_err tile_urban(dg_city *c, const dg_unit *pu, const GEOSGeometry *blob, size_t *who, dg_rng *rng)
{
    GEOSContextHandle_t gc = c->gc;
    GEOSGeometry *in = NULL, *rest = NULL;
    size_t nj = 0, nt = 0;
    co_err rc = CO_OK;
    for (size_t k = 0; k < pu->nchild; k++) /* 街道 first, then the others */
        if (c->lv[DG_STREET][pu->child0 + k].flags & DG_F_JIEDAO)
            who[nj++] = pu->child0 + k;
    for (size_t k = 0; k < pu->nchild; k++)
        if (!(c->lv[DG_STREET][pu->child0 + k].flags & DG_F_JIEDAO))
            who[nj + nt++] = pu->child0 + k;
    if (nj && nt) {
        if ((rc = co_demogen_polygonal(gc, GEOSIntersection_r(gc, pu->geom, blob), 0.0, &in)) != CO_OK ||
            (rc = co_demogen_polygonal(gc, GEOSDifference_r(gc, pu->geom, blob), 0.0, &rest)) != CO_OK)
            goto out;
    }
    if (in && rest && co_demogen_area(gc, in) > DG_MIN_SHARE * pu->area &&
        co_demogen_area(gc, rest) > DG_MIN_SHARE * pu->area) {
        if ((rc = tile_group(c, DG_STREET, in, who, nj, rng)) == CO_OK)
            rc = tile_group(c, DG_STREET, rest, who + nj, nt, rng);
    } else {
        rc = tile_group(c, DG_STREET, pu->geom, who, pu->nchild, rng);
    }
out:
    if (in)
        GEOSGeom_destroy_r(gc, in);
    if (rest)
        GEOSGeom_destroy_r(gc, rest);
    return rc;
}

/* Builds the geometries of level lvl (streets or communities) and checks
 * that the children of every parent add up to it. */
static co_err tile_level(dg_city *c, int lvl)
{
    GEOSContextHandle_t gc = c->gc;
    GEOSGeometry *blob = NULL;
    size_t cap = 1;
    co_err rc = CO_OK;
    for (size_t p = 0; p < c->n[lvl - 1]; p++)
        if (c->lv[lvl - 1][p].nchild > cap)
            cap = c->lv[lvl - 1][p].nchild;
    size_t *who = co_xmalloc(cap * sizeof *who);
    if (lvl == DG_STREET && (rc = urban_blob(c->seed, gc, &blob)) != CO_OK)
        goto out;
    for (size_t p = 0; p < c->n[lvl - 1]; p++) {
        const dg_unit *pu = &c->lv[lvl - 1][p];
        dg_rng rng;
        co_demogen_rng_init(&rng, c->seed, pu->code);
        if (lvl == DG_STREET && (pu->flags & DG_F_URBAN)) {
            rc = tile_urban(c, pu, blob, who, &rng);
        } else {
            for (size_t k = 0; k < pu->nchild; k++)
                who[k] = pu->child0 + k;
            rc = tile_group(c, lvl, pu->geom, who, pu->nchild, &rng);
        }
        if (rc != CO_OK) {
            co_log_error("demogen: cannot split %s (%s)", pu->code, co_err_str(rc));
            goto out;
        }
        double sum = 0;
        for (size_t k = 0; k < pu->nchild; k++)
            sum += c->lv[lvl][pu->child0 + k].area;
        if (fabs(sum - pu->area) > DG_TILE_TOL * pu->area) {
            co_log_error("demogen: children of %s cover %.3f of %.3f m²", pu->code, sum, pu->area);
            rc = CO_EINTERNAL;
            goto out;
        }
    }
out:
    if (blob)
        GEOSGeom_destroy_r(gc, blob);
    co_free(who);
    return rc;
}

/* ---- step 5: grids ------------------------------------------------------------------ */

typedef struct cand {
    double dist;
    size_t ci;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->ci < y->ci ? -1 : 1;
}

static int cmp_grid(const void *a, const void *b)
{
    return strcmp(((const dg_unit *)a)->code, ((const dg_unit *)b)->code);
}

static co_err build_grids(dg_city *c, co_demogen_stats *st)
{
    GEOSContextHandle_t gc = c->gc;
    co_err rc = CO_OK;
    size_t nc = 0;
    cand *cs = co_xmalloc(c->n[DG_COMMUNITY] * sizeof *cs);
    for (size_t i = 0; i < c->n[DG_COMMUNITY]; i++) {
        const dg_unit *u = &c->lv[DG_COMMUNITY][i];
        if (!(c->lv[DG_STREET][u->parent].flags & DG_F_JIEDAO))
            continue;
        double x, y;
        GEOSGeometry *cen = GEOSGetCentroid_r(gc, u->geom);
        if (!cen || !GEOSGeomGetX_r(gc, cen, &x) || !GEOSGeomGetY_r(gc, cen, &y)) {
            if (cen)
                GEOSGeom_destroy_r(gc, cen);
            rc = CO_EGEOM;
            goto out;
        }
        GEOSGeom_destroy_r(gc, cen);
        cs[nc++] = (cand){.dist = hypot(x, y), .ci = i};
    }
    qsort(cs, nc, sizeof *cs, cmp_cand);
    for (size_t k = 0; k < nc && c->ngrid < CO_DEMOGEN_GRID_TARGET; k++) {
        size_t added = 0;
        if ((rc = co_demogen_grid_community(c, cs[k].ci, &added)) != CO_OK)
            goto out;
        if (added) {
            st->gridded_communities++;
            st->core_radius_m = cs[k].dist;
        }
    }
    if (c->ngrid < CO_DEMOGEN_GRID_TARGET)
        co_log_warn("demogen: only %zu grids (target %d): not enough urban communities", c->ngrid,
                    CO_DEMOGEN_GRID_TARGET);
    qsort(c->grid, c->ngrid, sizeof *c->grid, cmp_grid);
out:
    co_free(cs);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void grid_stats(const dg_city *c, co_demogen_stats *st)
{
    if (c->ngrid == 0)
        return;
    double *a = co_xmalloc(c->ngrid * sizeof *a);
    for (size_t i = 0; i < c->ngrid; i++)
        a[i] = c->grid[i].area;
    qsort(a, c->ngrid, sizeof *a, cmp_double);
    st->grid_area_min_m2 = a[0];
    st->grid_area_max_m2 = a[c->ngrid - 1];
    st->grid_area_median_m2 =
        c->ngrid % 2 ? a[c->ngrid / 2] : (a[c->ngrid / 2 - 1] + a[c->ngrid / 2]) / 2;
    co_free(a);
}

/* ---- step 6 and the entry point ---------------------------------------------------- */

static co_err write_all(dg_city *c, const char *dir)
{
    static const char *const files[] = {CO_DEMOGEN_DISTRICTS, CO_DEMOGEN_STREETS, CO_DEMOGEN_COMMUNITIES,
                                        CO_DEMOGEN_GRIDS};
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        co_log_error("demogen: cannot create %s: %s", dir, strerror(errno));
        return CO_EIO;
    }
    for (int l = 0; l <= DG_LEVELS; l++) {
        size_t n = strlen(dir) + strlen(files[l]) + 2;
        char *path = co_xmalloc(n);
        snprintf(path, n, "%s/%s", dir, files[l]);
        co_err rc = co_demogen_write_level(c, l, path);
        co_free(path);
        if (rc != CO_OK)
            return rc;
    }
    return CO_OK;
}

co_err co_demogen_build(const char *input_json_path, uint64_t seed, const char *out_dir, co_demogen_stats *stats_out)
{
    double t0 = co_time_mono();
    co_demogen_stats st = {0};
    dg_city c = {0};
    co_err rc = CO_OK;
    if (!input_json_path || !out_dir)
        return CO_EINVAL;
    c.gc = GEOS_init_r();
    if (!c.gc)
        return CO_EGEOM;
    GEOSContext_setErrorMessageHandler_r(c.gc, geos_error, NULL);
    GEOSContext_setNoticeMessageHandler_r(c.gc, geos_notice, NULL);
    c.seed = seed;
    if ((rc = co_demogen_load(&c, input_json_path)) != CO_OK || (rc = resolve_districts(&c)) != CO_OK ||
        (rc = tile_level(&c, DG_STREET)) != CO_OK || (rc = tile_level(&c, DG_COMMUNITY)) != CO_OK ||
        (rc = build_grids(&c, &st)) != CO_OK || (rc = write_all(&c, out_dir)) != CO_OK)
        goto out;
    st.districts = c.n[DG_DISTRICT];
    st.streets = c.n[DG_STREET];
    st.communities = c.n[DG_COMMUNITY];
    st.grids = c.ngrid;
    grid_stats(&c, &st);
    st.seconds = co_time_mono() - t0;
    if (stats_out)
        *stats_out = st;
out:
    co_demogen_city_free(&c);
    GEOS_finish_r(c.gc);
    return rc;
}

char *co_demogen_stats_format(const co_demogen_stats *s, char *out, size_t n)
{
    if (n == 0)
        return out;
    snprintf(out, n,
             "%zu districts, %zu streets, %zu communities (%zu gridded within %.1f km of the centre), "
             "%zu grids (area min %.0f / median %.0f / max %.0f m²) in %.2f s",
             s->districts, s->streets, s->communities, s->gridded_communities, s->core_radius_m / 1000.0,
             s->grids, s->grid_area_min_m2, s->grid_area_median_m2, s->grid_area_max_m2, s->seconds);
    return out;
}
