/* stats.h — dashboard statistics over the projection: one pass over the
 * columns with filters compiled into small integer comparisons, grouped by
 * an area level, category, department, channel, state or a time bucket
 * (day / ISO week / month in Asia/Shanghai), into per-group arrays.
 *
 * Definitions (docs/evaluation.md §stats): open = not closed/voided/merged;
 * overdue = state dispatched|handling with disposal_due < now; late = ever
 * overdue (EVER_OVERDUE or HANDLED_LATE) or overdue now; on-time rate =
 * closed on time / closed; satisfaction rate = (满意 + 0.9 × 基本满意) /
 * visited; avg handling hours = mean(handled_at − dispatched_at).
 *
 * Ownership: co_stats_run fills a caller-owned co_stats_result whose rows
 * it allocates; co_stats_result_free releases them. co_stats_to_table
 * returns a new table the caller frees with co_table_free. Any number of
 * threads may run queries at once, also while the writer applies. */
#ifndef CO_STATS_H
#define CO_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "projection/projection.h"
#include "projection/table.h"

typedef enum co_stats_group {
    CO_STATS_NONE = 0, /* one row: everything that matches */
    CO_STATS_DISTRICT,
    CO_STATS_STREET,
    CO_STATS_COMMUNITY,
    CO_STATS_GRID,     /* heat map */
    CO_STATS_CATEGORY,
    CO_STATS_DEPT,
    CO_STATS_CHANNEL,
    CO_STATS_STATE,
    CO_STATS_DAY,
    CO_STATS_WEEK,     /* ISO weeks, Monday 00:00 +08:00 */
    CO_STATS_MONTH,
    CO_STATS_GROUP_COUNT
} co_stats_group;

typedef enum co_stats_metric {
    CO_SM_COUNT = 0,
    CO_SM_OPEN,
    CO_SM_CLOSED,
    CO_SM_OVERDUE,
    CO_SM_LATE,
    CO_SM_ONTIME_RATE,
    CO_SM_SATISFACTION_RATE,
    CO_SM_AVG_HANDLING_HOURS,
    CO_SM_COUNT_METRICS
} co_stats_metric;

#define CO_SM_ALL ((1u << CO_SM_COUNT_METRICS) - 1)

typedef enum co_stats_overdue {
    CO_STATS_OD_ANY = 0,
    CO_STATS_OD_NOW,  /* overdue now */
    CO_STATS_OD_NOT,  /* not overdue now */
    CO_STATS_OD_EVER  /* late: ever overdue or overdue now */
} co_stats_overdue;

/* Sort order: 0 (the default: series and heat maps by key, the rest by
 * count, descending), CO_STATS_SORT_KEY, or CO_STATS_SORT_BY(metric)
 * (descending, undefined values last). Ties go by key. */
#define CO_STATS_SORT_DEFAULT 0
#define CO_STATS_SORT_KEY (-1)
#define CO_STATS_SORT_BY(m) ((int)(m) + 1)

/* The states a query counts when it names none: all but merged — a duplicate
 * counts once, in its master (ask for state=merged to see them). */
#define CO_STATS_COUNTED (0xffffu & ~(1u << CO_ST_MERGED))

typedef struct co_stats_query {
    co_stats_group group;
    int64_t from, to;       /* created in [from, to), Unix s; 0 = open-ended */
    int64_t now;            /* for "overdue"; 0 = the current time */
    char area[16];          /* area code at any level, "" = all */
    char category[8];       /* "", "E" (kind), "E01" (class) or "E0102" (subclass) */
    char dept[32];          /* department in charge, "" = any */
    unsigned states;        /* mask of 1u << co_state; 0 = CO_STATS_COUNTED */
    unsigned channels;      /* mask of 1u << co_channel; 0 = any */
    co_stats_overdue overdue;
    unsigned metrics;       /* mask of 1u << co_stats_metric; 0 = all */
    int sort;               /* CO_STATS_SORT_DEFAULT, _KEY or _BY(metric) */
    size_t top;             /* keep the first `top` rows after sorting; 0 = all */
    int fill;               /* time groups: also emit empty buckets in the range */
    int threads;            /* 1 (default) or more (at most 16) to split the scan */
} co_stats_query;

#define CO_STATS_KEY_MAX 32
#define CO_STATS_LABEL_MAX 128

typedef struct co_stats_row {
    char key[CO_STATS_KEY_MAX];     /* area/category/department code, channel, date */
    char label[CO_STATS_LABEL_MAX]; /* display name */
    int32_t area;                   /* area index for area groups, else -1 */
    uint64_t count, open, closed, overdue, late, ontime, visited, satisfied, basic, handled;
    double handle_hours;            /* sum over handled */
} co_stats_row;

typedef struct co_stats_result {
    co_stats_group group;
    unsigned metrics;
    co_stats_row totals;   /* over every matching case, not only the rows kept */
    co_stats_row *rows;
    size_t nrows;
    size_t ngroups;        /* groups with cases before top-N */
    uint64_t scanned;      /* rows examined */
    double took_ms;
} co_stats_result;

/* Runs q. CO_ENOTFOUND for an unknown area code, CO_EINVAL for a malformed
 * category, from >= to, or an unknown group. On error *out is empty. */
co_err co_stats_run(co_projection *p, const co_stats_query *q, co_stats_result *out) CO_MUST_CHECK;
void co_stats_result_free(co_stats_result *r);

/* Derived values of a row (NaN when the denominator is 0). */
double co_stats_metric_value(const co_stats_row *row, co_stats_metric m);

/* The result as a table: key, label, [lon, lat for area groups], then the
 * metrics asked for. *out is new (co_table_free). */
co_err co_stats_to_table(const co_projection *p, const co_stats_result *r, co_table **out)
    CO_MUST_CHECK;
/* totals as a JSON object {"count":..,...} (new reference). */
json_t *co_stats_totals_json(const co_stats_result *r);

/* Parsing for query strings; CO_EINVAL when malformed. */
co_err co_stats_group_parse(const char *s, co_stats_group *out) CO_MUST_CHECK;
const char *co_stats_group_name(co_stats_group g);
co_err co_stats_metrics_parse(const char *csv, unsigned *out) CO_MUST_CHECK;
co_err co_stats_metric_parse(const char *s, co_stats_metric *out) CO_MUST_CHECK;
const char *co_stats_metric_name(co_stats_metric m);
/* "open", "closed", state names, comma-separated. */
co_err co_stats_states_parse(const char *csv, unsigned *out) CO_MUST_CHECK;
co_err co_stats_channels_parse(const char *csv, unsigned *out) CO_MUST_CHECK;
/* "1"/"true"/"now", "0"/"false", "ever", "any". */
co_err co_stats_overdue_parse(const char *s, co_stats_overdue *out) CO_MUST_CHECK;
/* "", "C"/"E", "C01", "C0101". */
int co_stats_category_valid(const char *s);

#endif
