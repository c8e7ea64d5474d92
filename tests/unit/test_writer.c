/* test_writer.c — unit tests of src/store/writer.c over a throw-away store
 * (SQLite; PostgreSQL when CITYOPS_TEST_PG is set, see store_fixture.h)
 * with a stub workflow environment: several threads register cases
 * and take actions at once; every command commits, ids and numbers are
 * unique, the committed hook sees every change once in sequence order, and
 * — the event log is the truth — replaying each case's stored events with
 * co_wf_apply rebuilds its stored row exactly. A refused action (conflict,
 * out of scope, bad parameters, unknown case) writes nothing. Case numbers
 * stay unique when commands of two days interleave (midnight). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "case_assert.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/workflow.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store_fixture.h"
#include "store/writer.h"
#include "store/sqlite_int.h"
#include <sys/stat.h>

/* ------------------------------------------------------------ stub env */

static co_calendar *g_cal;

static const co_calendar *env_calendar(void *arg, const char *dept)
{
    (void)arg;
    (void)dept;
    return g_cal;
}

static int env_dept_exists(void *arg, const char *dept)
{
    (void)arg;
    return !strcmp(dept, "D-A") || !strcmp(dept, "D-B");
}

static co_calendar_limit env_disposal_limit(void *arg, const co_case *c)
{
    (void)arg;
    (void)c;
    return (co_calendar_limit){3, CO_CALENDAR_WD};
}

static void env_route(void *arg, const co_case *c, char *dept, size_t len)
{
    (void)arg;
    snprintf(dept, len, "%s", c->category != CO_CATEGORY_NONE ? "D-A" : "");
}

static int env_category_exists(void *arg, co_category cat)
{
    (void)arg;
    return cat != CO_CATEGORY_NONE;
}

static const co_wf_env ENV = {NULL, env_calendar, env_dept_exists, env_disposal_limit, env_route,
                              env_category_exists};

/* --------------------------------------------------- committed hook */

static pthread_mutex_t g_hook_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t g_hook_calls;
static int64_t g_hook_last_seq;
static int g_hook_out_of_order;
static atomic_size_t g_hinted;   /* registrations whose hint reached the hook */
static atomic_int g_bad_hint;     /* a hint not its registration's, or on another change */

/* do_register's hint is the new case's id: the hook checks it is this case's */
static void check_hint(const co_case *c, const co_event *ev, const void *hint)
{
    if (!hint)
        return;
    if (strcmp(ev->action, "register") != 0 || *(const int64_t *)hint != c->id)
        atomic_fetch_add(&g_bad_hint, 1);
    else
        atomic_fetch_add(&g_hinted, 1);
}

static void on_committed(void *arg, const co_case *c, const co_event *ev, const void *hint)
{
    (void)arg;
    check_hint(c, ev, hint);
    pthread_mutex_lock(&g_hook_lock);
    g_hook_calls++;
    if (ev->seq <= g_hook_last_seq || c->id != ev->case_id || c->state != ev->to)
        g_hook_out_of_order++;
    g_hook_last_seq = ev->seq;
    pthread_mutex_unlock(&g_hook_lock);
}

/* ------------------------------------------------------------- fixture */

typedef struct fx {
    char dir[64];
    co_store *st;
    co_writer *w;
} fx;

static void fx_start_writer(fx *f)
{
    co_writer_hooks hooks = {&ENV, on_committed, NULL};
    assert_int_equal(co_writer_start(f->st, &hooks, &f->w), CO_OK);
}

static int setup(void **state)
{
    co_log_set_level(CO_LOG_WARN);
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cityops-writer-XXXXXX");
    if (!mkdtemp(f->dir) || fx_store_open(f->dir, &f->st) != CO_OK)
        return -1;
    g_cal = co_calendar_new();
    pthread_mutex_lock(&g_hook_lock);
    g_hook_calls = 0;
    g_hook_last_seq = 0;
    g_hook_out_of_order = 0;
    pthread_mutex_unlock(&g_hook_lock);
    fx_start_writer(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    co_writer_stop(f->w);
    co_store_close(f->st);
    co_calendar_free(g_cal);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static int64_t T(const char *iso)
{
    int64_t t = 0;
    if (co_time_parse(iso, &t) != CO_OK)
        fail_msg("bad time in test: %s", iso);
    return t;
}

static void assert_case_equal(const co_case *a, const co_case *b, const char *what)
{
    assert_case_fields(a, b, 0, what);
}

static co_case draft_case(int k)
{
    co_case d;
    memset(&d, 0, sizeof d);
    d.channel = k % 3 ? CO_CH_HOTLINE : CO_CH_INSPECTOR;
    d.reqtype = k % 5 == 0 ? CO_RT_CONSULT : CO_RT_COMPLAINT;
    if (co_category_parse(k % 2 ? "E0402" : "C0101", &d.category))
        fail();
    d.severity = (co_severity)(k % 3);
    d.lon = 111.6 + k * 1e-4;
    d.lat = 40.8 + k * 1e-4;
    snprintf(d.grid, sizeof d.grid, "150102001001%03u", (unsigned)k % 1000u);
    snprintf(d.community, sizeof d.community, "150102001001");
    snprintf(d.street, sizeof d.street, "150102001");
    snprintf(d.district, sizeof d.district, "150102");
    snprintf(d.description, sizeof d.description, "案件 %d：占道经营 \"引号\"", k);
    snprintf(d.caller_name, sizeof d.caller_name, "市民%d", k);
    snprintf(d.caller_phone, sizeof d.caller_phone, "138%08d", k);
    snprintf(d.reporter, sizeof d.reporter, "operator");
    return d;
}

static const co_wf_actor OPERATOR = {"operator", CO_ROLE_OPERATOR, "", ""};

static co_err do_register(co_writer *w, int k, int64_t now, co_case *out)
{
    co_write_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    co_case d = draft_case(k);
    co_err rc = co_writer_prepare_register(w, &d, &OPERATOR, now, &cmd);
    if (rc)
        return rc;
    /* the event's data is text only; its case, printed by jansson, is the
     * stored document byte for byte, and is the case built */
    assert_null(cmd.ev.data);
    json_t *data = json_loads(cmd.ev.data_text, 0, NULL);
    assert_non_null(data);
    char *tree = json_dumps(json_object_get(data, "case"), JSON_COMPACT);
    assert_non_null(tree);
    assert_string_equal(cmd.doc, tree);
    free(tree);
    json_t *built = co_case_to_json(&cmd.draft, 1);
    assert_true(json_equal(built, json_object_get(data, "case")));
    json_decref(built);
    json_decref(data);
    int64_t id = cmd.draft.id; /* the hint reaches the committed hook, with this case */
    cmd.hint = &id;
    size_t hinted = atomic_load(&g_hinted);
    rc = co_writer_run(w, &cmd);
    assert_int_equal(atomic_load(&g_bad_hint), 0);
    if (!rc)
        assert_true(atomic_load(&g_hinted) > hinted);
    if (!rc && out)
        *out = cmd.result;
    co_writer_cmd_clear(&cmd);
    return rc;
}

static co_err do_action(co_writer *w, int64_t id, const char *action, const char *user,
                        co_role role, const char *dept, const char *scope, const char *params,
                        int64_t now, co_case *out, char *err)
{
    co_write_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = CO_WRITE_ACTION;
    cmd.case_id = id;
    snprintf(cmd.action, sizeof cmd.action, "%s", action);
    cmd.params = params ? json_loads(params, 0, NULL) : NULL;
    snprintf(cmd.username, sizeof cmd.username, "%s", user);
    cmd.role = role;
    snprintf(cmd.dept, sizeof cmd.dept, "%s", dept);
    snprintf(cmd.scope, sizeof cmd.scope, "%s", scope);
    cmd.now = now;
    co_err rc = co_writer_run(w, &cmd);
    json_decref(cmd.params);
    if (out)
        *out = cmd.result;
    if (err)
        snprintf(err, CO_WF_ERR_MAX, "%s", cmd.err);
    return rc;
}

/* ----------------------------------------------- reading the store back */

typedef struct rows {
    co_case *v;
    size_t n, cap;
} rows;

static int collect(void *ctx, const co_case *c)
{
    rows *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
    }
    r->v[r->n++] = *c;
    return 0;
}

typedef struct replay {
    co_case c;
    size_t nevents;
    int64_t last_seq;
    int bad;
} replay;

static int replay_one(void *ctx, const co_event *e)
{
    replay *r = ctx;
    if (e->seq <= r->last_seq)
        r->bad = 1;
    r->last_seq = e->seq;
    if (co_wf_apply(&r->c, e) != CO_OK)
        r->bad = 2;
    r->nevents++;
    return 0;
}

/* Replays every stored case from its events and compares with the row;
 * returns the number of events seen. */
static int count_event(void *ctx, const co_event *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t check_log_is_truth(co_store *st, size_t want_cases)
{
    rows all = {0};
    assert_int_equal(co_store_cases_each(st, collect, &all), CO_OK);
    assert_int_equal(all.n, want_cases);
    size_t nevents = 0;
    for (size_t i = 0; i < all.n; i++) {
        replay r;
        memset(&r, 0, sizeof r);
        assert_int_equal(co_store_events_of(st, all.v[i].id, replay_one, &r), CO_OK);
        if (r.bad)
            fail_msg("case %lld: events out of order or not applicable (%d)",
                     (long long)all.v[i].id, r.bad);
        assert_true(r.nevents >= 1);
        assert_int_equal(r.c.last_seq, r.last_seq);
        char what[64];
        snprintf(what, sizeof what, "case %lld replayed vs stored", (long long)all.v[i].id);
        assert_case_equal(&r.c, &all.v[i], what);
        nevents += r.nevents;
    }
    /* no event without a case: every appended event belongs to a stored case
     * (counted over the whole log; where numbers come without gaps the
     * highest one is the count too) */
    size_t logged = 0;
    assert_int_equal(co_store_events_each(st, count_event, &logged), CO_OK);
    assert_int_equal(logged, nevents);
    int64_t max_id = 0, max_seq = 0;
    assert_int_equal(co_store_case_max_id(st, &max_id, &max_seq), CO_OK);
    if (co_store_seq_gapless(st))
        assert_int_equal((int64_t)nevents, max_seq);
    else
        assert_true((int64_t)nevents <= max_seq);
    free(all.v);
    return nevents;
}

/* ------------------------------------------- concurrent registers/actions */

#define NTHREADS 8
#define PER_THREAD 30

typedef struct worker_arg {
    co_writer *w;
    int thread;
    int64_t ids[PER_THREAD];
    char numbers[PER_THREAD][CO_NUMBER_MAX];
    int failures;
    char last_err[CO_WF_ERR_MAX + 64];
} worker_arg;

static void *worker(void *vp)
{
    worker_arg *a = vp;
    int64_t t0 = T("2026-10-09T09:00:00+08:00");
    for (int i = 0; i < PER_THREAD; i++) {
        int k = a->thread * PER_THREAD + i;
        co_case c;
        co_err rc = do_register(a->w, k, t0 + k, &c);
        if (rc) {
            a->failures++;
            snprintf(a->last_err, sizeof a->last_err, "register %d: %s", k, co_err_str(rc));
            continue;
        }
        a->ids[i] = c.id;
        snprintf(a->numbers[i], sizeof a->numbers[i], "%s", c.number);
        /* walk the case a varying distance along the loop */
        static const struct {
            const char *action, *user;
            co_role role;
            const char *dept, *scope, *params;
        } loop[] = {
            {"file", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", "{}"},
            {"dispatch", "dispatcher", CO_ROLE_DISPATCHER, "", "", "{}"},
            {"accept", "handler", CO_ROLE_HANDLER, "D-A", "150102", "{}"},
            {"request_extension", "handler", CO_ROLE_HANDLER, "D-A", "150102",
             "{\"limit\":\"1wd\",\"note\":\"延期\"}"},
            {"approve_extension", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", "{\"limit\":\"1wd\"}"},
            {"handle", "handler", CO_ROLE_HANDLER, "D-A", "150102", "{\"note\":\"已处理\"}"},
            {"request_check", "operator", CO_ROLE_OPERATOR, "", "", NULL},
            {"check_fail", "inspector", CO_ROLE_INSPECTOR, "", "150102", "{\"note\":\"返工\"}"},
            {"accept", "handler", CO_ROLE_HANDLER, "D-A", "150102", "{}"},
            {"handle", "handler", CO_ROLE_HANDLER, "D-A", "150102", "{\"note\":\"再处理\"}"},
            {"request_check", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", NULL},
            {"check_pass", "inspector", CO_ROLE_INSPECTOR, "", "150102", "{}"},
            {"close", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", "{}"},
            {"visit", "operator", CO_ROLE_OPERATOR, "", "", "{\"satisfaction\":\"basic\"}"},
        };
        int steps = k % 15; /* 0..14 steps */
        for (int s = 0; s < steps && s < (int)(sizeof loop / sizeof loop[0]); s++) {
            char err[CO_WF_ERR_MAX];
            rc = do_action(a->w, c.id, loop[s].action, loop[s].user, loop[s].role, loop[s].dept,
                           loop[s].scope, loop[s].params, t0 + 3600 + k * 10 + s, NULL, err);
            if (rc) {
                a->failures++;
                snprintf(a->last_err, sizeof a->last_err, "case %d %s: %s (%s)", k,
                         loop[s].action, co_err_str(rc), err);
                break;
            }
        }
    }
    return NULL;
}

static void test_concurrent_commands(void **state)
{
    fx *f = *state;
    pthread_t th[NTHREADS];
    worker_arg *args = calloc(NTHREADS, sizeof *args);
    for (int i = 0; i < NTHREADS; i++) {
        args[i].w = f->w;
        args[i].thread = i;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        if (args[i].failures)
            fail_msg("thread %d: %d failures, last: %s", i, args[i].failures, args[i].last_err);
    /* ids 1..N, numbers unique and of the day of their `now` */
    const int N = NTHREADS * PER_THREAD;
    char *seen = calloc((size_t)N + 1, 1);
    for (int i = 0; i < NTHREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            int64_t id = args[i].ids[k];
            assert_true(id >= 1 && id <= N);
            assert_false(seen[id]);
            seen[id] = 1;
            assert_int_equal(strlen(args[i].numbers[k]), 13);
            assert_memory_equal(args[i].numbers[k], "20261009", 8);
            for (int j = 0; j < NTHREADS; j++)
                for (int m = 0; m < PER_THREAD; m++)
                    if ((j != i || m != k) && !strcmp(args[i].numbers[k], args[j].numbers[m]))
                        fail_msg("number %s given twice", args[i].numbers[k]);
        }
    free(seen);
    free(args);
    size_t nevents = check_log_is_truth(f->st, (size_t)N);
    co_writer_drain(f->w);
    pthread_mutex_lock(&g_hook_lock);
    assert_int_equal(g_hook_calls, nevents); /* one hook call per committed change */
    assert_int_equal(g_hook_out_of_order, 0);
    pthread_mutex_unlock(&g_hook_lock);
    co_writer_stats stats;
    co_writer_get_stats(f->w, &stats);
    assert_int_equal(stats.commands, nevents);
    assert_true(stats.commits <= stats.commands);
    print_message("%d cases, %zu events, %llu commits, largest batch %llu\n", N, nevents,
                  (unsigned long long)stats.commits, (unsigned long long)stats.max_batch);
}

/* ------------------------------------------------ group commit (async) */

typedef struct burst {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, failed;
} burst;

static void burst_done(co_write_cmd *cmd)
{
    burst *b = cmd->arg;
    pthread_mutex_lock(&b->lock);
    b->done++;
    if (cmd->rc)
        b->failed++;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

static void test_burst_is_batched_and_stop_drains(void **state)
{
    fx *f = *state;
    enum { NB = 300 };
    co_write_cmd *cmds = calloc(NB, sizeof *cmds);
    burst b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    int64_t now = T("2026-10-09T10:00:00+08:00");
    for (int i = 0; i < NB; i++) {
        co_case d = draft_case(i);
        assert_int_equal(co_writer_prepare_register(f->w, &d, &OPERATOR, now, &cmds[i]), CO_OK);
        cmds[i].done = burst_done;
        cmds[i].arg = &b;
    }
    for (int i = 0; i < NB; i++)
        co_writer_submit(f->w, &cmds[i]);
    /* stopping drains the queue: every command completes */
    co_writer_stop(f->w);
    f->w = NULL;
    assert_int_equal(b.done, NB);
    assert_int_equal(b.failed, 0);
    for (int i = 0; i < NB; i++) {
        assert_int_equal(cmds[i].rc, CO_OK);
        assert_int_equal(cmds[i].result.id, i + 1);
        char want[CO_NUMBER_MAX];
        co_case_number_format(now, i + 1, want);
        assert_string_equal(cmds[i].result.number, want);
        co_writer_cmd_clear(&cmds[i]);
    }
    free(cmds);
    check_log_is_truth(f->st, NB);
    /* a new writer continues the ids and the day's numbers — right after
     * them with a store of its own; on a shared store after the blocks the
     * stopped writer had reserved (the rest of its last block is skipped) */
    fx_start_writer(f);
    co_case c;
    assert_int_equal(do_register(f->w, 1, now + 60, &c), CO_OK);
    char want[CO_NUMBER_MAX];
    if (co_store_shared(f->st)) {
        assert_true(c.id > NB);
        co_case_number_format(now, NB, want);
        assert_memory_equal(c.number, want, 8);   /* the same day */
        assert_true(strcmp(c.number, want) > 0); /* after every earlier number */
    } else {
        assert_int_equal(c.id, NB + 1);
        co_case_number_format(now, NB + 1, want);
        assert_string_equal(c.number, want);
    }
    co_writer_stats stats;
    co_writer_get_stats(f->w, &stats);
    assert_int_equal(stats.commands, 1);
}

/* ------------------------------------------------ refusals write nothing */

static void test_refused_actions_write_nothing(void **state)
{
    fx *f = *state;
    int64_t now = T("2026-10-09T10:00:00+08:00");
    co_case c;
    assert_int_equal(do_register(f->w, 3, now, &c), CO_OK);
    char err[CO_WF_ERR_MAX];
    assert_int_equal(do_action(f->w, c.id, "file", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", NULL,
                               now + 60, NULL, err),
                     CO_OK);
    assert_int_equal(do_action(f->w, c.id, "dispatch", "dispatcher", CO_ROLE_DISPATCHER, "", "",
                               "{\"dept\":\"D-A\"}", now + 120, NULL, err),
                     CO_OK);
    co_writer_drain(f->w);
    rows before = {0};
    assert_int_equal(co_store_cases_each(f->st, collect, &before), CO_OK);
    int64_t id0, seq0;
    assert_int_equal(co_store_case_max_id(f->st, &id0, &seq0), CO_OK);
    pthread_mutex_lock(&g_hook_lock);
    size_t hooks0 = g_hook_calls;
    pthread_mutex_unlock(&g_hook_lock);

    static const struct {
        const char *action, *user;
        co_role role;
        const char *dept, *scope, *params;
        co_err want;
    } bad[] = {
        {"close", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", "{}", CO_ECONFLICT},
        {"dispatch", "dispatcher", CO_ROLE_DISPATCHER, "", "", "{\"dept\":\"D-B\"}", CO_ECONFLICT},
        {"accept", "leader", CO_ROLE_LEADER, "", "", "{}", CO_ECONFLICT},
        {"accept", "handler-b", CO_ROLE_HANDLER, "D-B", "", "{}", CO_EPERM},
        {"check_pass", "inspector", CO_ROLE_INSPECTOR, "", "150103", "{}", CO_EPERM},
        {"send_back", "handler", CO_ROLE_HANDLER, "D-A", "", "{}", CO_EINVAL},
        {"send_back", "handler", CO_ROLE_HANDLER, "D-A", "", "[1]", CO_EINVAL},
        {"explode", "handler", CO_ROLE_HANDLER, "D-A", "", "{}", CO_ENOTFOUND},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co_err rc = do_action(f->w, c.id, bad[i].action, bad[i].user, bad[i].role, bad[i].dept,
                              bad[i].scope, bad[i].params, now + 300, NULL, err);
        if (rc != bad[i].want)
            fail_msg("#%zu %s: got %s want %s", i, bad[i].action, co_err_str(rc),
                     co_err_str(bad[i].want));
        assert_true(err[0] != '\0');
    }
    assert_int_equal(do_action(f->w, 999999, "file", "shiftlead", CO_ROLE_SHIFTLEAD, "", "", NULL,
                               now, NULL, err),
                     CO_ENOTFOUND);
    co_writer_drain(f->w);
    int64_t id1, seq1;
    assert_int_equal(co_store_case_max_id(f->st, &id1, &seq1), CO_OK);
    assert_int_equal(seq1, seq0);
    assert_int_equal(id1, id0);
    rows after = {0};
    assert_int_equal(co_store_cases_each(f->st, collect, &after), CO_OK);
    assert_int_equal(after.n, before.n);
    for (size_t i = 0; i < after.n; i++)
        assert_case_equal(&after.v[i], &before.v[i], "after refusals");
    pthread_mutex_lock(&g_hook_lock);
    assert_int_equal(g_hook_calls, hooks0);
    pthread_mutex_unlock(&g_hook_lock);
    free(before.v);
    free(after.v);

    /* a refused command in the middle of a batch: the others commit */
    co_write_cmd cmds[3];
    memset(cmds, 0, sizeof cmds);
    burst b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    const char *acts[3] = {"accept", "close", "handle"};
    const char *params[3] = {"{}", "{}", "{\"note\":\"done\"}"};
    co_role roles[3] = {CO_ROLE_HANDLER, CO_ROLE_SHIFTLEAD, CO_ROLE_HANDLER};
    for (int i = 0; i < 3; i++) {
        cmds[i].kind = CO_WRITE_ACTION;
        cmds[i].case_id = c.id;
        snprintf(cmds[i].action, sizeof cmds[i].action, "%s", acts[i]);
        cmds[i].params = json_loads(params[i], 0, NULL);
        snprintf(cmds[i].username, sizeof cmds[i].username, "u");
        cmds[i].role = roles[i];
        snprintf(cmds[i].dept, sizeof cmds[i].dept, "%s", roles[i] == CO_ROLE_HANDLER ? "D-A" : "");
        cmds[i].now = now + 600 + i;
        cmds[i].done = burst_done;
        cmds[i].arg = &b;
    }
    for (int i = 0; i < 3; i++)
        co_writer_submit(f->w, &cmds[i]);
    pthread_mutex_lock(&b.lock);
    while (b.done < 3)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    assert_int_equal(cmds[0].rc, CO_OK);
    assert_int_equal(cmds[1].rc, CO_ECONFLICT);
    assert_int_equal(cmds[2].rc, CO_OK);
    assert_int_equal(cmds[2].result.state, CO_ST_HANDLED);
    assert_int_equal(cmds[2].seq, cmds[0].seq + 1);
    for (int i = 0; i < 3; i++)
        json_decref(cmds[i].params);
    check_log_is_truth(f->st, 1);
}

/* A batch that fails part-way: a registration whose number is taken fails
 * the whole transaction, and the registrations after it in the batch never
 * run. Each keeps its prepared event (its owner frees it: no leak, under
 * ASan), the one that ran gets its event back, and nothing of the batch is
 * stored. The first command's completion holds the writer so that the other
 * three are queued and form the next batch together. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int entered, open;
} gate;

static void gate_done(co_write_cmd *cmd)
{
    gate *g = cmd->arg;
    pthread_mutex_lock(&g->lock);
    g->entered = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void test_failed_batch_keeps_prepared_events(void **state)
{
    fx *f = *state;
    int64_t now = co_time_now();
    co_write_cmd first, cmds[3];
    memset(&first, 0, sizeof first);
    memset(cmds, 0, sizeof cmds);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    co_case d = draft_case(0);
    assert_int_equal(co_writer_prepare_register(f->w, &d, &OPERATOR, now, &first), CO_OK);
    first.done = gate_done;
    first.arg = &g;
    co_writer_submit(f->w, &first);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(first.rc, CO_OK);
    burst b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    for (int i = 0; i < 3; i++) {
        d = draft_case(i + 1);
        assert_int_equal(co_writer_prepare_register(f->w, &d, &OPERATOR, now, &cmds[i]), CO_OK);
        cmds[i].done = burst_done;
        cmds[i].arg = &b;
    }
    /* the first of the next batch takes the committed case's number */
    snprintf(cmds[0].draft.number, sizeof cmds[0].draft.number, "%s", first.result.number);
    for (int i = 0; i < 3; i++)
        co_writer_submit(f->w, &cmds[i]);
    pthread_mutex_lock(&g.lock);
    g.open = 1;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    pthread_mutex_lock(&b.lock);
    while (b.done < 3)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    for (int i = 0; i < 3; i++) {
        if (cmds[i].rc == CO_OK)
            fail_msg("command %d of the failed batch succeeded", i);
        if (!cmds[i].ev.data_text) /* a registration's event is its text */
            fail_msg("command %d lost its prepared event", i);
        co_writer_cmd_clear(&cmds[i]);
    }
    co_writer_cmd_clear(&first);
    check_log_is_truth(f->st, 1);
}

/* ------------------------------------------------------- case numbers */

static void test_number_format(void **state)
{
    (void)state;
    char n[CO_NUMBER_MAX];
    co_case_number_format(T("2026-11-25T23:59:59+08:00"), 123, n);
    assert_string_equal(n, "2026112500123");
    co_case_number_format(T("2026-11-25T16:00:00Z"), 1, n); /* 00:00 in Shanghai */
    assert_string_equal(n, "2026112600001");
    co_case_number_format(T("2026-11-25T15:59:59Z"), 99999, n);
    assert_string_equal(n, "2026112599999");
}

/* Around midnight an HTTP thread may prepare a case stamped 23:59:59 after
 * another thread already prepared one of the new day. Numbers must stay
 * unique and every command must commit; no event may be left without its
 * case. */
static void test_numbers_when_days_interleave(void **state)
{
    fx *f = *state;
    int64_t day_a = T("2026-10-09T23:59:59+08:00"), day_b = T("2026-10-10T00:00:01+08:00");
    int64_t at[5] = {day_a, day_b, day_a, day_b, day_a};
    co_write_cmd cmds[5];
    memset(cmds, 0, sizeof cmds);
    burst b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    for (int i = 0; i < 5; i++) {
        co_case d = draft_case(i);
        assert_int_equal(co_writer_prepare_register(f->w, &d, &OPERATOR, at[i], &cmds[i]), CO_OK);
        cmds[i].done = burst_done;
        cmds[i].arg = &b;
    }
    for (int i = 0; i < 5; i++)
        co_writer_submit(f->w, &cmds[i]);
    pthread_mutex_lock(&b.lock);
    while (b.done < 5)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    static const char *want[5] = {"2026100900001", "2026101000001", "2026100900002",
                                  "2026101000002", "2026100900003"};
    for (int i = 0; i < 5; i++) {
        if (cmds[i].rc != CO_OK)
            fail_msg("command %d: %s (%s)", i, co_err_str(cmds[i].rc), cmds[i].err);
        assert_string_equal(cmds[i].result.number, want[i]);
        co_writer_cmd_clear(&cmds[i]);
    }
    check_log_is_truth(f->st, 5);
}

/* ------------------------------------- several nodes on one store */

/* What a node's hook saw: every change once, in sequence order. */
typedef struct node_seen {
    pthread_mutex_t lock;
    int64_t last_seq;
    size_t calls, out_of_order;
} node_seen;

static void node_committed(void *arg, const co_case *c, const co_event *ev, const void *hint)
{
    check_hint(c, ev, hint);
    node_seen *n = arg;
    pthread_mutex_lock(&n->lock);
    n->calls++;
    if (ev->seq <= n->last_seq || c->id != ev->case_id)
        n->out_of_order++;
    n->last_seq = ev->seq;
    pthread_mutex_unlock(&n->lock);
}

typedef struct node_arg {
    co_writer *w[2];
    int thread;
    int64_t ids[PER_THREAD];
    char numbers[PER_THREAD][CO_NUMBER_MAX];
    int failures;
} node_arg;

static void *node_worker(void *vp)
{
    node_arg *a = vp;
    int64_t t0 = T("2026-10-09T09:00:00+08:00");
    for (int i = 0; i < PER_THREAD; i++) {
        co_case c;
        int k = a->thread * PER_THREAD + i;
        if (do_register(a->w[k % 2], k, t0 + k, &c)) { /* alternate between the nodes */
            a->failures++;
            continue;
        }
        a->ids[i] = c.id;
        snprintf(a->numbers[i], sizeof a->numbers[i], "%s", c.number);
    }
    return NULL;
}

typedef struct change_log {
    int64_t last_seq;
    size_t n, bad;
} change_log;

static int check_change(void *ctx, const co_case *c, const co_event *ev)
{
    change_log *l = ctx;
    if (ev->seq <= l->last_seq || c->id != ev->case_id || !ev->data)
        l->bad++;
    l->last_seq = ev->seq;
    l->n++;
    return 0;
}

/* Two writers on two connections to the same PostgreSQL store (two nodes):
 * every register commits, ids and numbers never collide, each node's hook
 * sees its own changes in order, and the log read back after any sequence
 * gives every change once, in order, with its case. */
static void test_two_nodes_share_a_store(void **state)
{
    fx *f = *state;
    if (!co_store_shared(f->st)) {
        change_log l = {0};
        assert_int_equal(co_store_changes_since(f->st, 0, 0, 100, check_change, &l), CO_OK);
        assert_int_equal(l.n, 0);
        int64_t last = 0;
        assert_int_equal(co_store_reserve(f->st, "x", 0, 1, &last), CO_ENOTSUP);
        print_message("one writer per store (SQLite): nothing shared to test\n");
        return;
    }
    co_store *st2 = NULL;
    assert_int_equal(fx_store_open(f->dir, &st2), CO_OK);
    node_seen seen[2] = {{PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}, {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}};
    co_writer_stop(f->w); /* the fixture's writer: replaced by two "nodes" */
    f->w = NULL;
    co_writer *w[2];
    co_writer_hooks h0 = {&ENV, node_committed, &seen[0]}, h1 = {&ENV, node_committed, &seen[1]};
    assert_int_equal(co_writer_start(f->st, &h0, &w[0]), CO_OK);
    assert_int_equal(co_writer_start(st2, &h1, &w[1]), CO_OK);
    pthread_t th[NTHREADS];
    node_arg *args = calloc(NTHREADS, sizeof *args);
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (node_arg){.w = {w[0], w[1]}, .thread = i};
        assert_int_equal(pthread_create(&th[i], NULL, node_worker, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    const int N = NTHREADS * PER_THREAD;
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(args[i].failures, 0);
        for (int k = 0; k < PER_THREAD; k++)
            for (int j = 0; j < NTHREADS; j++)
                for (int m = 0; m < PER_THREAD; m++) {
                    if (j == i && m == k)
                        continue;
                    assert_true(args[i].ids[k] != args[j].ids[m]);
                    if (!strcmp(args[i].numbers[k], args[j].numbers[m]))
                        fail_msg("number %s given twice", args[i].numbers[k]);
                }
    }
    co_writer_stop(w[0]);
    co_writer_stop(w[1]);
    assert_int_equal(seen[0].calls + seen[1].calls, (size_t)N);
    assert_int_equal(seen[0].out_of_order + seen[1].out_of_order, 0);
    change_log all = {0};
    assert_int_equal(co_store_changes_since(st2, 0, 0, 10000, check_change, &all), CO_OK);
    assert_int_equal(all.n, (size_t)N);
    assert_int_equal(all.bad, 0);
    /* bounded reads: (after, before) */
    int64_t mid = all.last_seq / 2;
    change_log lo = {0}, hi = {.last_seq = mid};
    assert_int_equal(co_store_changes_since(f->st, 0, mid + 1, 10000, check_change, &lo), CO_OK);
    assert_int_equal(co_store_changes_since(f->st, mid, 0, 7, check_change, &hi), CO_OK);
    assert_true(lo.n >= 1 && lo.last_seq <= mid);
    assert_int_equal(hi.n, 7);
    assert_int_equal(lo.bad + hi.bad, 0);
    check_log_is_truth(f->st, (size_t)N);
    free(args);
    co_store_close(st2);
    fx_start_writer(f);
}

/* Counters hand out disjoint blocks and respect their floor. */
static void test_counters_reserve_blocks(void **state)
{
    fx *f = *state;
    int64_t a = 0, b = 0, c = 0;
    if (!co_store_shared(f->st)) {
        assert_int_equal(co_store_reserve(f->st, "case_id", 0, 16, &a), CO_ENOTSUP);
        return;
    }
    assert_int_equal(co_store_reserve(f->st, "t", 100, 16, &a), CO_OK);
    assert_int_equal(a, 116);                        /* (100, 116] */
    assert_int_equal(co_store_reserve(f->st, "t", 0, 4, &b), CO_OK);
    assert_int_equal(b, 120);                        /* (116, 120] */
    assert_int_equal(co_store_reserve(f->st, "t", 500, 1, &c), CO_OK);
    assert_int_equal(c, 501);                        /* the floor wins */
    assert_int_equal(co_store_reserve(f->st, "t", 0, 0, &c), CO_EINVAL);
    assert_int_equal(co_store_reserve(f->st, "", 0, 1, &c), CO_EINVAL);
}

static int got_session(void *ctx, const co_session_rec *s)
{
    snprintf(ctx, 16, "%s", s->csrf);
    return 1;
}

/* One session by its token hash; expired or unknown ones are not found. */
static void test_session_by_hash(void **state)
{
    fx *f = *state;
    co_user_rec u = {.username = "u1", .display_name = "U", .password_hash = "x", .role = "operator",
                     .dept = "", .scope = ""};
    int64_t uid = 0;
    assert_int_equal(co_store_user_put(f->st, &u, &uid), CO_OK);
    co_session_rec s = {"hash-1", "csrf-1", uid, 1000};
    assert_int_equal(co_store_session_put(f->st, &s), CO_OK);
    char csrf[16] = "";
    assert_int_equal(co_store_session_get(f->st, "hash-1", 999, got_session, csrf), CO_OK);
    assert_string_equal(csrf, "csrf-1");
    assert_int_equal(co_store_session_get(f->st, "hash-1", 1000, got_session, csrf), CO_ENOTFOUND);
    assert_int_equal(co_store_session_get(f->st, "hash-2", 0, got_session, csrf), CO_ENOTFOUND);
}

/* Under continuous commits the SQLite log starts again from its beginning
 * once it is long (the checkpoint thread copies, the writer finishes between
 * two of its transactions), instead of growing with every commit. */
static void test_log_stays_bounded(void **state)
{
    fx *f = *state;
    if (co_store_shared(f->st))
        skip(); /* a SQLite store's log */
    enum { LIMIT = 256, COMMITS = 1500 };
    co_sqlite_set_log_limit(LIMIT); /* 1 MiB of 4 KiB pages */
    char wal[96];
    snprintf(wal, sizeof wal, "%s/cityops.db-wal", f->dir);
    int64_t now = T("2026-10-09T10:00:00+08:00");
    off_t most = 0;
    for (int i = 0; i < COMMITS; i++) {
        co_case c;
        assert_int_equal(do_register(f->w, i, now + i, &c), CO_OK);
        struct stat st;
        if (stat(wal, &st) == 0 && st.st_size > most)
            most = st.st_size;
    }
    co_sqlite_set_log_limit(0);
    print_message("%d commits: the log's file at most %.1f MiB\n", COMMITS,
                  (double)most / (1 << 20));
    /* one commit here is ~7 frames: 1,500 of them ~40 MiB of log unbounded */
    assert_true(most > 0);
    assert_true(most <= 16 << 20);
    check_log_is_truth(f->st, COMMITS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_format),
        cmocka_unit_test_setup_teardown(test_concurrent_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_burst_is_batched_and_stop_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_actions_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_keeps_prepared_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_when_days_interleave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_nodes_share_a_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_reserve_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_by_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_stays_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
