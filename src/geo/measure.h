/* measure.h — metric geometry on WGS84 lon/lat through PROJ.
 * A co_measure is made for one region (a point lon0, lat0). It owns a PROJ
 * context and a transformer from EPSG:4326 to the region's projected CRS:
 * inside China the CGCS2000 3-degree Gauss-Kruger zone whose central
 * meridian is nearest lon0 (EPSG:4534..4554, CM 75E..135E, false easting
 * 500 km, no zone prefix), elsewhere the WGS84 UTM zone (EPSG:326xx/327xx).
 * Distances and areas are on the WGS84 ellipsoid (Karney's geodesic
 * algorithms, PROJ's geodesic.h), so they do not depend on the zone; the
 * projection serves projecting points and finding the nearest point of a
 * boundary.
 *
 * Threads: PROJ contexts must not be shared between threads, so use one
 * co_measure per thread for co_measure_project/unproject/boundary_distance.
 * co_measure_distance and co_measure_area only read the object and may be
 * called from any thread. Ownership: co_measure_new's object belongs to the
 * caller (co_measure_free); rings are borrowed for the call only. */
#ifndef CO_GEO_MEASURE_H
#define CO_GEO_MEASURE_H

#include <stddef.h>

#include "geo/coord.h"
#include "lib/err.h"

typedef struct co_measure co_measure;

/* Creates a measurer for the region around WGS84 (lon0, lat0).
 * CO_EINVAL for an invalid point, CO_EGEOM when PROJ cannot build the
 * transformation (e.g. its database is missing). *out = NULL on failure. */
co_err co_measure_new(double lon0, double lat0, co_measure **out) CO_MUST_CHECK;
/* Frees m and its PROJ objects; NULL is a no-op. */
void co_measure_free(co_measure *m);

/* EPSG code of the projected CRS in use (e.g. 4546 for CM 111E). */
int co_measure_epsg(const co_measure *m);

/* WGS84 lon/lat -> easting/northing in metres of the projected CRS, and
 * back. CO_EINVAL for invalid input, CO_EGEOM if PROJ fails. */
co_err co_measure_project(co_measure *m, double lon, double lat, double *x, double *y) CO_MUST_CHECK;
co_err co_measure_unproject(co_measure *m, double x, double y, double *lon, double *lat) CO_MUST_CHECK;

/* Geodesic distance in metres between two WGS84 points. */
co_err co_measure_distance(const co_measure *m, double lon1, double lat1, double lon2, double lat2,
                           double *metres) CO_MUST_CHECK;

/* Area in m^2 of a polygon: rings[0] the outer ring, rings[1..] holes
 * (any orientation), edges taken as geodesics. Every ring must satisfy
 * co_ring_valid() (CO_EINVAL); CO_EGEOM when the holes add up to more than
 * the outer ring. */
co_err co_measure_area(const co_measure *m, const co_ring *rings, size_t nrings, double *m2) CO_MUST_CHECK;

/* Distance in metres from a point to the nearest point of the polygon's
 * boundary (any ring), whether the point is inside or outside. The nearest
 * point is found in the projected plane, the distance to it is geodesic:
 * exact to well under a millimetre for grid-sized polygons in the zone. */
co_err co_measure_boundary_distance(co_measure *m, double lon, double lat, const co_ring *rings,
                                    size_t nrings, double *metres) CO_MUST_CHECK;

#endif
