/* test_coord.c — unit tests for geo/coord (WGS84 <-> GCJ-02 <-> BD-09).
 * Reference vectors are the ones published in the README of the widely used
 * wandergis/coordtransform library (an independent implementation of the same
 * transforms): wgs84togcj02(116.404, 39.915), gcj02tobd09(116.404, 39.915),
 * wgs84->bd09 and the library's one-step (approximate) inverses. Round trips
 * are measured in metres with a haversine. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geo/coord.h"

#define DEG2RAD (3.14159265358979323846 / 180.0)

static double haversine_m(double lon1, double lat1, double lon2, double lat2)
{
    const double r = 6371008.8;
    double dlat = (lat2 - lat1) * DEG2RAD, dlon = (lon2 - lon1) * DEG2RAD;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * DEG2RAD) * cos(lat2 * DEG2RAD) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a));
}

static void from_wgs(co_crs crs, double lon, double lat, double *olon, double *olat)
{
    assert_int_equal(co_coord_from_wgs84(crs, lon, lat, olon, olat), CO_OK);
}

static void to_wgs(co_crs crs, double lon, double lat, double *olon, double *olat)
{
    assert_int_equal(co_coord_to_wgs84(crs, lon, lat, olon, olat), CO_OK);
}

static void test_forward_reference(void **state)
{
    (void)state;
    double lon, lat;
    from_wgs(CO_CRS_GCJ02, 116.404, 39.915, &lon, &lat);
    assert_true(fabs(lon - 116.41024449916938) < 1e-11);
    assert_true(fabs(lat - 39.91640428150164) < 1e-11);
    from_wgs(CO_CRS_BD09, 116.404, 39.915, &lon, &lat);
    assert_true(fabs(lon - 116.41662724378733) < 1e-11);
    assert_true(fabs(lat - 39.922699552216216) < 1e-11);
    /* The GCJ-02 offset in Beijing is a few hundred metres. */
    double d = haversine_m(116.404, 39.915, 116.41024449916938, 39.91640428150164);
    assert_true(d > 300 && d < 800);
}

static void test_gcj_to_bd_reference(void **state)
{
    (void)state;
    /* gcj02tobd09(116.404, 39.915) = (116.41036949371029, 39.92133699351021):
     * both points must go back to the same WGS84 point. */
    double a_lon, a_lat, b_lon, b_lat;
    to_wgs(CO_CRS_GCJ02, 116.404, 39.915, &a_lon, &a_lat);
    to_wgs(CO_CRS_BD09, 116.41036949371029, 39.92133699351021, &b_lon, &b_lat);
    assert_true(haversine_m(a_lon, a_lat, b_lon, b_lat) < 1e-3);
}

static void test_inverse_vs_published_approx(void **state)
{
    (void)state;
    /* The library's one-step inverses are approximate (~0.1 m here): ours is
     * exact, so it must be near theirs and map forward onto the input. */
    double lon, lat, flon, flat;
    to_wgs(CO_CRS_GCJ02, 116.404, 39.915, &lon, &lat);
    assert_true(haversine_m(lon, lat, 116.39775550083061, 39.91359571849836) < 0.5);
    from_wgs(CO_CRS_GCJ02, lon, lat, &flon, &flat);
    assert_true(fabs(flon - 116.404) < 1e-10 && fabs(flat - 39.915) < 1e-10);

    /* bd09togcj02(116.404, 39.915) ~ (116.39762729119315, 39.90865673957631) */
    double g_lon, g_lat;
    to_wgs(CO_CRS_BD09, 116.404, 39.915, &lon, &lat);
    to_wgs(CO_CRS_GCJ02, 116.39762729119315, 39.90865673957631, &g_lon, &g_lat);
    assert_true(haversine_m(lon, lat, g_lon, g_lat) < 0.5);
    from_wgs(CO_CRS_BD09, lon, lat, &flon, &flat);
    assert_true(fabs(flon - 116.404) < 1e-10 && fabs(flat - 39.915) < 1e-10);
}

static void check_round_trip(co_crs crs, double lon, double lat, double *worst)
{
    double clon, clat, wlon, wlat;
    from_wgs(crs, lon, lat, &clon, &clat);
    to_wgs(crs, clon, clat, &wlon, &wlat);
    double d = haversine_m(lon, lat, wlon, wlat);
    if (d > *worst)
        *worst = d;
    /* The other direction: a point given in crs, to WGS84 and back. */
    to_wgs(crs, lon, lat, &wlon, &wlat);
    from_wgs(crs, wlon, wlat, &clon, &clat);
    d = haversine_m(lon, lat, clon, clat);
    if (d > *worst)
        *worst = d;
}

static void test_round_trips_across_china(void **state)
{
    (void)state;
    double worst = 0;
    int n = 0;
    for (double lon = 73.6; lon < 135.0; lon += 0.37) {
        for (double lat = 18.3; lat < 53.5; lat += 0.29) {
            if (!co_coord_in_china(lon, lat))
                continue;
            check_round_trip(CO_CRS_GCJ02, lon, lat, &worst);
            check_round_trip(CO_CRS_BD09, lon, lat, &worst);
            n++;
        }
    }
    assert_true(n > 10000);
    assert_true(worst < 0.001); /* far below the 0.5 m requirement */
}

static void test_city_points(void **state)
{
    (void)state;
    static const double pts[][2] = {
        {111.7519, 40.8415}, /* Hohhot */
        {116.3975, 39.9087}, /* Beijing */
        {121.4737, 31.2304}, /* Shanghai */
        {113.2644, 23.1291}, /* Guangzhou */
        {87.6168, 43.8256},  /* Urumqi */
        {126.5349, 45.8038}, /* Harbin */
        {91.1409, 29.6456},  /* Lhasa */
        {109.5120, 18.2528}, /* Sanya */
        {114.1694, 22.3193}, /* Hong Kong */
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        assert_true(co_coord_in_china(pts[i][0], pts[i][1]));
        double glon, glat, worst = 0;
        from_wgs(CO_CRS_GCJ02, pts[i][0], pts[i][1], &glon, &glat);
        double off = haversine_m(pts[i][0], pts[i][1], glon, glat);
        assert_true(off > 20 && off < 1000);
        check_round_trip(CO_CRS_GCJ02, pts[i][0], pts[i][1], &worst);
        check_round_trip(CO_CRS_BD09, pts[i][0], pts[i][1], &worst);
        assert_true(worst < 0.001);
    }
}

static void test_outside_china_identity(void **state)
{
    (void)state;
    static const double pts[][2] = {
        {-0.1246, 51.5007},  /* London */
        {126.978, 37.5665},  /* Seoul (inside the plain bounding box) */
        {105.8342, 21.0278}, /* Hanoi */
        {121.5654, 25.0330}, /* Taipei */
        {106.9057, 47.8864}, /* Ulaanbaatar */
        {139.6917, 35.6895}, /* Tokyo */
        {151.2093, -33.8688},
        {180.0, 90.0},
        {-180.0, -90.0},
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double lon = pts[i][0], lat = pts[i][1], olon, olat;
        assert_false(co_coord_in_china(lon, lat));
        for (co_crs c = CO_CRS_WGS84; c <= CO_CRS_BD09; c++) {
            from_wgs(c, lon, lat, &olon, &olat);
            assert_true(olon == lon && olat == lat);
            to_wgs(c, lon, lat, &olon, &olat);
            assert_true(olon == lon && olat == lat);
        }
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    const double bad[][2] = {
        {NAN, 40.0}, {111.0, NAN}, {INFINITY, 40.0}, {111.0, -INFINITY},
        {180.0001, 40.0}, {-180.5, 40.0}, {111.0, 90.5}, {111.0, -91.0},
    };
    double lon = 7, lat = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(co_coord_valid(bad[i][0], bad[i][1]));
        assert_false(co_coord_in_china(bad[i][0], bad[i][1]));
        for (co_crs c = CO_CRS_WGS84; c <= CO_CRS_BD09; c++) {
            assert_int_equal(co_coord_to_wgs84(c, bad[i][0], bad[i][1], &lon, &lat), CO_EINVAL);
            assert_int_equal(co_coord_from_wgs84(c, bad[i][0], bad[i][1], &lon, &lat), CO_EINVAL);
        }
    }
    assert_true(lon == 7 && lat == 7); /* outputs untouched on failure */
    assert_int_equal(co_coord_to_wgs84((co_crs)42, 111, 40, &lon, &lat), CO_EINVAL);
    assert_int_equal(co_coord_from_wgs84((co_crs)42, 111, 40, &lon, &lat), CO_EINVAL);
    assert_int_equal(co_coord_to_wgs84(CO_CRS_GCJ02, 111, 40, NULL, &lat), CO_EINVAL);
    assert_true(co_coord_valid(180.0, -90.0));
}

static void test_crs_parse(void **state)
{
    (void)state;
    co_crs c = CO_CRS_BD09;
    assert_int_equal(co_crs_parse("wgs84", &c), CO_OK);
    assert_int_equal(c, CO_CRS_WGS84);
    c = CO_CRS_BD09;
    assert_int_equal(co_crs_parse("CGCS2000", &c), CO_OK);
    assert_int_equal(c, CO_CRS_WGS84);
    assert_int_equal(co_crs_parse("Gcj02", &c), CO_OK);
    assert_int_equal(c, CO_CRS_GCJ02);
    assert_int_equal(co_crs_parse("BD09", &c), CO_OK);
    assert_int_equal(c, CO_CRS_BD09);
    const char *bad[] = {"", "wgs", "wgs84 ", "epsg:4326", "bd09ll", "gcj-02", "mercator"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = CO_CRS_GCJ02;
        assert_int_equal(co_crs_parse(bad[i], &c), CO_EINVAL);
        assert_int_equal(c, CO_CRS_GCJ02);
    }
    assert_int_equal(co_crs_parse(NULL, &c), CO_EINVAL);
    for (co_crs k = CO_CRS_WGS84; k <= CO_CRS_BD09; k++) {
        assert_int_equal(co_crs_parse(co_crs_name(k), &c), CO_OK);
        assert_int_equal(c, k);
    }
    assert_string_equal(co_crs_name((co_crs)99), "unknown");
}

static void test_ring_valid(void **state)
{
    (void)state;
    const double sq[] = {111, 40, 111.01, 40, 111.01, 40.01, 111, 40.01, 111, 40};
    co_ring r = {sq, 5};
    assert_true(co_ring_valid(&r));
    r.n = 4; /* not closed any more */
    assert_false(co_ring_valid(&r));
    const double tri[] = {111, 40, 111.01, 40, 111, 40};
    co_ring t = {tri, 3};
    assert_false(co_ring_valid(&t));
    const double nan_ring[] = {111, 40, NAN, 40, 111.01, 40.01, 111, 40};
    co_ring u = {nan_ring, 4};
    assert_false(co_ring_valid(&u));
    assert_false(co_ring_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_reference),
        cmocka_unit_test(test_gcj_to_bd_reference),
        cmocka_unit_test(test_inverse_vs_published_approx),
        cmocka_unit_test(test_round_trips_across_china),
        cmocka_unit_test(test_city_points),
        cmocka_unit_test(test_outside_china_identity),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_crs_parse),
        cmocka_unit_test(test_ring_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
