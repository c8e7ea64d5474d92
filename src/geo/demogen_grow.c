/* demogen_grow.c — area-weighted tiling of a region for streets.
 * A plain Voronoi partition gives every site about the same area, so a
 * park with one community would get as much land as a town with fifty.
 * Here the region is first cut into many small Voronoi cells (the given
 * sites are the first of them); each child then grows from its own cell,
 * one neighbouring cell at a time (the child furthest below its area target
 * grows next, taking the free neighbour nearest its site), until the
 * targets (region area × weight share) are met; cells left over join an
 * adjacent child. Growing through shared edges keeps children connected; the
 * union of a child's cells is its geometry, so the children tile the region.
 * All GEOS geometries made here are destroyed here, except the children's,
 * which the caller owns. */
#include <math.h>
#include <string.h>

#include "demogen_int.h"
#include "lib/alloc.h"
#include "lib/log.h"

/* Small cells per child. */
#define DG_GROW_CELLS 20

typedef struct grow {
    size_t m;        /* small cells */
    GEOSGeometry **cell;
    double *area, *ax, *ay;
    size_t *adj0, *adj; /* CSR adjacency: neighbours of a are adj[adj0[a]..adj0[a+1]) */
    long *owner;     /* child index or -1 */
} grow;

static void grow_free(GEOSContextHandle_t gc, grow *g)
{
    for (size_t a = 0; g->cell && a < g->m; a++)
        if (g->cell[a])
            GEOSGeom_destroy_r(gc, g->cell[a]);
    co_free(g->cell);
    co_free(g->area);
    co_free(g->ax);
    co_free(g->ay);
    co_free(g->adj0);
    co_free(g->adj);
    co_free(g->owner);
}

/* Cells a and b are adjacent when they share a boundary of positive length. */
static co_err build_adjacency(GEOSContextHandle_t gc, grow *g)
{
    co_err rc = CO_OK;
    size_t m = g->m, ne = 0, cap = 0;
    size_t *pairs = NULL;
    double *ext = co_xmalloc(m * 4 * sizeof *ext);
    GEOSGeometry **bnd = co_xcalloc(m, sizeof *bnd);
    for (size_t a = 0; a < m; a++) {
        bnd[a] = GEOSBoundary_r(gc, g->cell[a]);
        if (!bnd[a] || !GEOSGeom_getExtent_r(gc, g->cell[a], &ext[4 * a], &ext[4 * a + 1], &ext[4 * a + 2],
                                              &ext[4 * a + 3])) {
            rc = CO_EGEOM;
            goto out;
        }
    }
    for (size_t a = 0; a < m; a++) {
        const double *ea = &ext[4 * a];
        for (size_t b = a + 1; b < m; b++) {
            const double *eb = &ext[4 * b];
            if (ea[0] > eb[2] || eb[0] > ea[2] || ea[1] > eb[3] || eb[1] > ea[3])
                continue;
            if (co_demogen_shared_len(gc, bnd[a], g->cell[b]) <= 1e-6)
                continue;
            pairs = co_xgrow(pairs, &cap, ne + 2, 2 * sizeof *pairs);
            pairs[2 * ne] = a;
            pairs[2 * ne + 1] = b;
            pairs[2 * ne + 2] = b;
            pairs[2 * ne + 3] = a;
            ne += 2;
        }
    }
    g->adj0 = co_xcalloc(m + 1, sizeof *g->adj0);
    g->adj = co_xmalloc((ne ? ne : 1) * sizeof *g->adj);
    for (size_t e = 0; e < ne; e++)
        g->adj0[pairs[2 * e] + 1]++;
    for (size_t a = 0; a < m; a++)
        g->adj0[a + 1] += g->adj0[a];
    size_t *fill = co_xcalloc(m, sizeof *fill);
    for (size_t e = 0; e < ne; e++) {
        size_t a = pairs[2 * e];
        g->adj[g->adj0[a] + fill[a]++] = pairs[2 * e + 1];
    }
    co_free(fill);
out:
    for (size_t a = 0; a < m; a++)
        if (bnd[a])
            GEOSGeom_destroy_r(gc, bnd[a]);
    co_free(bnd);
    co_free(ext);
    co_free(pairs);
    return rc;
}

static double dist2(const grow *g, size_t a, const double *xs, const double *ys, size_t k)
{
    double dx = g->ax[a] - xs[k], dy = g->ay[a] - ys[k];
    return dx * dx + dy * dy;
}

/* Grows children until their targets are met or they are enclosed. */
static void grow_children(grow *g, const double *xs, const double *ys, const double *target, double *have,
                          size_t k)
{
    size_t *pick = co_xmalloc(k * sizeof *pick);
    double *pd = co_xmalloc(k * sizeof *pd);
    for (;;) {
        for (size_t s = 0; s < k; s++) {
            pick[s] = DG_NONE;
            pd[s] = INFINITY;
        }
        for (size_t a = 0; a < g->m; a++) { /* the best free frontier cell of each child */
            if (g->owner[a] >= 0)
                continue;
            for (size_t e = g->adj0[a]; e < g->adj0[a + 1]; e++) {
                long o = g->owner[g->adj[e]];
                if (o < 0)
                    continue;
                double d = dist2(g, a, xs, ys, (size_t)o);
                if (d < pd[o]) {
                    pd[o] = d;
                    pick[o] = a;
                }
            }
        }
        size_t best = DG_NONE;
        double best_ratio = INFINITY;
        for (size_t s = 0; s < k; s++) {
            double ratio = have[s] / target[s];
            if (pick[s] != DG_NONE && ratio < 1.0 && ratio < best_ratio) {
                best_ratio = ratio;
                best = s;
            }
        }
        if (best == DG_NONE)
            break;
        g->owner[pick[best]] = (long)best;
        have[best] += g->area[pick[best]];
    }
    co_free(pick);
    co_free(pd);
}

/* Gives every free cell to a child: an adjacent one (the least filled), or
 * the one whose site is nearest when the cell touches no owned cell. */
static void assign_leftovers(grow *g, const double *xs, const double *ys, const double *target, double *have,
                             size_t k)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t a = 0; a < g->m; a++) {
            if (g->owner[a] >= 0)
                continue;
            long best = -1;
            for (size_t e = g->adj0[a]; e < g->adj0[a + 1]; e++) {
                long o = g->owner[g->adj[e]];
                if (o >= 0 && (best < 0 || have[o] / target[o] < have[best] / target[best]))
                    best = o;
            }
            if (best >= 0) {
                g->owner[a] = best;
                have[best] += g->area[a];
                changed = 1;
            }
        }
    }
    for (size_t a = 0; a < g->m; a++) {
        if (g->owner[a] >= 0)
            continue;
        size_t best = 0;
        for (size_t s = 1; s < k; s++)
            if (dist2(g, a, xs, ys, s) < dist2(g, a, xs, ys, best))
                best = s;
        g->owner[a] = (long)best;
        have[best] += g->area[a];
    }
}

/* cells[s] = union of the small cells child s owns. */
static co_err union_children(GEOSContextHandle_t gc, grow *g, size_t k, GEOSGeometry **cells)
{
    co_err rc = CO_OK;
    GEOSGeometry **parts = co_xmalloc(g->m * sizeof *parts);
    for (size_t s = 0; s < k && rc == CO_OK; s++) {
        size_t n = 0;
        for (size_t a = 0; a < g->m; a++) {
            if (g->owner[a] == (long)s) {
                parts[n++] = g->cell[a]; /* ownership moves into the collection */
                g->cell[a] = NULL;
            }
        }
        GEOSGeometry *coll = GEOSGeom_createCollection_r(gc, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
        if (!coll) {
            for (size_t q = 0; q < n; q++)
                GEOSGeom_destroy_r(gc, parts[q]);
            rc = CO_EGEOM;
            break;
        }
        GEOSGeometry *u = GEOSUnaryUnion_r(gc, coll);
        GEOSGeom_destroy_r(gc, coll);
        rc = co_demogen_polygonal(gc, u, 0.0, &cells[s]);
        if (rc == CO_OK && !cells[s])
            rc = CO_EGEOM;
    }
    co_free(parts);
    return rc;
}

co_err co_demogen_grow(GEOSContextHandle_t gc, const GEOSGeometry *region, const double *xs, const double *ys,
                       const double *w, size_t k, dg_rng *rng, GEOSGeometry **cells)
{
    co_err rc = CO_OK;
    grow g = {0};
    double wsum = 0, total = co_demogen_area(gc, region);
    double *target = co_xmalloc(k * sizeof *target), *have = co_xcalloc(k, sizeof *have);
    for (size_t s = 0; s < k; s++) {
        cells[s] = NULL;
        wsum += w[s];
    }
    if (k < 2 || !(wsum > 0)) {
        rc = co_demogen_partition(gc, region, xs, ys, k, cells);
        goto out;
    }
    g.m = k * DG_GROW_CELLS;
    g.ax = co_xmalloc(g.m * sizeof *g.ax);
    g.ay = co_xmalloc(g.m * sizeof *g.ay);
    memcpy(g.ax, xs, k * sizeof *xs);
    memcpy(g.ay, ys, k * sizeof *ys);
    g.cell = co_xcalloc(g.m, sizeof *g.cell);
    g.area = co_xmalloc(g.m * sizeof *g.area);
    g.owner = co_xmalloc(g.m * sizeof *g.owner);
    if ((rc = co_demogen_sample(gc, region, rng, g.ax, g.ay, k, g.m - k)) != CO_OK ||
        (rc = co_demogen_partition(gc, region, g.ax, g.ay, g.m, g.cell)) != CO_OK ||
        (rc = build_adjacency(gc, &g)) != CO_OK)
        goto out;
    for (size_t a = 0; a < g.m; a++) {
        g.area[a] = co_demogen_area(gc, g.cell[a]);
        g.owner[a] = a < k ? (long)a : -1;
    }
    for (size_t s = 0; s < k; s++) {
        target[s] = total * w[s] / wsum;
        have[s] = g.area[s];
    }
    grow_children(&g, xs, ys, target, have, k);
    assign_leftovers(&g, xs, ys, target, have, k);
    rc = union_children(gc, &g, k, cells);
out:
    if (rc != CO_OK) {
        for (size_t s = 0; s < k; s++) {
            if (cells[s])
                GEOSGeom_destroy_r(gc, cells[s]);
            cells[s] = NULL;
        }
    }
    grow_free(gc, &g);
    co_free(target);
    co_free(have);
    return rc;
}
