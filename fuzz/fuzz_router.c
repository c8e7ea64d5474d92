/* fuzz_router.c — libFuzzer target: route matching and query strings.
 * The input is a request text (fz.h) whose first byte picks the session:
 * none, or a role (bits 0-2) signed in by bearer token or by cookie (bit 3,
 * so CSRF applies). For every pattern of THE route table (routes.c) the
 * path is matched, and the parameters must stay inside the request's
 * buffer, be non-empty and hold no '/'. Then co_router_dispatch runs over
 * the same table with stub handlers (404, 405 with Allow, 401, 403, CSRF),
 * and must reply exactly once with a JSON error. Finally every query
 * parameter cityops reads goes through co_req_query and all value parsers
 * (fz_values.c), as do the route parameters. */
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "fz.h"
#include "fz_values.h"
#include "http/router.h"
#include "http/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
    "state", "category", "area", "dept", "channel", "overdue", "from", "to", "q", "phone",
    "before", "limit", "inbox", "year", "version", "type", "level", "within", "lon", "lat",
    "crs", "bbox", "service_code", "status", "start_date", "end_date", "page", "page_size",
    "service_request_id", "jurisdiction_id", "api_key", "extensions", "group", "by", "days",
    "updated_after", "updated_before", "address", "text", "top", "format", "granularity",
};

static void stub(co_req *r)
{
    co_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static co_route table[256];
static co_router router;

static void init_table(void)
{
    if (router.routes)
        return;
    for (size_t i = 0; i < co_api_router.nroutes && i < 256; i++) {
        table[i] = co_api_router.routes[i];
        table[i].handler = stub;
    }
    router.routes = table;
    router.nroutes = co_api_router.nroutes < 256 ? co_api_router.nroutes : 256;
    fz_quiet();
}

static co_method method_of(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return CO_GET;
    case EVHTTP_REQ_POST: return CO_POST;
    case EVHTTP_REQ_PUT: return CO_PUT;
    case EVHTTP_REQ_PATCH: return CO_PATCH;
    case EVHTTP_REQ_DELETE: return CO_DELETE;
    case EVHTTP_REQ_HEAD: return CO_HEAD;
    default: return CO_OPTIONS;
    }
}

static void check_params(const co_req *r)
{
    if (r->nparams < 0 || r->nparams > CO_REQ_MAX_PARAMS)
        abort();
    for (int i = 0; i < r->nparams; i++) {
        const char *p = r->params[i];
        if (p < r->pbuf || p >= r->pbuf + sizeof r->pbuf ||
            memchr(p, '\0', sizeof r->pbuf - (size_t)(p - r->pbuf)) == NULL)
            abort(); /* outside the buffer or not terminated inside it */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 16384)
        return 0;
    init_table();
    fz_req q;
    if (fz_req_build(&q, (const char *)data + 1, size - 1))
        return 0;
    co_req *r = calloc(1, sizeof *r);
    co_session ses = {0};
    snprintf(ses.csrf, sizeof ses.csrf, "%064d", 7);
    snprintf(ses.username, sizeof ses.username, "fuzz");
    r->ev = q.ev;
    r->method = method_of(q.cmd);
    snprintf(r->path, sizeof r->path, "%s", q.path[0] ? q.path : "/");
    if (data[0] & 0x80) {
        ses.role = (co_role)((data[0] & 7) % CO_ROLE_COUNT);
        r->session = &ses;
        r->via_cookie = (data[0] & 8) != 0;
    }
    fz_req_begin(&q, NULL, 0);
    for (size_t i = 0; i < co_api_router.nroutes; i++) {
        const co_route *rt = &co_api_router.routes[i];
        if (!co_router_match(rt->pattern, r->path, r))
            continue;
        check_params(r);
        int segments = strchr(rt->pattern, '{') && !strchr(rt->pattern, '*');
        for (int k = 0; segments && k < r->nparams; k++)
            if (!r->params[k][0] || strchr(r->params[k], '/'))
                abort(); /* a {name} is one non-empty segment */
        for (int k = 0; k < r->nparams; k++)
            fz_values(r->params[k]);
    }
    co_router_dispatch(&router, r);
    if (fz_last.count != 1)
        abort();
    if (!strncmp(r->path, "/api/", 5) || fz_last.status >= 400)
        fz_check_reply(&q);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = co_req_query(r, keys[i]);
        if (v)
            fz_values(v);
    }
    fz_req_end();
    co_req_release(r);
    free(r);
    fz_req_free(&q);
    return 0;
}
