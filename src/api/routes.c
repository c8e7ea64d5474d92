/* routes.c — THE route table: method × path → handler, and who may call it.
 * Roles: CO_R(ADMIN) etc. from domain/role.h; 0 means public. Order matters
 * only where patterns overlap: the first match wins. */
#include "api/routes.h"

#include "api/apikeys.h"
#include "api/duplicates.h"
#include "api/open311.h"
#include "domain/role.h"

#define ANY_USER CO_ROLES_ALL
#define STAFF (CO_ROLES_ALL & ~CO_R(LEADER))
#define INTAKE (CO_R(OPERATOR) | CO_R(INSPECTOR) | CO_R(ADMIN))
#define WORKFLOW                                                                               \
    (CO_R(OPERATOR) | CO_R(INSPECTOR) | CO_R(SHIFTLEAD) | CO_R(DISPATCHER) | CO_R(HANDLER))
#define ADMIN CO_R(ADMIN)
#define CLASSIFY \
    (CO_R(OPERATOR) | CO_R(INSPECTOR) | CO_R(SHIFTLEAD) | CO_R(DISPATCHER) | CO_R(ADMIN))

static const co_route routes[] = {
    /* system */
    {CO_GET, "/api/v1/health", co_api_health, 0},
    {CO_GET, "/metrics", co_api_metrics, 0}, /* loopback or admin: checked inside */
    /* sessions */
    {CO_POST, "/api/v1/login", co_api_login, 0},
    {CO_POST, "/api/v1/logout", co_api_logout, ANY_USER},
    {CO_GET, "/api/v1/me", co_api_me, ANY_USER},
    /* areas and geocoding */
    {CO_GET, "/api/v1/areas", co_api_areas_list, 0},
    {CO_GET, "/api/v1/areas.geojson", co_api_areas_geojson, 0},
    {CO_GET, "/api/v1/areas/{code}", co_api_area_get, 0},
    {CO_GET, "/api/v1/geocode", co_api_geocode, 0},
    /* cases */
    {CO_POST, "/api/v1/cases", co_api_cases_create, INTAKE},
    {CO_GET, "/api/v1/cases", co_api_cases_list, ANY_USER},
    {CO_GET, "/api/v1/cases/{id}", co_api_case_get, ANY_USER},
    {CO_GET, "/api/v1/cases/{id}/events", co_api_case_events, ANY_USER},
    {CO_GET, "/api/v1/cases/{id}/duplicates", co_api_case_duplicates, STAFF},
    {CO_POST, "/api/v1/cases/{id}/actions/{action}", co_api_case_action, WORKFLOW},
    {CO_POST, "/api/v1/media", co_api_media_upload, STAFF},
    {CO_POST, "/api/v1/classify", co_api_classify, CLASSIFY},
    {CO_GET, "/api/v1/media/{id}", co_api_media_get, ANY_USER},
    {CO_GET, "/api/v1/live", co_api_live, ANY_USER},
    /* analytics and evaluation */
    {CO_GET, "/api/v1/stats", co_api_stats, ANY_USER},
    {CO_GET, "/api/v1/evaluation", co_api_evaluation, CO_R(ADMIN) | CO_R(LEADER) | CO_R(SHIFTLEAD)},
    {CO_GET, "/api/v1/dashboard/summary", co_api_dashboard_summary, ANY_USER},
    /* citizens (全民参与) */
    {CO_POST, "/api/v1/public/cases", co_api_public_create, 0},
    {CO_GET, "/api/v1/public/cases/{number}", co_api_public_get, 0},
    {CO_POST, "/api/v1/public/media", co_api_media_upload, 0},
    /* configuration */
    {CO_GET, "/api/v1/taxonomy", co_api_taxonomy_get, 0},
    {CO_PUT, "/api/v1/taxonomy", co_api_taxonomy_put, ADMIN},
    {CO_GET, "/api/v1/departments", co_api_departments, ANY_USER},
    {CO_GET, "/api/v1/workflow", co_api_workflow, ANY_USER},
    {CO_GET, "/api/v1/routing-rules", co_api_rules_list, ADMIN | CO_R(DISPATCHER)},
    {CO_POST, "/api/v1/routing-rules", co_api_rule_create, ADMIN},
    {CO_DELETE, "/api/v1/routing-rules/{id}", co_api_rule_delete, ADMIN},
    {CO_GET, "/api/v1/calendar", co_api_calendar_get, ANY_USER},
    {CO_GET, "/api/v1/dedup/config", co_api_dedup_config_get, STAFF},
    {CO_PUT, "/api/v1/dedup/config", co_api_dedup_config_put, ADMIN},
    /* administration */
    {CO_GET, "/api/v1/users", co_api_users_list, ADMIN},
    {CO_POST, "/api/v1/users", co_api_user_put, ADMIN},
    {CO_POST, "/api/v1/users/{name}/revoke", co_api_user_revoke, ADMIN},
    {CO_GET, "/api/v1/audit", co_api_audit, ADMIN},
    {CO_GET, "/api/v1/apikeys", co_apikey_api_list, ADMIN},
    {CO_POST, "/api/v1/apikeys", co_apikey_api_create, ADMIN},
    {CO_DELETE, "/api/v1/apikeys/{id}", co_apikey_api_revoke, ADMIN},
    {CO_PUT, "/api/v1/calendar/days/{date}", co_api_calendar_put, ADMIN},
    /* Open311 GeoReport v2 (public; POSTs need an api_key — see open311.h) */
    {CO_GET, "/open311/v2/discovery.{fmt}", co_open311_discovery, 0},
    {CO_GET, "/open311/v2/services.{fmt}", co_open311_services, 0},
    {CO_GET, "/open311/v2/services/{code}", co_open311_service_definition, 0},
    {CO_GET, "/open311/v2/requests.{fmt}", co_open311_requests_list, 0},
    {CO_POST, "/open311/v2/requests.{fmt}", co_open311_request_create, 0},
    {CO_GET, "/open311/v2/requests/{id}", co_open311_request_get, 0},
    {CO_GET, "/open311/v2/tokens/{token}", co_open311_token_get, 0},
    {CO_GET, "/open311/v2/servicerequestupdates.{fmt}", co_open311_updates_list, 0},
    {CO_POST, "/open311/v2/servicerequestupdates.{fmt}", co_open311_update_create, 0},
    {CO_GET | CO_POST | CO_PUT | CO_PATCH | CO_DELETE | CO_OPTIONS, "/open311/v2/*",
     co_open311_fallback, 0},
    /* web pages and assets */
    {CO_GET, "/", co_api_page, 0},
    {CO_GET, "/dashboard", co_api_page, 0},
    {CO_GET, "/report", co_api_page, 0},
    {CO_GET, "/static/*", co_api_static, 0},
    {CO_GET, "/vendor/*", co_api_vendor, 0},
};

const co_router co_api_router = {routes, sizeof routes / sizeof routes[0]};
