/* routes.h — the API's route table and the handlers it names. Reading
 * routes.c tells what the server does: one line per endpoint with the roles
 * allowed to call it. */
#ifndef CO_API_ROUTES_H
#define CO_API_ROUTES_H

#include "http/router.h"

extern const co_router co_api_router;

/* health.c */
void co_api_health(co_req *r);
void co_api_metrics(co_req *r);
/* auth.c */
void co_api_login(co_req *r);
void co_api_logout(co_req *r);
void co_api_me(co_req *r);
/* areas.c */
void co_api_areas_list(co_req *r);
void co_api_area_get(co_req *r);
/* cases.c */
void co_api_cases_create(co_req *r);
void co_api_cases_list(co_req *r);
void co_api_case_get(co_req *r);
void co_api_case_events(co_req *r);
void co_api_case_action(co_req *r);
void co_api_media_upload(co_req *r);
void co_api_media_get(co_req *r);
void co_api_public_create(co_req *r);
void co_api_public_get(co_req *r);
/* config.c */
void co_api_taxonomy_get(co_req *r);
void co_api_taxonomy_put(co_req *r);
void co_api_departments(co_req *r);
void co_api_rules_list(co_req *r);
void co_api_rule_create(co_req *r);
void co_api_rule_delete(co_req *r);
void co_api_calendar_get(co_req *r);
void co_api_calendar_put(co_req *r);
void co_api_workflow(co_req *r);
/* stats.c */
void co_api_stats(co_req *r);
void co_api_evaluation(co_req *r);
void co_api_dashboard_summary(co_req *r);
/* users.c */
void co_api_users_list(co_req *r);
void co_api_user_put(co_req *r);
void co_api_user_revoke(co_req *r);
void co_api_audit(co_req *r);
/* views.c */
void co_api_live(co_req *r);
/* geocode.c */
void co_api_geocode(co_req *r);
/* areas_geojson.c */
void co_api_areas_geojson(co_req *r);
/* classify.c */
struct co_clf_model;
struct co_case;
void co_api_classify(co_req *r);
/* The classification of one text as the API and `cityops classify` show it;
 * where holds the place (area codes) used for routing, or nothing. */
json_t *co_api_classify_view(struct co_app *app, const struct co_clf_model *m, const char *text,
                             size_t len, const struct co_case *where);
json_t *co_api_classify_model_json(const struct co_clf_model *m);
/* Fills where's area codes from an area code; CO_ENOTFOUND if unknown. */
co_err co_api_classify_place(struct co_app *app, const char *area, struct co_case *where)
    CO_MUST_CHECK;
/* static.c */
void co_api_static(co_req *r);
void co_api_page(co_req *r);
void co_api_vendor(co_req *r);

#endif
