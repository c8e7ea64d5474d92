/* calendar.c — the co_calendar object: working hours and day overrides.
 * co_calendar_new copies the generated built-in table (static strings, not
 * owned) into the override vector and the chunk index; co_calendar_set_day
 * adds, replaces or removes one override and keeps both in step. Admin names
 * are copied and owned by their override. Reads (is_workday, day_override,
 * days) never write, so any number of threads may read one calendar. Time
 * arithmetic lives in calendar_time.c, text parsing in calendar_parse.c. */
#include <string.h>

#include "calendar/calendar_int.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* Pointer to the index slot of a date, or NULL outside the indexed range. */
static const uint8_t *index_slot(const co_calendar *cal, int64_t days)
{
    if (days < 0 || (days >> CHUNK_BITS) >= N_CHUNKS)
        return NULL;
    const uint8_t *c = cal->chunk[days >> CHUNK_BITS];
    return c ? &c[days & (CHUNK_DAYS - 1)] : NULL;
}

static void index_set(co_calendar *cal, int64_t days, uint8_t kind)
{
    uint8_t **c = &cal->chunk[days >> CHUNK_BITS];
    if (!*c)
        *c = co_xcalloc(CHUNK_DAYS, 1);
    (*c)[days & (CHUNK_DAYS - 1)] = kind;
}

co_calendar_day_kind co_calendar_day_override(const co_calendar *cal, int64_t days)
{
    const uint8_t *slot = index_slot(cal, days);
    return slot ? (co_calendar_day_kind)*slot : CO_CALENDAR_DAY_NONE;
}

int co_calendar_is_workday(const co_calendar *cal, int64_t days)
{
    co_calendar_day_kind k = co_calendar_day_override(cal, days);
    if (k != CO_CALENDAR_DAY_NONE)
        return k == CO_CALENDAR_DAY_WORKDAY;
    int64_t dow = floor_mod(days + 4, 7);  /* 1970-01-01 was a Thursday; 0 = Sunday */
    return dow != 0 && dow != 6;
}

/* First index in cal->ov whose date is >= days. */
static size_t lower_bound(const co_calendar *cal, int64_t days)
{
    size_t lo = 0, hi = cal->n_ov;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->ov[mid].days < days)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void override_clear(override *o)
{
    CO_FREE(o->owned);
}

/* Inserts or replaces the override at o->days; takes ownership of o->owned. */
static void override_put(co_calendar *cal, const override *o)
{
    size_t i = lower_bound(cal, o->days);
    if (i < cal->n_ov && cal->ov[i].days == o->days) {
        override_clear(&cal->ov[i]);
    } else {
        cal->ov = co_xgrow(cal->ov, &cal->cap_ov, cal->n_ov + 1, sizeof *cal->ov);
        memmove(&cal->ov[i + 1], &cal->ov[i], (cal->n_ov - i) * sizeof *cal->ov);
        cal->n_ov++;
    }
    cal->ov[i] = *o;
    index_set(cal, o->days, o->kind);
}

static void override_remove(co_calendar *cal, int64_t days)
{
    size_t i = lower_bound(cal, days);
    if (i < cal->n_ov && cal->ov[i].days == days) {
        override_clear(&cal->ov[i]);
        memmove(&cal->ov[i], &cal->ov[i + 1], (cal->n_ov - i - 1) * sizeof *cal->ov);
        cal->n_ov--;
    }
    if (index_slot(cal, days))
        index_set(cal, days, CO_CALENDAR_DAY_NONE);
}

static void set_hours_unchecked(co_calendar *cal, const co_calendar_hours *h)
{
    cal->hours = *h;
    cal->day_secs = 0;
    for (size_t i = 0; i < h->n; i++) {
        cal->span_secs[i][0] = (int64_t)h->span[i].start_min * 60;
        cal->span_secs[i][1] = (int64_t)h->span[i].end_min * 60;
        cal->day_secs += cal->span_secs[i][1] - cal->span_secs[i][0];
    }
}

co_calendar *co_calendar_new(void)
{
    co_calendar *cal = co_xcalloc(1, sizeof *cal);
    const co_calendar_hours def = {2, {{8 * 60 + 30, 12 * 60}, {14 * 60 + 30, 18 * 60}}};
    set_hours_unchecked(cal, &def);
    for (size_t i = 0; i < co_calendar_builtin_count; i++) {
        const co_calendar_builtin_day *b = &co_calendar_builtin_days[i];
        override o = {b->days, b->kind, b->name_zh, b->name_en, NULL};
        override_put(cal, &o);
    }
    return cal;
}

void co_calendar_free(co_calendar *cal)
{
    if (!cal)
        return;
    for (size_t i = 0; i < cal->n_ov; i++)
        override_clear(&cal->ov[i]);
    co_free(cal->ov);
    for (size_t i = 0; i < N_CHUNKS; i++)
        co_free(cal->chunk[i]);
    co_free(cal);
}

co_err co_calendar_set_hours(co_calendar *cal, const co_calendar_hours *h)
{
    co_err rc = co_calendar_hours_check(h);
    if (rc == CO_OK)
        set_hours_unchecked(cal, h);
    return rc;
}

void co_calendar_get_hours(const co_calendar *cal, co_calendar_hours *out)
{
    *out = cal->hours;
}

int64_t co_calendar_day_seconds(const co_calendar *cal)
{
    return cal->day_secs;
}

static int year_of(int64_t days)
{
    int y, m, d;
    co_civil_from_days(days, &y, &m, &d);
    return y;
}

co_err co_calendar_set_day(co_calendar *cal, int64_t days, co_calendar_day_kind kind,
                           const char *name)
{
    if (days < 0 || days > INT64_C(1) << 30)
        return CO_EINVAL;
    int y = year_of(days);
    if (y < CO_CALENDAR_YEAR_MIN || y > CO_CALENDAR_YEAR_MAX)
        return CO_EINVAL;
    if (kind == CO_CALENDAR_DAY_NONE) {
        override_remove(cal, days);
        return CO_OK;
    }
    if (kind != CO_CALENDAR_DAY_HOLIDAY && kind != CO_CALENDAR_DAY_WORKDAY)
        return CO_EINVAL;
    if (name && strlen(name) >= CO_CALENDAR_NAME_MAX)
        return CO_ETOOBIG;
    override o = {days, (uint8_t)kind, NULL, "", co_xstrdup(name ? name : "")};
    o.name_zh = o.owned;
    override_put(cal, &o);
    return CO_OK;
}

/* Copies ov[first, first+n) into one block: the array, then the strings. */
static co_calendar_day *days_block(const co_calendar *cal, size_t first, size_t n)
{
    size_t bytes = n * sizeof(co_calendar_day);
    for (size_t i = first; i < first + n; i++)
        bytes += strlen(cal->ov[i].name_zh) + strlen(cal->ov[i].name_en) + 2;
    co_calendar_day *out = co_xmalloc(bytes);
    char *p = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        const override *o = &cal->ov[first + i];
        size_t lz = strlen(o->name_zh) + 1, le = strlen(o->name_en) + 1;
        out[i].days = o->days;
        out[i].kind = (co_calendar_day_kind)o->kind;
        out[i].name = memcpy(p, o->name_zh, lz);
        out[i].name_en = memcpy(p + lz, o->name_en, le);
        p += lz + le;
    }
    return out;
}

co_err co_calendar_days(const co_calendar *cal, int year, co_calendar_day **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (year < CO_CALENDAR_YEAR_MIN || year > CO_CALENDAR_YEAR_MAX)
        return CO_EINVAL;
    size_t first = lower_bound(cal, co_days_from_civil(year, 1, 1));
    size_t end = lower_bound(cal, co_days_from_civil(year + 1, 1, 1));
    if (end > first) {
        *out = days_block(cal, first, end - first);
        *n = end - first;
    }
    return CO_OK;
}
