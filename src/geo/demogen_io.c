/* demogen_io.c — reading the demo-city input JSON and writing the GeoJSON.
 * co_demogen_load() turns the converter's JSON (scripts/hohhot-data.mjs)
 * into a dg_city: units sorted by code, parent/child indices, district
 * outlines and zone sites converted from the input CRS into the metric frame.
 * co_demogen_write_level() converts one level back to WGS84 degrees rounded
 * to 1e-9° (~0.1 mm; GEOS snap-rounding instead when plain rounding would
 * make a polygon invalid), orients rings as RFC 7946 asks (exterior
 * counter-clockwise) and writes a FeatureCollection through a temporary
 * file and rename(2).
 * Ownership: jansson documents are local and json_decref'd on every path
 * (json_object_set_new/json_array_append_new steal references); GEOS
 * geometries made here are destroyed here; the city owns what is stored in it. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demogen_int.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define DG_SNAP_DEG 1e-9

static const char *const LEVEL_NAME[] = {"district", "street", "community", "grid"};
static const unsigned CODE_LEN[] = {6, 9, 12, 15};

/* ---- loading ----------------------------------------------------------------- */

static int cmp_unit(const void *a, const void *b)
{
    return strcmp(((const dg_unit *)a)->code, ((const dg_unit *)b)->code);
}

static size_t find_unit(const dg_unit *u, size_t n, const char *code)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(u[mid].code, code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return DG_NONE;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Copies code and name of one input object into u after checking them. */
static co_err take_unit(const json_t *o, int lvl, dg_unit *u)
{
    const char *code = json_string_value(json_object_get(o, "code"));
    const char *name = json_string_value(json_object_get(o, "name"));
    memset(u, 0, sizeof *u);
    u->parent = DG_NONE;
    if (!code || !co_is_digits(code, CODE_LEN[lvl]) || !name || !*name) {
        co_log_error("demogen: bad %s entry (code %s)", LEVEL_NAME[lvl], code ? code : "?");
        return CO_EINVAL;
    }
    memcpy(u->code, code, CODE_LEN[lvl] + 1);
    u->name = co_xstrdup(name);
    return CO_OK;
}

/* "site": [lon, lat, radius_m] in the input CRS. */
static co_err take_site(const json_t *site, co_crs crs, dg_unit *u)
{
    double v[3];
    if (!json_is_array(site) || json_array_size(site) != 3)
        return CO_EINVAL;
    for (size_t i = 0; i < 3; i++) {
        if (!json_is_number(json_array_get(site, i)))
            return CO_EINVAL;
        v[i] = json_number_value(json_array_get(site, i));
    }
    double lon, lat;
    co_err rc = co_coord_to_wgs84(crs, v[0], v[1], &lon, &lat);
    if (rc != CO_OK || !(v[2] > 0 && v[2] < 50000))
        return CO_EINVAL;
    co_demogen_to_frame(lon, lat, &u->sx, &u->sy);
    u->sr = v[2];
    u->flags |= DG_F_SITE;
    return CO_OK;
}

static co_err load_districts(dg_city *c, const json_t *root)
{
    const json_t *ds = json_object_get(root, "districts"), *zs = json_object_get(root, "zones");
    size_t nd = json_array_size(ds), nz = json_array_size(zs);
    if (!json_is_array(ds) || nd == 0)
        return CO_EINVAL;
    c->lv[DG_DISTRICT] = co_xcalloc(nd + nz, sizeof(dg_unit));
    for (size_t i = 0; i < nd + nz; i++) {
        const json_t *o = i < nd ? json_array_get(ds, i) : json_array_get(zs, i - nd);
        dg_unit *u = &c->lv[DG_DISTRICT][i];
        co_err rc = take_unit(o, DG_DISTRICT, u);
        c->n[DG_DISTRICT] = i + 1;
        if (rc != CO_OK)
            return rc;
        if (i >= nd) {
            u->flags |= DG_F_ZONE;
            continue;
        }
        /* GB/T 2260: county-level codes ending 01-20 are city districts (市辖区). */
        int k = (u->code[4] - '0') * 10 + (u->code[5] - '0');
        if (k >= 1 && k <= 20)
            u->flags |= DG_F_URBAN;
        rc = co_demogen_geom_from_geojson(c->gc, json_object_get(o, "geometry"), c->crs, &u->geom);
        if (rc != CO_OK) {
            co_log_error("demogen: district %s: bad geometry (%s)", u->code, co_err_str(rc));
            return rc;
        }
    }
    return CO_OK;
}

static co_err load_level(dg_city *c, const json_t *root, int lvl, const char *key)
{
    const json_t *a = json_object_get(root, key);
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n == 0)
        return CO_EINVAL;
    c->lv[lvl] = co_xcalloc(n, sizeof(dg_unit));
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(a, i);
        dg_unit *u = &c->lv[lvl][i];
        co_err rc = take_unit(o, lvl, u);
        c->n[lvl] = i + 1;
        if (rc != CO_OK)
            return rc;
        const char *parent = json_string_value(json_object_get(o, "parent"));
        size_t pl = CODE_LEN[lvl - 1];
        if (!parent || strlen(parent) != pl || strncmp(parent, u->code, pl) != 0) {
            co_log_error("demogen: %s %s: parent %s does not prefix the code", key, u->code,
                         parent ? parent : "?");
            return CO_EINVAL;
        }
        const json_t *site = json_object_get(o, "site");
        if (site && take_site(site, c->crs, u) != CO_OK) {
            co_log_error("demogen: street %s: bad site", u->code);
            return CO_EINVAL;
        }
    }
    return CO_OK;
}

/* Sorts a level, checks for duplicates, links parents and children. */
static co_err link_level(dg_city *c, int lvl)
{
    dg_unit *u = c->lv[lvl];
    size_t n = c->n[lvl];
    qsort(u, n, sizeof *u, cmp_unit);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(u[i - 1].code, u[i].code) == 0) {
            co_log_error("demogen: duplicate code %s", u[i].code);
            return CO_EINVAL;
        }
        if (lvl == DG_DISTRICT)
            continue;
        char pc[16];
        memcpy(pc, u[i].code, CODE_LEN[lvl - 1]);
        pc[CODE_LEN[lvl - 1]] = '\0';
        size_t p = find_unit(c->lv[lvl - 1], c->n[lvl - 1], pc);
        if (p == DG_NONE) {
            co_log_error("demogen: %s has no parent %s", u[i].code, pc);
            return CO_EINVAL;
        }
        dg_unit *pu = &c->lv[lvl - 1][p];
        if (pu->nchild == 0)
            pu->child0 = i;
        pu->nchild++;
        u[i].parent = p;
    }
    return CO_OK;
}

co_err co_demogen_load(dg_city *c, const char *path)
{
    co_err rc = CO_OK;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        co_log_error("demogen: %s:%d: %s", path, jerr.line, jerr.text);
        return json_error_code(&jerr) == json_error_cannot_open_file ? CO_EIO : CO_EINVAL;
    }
    const char *crs = json_string_value(json_object_get(json_object_get(root, "source"), "crs"));
    c->crs = CO_CRS_GCJ02;
    if (crs && co_crs_parse(crs, &c->crs) != CO_OK) {
        rc = CO_EINVAL;
        goto out;
    }
    if ((rc = load_districts(c, root)) != CO_OK || (rc = load_level(c, root, DG_STREET, "streets")) != CO_OK ||
        (rc = load_level(c, root, DG_COMMUNITY, "communities")) != CO_OK)
        goto out;
    for (int l = 0; l < DG_LEVELS; l++)
        if ((rc = link_level(c, l)) != CO_OK)
            goto out;
    for (int l = 0; l + 1 < DG_LEVELS; l++) {
        for (size_t i = 0; i < c->n[l]; i++) {
            if (c->lv[l][i].nchild == 0) {
                co_log_error("demogen: %s %s has no children", LEVEL_NAME[l], c->lv[l][i].code);
                rc = CO_EINVAL;
                goto out;
            }
        }
    }
    for (size_t i = 0; i < c->n[DG_STREET]; i++) {
        dg_unit *s = &c->lv[DG_STREET][i];
        const dg_unit *d = &c->lv[DG_DISTRICT][s->parent];
        if ((d->flags & DG_F_ZONE) && !(s->flags & DG_F_SITE)) {
            co_log_error("demogen: street %s of zone %s needs a site", s->code, d->code);
            rc = CO_EINVAL;
            goto out;
        }
        if ((d->flags & DG_F_URBAN) && ends_with(s->name, "街道"))
            s->flags |= DG_F_JIEDAO;
    }
out:
    json_decref(root);
    return rc;
}

/* ---- writing -------------------------------------------------------------------- */

/* Frame -> WGS84 degrees; with a non-NULL ud, also rounded to DG_SNAP_DEG. */
static int to_wgs84_cb(double *x, double *y, void *ud)
{
    co_demogen_from_frame(*x, *y, x, y);
    if (ud) {
        *x = round(*x / DG_SNAP_DEG) * DG_SNAP_DEG;
        *y = round(*y / DG_SNAP_DEG) * DG_SNAP_DEG;
    }
    return 1;
}

/* One ring as [[lon,lat],...], reversed when its orientation is not ccw. */
static co_err ring_json(GEOSContextHandle_t gc, const GEOSGeometry *ring, int ccw, json_t *out)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(gc, ring);
    unsigned n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(gc, seq, &n) || n < 4)
        return CO_EGEOM;
    double *xy = co_xmalloc((size_t)n * 2 * sizeof *xy);
    double s = 0;
    for (unsigned i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(gc, seq, i, &xy[2 * i], &xy[2 * i + 1]);
    for (unsigned i = 0; i + 1 < n; i++)
        s += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) - (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    int rev = ccw ? s < 0 : s > 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = rev ? n - 1 - k : k;
        json_t *p = json_array();
        json_array_append_new(p, json_real(xy[2 * i]));
        json_array_append_new(p, json_real(xy[2 * i + 1]));
        json_array_append_new(out, p);
    }
    co_free(xy);
    return CO_OK;
}

static co_err polygon_json(GEOSContextHandle_t gc, const GEOSGeometry *poly, json_t *out)
{
    json_t *r = json_array();
    co_err rc = ring_json(gc, GEOSGetExteriorRing_r(gc, poly), 1, r);
    json_array_append_new(out, r);
    int nh = GEOSGetNumInteriorRings_r(gc, poly);
    for (int i = 0; rc == CO_OK && i < nh; i++) {
        r = json_array();
        rc = ring_json(gc, GEOSGetInteriorRingN_r(gc, poly, i), 0, r);
        json_array_append_new(out, r);
    }
    return rc;
}

/* GeoJSON geometry of a frame geometry: WGS84, snapped, valid. *out owned by caller. */
static co_err geometry_json(GEOSContextHandle_t gc, const GEOSGeometry *g, const char *code, json_t **out)
{
    co_err rc = CO_OK;
    GEOSGeometry *w = NULL, *s = NULL;
    json_t *j = NULL, *coords = json_array();
    *out = NULL;
    int round_it = 1;
    /* Rounding each vertex keeps shared vertices shared; in the rare case it
     * makes a polygon invalid, GEOS snap-rounds it properly instead. */
    s = GEOSGeom_transformXY_r(gc, g, to_wgs84_cb, &round_it);
    if (s && GEOSisValid_r(gc, s) != 1) {
        GEOSGeom_destroy_r(gc, s);
        w = GEOSGeom_transformXY_r(gc, g, to_wgs84_cb, NULL);
        s = w ? GEOSGeom_setPrecision_r(gc, w, DG_SNAP_DEG, 0) : NULL;
    }
    if (!s || GEOSisEmpty_r(gc, s) || GEOSisValid_r(gc, s) != 1) {
        co_log_error("demogen: %s: geometry empty or invalid after snapping", code);
        rc = CO_EGEOM;
        goto out;
    }
    int t = GEOSGeomTypeId_r(gc, s);
    if (t == GEOS_POLYGON) {
        rc = polygon_json(gc, s, coords);
    } else if (t == GEOS_MULTIPOLYGON) {
        int k = GEOSGetNumGeometries_r(gc, s);
        for (int i = 0; rc == CO_OK && i < k; i++) {
            json_t *p = json_array();
            rc = polygon_json(gc, GEOSGetGeometryN_r(gc, s, i), p);
            json_array_append_new(coords, p);
        }
    } else {
        co_log_error("demogen: %s: not polygonal after snapping", code);
        rc = CO_EGEOM;
    }
    if (rc != CO_OK)
        goto out;
    j = json_object();
    json_object_set_new(j, "type", json_string(t == GEOS_POLYGON ? "Polygon" : "MultiPolygon"));
    json_object_set_new(j, "coordinates", coords);
    coords = NULL;
    *out = j;
out:
    json_decref(coords);
    if (w)
        GEOSGeom_destroy_r(gc, w);
    if (s)
        GEOSGeom_destroy_r(gc, s);
    return rc;
}

static co_err dump_atomic(json_t *doc, const char *path)
{
    size_t n = strlen(path) + 5;
    char *tmp = co_xmalloc(n);
    snprintf(tmp, n, "%s.tmp", path);
    co_err rc = CO_OK;
    if (json_dump_file(doc, tmp, JSON_COMPACT | JSON_REAL_PRECISION(13)) != 0 || rename(tmp, path) != 0) {
        co_log_error("demogen: cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        rc = CO_EIO;
    }
    co_free(tmp);
    return rc;
}

co_err co_demogen_write_level(dg_city *c, int lvl, const char *path)
{
    co_err rc = CO_OK;
    const dg_unit *u = lvl < DG_LEVELS ? c->lv[lvl] : c->grid;
    size_t n = lvl < DG_LEVELS ? c->n[lvl] : c->ngrid;
    json_t *doc = json_object(), *features = json_array();
    json_object_set_new(doc, "type", json_string("FeatureCollection"));
    json_object_set(doc, "features", features);
    for (size_t i = 0; i < n; i++) {
        json_t *geom = NULL, *f, *props;
        char parent[16];
        if (lvl == DG_DISTRICT) {
            snprintf(parent, sizeof parent, "%.4s00", u[i].code);
        } else {
            const dg_unit *pu = lvl < DG_LEVELS ? &c->lv[lvl - 1][u[i].parent] : &c->lv[DG_COMMUNITY][u[i].parent];
            snprintf(parent, sizeof parent, "%s", pu->code);
        }
        rc = geometry_json(c->gc, u[i].geom, u[i].code, &geom);
        if (rc != CO_OK)
            goto out;
        props = json_object();
        json_object_set_new(props, "code", json_string(u[i].code));
        json_object_set_new(props, "name", json_string(u[i].name));
        json_object_set_new(props, "parent", json_string(parent));
        json_object_set_new(props, "level", json_string(LEVEL_NAME[lvl]));
        f = json_object();
        json_object_set_new(f, "type", json_string("Feature"));
        json_object_set_new(f, "properties", props);
        json_object_set_new(f, "geometry", geom);
        json_array_append_new(features, f);
    }
    rc = dump_atomic(doc, path);
out:
    json_decref(features);
    json_decref(doc);
    return rc;
}

void co_demogen_city_free(dg_city *c)
{
    for (int l = 0; l <= DG_LEVELS; l++) {
        dg_unit *u = l < DG_LEVELS ? c->lv[l] : c->grid;
        size_t n = l < DG_LEVELS ? c->n[l] : c->ngrid;
        for (size_t i = 0; i < n; i++) {
            co_free(u[i].name);
            if (u[i].geom)
                GEOSGeom_destroy_r(c->gc, u[i].geom);
        }
        co_free(u);
        if (l < DG_LEVELS) {
            c->lv[l] = NULL;
            c->n[l] = 0;
        }
    }
    c->grid = NULL;
    c->ngrid = c->capgrid = 0;
}
