/* test_check.c — unit tests of the store check (src/cli/check.c) over a
 * throw-away SQLite store filled through the real writer with a stub
 * workflow environment: a sound store passes with the right counts; then
 * each kind of damage is made behind the store's back with plain SQL (or by
 * overwriting bytes of the database file) and must be reported: a case
 * document or an indexed column that is not the replay of its events, a
 * missing event (sequence gap), a case without events, an event without a
 * case, a foreign-key violation, a damaged index page, area codes that do
 * not nest. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/check.h"
#include "domain/workflow.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"
#include "store/writer.h"

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
    return !strcmp(dept, "D-A");
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
    (void)c;
    snprintf(dept, len, "D-A");
}

static int env_category_exists(void *arg, co_category cat)
{
    (void)arg;
    return cat != CO_CATEGORY_NONE;
}

static const co_wf_env ENV = {NULL, env_calendar, env_dept_exists, env_disposal_limit, env_route,
                              env_category_exists};

static const co_wf_actor OPERATOR = {"operator", CO_ROLE_OPERATOR, "", ""};

/* ------------------------------------------------------------- fixture */

#define NCASES 6

typedef struct fx {
    char dir[64];
    co_store *st;
    int64_t ids[NCASES];
    int64_t events;        /* committed in setup */
} fx;

static const struct {
    const char *action, *user;
    co_role role;
    const char *dept, *scope;
} LOOP[] = {
    {"file", "shiftlead", CO_ROLE_SHIFTLEAD, "", ""},
    {"dispatch", "dispatcher", CO_ROLE_DISPATCHER, "", ""},
    {"accept", "handler", CO_ROLE_HANDLER, "D-A", ""},
    {"handle", "handler", CO_ROLE_HANDLER, "D-A", ""},
    {"request_check", "operator", CO_ROLE_OPERATOR, "", ""},
    {"check_pass", "inspector", CO_ROLE_INSPECTOR, "", ""},
    {"close", "shiftlead", CO_ROLE_SHIFTLEAD, "", ""},
};

static co_err do_action(co_writer *w, int64_t id, int step, int64_t now)
{
    co_write_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = CO_WRITE_ACTION;
    cmd.case_id = id;
    snprintf(cmd.action, sizeof cmd.action, "%s", LOOP[step].action);
    cmd.params = json_pack("{s:s}", "note", "检查测试 / check test");
    snprintf(cmd.username, sizeof cmd.username, "%s", LOOP[step].user);
    cmd.role = LOOP[step].role;
    snprintf(cmd.dept, sizeof cmd.dept, "%s", LOOP[step].dept);
    snprintf(cmd.scope, sizeof cmd.scope, "%s", LOOP[step].scope);
    cmd.now = now;
    co_err rc = co_writer_run(w, &cmd);
    json_decref(cmd.params);
    return rc;
}

/* Case k is registered and walked k steps along the loop (0..NCASES-1). */
static void fill(fx *f)
{
    co_writer_hooks hooks = {&ENV, NULL, NULL};
    co_writer *w = NULL;
    assert_int_equal(co_writer_start(f->st, &hooks, &w), CO_OK);
    int64_t t0 = 0;
    assert_int_equal(co_time_parse("2026-10-09T09:00:00+08:00", &t0), CO_OK);
    for (int k = 0; k < NCASES; k++) {
        co_case d;
        memset(&d, 0, sizeof d);
        d.channel = CO_CH_HOTLINE;
        d.reqtype = CO_RT_COMPLAINT;
        assert_int_equal(co_category_parse("E0402", &d.category), CO_OK);
        d.lon = 111.6 + k * 1e-3;
        d.lat = 40.8;
        snprintf(d.grid, sizeof d.grid, "150102001001%03u", (unsigned)k % 1000u);
        snprintf(d.community, sizeof d.community, "150102001001");
        snprintf(d.street, sizeof d.street, "150102001");
        snprintf(d.district, sizeof d.district, "150102");
        snprintf(d.description, sizeof d.description, "检查测试案件 %d", k);
        snprintf(d.caller_phone, sizeof d.caller_phone, "1380000%04d", k);
        snprintf(d.reporter, sizeof d.reporter, "operator");
        co_write_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        assert_int_equal(co_writer_prepare_register(w, &d, &OPERATOR, t0 + k * 60, &cmd), CO_OK);
        assert_int_equal(co_writer_run(w, &cmd), CO_OK);
        f->ids[k] = cmd.result.id;
        co_writer_cmd_clear(&cmd);
        f->events++;
        for (int s = 0; s < k && s < (int)(sizeof LOOP / sizeof LOOP[0]); s++) {
            assert_int_equal(do_action(w, f->ids[k], s, t0 + 3600 + k * 60 + s), CO_OK);
            f->events++;
        }
    }
    co_writer_stop(w);
}

static int setup(void **state)
{
    co_log_set_level(CO_LOG_ERROR);
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cityops-check-XXXXXX");
    if (!mkdtemp(f->dir) || co_store_open(f->dir, &f->st) != CO_OK)
        return -1;
    g_cal = co_calendar_new();
    fill(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    co_store_close(f->st);
    co_calendar_free(g_cal);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Runs SQL on a connection of its own, behind the store's back. */
static void sql(fx *f, const char *fmt, ...)
{
    char path[128], q[512];
    snprintf(path, sizeof path, "%s/cityops.db", f->dir);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("sql failed: %s: %s", q, err ? err : "?");
    sqlite3_close(db);
}

/* ------------------------------------------------------------ running */

typedef struct found {
    int n;
    char text[4096];
} found;

static void collect(void *ctx, const char *msg)
{
    found *fd = ctx;
    fd->n++;
    size_t used = strlen(fd->text);
    snprintf(fd->text + used, sizeof fd->text - used, "%s\n", msg);
}

static void run_check(fx *f, found *fd, co_check_report *rep)
{
    memset(fd, 0, sizeof *fd);
    assert_int_equal(co_check_store(f->st, collect, fd, rep), CO_OK);
    assert_int_equal(rep->problems, fd->n);
}

/* One problem at least, and one of them mentions every needle. */
static void assert_reported(const found *fd, const char *needle1, const char *needle2)
{
    if (fd->n == 0)
        fail_msg("the damage was not reported");
    const char *line = fd->text;
    while (*line) {
        const char *end = strchr(line, '\n');
        char one[1100];
        snprintf(one, sizeof one, "%.*s", (int)(end - line), line);
        if (strstr(one, needle1) && (!needle2 || strstr(one, needle2)))
            return;
        line = end + 1;
    }
    fail_msg("no problem mentions \"%s\"%s%s; reported:\n%s", needle1, needle2 ? " and " : "",
             needle2 ? needle2 : "", fd->text);
}

/* -------------------------------------------------------------- tests */

static void test_sound_store_passes(void **state)
{
    fx *f = *state;
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    if (fd.n)
        fail_msg("a sound store was reported:\n%s", fd.text);
    assert_int_equal(rep.cases, NCASES);
    assert_int_equal(rep.events, f->events);
    assert_int_equal(rep.max_seq, f->events);
}

static void test_changed_document_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "UPDATE cases SET doc=json_set(doc,'$.description','改过的描述') WHERE id=%lld",
        (long long)f->ids[3]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_int_equal(fd.n, 1);
    assert_reported(&fd, "description", "replay");
}

/* Row and events agree, but the grid is another district's: reported. */
static void test_area_codes_that_do_not_nest_are_reported(void **state)
{
    fx *f = *state;
    const char *g = "150103001001001";
    sql(f, "UPDATE cases SET doc=json_set(doc,'$.grid','%s'), area='%s' WHERE id=%lld", g, g,
        (long long)f->ids[2]);
    sql(f, "UPDATE events SET data=json_set(data,'$.case.grid','%s') WHERE case_id=%lld"
           " AND action='register'",
        g, (long long)f->ids[2]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_int_equal(fd.n, 1);
    assert_reported(&fd, "do not nest", g);
}

static void test_changed_state_is_reported(void **state)
{
    fx *f = *state;
    /* the document says closed while the events end in dispatched */
    sql(f, "UPDATE cases SET doc=json_set(doc,'$.state','closed') WHERE id=%lld",
        (long long)f->ids[2]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "state", "replay");
}

static void test_changed_column_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "UPDATE cases SET dept='D-Z' WHERE id=%lld", (long long)f->ids[4]);
    sql(f, "UPDATE cases SET area='150102001001999' WHERE id=%lld", (long long)f->ids[1]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_int_equal(fd.n, 2);
    assert_reported(&fd, "indexed column dept", NULL);
    assert_reported(&fd, "indexed column area", NULL);
}

static void test_missing_event_is_reported(void **state)
{
    fx *f = *state;
    /* the second event of case 5 (its file): a gap, and the rest no longer applies */
    sql(f, "DELETE FROM events WHERE seq=(SELECT seq FROM events WHERE case_id=%lld "
           "ORDER BY seq LIMIT 1 OFFSET 1)",
        (long long)f->ids[5]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "event sequence gap", NULL);
    assert_reported(&fd, "does not apply", NULL);
    assert_int_equal(rep.events, f->events - 1);
}

static void test_last_event_missing_is_reported(void **state)
{
    fx *f = *state;
    /* the newest event: no gap, but the row is ahead of its events */
    sql(f, "DELETE FROM events WHERE seq=(SELECT max(seq) FROM events)");
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "differs from the replay", NULL);
}

static void test_case_without_events_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "DELETE FROM events WHERE case_id=%lld", (long long)f->ids[0]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "has no events", NULL);
}

static void test_register_not_first_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "DELETE FROM events WHERE case_id=%lld AND action='register'", (long long)f->ids[3]);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "not a register event", NULL);
}

static void test_event_without_case_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "INSERT INTO events(case_id,ts,actor,role,action,from_state,to_state,data) "
           "VALUES(424242,0,'x','operator','comment',1,1,'{}')");
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_int_equal(fd.n, 1);
    assert_reported(&fd, "missing case id 424242", NULL);
}

static void test_foreign_key_violation_is_reported(void **state)
{
    fx *f = *state;
    sql(f, "PRAGMA foreign_keys=OFF; INSERT INTO sessions(token_hash,csrf,user_id,expires) "
           "VALUES('t','c',777,0)");
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "foreign_key_check", "sessions");
}

static void test_damaged_index_page_is_reported(void **state)
{
    fx *f = *state;
    /* the root page of an index on cases: a one-page leaf in a store this
     * small; its cell content sits at the end of the page */
    char path[128];
    snprintf(path, sizeof path, "%s/cityops.db", f->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rootpage, (SELECT page_size FROM pragma_page_size)"
                                        " FROM sqlite_schema WHERE name='sqlite_autoindex_cases_1'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long page = sqlite3_column_int(st, 0), size = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    co_store_close(f->st); /* checkpoints: every page is in the main file now */
    f->st = NULL;
    int fdesc = open(path, O_WRONLY);
    assert_true(fdesc >= 0);
    char junk[64];
    memset(junk, 0x5a, sizeof junk);
    assert_int_equal(pwrite(fdesc, junk, sizeof junk, page * size - (long)sizeof junk),
                     (ssize_t)sizeof junk);
    close(fdesc);
    assert_int_equal(co_store_open(f->dir, &f->st), CO_OK);
    found fd;
    co_check_report rep;
    run_check(f, &fd, &rep);
    assert_reported(&fd, "integrity_check", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sound_store_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_document_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_area_codes_that_do_not_nest_are_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changed_state_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_column_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_event_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_event_missing_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_without_events_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_not_first_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_without_case_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_key_violation_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_index_page_is_reported, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
