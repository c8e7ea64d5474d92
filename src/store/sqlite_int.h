/* sqlite_int.h — internals shared by the SQLite back-end's files only
 * (sqlite.c, migrate.c). Not for callers of store.h. */
#ifndef CO_STORE_SQLITE_INT_H
#define CO_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "lib/err.h"

/* The calling thread's connection (opened on first use), or NULL. */
sqlite3 *co_sqlite_conn(void *impl);
co_err co_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
co_err co_sqlite_step_done(sqlite3_stmt *st);
void co_sqlite_copy(char *dst, size_t len, sqlite3_stmt *st, int col);
/* Applies pending migrations in one transaction each. */
co_err co_sqlite_migrate(sqlite3 *db);
int co_sqlite_user_version(sqlite3 *db);

#endif
