/* test_sqlite_schema.c — unit tests of the SQLite schema (src/store/migrate.c)
 * where a query depends on it: the Open311 update feed's query
 * (CO_SQLITE_EVENTS_BY_TIME) is answered through the partial index events_ts,
 * which holds every event but registrations — so intake, which appends only
 * registrations, never writes to it — and a store made before that index
 * was partial gets it on open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "sqlite_sql.h"

/* The query plan's details, one per line. */
static void plan(sqlite3 *db, const char *sql, char *out, size_t len)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db));
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s\n", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
}

static void add_events(sqlite3 *db)
{
    exec(db, "INSERT INTO cases(id,number,created,updated,state,channel,category,dept,"
             "first_dept,area,caller_phone,reporter,disposal_due,pending,severity,reqtype,"
             "satisfaction,close_type,flags,rework,dispatches,closed_at,dispatched_at,"
             "handled_at,step_due,search,doc) VALUES(1,'2026112600001',100,100,1,1,10101,'',"
             "'','','','op',0,0,1,0,0,0,0,0,0,0,0,0,0,'','{}')");
    for (int i = 0; i < 200; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO events(case_id,ts,actor,role,action,from_state,to_state,data)"
                 " VALUES(1,%d,'op','operator','%s',1,2,'{\"note\":\"n%d\"}')",
                 1000 + i, i % 4 ? "register" : "dispatch", i);
        exec(db, sql);
    }
}

static void test_feed_uses_partial_index(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(co_sqlite_migrate(db), CO_OK);
    add_events(db);
    exec(db, "ANALYZE");
    char p[2048];
    plan(db, CO_SQLITE_EVENTS_BY_TIME, p, sizeof p);
    if (!strstr(p, "USING INDEX events_ts"))
        fail_msg("the feed does not use events_ts:\n%s", p);
    /* the index holds the 50 events that are not registrations, and the
     * feed finds them (in a window of 100 seconds: 25) */
    assert_int_equal(one(db, "SELECT count(*) FROM events INDEXED BY events_ts"
                             " WHERE action != 'register' AND ts >= 0"),
                     50);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, CO_SQLITE_EVENTS_BY_TIME, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 2, 1000);
    sqlite3_bind_int64(st, 3, 1100);
    sqlite3_bind_int(st, 4, 1000);
    sqlite3_bind_int(st, 5, 0);
    int n = 0;
    int64_t last = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_string_equal((const char *)sqlite3_column_text(st, 4), "dispatch");
        assert_true(sqlite3_column_int64(st, 2) > last);
        last = sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 25);
    sqlite3_close(db);
}

/* A store at schema 5 (events_ts over every event) is migrated on open. */
static void test_old_index_is_replaced(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(co_sqlite_migrate(db), CO_OK);
    int latest = co_sqlite_user_version(db);
    exec(db, "DROP INDEX events_ts; CREATE INDEX events_ts ON events(ts); PRAGMA user_version=5;");
    add_events(db);
    assert_int_equal(co_sqlite_migrate(db), CO_OK);
    assert_int_equal(co_sqlite_user_version(db), latest);
    assert_int_equal(one(db, "SELECT count(*) FROM sqlite_schema WHERE name='events_ts'"
                             " AND sql LIKE '%WHERE action != ''register''%'"),
                     1);
    assert_int_equal(one(db, "SELECT count(*) FROM events"), 200);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_uses_partial_index),
        cmocka_unit_test(test_old_index_is_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
