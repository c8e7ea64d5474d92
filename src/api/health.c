/* health.c — GET /api/v1/health: liveness, version and case count. A node
 * of several (PostgreSQL) whose follower has not reached the database for
 * CO_FOLLOW_STALE_S answers 503: a load balancer's health check then sends
 * its traffic to the others until it is back. */
#include "api/app.h"
#include "api/follower.h"
#include "api/routes.h"
#include "cli/version.h"
#include "lib/timeutil.h"

void co_api_health(co_req *r)
{
    co_app *app = (co_app *)r->app;
    double silence = app->follower ? co_follower_silence(app->follower) : 0;
    if (silence > CO_FOLLOW_STALE_S) {
        co_reply_json(r, 503,
                      json_pack("{s:s,s:s,s:s,s:I}", "status", "unavailable", "message",
                                "数据库连接中断 / this node cannot reach its database", "version",
                                CO_VERSION, "silent_s", (json_int_t)silence));
        return;
    }
    co_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:I,s:I,s:I}", "status", "ok", "version", CO_VERSION,
                            "cases", (json_int_t)co_app_case_count(app), "areas",
                            (json_int_t)co_areas_count(app->areas), "uptime_s",
                            (json_int_t)(co_time_now() - app->started)));
}
