/* server.h — the HTTP/1.1 server: libevent evhttp, one event loop per worker
 * thread, each with its own SO_REUSEPORT listening socket so the kernel
 * spreads connections. Keep-alive is on; header size, body size and idle/slow
 * connections are limited, and every request must arrive whole within a
 * deadline (http/deadline.h). co_server_run blocks until SIGINT/SIGTERM, then
 * stops accepting, lets in-flight requests finish (up to a grace period) and
 * returns. The server owns its threads and event bases; the handler and its
 * argument belong to the caller. */
#ifndef CO_HTTP_SERVER_H
#define CO_HTTP_SERVER_H

#include <event2/http.h>
#include <stddef.h>

#include "http/ratelimit.h"
#include "lib/err.h"

#define CO_SERVER_REQUEST_TIMEOUT 60 /* seconds; default of request_timeout_s */

typedef struct co_server_config {
    char host[64];
    char trusted_proxies[256]; /* comma-separated proxy addresses (serve --trusted-proxy) */
    int port;
    int threads;           /* 0 = number of cores */
    size_t max_header;     /* bytes of request headers */
    size_t max_body;       /* bytes of request body (hard cap; routes may use less) */
    int timeout_s;         /* idle keep-alive and slow-request timeout (reset by each byte) */
    int request_timeout_s; /* whole request (line, headers, body) must arrive within
                            * this, counted from the accept or the previous reply;
                            * 0 = no limit. Replies are not limited. */
    int grace_ms;          /* how long in-flight requests may take at shutdown */
    /* Applied by the application, not by evhttp (see api/app.c): */
    co_ratelimit_config limits; /* per-IP and failed-login limits */
    int session_ttl_s;          /* login session lifetime */
    /* Called on the main thread at shutdown after the listeners stopped and
     * before the loops end: the application finishes its queued work here
     * (e.g. the writer commits and answers what it holds). May be NULL. */
    void (*drain)(void *arg);
    void *drain_arg;
} co_server_config;

typedef void (*co_server_handler)(struct evhttp_request *req, void *arg);
/* Called on each worker thread once after its loop is set up (may be NULL). */
typedef void (*co_server_thread_init)(int worker, struct event_base *base, void *arg);

void co_server_config_default(co_server_config *cfg);
/* Parses "HOST:PORT" into cfg. */
co_err co_server_parse_listen(const char *s, co_server_config *cfg) CO_MUST_CHECK;
/* init runs on each worker thread before its loop starts and fini after it
 * ended (before its event base is freed); either may be NULL. */
co_err co_server_run(const co_server_config *cfg, co_server_handler handler, void *arg,
                     co_server_thread_init init, co_server_thread_init fini) CO_MUST_CHECK;
/* Asks a running server to stop as if it got SIGTERM (any thread). */
void co_server_request_stop(void);

#endif
