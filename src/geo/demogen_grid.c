/* demogen_grid.c — cuts one community into unit grids (单元网格).
 * A global lattice of CO_DEMOGEN_CELL_M squares, aligned on the city centre
 * in the metric frame, is intersected with the community; each polygonal
 * part of a cell is a piece. Pieces under CO_DEMOGEN_SLIVER_M2 are merged,
 * smallest first, into the piece of the same community with which they
 * share the longest edge (or, for an island part of the community, into the
 * nearest piece), so the grids still tile the community exactly.
 * The survivors are numbered 001.. by their own lattice cell: rows north to
 * south, west to east within a row. A community needing more than 999 grids
 * is left ungridded. Grids are appended to city->grid, which owns their
 * codes, names and geometries; the pieces' temporary GEOS geometries are
 * destroyed here on every path. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demogen.h"
#include "demogen_int.h"
#include "lib/alloc.h"
#include "lib/log.h"

typedef struct piece {
    GEOSGeometry *g; /* NULL once merged into another piece */
    double area;
    double ext[4];   /* xmin, ymin, xmax, ymax */
    long i, j;       /* lattice cell */
    double cx;       /* x of the piece's centroid when it was cut */
} piece;

typedef struct pieces {
    piece *p;
    size_t n, cap;
} pieces;

static void pieces_free(GEOSContextHandle_t gc, pieces *ps)
{
    for (size_t k = 0; k < ps->n; k++)
        if (ps->p[k].g)
            GEOSGeom_destroy_r(gc, ps->p[k].g);
    co_free(ps->p);
    ps->p = NULL;
    ps->n = ps->cap = 0;
}

/* Appends g as a piece of cell (i, j); consumes g. */
static co_err add_piece(GEOSContextHandle_t gc, pieces *ps, GEOSGeometry *g, long i, long j)
{
    piece pc = {.g = g, .i = i, .j = j, .area = co_demogen_area(gc, g)};
    double cy;
    GEOSGeometry *cen = GEOSGetCentroid_r(gc, g);
    if (!cen || !GEOSGeom_getExtent_r(gc, g, &pc.ext[0], &pc.ext[1], &pc.ext[2], &pc.ext[3]) ||
        !GEOSGeomGetX_r(gc, cen, &pc.cx) || !GEOSGeomGetY_r(gc, cen, &cy)) {
        if (cen)
            GEOSGeom_destroy_r(gc, cen);
        GEOSGeom_destroy_r(gc, g);
        return CO_EGEOM;
    }
    GEOSGeom_destroy_r(gc, cen);
    ps->p = co_xgrow(ps->p, &ps->cap, ps->n + 1, sizeof *ps->p);
    ps->p[ps->n++] = pc;
    return CO_OK;
}

/* The parts of cell (i, j) inside the community, as pieces. */
static co_err cut_cell(GEOSContextHandle_t gc, const GEOSGeometry *comm, const GEOSPreparedGeometry *pc,
                       pieces *ps, long i, long j)
{
    const double c = CO_DEMOGEN_CELL_M;
    co_err rc = CO_OK;
    GEOSGeometry *box = GEOSGeom_createRectangle_r(gc, (double)i * c, (double)j * c, (double)(i + 1) * c,
                                                   (double)(j + 1) * c);
    GEOSGeometry *part = NULL;
    if (!box)
        return CO_EGEOM;
    char in = GEOSPreparedContains_r(gc, pc, box);
    if (in == 1) {
        rc = add_piece(gc, ps, box, i, j);
        box = NULL;
        goto out;
    }
    char hit = in == 0 ? GEOSPreparedIntersects_r(gc, pc, box) : 2;
    if (hit != 1) {
        rc = hit == 0 ? CO_OK : CO_EGEOM;
        goto out;
    }
    rc = co_demogen_polygonal(gc, GEOSIntersection_r(gc, box, comm), 0.0, &part);
    if (rc != CO_OK || !part)
        goto out;
    if (GEOSGeomTypeId_r(gc, part) == GEOS_POLYGON) {
        rc = add_piece(gc, ps, part, i, j);
        part = NULL;
        goto out;
    }
    int k = GEOSGetNumGeometries_r(gc, part);
    for (int q = 0; rc == CO_OK && q < k; q++) {
        GEOSGeometry *one = GEOSGeom_clone_r(gc, GEOSGetGeometryN_r(gc, part, q));
        rc = one ? add_piece(gc, ps, one, i, j) : CO_EGEOM;
    }
out:
    if (box)
        GEOSGeom_destroy_r(gc, box);
    if (part)
        GEOSGeom_destroy_r(gc, part);
    return rc;
}

static int overlaps(const double a[4], const double b[4])
{
    const double e = 1e-6;
    return a[0] <= b[2] + e && b[0] <= a[2] + e && a[1] <= b[3] + e && b[1] <= a[3] + e;
}

/* Merges piece s into the piece of the same community with which it shares
 * the longest edge or, when it shares none (an island of a multi-part
 * community), into the nearest piece, making that grid a MultiPolygon.
 * *merged = 0 when s is the only piece left. */
static co_err merge_one(GEOSContextHandle_t gc, pieces *ps, size_t s, int *merged)
{
    piece *p = ps->p;
    size_t best = DG_NONE;
    double best_len = 0, best_dist = INFINITY;
    GEOSGeometry *u = NULL, *bs = GEOSBoundary_r(gc, p[s].g);
    *merged = 0;
    if (!bs)
        return CO_EGEOM;
    for (size_t k = 0; k < ps->n; k++) {
        if (k == s || !p[k].g || !overlaps(p[s].ext, p[k].ext))
            continue;
        double len = co_demogen_shared_len(gc, bs, p[k].g);
        if (len > best_len) {
            best_len = len;
            best = k;
        }
    }
    GEOSGeom_destroy_r(gc, bs);
    for (size_t k = 0; best == DG_NONE && k < ps->n; k++) {
        double d;
        if (k != s && p[k].g && GEOSDistance_r(gc, p[s].g, p[k].g, &d) && d < best_dist) {
            best_dist = d;
            best = k;
        }
    }
    if (best == DG_NONE)
        return CO_OK;
    co_err rc = co_demogen_polygonal(gc, GEOSUnion_r(gc, p[best].g, p[s].g), 0.0, &u);
    if (rc != CO_OK || !u)
        return rc != CO_OK ? rc : CO_EGEOM;
    GEOSGeom_destroy_r(gc, p[best].g);
    GEOSGeom_destroy_r(gc, p[s].g);
    p[best].g = u;
    p[s].g = NULL;
    p[best].area += p[s].area;
    for (int q = 0; q < 2; q++) {
        p[best].ext[q] = fmin(p[best].ext[q], p[s].ext[q]);
        p[best].ext[q + 2] = fmax(p[best].ext[q + 2], p[s].ext[q + 2]);
    }
    *merged = 1;
    return CO_OK;
}

/* Sort keys (qsort has no user pointer in C11, so the keys are copied). */
typedef struct sort_key {
    long j, i;
    double a; /* area, or centroid x */
    size_t k; /* piece index: the final tie-break */
} sort_key;

static int cmp_by_area(const void *x, const void *y)
{
    const sort_key *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->k < b->k ? -1 : 1;
}

/* Rows north to south, then west to east; parts of one cell by centroid x. */
static int cmp_by_position(const void *x, const void *y)
{
    const sort_key *a = x, *b = y;
    if (a->j != b->j)
        return a->j > b->j ? -1 : 1;
    if (a->i != b->i)
        return a->i < b->i ? -1 : 1;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->k < b->k ? -1 : 1;
}

static co_err merge_slivers(GEOSContextHandle_t gc, pieces *ps)
{
    co_err rc = CO_OK;
    sort_key *order = co_xmalloc((ps->n ? ps->n : 1) * sizeof *order);
    for (int pass = 0; pass < 4; pass++) {
        size_t m = 0;
        int changed = 0;
        for (size_t k = 0; k < ps->n; k++)
            if (ps->p[k].g && ps->p[k].area < CO_DEMOGEN_SLIVER_M2)
                order[m++] = (sort_key){.a = ps->p[k].area, .k = k};
        qsort(order, m, sizeof *order, cmp_by_area);
        for (size_t q = 0; q < m; q++) {
            size_t s = order[q].k;
            int merged = 0;
            if (!ps->p[s].g || ps->p[s].area >= CO_DEMOGEN_SLIVER_M2)
                continue;
            rc = merge_one(gc, ps, s, &merged);
            if (rc != CO_OK)
                goto out;
            changed |= merged;
        }
        if (!changed)
            break;
    }
out:
    co_free(order);
    return rc;
}

void co_demogen_short_name(const char *name, char *out, size_t n)
{
    static const struct {
        const char *suffix, *with;
    } rules[] = {
        {"社区居民委员会", "社区"}, {"社区居委会", "社区"}, {"居民委员会", "社区"}, {"居委会", "社区"},
        {"村村民委员会", "村"},     {"村村委会", "村"},     {"村民委员会", "村"},   {"村委会", "村"},
    };
    size_t len = strlen(name);
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        size_t sl = strlen(rules[r].suffix);
        if (len > sl && memcmp(name + len - sl, rules[r].suffix, sl) == 0) {
            snprintf(out, n, "%.*s%s", (int)(len - sl), name, rules[r].with);
            return;
        }
    }
    snprintf(out, n, "%s", name);
}

/* Appends the surviving pieces of community ci to city->grid, numbered. */
static co_err emit(dg_city *city, size_t ci, pieces *ps, size_t *added)
{
    const dg_unit *cu = &city->lv[DG_COMMUNITY][ci];
    size_t m = 0;
    sort_key *order = co_xmalloc((ps->n ? ps->n : 1) * sizeof *order);
    for (size_t k = 0; k < ps->n; k++)
        if (ps->p[k].g)
            order[m++] = (sort_key){.j = ps->p[k].j, .i = ps->p[k].i, .a = ps->p[k].cx, .k = k};
    if (m > 999) {
        co_log_warn("demogen: community %s would need %zu grids; left ungridded", cu->code, m);
        co_free(order);
        return CO_OK;
    }
    qsort(order, m, sizeof *order, cmp_by_position);
    char shortname[256];
    co_demogen_short_name(cu->name, shortname, sizeof shortname);
    city->grid = co_xgrow(city->grid, &city->capgrid, city->ngrid + m, sizeof *city->grid);
    for (size_t q = 0; q < m; q++) {
        piece *p = &ps->p[order[q].k];
        dg_unit *g = &city->grid[city->ngrid++];
        char name[300];
        memset(g, 0, sizeof *g);
        snprintf(g->code, sizeof g->code, "%.12s%03u", cu->code, (unsigned)((q + 1) % 1000)); /* m <= 999 */
        snprintf(name, sizeof name, "%s第%03u网格", shortname, (unsigned)((q + 1) % 1000));
        g->name = co_xstrdup(name);
        g->parent = ci;
        g->geom = p->g; /* ownership moves to the city */
        g->area = co_demogen_area(city->gc, p->g);
        p->g = NULL;
    }
    *added = m;
    co_free(order);
    return CO_OK;
}

co_err co_demogen_grid_community(dg_city *city, size_t ci, size_t *added)
{
    GEOSContextHandle_t gc = city->gc;
    const dg_unit *cu = &city->lv[DG_COMMUNITY][ci];
    const double c = CO_DEMOGEN_CELL_M;
    co_err rc = CO_OK;
    pieces ps = {0};
    double e[4], total = 0;
    const GEOSPreparedGeometry *pc = NULL;
    *added = 0;
    if (!GEOSGeom_getExtent_r(gc, cu->geom, &e[0], &e[1], &e[2], &e[3]))
        return CO_EGEOM;
    pc = GEOSPrepare_r(gc, cu->geom);
    if (!pc)
        return CO_EGEOM;
    long i0 = (long)floor(e[0] / c), i1 = (long)floor(e[2] / c);
    long j0 = (long)floor(e[1] / c), j1 = (long)floor(e[3] / c);
    for (long j = j1; j >= j0; j--)
        for (long i = i0; i <= i1; i++)
            if ((rc = cut_cell(gc, cu->geom, pc, &ps, i, j)) != CO_OK)
                goto out;
    if ((rc = merge_slivers(gc, &ps)) != CO_OK)
        goto out;
    for (size_t k = 0; k < ps.n; k++)
        if (ps.p[k].g)
            total += co_demogen_area(gc, ps.p[k].g);
    if (fabs(total - cu->area) > 1e-6 * cu->area + 1e-3) {
        co_log_error("demogen: grids of %s cover %.3f m² of %.3f m²", cu->code, total, cu->area);
        rc = CO_EINTERNAL;
        goto out;
    }
    rc = emit(city, ci, &ps, added);
out:
    GEOSPreparedGeom_destroy_r(gc, pc);
    pieces_free(gc, &ps);
    return rc;
}
