/* test_ratelimit.c — unit tests of src/http/ratelimit.c: token buckets per
 * key (burst, refill, Retry-After, independence of keys, "off"), the
 * failure back-off (allowance, doubling, cap, forgetting, clearing), and the
 * bounded table (it never holds more keys than slots; eviction prefers
 * unblocked keys; many threads at once). Time is passed in, never read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>

#include "http/ratelimit.h"

static void test_bucket_burst_and_refill(void **state)
{
    (void)state;
    co_ratelimit *rl = co_ratelimit_new(64);
    co_apikey_rate rate = {2.0, 5};
    int retry = 0;
    int64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        assert_int_equal(co_ratelimit_take(rl, "10.0.0.1", rate, t, &retry), 1);
    assert_int_equal(co_ratelimit_take(rl, "10.0.0.1", rate, t, &retry), 0);
    assert_int_equal(retry, 1); /* half a second to the next token, rounded up */
    /* another key has its own bucket */
    assert_int_equal(co_ratelimit_take(rl, "10.0.0.2", rate, t, &retry), 1);
    /* 500 ms later one token is back, and only one */
    assert_int_equal(co_ratelimit_take(rl, "10.0.0.1", rate, t + 500, &retry), 1);
    assert_int_equal(co_ratelimit_take(rl, "10.0.0.1", rate, t + 500, &retry), 0);
    /* a slow rate asks for a longer wait */
    co_apikey_rate slow = {0.1, 1};
    assert_int_equal(co_ratelimit_take(rl, "slow", slow, t, &retry), 1);
    assert_int_equal(co_ratelimit_take(rl, "slow", slow, t, &retry), 0);
    assert_int_equal(retry, 10);
    /* rate 0 is no limit and stores nothing */
    size_t used = co_ratelimit_used(rl);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(co_ratelimit_take(rl, "free", (co_apikey_rate){0, 0}, t, &retry), 1);
    assert_int_equal(co_ratelimit_used(rl), used);
    co_ratelimit_free(rl);
}

static void test_backoff_doubles_and_caps(void **state)
{
    (void)state;
    co_ratelimit *rl = co_ratelimit_new(64);
    co_backoff b = {3, 2, 10, 60};
    int64_t t = 5000000;
    int retry = 0, fails = 0;
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t, &fails), 0);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t, &fails), 0);
    assert_int_equal(co_ratelimit_blocked(rl, "u:a", t, &retry), 0);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t, &fails), 2); /* the 3rd: blocked */
    assert_int_equal(fails, 3);
    assert_int_equal(co_ratelimit_blocked(rl, "u:a", t + 100, &retry), 1);
    assert_int_equal(retry, 2);
    assert_int_equal(co_ratelimit_blocked(rl, "u:a", t + 2000, &retry), 0);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 2000, &fails), 4);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 6000, &fails), 8);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 14000, &fails), 10); /* capped */
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 24000, &fails), 10);
    /* other keys are untouched */
    assert_int_equal(co_ratelimit_blocked(rl, "u:b", t + 24000, &retry), 0);
    /* a success clears it */
    co_ratelimit_clear(rl, "u:a");
    assert_int_equal(co_ratelimit_blocked(rl, "u:a", t + 24001, &retry), 0);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 24001, &fails), 0);
    assert_int_equal(fails, 1);
    /* failures are forgotten forget_s after the last one */
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 25000, &fails), 0);
    assert_int_equal(fails, 2);
    assert_int_equal(co_ratelimit_fail(rl, "u:a", &b, t + 25000 + 61000, &fails), 0);
    assert_int_equal(fails, 1);
    /* free_fails 0: no back-off at all */
    co_backoff off = {0, 2, 10, 60};
    for (int i = 0; i < 50; i++)
        assert_int_equal(co_ratelimit_fail(rl, "u:c", &off, t, NULL), 0);
    assert_int_equal(co_ratelimit_blocked(rl, "u:c", t, &retry), 0);
    co_ratelimit_free(rl);
}

static void test_table_is_bounded(void **state)
{
    (void)state;
    co_ratelimit *rl = co_ratelimit_new(100); /* rounded up to 128 */
    assert_int_equal(co_ratelimit_slots(rl), 128);
    co_backoff b = {1, 3600, 3600, 7200};
    int64_t t = 1000;
    int retry;
    /* a blocked key survives a flood of new keys */
    assert_int_equal(co_ratelimit_fail(rl, "victim", &b, t, NULL), 3600);
    char key[32];
    co_apikey_rate rate = {1, 1};
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        co_ratelimit_take(rl, key, rate, t + 1 + i, &retry);
        assert_true(co_ratelimit_used(rl) <= 128);
        if (i % 10000 == 0)
            assert_int_equal(co_ratelimit_blocked(rl, "victim", t + 1 + i, &retry), 1);
    }
    assert_int_equal(co_ratelimit_used(rl), 128);
    assert_int_equal(co_ratelimit_blocked(rl, "victim", t + 100001, &retry), 1);
    /* an evicted key starts again with a full bucket */
    assert_int_equal(co_ratelimit_take(rl, "k0", rate, t + 200000, &retry), 1);
    co_ratelimit_free(rl);
}

typedef struct worker_arg {
    co_ratelimit *rl;
    int ok;
} worker_arg;

static void *hammer(void *p)
{
    worker_arg *a = p;
    char key[32];
    int retry;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "shared-%d", i % 4);
        a->ok += co_ratelimit_take(a->rl, key, (co_apikey_rate){1, 1000}, 42, &retry);
    }
    return NULL;
}

/* Four threads share four keys of 1000 tokens (no refill: the clock stands
 * still): exactly 4000 requests pass, whatever the interleaving. */
static void test_threads_share_buckets(void **state)
{
    (void)state;
    co_ratelimit *rl = co_ratelimit_new(4096);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){rl, 0};
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].ok;
    }
    assert_int_equal(total, 4000);
    assert_int_equal(co_ratelimit_used(rl), 4);
    co_ratelimit_free(rl);
}

static void test_config_defaults(void **state)
{
    (void)state;
    co_ratelimit_config c;
    co_ratelimit_config_default(&c);
    assert_true(c.anon.per_sec > 0 && c.anon.burst >= 1);
    assert_int_equal(c.login_user.free_fails, CO_RATELIMIT_LOGIN_USER_FAILS);
    assert_int_equal(c.login_ip.free_fails, CO_RATELIMIT_LOGIN_IP_FAILS);
    assert_true(c.login_ip.free_fails > c.login_user.free_fails);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_burst_and_refill),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test(test_table_is_bounded),
        cmocka_unit_test(test_threads_share_buckets),
        cmocka_unit_test(test_config_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
