/* areas_geojson.c — GET /api/v1/areas.geojson?level=LEVEL[&within=CODE]:
 * the areas of one level (below CODE when given) as a GeoJSON
 * FeatureCollection (application/geo+json), exactly what
 * `cityops export areas` writes, so it can be re-imported unchanged.
 * ?level is required (400 when missing or unknown); an unknown ?within is a
 * 404. The document is built in a memory stream owned here and freed after
 * the reply is sent. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "geo/import.h"
#include "lib/alloc.h"

void co_api_areas_geojson(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *lv = co_req_query(r, "level");
    const char *within = co_req_query(r, "within");
    co_level level;
    if (!lv || co_level_parse(lv, &level)) {
        co_reply_error(r, 400, "bad_level",
                       "需要 level=district|street|community|grid / level is required: one of "
                       "district, street, community, grid");
        return;
    }
    if (within && *within && co_areas_find(app->areas, within) < 0) {
        co_reply_error(r, 404, "no_such_area", "没有这个区域 / no area with code %.20s", within);
        return;
    }
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f) {
        co_reply_err(r, CO_EIO, "无法导出 / cannot export");
        return;
    }
    co_err rc = co_export_areas(app->store, level, within, f);
    if (fclose(f) != 0 && !rc)
        rc = CO_EIO;
    if (rc == CO_ENOTFOUND)
        co_reply_error(r, 404, "no_such_area", "没有这个区域 / no area with code %.20s",
                       within ? within : "");
    else if (rc)
        co_reply_err(r, rc, "无法导出 / cannot export areas");
    else
        co_reply_bytes(r, 200, "application/geo+json", mem, len);
    co_free(mem); /* open_memstream allocates with malloc; co_free is free() */
}
