/* routing.c — routing rules (see routing.h). */
#include "domain/routing.h"

#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"

struct co_routing {
    co_route_rule *v;
    size_t n;
};

co_routing *co_routing_new(const co_route_rule *rules, size_t n)
{
    co_routing *r = co_xcalloc(1, sizeof *r);
    r->v = co_xcalloc(n ? n : 1, sizeof *r->v);
    if (n)
        memcpy(r->v, rules, n * sizeof *rules);
    r->n = n;
    return r;
}

void co_routing_free(co_routing *r)
{
    if (!r)
        return;
    co_free(r->v);
    co_free(r);
}

size_t co_routing_count(const co_routing *r) { return r->n; }
const co_route_rule *co_routing_at(const co_routing *r, size_t i)
{
    return i < r->n ? &r->v[i] : NULL;
}

/* Depth (1..4) of the area code that contains the case, 0 = whole city,
 * -1 = does not contain it. */
static int area_depth(const char *area, const co_case *c)
{
    if (!area[0])
        return 0;
    const char *codes[] = {c->district, c->street, c->community, c->grid};
    for (int i = 3; i >= 0; i--)
        if (codes[i][0] && !strcmp(codes[i], area))
            return i + 1;
    return -1;
}

static const co_route_rule *best_rule(const co_routing *r, const co_case *c)
{
    const co_route_rule *best = NULL;
    int best_score = -1;
    for (size_t i = 0; i < r->n; i++) {
        const co_route_rule *x = &r->v[i];
        if (x->category && x->category != c->category)
            continue;
        int depth = area_depth(x->area, c);
        if (depth < 0)
            continue;
        int score = depth * 2 + (x->category ? 1 : 0);
        /* ties go to the lower rule id, whatever order the rules came in */
        if (score > best_score || (score == best_score && x->id < best->id)) {
            best = x;
            best_score = score;
        }
    }
    return best;
}

static const char *dept_type_of(const co_taxonomy *tax, const co_case *c)
{
    if (!tax || c->category == CO_CATEGORY_NONE)
        return NULL;
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(c->category));
    co_taxonomy_kind kind = co_category_kind(c->category) == 1 ? CO_TAXONOMY_COMPONENT
                                                               : CO_TAXONOMY_EVENT;
    const co_taxonomy_subclass *s = co_taxonomy_find_subclass(tax, kind, code);
    return s ? s->dept_type : NULL;
}

void co_routing_route(const co_routing *r, const co_taxonomy *tax, const co_depts *depts,
                      const co_case *c, char *out, size_t len)
{
    out[0] = '\0';
    const co_route_rule *rule = r ? best_rule(r, c) : NULL;
    if (rule) {
        snprintf(out, len, "%s", rule->dept);
        return;
    }
    const char *type = dept_type_of(tax, c);
    if (!type || !depts)
        return;
    const co_dept *best = NULL;
    int best_depth = -1;
    for (size_t i = 0; i < co_depts_count(depts); i++) {
        const co_dept *d = co_depts_at(depts, i);
        if (strcmp(d->type, type) != 0)
            continue;
        int depth = area_depth(d->area, c);
        if (depth > best_depth) {
            best = d;
            best_depth = depth;
        }
    }
    if (best)
        snprintf(out, len, "%s", best->code);
}
