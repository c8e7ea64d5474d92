/* coord.c — WGS84/CGCS2000 <-> GCJ-02 <-> BD-09 (see coord.h).
 * Forward GCJ-02 is the published transform (Krasovsky ellipsoid,
 * a = 6378245 m, e^2 = 0.00669342162296594323); BD-09 is Baidu's published
 * rotation/scaling of GCJ-02 (x_pi = pi * 3000 / 180). Both inverses are
 * computed by fixed-point iteration on the forward map (its Jacobian is
 * within ~1e-2 of the identity, so each step gains 2+ digits) until the step
 * is under 1e-11 degrees, i.e. far below a millimetre.
 * "In China" is the bounding box lon 72.004..137.8347, lat 0.8293..55.8271
 * refined by the widely published rectangle outline (6 rectangles in, 6 out:
 * Taiwan, northern Vietnam/Laos, Mongolia/Russia corners), so Seoul, Hanoi,
 * Ulaanbaatar and Taipei are outside. Outside China all three systems
 * coincide (BD-09 included), so conversions there are the identity.
 * Pure functions: no state, nothing allocated, thread-safe. */
#include "coord.h"

#include <math.h>
#include <strings.h>

#define PI 3.14159265358979323846
#define KRASOVSKY_A 6378245.0
#define KRASOVSKY_EE 0.00669342162296594323
#define BD_X_PI (PI * 3000.0 / 180.0)
#define INV_EPS 1e-11 /* degrees */
#define INV_MAX_ITER 40

typedef struct rect {
    double w, s, e, n;
} rect;

static const rect china_in[] = {
    {79.446200, 42.889900, 96.330000, 49.220400},
    {109.687200, 39.374200, 135.000200, 54.141500},
    {73.124600, 29.529700, 124.143255, 42.889900},
    {82.968400, 26.718600, 97.035200, 29.529700},
    {97.025300, 20.414096, 124.367395, 29.529700},
    {107.975793, 17.871542, 111.744104, 20.414096},
};

static const rect china_out[] = {
    {119.921265, 21.785006, 122.497559, 25.398623},
    {101.865200, 20.098800, 106.665000, 22.284000},
    {106.452500, 20.487800, 108.051000, 21.542200},
    {109.032300, 50.325700, 119.127000, 55.817500},
    {127.456800, 49.557400, 137.022700, 55.817500},
    {131.266200, 42.569200, 137.022700, 44.892200},
};

static const struct {
    const char *name;
    co_crs crs;
} crs_names[] = {
    {"wgs84", CO_CRS_WGS84},
    {"cgcs2000", CO_CRS_WGS84},
    {"gcj02", CO_CRS_GCJ02},
    {"bd09", CO_CRS_BD09},
};

co_err co_crs_parse(const char *name, co_crs *out)
{
    if (!name || !out)
        return CO_EINVAL;
    for (size_t i = 0; i < sizeof crs_names / sizeof crs_names[0]; i++) {
        if (strcasecmp(name, crs_names[i].name) == 0) {
            *out = crs_names[i].crs;
            return CO_OK;
        }
    }
    return CO_EINVAL;
}

const char *co_crs_name(co_crs crs)
{
    switch (crs) {
    case CO_CRS_WGS84:
        return "wgs84";
    case CO_CRS_GCJ02:
        return "gcj02";
    case CO_CRS_BD09:
        return "bd09";
    }
    return "unknown";
}

int co_coord_valid(double lon, double lat)
{
    return isfinite(lon) && isfinite(lat) && lon >= -180.0 && lon <= 180.0 && lat >= -90.0 &&
           lat <= 90.0;
}

static int in_rect(const rect *r, double lon, double lat)
{
    return lon >= r->w && lon <= r->e && lat >= r->s && lat <= r->n;
}

int co_coord_in_china(double lon, double lat)
{
    if (!co_coord_valid(lon, lat))
        return 0;
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271)
        return 0;
    int in = 0;
    for (size_t i = 0; i < sizeof china_in / sizeof china_in[0] && !in; i++)
        in = in_rect(&china_in[i], lon, lat);
    for (size_t i = 0; i < sizeof china_out / sizeof china_out[0] && in; i++)
        in = !in_rect(&china_out[i], lon, lat);
    return in;
}

/* The two published polynomial-plus-harmonic offset terms, in the
 * transform's own units; x and y are lon - 105 and lat - 35. */
static double offset_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * sin(y * PI) + 40.0 * sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * PI) + 320.0 * sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
}

static double offset_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * PI) + 20.0 * sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * sin(x * PI) + 40.0 * sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * PI) + 300.0 * sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
}

/* WGS84 -> GCJ-02 without the in-China test. */
static void gcj_raw(double lon, double lat, double *glon, double *glat)
{
    double dlat = offset_lat(lon - 105.0, lat - 35.0);
    double dlon = offset_lon(lon - 105.0, lat - 35.0);
    double radlat = lat / 180.0 * PI;
    double magic = sin(radlat);
    magic = 1.0 - KRASOVSKY_EE * magic * magic;
    double sqrtmagic = sqrt(magic);
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrtmagic * cos(radlat) * PI);
    *glat = lat + dlat;
    *glon = lon + dlon;
}

/* GCJ-02 -> BD-09. */
static void bd_from_gcj(double lon, double lat, double *blon, double *blat)
{
    double z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * BD_X_PI);
    double theta = atan2(lat, lon) + 0.000003 * cos(lon * BD_X_PI);
    *blon = z * cos(theta) + 0.0065;
    *blat = z * sin(theta) + 0.006;
}

/* BD-09 -> GCJ-02, Baidu's published one-step approximation (~1e-6 deg);
 * used as the starting point of the exact inverse. */
static void bd_to_gcj_approx(double lon, double lat, double *glon, double *glat)
{
    double x = lon - 0.0065, y = lat - 0.006;
    double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
    double theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
    *glon = z * cos(theta);
    *glat = z * sin(theta);
}

typedef void (*fwd_fn)(double, double, double *, double *);

/* Solves fwd(x, y) == (tlon, tlat) by fixed-point iteration from (x, y). */
static void invert(fwd_fn fwd, double tlon, double tlat, double *x, double *y)
{
    for (int i = 0; i < INV_MAX_ITER; i++) {
        double flon, flat;
        fwd(*x, *y, &flon, &flat);
        double dx = flon - tlon, dy = flat - tlat;
        *x -= dx;
        *y -= dy;
        if (fabs(dx) < INV_EPS && fabs(dy) < INV_EPS)
            break;
    }
}

static void gcj_to_wgs(double glon, double glat, double *wlon, double *wlat)
{
    double x = glon, y = glat;
    invert(gcj_raw, glon, glat, &x, &y);
    if (co_coord_in_china(x, y)) {
        *wlon = x;
        *wlat = y;
    } else {
        /* The preimage lies outside China, where GCJ-02 is WGS84. */
        *wlon = glon;
        *wlat = glat;
    }
}

static void bd_to_wgs(double blon, double blat, double *wlon, double *wlat)
{
    double glon, glat;
    bd_to_gcj_approx(blon, blat, &glon, &glat);
    invert(bd_from_gcj, blon, blat, &glon, &glat);
    double x = glon, y = glat;
    invert(gcj_raw, glon, glat, &x, &y);
    if (co_coord_in_china(x, y)) {
        *wlon = x;
        *wlat = y;
    } else {
        *wlon = blon;
        *wlat = blat;
    }
}

co_err co_coord_to_wgs84(co_crs crs, double lon, double lat, double *olon, double *olat)
{
    if (!olon || !olat || !co_coord_valid(lon, lat))
        return CO_EINVAL;
    switch (crs) {
    case CO_CRS_WGS84:
        *olon = lon;
        *olat = lat;
        return CO_OK;
    case CO_CRS_GCJ02:
        gcj_to_wgs(lon, lat, olon, olat);
        return CO_OK;
    case CO_CRS_BD09:
        bd_to_wgs(lon, lat, olon, olat);
        return CO_OK;
    }
    return CO_EINVAL;
}

co_err co_coord_from_wgs84(co_crs crs, double lon, double lat, double *olon, double *olat)
{
    if (!olon || !olat || !co_coord_valid(lon, lat))
        return CO_EINVAL;
    if (crs != CO_CRS_WGS84 && crs != CO_CRS_GCJ02 && crs != CO_CRS_BD09)
        return CO_EINVAL;
    if (crs == CO_CRS_WGS84 || !co_coord_in_china(lon, lat)) {
        *olon = lon;
        *olat = lat;
        return CO_OK;
    }
    double glon, glat;
    gcj_raw(lon, lat, &glon, &glat);
    if (crs == CO_CRS_GCJ02) {
        *olon = glon;
        *olat = glat;
    } else {
        bd_from_gcj(glon, glat, olon, olat);
    }
    return CO_OK;
}

int co_ring_valid(const co_ring *ring)
{
    if (!ring || !ring->xy || ring->n < 4)
        return 0;
    for (size_t i = 0; i < ring->n; i++)
        if (!co_coord_valid(ring->xy[2 * i], ring->xy[2 * i + 1]))
            return 0;
    const double *last = ring->xy + 2 * (ring->n - 1);
    return ring->xy[0] == last[0] && ring->xy[1] == last[1];
}
