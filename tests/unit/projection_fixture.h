/* projection_fixture.h — shared set-up for the projection tests
 * (test_projection.c, test_stats.c, test_evaluation.c): a small area
 * hierarchy built through a throw-away store, and a case builder.
 *
 * Area tree (codes are GB/T 2260-shaped):
 *   150102 新城区 ─ 150102001 街道A ─ 150102001001 社区A1 ─ grids …001001, …001002
 *                │                  └ 150102001002 社区A2 ─ grid  …002001
 *                └ 150102002 街道B ─ 150102002001 社区B1 ─ grid  …001001
 *   150103 回民区 ─ 150103001 街道C ─ 150103001001 社区C1 ─ grid  …001001
 * fx_areas() returns a co_areas the caller frees with co_areas_free. */
#ifndef PROJECTION_FIXTURE_H
#define PROJECTION_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/case.h"
#include "geo/area.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"

#define FX_D1 "150102"
#define FX_D2 "150103"
#define FX_S_A "150102001"
#define FX_S_B "150102002"
#define FX_S_C "150103001"
#define FX_C_A1 "150102001001"
#define FX_C_A2 "150102001002"
#define FX_C_B1 "150102002001"
#define FX_C_C1 "150103001001"
#define FX_G_A1_1 "150102001001001"
#define FX_G_A1_2 "150102001001002"
#define FX_G_A2_1 "150102001002001"
#define FX_G_B1_1 "150102002001001"
#define FX_G_C1_1 "150103001001001"

static const char *const fx_grids[] = {FX_G_A1_1, FX_G_A1_2, FX_G_A2_1, FX_G_B1_1, FX_G_C1_1};

static inline int fx_put_level(co_store *st, co_level level, const co_area_rec *recs, size_t n)
{
    return co_store_areas_replace(st, level, "", recs, n) == CO_OK ? 0 : -1;
}

static inline co_areas *fx_areas(void)
{
    static const co_area_rec d[] = {
        {FX_D1, "新城区", "", CO_LEVEL_DISTRICT, NULL, 1e7, 111.7, 40.8, 111.6, 40.7, 111.8, 40.9},
        {FX_D2, "回民区", "", CO_LEVEL_DISTRICT, NULL, 1e7, 111.6, 40.8, 111.5, 40.7, 111.7, 40.9},
    };
    static const co_area_rec s[] = {
        {FX_S_A, "街道A", FX_D1, CO_LEVEL_STREET, NULL, 1e6, 111.71, 40.81, 0, 0, 0, 0},
        {FX_S_B, "街道B", FX_D1, CO_LEVEL_STREET, NULL, 1e6, 111.72, 40.82, 0, 0, 0, 0},
        {FX_S_C, "街道C", FX_D2, CO_LEVEL_STREET, NULL, 1e6, 111.61, 40.81, 0, 0, 0, 0},
    };
    static const co_area_rec c[] = {
        {FX_C_A1, "社区A1", FX_S_A, CO_LEVEL_COMMUNITY, NULL, 1e5, 111.711, 40.811, 0, 0, 0, 0},
        {FX_C_A2, "社区A2", FX_S_A, CO_LEVEL_COMMUNITY, NULL, 1e5, 111.712, 40.812, 0, 0, 0, 0},
        {FX_C_B1, "社区B1", FX_S_B, CO_LEVEL_COMMUNITY, NULL, 1e5, 111.721, 40.821, 0, 0, 0, 0},
        {FX_C_C1, "社区C1", FX_S_C, CO_LEVEL_COMMUNITY, NULL, 1e5, 111.611, 40.811, 0, 0, 0, 0},
    };
    static const co_area_rec g[] = {
        {FX_G_A1_1, "网格A1-1", FX_C_A1, CO_LEVEL_GRID, NULL, 1e4, 111.7111, 40.8111, 0, 0, 0, 0},
        {FX_G_A1_2, "网格A1-2", FX_C_A1, CO_LEVEL_GRID, NULL, 1e4, 111.7112, 40.8112, 0, 0, 0, 0},
        {FX_G_A2_1, "网格A2-1", FX_C_A2, CO_LEVEL_GRID, NULL, 1e4, 111.7121, 40.8121, 0, 0, 0, 0},
        {FX_G_B1_1, "网格B1-1", FX_C_B1, CO_LEVEL_GRID, NULL, 1e4, 111.7211, 40.8211, 0, 0, 0, 0},
        {FX_G_C1_1, "网格C1-1", FX_C_C1, CO_LEVEL_GRID, NULL, 1e4, 111.6111, 40.8111, 0, 0, 0, 0},
    };
    char dir[] = "/tmp/cityops-fx-XXXXXX";
    co_log_set_level(CO_LOG_WARN);
    if (!mkdtemp(dir))
        return NULL;
    co_store *st = NULL;
    co_areas *as = NULL;
    if (fx_store_open(dir, &st) == CO_OK && !fx_put_level(st, CO_LEVEL_DISTRICT, d, 2) &&
        !fx_put_level(st, CO_LEVEL_STREET, s, 3) && !fx_put_level(st, CO_LEVEL_COMMUNITY, c, 4) &&
        !fx_put_level(st, CO_LEVEL_GRID, g, 5) && co_areas_load(st, &as) != CO_OK)
        as = NULL;
    co_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return as;
}

static inline int64_t fx_t(const char *iso)
{
    int64_t t = 0;
    if (co_time_parse(iso, &t) != CO_OK)
        abort();
    return t;
}

/* Fills the area codes of c from a grid code (the ancestors are its
 * prefixes of length 6, 9 and 12). */
static inline void fx_place(co_case *c, const char *grid)
{
    snprintf(c->grid, sizeof c->grid, "%s", grid);
    snprintf(c->community, sizeof c->community, "%.12s", grid);
    snprintf(c->street, sizeof c->street, "%.9s", grid);
    snprintf(c->district, sizeof c->district, "%.6s", grid);
}

/* A case with id, creation time and grid; everything else zero/empty. */
static inline void fx_case(co_case *c, int64_t id, const char *created, const char *grid)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->created = c->updated = fx_t(created);
    c->lon = c->lat = NAN;
    c->state = CO_ST_REGISTERED;
    if (grid)
        fx_place(c, grid);
}

#endif
