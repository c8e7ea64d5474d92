/* test_evaluation.c — unit tests of src/projection/evaluation.c on a small
 * hand-computed history: ten cases (one outside the period) loaded the way
 * the server loads them (final case rows, then the stored events replayed
 * through co_projection_attribute). Every expected counter, indicator,
 * score, grade and rank below was worked out by hand from the case list in
 * this file (see the comments), not by calling the code under test.
 *
 * Period: February 2026 (Asia/Shanghai); now = 2026-03-01T12:00+08:00. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "projection/evaluation.h"
#include "projection_fixture.h"

#define Y "2026-"
#define NOW Y "03-01T12:00:00+08:00"
#define EPS 1e-9

static co_areas *areas;
static co_projection *proj;

/* ------------------------------------------------------------- history */

typedef struct case_spec {
    int id;
    const char *created, *grid;
    co_channel channel;
    const char *reporter;
    co_state state;
    uint32_t flags;
    const char *dispatched, *due, *handled, *closed;
    co_close_type close;
    co_satisfaction sat;
    const char *dept, *first_dept;
    int rework;
} case_spec;

#define F(x) CO_CF_##x
static const case_spec specs[] = {
    /* C1 inspector report, closed on time, satisfied */
    {1, "02-02T09:00", FX_G_A1_1, CO_CH_INSPECTOR, "insp1", CO_ST_CLOSED,
     F(VERIFIED) | F(VISITED) | F(CONTACTED) | F(RESOLVED), "02-02T10:00", "02-03T10:00",
     "02-02T15:00", "02-02T17:00", CO_CLOSE_NORMAL, CO_SAT_SATISFIED, "d-env", "d-env", 0},
    /* C2 hotline, verified late, filed late, handled late, reworked once, basic */
    {2, "02-03T09:00", FX_G_A1_2, CO_CH_HOTLINE, "op1", CO_ST_CLOSED,
     F(VERIFIED) | F(VERIFY_LATE) | F(FILE_LATE) | F(HANDLED_LATE) | F(EVER_OVERDUE) |
         F(VISITED) | F(CONTACTED),
     "02-03T14:00", "02-04T14:00", "02-05T10:00", "02-05T16:00", CO_CLOSE_OVERDUE, CO_SAT_BASIC,
     "d-road", "d-road", 1},
    /* C3 misdispatched (d-road → d-env), dispatched late, extended, overdue now */
    {3, "02-10T09:00", FX_G_A2_1, CO_CH_HOTLINE, "op1", CO_ST_HANDLING,
     F(MISDISPATCH) | F(DISPATCH_LATE) | F(EXTENDED), "02-10T12:00", "02-20T12:00", NULL, NULL,
     CO_CLOSE_NONE, CO_SAT_NONE, "d-env", "d-road", 0},
    /* C4 dispatched, deadline not yet passed */
    {4, "02-20T09:00", FX_G_B1_1, CO_CH_HOTLINE, "op2", CO_ST_DISPATCHED, 0, "02-20T10:00",
     "03-05T10:00", NULL, NULL, CO_CLOSE_NONE, CO_SAT_NONE, "d-env", "d-env", 0},
    /* C5 inspector report voided before filing */
    {5, "02-21T09:00", FX_G_B1_1, CO_CH_INSPECTOR, "insp1", CO_ST_VOIDED, F(VERIFIED), NULL, NULL,
     NULL, NULL, CO_CLOSE_NONE, CO_SAT_NONE, "", "", 0},
    /* C6 hotline consultation answered directly, visited: unsatisfied */
    {6, "02-22T09:00", FX_G_B1_1, CO_CH_HOTLINE, "op2", CO_ST_CLOSED,
     F(DIRECT) | F(VISITED) | F(CONTACTED), NULL, NULL, NULL, "02-22T09:10", CO_CLOSE_NORMAL,
     CO_SAT_UNSATISFIED, "", "", 0},
    /* C7 inspector report filed, then merged as a duplicate */
    {7, "02-23T09:00", FX_G_A1_1, CO_CH_INSPECTOR, "insp2", CO_ST_MERGED, F(VERIFIED), NULL, NULL,
     NULL, NULL, CO_CLOSE_NONE, CO_SAT_NONE, "", "", 0},
    /* C8 handled on time, waiting for the check; extended */
    {8, "02-24T09:00", FX_G_C1_1, CO_CH_HOTLINE, "op1", CO_ST_HANDLED, F(EXTENDED), "02-24T10:00",
     "02-26T10:00", "02-25T10:00", NULL, CO_CLOSE_NONE, CO_SAT_NONE, "d-road", "d-road", 0},
    /* C9 January: outside the period */
    {9, "01-15T09:00", FX_G_A1_1, CO_CH_INSPECTOR, "insp1", CO_ST_CLOSED, F(VERIFIED),
     "01-15T10:00", "01-16T10:00", "01-15T12:00", "01-15T15:00", CO_CLOSE_NORMAL, CO_SAT_NONE,
     "d-env", "d-env", 0},
    /* C10 handled late, being checked (sent for the check late) */
    {10, "02-25T09:00", FX_G_B1_1, CO_CH_HOTLINE, "op1", CO_ST_CHECKING,
     F(HANDLED_LATE) | F(EVER_OVERDUE), "02-25T10:00", "02-26T10:00", "02-27T10:00", NULL,
     CO_CLOSE_NONE, CO_SAT_NONE, "d-road", "d-road", 0},
};

typedef struct ev_spec {
    int id;
    const char *action, *actor, *ts, *step_due;
    int late;
} ev_spec;

static const ev_spec events[] = {
    {1, "register", "insp1", "02-02T09:00", "02-02T11:00", 0},
    {1, "file", "lead1", "02-02T09:30", "02-02T10:30", 0},
    {1, "dispatch", "disp1", "02-02T10:00", "02-02T11:00", 0},
    {1, "handle", "h1", "02-02T15:00", "02-02T17:00", 0},
    {1, "request_check", "op2", "02-02T15:30", "02-02T16:30", 0}, /* on time (≤ 17:00) */
    {1, "check_pass", "insp2", "02-02T16:00", "02-02T18:00", 0},
    {1, "close", "lead1", "02-02T17:00", NULL, 0},
    {2, "register", "op1", "02-03T09:00", "02-03T11:00", 0},
    {2, "verify_request", "op1", "02-03T09:30", "02-03T10:30", 0}, /* on time (≤ 11:00) */
    {2, "verify", "insp1", "02-03T11:00", "02-03T13:00", 1},
    {2, "file", "lead1", "02-03T13:30", "02-03T14:30", 1},
    {2, "dispatch", "disp1", "02-03T14:00", "02-03T15:00", 0},
    {2, "handle", "h2", "02-04T16:00", "02-04T18:00", 1},
    {2, "request_check", "op1", "02-04T17:00", "02-04T18:00", 0},
    {2, "check_fail", "insp3", "02-04T17:30", "02-04T18:30", 0},
    {2, "handle", "h2", "02-05T10:00", "02-05T12:00", 1},
    {2, "request_check", "op1", "02-05T11:00", "02-05T12:00", 0},
    {2, "check_pass", "insp2", "02-05T11:30", "02-05T13:30", 0},
    {2, "close", "lead2", "02-05T16:00", NULL, 1},
    {3, "register", "op1", "02-10T09:00", "02-10T11:00", 0},
    {3, "file", "lead2", "02-10T10:00", "02-10T11:00", 0},
    {3, "dispatch", "disp2", "02-10T12:00", "02-10T13:00", 1},
    {3, "dispatch", "disp1", "02-10T13:00", "02-10T14:00", 0}, /* not the first: disp2 keeps it */
    {4, "register", "op2", "02-20T09:00", "02-20T11:00", 0},
    {4, "file", "lead2", "02-20T09:30", "02-20T10:30", 0},
    {4, "dispatch", "disp2", "02-20T10:00", "02-20T11:00", 0},
    {5, "register", "insp1", "02-21T09:00", "02-21T11:00", 0},
    {5, "void", "lead1", "02-21T09:30", NULL, 0},
    {6, "register", "op2", "02-22T09:00", "02-22T11:00", 0},
    {6, "answer", "op2", "02-22T09:10", NULL, 0},
    {6, "visit", "op2", "02-23T10:00", NULL, 0},
    {7, "register", "insp2", "02-23T09:00", "02-23T11:00", 0},
    {7, "file", "lead1", "02-23T09:30", "02-23T10:30", 0},
    {7, "merge", "lead1", "02-23T10:00", NULL, 0},
    {8, "register", "op1", "02-24T09:00", "02-24T11:00", 0},
    {8, "file", "lead1", "02-24T09:30", "02-24T10:30", 0},
    {8, "dispatch", "disp1", "02-24T10:00", "02-24T11:00", 0},
    {8, "handle", "h2", "02-25T10:00", "02-25T12:00", 0},
    {9, "register", "insp1", "01-15T09:00", "01-15T11:00", 0},
    {9, "file", "lead1", "01-15T09:30", "01-15T10:30", 0},
    {9, "dispatch", "disp1", "01-15T10:00", "01-15T11:00", 0},
    {9, "close", "lead1", "01-15T15:00", NULL, 0},
    {10, "register", "op1", "02-25T09:00", "02-25T11:00", 0},
    {10, "file", "lead2", "02-25T09:30", "02-25T10:30", 0},
    {10, "dispatch", "disp1", "02-25T10:00", "02-25T11:00", 0},
    {10, "handle", "h2", "02-27T10:00", "02-27T12:00", 1},
    {10, "request_check", "op2", "02-27T13:00", "02-27T14:00", 0}, /* late (> 12:00) */
};

static int64_t T(const char *mmdd)
{
    char iso[40];
    if (!mmdd)
        return 0;
    snprintf(iso, sizeof iso, Y "%s:00+08:00", mmdd);
    return fx_t(iso);
}

static void build_case(const case_spec *s, co_case *c)
{
    char iso[40];
    snprintf(iso, sizeof iso, Y "%s:00+08:00", s->created);
    fx_case(c, s->id, iso, s->grid);
    c->channel = s->channel;
    snprintf(c->reporter, sizeof c->reporter, "%s", s->reporter);
    c->state = s->state;
    c->flags = s->flags;
    c->dispatched_at = T(s->dispatched);
    c->disposal_due = T(s->due);
    c->handled_at = T(s->handled);
    c->closed_at = T(s->closed);
    c->close_type = s->close;
    c->satisfaction = s->sat;
    snprintf(c->dept, sizeof c->dept, "%s", s->dept);
    snprintf(c->first_dept, sizeof c->first_dept, "%s", s->first_dept);
    c->rework = (int16_t)s->rework;
}

static void replay(const ev_spec *e)
{
    co_event ev = {.case_id = e->id, .ts = T(e->ts)};
    snprintf(ev.action, sizeof ev.action, "%s", e->action);
    snprintf(ev.actor, sizeof ev.actor, "%s", e->actor);
    char iso[40];
    snprintf(iso, sizeof iso, Y "%s:00+08:00", e->step_due ? e->step_due : "01-01T00:00");
    if (!strcmp(e->action, "register"))
        ev.data = json_pack("{s:{s:s}}", "case", "step_due", iso);
    else
        ev.data = json_pack("{s:b}", "late", e->late);
    if (e->step_due && strcmp(e->action, "register"))
        json_object_set_new(ev.data, "step_due", json_integer(T(e->step_due)));
    assert_int_equal(co_projection_attribute(proj, &ev), CO_OK);
    json_decref(ev.data);
}

static int setup(void **state)
{
    (void)state;
    areas = fx_areas();
    if (!areas || co_projection_new(areas, &proj) != CO_OK)
        return -1;
    co_case c;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        build_case(&specs[i], &c);
        if (co_projection_apply(proj, &c, NULL) != CO_OK)
            return -1;
    }
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        replay(&events[i]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    co_projection_free(proj);
    co_areas_free(areas);
    return 0;
}

/* -------------------------------------------------------------- helpers */

static co_eval_query feb(co_eval_type type)
{
    co_eval_query q;
    co_eval_query_init(&q, type);
    q.from = fx_t(Y "02-01");
    q.to = fx_t(Y "03-01");
    q.now = fx_t(NOW);
    return q;
}

static const co_eval_row *row(const co_eval_result *r, const char *key)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (!strcmp(r->rows[i].key, key))
            return &r->rows[i];
    fail_msg("no row %s", key);
    return NULL;
}

#define RATE(x, want) assert_true(fabs((x) - (want)) < EPS)
#define UNDEF(x) assert_true(isnan(x))
#define C(x, k) (x)->c[CO_EC_##k]
#define V(x, k) (x)->value[CO_EI_##k]

/* --------------------------------------------------------------- region */

static void test_region_streets(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_REGION);
    q.level = CO_LEVEL_STREET;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 3);

    /* street A: C1 C2 C3 C7 (C9 is January) */
    const co_eval_row *a = row(&r, FX_S_A);
    assert_string_equal(a->label, "街道A");
    assert_int_equal(C(a, CASES), 4);
    assert_int_equal(C(a, REPORTED), 2);       /* C1 C7 */
    assert_int_equal(C(a, REPORTED_VALID), 2); /* both filed (C7 via its file event) */
    assert_int_equal(C(a, FILED), 4);
    assert_int_equal(C(a, FILED_ONTIME), 3);   /* C2 filed late */
    assert_int_equal(C(a, FILED_VOID), 1);     /* C7 merged */
    assert_int_equal(C(a, VERIFY), 1);
    assert_int_equal(C(a, VERIFY_ONTIME), 0);
    assert_int_equal(C(a, CHECK), 2);
    assert_int_equal(C(a, CHECK_ONTIME), 2);
    assert_int_equal(C(a, DISPATCH), 3);
    assert_int_equal(C(a, DISPATCH_ONTIME), 2);
    assert_int_equal(C(a, MISDISPATCH), 1);
    assert_int_equal(C(a, HANDLED), 2);
    assert_int_equal(C(a, HANDLED_ONTIME), 1);
    assert_int_equal(C(a, OVERDUE_OPEN), 1);   /* C3: due 02-20 < now */
    assert_int_equal(C(a, TO_HANDLE), 3);
    assert_int_equal(C(a, LATE), 2);           /* C2 handled late, C3 overdue */
    assert_int_equal(C(a, EXTENDED), 1);
    assert_int_equal(C(a, CLOSED), 2);
    assert_int_equal(C(a, CLOSED_ONTIME), 1);
    assert_int_equal(C(a, TO_CLOSE), 3);       /* C1 C2 + C3 pending past its deadline */
    assert_int_equal(C(a, REWORK), 1);
    assert_int_equal(C(a, VISITED), 2);
    assert_int_equal(C(a, CONTACTED), 2);
    assert_int_equal(C(a, RESOLVED), 1);
    assert_int_equal(C(a, SATISFIED), 1);
    assert_int_equal(C(a, BASIC), 1);
    RATE(V(a, DISPOSAL), 2.0 / 3);
    RATE(V(a, ONTIME_DISPOSAL), 1.0 / 3);
    RATE(V(a, CLOSURE), 2.0 / 3);
    RATE(V(a, ONTIME_CLOSURE), 1.0 / 3);
    RATE(V(a, REWORK), 1.0 / 3);
    RATE(V(a, OVERDUE), 2.0 / 3);
    RATE(V(a, EXTENSION), 1.0 / 3);
    RATE(V(a, ACCURATE_DISPATCH), 2.0 / 3);
    RATE(V(a, VALID_REPORT), 1.0);
    RATE(V(a, ONTIME_VERIFY), 0.0);
    RATE(V(a, ONTIME_CHECK), 1.0);
    RATE(V(a, RESPONSE), 1.0);
    RATE(V(a, RESOLUTION), 0.5);
    RATE(V(a, SATISFACTION), 0.95); /* (1 + 0.9 × 1) / 2 */
    /* (20×66.67 + 20×33.33 + 20×66.67 + 20×33.33 + 10×66.67 + 10×33.33) / 100 */
    RATE(a->score, 50.0);
    assert_int_equal(a->grade, 'D');
    assert_int_equal(a->rank, 2);

    /* street B: C4 C5 C6 C10 */
    const co_eval_row *b = row(&r, FX_S_B);
    assert_int_equal(C(b, CASES), 4);
    assert_int_equal(C(b, REPORTED), 1);
    assert_int_equal(C(b, REPORTED_VALID), 0);
    assert_int_equal(C(b, FILED), 2);
    assert_int_equal(C(b, HANDLED), 1);
    assert_int_equal(C(b, HANDLED_ONTIME), 0);
    assert_int_equal(C(b, OVERDUE_OPEN), 0);   /* C4's deadline is 03-05 */
    assert_int_equal(C(b, TO_HANDLE), 1);
    assert_int_equal(C(b, CLOSED), 0);         /* C6 was never filed */
    assert_int_equal(C(b, TO_CLOSE), 1);       /* C10 handled late, not closed */
    assert_int_equal(C(b, VISITED), 1);
    RATE(V(b, DISPOSAL), 1.0);
    RATE(V(b, ONTIME_DISPOSAL), 0.0);
    RATE(V(b, CLOSURE), 0.0);
    RATE(V(b, OVERDUE), 1.0);
    RATE(V(b, VALID_REPORT), 0.0);
    UNDEF(V(b, ONTIME_VERIFY));
    RATE(V(b, SATISFACTION), 0.0);
    RATE(b->score, 30.0); /* (20×100 + 10×100) / 100 */
    assert_int_equal(b->grade, 'E');
    assert_int_equal(b->rank, 3);

    /* street C: C8 only; closure-based indicators undefined, renormalised */
    const co_eval_row *cc = row(&r, FX_S_C);
    assert_int_equal(C(cc, TO_CLOSE), 0);
    UNDEF(V(cc, CLOSURE));
    UNDEF(V(cc, REWORK));
    RATE(V(cc, EXTENSION), 1.0);
    RATE(cc->score, 100.0);
    assert_int_equal(cc->grade, 'A');
    assert_int_equal(cc->rank, 1);
    assert_ptr_equal(cc, &r.rows[0]);
    co_eval_result_free(&r);

    /* districts: 新城区 = streets A + B, 回民区 = street C */
    q.level = CO_LEVEL_DISTRICT;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    const co_eval_row *d1 = row(&r, FX_D1);
    assert_int_equal(C(d1, CASES), 8);
    assert_int_equal(C(d1, TO_HANDLE), 4);
    assert_int_equal(C(d1, HANDLED), 3);
    co_eval_result_free(&r);
}

static void test_custom_weights(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_REGION);
    assert_int_equal(co_eval_weights_parse("disposal_rate:0,ontime_disposal_rate:0,"
                                           "closure_rate:100,ontime_closure_rate:0,"
                                           "rework_rate:0,overdue_rate:0",
                                           &q),
                     CO_OK);
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    RATE(row(&r, FX_S_A)->score, 200.0 / 3);
    assert_int_equal(row(&r, FX_S_A)->grade, 'C');
    RATE(row(&r, FX_S_B)->score, 0.0);
    const co_eval_row *cc = row(&r, FX_S_C);
    UNDEF(cc->score); /* its only weighted indicator is undefined */
    assert_int_equal(cc->grade, 0);
    assert_int_equal(cc->rank, 0);
    assert_ptr_equal(cc, &r.rows[2]); /* unranked last */
    co_eval_result_free(&r);

    /* a weight on an indicator region evaluation does not show */
    q = feb(CO_EVAL_REGION);
    assert_int_equal(co_eval_weights_parse("intake_score:10", &q), CO_OK);
    assert_int_equal(co_eval_run(proj, &q, &r), CO_EINVAL);
    assert_int_equal(co_eval_weights_parse("closure_rate", &q), CO_EINVAL);
    assert_int_equal(co_eval_weights_parse("closure_rate:-1", &q), CO_EINVAL);
    assert_int_equal(co_eval_weights_parse("nope:1", &q), CO_EINVAL);
}

/* ----------------------------------------------------------- department */

static void test_departments(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_DEPT);
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    /* d-env in charge of C1 C3 C4; first dispatched C1 C4 */
    const co_eval_row *e = row(&r, "d-env");
    assert_int_equal(C(e, CASES), 3);
    assert_int_equal(C(e, HANDLED), 1);
    assert_int_equal(C(e, TO_HANDLE), 2);
    assert_int_equal(C(e, LATE), 1);
    assert_int_equal(C(e, EXTENDED), 1);
    assert_int_equal(C(e, TO_CLOSE), 2);
    assert_int_equal(C(e, DISPATCH), 2);
    assert_int_equal(C(e, MISDISPATCH), 0);
    RATE(V(e, DISPOSAL), 0.5);
    RATE(V(e, ONTIME_DISPOSAL), 0.5);
    RATE(V(e, REWORK), 0.0);
    RATE(V(e, OVERDUE), 0.5);
    RATE(V(e, EXTENSION), 0.5);
    RATE(e->score, 60.0); /* 30×50 + 20×50 + 20×100 + 20×50 + 10×50 */
    /* d-road in charge of C2 C8 C10; first dispatched C2 C3 C8 C10 */
    const co_eval_row *d = row(&r, "d-road");
    assert_int_equal(C(d, CASES), 3);
    assert_int_equal(C(d, HANDLED), 3);
    assert_int_equal(C(d, HANDLED_ONTIME), 1);
    assert_int_equal(C(d, LATE), 2);
    assert_int_equal(C(d, TO_CLOSE), 2);
    assert_int_equal(C(d, REWORK), 1);
    assert_int_equal(C(d, DISPATCH), 4);
    assert_int_equal(C(d, DISPATCH_ONTIME), 3);
    assert_int_equal(C(d, MISDISPATCH), 1);
    RATE(V(d, ACCURATE_DISPATCH), 0.75);
    RATE(V(d, REWORK), 0.5);
    RATE(V(d, OVERDUE), 2.0 / 3);
    /* 30×100 + 20×33.33 + 20×50 + 20×33.33 + 10×66.67 = 6000 */
    RATE(d->score, 60.0);
    /* a tie: both rank 1, ordered by code */
    assert_int_equal(r.rows[0].rank, 1);
    assert_int_equal(r.rows[1].rank, 1);
    assert_string_equal(r.rows[0].key, "d-env");
    assert_int_equal(e->grade, 'C');
    co_eval_result_free(&r);
}

/* ---------------------------------------------------------------- posts */

static void test_post_inspector(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_POST);
    q.role = CO_ROLE_INSPECTOR;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2); /* insp3's check was superseded by insp2's */
    const co_eval_row *i1 = row(&r, "insp1"), *i2 = row(&r, "insp2");
    assert_int_equal(C(i1, REPORTED), 2); /* C1 C5 */
    assert_int_equal(C(i1, REPORTED_VALID), 1);
    assert_int_equal(C(i1, VERIFY), 1);   /* C2, late */
    assert_int_equal(C(i1, VERIFY_ONTIME), 0);
    assert_int_equal(C(i1, CHECK), 0);
    RATE(V(i1, VALID_REPORT), 0.5);
    UNDEF(V(i1, ONTIME_CHECK));
    RATE(i1->score, 2000.0 / 70); /* (40×50 + 30×0) / 70 */
    assert_int_equal(i1->grade, 'E');
    assert_int_equal(C(i2, REPORTED), 1); /* C7 */
    assert_int_equal(C(i2, REPORTED_VALID), 1);
    assert_int_equal(C(i2, CHECK), 2);    /* C1 C2 */
    assert_int_equal(C(i2, CHECK_ONTIME), 2);
    RATE(i2->score, 100.0);
    assert_int_equal(i2->rank, 1);
    assert_int_equal(i1->rank, 2);
    co_eval_result_free(&r);
}

static void test_post_operator(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_POST);
    q.role = CO_ROLE_OPERATOR;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 2);
    const co_eval_row *o1 = row(&r, "op1"), *o2 = row(&r, "op2");
    assert_int_equal(C(o1, ACCEPTED), 4); /* C2 C3 C8 C10 */
    assert_int_equal(C(o1, VREQ), 1);
    assert_int_equal(C(o1, VREQ_ONTIME), 1);
    assert_int_equal(C(o1, CREQ), 1);     /* C2 */
    assert_int_equal(C(o1, CREQ_ONTIME), 1);
    RATE(V(o1, INTAKE_SCORE), 0.0);       /* 4 × 30/28 per month: below every band */
    RATE(o1->score, 75.0);                /* (25×0 + 40×100 + 35×100) / 100 */
    assert_int_equal(o1->grade, 'B');
    assert_int_equal(C(o2, ACCEPTED), 2); /* C4 C6 */
    assert_int_equal(C(o2, CREQ), 2);     /* C1 on time, C10 late */
    assert_int_equal(C(o2, CREQ_ONTIME), 1);
    UNDEF(V(o2, ONTIME_VREQ));
    RATE(o2->score, 1750.0 / 60); /* (25×0 + 35×50) / 60 */
    co_eval_result_free(&r);
}

static void test_post_shiftlead_dispatcher(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_POST);
    q.role = CO_ROLE_SHIFTLEAD;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    const co_eval_row *l1 = row(&r, "lead1"), *l2 = row(&r, "lead2");
    assert_int_equal(C(l1, FILED), 4); /* C1 C2 C7 C8 */
    assert_int_equal(C(l1, FILED_ONTIME), 3);
    assert_int_equal(C(l1, FILED_VOID), 1);
    assert_int_equal(C(l1, CLOSER), 1);
    assert_int_equal(C(l1, CLOSER_ONTIME), 1);
    RATE(V(l1, ACCURATE_FILE), 0.75);
    RATE(l1->score, 83.75); /* 25×75 + 40×75 + 35×100 */
    assert_int_equal(l1->grade, 'B');
    assert_int_equal(C(l2, FILED), 3); /* C3 C4 C10 */
    assert_int_equal(C(l2, CLOSER), 1);
    assert_int_equal(C(l2, CLOSER_ONTIME), 0);
    RATE(l2->score, 65.0);
    assert_int_equal(l2->grade, 'C');
    co_eval_result_free(&r);

    q.role = CO_ROLE_DISPATCHER;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    const co_eval_row *d1 = row(&r, "disp1"), *d2 = row(&r, "disp2");
    assert_int_equal(C(d1, DISPATCH), 4); /* C1 C2 C8 C10 */
    assert_int_equal(C(d1, DISPATCH_ONTIME), 4);
    RATE(d1->score, 100.0);
    assert_int_equal(C(d2, DISPATCH), 2); /* C3 (first dispatch) C4 */
    assert_int_equal(C(d2, DISPATCH_ONTIME), 1);
    assert_int_equal(C(d2, MISDISPATCH), 1);
    RATE(V(d2, ACCURATE_DISPATCH), 0.5);
    RATE(d2->score, 50.0);
    assert_int_equal(d2->grade, 'D');
    co_eval_result_free(&r);

    q.role = CO_ROLE_HANDLER;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_EINVAL);
}

/* -------------------------------------------------------------- 12345 */

static void test_hotline(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_HOTLINE);
    q.level = CO_LEVEL_STREET;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    assert_int_equal(r.nrows, 3);
    const co_eval_row *a = row(&r, FX_S_A);
    RATE(V(a, RESPONSE), 1.0);
    RATE(V(a, RESOLUTION), 0.5);
    RATE(V(a, SATISFACTION), 0.95);
    RATE(a->score, 73.0); /* 10×100 + 50×50 + 40×95 */
    assert_int_equal(a->rank, 1);
    RATE(row(&r, FX_S_B)->score, 10.0); /* contacted, not resolved, unsatisfied */
    const co_eval_row *c = row(&r, FX_S_C);
    UNDEF(c->score); /* no return visit */
    assert_int_equal(c->rank, 0);
    co_eval_result_free(&r);

    q.by = CO_EVAL_BY_DEPT;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    RATE(row(&r, "d-env")->score, 100.0);
    RATE(row(&r, "d-road")->score, 46.0); /* 10×100 + 50×0 + 40×90 */
    co_eval_result_free(&r);
}

/* ------------------------------------------------------ grades, tables */

static void test_grades_and_errors(void **state)
{
    (void)state;
    assert_int_equal(co_eval_grade(100), 'A');
    assert_int_equal(co_eval_grade(90), 'A');
    assert_int_equal(co_eval_grade(89.999), 'B');
    assert_int_equal(co_eval_grade(75), 'B');
    assert_int_equal(co_eval_grade(74.999), 'C');
    assert_int_equal(co_eval_grade(60), 'C');
    assert_int_equal(co_eval_grade(40), 'D');
    assert_int_equal(co_eval_grade(39.999), 'E');
    assert_int_equal(co_eval_grade(NAN), 0);
    RATE(co_eval_default_weight(CO_EVAL_HOTLINE, CO_ROLE_ADMIN, CO_EI_RESOLUTION), 50);
    RATE(co_eval_default_weight(CO_EVAL_POST, CO_ROLE_INSPECTOR, CO_EI_VALID_REPORT), 40);
    RATE(co_eval_default_weight(CO_EVAL_REGION, CO_ROLE_ADMIN, CO_EI_INTAKE_SCORE), -1);

    co_eval_result r;
    co_eval_query q = feb(CO_EVAL_REGION);
    q.to = q.from;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_EINVAL);
    q = feb(CO_EVAL_REGION);
    q.level = CO_LEVEL_GRID;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_EINVAL);
    co_eval_type t;
    assert_int_equal(co_eval_type_parse("dept", &t), CO_OK);
    assert_int_equal(t, CO_EVAL_DEPT);
    assert_int_equal(co_eval_type_parse("hotline", &t), CO_OK);
    assert_int_equal(co_eval_type_parse("city", &t), CO_EINVAL);
}

static void test_table(void **state)
{
    (void)state;
    co_eval_query q = feb(CO_EVAL_POST);
    q.role = CO_ROLE_SHIFTLEAD;
    co_eval_result r;
    assert_int_equal(co_eval_run(proj, &q, &r), CO_OK);
    co_table *t = NULL;
    assert_int_equal(co_eval_to_table(&r, &t), CO_OK);
    assert_int_equal(co_table_nrows(t), 2);
    int rank = co_table_find_col(t, "rank"), grade = co_table_find_col(t, "grade");
    int acc = co_table_find_col(t, "accurate_file_rate");
    assert_true(rank == 0 && grade > 0 && acc > 0);
    assert_int_equal(co_table_find_col(t, "closure_rate"), -1);
    assert_string_equal(co_table_get_str(t, 0, 1), "lead1");
    assert_string_equal(co_table_get_str(t, 0, (size_t)grade), "B");
    RATE(co_table_get_num(t, 0, (size_t)acc), 0.75);
    json_t *ind = co_eval_indicators_json(&r);
    RATE(json_real_value(json_object_get(json_object_get(ind, "accurate_file_rate"), "weight")),
         40);
    json_decref(ind);
    co_table_free(t);
    co_eval_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_streets),
        cmocka_unit_test(test_custom_weights),
        cmocka_unit_test(test_departments),
        cmocka_unit_test(test_post_inspector),
        cmocka_unit_test(test_post_operator),
        cmocka_unit_test(test_post_shiftlead_dispatcher),
        cmocka_unit_test(test_hotline),
        cmocka_unit_test(test_grades_and_errors),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
