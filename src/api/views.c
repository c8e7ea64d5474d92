/* views.c — the read views the writer keeps current after every commit:
 * the in-memory case projection (stats, dashboards, evaluation) and the live
 * feed (Server-Sent Events). At start-up the projection is loaded from the
 * store: every case row, then the event log replayed for who-did-what
 * (attribution). After that co_app_publish, the writer's hook, updates both
 * in commit order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "api/app.h"
#include "api/duplicates.h"
#include "api/live.h"
#include "api/routes.h"
#include "classify/service.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "projection/projection.h"

/* ----------------------------------------------------- display names */

static int name_dept(void *ctx, const char *code, char *out, size_t n)
{
    const char *name = co_app_dept_name(ctx, code);
    if (!name[0])
        return 0;
    snprintf(out, n, "%s", name);
    return 1;
}

static int name_category(void *ctx, co_category cat, char *out, size_t n)
{
    co_app_category_name(ctx, cat, out, n);
    return out[0] != '\0';
}

static int name_user(void *ctx, const char *username, char *out, size_t n)
{
    co_app *app = ctx;
    co_user u;
    if (co_store_user_get(app->store, username, &u))
        return 0;
    snprintf(out, n, "%s", u.display_name);
    return 1;
}

/* ------------------------------------------------------------- loading */

static int load_case(void *ctx, const co_case *c)
{
    co_app *app = ctx;
    if (co_projection_apply(app->proj, c, NULL))
        co_log_warn("msg=\"projection refused a case\" id=%lld", (long long)c->id);
    return 0;
}

static int load_event(void *ctx, const co_event *e)
{
    co_app *app = ctx;
    if (co_projection_attribute(app->proj, e) == CO_ETOOBIG)
        co_log_warn("msg=\"projection attribution full\" seq=%lld", (long long)e->seq);
    if (e->seq > atomic_load(&app->applied_seq)) /* load runs before the writer starts */
        atomic_store(&app->applied_seq, e->seq);
    return 0;
}

co_err co_app_views_open(co_app *app)
{
    double t0 = co_time_mono();
    co_err rc = co_projection_new(app->areas, &app->proj);
    if (rc)
        return rc;
    co_projection_names names = {app, name_dept, name_category, name_user};
    co_projection_set_names(app->proj, &names);
    if ((rc = co_store_cases_each_light(app->store, load_case, app)))
        return rc;
    double t1 = co_time_mono();
    if ((rc = co_store_events_each(app->store, load_event, app)))
        return rc;
    co_projection_info info;
    co_projection_get_info(app->proj, &info);
    co_log_info("msg=\"projection loaded\" cases=%llu bytes=%zu cases_s=%.2f events_s=%.2f",
                (unsigned long long)info.rows, info.bytes, t1 - t0, co_time_mono() - t1);
    app->live = co_live_new();
    return co_dup_open(app);
}

void co_app_views_close(co_app *app)
{
    co_live_free(app->live);
    app->live = NULL;
    co_dup_close(app);
    co_projection_free(app->proj);
    app->proj = NULL;
}

void co_app_thread_done(int worker, struct event_base *base, void *arg)
{
    (void)worker;
    co_app *app = arg;
    if (app->live)
        co_live_detach(app->live, base);
}

/* ----------------------------------------------------------- publishing */

static const char *area_name(const co_app *app, const char *code)
{
    const co_area *a = co_areas_at(app->areas, co_areas_find(app->areas, code));
    return a ? a->name : "";
}

/* The live feed's message for a new case (built on the submitting thread). */
char *co_app_live_message(void *arg, const co_case *c)
{
    co_app *app = arg;
    /* nobody is watching: nothing to format (a screen that connects now loads
     * the summary first, then follows the feed) */
    if (!app->live || co_live_subscribers(app->live) == 0)
        return NULL;
    char cat[8], cat_name[64], created[CO_TIME_ISO_MAX];
    co_category_format(c->category, cat);
    co_app_category_name(app, c->category, cat_name, sizeof cat_name);
    co_time_format(c->created, created);
    json_t *msg = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "number", c->number, "created",
        created, "category", cat, "category_name", cat_name, "district", c->district,
        "district_name", area_name(app, c->district), "street_name", area_name(app, c->street),
        "community_name", area_name(app, c->community), "channel", co_channel_name(c->channel),
        "channel_zh", co_channel_name_zh(c->channel), "severity",
        co_severity_name(c->severity), "description", c->description);
    if (isfinite(c->lon) && isfinite(c->lat)) {
        json_object_set_new(msg, "lon", json_real(c->lon));
        json_object_set_new(msg, "lat", json_real(c->lat));
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    return text;
}

void co_app_announce(void *arg, const co_case *c, const char *text)
{
    co_app *app = arg;
    if (app->live)
        co_live_publish(app->live, "case", text, co_case_finest_area(c), c->routed_dept);
}

void co_app_publish(co_app *app, const co_case *c, const co_event *ev, const void *dedup_sig)
{
    int64_t seen = atomic_load(&app->applied_seq);
    while (ev->seq > seen && !atomic_compare_exchange_weak(&app->applied_seq, &seen, ev->seq))
        ;
    if (app->proj && co_projection_apply(app->proj, c, ev))
        co_log_warn("msg=\"projection update refused\" case=%lld", (long long)c->id);
    co_dup_committed(app, c, ev, dedup_sig);
    if (!app->live)
        return;
    if (!strcmp(ev->action, "register")) {
        /* announced by co_app_announce with the message prepared at intake */
    } else {
        char data[160];
        snprintf(data, sizeof data, "{\"number\":\"%s\",\"action\":\"%s\",\"state\":\"%s\"}",
                 c->number, ev->action, co_state_name(c->state));
        co_live_publish(app->live, "update", data, co_case_finest_area(c), c->dept);
    }
}

/* GET /api/v1/live — Server-Sent Events. */
void co_api_live(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_live_subscribe(app->live, r);
}

void co_app_apply_change(co_app *app, const co_case *c, const co_event *ev)
{
    co_app_publish(app, c, ev, NULL);
    if (!strcmp(ev->action, "register")) {
        char *text = co_app_live_message(app, c);
        if (text)
            co_app_announce(app, c, text);
        free(text);
    }
    co_clf_service_observe(app->clf, c, ev);
}
