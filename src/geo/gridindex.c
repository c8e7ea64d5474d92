/* gridindex.c — uniform-cell point-in-polygon index (see gridindex.h and
 * docs/internals/gridindex.md).
 * Build: validate -> snap every vertex to an integer lattice (2^k steps per
 * degree, origin at the data's south-west corner) -> choose power-of-two
 * cells -> for each polygon and each cell of its bounding box, collect the
 * edges touching the cell, close that set along the rings (closure() below)
 * and record the base parity R -> pack every cell as EMPTY, FULL(poly) or an
 * offset into the boundary blob.
 * Lookup: snap the point, read one cell; a boundary cell runs the
 * crossing-number test on its few stored edges only, exactly, in integers.
 * Invariant of a boundary cell: for every lattice point p of the cell and
 * each candidate polygon, inside(p) = R xor (crossings of p's eastward ray
 * with the stored edges).
 * Memory: the index owns cells, blob and ids (co_x* allocations, freed by
 * co_gridindex_free); the builder's scratch is freed before build returns. */
#include "gridindex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#define CELL_EMPTY UINT32_MAX
#define CELL_MIXED 0x80000000u
#define NO_POLY UINT32_MAX
#define Q_LIMIT 1073741822.0 /* snapped coordinates stay below 2^30 - 2 */
#define MAX_SCALE_EXP 40
#define MAX_SHIFT 29
#define MAX_CELLS (1u << 25)
#define DEFAULT_CELL_DIV 4
#define EDGES_PER_CELL 4
#define MAX_CELL_DIV 64
#define WGS84_A 6378137.0
#define WGS84_E2 0.00669437999014
#define PI 3.14159265358979323846

struct co_gridindex {
    double ox, oy;   /* lattice origin, degrees */
    double scale;    /* lattice steps per degree, a power of two */
    int32_t wq, hq;  /* snapped points of the data lie in [0,wq) x [0,hq) */
    unsigned sx, sy; /* cell side = 2^sx by 2^sy steps */
    uint32_t ncx, ncy;
    uint32_t *cells; /* ncx * ncy: CELL_EMPTY, poly index, or CELL_MIXED|blob offset */
    int32_t *blob;   /* boundary cells, see write_mixed() */
    size_t blob_len;
    uint32_t *ids;   /* poly index -> id */
    size_t npolys;
    co_gridindex_stats st;
};

typedef struct qpt {
    int32_t x, y;
} qpt;

/* An edge of the polygon being built, in ring order, with its ring
 * neighbours (indices into the same array). */
typedef struct pedge {
    qpt a, b;
    uint32_t prev, next;
} pedge;

/* One boundary (cell, polygon) record produced by the builder. */
typedef struct cand {
    uint32_t cell, poly;
    uint32_t parity;
    uint32_t nchains, nedges;
    size_t eoff, nwords; /* its chains in builder.eq */
} cand;

typedef struct builder {
    const co_gridindex_poly *in;
    size_t n;
    co_gridindex *ix;
    int64_t cw, ch; /* cell side in lattice steps */
    /* the polygon being processed */
    pedge *pe;
    size_t npe, pecap;
    int64_t bx0, by0, bx1, by1;
    uint32_t cx0, cy0, lw, lh;
    uint64_t *pairs; /* (local cell << 32) | edge */
    size_t npairs, paircap;
    uint32_t *cstart, *cedges;
    size_t cstartcap, cedgecap;
    uint32_t *mark, stamp;
    size_t markcap;
    uint32_t *work;
    size_t nwork, workcap;
    /* output of all polygons */
    uint32_t *full; /* per cell: first polygon covering it whole, or NO_POLY */
    cand *cands;
    size_t ncands, candcap;
    int32_t *eq; /* chains of the records: [n][x0][y0]...[x(n-1)][y(n-1)] */
    size_t neq, eqcap;
} builder;

/* ---- geometry predicates (exact: all products fit in int64) ---- */

/* Does p's eastward ray cross edge ab? Half-open in y (the lower end counts),
 * strictly left of the edge: the "east, then north" perturbation rule. */
static unsigned crosses(qpt a, qpt b, int64_t x, int64_t y)
{
    if (a.y > b.y) {
        qpt t = a;
        a = b;
        b = t;
    }
    if (!(a.y <= y && y < b.y))
        return 0;
    int64_t o = (int64_t)(b.x - a.x) * (y - a.y) - (int64_t)(b.y - a.y) * (x - a.x);
    return o > 0;
}

/* Does segment ab meet the closed rectangle [x0,x1] x [y0,y1]? The caller
 * has checked that the bounding boxes overlap; this is the remaining
 * separating-axis test along the segment's normal. */
static int seg_touches_rect(qpt a, qpt b, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    const int64_t cx[4] = {x0, x1, x1, x0}, cy[4] = {y0, y0, y1, y1};
    int64_t dx = (int64_t)b.x - a.x, dy = (int64_t)b.y - a.y;
    int pos = 0, neg = 0;
    for (int i = 0; i < 4; i++) {
        int64_t o = dx * (cy[i] - a.y) - dy * (cx[i] - a.x);
        pos += o > 0;
        neg += o < 0;
    }
    return pos != 4 && neg != 4;
}

/* ---- validation and lattice ---- */

static int poly_valid(const co_gridindex_poly *p)
{
    if (!p->parts || p->nparts == 0)
        return 0;
    for (size_t i = 0; i < p->nparts; i++) {
        const co_gridindex_part *pt = &p->parts[i];
        if (!pt->rings || pt->nrings == 0)
            return 0;
        for (size_t r = 0; r < pt->nrings; r++)
            if (!co_ring_valid(&pt->rings[r]) || pt->rings[r].n - 1 > UINT32_MAX / 4)
                return 0;
    }
    return 1;
}

typedef struct bbox {
    double x0, y0, x1, y1;
} bbox;

static void bbox_add_ring(bbox *b, const co_ring *r)
{
    for (size_t i = 0; i < r->n; i++) {
        double x = r->xy[2 * i], y = r->xy[2 * i + 1];
        b->x0 = fmin(b->x0, x);
        b->x1 = fmax(b->x1, x);
        b->y0 = fmin(b->y0, y);
        b->y1 = fmax(b->y1, y);
    }
}

static bbox poly_bbox(const co_gridindex_poly *p)
{
    bbox b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < p->nparts; i++) /* holes too: the input may be sloppy */
        for (size_t r = 0; r < p->parts[i].nrings; r++)
            bbox_add_ring(&b, &p->parts[i].rings[r]);
    return b;
}

static size_t poly_edges(const co_gridindex_poly *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->nparts; i++)
        for (size_t r = 0; r < p->parts[i].nrings; r++)
            n += p->parts[i].rings[r].n - 1;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int32_t snap(double v, double origin, double scale)
{
    return (int32_t)((v - origin) * scale);
}

static double choose_scale(double span)
{
    int k = MAX_SCALE_EXP;
    while (k > 0 && ldexp(span, k) >= Q_LIMIT)
        k--;
    return ldexp(1.0, k);
}

static unsigned shift_for(double target_steps)
{
    unsigned s = 0;
    while (s < MAX_SHIFT && ldexp(1.0, (int)s + 1) <= target_steps * 1.4142)
        s++;
    return s;
}

static uint32_t cells_along(int32_t extent, unsigned shift)
{
    return (uint32_t)(((uint32_t)extent - 1) >> shift) + 1;
}

static uint64_t count_cells(co_gridindex *ix)
{
    ix->ncx = cells_along(ix->wq, ix->sx);
    ix->ncy = cells_along(ix->hq, ix->sy);
    return (uint64_t)ix->ncx * ix->ncy;
}

/* Chooses cell shifts from the median polygon size; refines them while
 * there are fewer than a cell per EDGES_PER_CELL input edges (polygons with
 * many vertices), then coarsens until the cell table stays within a budget
 * proportional to the input. */
static void choose_cells(co_gridindex *ix, double med_w, double med_h, unsigned div, size_t nedges)
{
    ix->sx = shift_for(med_w * ix->scale / div);
    ix->sy = shift_for(med_h * ix->scale / div);
    uint64_t budget = (uint64_t)4 * div * div * (ix->npolys + 64);
    budget = budget > 2 * (uint64_t)nedges ? budget : 2 * (uint64_t)nedges;
    budget = budget < MAX_CELLS ? budget : MAX_CELLS;
    while (count_cells(ix) < nedges / EDGES_PER_CELL && count_cells(ix) * 4 <= budget && ix->sx > 0 &&
           ix->sy > 0) {
        ix->sx--;
        ix->sy--;
    }
    for (;;) {
        if (count_cells(ix) <= budget || (ix->sx >= MAX_SHIFT && ix->sy >= MAX_SHIFT))
            break;
        if ((ix->ncx >= ix->ncy && ix->sx < MAX_SHIFT) || ix->sy >= MAX_SHIFT)
            ix->sx++;
        else
            ix->sy++;
    }
}

/* Sets the lattice (origin, scale, extent) and the cell sizes. */
static void setup_lattice(builder *B, unsigned div)
{
    co_gridindex *ix = B->ix;
    bbox all = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    size_t nedges = 0;
    double *w = co_xcalloc(B->n ? B->n : 1, sizeof *w);
    double *h = co_xcalloc(B->n ? B->n : 1, sizeof *h);
    for (size_t i = 0; i < B->n; i++) {
        bbox b = poly_bbox(&B->in[i]);
        all.x0 = fmin(all.x0, b.x0);
        all.y0 = fmin(all.y0, b.y0);
        all.x1 = fmax(all.x1, b.x1);
        all.y1 = fmax(all.y1, b.y1);
        w[i] = b.x1 - b.x0;
        h[i] = b.y1 - b.y0;
        nedges += poly_edges(&B->in[i]);
    }
    if (B->n == 0)
        all = (bbox){0, 0, 0, 0};
    qsort(w, B->n, sizeof *w, cmp_double);
    qsort(h, B->n, sizeof *h, cmp_double);
    double med_w = B->n ? w[B->n / 2] : 0, med_h = B->n ? h[B->n / 2] : 0;
    co_free(w);
    co_free(h);
    ix->ox = all.x0;
    ix->oy = all.y0;
    ix->scale = choose_scale(fmax(all.x1 - all.x0, all.y1 - all.y0));
    ix->wq = snap(all.x1, ix->ox, ix->scale) + 1;
    ix->hq = snap(all.y1, ix->oy, ix->scale) + 1;
    choose_cells(ix, med_w, med_h, div, nedges);
    B->cw = (int64_t)1 << ix->sx;
    B->ch = (int64_t)1 << ix->sy;
    size_t ncell = (size_t)ix->ncx * ix->ncy;
    B->full = co_xmalloc(ncell * sizeof *B->full);
    memset(B->full, 0xff, ncell * sizeof *B->full); /* NO_POLY */
}

/* ---- per-polygon work ---- */

static void load_ring(builder *B, const co_ring *r)
{
    const co_gridindex *ix = B->ix;
    size_t m = r->n - 1, base = B->npe;
    B->pe = co_xgrow(B->pe, &B->pecap, base + m, sizeof *B->pe);
    for (size_t i = 0; i < m; i++) {
        pedge *e = &B->pe[base + i];
        e->a.x = snap(r->xy[2 * i], ix->ox, ix->scale);
        e->a.y = snap(r->xy[2 * i + 1], ix->oy, ix->scale);
        e->b.x = snap(r->xy[2 * i + 2], ix->ox, ix->scale);
        e->b.y = snap(r->xy[2 * i + 3], ix->oy, ix->scale);
        e->prev = (uint32_t)(base + (i + m - 1) % m);
        e->next = (uint32_t)(base + (i + 1) % m);
        B->bx0 = e->a.x < B->bx0 ? e->a.x : B->bx0;
        B->bx1 = e->a.x > B->bx1 ? e->a.x : B->bx1;
        B->by0 = e->a.y < B->by0 ? e->a.y : B->by0;
        B->by1 = e->a.y > B->by1 ? e->a.y : B->by1;
    }
    B->npe = base + m;
}

/* Loads polygon pi's edges and its window of cells. */
static void load_poly(builder *B, size_t pi)
{
    const co_gridindex_poly *p = &B->in[pi];
    B->npe = 0;
    B->bx0 = B->by0 = INT64_MAX;
    B->bx1 = B->by1 = INT64_MIN;
    for (size_t i = 0; i < p->nparts; i++)
        for (size_t r = 0; r < p->parts[i].nrings; r++)
            load_ring(B, &p->parts[i].rings[r]);
    B->cx0 = (uint32_t)(B->bx0 >> B->ix->sx);
    B->cy0 = (uint32_t)(B->by0 >> B->ix->sy);
    B->lw = (uint32_t)(B->bx1 >> B->ix->sx) - B->cx0 + 1;
    B->lh = (uint32_t)(B->by1 >> B->ix->sy) - B->cy0 + 1;
}

/* First and last cell along one axis whose closed touch interval
 * [i*c, (i+1)*c] meets [lo, hi], clipped to the polygon's window. */
static void cell_span(int64_t lo, int64_t hi, unsigned shift, uint32_t w0, uint32_t wn, int64_t *i0,
                      int64_t *i1)
{
    int64_t c = (int64_t)1 << shift;
    int64_t a = ((lo + c - 1) >> shift) - 1, b = hi >> shift;
    *i0 = a < (int64_t)w0 ? (int64_t)w0 : a;
    *i1 = b > (int64_t)(w0 + wn - 1) ? (int64_t)(w0 + wn - 1) : b;
}

/* Registers edge ei in every cell of the window whose closed rectangle
 * [X0, X0+cw] x [Y0, Y0+ch] it touches. The rectangles overlap their
 * neighbours by one line, so every point of the plane is covered. */
static void register_edge(builder *B, uint32_t ei)
{
    const pedge *e = &B->pe[ei];
    int64_t i0, i1, j0, j1;
    cell_span(e->a.x < e->b.x ? e->a.x : e->b.x, e->a.x > e->b.x ? e->a.x : e->b.x, B->ix->sx,
              B->cx0, B->lw, &i0, &i1);
    cell_span(e->a.y < e->b.y ? e->a.y : e->b.y, e->a.y > e->b.y ? e->a.y : e->b.y, B->ix->sy,
              B->cy0, B->lh, &j0, &j1);
    for (int64_t j = j0; j <= j1; j++) {
        for (int64_t i = i0; i <= i1; i++) {
            int64_t x0 = i * B->cw, y0 = j * B->ch;
            if (!seg_touches_rect(e->a, e->b, x0, y0, x0 + B->cw, y0 + B->ch))
                continue;
            uint64_t loc = (uint64_t)(j - B->cy0) * B->lw + (uint64_t)(i - B->cx0);
            B->pairs = co_xgrow(B->pairs, &B->paircap, B->npairs + 1, sizeof *B->pairs);
            B->pairs[B->npairs++] = (loc << 32) | ei;
        }
    }
}

/* Groups the (cell, edge) pairs by local cell: cedges[cstart[c]..cstart[c+1]). */
static void group_pairs(builder *B)
{
    size_t nloc = (size_t)B->lw * B->lh;
    B->cstart = co_xgrow(B->cstart, &B->cstartcap, nloc + 1, sizeof *B->cstart);
    B->cedges = co_xgrow(B->cedges, &B->cedgecap, B->npairs, sizeof *B->cedges);
    memset(B->cstart, 0, (nloc + 1) * sizeof *B->cstart);
    for (size_t i = 0; i < B->npairs; i++)
        B->cstart[(B->pairs[i] >> 32) + 1]++;
    for (size_t c = 0; c < nloc; c++)
        B->cstart[c + 1] += B->cstart[c];
    for (size_t i = 0; i < B->npairs; i++) {
        size_t c = (size_t)(B->pairs[i] >> 32);
        B->cedges[B->cstart[c]++] = (uint32_t)B->pairs[i];
    }
    for (size_t c = nloc; c > 0; c--) /* shift back: cstart[c] = start of c */
        B->cstart[c] = B->cstart[c - 1];
    B->cstart[0] = 0;
}

static void work_add(builder *B, uint32_t ei)
{
    if (B->mark[ei] == B->stamp)
        return;
    B->mark[ei] = B->stamp;
    B->work = co_xgrow(B->work, &B->workcap, B->nwork + 1, sizeof *B->work);
    B->work[B->nwork++] = ei;
}

/* The stored edge set of a cell: the edges touching it, plus, wherever a
 * stored edge ends at a vertex v east of the cell inside its row band
 * (Y0 < v.y <= Y0+ch-1, v.x > X0+cw-1), the ring neighbour at v, repeated
 * until closed. Then every edge left out is, within the band, wholly west or
 * wholly east of the cell, and the parity of the eastern ones crossing the
 * band at height y no longer depends on y: it is the constant R. */
static void closure(builder *B, const uint32_t *edges, size_t n, int64_t x0, int64_t y0)
{
    int64_t xe = x0 + B->cw - 1, yt = y0 + B->ch - 1;
    B->nwork = 0;
    if (++B->stamp == 0) {
        memset(B->mark, 0, B->markcap * sizeof *B->mark);
        B->stamp = 1;
    }
    for (size_t i = 0; i < n; i++)
        work_add(B, edges[i]);
    for (size_t w = 0; w < B->nwork; w++) {
        const pedge *e = &B->pe[B->work[w]];
        if (e->a.y > y0 && e->a.y <= yt && e->a.x > xe)
            work_add(B, e->prev);
        if (e->b.y > y0 && e->b.y <= yt && e->b.x > xe)
            work_add(B, e->next);
    }
}

static void push_word(builder *B, int32_t w)
{
    B->eq = co_xgrow(B->eq, &B->eqcap, B->neq + 1, sizeof *B->eq);
    B->eq[B->neq++] = w;
}

/* Appends the chain of marked edges that starts at edge e, unmarking them:
 * [n][x0][y0]...[x(n-1)][y(n-1)], n = edges + 1. Returns the edge count. */
static uint32_t push_chain(builder *B, uint32_t e)
{
    size_t head = B->neq;
    uint32_t n = 0;
    push_word(B, 0);
    push_word(B, B->pe[e].a.x);
    push_word(B, B->pe[e].a.y);
    while (B->mark[e] == B->stamp) {
        B->mark[e] = 0;
        push_word(B, B->pe[e].b.x);
        push_word(B, B->pe[e].b.y);
        n++;
        e = B->pe[e].next;
    }
    B->eq[head] = (int32_t)(n + 1);
    return n;
}

static cand *new_cand(builder *B, uint32_t cell, size_t pi)
{
    B->cands = co_xgrow(B->cands, &B->candcap, B->ncands + 1, sizeof *B->cands);
    cand *c = &B->cands[B->ncands++];
    memset(c, 0, sizeof *c);
    c->cell = cell;
    c->poly = (uint32_t)pi;
    c->eoff = B->neq;
    return c;
}

/* Emits a boundary record: the parity R (from the polygon's parity at the
 * cell corner) and the stored edges (marked by closure()) as maximal runs of
 * consecutive ring edges; a ring stored whole is cut at an arbitrary edge. */
static void emit_mixed(builder *B, uint32_t cell, size_t pi, int64_t x0, int64_t y0, unsigned corner)
{
    cand *c = new_cand(B, cell, pi);
    unsigned par = corner;
    for (size_t i = 0; i < B->nwork; i++) {
        const pedge *e = &B->pe[B->work[i]];
        par ^= crosses(e->a, e->b, x0, y0);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < B->nwork; i++) {
            uint32_t e = B->work[i];
            if (B->mark[e] != B->stamp || (pass == 0 && B->mark[B->pe[e].prev] == B->stamp))
                continue;
            c->nedges += push_chain(B, e);
            c->nchains++;
        }
    }
    c->parity = par;
    c->nwords = B->neq - c->eoff;
}

/* The polygon's parity at (xb, y), given it is `par` at (xa, y), xa < xb:
 * only edges meeting the segment between them can tell the two apart, and
 * the caller passes a list holding all of those. */
static unsigned advance(const builder *B, size_t loc, int64_t xa, int64_t xb, int64_t y, unsigned par)
{
    for (uint32_t k = B->cstart[loc]; k < B->cstart[loc + 1]; k++) {
        const pedge *e = &B->pe[B->cedges[k]];
        par ^= crosses(e->a, e->b, xa, y) ^ crosses(e->a, e->b, xb, y);
    }
    return par;
}

/* One row of the polygon's window, west to east, carrying the polygon's
 * parity at the cells' south-west corners. It starts one step west of the
 * window, which is outside the polygon (parity 0); the edges that separate
 * two consecutive corners all touch the western cell's rectangle, so its
 * edge list moves the parity along. An edge-free cell is wholly inside or
 * wholly outside: its corner's parity says which. */
static void process_row(builder *B, size_t pi, uint32_t ly)
{
    uint32_t gy = B->cy0 + ly;
    int64_t y0 = (int64_t)gy * B->ch, xw = (int64_t)B->cx0 * B->cw;
    unsigned inside = advance(B, (size_t)ly * B->lw, xw - 1, xw, y0, 0);
    for (uint32_t lx = 0; lx < B->lw; lx++) {
        size_t loc = (size_t)ly * B->lw + lx;
        uint32_t gx = B->cx0 + lx, cell = gy * B->ix->ncx + gx;
        int64_t x0 = (int64_t)gx * B->cw;
        size_t s = B->cstart[loc], e = B->cstart[loc + 1];
        if (s < e) {
            closure(B, B->cedges + s, e - s, x0, y0);
            emit_mixed(B, cell, pi, x0, y0, inside);
        } else if (inside && B->full[cell] == NO_POLY) {
            B->full[cell] = (uint32_t)pi;
        }
        inside = advance(B, loc, x0, x0 + B->cw, y0, inside);
    }
}

static void process_poly(builder *B, size_t pi)
{
    load_poly(B, pi);
    if (B->npe > B->markcap) {
        size_t old = B->markcap;
        B->mark = co_xgrow(B->mark, &B->markcap, B->npe, sizeof *B->mark);
        memset(B->mark + old, 0, (B->markcap - old) * sizeof *B->mark);
    }
    B->npairs = 0;
    for (uint32_t ei = 0; ei < B->npe; ei++)
        register_edge(B, ei);
    group_pairs(B);
    for (uint32_t ly = 0; ly < B->lh; ly++)
        process_row(B, pi, ly);
}

/* ---- packing ---- */

/* The boundary records of a cell that can matter: those of polygons before
 * the first polygon covering the whole cell (later ones never win). */
static size_t live_cands(const builder *B, const size_t *ord, size_t k, uint32_t full)
{
    size_t i = 0;
    while (i < k && B->cands[ord[i]].poly < full)
        i++;
    return i;
}

static size_t mixed_words(const builder *B, const size_t *ord, size_t k, uint32_t full)
{
    size_t w = 1 + (full != NO_POLY ? 2 : 0);
    for (size_t i = 0; i < k; i++)
        w += 2 + B->cands[ord[i]].nwords;
    return w;
}

/* Blob layout of a boundary cell: [ncand] then per candidate
 * [poly][nchains << 1 | parity] and its chains, each
 * [n][x0][y0]...[x(n-1)][y(n-1)] for the n - 1 edges between consecutive
 * vertices. A polygon covering the whole cell comes last as parity 1 with
 * no chains. */
static void write_mixed(const builder *B, int32_t *out, const size_t *ord, size_t k, uint32_t full)
{
    int32_t *w = out + 1;
    for (size_t i = 0; i < k; i++) {
        const cand *c = &B->cands[ord[i]];
        w[0] = (int32_t)c->poly;
        w[1] = (int32_t)((c->nchains << 1) | c->parity);
        memcpy(w + 2, B->eq + c->eoff, c->nwords * sizeof *w);
        w += 2 + c->nwords;
    }
    if (full != NO_POLY) {
        w[0] = (int32_t)full;
        w[1] = 1;
    }
    out[0] = (int32_t)(k + (full != NO_POLY));
}

/* Stable counting sort of the records by cell (polygon order is kept). */
static size_t *sort_cands(const builder *B, size_t ncell, size_t **startp)
{
    size_t *start = co_xcalloc(ncell + 1, sizeof *start);
    size_t *ord = co_xmalloc((B->ncands ? B->ncands : 1) * sizeof *ord);
    for (size_t i = 0; i < B->ncands; i++)
        start[B->cands[i].cell + 1]++;
    for (size_t c = 0; c < ncell; c++)
        start[c + 1] += start[c];
    size_t *pos = co_xmalloc((ncell + 1) * sizeof *pos);
    memcpy(pos, start, (ncell + 1) * sizeof *pos);
    for (size_t i = 0; i < B->ncands; i++)
        ord[pos[B->cands[i].cell]++] = i;
    co_free(pos);
    *startp = start;
    return ord;
}

static void pack_cell(builder *B, size_t c, const size_t *o, size_t k)
{
    co_gridindex *ix = B->ix;
    uint32_t full = B->full[c];
    if (k == 0 && full == NO_POLY) {
        ix->cells[c] = CELL_EMPTY;
        ix->st.cells_empty++;
    } else if (k == 0) {
        ix->cells[c] = full;
        ix->st.cells_full++;
    } else {
        ix->cells[c] = CELL_MIXED | (uint32_t)ix->blob_len;
        write_mixed(B, ix->blob + ix->blob_len, o, k, full);
        ix->blob_len += mixed_words(B, o, k, full);
        ix->st.cells_mixed++;
        for (size_t i = 0; i < k; i++)
            ix->st.stored_edges += B->cands[o[i]].nedges;
    }
}

static co_err pack(builder *B)
{
    co_gridindex *ix = B->ix;
    size_t ncell = (size_t)ix->ncx * ix->ncy, *start = NULL, total = 0;
    size_t *ord = sort_cands(B, ncell, &start);
    co_err rc = CO_OK;
    for (size_t c = 0; c < ncell; c++) {
        size_t k = live_cands(B, ord + start[c], start[c + 1] - start[c], B->full[c]);
        if (k > 0)
            total += mixed_words(B, ord + start[c], k, B->full[c]);
    }
    if (total >= CELL_MIXED) {
        rc = CO_ETOOBIG;
        goto out;
    }
    ix->cells = co_xmalloc(ncell * sizeof *ix->cells);
    ix->blob = co_xmalloc((total ? total : 1) * sizeof *ix->blob);
    for (size_t c = 0; c < ncell; c++) {
        size_t k = live_cands(B, ord + start[c], start[c + 1] - start[c], B->full[c]);
        pack_cell(B, c, ord + start[c], k);
    }
out:
    co_free(start);
    co_free(ord);
    return rc;
}

static void builder_free(builder *B)
{
    co_free(B->pe);
    co_free(B->pairs);
    co_free(B->cstart);
    co_free(B->cedges);
    co_free(B->mark);
    co_free(B->work);
    co_free(B->full);
    co_free(B->cands);
    co_free(B->eq);
}

static void fill_stats(co_gridindex *ix, const builder *B)
{
    co_gridindex_stats *st = &ix->st;
    st->polygons = ix->npolys;
    st->step_deg = 1.0 / ix->scale;
    st->cells_x = ix->ncx;
    st->cells_y = ix->ncy;
    st->cell_w_deg = ldexp(1.0, (int)ix->sx) / ix->scale;
    st->cell_h_deg = ldexp(1.0, (int)ix->sy) / ix->scale;
    for (size_t i = 0; i < B->n; i++)
        st->input_edges += poly_edges(&B->in[i]);
    st->bytes = co_gridindex_memory(ix);
}

co_err co_gridindex_build(const co_gridindex_poly *polys, size_t n, const co_gridindex_opts *opts,
                          co_gridindex **out, size_t *bad)
{
    co_err rc = CO_OK;
    builder B = {.in = polys, .n = n};
    co_gridindex *ix = NULL;
    unsigned div = opts && opts->cell_div ? opts->cell_div : DEFAULT_CELL_DIV;
    if (!out)
        return CO_EINVAL;
    *out = NULL;
    if ((n && !polys) || div > MAX_CELL_DIV)
        return CO_EINVAL;
    if (n >= CELL_MIXED - 1)
        return CO_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        if (!poly_valid(&polys[i])) {
            if (bad)
                *bad = i;
            return CO_EINVAL;
        }
    }
    ix = co_xcalloc(1, sizeof *ix);
    ix->npolys = n;
    B.ix = ix;
    setup_lattice(&B, div);
    for (size_t i = 0; i < n; i++)
        process_poly(&B, i);
    rc = pack(&B);
    if (rc != CO_OK)
        goto out;
    ix->ids = co_xmalloc((n ? n : 1) * sizeof *ix->ids);
    for (size_t i = 0; i < n; i++)
        ix->ids[i] = polys[i].id;
    fill_stats(ix, &B);
    *out = ix;
    ix = NULL;
out:
    builder_free(&B);
    co_gridindex_free(ix);
    return rc;
}

void co_gridindex_free(co_gridindex *ix)
{
    if (!ix)
        return;
    co_free(ix->cells);
    co_free(ix->blob);
    co_free(ix->ids);
    co_free(ix);
}

/* ---- queries ---- */

/* Crossing parity of p's eastward ray with one chain; *pr is advanced past
 * it. Same rule as crosses(): an edge counts when exactly one end is above
 * y (so its lower end is at or below), and p is strictly left of it. */
static unsigned chain_parity(const int32_t **pr, int32_t x, int32_t y)
{
    const int32_t *v = *pr;
    int32_t n = *v++;
    unsigned par = 0;
    int32_t ax = v[0], ay = v[1];
    for (int32_t i = 1; i < n; i++) {
        int32_t bx = v[2 * i], by = v[2 * i + 1];
        if ((ay > y) != (by > y)) {
            int64_t o = (int64_t)(bx - ax) * (y - ay) - (int64_t)(by - ay) * (x - ax);
            par ^= (by > ay) ? o > 0 : o < 0; /* orient as if upward */
        }
        ax = bx;
        ay = by;
    }
    *pr = v + 2 * n;
    return par;
}

static int64_t lookup_mixed(const co_gridindex *ix, uint32_t off, int32_t x, int32_t y)
{
    const int32_t *r = ix->blob + off;
    int32_t ncand = *r++;
    for (int32_t c = 0; c < ncand; c++) {
        uint32_t poly = (uint32_t)r[0], meta = (uint32_t)r[1], nchains = meta >> 1;
        unsigned par = meta & 1;
        r += 2;
        for (uint32_t k = 0; k < nchains; k++)
            par ^= chain_parity(&r, x, y);
        if (par)
            return ix->ids[poly];
    }
    return -1;
}

int64_t co_gridindex_lookup(const co_gridindex *ix, double lon, double lat)
{
    double u = (lon - ix->ox) * ix->scale, v = (lat - ix->oy) * ix->scale;
    if (!(u >= 0 && u < ix->wq && v >= 0 && v < ix->hq)) /* also rejects NaN */
        return -1;
    int32_t x = (int32_t)u, y = (int32_t)v; /* == snap() */
    uint32_t c = ix->cells[(size_t)((uint32_t)y >> ix->sy) * ix->ncx + ((uint32_t)x >> ix->sx)];
    if (c == CELL_EMPTY)
        return -1;
    if (!(c & CELL_MIXED))
        return ix->ids[c];
    return lookup_mixed(ix, c & ~CELL_MIXED, x, y);
}

/* State of one nearest search, in lattice units around the query point. */
typedef struct near {
    const co_gridindex *ix;
    double pu, pv; /* query point, lattice units (not snapped) */
    double kx, ky; /* metres per lattice step */
    double best;   /* metres */
    int64_t best_poly;
} near;

static double seg_dist_m(const near *s, const int32_t *e)
{
    double ax = (e[0] - s->pu) * s->kx, ay = (e[1] - s->pv) * s->ky;
    double bx = (e[2] - s->pu) * s->kx, by = (e[3] - s->pv) * s->ky;
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    t = t < 0 ? 0 : (t > 1 ? 1 : t);
    double x = ax + t * dx, y = ay + t * dy;
    return sqrt(x * x + y * y);
}

static void near_chain(near *s, const int32_t **pr, int64_t poly)
{
    const int32_t *v = *pr;
    int32_t n = *v++;
    for (int32_t i = 1; i < n; i++) {
        const int32_t e[4] = {v[2 * i - 2], v[2 * i - 1], v[2 * i], v[2 * i + 1]};
        double d = seg_dist_m(s, e);
        if (d < s->best || (d == s->best && poly < s->best_poly)) {
            s->best = d;
            s->best_poly = poly;
        }
    }
    *pr = v + 2 * n;
}

static void near_cell(near *s, uint32_t cell)
{
    uint32_t c = s->ix->cells[cell];
    if (c == CELL_EMPTY || !(c & CELL_MIXED))
        return;
    const int32_t *r = s->ix->blob + (c & ~CELL_MIXED);
    int32_t ncand = *r++;
    for (int32_t k = 0; k < ncand; k++) {
        int64_t poly = r[0];
        uint32_t nchains = (uint32_t)r[1] >> 1;
        r += 2;
        for (uint32_t i = 0; i < nchains; i++)
            near_chain(s, &r, poly);
    }
}

static void near_row(near *s, int64_t j, int64_t i0, int64_t i1)
{
    if (j < 0 || j >= s->ix->ncy)
        return;
    i0 = i0 < 0 ? 0 : i0;
    i1 = i1 >= s->ix->ncx ? (int64_t)s->ix->ncx - 1 : i1;
    for (int64_t i = i0; i <= i1; i++)
        near_cell(s, (uint32_t)(j * s->ix->ncx + i));
}

/* Visits the cells at Chebyshev distance r from cell (ci, cj). */
static void near_ring(near *s, int64_t ci, int64_t cj, int64_t r)
{
    if (r == 0) {
        near_row(s, cj, ci, ci);
        return;
    }
    near_row(s, cj - r, ci - r, ci + r);
    near_row(s, cj + r, ci - r, ci + r);
    for (int64_t j = cj - r + 1; j <= cj + r - 1; j++) {
        near_row(s, j, ci - r, ci - r);
        near_row(s, j, ci + r, ci + r);
    }
}

static int64_t clamp_cell(double v, uint32_t n)
{
    double lim = (double)n + 4.0;
    v = v < -lim ? -lim : (v > lim ? lim : v);
    return (int64_t)floor(v);
}

static int64_t max_i64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Ring-by-ring search outwards; ring r lies at least (r - 1) cells away. */
static void near_search(near *s, double max_m)
{
    const co_gridindex *ix = s->ix;
    double cw = ldexp(1.0, (int)ix->sx), ch = ldexp(1.0, (int)ix->sy);
    int64_t ci = clamp_cell(s->pu / cw, ix->ncx), cj = clamp_cell(s->pv / ch, ix->ncy);
    double step = fmin(cw * s->kx, ch * s->ky);
    int64_t rmax = max_i64(max_i64(ci, (int64_t)ix->ncx - 1 - ci), max_i64(cj, (int64_t)ix->ncy - 1 - cj));
    int64_t r0 = max_i64(max_i64(-ci, ci - ((int64_t)ix->ncx - 1)),
                         max_i64(-cj, cj - ((int64_t)ix->ncy - 1)));
    for (int64_t r = r0 > 0 ? r0 : 0; r <= rmax; r++) {
        double lb = r > 0 ? (double)(r - 1) * step : 0;
        if (lb > max_m || lb > s->best)
            break;
        near_ring(s, ci, cj, r);
    }
}

co_err co_gridindex_nearest(const co_gridindex *ix, double lon, double lat, double max_m,
                            uint32_t *id, double *dist_m)
{
    if (!ix || !id || !dist_m || !co_coord_valid(lon, lat) || !(max_m >= 0))
        return CO_EINVAL;
    int64_t hit = co_gridindex_lookup(ix, lon, lat);
    if (hit >= 0) {
        *id = (uint32_t)hit;
        *dist_m = 0;
        return CO_OK;
    }
    if (ix->npolys == 0)
        return CO_ENOTFOUND;
    double phi = lat * PI / 180.0, sp = sin(phi), w = 1.0 - WGS84_E2 * sp * sp;
    double n_rad = WGS84_A / sqrt(w), m_rad = WGS84_A * (1.0 - WGS84_E2) / (w * sqrt(w));
    near s = {.ix = ix,
              .pu = (lon - ix->ox) * ix->scale,
              .pv = (lat - ix->oy) * ix->scale,
              .kx = n_rad * cos(phi) * (PI / 180.0) / ix->scale,
              .ky = m_rad * (PI / 180.0) / ix->scale,
              .best = INFINITY,
              .best_poly = -1};
    near_search(&s, max_m);
    if (s.best_poly < 0 || !(s.best <= max_m))
        return CO_ENOTFOUND;
    *id = ix->ids[s.best_poly];
    *dist_m = s.best;
    return CO_OK;
}

size_t co_gridindex_memory(const co_gridindex *ix)
{
    if (!ix)
        return 0;
    return sizeof *ix + (size_t)ix->ncx * ix->ncy * sizeof *ix->cells +
           ix->blob_len * sizeof *ix->blob + ix->npolys * sizeof *ix->ids;
}

size_t co_gridindex_count(const co_gridindex *ix)
{
    return ix ? ix->npolys : 0;
}

void co_gridindex_get_stats(const co_gridindex *ix, co_gridindex_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (ix) {
        *out = ix->st;
        out->bytes = co_gridindex_memory(ix);
    }
}
