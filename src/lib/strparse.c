/* strparse.c — bounded number parsing (see strparse.h). */
#include "strparse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

co_err co_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || strlen(s) > 24)
        return CO_EINVAL;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return CO_EINVAL;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return CO_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return CO_EINVAL;
    *out = v;
    return CO_OK;
}

co_err co_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s || strlen(s) > 64)
        return CO_EINVAL;
    for (const char *q = s; *q; q++) {
        char c = *q;
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return CO_EINVAL;
    }
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return CO_EINVAL;
    *out = v;
    return CO_OK;
}

int co_is_digits(const char *s, unsigned n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (unsigned i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}
