/* sqlite_config.c — configuration tables of the SQLite back-end: taxonomy
 * versions (each edit is a new version; cases keep theirs), routing rules
 * and admin calendar overrides. */
#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "store/sqlite_int.h"
#include "store/store.h"

co_err co_sqlite_taxonomy_put(void *impl, int64_t version, const char *doc, const char *author)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "INSERT INTO taxonomy_versions(version,doc,created,author) "
                                  "VALUES(?1,?2,?3,?4)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_text(st, 2, doc, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, co_time_now());
    sqlite3_bind_text(st, 4, author, -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_taxonomy_get(void *impl, int64_t version, char **doc, int64_t *version_out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        version ? "SELECT version, doc FROM taxonomy_versions WHERE version=?1"
                : "SELECT version, doc FROM taxonomy_versions ORDER BY version DESC LIMIT 1",
        &st);
    if (rc)
        return rc;
    if (version)
        sqlite3_bind_int64(st, 1, version);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *version_out = sqlite3_column_int64(st, 0);
        *doc = co_xstrdup(co_sqlite_text(st, 1));
    } else {
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_rule_put(void *impl, const co_rule_rec *r, int64_t *id_out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        r->id ? "UPDATE routing_rules SET category=?2, area=?3, dept=?4, note=?5 WHERE id=?1 "
                "RETURNING id"
              : "INSERT INTO routing_rules(category,area,dept,note) VALUES(?2,?3,?4,?5) "
                "RETURNING id",
        &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, r->category ? r->category : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->area ? r->area : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->dept, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->note ? r->note : "", -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        if (id_out)
            *id_out = sqlite3_column_int64(st, 0);
    } else {
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_rule_del(void *impl, int64_t id)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "DELETE FROM routing_rules WHERE id=?1 RETURNING id", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    rc = s == SQLITE_ROW ? CO_OK : s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_rules_each(void *impl, int (*cb)(void *, const co_rule_rec *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT id,category,area,dept,note FROM routing_rules ORDER BY id",
                                  &st);
    if (rc)
        return rc;
    while (sqlite3_step(st) == SQLITE_ROW) {
        co_rule_rec r = {sqlite3_column_int64(st, 0), co_sqlite_text(st, 1), co_sqlite_text(st, 2),
                         co_sqlite_text(st, 3), co_sqlite_text(st, 4)};
        if (cb(ctx, &r))
            break;
    }
    sqlite3_finalize(st);
    return CO_OK;
}

co_err co_sqlite_calday_put(void *impl, int64_t day, int kind, const char *name)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "INSERT OR REPLACE INTO calendar_days(day,kind,name) "
                                  "VALUES(?1,?2,?3)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, day);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_caldays_each(void *impl, int (*cb)(void *, int64_t, int, const char *), void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT day,kind,name FROM calendar_days ORDER BY day", &st);
    if (rc)
        return rc;
    while (sqlite3_step(st) == SQLITE_ROW)
        if (cb(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), co_sqlite_text(st, 2)))
            break;
    sqlite3_finalize(st);
    return CO_OK;
}
