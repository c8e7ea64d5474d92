/* store.c — the storage interface's dispatch to its back-end (see store.h). */
#include "store/store.h"

#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

struct co_store {
    const co_store_backend *be;
    void *impl;
    char *dir;
};

co_err co_store_open_with(const co_store_backend *be, const char *dir, co_store **out)
{
    void *impl = NULL;
    co_err rc = be->open(dir, &impl);
    if (rc)
        return rc;
    co_store *s = co_xcalloc(1, sizeof *s);
    s->be = be;
    s->impl = impl;
    s->dir = co_xstrdup(dir);
    *out = s;
    return CO_OK;
}

co_err co_store_open(const char *dir, co_store **out)
{
    return co_store_open_with(&co_store_sqlite, dir, out);
}

int co_store_is_pg_url(const char *where)
{
    return where && (!strncmp(where, "postgres://", 11) || !strncmp(where, "postgresql://", 13));
}

co_err co_store_open_url(const char *where, co_store **out)
{
    if (!where || !*where)
        return CO_EINVAL;
    if (co_store_is_pg_url(where))
        return co_store_open_with(&co_store_pg, where, out);
    if (!strncmp(where, "sqlite:", 7))
        where += 7;
    return *where ? co_store_open_with(&co_store_sqlite, where, out) : CO_EINVAL;
}

void co_store_close(co_store *s)
{
    if (!s)
        return;
    s->be->close(s->impl);
    co_free(s->dir);
    co_free(s);
}

const char *co_store_dir(const co_store *s) { return s->dir; }
int co_store_schema_version(co_store *s) { return s->be->schema_version(s->impl); }

co_err co_store_meta_get(co_store *s, const char *key, char *val, size_t len)
{
    return s->be->meta_get(s->impl, key, val, len);
}

co_err co_store_meta_set(co_store *s, const char *key, const char *val)
{
    return s->be->meta_set(s->impl, key, val);
}

co_err co_store_areas_replace(co_store *s, co_level level, const char *within,
                              const co_area_rec *recs, size_t n)
{
    return s->be->areas_replace(s->impl, level, within ? within : "", recs, n);
}

co_err co_store_areas_each(co_store *s, int level, int with_geometry, co_area_cb cb, void *ctx)
{
    return s->be->areas_each(s->impl, level, with_geometry, cb, ctx);
}

co_err co_store_area_get(co_store *s, const char *code, co_area_cb cb, void *ctx)
{
    return s->be->area_get(s->impl, code, cb, ctx);
}

co_err co_store_user_put(co_store *s, const co_user_rec *u, int64_t *id_out)
{
    return s->be->user_put(s->impl, u, id_out);
}

co_err co_store_user_get(co_store *s, const char *username, co_user *out)
{
    return s->be->user_get(s->impl, username, out);
}

co_err co_store_user_get_id(co_store *s, int64_t id, co_user *out)
{
    return s->be->user_get_id(s->impl, id, out);
}

co_err co_store_users_each(co_store *s, co_user_cb cb, void *ctx)
{
    return s->be->users_each(s->impl, cb, ctx);
}

co_err co_store_session_put(co_store *s, const co_session_rec *rec)
{
    return s->be->session_put(s->impl, rec);
}

co_err co_store_session_del(co_store *s, const char *token_hash)
{
    return s->be->session_del(s->impl, token_hash);
}

co_err co_store_sessions_trim(co_store *s, int64_t user_id, const char *spare, int keep,
                              co_session_cb cb, void *ctx)
{
    return s->be->sessions_trim(s->impl, user_id, spare, keep < 0 ? 0 : keep, cb, ctx);
}

co_err co_store_sessions_each(co_store *s, int64_t now, co_session_cb cb, void *ctx)
{
    return s->be->sessions_each(s->impl, now, cb, ctx);
}

co_err co_store_dept_put(co_store *s, const co_dept_rec *d)
{
    return s->be->dept_put(s->impl, d);
}

co_err co_store_depts_each(co_store *s, co_dept_cb cb, void *ctx)
{
    return s->be->depts_each(s->impl, cb, ctx);
}

co_err co_store_audit(co_store *s, const char *actor, const char *action, const char *detail)
{
    return s->be->audit_add(s->impl, co_time_now(), actor, action, detail ? detail : "");
}

co_err co_store_event_append(co_store *s, co_event *ev)
{
    return s->be->event_append(s->impl, ev);
}

co_err co_store_case_put(co_store *s, const co_case *c)
{
    json_t *doc = co_case_to_json(c, 1);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!text)
        return CO_ENOMEM;
    co_err rc = s->be->case_put(s->impl, c, text);
    free(text);
    return rc;
}

co_err co_store_case_put_doc(co_store *s, const co_case *c, const char *doc)
{
    return s->be->case_put(s->impl, c, doc);
}

co_err co_store_case_get(co_store *s, int64_t id, const char *number, co_case *out)
{
    return s->be->case_get(s->impl, id, number, out);
}

co_err co_store_cases_each(co_store *s, co_case_cb cb, void *ctx)
{
    return s->be->cases_each(s->impl, cb, ctx);
}

co_err co_store_cases_each_light(co_store *s, co_case_cb cb, void *ctx)
{
    return s->be->cases_each_light(s->impl, cb, ctx);
}

co_err co_store_cases_query(co_store *s, const co_case_query *q, co_case_cb cb, void *ctx)
{
    return s->be->cases_query(s->impl, q, cb, ctx);
}

co_err co_store_events_of(co_store *s, int64_t case_id, co_event_cb cb, void *ctx)
{
    return s->be->events_of(s->impl, case_id, cb, ctx);
}

co_err co_store_events_each(co_store *s, co_event_cb cb, void *ctx)
{
    return s->be->events_each(s->impl, cb, ctx);
}

co_err co_store_case_max_id(co_store *s, int64_t *id, int64_t *seq)
{
    return s->be->case_max_id(s->impl, id, seq);
}

co_err co_store_case_last_number(co_store *s, const char *prefix, int64_t *seq)
{
    return s->be->case_last_number(s->impl, prefix, seq);
}

co_err co_store_media_put(co_store *s, const char *hash, const char *type, int64_t size)
{
    return s->be->media_put(s->impl, hash, type, size);
}

co_err co_store_media_get(co_store *s, const char *hash, char *type, size_t len)
{
    return s->be->media_get(s->impl, hash, type, len);
}

co_err co_store_taxonomy_put(co_store *s, int64_t version, const char *doc, const char *author)
{
    return s->be->taxonomy_put(s->impl, version, doc, author);
}

co_err co_store_taxonomy_get(co_store *s, int64_t version, char **doc, int64_t *version_out)
{
    return s->be->taxonomy_get(s->impl, version, doc, version_out);
}

co_err co_store_rule_put(co_store *s, const co_rule_rec *r, int64_t *id_out)
{
    return s->be->rule_put(s->impl, r, id_out);
}

co_err co_store_rule_del(co_store *s, int64_t id) { return s->be->rule_del(s->impl, id); }

co_err co_store_rules_each(co_store *s, co_rule_cb cb, void *ctx)
{
    return s->be->rules_each(s->impl, cb, ctx);
}

co_err co_store_calday_put(co_store *s, int64_t day, int kind, const char *name)
{
    return s->be->calday_put(s->impl, day, kind, name);
}

co_err co_store_caldays_each(co_store *s, co_calday_cb cb, void *ctx)
{
    return s->be->caldays_each(s->impl, cb, ctx);
}

co_err co_store_audit_each(co_store *s, int64_t before_id, int limit, co_audit_cb cb, void *ctx)
{
    return s->be->audit_each(s->impl, before_id, limit, cb, ctx);
}

co_err co_store_begin(co_store *s) { return s->be->begin(s->impl); }
co_err co_store_commit(co_store *s) { return s->be->commit(s->impl); }
co_err co_store_rollback(co_store *s) { return s->be->rollback(s->impl); }

/* ---- Open311 (sqlite_apikeys.c) ---- */

co_err co_store_apikey_put(co_store *s, const co_apikey_rec *k, int64_t *id_out)
{
    return s->be->apikey_put(s->impl, k, id_out);
}

co_err co_store_apikey_find(co_store *s, const char *key_hash, co_apikey_cb cb, void *ctx)
{
    return s->be->apikey_find(s->impl, key_hash, cb, ctx);
}

co_err co_store_apikeys_each(co_store *s, co_apikey_cb cb, void *ctx)
{
    return s->be->apikeys_each(s->impl, cb, ctx);
}

co_err co_store_apikey_revoke(co_store *s, int64_t id)
{
    return s->be->apikey_revoke(s->impl, id);
}

co_err co_store_open311_request_put(co_store *s, const co_open311_request_rec *r)
{
    return s->be->open311_request_put(s->impl, r);
}

co_err co_store_open311_requests_find(co_store *s, const char *token, const char *numbers,
                                      co_open311_request_cb cb, void *ctx)
{
    return s->be->open311_requests_find(s->impl, token, numbers, cb, ctx);
}

co_err co_store_open311_update_put(co_store *s, const co_open311_update_rec *u, int64_t *id_out)
{
    return s->be->open311_update_put(s->impl, u, id_out);
}

co_err co_store_open311_updates_of(co_store *s, const char *number, co_open311_update_cb cb,
                                   void *ctx)
{
    return s->be->open311_updates_of(s->impl, number, cb, ctx);
}

co_err co_store_events_brief(co_store *s, const char *case_ids, int64_t from, int64_t to,
                             int limit, int offset, co_event_brief_cb cb, void *ctx)
{
    return s->be->events_brief(s->impl, case_ids, from, to, limit, offset, cb, ctx);
}

co_err co_store_integrity(co_store *s, co_integrity_cb cb, void *ctx)
{
    if (!s->be->integrity)
        return CO_ENOTFOUND;
    return s->be->integrity(s->impl, cb, ctx);
}

int co_store_seq_gapless(const co_store *s)
{
    return s->be == &co_store_sqlite;
}

co_err co_store_backup(co_store *s, const char *dest, co_backup_progress_cb cb, void *ctx)
{
    if (!s->be->backup)
        return CO_ENOTSUP;
    return s->be->backup(s->impl, dest, cb, ctx);
}

/* ---------------------------------------------------- several nodes */

int co_store_shared(const co_store *s)
{
    return s->be->reserve != NULL;
}

int co_store_indexes_place(const co_store *s)
{
    return s->be->indexes_place;
}

co_err co_store_ids_json(const int64_t *ids, size_t n, co_buf *out)
{
    co_err rc = co_buf_puts(out, "[");
    for (size_t i = 0; !rc && i < n; i++)
        rc = co_buf_printf(out, i ? ",%lld" : "%lld", (long long)ids[i]);
    return rc ? rc : co_buf_puts(out, "]");
}

co_err co_store_changes_since(co_store *s, int64_t after, int64_t before, int limit,
                              co_change_cb cb, void *ctx)
{
    if (limit < 1 || limit > 10000 || after < 0 || before < 0)
        return CO_EINVAL;
    if (!before)
        before = INT64_MAX;
    return s->be->changes_since ? s->be->changes_since(s->impl, after, before, limit, cb, ctx)
                                : CO_ENOTSUP;
}

co_err co_store_wait_events(co_store *s, int timeout_ms, int *notified)
{
    *notified = 0;
    if (s->be->wait_events)
        return s->be->wait_events(s->impl, timeout_ms, notified);
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return CO_OK;
}

co_err co_store_reserve(co_store *s, const char *counter, int64_t floor, int64_t block,
                        int64_t *last)
{
    if (!counter || !*counter || block < 1 || floor < 0)
        return CO_EINVAL;
    return s->be->reserve ? s->be->reserve(s->impl, counter, floor, block, last) : CO_ENOTSUP;
}

co_err co_store_session_get(co_store *s, const char *token_hash, int64_t now, co_session_cb cb,
                            void *ctx)
{
    return s->be->session_get(s->impl, token_hash, now, cb, ctx);
}

co_err co_store_seq_reserve(co_store *s, int n, int64_t *out)
{
    if (n < 1)
        return CO_EINVAL;
    return s->be->seq_reserve ? s->be->seq_reserve(s->impl, n, out) : CO_ENOTSUP;
}
