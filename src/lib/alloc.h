/* alloc.h — allocation wrappers.
 * co_x* abort the process with the size logged when memory runs out: callers
 * never check for NULL. co_try* return NULL and let the caller handle it.
 * Everything allocated here is released with co_free() (which is free()). */
#ifndef CO_ALLOC_H
#define CO_ALLOC_H
#include <stddef.h>

void *co_xmalloc(size_t n);
void *co_xcalloc(size_t count, size_t size);
void *co_xrealloc(void *p, size_t n);
/* Grows an array to hold at least need items of size sz; *cap is updated. */
void *co_xgrow(void *p, size_t *cap, size_t need, size_t sz);
char *co_xstrdup(const char *s);
char *co_xstrndup(const char *s, size_t n);
void *co_trymalloc(size_t n);
void co_free(void *p);

#define CO_FREE(p) do { co_free(p); (p) = NULL; } while (0)

#endif
