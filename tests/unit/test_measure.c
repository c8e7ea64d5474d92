/* test_measure.c — unit tests for geo/measure (PROJ-backed metrics).
 * Expected values are computed independently inside the test: the exact
 * ellipsoidal area of a latitude/longitude quadrangle (closed form), the
 * Vincenty inverse for distances, the meridian arc by Simpson integration
 * for Gauss-Kruger northings. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geo/measure.h"

#define DEG (3.14159265358979323846 / 180.0)
#define WGS_A 6378137.0
#define WGS_F (1 / 298.257223563)

/* Area between latitudes phi1 < phi2 over dlon degrees on the ellipsoid:
 * (b^2 dlon / 2) [q(phi2) - q(phi1)], q the authalic-latitude function. */
static double quad_area(double lon1, double lat1, double lon2, double lat2)
{
    double e2 = WGS_F * (2 - WGS_F), e = sqrt(e2), b = WGS_A * (1 - WGS_F);
    double q[2];
    const double lat[2] = {lat1 * DEG, lat2 * DEG};
    for (int i = 0; i < 2; i++) {
        double s = sin(lat[i]);
        q[i] = s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
    }
    return b * b * (lon2 - lon1) * DEG / 2 * (q[1] - q[0]);
}

/* Vincenty's inverse formula on WGS84 (converges to ~0.1 mm). */
static double vincenty(double lon1, double lat1, double lon2, double lat2)
{
    const double a = WGS_A, f = WGS_F, b = a * (1 - f);
    double L = (lon2 - lon1) * DEG, u1 = atan((1 - f) * tan(lat1 * DEG)), u2 = atan((1 - f) * tan(lat2 * DEG));
    double su1 = sin(u1), cu1 = cos(u1), su2 = sin(u2), cu2 = cos(u2);
    double lam = L, sig = 0, ss = 0, cs = 0, c2a = 0, c2sm = 0;
    for (int i = 0; i < 200; i++) {
        double sl = sin(lam), cl = cos(lam);
        ss = sqrt((cu2 * sl) * (cu2 * sl) + (cu1 * su2 - su1 * cu2 * cl) * (cu1 * su2 - su1 * cu2 * cl));
        cs = su1 * su2 + cu1 * cu2 * cl;
        sig = atan2(ss, cs);
        double sa = cu1 * cu2 * sl / ss;
        c2a = 1 - sa * sa;
        c2sm = cs - 2 * su1 * su2 / c2a;
        double C = f / 16 * c2a * (4 + f * (4 - 3 * c2a));
        double prev = lam;
        lam = L + (1 - C) * f * sa * (sig + C * ss * (c2sm + C * cs * (-1 + 2 * c2sm * c2sm)));
        if (fabs(lam - prev) < 1e-13)
            break;
    }
    double u2s = c2a * (a * a - b * b) / (b * b);
    double A = 1 + u2s / 16384 * (4096 + u2s * (-768 + u2s * (320 - 175 * u2s)));
    double B = u2s / 1024 * (256 + u2s * (-128 + u2s * (74 - 47 * u2s)));
    double ds = B * ss * (c2sm + B / 4 * (cs * (-1 + 2 * c2sm * c2sm) -
                                          B / 6 * c2sm * (-3 + 4 * ss * ss) * (-3 + 4 * c2sm * c2sm)));
    return b * A * (sig - ds);
}

/* Meridian arc length from the equator on GRS80, Simpson's rule. */
static double meridian_arc(double lat)
{
    const double a = 6378137.0, f = 1 / 298.257222101, e2 = f * (2 - f);
    const int n = 2000;
    double h = lat * DEG / n, sum = 0;
    for (int i = 0; i <= n; i++) {
        double s = sin(i * h), v = pow(1 - e2 * s * s, -1.5);
        sum += v * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    return a * (1 - e2) * sum * h / 3;
}

static co_measure *new_measure(double lon0, double lat0)
{
    co_measure *m = NULL;
    assert_int_equal(co_measure_new(lon0, lat0, &m), CO_OK);
    assert_non_null(m);
    return m;
}

static void rect_ring(double *xy, double x0, double y0, double x1, double y1, int clockwise)
{
    const double ccw[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    const double cw[10] = {x0, y0, x0, y1, x1, y1, x1, y0, x0, y0};
    for (int i = 0; i < 10; i++)
        xy[i] = clockwise ? cw[i] : ccw[i];
}

static void test_zone_choice(void **state)
{
    (void)state;
    static const struct {
        double lon, lat;
        int epsg;
    } cases[] = {
        {111.75, 40.84, 4546}, /* Hohhot: CM 111E */
        {116.40, 39.90, 4548}, /* Beijing: CM 117E */
        {121.47, 31.23, 4549}, /* Shanghai: CM 120E */
        {87.62, 43.83, 4538},  /* Urumqi: CM 87E */
        {2.35, 48.85, 32631},  /* Paris: UTM 31N */
        {151.2, -33.87, 32756}, /* Sydney: UTM 56S */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        co_measure *m = new_measure(cases[i].lon, cases[i].lat);
        assert_int_equal(co_measure_epsg(m), cases[i].epsg);
        co_measure_free(m);
    }
}

static void test_project(void **state)
{
    (void)state;
    co_measure *m = new_measure(111.75, 40.84);
    double x, y, lon, lat;
    /* on the central meridian: easting 500 km, northing = meridian arc */
    assert_int_equal(co_measure_project(m, 111.0, 40.84, &x, &y), CO_OK);
    assert_true(fabs(x - 500000.0) < 1e-6);
    assert_true(fabs(y - meridian_arc(40.84)) < 0.01);
    assert_int_equal(co_measure_project(m, 111.75, 40.84, &x, &y), CO_OK);
    assert_true(x > 563000 && x < 563500); /* ~0.75 deg east at 40.8N */
    assert_int_equal(co_measure_unproject(m, x, y, &lon, &lat), CO_OK);
    assert_true(fabs(lon - 111.75) < 1e-9 && fabs(lat - 40.84) < 1e-9);
    assert_int_equal(co_measure_project(m, NAN, 40, &x, &y), CO_EINVAL);
    assert_int_equal(co_measure_project(m, 111, 95, &x, &y), CO_EINVAL);
    assert_int_equal(co_measure_unproject(m, INFINITY, 0, &lon, &lat), CO_EINVAL);
    co_measure_free(m);
}

static void test_area_square(void **state)
{
    (void)state;
    co_measure *m = new_measure(111.7, 40.8);
    double xy[10], a;
    rect_ring(xy, 111.70, 40.80, 111.71, 40.81, 0);
    co_ring r = {xy, 5};
    assert_int_equal(co_measure_area(m, &r, 1, &a), CO_OK);
    double want = quad_area(111.70, 40.80, 111.71, 40.81);
    assert_true(want > 930000 && want < 940000); /* ~842 m x ~1111 m */
    assert_true(fabs(a - want) < 1e-5 * want);
    rect_ring(xy, 111.70, 40.80, 111.71, 40.81, 1); /* orientation does not matter */
    assert_int_equal(co_measure_area(m, &r, 1, &a), CO_OK);
    assert_true(fabs(a - want) < 1e-5 * want);
    /* a unit-grid sized cell, ~150 m x 150 m */
    rect_ring(xy, 111.700, 40.800, 111.70178, 40.80135, 0);
    assert_int_equal(co_measure_area(m, &r, 1, &a), CO_OK);
    want = quad_area(111.700, 40.800, 111.70178, 40.80135);
    assert_true(fabs(a - want) < 1e-4 * want && a > 20000 && a < 25000);
    co_measure_free(m);
}

static void test_area_hole(void **state)
{
    (void)state;
    co_measure *m = new_measure(111.7, 40.8);
    double outer[10], hole[10], a;
    rect_ring(outer, 111.70, 40.80, 111.71, 40.81, 0);
    for (int cw = 0; cw < 2; cw++) {
        rect_ring(hole, 111.7025, 40.8025, 111.7075, 40.8075, cw);
        co_ring rings[2] = {{outer, 5}, {hole, 5}};
        assert_int_equal(co_measure_area(m, rings, 2, &a), CO_OK);
        double want = quad_area(111.70, 40.80, 111.71, 40.81) - quad_area(111.7025, 40.8025, 111.7075, 40.8075);
        assert_true(fabs(a - want) < 1e-5 * want);
        /* a "hole" bigger than the outer ring */
        co_ring swapped[2] = {{hole, 5}, {outer, 5}};
        assert_int_equal(co_measure_area(m, swapped, 2, &a), CO_EGEOM);
    }
    co_measure_free(m);
}

static void test_distance(void **state)
{
    (void)state;
    co_measure *m = new_measure(111.75, 40.84);
    static const double pairs[][4] = {
        {116.4074, 39.9042, 111.7519, 40.8415}, /* Beijing - Hohhot */
        {111.7519, 40.8415, 109.8403, 40.6574}, /* Hohhot - Baotou */
        {111.7519, 40.8415, 111.7600, 40.8450}, /* across town */
        {111.7519, 40.8415, 111.7519, 40.8415},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const double *p = pairs[i];
        double d;
        assert_int_equal(co_measure_distance(m, p[0], p[1], p[2], p[3], &d), CO_OK);
        double want = p[0] == p[2] && p[1] == p[3] ? 0 : vincenty(p[0], p[1], p[2], p[3]);
        assert_true(fabs(d - want) <= 1e-3 + 1e-9 * want);
    }
    double d;
    assert_int_equal(co_measure_distance(m, 116.4074, 39.9042, 111.7519, 40.8415, &d), CO_OK);
    assert_true(d > 390000 && d < 410000); /* ~400 km */
    assert_int_equal(co_measure_distance(m, 116.4, NAN, 111.7, 40.8, &d), CO_EINVAL);
    assert_int_equal(co_measure_distance(m, 116.4, 39.9, 200, 40.8, &d), CO_EINVAL);
    co_measure_free(m);
}

static void test_boundary_distance(void **state)
{
    (void)state;
    co_measure *m = new_measure(111.7, 40.8);
    double outer[10], hole[10], d;
    rect_ring(outer, 111.70, 40.80, 111.71, 40.81, 0);
    rect_ring(hole, 111.704, 40.804, 111.706, 40.806, 1);
    co_ring one[1] = {{outer, 5}}, two[2] = {{outer, 5}, {hole, 5}};
    /* inside, nearest edge is the west one (0.002 deg of longitude) */
    assert_int_equal(co_measure_boundary_distance(m, 111.702, 40.805, one, 1, &d), CO_OK);
    double want = vincenty(111.702, 40.805, 111.70, 40.805);
    assert_true(fabs(d - want) < 0.01);
    /* outside, 100 m-ish east of the east edge */
    assert_int_equal(co_measure_boundary_distance(m, 111.7112, 40.805, one, 1, &d), CO_OK);
    want = vincenty(111.7112, 40.805, 111.71, 40.805);
    assert_true(fabs(d - want) < 0.01 && d > 90 && d < 110);
    /* outside, beyond a corner: distance to the corner */
    assert_int_equal(co_measure_boundary_distance(m, 111.711, 40.811, one, 1, &d), CO_OK);
    want = vincenty(111.711, 40.811, 111.71, 40.81);
    assert_true(fabs(d - want) < 0.01);
    /* the hole's edge is nearer */
    assert_int_equal(co_measure_boundary_distance(m, 111.7035, 40.805, two, 2, &d), CO_OK);
    want = vincenty(111.7035, 40.805, 111.704, 40.805);
    assert_true(fabs(d - want) < 0.01);
    /* on the boundary: edges are straight in the projected plane, so a
     * point on the lon/lat-straight meridian edge is a fraction of a mm off */
    assert_int_equal(co_measure_boundary_distance(m, 111.70, 40.805, one, 1, &d), CO_OK);
    assert_true(d < 1e-3);
    assert_int_equal(co_measure_boundary_distance(m, 111.71, 40.81, one, 1, &d), CO_OK);
    assert_true(d < 1e-6); /* a vertex */
    assert_int_equal(co_measure_boundary_distance(m, NAN, 40.805, one, 1, &d), CO_EINVAL);
    assert_int_equal(co_measure_boundary_distance(m, 111.7, 40.805, one, 0, &d), CO_EINVAL);
    co_measure_free(m);
}

static void test_invalid(void **state)
{
    (void)state;
    co_measure *m = (co_measure *)&m;
    assert_int_equal(co_measure_new(NAN, 40, &m), CO_EINVAL);
    assert_null(m);
    assert_int_equal(co_measure_new(111, -91, &m), CO_EINVAL);
    assert_int_equal(co_measure_new(111, 40, NULL), CO_EINVAL);
    m = new_measure(111.7, 40.8);
    const double open[] = {111.7, 40.8, 111.71, 40.8, 111.71, 40.81, 111.7, 40.81};
    const double few[] = {111.7, 40.8, 111.71, 40.8, 111.7, 40.8};
    co_ring r1 = {open, 4}, r2 = {few, 3}, r3 = {NULL, 5};
    double a = 42;
    assert_int_equal(co_measure_area(m, &r1, 1, &a), CO_EINVAL);
    assert_int_equal(co_measure_area(m, &r2, 1, &a), CO_EINVAL);
    assert_int_equal(co_measure_area(m, &r3, 1, &a), CO_EINVAL);
    assert_int_equal(co_measure_area(m, NULL, 1, &a), CO_EINVAL);
    assert_true(a == 42);
    assert_int_equal(co_measure_epsg(NULL), 0);
    co_measure_free(m);
    co_measure_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_choice),
        cmocka_unit_test(test_project),
        cmocka_unit_test(test_area_square),
        cmocka_unit_test(test_area_hole),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_boundary_distance),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
