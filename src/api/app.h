/* app.h — the running application: the store, sessions, the in-memory area
 * hierarchy and everything else handlers need, bundled in one co_app that is
 * created at start-up and freed at shutdown. co_app_handle is the server's
 * request handler: it builds a co_req, authenticates it and dispatches it
 * through the route table (routes.c). */
#ifndef CO_API_APP_H
#define CO_API_APP_H

#include <event2/http.h>
#include <stdint.h>

#include "geo/area.h"
#include "http/session.h"
#include "lib/err.h"
#include "store/store.h"

typedef struct co_app {
    co_store *store;
    co_sessions *sessions;
    co_areas *areas;
    char home[512];      /* the installation root (web/, share/, node_modules/) */
    char web_dir[600];
    int64_t started;
} co_app;

co_err co_app_open(const char *data_dir, co_app **out) CO_MUST_CHECK;
void co_app_close(co_app *app);
void co_app_handle(struct evhttp_request *ev, void *app);
/* Finds the installation root: $CITYOPS_HOME, else the parent of the folder
 * holding the executable (bin/ or build-san/). */
void co_app_find_home(char *out, size_t len);
/* Number of cases known to the server. */
uint64_t co_app_case_count(const co_app *app);

#endif
