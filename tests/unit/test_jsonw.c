/* test_jsonw.c — src/lib/jsonw.c against jansson: every string, integer
 * and real written must be byte for byte what json_dumps(JSON_COMPACT)
 * prints for the same value, and what jansson refuses (not UTF-8) is
 * refused. Random inputs from a fixed seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jsonw.h"
#include "xorshift.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) { return xorshift64(&rng); }

static void check_value(json_t *v, co_err (*write)(co_buf *, const void *), const void *arg)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(want);
    co_buf b;
    co_buf_init(&b, 1 << 16);
    assert_int_equal(write(&b, arg), CO_OK);
    assert_string_equal(b.data, want);
    co_buf_free(&b);
    free(want);
    json_decref(v);
}

static co_err w_str(co_buf *b, const void *s) { return co_jsonw_str(b, s); }
static co_err w_int(co_buf *b, const void *v) { return co_jsonw_int(b, *(const int64_t *)v); }
static co_err w_real(co_buf *b, const void *v) { return co_jsonw_real(b, *(const double *)v); }

static void test_strings(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b",
                                         "\f", "\x01", "\x1f", "\x7f", "é", "城", "市", "𠀀",
                                         "😀", "12345", "\xef\xbf\xbd"};
    size_t np = sizeof pieces / sizeof pieces[0];
    for (int i = 0; i < 20000; i++) {
        char s[256] = "";
        int len = (int)(next() % 24);
        for (int k = 0; k < len; k++)
            strcat(s, pieces[next() % np]);
        check_value(json_string(s), w_str, s);
    }
    check_value(json_string(""), w_str, "");
    co_buf b;
    co_buf_init(&b, 64);
    assert_int_equal(co_jsonw_str(&b, NULL), CO_OK);
    assert_string_equal(b.data, "\"\"");
    co_buf_free(&b);
}

static void test_invalid_utf8_refused(void **state)
{
    (void)state;
    /* random bytes: whatever jansson refuses, jsonw refuses, and the buffer
     * keeps what it had */
    int refused = 0;
    for (int i = 0; i < 20000; i++) {
        unsigned char s[12];
        int len = 1 + (int)(next() % 10);
        for (int k = 0; k < len; k++)
            s[k] = (unsigned char)(1 + next() % 255);
        s[len] = 0;
        json_t *j = json_string((const char *)s);
        co_buf b;
        co_buf_init(&b, 256);
        assert_int_equal(co_buf_puts(&b, "[1,"), CO_OK);
        co_err rc = co_jsonw_str(&b, (const char *)s);
        if (!j) {
            refused++;
            assert_int_equal(rc, CO_EINVAL);
            assert_string_equal(b.data, "[1,");
        } else {
            assert_int_equal(rc, CO_OK);
            char *want = json_dumps(j, JSON_ENCODE_ANY);
            assert_string_equal(b.data + 3, want);
            free(want);
        }
        co_buf_free(&b);
        json_decref(j);
    }
    assert_true(refused > 1000);
    /* an overlong form, a surrogate, beyond U+10FFFF */
    static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe4\xb8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_null(json_string(bad[i]));
        assert_false(co_jsonw_utf8_ok(bad[i]));
    }
}

static void test_integers(void **state)
{
    (void)state;
    int64_t fixed[] = {0, 1, -1, 9, 10, -10, INT64_MAX, INT64_MIN, 2026112500123LL};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_value(json_integer(fixed[i]), w_int, &fixed[i]);
    for (int i = 0; i < 20000; i++) {
        int64_t v = (int64_t)(next() >> (next() % 64));
        if (next() & 1)
            v = -v;
        check_value(json_integer(v), w_int, &v);
    }
}

static void test_reals(void **state)
{
    (void)state;
    double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.123, 111.6708, 40.8183, 1e20, 1e-5, 1e300,
                      -2.5e-308, 123456789012345678.0, 0.001 * 123, 3.0e-7};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_value(json_real(fixed[i]), w_real, &fixed[i]);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = next();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        check_value(json_real(v), w_real, &v);
        double c = 100.0 + (double)(next() % 2000000) / 1e5; /* a longitude */
        check_value(json_real(c), w_real, &c);
    }
    co_buf b;
    co_buf_init(&b, 64);
    assert_int_equal(co_jsonw_real(&b, NAN), CO_OK);
    assert_string_equal(b.data, "null");
    co_buf_free(&b);
}

static void test_keys_and_limit(void **state)
{
    (void)state;
    co_buf b;
    co_buf_init(&b, 16);
    assert_int_equal(co_buf_puts(&b, "{"), CO_OK);
    assert_int_equal(co_jsonw_key(&b, "id", 1), CO_OK);
    assert_int_equal(co_jsonw_int(&b, 7), CO_OK);
    assert_int_equal(co_jsonw_key(&b, "n", 0), CO_OK);
    assert_string_equal(b.data, "{\"id\":7,\"n\":");
    assert_int_equal(co_jsonw_str(&b, "too long for it"), CO_ETOOBIG);
    assert_string_equal(b.data, "{\"id\":7,\"n\":");
    co_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_invalid_utf8_refused),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_keys_and_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
