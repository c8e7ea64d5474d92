/* server.c — multi-threaded evhttp server (see server.h). */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/deadline.h"
#include "http/session.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define MAX_WORKERS 64

typedef struct worker {
    int id;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener;
    struct event *pause_ev;
    struct event *stop_ev;
    co_deadlines *deadlines; /* request deadline and reply-phase timeouts */
    const co_server_config *cfg;
    co_server_handler handler;
    void *arg;
    co_server_thread_init init, fini;
    int ok;
} worker;

static struct event_base *main_base;

void co_server_config_default(co_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 8080;
    cfg->threads = 0;
    cfg->max_header = 16 * 1024;
    cfg->max_body = 16u << 20;
    cfg->timeout_s = 30;
    cfg->request_timeout_s = CO_SERVER_REQUEST_TIMEOUT;
    cfg->grace_ms = 1000;
    co_ratelimit_config_default(&cfg->limits);
    cfg->session_ttl_s = CO_SESSION_TTL;
}

co_err co_server_parse_listen(const char *s, co_server_config *cfg)
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof cfg->host)
        return CO_EINVAL;
    char host[64];
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    int64_t port;
    if (co_parse_i64(colon + 1, 1, 65535, &port))
        return CO_EINVAL;
    struct in_addr a;
    if (!host[0])
        snprintf(host, sizeof host, "0.0.0.0");
    if (inet_pton(AF_INET, host, &a) != 1)
        return CO_EINVAL;
    snprintf(cfg->host, sizeof cfg->host, "%s", host);
    cfg->port = (int)port;
    return CO_OK;
}

static void on_pause(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (w->listener)
        evconnlistener_disable(w->listener);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (w->listener)
        evconnlistener_disable(w->listener);
    struct timeval grace = {w->cfg->grace_ms / 1000, (w->cfg->grace_ms % 1000) * 1000};
    event_base_loopexit(w->base, &grace);
}

/* evhttp's request callback: the request has arrived whole; its deadline
 * stops before the application gets it. */
static void on_request(struct evhttp_request *req, void *arg)
{
    worker *w = arg;
    co_deadlines_dispatched(w->deadlines, req);
    w->handler(req, w->arg);
}

/* A worker's loop. With the epoll change list, interest changes made while
 * a loop iteration runs reach the kernel once, at its end: evhttp turns a
 * connection's read and write interest off and on around every deferred
 * reply, and the change list folds those into fewer epoll_ctl calls. */
static struct event_base *new_base(void)
{
    struct event_config *ec = event_config_new();
    if (!ec)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *b = event_base_new_with_config(ec);
    event_config_free(ec);
    return b;
}

static co_err worker_setup(worker *w)
{
    const co_server_config *cfg = w->cfg;
    w->base = new_base();
    w->http = w->base ? evhttp_new(w->base) : NULL;
    if (!w->http)
        return CO_EIO;
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)cfg->max_header);
    evhttp_set_max_body_size(w->http, (ev_ssize_t)cfg->max_body);
    evhttp_set_timeout(w->http, cfg->timeout_s);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(w->http, on_request, w);
    w->deadlines = co_deadlines_new(w->base, cfg->request_timeout_s, cfg->timeout_s);
    co_deadlines_attach(w->deadlines, w->http);
    struct sockaddr_in sin = {0};
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)cfg->port);
    inet_pton(AF_INET, cfg->host, &sin.sin_addr);
    w->listener = evconnlistener_new_bind(
        w->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        1024, (struct sockaddr *)&sin, sizeof sin);
    if (!w->listener) {
        co_log_error("msg=\"cannot listen\" host=%s port=%d err=\"%s\"", cfg->host, cfg->port,
                      strerror(errno));
        return CO_EIO;
    }
    if (!evhttp_bind_listener(w->http, w->listener))
        return CO_EIO;
    w->stop_ev = event_new(w->base, -1, 0, on_stop, w);
    w->pause_ev = event_new(w->base, -1, 0, on_pause, w);
    return w->stop_ev && w->pause_ev ? CO_OK : CO_EIO;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "co-http-%d", w->id);
    pthread_setname_np(pthread_self(), name);
    if (w->init)
        w->init(w->id, w->base, w->arg);
    event_base_dispatch(w->base);
    if (w->fini)
        w->fini(w->id, w->base, w->arg);
    return NULL;
}

static void worker_free(worker *w)
{
    if (w->stop_ev)
        event_free(w->stop_ev);
    if (w->pause_ev)
        event_free(w->pause_ev);
    if (w->http)
        evhttp_free(w->http); /* also frees the bound listener */
    co_deadlines_free(w->deadlines); /* after the connections, before the base */
    if (w->base)
        event_base_free(w->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    co_log_info("msg=\"shutting down\" signal=%d", (int)sig);
    event_base_loopbreak(main_base);
}

void co_server_request_stop(void)
{
    if (main_base)
        event_base_loopbreak(main_base);
}

static int ncores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

co_err co_server_run(const co_server_config *cfg, co_server_handler handler, void *arg,
                     co_server_thread_init init, co_server_thread_init fini)
{
    static worker workers[MAX_WORKERS];
    co_err rc = CO_OK;
    int n = cfg->threads > 0 ? (cfg->threads > MAX_WORKERS ? MAX_WORKERS : cfg->threads) : ncores();
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);
    main_base = event_base_new();
    struct event *sigint = evsignal_new(main_base, SIGINT, on_signal, NULL);
    struct event *sigterm = evsignal_new(main_base, SIGTERM, on_signal, NULL);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    int started = 0;
    for (int i = 0; i < n; i++)
        workers[i] = (worker){.id = i, .cfg = cfg, .handler = handler, .arg = arg, .init = init,
                              .fini = fini};
    for (int i = 0; i < n; i++)
        if ((rc = worker_setup(&workers[i])))
            goto stop;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
            rc = CO_EIO;
            goto stop;
        }
        started++;
    }
    co_log_info("msg=\"listening\" addr=http://%s:%d workers=%d", cfg->host, cfg->port, n);
    event_base_dispatch(main_base);
stop:
    for (int i = 0; i < started; i++)
        event_active(workers[i].pause_ev, EV_READ, 0);
    if (started && cfg->drain)
        cfg->drain(cfg->drain_arg);
    for (int i = 0; i < started; i++)
        event_active(workers[i].stop_ev, EV_READ, 0);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    /* writes accepted during the grace period complete before the loops are
     * freed (their replies are lost, their commits are not) */
    if (started && cfg->drain)
        cfg->drain(cfg->drain_arg);
    for (int i = 0; i < n; i++)
        worker_free(&workers[i]);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(main_base);
    main_base = NULL;
    return rc;
}
