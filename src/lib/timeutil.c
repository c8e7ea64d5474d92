/* timeutil.c — time helpers (see timeutil.h). Civil-date arithmetic after
 * the well-known days-from-civil algorithm (era/yoe/doy/doe). */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t co_time_now(void)
{
    return (int64_t)time(NULL);
}

int64_t co_time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double co_time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t co_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void co_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

void co_time_format(int64_t t, char out[CO_TIME_ISO_MAX])
{
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sec = local - days * 86400;
    int y, m, d;
    co_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* never parsed back (co_time_parse refuses it) */
        snprintf(out, CO_TIME_ISO_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", y, m, d,
                 (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
        return;
    }
    /* by hand: this runs for every time field of every case served */
    static const char tail[] = "+08:00";
    int v[6] = {y, m, d, (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60)};
    char *o = out;
    *o++ = (char)('0' + y / 1000);
    *o++ = (char)('0' + y / 100 % 10);
    for (int i = 0; i < 6; i++) {
        int x = i ? v[i] : y % 100;
        if (i)
            *o++ = "--T::"[i - 1];
        *o++ = (char)('0' + x / 10);
        *o++ = (char)('0' + x % 10);
    }
    memcpy(o, tail, sizeof tail);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

static co_err parse_offset(const char *p, int *off_sec)
{
    if (*p == '\0') {
        *off_sec = CO_TZ_SHANGHAI_SEC;
        return CO_OK;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *off_sec = 0;
        return CO_OK;
    }
    int sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
    if (!sign)
        return CO_EINVAL;
    p++;
    int hh, mm = 0;
    if (digits(&p, 2, &hh))
        return CO_EINVAL;
    if (*p == ':')
        p++;
    if (*p && digits(&p, 2, &mm))
        return CO_EINVAL;
    if (*p || hh > 23 || mm > 59)
        return CO_EINVAL;
    *off_sec = sign * (hh * 3600 + mm * 60);
    return CO_OK;
}

co_err co_time_parse(const char *s, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (!s || strlen(s) > 40)
        return CO_EINVAL;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return CO_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return CO_EINVAL;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return CO_EINVAL;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se))
                return CO_EINVAL;
            if (*p == '.' || *p == ',') {
                p++;
                if (*p < '0' || *p > '9')
                    return CO_EINVAL;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (h > 24 || mi > 59 || se > 60 || (h == 24 && (mi || se)))
            return CO_EINVAL;
    }
    int off;
    if (parse_offset(p, &off))
        return CO_EINVAL;
    int64_t days = co_days_from_civil(y, mo, d);
    int64_t t = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - off;
    /* co_time_format writes the Asia/Shanghai date with four year digits:
     * refuse what it could not write back (9999-12-31T23:00-01:00 is 10000) */
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    if (local < co_days_from_civil(0, 1, 1) * 86400 ||
        local >= co_days_from_civil(10000, 1, 1) * 86400)
        return CO_EINVAL;
    *out = t;
    return CO_OK;
}
