/* stats.c — dashboard statistics (see stats.h).
 *
 * A query is compiled into a `plan`: the time window as u32 projection
 * times, the area filter as "ordinal at level L == k" (or area index for a
 * grid), a category mask over interned ids, a department id, state and
 * channel masks. Each chunk is then processed like a vectorised engine:
 * every active filter refines a selection vector of row numbers in one tight
 * loop over one column, the group key of each selected row is computed into
 * an array, and the metrics are accumulated into per-group counters
 * indexed by that key (arrays, never hash maps). Chunks wholly inside the
 * time window skip the time test (zone maps), chunks outside are skipped.
 *
 * Ownership: per-query buffers (selection, keys, counters) are allocated
 * and freed here; result rows belong to the caller (co_stats_result_free). */
#include "projection/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "projection/projection_int.h"

#define DAY 86400u
#define NDAYS (UINT32_MAX / DAY + 1)
#define EPOCH_DAYS 18262 /* days from 1970-01-01 to 2020-01-01 */

/* ------------------------------------------------------------ metric table */

typedef struct metric_def {
    const char *key, *zh, *en;
    co_table_type type;
} metric_def;

static const metric_def metric_defs[CO_SM_COUNT_METRICS] = {
    [CO_SM_COUNT] = {"count", "案件数", "Cases", CO_TT_INT},
    [CO_SM_OPEN] = {"open", "未办结", "Open", CO_TT_INT},
    [CO_SM_CLOSED] = {"closed", "已结案", "Closed", CO_TT_INT},
    [CO_SM_OVERDUE] = {"overdue", "超期未办结", "Overdue now", CO_TT_INT},
    [CO_SM_LATE] = {"late", "曾超期", "Ever overdue", CO_TT_INT},
    [CO_SM_ONTIME_RATE] = {"ontime_rate", "按期结案率", "On-time closure rate", CO_TT_RATE},
    [CO_SM_SATISFACTION_RATE] = {"satisfaction_rate", "满意率", "Satisfaction rate", CO_TT_RATE},
    [CO_SM_AVG_HANDLING_HOURS] = {"avg_handling_hours", "平均处置时长(小时)",
                                  "Avg handling hours", CO_TT_NUM},
};

static const char *const group_names[CO_STATS_GROUP_COUNT] = {
    "none", "district", "street", "community", "grid", "category",
    "department", "channel", "state", "day", "week", "month",
};

#define HIST_MAX_KEYS 512

/* What a metric needs computed per row. */
enum { NEED_SB = 1, NEED_OVERDUE = 2, NEED_HANDLE = 4 };

static unsigned needs_of(unsigned metrics)
{
    unsigned n = 0;
    if (metrics & ((1u << CO_SM_OPEN) | (1u << CO_SM_CLOSED) | (1u << CO_SM_ONTIME_RATE) |
                   (1u << CO_SM_SATISFACTION_RATE)))
        n |= NEED_SB;
    if (metrics & ((1u << CO_SM_OVERDUE) | (1u << CO_SM_LATE)))
        n |= NEED_OVERDUE;
    if (metrics & (1u << CO_SM_AVG_HANDLING_HOURS))
        n |= NEED_HANDLE;
    return n;
}

/* ------------------------------------------------------------- month table */

static uint16_t *month_of_day;
static pthread_once_t month_once = PTHREAD_ONCE_INIT;

static void month_init(void)
{
    month_of_day = co_xmalloc(NDAYS * sizeof *month_of_day);
    for (uint32_t d = 0; d < NDAYS; d++) {
        int y, m, dd;
        co_civil_from_days(EPOCH_DAYS + (int64_t)d, &y, &m, &dd);
        month_of_day[d] = (uint16_t)((y - 2020) * 12 + (m - 1));
    }
}

static uint32_t time_key(co_stats_group g, uint32_t t)
{
    uint32_t d = t / DAY;
    switch (g) {
    case CO_STATS_DAY: return d;
    case CO_STATS_WEEK: return (d + 2) / 7; /* 2019-12-30 (Monday) is day -2 */
    default: return month_of_day[d];
    }
}

/* First instant (projection time) of time bucket k. */
static int64_t bucket_start(co_stats_group g, uint32_t k)
{
    if (g == CO_STATS_DAY)
        return (int64_t)k * DAY;
    if (g == CO_STATS_WEEK)
        return ((int64_t)k * 7 - 2) * DAY;
    int y = 2020 + (int)(k / 12), m = (int)(k % 12) + 1;
    return (co_days_from_civil(y, m, 1) - EPOCH_DAYS) * DAY;
}

static int is_time_group(co_stats_group g)
{
    return g == CO_STATS_DAY || g == CO_STATS_WEEK || g == CO_STATS_MONTH;
}

/* ------------------------------------------------------------------- plan */

typedef struct gacc {
    uint32_t count, open, closed, overdue, late, ontime, visited, sat, basic, handled;
    uint64_t hsec;
} gacc;

typedef struct plan {
    co_stats_group group;
    uint32_t from, to;       /* [from, to) projection time; to = 0: open */
    int timed;
    int area_lvl;            /* -1 none, 0..2 ordinal level, 3 area index */
    uint32_t area_key;
    uint8_t *catmask;        /* NULL = any; CO_PROJ_CAT_SPACE entries */
    int dept;                /* -1 any */
    unsigned states, chans;  /* 0 = any */
    co_stats_overdue overdue;
    uint32_t now;
    unsigned need;
    uint32_t key_base;       /* time groups: key of the first bucket */
    size_t nkeys;
    int hist;                /* count (key, status byte) pairs instead of counters */
    int empty;               /* nothing can match */
} plan;

static const uint8_t open_state[16] = {
    [CO_ST_REGISTERED] = 1, [CO_ST_VERIFYING] = 1, [CO_ST_FILED] = 1, [CO_ST_DISPATCHED] = 1,
    [CO_ST_HANDLING] = 1, [CO_ST_SUSPENDED] = 1, [CO_ST_HANDLED] = 1, [CO_ST_CHECKING] = 1,
    [CO_ST_CHECKED] = 1,
};

static int overdue_now(const co_proj_chunk *ch, uint32_t r, uint32_t now)
{
    unsigned st = ch->sb[r] & CO_SB_STATE;
    uint32_t d = ch->due[r];
    return (st == CO_ST_DISPATCHED || st == CO_ST_HANDLING) && d && d < now;
}

/* Category filter: kind ("E"), class ("E01") or subclass ("E0102"). */
static int category_matches(co_category c, const char *f)
{
    char code[8];
    co_category_format(c, code);
    return code[0] && !strncmp(code, f, strlen(f));
}

static void compile_categories(co_projection *p, const char *f, plan *pl)
{
    if (!f[0])
        return;
    pl->catmask = co_xcalloc(CO_PROJ_CAT_SPACE, 1);
    int any = 0;
    for (size_t i = 1; i < p->ncat; i++)
        if (category_matches(p->id_cat[i], f))
            any = pl->catmask[i] = 1;
    pl->empty |= !any;
}

static co_err compile_area(co_projection *p, const char *code, plan *pl)
{
    pl->area_lvl = -1;
    if (!code[0])
        return CO_OK;
    int32_t a = p->areas ? co_areas_find(p->areas, code) : -1;
    if (a < 0)
        return CO_ENOTFOUND;
    int l = (int)p->area_level[a] - CO_LEVEL_DISTRICT;
    if (l >= 0 && l < 3) {
        pl->area_lvl = l;
        pl->area_key = p->area_ord[a];
    } else {
        pl->area_lvl = 3;
        pl->area_key = (uint32_t)a;
    }
    return CO_OK;
}

static void data_range(co_projection *p, uint32_t *lo, uint32_t *hi)
{
    *lo = UINT32_MAX;
    *hi = 0;
    for (size_t i = 0; i < p->nchunks; i++) {
        const co_proj_chunk *ch = p->chunks[i];
        if (!ch->n)
            continue;
        *lo = ch->tmin < *lo ? ch->tmin : *lo;
        *hi = ch->tmax > *hi ? ch->tmax : *hi;
    }
}

/* Time groups: bound the scan to whole buckets and size the key space. */
static void compile_time_keys(co_projection *p, plan *pl)
{
    pthread_once(&month_once, month_init);
    uint32_t lo, hi;
    data_range(p, &lo, &hi);
    if (pl->from)
        lo = pl->from;
    if (pl->to)
        hi = pl->to - 1;
    else if (pl->now > hi)
        hi = pl->now;
    if (lo > hi) {
        pl->empty = 1;
        lo = hi;
    }
    pl->key_base = time_key(pl->group, lo);
    pl->nkeys = time_key(pl->group, hi) - pl->key_base + 1;
    pl->to = hi == UINT32_MAX ? 0 : hi + 1;
    pl->from = lo;
    pl->timed = 1;
}

static size_t group_keys(const co_projection *p, co_stats_group g)
{
    switch (g) {
    case CO_STATS_DISTRICT:
    case CO_STATS_STREET:
    case CO_STATS_COMMUNITY: return p->nord[g - CO_STATS_DISTRICT] + 1;
    case CO_STATS_GRID: return p->nareas + 1;
    case CO_STATS_CATEGORY: return p->ncat + 64;
    case CO_STATS_DEPT: return p->depts.n + 64;
    case CO_STATS_CHANNEL: return CO_CH_COUNT;
    case CO_STATS_STATE: return CO_ST_COUNT;
    default: return 1;
    }
}

/* Under the read lock. */
static co_err compile(co_projection *p, const co_stats_query *q, plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if ((unsigned)q->group >= CO_STATS_GROUP_COUNT || !co_stats_category_valid(q->category))
        return CO_EINVAL;
    if (q->from && q->to && q->from >= q->to)
        return CO_EINVAL;
    pl->group = q->group;
    pl->from = q->from ? co_proj_time(q->from) : 0;
    pl->to = q->to ? co_proj_time(q->to) : 0;
    pl->timed = pl->from || pl->to;
    pl->now = co_proj_time(q->now ? q->now : co_time_now());
    pl->states = q->states ? q->states : CO_STATS_COUNTED;
    pl->chans = q->channels;
    pl->overdue = q->overdue;
    pl->need = needs_of(q->metrics ? q->metrics : CO_SM_ALL);
    pl->dept = -1;
    co_err rc = compile_area(p, q->area, pl);
    if (rc)
        return rc;
    if (q->dept[0]) {
        pl->dept = co_proj_intern_find(&p->depts, q->dept);
        pl->empty |= pl->dept <= 0;
    }
    compile_categories(p, q->category, pl);
    if (is_time_group(q->group))
        compile_time_keys(p, pl);
    else
        pl->nkeys = group_keys(p, q->group);
    /* a (key × status byte) histogram replaces seven counters per row when
     * it stays small (≤ 512 KiB) */
    pl->hist = (pl->need & NEED_SB) && pl->nkeys <= HIST_MAX_KEYS;
    return CO_OK;
}

/* ----------------------------------------------------------------- worker */

typedef struct worker {
    co_projection *p;
    const plan *pl;
    gacc *a;
    uint32_t *hist;          /* nkeys × 256 when pl->hist */
    uint32_t *sel, *key;
    uint64_t scanned;
} worker;

/* Loops over the current selection: r = row number, j = position. */
#define EACH(...)                                                                                  \
    do {                                                                                           \
        if (dense) {                                                                               \
            for (uint32_t r = 0; r < m; r++) {                                                     \
                uint32_t j = r;                                                                    \
                (void)j;                                                                           \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (uint32_t j = 0; j < m; j++) {                                                     \
                uint32_t r = sel[j];                                                               \
                (void)r;                                                                           \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Keeps the selected rows for which cond (in terms of r) holds. */
#define REFINE(cond)                                                                               \
    do {                                                                                           \
        uint32_t m_ = 0;                                                                           \
        EACH({                                                                                     \
            sel[m_] = r;                                                                           \
            m_ += (cond) ? 1u : 0u;                                                                \
        });                                                                                        \
        m = m_;                                                                                    \
        dense = 0;                                                                                 \
    } while (0)

#define OPEN_STATES                                                                                \
    ((1u << CO_ST_REGISTERED) | (1u << CO_ST_VERIFYING) | (1u << CO_ST_FILED) |                    \
     (1u << CO_ST_DISPATCHED) | (1u << CO_ST_HANDLING) | (1u << CO_ST_SUSPENDED) |                 \
     (1u << CO_ST_HANDLED) | (1u << CO_ST_CHECKING) | (1u << CO_ST_CHECKED))

/* 1 when a row of the chunk is in a state the plan does not want (the
 * per-chunk state counts are exact): otherwise the state filter is a no-op. */
static int has_unwanted_state(const plan *pl, const co_proj_chunk *ch)
{
    for (unsigned s = 0; s < 16; s++)
        if (!(pl->states >> s & 1u) && ch->nstate[s])
            return 1;
    return 0;
}

/* When only open states can match and few rows of the chunk are open, the
 * open-row bitmap gives the candidate rows directly. Returns 1 if it did. */
static int seed_open(const plan *pl, const co_proj_chunk *ch, uint32_t n, uint32_t *sel,
                     uint32_t *m)
{
    unsigned want = pl->states ? pl->states : 0xffffu;
    if (pl->overdue == CO_STATS_OD_NOW)
        want &= (1u << CO_ST_DISPATCHED) | (1u << CO_ST_HANDLING);
    if (want & ~OPEN_STATES)
        return 0;
    uint32_t nopen = 0;
    for (unsigned s = 0; s < 16; s++)
        nopen += (OPEN_STATES >> s & 1u) ? ch->nstate[s] : 0;
    if (nopen * 8 > n)
        return 0;
    uint32_t k = 0;
    for (uint32_t w = 0; w * 64 < n; w++)
        for (uint64_t b = ch->open_bits[w]; b; b &= b - 1)
            sel[k++] = w * 64 + (uint32_t)__builtin_ctzll(b);
    *m = k;
    return 1;
}

/* Narrows a chunk's rows to those matching the plan, into sel (or, when
 * *densep comes back 1, all of 0..m-1). With seeded (m rows already in sel)
 * the filters start from those rows, which the deadline heap has found
 * overdue under the same read lock (so that test is not repeated). */
static uint32_t filter_from(const plan *pl, const co_proj_chunk *ch, uint32_t n, int inside,
                            uint32_t *sel, uint32_t seeded, int *densep)
{
    uint32_t m = n;
    int dense;
    if (seeded) {
        m = seeded;
        dense = 0;
    } else
        dense = !seed_open(pl, ch, n, sel, &m);
    uint32_t from = pl->from, to = pl->to ? pl->to : UINT32_MAX, k = pl->area_key;
    if (pl->timed && !inside)
        REFINE(ch->created[r] >= from && ch->created[r] < to);
    if (m && pl->area_lvl >= 0 && pl->area_lvl < 3) {
        const uint16_t *col = ch->lvl[pl->area_lvl];
        REFINE(col[r] == k);
    } else if (m && pl->area_lvl == 3)
        REFINE(ch->area[r] == (int32_t)k);
    if (m && pl->catmask)
        REFINE(pl->catmask[ch->cat[r]]);
    if (m && pl->dept >= 0)
        REFINE(ch->dept[r] == (uint16_t)pl->dept);
    if (m && pl->states && has_unwanted_state(pl, ch))
        REFINE((pl->states >> (ch->sb[r] & CO_SB_STATE)) & 1u);
    if (m && pl->chans)
        REFINE((pl->chans >> ch->channel[r]) & 1u);
    uint32_t now = pl->now;
    if (m && pl->overdue == CO_STATS_OD_NOW && !seeded)
        REFINE(overdue_now(ch, r, now));
    else if (m && pl->overdue == CO_STATS_OD_NOT)
        REFINE(!overdue_now(ch, r, now));
    else if (m && pl->overdue == CO_STATS_OD_EVER)
        REFINE((ch->sb[r] & CO_SB_LATE) || overdue_now(ch, r, now));
    *densep = dense;
    return m;
}

static uint32_t filter(const plan *pl, const co_proj_chunk *ch, uint32_t n, int inside,
                       uint32_t *sel, int *densep)
{
    return filter_from(pl, ch, n, inside, sel, 0, densep);
}

static void keys(const co_projection *p, const plan *pl, const co_proj_chunk *ch, uint32_t m,
                 int dense, const uint32_t *sel, uint32_t *key)
{
    uint32_t nk = (uint32_t)pl->nkeys, base = pl->key_base;
    const uint16_t *col16 = NULL;
    switch (pl->group) {
    case CO_STATS_NONE: EACH({ key[j] = 0; }); return;
    case CO_STATS_DISTRICT:
    case CO_STATS_STREET:
    case CO_STATS_COMMUNITY: col16 = ch->lvl[pl->group - CO_STATS_DISTRICT]; break;
    case CO_STATS_CATEGORY: col16 = ch->cat; break;
    case CO_STATS_DEPT: col16 = ch->dept; break;
    case CO_STATS_GRID: {
        const uint8_t *lv = p->area_level;
        EACH({
            int32_t a = ch->area[r];
            key[j] = a >= 0 && lv[a] == CO_LEVEL_GRID ? (uint32_t)a + 1 : 0;
        });
        return;
    }
    case CO_STATS_CHANNEL: EACH({ key[j] = ch->channel[r] < nk ? ch->channel[r] : 0; }); return;
    case CO_STATS_STATE: EACH({ key[j] = ch->sb[r] & CO_SB_STATE; }); return;
    default: {
        co_stats_group g = pl->group;
        EACH({
            uint32_t k = time_key(g, ch->created[r]) - base;
            key[j] = k < nk ? k : 0;
        });
        return;
    }
    }
    EACH({ key[j] = col16[r] < nk ? col16[r] : 0; });
}

/* Rows arrive in time order, so time keys come in long runs: count a run
 * in a register instead of incrementing the same counter row after row. */
static void count_runs(const uint32_t *key, uint32_t m, gacc *A)
{
    uint32_t run = 0, k = m ? key[0] : 0;
    for (uint32_t j = 0; j < m; j++) {
        if (key[j] != k) {
            A[k].count += run;
            k = key[j];
            run = 0;
        }
        run++;
    }
    A[k].count += run;
}

static void accumulate(const plan *pl, const co_proj_chunk *ch, uint32_t m, int dense,
                       const uint32_t *sel, const uint32_t *key, gacc *A, uint32_t *H)
{
    if (pl->hist)
        EACH({ H[(size_t)key[j] << 8 | ch->sb[r]]++; });
    else if (is_time_group(pl->group))
        count_runs(key, m, A);
    else
        EACH({ A[key[j]].count++; });
    if ((pl->need & NEED_SB) && !pl->hist)
        EACH({
            gacc *a = &A[key[j]];
            unsigned s = ch->sb[r], st = s & CO_SB_STATE, v = CO_SB_VISIT(s);
            a->open += open_state[st];
            a->closed += st == CO_ST_CLOSED;
            a->ontime += (s & CO_SB_ONTIME) != 0;
            a->visited += v != 0;
            a->sat += v == 1;
            a->basic += v == 2;
        });
    uint32_t now = pl->now;
    if (pl->need & NEED_OVERDUE)
        EACH({
            gacc *a = &A[key[j]];
            int ov = overdue_now(ch, r, now);
            a->overdue += (uint32_t)ov;
            a->late += (ch->sb[r] & CO_SB_LATE) ? 1u : (uint32_t)ov;
        });
    if (pl->need & NEED_HANDLE)
        EACH({
            uint32_t h = ch->handled[r], d = ch->dispatched[r];
            if (h && d) {
                gacc *a = &A[key[j]];
                a->handled++;
                a->hsec += h > d ? h - d : 0;
            }
        });
}

/* Skips chunks without a row in a wanted state (per-chunk state counts). */
static int chunk_may_match(const plan *pl, const co_proj_chunk *ch)
{
    unsigned want = pl->states ? pl->states : 0xffffu;
    if (pl->overdue == CO_STATS_OD_NOW)
        want &= (1u << CO_ST_DISPATCHED) | (1u << CO_ST_HANDLING);
    uint32_t n = 0;
    for (unsigned s = 0; s < 16; s++)
        n += (want >> s & 1u) ? ch->nstate[s] : 0;
    return n != 0;
}

/* Folds a status-byte histogram into the counters. */
static void fold_hist(const plan *pl, const uint32_t *H, gacc *A)
{
    for (size_t k = 0; k < pl->nkeys; k++)
        for (unsigned s = 0; s < 256; s++) {
            uint32_t h = H[k << 8 | s];
            if (!h)
                continue;
            unsigned st = s & CO_SB_STATE, v = CO_SB_VISIT(s);
            gacc *a = &A[k];
            a->count += h;
            a->open += open_state[st] ? h : 0;
            a->closed += st == CO_ST_CLOSED ? h : 0;
            a->ontime += (s & CO_SB_ONTIME) ? h : 0;
            a->visited += v ? h : 0;
            a->sat += v == 1 ? h : 0;
            a->basic += v == 2 ? h : 0;
        }
}

static int scan_chunk(void *ctx, const co_proj_chunk *ch, uint32_t n, int inside)
{
    worker *w = ctx;
    int dense;
    w->scanned += n;
    if (!chunk_may_match(w->pl, ch))
        return 0;
    uint32_t m = filter(w->pl, ch, n, inside, w->sel, &dense);
    if (!m)
        return 0;
    keys(w->p, w->pl, ch, m, dense, w->sel, w->key);
    accumulate(w->pl, ch, m, dense, w->sel, w->key, w->a, w->hist);
    return 0;
}

typedef struct job {
    worker w;
    size_t stride;
} job;

static void run_job(size_t i, void *ctx)
{
    job *jb = ctx;
    co_proj_scan(jb->w.p, jb->w.pl->from, jb->w.pl->to, i, jb->stride, scan_chunk, &jb->w);
}

static void acc_add(gacc *x, const gacc *y)
{
    x->count += y->count;
    x->open += y->open;
    x->closed += y->closed;
    x->overdue += y->overdue;
    x->late += y->late;
    x->ontime += y->ontime;
    x->visited += y->visited;
    x->sat += y->sat;
    x->basic += y->basic;
    x->handled += y->handled;
    x->hsec += y->hsec;
}

/* Orders rows by chunk (counting sort on the chunk number; rows within a
 * chunk keep their order), into out. */
static void group_by_chunk(const uint32_t *rows, size_t n, size_t nchunks, uint32_t *out)
{
    size_t *start = co_xcalloc(nchunks + 1, sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[rows[i] / CO_PROJ_CHUNK + 1]++;
    for (size_t c = 0; c < nchunks; c++)
        start[c + 1] += start[c];
    for (size_t i = 0; i < n; i++)
        out[start[rows[i] / CO_PROJ_CHUNK]++] = rows[i];
    co_free(start);
}

/* One chunk's share of the heap's candidates (rows[0..n), all in chunk c).
 * The caller holds the read lock. */
static void scan_seeded(worker *w, size_t c, const uint32_t *rows, size_t n)
{
    const plan *pl = w->pl;
    const co_proj_chunk *ch = w->p->chunks[c];
    uint32_t cn = ch->n, from = pl->from, to = pl->to;
    int meets = cn && ch->tmax >= from && (!to || ch->tmin < to);
    int inside = ch->tmin >= from && (!to || ch->tmax < to);
    uint32_t k = 0;
    for (size_t i = 0; meets && i < n; i++)
        w->sel[k++] = rows[i] % CO_PROJ_CHUNK;
    int dense;
    uint32_t m = k ? filter_from(pl, ch, cn, inside, w->sel, k, &dense) : 0;
    if (m) {
        keys(w->p, pl, ch, m, dense, w->sel, w->key);
        accumulate(pl, ch, m, dense, w->sel, w->key, w->a, w->hist);
    }
}

/* Overdue-now plans read the deadline heap instead of scanning: only the
 * rows whose running deadline has passed are visited, under one hold of
 * the read lock (tens of microseconds: no longer than one chunk's scan). */
static gacc *scan_overdue(co_projection *p, const plan *pl, uint64_t *scanned)
{
    worker w = {p, pl, co_xcalloc(pl->nkeys, sizeof(gacc)),
                pl->hist ? co_xcalloc(pl->nkeys << 8, sizeof(uint32_t)) : NULL, NULL, NULL, 0};
    uint32_t *found = NULL, *rows = NULL;
    co_proj_rdlock(p);
    size_t n = co_proj_dueheap_before(p, pl->now, &found);
    if (n) {
        /* a chunk's share never exceeds n: selection and keys need no more */
        rows = co_xmalloc(n * sizeof *rows);
        w.sel = co_xmalloc(n * sizeof *w.sel);
        w.key = co_xmalloc(n * sizeof *w.key);
        group_by_chunk(found, n, p->nchunks, rows);
    }
    for (size_t i = 0; i < n;) {
        size_t c = rows[i] / CO_PROJ_CHUNK, j = i;
        while (j < n && rows[j] / CO_PROJ_CHUNK == c)
            j++;
        scan_seeded(&w, c, rows + i, j - i);
        i = j;
    }
    co_proj_unlock(p);
    *scanned = n;
    if (w.hist)
        fold_hist(pl, w.hist, w.a);
    co_free(found);
    co_free(rows);
    co_free(w.hist);
    co_free(w.sel);
    co_free(w.key);
    return w.a;
}

/* Scans with k threads; returns the merged counters (caller frees). */
static gacc *scan(co_projection *p, const plan *pl, size_t k, uint64_t *scanned)
{
    if (pl->overdue == CO_STATS_OD_NOW)
        return scan_overdue(p, pl, scanned);
    job *jobs = co_xcalloc(k, sizeof *jobs);
    for (size_t i = 0; i < k; i++) {
        jobs[i].w = (worker){p, pl, co_xcalloc(pl->nkeys, sizeof(gacc)),
                             pl->hist ? co_xcalloc(pl->nkeys << 8, sizeof(uint32_t)) : NULL,
                             co_xmalloc(CO_PROJ_CHUNK * sizeof(uint32_t)),
                             co_xmalloc(CO_PROJ_CHUNK * sizeof(uint32_t)), 0};
        jobs[i].stride = k;
    }
    co_proj_parallel(k, run_job, jobs, sizeof *jobs);
    gacc *out = jobs[0].w.a;
    *scanned = 0;
    for (size_t i = 0; i < k; i++) {
        if (jobs[i].w.hist)
            fold_hist(pl, jobs[i].w.hist, jobs[i].w.a);
        co_free(jobs[i].w.hist);
        for (size_t g = 0; i && g < pl->nkeys; g++)
            acc_add(&out[g], &jobs[i].w.a[g]);
        *scanned += jobs[i].w.scanned;
        if (i)
            co_free(jobs[i].w.a);
        co_free(jobs[i].w.sel);
        co_free(jobs[i].w.key);
    }
    co_free(jobs);
    return out;
}

/* ----------------------------------------------------------------- result */

static void row_from_acc(co_stats_row *row, const gacc *a)
{
    row->count += a->count;
    row->open += a->open;
    row->closed += a->closed;
    row->overdue += a->overdue;
    row->late += a->late;
    row->ontime += a->ontime;
    row->visited += a->visited;
    row->satisfied += a->sat;
    row->basic += a->basic;
    row->handled += a->handled;
    row->handle_hours += (double)a->hsec / 3600.0;
}

double co_stats_metric_value(const co_stats_row *row, co_stats_metric m)
{
    switch (m) {
    case CO_SM_COUNT: return (double)row->count;
    case CO_SM_OPEN: return (double)row->open;
    case CO_SM_CLOSED: return (double)row->closed;
    case CO_SM_OVERDUE: return (double)row->overdue;
    case CO_SM_LATE: return (double)row->late;
    case CO_SM_ONTIME_RATE: return row->closed ? (double)row->ontime / (double)row->closed : NAN;
    case CO_SM_SATISFACTION_RATE:
        return row->visited
                   ? ((double)row->satisfied + 0.9 * (double)row->basic) / (double)row->visited
                   : NAN;
    case CO_SM_AVG_HANDLING_HOURS:
        return row->handled ? row->handle_hours / (double)row->handled : NAN;
    default: return NAN;
    }
}

static void format_day(int64_t pt, char *out, size_t n)
{
    int y, m, d;
    co_civil_from_days(EPOCH_DAYS + pt / DAY, &y, &m, &d);
    snprintf(out, n, "%04d-%02d-%02d", y, m, d);
}

static void time_labels(co_stats_group g, uint32_t k, co_stats_row *row)
{
    int64_t start = bucket_start(g, k);
    char day[16];
    format_day(start, day, sizeof day);
    if (g == CO_STATS_DAY) {
        snprintf(row->key, sizeof row->key, "%s", day);
        snprintf(row->label, sizeof row->label, "%s", day);
    } else if (g == CO_STATS_MONTH) {
        snprintf(row->key, sizeof row->key, "%.7s", day);
        snprintf(row->label, sizeof row->label, "%.7s", day);
    } else {
        /* ISO week: the year and number of the week's Thursday */
        int64_t thu = EPOCH_DAYS + start / DAY + 3;
        int y, m, d;
        co_civil_from_days(thu, &y, &m, &d);
        int64_t w = (thu - co_days_from_civil(y, 1, 1)) / 7 + 1;
        snprintf(row->key, sizeof row->key, "%04d-W%02d", y, (int)w);
        snprintf(row->label, sizeof row->label, "%s", day);
    }
}

static void copy(char *dst, size_t n, const char *src)
{
    size_t k = strnlen(src, n - 1);
    memcpy(dst, src, k);
    dst[k] = '\0';
}

/* Codes under the read lock (interned strings may move when the writer
 * grows a table); display names are looked up after it is released. */
static void key_of(co_projection *p, const plan *pl, uint32_t k, co_stats_row *row)
{
    row->area = -1;
    const co_area *a = NULL;
    switch (pl->group) {
    case CO_STATS_NONE: copy(row->key, sizeof row->key, "all"); break;
    case CO_STATS_DISTRICT:
    case CO_STATS_STREET:
    case CO_STATS_COMMUNITY: row->area = k ? p->ord_area[pl->group - CO_STATS_DISTRICT][k] : -1; break;
    case CO_STATS_GRID: row->area = k ? (int32_t)k - 1 : -1; break;
    case CO_STATS_CATEGORY: co_category_format(k < p->ncat ? p->id_cat[k] : 0, row->key); break;
    case CO_STATS_DEPT:
        copy(row->key, sizeof row->key, co_proj_intern_str(&p->depts, k));
        break;
    case CO_STATS_CHANNEL: copy(row->key, sizeof row->key, co_channel_name((co_channel)k)); break;
    case CO_STATS_STATE: copy(row->key, sizeof row->key, co_state_name((co_state)k)); break;
    default: time_labels(pl->group, pl->key_base + k, row); return;
    }
    if (row->area >= 0 && (a = co_areas_at(p->areas, row->area)) != NULL) {
        copy(row->key, sizeof row->key, a->code);
        copy(row->label, sizeof row->label, a->name);
    }
}

static void label_of(const co_projection_names *nm, const plan *pl, uint32_t k, co_stats_row *row)
{
    if (row->label[0])
        return;
    int ok = 0;
    switch (pl->group) {
    case CO_STATS_NONE: snprintf(row->label, sizeof row->label, "合计 Total"); return;
    case CO_STATS_CATEGORY:
        if (k && nm && nm->category) {
            co_category c = CO_CATEGORY_NONE;
            if (co_category_parse(row->key, &c) == CO_OK)
                ok = nm->category(nm->ctx, c, row->label, sizeof row->label);
        }
        break;
    case CO_STATS_DEPT:
        if (k && nm && nm->dept)
            ok = nm->dept(nm->ctx, row->key, row->label, sizeof row->label);
        break;
    case CO_STATS_CHANNEL:
        snprintf(row->label, sizeof row->label, "%s", co_channel_name_zh((co_channel)k));
        return;
    case CO_STATS_STATE:
        snprintf(row->label, sizeof row->label, "%s", co_state_name_zh((co_state)k));
        return;
    default: break;
    }
    if (!ok)
        snprintf(row->label, sizeof row->label, "%s", row->key[0] ? row->key : "(未指定 none)");
}

typedef struct sort_ent {
    double v;      /* metric value; NaN sorts last */
    uint32_t i;    /* row index */
} sort_ent;

static _Thread_local const co_stats_row *sort_rows_base;
static _Thread_local int sort_by_index; /* rows were built in key order */

static int cmp_ent(const void *x, const void *y)
{
    const sort_ent *a = x, *b = y;
    int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb)
        return na - nb;
    if (!na && a->v != b->v)
        return a->v > b->v ? -1 : 1;
    if (sort_by_index)
        return a->i < b->i ? -1 : a->i > b->i;
    return strcmp(sort_rows_base[a->i].key, sort_rows_base[b->i].key);
}

/* Sorts an index (16-byte entries, values computed once), then gathers
 * the first `top` rows in that order. */
static void sort_rows(const co_stats_query *q, co_stats_result *r)
{
    int m = q->sort - 1; /* a metric, or CO_STATS_SORT_KEY - 1 for the key */
    if (q->sort == CO_STATS_SORT_DEFAULT) /* series and heat maps in key order */
        m = is_time_group(q->group) || q->group == CO_STATS_GRID ? -1 : CO_SM_COUNT;
    else if (q->sort == CO_STATS_SORT_KEY)
        m = -1;
    if (m >= CO_SM_COUNT_METRICS)
        m = CO_SM_COUNT;
    size_t n = r->nrows, keep = q->top && n > q->top ? q->top : n;
    /* area ordinals follow code order and time buckets follow time, so the
     * build order is already key order; interned ids (category, department)
     * are in arrival order and need the string compare */
    sort_by_index = q->group != CO_STATS_CATEGORY && q->group != CO_STATS_DEPT;
    if (m < 0 && sort_by_index) {
        r->nrows = keep;
        return;
    }
    sort_ent *e = co_xmalloc((n ? n : 1) * sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = (sort_ent){m < 0 ? 0 : co_stats_metric_value(&r->rows[i], (co_stats_metric)m),
                          (uint32_t)i};
    sort_rows_base = r->rows;
    qsort(e, n, sizeof *e, cmp_ent);
    co_stats_row *out = co_xmalloc((keep ? keep : 1) * sizeof *out);
    for (size_t i = 0; i < keep; i++)
        out[i] = r->rows[e[i].i];
    co_free(e);
    co_free(r->rows);
    r->rows = out;
    r->nrows = keep;
}

static void build_rows(co_projection *p, const co_stats_query *q, const plan *pl, const gacc *A,
                       co_stats_result *r)
{
    int fill = q->fill && is_time_group(q->group) && !pl->empty;
    size_t want = 0;
    for (size_t k = 0; k < pl->nkeys; k++)
        want += A[k].count || fill;
    r->rows = co_xcalloc(want ? want : 1, sizeof *r->rows);
    /* only interned codes can move; areas and time buckets need no lock */
    int lock = q->group == CO_STATS_CATEGORY || q->group == CO_STATS_DEPT;
    if (lock)
        co_proj_rdlock(p);
    for (size_t k = 0; k < pl->nkeys; k++) {
        row_from_acc(&r->totals, &A[k]);
        if (!A[k].count && !fill)
            continue;
        co_stats_row *row = &r->rows[r->nrows++];
        row_from_acc(row, &A[k]);
        key_of(p, pl, (uint32_t)k, row);
    }
    if (lock)
        co_proj_unlock(p);
    co_proj_rdlock(p);
    const co_projection_names nm = p->names;
    int has = p->has_names;
    co_proj_unlock(p);
    /* labels need the key index: recompute it from the position */
    for (size_t i = 0, k = 0; i < r->nrows; k++) {
        if (!A[k].count && !fill)
            continue;
        label_of(has ? &nm : NULL, pl, (uint32_t)k, &r->rows[i++]);
    }
    for (size_t i = 0; i < r->nrows; i++)
        r->ngroups += r->rows[i].count > 0;
    snprintf(r->totals.key, sizeof r->totals.key, "total");
    snprintf(r->totals.label, sizeof r->totals.label, "合计 Total");
    r->totals.area = -1;
    sort_rows(q, r);
}

co_err co_stats_run(co_projection *p, const co_stats_query *q, co_stats_result *out)
{
    double t0 = co_time_mono();
    memset(out, 0, sizeof *out);
    plan pl;
    co_proj_rdlock(p);
    co_err rc = compile(p, q, &pl);
    co_proj_unlock(p);
    if (rc)
        goto out;
    size_t k = q->threads > 1 ? (size_t)(q->threads < 16 ? q->threads : 16) : 1;
    gacc *A;
    if (pl.empty)
        A = co_xcalloc(pl.nkeys ? pl.nkeys : 1, sizeof *A);
    else
        A = scan(p, &pl, k, &out->scanned);
    out->group = q->group;
    out->metrics = q->metrics ? q->metrics : CO_SM_ALL;
    build_rows(p, q, &pl, A, out);
    co_free(A);
    out->took_ms = (co_time_mono() - t0) * 1000.0;
out:
    co_free(pl.catmask);
    return rc;
}

void co_stats_result_free(co_stats_result *r)
{
    if (!r)
        return;
    co_free(r->rows);
    r->rows = NULL;
    r->nrows = 0;
}

/* ------------------------------------------------------------------ table */

static int is_area_group(co_stats_group g)
{
    return g >= CO_STATS_DISTRICT && g <= CO_STATS_GRID;
}

co_err co_stats_to_table(const co_projection *p, const co_stats_result *r, co_table **out)
{
    co_table *t = co_table_new("stats");
    co_table_col(t, "key", "编码", "Key", CO_TT_STR);
    co_table_col(t, "label", "名称", "Name", CO_TT_STR);
    int area = is_area_group(r->group) && p->areas;
    if (area) {
        co_table_set_decimals(t, co_table_col(t, "lon", "经度", "Longitude", CO_TT_NUM), 6);
        co_table_set_decimals(t, co_table_col(t, "lat", "纬度", "Latitude", CO_TT_NUM), 6);
    }
    size_t first = co_table_ncols(t);
    for (int m = 0; m < CO_SM_COUNT_METRICS; m++)
        if (r->metrics & (1u << m))
            co_table_col(t, metric_defs[m].key, metric_defs[m].zh, metric_defs[m].en,
                         metric_defs[m].type);
    for (size_t i = 0; i < r->nrows; i++) {
        const co_stats_row *row = &r->rows[i];
        size_t x = co_table_row(t), c = first;
        co_table_set_str(t, x, 0, row->key);
        co_table_set_str(t, x, 1, row->label);
        const co_area *a = area ? co_areas_at(p->areas, row->area) : NULL;
        if (a) {
            co_table_set_num(t, x, 2, a->cx);
            co_table_set_num(t, x, 3, a->cy);
        }
        for (int m = 0; m < CO_SM_COUNT_METRICS; m++)
            if (r->metrics & (1u << m))
                co_table_set_num(t, x, c++, co_stats_metric_value(row, (co_stats_metric)m));
    }
    *out = t;
    return CO_OK;
}

json_t *co_stats_totals_json(const co_stats_result *r)
{
    json_t *o = json_object();
    for (int m = 0; m < CO_SM_COUNT_METRICS; m++) {
        if (!(r->metrics & (1u << m)))
            continue;
        double v = co_stats_metric_value(&r->totals, (co_stats_metric)m);
        json_t *j = isnan(v) ? json_null()
                    : metric_defs[m].type == CO_TT_INT ? json_integer((json_int_t)v)
                                                       : json_real(round(v * 1e4) / 1e4);
        json_object_set_new(o, metric_defs[m].key, j);
    }
    return o;
}

/* ---------------------------------------------------------------- parsing */

co_err co_stats_group_parse(const char *s, co_stats_group *out)
{
    for (int i = 0; s && i < CO_STATS_GROUP_COUNT; i++)
        if (!strcmp(s, group_names[i]) || (i == CO_STATS_DEPT && !strcmp(s, "dept"))) {
            *out = (co_stats_group)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_stats_group_name(co_stats_group g)
{
    return (unsigned)g < CO_STATS_GROUP_COUNT ? group_names[g] : "?";
}

co_err co_stats_metric_parse(const char *s, co_stats_metric *out)
{
    for (int i = 0; s && i < CO_SM_COUNT_METRICS; i++)
        if (!strcmp(s, metric_defs[i].key)) {
            *out = (co_stats_metric)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_stats_metric_name(co_stats_metric m)
{
    return (unsigned)m < CO_SM_COUNT_METRICS ? metric_defs[m].key : "?";
}

/* Calls one(item) for each comma-separated item of csv (items ≤ 31 bytes). */
static co_err each_item(const char *csv, co_err (*one)(const char *item, unsigned *bits),
                        unsigned *out)
{
    unsigned bits = 0;
    if (!csv || !*csv)
        return CO_EINVAL;
    for (const char *p = csv;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char item[32];
        if (!n || n >= sizeof item)
            return CO_EINVAL;
        memcpy(item, p, n);
        item[n] = '\0';
        co_err rc = one(item, &bits);
        if (rc)
            return rc;
        if (!e)
            break;
        p = e + 1;
    }
    *out = bits;
    return CO_OK;
}

static co_err one_metric(const char *s, unsigned *bits)
{
    co_stats_metric m;
    co_err rc = co_stats_metric_parse(s, &m);
    if (!rc)
        *bits |= 1u << m;
    return rc;
}

co_err co_stats_metrics_parse(const char *csv, unsigned *out)
{
    return each_item(csv, one_metric, out);
}

static co_err one_state(const char *s, unsigned *bits)
{
    co_state st;
    if (!strcmp(s, "open")) {
        for (int i = 0; i < 16; i++)
            if (open_state[i])
                *bits |= 1u << i;
        return CO_OK;
    }
    co_err rc = co_state_parse(s, &st);
    if (!rc)
        *bits |= 1u << st;
    return rc;
}

co_err co_stats_states_parse(const char *csv, unsigned *out)
{
    return each_item(csv, one_state, out);
}

static co_err one_channel(const char *s, unsigned *bits)
{
    co_channel c;
    co_err rc = co_channel_parse(s, &c);
    if (!rc)
        *bits |= 1u << c;
    return rc;
}

co_err co_stats_channels_parse(const char *csv, unsigned *out)
{
    return each_item(csv, one_channel, out);
}

co_err co_stats_overdue_parse(const char *s, co_stats_overdue *out)
{
    static const struct {
        const char *s;
        co_stats_overdue v;
    } t[] = {{"1", CO_STATS_OD_NOW},   {"true", CO_STATS_OD_NOW}, {"now", CO_STATS_OD_NOW},
             {"0", CO_STATS_OD_NOT},   {"false", CO_STATS_OD_NOT}, {"ever", CO_STATS_OD_EVER},
             {"any", CO_STATS_OD_ANY}};
    for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(s, t[i].s)) {
            *out = t[i].v;
            return CO_OK;
        }
    return CO_EINVAL;
}

int co_stats_category_valid(const char *s)
{
    size_t n = strlen(s);
    if (!n)
        return 1;
    if ((s[0] != 'C' && s[0] != 'E') || (n != 1 && n != 3 && n != 5))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}
