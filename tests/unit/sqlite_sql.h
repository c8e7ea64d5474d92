/* sqlite_sql.h — plain-SQL helpers for unit tests that open SQLite files
 * directly (header-only; include after cmocka.h and sqlite3.h). A failing
 * statement fails the test with SQLite's message. */
#ifndef CO_TEST_SQLITE_SQL_H
#define CO_TEST_SQLITE_SQL_H

#include <stdint.h>

static inline void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s (%d)", sql, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

/* The first column of the first row, as an integer. */
static inline int64_t one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) != SQLITE_ROW)
        fail_msg("%s: no row (%s)", sql, sqlite3_errmsg(db));
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

#endif
