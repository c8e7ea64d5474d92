/* sqlite_apikeys.c — the SQLite back-end's Open311 tables (migration 3):
 *   api_keys           one row per client; only a keyed hash of the key
 *   open311_requests   what a POST brought that the case has no field for,
 *                      and the token issued for it (token → case number)
 *   open311_updates    updates clients push (FixMyStreet), unique per key
 * and brief reads of the event log (no data documents parsed: the note is
 * taken with json_extract) for the update feed and status notes.
 * Every value is a bound parameter; lists of ids arrive as one JSON array
 * bound once and expanded with json_each. Records handed to callbacks point
 * into the statement and are valid only during the callback. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store.h"

/* ---------------------------------------------------------------- keys */

co_err co_sqlite_apikey_put(void *impl, const co_apikey_rec *k, int64_t *id_out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "INSERT INTO api_keys(name,key_hash,prefix,created,created_by,"
                                  "revoked,rate,burst) VALUES(?1,?2,?3,?4,?5,0,?6,?7)",
                                  &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, k->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->key_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->prefix ? k->prefix : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, k->created);
    sqlite3_bind_text(st, 5, k->created_by ? k->created_by : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, k->rate);
    sqlite3_bind_int(st, 7, k->burst);
    if ((rc = co_sqlite_step_done(st)))
        goto out;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
out:
    sqlite3_finalize(st);
    return rc;
}

#define KEY_COLS "id,name,key_hash,prefix,created,created_by,revoked,rate,burst"

static void row_key(sqlite3_stmt *st, co_apikey_rec *k)
{
    k->id = sqlite3_column_int64(st, 0);
    k->name = (const char *)sqlite3_column_text(st, 1);
    k->key_hash = (const char *)sqlite3_column_text(st, 2);
    k->prefix = (const char *)sqlite3_column_text(st, 3);
    k->created = sqlite3_column_int64(st, 4);
    k->created_by = (const char *)sqlite3_column_text(st, 5);
    k->revoked = sqlite3_column_int(st, 6);
    k->rate = sqlite3_column_double(st, 7);
    k->burst = sqlite3_column_int(st, 8);
}

/* Steps st to the end, handing each row to cb; CO_ENOTFOUND when there was
 * none and need_one is set. */
static co_err each_key(sqlite3_stmt *st, int need_one, co_apikey_cb cb, void *ctx)
{
    int s, n = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_apikey_rec k;
        row_key(st, &k);
        n++;
        if (cb(ctx, &k))
            return CO_OK;
    }
    if (s != SQLITE_DONE)
        return CO_EDB;
    return need_one && !n ? CO_ENOTFOUND : CO_OK;
}

co_err co_sqlite_apikey_find(void *impl, const char *key_hash, co_apikey_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT " KEY_COLS " FROM api_keys WHERE key_hash=?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key_hash, -1, SQLITE_STATIC);
    rc = each_key(st, 1, cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_apikeys_each(void *impl, co_apikey_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "SELECT " KEY_COLS " FROM api_keys ORDER BY id", &st);
    if (rc)
        return rc;
    rc = each_key(st, 0, cb, ctx);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_apikey_revoke(void *impl, int64_t id)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl),
                                  "UPDATE api_keys SET revoked=1 WHERE id=?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = co_sqlite_step_done(st);
    if (!rc && sqlite3_changes(sqlite3_db_handle(st)) == 0)
        rc = CO_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------ requests */

static const char *nz(const char *s) { return s ? s : ""; }

co_err co_sqlite_open311_request_put(void *impl, const co_open311_request_rec *r)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        "INSERT INTO open311_requests(token,number,key_id,created,description,attributes,"
        "media_url,email,first_name,last_name,phone,device_id,account_id,address_id) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
        &st);
    if (rc)
        return rc;
    const char *texts[] = {r->media_url, r->email,     r->first_name, r->last_name,
                           r->phone,     r->device_id, r->account_id, r->address_id};
    sqlite3_bind_text(st, 1, r->token, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->key_id);
    sqlite3_bind_int64(st, 4, r->created);
    sqlite3_bind_text(st, 5, nz(r->description), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->attributes ? r->attributes : "{}", -1, SQLITE_STATIC);
    for (int i = 0; i < 8; i++)
        sqlite3_bind_text(st, 7 + i, nz(texts[i]), -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_open311_requests_find(void *impl, const char *token, const char *numbers,
                                       co_open311_request_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        token ? "SELECT token,number,key_id,created,description,attributes,media_url,email,"
                "first_name,last_name,phone,device_id,account_id,address_id "
                "FROM open311_requests WHERE token=?1"
              : "SELECT token,number,key_id,created,description,attributes,media_url,email,"
                "first_name,last_name,phone,device_id,account_id,address_id "
                "FROM open311_requests WHERE number IN (SELECT value FROM json_each(?1))";
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl), sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, token ? token : numbers ? numbers : "[]", -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_open311_request_rec r;
        r.token = (const char *)sqlite3_column_text(st, 0);
        r.number = (const char *)sqlite3_column_text(st, 1);
        r.key_id = sqlite3_column_int64(st, 2);
        r.created = sqlite3_column_int64(st, 3);
        r.description = (const char *)sqlite3_column_text(st, 4);
        r.attributes = (const char *)sqlite3_column_text(st, 5);
        r.media_url = (const char *)sqlite3_column_text(st, 6);
        r.email = (const char *)sqlite3_column_text(st, 7);
        r.first_name = (const char *)sqlite3_column_text(st, 8);
        r.last_name = (const char *)sqlite3_column_text(st, 9);
        r.phone = (const char *)sqlite3_column_text(st, 10);
        r.device_id = (const char *)sqlite3_column_text(st, 11);
        r.account_id = (const char *)sqlite3_column_text(st, 12);
        r.address_id = (const char *)sqlite3_column_text(st, 13);
        if (cb(ctx, &r))
            break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------- updates */

co_err co_sqlite_open311_update_put(void *impl, const co_open311_update_rec *u, int64_t *id_out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        "INSERT INTO open311_updates(key_id,update_id,number,status,description,updated,"
        "created,media_url,first_name,last_name,email,phone,external_status_code) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
        &st);
    if (rc)
        goto out;
    sqlite3_bind_int64(st, 1, u->key_id);
    sqlite3_bind_text(st, 2, u->update_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, nz(u->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, nz(u->description), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, u->updated);
    sqlite3_bind_int64(st, 7, u->created);
    const char *texts[] = {u->media_url, u->first_name, u->last_name,
                           u->email,     u->phone,      u->external_status_code};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_text(st, 8 + i, nz(texts[i]), -1, SQLITE_STATIC);
    if ((rc = co_sqlite_step_done(st)))
        goto out;
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
out:
    sqlite3_finalize(st);
    return rc;
}

co_err co_sqlite_open311_updates_of(void *impl, const char *number, co_open311_update_cb cb,
                                    void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        co_sqlite_conn(impl),
        "SELECT id,key_id,update_id,number,status,description,updated,created,media_url,"
        "first_name,last_name,email,phone,external_status_code FROM open311_updates "
        "WHERE number=?1 ORDER BY id",
        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_open311_update_rec u;
        u.id = sqlite3_column_int64(st, 0);
        u.key_id = sqlite3_column_int64(st, 1);
        u.update_id = (const char *)sqlite3_column_text(st, 2);
        u.number = (const char *)sqlite3_column_text(st, 3);
        u.status = (const char *)sqlite3_column_text(st, 4);
        u.description = (const char *)sqlite3_column_text(st, 5);
        u.updated = sqlite3_column_int64(st, 6);
        u.created = sqlite3_column_int64(st, 7);
        u.media_url = (const char *)sqlite3_column_text(st, 8);
        u.first_name = (const char *)sqlite3_column_text(st, 9);
        u.last_name = (const char *)sqlite3_column_text(st, 10);
        u.email = (const char *)sqlite3_column_text(st, 11);
        u.phone = (const char *)sqlite3_column_text(st, 12);
        u.external_status_code = (const char *)sqlite3_column_text(st, 13);
        if (cb(ctx, &u))
            break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* --------------------------------------------------------------- events */

co_err co_sqlite_events_brief(void *impl, const char *case_ids, int64_t from, int64_t to,
                              int limit, int offset, co_event_brief_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    const char *sql =
        case_ids
            ? "SELECT e.seq,e.case_id,e.ts,c.number,e.action,e.role,e.from_state,e.to_state,"
              " coalesce(json_extract(e.data,'$.note'),'') FROM events e"
              " JOIN cases c ON c.id=e.case_id"
              " WHERE e.case_id IN (SELECT value FROM json_each(?1)) AND e.action!='register'"
              " ORDER BY e.case_id, e.seq"
            : CO_SQLITE_EVENTS_BY_TIME;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(impl), sql, &st);
    if (rc)
        return rc;
    if (case_ids) {
        sqlite3_bind_text(st, 1, case_ids, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        sqlite3_bind_int(st, 4, limit > 0 && limit <= 1000 ? limit : 1000);
        sqlite3_bind_int(st, 5, offset > 0 ? offset : 0);
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_event_brief e;
        e.seq = sqlite3_column_int64(st, 0);
        e.case_id = sqlite3_column_int64(st, 1);
        e.ts = sqlite3_column_int64(st, 2);
        e.number = (const char *)sqlite3_column_text(st, 3);
        e.action = (const char *)sqlite3_column_text(st, 4);
        e.role = (const char *)sqlite3_column_text(st, 5);
        e.from = (co_state)sqlite3_column_int(st, 6);
        e.to = (co_state)sqlite3_column_int(st, 7);
        e.note = sqlite3_column_type(st, 8) == SQLITE_TEXT
                     ? (const char *)sqlite3_column_text(st, 8)
                     : "";
        if (cb(ctx, &e))
            break;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}
