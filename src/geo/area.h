/* area.h — the in-memory area hierarchy: city → districts → streets/towns →
 * communities/villages → unit grids, loaded from the store at start-up.
 * Immutable once built (rebuild and swap to change), so any number of threads
 * may read it. Lookups by code are binary searches over a sorted array; each
 * area knows its parent index and the index of its ancestor at every level.
 * Geometry is not kept here (the grid index holds what lookups need). */
#ifndef CO_GEO_AREA_H
#define CO_GEO_AREA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "store/store.h"

#define CO_AREA_CODE_MAX 16
#define CO_AREA_NAME_MAX 96

typedef struct co_area {
    char code[CO_AREA_CODE_MAX];
    char name[CO_AREA_NAME_MAX];
    char parent_code[CO_AREA_CODE_MAX];
    co_level level;
    int32_t parent;              /* index or -1 */
    int32_t up[5];               /* ancestor index per level (self at own level), -1 if none */
    int32_t first_child, nchildren; /* children are contiguous in children[] */
    double area_m2;
    double cx, cy;
    double minx, miny, maxx, maxy;
} co_area;

typedef struct co_areas co_areas;

co_err co_areas_load(co_store *store, co_areas **out) CO_MUST_CHECK;
void co_areas_free(co_areas *a);

size_t co_areas_count(const co_areas *a);
size_t co_areas_count_level(const co_areas *a, co_level level);
const co_area *co_areas_at(const co_areas *a, int32_t idx);
/* Index of the area with this code, or -1. */
int32_t co_areas_find(const co_areas *a, const char *code);
/* Children indexes of area idx (idx -1 = top-level areas, i.e. districts). */
const int32_t *co_areas_children(const co_areas *a, int32_t idx, size_t *n);
/* True when area idx lies in (or is) the area anc. */
int co_areas_within(const co_areas *a, int32_t idx, int32_t anc);
/* The deepest area (community before street before district; never a grid)
 * whose name, or its short form without the 居委会/村委会/委员会 suffix,
 * appears in text. -1 when none does. Ties go to the longer name. */
int32_t co_areas_match_text(const co_areas *a, const char *text);
/* Writes the short display form of an area name (suffix removed). */
void co_area_short_name(const char *name, char *out, size_t len);

/* Level of a code by its shape: 6 district, 9 street, 12 community, 15 grid. */
int co_level_of_code(const char *code);
const char *co_level_name(co_level level);
co_err co_level_parse(const char *s, co_level *out) CO_MUST_CHECK;

#endif
