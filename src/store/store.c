/* store.c — the storage interface's dispatch to its back-end (see store.h). */
#include "store/store.h"

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

co_err co_store_begin(co_store *s) { return s->be->begin(s->impl); }
co_err co_store_commit(co_store *s) { return s->be->commit(s->impl); }
co_err co_store_rollback(co_store *s) { return s->be->rollback(s->impl); }
