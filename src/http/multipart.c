/* multipart.c — multipart/form-data parsing (see multipart.h). */
#include "http/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const unsigned char *find(const unsigned char *hay, size_t hlen, const char *needle,
                                 size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (hay[i] == (unsigned char)needle[0] && !memcmp(hay + i, needle, nlen))
            return hay + i;
    return NULL;
}

static co_err get_boundary(const char *ct, char *out, size_t len)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return CO_EINVAL;
    const char *b = strstr(ct, "boundary=");
    if (!b)
        return CO_EINVAL;
    b += 9;
    size_t n;
    if (*b == '"') {
        b++;
        n = strcspn(b, "\"");
    } else {
        n = strcspn(b, "; \t");
    }
    if (n == 0 || n > 70 || n + 3 > len)
        return CO_EINVAL;
    snprintf(out, len, "--%.*s", (int)n, b);
    return CO_OK;
}

/* Copies the value of key="..." from a header line into out. */
static void header_param(const char *line, size_t llen, const char *key, char *out, size_t len)
{
    char pat[32];
    snprintf(pat, sizeof pat, "%s=\"", key);
    const unsigned char *start = (const unsigned char *)line, *p = start;
    /* a whole parameter name only: name=" must not match inside filename=" */
    while ((p = find(p, llen - (size_t)(p - start), pat, strlen(pat))) && p > start &&
           p[-1] != ' ' && p[-1] != ';' && p[-1] != '\t')
        p++;
    if (!p)
        return;
    p += strlen(pat);
    const unsigned char *end = memchr(p, '"', llen - (size_t)(p - (const unsigned char *)line));
    if (!end)
        return;
    snprintf(out, len, "%.*s", (int)(end - p), (const char *)p);
}

static co_err parse_headers(const unsigned char *h, size_t hlen, co_part *part)
{
    const unsigned char *p = h, *end = h + hlen;
    while (p < end) {
        const unsigned char *eol = find(p, (size_t)(end - p), "\r\n", 2);
        size_t llen = eol ? (size_t)(eol - p) : (size_t)(end - p);
        const char *line = (const char *)p;
        if (llen > 20 && !strncasecmp(line, "Content-Disposition:", 20)) {
            header_param(line, llen, "name", part->name, sizeof part->name);
            header_param(line, llen, "filename", part->filename, sizeof part->filename);
        } else if (llen > 13 && !strncasecmp(line, "Content-Type:", 13)) {
            const char *v = line + 13;
            while (*v == ' ')
                v++;
            snprintf(part->type, sizeof part->type, "%.*s", (int)(llen - (size_t)(v - line)), v);
        }
        p += llen + 2;
    }
    return part->name[0] ? CO_OK : CO_EINVAL;
}

co_err co_multipart_parse(const char *content_type, const unsigned char *body, size_t len,
                          co_part *parts, size_t *nparts)
{
    char boundary[80];
    *nparts = 0;
    if (get_boundary(content_type, boundary, sizeof boundary))
        return CO_EINVAL;
    size_t blen = strlen(boundary);
    const unsigned char *p = find(body, len, boundary, blen), *end = body + len;
    if (!p)
        return CO_EINVAL;
    for (;;) {
        p += blen;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return *nparts ? CO_OK : CO_EINVAL; /* closing boundary */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return CO_EINVAL;
        p += 2;
        const unsigned char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend)
            return CO_EINVAL;
        if (*nparts >= CO_MULTIPART_MAX)
            return CO_ETOOBIG;
        co_part *part = &parts[*nparts];
        memset(part, 0, sizeof *part);
        if (parse_headers(p, (size_t)(hend - p), part))
            return CO_EINVAL;
        const unsigned char *data = hend + 4;
        char delim[84];
        snprintf(delim, sizeof delim, "\r\n%s", boundary);
        const unsigned char *next = find(data, (size_t)(end - data), delim, blen + 2);
        if (!next)
            return CO_EINVAL;
        part->data = data;
        part->len = (size_t)(next - data);
        (*nparts)++;
        p = next + 2;
    }
}
