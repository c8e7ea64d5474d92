/* routes.c — THE route table: method × path → handler, and who may call it.
 * Roles: CO_R(ADMIN) etc. from domain/role.h; 0 means public. Order matters
 * only where patterns overlap: the first match wins. */
#include "api/routes.h"

#include "domain/role.h"

#define ANY_USER CO_ROLES_ALL

static const co_route routes[] = {
    /* system */
    {CO_GET, "/api/v1/health", co_api_health, 0},
    /* sessions */
    {CO_POST, "/api/v1/login", co_api_login, 0},
    {CO_POST, "/api/v1/logout", co_api_logout, ANY_USER},
    {CO_GET, "/api/v1/me", co_api_me, ANY_USER},
    /* areas */
    {CO_GET, "/api/v1/areas", co_api_areas_list, 0},
    {CO_GET, "/api/v1/areas/{code}", co_api_area_get, 0},
    /* web pages and assets */
    {CO_GET, "/", co_api_page, 0},
    {CO_GET, "/dashboard", co_api_page, 0},
    {CO_GET, "/report", co_api_page, 0},
    {CO_GET, "/static/*", co_api_static, 0},
    {CO_GET, "/vendor/*", co_api_vendor, 0},
};

const co_router co_api_router = {routes, sizeof routes / sizeof routes[0]};
