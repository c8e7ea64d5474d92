/* migrate.c — versioned schema migrations for the SQLite back-end.
 * migrations[i] takes the schema from version i to i+1 (PRAGMA user_version).
 * Each runs in its own transaction at open; a newer database than this binary
 * knows is refused. Append new migrations; never edit a released one. */
#include <sqlite3.h>

#include "lib/log.h"
#include "store/sqlite_int.h"

static const char *const migrations[] = {
    /* 1: areas, users, sessions, departments, audit, meta */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE areas(code TEXT PRIMARY KEY, level INTEGER NOT NULL, name TEXT NOT NULL,"
    " parent TEXT NOT NULL, geometry TEXT, area_m2 REAL NOT NULL DEFAULT 0,"
    " cx REAL, cy REAL, minx REAL, miny REAL, maxx REAL, maxy REAL);"
    "CREATE INDEX areas_level_parent ON areas(level, parent);"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
    " display_name TEXT NOT NULL, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
    " dept TEXT NOT NULL DEFAULT '', scope TEXT NOT NULL DEFAULT '',"
    " disabled INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE sessions(token_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, expires INTEGER NOT NULL);"
    "CREATE TABLE departments(code TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,"
    " area TEXT NOT NULL DEFAULT '', hours TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, detail TEXT NOT NULL);",
    /* 2: cases, their events, media, taxonomy versions, routing rules, calendar days */
    "CREATE TABLE cases(id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL, state INTEGER NOT NULL,"
    " channel INTEGER NOT NULL, category INTEGER NOT NULL, dept TEXT NOT NULL,"
    " first_dept TEXT NOT NULL, area TEXT NOT NULL, caller_phone TEXT NOT NULL,"
    " reporter TEXT NOT NULL, disposal_due INTEGER NOT NULL, pending INTEGER NOT NULL,"
    /* what the in-memory projection needs, so start-up never parses documents */
    " severity INTEGER NOT NULL, reqtype INTEGER NOT NULL, satisfaction INTEGER NOT NULL,"
    " close_type INTEGER NOT NULL, flags INTEGER NOT NULL, rework INTEGER NOT NULL,"
    " dispatches INTEGER NOT NULL, closed_at INTEGER NOT NULL, dispatched_at INTEGER NOT NULL,"
    " handled_at INTEGER NOT NULL, step_due INTEGER NOT NULL,"
    " search TEXT NOT NULL, doc TEXT NOT NULL);"
    /* few indexes: every one costs a page write per case at intake. The finest
     * area code starts with every coarser one, so one index serves all levels. */
    "CREATE INDEX cases_dept ON cases(dept, id);"
    "CREATE INDEX cases_phone ON cases(caller_phone, id) WHERE caller_phone != '';"
    "CREATE INDEX cases_area ON cases(area);"
    "CREATE INDEX cases_pending ON cases(pending, id) WHERE pending != 0;"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, case_id INTEGER NOT NULL,"
    " ts INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,"
    " from_state INTEGER NOT NULL, to_state INTEGER NOT NULL, data TEXT NOT NULL);"
    "CREATE INDEX events_case ON events(case_id, seq);"
    "CREATE TABLE media(hash TEXT PRIMARY KEY, type TEXT NOT NULL, size INTEGER NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE TABLE taxonomy_versions(version INTEGER PRIMARY KEY, doc TEXT NOT NULL,"
    " created INTEGER NOT NULL, author TEXT NOT NULL);"
    "CREATE TABLE routing_rules(id INTEGER PRIMARY KEY, category TEXT NOT NULL DEFAULT '',"
    " area TEXT NOT NULL DEFAULT '', dept TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE calendar_days(day INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
    " name TEXT NOT NULL);",
    /* 3: Open311 — API keys (hashed, never the key), what each request brought
     * that a case has no field for (and the token it was issued), updates
     * clients push (FixMyStreet), and events by time for the update feed */
    "CREATE TABLE api_keys(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " key_hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created INTEGER NOT NULL,"
    " created_by TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " rate REAL NOT NULL DEFAULT 0, burst INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE open311_requests(token TEXT PRIMARY KEY, number TEXT NOT NULL,"
    " key_id INTEGER NOT NULL, created INTEGER NOT NULL, description TEXT NOT NULL,"
    " attributes TEXT NOT NULL, media_url TEXT NOT NULL, email TEXT NOT NULL,"
    " first_name TEXT NOT NULL, last_name TEXT NOT NULL, phone TEXT NOT NULL,"
    " device_id TEXT NOT NULL, account_id TEXT NOT NULL, address_id TEXT NOT NULL);"
    "CREATE INDEX open311_requests_number ON open311_requests(number);"
    "CREATE TABLE open311_updates(id INTEGER PRIMARY KEY, key_id INTEGER NOT NULL,"
    " update_id TEXT NOT NULL, number TEXT NOT NULL, status TEXT NOT NULL,"
    " description TEXT NOT NULL, updated INTEGER NOT NULL, created INTEGER NOT NULL,"
    " media_url TEXT NOT NULL, first_name TEXT NOT NULL, last_name TEXT NOT NULL,"
    " email TEXT NOT NULL, phone TEXT NOT NULL, external_status_code TEXT NOT NULL,"
    " UNIQUE(key_id, update_id));"
    "CREATE INDEX open311_updates_number ON open311_updates(number, id);"
    "CREATE INDEX events_ts ON events(ts);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('apikey_salt', lower(hex(randomblob(16))));",
    /* 4: counters for case ids and numbers — used where several nodes share
     * one store (PostgreSQL); here only to keep one schema on both */
    "CREATE TABLE counters(name TEXT PRIMARY KEY, n INTEGER NOT NULL);",
    /* 5: no index on area or department: their leaves are random, so each
     * cost a page write per case at intake (a third of the log's bytes).
     * Lists by area or department are narrowed by the in-memory projection
     * instead (co_store_indexes_place). */
    "DROP INDEX IF EXISTS cases_area; DROP INDEX IF EXISTS cases_dept;",
    /* 6: events by time serve only the Open311 update feed, which leaves
     * registrations out: they leave the index, so intake touches one B-tree
     * fewer per commit (the feed's query names the same condition, which
     * lets SQLite use the partial index) */
    ("DROP INDEX IF EXISTS events_ts;"
     "CREATE INDEX events_ts ON events(ts) WHERE action != 'register';"),
};

#define NMIG ((int)(sizeof migrations / sizeof migrations[0]))

int co_sqlite_user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

co_err co_sqlite_migrate(sqlite3 *db)
{
    int v = co_sqlite_user_version(db);
    if (v < 0)
        return CO_EDB;
    if (v > NMIG) {
        co_log_error("msg=\"database schema is newer than this binary\" have=%d know=%d", v, NMIG);
        return CO_EDB;
    }
    for (; v < NMIG; v++) {
        char bump[64];
        sqlite3_snprintf(sizeof bump, bump, "PRAGMA user_version=%d;", v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            co_log_error("msg=\"migration failed\" to=%d err=\"%s\"", v + 1, sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return CO_EDB;
        }
        co_log_info("msg=\"schema migrated\" version=%d", v + 1);
    }
    return CO_OK;
}
