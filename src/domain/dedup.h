/* dedup.h — duplicate detection (重复件): which open cases are probably the
 * same problem as a new report. Owns
 *   - the text signature: character 2- and 3-gram shingles of a description
 *     and their MinHash (CO_DEDUP_K 32-bit minima), an estimate of the
 *     Jaccard similarity of two shingle sets;
 *   - the rules: per-category search radius and time window, and which
 *     subclasses are related (const tables in dedup.c, docs/internals/dedup.md);
 *   - the score in [0, 1] combining distance, time and text similarity;
 *   - the index: every open, classified, located case in a hash of grid cells
 *     keyed by (category, cell), the cell as large as the category's radius,
 *     kept current by co_dedup_update() after every committed change; and the
 *     master → merged cases relation (co_dedup_merged_of).
 * Threads: one writer (co_dedup_update) and any number of readers (find,
 * merged_of) under the index's own rwlock. The index owns its entries;
 * results are copied into caller arrays. */
#ifndef CO_DOMAIN_DEDUP_H
#define CO_DOMAIN_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "domain/case.h"
#include "lib/err.h"

#define CO_DEDUP_K 32 /* MinHash slots */
/* Score thresholds measured by `cityops bench dedup` (docs/internals/dedup.md):
 * candidates are shown from SHOW; AUTO is the suggested automatic merge. */
#define CO_DEDUP_SHOW 0.25
#define CO_DEDUP_AUTO 0.92

typedef struct co_dedup_sig {
    uint32_t h[CO_DEDUP_K];
    uint16_t nshingles; /* 0: too little text to compare */
} co_dedup_sig;

/* Signature of a UTF-8 text: whitespace and punctuation are dropped, ASCII
 * letters folded to lower case, then every 2- and 3-gram of the remaining
 * characters is a shingle. Invalid UTF-8 bytes count as characters. */
void co_dedup_signature(const char *text, co_dedup_sig *out);
/* Estimated Jaccard similarity of the shingle sets (0 when either is empty). */
double co_dedup_similarity(const co_dedup_sig *a, const co_dedup_sig *b);
/* Number of distinct shingles (exact; for tests and the benchmark). */
size_t co_dedup_shingles(const char *text, uint64_t *out, size_t max);

/* The rule for a category: search radius (metres) and time window (days). */
typedef struct co_dedup_rule {
    double radius_m;
    int window_days;
} co_dedup_rule;
co_dedup_rule co_dedup_rule_of(co_category cat);
/* 2 same subclass, 1 related subclasses, 0 unrelated (or either unclassified). */
int co_dedup_relation(co_category a, co_category b);
/* The rule for a pair (the larger radius and window of the two). */
co_dedup_rule co_dedup_pair_rule(co_category a, co_category b);

/* Ground distance in metres between two WGS84 points (local equirectangular
 * approximation: better than 0.5 % below 10 km). */
double co_dedup_distance(double lon1, double lat1, double lon2, double lat2);

/* The score of a candidate: relation (2 / 1), distance and |time apart|
 * against the pair's rule, text similarity. 0 when outside the radius or
 * the window or unrelated. */
double co_dedup_score(int relation, double distance_m, double age_s, const co_dedup_rule *rule,
                      double text_sim);

/* -------------------------------------------------------------- the index */

typedef struct co_dedup co_dedup;

typedef struct co_dedup_query {
    co_category category;
    double lon, lat;          /* WGS84 */
    int64_t created;          /* Unix seconds */
    const co_dedup_sig *sig;  /* the new report's text */
    int64_t exclude_id;       /* the case itself (0 = none) */
    double min_score;         /* only candidates scoring at least this */
} co_dedup_query;

/* The index keeps the start of each open case's description and address
 * and its finest area code, so that a new report's candidates can be shown
 * without reading the store (intake must not add reads to the store while
 * the writer commits). */
#define CO_DEDUP_TEXT_MAX 384
#define CO_DEDUP_ADDR_MAX 160

typedef struct co_dedup_hit {
    int64_t id;
    char number[CO_NUMBER_MAX];
    co_category category;
    co_state state;
    int64_t created;
    double score, distance_m, text_sim;
    char area[CO_CODE_MAX];                 /* finest area code (grid … district) */
    char description[CO_DEDUP_TEXT_MAX];    /* cut at a character boundary */
    char address[CO_DEDUP_ADDR_MAX];
} co_dedup_hit;

/* A new, empty index; lat_ref is the city's latitude (cell shapes). */
co_dedup *co_dedup_new(double lat_ref);
void co_dedup_free(co_dedup *d);

/* Brings the index up to date with a committed case: open, classified and
 * located cases are (re)indexed, others removed; a merged case is recorded
 * under its master's number. The text signature is computed the first time
 * a case is seen (descriptions do not change). */
void co_dedup_update(co_dedup *d, const co_case *c);
/* The same with a precomputed signature (NULL: computed from c). */
void co_dedup_update_sig(co_dedup *d, const co_case *c, const co_dedup_sig *sig);

/* The best candidates for q, best first: fills at most max hits, returns
 * how many. *visited (may be NULL) receives the number of entries scored. */
size_t co_dedup_find(co_dedup *d, const co_dedup_query *q, co_dedup_hit *out, size_t max,
                     size_t *visited);
/* The signature of an indexed case (0 when the case is not indexed). */
int co_dedup_sig_of(co_dedup *d, int64_t id, co_dedup_sig *out);

/* The ids of the cases merged into the master case number; returns how many
 * there are (fills at most max). */
size_t co_dedup_merged_of(co_dedup *d, const char *master, int64_t *ids, size_t max);

typedef struct co_dedup_info {
    size_t open, cells, merged, bytes;
} co_dedup_info;
void co_dedup_get_info(co_dedup *d, co_dedup_info *out);

#endif
