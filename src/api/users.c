/* users.c — user administration and the audit log (admin only):
 *   GET  /api/v1/users                 list
 *   POST /api/v1/users                 create or update {username, password?, role,
 *                                      display_name?, dept?, scope?, disabled?}
 *   POST /api/v1/users/{name}/revoke   end every session of a user
 *   GET  /api/v1/audit?before=&limit=  the audit log, newest first
 * Changing a user's password, role or scope, or disabling them, ends their
 * sessions. Every change is written to the audit log. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "domain/password.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

static int user_json(void *ctx, const co_user *u)
{
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:b}", "id", (json_int_t)u->id,
                                         "username", u->username, "display_name",
                                         u->display_name, "role", u->role, "dept", u->dept,
                                         "scope", u->scope, "disabled", u->disabled));
    return 0;
}

void co_api_users_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *items = json_array();
    co_err rc = co_store_users_each(app->store, user_json, items);
    if (rc) {
        json_decref(items);
        co_reply_err(r, rc, NULL);
        return;
    }
    co_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static int valid_username(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 2 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

static const char *opt_str(json_t *body, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(body, key));
    return v ? v : def;
}

/* Validates the body against the existing user (if any); replies on error. */
static int check_user_body(co_req *r, json_t *body, const co_user *old, co_user_rec *rec,
                           char hash[CO_PASSWORD_HASH_MAX])
{
    co_app *app = (co_app *)r->app;
    co_role role;
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!valid_username(rec->username)) {
        co_reply_error(r, 400, "bad_username", "用户名为 2–63 位小写字母、数字、_-. / username: 2–63 of a-z 0-9 _ - .");
        return -1;
    }
    if (co_role_parse(rec->role, &role)) {
        co_reply_error(r, 400, "bad_role", "未知岗位 / unknown role");
        return -1;
    }
    if (rec->dept[0] && !co_depts_find(app->depts, rec->dept)) {
        co_reply_error(r, 400, "bad_dept", "未知部门 / unknown department");
        return -1;
    }
    if (rec->scope[0] && co_areas_find(app->areas, rec->scope) < 0) {
        co_reply_error(r, 400, "bad_scope", "未知区域 / unknown area for scope");
        return -1;
    }
    if (password) {
        if (co_password_hash(password, hash)) {
            co_reply_error(r, 400, "bad_password", "密码长度须为 %d–%d / password must be %d–%d characters",
                           CO_PASSWORD_MIN, CO_PASSWORD_MAX, CO_PASSWORD_MIN, CO_PASSWORD_MAX);
            return -1;
        }
        rec->password_hash = hash;
    } else if (old) {
        rec->password_hash = old->password_hash;
    } else {
        co_reply_error(r, 400, "bad_password", "新用户需要密码 / a new user needs a password");
        return -1;
    }
    return 0;
}

void co_api_user_put(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    co_user old;
    const char *username = opt_str(body, "username", NULL);
    int exists = username && co_store_user_get(app->store, username, &old) == CO_OK;
    co_user_rec rec = {
        .username = username,
        .display_name = opt_str(body, "display_name", exists ? old.display_name : username),
        .role = opt_str(body, "role", exists ? old.role : NULL),
        .dept = opt_str(body, "dept", exists ? old.dept : ""),
        .scope = opt_str(body, "scope", exists ? old.scope : ""),
        .disabled = json_is_true(json_object_get(body, "disabled")),
    };
    if (!rec.role) {
        co_reply_error(r, 400, "bad_role", "需要岗位 role / \"role\" is required");
        return;
    }
    char hash[CO_PASSWORD_HASH_MAX];
    if (check_user_body(r, body, exists ? &old : NULL, &rec, hash))
        return;
    int64_t id;
    co_err rc = co_store_user_put(app->store, &rec, &id);
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    if (exists)
        co_sessions_revoke_user(app->sessions, id);
    char detail[160];
    snprintf(detail, sizeof detail, "user=%s role=%s dept=%s scope=%s disabled=%d%s", username,
             rec.role, rec.dept, rec.scope, rec.disabled,
             json_object_get(body, "password") ? " password" : "");
    if (co_store_audit(app->store, r->session->username, exists ? "user_update" : "user_create",
                       detail))
        co_log_warn("msg=\"audit write failed\"");
    co_reply_json(r, exists ? 200 : 201, json_pack("{s:I,s:s}", "id", (json_int_t)id, "username",
                                                   username));
}

void co_api_user_revoke(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_user u;
    const char *name = co_req_param(r, 0);
    if (co_store_user_get(app->store, name, &u)) {
        co_reply_error(r, 404, "not_found", "没有这个用户 / no such user");
        return;
    }
    co_sessions_revoke_user(app->sessions, u.id);
    if (co_store_audit(app->store, r->session->username, "sessions_revoke", u.username))
        co_log_warn("msg=\"audit write failed\"");
    co_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static int audit_json(void *ctx, const co_audit_rec *a)
{
    char ts[CO_TIME_ISO_MAX];
    co_time_format(a->ts, ts);
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)a->id, "ts",
                                         ts, "actor", a->actor, "action", a->action, "detail",
                                         a->detail));
    return 0;
}

void co_api_audit(co_req *r)
{
    co_app *app = (co_app *)r->app;
    int64_t before = 0, limit = 100;
    const char *b = co_req_query(r, "before"), *l = co_req_query(r, "limit");
    if ((b && co_parse_i64(b, 1, INT64_MAX, &before)) || (l && co_parse_i64(l, 1, 1000, &limit))) {
        co_reply_error(r, 400, "bad_filter", "before 为正整数，limit 为 1–1000 / bad before or limit");
        return;
    }
    json_t *items = json_array();
    co_err rc = co_store_audit_each(app->store, before, (int)limit, audit_json, items);
    if (rc) {
        json_decref(items);
        co_reply_err(r, rc, NULL);
        return;
    }
    co_reply_json(r, 200, json_pack("{s:o}", "items", items));
}
