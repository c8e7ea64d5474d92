/* import.h — area import and export (GeoJSON FeatureCollections).
 * Import validates everything with GEOS before anything is written: invalid
 * or self-intersecting rings, grids overlapping each other (> 1 m²), gaps
 * inside a community, a grid outside its community, codes that do not match
 * the hierarchy or the 6/9/12/15-digit scheme, unknown parents, duplicates.
 * Every problem is reported (code + reason + location), then nothing is
 * written unless there were none: the import is atomic. Areas and distances
 * are computed in metres (PROJ), never degrees.
 * The report is owned by the caller: co_import_report_free(). */
#ifndef CO_GEO_IMPORT_H
#define CO_GEO_IMPORT_H

#include <stdio.h>
#include <stddef.h>

#include "lib/err.h"
#include "store/store.h"

typedef struct co_import_problem {
    char code[32];        /* feature code, or "#N" (feature index) if it has none */
    char reason[256];     /* human-readable, zh + en */
    double lon, lat;      /* where (NaN when not applicable) */
} co_import_problem;

typedef struct co_import_report {
    co_import_problem *problems;
    size_t nproblems, cap;
    size_t nfeatures;      /* features read */
    size_t imported;       /* features written (0 unless no problems) */
} co_import_report;

/* Validates FILE (a GeoJSON FeatureCollection with properties code, name,
 * parent) as areas of `level` and, if there is no problem, replaces that
 * level's areas in the store. Returns CO_EINVAL when validation failed (see
 * the report), other codes for I/O or storage errors. */
co_err co_import_areas_file(co_store *st, co_level level, const char *path,
                            co_import_report *rep) CO_MUST_CHECK;
/* The same from a parsed document (borrowed). */
struct json_t;
co_err co_import_areas_json(co_store *st, co_level level, struct json_t *fc,
                            co_import_report *rep) CO_MUST_CHECK;
void co_import_report_free(co_import_report *rep);
/* Prints the report, one problem per line, to f. */
void co_import_report_print(const co_import_report *rep, FILE *f);

/* Writes the areas of level (below `within` when non-NULL/non-empty) as a
 * FeatureCollection with the same properties the import reads. */
co_err co_export_areas(co_store *st, co_level level, const char *within, FILE *out) CO_MUST_CHECK;
/* Returns the same document as a new jansson object (caller decrefs). */
co_err co_export_areas_json(co_store *st, co_level level, const char *within,
                            struct json_t **out) CO_MUST_CHECK;

#endif
