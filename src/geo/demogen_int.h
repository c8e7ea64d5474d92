/* demogen_int.h — internals shared by the demogen_*.c files only.
 * The city under construction is a dg_city: three levels of dg_unit
 * (districts, streets, communities) sorted by code, children of one parent
 * contiguous, plus the grids. Every geometry lives in a local metric frame
 * (x east, y north, metres, origin at the city centre) until it is written
 * out; dg_city owns every GEOSGeometry and string in it, and
 * co_demogen_city_free() releases them with the city's GEOS context. Nothing here is thread-safe:
 * one dg_city, one GEOS context, one thread. */
#ifndef CO_GEO_DEMOGEN_INT_H
#define CO_GEO_DEMOGEN_INT_H

#include <geos_c.h>
#include <stddef.h>
#include <stdint.h>

#include "geo/coord.h"
#include "lib/err.h"

/* The city centre (WGS84): the origin of the metric frame and of the core. */
#define DG_LON0 111.67
#define DG_LAT0 40.82
#define DG_NONE ((size_t)-1)

enum { DG_DISTRICT = 0, DG_STREET = 1, DG_COMMUNITY = 2, DG_LEVELS = 3 };

#define DG_F_ZONE 1u   /* district: functional zone, carved out of the others */
#define DG_F_URBAN 2u  /* district: one of the four city districts */
#define DG_F_JIEDAO 4u /* street: a 街道 of an urban district */
#define DG_F_SITE 8u   /* street: site and radius given by the input */

typedef struct dg_unit {
    char code[16];       /* 6, 9, 12 or 15 digits */
    char *name;          /* owned */
    size_t parent;       /* index in the level above; DG_NONE for districts */
    size_t child0;       /* first child in the level below */
    size_t nchild;
    GEOSGeometry *geom;  /* metric frame, owned; NULL until built */
    double sx, sy, sr;   /* DG_F_SITE: site (frame metres) and radius (m) */
    double area;         /* m², set once geom is final */
    unsigned flags;
} dg_unit;

typedef struct dg_city {
    GEOSContextHandle_t gc;
    co_crs crs;          /* CRS of the input coordinates */
    uint64_t seed;
    dg_unit *lv[DG_LEVELS];
    size_t n[DG_LEVELS];
    dg_unit *grid;       /* parent = community index */
    size_t ngrid;
    size_t capgrid;
} dg_city;

/* --- PRNG (splitmix64): deterministic, one stream per purpose ----------- */
typedef struct dg_rng {
    uint64_t s;
} dg_rng;
/* Seeds a stream from the build seed and a salt string (e.g. a code), so one
 * unit's randomness does not depend on the order others are built in. */
void co_demogen_rng_init(dg_rng *r, uint64_t seed, const char *salt);
uint64_t co_demogen_rng_next(dg_rng *r);
double co_demogen_rng_unit(dg_rng *r); /* [0, 1) */

/* --- frame ---------------------------------------------------------------- */
void co_demogen_to_frame(double lon, double lat, double *x, double *y);
void co_demogen_from_frame(double x, double y, double *lon, double *lat);

/* --- geometry helpers (demogen_geom.c) ----------------------------------- */
/* Keeps only the polygonal parts of g with area > min_area as a Polygon or
 * MultiPolygon. Consumes g on every path. *out is NULL (and CO_OK) when
 * nothing polygonal remains. */
co_err co_demogen_polygonal(GEOSContextHandle_t gc, GEOSGeometry *g, double min_area,
                    GEOSGeometry **out) CO_MUST_CHECK;
/* Builds a GeoJSON Polygon/MultiPolygon (jansson object, borrowed) in crs
 * as a valid polygonal geometry in the frame. Caller owns *out. */
co_err co_demogen_geom_from_geojson(GEOSContextHandle_t gc, const void *json, co_crs crs,
                            GEOSGeometry **out) CO_MUST_CHECK;
/* Splits parent into n cells, one per site (xs[i], ys[i] strictly inside
 * parent): Voronoi cells clipped to parent. A clipped cell falling apart
 * keeps the part holding its site; each other part goes to the cell it
 * shares the longest edge with (or stays, when it touches none). cells[i]
 * (owned by the caller) is the cell of site i; the cells tile parent. On
 * error no cell is left allocated. */
co_err co_demogen_partition(GEOSContextHandle_t gc, const GEOSGeometry *parent, const double *xs,
                    const double *ys, size_t n, GEOSGeometry **cells) CO_MUST_CHECK;
/* Like co_demogen_partition, but child s gets an area about proportional to
 * w[s] (see demogen_grow.c): the region is cut into many small Voronoi cells
 * (the sites are the first of them) which the children grow over. rng
 * places the small cells. cells[s] is owned by the caller; on error none is
 * left allocated. */
co_err co_demogen_grow(GEOSContextHandle_t gc, const GEOSGeometry *region, const double *xs, const double *ys,
                       const double *w, size_t k, dg_rng *rng, GEOSGeometry **cells) CO_MUST_CHECK;
/* Adds n well-spread random points inside region to (xs, ys), which already
 * hold nold points (best-candidate sampling: each new point is the one of k
 * random candidates farthest from all points so far). The arrays must have
 * room for nold + n. CO_EGEOM when region has (almost) no area. */
co_err co_demogen_sample(GEOSContextHandle_t gc, const GEOSGeometry *region, dg_rng *rng, double *xs,
                 double *ys, size_t nold, size_t n) CO_MUST_CHECK;
/* A disc (64-gon) of radius r around (x, y). Caller owns *out. */
co_err co_demogen_disc(GEOSContextHandle_t gc, double x, double y, double r,
               GEOSGeometry **out) CO_MUST_CHECK;
double co_demogen_area(GEOSContextHandle_t gc, const GEOSGeometry *g);
/* Length of the boundary shared by the geometry whose boundary is ba and the
 * polygonal b (0 when they only touch at points or not at all). */
double co_demogen_shared_len(GEOSContextHandle_t gc, const GEOSGeometry *ba, const GEOSGeometry *b);

/* --- grids (demogen_grid.c) ---------------------------------------------- */
/* Cuts community ci into lattice grids appended to city->grid (codes, names,
 * geometries). *added is the number appended; 0 with CO_OK when the
 * community would need more than 999 grids (then nothing is appended). */
co_err co_demogen_grid_community(dg_city *city, size_t ci, size_t *added) CO_MUST_CHECK;
/* "多福巷社区居委会" -> "多福巷社区", "毫沁营村委会" -> "毫沁营村": the short
 * name used in grid names, written into out (n bytes, NUL-terminated). */
void co_demogen_short_name(const char *name, char *out, size_t n);

/* --- input and output (demogen_io.c) --------------------------------------- */
/* Loads the input JSON into an empty city (codes, names, hierarchy, district
 * outlines and zone sites in the frame). On error the city keeps whatever
 * was loaded; co_demogen_city_free() releases it. */
co_err co_demogen_load(dg_city *city, const char *path) CO_MUST_CHECK;
/* Writes level lvl (DG_DISTRICT..DG_COMMUNITY, or DG_LEVELS for the grids)
 * as a GeoJSON FeatureCollection in WGS84 to path (via path.tmp + rename). */
co_err co_demogen_write_level(dg_city *city, int lvl, const char *path) CO_MUST_CHECK;
void co_demogen_city_free(dg_city *city);

#endif
