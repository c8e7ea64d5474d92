/* auth.c — login, logout and the current user.
 * POST /api/v1/login {"username","password"} → {"token","csrf","user"} and an
 * HttpOnly SameSite=Strict cookie. Unknown users cost the same time as wrong
 * passwords. Logins (ok and failed) go to the audit log. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "domain/password.h"
#include "lib/log.h"

static json_t *user_json(const co_session *s)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)s->user_id, "username",
                     s->username, "display_name", s->display_name, "role", co_role_name(s->role),
                     "role_zh", co_role_name_zh(s->role), "dept", s->dept, "scope", s->scope);
}

static int fill_session(const co_user *u, co_session *s)
{
    memset(s, 0, sizeof *s);
    s->user_id = u->id;
    snprintf(s->username, sizeof s->username, "%s", u->username);
    snprintf(s->display_name, sizeof s->display_name, "%s", u->display_name);
    snprintf(s->dept, sizeof s->dept, "%s", u->dept);
    snprintf(s->scope, sizeof s->scope, "%s", u->scope);
    return co_role_parse(u->role, &s->role) == CO_OK;
}

void co_api_login(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    if (!username || !password || !*username || strlen(username) > 63) {
        co_reply_error(r, 400, "bad_request",
                       "需要用户名和密码 / \"username\" and \"password\" strings are required");
        return;
    }
    co_user u;
    co_err rc = co_store_user_get(app->store, username, &u);
    if (rc == CO_ENOTFOUND) {
        co_password_dummy_verify(password);
    } else if (rc) {
        co_reply_err(r, rc, "无法读取用户 / cannot read users");
        return;
    }
    co_session s;
    if (rc || u.disabled || co_password_verify(u.password_hash, password) != CO_OK ||
        !fill_session(&u, &s)) {
        if (co_store_audit(app->store, username, "login_failed", ""))
            co_log_warn("msg=\"audit write failed\"");
        co_reply_error(r, 401, "bad_credentials", "用户名或密码错误 / wrong username or password");
        return;
    }
    char token[CO_TOKEN_HEX];
    if ((rc = co_sessions_create(app->sessions, &s, token))) {
        co_reply_err(r, rc, "无法创建会话 / cannot create session");
        return;
    }
    if (co_store_audit(app->store, username, "login", ""))
        co_log_warn("msg=\"audit write failed\"");
    co_session created;
    if (co_sessions_get(app->sessions, token, &created) == CO_OK)
        s = created;
    char cookie[256];
    snprintf(cookie, sizeof cookie,
             "cityops_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", token,
             CO_SESSION_TTL);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Set-Cookie", cookie);
    co_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:o,s:I}", "token", token, "csrf", s.csrf, "user",
                            user_json(&s), "expires_in", (json_int_t)CO_SESSION_TTL));
}

void co_api_logout(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *auth = co_req_header(r, "Authorization");
    const char *cookie = co_req_header(r, "Cookie");
    char tok[80] = "";
    if (auth && !strncasecmp(auth, "Bearer ", 7))
        snprintf(tok, sizeof tok, "%s", auth + 7);
    else if (cookie && (cookie = strstr(cookie, "cityops_session=")))
        snprintf(tok, sizeof tok, "%.64s", cookie + strlen("cityops_session="));
    if (co_sessions_revoke(app->sessions, tok))
        co_log_warn("msg=\"logout of unknown token\"");
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Set-Cookie",
                      "cityops_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    co_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

void co_api_me(co_req *r)
{
    co_reply_json(r, 200,
                  json_pack("{s:o,s:s}", "user", user_json(r->session), "csrf", r->session->csrf));
}
