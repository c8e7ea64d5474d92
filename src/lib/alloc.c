/* alloc.c — allocation wrappers that abort on out-of-memory (see alloc.h). */
#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "cityops: out of memory allocating %zu bytes\n", n);
    abort();
}

void *co_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *co_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *co_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *co_xgrow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / sz)
            oom(SIZE_MAX);
        nc *= 2;
    }
    p = co_xrealloc(p, nc * sz);
    *cap = nc;
    return p;
}

char *co_xstrdup(const char *s)
{
    return co_xstrndup(s, strlen(s));
}

char *co_xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = co_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void *co_trymalloc(size_t n)
{
    return malloc(n ? n : 1);
}

void co_free(void *p)
{
    free(p);
}
