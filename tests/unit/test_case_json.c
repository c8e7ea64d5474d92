/* test_case_json.c — unit tests of src/domain/case_json.c and the case
 * enumerations in src/domain/case.c: co_case_to_json → co_case_from_json
 * gives back the same case, field by field (also through the JSON text the
 * store keeps), for every value of every enumeration; the caller's phone is
 * masked unless asked for; malformed documents are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "case_assert.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/timeutil.h"
#include "xorshift.h"

static void assert_case_equal(const co_case *a, const co_case *b, const char *what)
{
    assert_case_fields(a, b, 0, what);
}

static int64_t T(const char *iso)
{
    int64_t t = 0;
    if (co_time_parse(iso, &t) != CO_OK)
        fail_msg("bad time in test: %s", iso);
    return t;
}

/* A case with every field set to a value different from its zero value. */
static co_case full_case(void)
{
    co_case c;
    memset(&c, 0, sizeof c);
    c.id = 123456789012LL;
    snprintf(c.number, sizeof c.number, "2026112500123");
    c.created = T("2026-11-25T08:31:07+08:00");
    c.updated = T("2026-11-27T16:02:59+08:00");
    c.channel = CO_CH_INSPECTOR;
    c.reqtype = CO_RT_COMPLAINT;
    c.severity = CO_SEV_CRITICAL;
    if (co_category_parse("E0402", &c.category))
        fail();
    c.tax_version = 3;
    c.state = CO_ST_HANDLING;
    c.flags = CO_CF_VERIFIED | CO_CF_EXTENDED | CO_CF_MISDISPATCH | CO_CF_DISPATCH_LATE;
    c.lon = 111.68790123456789;
    c.lat = 40.852312345678901;
    snprintf(c.grid, sizeof c.grid, "150102001001084");
    snprintf(c.community, sizeof c.community, "150102001001");
    snprintf(c.street, sizeof c.street, "150102001");
    snprintf(c.district, sizeof c.district, "150102");
    snprintf(c.address, sizeof c.address, "新城区海拉尔东路 12 号 \"东门\" \\ 旁");
    snprintf(c.description, sizeof c.description, "占道经营，早市摊贩\n第二行\t制表符 é ü 😀");
    snprintf(c.caller_name, sizeof c.caller_name, "张三");
    snprintf(c.caller_phone, sizeof c.caller_phone, "13812345678");
    snprintf(c.reporter, sizeof c.reporter, "inspector");
    snprintf(c.dept, sizeof c.dept, "D-CG-150102");
    snprintf(c.routed_dept, sizeof c.routed_dept, "D-CG");
    snprintf(c.first_dept, sizeof c.first_dept, "S-150102001");
    snprintf(c.merged_into, sizeof c.merged_into, "2026112400007");
    c.step_started = T("2026-11-26T09:00:00+08:00");
    c.step_due = T("2026-11-30T18:00:00+08:00");
    c.dispatched_at = T("2026-11-25T10:00:00+08:00");
    c.disposal_due = T("2026-11-30T18:00:00+08:00");
    c.disposal_left = 19800;
    c.handled_at = T("2026-11-26T11:11:11+08:00");
    c.closed_at = T("2026-11-27T16:02:59+08:00");
    c.rework = 2;
    c.dispatches = 3;
    c.extensions = 1;
    c.close_type = CO_CLOSE_SPECIAL;
    c.satisfaction = CO_SAT_BASIC;
    c.nphotos = CO_PHOTOS_MAX;
    for (int i = 0; i < CO_PHOTOS_MAX; i++)
        for (int k = 0; k < 64; k++)
            c.photos[i][k] = "0123456789abcdef"[(i * 7 + k) % 16];
    return c;
}

/* to_json → (text → parse) → from_json. */
static co_case round_trip(const co_case *c, int through_text)
{
    json_t *j = co_case_to_json(c, 1);
    assert_non_null(j);
    if (through_text) {
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        json_error_t je;
        j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
        free(s);
        if (!j)
            fail_msg("to_json text does not parse: %s", je.text);
    }
    co_case out;
    memset(&out, 0x5A, sizeof out);
    assert_int_equal(co_case_from_json(j, &out), CO_OK);
    json_decref(j);
    return out;
}

static void test_round_trip_every_field(void **state)
{
    (void)state;
    co_case c = full_case();
    co_case a = round_trip(&c, 0);
    assert_case_equal(&a, &c, "in memory");
    co_case b = round_trip(&c, 1);
    assert_case_equal(&b, &c, "through text");
}

/* The sequence of the last applied event is not part of the document: the
 * writer stores the register document before the event has a sequence. A
 * stored case row therefore reads back with last_seq 0 (see the report). */
static void test_last_seq_not_in_document(void **state)
{
    (void)state;
    co_case c = full_case();
    c.last_seq = 77;
    json_t *j = co_case_to_json(&c, 1);
    assert_null(json_object_get(j, "last_seq"));
    co_case out;
    assert_int_equal(co_case_from_json(j, &out), CO_OK);
    assert_int_equal(out.last_seq, 0);
    json_decref(j);
}

static void test_zero_values_round_trip(void **state)
{
    (void)state;
    co_case c;
    memset(&c, 0, sizeof c);
    c.state = CO_ST_REGISTERED;
    c.lon = c.lat = NAN;
    json_t *j = co_case_to_json(&c, 1);
    /* no point, no times, no category: nulls and empty strings */
    assert_true(json_is_null(json_object_get(j, "location")));
    assert_true(json_is_null(json_object_get(j, "created")));
    assert_true(json_is_null(json_object_get(j, "disposal_due")));
    assert_string_equal(json_string_value(json_object_get(j, "category")), "");
    assert_string_equal(json_string_value(json_object_get(j, "request_type")), "");
    assert_string_equal(json_string_value(json_object_get(j, "close_type")), "");
    assert_string_equal(json_string_value(json_object_get(j, "satisfaction")), "");
    assert_int_equal(json_array_size(json_object_get(j, "photos")), 0);
    json_decref(j);
    co_case out = round_trip(&c, 1);
    assert_case_equal(&out, &c, "zero case");
    assert_true(isnan(out.lon) && isnan(out.lat));
    /* (0, 0) is a point, not "no point" */
    c.lon = 0.0;
    c.lat = 0.0;
    out = round_trip(&c, 1);
    assert_case_equal(&out, &c, "point at 0,0");
}

static void test_every_enum_value(void **state)
{
    (void)state;
    co_case base = full_case();
    for (int s = CO_ST_REGISTERED; s < CO_ST_COUNT; s++) {
        co_case c = base;
        c.state = (co_state)s;
        co_case out = round_trip(&c, 1);
        assert_int_equal(out.state, s);
        co_state parsed;
        assert_int_equal(co_state_parse(co_state_name((co_state)s), &parsed), CO_OK);
        assert_int_equal(parsed, s);
        assert_true(co_state_name_zh((co_state)s)[0] != '\0');
    }
    for (int ch = 0; ch < CO_CH_COUNT; ch++) {
        co_case c = base;
        c.channel = (co_channel)ch;
        assert_int_equal(round_trip(&c, 1).channel, ch);
    }
    for (int sv = 0; sv < CO_SEV_COUNT; sv++) {
        co_case c = base;
        c.severity = (co_severity)sv;
        assert_int_equal(round_trip(&c, 1).severity, sv);
    }
    for (int rt = 0; rt < CO_RT_COUNT; rt++) {
        co_case c = base;
        c.reqtype = (co_reqtype)rt;
        assert_int_equal(round_trip(&c, 1).reqtype, rt);
    }
    for (int ct = 0; ct < CO_CLOSE_COUNT; ct++) {
        co_case c = base;
        c.close_type = (co_close_type)ct;
        assert_int_equal(round_trip(&c, 1).close_type, ct);
    }
    for (int sat = 0; sat < CO_SAT_COUNT; sat++) {
        co_case c = base;
        c.satisfaction = (co_satisfaction)sat;
        assert_int_equal(round_trip(&c, 1).satisfaction, sat);
    }
    static const char *cats[] = {"C0101", "C0603", "E0101", "E0506", "E9999", "C9999"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++) {
        co_case c = base;
        assert_int_equal(co_category_parse(cats[i], &c.category), CO_OK);
        co_case out = round_trip(&c, 1);
        char txt[8];
        co_category_format(out.category, txt);
        assert_string_equal(txt, cats[i]);
    }
    co_case c = base;
    c.category = CO_CATEGORY_NONE;
    assert_int_equal(round_trip(&c, 1).category, CO_CATEGORY_NONE);
    /* every flag bit survives */
    c = base;
    c.flags = 0x7FFFFu;
    assert_int_equal(round_trip(&c, 1).flags, 0x7FFFFu);
}

static void test_category_parse(void **state)
{
    (void)state;
    co_category c;
    assert_int_equal(co_category_parse("C0101", &c), CO_OK);
    assert_int_equal(co_category_kind(c), 1);
    assert_int_equal(co_category_code(c), 101);
    assert_int_equal(co_category_parse("E0402", &c), CO_OK);
    assert_int_equal(co_category_kind(c), 2);
    assert_int_equal(co_category_code(c), 402);
    static const char *bad[] = {"", "C", "C010", "C01011", "X0101", "c0101", "C01a1", "C0000",
                                "C0100", " C0101"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (co_category_parse(bad[i], &c) == CO_OK)
            fail_msg("category \"%s\" accepted", bad[i]);
    assert_int_equal(co_category_parse(NULL, &c), CO_EINVAL);
}

static void test_long_texts(void **state)
{
    (void)state;
    co_case c = full_case();
    /* the longest description: 2047 bytes of 3-byte UTF-8 characters plus ASCII */
    size_t n = 0;
    while (n + 3 < sizeof c.description - 1) {
        memcpy(c.description + n, "井", 3);
        n += 3;
    }
    while (n < sizeof c.description - 1)
        c.description[n++] = 'x';
    c.description[n] = '\0';
    assert_int_equal(strlen(c.description), CO_TEXT_MAX - 1);
    memset(c.address, 'a', sizeof c.address - 1);
    c.address[sizeof c.address - 1] = '\0';
    memset(c.caller_name, 'n', sizeof c.caller_name - 1);
    c.caller_name[sizeof c.caller_name - 1] = '\0';
    co_case out = round_trip(&c, 1);
    assert_case_equal(&out, &c, "long texts");
}

/* A text longer than its field is cut at a character boundary, never in the
 * middle of a UTF-8 sequence (found by fuzz_json_bodies: the cut text made
 * co_case_to_json drop the field). */
static void test_over_long_text_cut_on_character(void **state)
{
    (void)state;
    char text[CO_TEXT_MAX + 64];
    size_t n = 0;
    text[n++] = 'x'; /* shifts the 3-byte characters so the field ends inside one */
    while (n + 3 < sizeof text) {
        memcpy(text + n, "井", 3);
        n += 3;
    }
    text[n] = '\0';
    json_t *j = json_pack("{s:s,s:s}", "description", text, "address", text);
    co_case out;
    memset(&out, 0, sizeof out);
    assert_int_equal(co_case_from_json(j, &out), CO_OK);
    json_decref(j);
    size_t len = strlen(out.description);
    assert_true(len < CO_TEXT_MAX && len > CO_TEXT_MAX - 4);
    assert_int_equal((len - 1) % 3, 0); /* whole characters after the 'x' */
    assert_int_equal(memcmp(out.description, text, len), 0);
    json_t *back = co_case_to_json(&out, 1);
    assert_non_null(json_object_get(back, "description"));
    assert_string_equal(json_string_value(json_object_get(back, "description")), out.description);
    assert_non_null(json_object_get(back, "address"));
    json_decref(back);
}

static void test_phone_mask(void **state)
{
    (void)state;
    char out[CO_PHONE_MAX];
    co_phone_mask("13812345678", out);
    assert_string_equal(out, "138****5678");
    co_phone_mask("+8613812345678", out);
    assert_string_equal(out, "+86****5678");
    co_phone_mask("04714567890", out);
    assert_string_equal(out, "047****7890");
    /* a 7-digit local number (呼和浩特 landlines) must not show whole */
    co_phone_mask("4567890", out);
    assert_string_equal(out, "****7890");
    co_phone_mask("0471456789", out);
    assert_string_equal(out, "****6789");
    co_phone_mask("123456", out); /* too short to show anything */
    assert_string_equal(out, "****");
    co_phone_mask("", out);
    assert_string_equal(out, "");
    /* the mask never shows more than 7 of the digits */
    co_phone_mask("12345678901234567890", out);
    assert_string_equal(out, "123****7890");

    co_case c = full_case();
    json_t *masked = co_case_to_json(&c, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(masked, "caller"), "phone")),
                        "138****5678");
    char *text = json_dumps(masked, 0);
    assert_null(strstr(text, "13812345678"));
    free(text);
    json_t *shown = co_case_to_json(&c, 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(shown, "caller"), "phone")),
                        "13812345678");
    json_decref(masked);
    json_decref(shown);
}

static void test_document_shape(void **state)
{
    (void)state;
    co_case c = full_case();
    json_t *j = co_case_to_json(&c, 1);
    assert_string_equal(json_string_value(json_object_get(j, "number")), "2026112500123");
    assert_string_equal(json_string_value(json_object_get(j, "created")), "2026-11-25T08:31:07+08:00");
    assert_string_equal(json_string_value(json_object_get(j, "state")), "handling");
    assert_string_equal(json_string_value(json_object_get(j, "state_zh")), "处置中");
    assert_string_equal(json_string_value(json_object_get(j, "channel")), "inspector");
    assert_string_equal(json_string_value(json_object_get(j, "category")), "E0402");
    assert_string_equal(json_string_value(json_object_get(j, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(j, "request_type")), "complaint");
    assert_string_equal(json_string_value(json_object_get(j, "close_type")), "special");
    assert_string_equal(json_string_value(json_object_get(j, "satisfaction")), "basic");
    assert_int_equal(json_integer_value(json_object_get(j, "rework")), 2);
    json_t *loc = json_object_get(j, "location");
    assert_true(json_real_value(json_object_get(loc, "lon")) == c.lon);
    assert_int_equal(json_array_size(json_object_get(j, "photos")), CO_PHOTOS_MAX);
    json_decref(j);
}

static void test_from_json_refuses(void **state)
{
    (void)state;
    co_case out;
    static const char *bad[] = {
        "[]",
        "\"case\"",
        "{\"channel\":\"fax\"}",
        "{\"state\":\"open\"}",
        "{\"state\":\"none\"}",
        "{\"severity\":\"huge\"}",
        "{\"request_type\":\"demand\"}",
        "{\"category\":\"Z0101\"}",
        "{\"close_type\":\"maybe\"}",
        "{\"satisfaction\":\"ecstatic\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        if (co_case_from_json(j, &out) != CO_EINVAL)
            fail_msg("accepted %s", bad[i]);
        json_decref(j);
    }
    assert_int_equal(co_case_from_json(NULL, &out), CO_EINVAL);
    /* more than 8 photos: the first 8 are kept */
    co_case c = full_case();
    json_t *j = co_case_to_json(&c, 1);
    json_array_append_new(json_object_get(j, "photos"), json_string("extra"));
    assert_int_equal(co_case_from_json(j, &out), CO_OK);
    assert_int_equal(out.nphotos, CO_PHOTOS_MAX);
    assert_string_equal(out.photos[7], c.photos[7]);
    json_decref(j);
}

/* co_case_json_text must print exactly what the jansson tree prints. */
static void assert_text_matches_tree(const co_case *c, int show_phone)
{
    json_t *j = co_case_to_json(c, show_phone);
    char *want = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    co_buf b;
    co_buf_init(&b, 1 << 20);
    assert_int_equal(co_case_json_text(c, show_phone, &b), CO_OK);
    assert_string_equal(b.data, want);
    co_buf_free(&b);
    free(want);
}

static void test_text_equals_tree(void **state)
{
    (void)state;
    co_case c = full_case();
    assert_text_matches_tree(&c, 1);
    assert_text_matches_tree(&c, 0);
    memset(&c, 0, sizeof c); /* zeros: null times, no location, no photos */
    c.lon = c.lat = NAN;
    assert_text_matches_tree(&c, 1);
    /* random values in every field, control characters and quotes in texts,
     * and now and then a text that is not UTF-8 (jansson leaves that key out) */
    static const char *const bits[] = {"a", "城", "\"", "\\", "\n", "\x01", "😀", " ", "\xff", "0"};
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 3000; i++) {
        c = full_case();
        xorshift64(&x);
        c.id = (int64_t)(x >> 20);
        c.created = (int64_t)(x % 2000000000);
        c.step_due = (x & 1) ? 0 : c.created + 3600;
        c.closed_at = (x & 2) ? 0 : c.created + 7200;
        c.lon = (x & 4) ? NAN : 100 + (double)(x % 100000) / 3333.0;
        c.lat = 40 + (double)(x % 77777) / 7777.0;
        c.state = (co_state)(x % CO_ST_COUNT);
        c.flags = (uint32_t)(x >> 40);
        c.disposal_left = (int64_t)(x % 100000) - 50000;
        c.nphotos = (uint8_t)(x % (CO_PHOTOS_MAX + 1));
        char *texts[] = {c.address, c.description, c.caller_name, c.caller_phone, c.reporter,
                         c.dept, c.merged_into, c.photos[0]};
        size_t lens[] = {sizeof c.address, sizeof c.description, sizeof c.caller_name,
                         sizeof c.caller_phone, sizeof c.reporter, sizeof c.dept,
                         sizeof c.merged_into, sizeof c.photos[0]};
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            texts[t][0] = '\0';
            for (int k = 0; k < 6; k++) {
                xorshift64(&x);
                const char *piece = bits[x % (i % 5 ? 8 : 10)]; /* "\xff" in one case of 5 */
                if (strlen(texts[t]) + strlen(piece) < lens[t])
                    strcat(texts[t], piece);
            }
        }
        assert_text_matches_tree(&c, (int)(x & 8));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_field),
        cmocka_unit_test(test_last_seq_not_in_document),
        cmocka_unit_test(test_zero_values_round_trip),
        cmocka_unit_test(test_every_enum_value),
        cmocka_unit_test(test_category_parse),
        cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_over_long_text_cut_on_character),
        cmocka_unit_test(test_phone_mask),
        cmocka_unit_test(test_document_shape),
        cmocka_unit_test(test_from_json_refuses),
        cmocka_unit_test(test_text_equals_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
