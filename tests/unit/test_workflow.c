/* test_workflow.c — unit tests of src/domain/workflow.c: the transition
 * table (state × action × role → state), guards, department ownership and
 * area scope, required parameters, what co_wf_apply makes of each event, the
 * deadlines in working time and a whole life cycle from register to visit.
 *
 * The expected table below is written from the rules of the closed loop
 * (issue 4 / CJ/T 315 roles), not copied from actions[]: the exhaustive test
 * decides every action × state × role × guard variant and checks that the
 * code allows exactly what this table allows, and refuses the rest with
 * CO_ECONFLICT. The environment is a stub: one default calendar
 * (08:30–12:00, 14:30–18:00, Chinese holidays), three departments, a fixed
 * disposal limit and a fixed routing answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "case_assert.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/timeutil.h"

/* ------------------------------------------------------------ stub env */

static co_calendar *g_cal;
static co_calendar_limit g_limit = {3, CO_CALENDAR_WD};
static const char *g_route = "D-A";

static const co_calendar *env_calendar(void *arg, const char *dept)
{
    (void)arg;
    (void)dept;
    return g_cal;
}

static int env_dept_exists(void *arg, const char *dept)
{
    (void)arg;
    return !strcmp(dept, "D-A") || !strcmp(dept, "D-B") || !strcmp(dept, "D-C");
}

static co_calendar_limit env_disposal_limit(void *arg, const co_case *c)
{
    (void)arg;
    (void)c;
    return g_limit;
}

static void env_route(void *arg, const co_case *c, char *dept, size_t len)
{
    (void)arg;
    snprintf(dept, len, "%s", c->category != CO_CATEGORY_NONE ? g_route : "");
}

static int env_category_exists(void *arg, co_category cat)
{
    (void)arg;
    co_category a, b, d;
    if (co_category_parse("E0402", &a) || co_category_parse("C0101", &b) ||
        co_category_parse("E0102", &d))
        return 0;
    return cat == a || cat == b || cat == d;
}

static const co_wf_env ENV = {NULL, env_calendar, env_dept_exists, env_disposal_limit, env_route,
                              env_category_exists};

static int setup(void **state)
{
    (void)state;
    g_cal = co_calendar_new();
    g_limit = (co_calendar_limit){3, CO_CALENDAR_WD};
    g_route = "D-A";
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    co_calendar_free(g_cal);
    g_cal = NULL;
    return 0;
}

/* ------------------------------------------------------------- helpers */

static int64_t T(const char *iso)
{
    int64_t t = 0;
    if (co_time_parse(iso, &t) != CO_OK)
        fail_msg("bad time in test: %s", iso);
    return t;
}

static void assert_time(int64_t got, const char *want_iso)
{
    char buf[CO_TIME_ISO_MAX];
    co_time_format(got, buf);
    if (strcmp(buf, want_iso) != 0)
        fail_msg("time: got %s, want %s", buf, want_iso);
}

static json_t *P(const char *text)
{
    if (!text)
        return NULL;
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("bad JSON in test: %s (%s)", text, je.text);
    return j;
}

/* The demo-like actors: inspector and handler limited to 新城区 150102. */
static co_wf_actor actor(co_role r)
{
    switch (r) {
    case CO_ROLE_ADMIN: return (co_wf_actor){"admin", r, "", ""};
    case CO_ROLE_OPERATOR: return (co_wf_actor){"operator", r, "", ""};
    case CO_ROLE_INSPECTOR: return (co_wf_actor){"inspector", r, "", "150102"};
    case CO_ROLE_SHIFTLEAD: return (co_wf_actor){"shiftlead", r, "", ""};
    case CO_ROLE_DISPATCHER: return (co_wf_actor){"dispatcher", r, "", ""};
    case CO_ROLE_HANDLER: return (co_wf_actor){"handler", r, "D-A", "150102"};
    case CO_ROLE_LEADER: return (co_wf_actor){"leader", r, "", ""};
    default: break;
    }
    return (co_wf_actor){"?", r, "", ""};
}

/* A case in 150102 owned by D-A (also its first department) in state st. */
static co_case mkcase(co_state st)
{
    co_case c;
    memset(&c, 0, sizeof c);
    c.id = 42;
    snprintf(c.number, sizeof c.number, "2026092900042");
    c.created = c.updated = T("2026-09-29T09:00:00+08:00");
    c.channel = CO_CH_HOTLINE;
    c.reqtype = CO_RT_COMPLAINT;
    c.severity = CO_SEV_NORMAL;
    if (co_category_parse("E0402", &c.category))
        fail();
    c.tax_version = 1;
    c.state = st;
    c.lon = 111.6879;
    c.lat = 40.8523;
    snprintf(c.grid, sizeof c.grid, "150102001001084");
    snprintf(c.community, sizeof c.community, "150102001001");
    snprintf(c.street, sizeof c.street, "150102001");
    snprintf(c.district, sizeof c.district, "150102");
    snprintf(c.description, sizeof c.description, "占道经营");
    snprintf(c.caller_phone, sizeof c.caller_phone, "13812345678");
    snprintf(c.dept, sizeof c.dept, "D-A");
    snprintf(c.first_dept, sizeof c.first_dept, "D-A");
    snprintf(c.routed_dept, sizeof c.routed_dept, "D-A");
    c.step_started = c.created;
    c.dispatched_at = T("2026-09-29T10:00:00+08:00");
    c.disposal_due = T("2026-10-09T18:00:00+08:00");
    c.dispatches = 1;
    return c;
}

/* Field-by-field equality of two cases (names the first differing field). */
static void assert_case_equal(const co_case *a, const co_case *b, int with_seq, const char *what)
{
    assert_case_fields(a, b, with_seq, what);
}

static int64_t g_seq;

/* Decides and applies; fails the test when either step fails. */
static void step(co_case *c, const char *action, co_wf_actor who, const char *params, int64_t now)
{
    co_event ev;
    char err[CO_WF_ERR_MAX];
    json_t *p = P(params);
    co_state from = c->state;
    co_err rc = co_wf_decide(&ENV, c, action, &who, p, now, &ev, err);
    json_decref(p);
    if (rc != CO_OK)
        fail_msg("%s by %s in %s: %s (%s)", action, co_role_name(who.role), co_state_name(from),
                 co_err_str(rc), err);
    assert_int_equal(ev.case_id, c->id);
    assert_int_equal(ev.ts, now);
    assert_int_equal(ev.from, from);
    assert_string_equal(ev.action, action);
    assert_string_equal(ev.actor, who.username);
    assert_string_equal(ev.role, co_role_name(who.role));
    ev.seq = ++g_seq;
    rc = co_wf_apply(c, &ev);
    co_event_clear(&ev);
    if (rc != CO_OK)
        fail_msg("apply %s: %s", action, co_err_str(rc));
    assert_int_equal(c->state, ev.to);
    assert_int_equal(c->updated, now);
    assert_int_equal(c->last_seq, g_seq);
}

/* Decides only; returns the code (the event is discarded). */
static co_err try_(const co_case *c, const char *action, co_wf_actor who, const char *params,
                   int64_t now)
{
    co_event ev;
    char err[CO_WF_ERR_MAX];
    json_t *p = P(params);
    co_err rc = co_wf_decide(&ENV, c, action, &who, p, now, &ev, err);
    json_decref(p);
    if (rc == CO_OK)
        co_event_clear(&ev);
    else
        assert_true(err[0] != '\0'); /* every refusal says why */
    return rc;
}

static int allowed_has(const co_case *c, co_wf_actor who, const char *action)
{
    const char *acts[CO_WF_MAX_ACTIONS];
    size_t n = co_wf_allowed(c, &who, acts);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(acts[i], action))
            return 1;
    return 0;
}

/* ------------------------------------------------- the expected table */

#define S(x) (1u << CO_ST_##x)
#define S_(st) (1u << (st))
#define RL(x) (1u << CO_ROLE_##x)
#define BEFORE_DISPATCH (S(REGISTERED) | S(VERIFYING) | S(FILED))

typedef enum guard {
    G_NONE,
    G_NO_REQUEST,   /* no extension or suspension request pending */
    G_EXT_PENDING,  /* an extension request waits */
    G_SUSP_PENDING, /* a suspension request waits */
    G_CONSULT,      /* 咨询 / 建议 / 表扬: answerable at the desk */
    G_NOT_VISITED,
} guard;

typedef struct rule {
    const char *action;
    unsigned states;  /* where it may start */
    unsigned roles;   /* who may take it */
    guard g;
    int stays;        /* 1: the state does not change */
    co_state to;
    const char *params; /* valid parameters */
} rule;

/* 受理员 registers, sends to verification and to check, answers consultations,
 * visits; 监督员 verifies and checks; 值班长 files, voids, approves, closes,
 * reopens; 派遣员 dispatches; 处置人员 of the owning department accepts,
 * sends back, handles and asks for more time or a suspension; 管理员 and 领导
 * take no step of the loop. */
static const rule RULES[] = {
    {"verify_request", S(REGISTERED), RL(OPERATOR) | RL(SHIFTLEAD), G_NONE, 0, CO_ST_VERIFYING,
     "{}"},
    {"verify", S(VERIFYING), RL(INSPECTOR), G_NONE, 0, CO_ST_REGISTERED, "{\"result\":true}"},
    {"reclassify", BEFORE_DISPATCH, RL(OPERATOR) | RL(SHIFTLEAD) | RL(DISPATCHER), G_NONE, 1, 0,
     "{\"category\":\"E0102\"}"},
    {"file", S(REGISTERED), RL(SHIFTLEAD), G_NONE, 0, CO_ST_FILED, "{\"category\":\"E0402\"}"},
    {"void", S(REGISTERED) | S(VERIFYING), RL(SHIFTLEAD), G_NONE, 0, CO_ST_VOIDED,
     "{\"note\":\"不属实\"}"},
    {"answer", S(REGISTERED), RL(OPERATOR), G_CONSULT, 0, CO_ST_CLOSED, "{\"note\":\"已答复\"}"},
    {"merge", BEFORE_DISPATCH, RL(OPERATOR) | RL(SHIFTLEAD), G_NONE, 0, CO_ST_MERGED,
     "{\"into\":\"2026092900001\"}"},
    /* back to the state before the merge (registered when no flag says otherwise) */
    {"unmerge", S(MERGED), RL(OPERATOR) | RL(SHIFTLEAD), G_NONE, 0, CO_ST_REGISTERED, "{}"},
    {"dispatch", S(FILED), RL(DISPATCHER), G_NONE, 0, CO_ST_DISPATCHED, "{\"dept\":\"D-A\"}"},
    {"accept", S(DISPATCHED), RL(HANDLER), G_NONE, 0, CO_ST_HANDLING, "{}"},
    {"send_back", S(DISPATCHED) | S(HANDLING), RL(HANDLER), G_NO_REQUEST, 0, CO_ST_FILED,
     "{\"note\":\"非本部门职责\"}"},
    {"handle", S(HANDLING), RL(HANDLER), G_NO_REQUEST, 0, CO_ST_HANDLED, "{\"note\":\"已清理\"}"},
    {"request_extension", S(HANDLING), RL(HANDLER), G_NO_REQUEST, 1, 0,
     "{\"limit\":\"2wd\",\"note\":\"工程量大\"}"},
    {"approve_extension", S(HANDLING), RL(SHIFTLEAD), G_EXT_PENDING, 1, 0, "{\"limit\":\"2wd\"}"},
    {"reject_extension", S(HANDLING), RL(SHIFTLEAD), G_EXT_PENDING, 1, 0, "{\"note\":\"不同意\"}"},
    {"request_suspension", S(HANDLING), RL(HANDLER), G_NO_REQUEST, 1, 0,
     "{\"note\":\"冬季无法施工\"}"},
    {"approve_suspension", S(HANDLING), RL(SHIFTLEAD), G_SUSP_PENDING, 0, CO_ST_SUSPENDED, "{}"},
    {"reject_suspension", S(HANDLING), RL(SHIFTLEAD), G_SUSP_PENDING, 1, 0,
     "{\"note\":\"不同意\"}"},
    {"resume", S(SUSPENDED), RL(SHIFTLEAD) | RL(HANDLER), G_NONE, 0, CO_ST_HANDLING, "{}"},
    {"request_check", S(HANDLED), RL(OPERATOR) | RL(SHIFTLEAD), G_NONE, 0, CO_ST_CHECKING, "{}"},
    {"check_pass", S(CHECKING), RL(INSPECTOR), G_NONE, 0, CO_ST_CHECKED, "{}"},
    {"check_fail", S(CHECKING), RL(INSPECTOR), G_NONE, 0, CO_ST_DISPATCHED,
     "{\"note\":\"仍有占道\"}"},
    {"close", S(CHECKED), RL(SHIFTLEAD), G_NONE, 0, CO_ST_CLOSED, "{}"},
    {"reopen", S(CLOSED), RL(SHIFTLEAD), G_NONE, 0, CO_ST_FILED, "{\"note\":\"市民反映未解决\"}"},
    {"visit", S(CLOSED) | S(MERGED), RL(OPERATOR), G_NOT_VISITED, 1, 0,
     "{\"satisfaction\":\"satisfied\"}"},
    /* a note in the history: every state, every role of the loop */
    {"comment",
     S(REGISTERED) | S(VERIFYING) | S(FILED) | S(DISPATCHED) | S(HANDLING) | S(SUSPENDED) |
         S(HANDLED) | S(CHECKING) | S(CHECKED) | S(CLOSED) | S(VOIDED) | S(MERGED),
     RL(OPERATOR) | RL(INSPECTOR) | RL(SHIFTLEAD) | RL(DISPATCHER) | RL(HANDLER), G_NONE, 1, 0,
     "{\"note\":\"市民来电补充：夜间尤其严重\"}"},
};
#define NRULES (sizeof RULES / sizeof RULES[0])

static int guard_holds(guard g, const co_case *c)
{
    int ext = (c->flags & CO_CF_EXT_PENDING) != 0, susp = (c->flags & CO_CF_SUSP_PENDING) != 0;
    switch (g) {
    case G_NONE: return 1;
    case G_NO_REQUEST: return !ext && !susp;
    case G_EXT_PENDING: return ext;
    case G_SUSP_PENDING: return susp;
    case G_CONSULT:
        return c->reqtype == CO_RT_CONSULT || c->reqtype == CO_RT_SUGGESTION ||
               c->reqtype == CO_RT_PRAISE;
    case G_NOT_VISITED: return !(c->flags & CO_CF_VISITED) && c->caller_phone[0];
    }
    return 0;
}

static int expect_allowed(const rule *r, const co_case *c, co_role role)
{
    return (r->states & S_(c->state)) && (r->roles & (1u << role)) && guard_holds(r->g, c);
}

/* ------------------------------------------------------ the table tests */

static void test_action_names_match_table(void **state)
{
    (void)state;
    const char *acts[CO_WF_MAX_ACTIONS];
    size_t n = co_wf_actions(acts);
    assert_int_equal(n, NRULES);
    for (size_t i = 0; i < NRULES; i++) {
        int found = 0;
        for (size_t j = 0; j < n; j++)
            found += !strcmp(acts[j], RULES[i].action);
        if (found != 1)
            fail_msg("action %s appears %d times in co_wf_actions()", RULES[i].action, found);
        assert_true(co_wf_action_zh(RULES[i].action)[0] != '\0');
    }
    assert_string_equal(co_wf_action_zh("register"), "受理登记");
    assert_string_equal(co_wf_action_zh("no_such_action"), "");
}

static const uint32_t FLAG_VARIANTS[] = {0, CO_CF_EXT_PENDING, CO_CF_SUSP_PENDING, CO_CF_VISITED,
                                         CO_CF_EXT_PENDING | CO_CF_SUSP_PENDING};
static const co_reqtype REQ_VARIANTS[] = {CO_RT_NONE, CO_RT_COMPLAINT, CO_RT_CONSULT,
                                          CO_RT_SUGGESTION, CO_RT_PRAISE, CO_RT_HELP};

/* Every action × state × role × guard variant: allowed exactly when the table
 * says so, with the table's target state; refused with CO_ECONFLICT
 * otherwise; co_wf_allowed() agrees with co_wf_decide(). */
static void test_every_state_action_role(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    size_t nallowed = 0, nrefused = 0;
    for (size_t a = 0; a < NRULES; a++) {
        const rule *r = &RULES[a];
        for (int st = CO_ST_NONE; st < CO_ST_COUNT; st++)
            for (int role = 0; role < CO_ROLE_COUNT; role++)
                for (size_t fv = 0; fv < sizeof FLAG_VARIANTS / sizeof FLAG_VARIANTS[0]; fv++)
                    for (size_t rv = 0; rv < sizeof REQ_VARIANTS / sizeof REQ_VARIANTS[0]; rv++) {
                        co_case c = mkcase((co_state)st);
                        c.flags = FLAG_VARIANTS[fv];
                        c.reqtype = REQ_VARIANTS[rv];
                        co_wf_actor who = actor((co_role)role);
                        int want = expect_allowed(r, &c, (co_role)role);
                        co_event ev;
                        char err[CO_WF_ERR_MAX];
                        json_t *p = P(r->params);
                        co_err rc = co_wf_decide(&ENV, &c, r->action, &who, p, now, &ev, err);
                        json_decref(p);
                        if (want && rc != CO_OK)
                            fail_msg("%s by %s in %s (flags %#x, %s) refused: %s (%s)", r->action,
                                     co_role_name(who.role), co_state_name(c.state), c.flags,
                                     co_reqtype_name(c.reqtype), co_err_str(rc), err);
                        if (!want && rc != CO_ECONFLICT)
                            fail_msg("%s by %s in %s (flags %#x, %s): got %s, want conflict",
                                     r->action, co_role_name(who.role), co_state_name(c.state),
                                     c.flags, co_reqtype_name(c.reqtype), co_err_str(rc));
                        if (want) {
                            co_state to = r->stays ? c.state : r->to;
                            assert_int_equal(ev.from, c.state);
                            if (ev.to != to)
                                fail_msg("%s from %s leads to %s, want %s", r->action,
                                         co_state_name(c.state), co_state_name(ev.to),
                                         co_state_name(to));
                            co_event_clear(&ev);
                            nallowed++;
                        } else {
                            assert_true(strstr(err, "not allowed") != NULL);
                            nrefused++;
                        }
                        if (allowed_has(&c, who, r->action) != want)
                            fail_msg("co_wf_allowed disagrees for %s by %s in %s", r->action,
                                     co_role_name(who.role), co_state_name(c.state));
                    }
    }
    /* the loops really ran: 26 actions × 13 states × 7 roles × 5 × 6 */
    assert_int_equal(nallowed + nrefused, NRULES * CO_ST_COUNT * CO_ROLE_COUNT * 5 * 6);
    assert_true(nallowed > 500);
    print_message("decisions: %zu allowed, %zu refused\n", nallowed, nrefused);
}

/* Pending roles: the roles that have a step to take (tidying actions
 * reclassify, merge, comment and reopen do not count as work waiting). */
static void test_pending_roles_follow_table(void **state)
{
    (void)state;
    for (int st = CO_ST_NONE; st < CO_ST_COUNT; st++)
        for (size_t fv = 0; fv < sizeof FLAG_VARIANTS / sizeof FLAG_VARIANTS[0]; fv++)
            for (size_t rv = 0; rv < sizeof REQ_VARIANTS / sizeof REQ_VARIANTS[0]; rv++) {
                co_case c = mkcase((co_state)st);
                c.flags = FLAG_VARIANTS[fv];
                c.reqtype = REQ_VARIANTS[rv];
                unsigned want = 0;
                for (size_t a = 0; a < NRULES; a++) {
                    const rule *r = &RULES[a];
                    if (!strcmp(r->action, "reclassify") || !strcmp(r->action, "merge") ||
                        !strcmp(r->action, "unmerge") || !strcmp(r->action, "comment") ||
                        !strcmp(r->action, "reopen"))
                        continue;
                    /* a merged caller's visit is listed with the master */
                    if (!strcmp(r->action, "visit") && c.state == CO_ST_MERGED)
                        continue;
                    if ((r->states & S_(c.state)) && guard_holds(r->g, &c))
                        want |= r->roles;
                }
                if (co_wf_pending_roles(&c) != want)
                    fail_msg("pending roles in %s flags %#x: got %#x want %#x",
                             co_state_name(c.state), c.flags, co_wf_pending_roles(&c), want);
            }
    co_case closed = mkcase(CO_ST_CLOSED);
    assert_int_equal(co_wf_pending_roles(&closed), RL(OPERATOR)); /* the return visit */
    closed.flags |= CO_CF_VISITED;
    assert_int_equal(co_wf_pending_roles(&closed), 0); /* reopening is possible, not due */
    co_case no_caller = mkcase(CO_ST_CLOSED);
    no_caller.caller_phone[0] = '\0';
    assert_int_equal(co_wf_pending_roles(&no_caller), 0); /* nobody to call back */
    co_case voided = mkcase(CO_ST_VOIDED);
    assert_int_equal(co_wf_pending_roles(&voided), 0);
}

/* --------------------------------------- department ownership and scope */

static void test_handler_of_other_dept(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_wf_actor other = {"handler-b", CO_ROLE_HANDLER, "D-B", "150102"};
    /* a case of D-A that D-B never had: invisible, every action CO_EPERM */
    co_case c = mkcase(CO_ST_DISPATCHED);
    assert_false(co_wf_visible(&c, &other));
    assert_int_equal(try_(&c, "accept", other, "{}", now), CO_EPERM);
    c.state = CO_ST_HANDLING;
    assert_int_equal(try_(&c, "handle", other, "{\"note\":\"x\"}", now), CO_EPERM);
    assert_int_equal(try_(&c, "send_back", other, "{\"note\":\"x\"}", now), CO_EPERM);
    const char *acts[CO_WF_MAX_ACTIONS];
    assert_int_equal(co_wf_allowed(&c, &other, acts), 0);

    /* D-A had the case first; it was then dispatched to D-B. D-A still sees
     * it, but may take no step on D-B's case — including resume. */
    co_wf_actor first = actor(CO_ROLE_HANDLER); /* D-A */
    co_case moved = mkcase(CO_ST_DISPATCHED);
    snprintf(moved.dept, sizeof moved.dept, "D-B");
    assert_true(co_wf_visible(&moved, &first));
    assert_int_equal(try_(&moved, "accept", first, "{}", now), CO_ECONFLICT);
    moved.state = CO_ST_HANDLING;
    assert_int_equal(try_(&moved, "handle", first, "{\"note\":\"x\"}", now), CO_ECONFLICT);
    assert_int_equal(try_(&moved, "send_back", first, "{\"note\":\"x\"}", now), CO_ECONFLICT);
    assert_int_equal(try_(&moved, "request_extension", first, "{\"limit\":\"1wd\",\"note\":\"x\"}",
                          now),
                     CO_ECONFLICT);
    assert_int_equal(try_(&moved, "request_suspension", first, "{\"note\":\"x\"}", now),
                     CO_ECONFLICT);
    moved.state = CO_ST_SUSPENDED;
    assert_int_equal(try_(&moved, "resume", first, "{}", now), CO_ECONFLICT);
    /* it still sees the case it once had: it may only add a note */
    assert_int_equal(co_wf_allowed(&moved, &first, acts), 1);
    assert_string_equal(acts[0], "comment");
    /* D-B's own handler may */
    assert_int_equal(try_(&moved, "resume", other, "{}", now), CO_OK);

    /* a handler without a department sees nothing */
    co_wf_actor nodept = {"h", CO_ROLE_HANDLER, "", ""};
    co_case d = mkcase(CO_ST_DISPATCHED);
    assert_false(co_wf_visible(&d, &nodept));
    assert_int_equal(try_(&d, "accept", nodept, "{}", now), CO_EPERM);
    /* the owning handler outside his area scope */
    co_wf_actor far = {"h", CO_ROLE_HANDLER, "D-A", "150103"};
    assert_false(co_wf_visible(&d, &far));
    assert_int_equal(try_(&d, "accept", far, "{}", now), CO_EPERM);
}

static void test_scope(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_case c = mkcase(CO_ST_CHECKING);
    co_wf_actor in = actor(CO_ROLE_INSPECTOR); /* 150102 */
    co_wf_actor out = {"inspector2", CO_ROLE_INSPECTOR, "", "150103"};
    co_wf_actor street = {"inspector3", CO_ROLE_INSPECTOR, "", "150102001"};
    co_wf_actor street2 = {"inspector4", CO_ROLE_INSPECTOR, "", "150102002"};
    co_wf_actor city = {"inspector5", CO_ROLE_INSPECTOR, "", ""};
    assert_true(co_wf_visible(&c, &in));
    assert_true(co_wf_visible(&c, &street));
    assert_true(co_wf_visible(&c, &city));
    assert_false(co_wf_visible(&c, &out));
    assert_false(co_wf_visible(&c, &street2));
    assert_int_equal(try_(&c, "check_pass", out, "{}", now), CO_EPERM);
    assert_int_equal(try_(&c, "check_pass", street2, "{}", now), CO_EPERM);
    assert_int_equal(try_(&c, "check_pass", street, "{}", now), CO_OK);
    assert_int_equal(try_(&c, "check_pass", in, "{}", now), CO_OK);
    const char *acts[CO_WF_MAX_ACTIONS];
    assert_int_equal(co_wf_allowed(&c, &out, acts), 0);
    /* scope is checked before the table: out of scope is EPERM even when the
     * action would not be allowed anyway */
    assert_int_equal(try_(&c, "close", out, "{}", now), CO_EPERM);
    /* a case in another district */
    co_case d = mkcase(CO_ST_VERIFYING);
    snprintf(d.grid, sizeof d.grid, "150103001001001");
    snprintf(d.community, sizeof d.community, "150103001001");
    snprintf(d.street, sizeof d.street, "150103001");
    snprintf(d.district, sizeof d.district, "150103");
    assert_int_equal(try_(&d, "verify", in, "{\"result\":true}", now), CO_EPERM);
    assert_int_equal(try_(&d, "verify", out, "{\"result\":true}", now), CO_OK);
}

static void test_unknown_action_and_bad_params(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_case c = mkcase(CO_ST_REGISTERED);
    assert_int_equal(try_(&c, "destroy", actor(CO_ROLE_SHIFTLEAD), "{}", now), CO_ENOTFOUND);
    assert_int_equal(try_(&c, "", actor(CO_ROLE_SHIFTLEAD), "{}", now), CO_ENOTFOUND);
    /* parameters must be an object */
    assert_int_equal(try_(&c, "file", actor(CO_ROLE_SHIFTLEAD), "[1,2]", now), CO_EINVAL);
    assert_int_equal(try_(&c, "file", actor(CO_ROLE_SHIFTLEAD), "\"x\"", now), CO_EINVAL);
    /* NULL parameters are fine where nothing is required */
    assert_int_equal(try_(&c, "file", actor(CO_ROLE_SHIFTLEAD), NULL, now), CO_OK);
}

/* Every required parameter: missing or malformed → CO_EINVAL. */
static void test_required_params(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_wf_actor op = actor(CO_ROLE_OPERATOR), sl = actor(CO_ROLE_SHIFTLEAD),
                ins = actor(CO_ROLE_INSPECTOR), disp = actor(CO_ROLE_DISPATCHER),
                h = actor(CO_ROLE_HANDLER);
    char big[1002], longnote[1100];
    memset(big, 'a', 1001);
    big[1001] = '\0';
    snprintf(longnote, sizeof longnote, "{\"note\":\"%s\"}", big);
    static const struct {
        co_state st;
        const char *action;
        int role;
        const char *params;
    } bad[] = {
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, NULL},
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, "{}"},
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, "{\"result\":\"yes\"}"},
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, "{\"result\":1}"},
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, "{\"result\":true,\"photos\":\"abc\"}"},
        {CO_ST_VERIFYING, "verify", CO_ROLE_INSPECTOR, "{\"result\":true,\"photos\":[\"zz\"]}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"category\":\"E9999\"}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"category\":\"X0101\"}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"category\":\"E040\"}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"severity\":\"huge\"}"},
        {CO_ST_FILED, "reclassify", CO_ROLE_DISPATCHER, "{\"category\":\"C9999\"}"},
        {CO_ST_REGISTERED, "void", CO_ROLE_SHIFTLEAD, NULL},
        {CO_ST_REGISTERED, "void", CO_ROLE_SHIFTLEAD, "{\"note\":\"\"}"},
        {CO_ST_REGISTERED, "void", CO_ROLE_SHIFTLEAD, "{\"note\":5}"},
        {CO_ST_REGISTERED, "merge", CO_ROLE_SHIFTLEAD, "{}"},
        {CO_ST_REGISTERED, "merge", CO_ROLE_SHIFTLEAD, "{\"into\":\"2026092900042\"}"},
        {CO_ST_REGISTERED, "merge", CO_ROLE_SHIFTLEAD, "{\"into\":\"123\"}"},
        {CO_ST_REGISTERED, "merge", CO_ROLE_SHIFTLEAD, "{\"into\":\"20260929000420000\"}"},
        {CO_ST_FILED, "dispatch", CO_ROLE_DISPATCHER, "{\"dept\":\"D-NOPE\"}"},
        {CO_ST_DISPATCHED, "send_back", CO_ROLE_HANDLER, "{}"},
        {CO_ST_HANDLING, "handle", CO_ROLE_HANDLER, "{}"},
        {CO_ST_HANDLING, "handle", CO_ROLE_HANDLER,
         "{\"note\":\"ok\",\"photos\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}"},
        {CO_ST_HANDLING, "request_extension", CO_ROLE_HANDLER, "{\"note\":\"x\"}"},
        {CO_ST_HANDLING, "request_extension", CO_ROLE_HANDLER, "{\"limit\":\"2days\",\"note\":\"x\"}"},
        {CO_ST_HANDLING, "request_extension", CO_ROLE_HANDLER, "{\"limit\":\"0wd\",\"note\":\"x\"}"},
        {CO_ST_HANDLING, "request_extension", CO_ROLE_HANDLER, "{\"limit\":\"2wd\"}"},
        {CO_ST_HANDLING, "request_suspension", CO_ROLE_HANDLER, "{}"},
        {CO_ST_CHECKING, "check_fail", CO_ROLE_INSPECTOR, "{}"},
        {CO_ST_CHECKED, "close", CO_ROLE_SHIFTLEAD, "{\"close_type\":\"weird\"}"},
        {CO_ST_CHECKED, "close", CO_ROLE_SHIFTLEAD, "{\"close_type\":\"special\"}"},
        {CO_ST_CLOSED, "reopen", CO_ROLE_SHIFTLEAD, "{}"},
        {CO_ST_CLOSED, "visit", CO_ROLE_OPERATOR, "{}"},
        {CO_ST_CLOSED, "visit", CO_ROLE_OPERATOR, "{\"satisfaction\":\"happy\"}"},
        {CO_ST_CLOSED, "visit", CO_ROLE_OPERATOR, "{\"satisfaction\":\"satisfied\",\"contacted\":\"no\"}"},
        {CO_ST_CLOSED, "visit", CO_ROLE_OPERATOR, "{\"satisfaction\":\"satisfied\",\"resolved\":1}"},
        /* text parameters of another type are refused, not ignored */
        {CO_ST_FILED, "dispatch", CO_ROLE_DISPATCHER, "{\"dept\":5}"},
        {CO_ST_FILED, "dispatch", CO_ROLE_DISPATCHER, "{\"dept\":[\"D-A\"]}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"category\":402}"},
        {CO_ST_REGISTERED, "file", CO_ROLE_SHIFTLEAD, "{\"severity\":2}"},
        {CO_ST_CHECKING, "check_pass", CO_ROLE_INSPECTOR, "{\"note\":true}"},
        {CO_ST_CHECKED, "close", CO_ROLE_SHIFTLEAD, "{\"close_type\":{}}"},
        {CO_ST_CLOSED, "visit", CO_ROLE_OPERATOR, "{\"satisfaction\":1}"},
        {CO_ST_REGISTERED, "merge", CO_ROLE_SHIFTLEAD, "{\"into\":2026092900001}"},
        {CO_ST_HANDLING, "request_extension", CO_ROLE_HANDLER, "{\"limit\":2,\"note\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co_case c = mkcase(bad[i].st);
        co_err rc = try_(&c, bad[i].action, actor((co_role)bad[i].role), bad[i].params, now);
        if (rc != CO_EINVAL)
            fail_msg("#%zu %s %s: got %s, want invalid", i, bad[i].action,
                     bad[i].params ? bad[i].params : "NULL", co_err_str(rc));
    }
    /* a note longer than 1000 bytes, on every action that takes one */
    co_case c = mkcase(CO_ST_REGISTERED);
    assert_int_equal(try_(&c, "void", sl, longnote, now), CO_EINVAL);
    assert_int_equal(try_(&c, "verify_request", op, longnote, now), CO_EINVAL);
    c.state = CO_ST_HANDLING;
    assert_int_equal(try_(&c, "handle", h, longnote, now), CO_EINVAL);
    c.state = CO_ST_CHECKING;
    assert_int_equal(try_(&c, "check_pass", ins, longnote, now), CO_EINVAL);
    /* filing needs a category unless it is a 12345 request with a type */
    co_case u = mkcase(CO_ST_REGISTERED);
    u.category = CO_CATEGORY_NONE;
    u.reqtype = CO_RT_NONE;
    assert_int_equal(try_(&u, "file", sl, "{}", now), CO_EINVAL);
    assert_int_equal(try_(&u, "file", sl, "{\"category\":\"E0402\"}", now), CO_OK);
    u.reqtype = CO_RT_HELP;
    assert_int_equal(try_(&u, "file", sl, "{}", now), CO_OK);
    /* dispatch without dept takes the routed one; without either it fails */
    co_case f = mkcase(CO_ST_FILED);
    f.routed_dept[0] = '\0';
    assert_int_equal(try_(&f, "dispatch", disp, "{}", now), CO_EINVAL);
    assert_int_equal(try_(&f, "dispatch", disp, "{\"dept\":\"\"}", now), CO_EINVAL);
    snprintf(f.routed_dept, sizeof f.routed_dept, "D-C");
    assert_int_equal(try_(&f, "dispatch", disp, "{}", now), CO_OK);
    /* null stands for "not given" */
    assert_int_equal(try_(&f, "dispatch", disp, "{\"dept\":null,\"note\":null}", now), CO_OK);
    /* a not-contacted visit needs no satisfaction */
    co_case v = mkcase(CO_ST_CLOSED);
    assert_int_equal(try_(&v, "visit", op, "{\"contacted\":false}", now), CO_OK);
}

/* -------------------------------------------- what each action records */

static void test_verify_flow(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_REGISTERED);
    c.step_due = T("2026-10-09T12:00:00+08:00");
    step(&c, "verify_request", actor(CO_ROLE_OPERATOR), "{}", T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_VERIFYING);
    assert_int_equal(c.step_started, T("2026-10-09T10:00:00+08:00"));
    assert_time(c.step_due, "2026-10-09T11:00:00+08:00"); /* 60 working minutes */
    step(&c, "verify", actor(CO_ROLE_INSPECTOR), "{\"result\":false,\"note\":\"现场无此问题\"}",
         T("2026-10-09T10:30:00+08:00"));
    assert_int_equal(c.state, CO_ST_REGISTERED);
    assert_int_equal(c.flags & (CO_CF_VERIFIED | CO_CF_VERIFY_FALSE | CO_CF_VERIFY_LATE),
                     CO_CF_VERIFY_FALSE);
    assert_time(c.step_due, "2026-10-09T15:00:00+08:00"); /* 2 wh from 10:30: 1.5 h + 0.5 h */
    /* verified again, true, and late this time (step due 14:30) */
    step(&c, "verify_request", actor(CO_ROLE_SHIFTLEAD), "{}", T("2026-10-09T10:40:00+08:00"));
    step(&c, "verify", actor(CO_ROLE_INSPECTOR),
         "{\"result\":true,\"photos\":[\"" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\"]}",
         T("2026-10-09T15:00:00+08:00"));
    assert_int_equal(c.flags & (CO_CF_VERIFIED | CO_CF_VERIFY_FALSE | CO_CF_VERIFY_LATE),
                     CO_CF_VERIFIED | CO_CF_VERIFY_LATE);
    assert_int_equal(c.nphotos, 1);
    assert_string_equal(c.photos[0],
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
}

static void test_file_reclassify_dispatch(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_REGISTERED);
    c.category = CO_CATEGORY_NONE;
    c.routed_dept[0] = c.dept[0] = c.first_dept[0] = '\0';
    c.dispatched_at = c.disposal_due = 0;
    c.dispatches = 0;
    c.step_due = T("2026-10-09T09:00:00+08:00");
    g_route = "D-B";
    step(&c, "file", actor(CO_ROLE_SHIFTLEAD), "{\"category\":\"E0402\",\"severity\":\"urgent\"}",
         T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_FILED);
    char cat[8];
    co_category_format(c.category, cat);
    assert_string_equal(cat, "E0402");
    assert_int_equal(c.severity, CO_SEV_URGENT);
    assert_string_equal(c.routed_dept, "D-B");
    assert_true(c.flags & CO_CF_FILE_LATE);                /* step was due at 09:00 */
    assert_time(c.step_due, "2026-10-09T11:00:00+08:00"); /* dispatch within 1 wh */
    /* the dispatcher reclassifies: routing follows the new category */
    g_route = "D-C";
    step(&c, "reclassify", actor(CO_ROLE_DISPATCHER), "{\"category\":\"E0102\"}",
         T("2026-10-09T10:10:00+08:00"));
    assert_int_equal(c.state, CO_ST_FILED);
    co_category_format(c.category, cat);
    assert_string_equal(cat, "E0102");
    assert_string_equal(c.routed_dept, "D-C");
    assert_time(c.step_due, "2026-10-09T11:00:00+08:00"); /* unchanged */
    /* dispatch without a dept goes to the routed one */
    step(&c, "dispatch", actor(CO_ROLE_DISPATCHER), "{}", T("2026-10-09T10:20:00+08:00"));
    assert_int_equal(c.state, CO_ST_DISPATCHED);
    assert_string_equal(c.dept, "D-C");
    assert_string_equal(c.first_dept, "D-C");
    assert_int_equal(c.dispatched_at, T("2026-10-09T10:20:00+08:00"));
    assert_int_equal(c.dispatches, 1);
    assert_false(c.flags & (CO_CF_MISDISPATCH | CO_CF_DISPATCH_LATE));
    /* 3 wd after Fri 9 Oct: Sat 10 Oct is a make-up working day, then 12, 13 */
    assert_time(c.disposal_due, "2026-10-13T18:00:00+08:00");
    assert_time(c.step_due, "2026-10-09T11:20:00+08:00"); /* accept within 1 wh */
    /* the demo handler belongs to D-A: D-C's case is not his to see */
    assert_int_equal(try_(&c, "accept", actor(CO_ROLE_HANDLER), NULL,
                          T("2026-10-09T10:30:00+08:00")),
                     CO_EPERM);
    co_wf_actor hc = {"handler-c", CO_ROLE_HANDLER, "D-C", ""};
    step(&c, "accept", hc, NULL, T("2026-10-09T10:30:00+08:00"));
    assert_int_equal(c.state, CO_ST_HANDLING);
}

static void test_dispatch_deadline_over_national_day(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_FILED);
    c.dept[0] = c.first_dept[0] = '\0';
    c.dispatched_at = c.disposal_due = 0;
    c.dispatches = 0;
    step(&c, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-A\"}",
         T("2026-09-30T17:00:00+08:00"));
    /* 3 working days strictly after 30 Sep: 1–7 Oct are holidays, 8, 9 and
     * the make-up Saturday 10 Oct count */
    assert_time(c.disposal_due, "2026-10-10T18:00:00+08:00");
    /* 1 wh from 17:00 uses up the afternoon span exactly: 18:00 the same day */
    assert_time(c.step_due, "2026-09-30T18:00:00+08:00");
    /* a 4 wh limit from the same instant ends on 8 Oct at 11:30 */
    co_case d = mkcase(CO_ST_FILED);
    d.dept[0] = d.first_dept[0] = '\0';
    d.dispatched_at = d.disposal_due = 0;
    g_limit = (co_calendar_limit){4, CO_CALENDAR_WH};
    step(&d, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-B\"}",
         T("2026-09-30T17:00:00+08:00"));
    assert_time(d.disposal_due, "2026-10-08T11:30:00+08:00");
}

static void test_accept_handle_close_normal(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_DISPATCHED);
    c.step_due = T("2026-10-09T11:00:00+08:00");
    step(&c, "accept", actor(CO_ROLE_HANDLER), "{}", T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_HANDLING);
    assert_int_equal(c.step_due, c.disposal_due); /* the disposal clock is the step's */
    step(&c, "handle", actor(CO_ROLE_HANDLER), "{\"note\":\"已清理\"}",
         T("2026-10-09T15:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_HANDLED);
    assert_int_equal(c.handled_at, T("2026-10-09T15:00:00+08:00"));
    assert_false(c.flags & (CO_CF_HANDLED_LATE | CO_CF_EVER_OVERDUE));
    assert_time(c.step_due, "2026-10-09T17:00:00+08:00"); /* request_check within 2 wh */
    step(&c, "request_check", actor(CO_ROLE_OPERATOR), "{}", T("2026-10-09T15:10:00+08:00"));
    assert_int_equal(c.state, CO_ST_CHECKING);
    assert_time(c.step_due, "2026-10-09T16:10:00+08:00"); /* check within 60 wm */
    step(&c, "check_pass", actor(CO_ROLE_INSPECTOR), "{}", T("2026-10-09T15:30:00+08:00"));
    assert_int_equal(c.state, CO_ST_CHECKED);
    assert_false(c.flags & CO_CF_CHECK_LATE);
    step(&c, "close", actor(CO_ROLE_SHIFTLEAD), "{}", T("2026-10-09T16:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_CLOSED);
    assert_int_equal(c.close_type, CO_CLOSE_NORMAL);
    assert_int_equal(c.closed_at, T("2026-10-09T16:00:00+08:00"));
    assert_int_equal(c.step_due, 0);
}

static void test_close_overdue_and_special(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_HANDLING); /* disposal due 9 Oct 18:00 */
    step(&c, "handle", actor(CO_ROLE_HANDLER), "{\"note\":\"晚了\"}", T("2026-10-10T09:00:00+08:00"));
    assert_true(c.flags & CO_CF_HANDLED_LATE);
    assert_true(c.flags & CO_CF_EVER_OVERDUE);
    step(&c, "request_check", actor(CO_ROLE_SHIFTLEAD), "{}", T("2026-10-10T09:10:00+08:00"));
    step(&c, "check_pass", actor(CO_ROLE_INSPECTOR), "{}", T("2026-10-10T11:00:00+08:00"));
    assert_true(c.flags & CO_CF_CHECK_LATE); /* 60 wm from 09:10 were up at 10:10 */
    step(&c, "close", actor(CO_ROLE_SHIFTLEAD), "{}", T("2026-10-10T11:10:00+08:00"));
    assert_int_equal(c.close_type, CO_CLOSE_OVERDUE);

    co_case s = mkcase(CO_ST_CHECKED);
    step(&s, "close", actor(CO_ROLE_SHIFTLEAD), "{\"close_type\":\"special\",\"note\":\"拆迁区域\"}",
         T("2026-10-09T11:00:00+08:00"));
    assert_int_equal(s.close_type, CO_CLOSE_SPECIAL);
    co_case n = mkcase(CO_ST_CHECKED);
    step(&n, "close", actor(CO_ROLE_SHIFTLEAD), "{\"close_type\":\"normal\"}",
         T("2026-10-09T11:00:00+08:00"));
    assert_int_equal(n.close_type, CO_CLOSE_NORMAL);
}

static void test_check_fail_rework(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_CHECKING);
    c.handled_at = T("2026-10-09T09:00:00+08:00");
    step(&c, "check_fail", actor(CO_ROLE_INSPECTOR), "{\"note\":\"仍有占道\"}",
         T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_DISPATCHED);
    assert_int_equal(c.rework, 1);
    assert_int_equal(c.dispatches, 2);
    assert_string_equal(c.dept, "D-A"); /* back to the same department */
    assert_string_equal(c.first_dept, "D-A");
    assert_false(c.flags & CO_CF_MISDISPATCH);
    assert_int_equal(c.handled_at, 0);
    assert_time(c.disposal_due, "2026-10-13T18:00:00+08:00"); /* a fresh 3 wd */
    assert_time(c.step_due, "2026-10-09T11:00:00+08:00");     /* accept within 1 wh */
    /* the same department takes it again, fails again: rework 2 */
    step(&c, "accept", actor(CO_ROLE_HANDLER), "{}", T("2026-10-09T10:30:00+08:00"));
    step(&c, "handle", actor(CO_ROLE_HANDLER), "{\"note\":\"再次清理\"}",
         T("2026-10-09T11:00:00+08:00"));
    step(&c, "request_check", actor(CO_ROLE_OPERATOR), "{}", T("2026-10-09T11:10:00+08:00"));
    step(&c, "check_fail", actor(CO_ROLE_INSPECTOR), "{\"note\":\"还是不行\"}",
         T("2026-10-09T11:20:00+08:00"));
    assert_int_equal(c.rework, 2);
    assert_int_equal(c.dispatches, 3);
}

static void test_send_back_and_misdispatch(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_FILED);
    c.dept[0] = c.first_dept[0] = '\0';
    c.dispatched_at = c.disposal_due = 0;
    c.dispatches = 0;
    step(&c, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-A\"}",
         T("2026-10-09T09:00:00+08:00"));
    int64_t first_at = c.dispatched_at;
    step(&c, "send_back", actor(CO_ROLE_HANDLER), "{\"note\":\"非本部门职责\"}",
         T("2026-10-09T09:30:00+08:00"));
    assert_int_equal(c.state, CO_ST_FILED);
    assert_true(c.flags & CO_CF_SENT_BACK);
    assert_string_equal(c.dept, "");
    assert_int_equal(c.disposal_due, 0);
    assert_time(c.step_due, "2026-10-09T10:30:00+08:00");
    /* the sending department still sees the case (first_dept) but owns nothing */
    co_wf_actor h = actor(CO_ROLE_HANDLER);
    assert_true(co_wf_visible(&c, &h));
    /* re-dispatched to another department: a misdispatch */
    step(&c, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-B\"}",
         T("2026-10-09T10:00:00+08:00"));
    assert_string_equal(c.dept, "D-B");
    assert_string_equal(c.first_dept, "D-A");
    assert_true(c.flags & CO_CF_MISDISPATCH);
    assert_int_equal(c.dispatches, 2);
    assert_int_equal(c.dispatched_at, first_at); /* the disposal clock started at the first */
    assert_time(c.disposal_due, "2026-10-13T18:00:00+08:00");

    /* sent back and dispatched to the same department again: no misdispatch */
    co_case d = mkcase(CO_ST_HANDLING);
    step(&d, "send_back", actor(CO_ROLE_HANDLER), "{\"note\":\"需要重新派遣\"}",
         T("2026-10-09T09:30:00+08:00"));
    step(&d, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-A\"}",
         T("2026-10-09T10:00:00+08:00"));
    assert_false(d.flags & CO_CF_MISDISPATCH);
    assert_true(d.flags & CO_CF_SENT_BACK);
    /* a late dispatch is flagged */
    co_case e = mkcase(CO_ST_FILED);
    e.dept[0] = e.first_dept[0] = '\0';
    e.step_due = T("2026-10-09T09:00:00+08:00");
    step(&e, "dispatch", actor(CO_ROLE_DISPATCHER), "{\"dept\":\"D-A\"}",
         T("2026-10-09T10:00:00+08:00"));
    assert_true(e.flags & CO_CF_DISPATCH_LATE);
}

static void test_extension(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_HANDLING);
    c.disposal_due = T("2026-10-10T18:00:00+08:00");
    co_wf_actor h = actor(CO_ROLE_HANDLER), sl = actor(CO_ROLE_SHIFTLEAD);
    int64_t now = T("2026-10-09T10:00:00+08:00");
    step(&c, "request_extension", h, "{\"limit\":\"2wd\",\"note\":\"需要更换设施\"}", now);
    assert_int_equal(c.state, CO_ST_HANDLING);
    assert_true(c.flags & CO_CF_EXT_PENDING);
    /* while a request waits the department can neither handle nor ask again */
    assert_int_equal(try_(&c, "handle", h, "{\"note\":\"x\"}", now), CO_ECONFLICT);
    assert_int_equal(try_(&c, "send_back", h, "{\"note\":\"x\"}", now), CO_ECONFLICT);
    assert_int_equal(try_(&c, "request_extension", h, "{\"limit\":\"1wd\",\"note\":\"x\"}", now),
                     CO_ECONFLICT);
    assert_int_equal(try_(&c, "request_suspension", h, "{\"note\":\"x\"}", now), CO_ECONFLICT);
    assert_int_equal(try_(&c, "approve_suspension", sl, "{}", now), CO_ECONFLICT);
    /* approved: 2 wd counted from the old deadline (Sat 10 Oct, a make-up day) */
    step(&c, "approve_extension", sl, "{\"limit\":\"2wd\"}", T("2026-10-09T11:00:00+08:00"));
    assert_false(c.flags & CO_CF_EXT_PENDING);
    assert_true(c.flags & CO_CF_EXTENDED);
    assert_int_equal(c.extensions, 1);
    assert_time(c.disposal_due, "2026-10-13T18:00:00+08:00");
    assert_time(c.step_due, "2026-10-13T18:00:00+08:00");
    /* a second request, rejected: the deadline stays */
    step(&c, "request_extension", h, "{\"limit\":\"4wh\",\"note\":\"再延\"}",
         T("2026-10-12T09:00:00+08:00"));
    step(&c, "reject_extension", sl, "{\"note\":\"不同意\"}", T("2026-10-12T09:30:00+08:00"));
    assert_false(c.flags & CO_CF_EXT_PENDING);
    assert_int_equal(c.extensions, 1);
    assert_time(c.disposal_due, "2026-10-13T18:00:00+08:00");
    /* an extension approved after the deadline passed counts from now */
    co_case late = mkcase(CO_ST_HANDLING);
    late.flags |= CO_CF_EXT_PENDING;
    late.disposal_due = T("2026-10-09T12:00:00+08:00");
    step(&late, "approve_extension", sl, "{\"limit\":\"4wh\"}", T("2026-10-09T15:00:00+08:00"));
    /* 15:00–18:00, then 1 h on Sat 10 Oct (a make-up working day) */
    assert_time(late.disposal_due, "2026-10-10T09:30:00+08:00");
}

static void test_suspension(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_HANDLING); /* due Fri 9 Oct 18:00 */
    co_wf_actor h = actor(CO_ROLE_HANDLER), sl = actor(CO_ROLE_SHIFTLEAD);
    step(&c, "request_suspension", h, "{\"note\":\"冬季无法施工\"}", T("2026-10-09T09:30:00+08:00"));
    assert_true(c.flags & CO_CF_SUSP_PENDING);
    step(&c, "approve_suspension", sl, "{}", T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_SUSPENDED);
    assert_false(c.flags & CO_CF_SUSP_PENDING);
    assert_true(c.flags & CO_CF_SUSPENDED_ONCE);
    /* working time left: 10:00–12:00 and 14:30–18:00 = 5.5 h */
    assert_int_equal(c.disposal_left, 5 * 3600 + 1800);
    assert_int_equal(c.step_due, 0);
    /* nothing but resume while suspended */
    assert_int_equal(try_(&c, "handle", h, "{\"note\":\"x\"}", T("2026-10-09T11:00:00+08:00")),
                     CO_ECONFLICT);
    /* resumed on Monday 12 Oct 09:00: 330 working minutes → 17:00 */
    step(&c, "resume", h, "{}", T("2026-10-12T09:00:00+08:00"));
    assert_int_equal(c.state, CO_ST_HANDLING);
    assert_time(c.disposal_due, "2026-10-12T17:00:00+08:00");
    assert_int_equal(c.disposal_left, 0);
    assert_time(c.step_due, "2026-10-12T17:00:00+08:00");
    /* a rejected request leaves the case as it was */
    step(&c, "request_suspension", h, "{\"note\":\"再挂\"}", T("2026-10-12T10:00:00+08:00"));
    step(&c, "reject_suspension", sl, "{\"note\":\"不同意\"}", T("2026-10-12T10:10:00+08:00"));
    assert_int_equal(c.state, CO_ST_HANDLING);
    assert_false(c.flags & CO_CF_SUSP_PENDING);
    assert_time(c.disposal_due, "2026-10-12T17:00:00+08:00");
    /* suspended after the deadline passed: nothing left, resume is due at once */
    co_case o = mkcase(CO_ST_HANDLING);
    o.flags |= CO_CF_SUSP_PENDING;
    o.disposal_due = T("2026-10-09T09:00:00+08:00");
    step(&o, "approve_suspension", sl, "{}", T("2026-10-09T10:00:00+08:00"));
    assert_int_equal(o.disposal_left, 0);
    step(&o, "resume", sl, "{}", T("2026-10-12T09:00:00+08:00"));
    assert_int_equal(o.disposal_due, T("2026-10-12T09:00:00+08:00"));
}

static void test_visit_and_reopen(void **state)
{
    (void)state;
    co_wf_actor op = actor(CO_ROLE_OPERATOR);
    int64_t now = T("2026-10-12T09:00:00+08:00");
    static const struct {
        const char *params;
        uint32_t flags;
        co_satisfaction sat;
    } cases[] = {
        {"{\"satisfaction\":\"satisfied\"}", CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED,
         CO_SAT_SATISFIED},
        {"{\"satisfaction\":\"basic\"}", CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED,
         CO_SAT_BASIC},
        {"{\"satisfaction\":\"unsatisfied\"}", CO_CF_VISITED | CO_CF_CONTACTED, CO_SAT_UNSATISFIED},
        {"{\"satisfaction\":\"unsatisfied\",\"resolved\":true}",
         CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED, CO_SAT_UNSATISFIED},
        {"{\"satisfaction\":\"satisfied\",\"resolved\":false}", CO_CF_VISITED | CO_CF_CONTACTED,
         CO_SAT_SATISFIED},
        {"{\"contacted\":false}", CO_CF_VISITED, CO_SAT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        co_case c = mkcase(CO_ST_CLOSED);
        c.close_type = CO_CLOSE_NORMAL;
        step(&c, "visit", op, cases[i].params, now);
        assert_int_equal(c.state, CO_ST_CLOSED);
        uint32_t vis = CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED;
        if ((c.flags & vis) != cases[i].flags)
            fail_msg("visit %s: flags %#x want %#x", cases[i].params, c.flags & vis,
                     cases[i].flags);
        assert_int_equal(c.satisfaction, cases[i].sat);
        /* one visit per closing */
        assert_int_equal(try_(&c, "visit", op, "{\"satisfaction\":\"satisfied\"}", now),
                         CO_ECONFLICT);
    }
    /* reopen: back to filed, the visit and the closing are forgotten */
    co_case c = mkcase(CO_ST_CLOSED);
    c.close_type = CO_CLOSE_NORMAL;
    c.closed_at = T("2026-10-09T16:00:00+08:00");
    c.handled_at = T("2026-10-09T15:00:00+08:00");
    step(&c, "visit", op, "{\"satisfaction\":\"unsatisfied\"}", now);
    step(&c, "reopen", actor(CO_ROLE_SHIFTLEAD), "{\"note\":\"市民反映未解决\"}",
         T("2026-10-12T09:30:00+08:00"));
    assert_int_equal(c.state, CO_ST_FILED);
    assert_true(c.flags & CO_CF_REOPENED);
    assert_false(c.flags & (CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED));
    assert_int_equal(c.satisfaction, CO_SAT_NONE);
    assert_int_equal(c.close_type, CO_CLOSE_NONE);
    assert_int_equal(c.closed_at, 0);
    assert_int_equal(c.handled_at, 0);
    assert_string_equal(c.dept, "");
    assert_time(c.step_due, "2026-10-12T10:30:00+08:00");
}

static void test_answer_void_merge(void **state)
{
    (void)state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_case a = mkcase(CO_ST_REGISTERED);
    a.reqtype = CO_RT_CONSULT;
    a.dept[0] = a.first_dept[0] = '\0';
    step(&a, "answer", actor(CO_ROLE_OPERATOR), "{\"note\":\"已告知办理流程\"}", now);
    assert_int_equal(a.state, CO_ST_CLOSED);
    assert_true(a.flags & CO_CF_DIRECT);
    assert_int_equal(a.close_type, CO_CLOSE_NORMAL);
    assert_int_equal(a.closed_at, now);
    /* and it can be visited */
    step(&a, "visit", actor(CO_ROLE_OPERATOR), "{\"satisfaction\":\"satisfied\"}", now + 60);
    /* a complaint cannot be answered at the desk */
    co_case b = mkcase(CO_ST_REGISTERED);
    assert_int_equal(try_(&b, "answer", actor(CO_ROLE_OPERATOR), "{\"note\":\"x\"}", now),
                     CO_ECONFLICT);

    co_case v = mkcase(CO_ST_VERIFYING);
    step(&v, "void", actor(CO_ROLE_SHIFTLEAD), "{\"note\":\"重复上报\"}", now);
    assert_int_equal(v.state, CO_ST_VOIDED);
    assert_false(co_state_is_open(v.state));

    co_case m = mkcase(CO_ST_FILED);
    step(&m, "merge", actor(CO_ROLE_OPERATOR), "{\"into\":\"2026092900007\"}", now);
    assert_int_equal(m.state, CO_ST_MERGED);
    assert_string_equal(m.merged_into, "2026092900007");
    assert_int_equal(m.step_due, 0);
    /* a merged caller is visited (listed with the master), not inbox work */
    assert_int_equal(co_wf_pending_roles(&m), 0);
    /* unmerge (取消合并): only operator and shift lead, only when merged,
     * back to the state before the merge with that step's limit */
    assert_int_equal(try_(&m, "unmerge", actor(CO_ROLE_DISPATCHER), "{}", now), CO_ECONFLICT);
    assert_int_equal(try_(&m, "unmerge", actor(CO_ROLE_HANDLER), "{}", now), CO_ECONFLICT);
    step(&m, "unmerge", actor(CO_ROLE_SHIFTLEAD), "{\"note\":\"不是同一问题\"}", now + 60);
    assert_int_equal(m.state, CO_ST_FILED);
    assert_string_equal(m.merged_into, "");
    assert_true(m.step_due > now + 60);
    assert_int_equal(try_(&m, "unmerge", actor(CO_ROLE_SHIFTLEAD), "{}", now), CO_ECONFLICT);
    co_case mv = mkcase(CO_ST_VERIFYING);
    step(&mv, "merge", actor(CO_ROLE_SHIFTLEAD),
         "{\"into\":\"2026092900007\",\"score\":0.95}", now);
    step(&mv, "unmerge", actor(CO_ROLE_OPERATOR), "{}", now + 60);
    assert_int_equal(mv.state, CO_ST_VERIFYING);
    co_case mr = mkcase(CO_ST_REGISTERED);
    assert_int_equal(try_(&mr, "merge", actor(CO_ROLE_SHIFTLEAD),
                          "{\"into\":\"2026092900007\",\"score\":1.5}", now),
                     CO_EINVAL);
    step(&mr, "merge", actor(CO_ROLE_SHIFTLEAD), "{\"into\":\"2026092900007\"}", now);
    step(&mr, "unmerge", actor(CO_ROLE_SHIFTLEAD), "{}", now + 60);
    assert_int_equal(mr.state, CO_ST_REGISTERED);
}

static void test_apply_refuses_wrong_state(void **state)
{
    (void)state;
    co_case c = mkcase(CO_ST_FILED);
    co_event ev;
    char err[CO_WF_ERR_MAX];
    co_wf_actor d = actor(CO_ROLE_DISPATCHER);
    json_t *p = P("{\"dept\":\"D-B\"}");
    assert_int_equal(co_wf_decide(&ENV, &c, "dispatch", &d, p, T("2026-10-09T10:00:00+08:00"),
                                  &ev, err),
                     CO_OK);
    json_decref(p);
    co_case other = mkcase(CO_ST_HANDLING);
    co_case before = other;
    assert_int_equal(co_wf_apply(&other, &ev), CO_EINVAL);
    assert_case_equal(&other, &before, 1, "refused apply");
    snprintf(ev.action, sizeof ev.action, "nonsense");
    assert_int_equal(co_wf_apply(&c, &ev), CO_EINVAL);
    co_event_clear(&ev);
}

/* --------------------------------------------------- the whole loop */

static void test_register_event(void **state)
{
    (void)state;
    co_case draft;
    memset(&draft, 0, sizeof draft);
    draft.id = 7;
    snprintf(draft.number, sizeof draft.number, "2026093000007");
    draft.channel = CO_CH_HOTLINE;
    if (co_category_parse("E0402", &draft.category))
        fail();
    draft.tax_version = 1;
    draft.lon = 111.6879;
    draft.lat = 40.8523;
    snprintf(draft.grid, sizeof draft.grid, "150102001001084");
    snprintf(draft.community, sizeof draft.community, "150102001001");
    snprintf(draft.street, sizeof draft.street, "150102001");
    snprintf(draft.district, sizeof draft.district, "150102");
    snprintf(draft.description, sizeof draft.description, "路边占道经营");
    snprintf(draft.caller_name, sizeof draft.caller_name, "张三");
    snprintf(draft.caller_phone, sizeof draft.caller_phone, "13812345678");
    snprintf(draft.reporter, sizeof draft.reporter, "operator");
    co_wf_actor op = actor(CO_ROLE_OPERATOR);
    int64_t now = T("2026-09-30T17:00:00+08:00");
    co_event ev;
    co_case out;
    assert_int_equal(co_wf_register(&ENV, &draft, &op, now, &ev, &out), CO_OK);
    assert_string_equal(ev.action, "register");
    assert_int_equal(ev.from, CO_ST_NONE);
    assert_int_equal(ev.to, CO_ST_REGISTERED);
    assert_int_equal(ev.case_id, 7);
    assert_string_equal(ev.actor, "operator");
    assert_int_equal(out.state, CO_ST_REGISTERED);
    assert_string_equal(out.routed_dept, "D-A");
    assert_int_equal(out.created, now);
    assert_int_equal(out.step_started, now);
    /* 2 wh to file: 17:00–18:00, then the holiday, then 8 Oct 08:30–09:30 */
    assert_time(out.step_due, "2026-10-08T09:30:00+08:00");
    /* the register event carries the whole case, phone included: the stored
     * document must be exactly the case the writer stores */
    co_case doc;
    assert_null(ev.data); /* text only: {"case":…} */
    json_t *data = json_loads(ev.data_text, 0, NULL);
    assert_non_null(data);
    assert_int_equal(co_case_from_json(json_object_get(data, "case"), &doc), CO_OK);
    json_decref(data);
    assert_string_equal(doc.caller_phone, "13812345678");
    assert_case_equal(&doc, &out, 0, "register document vs case");
    /* replaying the event builds the same case */
    ev.seq = 99;
    co_case c;
    memset(&c, 0xAB, sizeof c);
    assert_int_equal(co_wf_apply(&c, &ev), CO_OK);
    assert_int_equal(c.last_seq, 99);
    assert_case_equal(&c, &out, 0, "replayed register vs case");
    co_event_clear(&ev);
    /* an unclassified 12345 request is unrouted */
    draft.category = CO_CATEGORY_NONE;
    assert_int_equal(co_wf_register(&ENV, &draft, &op, now, &ev, &out), CO_OK);
    assert_string_equal(out.routed_dept, "");
    co_event_clear(&ev);
}

static void test_full_life_cycle(void **state)
{
    (void)state;
    co_case draft;
    memset(&draft, 0, sizeof draft);
    draft.id = 8;
    snprintf(draft.number, sizeof draft.number, "2026100800008");
    draft.channel = CO_CH_HOTLINE;
    draft.reqtype = CO_RT_COMPLAINT;
    if (co_category_parse("E0402", &draft.category))
        fail();
    draft.lon = 111.6879;
    draft.lat = 40.8523;
    snprintf(draft.grid, sizeof draft.grid, "150102001001084");
    snprintf(draft.community, sizeof draft.community, "150102001001");
    snprintf(draft.street, sizeof draft.street, "150102001");
    snprintf(draft.district, sizeof draft.district, "150102");
    snprintf(draft.description, sizeof draft.description, "占道经营");
    snprintf(draft.caller_phone, sizeof draft.caller_phone, "13812345678");
    co_wf_actor op = actor(CO_ROLE_OPERATOR);
    co_event ev;
    co_case out, c;
    assert_int_equal(co_wf_register(&ENV, &draft, &op, T("2026-10-08T09:00:00+08:00"), &ev, &out),
                     CO_OK);
    ev.seq = ++g_seq;
    assert_int_equal(co_wf_apply(&c, &ev), CO_OK);
    co_event_clear(&ev);
    static const struct {
        const char *action;
        co_role role;
        const char *params;
        const char *at;
        co_state want;
    } loop[] = {
        {"verify_request", CO_ROLE_OPERATOR, "{}", "2026-10-08T09:05:00+08:00", CO_ST_VERIFYING},
        {"verify", CO_ROLE_INSPECTOR, "{\"result\":true}", "2026-10-08T09:40:00+08:00",
         CO_ST_REGISTERED},
        {"file", CO_ROLE_SHIFTLEAD, "{}", "2026-10-08T10:00:00+08:00", CO_ST_FILED},
        {"dispatch", CO_ROLE_DISPATCHER, "{}", "2026-10-08T10:30:00+08:00", CO_ST_DISPATCHED},
        {"accept", CO_ROLE_HANDLER, "{}", "2026-10-08T11:00:00+08:00", CO_ST_HANDLING},
        {"handle", CO_ROLE_HANDLER, "{\"note\":\"已劝离\"}", "2026-10-08T15:00:00+08:00",
         CO_ST_HANDLED},
        {"request_check", CO_ROLE_OPERATOR, "{}", "2026-10-08T15:10:00+08:00", CO_ST_CHECKING},
        {"check_pass", CO_ROLE_INSPECTOR, "{}", "2026-10-08T15:40:00+08:00", CO_ST_CHECKED},
        {"close", CO_ROLE_SHIFTLEAD, "{}", "2026-10-08T16:00:00+08:00", CO_ST_CLOSED},
        {"visit", CO_ROLE_OPERATOR, "{\"satisfaction\":\"satisfied\"}", "2026-10-09T09:00:00+08:00",
         CO_ST_CLOSED},
    };
    for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++) {
        step(&c, loop[i].action, actor(loop[i].role), loop[i].params, T(loop[i].at));
        if (c.state != loop[i].want)
            fail_msg("after %s: %s", loop[i].action, co_state_name(c.state));
    }
    assert_string_equal(c.dept, "D-A");
    assert_string_equal(c.first_dept, "D-A");
    assert_int_equal(c.dispatches, 1);
    assert_int_equal(c.rework, 0);
    assert_int_equal(c.dispatched_at, T("2026-10-08T10:30:00+08:00"));
    assert_time(c.disposal_due, "2026-10-12T18:00:00+08:00"); /* 9, 10 (make-up), 12 Oct */
    assert_int_equal(c.handled_at, T("2026-10-08T15:00:00+08:00"));
    assert_int_equal(c.closed_at, T("2026-10-08T16:00:00+08:00"));
    assert_int_equal(c.close_type, CO_CLOSE_NORMAL);
    assert_int_equal(c.satisfaction, CO_SAT_SATISFIED);
    assert_int_equal(c.flags, CO_CF_VERIFIED | CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED);
    const char *acts[CO_WF_MAX_ACTIONS];
    co_wf_actor sl = actor(CO_ROLE_SHIFTLEAD);
    assert_int_equal(co_wf_allowed(&c, &sl, acts), 2);
    assert_string_equal(acts[0], "reopen");
    assert_string_equal(acts[1], "comment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_action_names_match_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_state_action_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_roles_follow_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_of_other_dept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_action_and_bad_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_reclassify_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dispatch_deadline_over_national_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_handle_close_normal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_overdue_and_special, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_fail_rework, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_back_and_misdispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visit_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_void_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_refuses_wrong_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_life_cycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
