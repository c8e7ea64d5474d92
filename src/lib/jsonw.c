/* jsonw.c — JSON text straight into a co_buf (see jsonw.h). */
#include "lib/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t co_jsonw_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int co_jsonw_utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = co_jsonw_utf8_seq(p);
        if (!n)
            return 0;
        p += n;
    }
    return 1;
}

co_err co_jsonw_str(co_buf *b, const char *s)
{
    if (!s)
        s = "";
    if (!co_jsonw_utf8_ok(s))
        return CO_EINVAL;
    size_t start = b->len;
    co_err rc = co_buf_append(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; !rc; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (p > run)
            rc = co_buf_append(b, run, (size_t)(p - run));
        if (rc || !c)
            break;
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            snprintf(esc, sizeof esc, "\\u%04X", c);
            e = esc;
        }
        rc = co_buf_puts(b, e);
        run = p + 1;
    }
    if (!rc)
        rc = co_buf_append(b, "\"", 1);
    if (rc) { /* leave the buffer as it was */
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
}

co_err co_jsonw_key(co_buf *b, const char *key, int first)
{
    co_err rc = first ? CO_OK : co_buf_append(b, ",", 1);
    if (!rc)
        rc = co_buf_append(b, "\"", 1);
    if (!rc)
        rc = co_buf_puts(b, key);
    return rc ? rc : co_buf_append(b, "\":", 2);
}

co_err co_jsonw_int(co_buf *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return co_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

co_err co_jsonw_real(co_buf *b, double v)
{
    if (!isfinite(v))
        return co_buf_append(b, "null", 4);
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp - 3, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof tmp - 3)
        return CO_EINVAL;
    if (!strchr(tmp, '.') && !strchr(tmp, 'e')) {
        memcpy(tmp + n, ".0", 3);
        n += 2;
    }
    char *e = strchr(tmp, 'e'); /* "1e+20" → "1e20", "1e-05" → "1e-5" */
    if (e) {
        char *start = e + 1, *end;
        if (*start == '-')
            start++;
        end = start;
        if (*end == '+')
            end++;
        while (*end == '0' && end[1])
            end++;
        if (end != start) {
            memmove(start, end, strlen(end) + 1);
            n = (int)strlen(tmp);
        }
    }
    return co_buf_append(b, tmp, (size_t)n);
}
