/* fuzz_headers.c — libFuzzer target: what cityops reads from request
 * headers, through the whole application (fz.h): Authorization (Bearer),
 * Cookie (cityops_session=...), X-CSRF-Token, Content-Type (JSON, form,
 * multipart boundary), Host (Open311 discovery URLs), on logout, pages,
 * uploads and the endpoints below. The first input byte picks the request
 * line; the rest is the header block, an empty line and the body. */
#include <stdlib.h>
#include <string.h>

#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const lines[] = {
    "GET /api/v1/me HTTP/1.1\r\n",
    "POST /api/v1/logout HTTP/1.1\r\n",
    "POST /api/v1/cases HTTP/1.1\r\n",
    "POST /api/v1/media HTTP/1.1\r\n",
    "POST /api/v1/public/cases HTTP/1.1\r\n",
    "POST /api/v1/public/media HTTP/1.1\r\n",
    "POST /open311/v2/requests.json HTTP/1.1\r\n",
    "GET /open311/v2/discovery.json HTTP/1.1\r\n",
    "GET /open311/v2/discovery.xml HTTP/1.1\r\n",
    "POST /api/v1/login HTTP/1.1\r\n",
    "GET /api/v1/cases?limit=2 HTTP/1.1\r\n",
    "PUT /api/v1/calendar/days/2031-10-08 HTTP/1.1\r\n",
    "POST /api/v1/cases/2/actions/comment HTTP/1.1\r\n",
    "GET /api/v1/live HTTP/1.1\r\n",
    "GET / HTTP/1.1\r\n",
    "GET /static/app.js HTTP/1.1\r\n",
    "OPTIONS /open311/v2/requests.json HTTP/1.1\r\n",
    "POST /open311/v2/servicerequestupdates.json HTTP/1.1\r\n",
    "GET /api/v1/stats?by=district HTTP/1.1\r\n",
    "POST /api/v1/users/leader/revoke HTTP/1.1\r\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 32768)
        return 0;
    const char *line = lines[data[0] % (sizeof lines / sizeof lines[0])];
    size_t ll = strlen(line);
    uint8_t *req = malloc(ll + size - 1);
    if (!req)
        return 0;
    memcpy(req, line, ll);
    memcpy(req + ll, data + 1, size - 1);
    fz_app_request(req, ll + size - 1);
    free(req);
    return 0;
}
