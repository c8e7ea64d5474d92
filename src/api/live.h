/* live.h — the live feed: Server-Sent Events pushed to every subscriber the
 * moment a change is committed (no polling).
 * The writer thread publishes messages into a small ring (under a mutex) and
 * wakes every worker loop that has subscribers; each worker then writes the
 * new messages to its own connections (evhttp chunks), so connections are
 * only ever touched by the thread that owns them. A keep-alive comment goes
 * out every 15 s; closed connections are dropped via the connection's close
 * callback. Subscribers see what their scope allows (area scope; handlers
 * only their department's cases). A subscriber that stops reading is not
 * sent more than CO_LIVE_BACKLOG_MAX ahead of what it took. The co_live owns
 * its ring and per-worker state; subscribers' requests belong to evhttp. */
#ifndef CO_API_LIVE_H
#define CO_API_LIVE_H

#include <stdint.h>

#include "http/req.h"

#define CO_LIVE_RING 512
#define CO_LIVE_MAX_WORKERS 64
/* A subscriber with more than this many bytes sent to it but not yet taken
 * misses messages until it catches up (co_live_dropped counts them); one
 * that never does is closed by the server's write timeout. */
#define CO_LIVE_BACKLOG_MAX (256 * 1024)

typedef struct co_live co_live;

co_live *co_live_new(void);
/* Call after the server stopped (no worker loops running). */
void co_live_free(co_live *l);
/* Publishes one event (any thread). data is a JSON text (copied). area (the
 * case's finest area code) and dept (its department) decide which scoped
 * subscribers receive it, as the case API would. */
void co_live_publish(co_live *l, const char *event, const char *data, const char *area,
                     const char *dept);
/* Messages not sent because their subscriber was too far behind. */
uint64_t co_live_dropped(co_live *l);
/* Turns the request into a subscription (on its worker thread). */
void co_live_subscribe(co_live *l, co_req *r);
/* Releases the per-loop state of a worker loop; called on that worker's
 * thread when its loop has ended, before the loop is freed. */
struct event_base;
void co_live_detach(co_live *l, struct event_base *base);
/* Number of open subscriptions (for health and tests). */
int co_live_subscribers(co_live *l);

#endif
