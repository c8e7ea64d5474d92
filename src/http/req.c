/* req.c — request helpers and replies (see req.h). */
#include "http/req.h"

#include "http/metrics.h"
#include "http/router.h"
#include "http/session.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


static void parse_query(co_req *r)
{
    if (r->query_parsed)
        return;
    r->query_parsed = 1;
    TAILQ_INIT(&r->query);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->ev);
    const char *q = uri ? evhttp_uri_get_query(uri) : NULL;
    if (q && evhttp_parse_query_str(q, &r->query) != 0) {
        evhttp_clear_headers(&r->query);
        TAILQ_INIT(&r->query);
    }
}

const char *co_req_query(co_req *r, const char *key)
{
    parse_query(r);
    return evhttp_find_header(&r->query, key);
}

const char *co_req_header(co_req *r, const char *key)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->ev), key);
}

const char *co_req_param(co_req *r, int i)
{
    return i >= 0 && i < r->nparams ? r->params[i] : NULL;
}

const unsigned char *co_req_body(co_req *r, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->ev);
    *len = evbuffer_get_length(in);
    if (*len == 0)
        return (const unsigned char *)"";
    return evbuffer_pullup(in, -1);
}

const char *co_req_peer(co_req *r)
{
    char *peer = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *c = r->ev ? evhttp_request_get_connection(r->ev) : NULL;
    if (c)
        evhttp_connection_get_peer(c, &peer, &port);
    return peer && *peer ? peer : "?";
}

const char *co_req_client(co_req *r)
{
    return r->client[0] ? r->client : co_req_peer(r);
}

/* 1 when addr is one of the comma-separated list's entries. */
static int listed(const char *list, const char *addr)
{
    size_t n = strlen(addr);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !memcmp(p, addr, n))
            return 1;
        p += len;
        p += *p == ',';
    }
    return 0;
}

int co_req_proxies_valid(const char *proxies, char *bad, size_t len)
{
    for (const char *p = proxies;;) {
        size_t n = strcspn(p, ",");
        char item[INET6_ADDRSTRLEN], canon[INET6_ADDRSTRLEN];
        unsigned char bin[16];
        int ok = n > 0 && n < sizeof item;
        if (ok) {
            memcpy(item, p, n);
            item[n] = '\0';
            int af = strchr(item, ':') ? AF_INET6 : AF_INET;
            ok = inet_pton(af, item, bin) == 1 && inet_ntop(af, bin, canon, sizeof canon) &&
                 !strcmp(canon, item);
        }
        if (!ok) {
            snprintf(bad, len, "%.*s", (int)n, p);
            return 0;
        }
        if (!p[n])
            return 1;
        p += n + 1;
    }
}

void co_req_set_client(co_req *r, const char *proxies)
{
    const char *xff = proxies && *proxies ? co_req_header(r, "X-Forwarded-For") : NULL;
    if (!xff || !listed(proxies, co_req_peer(r)))
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    char addr[48];
    size_t n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof addr)
        return;
    memcpy(addr, last, n);
    addr[n] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1)
        memcpy(r->client, addr, n + 1);
}

int co_req_json_shape(co_req *r, const char *p, size_t len)
{
    int depth = 0, in_str = 0;
    size_t items = 1;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            items++;
            if (++depth > CO_JSON_DEPTH_MAX) {
                co_reply_error(r, 400, "json_too_deep",
                               "JSON 嵌套超过 %d 层 / JSON nested deeper than %d levels",
                               CO_JSON_DEPTH_MAX, CO_JSON_DEPTH_MAX);
                return -1;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && ++items > CO_JSON_ITEMS_MAX) {
            co_reply_error(r, 400, "json_too_complex",
                           "JSON 元素超过 %d 个 / JSON with more than %d values",
                           CO_JSON_ITEMS_MAX, CO_JSON_ITEMS_MAX);
            return -1;
        }
    }
    return 0;
}

json_t *co_req_json(co_req *r)
{
    if (r->body)
        return r->body;
    size_t len;
    const unsigned char *p = co_req_body(r, &len);
    if (len > CO_JSON_BODY_MAX) {
        co_reply_error(r, 413, "too_large", "请求体过大 / JSON body exceeds %u bytes",
                       CO_JSON_BODY_MAX);
        return NULL;
    }
    const char *ct = co_req_header(r, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) != 0) {
        co_reply_error(r, 415, "unsupported_media_type",
                       "需要 application/json / expected Content-Type application/json");
        return NULL;
    }
    if (co_req_json_shape(r, (const char *)p, len))
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        co_reply_error(r, 400, "bad_json", "JSON 格式错误 / malformed JSON at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        co_reply_error(r, 400, "bad_json", "需要 JSON 对象 / the body must be a JSON object");
        return NULL;
    }
    r->body = j;
    return j;
}

static void send_reply(co_req *r, int status, struct evbuffer *buf)
{
    if (r->replied) {
        evbuffer_free(buf);
        return;
    }
    r->replied = 1;
    r->status = status;
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    /* what a session saw stays out of shared caches and the browser's */
    if (r->session && !strncmp(r->path, "/api/", 5) && !evhttp_find_header(h, "Cache-Control"))
        evhttp_add_header(h, "Cache-Control", "no-store");
    const char *reason = status == 200 ? "OK" : status == 201 ? "Created" : NULL;
    evhttp_send_reply(r->ev, status, reason, buf);
    evbuffer_free(buf);
    co_req_log(r);
}

void co_req_log(co_req *r)
{
    double took = co_time_mono() - r->t0;
    co_metrics_request(r->method, r->status, took);
    co_log_info("msg=access id=%llu method=%s path=\"%.200s\" status=%d ms=%.2f user=%s "
                "peer=%s%s%s",
                (unsigned long long)r->id, co_method_name(r->method), r->path, r->status,
                took * 1000.0, r->session ? r->session->username : "-", co_req_client(r),
                r->client[0] ? " proxy=" : "", r->client[0] ? co_req_peer(r) : "");
}

void co_reply_bytes(co_req *r, int status, const char *content_type, const void *data, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", content_type);
    struct evbuffer *buf = evbuffer_new();
    if (len)
        evbuffer_add(buf, data, len);
    send_reply(r, status, buf);
}

void co_reply_file(co_req *r, const char *content_type, int fd, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", content_type);
    struct evbuffer *buf = evbuffer_new();
    if (len)
        evbuffer_add_file(buf, fd, 0, (ev_off_t)len);
    else
        close(fd);
    send_reply(r, 200, buf);
}

void co_reply_json(co_req *r, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s) {
        co_reply_bytes(r, 500, "application/json; charset=utf-8",
                       "{\"error\":{\"code\":\"internal\",\"message\":\"encoding failed\"}}", 57);
        return;
    }
    co_reply_bytes(r, status, "application/json; charset=utf-8", s, strlen(s));
    free(s);
}

/* Replaces what is not UTF-8 (request bytes echoed in a message, or a
 * character cut by the truncation) with '?', so the error still encodes. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3
                                 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        size_t i = 1;
        while (n && i < n && (p[i] & 0xC0) == 0x80)
            i++;
        if (!n || i < n)
            *p++ = '?';
        else
            p += n;
    }
}

void co_reply_error(co_req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a fault's details are for the log, not the client; a 503 says what to
     * wait for, so its message stays */
    if (status >= 500 && status != 503) {
        co_log_error("msg=\"request failed\" id=%llu status=%d code=%s detail=\"%.300s\"",
                     (unsigned long long)r->id, status, code, msg);
        snprintf(msg, sizeof msg,
                 "服务器内部错误，请稍后重试（请求编号 %llu）/ internal error; try again later "
                 "(request id %llu)",
                 (unsigned long long)r->id, (unsigned long long)r->id);
    }
    json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    if (!body) { /* invalid UTF-8 in the message */
        utf8_sanitize(msg);
        body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    }
    for (char *p = msg; !body && *p; p++) /* overlong forms, surrogates: plain ASCII */
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    if (!body)
        body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    co_reply_json(r, status, body);
}

void co_reply_err(co_req *r, co_err rc, const char *message)
{
    static const struct {
        int status;
        const char *code;
    } map[] = {
        [CO_OK] = {200, "ok"},
        [CO_ENOMEM] = {503, "unavailable"},
        [CO_EINVAL] = {400, "bad_request"},
        [CO_ENOTFOUND] = {404, "not_found"},
        [CO_EEXIST] = {409, "exists"},
        [CO_ECONFLICT] = {409, "conflict"},
        [CO_ETOOBIG] = {413, "too_large"},
        [CO_EPERM] = {403, "forbidden"},
        [CO_EIO] = {500, "io_error"},
        [CO_EDB] = {500, "storage_error"},
        [CO_EGEOM] = {400, "bad_geometry"},
        [CO_EINTERNAL] = {500, "internal"},
    };
    int idx = (unsigned)rc < sizeof map / sizeof map[0] ? (int)rc : CO_EINTERNAL;
    co_reply_error(r, map[idx].status, map[idx].code, "%s",
                   message ? message : co_err_str(rc));
}

void co_req_release(co_req *r)
{
    if (r->query_parsed)
        evhttp_clear_headers(&r->query);
    json_decref(r->body);
    r->body = NULL;
}

struct co_deferred {
    co_req *r;
    struct event *ev;
    struct evhttp_connection *conn;
    co_deferred_fn fn, gone_fn;
    void *arg;
    int gone;
    int orphan;   /* libevent detached the request: ours to free */
};

void co_req_finish(co_req *r)
{
    co_req_release(r);
    co_free(r);
}

static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    co_deferred *d = arg;
    d->gone = 1;
    d->conn = NULL;
    d->orphan = evhttp_request_get_connection(d->r->ev) == NULL;
}

static void on_fired(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    co_deferred *d = arg;
    co_req *r = d->r;
    if (d->conn)
        evhttp_connection_set_closecb(d->conn, NULL, NULL);
    if (d->gone) {
        co_log_info("msg=\"client went away before the reply\" path=\"%.200s\"", r->path);
        if (d->gone_fn)
            d->gone_fn(NULL, d->arg);
        if (d->orphan)
            evhttp_request_free(r->ev);
        r->ev = NULL;
    } else {
        d->fn(r, d->arg);
    }
    event_free(d->ev);
    co_free(d);
    co_req_finish(r);
}

co_deferred *co_req_defer(co_req *r, co_deferred_fn fn, co_deferred_fn gone_fn, void *arg)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
    struct event_base *base = conn ? evhttp_connection_get_base(conn) : NULL;
    if (!base)
        return NULL;
    co_deferred *d = co_xcalloc(1, sizeof *d);
    d->r = r;
    d->conn = conn;
    d->fn = fn;
    d->gone_fn = gone_fn;
    d->arg = arg;
    d->ev = event_new(base, -1, 0, on_fired, d);
    evhttp_connection_set_closecb(conn, on_conn_close, d);
    r->async = d;
    return d;
}

void co_deferred_fire(co_deferred *d)
{
    event_active(d->ev, EV_READ, 1);
}
