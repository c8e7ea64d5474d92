/* buf.h — growable byte buffers with a hard maximum set at init.
 * Appends past the maximum fail with CO_ETOOBIG and leave the buffer as it
 * was. The buffer owns its bytes; co_buf_take() hands them to the caller
 * (who frees them with co_free) and resets the buffer. Data is always
 * NUL-terminated so it can be used as a C string. */
#ifndef CO_BUF_H
#define CO_BUF_H
#include <stdarg.h>
#include <stddef.h>

#include "err.h"

typedef struct co_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} co_buf;

void co_buf_init(co_buf *b, size_t max);
void co_buf_free(co_buf *b);
void co_buf_reset(co_buf *b);
co_err co_buf_append(co_buf *b, const void *p, size_t n) CO_MUST_CHECK;
co_err co_buf_puts(co_buf *b, const char *s) CO_MUST_CHECK;
co_err co_buf_printf(co_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) CO_MUST_CHECK;
co_err co_buf_vprintf(co_buf *b, const char *fmt, va_list ap) CO_MUST_CHECK;
char *co_buf_take(co_buf *b);

#endif
