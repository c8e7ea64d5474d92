/* req.h — the request context handed to every API handler, and replies.
 * A co_req wraps one evhttp request for the duration of a handler call. It
 * owns the decoded path, query pairs, route parameters and the parsed JSON
 * body (freed by co_req_release). Replies: exactly one co_reply_* call per
 * request; each sends and finishes the evhttp request. Error bodies are
 * always {"error":{"code":"...","message":"..."}}. */
#ifndef CO_HTTP_REQ_H
#define CO_HTTP_REQ_H

#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define CO_REQ_MAX_PARAMS 4
#define CO_REQ_PATH_MAX 1024
#define CO_JSON_BODY_MAX (1u << 20)      /* 1 MiB for JSON bodies */
#define CO_UPLOAD_BODY_MAX (16u << 20)   /* 16 MiB for multipart uploads */
#define CO_JSON_DEPTH_MAX 32             /* nesting of arrays/objects in a body */
#define CO_JSON_ITEMS_MAX 100000         /* values in a body */
#define CO_URI_MAX 8192                  /* request target (path + query) bytes */

struct co_app;
struct co_session;

typedef enum co_method {
    CO_GET = 1 << 0,
    CO_POST = 1 << 1,
    CO_PUT = 1 << 2,
    CO_PATCH = 1 << 3,
    CO_DELETE = 1 << 4,
    CO_HEAD = 1 << 5,
    CO_OPTIONS = 1 << 6,
} co_method;

typedef struct co_req {
    struct evhttp_request *ev;
    struct co_app *app;
    co_method method;
    char path[CO_REQ_PATH_MAX];          /* decoded path without query */
    struct evkeyvalq query;              /* decoded query pairs */
    int query_parsed;
    const char *params[CO_REQ_MAX_PARAMS]; /* route {params}, point into pbuf */
    int nparams;
    char pbuf[CO_REQ_PATH_MAX];
    const struct co_session *session;    /* NULL when anonymous */
    int via_cookie;                      /* authenticated by cookie (CSRF applies) */
    int status;                          /* status sent, for the access log */
    double t0;                           /* monotonic start, for the access log */
    int replied;
    json_t *body;                        /* parsed JSON body (owned) */
    void *async;                         /* set by handlers that reply later */
    uint64_t id;                         /* request id (X-Request-Id, the log) */
    char client[48];                     /* the client behind a trusted proxy, or "" */
} co_req;

/* The address of the connection's other end as text (valid during the
 * request), "?" if unknown: the client, or the proxy in front of us. */
const char *co_req_peer(co_req *r);
/* The client's address: behind a trusted proxy the one it reported in
 * X-Forwarded-For (co_req_set_client), else the peer. Rate limits, login
 * throttling, the audit log and the access log go by it. */
const char *co_req_client(co_req *r);
/* When the peer is one of `proxies` (comma-separated addresses, "" = none)
 * and the request has X-Forwarded-For, the client is its last address (the
 * one the nearest proxy added; earlier ones are the client's own claims). */
void co_req_set_client(co_req *r, const char *proxies);
/* Whether `proxies` is a list co_req_set_client can match: comma-separated
 * IPv4 or IPv6 addresses, each written the way the peer's address is
 * (canonical: 127.0.0.1, ::1 — not 127.000.0.1 or 0:0:0:0:0:0:0:1). On
 * failure the first bad item is copied into bad (len bytes). */
int co_req_proxies_valid(const char *proxies, char *bad, size_t len);
/* Checks the nesting depth and the number of values of a JSON text without
 * parsing it: 0 when within CO_JSON_DEPTH_MAX / CO_JSON_ITEMS_MAX, else
 * replies 400 json_too_deep or json_too_complex and returns -1. */
int co_req_json_shape(co_req *r, const char *text, size_t len);

/* Query parameter (decoded) or NULL. */
const char *co_req_query(co_req *r, const char *key);
/* Request header or NULL. */
const char *co_req_header(co_req *r, const char *key);
/* Route parameter i or NULL. */
const char *co_req_param(co_req *r, int i);
/* Parses the body as a JSON object. On failure replies 400/413/415 itself and
 * returns NULL; the caller just returns. The result is borrowed from the
 * request (freed by co_req_release). */
json_t *co_req_json(co_req *r);
/* Raw body bytes (not NUL-terminated); *len set. */
const unsigned char *co_req_body(co_req *r, size_t *len);

/* Replies. co_reply_json steals the reference to body. */
void co_reply_json(co_req *r, int status, json_t *body);
void co_reply_error(co_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void co_reply_bytes(co_req *r, int status, const char *content_type, const void *data,
                    size_t len);
void co_reply_file(co_req *r, const char *content_type, int fd, size_t len);
/* Errors with status 500 (and other 5xx but 503) show a generic message
 * with the request id; the given message goes to the server log under it. */
/* Maps a co_err to an HTTP status + error code and replies. */
void co_reply_err(co_req *r, co_err rc, const char *message);

/* Deferred replies. A handler that must wait for another thread (the
 * writer) calls co_req_defer(); the request context then stays alive after
 * the handler returns. Any thread may later call co_deferred_fire(); fn then
 * runs on the request's own event-loop thread and must reply. If the client
 * went away meanwhile, fn is not called (gone_fn is, if given, to free arg).
 * Either way the request context is released after the callback. */
typedef struct co_deferred co_deferred;
typedef void (*co_deferred_fn)(co_req *r, void *arg);
co_deferred *co_req_defer(co_req *r, co_deferred_fn fn, co_deferred_fn gone_fn, void *arg);
void co_deferred_fire(co_deferred *d);
/* Frees a request context allocated by the dispatcher (after the reply). */
void co_req_finish(co_req *r);

/* Writes the access-log line (called by the reply functions). */
void co_req_log(co_req *r);
void co_req_release(co_req *r);

#endif
