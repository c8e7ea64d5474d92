/* test_router.c — unit tests of src/http/router.c: pattern matching with
 * {params} and a trailing *, and dispatch through a fake route table: 404,
 * 405 with the Allow list, HEAD on GET routes, first match wins, 401 for
 * anonymous callers, 403 for the wrong role, CSRF for cookie sessions on
 * unsafe methods; plus a consistency check of the real table (routes.c):
 * every route is reachable and none is shadowed by an earlier one.
 *
 * Requests are standalone evhttp requests (no connection). The test defines
 * evhttp_send_reply itself, so the replies the router sends are captured
 * here instead of going to a socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes.h"
#include "domain/role.h"
#include "http/router.h"
#include "http/session.h"
#include "lib/log.h"

/* --------------------------------------------------- captured replies */

static struct {
    int calls;
    int code;
    char body[2048];
    char allow[256];
    int has_allow;
} g_reply;

/* Replaces libevent's: records the reply the router sent. */
void evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                       struct evbuffer *databuf)
{
    (void)reason;
    g_reply.calls++;
    g_reply.code = code;
    size_t n = databuf ? evbuffer_get_length(databuf) : 0;
    if (n >= sizeof g_reply.body)
        n = sizeof g_reply.body - 1;
    if (n)
        evbuffer_copyout(databuf, g_reply.body, n);
    g_reply.body[n] = '\0';
    const char *allow = evhttp_find_header(evhttp_request_get_output_headers(req), "Allow");
    g_reply.has_allow = allow != NULL;
    snprintf(g_reply.allow, sizeof g_reply.allow, "%s", allow ? allow : "");
}

/* ------------------------------------------------------ fake handlers */

static struct {
    const char *name;
    int nparams;
    char p0[128], p1[128];
} g_hit;

static void record(co_req *r, const char *name)
{
    g_hit.name = name;
    g_hit.nparams = r->nparams;
    snprintf(g_hit.p0, sizeof g_hit.p0, "%s", co_req_param(r, 0) ? co_req_param(r, 0) : "");
    snprintf(g_hit.p1, sizeof g_hit.p1, "%s", co_req_param(r, 1) ? co_req_param(r, 1) : "");
    co_reply_json(r, 200, json_pack("{s:s}", "handler", name));
}

static void h_list(co_req *r) { record(r, "list"); }
static void h_create(co_req *r) { record(r, "create"); }
static void h_get(co_req *r) { record(r, "get"); }
static void h_delete(co_req *r) { record(r, "delete"); }
static void h_action(co_req *r) { record(r, "action"); }
static void h_multi(co_req *r) { record(r, "multi"); }
static void h_static(co_req *r) { record(r, "static"); }
static void h_special(co_req *r) { record(r, "special"); }
static void h_login(co_req *r) { record(r, "login"); }

#define ALL CO_ROLES_ALL
#define STAFF (CO_ROLES_ALL & ~CO_R(LEADER))

static const co_route fake_routes[] = {
    {CO_GET, "/api/v1/things", h_list, 0},
    {CO_POST, "/api/v1/things", h_create, STAFF},
    {CO_GET, "/api/v1/things/{id}", h_get, ALL},
    {CO_DELETE, "/api/v1/things/{id}", h_delete, CO_R(ADMIN)},
    {CO_POST, "/api/v1/things/{id}/actions/{action}", h_action, CO_R(OPERATOR) | CO_R(HANDLER)},
    {CO_GET | CO_PUT, "/api/v1/multi", h_multi, 0},
    {CO_GET, "/static/*", h_static, 0},
    {CO_GET, "/api/v1/things/special", h_special, 0}, /* shadowed by {id} above */
    {CO_POST, "/api/v1/login", h_login, 0},
};
static const co_router fake = {fake_routes, sizeof fake_routes / sizeof fake_routes[0]};

/* --------------------------------------------------------- the driver */

typedef struct call {
    co_method method;
    const char *path;
    int role;           /* -1 = anonymous */
    int via_cookie;
    const char *csrf;   /* X-CSRF-Token header or NULL */
} call;

static co_session g_session;

static void dispatch(const co_router *rt, call c)
{
    memset(&g_reply, 0, sizeof g_reply);
    memset(&g_hit, 0, sizeof g_hit);
    struct evhttp_request *ev = evhttp_request_new(NULL, NULL);
    assert_non_null(ev);
    if (c.csrf)
        evhttp_add_header(evhttp_request_get_input_headers(ev), "X-CSRF-Token", c.csrf);
    co_req *r = calloc(1, sizeof *r);
    r->ev = ev;
    r->method = c.method;
    snprintf(r->path, sizeof r->path, "%s", c.path);
    if (c.role >= 0) {
        memset(&g_session, 0, sizeof g_session);
        g_session.role = (co_role)c.role;
        snprintf(g_session.username, sizeof g_session.username, "u%d", c.role);
        snprintf(g_session.csrf, sizeof g_session.csrf, "good-csrf-token");
        r->session = &g_session;
        r->via_cookie = c.via_cookie;
    }
    co_router_dispatch(rt, r);
    assert_int_equal(g_reply.calls, 1); /* exactly one reply, always */
    assert_int_equal(r->replied, 1);
    assert_int_equal(r->status, g_reply.code);
    co_req_release(r);
    free(r);
    evhttp_request_free(ev);
}

static void assert_error_code(const char *code)
{
    json_t *j = json_loads(g_reply.body, 0, NULL);
    if (!j)
        fail_msg("reply is not JSON: %s", g_reply.body);
    json_t *e = json_object_get(j, "error");
    assert_true(json_is_object(e));
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    assert_int_equal(json_object_size(j), 1);
    json_decref(j);
}

static int setup(void **state)
{
    (void)state;
    co_log_set_level(CO_LOG_WARN);
    return 0;
}

/* ------------------------------------------------------------- match */

static int match(const char *pattern, const char *path, co_req *r)
{
    memset(r, 0, sizeof *r);
    return co_router_match(pattern, path, r);
}

static void test_match_literals_and_params(void **state)
{
    (void)state;
    co_req r;
    assert_true(match("/api/v1/health", "/api/v1/health", &r));
    assert_int_equal(r.nparams, 0);
    assert_false(match("/api/v1/health", "/api/v1/health/", &r));
    assert_false(match("/api/v1/health", "/api/v1/healt", &r));
    assert_false(match("/api/v1/health", "/api/v1/healthz", &r));
    assert_false(match("/api/v1/health", "/API/v1/health", &r));
    assert_false(match("/api/v1/health", "", &r));
    assert_true(match("/", "/", &r));
    assert_false(match("/", "/x", &r));

    assert_true(match("/api/v1/cases/{id}", "/api/v1/cases/2026112500001", &r));
    assert_int_equal(r.nparams, 1);
    assert_string_equal(co_req_param(&r, 0), "2026112500001");
    assert_null(co_req_param(&r, 1));
    assert_null(co_req_param(&r, -1));
    assert_false(match("/api/v1/cases/{id}", "/api/v1/cases/", &r));   /* empty segment */
    assert_false(match("/api/v1/cases/{id}", "/api/v1/cases", &r));
    assert_false(match("/api/v1/cases/{id}", "/api/v1/cases/1/", &r));
    assert_false(match("/api/v1/cases/{id}", "/api/v1/cases/1/events", &r));

    assert_true(match("/api/v1/cases/{id}/actions/{action}", "/api/v1/cases/17/actions/file", &r));
    assert_int_equal(r.nparams, 2);
    assert_string_equal(co_req_param(&r, 0), "17");
    assert_string_equal(co_req_param(&r, 1), "file");
    assert_false(match("/api/v1/cases/{id}/actions/{action}", "/api/v1/cases/17/actions/", &r));
    assert_false(match("/api/v1/cases/{id}/actions/{action}", "/api/v1/cases//actions/file", &r));
    /* a placeholder takes the rest of its segment: after a literal prefix it
     * works ("discovery.{fmt}"), before a literal suffix it never matches */
    assert_true(match("/open311/v2/discovery.{fmt}", "/open311/v2/discovery.json", &r));
    assert_string_equal(co_req_param(&r, 0), "json");
    assert_false(match("/open311/v2/discovery.{fmt}", "/open311/v2/discovery.", &r));
    assert_false(match("/v/{a}.json", "/v/x.json", &r));
    /* an unclosed placeholder never matches */
    assert_false(match("/api/{id", "/api/5", &r));
    /* UTF-8 and odd bytes in a parameter are taken as they are */
    assert_true(match("/a/{x}", "/a/新城区%", &r));
    assert_string_equal(co_req_param(&r, 0), "新城区%");
}

static void test_match_wildcard_and_limits(void **state)
{
    (void)state;
    co_req r;
    assert_true(match("/static/*", "/static/js/app.mjs", &r));
    assert_int_equal(r.nparams, 1);
    assert_string_equal(co_req_param(&r, 0), "js/app.mjs");
    assert_true(match("/static/*", "/static/", &r));
    assert_string_equal(co_req_param(&r, 0), "");
    assert_true(match("/static/*", "/static/../../etc/passwd", &r)); /* the handler refuses it */
    assert_string_equal(co_req_param(&r, 0), "../../etc/passwd");
    assert_false(match("/static/*", "/static", &r));
    assert_false(match("/static/*", "/statics/x", &r));
    /* at most CO_REQ_MAX_PARAMS parameters */
    assert_true(match("/{a}/{b}/{c}/{d}", "/1/2/3/4", &r));
    assert_int_equal(r.nparams, 4);
    assert_string_equal(co_req_param(&r, 3), "4");
    assert_false(match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", &r));
    /* a parameter as long as the path buffer allows */
    char path[CO_REQ_PATH_MAX];
    path[0] = '/';
    memset(path + 1, 'x', sizeof path - 2);
    path[sizeof path - 1] = '\0';
    assert_true(match("/{a}", path, &r));
    assert_int_equal(strlen(co_req_param(&r, 0)), CO_REQ_PATH_MAX - 2);
    /* a matching attempt starts from no parameters */
    assert_false(match("/x/{a}/y", "/x/1/z", &r));
    r.nparams = 3;
    assert_true(co_router_match("/health", "/health", &r));
    assert_int_equal(r.nparams, 0);
}

/* ---------------------------------------------------------- dispatch */

static void test_not_found(void **state)
{
    (void)state;
    dispatch(&fake, (call){CO_GET, "/api/v1/nothing", -1, 0, NULL});
    assert_int_equal(g_reply.code, 404);
    assert_error_code("not_found");
    assert_false(g_reply.has_allow);
    dispatch(&fake, (call){CO_POST, "/api/v1/things/1/actions", CO_ROLE_ADMIN, 0, NULL});
    assert_int_equal(g_reply.code, 404);
    dispatch(&fake, (call){CO_GET, "/", -1, 0, NULL});
    assert_int_equal(g_reply.code, 404);
    assert_null(g_hit.name);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    dispatch(&fake, (call){CO_PATCH, "/api/v1/things", CO_ROLE_ADMIN, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_error_code("method_not_allowed");
    assert_string_equal(g_reply.allow, "GET, POST");
    dispatch(&fake, (call){CO_POST, "/api/v1/things/7", CO_ROLE_ADMIN, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "GET, DELETE");
    dispatch(&fake, (call){CO_DELETE, "/api/v1/multi", -1, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "GET, PUT");
    dispatch(&fake, (call){CO_OPTIONS, "/api/v1/login", -1, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "POST");
    /* the method is checked before the caller: anonymous still gets 405 */
    dispatch(&fake, (call){CO_PUT, "/api/v1/things/7", -1, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_null(g_hit.name);
}

static void test_head_and_first_match(void **state)
{
    (void)state;
    dispatch(&fake, (call){CO_HEAD, "/api/v1/things", -1, 0, NULL});
    assert_int_equal(g_reply.code, 200);
    assert_string_equal(g_hit.name, "list");
    dispatch(&fake, (call){CO_HEAD, "/static/app.css", -1, 0, NULL});
    assert_string_equal(g_hit.name, "static");
    assert_string_equal(g_hit.p0, "app.css");
    /* HEAD is not a way around a POST-only route */
    dispatch(&fake, (call){CO_HEAD, "/api/v1/login", -1, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    /* first match wins: {id} comes before the literal "special" */
    dispatch(&fake, (call){CO_GET, "/api/v1/things/special", CO_ROLE_LEADER, 0, NULL});
    assert_string_equal(g_hit.name, "get");
    assert_string_equal(g_hit.p0, "special");
    /* params reach the handler */
    dispatch(&fake, (call){CO_POST, "/api/v1/things/42/actions/accept", CO_ROLE_HANDLER, 0, NULL});
    assert_string_equal(g_hit.name, "action");
    assert_int_equal(g_hit.nparams, 2);
    assert_string_equal(g_hit.p0, "42");
    assert_string_equal(g_hit.p1, "accept");
}

static void test_authentication_and_roles(void **state)
{
    (void)state;
    /* public: anyone */
    dispatch(&fake, (call){CO_GET, "/api/v1/things", -1, 0, NULL});
    assert_int_equal(g_reply.code, 200);
    /* anonymous on a protected route: 401 */
    dispatch(&fake, (call){CO_GET, "/api/v1/things/1", -1, 0, NULL});
    assert_int_equal(g_reply.code, 401);
    assert_error_code("unauthenticated");
    assert_null(g_hit.name);
    dispatch(&fake, (call){CO_POST, "/api/v1/things", -1, 0, NULL});
    assert_int_equal(g_reply.code, 401);
    /* every role against each protected route */
    for (int role = 0; role < CO_ROLE_COUNT; role++) {
        dispatch(&fake, (call){CO_POST, "/api/v1/things", role, 0, NULL});
        assert_int_equal(g_reply.code, role == CO_ROLE_LEADER ? 403 : 200);
        dispatch(&fake, (call){CO_GET, "/api/v1/things/1", role, 0, NULL});
        assert_int_equal(g_reply.code, 200);
        dispatch(&fake, (call){CO_DELETE, "/api/v1/things/1", role, 0, NULL});
        assert_int_equal(g_reply.code, role == CO_ROLE_ADMIN ? 200 : 403);
        dispatch(&fake, (call){CO_POST, "/api/v1/things/1/actions/x", role, 0, NULL});
        int ok = role == CO_ROLE_OPERATOR || role == CO_ROLE_HANDLER;
        assert_int_equal(g_reply.code, ok ? 200 : 403);
        if (!ok) {
            assert_error_code("forbidden");
            assert_null(g_hit.name);
        }
    }
}

static void test_csrf_for_cookie_sessions(void **state)
{
    (void)state;
    /* bearer tokens need no CSRF header */
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 0, NULL});
    assert_int_equal(g_reply.code, 200);
    /* cookie sessions: unsafe methods need the session's token */
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 1, NULL});
    assert_int_equal(g_reply.code, 403);
    assert_error_code("csrf");
    assert_null(g_hit.name);
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 1, "bad-csrf-token"});
    assert_int_equal(g_reply.code, 403);
    assert_error_code("csrf");
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 1, ""});
    assert_int_equal(g_reply.code, 403);
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 1, "good-csrf-tokenX"});
    assert_int_equal(g_reply.code, 403);
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_OPERATOR, 1, "good-csrf-token"});
    assert_int_equal(g_reply.code, 200);
    assert_string_equal(g_hit.name, "create");
    dispatch(&fake, (call){CO_DELETE, "/api/v1/things/3", CO_ROLE_ADMIN, 1, NULL});
    assert_int_equal(g_reply.code, 403);
    dispatch(&fake, (call){CO_PUT, "/api/v1/multi", CO_ROLE_ADMIN, 1, NULL});
    assert_int_equal(g_reply.code, 200); /* a public route: no session is used */
    /* safe methods need none */
    dispatch(&fake, (call){CO_GET, "/api/v1/things/3", CO_ROLE_LEADER, 1, NULL});
    assert_int_equal(g_reply.code, 200);
    dispatch(&fake, (call){CO_HEAD, "/api/v1/things/3", CO_ROLE_LEADER, 1, NULL});
    assert_int_equal(g_reply.code, 200);
    /* a role check comes before CSRF */
    dispatch(&fake, (call){CO_POST, "/api/v1/things", CO_ROLE_LEADER, 1, NULL});
    assert_error_code("forbidden");
}

/* ------------------------------------------------- the real route table */

/* A concrete path for a pattern: {x} → "x1", * → "a/b.js". */
static void sample_path(const char *pattern, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = pattern; *p && o + 8 < len;) {
        if (*p == '{') {
            o += (size_t)snprintf(out + o, len - o, "x1");
            p = strchr(p, '}') + 1;
        } else if (*p == '*') {
            o += (size_t)snprintf(out + o, len - o, "a/b.js");
            p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void test_real_table_consistent(void **state)
{
    (void)state;
    const co_router *rt = &co_api_router;
    assert_true(rt->nroutes >= 30);
    for (size_t i = 0; i < rt->nroutes; i++) {
        const co_route *a = &rt->routes[i];
        assert_non_null(a->handler);
        assert_true(a->methods != 0);
        assert_true(a->roles <= CO_ROLES_ALL);
        char path[256];
        sample_path(a->pattern, path, sizeof path);
        co_req r;
        if (!match(a->pattern, path, &r))
            fail_msg("route %s does not match its own sample %s", a->pattern, path);
        /* no earlier route with a common method takes this path */
        for (size_t j = 0; j < i; j++)
            if ((rt->routes[j].methods & a->methods) && match(rt->routes[j].pattern, path, &r))
                fail_msg("route %s is shadowed by %s", a->pattern, rt->routes[j].pattern);
    }
}

static void test_real_table_dispatch(void **state)
{
    (void)state;
    /* replies the router gives without calling a handler (no app needed) */
    dispatch(&co_api_router, (call){CO_PUT, "/api/v1/cases", CO_ROLE_ADMIN, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "GET, POST");
    dispatch(&co_api_router, (call){CO_DELETE, "/api/v1/health", -1, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "GET");
    dispatch(&co_api_router, (call){CO_GET, "/api/v1/taxonomy/extra", -1, 0, NULL});
    assert_int_equal(g_reply.code, 404);
    dispatch(&co_api_router, (call){CO_GET, "/api/v1/routing-rules", CO_ROLE_OPERATOR, 0, NULL});
    assert_int_equal(g_reply.code, 403);
    dispatch(&co_api_router, (call){CO_POST, "/api/v1/cases/1/actions/file", -1, 0, NULL});
    assert_int_equal(g_reply.code, 401);
    dispatch(&co_api_router, (call){CO_POST, "/api/v1/cases/1/actions/file", CO_ROLE_LEADER, 0,
                                    NULL});
    assert_int_equal(g_reply.code, 403);
    dispatch(&co_api_router, (call){CO_POST, "/api/v1/cases/1/actions/file", CO_ROLE_ADMIN, 0,
                                    NULL});
    assert_int_equal(g_reply.code, 403);
    dispatch(&co_api_router, (call){CO_PUT, "/api/v1/taxonomy", CO_ROLE_ADMIN, 1, NULL});
    assert_error_code("csrf");
    dispatch(&co_api_router, (call){CO_PATCH, "/api/v1/routing-rules/3", CO_ROLE_ADMIN, 0, NULL});
    assert_int_equal(g_reply.code, 405);
    assert_string_equal(g_reply.allow, "DELETE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_literals_and_params),
        cmocka_unit_test(test_match_wildcard_and_limits),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_head_and_first_match),
        cmocka_unit_test(test_authentication_and_roles),
        cmocka_unit_test(test_csrf_for_cookie_sessions),
        cmocka_unit_test(test_real_table_consistent),
        cmocka_unit_test(test_real_table_dispatch),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
