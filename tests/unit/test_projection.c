/* test_projection.c — unit tests of src/projection/projection.c: insert and
 * update by id, the row size budget, area resolution (finest known code,
 * ancestors), interning limits, event attribution, and a concurrent reader
 * running stats while a writer applies, and the candidate ids of lists by
 * area and department (caseids.c) against a brute-force check. Each test builds and frees its own
 * projection over the fixture areas (projection_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "projection/evaluation.h"
#include "projection/projection.h"
#include "projection/stats.h"
#include "projection_fixture.h"

#define NOW "2026-03-01T12:00:00+08:00"

static co_projection *new_proj(co_areas **as)
{
    *as = fx_areas();
    assert_non_null(*as);
    co_projection *p = NULL;
    assert_int_equal(co_projection_new(*as, &p), CO_OK);
    return p;
}

static co_stats_result run(co_projection *p, co_stats_group g, const char *area)
{
    co_stats_query q = {.group = g, .now = fx_t(NOW), .sort = CO_STATS_SORT_KEY};
    snprintf(q.area, sizeof q.area, "%s", area ? area : "");
    co_stats_result r;
    assert_int_equal(co_stats_run(p, &q, &r), CO_OK);
    return r;
}

static void test_row_size(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_projection_info info;
    co_projection_get_info(p, &info);
    assert_true(info.row_bytes <= 96); /* + 4 bytes of id map ≤ 100 */
    assert_int_equal(info.rows, 0);
    co_projection_free(p);
    co_areas_free(as);
}

static void test_insert_update(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_case c;
    for (int i = 1; i <= 3; i++) {
        fx_case(&c, i, "2026-02-01T10:00:00+08:00", i == 3 ? FX_G_C1_1 : FX_G_A1_1);
        assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    }
    /* update case 2: moves to another district and closes */
    fx_case(&c, 2, "2026-02-01T10:00:00+08:00", FX_G_C1_1);
    c.state = CO_ST_CLOSED;
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    co_projection_info info;
    co_projection_get_info(p, &info);
    assert_int_equal(info.rows, 3);
    assert_int_equal(info.tmin, fx_t("2026-02-01T10:00:00+08:00"));

    co_stats_result r = run(p, CO_STATS_DISTRICT, NULL);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(r.rows[0].key, FX_D1);
    assert_string_equal(r.rows[0].label, "新城区");
    assert_int_equal(r.rows[0].count, 1);
    assert_int_equal(r.rows[0].open, 1);
    assert_string_equal(r.rows[1].key, FX_D2);
    assert_int_equal(r.rows[1].count, 2);
    assert_int_equal(r.rows[1].closed, 1);
    assert_int_equal(r.totals.count, 3);
    co_stats_result_free(&r);

    /* bad ids */
    c.id = 0;
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_EINVAL);
    c.id = (int64_t)INT32_MAX + 1;
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_ETOOBIG);
    co_projection_free(p);
    co_areas_free(as);
}

static void test_sparse_ids_and_chunks(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_case c;
    /* more than one chunk, ids out of order */
    for (int i = 40000; i >= 1; i--) {
        fx_case(&c, i * 2, "2026-02-01T10:00:00+08:00", fx_grids[i % 5]);
        assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    }
    co_projection_info info;
    co_projection_get_info(p, &info);
    assert_int_equal(info.rows, 40000);
    assert_int_equal(info.chunks, 3);
    co_stats_result r = run(p, CO_STATS_GRID, NULL);
    assert_int_equal(r.nrows, 5);
    for (size_t i = 0; i < r.nrows; i++)
        assert_int_equal(r.rows[i].count, 8000);
    co_stats_result_free(&r);
    co_projection_free(p);
    co_areas_free(as);
}

static void test_area_resolution(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_case c;
    /* 1: full codes; 2: unknown grid, known community; 3: street only; 4: nothing */
    fx_case(&c, 1, "2026-02-01T10:00:00+08:00", FX_G_A2_1);
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    fx_case(&c, 2, "2026-02-01T10:00:00+08:00", FX_G_A2_1);
    snprintf(c.grid, sizeof c.grid, "150102001002999");
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    fx_case(&c, 3, "2026-02-01T10:00:00+08:00", NULL);
    snprintf(c.street, sizeof c.street, FX_S_A);
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    fx_case(&c, 4, "2026-02-01T10:00:00+08:00", NULL);
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);

    co_stats_result r = run(p, CO_STATS_COMMUNITY, NULL);
    assert_int_equal(r.nrows, 2); /* "" (none) and A2 */
    assert_string_equal(r.rows[0].key, "");
    assert_int_equal(r.rows[0].count, 2);
    assert_string_equal(r.rows[1].key, FX_C_A2);
    assert_int_equal(r.rows[1].count, 2);
    co_stats_result_free(&r);
    r = run(p, CO_STATS_STREET, FX_D1);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(r.rows[0].key, FX_S_A);
    assert_int_equal(r.rows[0].count, 3);
    co_stats_result_free(&r);
    r = run(p, CO_STATS_GRID, NULL);
    assert_int_equal(r.nrows, 2);
    assert_string_equal(r.rows[1].key, FX_G_A2_1);
    assert_int_equal(r.rows[1].count, 1);
    assert_int_equal(r.rows[0].count, 3);
    co_stats_result_free(&r);
    co_projection_free(p);
    co_areas_free(as);
}

static void test_no_areas(void **state)
{
    (void)state;
    co_projection *p = NULL;
    assert_int_equal(co_projection_new(NULL, &p), CO_OK);
    co_case c;
    fx_case(&c, 7, "2026-02-01T10:00:00+08:00", FX_G_A1_1);
    snprintf(c.dept, sizeof c.dept, "d-roads");
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    co_stats_result r = run(p, CO_STATS_DEPT, NULL);
    assert_int_equal(r.nrows, 1);
    assert_string_equal(r.rows[0].key, "d-roads");
    co_stats_result_free(&r);
    co_stats_query q = {.group = CO_STATS_NONE};
    snprintf(q.area, sizeof q.area, FX_D1);
    assert_int_equal(co_stats_run(p, &q, &r), CO_ENOTFOUND);
    co_projection_free(p);
}

/* Attribution: who registered, verified, filed, dispatched, checked, closed;
 * lateness of the request steps from the step deadlines the events carry. */
static void apply_ev(co_projection *p, co_case *c, const char *action, const char *actor,
                     const char *ts, json_t *data)
{
    co_event ev = {.case_id = c->id, .ts = fx_t(ts), .data = data};
    snprintf(ev.action, sizeof ev.action, "%s", action);
    snprintf(ev.actor, sizeof ev.actor, "%s", actor);
    json_t *sd = json_object_get(data, "step_due");
    if (sd)
        c->step_due = json_integer_value(sd);
    assert_int_equal(co_projection_apply(p, c, &ev), CO_OK);
    json_decref(data);
}

static void test_attribution(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_case c;
    fx_case(&c, 1, "2026-02-02T09:00:00+08:00", FX_G_A1_1);
    snprintf(c.reporter, sizeof c.reporter, "op1");
    c.channel = CO_CH_HOTLINE;
    c.step_due = fx_t("2026-02-02T11:00:00+08:00");
    apply_ev(p, &c, "register", "op1", "2026-02-02T09:00:00+08:00",
             json_pack("{s:{s:s}}", "case", "step_due", "2026-02-02T11:00:00+08:00"));
    c.state = CO_ST_VERIFYING;
    /* sent for verification after the intake step deadline: late */
    apply_ev(p, &c, "verify_request", "op2", "2026-02-02T11:30:00+08:00",
             json_pack("{s:I}", "step_due", (json_int_t)fx_t("2026-02-02T12:30:00+08:00")));
    c.state = CO_ST_REGISTERED;
    c.flags |= CO_CF_VERIFIED;
    apply_ev(p, &c, "verify", "insp1", "2026-02-02T12:00:00+08:00", json_object());
    c.state = CO_ST_FILED;
    apply_ev(p, &c, "file", "lead1", "2026-02-02T12:10:00+08:00", json_object());
    c.state = CO_ST_DISPATCHED;
    c.dispatched_at = fx_t("2026-02-02T12:20:00+08:00");
    snprintf(c.dept, sizeof c.dept, "d1");
    snprintf(c.first_dept, sizeof c.first_dept, "d1");
    apply_ev(p, &c, "dispatch", "disp1", "2026-02-02T12:20:00+08:00", json_object());
    c.state = CO_ST_HANDLED;
    c.handled_at = fx_t("2026-02-02T15:00:00+08:00");
    apply_ev(p, &c, "handle", "h1", "2026-02-02T15:00:00+08:00",
             json_pack("{s:I}", "step_due", (json_int_t)fx_t("2026-02-02T17:00:00+08:00")));
    c.state = CO_ST_CHECKING;
    apply_ev(p, &c, "request_check", "op1", "2026-02-02T16:00:00+08:00", json_object());
    c.state = CO_ST_CHECKED;
    apply_ev(p, &c, "check_pass", "insp2", "2026-02-02T16:30:00+08:00", json_object());
    c.state = CO_ST_CLOSED;
    c.closed_at = fx_t("2026-02-03T09:00:00+08:00");
    apply_ev(p, &c, "close", "lead2", "2026-02-03T09:00:00+08:00", json_pack("{s:b}", "late", 1));

    co_eval_query q;
    co_eval_query_init(&q, CO_EVAL_POST);
    q.from = fx_t("2026-02-01T00:00:00+08:00");
    q.to = fx_t("2026-03-01T00:00:00+08:00");
    q.now = fx_t(NOW);
    q.role = CO_ROLE_OPERATOR;
    co_eval_result r;
    assert_int_equal(co_eval_run(p, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    /* op1: registered 1, sent for check on time; op2: sent for verification late */
    const co_eval_row *op1 = !strcmp(r.rows[0].key, "op1") ? &r.rows[0] : &r.rows[1];
    const co_eval_row *op2 = op1 == &r.rows[0] ? &r.rows[1] : &r.rows[0];
    assert_string_equal(op2->key, "op2");
    assert_int_equal(op1->c[CO_EC_ACCEPTED], 1);
    assert_int_equal(op1->c[CO_EC_CREQ], 1);
    assert_int_equal(op1->c[CO_EC_CREQ_ONTIME], 1);
    assert_int_equal(op2->c[CO_EC_VREQ], 1);
    assert_int_equal(op2->c[CO_EC_VREQ_ONTIME], 0);
    co_eval_result_free(&r);

    q.role = CO_ROLE_SHIFTLEAD;
    assert_int_equal(co_eval_run(p, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    for (size_t i = 0; i < r.nrows; i++) {
        if (!strcmp(r.rows[i].key, "lead1")) {
            assert_int_equal(r.rows[i].c[CO_EC_FILED], 1);
        } else {
            assert_string_equal(r.rows[i].key, "lead2");
            assert_int_equal(r.rows[i].c[CO_EC_CLOSER], 1);
            assert_int_equal(r.rows[i].c[CO_EC_CLOSER_ONTIME], 0);
        }
    }
    co_eval_result_free(&r);

    /* the same history replayed with co_projection_attribute after a load
     * from the final case row gives the same attribution */
    co_projection *p2 = NULL;
    assert_int_equal(co_projection_new(as, &p2), CO_OK);
    assert_int_equal(co_projection_apply(p2, &c, NULL), CO_OK);
    co_event ev = {.case_id = 1, .ts = fx_t("2026-02-02T09:00:00+08:00")};
    snprintf(ev.action, sizeof ev.action, "register");
    ev.data = json_pack("{s:{s:s}}", "case", "step_due", "2026-02-02T11:00:00+08:00");
    assert_int_equal(co_projection_attribute(p2, &ev), CO_OK);
    json_decref(ev.data);
    ev.ts = fx_t("2026-02-02T11:30:00+08:00");
    snprintf(ev.action, sizeof ev.action, "verify_request");
    snprintf(ev.actor, sizeof ev.actor, "op2");
    ev.data = NULL;
    assert_int_equal(co_projection_attribute(p2, &ev), CO_OK);
    ev.case_id = 99;
    assert_int_equal(co_projection_attribute(p2, &ev), CO_ENOTFOUND);
    q.role = CO_ROLE_OPERATOR;
    assert_int_equal(co_eval_run(p2, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    op2 = !strcmp(r.rows[0].key, "op2") ? &r.rows[0] : &r.rows[1];
    assert_int_equal(op2->c[CO_EC_VREQ], 1);
    assert_int_equal(op2->c[CO_EC_VREQ_ONTIME], 0);
    co_eval_result_free(&r);
    co_projection_free(p2);
    co_projection_free(p);
    co_areas_free(as);
}

/* ---------------------------------------------------------- concurrency */

#define CONC_CASES 60000

typedef struct conc {
    co_projection *p;
    atomic_int done;
    atomic_int failures;
    int queries;
} conc;

static void *writer_main(void *arg)
{
    conc *k = arg;
    co_case c;
    for (int i = 1; i <= CONC_CASES; i++) {
        fx_case(&c, i, "2026-02-01T10:00:00+08:00", fx_grids[i % 5]);
        if (co_projection_apply(k->p, &c, NULL) != CO_OK)
            k->failures++;
        if (i % 3 == 0) { /* update an earlier case */
            fx_case(&c, i / 3, "2026-02-01T10:00:00+08:00", fx_grids[i % 5]);
            c.state = CO_ST_CLOSED;
            if (co_projection_apply(k->p, &c, NULL) != CO_OK)
                k->failures++;
        }
    }
    atomic_store(&k->done, 1);
    return NULL;
}

static void *reader_main(void *arg)
{
    conc *k = arg;
    uint64_t last = 0;
    while (!atomic_load(&k->done)) {
        co_stats_query q = {.group = CO_STATS_DISTRICT, .now = fx_t(NOW)};
        co_stats_result r;
        if (co_stats_run(k->p, &q, &r) != CO_OK) {
            k->failures++;
            break;
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < r.nrows; i++)
            sum += r.rows[i].count;
        /* rows never disappear; every row is open or closed */
        if (sum != r.totals.count || r.totals.count < last ||
            r.totals.open + r.totals.closed != r.totals.count)
            k->failures++;
        last = r.totals.count;
        k->queries++;
        co_stats_result_free(&r);
    }
    return NULL;
}

static void test_concurrent_reader(void **state)
{
    (void)state;
    co_areas *as;
    conc k = {new_proj(&as), 0, 0, 0};
    pthread_t w, rd;
    assert_int_equal(pthread_create(&rd, NULL, reader_main, &k), 0);
    assert_int_equal(pthread_create(&w, NULL, writer_main, &k), 0);
    pthread_join(w, NULL);
    pthread_join(rd, NULL);
    assert_int_equal(atomic_load(&k.failures), 0);
    assert_true(k.queries > 0);
    co_stats_result r = run(k.p, CO_STATS_NONE, NULL);
    assert_int_equal(r.totals.count, CONC_CASES);
    assert_int_equal(r.totals.closed, CONC_CASES / 3);
    co_stats_result_free(&r);
    co_projection_free(k.p);
    co_areas_free(as);
}

/* ---- co_projection_case_ids (caseids.c) against a brute-force check ---- */

#define IDS_N 30000
static const char *const ids_depts[] = {"D-A", "D-B", "D-C", ""};

/* The case with id i: ids skip multiples of 3; one in 50 has no area, one
 * in 70 a grid the hierarchy does not know (its district is known), one in
 * 70 codes it does not know at all. */
static void ids_case(co_case *c, int64_t i)
{
    char created[40];
    snprintf(created, sizeof created, "2026-02-%02dT10:00:00+08:00", (int)(1 + i % 28));
    fx_case(c, i, created, i % 50 == 0    ? NULL
                                : i % 70 == 0  ? "150102009009009"
                                : i % 70 == 35 ? "159999001001001"
                                               : fx_grids[i % 5]);
    snprintf(c->dept, sizeof c->dept, "%s", ids_depts[i % 4]);
    snprintf(c->first_dept, sizeof c->first_dept, "%s", ids_depts[(i / 4) % 4]);
    c->state = (co_state)(CO_ST_REGISTERED + (int)(i % 5));
}

/* What the store's SQL says for the case (area: prefix of the finest code). */
static int ids_sql_match(const co_case *c, const co_projection_idq *q)
{
    const char *area = co_case_finest_area(c);
    if (q->area && strncmp(area, q->area, strlen(q->area)) != 0)
        return 0;
    if (q->dept && strcmp(c->dept, q->dept) != 0 && strcmp(c->first_dept, q->dept) != 0)
        return 0;
    if (q->states && !(q->states & (1u << c->state)))
        return 0;
    if ((q->from && c->created < q->from) || (q->to && c->created >= q->to))
        return 0;
    return !q->before || c->id < q->before;
}

static void ids_check(co_projection *p, co_projection_idq q, size_t page)
{
    static int64_t got[IDS_N * 2];
    size_t n = 0, rounds = 0;
    int64_t ids[64], before = q.before;
    do {
        int64_t next = -1;
        size_t k = co_projection_case_ids(p, &q, ids, page, &next);
        assert_true(k <= page);
        assert_true(next >= 0 && (!next || next < (q.before ? q.before : INT64_MAX)));
        for (size_t i = 0; i < k; i++)
            got[n++] = ids[i];
        q.before = next;
        assert_true(++rounds <= IDS_N * 2);
    } while (q.before);
    co_case c;
    size_t matches = 0, j = 0;
    q.before = before;
    for (int64_t id = IDS_N * 2; id >= 1; id--) {
        if (id % 3 == 0)
            continue;
        ids_case(&c, id);
        int m = ids_sql_match(&c, &q);
        matches += (size_t)m;
        /* every match is a candidate, in order; extra candidates only where
         * the projection cannot know the area */
        int extra = !m && q.area && c.grid[0] && (id % 70 == 0 || id % 70 == 35);
        if (m || (j < n && got[j] == id && extra)) {
            assert_true(j < n);
            assert_int_equal(got[j], id);
            j++;
        }
    }
    assert_int_equal(j, n);
    assert_true(matches > 0 || !n);
}

static void test_case_ids(void **state)
{
    (void)state;
    co_areas *as;
    co_projection *p = new_proj(&as);
    co_case c;
    for (int64_t i = IDS_N * 2; i >= 1; i--) /* newest first: rows are not in id order */
        if (i % 3) {
            ids_case(&c, i);
            assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
        }
    unsigned open = (1u << CO_ST_DISPATCHED) | (1u << CO_ST_HANDLING);
    const co_projection_idq qs[] = {
        {FX_D1, NULL, 0, 0, 0, 0},
        {FX_S_A, NULL, 0, 0, 0, 0},
        {FX_C_A2, NULL, 0, 0, 0, 0},
        {FX_G_A1_2, NULL, 0, 0, 0, 0},
        {"150102009", NULL, 0, 0, 0, 0}, /* only the unknown grid's cases */
        {FX_D2, "D-B", 0, 0, 0, 0},
        {NULL, "D-C", open, 0, 0, 9001},
        {NULL, "", 0, 0, 0, 0},
        {NULL, "D-NONE", 0, 0, 0, 0},
        {FX_S_C, "D-A", 0, fx_t("2026-02-10T00:00:00+08:00"), fx_t("2026-02-12T00:00:00+08:00"), 0},
        {"159999", NULL, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        ids_check(p, qs[i], 1);
        ids_check(p, qs[i], 7);
        ids_check(p, qs[i], 64);
    }
    /* a new case is a candidate at once; an updated one moves with its row */
    ids_case(&c, IDS_N * 3);
    snprintf(c.dept, sizeof c.dept, "D-NEW");
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    co_projection_idq q = {NULL, "D-NEW", 0, 0, 0, 0};
    int64_t ids[4], next = -1;
    assert_int_equal(co_projection_case_ids(p, &q, ids, 4, &next), 1);
    assert_int_equal(ids[0], IDS_N * 3);
    assert_int_equal(next, 0);
    ids_case(&c, 5);
    snprintf(c.dept, sizeof c.dept, "D-NEW");
    assert_int_equal(co_projection_apply(p, &c, NULL), CO_OK);
    assert_int_equal(co_projection_case_ids(p, &q, ids, 4, &next), 2);
    assert_int_equal(ids[1], 5);
    co_projection_free(p);
    co_areas_free(as);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_size),
        cmocka_unit_test(test_insert_update),
        cmocka_unit_test(test_sparse_ids_and_chunks),
        cmocka_unit_test(test_area_resolution),
        cmocka_unit_test(test_no_areas),
        cmocka_unit_test(test_attribution),
        cmocka_unit_test(test_concurrent_reader),
        cmocka_unit_test(test_case_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
