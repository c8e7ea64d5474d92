/* area.c — the in-memory area hierarchy (see area.h). */
#include "geo/area.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/strparse.h"

struct co_areas {
    co_area *v;
    size_t n, cap;
    int32_t *children;   /* child indexes grouped by parent */
    int32_t *roots;
    size_t nroots;
    size_t per_level[5];
};

static const char *const level_names[] = {"city", "district", "street", "community", "grid"};

const char *co_level_name(co_level level)
{
    return (unsigned)level < 5 ? level_names[level] : "?";
}

co_err co_level_parse(const char *s, co_level *out)
{
    for (int i = 1; s && i < 5; i++)
        if (!strcmp(s, level_names[i])) {
            *out = (co_level)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

int co_level_of_code(const char *code)
{
    size_t n = strlen(code);
    if (!co_is_digits(code, (unsigned)n))
        return -1;
    switch (n) {
    case 6: return CO_LEVEL_DISTRICT;
    case 9: return CO_LEVEL_STREET;
    case 12: return CO_LEVEL_COMMUNITY;
    case 15: return CO_LEVEL_GRID;
    }
    return -1;
}

static int add_one(void *ctx, const co_area_rec *r)
{
    co_areas *a = ctx;
    a->v = co_xgrow(a->v, &a->cap, a->n + 1, sizeof *a->v);
    co_area *x = &a->v[a->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->code, sizeof x->code, "%s", r->code);
    snprintf(x->name, sizeof x->name, "%s", r->name);
    snprintf(x->parent_code, sizeof x->parent_code, "%s", r->parent ? r->parent : "");
    x->level = r->level;
    x->area_m2 = r->area_m2;
    x->cx = r->cx;
    x->cy = r->cy;
    x->minx = r->minx;
    x->miny = r->miny;
    x->maxx = r->maxx;
    x->maxy = r->maxy;
    return 0;
}

static int by_code(const void *p, const void *q)
{
    return strcmp(((const co_area *)p)->code, ((const co_area *)q)->code);
}

int32_t co_areas_find(const co_areas *a, const char *code)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(a->v[mid].code, code);
        if (!c)
            return (int32_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void link_tree(co_areas *a)
{
    int32_t *count = co_xcalloc(a->n + 1, sizeof *count);
    for (size_t i = 0; i < a->n; i++) {
        co_area *x = &a->v[i];
        x->parent = x->parent_code[0] ? co_areas_find(a, x->parent_code) : -1;
        if (x->parent >= 0)
            count[x->parent]++;
        else
            a->nroots++;
        if ((unsigned)x->level < 5)
            a->per_level[x->level]++;
    }
    a->children = co_xcalloc(a->n + 1, sizeof *a->children);
    a->roots = co_xcalloc(a->nroots + 1, sizeof *a->roots);
    int32_t pos = 0;
    for (size_t i = 0; i < a->n; i++) {
        a->v[i].first_child = pos;
        a->v[i].nchildren = 0;
        pos += count[i];
    }
    size_t r = 0;
    for (size_t i = 0; i < a->n; i++) {
        co_area *x = &a->v[i];
        if (x->parent >= 0) {
            co_area *p = &a->v[x->parent];
            a->children[p->first_child + p->nchildren++] = (int32_t)i;
        } else {
            a->roots[r++] = (int32_t)i;
        }
    }
    co_free(count);
    for (size_t i = 0; i < a->n; i++) {
        co_area *x = &a->v[i];
        for (int l = 0; l < 5; l++)
            x->up[l] = -1;
        for (int32_t j = (int32_t)i, guard = 0; j >= 0 && guard < 8; j = a->v[j].parent, guard++)
            if ((unsigned)a->v[j].level < 5)
                x->up[a->v[j].level] = j;
    }
}

co_err co_areas_load(co_store *store, co_areas **out)
{
    co_areas *a = co_xcalloc(1, sizeof *a);
    co_err rc = co_store_areas_each(store, -1, 0, add_one, a);
    if (rc) {
        co_areas_free(a);
        return rc;
    }
    qsort(a->v, a->n, sizeof *a->v, by_code);
    link_tree(a);
    *out = a;
    return CO_OK;
}

void co_areas_free(co_areas *a)
{
    if (!a)
        return;
    co_free(a->v);
    co_free(a->children);
    co_free(a->roots);
    co_free(a);
}

size_t co_areas_count(const co_areas *a) { return a->n; }

size_t co_areas_count_level(const co_areas *a, co_level level)
{
    return (unsigned)level < 5 ? a->per_level[level] : 0;
}

const co_area *co_areas_at(const co_areas *a, int32_t idx)
{
    return idx >= 0 && (size_t)idx < a->n ? &a->v[idx] : NULL;
}

const int32_t *co_areas_children(const co_areas *a, int32_t idx, size_t *n)
{
    if (idx < 0) {
        *n = a->nroots;
        return a->roots;
    }
    const co_area *x = &a->v[idx];
    *n = (size_t)x->nchildren;
    return a->children + x->first_child;
}

int co_areas_within(const co_areas *a, int32_t idx, int32_t anc)
{
    if (idx < 0 || anc < 0)
        return 0;
    co_level l = a->v[anc].level;
    return (unsigned)l < 5 && a->v[idx].up[l] == anc;
}

void co_area_short_name(const char *name, char *out, size_t len)
{
    static const char *const suffixes[] = {"社区居民委员会", "居民委员会", "村民委员会",
                                           "居委会", "村委会", "委员会"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t s = strlen(suffixes[i]);
        if (n > s && !strcmp(name + n - s, suffixes[i])) {
            /* "…社区居民委员会" keeps "…社区" */
            int keep_she = i == 0;
            snprintf(out, len, "%.*s%s", (int)(n - s), name, keep_she ? "社区" : "");
            return;
        }
    }
    snprintf(out, len, "%s", name);
}

int32_t co_areas_match_text(const co_areas *a, const char *text)
{
    int32_t best = -1;
    int best_level = 0;
    size_t best_len = 0;
    if (!text || !*text)
        return -1;
    for (size_t i = 0; i < a->n; i++) {
        const co_area *x = &a->v[i];
        if (x->level == CO_LEVEL_GRID || x->level == CO_LEVEL_CITY)
            continue;
        char short_name[CO_AREA_NAME_MAX];
        co_area_short_name(x->name, short_name, sizeof short_name);
        size_t len = strlen(short_name);
        if (len < 6) /* two CJK characters at least */
            continue;
        if (!strstr(text, x->name) && !strstr(text, short_name))
            continue;
        if ((int)x->level > best_level || ((int)x->level == best_level && len > best_len)) {
            best = (int32_t)i;
            best_level = (int)x->level;
            best_len = len;
        }
    }
    return best;
}
