/* geocode.c — GET /api/v1/geocode?lon=&lat=&crs=
 * → {"grid":{code,name}|null, "nearest_grid":{code,name,distance_m}|null,
 *    "community":{…}, "street":{…}, "district":{…}, "wgs84":{lon,lat}}.
 * A point inside a community but outside every grid answers grid:null and
 * the nearest grid within 50 m; a point outside the city answers 404. */
#include <math.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "geo/coord.h"
#include "lib/strparse.h"

static json_t *ref(const co_app *app, int32_t idx)
{
    const co_area *a = co_areas_at(app->areas, idx);
    if (!a)
        return json_null();
    return json_pack("{s:s,s:s}", "code", a->code, "name", a->name);
}

void co_api_geocode(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *slon = co_req_query(r, "lon"), *slat = co_req_query(r, "lat");
    const char *scrs = co_req_query(r, "crs");
    double lon, lat, wlon, wlat;
    co_crs crs = CO_CRS_WGS84;
    if (!slon || !slat) {
        co_reply_error(r, 400, "missing_point", "需要 lon 和 lat 参数 / lon and lat are required");
        return;
    }
    if (co_parse_double(slon, -180, 180, &lon) || co_parse_double(slat, -90, 90, &lat)) {
        co_reply_error(r, 400, "bad_point",
                       "lon/lat 必须是有限数字且在范围内 / lon must be a number in [-180,180] and "
                       "lat in [-90,90]");
        return;
    }
    if (scrs && co_crs_parse(scrs, &crs)) {
        co_reply_error(r, 400, "bad_crs", "crs 只能是 wgs84|cgcs2000|gcj02|bd09 / unknown crs");
        return;
    }
    if (co_coord_to_wgs84(crs, lon, lat, &wlon, &wlat)) {
        co_reply_error(r, 400, "bad_point", "无法转换坐标 / cannot convert the point");
        return;
    }
    co_location loc;
    co_err rc = co_locator_locate(app->locator, wlon, wlat, &loc);
    if (rc == CO_ENOTFOUND) {
        co_reply_error(r, 404, "outside_city",
                       "该点不在本市任何社区内 / the point (%.6f, %.6f) lies outside the city's "
                       "communities",
                       lon, lat);
        return;
    }
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    json_t *nearest = json_null();
    if (loc.grid < 0 && loc.nearest_grid >= 0) {
        nearest = ref(app, loc.nearest_grid);
        json_object_set_new(nearest, "distance_m", json_real(round(loc.nearest_m * 10) / 10));
        json_object_set_new(nearest, "nearest", json_true());
    }
    co_reply_json(r, 200,
                  json_pack("{s:o,s:o,s:o,s:o,s:o,s:{s:f,s:f},s:s}", "grid", ref(app, loc.grid),
                            "nearest_grid", nearest, "community", ref(app, loc.community),
                            "street", ref(app, loc.street), "district", ref(app, loc.district),
                            "wgs84", "lon", wlon, "lat", wlat, "crs", co_crs_name(crs)));
}
