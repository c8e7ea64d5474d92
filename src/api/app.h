/* app.h — the running application: the store, the writer, sessions, the
 * in-memory area hierarchy and locator, departments, taxonomy versions,
 * routing rules, the case projection and the live feed, bundled in one
 * co_app created at start-up and freed at shutdown. co_app_handle is the
 * server's request handler: it builds a co_req, authenticates it and
 * dispatches it through the route table (routes.c).
 * Configuration that admins can change at run time (taxonomy, routing
 * rules) is swapped under cfg_lock; readers hold it shortly. */
#ifndef CO_API_APP_H
#define CO_API_APP_H

#include <event2/http.h>
#include <pthread.h>
#include <stdint.h>

#include "domain/dept.h"
#include "domain/routing.h"
#include "domain/taxonomy.h"
#include "domain/workflow.h"
#include "geo/area.h"
#include "geo/locator.h"
#include "http/ratelimit.h"
#include "http/session.h"
#include "lib/err.h"
#include "store/store.h"
#include "store/writer.h"

#define CO_APP_MAX_TAX_VERSIONS 256

struct co_projection;
struct co_live;
struct co_apikeys;
struct co_clf_service;
struct co_dedup;
struct co_follower;

typedef struct co_app {
    co_store *store;
    co_writer *writer;
    co_sessions *sessions;
    co_areas *areas;
    co_locator *locator;
    co_depts *depts;
    struct co_projection *proj;
    struct co_live *live;
    struct co_apikeys *apikeys; /* Open311 clients, their keys and rate limits (apikeys.h) */
    struct co_dedup *dedup;     /* open cases by place and text (domain/dedup.h; views.c) */
    struct co_follower *follower; /* other nodes' changes (follower.h); NULL on a store of one's own */
    _Atomic double dedup_auto;  /* automatic merge threshold, 0 = off (api/duplicates.c) */
    struct co_clf_service *_Atomic clf; /* text classifier (classify/service.h); set by serve, NULL otherwise */
    co_ratelimit *anon_limit;   /* per-IP buckets of anonymous API requests */
    co_ratelimit *login_limit;  /* failed-login back-off per username and per IP */
    co_ratelimit_config limits; /* defaults; `serve` sets its options before serving */
    char trusted_proxies[256];  /* peers whose X-Forwarded-For names the client (serve) */
    pthread_rwlock_t cfg_lock;
    co_taxonomy *tax[CO_APP_MAX_TAX_VERSIONS]; /* by version; tax[cur] is current */
    int64_t tax_current;
    co_routing *routing;
    co_wf_env env;
    char home[512];      /* the installation root (web/, share/, node_modules/) */
    char web_dir[600];
    char media_dir[600];
    int64_t started;
    _Atomic int64_t applied_seq; /* highest event sequence the views applied (views.c) */
    int64_t *caldays;    /* the calendar overrides last applied (refresh_config) */
    size_t ncaldays;
} co_app;

co_err co_app_open(const char *data_dir, co_app **out) CO_MUST_CHECK;
/* The same with the store named apart (co_store_open_url: "postgres://…",
 * "sqlite:DIR"); NULL = the SQLite store in data_dir. data_dir still holds
 * the media. */
co_err co_app_open_store(const char *data_dir, const char *store, co_app **out) CO_MUST_CHECK;
void co_app_close(co_app *app);
void co_app_handle(struct evhttp_request *ev, void *app);
/* Finds the installation root: $CITYOPS_HOME, else the parent of the folder
 * holding the executable (bin/ or build-san/). */
void co_app_find_home(char *out, size_t len);
/* Number of cases known to the server. */
uint64_t co_app_case_count(const co_app *app);

/* The read views kept current by the writer (projection, live feed):
 * views.c. co_app_publish is the writer's hook after each commit. */
co_err co_app_views_open(co_app *app) CO_MUST_CHECK;
void co_app_views_close(co_app *app);
/* dedup_sig: the case's co_dedup_sig when the caller computed it, or NULL. */
void co_app_publish(co_app *app, const co_case *c, const co_event *ev, const void *dedup_sig);
/* Everything one committed change does to this node's views: publish, the
 * live feed's new-case message, the classifier's labels (follower.c). */
void co_app_apply_change(co_app *app, const co_case *c, const co_event *ev);
/* The writer's prepare/announce hooks: the live feed's message for a new case
 * is formatted on the HTTP thread and published after the commit. */
char *co_app_live_message(void *arg, const co_case *c);
void co_app_announce(void *arg, const co_case *c, const char *text);
/* The server's per-worker exit hook (releases live-feed state). */
struct event_base;
void co_app_thread_done(int worker, struct event_base *base, void *arg);

/* Current taxonomy with a reference the caller drops (co_taxonomy_free). */
co_taxonomy *co_app_taxonomy(co_app *app);
/* Installs a new taxonomy version (validated, stored, made current) —
 * unless doc equals the current version's document but for its version
 * number: then nothing changes. *added (may be NULL) says which. */
co_err co_app_set_taxonomy(co_app *app, json_t *doc, const char *author, int *added, char *err,
                           size_t errlen) CO_MUST_CHECK;
/* Several nodes: loads the taxonomy versions stored since (env.c). */
co_err co_app_refresh_taxonomy(co_app *app) CO_MUST_CHECK;
/* Several nodes: an administrator changed the configuration (taxonomy,
 * rules, calendar, settings) here; the other nodes reload it (app.c). */
void co_app_config_changed(co_app *app);
/* Rereads what co_app_config_changed announces (the follower calls it). */
co_err co_app_refresh_config(co_app *app) CO_MUST_CHECK;
/* Reloads routing rules from the store. */
co_err co_app_reload_rules(co_app *app) CO_MUST_CHECK;
/* Fills the workflow environment (env.c). */
void co_app_env_init(co_app *app);
/* Loads taxonomy versions from the store (importing the default one when
 * the store has none) — env.c. */
co_err co_app_load_taxonomy(co_app *app) CO_MUST_CHECK;
/* The current user as a workflow actor (borrowing from the session). */
co_wf_actor co_app_actor(const struct co_session *s);
/* Display names for the API. */
const char *co_app_dept_name(const co_app *app, const char *code);
/* Writes the category's Chinese name (subclass) into out, "" if unknown. */
void co_app_category_name(co_app *app, co_category cat, char *out, size_t len);

#endif
