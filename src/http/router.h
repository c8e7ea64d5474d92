/* router.h — dispatch from a const route table.
 * A route is method mask × path pattern → handler, with the roles allowed
 * (0 = public). Patterns are literal segments and {name} placeholders, or a
 * trailing "*" that matches the rest of the path. co_router_dispatch finds the
 * route, fills the request's params, enforces authentication, roles and CSRF,
 * and calls the handler; it replies 404 / 405 (with Allow) / 401 / 403 itself.
 * The table is owned by the caller and must outlive the router. */
#ifndef CO_HTTP_ROUTER_H
#define CO_HTTP_ROUTER_H

#include "http/req.h"

typedef void (*co_handler)(co_req *r);

typedef struct co_route {
    unsigned methods;     /* co_method mask */
    const char *pattern;  /* e.g. "/api/v1/areas/{code}" */
    co_handler handler;
    unsigned roles;       /* co_role mask; 0 = public (no login needed) */
} co_route;

typedef struct co_router {
    const co_route *routes;
    size_t nroutes;
} co_router;

/* Matches path against pattern; on success fills r->params. */
int co_router_match(const char *pattern, const char *path, co_req *r);
void co_router_dispatch(const co_router *rt, co_req *r);
const char *co_method_name(co_method m);

#endif
