/* health.c — GET /api/v1/health: liveness, version and case count. */
#include "api/app.h"
#include "api/routes.h"
#include "cli/version.h"
#include "lib/timeutil.h"

void co_api_health(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:I,s:I,s:I}", "status", "ok", "version", CO_VERSION,
                            "cases", (json_int_t)co_app_case_count(app), "areas",
                            (json_int_t)co_areas_count(app->areas), "uptime_s",
                            (json_int_t)(co_time_now() - app->started)));
}
