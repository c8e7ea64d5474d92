/* demogen.h — builds the synthetic geometry of the Hohhot demo city.
 * Input: the JSON written by scripts/hohhot-data.mjs (real district outlines
 * in the source CRS, real street/community codes and names). Output: four
 * GeoJSON FeatureCollections in WGS84 — districts, streets, communities and
 * unit grids — where streets tile their district, communities tile their
 * street and the grids tile every gridded community of the urban core.
 * Deterministic: the same input and seed give byte-identical files.
 * Nothing returned by this module needs freeing; the files belong to the
 * caller. See docs/internals/demo-city.md for how the city is made. */
#ifndef CO_GEO_DEMOGEN_H
#define CO_GEO_DEMOGEN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Lattice cell side in metres and the grid target: communities of the urban
 * core are gridded nearest-first until at least this many grids exist. */
#define CO_DEMOGEN_CELL_M 150.0
#define CO_DEMOGEN_GRID_TARGET 12000
/* Pieces of a lattice cell smaller than this are merged into a neighbour. */
#define CO_DEMOGEN_SLIVER_M2 5000.0
/* Output file names inside out_dir. */
#define CO_DEMOGEN_DISTRICTS "districts.geojson"
#define CO_DEMOGEN_STREETS "streets.geojson"
#define CO_DEMOGEN_COMMUNITIES "communities.geojson"
#define CO_DEMOGEN_GRIDS "grids.geojson"

typedef struct co_demogen_stats {
    size_t districts;           /* including functional zones (150172) */
    size_t streets;
    size_t communities;
    size_t gridded_communities; /* communities covered by grids */
    size_t grids;
    double grid_area_min_m2;    /* over all grids; 0 when there are none */
    double grid_area_median_m2;
    double grid_area_max_m2;
    double core_radius_m;       /* centre distance of the farthest gridded community */
    double seconds;             /* wall time of co_demogen_build */
} co_demogen_stats;

/* Reads input_json_path, builds the city with the PRNG seeded by seed and
 * writes CO_DEMOGEN_{DISTRICTS,STREETS,COMMUNITIES,GRIDS} into out_dir
 * (created when missing; existing files are replaced via a temporary file
 * and rename). Every Feature has properties {"code","name","parent","level"}
 * with level "district" | "street" | "community" | "grid"; district parents
 * are "150100" (the city; the first 4 digits of the code + "00").
 * stats_out may be NULL; when given it is filled on success.
 * Returns CO_OK; CO_EIO when a file cannot be read or written; CO_EINVAL for
 * malformed input (bad codes, unknown parents, missing geometry); CO_EGEOM
 * when GEOS fails or produces an invalid result. On error some output files
 * may already have been written. */
co_err co_demogen_build(const char *input_json_path, uint64_t seed, const char *out_dir,
                        co_demogen_stats *stats_out) CO_MUST_CHECK;

/* Formats stats as one human-readable line into out (always NUL-terminated,
 * truncated to n bytes). Returns out. */
char *co_demogen_stats_format(const co_demogen_stats *stats, char *out, size_t n);

#endif
