/* router.c — route matching and dispatch (see router.h). */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

#include "http/session.h"

const char *co_method_name(co_method m)
{
    switch (m) {
    case CO_GET: return "GET";
    case CO_POST: return "POST";
    case CO_PUT: return "PUT";
    case CO_PATCH: return "PATCH";
    case CO_DELETE: return "DELETE";
    case CO_HEAD: return "HEAD";
    case CO_OPTIONS: return "OPTIONS";
    }
    return "?";
}

int co_router_match(const char *pattern, const char *path, co_req *r)
{
    const char *p = pattern, *s = path;
    char *out = r->pbuf;
    size_t left = sizeof r->pbuf;
    r->nparams = 0;
    while (*p) {
        if (*p == '*' && p[1] == '\0') {
            size_t n = strlen(s);
            if (n + 1 > left || r->nparams >= CO_REQ_MAX_PARAMS)
                return 0;
            memcpy(out, s, n + 1);
            r->params[r->nparams++] = out;
            return 1;
        }
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                return 0;
            size_t n = strcspn(s, "/");
            if (n == 0 || n + 1 > left || r->nparams >= CO_REQ_MAX_PARAMS)
                return 0;
            memcpy(out, s, n);
            out[n] = '\0';
            r->params[r->nparams++] = out;
            out += n + 1;
            left -= n + 1;
            s += n;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    return *s == '\0';
}

static void allow_header(const co_router *rt, co_req *r, char *buf, size_t len)
{
    unsigned mask = 0;
    co_req probe = {0};
    for (size_t i = 0; i < rt->nroutes; i++)
        if (co_router_match(rt->routes[i].pattern, r->path, &probe))
            mask |= rt->routes[i].methods;
    buf[0] = '\0';
    for (unsigned bit = 1; bit <= CO_OPTIONS; bit <<= 1) {
        if (!(mask & bit))
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? ", " : "", co_method_name(bit));
    }
}

static int unsafe_method(co_method m)
{
    return m == CO_POST || m == CO_PUT || m == CO_PATCH || m == CO_DELETE;
}

static int authorize(const co_route *route, co_req *r)
{
    if (!route->roles)
        return 1;
    if (!r->session) {
        co_reply_error(r, 401, "unauthenticated", "请先登录 / login required");
        return 0;
    }
    if (!(route->roles & (1u << r->session->role))) {
        co_reply_error(r, 403, "forbidden", "无权访问 / your role may not use this endpoint");
        return 0;
    }
    if (r->via_cookie && unsafe_method(r->method)) {
        const char *tok = co_req_header(r, "X-CSRF-Token");
        if (!tok || strcmp(tok, r->session->csrf) != 0) {
            co_reply_error(r, 403, "csrf",
                           "缺少或错误的 CSRF 令牌 / missing or wrong X-CSRF-Token header");
            return 0;
        }
    }
    return 1;
}

void co_router_dispatch(const co_router *rt, co_req *r)
{
    int path_matched = 0;
    for (size_t i = 0; i < rt->nroutes; i++) {
        const co_route *route = &rt->routes[i];
        if (!co_router_match(route->pattern, r->path, r))
            continue;
        path_matched = 1;
        if (!(route->methods & r->method) &&
            !(r->method == CO_HEAD && (route->methods & CO_GET)))
            continue;
        if (authorize(route, r))
            route->handler(r);
        return;
    }
    if (!path_matched) {
        co_reply_error(r, 404, "not_found", "没有这个地址 / no such resource: %s", r->path);
        return;
    }
    char allow[128];
    allow_header(rt, r, allow, sizeof allow);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Allow", allow);
    co_reply_error(r, 405, "method_not_allowed", "不支持该方法 / method %s not allowed here; allowed: %s",
                   co_method_name(r->method), allow);
}
