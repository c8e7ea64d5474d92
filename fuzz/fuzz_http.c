/* fuzz_http.c — libFuzzer target: whole HTTP requests through the
 * application, as the server hands them over (co_app_handle): path
 * decoding, routing (404/405/Allow), authentication by bearer token or
 * cookie, roles, CSRF, query strings of every GET, JSON and multipart
 * bodies, Open311 forms, deferred replies through the writer. The input is
 * a request text (fz.h); replies are checked by fz_check_reply. */
#include <stddef.h>
#include <stdint.h>

#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    fz_app_request(data, size);
    return 0;
}
