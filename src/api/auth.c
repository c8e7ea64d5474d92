/* auth.c — login, logout and the current user.
 * POST /api/v1/login {"username","password"} → {"token","csrf","user"} and an
 * HttpOnly SameSite=Strict cookie. Unknown (and disabled) users cost the same
 * time as wrong passwords. Logins (ok and failed) go to the audit log.
 * Throttling: failed logins count per username and per client IP
 * (app->login_limit); past the allowance each failure blocks further
 * attempts for a doubling delay — 429 login_throttled with Retry-After,
 * without looking at the password — and the block is audited. A success
 * clears the username's count (not the IP's, which fades with time). */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "domain/password.h"
#include "lib/log.h"
#include "lib/timeutil.h"

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

static void audit_login(co_app *app, const char *username, const char *action,
                        const char *detail)
{
    if (co_store_audit(app->store, username, action, detail))
        co_log_warn("msg=\"audit write failed\" action=%s", action);
}

/* 1 (after replying 429) when the username or the client IP is blocked. */
static int throttled(co_req *r, const char *ukey, const char *ikey)
{
    co_app *app = (co_app *)r->app;
    int64_t now = co_time_now_ms();
    int ru = 0, ri = 0;
    int bu = co_ratelimit_blocked(app->login_limit, ukey, now, &ru);
    int bi = co_ratelimit_blocked(app->login_limit, ikey, now, &ri);
    if (!bu && !bi)
        return 0;
    int retry = ru > ri ? ru : ri;
    char secs[16];
    snprintf(secs, sizeof secs, "%d", retry);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", secs);
    co_reply_error(r, 429, "login_throttled",
                   "登录失败次数过多，请 %d 秒后再试 / too many failed logins; try again in %d s",
                   retry, retry);
    return 1;
}

/* Counts a failed login; audits the block it starts, if any. */
static void count_failure(co_req *r, const char *username, const char *ukey, const char *ikey)
{
    co_app *app = (co_app *)r->app;
    int64_t now = co_time_now_ms();
    int fu = 0, fi = 0;
    int su = co_ratelimit_fail(app->login_limit, ukey, &app->limits.login_user, now, &fu);
    int si = co_ratelimit_fail(app->login_limit, ikey, &app->limits.login_ip, now, &fi);
    if (!su && !si)
        return;
    char detail[160];
    snprintf(detail, sizeof detail, "ip=%s user_fails=%d ip_fails=%d blocked_s=%d",
             co_req_client(r), fu, fi, su > si ? su : si);
    audit_login(app, username, "login_throttled", detail);
    co_log_warn("msg=\"login throttled\" user=\"%.63s\" %s", username, detail);
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
    char ukey[CO_RATELIMIT_KEY_MAX], ikey[CO_RATELIMIT_KEY_MAX];
    snprintf(ukey, sizeof ukey, "u:%s", username);
    snprintf(ikey, sizeof ikey, "i:%s", co_req_client(r));
    if (throttled(r, ukey, ikey))
        return;
    co_user u;
    co_err rc = co_store_user_get(app->store, username, &u);
    if (rc == CO_ENOTFOUND) {
        co_password_dummy_verify(password);
    } else if (rc) {
        co_reply_err(r, rc, "无法读取用户 / cannot read users");
        return;
    }
    co_session s;
    int ok = !rc && co_password_verify(u.password_hash, password) == CO_OK; /* disabled too */
    if (!ok || u.disabled || !fill_session(&u, &s)) {
        audit_login(app, username, "login_failed", co_req_client(r));
        count_failure(r, username, ukey, ikey);
        co_reply_error(r, 401, "bad_credentials", "用户名或密码错误 / wrong username or password");
        return;
    }
    co_ratelimit_clear(app->login_limit, ukey);
    char token[CO_TOKEN_HEX];
    if ((rc = co_sessions_create(app->sessions, &s, token))) {
        co_reply_err(r, rc, "无法创建会话 / cannot create session");
        return;
    }
    audit_login(app, username, "login", co_req_client(r));
    co_session created;
    if (co_sessions_get(app->sessions, token, &created) == CO_OK)
        s = created;
    int ttl = co_sessions_ttl(app->sessions);
    char cookie[256];
    snprintf(cookie, sizeof cookie,
             "cityops_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d", token, ttl);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Set-Cookie", cookie);
    co_reply_json(r, 200,
                  json_pack("{s:s,s:s,s:o,s:I}", "token", token, "csrf", s.csrf, "user",
                            user_json(&s), "expires_in", (json_int_t)ttl));
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
