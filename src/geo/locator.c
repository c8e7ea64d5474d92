/* locator.c — city-wide point location (see locator.h). */
#include "geo/locator.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "geo/gridindex.h"
#include "lib/alloc.h"
#include "lib/log.h"

struct co_geom_parts {
    double *xy;
    size_t nxy, capxy;
    co_ring *rings;
    size_t nrings, caprings;
    co_gridindex_part *parts;
    size_t nparts, capparts;
    size_t *ring_start; /* first ring of each part (indexes into rings) */
    size_t *ring_off;   /* xy offset of each ring (rings point into xy at the end) */
};

struct co_locator {
    const co_areas *areas;
    co_gridindex *grids;
    co_gridindex *communities;
    size_t ngrids;
};

static co_err parse_ring(co_geom_parts *g, json_t *ring)
{
    if (!json_is_array(ring) || json_array_size(ring) < 4)
        return CO_EINVAL;
    g->ring_off = co_xgrow(g->ring_off, &g->caprings, g->nrings + 1, sizeof *g->ring_off);
    size_t cap = g->caprings;
    g->rings = co_xrealloc(g->rings, cap * sizeof *g->rings);
    g->ring_off[g->nrings] = g->nxy;
    size_t i;
    json_t *pt;
    json_array_foreach(ring, i, pt)
    {
        double x = json_number_value(json_array_get(pt, 0));
        double y = json_number_value(json_array_get(pt, 1));
        if (!json_is_number(json_array_get(pt, 0)) || !json_is_number(json_array_get(pt, 1)))
            return CO_EINVAL;
        g->xy = co_xgrow(g->xy, &g->capxy, g->nxy + 2, sizeof *g->xy);
        g->xy[g->nxy++] = x;
        g->xy[g->nxy++] = y;
    }
    g->rings[g->nrings].n = json_array_size(ring);
    g->nrings++;
    return CO_OK;
}

static co_err parse_polygon(co_geom_parts *g, json_t *poly)
{
    if (!json_is_array(poly) || json_array_size(poly) < 1)
        return CO_EINVAL;
    g->ring_start = co_xgrow(g->ring_start, &g->capparts, g->nparts + 1, sizeof *g->ring_start);
    g->parts = co_xrealloc(g->parts, g->capparts * sizeof *g->parts);
    g->ring_start[g->nparts] = g->nrings;
    size_t i;
    json_t *ring;
    json_array_foreach(poly, i, ring)
    {
        co_err rc = parse_ring(g, ring);
        if (rc)
            return rc;
    }
    g->parts[g->nparts].nrings = json_array_size(poly);
    g->nparts++;
    return CO_OK;
}

/* Rings and parts point into growable arrays: fix the pointers at the end. */
static void link_views(co_geom_parts *g)
{
    for (size_t r = 0; r < g->nrings; r++)
        g->rings[r].xy = g->xy + g->ring_off[r];
    for (size_t p = 0; p < g->nparts; p++)
        g->parts[p].rings = g->rings + g->ring_start[p];
}

co_err co_geom_parts_parse(const char *geojson, co_geom_parts **out)
{
    json_t *j = geojson ? json_loads(geojson, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    json_t *coords = json_object_get(j, "coordinates");
    co_geom_parts *g = co_xcalloc(1, sizeof *g);
    co_err rc = CO_EINVAL;
    if (type && !strcmp(type, "Polygon")) {
        rc = parse_polygon(g, coords);
    } else if (type && !strcmp(type, "MultiPolygon") && json_is_array(coords)) {
        size_t i;
        json_t *poly;
        rc = CO_OK;
        json_array_foreach(coords, i, poly) if (!rc) rc = parse_polygon(g, poly);
        if (!g->nparts)
            rc = CO_EINVAL;
    }
    json_decref(j);
    if (rc) {
        co_geom_parts_free(g);
        return rc;
    }
    link_views(g);
    *out = g;
    return CO_OK;
}

void co_geom_parts_free(co_geom_parts *g)
{
    if (!g)
        return;
    co_free(g->xy);
    co_free(g->rings);
    co_free(g->parts);
    co_free(g->ring_start);
    co_free(g->ring_off);
    co_free(g);
}

typedef struct collect {
    const co_areas *areas;
    co_gridindex_poly *polys;
    co_geom_parts **geoms;
    size_t n, cap;
    size_t bad;
} collect;

static int collect_one(void *ctx, const co_area_rec *rec)
{
    collect *c = ctx;
    co_geom_parts *g = NULL;
    int32_t idx = co_areas_find(c->areas, rec->code);
    if (idx < 0 || co_geom_parts_parse(rec->geometry, &g)) {
        c->bad++;
        return 0;
    }
    size_t cap = c->cap;
    c->polys = co_xgrow(c->polys, &c->cap, c->n + 1, sizeof *c->polys);
    c->geoms = co_xgrow(c->geoms, &cap, c->n + 1, sizeof *c->geoms);
    c->polys[c->n] = (co_gridindex_poly){(uint32_t)idx, g->parts, g->nparts};
    c->geoms[c->n++] = g;
    return 0;
}

static co_err build_level(co_store *st, const co_areas *areas, co_level level, co_gridindex **out,
                          size_t *count)
{
    collect c = {.areas = areas};
    co_err rc = co_store_areas_each(st, (int)level, 1, collect_one, &c);
    if (!rc)
        rc = co_gridindex_build(c.polys, c.n, NULL, out, NULL);
    if (c.bad)
        co_log_warn("msg=\"areas without usable geometry\" level=%s count=%zu",
                    co_level_name(level), c.bad);
    *count = c.n;
    for (size_t i = 0; i < c.n; i++)
        co_geom_parts_free(c.geoms[i]);
    co_free(c.geoms);
    co_free(c.polys);
    return rc;
}

co_err co_locator_build(co_store *st, const co_areas *areas, co_locator **out)
{
    co_locator *l = co_xcalloc(1, sizeof *l);
    l->areas = areas;
    size_t ncomm = 0;
    co_err rc = build_level(st, areas, CO_LEVEL_GRID, &l->grids, &l->ngrids);
    if (!rc)
        rc = build_level(st, areas, CO_LEVEL_COMMUNITY, &l->communities, &ncomm);
    if (rc) {
        co_locator_free(l);
        return rc;
    }
    *out = l;
    return CO_OK;
}

void co_locator_free(co_locator *l)
{
    if (!l)
        return;
    co_gridindex_free(l->grids);
    co_gridindex_free(l->communities);
    co_free(l);
}

int32_t co_locator_grid(const co_locator *l, double lon, double lat)
{
    return (int32_t)co_gridindex_lookup(l->grids, lon, lat);
}

size_t co_locator_grids(const co_locator *l) { return l->ngrids; }

size_t co_locator_memory(const co_locator *l)
{
    return co_gridindex_memory(l->grids) + co_gridindex_memory(l->communities);
}

co_err co_locator_locate(const co_locator *l, double lon, double lat, co_location *out)
{
    out->grid = out->nearest_grid = out->community = out->street = out->district = -1;
    out->nearest_m = NAN;
    if (!isfinite(lon) || !isfinite(lat))
        return CO_EINVAL;
    int32_t g = co_locator_grid(l, lon, lat);
    int32_t comm = g;
    if (g >= 0) {
        out->grid = g;
        comm = co_areas_at(l->areas, g)->up[CO_LEVEL_COMMUNITY];
    } else {
        comm = (int32_t)co_gridindex_lookup(l->communities, lon, lat);
        if (comm < 0)
            return CO_ENOTFOUND;
        uint32_t id;
        double d;
        /* only a grid of the point's own community: one across the boundary
         * would put a case in one community's grid and another's district */
        if (co_gridindex_nearest(l->grids, lon, lat, CO_LOCATOR_NEAREST_M, &id, &d) == CO_OK &&
            co_areas_at(l->areas, (int32_t)id)->up[CO_LEVEL_COMMUNITY] ==
                co_areas_at(l->areas, comm)->up[CO_LEVEL_COMMUNITY]) {
            out->nearest_grid = (int32_t)id;
            out->nearest_m = d;
        }
    }
    const co_area *a = co_areas_at(l->areas, comm);
    if (!a)
        return CO_ENOTFOUND;
    out->community = a->up[CO_LEVEL_COMMUNITY];
    out->street = a->up[CO_LEVEL_STREET];
    out->district = a->up[CO_LEVEL_DISTRICT];
    return CO_OK;
}
