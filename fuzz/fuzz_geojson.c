/* fuzz_geojson.c — libFuzzer target: GeoJSON area import validation
 * (src/geo/validate.c behind co_import_areas_*). The first byte picks the
 * level (district, street, community, grid); the rest is the document. It
 * is validated against the fixture hierarchy of the shared application's
 * store (parents, containment, overlaps, gaps — GEOS and PROJ included),
 * exactly as `cityops import areas` does before it writes anything. Each
 * problem must name a feature and carry a reason; a document without
 * problems must have produced one feature per input feature with a
 * geometry, a finite area and an inside point. Nothing is written. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "geo/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    co_app *app = fz_app();
    json_t *fc = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!fc)
        return 0;
    co_level level = (co_level)(CO_LEVEL_DISTRICT + data[0] % 4);
    co_import_report rep = {0};
    co_import_vctx v = {0};
    co_err rc = co_import_vctx_init(&v, level, &rep);
    if (rc == CO_OK)
        rc = co_import_validate(&v, app->store, fc);
    if (rc == CO_OK) {
        for (size_t i = 0; i < rep.nproblems; i++) {
            const co_import_problem *p = &rep.problems[i];
            if (!p->code[0] || !p->reason[0] || !memchr(p->code, '\0', sizeof p->code) ||
                !memchr(p->reason, '\0', sizeof p->reason))
                abort();
        }
        if (rep.nproblems == 0) {
            if (v.n != json_array_size(json_object_get(fc, "features")))
                abort();
            for (size_t i = 0; i < v.n; i++) {
                const co_import_feat *f = &v.f[i];
                if (!f->g || !f->geojson || !isfinite(f->area_m2) || f->area_m2 <= 0 ||
                    !isfinite(f->cx) || !isfinite(f->cy) || f->cx < f->minx - 1e-9 ||
                    f->cx > f->maxx + 1e-9 || f->cy < f->miny - 1e-9 || f->cy > f->maxy + 1e-9) {
                    fprintf(stderr, "*** fuzz finding: feature %zu accepted but incomplete\n", i);
                    abort();
                }
            }
        }
    }
    co_import_vctx_free(&v);
    co_import_report_free(&rep);
    json_decref(fc);
    return 0;
}
