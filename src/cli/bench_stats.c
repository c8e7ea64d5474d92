/* bench_stats.c — `cityops bench stats [--cases N] [--seed S] [--data DIR]
 * [--runs R] [--threads T] [--dump-csv DIR]`: generates N deterministic
 * synthetic cases over two years (seasonality, ~70 categories, 40
 * departments, a realistic state mix) spread over the demo city's grids
 * (--data) or a synthesised tree of 9 districts / 99 streets / 1,396
 * communities / 12,000 grids, loads them into the projection (timed), then
 * times the fixed eight dashboard queries R times each and prints p50/p99.
 * --dump-csv DIR writes DIR/cases.csv and DIR/answers.csv for
 * bench/stats-vs-postgres.sh, which runs the same queries in PostgreSQL.
 *
 * Ownership: everything allocated here (areas, projection, generator tables,
 * results) is freed before returning; the synthesised area tree lives in a
 * temporary store directory that is removed at once. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/bench.h"
#include "domain/case.h"
#include "geo/area.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "projection/evaluation.h"
#include "projection/projection.h"
#include "projection/stats.h"
#include "store/store.h"

#define NCAT 70
#define NDEPT 40
#define NDAYS 730
#define BATCH 1024
/* The synthetic "now": the end of the two generated years. */
#define BENCH_NOW "2026-06-30T18:00:00+08:00"
#define BENCH_START "2024-07-01T00:00:00+08:00"

typedef struct opts {
    int64_t cases, seed, runs, threads, only;
    const char *data, *dump;
} opts;

static int parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){10000000, 1, 50, 1, 0, NULL, NULL};
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (!strcmp(k, "--data"))
            o->data = v;
        else if (!strcmp(k, "--dump-csv"))
            o->dump = v;
        else if (!strcmp(k, "--cases") ? co_parse_i64(v, 1, 100000000, &o->cases)
                 : !strcmp(k, "--seed") ? co_parse_i64(v, 0, INT64_MAX, &o->seed)
                 : !strcmp(k, "--runs") ? co_parse_i64(v, 1, 10000, &o->runs)
                 : !strcmp(k, "--threads") ? co_parse_i64(v, 1, 16, &o->threads)
                 : !strcmp(k, "--query")   ? co_parse_i64(v, 1, 8, &o->only)
                                           : CO_EINVAL)
            return -1;
    }
    return 0;
}

/* CPU seconds of the calling thread (not counting time other processes
 * took from it: the machine may be shared). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ randomness */

static uint64_t rnd64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(rnd64(s) >> 11) / 9007199254740992.0;
}

static int chance(uint64_t *s, double p)
{
    return unit(s) < p;
}

/* Index i with probability w[i] / w[n-1] from a cumulative weight array. */
static size_t pick(const double *cum, size_t n, double u)
{
    double x = u * cum[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ------------------------------------------------------------ area tree */

static void rec(co_area_rec *r, const char *code, const char *name, const char *parent,
                co_level lv, double x, double y)
{
    *r = (co_area_rec){co_xstrdup(code), co_xstrdup(name), co_xstrdup(parent), lv, NULL, 1e4,
                       x, y, x - 0.001, y - 0.001, x + 0.001, y + 0.001};
}

static void free_recs(co_area_rec *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        co_free((void *)r[i].code);
        co_free((void *)r[i].name);
        co_free((void *)r[i].parent);
    }
    co_free(r);
}

/* 9 districts, 99 streets, 1,396 communities, 12,000 grids; each level's
 * children are spread as evenly as the counts allow. */
static const size_t level_n[5] = {0, 9, 99, 1396, 12000};

static co_area_rec *synth_level(co_level lv, const co_area_rec *up, size_t nup)
{
    size_t n = level_n[lv];
    co_area_rec *r = co_xcalloc(n, sizeof *r);
    static const char *const what[] = {"", "区", "街道", "社区", "网格"};
    for (size_t i = 0, p = 0, k = 0; i < n; i++) {
        size_t per = n / (nup ? nup : 1) + (p < n % (nup ? nup : 1));
        char code[40], name[64];
        const char *pc = up ? up[p].code : "";
        if (lv == CO_LEVEL_DISTRICT)
            snprintf(code, sizeof code, "1501%02u", (unsigned)(i + 1) % 100);
        else
            snprintf(code, sizeof code, "%.12s%03u", pc, (unsigned)(k + 1) % 1000);
        snprintf(name, sizeof name, "%s%zu", what[lv], i + 1);
        rec(&r[i], code, name, pc, lv, 111.5 + 0.5 * (double)i / (double)n,
            40.6 + 0.4 * (double)((i * 7919) % n) / (double)n);
        if (up && ++k == per) {
            k = 0;
            p++;
        }
    }
    return r;
}

static co_err synth_areas(co_areas **out)
{
    char dir[] = "/tmp/cityops-bench-XXXXXX";
    co_store *st = NULL;
    co_area_rec *lv[5] = {NULL};
    co_err rc = mkdtemp(dir) ? co_store_open(dir, &st) : CO_EIO;
    for (int l = CO_LEVEL_DISTRICT; !rc && l <= CO_LEVEL_GRID; l++) {
        lv[l] = synth_level((co_level)l, l > 1 ? lv[l - 1] : NULL, l > 1 ? level_n[l - 1] : 0);
        rc = co_store_areas_replace(st, (co_level)l, "", lv[l], level_n[l]);
    }
    if (!rc)
        rc = co_areas_load(st, out);
    for (int l = 1; l < 5; l++)
        if (lv[l])
            free_recs(lv[l], level_n[l]);
    co_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", dir);
    return rc;
}

static co_err load_areas(const char *data, co_areas **out)
{
    if (!data)
        return synth_areas(out);
    co_store *st = NULL;
    co_err rc = co_store_open(data, &st);
    if (!rc)
        rc = co_areas_load(st, out);
    co_store_close(st);
    return rc;
}

/* ------------------------------------------------------------ the model */

typedef struct place {
    const char *grid, *comm, *street, *district;
    int dist_no;
} place;

typedef struct model {
    place *places;
    double *place_cum;
    size_t nplaces;
    double cat_cum[NCAT];
    co_category cats[NCAT];
    double limit_h[NCAT];
    double day_cum[NDAYS];
    int64_t start, now;
    uint64_t rng;
} model;

static const char *code_at(const co_areas *as, int32_t idx)
{
    const co_area *a = co_areas_at(as, idx);
    return a ? a->code : "";
}

static void model_places(model *m, const co_areas *as)
{
    size_t n = co_areas_count(as), k = 0;
    co_level finest = co_areas_count_level(as, CO_LEVEL_GRID) ? CO_LEVEL_GRID : CO_LEVEL_COMMUNITY;
    m->places = co_xcalloc(n + 1, sizeof *m->places);
    m->place_cum = co_xcalloc(n + 1, sizeof *m->place_cum);
    for (size_t i = 0; i < n; i++) {
        const co_area *a = co_areas_at(as, (int32_t)i);
        if (a->level != finest)
            continue;
        place *p = &m->places[k];
        p->grid = finest == CO_LEVEL_GRID ? a->code : "";
        p->comm = code_at(as, a->up[CO_LEVEL_COMMUNITY]);
        p->street = code_at(as, a->up[CO_LEVEL_STREET]);
        p->district = code_at(as, a->up[CO_LEVEL_DISTRICT]);
        p->dist_no = a->up[CO_LEVEL_DISTRICT] % 9;
        /* hot spots: a heavy-tailed weight from a hash of the index */
        double w = 1.0 / sqrt(1.0 + (double)((i * 2654435761u) % 1000));
        m->place_cum[k] = (k ? m->place_cum[k - 1] : 0) + w;
        k++;
    }
    m->nplaces = k;
}

static void model_categories(model *m)
{
    static const double limits[6] = {4, 8, 24, 48, 120, 240};
    for (int k = 0; k < NCAT; k++) {
        int kind = k < 30 ? 1 : 2, cls = 1 + k % 6, sub = 1 + k / 6;
        m->cats[k] = (co_category)(kind * 10000 + cls * 100 + sub);
        m->limit_h[k] = limits[(k * 5) % 6];
        m->cat_cum[k] = (k ? m->cat_cum[k - 1] : 0) + 1.0 / pow(k + 1.0, 0.8);
    }
}

/* Daily volume: summer peak, quieter weekends, 30 % growth over 2 years. */
static void model_days(model *m)
{
    for (int d = 0; d < NDAYS; d++) {
        int64_t days = (m->start + 8 * 3600) / 86400 + d;
        int wd = (int)((days + 4) % 7); /* 0 = Sunday */
        double season = 1.0 + 0.35 * sin(2 * M_PI * ((double)d + 90) / 365.0);
        double w = season * (wd == 0 || wd == 6 ? 0.7 : 1.0) * (1.0 + 0.3 * d / NDAYS);
        m->day_cum[d] = (d ? m->day_cum[d - 1] : 0) + w;
    }
}

static int model_init(model *m, const co_areas *as, int64_t seed)
{
    memset(m, 0, sizeof *m);
    if (co_time_parse(BENCH_START, &m->start) || co_time_parse(BENCH_NOW, &m->now))
        return -1;
    m->rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
    model_places(m, as);
    model_categories(m);
    model_days(m);
    return m->nplaces ? 0 : -1;
}

static void model_free(model *m)
{
    co_free(m->places);
    co_free(m->place_cum);
}

/* ----------------------------------------------------------- generation */

static void set_str(char *dst, size_t n, const char *s)
{
    size_t k = strlen(s);
    if (k >= n)
        k = n - 1;
    memcpy(dst, s, k);
    dst[k] = '\0';
}

/* Creation time of case i of n: days by the cumulative daily weight,
 * 06:00–22:00 within a day, non-decreasing in i. */
static int64_t created_at(model *m, int64_t i, int64_t n)
{
    double q = ((double)i + 0.5) / (double)n;
    size_t d = pick(m->day_cum, NDAYS, q);
    double lo = d ? m->day_cum[d - 1] : 0, hi = m->day_cum[d];
    double frac = (q * m->day_cum[NDAYS - 1] - lo) / (hi - lo);
    return m->start + (int64_t)d * 86400 + 6 * 3600 + (int64_t)(frac * 16 * 3600);
}

static co_channel pick_channel(uint64_t *s)
{
    double u = unit(s);
    return u < 0.55 ? CO_CH_HOTLINE : u < 0.85 ? CO_CH_INSPECTOR : u < 0.93 ? CO_CH_WEB
           : u < 0.95 ? CO_CH_OPEN311 : u < 0.98 ? CO_CH_SENSOR : CO_CH_IMPORT;
}

static void gen_people(co_case *c, uint64_t *s, const place *p)
{
    char who[CO_NAME_MAX];
    if (c->channel == CO_CH_INSPECTOR)
        snprintf(who, sizeof who, "insp%03d", p->dist_no * 22 + (int)(rnd64(s) % 22));
    else if (c->channel == CO_CH_HOTLINE)
        snprintf(who, sizeof who, "op%02d", (int)(rnd64(s) % 60));
    else
        who[0] = '\0';
    set_str(c->reporter, sizeof c->reporter, who);
}

/* Steps after filing: dispatch, handling, check, close, visit. */
static void gen_disposal(model *m, co_case *c, int cat, int dist)
{
    uint64_t *s = &m->rng;
    char dept[16], first[16];
    int d = (cat * 7 + dist * 3) % NDEPT;
    snprintf(dept, sizeof dept, "D%02d", d);
    snprintf(first, sizeof first, "D%02d", chance(s, 0.03) ? (d + 1) % NDEPT : d);
    c->flags |= strcmp(dept, first) ? CO_CF_MISDISPATCH : 0;
    set_str(c->dept, sizeof c->dept, dept);
    set_str(c->first_dept, sizeof c->first_dept, first);
    int64_t delay = 600 + (int64_t)(unit(s) * 3 * 3600);
    c->flags |= delay > 3600 ? CO_CF_DISPATCH_LATE : 0;
    c->dispatched_at = c->created + delay;
    c->dispatches = c->flags & CO_CF_MISDISPATCH ? 2 : 1;
    int64_t limit = (int64_t)(m->limit_h[cat] * 3600);
    if (chance(s, 0.04)) {
        c->flags |= CO_CF_EXTENDED;
        limit *= 2;
    }
    c->disposal_due = c->dispatched_at + limit;
    double x = exp(-0.6 + 0.6 * (unit(s) + unit(s) + unit(s) - 1.5) * 1.4);
    int64_t handled = c->dispatched_at + (int64_t)(x * (double)limit);
    if (handled > m->now) {
        c->state = c->dispatched_at + 3600 > m->now ? CO_ST_DISPATCHED
                   : chance(s, 0.03) ? CO_ST_SUSPENDED : CO_ST_HANDLING;
        c->flags |= c->disposal_due < m->now ? CO_CF_EVER_OVERDUE : 0;
        return;
    }
    c->handled_at = handled;
    c->flags |= handled > c->disposal_due ? CO_CF_HANDLED_LATE | CO_CF_EVER_OVERDUE : 0;
    c->rework = chance(s, 0.05);
    c->flags |= chance(s, 0.05) ? CO_CF_CHECK_LATE : 0;
    int64_t closed = handled + 7200 + (int64_t)(unit(s) * 28 * 3600);
    if (closed > m->now) {
        c->state = handled + 3600 > m->now ? CO_ST_HANDLED : CO_ST_CHECKED;
        return;
    }
    c->state = CO_ST_CLOSED;
    c->closed_at = closed;
    c->close_type = c->flags & CO_CF_HANDLED_LATE ? CO_CLOSE_OVERDUE : CO_CLOSE_NORMAL;
}

static void gen_visit(co_case *c, uint64_t *s)
{
    if (c->state != CO_ST_CLOSED || (c->channel != CO_CH_HOTLINE && c->channel != CO_CH_WEB) ||
        !chance(s, 0.75))
        return;
    c->flags |= CO_CF_VISITED;
    if (!chance(s, 0.95))
        return;
    c->flags |= CO_CF_CONTACTED | (chance(s, 0.85) ? CO_CF_RESOLVED : 0);
    double u = unit(s);
    c->satisfaction = u < 0.75 ? CO_SAT_SATISFIED : u < 0.9 ? CO_SAT_BASIC : CO_SAT_UNSATISFIED;
}

/* Before filing: voided, merged, answered directly, verified. */
static int gen_intake(co_case *c, uint64_t *s, int64_t now)
{
    if (c->channel != CO_CH_INSPECTOR && chance(s, 0.4)) {
        c->flags |= chance(s, 0.06) ? CO_CF_VERIFY_LATE : 0;
        c->flags |= chance(s, 0.05) ? CO_CF_VERIFY_FALSE : CO_CF_VERIFIED;
    } else if (c->channel == CO_CH_INSPECTOR)
        c->flags |= CO_CF_VERIFIED;
    c->flags |= chance(s, 0.04) ? CO_CF_FILE_LATE : 0;
    if (c->flags & CO_CF_VERIFY_FALSE || chance(s, 0.02)) {
        c->state = CO_ST_VOIDED;
        c->flags &= ~(uint32_t)CO_CF_FILE_LATE;
        return 1;
    }
    if (chance(s, 0.015)) {
        c->state = CO_ST_MERGED;
        return 1;
    }
    if (c->channel == CO_CH_HOTLINE && chance(s, 0.08)) {
        c->state = CO_ST_CLOSED;
        c->flags |= CO_CF_DIRECT;
        c->flags &= ~(uint32_t)CO_CF_FILE_LATE;
        c->closed_at = c->created + 300;
        c->close_type = CO_CLOSE_NORMAL;
        return 1;
    }
    if (c->created + 1800 > now) {
        c->state = CO_ST_REGISTERED;
        c->flags &= ~(uint32_t)CO_CF_FILE_LATE;
        return 1;
    }
    return 0;
}

static void reset_case(co_case *c)
{
    c->flags = 0;
    c->state = CO_ST_FILED;
    c->dispatched_at = c->disposal_due = c->handled_at = c->closed_at = c->step_due = 0;
    c->rework = c->dispatches = 0;
    c->close_type = CO_CLOSE_NONE;
    c->satisfaction = CO_SAT_NONE;
    c->dept[0] = c->first_dept[0] = '\0';
}

static void gen_case(model *m, int64_t i, int64_t n, co_case *c)
{
    uint64_t *s = &m->rng;
    reset_case(c);
    c->id = i + 1;
    c->created = c->updated = created_at(m, i, n);
    const place *p = &m->places[pick(m->place_cum, m->nplaces, unit(s))];
    set_str(c->grid, sizeof c->grid, p->grid);
    set_str(c->community, sizeof c->community, p->comm);
    set_str(c->street, sizeof c->street, p->street);
    set_str(c->district, sizeof c->district, p->district);
    int cat = (int)pick(m->cat_cum, NCAT, unit(s));
    c->category = m->cats[cat];
    c->channel = pick_channel(s);
    c->reqtype = c->channel == CO_CH_HOTLINE ? CO_RT_COMPLAINT : CO_RT_NONE;
    c->severity = chance(s, 0.05) ? CO_SEV_URGENT : CO_SEV_NORMAL;
    gen_people(c, s, p);
    if (!gen_intake(c, s, m->now)) {
        gen_disposal(m, c, cat, p->dist_no);
        gen_visit(c, s);
    }
}

/* ------------------------------------------------------------- CSV dump */

static void csv_time(FILE *f, int64_t t)
{
    char buf[CO_TIME_ISO_MAX];
    if (t) {
        co_time_format(t, buf);
        fputs(buf, f);
    }
}

static void dump_case(FILE *f, const co_case *c)
{
    char cat[8];
    co_category_format(c->category, cat);
    fprintf(f, "%lld,", (long long)c->id);
    csv_time(f, c->created);
    fprintf(f, ",%s,%s,%s,%s,%s,%s,%s,%s,%s,%u,", c->district, c->street, c->community, c->grid,
            cat, c->dept, c->first_dept, co_channel_name(c->channel), co_state_name(c->state),
            c->flags);
    const int64_t times[] = {c->dispatched_at, c->disposal_due, c->handled_at, c->closed_at};
    for (int k = 0; k < 4; k++) {
        csv_time(f, times[k]);
        fputc(',', f);
    }
    fprintf(f, "%s,%s,%d\n", co_close_type_name(c->close_type),
            co_satisfaction_name(c->satisfaction), c->rework);
}

static FILE *open_dump(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "bench: cannot write %s\n", path);
    return f;
}

/* ------------------------------------------------------------------ load */

typedef struct load_stats {
    double gen_s, apply_s, apply_cpu;
} load_stats;

static int load(co_projection *p, model *m, int64_t n, FILE *dump, load_stats *ls)
{
    co_case *batch = co_xcalloc(BATCH, sizeof *batch);
    int rc = 0;
    for (int64_t i = 0; i < n && !rc; i += BATCH) {
        int64_t k = n - i < BATCH ? n - i : BATCH;
        double t0 = co_time_mono();
        for (int64_t j = 0; j < k; j++)
            gen_case(m, i + j, n, &batch[j]);
        double t1 = co_time_mono(), c1 = cpu_now();
        for (int64_t j = 0; j < k && !rc; j++)
            rc = co_projection_apply(p, &batch[j], NULL) != CO_OK;
        ls->apply_s += co_time_mono() - t1;
        ls->apply_cpu += cpu_now() - c1;
        ls->gen_s += t1 - t0;
        for (int64_t j = 0; dump && j < k; j++)
            dump_case(dump, &batch[j]);
    }
    co_free(batch);
    return rc;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* --------------------------------------------------------------- queries */

typedef struct qctx {
    co_projection *p;
    int64_t now, today, year, month_from, month_to, q_from, q_to;
    int threads;
    FILE *answers;       /* when set, the query writes its answer lines */
} qctx;

typedef int (*query_fn)(qctx *q);

static co_stats_query base_query(const qctx *q, co_stats_group g, unsigned metrics)
{
    co_stats_query s = {.group = g, .now = q->now, .metrics = metrics,
                        .sort = CO_STATS_SORT_DEFAULT, .threads = q->threads};
    return s;
}

/* Runs s and writes "Qn,key,v..." lines for the requested fields. */
static int stats_answer(qctx *q, const co_stats_query *s, const char *tag, const char *fields)
{
    co_stats_result r;
    if (co_stats_run(q->p, s, &r) != CO_OK)
        return -1;
    for (size_t i = 0; q->answers && i < r.nrows; i++) {
        const co_stats_row *x = &r.rows[i];
        if (!x->count)
            continue;
        fprintf(q->answers, "%s,%s", tag, x->key);
        for (const char *f = fields; *f; f++)
            fprintf(q->answers, ",%llu",
                    (unsigned long long)(*f == 'n' ? x->count : *f == 'c' ? x->closed
                                         : *f == 'o' ? x->ontime : *f == 'v' ? x->visited
                                         : *f == 's' ? x->satisfied : x->basic));
        fputc('\n', q->answers);
    }
    co_stats_result_free(&r);
    return 0;
}

static int q1_district_30d(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_DISTRICT, 1u << CO_SM_COUNT);
    s.from = q->now - 30 * 86400;
    return stats_answer(q, &s, "Q1", "n");
}

static int q2_category_top10(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_CATEGORY, 1u << CO_SM_COUNT);
    s.from = q->year;
    s.top = 10;
    return stats_answer(q, &s, "Q2", "n");
}

static int q3_overdue_by_dept(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_DEPT, 1u << CO_SM_COUNT);
    s.overdue = CO_STATS_OD_NOW;
    return stats_answer(q, &s, "Q3", "n");
}

static int q4_daily_90d(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_DAY, 1u << CO_SM_COUNT);
    s.from = q->today - 89 * 86400;
    s.to = q->today + 86400;
    s.fill = 1;
    return stats_answer(q, &s, "Q4", "n");
}

static int q5_heat_month(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_GRID, 1u << CO_SM_COUNT);
    s.from = q->month_from;
    s.to = q->month_to;
    return stats_answer(q, &s, "Q5", "n");
}

static int q6_ontime_by_street(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_STREET,
                                  (1u << CO_SM_CLOSED) | (1u << CO_SM_ONTIME_RATE));
    s.from = q->year;
    return stats_answer(q, &s, "Q6", "co");
}

static int q7_satisfaction_quarter(qctx *q)
{
    co_stats_query s = base_query(q, CO_STATS_DISTRICT, 1u << CO_SM_SATISFACTION_RATE);
    s.from = q->q_from;
    s.to = q->q_to;
    return stats_answer(q, &s, "Q7", "vsb");
}

static int q8_eval_departments(qctx *q)
{
    co_eval_query e;
    co_eval_query_init(&e, CO_EVAL_DEPT);
    e.from = q->month_from;
    e.to = q->month_to;
    e.now = q->now;
    co_eval_result r;
    if (co_eval_run(q->p, &e, &r) != CO_OK)
        return -1;
    static const co_eval_counter cols[] = {
        CO_EC_TO_HANDLE, CO_EC_HANDLED, CO_EC_HANDLED_ONTIME, CO_EC_OVERDUE_OPEN, CO_EC_LATE,
        CO_EC_EXTENDED, CO_EC_TO_CLOSE, CO_EC_CLOSED, CO_EC_CLOSED_ONTIME, CO_EC_REWORK};
    for (size_t i = 0; q->answers && i < r.nrows; i++) {
        if (!r.rows[i].c[CO_EC_CASES]) /* only a first department of misdispatched cases */
            continue;
        fprintf(q->answers, "Q8,%s", r.rows[i].key);
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
            fprintf(q->answers, ",%u", r.rows[i].c[cols[k]]);
        fputc('\n', q->answers);
    }
    co_eval_result_free(&r);
    return 0;
}

static const struct {
    const char *name;
    query_fn run;
} queries[] = {
    {"Q1 count by district, last 30 days", q1_district_30d},
    {"Q2 top 10 categories, this year", q2_category_top10},
    {"Q3 overdue open cases by department", q3_overdue_by_dept},
    {"Q4 daily series, last 90 days", q4_daily_90d},
    {"Q5 heat map by grid, one month", q5_heat_month},
    {"Q6 on-time closure rate by street, this year", q6_ontime_by_street},
    {"Q7 satisfaction by district, one quarter", q7_satisfaction_quarter},
    {"Q8 evaluation of departments, one month", q8_eval_departments},
};

#define NQ (sizeof queries / sizeof queries[0])

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct timing {
    double p50, p99, cpu50;
} timing;

static double pct(double *v, int64_t n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(p * (double)n);
    return v[i ? i - 1 : 0];
}

/* Wall-clock p50/p99 and the p50 of the thread's CPU time per run. */
static int time_query(qctx *q, size_t k, int64_t runs, timing *t)
{
    double *ms = co_xcalloc((size_t)runs, sizeof *ms), *cpu = co_xcalloc((size_t)runs, sizeof *cpu);
    int rc = 0;
    for (int64_t i = 0; i < runs && !rc; i++) {
        double t0 = co_time_mono(), c0 = cpu_now();
        rc = queries[k].run(q);
        ms[i] = (co_time_mono() - t0) * 1000.0;
        cpu[i] = (cpu_now() - c0) * 1000.0;
    }
    t->p50 = pct(ms, runs, 0.5);
    t->p99 = pct(ms, runs, 0.99);
    t->cpu50 = pct(cpu, runs, 0.5);
    co_free(ms);
    co_free(cpu);
    return rc;
}

static void query_dates(qctx *q)
{
    int64_t days = (q->now + 8 * 3600) / 86400;
    int y, mo, d;
    co_civil_from_days(days, &y, &mo, &d);
    q->today = days * 86400 - 8 * 3600;
    q->year = co_days_from_civil(y, 1, 1) * 86400 - 8 * 3600;
    int pm = mo == 1 ? 12 : mo - 1, py = mo == 1 ? y - 1 : y;
    q->month_from = co_days_from_civil(py, pm, 1) * 86400 - 8 * 3600;
    q->month_to = co_days_from_civil(y, mo, 1) * 86400 - 8 * 3600;
    int qs = ((mo - 1) / 3) * 3 + 1; /* first month of this quarter */
    int pq = qs == 1 ? 10 : qs - 3, pqy = qs == 1 ? y - 1 : y;
    q->q_from = co_days_from_civil(pqy, pq, 1) * 86400 - 8 * 3600;
    q->q_to = co_days_from_civil(y, qs, 1) * 86400 - 8 * 3600;
}

/* ------------------------------------------------- writer under readers */

typedef struct reader {
    qctx q;
    atomic_int stop;
    long queries;
} reader;

static void *reader_main(void *arg)
{
    reader *rd = arg;
    for (size_t k = 0; !atomic_load(&rd->stop); k = (k + 1) % NQ) {
        if (queries[k].run(&rd->q))
            break;
        rd->queries++;
    }
    return NULL;
}

/* Applies `updates` random updates while a second thread runs the eight
 * queries in a loop: the single writer's latency under concurrent readers. */
static int concurrent_updates(co_projection *p, model *m, const qctx *q, int64_t n,
                              int64_t updates)
{
    reader rd = {*q, 0, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, reader_main, &rd))
        return -1;
    co_case *c = co_xcalloc(1, sizeof *c);
    double *us = co_xcalloc((size_t)updates, sizeof *us);
    uint64_t s = 0x5EED;
    int rc = 0;
    double t0 = co_time_mono();
    for (int64_t i = 0; i < updates && !rc; i++) {
        gen_case(m, (int64_t)(rnd64(&s) % (uint64_t)n), n, c);
        double a = co_time_mono();
        rc = co_projection_apply(p, c, NULL) != CO_OK;
        us[i] = (co_time_mono() - a) * 1e6;
    }
    double secs = co_time_mono() - t0;
    atomic_store(&rd.stop, 1);
    pthread_join(th, NULL);
    qsort(us, (size_t)updates, sizeof *us, cmp_double);
    printf("writer under load %lld updates in %.2f s while a reader ran %ld queries: apply "
           "p50 %.2f µs, p99 %.2f µs, p99.9 %.1f µs, max %.0f µs\n",
           (long long)updates, secs, rd.queries, us[(updates - 1) / 2],
           us[(size_t)(0.99 * (double)updates)], us[(size_t)(0.999 * (double)updates)],
           us[updates - 1]);
    co_free(us);
    co_free(c);
    return rc;
}

/* ------------------------------------------------------------------ main */

static void report_load(co_projection *p, const load_stats *ls, int64_t n)
{
    co_projection_info info;
    co_projection_get_info(p, &info);
    printf("cases            %lld\n", (long long)n);
    printf("load (apply)     %.2f s wall, %.2f s CPU (%.0f ns/case; generating took another "
           "%.2f s)\n",
           ls->apply_s, ls->apply_cpu, ls->apply_cpu * 1e9 / (double)n, ls->gen_s);
    printf("row size         %zu B of columns + 4 B id map; %.1f B/case allocated\n",
           info.row_bytes, (double)info.bytes / (double)n);
    printf("memory           RSS %.0f MiB (peak %.0f MiB)\n", status_kb("VmRSS") / 1024.0,
           status_kb("VmHWM") / 1024.0);
    printf("interned         %zu departments, %zu users, %zu categories\n", info.depts,
           info.users, info.categories);
}

static int run_queries(qctx *q, int64_t runs, int64_t only)
{
    printf("%-48s %9s %9s %9s\n", "query", "cpu50 ms", "p50 ms", "p99 ms");
    for (size_t k = 0; k < NQ; k++) {
        if (only && (int64_t)k + 1 != only)
            continue;
        timing t;
        if (time_query(q, k, runs, &t))
            return -1;
        printf("%-48s %9.2f %9.2f %9.2f\n", queries[k].name, t.cpu50, t.p50, t.p99);
    }
    return 0;
}

static int write_answers(qctx *q, const char *dir)
{
    q->answers = open_dump(dir, "answers.csv");
    if (!q->answers)
        return -1;
    int rc = 0;
    for (size_t k = 0; k < NQ && !rc; k++)
        rc = queries[k].run(q);
    if (fclose(q->answers))
        rc = -1;
    q->answers = NULL;
    return rc;
}

static int bench(const opts *o, co_areas *as)
{
    model m;
    co_projection *p = NULL;
    FILE *dump = NULL;
    int rc = -1;
    load_stats ls = {0, 0};
    if (model_init(&m, as, o->seed) || co_projection_new(as, &p) != CO_OK)
        goto out;
    printf("areas            %zu (%zu districts, %zu streets, %zu communities, %zu grids)\n",
           co_areas_count(as), co_areas_count_level(as, CO_LEVEL_DISTRICT),
           co_areas_count_level(as, CO_LEVEL_STREET), co_areas_count_level(as, CO_LEVEL_COMMUNITY),
           co_areas_count_level(as, CO_LEVEL_GRID));
    if (o->dump && !(dump = open_dump(o->dump, "cases.csv")))
        goto out;
    if (load(p, &m, o->cases, dump, &ls))
        goto out;
    if (dump && fclose(dump)) {
        dump = NULL;
        goto out;
    }
    dump = NULL;
    report_load(p, &ls, o->cases);
    qctx q = {p, m.now, 0, 0, 0, 0, 0, 0, (int)o->threads, NULL};
    query_dates(&q);
    printf("now              %s; %lld runs per query, %lld thread(s) per stats query\n",
           BENCH_NOW, (long long)o->runs, (long long)o->threads);
    if (run_queries(&q, o->runs, o->only) || (o->dump && write_answers(&q, o->dump)) ||
        (!o->only && concurrent_updates(p, &m, &q, o->cases, 200000)))
        goto out;
    rc = 0;
out:
    if (dump)
        fclose(dump);
    co_projection_free(p);
    model_free(&m);
    return rc;
}

int co_bench_stats(int argc, char **argv)
{
    opts o;
    if (parse_opts(argc, argv, &o)) {
        fprintf(stderr, "usage: cityops bench stats [--cases N] [--seed S] [--data DIR] "
                        "[--runs R] [--threads T] [--query 1..8] [--dump-csv DIR]\n");
        return 2;
    }
    co_log_set_level(CO_LOG_WARN);
    co_areas *as = NULL;
    if (load_areas(o.data, &as) != CO_OK) {
        fprintf(stderr, "bench: cannot load areas%s%s\n", o.data ? " from " : "",
                o.data ? o.data : "");
        return 1;
    }
    int rc = bench(&o, as);
    co_areas_free(as);
    if (rc)
        fprintf(stderr, "bench: failed\n");
    return rc ? 1 : 0;
}
