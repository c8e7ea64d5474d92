/* live.c — Server-Sent Events live feed (see live.h). */
#include "api/live.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "domain/role.h"
#include "http/session.h"
#include "lib/alloc.h"
#include "lib/log.h"

#define PING_SECONDS 15

typedef struct message {
    uint64_t seq;
    char *text;            /* "event: X\ndata: ...\n\n" */
    size_t len;
    char area[16];         /* finest area code of the case, for scoped subscribers */
    char dept[32];         /* department concerned, for department subscribers */
} message;

typedef struct sub {
    char scope[16];        /* area prefix the subscriber may see, "" = city */
    char dept[32];         /* set for department handlers: only their cases */
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct lworker *w;
    struct sub *next, *prev;
} sub;

typedef struct lworker {
    co_live *live;
    struct event_base *base;
    struct event *wake;    /* activated by publishers */
    struct event *ping;    /* keep-alive timer */
    sub *subs;
    int nsubs;
    uint64_t seen;         /* last message sequence sent */
} lworker;

struct co_live {
    pthread_mutex_t lock;
    message ring[CO_LIVE_RING];
    uint64_t seq;          /* sequence of the newest message */
    lworker *workers[CO_LIVE_MAX_WORKERS];
    int nworkers;
    int total_subs;
    _Atomic uint64_t dropped; /* messages not sent to a subscriber too far behind */
};

co_live *co_live_new(void)
{
    co_live *l = co_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    return l;
}

void co_live_free(co_live *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nworkers; i++) {
        lworker *w = l->workers[i];
        for (sub *s = w->subs, *n; s; s = n) {
            n = s->next;
            co_free(s);
        }
        co_free(w); /* its events went with co_live_detach */
    }
    for (int i = 0; i < CO_LIVE_RING; i++)
        co_free(l->ring[i].text);
    pthread_mutex_destroy(&l->lock);
    co_free(l);
}

uint64_t co_live_dropped(co_live *l)
{
    return atomic_load(&l->dropped);
}

int co_live_subscribers(co_live *l)
{
    pthread_mutex_lock(&l->lock);
    int n = l->total_subs;
    pthread_mutex_unlock(&l->lock);
    return n;
}

/* Bytes queued for s's connection that the client has not taken yet. */
static size_t backlog(const sub *s)
{
    struct bufferevent *bev = s->conn ? evhttp_connection_get_bufferevent(s->conn) : NULL;
    return bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0;
}

/* Queues text for s — unless s is more than CO_LIVE_BACKLOG_MAX behind (it
 * stopped reading: its messages would pile up in memory until the write
 * timeout closes it); such a message is counted as dropped. */
static void send_bytes(sub *s, const char *text, size_t len)
{
    if (backlog(s) > CO_LIVE_BACKLOG_MAX) {
        atomic_fetch_add(&s->w->live->dropped, 1);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, text, len);
    evhttp_send_reply_chunk(s->req, b);
    evbuffer_free(b);
}

static void drop(sub *s)
{
    lworker *w = s->w;
    if (s->prev)
        s->prev->next = s->next;
    else
        w->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_lock(&w->live->lock);
    w->nsubs--;
    w->live->total_subs--;
    pthread_mutex_unlock(&w->live->lock);
    co_free(s);
}

/* The client went away. libevent has already detached a request that was
 * still streaming (its connection is NULL) and leaves it to us to free;
 * when the whole server shuts down the request is still attached and
 * libevent frees it itself. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    sub *s = arg;
    struct evhttp_request *req = s->req;
    drop(s);
    if (!evhttp_request_get_connection(req))
        evhttp_request_free(req);
}

/* Scope rules of the case API, applied to the feed. */
static int may_see(const sub *s, const message *m)
{
    if (s->scope[0] && strncmp(m->area, s->scope, strlen(s->scope)) != 0)
        return 0;
    return !s->dept[0] || !strcmp(m->dept, s->dept);
}

/* Sends every message newer than w->seen to w's subscribers (worker thread). */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    lworker *w = arg;
    co_live *l = w->live;
    for (;;) {
        pthread_mutex_lock(&l->lock);
        if (w->seen >= l->seq) {
            pthread_mutex_unlock(&l->lock);
            return;
        }
        if (l->seq - w->seen > CO_LIVE_RING)
            w->seen = l->seq - CO_LIVE_RING; /* fell behind: skip the oldest */
        message *m = &l->ring[(w->seen + 1) % CO_LIVE_RING];
        message copy = *m;
        copy.text = co_xmalloc(m->len + 1);
        memcpy(copy.text, m->text, m->len);
        w->seen++;
        pthread_mutex_unlock(&l->lock);
        for (sub *s = w->subs; s; s = s->next)
            if (may_see(s, &copy))
                send_bytes(s, copy.text, copy.len);
        co_free(copy.text);
    }
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    lworker *w = arg;
    static const char ping[] = ": ping\n\n";
    for (sub *s = w->subs; s; s = s->next)
        send_bytes(s, ping, sizeof ping - 1);
}

static lworker *worker_for(co_live *l, struct event_base *base)
{
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < l->nworkers; i++)
        if (l->workers[i]->base == base) {
            pthread_mutex_unlock(&l->lock);
            return l->workers[i];
        }
    lworker *w = NULL;
    if (l->nworkers < CO_LIVE_MAX_WORKERS) {
        w = co_xcalloc(1, sizeof *w);
        w->live = l;
        w->base = base;
        w->seen = l->seq;
        w->wake = event_new(base, -1, 0, on_wake, w);
        w->ping = event_new(base, -1, EV_PERSIST, on_ping, w);
        struct timeval tv = {PING_SECONDS, 0};
        event_add(w->ping, &tv);
        l->workers[l->nworkers++] = w;
    }
    pthread_mutex_unlock(&l->lock);
    return w;
}

void co_live_subscribe(co_live *l, co_req *r)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
    struct event_base *base = conn ? evhttp_connection_get_base(conn) : NULL;
    lworker *w = base ? worker_for(l, base) : NULL;
    if (!w) {
        co_reply_error(r, 503, "unavailable", "实时推送繁忙 / live feed unavailable");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_add_header(h, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(r->ev, 200, "OK");
    r->replied = 1;
    r->status = 200;
    co_req_log(r);
    sub *s = co_xcalloc(1, sizeof *s);
    if (r->session) {
        snprintf(s->scope, sizeof s->scope, "%s", r->session->scope);
        if (r->session->role == CO_ROLE_HANDLER)
            snprintf(s->dept, sizeof s->dept, "%s", r->session->dept[0] ? r->session->dept : "-");
    }
    s->req = r->ev;
    s->conn = conn;
    s->w = w;
    s->next = w->subs;
    if (w->subs)
        w->subs->prev = s;
    w->subs = s;
    pthread_mutex_lock(&l->lock);
    w->nsubs++;
    l->total_subs++;
    pthread_mutex_unlock(&l->lock);
    evhttp_connection_set_closecb(conn, on_close, s);
    static const char hello[] = "retry: 3000\n: connected\n\n";
    send_bytes(s, hello, sizeof hello - 1);
}

void co_live_detach(co_live *l, struct event_base *base)
{
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < l->nworkers; i++) {
        lworker *w = l->workers[i];
        if (w->base != base)
            continue;
        event_free(w->wake);
        event_free(w->ping);
        w->wake = w->ping = NULL;
        w->nsubs = 0; /* no more wake-ups for this loop */
    }
    pthread_mutex_unlock(&l->lock);
}

void co_live_publish(co_live *l, const char *event, const char *data, const char *area,
                     const char *dept)
{
    size_t len = strlen(event) + strlen(data) + 20;
    char *text = co_xmalloc(len);
    int n = snprintf(text, len, "event: %s\ndata: %s\n\n", event, data);
    pthread_mutex_lock(&l->lock);
    message *m = &l->ring[(l->seq + 1) % CO_LIVE_RING];
    co_free(m->text);
    m->text = text;
    m->len = (size_t)n;
    snprintf(m->area, sizeof m->area, "%s", area ? area : "");
    snprintf(m->dept, sizeof m->dept, "%s", dept ? dept : "");
    m->seq = ++l->seq;
    for (int i = 0; i < l->nworkers; i++)
        if (l->workers[i]->nsubs && l->workers[i]->wake)
            event_active(l->workers[i]->wake, EV_READ, 1);
    pthread_mutex_unlock(&l->lock);
}
