/* routing.h — which department owns a case.
 * 1. Explicit rules (category × area → department): among the rules whose
 *    category is the case's (or any) and whose area contains the case's
 *    location (or is the whole city), the most specific wins — deeper area
 *    first, then a named category over "any", then the lower rule id.
 * 2. Otherwise the category's responsible department type (taxonomy) is
 *    resolved to the department of that type whose area most specifically
 *    contains the case (a street office for its street, a district branch
 *    for its district, else the city-level department).
 * 3. Otherwise the case is unrouted ("") and waits in the dispatcher's queue.
 * Immutable once built; the rules are copied in. */
#ifndef CO_DOMAIN_ROUTING_H
#define CO_DOMAIN_ROUTING_H

#include <stddef.h>

#include "domain/case.h"
#include "domain/dept.h"
#include "domain/taxonomy.h"

typedef struct co_route_rule {
    int64_t id;
    co_category category;   /* 0 = any */
    char area[16];          /* "" = whole city */
    char dept[32];
} co_route_rule;

typedef struct co_routing co_routing;

co_routing *co_routing_new(const co_route_rule *rules, size_t n);
void co_routing_free(co_routing *r);
/* Writes the department code (or "") for the case. tax and depts are
 * borrowed for the call. */
void co_routing_route(const co_routing *r, const co_taxonomy *tax, const co_depts *depts,
                      const co_case *c, char *out, size_t len);
size_t co_routing_count(const co_routing *r);
const co_route_rule *co_routing_at(const co_routing *r, size_t i);

#endif
