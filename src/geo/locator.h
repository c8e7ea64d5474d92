/* locator.h — point → grid / community / street / district for the whole
 * city, built at start-up from the store's area geometry. Two grid indexes
 * (unit grids, communities) answer the lookups; ancestors come from the
 * area hierarchy. Immutable once built; any number of threads may locate.
 * Owned by the caller (co_locator_free); borrows the co_areas it was built
 * with, which must outlive it. */
#ifndef CO_GEO_LOCATOR_H
#define CO_GEO_LOCATOR_H

#include <stdint.h>

#include "geo/area.h"
#include "lib/err.h"
#include "store/store.h"

#define CO_LOCATOR_NEAREST_M 50.0

typedef struct co_location {
    int32_t grid;          /* area index of the containing grid, or -1 */
    int32_t nearest_grid;  /* when grid < 0: the nearest grid within 50 m if it is in
                            * the point's community, or -1 */
    double nearest_m;      /* distance to it in metres */
    int32_t community, street, district; /* area indexes, -1 when unknown */
} co_location;

typedef struct co_locator co_locator;

co_err co_locator_build(co_store *st, const co_areas *areas, co_locator **out) CO_MUST_CHECK;
void co_locator_free(co_locator *l);
/* Locates a WGS84 point. CO_ENOTFOUND when it lies outside every community
 * (outside the city's area). */
co_err co_locator_locate(const co_locator *l, double lon, double lat, co_location *out)
    CO_MUST_CHECK;
/* Only the unit-grid lookup (the hot path): area index or -1. */
int32_t co_locator_grid(const co_locator *l, double lon, double lat);
size_t co_locator_grids(const co_locator *l);
size_t co_locator_memory(const co_locator *l);

/* Parses a GeoJSON Polygon/MultiPolygon into a flat point buffer and ring /
 * part views for co_gridindex (see geo/gridindex.h). Exposed for benchmarks
 * and the importer's tests. */
typedef struct co_geom_parts co_geom_parts;
co_err co_geom_parts_parse(const char *geojson, co_geom_parts **out) CO_MUST_CHECK;
void co_geom_parts_free(co_geom_parts *g);

#endif
