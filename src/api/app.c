/* app.c — application start-up, shutdown and per-request dispatch. */
#include "api/app.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/routes.h"
#include "http/req.h"
#include "http/router.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

void co_app_find_home(char *out, size_t len)
{
    const char *env = getenv("CITYOPS_HOME");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, len, ".");
        return;
    }
    exe[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
    }
    snprintf(out, len, "%s", exe[0] ? exe : "/");
}

co_err co_app_open(const char *data_dir, co_app **out)
{
    co_app *app = co_xcalloc(1, sizeof *app);
    co_err rc;
    co_app_find_home(app->home, sizeof app->home);
    snprintf(app->web_dir, sizeof app->web_dir, "%s/web", app->home);
    app->started = co_time_now();
    if ((rc = co_store_open(data_dir, &app->store)))
        goto out;
    if ((rc = co_sessions_new(app->store, &app->sessions)))
        goto out;
    if ((rc = co_areas_load(app->store, &app->areas)))
        goto out;
    co_log_info("msg=\"areas loaded\" total=%zu districts=%zu streets=%zu communities=%zu grids=%zu",
                co_areas_count(app->areas), co_areas_count_level(app->areas, CO_LEVEL_DISTRICT),
                co_areas_count_level(app->areas, CO_LEVEL_STREET),
                co_areas_count_level(app->areas, CO_LEVEL_COMMUNITY),
                co_areas_count_level(app->areas, CO_LEVEL_GRID));
out:
    if (rc) {
        co_app_close(app);
        return rc;
    }
    *out = app;
    return CO_OK;
}

void co_app_close(co_app *app)
{
    if (!app)
        return;
    co_areas_free(app->areas);
    co_sessions_free(app->sessions);
    co_store_close(app->store);
    co_free(app);
}

uint64_t co_app_case_count(const co_app *app)
{
    (void)app;
    return 0;
}

static co_method method_of(struct evhttp_request *ev)
{
    switch (evhttp_request_get_command(ev)) {
    case EVHTTP_REQ_GET: return CO_GET;
    case EVHTTP_REQ_POST: return CO_POST;
    case EVHTTP_REQ_PUT: return CO_PUT;
    case EVHTTP_REQ_PATCH: return CO_PATCH;
    case EVHTTP_REQ_DELETE: return CO_DELETE;
    case EVHTTP_REQ_HEAD: return CO_HEAD;
    case EVHTTP_REQ_OPTIONS: return CO_OPTIONS;
    default: return CO_OPTIONS;
    }
}

static int decode_path(co_req *r)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!raw || !*raw)
        raw = "/";
    size_t outlen = 0;
    char *dec = evhttp_uridecode(raw, 0, &outlen);
    if (!dec)
        return -1;
    int ok = outlen < sizeof r->path && strlen(dec) == outlen;
    if (ok)
        memcpy(r->path, dec, outlen + 1);
    free(dec);
    return ok ? 0 : -1;
}

static const char *cookie_token(co_req *r, char *buf, size_t len)
{
    const char *c = co_req_header(r, "Cookie");
    const char *name = "cityops_session=";
    while (c && *c) {
        while (*c == ' ' || *c == ';')
            c++;
        if (!strncmp(c, name, strlen(name))) {
            c += strlen(name);
            size_t n = strcspn(c, ";");
            if (n >= len)
                return NULL;
            memcpy(buf, c, n);
            buf[n] = '\0';
            return buf;
        }
        c = strchr(c, ';');
    }
    return NULL;
}

static void authenticate(co_app *app, co_req *r, co_session *ses)
{
    const char *auth = co_req_header(r, "Authorization");
    char buf[128];
    const char *tok = NULL;
    int via_cookie = 0;
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        tok = auth + 7;
    } else if ((tok = cookie_token(r, buf, sizeof buf))) {
        via_cookie = 1;
    }
    if (tok && co_sessions_get(app->sessions, tok, ses) == CO_OK) {
        r->session = ses;
        r->via_cookie = via_cookie;
    }
}

void co_app_handle(struct evhttp_request *ev, void *arg)
{
    co_app *app = arg;
    co_req r = {.ev = ev, .app = (struct co_app *)app, .t0 = co_time_mono()};
    co_session ses;
    r.method = method_of(ev);
    evhttp_add_header(evhttp_request_get_output_headers(ev), "X-Content-Type-Options", "nosniff");
    if (decode_path(&r) != 0) {
        snprintf(r.path, sizeof r.path, "(bad path)");
        co_reply_error(&r, 400, "bad_path", "无法解析的路径 / malformed or too long path");
        goto out;
    }
    authenticate(app, &r, &ses);
    co_router_dispatch(&co_api_router, &r);
    if (!r.replied && !r.async)
        co_reply_error(&r, 500, "internal", "handler did not reply");
out:
    co_req_release(&r);
}
