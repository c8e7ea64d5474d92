/* calendar_time.c — deadlines and working time on a co_calendar.
 * Instants are split into (local date, seconds after local midnight) at the
 * fixed +08:00 offset, then walked date by date; each date costs one O(1)
 * is_workday lookup plus at most MAX_SPANS span checks, so a deadline is
 * O(calendar days it spans). Everything here only reads the calendar. The
 * suspension functions copy and merge the caller's intervals into a
 * temporary array they free before returning; the caller keeps its own. */
#include <stdlib.h>
#include <string.h>

#include "calendar/calendar_int.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

static int instant_ok(int64_t t)
{
    return t >= -CO_CALENDAR_T_ABS_MAX && t <= CO_CALENDAR_T_ABS_MAX;
}

int64_t co_calendar_local_day(int64_t t)
{
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    return local >= 0 ? local / DAY_SECS : -((-local + DAY_SECS - 1) / DAY_SECS);
}

static void split(int64_t t, int64_t *day, int64_t *sec)
{
    *day = co_calendar_local_day(t);
    *sec = t + CO_TZ_SHANGHAI_SEC - *day * DAY_SECS;
}

static int64_t instant_of(int64_t day, int64_t sec)
{
    return day * DAY_SECS + sec - CO_TZ_SHANGHAI_SEC;
}

/* Spends *need working seconds of one working date from second `sec` on.
 * Returns 1 and sets *due when the need runs out on this date, else 0. */
static int spend_day(const co_calendar *cal, int64_t day, int64_t sec, int64_t *need,
                     int64_t *due)
{
    for (size_t i = 0; i < cal->hours.n; i++) {
        int64_t s = cal->span_secs[i][0], e = cal->span_secs[i][1];
        if (sec >= e)
            continue;
        int64_t start = sec > s ? sec : s;
        if (*need <= e - start) {
            *due = instant_of(day, start + *need);
            return 1;
        }
        *need -= e - start;
    }
    return 0;
}

/* *due = t plus need working seconds (need >= 1). */
static co_err add_working(const co_calendar *cal, int64_t t, int64_t need, int64_t *due)
{
    int64_t day, sec;
    split(t, &day, &sec);
    for (int i = 0; i < MAX_SCAN_DAYS; i++, day++, sec = 0) {
        if (!co_calendar_is_workday(cal, day))
            continue;
        if (sec == 0 && need > cal->day_secs) {
            need -= cal->day_secs;
            continue;
        }
        if (spend_day(cal, day, sec, &need, due))
            return CO_OK;
    }
    return CO_ETOOBIG;
}

/* End of the last span of the Nth working date strictly after from's date. */
static co_err due_workdays(const co_calendar *cal, int64_t from, int64_t n, int64_t *due)
{
    int64_t day = co_calendar_local_day(from);
    for (int i = 0; i < MAX_SCAN_DAYS; i++) {
        day++;
        if (co_calendar_is_workday(cal, day) && --n == 0) {
            *due = instant_of(day, cal->span_secs[cal->hours.n - 1][1]);
            return CO_OK;
        }
    }
    return CO_ETOOBIG;
}

static int limit_ok(co_calendar_limit lim)
{
    static const int64_t max[] = {CO_CALENDAR_MAX_WD, CO_CALENDAR_MAX_WH, CO_CALENDAR_MAX_WM};
    return (unsigned)lim.unit <= CO_CALENDAR_WM && lim.value >= 1 && lim.value <= max[lim.unit];
}

co_err co_calendar_due(const co_calendar *cal, int64_t from, co_calendar_limit lim, int64_t *due)
{
    if (!instant_ok(from) || !limit_ok(lim))
        return CO_EINVAL;
    if (lim.unit == CO_CALENDAR_WD)
        return due_workdays(cal, from, lim.value, due);
    return add_working(cal, from, lim.value * (lim.unit == CO_CALENDAR_WH ? 3600 : 60), due);
}

/* Working seconds of one date between seconds lo and hi after midnight. */
static int64_t worked_in_day(const co_calendar *cal, int64_t lo, int64_t hi)
{
    int64_t sum = 0;
    for (size_t i = 0; i < cal->hours.n; i++) {
        int64_t s = cal->span_secs[i][0] > lo ? cal->span_secs[i][0] : lo;
        int64_t e = cal->span_secs[i][1] < hi ? cal->span_secs[i][1] : hi;
        if (e > s)
            sum += e - s;
    }
    return sum;
}

/* worked() without argument checks; from and to are valid instants. */
static int64_t worked_raw(const co_calendar *cal, int64_t from, int64_t to)
{
    if (to <= from)
        return 0;
    int64_t d0, s0, d1, s1, sum = 0;
    split(from, &d0, &s0);
    split(to, &d1, &s1);
    for (int64_t day = d0; day <= d1; day++) {
        if (!co_calendar_is_workday(cal, day))
            continue;
        int64_t lo = day == d0 ? s0 : 0, hi = day == d1 ? s1 : DAY_SECS;
        sum += (lo == 0 && hi == DAY_SECS) ? cal->day_secs : worked_in_day(cal, lo, hi);
    }
    return sum;
}

co_err co_calendar_worked(const co_calendar *cal, int64_t from, int64_t to, int64_t *secs)
{
    if (!instant_ok(from) || !instant_ok(to))
        return CO_EINVAL;
    *secs = worked_raw(cal, from, to);
    return CO_OK;
}

co_err co_calendar_limit_seconds(const co_calendar *cal, int64_t from, co_calendar_limit lim,
                                 int64_t *secs)
{
    int64_t due;
    if (!instant_ok(from) || !limit_ok(lim))
        return CO_EINVAL;
    if (lim.unit != CO_CALENDAR_WD) {
        *secs = lim.value * (lim.unit == CO_CALENDAR_WH ? 3600 : 60);
        return CO_OK;
    }
    co_err rc = due_workdays(cal, from, lim.value, &due);
    if (rc == CO_OK)
        *secs = worked_raw(cal, from, due);
    return rc;
}

static int by_start(const void *a, const void *b)
{
    const co_calendar_interval *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Copies, validates, sorts and merges intervals into *out (caller frees with
 * co_free; NULL when *n_out is 0). Empty intervals are dropped. */
static co_err merge_intervals(const co_calendar_interval *in, size_t n,
                              co_calendar_interval **out, size_t *n_out)
{
    co_calendar_interval *v = NULL;
    size_t m = 0;
    co_err rc = CO_OK;
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        goto out;
    v = co_xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        if (!instant_ok(in[i].start) || !instant_ok(in[i].end) || in[i].end < in[i].start) {
            rc = CO_EINVAL;
            goto out;
        }
        if (in[i].end > in[i].start)
            v[m++] = in[i];
    }
    qsort(v, m, sizeof *v, by_start);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k > 0 && v[i].start <= v[k - 1].end) {
            if (v[i].end > v[k - 1].end)
                v[k - 1].end = v[i].end;
        } else {
            v[k++] = v[i];
        }
    }
    *out = v;
    *n_out = k;
    v = NULL;
out:
    co_free(v);
    return rc;
}

co_err co_calendar_worked_suspended(const co_calendar *cal, int64_t from, int64_t to,
                                    const co_calendar_interval *susp, size_t n_susp,
                                    int64_t *secs)
{
    co_calendar_interval *m = NULL;
    size_t n = 0;
    co_err rc = CO_EINVAL;
    if (!instant_ok(from) || !instant_ok(to))
        goto out;
    rc = merge_intervals(susp, n_susp, &m, &n);
    if (rc != CO_OK)
        goto out;
    int64_t sum = worked_raw(cal, from, to);
    for (size_t i = 0; i < n; i++) {
        int64_t s = m[i].start > from ? m[i].start : from;
        int64_t e = m[i].end < to ? m[i].end : to;
        sum -= worked_raw(cal, s, e);
    }
    *secs = sum;
out:
    co_free(m);
    return rc;
}

/* Walks need working seconds from `from`, skipping the merged suspensions. */
static co_err walk_suspended(const co_calendar *cal, int64_t from, int64_t need,
                             const co_calendar_interval *m, size_t n, int64_t *due)
{
    int64_t t = from;
    for (size_t i = 0; i < n; i++) {
        if (m[i].end <= t)
            continue;
        int64_t avail = worked_raw(cal, t, m[i].start);
        if (need <= avail)
            return add_working(cal, t, need, due);
        need -= avail;
        t = m[i].end;
    }
    return add_working(cal, t, need, due);
}

co_err co_calendar_due_suspended(const co_calendar *cal, int64_t from, co_calendar_limit lim,
                                 const co_calendar_interval *susp, size_t n_susp,
                                 int64_t *due)
{
    co_calendar_interval *m = NULL;
    size_t n = 0;
    int64_t need;
    co_err rc = co_calendar_limit_seconds(cal, from, lim, &need);
    if (rc != CO_OK)
        goto out;
    rc = merge_intervals(susp, n_susp, &m, &n);
    if (rc != CO_OK)
        goto out;
    if (n == 0 && lim.unit == CO_CALENDAR_WD)
        rc = due_workdays(cal, from, lim.value, due);
    else
        rc = walk_suspended(cal, from, need, m, n, due);
out:
    co_free(m);
    return rc;
}

co_calendar_color co_calendar_light(int64_t used_secs, int64_t limit_secs)
{
    if (limit_secs <= 0)
        return CO_CALENDAR_RED;
    if (used_secs > limit_secs)
        return CO_CALENDAR_RED;
    /* used < 0.8 * limit  <=>  used < ceil(limit - limit / 5)
     *                      <=>  used < limit - floor(limit / 5), exactly. */
    if (used_secs < limit_secs - limit_secs / 5)
        return CO_CALENDAR_GREEN;
    return CO_CALENDAR_YELLOW;
}

const char *co_calendar_color_name(co_calendar_color c)
{
    switch (c) {
    case CO_CALENDAR_GREEN: return "green";
    case CO_CALENDAR_YELLOW: return "yellow";
    case CO_CALENDAR_RED: return "red";
    }
    return "unknown";
}
