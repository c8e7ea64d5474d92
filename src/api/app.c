/* app.c — application start-up, shutdown and per-request dispatch: every
 * reply gets a request id and the security headers; anonymous API requests
 * take a token from their client IP's bucket (429 + Retry-After when empty). */
#include "api/app.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/apikeys.h"
#include "api/duplicates.h"
#include "api/follower.h"
#include "api/routes.h"
#include "classify/service.h"
#include "http/req.h"
#include "http/router.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "projection/projection.h"

#define CO_APP_ANON_SLOTS 16384 /* client IPs tracked at once (about 1.5 MiB) */
#define CO_APP_LOGIN_SLOTS 8192 /* usernames and IPs with failed logins */
#define CO_APP_SESSION_RECHECK_S 2 /* several nodes: a logout elsewhere counts here within */

static _Atomic uint64_t next_request_id;

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

static int apply_calday(void *ctx, int64_t day, int kind, const char *name)
{
    co_app *app = ctx;
    if (co_depts_set_day(app->depts, day, (co_calendar_day_kind)kind, name))
        co_log_warn("msg=\"bad calendar override\" day=%lld", (long long)day);
    app->caldays = co_xrealloc(app->caldays, (app->ncaldays + 1) * sizeof *app->caldays);
    app->caldays[app->ncaldays++] = day;
    return 0;
}

/* The calendar overrides as stored now; an override gone from the store
 * (removed on another node) is removed here too. */
static co_err refresh_caldays(co_app *app)
{
    int64_t *before = app->caldays;
    size_t n = app->ncaldays;
    app->caldays = NULL;
    app->ncaldays = 0;
    co_err rc = co_store_caldays_each(app->store, apply_calday, app);
    for (size_t i = 0; !rc && i < n; i++) {
        int still = 0;
        for (size_t j = 0; j < app->ncaldays && !still; j++)
            still = app->caldays[j] == before[i];
        if (!still && co_depts_set_day(app->depts, before[i], CO_CALENDAR_DAY_NONE, NULL))
            co_log_warn("msg=\"cannot remove calendar override\" day=%lld", (long long)before[i]);
    }
    co_free(before);
    return rc;
}

void co_app_config_changed(co_app *app)
{
    char gen[33];
    /* this node reloads too (cheap), so its list of calendar overrides stays
     * the store's */
    if (app->follower && !co_random_hex(gen, 16) &&
        co_store_meta_set(app->store, CO_FOLLOW_CONFIG_KEY, gen))
        co_log_warn("msg=\"cannot announce a configuration change to other nodes\"");
}

co_err co_app_refresh_config(co_app *app)
{
    co_err rc;
    if ((rc = co_app_refresh_taxonomy(app)) || (rc = co_app_reload_rules(app)) ||
        (rc = refresh_caldays(app)))
        return rc;
    co_dup_load_config(app);
    return CO_OK;
}

/* Called by the writer after each commit, in order (writer thread). */
static void on_committed(void *arg, const co_case *c, const co_event *ev, const void *hint)
{
    co_app *app = arg;
    if (app->follower) { /* several nodes: in sequence order with theirs */
        co_follower_committed(app->follower, c, ev);
        return;
    }
    co_app_publish(app, c, ev, hint); /* a registration's hint: its duplicate signature */
    co_clf_service_observe(app->clf, c, ev);
}

static co_err open_domain(co_app *app)
{
    co_err rc;
    if ((rc = co_depts_load(app->store, &app->depts)) ||
        (rc = co_store_caldays_each(app->store, apply_calday, app)) ||
        (rc = co_app_load_taxonomy(app)) || (rc = co_app_reload_rules(app)))
        return rc;
    co_app_env_init(app);
    int64_t max_id = 0, loaded_seq = 0; /* the log position the views start from */
    if ((rc = co_store_case_max_id(app->store, &max_id, &loaded_seq)))
        return rc;
    if ((rc = co_app_views_open(app)))
        return rc;
    int shared = co_store_shared(app->store);
    if (shared)
        co_sessions_set_shared(app->sessions, CO_APP_SESSION_RECHECK_S);
    if (shared && ((rc = co_follower_new(app, loaded_seq, &app->follower)) ||
                   (rc = co_follower_run(app->follower))))
        return rc;
    /* one node alone publishes its commits directly, the live feed's message
     * of a new case prepared on the HTTP thread; several nodes go through the
     * follower, which formats it when the change is applied */
    co_writer_hooks hooks = {&app->env, on_committed, app, shared ? NULL : co_app_live_message,
                             shared ? NULL : co_app_announce};
    return co_writer_start(app->store, &hooks, &app->writer);
}

co_err co_app_open(const char *data_dir, co_app **out)
{
    return co_app_open_store(data_dir, NULL, out);
}

co_err co_app_open_store(const char *data_dir, const char *store, co_app **out)
{
    co_app *app = co_xcalloc(1, sizeof *app);
    co_err rc;
    pthread_rwlock_init(&app->cfg_lock, NULL);
    co_app_find_home(app->home, sizeof app->home);
    snprintf(app->web_dir, sizeof app->web_dir, "%s/web", app->home);
    snprintf(app->media_dir, sizeof app->media_dir, "%s/media", data_dir);
    app->started = co_time_now();
    if ((rc = co_store_open_url(store ? store : data_dir, &app->store)))
        goto out;
    if ((rc = co_sessions_new(app->store, &app->sessions)))
        goto out;
    if ((rc = co_apikeys_open(app->store, &app->apikeys)))
        goto out;
    co_ratelimit_config_default(&app->limits);
    app->anon_limit = co_ratelimit_new(CO_APP_ANON_SLOTS);
    app->login_limit = co_ratelimit_new(CO_APP_LOGIN_SLOTS);
    if ((rc = co_areas_load(app->store, &app->areas)))
        goto out;
    double t0 = co_time_mono();
    if ((rc = co_locator_build(app->store, app->areas, &app->locator)))
        goto out;
    co_log_info("msg=\"locator built\" grids=%zu bytes=%zu ms=%.0f",
                co_locator_grids(app->locator), co_locator_memory(app->locator),
                (co_time_mono() - t0) * 1000);
    if ((rc = open_domain(app)))
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
    co_writer_stop(app->writer);
    co_follower_free(app->follower);
    co_app_views_close(app);
    co_free(app->caldays);
    co_routing_free(app->routing);
    for (int i = 0; i < CO_APP_MAX_TAX_VERSIONS; i++)
        co_taxonomy_free(app->tax[i]);
    co_depts_free(app->depts);
    co_locator_free(app->locator);
    co_areas_free(app->areas);
    co_sessions_free(app->sessions);
    co_apikeys_free(app->apikeys);
    co_ratelimit_free(app->anon_limit);
    co_ratelimit_free(app->login_limit);
    co_store_close(app->store);
    pthread_rwlock_destroy(&app->cfg_lock);
    co_free(app);
}

uint64_t co_app_case_count(const co_app *app)
{
    if (!app->proj)
        return 0;
    co_projection_info info;
    co_projection_get_info(app->proj, &info);
    return info.rows;
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

/* Headers every reply carries. Pages get their own CSP (static.c); API
 * replies a CSP that allows nothing, should one ever be opened as a page. */
static void security_headers(co_req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)r->id);
    evhttp_add_header(h, "X-Request-Id", id);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    if (!strncmp(r->path, "/api/", 5) || !strncmp(r->path, "/open311/", 9))
        evhttp_add_header(h, "Content-Security-Policy",
                          "default-src 'none'; frame-ancestors 'none'");
}

/* Anonymous requests to the API (not health) and Open311 reads take a token
 * from the client IP's bucket. Open311 writes are limited per api_key
 * (apikeys.c) instead. Returns 0 to go ahead, -1 after replying 429. */
static int anon_limited(co_app *app, co_req *r)
{
    if (r->session)
        return 0;
    int api = !strncmp(r->path, "/api/", 5) && strcmp(r->path, "/api/v1/health") != 0;
    int o311 = !strncmp(r->path, "/open311/", 9) && r->method != CO_POST;
    if (!api && !o311)
        return 0;
    int retry = 1;
    if (co_ratelimit_take(app->anon_limit, co_req_client(r), app->limits.anon, co_time_now_ms(),
                          &retry))
        return 0;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", retry);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", secs);
    co_log_warn("msg=\"rate limited\" peer=%s path=\"%.200s\"", co_req_client(r), r->path);
    if (o311) { /* GeoReport's error list: XML unless the path asks for JSON */
        char msg[160];
        snprintf(msg, sizeof msg, "请求过于频繁，请 %d 秒后重试 / too many requests from your "
                 "address; retry in %d s", retry, retry);
        const char *dot = strrchr(r->path, '.');
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Access-Control-Allow-Origin",
                          "*");
        if (dot && !strcmp(dot, ".json")) {
            co_reply_json(r, 429, json_pack("[{s:i,s:s}]", "code", 429, "description", msg));
        } else {
            char xml[320];
            int n = snprintf(xml, sizeof xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                             "<errors><error><code>429</code><description>%s</description>"
                             "</error></errors>\n", msg);
            co_reply_bytes(r, 429, "text/xml; charset=utf-8", xml, (size_t)n);
        }
        return -1;
    }
    co_reply_error(r, 429, "rate_limited",
                   "请求过于频繁，请 %d 秒后重试 / too many requests from your address; retry in "
                   "%d s",
                   retry, retry);
    return -1;
}

void co_app_handle(struct evhttp_request *ev, void *arg)
{
    co_app *app = arg;
    co_req *r = co_xcalloc(1, sizeof *r + sizeof(co_session));
    co_session *ses = (co_session *)(r + 1); /* lives as long as the request */
    r->ev = ev;
    r->app = (struct co_app *)app;
    r->t0 = co_time_mono();
    r->method = method_of(ev);
    r->id = ++next_request_id;
    co_req_set_client(r, app->trusted_proxies);
    const char *uri = evhttp_request_get_uri(ev);
    int bad = decode_path(r);
    if (bad)
        snprintf(r->path, sizeof r->path, "(bad path)");
    security_headers(r);
    if (uri && strlen(uri) > CO_URI_MAX) {
        co_reply_error(r, 414, "uri_too_long",
                       "请求地址过长（上限 %d 字节）/ request target longer than %d bytes",
                       CO_URI_MAX, CO_URI_MAX);
    } else if (bad) {
        co_reply_error(r, 400, "bad_path", "无法解析的路径 / malformed or too long path");
    } else {
        authenticate(app, r, ses);
        if (!anon_limited(app, r))
            co_router_dispatch(&co_api_router, r);
        if (!r->replied && !r->async)
            co_reply_error(r, 500, "internal", "handler did not reply");
    }
    if (!r->async)
        co_req_finish(r);
}
