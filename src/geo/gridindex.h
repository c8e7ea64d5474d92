/* gridindex.h — the point -> unit grid index (the geocoding hot path).
 * An immutable in-memory index over tens of thousands of polygons (unit
 * grids with holes and multiple parts; neighbours share exact edges and
 * vertices) answering "which polygon contains this WGS84 point" in well
 * under a microsecond, plus "nearest polygon boundary within N metres".
 *
 * Boundary rule: the answer is exact for the polygons snapped to an integer
 * lattice (2^-k degrees, k chosen so the data's extent fits 2^30 steps;
 * 0.03-0.4 mm for a city). A point on a boundary belongs to the polygon
 * that contains it after an infinitesimal step east (and, when that step
 * runs along an east-west edge, an even smaller step north): a shared
 * north-south edge belongs to the polygon east of it, a shared east-west
 * edge to the polygon north of it, a shared vertex to the polygon north-east
 * of it. So on a tiling every point maps to exactly one polygon, always the
 * same one. Holes use the even-odd rule; overlapping input polygons resolve
 * to the earliest one in input order.
 *
 * Ownership: build copies what it needs; the caller's arrays may be freed as
 * soon as it returns. The index is owned by the caller (co_gridindex_free).
 * Thread safety: after build the index is read-only; any number of threads
 * may call lookup/nearest/stats concurrently. Design: docs/internals/gridindex.md. */
#ifndef CO_GEO_GRIDINDEX_H
#define CO_GEO_GRIDINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "geo/coord.h"
#include "lib/err.h"

typedef struct co_gridindex co_gridindex;

/* One polygon of a (multi)polygon: rings[0] is the outer ring, rings[1..]
 * are its holes. Ring orientation does not matter. */
typedef struct co_gridindex_part {
    const co_ring *rings;
    size_t nrings;
} co_gridindex_part;

/* One indexed item: an id and its parts (1 for a Polygon, more for a
 * MultiPolygon). Ids need not be unique. */
typedef struct co_gridindex_poly {
    uint32_t id;
    const co_gridindex_part *parts;
    size_t nparts;
} co_gridindex_poly;

/* Build options; a zeroed struct (or NULL) means the defaults. */
typedef struct co_gridindex_opts {
    /* Cell side = median polygon side / cell_div, rounded to a power of two
     * of the lattice step (and made finer when polygons have many
     * vertices). Larger = more cells answered without any edge test, more
     * memory. 0 = default (4); at most 64. */
    unsigned cell_div;
} co_gridindex_opts;

typedef struct co_gridindex_stats {
    size_t polygons;     /* items indexed */
    size_t input_edges;  /* ring segments in the input */
    double step_deg;     /* lattice step: coordinates are snapped to it */
    uint32_t cells_x, cells_y;
    double cell_w_deg, cell_h_deg;
    size_t cells_empty;  /* no polygon: answered -1 at once */
    size_t cells_full;   /* inside one polygon: answered at once */
    size_t cells_mixed;  /* boundary cells: a few edge tests */
    size_t stored_edges; /* edge copies kept in boundary cells */
    size_t bytes;        /* = co_gridindex_memory() */
} co_gridindex_stats;

/* Builds an index over polys[0..n). n may be 0 (every lookup then misses).
 * Every ring must satisfy co_ring_valid() (>= 4 points, closed, finite,
 * in range) and every poly/part must have at least one part/ring; otherwise
 * CO_EINVAL, *out = NULL and, when bad is not NULL, *bad = the index of the
 * first offending poly. CO_ETOOBIG past 2^31 - 1 polys or index words.
 * On success *out is a new index owned by the caller. */
co_err co_gridindex_build(const co_gridindex_poly *polys, size_t n, const co_gridindex_opts *opts,
                          co_gridindex **out, size_t *bad) CO_MUST_CHECK;

/* Frees the index; NULL is a no-op. */
void co_gridindex_free(co_gridindex *ix);

/* The id of the polygon containing WGS84 (lon, lat) under the boundary rule
 * above, or -1 when none does or the point is not finite. */
int64_t co_gridindex_lookup(const co_gridindex *ix, double lon, double lat);

/* For a point inside a polygon: that id and *dist_m = 0. Otherwise the
 * polygon whose boundary is nearest, if within max_m metres (ties go to the
 * earliest polygon). Metres use the ellipsoid's local scale at lat (meridian
 * and prime-vertical radii of WGS84), so they are exact to ~0.1 % for
 * distances up to a few kilometres. CO_ENOTFOUND when nothing is within
 * max_m; CO_EINVAL for an invalid point or a negative or NaN max_m (+inf is
 * allowed). Outputs are written only on CO_OK. */
co_err co_gridindex_nearest(const co_gridindex *ix, double lon, double lat, double max_m,
                            uint32_t *id, double *dist_m) CO_MUST_CHECK;

/* Bytes of heap the index holds (struct, cell table, boundary data, ids). */
size_t co_gridindex_memory(const co_gridindex *ix);

/* Number of indexed items. */
size_t co_gridindex_count(const co_gridindex *ix);

void co_gridindex_get_stats(const co_gridindex *ix, co_gridindex_stats *out);

#endif
