/* test_routing.c — unit tests of src/domain/routing.c: among the explicit
 * rules the most specific wins (grid > community > street > district > city;
 * a named category beats "any" at the same depth; equal rules: the lower id),
 * whatever order the rules come in; without a matching rule the category's
 * department type (shipped taxonomy) goes to the deepest department of that
 * type covering the case; otherwise the case is unrouted (""). Departments
 * are loaded through a throw-away store. Run from the repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/routing.h"
#include "lib/log.h"
#include "store/store.h"
#include "store_fixture.h"

static co_taxonomy *g_tax;
static co_depts *g_depts;
static char g_dir[64];

static const co_dept_rec DEPTS[] = {
    {"D-CG", "市城管局", "chengguan", "", ""},
    {"D-CG-150102", "新城区城管局", "chengguan", "150102", ""},
    {"D-CG-150102001", "海拉尔东路城管中队", "chengguan", "150102001", ""},
    {"D-HW", "市环卫中心", "sanitation", "", ""},
    {"D-HW-150102", "新城区环卫中心", "sanitation", "150102", "08:00-12:00"},
    {"S-150102001", "海拉尔东路街道办事处", "street_office", "150102001", ""},
    {"S-150102001001", "公主府社区居委会", "street_office", "150102001001", ""},
    {"D-SZ-150103", "回民区市政", "municipal", "150103", ""},
    {"X-1", "规则部门1", "other", "", ""},
    {"X-2", "规则部门2", "other", "", ""},
    {"X-3", "规则部门3", "other", "", ""},
    {"X-4", "规则部门4", "other", "", ""},
    {"X-5", "规则部门5", "other", "", ""},
};

static int setup(void **state)
{
    (void)state;
    co_log_set_level(CO_LOG_WARN);
    snprintf(g_dir, sizeof g_dir, "/tmp/cityops-routing-XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    co_store *st = NULL;
    if (fx_store_open(g_dir, &st) != CO_OK)
        return -1;
    for (size_t i = 0; i < sizeof DEPTS / sizeof DEPTS[0]; i++)
        if (co_store_dept_put(st, &DEPTS[i]) != CO_OK)
            return -1;
    co_err rc = co_depts_load(st, &g_depts);
    co_store_close(st);
    if (rc)
        return -1;
    char err[256];
    if (co_taxonomy_load_file("share/taxonomy/default.json", NULL, &g_tax, err, sizeof err) !=
        CO_OK) {
        fprintf(stderr, "taxonomy: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    co_taxonomy_free(g_tax);
    co_depts_free(g_depts);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        return -1;
    return 0;
}

/* A case located down to a grid (or a coarser level when grid is ""). */
static co_case at(const char *category, const char *grid, const char *community,
                  const char *street, const char *district)
{
    co_case c;
    memset(&c, 0, sizeof c);
    c.lon = c.lat = NAN;
    if (category && co_category_parse(category, &c.category))
        fail_msg("bad category %s", category);
    snprintf(c.grid, sizeof c.grid, "%s", grid);
    snprintf(c.community, sizeof c.community, "%s", community);
    snprintf(c.street, sizeof c.street, "%s", street);
    snprintf(c.district, sizeof c.district, "%s", district);
    return c;
}

#define G1 "150102001001001"
#define G2 "150102001001002"
#define C1 "150102001001"
#define C2 "150102001002"
#define G3 "150102001002001"
#define ST1 "150102001"
#define ST2 "150102002"
#define D1 "150102"
#define D2 "150103"

static co_route_rule R(int64_t id, const char *cat, const char *area, const char *dept)
{
    co_route_rule r;
    memset(&r, 0, sizeof r);
    r.id = id;
    if (cat && co_category_parse(cat, &r.category))
        fail_msg("bad category %s", cat);
    snprintf(r.area, sizeof r.area, "%s", area);
    snprintf(r.dept, sizeof r.dept, "%s", dept);
    return r;
}

static const char *route_with(const co_route_rule *rules, size_t n, const co_case *c)
{
    static char out[64];
    co_routing *r = co_routing_new(rules, n);
    memset(out, 'Z', sizeof out);
    co_routing_route(r, g_tax, g_depts, c, out, sizeof out);
    co_routing_free(r);
    return out;
}

/* Every permutation of up to 5 rules gives the same answer. */
static void check_all_orders(const co_route_rule *rules, size_t n, const co_case *c,
                             const char *want)
{
    size_t idx[5] = {0, 1, 2, 3, 4};
    co_route_rule perm[5];
    assert_true(n <= 5);
    /* Heap's algorithm, iterative */
    size_t cnt[5] = {0};
    for (size_t k = 0; k < n; k++)
        perm[k] = rules[idx[k]];
    const char *got = route_with(perm, n, c);
    if (strcmp(got, want) != 0)
        fail_msg("routed to \"%s\", want \"%s\" (initial order)", got, want);
    size_t i = 1;
    while (i < n) {
        if (cnt[i] < i) {
            size_t j = (i % 2) ? cnt[i] : 0;
            size_t t = idx[j];
            idx[j] = idx[i];
            idx[i] = t;
            for (size_t k = 0; k < n; k++)
                perm[k] = rules[idx[k]];
            got = route_with(perm, n, c);
            if (strcmp(got, want) != 0)
                fail_msg("routed to \"%s\", want \"%s\" (first rule id %lld)", got, want,
                         (long long)perm[0].id);
            cnt[i]++;
            i = 1;
        } else {
            cnt[i] = 0;
            i++;
        }
    }
}

static void test_deeper_area_wins(void **state)
{
    (void)state;
    const co_route_rule rules[] = {
        R(1, NULL, "", "X-1"), R(2, NULL, D1, "X-2"), R(3, NULL, ST1, "X-3"),
        R(4, NULL, C1, "X-4"), R(5, NULL, G1, "X-5"),
    };
    co_case g1 = at("E0402", G1, C1, ST1, D1);
    co_case g2 = at("E0402", G2, C1, ST1, D1);
    co_case g3 = at("E0402", G3, C2, ST1, D1);
    co_case st2 = at("E0402", "150102002001001", "150102002001", ST2, D1);
    co_case d2 = at("E0402", "150103001001001", "150103001001", "150103001", D2);
    check_all_orders(rules, 5, &g1, "X-5");
    check_all_orders(rules, 5, &g2, "X-4");
    check_all_orders(rules, 5, &g3, "X-3");
    check_all_orders(rules, 5, &st2, "X-2");
    check_all_orders(rules, 5, &d2, "X-1");
    /* a case placed by an area code only (no grid) */
    co_case comm = at("E0402", "", C1, ST1, D1);
    check_all_orders(rules, 5, &comm, "X-4");
    /* an unclassified case follows "any" rules too */
    co_case none = at(NULL, G1, C1, ST1, D1);
    check_all_orders(rules, 5, &none, "X-5");
}

static void test_category_beats_any_at_same_depth(void **state)
{
    (void)state;
    const co_route_rule rules[] = {R(1, NULL, ST1, "X-1"), R(2, "E0402", ST1, "X-2"),
                                   R(3, "E0102", ST1, "X-3")};
    co_case a = at("E0402", G1, C1, ST1, D1);
    co_case b = at("E0102", G1, C1, ST1, D1);
    co_case c = at("C0101", G1, C1, ST1, D1);
    check_all_orders(rules, 3, &a, "X-2");
    check_all_orders(rules, 3, &b, "X-3");
    check_all_orders(rules, 3, &c, "X-1");
    /* city level too */
    const co_route_rule city[] = {R(7, NULL, "", "X-4"), R(8, "E0402", "", "X-5")};
    check_all_orders(city, 2, &a, "X-5");
    check_all_orders(city, 2, &b, "X-4");
}

static void test_deeper_any_beats_shallower_category(void **state)
{
    (void)state;
    const co_route_rule rules[] = {R(1, "E0402", D1, "X-1"), R(2, NULL, C1, "X-2"),
                                   R(3, "E0402", "", "X-3")};
    co_case a = at("E0402", G1, C1, ST1, D1);
    check_all_orders(rules, 3, &a, "X-2");
    co_case b = at("E0402", G3, C2, ST1, D1); /* not in C1: the district rule */
    check_all_orders(rules, 3, &b, "X-1");
    co_case c = at("E0402", "150103001001001", "150103001001", "150103001", D2);
    check_all_orders(rules, 3, &c, "X-3");
}

static void test_equal_rules_lower_id_wins(void **state)
{
    (void)state;
    const co_route_rule rules[] = {R(9, "E0402", ST1, "X-1"), R(4, "E0402", ST1, "X-2"),
                                   R(6, "E0402", ST1, "X-3")};
    co_case a = at("E0402", G1, C1, ST1, D1);
    check_all_orders(rules, 3, &a, "X-2");
    const co_route_rule any[] = {R(12, NULL, "", "X-4"), R(11, NULL, "", "X-5")};
    check_all_orders(any, 2, &a, "X-5");
}

static void test_rules_elsewhere_do_not_apply(void **state)
{
    (void)state;
    /* rules for another district, another grid and another category */
    const co_route_rule rules[] = {R(1, NULL, D2, "X-1"), R(2, NULL, G2, "X-2"),
                                   R(3, "E0102", D1, "X-3"), R(4, NULL, "1501020010010", "X-4")};
    co_case a = at("E0402", G1, C1, ST1, D1);
    /* none applies: the taxonomy says 城管 (chengguan), deepest covering: the street's */
    assert_string_equal(route_with(rules, 4, &a), "D-CG-150102001");
}

static void test_fallback_by_department_type(void **state)
{
    (void)state;
    /* E0402 占道经营 → chengguan */
    co_case a = at("E0402", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &a), "D-CG-150102001");
    co_case b = at("E0402", "150102002001001", "150102002001", ST2, D1);
    assert_string_equal(route_with(NULL, 0, &b), "D-CG-150102");
    co_case c = at("E0402", "150103001001001", "150103001001", "150103001", D2);
    assert_string_equal(route_with(NULL, 0, &c), "D-CG");
    /* E0102 暴露垃圾 → sanitation: the district's centre */
    co_case d = at("E0102", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &d), "D-HW-150102");
    co_case e = at("E0102", "150103001001001", "150103001001", "150103001", D2);
    assert_string_equal(route_with(NULL, 0, &e), "D-HW");
    /* E0111 乱吊乱挂 → street_office: the community's, then the street's, none
     * at city level → unrouted */
    co_case f = at("E0111", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &f), "S-150102001001");
    co_case g = at("E0111", G3, C2, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &g), "S-150102001");
    co_case h = at("E0111", "150102002001001", "150102002001", ST2, D1);
    assert_string_equal(route_with(NULL, 0, &h), "");
    /* C0206 人行道 → municipal: only 回民区 has one; a 新城区 case is unrouted */
    co_case i = at("C0206", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &i), "");
    co_case j = at("C0206", "150103001001001", "150103001001", "150103001", D2);
    assert_string_equal(route_with(NULL, 0, &j), "D-SZ-150103");
    /* C0101 上水井盖 → water: no such department */
    co_case k = at("C0101", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &k), "");
    /* unclassified, no rule → unrouted */
    co_case l = at(NULL, G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &l), "");
    /* a category the taxonomy does not know → unrouted */
    co_case m = at("E0999", G1, C1, ST1, D1);
    assert_string_equal(route_with(NULL, 0, &m), "");
}

static void test_rule_beats_department_type(void **state)
{
    (void)state;
    /* even a city-wide "any" rule is explicit and wins over the type fallback */
    const co_route_rule rules[] = {R(1, NULL, "", "X-1")};
    co_case a = at("E0402", G1, C1, ST1, D1);
    assert_string_equal(route_with(rules, 1, &a), "X-1");
}

static void test_null_inputs(void **state)
{
    (void)state;
    co_case a = at("E0402", G1, C1, ST1, D1);
    char out[32];
    memset(out, 'Z', sizeof out);
    co_routing_route(NULL, g_tax, g_depts, &a, out, sizeof out);
    assert_string_equal(out, "D-CG-150102001");
    co_routing_route(NULL, NULL, g_depts, &a, out, sizeof out);
    assert_string_equal(out, "");
    co_routing_route(NULL, g_tax, NULL, &a, out, sizeof out);
    assert_string_equal(out, "");
    co_routing *r = co_routing_new(NULL, 0);
    assert_int_equal(co_routing_count(r), 0);
    assert_null(co_routing_at(r, 0));
    co_routing_route(r, g_tax, g_depts, &a, out, sizeof out);
    assert_string_equal(out, "D-CG-150102001");
    co_routing_free(r);
    co_routing_free(NULL);
    /* the rules are copied in */
    co_route_rule rules[] = {R(1, NULL, "", "X-1")};
    r = co_routing_new(rules, 1);
    snprintf(rules[0].dept, sizeof rules[0].dept, "X-2");
    co_routing_route(r, g_tax, g_depts, &a, out, sizeof out);
    assert_string_equal(out, "X-1");
    assert_int_equal(co_routing_count(r), 1);
    assert_string_equal(co_routing_at(r, 0)->dept, "X-1");
    co_routing_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deeper_area_wins),
        cmocka_unit_test(test_category_beats_any_at_same_depth),
        cmocka_unit_test(test_deeper_any_beats_shallower_category),
        cmocka_unit_test(test_equal_rules_lower_id_wins),
        cmocka_unit_test(test_rules_elsewhere_do_not_apply),
        cmocka_unit_test(test_fallback_by_department_type),
        cmocka_unit_test(test_rule_beats_department_type),
        cmocka_unit_test(test_null_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
