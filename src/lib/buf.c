/* buf.c — bounded growable buffers (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"

void co_buf_init(co_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void co_buf_free(co_buf *b)
{
    co_free(b->data);
    co_buf_init(b, b->max);
}

void co_buf_reset(co_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static co_err ensure(co_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return CO_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return CO_OK;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < need)
        nc *= 2;
    if (nc > b->max + 1)
        nc = b->max + 1;
    b->data = co_xrealloc(b->data, nc);
    b->cap = nc;
    return CO_OK;
}

co_err co_buf_append(co_buf *b, const void *p, size_t n)
{
    co_err rc = ensure(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return CO_OK;
}

co_err co_buf_puts(co_buf *b, const char *s)
{
    return co_buf_append(b, s, strlen(s));
}

co_err co_buf_vprintf(co_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return CO_EINVAL;
    co_err rc = ensure(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CO_OK;
}

co_err co_buf_printf(co_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    co_err rc = co_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *co_buf_take(co_buf *b)
{
    char *d = b->data;
    if (!d)
        d = co_xstrdup("");
    co_buf_init(b, b->max);
    return d;
}
