/* calendar_parse.c — text forms of working hours ("08:30-12:00,14:30-18:00")
 * and limits ("3wd", "4wh", "30wm"). Pure functions on caller memory: nothing
 * allocated, outputs untouched on failure. Parsing walks a cursor with
 * bounded digit counts; no atoi/sscanf. */
#include <stdio.h>
#include <string.h>

#include "calendar/calendar_int.h"
#include "lib/strparse.h"

co_err co_calendar_hours_check(const co_calendar_hours *h)
{
    if (!h || h->n == 0 || h->n > CO_CALENDAR_MAX_SPANS)
        return CO_EINVAL;
    int prev_end = 0;
    for (size_t i = 0; i < h->n; i++) {
        const co_calendar_span *s = &h->span[i];
        if (s->start_min < prev_end || s->start_min >= s->end_min || s->end_min > 24 * 60)
            return CO_EINVAL;
        prev_end = s->end_min;
    }
    return CO_OK;
}

/* Reads 1..max_n ASCII digits at *p into *out and advances *p. */
static int read_digits(const char **p, int min_n, int max_n, int *out)
{
    int v = 0, n = 0;
    while (n < max_n && (*p)[n] >= '0' && (*p)[n] <= '9') {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min_n)
        return -1;
    *p += n;
    *out = v;
    return 0;
}

/* "H:MM" or "HH:MM" -> minutes after midnight, 00:00..24:00. */
static int read_clock(const char **p, int *minutes)
{
    int h, m;
    if (read_digits(p, 1, 2, &h) || **p != ':')
        return -1;
    (*p)++;
    if (read_digits(p, 2, 2, &m) || m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

static int read_span(const char **p, co_calendar_span *s)
{
    if (read_clock(p, &s->start_min) || **p != '-')
        return -1;
    (*p)++;
    return read_clock(p, &s->end_min);
}

co_err co_calendar_hours_parse(const char *s, co_calendar_hours *out)
{
    if (!s || !*s)
        return CO_EINVAL;
    co_calendar_hours h = {0};
    const char *p = s;
    for (;;) {
        if (h.n == CO_CALENDAR_MAX_SPANS)
            return CO_ETOOBIG;
        if (read_span(&p, &h.span[h.n]))
            return CO_EINVAL;
        h.n++;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return CO_EINVAL;
    }
    co_err rc = co_calendar_hours_check(&h);
    if (rc == CO_OK)
        *out = h;
    return rc;
}

void co_calendar_hours_format(const co_calendar_hours *h, char *out, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < h->n && len < cap; i++) {
        const co_calendar_span *s = &h->span[i];
        int w = snprintf(out + len, cap - len, "%s%02d:%02d-%02d:%02d", i ? "," : "",
                         s->start_min / 60, s->start_min % 60, s->end_min / 60, s->end_min % 60);
        if (w < 0)
            return;
        len += (size_t)w;
    }
}

static const struct unit_def {
    const char *suffix;
    co_calendar_unit unit;
    int64_t max;
} units[] = {
    {"wd", CO_CALENDAR_WD, CO_CALENDAR_MAX_WD},
    {"wh", CO_CALENDAR_WH, CO_CALENDAR_MAX_WH},
    {"wm", CO_CALENDAR_WM, CO_CALENDAR_MAX_WM},
};

co_err co_calendar_limit_parse(const char *s, co_calendar_limit *out)
{
    if (!s)
        return CO_EINVAL;
    size_t len = strlen(s);
    if (len < 3 || len >= CO_CALENDAR_LIMIT_TEXT_MAX)
        return CO_EINVAL;
    char num[CO_CALENDAR_LIMIT_TEXT_MAX];
    memcpy(num, s, len - 2);
    num[len - 2] = '\0';
    if (!co_is_digits(num, (unsigned)(len - 2)))
        return CO_EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        int64_t v;
        if (strcmp(s + len - 2, units[i].suffix) != 0)
            continue;
        if (co_parse_i64(num, 1, units[i].max, &v) != CO_OK)
            return CO_EINVAL;
        out->value = v;
        out->unit = units[i].unit;
        return CO_OK;
    }
    return CO_EINVAL;
}

void co_calendar_limit_format(co_calendar_limit lim, char out[CO_CALENDAR_LIMIT_TEXT_MAX])
{
    const char *suffix = "?";
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].unit == lim.unit)
            suffix = units[i].suffix;
    snprintf(out, CO_CALENDAR_LIMIT_TEXT_MAX, "%lld%s", (long long)lim.value, suffix);
}
