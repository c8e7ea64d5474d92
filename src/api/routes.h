/* routes.h — the API's route table and the handlers it names. Reading
 * routes.c tells what the server does: one line per endpoint with the roles
 * allowed to call it. */
#ifndef CO_API_ROUTES_H
#define CO_API_ROUTES_H

#include "http/router.h"

extern const co_router co_api_router;

/* health.c */
void co_api_health(co_req *r);
/* auth.c */
void co_api_login(co_req *r);
void co_api_logout(co_req *r);
void co_api_me(co_req *r);
/* areas.c */
void co_api_areas_list(co_req *r);
void co_api_area_get(co_req *r);
/* static.c */
void co_api_static(co_req *r);
void co_api_page(co_req *r);
void co_api_vendor(co_req *r);

#endif
