/* calendar.h — the working-time calendar behind every case deadline.
 * A co_calendar holds working hours (minute intervals per working day) and day
 * overrides: official holidays and make-up working days (调休), built in from
 * the chinese-days package for 2004–2026 and extendable by admins. Sat/Sun
 * are rest days unless overridden. All dates are Asia/Shanghai (fixed +08:00),
 * counted as days since 1970-01-01; instants are Unix seconds.
 * Ownership: co_calendar_new() returns a calendar the caller frees with
 * co_calendar_free(). Lists returned by co_calendar_days() are one block the
 * caller frees with co_free(). Threads: every const function may run
 * concurrently; set_hours/set_day need exclusive access (configure, then
 * share, or swap calendars under the caller's lock).
 * Rules and conventions: docs/internals/calendar.md. */
#ifndef CO_CALENDAR_H
#define CO_CALENDAR_H
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

typedef struct co_calendar co_calendar;

/* ---- day overrides ---------------------------------------------------- */

typedef enum co_calendar_day_kind {
    CO_CALENDAR_DAY_NONE = 0,    /* no override: Mon–Fri work, Sat/Sun rest */
    CO_CALENDAR_DAY_HOLIDAY = 1, /* official holiday: no work */
    CO_CALENDAR_DAY_WORKDAY = 2  /* make-up working day (调休): work */
} co_calendar_day_kind;

/* One row of the generated built-in table (build/gen/holidays_data.c). */
typedef struct co_calendar_builtin_day {
    int32_t days;             /* days since 1970-01-01 */
    int16_t year;
    int8_t month, day;
    uint8_t kind;             /* co_calendar_day_kind */
    const char *name_zh, *name_en;
} co_calendar_builtin_day;

extern const co_calendar_builtin_day co_calendar_builtin_days[];
extern const size_t co_calendar_builtin_count;

/* Overrides may be set for civil years in [YEAR_MIN, YEAR_MAX]; outside it
 * every day follows the weekday rule. */
#define CO_CALENDAR_YEAR_MIN 1970
#define CO_CALENDAR_YEAR_MAX 2199
#define CO_CALENDAR_NAME_MAX 128  /* bytes of an override name, with NUL */

/* One listed override. name is the admin's name or the Chinese name;
 * name_en is "" for admin-set days. */
typedef struct co_calendar_day {
    int64_t days;
    co_calendar_day_kind kind;
    const char *name;
    const char *name_en;
} co_calendar_day;

/* ---- working hours ---------------------------------------------------- */

#define CO_CALENDAR_MAX_SPANS 8

typedef struct co_calendar_span {
    int start_min, end_min;   /* [start, end) minutes after local midnight */
} co_calendar_span;

/* Sorted, non-overlapping, 0 <= start < end <= 1440, 1..MAX_SPANS spans. */
typedef struct co_calendar_hours {
    size_t n;
    co_calendar_span span[CO_CALENDAR_MAX_SPANS];
} co_calendar_hours;

#define CO_CALENDAR_DEFAULT_HOURS "08:30-12:00,14:30-18:00"
#define CO_CALENDAR_HOURS_TEXT_MAX (CO_CALENDAR_MAX_SPANS * 12 + 1)

/* Parses "08:30-12:00,14:30-18:00" (H:MM or HH:MM, "24:00" as an end).
 * CO_EINVAL for malformed, unordered or overlapping spans, CO_ETOOBIG for
 * more than MAX_SPANS; *out is untouched on failure. */
co_err co_calendar_hours_parse(const char *s, co_calendar_hours *out) CO_MUST_CHECK;
/* Writes the canonical text of h into out (cap >= HOURS_TEXT_MAX fits all). */
void co_calendar_hours_format(const co_calendar_hours *h, char *out, size_t cap);

/* ---- limits ----------------------------------------------------------- */

typedef enum co_calendar_unit {
    CO_CALENDAR_WD = 0,  /* working days  ("3wd") */
    CO_CALENDAR_WH,      /* working hours ("4wh") */
    CO_CALENDAR_WM       /* working minutes ("30wm") */
} co_calendar_unit;

typedef struct co_calendar_limit {
    int64_t value;       /* >= 1 */
    co_calendar_unit unit;
} co_calendar_limit;

#define CO_CALENDAR_MAX_WD 3660
#define CO_CALENDAR_MAX_WH (CO_CALENDAR_MAX_WD * 24)
#define CO_CALENDAR_MAX_WM (CO_CALENDAR_MAX_WH * 60)
#define CO_CALENDAR_LIMIT_TEXT_MAX 16

/* Parses "<digits>wd|wh|wm" (lower case, value >= 1 and <= the unit's MAX).
 * CO_EINVAL otherwise; *out is untouched on failure. */
co_err co_calendar_limit_parse(const char *s, co_calendar_limit *out) CO_MUST_CHECK;
void co_calendar_limit_format(co_calendar_limit lim, char out[CO_CALENDAR_LIMIT_TEXT_MAX]);

/* ---- the calendar ----------------------------------------------------- */

/* New calendar with the built-in days and the default hours. Never NULL
 * (aborts on OOM). Free with co_calendar_free (NULL is fine). */
co_calendar *co_calendar_new(void);
void co_calendar_free(co_calendar *cal);

co_err co_calendar_set_hours(co_calendar *cal, const co_calendar_hours *h) CO_MUST_CHECK;
void co_calendar_get_hours(const co_calendar *cal, co_calendar_hours *out);
/* Working seconds in one full working day. */
int64_t co_calendar_day_seconds(const co_calendar *cal);

/* Adds or replaces the override of one date (DAY_NONE removes it). name may
 * be NULL; it is copied. CO_EINVAL for a date outside the year range or a
 * bad kind, CO_ETOOBIG for a name of NAME_MAX bytes or more. */
co_err co_calendar_set_day(co_calendar *cal, int64_t days, co_calendar_day_kind kind,
                           const char *name) CO_MUST_CHECK;
/* The override of one date (DAY_NONE when there is none). O(1). */
co_calendar_day_kind co_calendar_day_override(const co_calendar *cal, int64_t days);
/* 1 when the date is a working day, else 0. O(1). */
int co_calendar_is_workday(const co_calendar *cal, int64_t days);
/* Overrides of one civil year, by date. *out is one block (strings inside)
 * the caller frees with co_free; NULL when *n is 0. */
co_err co_calendar_days(const co_calendar *cal, int year, co_calendar_day **out,
                        size_t *n) CO_MUST_CHECK;

/* Local (Asia/Shanghai) date of an instant, in days since 1970-01-01. */
int64_t co_calendar_local_day(int64_t t);

/* ---- deadlines and working time --------------------------------------- */

/* [start, end) instants; a suspension (挂账) stops the clock. */
typedef struct co_calendar_interval {
    int64_t start, end;
} co_calendar_interval;

/* Instants must lie within ±CO_CALENDAR_T_ABS_MAX (about year 1900..5100). */
#define CO_CALENDAR_T_ABS_MAX INT64_C(100000000000)

/* Deadline of a limit started at from.
 * wh/wm: from plus that much working time; when from is outside working time
 * the clock starts at the next working instant. A deadline that exactly uses
 * up a span ends at the span's end (12:00, not 14:30).
 * wd: the end of the last working span of the Nth working day strictly after
 * the local date of from.
 * CO_EINVAL for a bad limit or instant. */
co_err co_calendar_due(const co_calendar *cal, int64_t from, co_calendar_limit lim,
                       int64_t *due) CO_MUST_CHECK;
/* Like co_calendar_due, but working time inside the suspensions (any order,
 * may overlap) does not count, so the deadline moves later by the working
 * time spent suspended before it is reached. A suspension that starts after
 * the plain clock has run out does not move it. wd limits are first turned
 * into working seconds (co_calendar_limit_seconds). CO_EINVAL for an
 * interval with end < start. */
co_err co_calendar_due_suspended(const co_calendar *cal, int64_t from, co_calendar_limit lim,
                                 const co_calendar_interval *susp, size_t n_susp,
                                 int64_t *due) CO_MUST_CHECK;

/* Working seconds in [from, to); 0 when to <= from. */
co_err co_calendar_worked(const co_calendar *cal, int64_t from, int64_t to,
                          int64_t *secs) CO_MUST_CHECK;
/* Working seconds in [from, to) outside every suspension. */
co_err co_calendar_worked_suspended(const co_calendar *cal, int64_t from, int64_t to,
                                    const co_calendar_interval *susp, size_t n_susp,
                                    int64_t *secs) CO_MUST_CHECK;

/* A limit's length in working seconds measured from `from`: wh/wm are fixed;
 * wd is worked(from, due(from)). */
co_err co_calendar_limit_seconds(const co_calendar *cal, int64_t from, co_calendar_limit lim,
                                 int64_t *secs) CO_MUST_CHECK;

/* ---- traffic light ---------------------------------------------------- */

typedef enum co_calendar_color {
    CO_CALENDAR_GREEN = 0,  /* used < 80 % of the limit */
    CO_CALENDAR_YELLOW,     /* 80 % <= used <= 100 % */
    CO_CALENDAR_RED         /* used > 100 %; also any limit <= 0 */
} co_calendar_color;

/* Exact integer comparison: no rounding at the 80 % and 100 % boundaries. */
co_calendar_color co_calendar_light(int64_t used_secs, int64_t limit_secs);
const char *co_calendar_color_name(co_calendar_color c);  /* "green", ... */

#endif
