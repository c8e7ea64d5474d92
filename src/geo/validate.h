/* validate.h — the validation engine behind co_import_areas_* (import.c).
 * Internal to the import module: nothing outside src/geo/import.c and
 * src/geo/validate.c includes this header.
 *
 * Flow: co_import_vctx_init() → co_import_validate() parses a GeoJSON
 * FeatureCollection into co_import_feat records (code, name, parent, the
 * geometry in lon/lat at full precision, its normalised GeoJSON text, metric
 * area, a point inside, bbox) and appends every problem it finds to the
 * report. Nothing is written to the store here; import.c writes the features
 * only when the report is empty. co_import_vctx_free() releases everything.
 *
 * Ownership: the context owns its GEOS context, PROJ context, every feature,
 * every geometry and string in them, and the parent geometries loaded from
 * the store. The report is the caller's (borrowed for the context's life).
 * One context, one thread. */
#ifndef CO_GEO_VALIDATE_H
#define CO_GEO_VALIDATE_H

#include <geos_c.h>
#include <jansson.h>
#include <stddef.h>

#include "geo/import.h"
#include "lib/err.h"
#include "store/store.h"

/* Hard limits. */
#define CO_IMPORT_MAX_FEATURES 1000000u
#define CO_IMPORT_MAX_POINTS 1000000u   /* per feature */
#define CO_IMPORT_GEOJSON_MAX (16u << 20) /* normalised text per feature */
#define CO_IMPORT_NAME_MAX 90           /* bytes (UTF-8) */
#define CO_IMPORT_MAX_OVERLAPS 20       /* reported per feature, then it stops */
/* Overlaps, gaps and area outside the parent up to this many m² are
 * tolerated (rounding along shared edges). */
#define CO_IMPORT_TOLERANCE_M2 1.0
/* Longest segment (degrees, ~100 m) before projecting a geometry to measure
 * it: edges are straight in lon/lat, not in the projection. */
#define CO_IMPORT_DENSIFY_DEG 0.001

typedef struct co_import_feat {
    size_t index;          /* position in "features" (0-based) */
    char code[32];         /* as given; "" when missing or not a string */
    char parent[32];       /* as given; "" when missing */
    char *name;            /* owned; NULL when missing */
    int code_ok;           /* code has the right shape for the level */
    int parent_idx;        /* index into the context's parents, or -1 */
    GEOSGeometry *g;       /* lon/lat, valid; NULL when unusable (owned) */
    const GEOSPreparedGeometry *prep; /* of g, made lazily (owned) */
    char *geojson;         /* normalised GeoJSON geometry text (owned) */
    double area_m2;
    double cx, cy;         /* point on surface (lon, lat) */
    double minx, miny, maxx, maxy;
    double lon, lat;       /* where to point a report (NaN when unknown) */
} co_import_feat;

typedef struct co_import_parent {
    char code[32];
    GEOSGeometry *g;       /* NULL when the store has no geometry (owned) */
    const GEOSPreparedGeometry *prep; /* owned */
} co_import_parent;

typedef struct co_import_vctx {
    GEOSContextHandle_t gc;
    char geos_msg[200];    /* last GEOS error message */
    struct co_import_metric *metric; /* lon/lat → metres (PROJ), made once the extent is known */
    co_level level;
    co_import_report *rep; /* borrowed */
    co_import_feat *f;
    size_t n, cap;
    co_import_parent *parents; /* sorted by code */
    size_t nparents, capparents;
} co_import_vctx;

/* Sets up an empty context for level writing problems into rep (borrowed).
 * CO_EGEOM / CO_EINTERNAL when GEOS or PROJ cannot be initialised. The
 * context must be released with co_import_vctx_free() even on failure. */
co_err co_import_vctx_init(co_import_vctx *v, co_level level, co_import_report *rep) CO_MUST_CHECK;
void co_import_vctx_free(co_import_vctx *v);

/* Validates fc (borrowed) against the areas in st (parents at level-1).
 * Problems go to the report; the return value is CO_OK when validation ran
 * (look at rep->nproblems), or an error when it could not run (store read
 * failure: CO_EDB...). Afterwards v->f[0..n) hold the features. */
co_err co_import_validate(co_import_vctx *v, co_store *st, json_t *fc) CO_MUST_CHECK;

/* Appends a problem to rep. code NULL or "" names the feature "#index"
 * (index (size_t)-1 names the file: "(file)"). */
void co_import_problem_add(co_import_report *rep, const char *code, size_t index, double lon,
                           double lat, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
