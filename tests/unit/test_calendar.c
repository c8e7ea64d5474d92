/* test_calendar.c — unit tests of src/calendar/: deadlines in working time
 * over the real 2026 holidays (chinese-days), suspensions, worked time, the
 * traffic light, text parsing and admin overrides. Each test creates and
 * frees its own calendar; expected instants are written out as ISO 8601. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "calendar/calendar.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

static int64_t T(const char *iso)
{
    int64_t t = 0;
    assert_int_equal(co_time_parse(iso, &t), CO_OK);
    return t;
}

static int64_t D(int y, int m, int d)
{
    return co_days_from_civil(y, m, d);
}

static co_calendar_limit L(const char *s)
{
    co_calendar_limit lim = {0, CO_CALENDAR_WD};
    assert_int_equal(co_calendar_limit_parse(s, &lim), CO_OK);
    return lim;
}

/* Asserts due(from, limit) prints as want. */
static void check_due(const co_calendar *cal, const char *from, const char *limit,
                      const char *want)
{
    int64_t due = 0;
    char got[CO_TIME_ISO_MAX];
    assert_int_equal(co_calendar_due(cal, T(from), L(limit), &due), CO_OK);
    co_time_format(due, got);
    assert_string_equal(got, want);
}

static int64_t worked(const co_calendar *cal, const char *from, const char *to)
{
    int64_t secs = -1;
    assert_int_equal(co_calendar_worked(cal, T(from), T(to), &secs), CO_OK);
    return secs;
}

/* Every time co_time_parse accepts, co_time_format writes back and parses
 * again to the same instant: its Shanghai date stays in years 0000–9999
 * (found by fuzz_values: 9999-12-31T23:59:59+07:00 is year 10000 here). */
static void test_time_round_trip_limits(void **state)
{
    (void)state;
    static const char *const ok[] = {"9999-12-31T23:59:59+08:00", "0000-01-01T00:00:00+08:00",
                                     "2026-10-10T18:00:00+08:00", "2026-10-10T10:00:00Z"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t, back;
        char iso[CO_TIME_ISO_MAX];
        assert_int_equal(co_time_parse(ok[i], &t), CO_OK);
        co_time_format(t, iso);
        assert_int_equal(co_time_parse(iso, &back), CO_OK);
        assert_int_equal(back, t);
    }
    int64_t t;
    assert_int_not_equal(co_time_parse("9999-12-31T23:59:59+07:00", &t), CO_OK);
    assert_int_not_equal(co_time_parse("0000-01-01T00:00:00+09:00", &t), CO_OK);
}

static void test_builtin_table(void **state)
{
    (void)state;
    assert_true(co_calendar_builtin_count > 700);
    for (size_t i = 0; i < co_calendar_builtin_count; i++) {
        const co_calendar_builtin_day *b = &co_calendar_builtin_days[i];
        assert_int_equal(b->days, D(b->year, b->month, b->day));
        assert_true(b->year >= 2004 && b->year <= 2026);
        if (i > 0)
            assert_true(b->days > co_calendar_builtin_days[i - 1].days);
    }
}

static void test_national_day_2026(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    check_due(cal, "2026-09-30T17:00:00+08:00", "3wd", "2026-10-10T18:00:00+08:00");
    check_due(cal, "2026-09-30T23:59:59+08:00", "1wd", "2026-10-08T18:00:00+08:00");
    check_due(cal, "2026-10-03T10:00:00+08:00", "2wd", "2026-10-09T18:00:00+08:00");
    assert_false(co_calendar_is_workday(cal, D(2026, 10, 1)));
    assert_false(co_calendar_is_workday(cal, D(2026, 10, 7)));
    assert_true(co_calendar_is_workday(cal, D(2026, 10, 8)));
    assert_true(co_calendar_is_workday(cal, D(2026, 10, 10)));   /* make-up Saturday */
    assert_false(co_calendar_is_workday(cal, D(2026, 10, 11)));  /* plain Sunday */
    co_calendar_free(cal);
}

static void test_spring_festival_2026(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    /* Feb 14 (Sat) is a make-up day; Feb 15–23 off; Feb 24 (Tue) back. */
    check_due(cal, "2026-02-13T10:00:00+08:00", "1wd", "2026-02-14T18:00:00+08:00");
    check_due(cal, "2026-02-13T10:00:00+08:00", "2wd", "2026-02-24T18:00:00+08:00");
    check_due(cal, "2026-02-14T17:00:00+08:00", "2wh", "2026-02-24T09:30:00+08:00");
    for (int d = 15; d <= 23; d++)
        assert_false(co_calendar_is_workday(cal, D(2026, 2, d)));
    assert_int_equal(co_calendar_day_override(cal, D(2026, 2, 17)), CO_CALENDAR_DAY_HOLIDAY);
    assert_int_equal(co_calendar_day_override(cal, D(2026, 2, 28)), CO_CALENDAR_DAY_WORKDAY);
    co_calendar_free(cal);
}

static void test_weekend(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    assert_false(co_calendar_is_workday(cal, D(2026, 3, 7)));  /* Sat */
    assert_false(co_calendar_is_workday(cal, D(2026, 3, 8)));  /* Sun */
    assert_true(co_calendar_is_workday(cal, D(2026, 3, 6)));   /* Fri */
    check_due(cal, "2026-03-06T17:30:00+08:00", "1wh", "2026-03-09T09:00:00+08:00");
    check_due(cal, "2026-03-06T10:00:00+08:00", "1wd", "2026-03-09T18:00:00+08:00");
    check_due(cal, "2026-03-07T10:00:00+08:00", "1wd", "2026-03-09T18:00:00+08:00");
    assert_int_equal(worked(cal, "2026-03-06T18:00:00+08:00", "2026-03-09T08:30:00+08:00"), 0);
    co_calendar_free(cal);
}

static void test_makeup_day(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    /* Sun 2026-09-20 is a make-up working day for National Day. */
    assert_true(co_calendar_is_workday(cal, D(2026, 9, 20)));
    assert_false(co_calendar_is_workday(cal, D(2026, 9, 19)));
    check_due(cal, "2026-09-19T10:00:00+08:00", "1wh", "2026-09-20T09:30:00+08:00");
    check_due(cal, "2026-09-19T10:00:00+08:00", "1wd", "2026-09-20T18:00:00+08:00");
    co_calendar_free(cal);
}

static void test_wh_lunch_night_holiday(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    check_due(cal, "2026-09-30T11:00:00+08:00", "4wh", "2026-09-30T17:30:00+08:00");
    /* 4.5 h left on Sep 30, then 3.5 h ends exactly at Oct 8 noon, not 14:30. */
    check_due(cal, "2026-09-30T11:00:00+08:00", "8wh", "2026-10-08T12:00:00+08:00");
    check_due(cal, "2026-09-30T11:00:00+08:00", "481wm", "2026-10-08T14:31:00+08:00");
    /* Across the night: 17:00 + 2 h = next morning 09:30. */
    check_due(cal, "2026-03-10T17:00:00+08:00", "2wh", "2026-03-11T09:30:00+08:00");
    /* 14 wh = exactly two working days. */
    check_due(cal, "2026-03-09T08:30:00+08:00", "14wh", "2026-03-10T18:00:00+08:00");
    co_calendar_free(cal);
}

static void test_from_outside_hours(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    check_due(cal, "2026-03-10T20:00:00+08:00", "30wm", "2026-03-11T09:00:00+08:00");
    check_due(cal, "2026-03-10T12:30:00+08:00", "1wh", "2026-03-10T15:30:00+08:00");
    check_due(cal, "2026-03-10T06:00:00+08:00", "1wh", "2026-03-10T09:30:00+08:00");
    check_due(cal, "2026-03-10T12:00:00Z", "1wh", "2026-03-11T09:30:00+08:00");
    check_due(cal, "2026-10-01T09:00:00+08:00", "1wm", "2026-10-08T08:31:00+08:00");
    co_calendar_free(cal);
}

static void test_custom_hours(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    co_calendar_hours h;
    assert_int_equal(co_calendar_hours_parse("9:00-17:00", &h), CO_OK);
    assert_int_equal(co_calendar_set_hours(cal, &h), CO_OK);
    assert_int_equal(co_calendar_day_seconds(cal), 8 * 3600);
    check_due(cal, "2026-03-10T16:00:00+08:00", "2wh", "2026-03-11T10:00:00+08:00");
    check_due(cal, "2026-09-30T17:00:00+08:00", "3wd", "2026-10-10T17:00:00+08:00");
    char text[CO_CALENDAR_HOURS_TEXT_MAX];
    co_calendar_hours_format(&h, text, sizeof text);
    assert_string_equal(text, "09:00-17:00");
    co_calendar_free(cal);
}

static void test_worked(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    assert_int_equal(worked(cal, "2026-09-30T17:00:00+08:00", "2026-10-10T18:00:00+08:00"),
                     22 * 3600);
    assert_int_equal(worked(cal, "2026-03-10T12:10:00+08:00", "2026-03-10T14:20:00+08:00"), 0);
    assert_int_equal(worked(cal, "2026-03-10T11:00:00+08:00", "2026-03-10T15:00:00+08:00"),
                     90 * 60);
    assert_int_equal(worked(cal, "2026-03-10T15:00:00+08:00", "2026-03-10T11:00:00+08:00"), 0);
    /* A full week, Mon 00:00 to next Mon 00:00: five days of 7 h. */
    assert_int_equal(worked(cal, "2026-03-09T00:00:00+08:00", "2026-03-16T00:00:00+08:00"),
                     35 * 3600);
    int64_t secs = 0;
    assert_int_equal(co_calendar_limit_seconds(cal, T("2026-09-30T17:00:00+08:00"), L("3wd"),
                                               &secs), CO_OK);
    assert_int_equal(secs, 22 * 3600);
    assert_int_equal(co_calendar_limit_seconds(cal, 0, L("4wh"), &secs), CO_OK);
    assert_int_equal(secs, 4 * 3600);
    co_calendar_free(cal);
}

static void check_due_susp(const co_calendar *cal, const char *limit,
                           const co_calendar_interval *s, size_t n, const char *want)
{
    int64_t due = 0;
    char got[CO_TIME_ISO_MAX];
    assert_int_equal(co_calendar_due_suspended(cal, T("2026-03-09T09:00:00+08:00"), L(limit),
                                               s, n, &due), CO_OK);
    co_time_format(due, got);
    assert_string_equal(got, want);
}

static void test_suspension(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    /* Filed Mon 2026-03-09 09:00; 1wd is due Tue 18:00 without suspensions. */
    check_due_susp(cal, "1wd", NULL, 0, "2026-03-10T18:00:00+08:00");
    co_calendar_interval morning = {T("2026-03-10T08:30:00+08:00"), T("2026-03-10T12:00:00+08:00")};
    check_due_susp(cal, "1wd", &morning, 1, "2026-03-11T12:00:00+08:00");
    co_calendar_interval night = {T("2026-03-09T18:00:00+08:00"), T("2026-03-10T08:30:00+08:00")};
    check_due_susp(cal, "1wd", &night, 1, "2026-03-10T18:00:00+08:00");
    co_calendar_interval late = {T("2026-03-11T09:00:00+08:00"), T("2026-03-12T09:00:00+08:00")};
    check_due_susp(cal, "1wd", &late, 1, "2026-03-10T18:00:00+08:00");
    /* wh: 2 h from 09:00 would be 11:00; 30 min suspended inside moves it to 11:30. */
    co_calendar_interval two[] = {
        {T("2026-03-09T10:00:00+08:00"), T("2026-03-09T10:20:00+08:00")},
        {T("2026-03-09T10:10:00+08:00"), T("2026-03-09T10:30:00+08:00")},
    };
    check_due_susp(cal, "2wh", two, 2, "2026-03-09T11:30:00+08:00");
    co_calendar_interval bad = {T("2026-03-09T11:00:00+08:00"), T("2026-03-09T10:00:00+08:00")};
    int64_t due = 0;
    assert_int_equal(co_calendar_due_suspended(cal, T("2026-03-09T09:00:00+08:00"), L("2wh"),
                                               &bad, 1, &due), CO_EINVAL);
    co_calendar_free(cal);
}

static void test_worked_suspended(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    /* Mon 09:00 to Wed 09:00 = 6.5 + 7 + 0.5 h; suspended Tue 10:00–15:00
     * (plus an overlapping 11:00–11:30) takes out 2 h + 0.5 h. */
    co_calendar_interval s[] = {
        {T("2026-03-10T11:00:00+08:00"), T("2026-03-10T11:30:00+08:00")},
        {T("2026-03-10T10:00:00+08:00"), T("2026-03-10T15:00:00+08:00")},
    };
    int64_t secs = 0;
    assert_int_equal(co_calendar_worked_suspended(cal, T("2026-03-09T09:00:00+08:00"),
                                                  T("2026-03-11T09:00:00+08:00"), s, 2, &secs),
                     CO_OK);
    assert_int_equal(secs, 11 * 3600 + 1800);
    /* A suspension sticking out before `from` only counts from `from`. */
    co_calendar_interval early = {T("2026-03-06T09:00:00+08:00"), T("2026-03-09T10:00:00+08:00")};
    assert_int_equal(co_calendar_worked_suspended(cal, T("2026-03-09T09:00:00+08:00"),
                                                  T("2026-03-09T12:00:00+08:00"), &early, 1,
                                                  &secs), CO_OK);
    assert_int_equal(secs, 2 * 3600);
    co_calendar_free(cal);
}

static void test_light(void **state)
{
    (void)state;
    assert_int_equal(co_calendar_light(799, 1000), CO_CALENDAR_GREEN);    /* 79.9 % */
    assert_int_equal(co_calendar_light(800, 1000), CO_CALENDAR_YELLOW);   /* 80 % */
    assert_int_equal(co_calendar_light(1000, 1000), CO_CALENDAR_YELLOW);  /* 100 % */
    assert_int_equal(co_calendar_light(1001, 1000), CO_CALENDAR_RED);     /* 100.1 % */
    assert_int_equal(co_calendar_light(0, 7), CO_CALENDAR_GREEN);
    assert_int_equal(co_calendar_light(5, 7), CO_CALENDAR_GREEN);         /* 71 % */
    assert_int_equal(co_calendar_light(6, 7), CO_CALENDAR_YELLOW);        /* 86 % */
    assert_int_equal(co_calendar_light(0, 0), CO_CALENDAR_RED);
    assert_int_equal(co_calendar_light(INT64_MAX - 1, INT64_MAX), CO_CALENDAR_YELLOW);
    assert_string_equal(co_calendar_color_name(CO_CALENDAR_YELLOW), "yellow");
}

static void test_limit_parse(void **state)
{
    (void)state;
    co_calendar_limit lim = {0, CO_CALENDAR_WD};
    assert_int_equal(co_calendar_limit_parse("3wd", &lim), CO_OK);
    assert_int_equal(lim.value, 3);
    assert_int_equal(lim.unit, CO_CALENDAR_WD);
    assert_int_equal(co_calendar_limit_parse("4wh", &lim), CO_OK);
    assert_int_equal(lim.unit, CO_CALENDAR_WH);
    assert_int_equal(co_calendar_limit_parse("30wm", &lim), CO_OK);
    assert_int_equal(lim.value, 30);
    assert_int_equal(lim.unit, CO_CALENDAR_WM);
    static const char *bad[] = {"", "3", "wd", "3wx", "-1wd", "+1wd", "0wd", "3 wd", " 3wd",
                                "3wdx", "3WD", "1.5wh", "99999wd", "99999999999999wh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co_calendar_limit keep = {42, CO_CALENDAR_WM};
        assert_int_equal(co_calendar_limit_parse(bad[i], &keep), CO_EINVAL);
        assert_int_equal(keep.value, 42);
    }
    assert_int_equal(co_calendar_limit_parse(NULL, &lim), CO_EINVAL);
    char text[CO_CALENDAR_LIMIT_TEXT_MAX];
    co_calendar_limit_format(lim, text);
    assert_string_equal(text, "30wm");
}

static void test_hours_parse(void **state)
{
    (void)state;
    co_calendar_hours h = {0};
    assert_int_equal(co_calendar_hours_parse(CO_CALENDAR_DEFAULT_HOURS, &h), CO_OK);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.span[0].start_min, 510);
    assert_int_equal(h.span[1].end_min, 1080);
    assert_int_equal(co_calendar_hours_parse("00:00-24:00", &h), CO_OK);
    assert_int_equal(h.span[0].end_min, 1440);
    static const char *bad[] = {"", "08:30", "08:30-", "08:30-12:00,", "12:00-08:30",
                                "08:30-08:30", "25:00-26:00", "08:60-09:00", "8:3-12:00",
                                "08:30-12:00,11:00-13:00", "14:00-18:00,08:00-12:00",
                                "08:30-12:00;14:30-18:00", " 08:30-12:00", "24:30-24:40"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co_calendar_hours keep = {1, {{1, 2}}};
        assert_int_equal(co_calendar_hours_parse(bad[i], &keep), CO_EINVAL);
        assert_int_equal(keep.n, 1);
    }
    assert_int_equal(co_calendar_hours_parse("01:00-02:00,03:00-04:00,05:00-06:00,"
                                             "07:00-08:00,09:00-10:00,11:00-12:00,"
                                             "13:00-14:00,15:00-16:00,17:00-18:00", &h),
                     CO_ETOOBIG);
    co_calendar *cal = co_calendar_new();
    co_calendar_hours overlap = {2, {{600, 700}, {650, 800}}};
    assert_int_equal(co_calendar_set_hours(cal, &overlap), CO_EINVAL);
    assert_int_equal(co_calendar_day_seconds(cal), 7 * 3600);
    co_calendar_free(cal);
}

static void test_set_day_later_year(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    /* 2027-10-01 is a Friday, 2027-09-26 a Sunday. */
    assert_true(co_calendar_is_workday(cal, D(2027, 10, 1)));
    assert_false(co_calendar_is_workday(cal, D(2027, 9, 26)));
    assert_int_equal(co_calendar_set_day(cal, D(2027, 10, 1), CO_CALENDAR_DAY_HOLIDAY, "国庆节"),
                     CO_OK);
    assert_int_equal(co_calendar_set_day(cal, D(2027, 9, 26), CO_CALENDAR_DAY_WORKDAY, "调休"),
                     CO_OK);
    assert_false(co_calendar_is_workday(cal, D(2027, 10, 1)));
    assert_true(co_calendar_is_workday(cal, D(2027, 9, 26)));
    check_due(cal, "2027-09-30T10:00:00+08:00", "1wd", "2027-10-04T18:00:00+08:00");
    check_due(cal, "2027-09-25T10:00:00+08:00", "1wd", "2027-09-26T18:00:00+08:00");

    co_calendar_day *days = NULL;
    size_t n = 0;
    assert_int_equal(co_calendar_set_day(cal, D(2027, 10, 1), CO_CALENDAR_DAY_HOLIDAY, "National"),
                     CO_OK);
    assert_int_equal(co_calendar_days(cal, 2027, &days, &n), CO_OK);
    assert_int_equal(n, 2);
    assert_int_equal(days[0].days, D(2027, 9, 26));
    assert_int_equal(days[0].kind, CO_CALENDAR_DAY_WORKDAY);
    assert_string_equal(days[0].name, "调休");
    assert_int_equal(days[1].days, D(2027, 10, 1));
    assert_string_equal(days[1].name, "National");
    assert_string_equal(days[1].name_en, "");
    co_free(days);

    assert_int_equal(co_calendar_set_day(cal, D(2027, 9, 26), CO_CALENDAR_DAY_NONE, NULL), CO_OK);
    assert_false(co_calendar_is_workday(cal, D(2027, 9, 26)));
    assert_int_equal(co_calendar_days(cal, 2027, &days, &n), CO_OK);
    assert_int_equal(n, 1);
    co_free(days);

    assert_int_equal(co_calendar_set_day(cal, D(2300, 1, 1), CO_CALENDAR_DAY_HOLIDAY, "x"),
                     CO_EINVAL);
    assert_int_equal(co_calendar_set_day(cal, D(2027, 1, 4), (co_calendar_day_kind)7, "x"),
                     CO_EINVAL);
    char long_name[CO_CALENDAR_NAME_MAX + 1];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(co_calendar_set_day(cal, D(2027, 1, 4), CO_CALENDAR_DAY_HOLIDAY, long_name),
                     CO_ETOOBIG);
    assert_true(co_calendar_is_workday(cal, D(2027, 1, 4)));
    co_calendar_free(cal);
}

static void test_days_2026(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    co_calendar_day *days = NULL;
    size_t n = 0, hol = 0, work = 0;
    assert_int_equal(co_calendar_days(cal, 2026, &days, &n), CO_OK);
    for (size_t i = 0; i < n; i++) {
        hol += days[i].kind == CO_CALENDAR_DAY_HOLIDAY;
        work += days[i].kind == CO_CALENDAR_DAY_WORKDAY;
    }
    assert_int_equal(hol, 33);
    assert_int_equal(work, 6);
    assert_int_equal(days[0].days, D(2026, 1, 1));
    assert_string_equal(days[0].name, "元旦");
    assert_string_equal(days[0].name_en, "New Year's Day");
    assert_int_equal(days[n - 1].days, D(2026, 10, 10));
    co_free(days);
    assert_int_equal(co_calendar_days(cal, 2030, &days, &n), CO_OK);
    assert_int_equal(n, 0);
    assert_null(days);
    co_calendar_free(cal);
}

static void test_bad_args(void **state)
{
    (void)state;
    co_calendar *cal = co_calendar_new();
    int64_t out = 123;
    co_calendar_limit zero = {0, CO_CALENDAR_WH};
    assert_int_equal(co_calendar_due(cal, 0, zero, &out), CO_EINVAL);
    assert_int_equal(co_calendar_due(cal, INT64_MAX, L("1wd"), &out), CO_EINVAL);
    assert_int_equal(co_calendar_worked(cal, INT64_MIN, 0, &out), CO_EINVAL);
    assert_int_equal(out, 123);
    /* Far past the built-in years the weekday rule still applies. */
    check_due(cal, "2199-12-31T10:00:00+08:00", "1wd", "2200-01-01T18:00:00+08:00");
    co_calendar_free(cal);
}

/* co_time_format writes its digits by hand: it must agree with the C
 * library's calendar for every second it can be given, and round-trip. */
static void test_time_format_matches_libc(void **state)
{
    (void)state;
    for (int64_t t = -62167248000LL; t < 253402300800LL; t += 9876543 + (t & 0xfff)) {
        char got[CO_TIME_ISO_MAX], want[96];
        co_time_format(t, got);
        time_t local = (time_t)(t + 8 * 3600);
        struct tm tm;
        assert_non_null(gmtime_r(&local, &tm));
        if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
            continue;
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
        if (tm.tm_year + 1900 < 1000) /* strftime does not pad the year */
            snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_string_equal(got, want);
        int64_t back = 0;
        assert_int_equal(co_time_parse(got, &back), CO_OK);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_round_trip_limits),
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_national_day_2026),
        cmocka_unit_test(test_spring_festival_2026),
        cmocka_unit_test(test_weekend),
        cmocka_unit_test(test_makeup_day),
        cmocka_unit_test(test_wh_lunch_night_holiday),
        cmocka_unit_test(test_from_outside_hours),
        cmocka_unit_test(test_custom_hours),
        cmocka_unit_test(test_worked),
        cmocka_unit_test(test_suspension),
        cmocka_unit_test(test_worked_suspended),
        cmocka_unit_test(test_light),
        cmocka_unit_test(test_limit_parse),
        cmocka_unit_test(test_hours_parse),
        cmocka_unit_test(test_set_day_later_year),
        cmocka_unit_test(test_days_2026),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_time_format_matches_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
