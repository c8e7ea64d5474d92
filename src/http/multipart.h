/* multipart.h — a small multipart/form-data parser (RFC 7578) over a body
 * already in memory. Parts are views into the body (nothing copied, nothing
 * to free); the body must outlive them. At most CO_MULTIPART_MAX parts. */
#ifndef CO_HTTP_MULTIPART_H
#define CO_HTTP_MULTIPART_H

#include <stddef.h>

#include "lib/err.h"

#define CO_MULTIPART_MAX 16

typedef struct co_part {
    char name[64];
    char filename[128];
    char type[64];
    const unsigned char *data;
    size_t len;
} co_part;

/* Parses body with the boundary taken from content_type. CO_EINVAL for a
 * malformed body or content type, CO_ETOOBIG for too many parts. */
co_err co_multipart_parse(const char *content_type, const unsigned char *body, size_t len,
                          co_part *parts, size_t *nparts) CO_MUST_CHECK;

#endif
