/* coord.h — China's coordinate systems.
 * WGS84 (= CGCS2000 at the precision that matters here), GCJ-02 (the
 * obfuscated system used by Amap and Tencent maps) and BD-09 (Baidu). Points
 * are stored as WGS84; every API converts on input and output. The offsets
 * apply only inside China (a coarse outline test); outside, GCJ-02 == BD-09
 * == WGS84.
 * Also the one ring type the geo modules share (co_ring): a borrowed view of
 * caller-owned lon/lat pairs.
 * Pure functions; nothing allocated. */
#ifndef CO_GEO_COORD_H
#define CO_GEO_COORD_H

#include <stddef.h>

#include "lib/err.h"

typedef enum co_crs { CO_CRS_WGS84 = 0, CO_CRS_GCJ02, CO_CRS_BD09 } co_crs;

/* "wgs84", "cgcs2000", "gcj02", "bd09" (case-insensitive) -> crs. */
co_err co_crs_parse(const char *name, co_crs *out) CO_MUST_CHECK;
const char *co_crs_name(co_crs crs);

/* True when lon/lat are finite and within [-180,180] x [-90,90]. */
int co_coord_valid(double lon, double lat);
/* True when the GCJ-02 offsets apply at this WGS84 point. */
int co_coord_in_china(double lon, double lat);

/* Converts a point in crs to WGS84 (GCJ-02 and BD-09 by iterative inverse,
 * error well under 0.5 m). CO_EINVAL for a non-finite or out-of-range point. */
co_err co_coord_to_wgs84(co_crs crs, double lon, double lat, double *olon, double *olat) CO_MUST_CHECK;
/* Converts a WGS84 point to crs. */
co_err co_coord_from_wgs84(co_crs crs, double lon, double lat, double *olon, double *olat) CO_MUST_CHECK;

/* A closed ring of n (lon, lat) points stored as 2n doubles (lon0, lat0,
 * lon1, lat1, ...), first point == last point, as in GeoJSON. A borrowed
 * view: the caller owns xy and keeps it alive while the ring is in use. */
typedef struct co_ring {
    const double *xy;
    size_t n;
} co_ring;

/* True when the ring has n >= 4 points, all co_coord_valid(), and is closed
 * (first and last points compare equal). */
int co_ring_valid(const co_ring *ring);

#endif
