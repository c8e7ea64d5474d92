/* test_stats.c — unit tests of src/projection/stats.c. The main test
 * applies 3,000 pseudo-random cases to a projection and checks every group-by
 * under eight filter combinations against a brute-force recount over the
 * same co_case list (written independently: string codes, glibc strftime for
 * days/ISO weeks/months). Further tests: time buckets at Asia/Shanghai
 * midnight, week and month boundaries; zero-filled series; top-N and sort;
 * two-thread scans; the table/CSV/XLSX output; parameter errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "projection/stats.h"
#include "projection_fixture.h"
#include "xorshift.h"

#define NCASES 3000
#define NOW "2026-02-15T12:00:00+08:00"

static co_case *cases;
static co_areas *areas;
static co_projection *proj;

/* ------------------------------------------------------------ generator */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(xorshift64(&rng) % n);
}

static void gen_place(co_case *c)
{
    switch (rnd(8)) {
    case 0: break; /* no location */
    case 1:        /* unknown grid inside a known community */
        fx_place(c, FX_G_A1_1);
        snprintf(c->grid, sizeof c->grid, "150102001001999");
        break;
    default: fx_place(c, fx_grids[rnd(5)]); break;
    }
}

static void gen_case(co_case *c, int64_t id)
{
    static const char *const cats[] = {"C0101", "C0102", "C0201", "E0101", "E0102", "E0201", ""};
    static const char *const depts[] = {"", "d-a", "d-b", "d-c"};
    static const uint32_t flag_bits[] = {CO_CF_EVER_OVERDUE, CO_CF_HANDLED_LATE, CO_CF_VISITED,
                                         CO_CF_CONTACTED, CO_CF_RESOLVED, CO_CF_EXTENDED};
    int64_t base = fx_t("2025-12-20T00:00:00+08:00");
    int64_t created = base + (int64_t)rnd(70) * 86400 + (rnd(4) ? (int64_t)rnd(86400) : 0);
    fx_case(c, id, "2025-12-20T00:00:00+08:00", NULL);
    c->created = c->updated = created - (rnd(10) == 0 ? 1 : 0); /* some at 23:59:59 */
    gen_place(c);
    const char *cat = cats[rnd(7)];
    if (*cat && co_category_parse(cat, &c->category) != CO_OK)
        abort();
    snprintf(c->dept, sizeof c->dept, "%s", depts[rnd(4)]);
    c->channel = (co_channel)rnd(CO_CH_COUNT);
    c->state = (co_state)(1 + rnd(CO_ST_COUNT - 1));
    for (size_t i = 0; i < sizeof flag_bits / sizeof flag_bits[0]; i++)
        if (rnd(3) == 0)
            c->flags |= flag_bits[i];
    c->satisfaction = (co_satisfaction)rnd(CO_SAT_COUNT);
    c->close_type = (co_close_type)rnd(CO_CLOSE_COUNT);
    c->disposal_due = rnd(4) ? c->created + (int64_t)rnd(40 * 86400) : 0;
    c->dispatched_at = rnd(3) ? c->created + (int64_t)rnd(7200) : 0;
    c->handled_at = c->dispatched_at && rnd(2) ? c->dispatched_at + (int64_t)rnd(10 * 86400) : 0;
}

static int setup(void **state)
{
    (void)state;
    areas = fx_areas();
    if (!areas || co_projection_new(areas, &proj) != CO_OK)
        return -1;
    cases = calloc(NCASES, sizeof *cases);
    for (int i = 0; i < NCASES; i++) {
        gen_case(&cases[i], i + 1);
        if (co_projection_apply(proj, &cases[i], NULL) != CO_OK)
            return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    co_projection_free(proj);
    co_areas_free(areas);
    free(cases);
    return 0;
}

/* ------------------------------------------------------------ brute force */

typedef struct bgroup {
    char key[32];
    uint64_t count, open, closed, overdue, late, ontime, visited, sat, basic, handled;
    double hours;
} bgroup;

static int is_grid(const char *code)
{
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(code, fx_grids[i]))
            return 1;
    return 0;
}

static void strf(int64_t t, const char *fmt, char *out, size_t n)
{
    time_t local = (time_t)(t + 8 * 3600);
    struct tm tm;
    gmtime_r(&local, &tm);
    strftime(out, n, fmt, &tm);
}

static void brute_key(const co_case *c, co_stats_group g, char *out, size_t n)
{
    out[0] = '\0';
    switch (g) {
    case CO_STATS_NONE: snprintf(out, n, "all"); break;
    case CO_STATS_DISTRICT: snprintf(out, n, "%s", c->district); break;
    case CO_STATS_STREET: snprintf(out, n, "%s", c->street); break;
    case CO_STATS_COMMUNITY: snprintf(out, n, "%s", c->community); break;
    case CO_STATS_GRID: snprintf(out, n, "%s", is_grid(c->grid) ? c->grid : ""); break;
    case CO_STATS_CATEGORY: co_category_format(c->category, out); break;
    case CO_STATS_DEPT: snprintf(out, n, "%s", c->dept); break;
    case CO_STATS_CHANNEL: snprintf(out, n, "%s", co_channel_name(c->channel)); break;
    case CO_STATS_STATE: snprintf(out, n, "%s", co_state_name(c->state)); break;
    case CO_STATS_DAY: strf(c->created, "%Y-%m-%d", out, n); break;
    case CO_STATS_WEEK: strf(c->created, "%G-W%V", out, n); break;
    case CO_STATS_MONTH: strf(c->created, "%Y-%m", out, n); break;
    default: break;
    }
}

static int b_overdue(const co_case *c, int64_t now)
{
    return (c->state == CO_ST_DISPATCHED || c->state == CO_ST_HANDLING) && c->disposal_due &&
           c->disposal_due < now;
}

static int b_late(const co_case *c, int64_t now)
{
    return (c->flags & (CO_CF_EVER_OVERDUE | CO_CF_HANDLED_LATE)) || b_overdue(c, now);
}

static int b_match(const co_case *c, const co_stats_query *q, int64_t now)
{
    if ((q->from && c->created < q->from) || (q->to && c->created >= q->to))
        return 0;
    if (q->area[0]) {
        const char *codes[] = {c->district, c->street, c->community, c->grid};
        int hit = 0;
        for (size_t i = 0; i < 4; i++)
            hit |= !strcmp(codes[i], q->area) && (i < 3 || is_grid(c->grid));
        if (!hit)
            return 0;
    }
    char cat[8];
    co_category_format(c->category, cat);
    if (q->category[0] && (!cat[0] || strncmp(cat, q->category, strlen(q->category))))
        return 0;
    if (q->dept[0] && strcmp(c->dept, q->dept))
        return 0;
    if (!((q->states ? q->states : CO_STATS_COUNTED) & (1u << c->state)))
        return 0; /* merged cases count once, in their master */
    if (q->channels && !(q->channels & (1u << c->channel)))
        return 0;
    if (q->overdue == CO_STATS_OD_NOW && !b_overdue(c, now))
        return 0;
    if (q->overdue == CO_STATS_OD_NOT && b_overdue(c, now))
        return 0;
    if (q->overdue == CO_STATS_OD_EVER && !b_late(c, now))
        return 0;
    return 1;
}

static void b_add(bgroup *g, const co_case *c, int64_t now)
{
    g->count++;
    g->open += co_state_is_open(c->state);
    g->closed += c->state == CO_ST_CLOSED;
    g->overdue += b_overdue(c, now);
    g->late += b_late(c, now);
    g->ontime += c->state == CO_ST_CLOSED && c->close_type != CO_CLOSE_OVERDUE &&
                 !(c->flags & CO_CF_HANDLED_LATE);
    if (c->flags & CO_CF_VISITED) {
        g->visited++;
        g->sat += c->satisfaction == CO_SAT_SATISFIED;
        g->basic += c->satisfaction == CO_SAT_BASIC;
    }
    if (c->handled_at && c->dispatched_at) {
        g->handled++;
        g->hours += (double)(c->handled_at > c->dispatched_at ? c->handled_at - c->dispatched_at
                                                               : 0) / 3600.0;
    }
}

static size_t brute(const co_case *list, size_t ncases, const co_stats_query *q, bgroup *gs)
{
    size_t n = 0;
    int64_t now = q->now;
    for (size_t i = 0; i < ncases; i++) {
        const co_case *c = &list[i];
        if (!b_match(c, q, now))
            continue;
        char key[32];
        brute_key(c, q->group, key, sizeof key);
        size_t k = 0;
        while (k < n && strcmp(gs[k].key, key))
            k++;
        if (k == n) {
            memset(&gs[n], 0, sizeof gs[n]);
            snprintf(gs[n++].key, sizeof gs[0].key, "%s", key);
        }
        b_add(&gs[k], c, now);
    }
    return n;
}

static void compare_with(co_projection *p, const co_case *list, size_t ncases,
                         const co_stats_query *q)
{
    static bgroup gs[40000];
    size_t n = brute(list, ncases, q, gs);
    co_stats_result r;
    assert_int_equal(co_stats_run(p, q, &r), CO_OK);
    if (r.nrows != n)
        fail_msg("group %s: %zu rows, brute force %zu", co_stats_group_name(q->group), r.nrows, n);
    uint64_t total = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        const co_stats_row *x = &r.rows[i];
        size_t k = 0;
        while (k < n && strcmp(gs[k].key, x->key))
            k++;
        if (k == n)
            fail_msg("group %s: unexpected key '%s'", co_stats_group_name(q->group), x->key);
        const bgroup *b = &gs[k];
        assert_int_equal(x->count, b->count);
        assert_int_equal(x->open, b->open);
        assert_int_equal(x->closed, b->closed);
        assert_int_equal(x->overdue, b->overdue);
        assert_int_equal(x->late, b->late);
        assert_int_equal(x->ontime, b->ontime);
        assert_int_equal(x->visited, b->visited);
        assert_int_equal(x->satisfied, b->sat);
        assert_int_equal(x->basic, b->basic);
        assert_int_equal(x->handled, b->handled);
        assert_true(fabs(x->handle_hours - b->hours) < 1e-6 * (1 + b->hours));
        total += x->count;
    }
    assert_int_equal(total, r.totals.count);
    co_stats_result_free(&r);
}

static void compare(const co_stats_query *q)
{
    compare_with(proj, cases, NCASES, q);
}

static void filter_set(int f, co_stats_query *q)
{
    switch (f) {
    case 1:
        q->from = fx_t("2026-01-10");
        q->to = fx_t("2026-02-10");
        break;
    case 2:
        snprintf(q->area, sizeof q->area, FX_S_A);
        snprintf(q->category, sizeof q->category, "E");
        break;
    case 3:
        snprintf(q->area, sizeof q->area, FX_G_A1_1);
        assert_int_equal(co_stats_states_parse("open", &q->states), CO_OK);
        break;
    case 4:
        snprintf(q->dept, sizeof q->dept, "d-b");
        assert_int_equal(co_stats_channels_parse("hotline,web", &q->channels), CO_OK);
        q->overdue = CO_STATS_OD_NOW;
        break;
    case 5:
        q->overdue = CO_STATS_OD_EVER;
        snprintf(q->category, sizeof q->category, "C01");
        snprintf(q->area, sizeof q->area, FX_D2);
        q->from = fx_t("2026-01-20T08:30:00+08:00");
        break;
    case 6:
        q->overdue = CO_STATS_OD_NOT;
        snprintf(q->category, sizeof q->category, "E0102");
        q->to = fx_t("2026-01-15");
        break;
    case 7: assert_int_equal(co_stats_states_parse("closed,voided", &q->states), CO_OK); break;
    default: break;
    }
}

static void test_brute_force(void **state)
{
    (void)state;
    for (int g = 0; g < CO_STATS_GROUP_COUNT; g++)
        for (int f = 0; f < 8; f++) {
            co_stats_query q = {.group = (co_stats_group)g, .now = fx_t(NOW),
                                .sort = CO_STATS_SORT_DEFAULT};
            filter_set(f, &q);
            compare(&q);
            q.threads = 2;
            compare(&q);
        }
}

/* Few open cases over several chunks: the scans that start from the
 * per-chunk open-row bitmap and skip chunks by their state counts. */
static void test_mostly_closed(void **state)
{
    (void)state;
    enum { N = 40000 };
    co_projection *p = NULL;
    assert_int_equal(co_projection_new(areas, &p), CO_OK);
    co_case *list = calloc(N, sizeof *list);
    for (int i = 0; i < N; i++) {
        gen_case(&list[i], i + 1);
        if (i % 37 && !(i > 30000 && i % 5 == 0)) /* ~3 % open, more of them late in the list */
            list[i].state = i % 11 ? CO_ST_CLOSED : CO_ST_VOIDED;
        assert_int_equal(co_projection_apply(p, &list[i], NULL), CO_OK);
    }
    /* close some of them again: the bitmap and counts follow updates */
    for (int i = 0; i < N; i += 74) {
        list[i].state = CO_ST_CLOSED;
        assert_int_equal(co_projection_apply(p, &list[i], NULL), CO_OK);
    }
    static const co_stats_overdue od[] = {CO_STATS_OD_ANY, CO_STATS_OD_NOW, CO_STATS_OD_NOT,
                                          CO_STATS_OD_EVER};
    for (size_t k = 0; k < 4; k++)
        for (int g = CO_STATS_NONE; g <= CO_STATS_DEPT; g++) {
            co_stats_query q = {.group = (co_stats_group)g, .now = fx_t(NOW), .overdue = od[k]};
            assert_int_equal(co_stats_states_parse("open", &q.states), CO_OK);
            compare_with(p, list, N, &q);
            assert_int_equal(co_stats_states_parse("handling,dispatched", &q.states), CO_OK);
            compare_with(p, list, N, &q);
            q.states = 0;
            compare_with(p, list, N, &q);
        }
    free(list);
    co_projection_free(p);
}

/* Overdue-now answers come from the deadline heap: after thousands of
 * random updates that move rows in and out of the running states and move
 * their deadlines both ways, they still equal the brute-force recount. */
static void test_overdue_heap_updates(void **state)
{
    (void)state;
    enum { N = 20000, ROUNDS = 12, PER_ROUND = 1500 };
    co_projection *p = NULL;
    assert_int_equal(co_projection_new(areas, &p), CO_OK);
    co_case *list = calloc(N, sizeof *list);
    for (int i = 0; i < N; i++) {
        gen_case(&list[i], i + 1);
        assert_int_equal(co_projection_apply(p, &list[i], NULL), CO_OK);
    }
    int64_t now = fx_t(NOW);
    for (int round = 0; round < ROUNDS; round++) {
        for (int u = 0; u < PER_ROUND; u++) {
            co_case *c = &list[rnd(N)];
            switch (rnd(4)) {
            case 0: c->state = rnd(2) ? CO_ST_DISPATCHED : CO_ST_HANDLING; break;
            case 1: c->state = (co_state)(1 + rnd(CO_ST_COUNT - 1)); break;
            case 2: c->disposal_due = now + ((int64_t)rnd(20 * 86400) - 10 * 86400); break;
            default: c->disposal_due = rnd(5) ? c->disposal_due + 3600 : 0; break;
            }
            assert_int_equal(co_projection_apply(p, c, NULL), CO_OK);
        }
        for (int g = CO_STATS_NONE; g <= CO_STATS_DEPT; g++) {
            co_stats_query q = {.group = (co_stats_group)g, .now = now,
                                .overdue = CO_STATS_OD_NOW};
            compare_with(p, list, N, &q);
            q.now = now - (int64_t)rnd(5 * 86400); /* an earlier "now" cuts the heap elsewhere */
            compare_with(p, list, N, &q);
        }
    }
    free(list);
    co_projection_free(p);
}

/* --------------------------------------------------------- time buckets */

static void add(co_projection *p, int64_t id, const char *iso)
{
    co_case c;
    fx_case(&c, id, iso, FX_G_A1_1);
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
}

static void expect_rows(co_projection *p, co_stats_query *q, const char *const *keys,
                        const uint64_t *counts, size_t n)
{
    co_stats_result r;
    q->now = fx_t(NOW);
    assert_int_equal(co_stats_run(p, q, &r), CO_OK);
    if (r.nrows != n)
        fail_msg("%s: %zu rows, want %zu", co_stats_group_name(q->group), r.nrows, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r.rows[i].key, keys[i]);
        assert_int_equal(r.rows[i].count, counts[i]);
    }
    co_stats_result_free(&r);
}

static void test_time_buckets(void **state)
{
    (void)state;
    co_projection *p = NULL;
    assert_int_equal(co_projection_new(areas, &p), CO_OK);
    add(p, 1, "2026-01-04T23:59:59+08:00"); /* Sunday */
    add(p, 2, "2026-01-05T00:00:00+08:00"); /* Monday */
    add(p, 3, "2026-01-04T16:00:00Z");      /* = Monday 00:00 in Shanghai */
    add(p, 4, "2026-01-31T23:59:59+08:00");
    add(p, 5, "2026-02-01T00:00:00+08:00");
    add(p, 6, "2025-12-31T23:59:59+08:00"); /* ISO week 2026-W01 */

    co_stats_query q = {.group = CO_STATS_DAY, .sort = CO_STATS_SORT_DEFAULT};
    const char *days[] = {"2025-12-31", "2026-01-04", "2026-01-05", "2026-01-31", "2026-02-01"};
    const uint64_t dc[] = {1, 1, 2, 1, 1};
    expect_rows(p, &q, days, dc, 5);

    q.group = CO_STATS_WEEK;
    const char *weeks[] = {"2026-W01", "2026-W02", "2026-W05"};
    const uint64_t wc[] = {2, 2, 2};
    expect_rows(p, &q, weeks, wc, 3);

    q.group = CO_STATS_MONTH;
    const char *months[] = {"2025-12", "2026-01", "2026-02"};
    const uint64_t mc[] = {1, 4, 1};
    expect_rows(p, &q, months, mc, 3);

    /* a window that starts at a Shanghai midnight, zero-filled */
    q = (co_stats_query){.group = CO_STATS_DAY, .fill = 1, .sort = CO_STATS_SORT_DEFAULT,
                         .from = fx_t("2026-01-03"), .to = fx_t("2026-01-07")};
    const char *filled[] = {"2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06"};
    const uint64_t fc[] = {0, 1, 2, 0};
    expect_rows(p, &q, filled, fc, 4);

    /* the week's label is its Monday */
    q = (co_stats_query){.group = CO_STATS_WEEK, .now = fx_t(NOW)};
    co_stats_result r;
    assert_int_equal(co_stats_run(p, &q, &r), CO_OK);
    assert_string_equal(r.rows[0].label, "2025-12-29");
    assert_string_equal(r.rows[2].label, "2026-01-26");
    co_stats_result_free(&r);
    co_projection_free(p);
}

/* ------------------------------------------------------- top, sort, API */

/* The cases a query without a state filter counts (merged ones count once,
 * in their master). */
static uint64_t counted_cases(void)
{
    uint64_t n = 0;
    for (int i = 0; i < NCASES; i++)
        n += cases[i].state != CO_ST_MERGED;
    return n;
}

static void test_top_and_sort(void **state)
{
    (void)state;
    co_stats_query q = {.group = CO_STATS_CATEGORY, .now = fx_t(NOW), .top = 3,
                        .sort = CO_STATS_SORT_DEFAULT};
    co_stats_result r;
    assert_int_equal(co_stats_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 3);
    assert_int_equal(r.ngroups, 7);
    assert_true(r.rows[0].count >= r.rows[1].count && r.rows[1].count >= r.rows[2].count);
    assert_int_equal(r.totals.count, counted_cases());
    co_stats_result_free(&r);

    q.sort = CO_STATS_SORT_BY(CO_SM_ONTIME_RATE);
    q.top = 0;
    assert_int_equal(co_stats_run(proj, &q, &r), CO_OK);
    for (size_t i = 1; i < r.nrows; i++)
        assert_true(co_stats_metric_value(&r.rows[i - 1], CO_SM_ONTIME_RATE) >=
                    co_stats_metric_value(&r.rows[i], CO_SM_ONTIME_RATE));
    co_stats_result_free(&r);

    /* count only: other counters stay zero */
    q = (co_stats_query){.group = CO_STATS_DISTRICT, .now = fx_t(NOW),
                         .metrics = 1u << CO_SM_COUNT};
    assert_int_equal(co_stats_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.totals.count, counted_cases());
    assert_int_equal(r.totals.closed, 0);
    co_stats_result_free(&r);
}

static void test_errors_and_parsing(void **state)
{
    (void)state;
    co_stats_result r;
    co_stats_query q = {.group = CO_STATS_DISTRICT};
    snprintf(q.area, sizeof q.area, "999999");
    assert_int_equal(co_stats_run(proj, &q, &r), CO_ENOTFOUND);
    q.area[0] = '\0';
    snprintf(q.category, sizeof q.category, "X01");
    assert_int_equal(co_stats_run(proj, &q, &r), CO_EINVAL);
    q.category[0] = '\0';
    q.from = fx_t("2026-02-01");
    q.to = q.from;
    assert_int_equal(co_stats_run(proj, &q, &r), CO_EINVAL);
    q.from = q.to = 0;
    snprintf(q.dept, sizeof q.dept, "no-such-dept");
    assert_int_equal(co_stats_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 0);
    co_stats_result_free(&r);

    co_stats_group g;
    assert_int_equal(co_stats_group_parse("week", &g), CO_OK);
    assert_int_equal(g, CO_STATS_WEEK);
    assert_int_equal(co_stats_group_parse("dept", &g), CO_OK);
    assert_int_equal(g, CO_STATS_DEPT);
    assert_int_equal(co_stats_group_parse("year", &g), CO_EINVAL);
    unsigned m;
    assert_int_equal(co_stats_metrics_parse("count,ontime_rate", &m), CO_OK);
    assert_int_equal(m, (1u << CO_SM_COUNT) | (1u << CO_SM_ONTIME_RATE));
    assert_int_equal(co_stats_metrics_parse("count,,open", &m), CO_EINVAL);
    assert_int_equal(co_stats_metrics_parse("bogus", &m), CO_EINVAL);
    assert_int_equal(co_stats_states_parse("open", &m), CO_OK);
    assert_int_equal(m & (1u << CO_ST_CLOSED), 0);
    assert_true(m & (1u << CO_ST_HANDLING));
    assert_int_equal(co_stats_channels_parse("hotline,carrier-pigeon", &m), CO_EINVAL);
    co_stats_overdue od;
    assert_int_equal(co_stats_overdue_parse("ever", &od), CO_OK);
    assert_int_equal(od, CO_STATS_OD_EVER);
    assert_int_equal(co_stats_overdue_parse("2", &od), CO_EINVAL);
    assert_true(co_stats_category_valid("E0102"));
    assert_true(co_stats_category_valid("C"));
    assert_false(co_stats_category_valid("E010"));
}

static void test_table_outputs(void **state)
{
    (void)state;
    co_stats_query q = {.group = CO_STATS_DISTRICT, .now = fx_t(NOW), .sort = CO_STATS_SORT_KEY};
    co_stats_result r;
    assert_int_equal(co_stats_run(proj, &q, &r), CO_OK);
    co_table *t = NULL;
    assert_int_equal(co_stats_to_table(proj, &r, &t), CO_OK);
    assert_int_equal(co_table_nrows(t), r.nrows);
    int ck = co_table_find_col(t, "count"), lon = co_table_find_col(t, "lon");
    assert_true(ck >= 0 && lon >= 0);
    assert_int_equal(co_table_get_int(t, 1, (size_t)ck), r.rows[1].count);
    assert_string_equal(co_table_get_str(t, 1, 1), "新城区");
    assert_true(fabs(co_table_get_num(t, 1, (size_t)lon) - 111.7) < 1e-9);
    json_t *rows = co_table_rows_json(t);
    assert_int_equal(json_array_size(rows), r.nrows);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "key")), FX_D1);
    json_decref(rows);

    /* CSV: BOM, header in both languages, rates as percent */
    int fd = -1;
    size_t len = 0;
    assert_int_equal(co_table_export(t, CO_TABLE_CSV, CO_TABLE_BOTH, &fd, &len), CO_OK);
    char buf[4096] = "";
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    assert_true(got > 0 && (size_t)got == (len < sizeof buf - 1 ? len : sizeof buf - 1));
    assert_memory_equal(buf, "\xEF\xBB\xBF编码 Key,名称 Name", strlen("\xEF\xBB\xBF编码 Key,名称 Name"));
    assert_non_null(strstr(buf, "按期结案率 On-time closure rate (%)"));
    assert_non_null(strstr(buf, "\r\n150102,新城区,"));

    /* XLSX: a zip archive */
    assert_int_equal(co_table_export(t, CO_TABLE_XLSX, CO_TABLE_ZH, &fd, &len), CO_OK);
    assert_true(len > 1000);
    assert_int_equal(read(fd, buf, 4), 4);
    assert_memory_equal(buf, "PK\x03\x04", 4);
    close(fd);
    co_table_free(t);
    co_stats_result_free(&r);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    co_table *t = co_table_new("t");
    co_table_col(t, "a", "甲", "A", CO_TT_STR);
    co_table_col(t, "r", "率", "Rate", CO_TT_RATE);
    size_t x = co_table_row(t);
    co_table_set_str(t, x, 0, "=1+2,\"x\"");
    co_table_set_num(t, x, 1, 0.5);
    x = co_table_row(t);
    co_table_set_str(t, x, 0, "plain");
    co_table_set_num(t, x, 1, NAN);
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    assert_int_equal(co_table_write_csv(t, CO_TABLE_KEY, f), CO_OK);
    fclose(f);
    assert_string_equal(mem, "\xEF\xBB\xBF" "a,r\r\n\"'=1+2,\"\"x\"\"\",50.00\r\nplain,\r\n");
    free(mem);
    json_t *j = co_table_row_json(t, 1);
    assert_true(json_is_null(json_object_get(j, "r")));
    json_decref(j);
    co_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_mostly_closed),
        cmocka_unit_test(test_overdue_heap_updates),
        cmocka_unit_test(test_time_buckets),
        cmocka_unit_test(test_top_and_sort),
        cmocka_unit_test(test_errors_and_parsing),
        cmocka_unit_test(test_table_outputs),
        cmocka_unit_test(test_csv_quoting),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
