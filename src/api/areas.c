/* areas.c — GET /api/v1/areas?level=&parent= and GET /api/v1/areas/{code}.
 * Lists come from the in-memory hierarchy; one area's geometry is read from
 * the store when ?geometry=1 asks for it. */
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "lib/strparse.h"

static json_t *area_json(const co_areas *as, const co_area *a)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:f,s:[f,f],s:[f,f,f,f]}", "code", a->code, "name",
                          a->name, "level", co_level_name(a->level), "parent",
                          a->parent_code[0] ? a->parent_code : NULL, "area_m2", a->area_m2,
                          "center", a->cx, a->cy, "bbox", a->minx, a->miny, a->maxx, a->maxy);
    size_t n;
    co_areas_children(as, co_areas_find(as, a->code), &n);
    json_object_set_new(o, "children", json_integer((json_int_t)n));
    return o;
}

static json_t *ancestors_json(const co_areas *as, const co_area *a)
{
    json_t *path = json_array();
    for (int l = CO_LEVEL_DISTRICT; l < (int)a->level; l++) {
        const co_area *up = co_areas_at(as, a->up[l]);
        if (up)
            json_array_append_new(path, json_pack("{s:s,s:s,s:s}", "code", up->code, "name",
                                                  up->name, "level", co_level_name(up->level)));
    }
    return path;
}

/* ?q=NAME: districts, streets and communities whose name contains NAME (or
 * grids when level=grid), with their ancestors — a way to give a location
 * without a map. */
static void search(co_req *r, const char *q, const char *lv)
{
    co_app *app = (co_app *)r->app;
    int64_t limit = 20;
    const char *l = co_req_query(r, "limit");
    co_level only = CO_LEVEL_CITY;
    if (!*q || strlen(q) > 64 || (l && co_parse_i64(l, 1, 100, &limit)) ||
        (lv && co_level_parse(lv, &only))) {
        co_reply_error(r, 400, "bad_query",
                       "q 为 1–64 字节的名称，limit 为 1–100 / q must be 1–64 bytes, limit 1–100");
        return;
    }
    json_t *items = json_array();
    size_t n = co_areas_count(app->areas);
    for (co_level level = CO_LEVEL_DISTRICT; level <= CO_LEVEL_GRID; level++) {
        if (only != CO_LEVEL_CITY ? level != only : level == CO_LEVEL_GRID)
            continue;
        for (size_t i = 0; i < n && json_array_size(items) < (size_t)limit; i++) {
            const co_area *a = co_areas_at(app->areas, (int32_t)i);
            if (a->level != level || !strstr(a->name, q))
                continue;
            json_t *o = area_json(app->areas, a);
            json_object_set_new(o, "ancestors", ancestors_json(app->areas, a));
            json_array_append_new(items, o);
        }
    }
    co_reply_json(r, 200, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(items),
                                    "items", items));
}

void co_api_areas_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *lv = co_req_query(r, "level");
    const char *q = co_req_query(r, "q");
    if (q) {
        search(r, q, lv);
        return;
    }
    const char *parent = co_req_query(r, "parent");
    co_level level = CO_LEVEL_DISTRICT;
    if (lv && co_level_parse(lv, &level)) {
        co_reply_error(r, 400, "bad_level",
                       "level 只能是 district|street|community|grid / level must be one of "
                       "district, street, community, grid");
        return;
    }
    int32_t pidx = -1;
    if (parent && *parent) {
        pidx = co_areas_find(app->areas, parent);
        if (pidx < 0) {
            co_reply_error(r, 404, "no_such_area", "没有这个区域 / no area with code %.20s", parent);
            return;
        }
    }
    json_t *items = json_array();
    size_t n = co_areas_count(app->areas);
    for (size_t i = 0; i < n; i++) {
        const co_area *a = co_areas_at(app->areas, (int32_t)i);
        if (a->level != level || (pidx >= 0 && !co_areas_within(app->areas, (int32_t)i, pidx)))
            continue;
        json_array_append_new(items, area_json(app->areas, a));
    }
    co_reply_json(r, 200, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(items),
                                    "items", items));
}

typedef struct geom_ctx {
    json_t *geometry;
} geom_ctx;

static int take_geometry(void *ctx, const co_area_rec *rec)
{
    geom_ctx *g = ctx;
    if (rec->geometry && *rec->geometry)
        g->geometry = json_loads(rec->geometry, 0, NULL);
    return 1;
}

void co_api_area_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *code = co_req_param(r, 0);
    int32_t idx = co_areas_find(app->areas, code);
    if (idx < 0) {
        co_reply_error(r, 404, "no_such_area", "没有这个区域 / no area with code %.20s", code);
        return;
    }
    const co_area *a = co_areas_at(app->areas, idx);
    json_t *o = area_json(app->areas, a);
    json_object_set_new(o, "ancestors", ancestors_json(app->areas, a));
    const char *g = co_req_query(r, "geometry");
    if (g && (!strcmp(g, "1") || !strcmp(g, "true"))) {
        geom_ctx ctx = {NULL};
        co_err rc = co_store_area_get(app->store, a->code, take_geometry, &ctx);
        if (rc) {
            json_decref(o);
            co_reply_err(r, rc, "无法读取几何 / cannot read geometry");
            return;
        }
        json_object_set_new(o, "geometry", ctx.geometry ? ctx.geometry : json_null());
    }
    co_reply_json(r, 200, o);
}
