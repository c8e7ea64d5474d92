/* fz_values.c — every parser cityops applies to a single text value from
 * outside (query parameters, route parameters, form fields, JSON strings),
 * with the round trips they promise: what a parser accepts, its formatter
 * writes back in a form the parser reads to the same value. A broken
 * promise aborts (a fuzzer finding). Shared by fuzz_values and fuzz_router. */
#include "fz_values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/open311.h"
#include "api/open311_int.h"
#include "calendar/calendar.h"
#include "domain/apikey.h"
#include "domain/case.h"
#include "domain/role.h"
#include "domain/taxonomy.h"
#include "geo/area.h"
#include "geo/coord.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

static void broken(const char *what, const char *s)
{
    fprintf(stderr, "\n*** fuzz finding: %s (input \"%.200s\")\n", what, s);
    abort();
}

static void times(const char *s)
{
    int64_t t, back;
    char iso[CO_TIME_ISO_MAX];
    if (co_time_parse(s, &t))
        return;
    co_time_format(t, iso);
    if (strlen(iso) >= CO_TIME_ISO_MAX)
        broken("co_time_format overflow", s);
    if (co_time_parse(iso, &back) || back != t)
        broken("co_time_parse(co_time_format(t)) != t", s);
    (void)co_calendar_local_day(t);
}

static void limits(const char *s)
{
    co_calendar_limit cl, cl2;
    char buf[CO_CALENDAR_LIMIT_TEXT_MAX];
    if (co_calendar_limit_parse(s, &cl) == CO_OK) {
        co_calendar_limit_format(cl, buf);
        if (co_calendar_limit_parse(buf, &cl2) || cl2.value != cl.value || cl2.unit != cl.unit)
            broken("calendar limit round trip", s);
    }
    co_taxonomy_limit tl, tl2;
    char tbuf[16];
    if (co_taxonomy_limit_parse(s, &tl) == CO_OK) {
        co_taxonomy_limit_format(tl, tbuf, sizeof tbuf);
        if (co_taxonomy_limit_parse(tbuf, &tl2) || tl2.value != tl.value || tl2.unit != tl.unit)
            broken("taxonomy limit round trip", s);
        (void)co_taxonomy_limit_minutes(tl);
    }
    co_calendar_hours h, h2;
    char hbuf[CO_CALENDAR_HOURS_TEXT_MAX];
    if (co_calendar_hours_parse(s, &h) == CO_OK) {
        co_calendar_hours_format(&h, hbuf, sizeof hbuf);
        if (co_calendar_hours_parse(hbuf, &h2) || h2.n != h.n ||
            memcmp(h2.span, h.span, h.n * sizeof h.span[0]))
            broken("working hours round trip", s);
        co_calendar *cal = co_calendar_new();
        if (co_calendar_set_hours(cal, &h) == CO_OK) {
            int64_t due;
            co_calendar_limit lim = {3, CO_CALENDAR_WD};
            (void)co_calendar_day_seconds(cal);
            if (co_calendar_due(cal, 1790000000, lim, &due) == CO_OK && due < 1790000000)
                broken("a deadline before its start", s);
        }
        co_calendar_free(cal);
    }
}

static void enums(const char *s)
{
    co_state st;
    co_channel ch;
    co_severity sv;
    co_reqtype rt;
    co_satisfaction sa;
    co_close_type ct;
    co_role ro;
    co_crs crs;
    co_taxonomy_kind tk;
    co_taxonomy_sev ts;
    co_category cat;
    unsigned mask;
    char buf[8];
    if (co_state_parse(s, &st) == CO_OK && strcmp(co_state_name(st), s) != 0)
        broken("state name round trip", s);
    if (co_channel_parse(s, &ch) == CO_OK)
        (void)co_channel_name_zh(ch);
    if (co_severity_parse(s, &sv) == CO_OK)
        (void)co_severity_name_zh(sv);
    if (co_reqtype_parse(s, &rt) == CO_OK)
        (void)co_reqtype_name_zh(rt);
    if (co_satisfaction_parse(s, &sa) == CO_OK)
        (void)co_satisfaction_name(sa);
    if (co_close_type_parse(s, &ct) == CO_OK)
        (void)co_close_type_name(ct);
    if (co_role_parse(s, &ro) == CO_OK && (unsigned)ro >= CO_ROLE_COUNT)
        broken("role out of range", s);
    if (co_crs_parse(s, &crs) == CO_OK)
        (void)co_crs_name(crs);
    if (co_taxonomy_kind_parse(s, &tk) == CO_OK)
        (void)co_taxonomy_kind_code(tk);
    if (co_taxonomy_sev_parse(s, &ts) == CO_OK)
        (void)co_taxonomy_sev_code(ts);
    if (co_category_parse(s, &cat) == CO_OK) {
        co_category cat2;
        co_category_format(cat, buf);
        if (co_category_parse(buf, &cat2) || cat2 != cat)
            broken("category round trip", s);
        (void)co_category_kind(cat);
        (void)co_category_code(cat);
    }
    if (co_open311_parse_status(s, &mask) == CO_OK && !mask)
        broken("an empty status mask accepted", s);
}

static void numbers(const char *s)
{
    int64_t i;
    double d;
    if (co_parse_i64(s, INT64_MIN, INT64_MAX, &i) == CO_OK) {
        char buf[32];
        int64_t back;
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        if (co_parse_i64(buf, INT64_MIN, INT64_MAX, &back) || back != i)
            broken("integer round trip", s);
    }
    if (co_parse_i64(s, 1, 500, &i) == CO_OK && (i < 1 || i > 500))
        broken("integer outside its range", s);
    if (co_parse_double(s, -180, 180, &d) == CO_OK && (!isfinite(d) || d < -180 || d > 180))
        broken("double outside its range", s);
    if (co_parse_double(s, -1e15, 1e15, &d) == CO_OK && !isfinite(d))
        broken("non-finite double", s);
}

static void texts(const char *s)
{
    char mask[CO_PHONE_MAX], fixed[512];
    if (strlen(s) < CO_PHONE_MAX) {
        co_phone_mask(s, mask);
        if (strlen(mask) >= CO_PHONE_MAX)
            broken("masked phone too long", s);
    }
    (void)co_level_of_code(s);
    (void)co_case_number_valid(s);
    (void)co_apikey_name_valid(s);
    (void)co_apikey_valid(s);
    long chars = co_open311_utf8_chars(s);
    snprintf(fixed, sizeof fixed, "%s", s);
    co_open311_utf8_fix(fixed);
    if (co_open311_utf8_chars(fixed) < 0)
        broken("co_open311_utf8_fix left invalid UTF-8", s);
    if (chars >= 0 && strlen(s) < sizeof fixed && strcmp(fixed, s) != 0)
        broken("co_open311_utf8_fix changed valid UTF-8", s);
    char item[64];
    (void)co_open311_item_name(s, item, sizeof item);
}

void fz_values(const char *s)
{
    times(s);
    limits(s);
    enums(s);
    numbers(s);
    texts(s);
}
