/* pg_apikeys.c — the PostgreSQL back-end's Open311 tables (migration 3):
 * API keys (only a keyed hash of each key), what each Open311 request
 * brought that a case has no field for, updates clients push, and brief
 * reads of the event log for the update feed. Same contracts as
 * sqlite_apikeys.c. Inserts that may hit a unique key use ON CONFLICT DO
 * NOTHING and report CO_EEXIST when no row went in, so a duplicate never
 * aborts the caller's transaction. Lists of ids arrive as one JSON array
 * bound once and expanded with jsonb_array_elements_text. Records handed to
 * callbacks are valid only during the callback. */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"
#include "store/store.h"

/* ---------------------------------------------------------------- keys */

co_err co_pg_apikey_put(void *impl, const co_apikey_rec *k, int64_t *id_out)
{
    co_pg_params p = {0};
    co_pg_text(&p, k->name);
    co_pg_text(&p, k->key_hash);
    co_pg_nz(&p, k->prefix);
    co_pg_int(&p, k->created);
    co_pg_nz(&p, k->created_by);
    co_pg_real(&p, k->rate);
    co_pg_int(&p, k->burst);
    int64_t id = 0, n = 0;
    co_err rc = co_pg_run(impl,
                          "INSERT INTO api_keys(name,key_hash,prefix,created,created_by,revoked,"
                          "rate,burst) VALUES($1,$2,$3,$4,$5,0,$6,$7) ON CONFLICT DO NOTHING "
                          "RETURNING id",
                          &p, co_pg_first_i64, &id, &n);
    if (rc)
        return rc;
    if (!n)
        return CO_EEXIST;
    if (id_out)
        *id_out = id;
    return CO_OK;
}

#define KEY_COLS "id,name,key_hash,prefix,created,created_by,revoked,rate,burst"

typedef struct key_ctx {
    co_apikey_cb cb;
    void *ctx;
} key_ctx;

static int key_row(void *vctx, const co_pg_row *r)
{
    key_ctx *kc = vctx;
    co_apikey_rec k = {
        .id = co_pg_i64(r, 0),
        .name = co_pg_str(r, 1),
        .key_hash = co_pg_str(r, 2),
        .prefix = co_pg_str(r, 3),
        .created = co_pg_i64(r, 4),
        .created_by = co_pg_str(r, 5),
        .revoked = (int)co_pg_i64(r, 6),
        .rate = co_pg_f64(r, 7),
        .burst = (int)co_pg_i64(r, 8),
    };
    return kc->cb(kc->ctx, &k);
}

co_err co_pg_apikey_find(void *impl, const char *key_hash, co_apikey_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_text(&p, key_hash);
    key_ctx kc = {cb, ctx};
    int64_t n = 0;
    co_err rc = co_pg_run(impl, "SELECT " KEY_COLS " FROM api_keys WHERE key_hash=$1", &p,
                          key_row, &kc, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

co_err co_pg_apikeys_each(void *impl, co_apikey_cb cb, void *ctx)
{
    key_ctx kc = {cb, ctx};
    return co_pg_run(impl, "SELECT " KEY_COLS " FROM api_keys ORDER BY id", NULL, key_row, &kc,
                     NULL);
}

co_err co_pg_apikey_revoke(void *impl, int64_t id)
{
    co_pg_params p = {0};
    co_pg_int(&p, id);
    int64_t n = 0;
    co_err rc = co_pg_run(impl, "UPDATE api_keys SET revoked=1 WHERE id=$1 RETURNING id", &p,
                          NULL, NULL, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

/* ------------------------------------------------------------ requests */

co_err co_pg_open311_request_put(void *impl, const co_open311_request_rec *r)
{
    const char *texts[] = {r->media_url, r->email,     r->first_name, r->last_name,
                           r->phone,     r->device_id, r->account_id, r->address_id};
    co_pg_params p = {0};
    co_pg_text(&p, r->token);
    co_pg_text(&p, r->number);
    co_pg_int(&p, r->key_id);
    co_pg_int(&p, r->created);
    co_pg_nz(&p, r->description);
    co_pg_text(&p, r->attributes ? r->attributes : "{}");
    for (int i = 0; i < 8; i++)
        co_pg_nz(&p, texts[i]);
    int64_t n = 0;
    co_err rc = co_pg_run(
        impl,
        "INSERT INTO open311_requests(token,number,key_id,created,description,attributes,"
        "media_url,email,first_name,last_name,phone,device_id,account_id,address_id) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT DO NOTHING "
        "RETURNING 1",
        &p, NULL, NULL, &n);
    return rc ? rc : n ? CO_OK : CO_EEXIST;
}

typedef struct request_ctx {
    co_open311_request_cb cb;
    void *ctx;
} request_ctx;

static int request_row(void *vctx, const co_pg_row *res)
{
    request_ctx *rc = vctx;
    co_open311_request_rec r = {
        .token = co_pg_str(res, 0),
        .number = co_pg_str(res, 1),
        .key_id = co_pg_i64(res, 2),
        .created = co_pg_i64(res, 3),
        .description = co_pg_str(res, 4),
        .attributes = co_pg_str(res, 5),
        .media_url = co_pg_str(res, 6),
        .email = co_pg_str(res, 7),
        .first_name = co_pg_str(res, 8),
        .last_name = co_pg_str(res, 9),
        .phone = co_pg_str(res, 10),
        .device_id = co_pg_str(res, 11),
        .account_id = co_pg_str(res, 12),
        .address_id = co_pg_str(res, 13),
    };
    return rc->cb(rc->ctx, &r);
}

co_err co_pg_open311_requests_find(void *impl, const char *token, const char *numbers,
                                   co_open311_request_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_text(&p, token ? token : numbers ? numbers : "[]");
    request_ctx rc = {cb, ctx};
    return co_pg_run(
        impl,
        token ? "SELECT token,number,key_id,created,description,attributes,media_url,email,"
                "first_name,last_name,phone,device_id,account_id,address_id "
                "FROM open311_requests WHERE token=$1"
              : "SELECT token,number,key_id,created,description,attributes,media_url,email,"
                "first_name,last_name,phone,device_id,account_id,address_id "
                "FROM open311_requests WHERE number IN "
                "(SELECT jsonb_array_elements_text($1::jsonb))",
        &p, request_row, &rc, NULL);
}

/* ------------------------------------------------------------- updates */

co_err co_pg_open311_update_put(void *impl, const co_open311_update_rec *u, int64_t *id_out)
{
    const char *texts[] = {u->media_url, u->first_name, u->last_name,
                           u->email,     u->phone,      u->external_status_code};
    co_pg_params p = {0};
    co_pg_int(&p, u->key_id);
    co_pg_text(&p, u->update_id);
    co_pg_text(&p, u->number);
    co_pg_nz(&p, u->status);
    co_pg_nz(&p, u->description);
    co_pg_int(&p, u->updated);
    co_pg_int(&p, u->created);
    for (int i = 0; i < 6; i++)
        co_pg_nz(&p, texts[i]);
    int64_t id = 0, n = 0;
    co_err rc = co_pg_run(
        impl,
        "INSERT INTO open311_updates(key_id,update_id,number,status,description,updated,"
        "created,media_url,first_name,last_name,email,phone,external_status_code) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING RETURNING id",
        &p, co_pg_first_i64, &id, &n);
    if (rc)
        return rc;
    if (!n)
        return CO_EEXIST;
    if (id_out)
        *id_out = id;
    return CO_OK;
}

typedef struct update_ctx {
    co_open311_update_cb cb;
    void *ctx;
} update_ctx;

static int update_row(void *vctx, const co_pg_row *r)
{
    update_ctx *uc = vctx;
    co_open311_update_rec u = {
        .id = co_pg_i64(r, 0),
        .key_id = co_pg_i64(r, 1),
        .update_id = co_pg_str(r, 2),
        .number = co_pg_str(r, 3),
        .status = co_pg_str(r, 4),
        .description = co_pg_str(r, 5),
        .updated = co_pg_i64(r, 6),
        .created = co_pg_i64(r, 7),
        .media_url = co_pg_str(r, 8),
        .first_name = co_pg_str(r, 9),
        .last_name = co_pg_str(r, 10),
        .email = co_pg_str(r, 11),
        .phone = co_pg_str(r, 12),
        .external_status_code = co_pg_str(r, 13),
    };
    return uc->cb(uc->ctx, &u);
}

co_err co_pg_open311_updates_of(void *impl, const char *number, co_open311_update_cb cb,
                                void *ctx)
{
    co_pg_params p = {0};
    co_pg_text(&p, number);
    update_ctx uc = {cb, ctx};
    return co_pg_run(
        impl,
        "SELECT id,key_id,update_id,number,status,description,updated,created,media_url,"
        "first_name,last_name,email,phone,external_status_code FROM open311_updates "
        "WHERE number=$1 ORDER BY id",
        &p, update_row, &uc, NULL);
}

/* --------------------------------------------------------------- events */

typedef struct brief_ctx {
    co_event_brief_cb cb;
    void *ctx;
} brief_ctx;

static int brief_row(void *vctx, const co_pg_row *r)
{
    brief_ctx *bc = vctx;
    co_event_brief e = {
        .seq = co_pg_i64(r, 0),
        .case_id = co_pg_i64(r, 1),
        .ts = co_pg_i64(r, 2),
        .number = co_pg_str(r, 3),
        .action = co_pg_str(r, 4),
        .role = co_pg_str(r, 5),
        .from = (co_state)co_pg_i64(r, 6),
        .to = (co_state)co_pg_i64(r, 7),
        .note = co_pg_str(r, 8),
    };
    return bc->cb(bc->ctx, &e);
}

/* data.note when it is a JSON string, "" otherwise (as the SQLite back-end) */
#define BRIEF_COLS                                                                              \
    "e.seq,e.case_id,e.ts,c.number,e.action,e.role,e.from_state,e.to_state,"                    \
    " CASE WHEN jsonb_typeof(e.data::jsonb->'note')='string' THEN e.data::jsonb->>'note'"       \
    " ELSE '' END"

co_err co_pg_events_brief(void *impl, const char *case_ids, int64_t from, int64_t to, int limit,
                          int offset, co_event_brief_cb cb, void *ctx)
{
    co_pg_params p = {0};
    if (case_ids) {
        co_pg_text(&p, case_ids);
    } else {
        co_pg_int(&p, from);
        co_pg_int(&p, to);
        co_pg_int(&p, limit > 0 && limit <= 1000 ? limit : 1000);
        co_pg_int(&p, offset > 0 ? offset : 0);
    }
    brief_ctx bc = {cb, ctx};
    return co_pg_run(
        impl,
        case_ids ? "SELECT " BRIEF_COLS " FROM events e JOIN cases c ON c.id=e.case_id"
                   " WHERE e.case_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)"
                   " AND e.action!='register' ORDER BY e.case_id, e.seq"
                 : "SELECT " BRIEF_COLS " FROM events e JOIN cases c ON c.id=e.case_id"
                   " WHERE e.ts>=$1 AND e.ts<$2 AND e.action!='register'"
                   " ORDER BY e.ts, e.seq LIMIT $3 OFFSET $4",
        &p, brief_row, &bc, NULL);
}
