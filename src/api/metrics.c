/* metrics.c — GET /metrics: the node's state in Prometheus text format.
 * Families: HTTP requests and latencies (http/metrics.c); the single writer
 * (commits, commands, largest batch, queue depth); cases by state and the
 * in-memory projection (rows, bytes); the event log (highest committed
 * sequence in the store, the sequence this node's views have applied, and the
 * lag between them); live-feed subscribers; rate-limiter tables; uptime.
 * Readable from loopback without a login (a local Prometheus or node
 * exporter) and by administrators from anywhere; everyone else 403. Builds
 * the text in a bounded buffer; nothing outlives the request. */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/live.h"
#include "api/routes.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/session.h"
#include "lib/buf.h"
#include "projection/projection.h"
#include "projection/stats.h"
#include "store/store.h"
#include "store/writer.h"

#define METRICS_MAX (1u << 20)

static int from_loopback(co_req *r)
{
    const char *peer = co_req_peer(r);
    /* a proxy on this host makes every client look local: what it forwards
     * is not local */
    if (co_req_header(r, "X-Forwarded-For") || co_req_header(r, "Forwarded") ||
        co_req_header(r, "X-Real-IP"))
        return 0;
    return !strncmp(peer, "127.", 4) || !strcmp(peer, "::1");
}

static co_err gauge(co_buf *b, const char *name, const char *help, const char *type, double v)
{
    return co_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type,
                         name, v);
}

static co_err render_writer(co_buf *b, co_app *app)
{
    co_writer_stats ws = {0};
    if (app->writer)
        co_writer_get_stats(app->writer, &ws);
    co_err rc = gauge(b, "cityops_writer_commits_total", "Transactions the writer committed.",
                      "counter", (double)ws.commits);
    if (!rc)
        rc = gauge(b, "cityops_writer_commands_total",
                   "Write commands committed (cases registered, actions taken).", "counter",
                   (double)ws.commands);
    if (!rc)
        rc = gauge(b, "cityops_writer_max_batch", "Largest group commit so far.", "gauge",
                   (double)ws.max_batch);
    if (!rc)
        rc = gauge(b, "cityops_writer_queue_depth", "Write commands waiting for the writer.",
                   "gauge", (double)ws.queued);
    if (!rc)
        rc = co_buf_printf(b,
                           "# HELP cityops_writer_seconds_total Wall time of the writer's batches"
                           " by phase: executing the commands, committing (log write and"
                           " flush), and after the commit (views, replies).\n"
                           "# TYPE cityops_writer_seconds_total counter\n"
                           "cityops_writer_seconds_total{phase=\"execute\"} %.9f\n"
                           "cityops_writer_seconds_total{phase=\"commit\"} %.9f\n"
                           "cityops_writer_seconds_total{phase=\"after\"} %.9f\n",
                           ws.execute_s, ws.commit_s, ws.after_s);
    return rc;
}

static co_err render_cases(co_buf *b, co_app *app)
{
    co_stats_query q = {.group = CO_STATS_STATE, .states = 0xffffu,
                        .metrics = 1u << CO_SM_COUNT};
    co_stats_result res;
    if (!app->proj || co_stats_run(app->proj, &q, &res) != CO_OK)
        return CO_OK;
    co_err rc = co_buf_puts(b, "# HELP cityops_cases Cases in the projection, by state.\n"
                               "# TYPE cityops_cases gauge\n");
    for (size_t i = 0; !rc && i < res.nrows; i++)
        rc = co_buf_printf(b, "cityops_cases{state=\"%s\"} %llu\n", res.rows[i].key,
                           (unsigned long long)res.rows[i].count);
    co_stats_result_free(&res);
    co_projection_info pi;
    co_projection_get_info(app->proj, &pi);
    if (!rc)
        rc = gauge(b, "cityops_projection_rows", "Rows (cases) in the in-memory projection.",
                   "gauge", (double)pi.rows);
    if (!rc)
        rc = gauge(b, "cityops_projection_bytes", "Memory held by the projection.", "gauge",
                   (double)pi.bytes);
    return rc;
}

static co_err render_log(co_buf *b, co_app *app)
{
    int64_t max_id = 0, max_seq = 0;
    if (co_store_case_max_id(app->store, &max_id, &max_seq) != CO_OK)
        return CO_OK; /* the store is unreachable: leave the family out */
    int64_t applied = atomic_load(&app->applied_seq);
    co_err rc = gauge(b, "cityops_event_seq", "Highest event sequence committed to the store.",
                      "gauge", (double)max_seq);
    if (!rc)
        rc = gauge(b, "cityops_event_seq_applied",
                   "Highest event sequence this node's views have applied.", "gauge",
                   (double)applied);
    if (!rc)
        rc = gauge(b, "cityops_projection_lag_events",
                   "Committed events this node's views have not applied yet.", "gauge",
                   (double)(max_seq > applied ? max_seq - applied : 0));
    return rc;
}

static co_err render_node(co_buf *b, co_app *app)
{
    co_err rc = gauge(b, "cityops_live_subscribers", "Open live-feed (SSE) connections.", "gauge",
                      app->live ? (double)co_live_subscribers(app->live) : 0.0);
    if (!rc)
        rc = gauge(b, "cityops_live_dropped_total",
                   "Live-feed messages not sent to a subscriber that had stopped reading.",
                   "counter", app->live ? (double)co_live_dropped(app->live) : 0.0);
    if (!rc && app->anon_limit)
        rc = gauge(b, "cityops_ratelimit_anon_clients", "Client addresses in the rate limiter.",
                   "gauge", (double)co_ratelimit_used(app->anon_limit));
    if (!rc)
        rc = gauge(b, "cityops_uptime_seconds", "Seconds since the server started.", "gauge",
                   (double)(time(NULL) - app->started));
    return rc;
}

void co_api_metrics(co_req *r)
{
    co_app *app = (co_app *)r->app;
    if (!from_loopback(r) && !(r->session && r->session->role == CO_ROLE_ADMIN)) {
        co_reply_error(r, r->session ? 403 : 401, r->session ? "forbidden" : "unauthorized",
                       "仅限本机或管理员 / only from this host or for administrators");
        return;
    }
    co_buf b;
    co_buf_init(&b, METRICS_MAX);
    co_err rc = co_metrics_render_http(&b);
    if (!rc)
        rc = render_writer(&b, app);
    if (!rc)
        rc = render_cases(&b, app);
    if (!rc)
        rc = render_log(&b, app);
    if (!rc)
        rc = render_node(&b, app);
    if (rc)
        co_reply_error(r, 500, "internal", "指标生成失败 / cannot render the metrics");
    else
        co_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    co_buf_free(&b);
}
