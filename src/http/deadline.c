/* deadline.c — per-request deadline, reply-phase timeouts and input cap
 * (see deadline.h).
 *
 * libevent 2.1.12 has no callback for "a request starts" (evhttp_set_newreqcb
 * came with 2.2), so the two starts are caught separately:
 *  - a new connection: evhttp asks our bufferevent callback for its
 *    bufferevent just before it creates the connection around it. The guard
 *    keeps a reference on the bufferevent and, from an event activated right
 *    away (it runs before the loop polls again, so before any byte is read),
 *    finds the connection as the bufferevent's callback argument, which is
 *    where evhttp keeps it, checked against evhttp_connection_get_bufferevent.
 *    If evhttp already dropped the connection (its callbacks are cleared) the
 *    guard just goes.
 *  - the next request on a kept-alive connection: the previous request's
 *    completion callback, which evhttp runs after the reply was written and
 *    before it waits for the next request.
 * Guards of connections are found again by connection pointer in a small
 * hash table (dispatch) and through the connection's close callback
 * (client went away: evhttp frees the connection and would free the
 * request with it, so the guard must go then, never later). */
#include "http/deadline.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "http/errpage.h"
#include "lib/alloc.h"
#include "lib/log.h"

#define BUCKETS 1024

typedef struct guard {
    co_deadlines *ds;
    struct evhttp_connection *conn; /* NULL until found (new connection) */
    struct bufferevent *bev;        /* referenced until conn is found */
    struct event *timer;            /* "find conn" at once, then the deadline */
    struct guard *next;             /* in ds->buckets[slot(conn)] */
} guard;

struct co_deadlines {
    struct event_base *base;
    struct timeval limit; /* whole request; 0 = none */
    struct timeval idle;  /* evhttp's timeout, 0 = none */
    guard *buckets[BUCKETS];
};

static size_t slot(const struct evhttp_connection *conn)
{
    uintptr_t p = (uintptr_t)conn;
    return (size_t)((p >> 4) ^ (p >> 14)) % BUCKETS;
}

static void link_guard(guard *g)
{
    guard **head = &g->ds->buckets[slot(g->conn)];
    g->next = *head;
    *head = g;
}

static void unlink_guard(guard *g)
{
    guard **pp = &g->ds->buckets[slot(g->conn)];
    while (*pp && *pp != g)
        pp = &(*pp)->next;
    if (*pp)
        *pp = g->next;
}

static guard *find_guard(co_deadlines *ds, const struct evhttp_connection *conn)
{
    guard *g = ds->buckets[slot(conn)];
    while (g && g->conn != conn)
        g = g->next;
    return g;
}

/* Unlinks and frees g; gives the close callback back if it holds it. */
static void drop_guard(guard *g)
{
    unlink_guard(g);
    if (g->conn)
        evhttp_connection_set_closecb(g->conn, NULL, NULL);
    if (g->bev)
        bufferevent_decref(g->bev);
    event_free(g->timer);
    co_free(g);
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

static guard *new_guard(co_deadlines *ds)
{
    guard *g = co_xcalloc(1, sizeof *g);
    g->ds = ds;
    g->timer = evtimer_new(ds->base, on_timer, g);
    if (!g->timer) {
        co_free(g);
        return NULL;
    }
    return g;
}

/* evhttp frees the connection (client gone, error, idle timeout, reply
 * with Connection: close, server shutdown). */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    drop_guard(arg);
}

/* Starts the clock of the request conn is now reading. */
static void arm(guard *g, struct evhttp_connection *conn)
{
    g->conn = conn;
    link_guard(g);
    evhttp_connection_set_closecb(conn, on_close, g);
    evtimer_add(g->timer, &g->ds->limit);
}

/* First run of a new connection's guard: find its connection. */
static void adopt(guard *g)
{
    bufferevent_event_cb ecb = NULL;
    void *cbarg = NULL;
    bufferevent_getcb(g->bev, NULL, NULL, &ecb, &cbarg);
    struct evhttp_connection *conn = cbarg;
    if (!ecb || !conn || evhttp_connection_get_bufferevent(conn) != g->bev) {
        drop_guard(g); /* evhttp gave the connection up already */
        return;
    }
    unlink_guard(g);
    bufferevent_decref(g->bev); /* the connection holds it from now on */
    g->bev = NULL;
    arm(g, conn);
}

static const char reply_408[] =
    "{\"error\":{\"code\":\"request_timeout\",\"message\":"
    "\"请求未在时限内传完 / the request did not arrive in time\"}}";

/* The request did not arrive in time: a 408 if the socket takes it at once
 * and evhttp is not writing something of its own (its 400 or 100 Continue),
 * then the connection goes the way evhttp drops one on its own timeout. */
static void expire(guard *g)
{
    struct evhttp_connection *conn = g->conn;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    evutil_socket_t fd = -1;
    if (bev && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        fd = bufferevent_getfd(bev);
    char *peer = NULL;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(conn, &peer, &port);
    co_log_warn("msg=\"request deadline passed, connection closed\" peer=%s seconds=%ld",
                peer ? peer : "-", (long)g->ds->limit.tv_sec);
    if (fd >= 0) {
        char head[256];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 408 Request Timeout\r\n"
                         "Content-Type: application/json; charset=utf-8\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n"
                         "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
                         sizeof reply_408 - 1);
        if (send(fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n)
            (void)!send(fd, reply_408, sizeof reply_408 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    drop_guard(g); /* also clears the close callback */
    evhttp_connection_free(conn);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    guard *g = arg;
    if (!g->conn)
        adopt(g);
    else
        expire(g);
}

/* evhttp's bufferevent callback: the same bufferevent evhttp makes itself,
 * plus a guard for the connection about to be built around it. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    co_deadlines *ds = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
    co_errpage_attach(bev); /* libevent's own error pages go out as JSON */
    if (!ds->limit.tv_sec)
        return bev;
    guard *g = bev ? new_guard(ds) : NULL;
    if (!g)
        return bev; /* no deadline for this one rather than no connection */
    bufferevent_incref(bev);
    g->bev = bev;
    link_guard(g);
    event_active(g->timer, EV_TIMEOUT, 1);
    return bev;
}

/* Sets the read timeout of conn's bufferevent (NULL = none); the write
 * timeout stays evhttp's. */
static void set_read_timeout(co_deadlines *ds, struct evhttp_connection *conn,
                             const struct timeval *rd)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    const struct timeval *wr = ds->idle.tv_sec ? &ds->idle : NULL;
    if (bev)
        bufferevent_set_timeouts(bev, rd, wr);
}

/* While a reply is written evhttp keeps reading the socket — only to notice
 * a close — into a buffer nobody drains: a client that keeps sending during
 * a long reply (the live feed) would fill the server's memory. During the
 * reply the input is capped at CO_DEADLINE_REPLY_INPUT_MAX bytes (reading
 * pauses there, the client's sends block); after it the cap goes and what
 * was buffered is the next request. */
static void cap_input(struct evhttp_connection *conn, size_t max)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    if (bev)
        bufferevent_setwatermark(bev, EV_READ, 0, max);
}

/* evhttp wrote the reply of req: the next request on the connection starts. */
static void on_reply_done(struct evhttp_request *req, void *arg)
{
    co_deadlines *ds = arg;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (!conn)
        return;
    set_read_timeout(ds, conn, ds->idle.tv_sec ? &ds->idle : NULL);
    cap_input(conn, 0);
    guard *old = find_guard(ds, conn);
    if (old)
        drop_guard(old);
    guard *g = ds->limit.tv_sec ? new_guard(ds) : NULL;
    if (g)
        arm(g, conn);
}

co_deadlines *co_deadlines_new(struct event_base *base, int request_s, int idle_s)
{
    co_deadlines *ds = co_xcalloc(1, sizeof *ds);
    ds->base = base;
    ds->limit.tv_sec = request_s > 0 ? request_s : 0;
    ds->idle.tv_sec = idle_s > 0 ? idle_s : 0;
    return ds;
}

void co_deadlines_attach(co_deadlines *ds, struct evhttp *http)
{
    evhttp_set_bevcb(http, on_new_connection, ds);
}

void co_deadlines_dispatched(co_deadlines *ds, struct evhttp_request *req)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (!ds || !conn)
        return;
    guard *g = find_guard(ds, conn);
    if (g)
        drop_guard(g);
    /* A reply may take long (the SSE live feed: hours) while the client,
     * rightly, sends nothing: no read timeout until the next request. A
     * client that stops taking bytes still meets the write timeout. */
    set_read_timeout(ds, conn, NULL);
    cap_input(conn, CO_DEADLINE_REPLY_INPUT_MAX);
    evhttp_request_set_on_complete_cb(req, on_reply_done, ds);
}

void co_deadlines_free(co_deadlines *ds)
{
    if (!ds)
        return;
    /* evhttp_free closed every connection, so only guards that never found
     * theirs are left; their connections are gone: do not touch them. */
    for (size_t i = 0; i < BUCKETS; i++) {
        for (guard *g = ds->buckets[i], *next; g; g = next) {
            next = g->next;
            if (g->bev)
                bufferevent_decref(g->bev);
            event_free(g->timer);
            co_free(g);
        }
    }
    co_free(ds);
}
