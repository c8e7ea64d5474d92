/* test_cpustat.c — unit tests of src/cli/cpustat.c: /proc/stat's aggregate
 * line parsed, and the shares of CPU time between two snapshots. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cpustat.h"

static void test_parse_and_share(void **state)
{
    (void)state;
    co_cpustat a = co_cpustat_parse("cpu  100 5 50 800 10 0 5 30 0 0\ncpu0 1 2 3 4 5 6 7 8\n");
    co_cpustat b = co_cpustat_parse("cpu  400 5 150 1300 30 0 15 100 0 0\n");
    assert_true(a.ok && b.ok);
    assert_int_equal(a.steal, 30);
    assert_int_equal(b.idle, 1300);
    co_cpushare s;
    /* between them: user 300, system 100, idle 500, iowait 20, softirq 10, steal 70 = 1000 */
    assert_int_equal(co_cpustat_share(&a, &b, &s), 0);
    assert_float_equal(s.idle, 50.0, 1e-9);
    assert_float_equal(s.iowait, 2.0, 1e-9);
    assert_float_equal(s.steal, 7.0, 1e-9);
    assert_float_equal(s.busy, 41.0, 1e-9);
}

static void test_bad_input(void **state)
{
    (void)state;
    co_cpushare s;
    co_cpustat ok = co_cpustat_parse("cpu  1 2 3 4 5 6 7 8\n");
    assert_true(ok.ok);
    assert_false(co_cpustat_parse("").ok);
    assert_false(co_cpustat_parse("intr 12 13\n").ok);
    assert_false(co_cpustat_parse("cpu  1 2 3\n").ok); /* a kernel without steal */
    co_cpustat none = co_cpustat_parse(NULL);
    assert_int_equal(co_cpustat_share(&ok, &none, &s), -1);
    assert_int_equal(co_cpustat_share(&ok, &ok, &s), -1); /* no time passed */
    co_cpustat now = co_cpustat_now();
    assert_true(now.ok); /* this is Linux */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_share),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
