/* ratelimit.h — per-client limits keyed by a short string (a client IP
 * address, "u:" + a username...): a token bucket per key (requests per
 * second with a burst, the bucket of domain/apikey.h) and a failure counter
 * with an exponential back-off (failed logins).
 *
 * The table has a fixed number of slots chosen at creation, so memory never
 * grows with the number of clients: a key hashes to a window of
 * CO_RATELIMIT_PROBE slots; a new key takes a free slot there or evicts the
 * least recently used one, preferring slots that are not blocked. An evicted
 * key starts again with a full bucket and no failures — the price of a
 * bounded table; a large table and the preference for unblocked slots make
 * that costly to provoke.
 *
 * All functions are thread-safe (one mutex per table, held for a few slot
 * compares); nothing returned points into the table. Times are Unix
 * milliseconds supplied by the caller (tests pass their own clock). */
#ifndef CO_HTTP_RATELIMIT_H
#define CO_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "domain/apikey.h"

#define CO_RATELIMIT_KEY_MAX 72 /* longest key kept + NUL (longer keys are cut) */
#define CO_RATELIMIT_PROBE 8    /* slots looked at per key */

typedef struct co_ratelimit co_ratelimit;

/* Failure back-off: after `free_fails` failures in a row, the key is
 * blocked for base_s seconds, doubled with each further failure, at most
 * max_s. Failures are forgotten forget_s seconds after the last one (or at
 * co_ratelimit_clear). free_fails 0 disables the back-off. */
typedef struct co_backoff {
    int free_fails;
    int base_s;
    int max_s;
    int forget_s;
} co_backoff;

/* A table of at least `slots` slots (rounded up to a power of two, at least
 * CO_RATELIMIT_PROBE). The caller frees it with co_ratelimit_free. */
co_ratelimit *co_ratelimit_new(size_t slots);
void co_ratelimit_free(co_ratelimit *rl);

/* Takes one token from key's bucket. Returns 1 when the request may go
 * ahead; 0 when the bucket is empty, with *retry_after_s (>= 1) set. A rate
 * with per_sec <= 0 means no limit (always 1, nothing stored). */
int co_ratelimit_take(co_ratelimit *rl, const char *key, co_apikey_rate rate, int64_t now_ms,
                      int *retry_after_s);

/* 1 when key is blocked by its failures at now_ms (then *retry_after_s is
 * the whole seconds left, >= 1), else 0. Does not create the key. */
int co_ratelimit_blocked(co_ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s);
/* Records one failure for key; returns the seconds the key is now blocked
 * for (0 when still under b->free_fails). *fails (may be NULL) receives the
 * number of failures in a row. */
int co_ratelimit_fail(co_ratelimit *rl, const char *key, const co_backoff *b, int64_t now_ms,
                      int *fails);
/* Forgets key's failures (a success). */
void co_ratelimit_clear(co_ratelimit *rl, const char *key);

/* The client limits the application applies (api/app.c, api/auth.c),
 * set by `cityops serve` options. */
typedef struct co_ratelimit_config {
    co_apikey_rate anon;   /* anonymous API requests per client IP (per_sec 0 = off) */
    co_backoff login_user; /* failed logins per username */
    co_backoff login_ip;   /* failed logins per client IP */
} co_ratelimit_config;

#define CO_RATELIMIT_ANON_RATE 20.0   /* requests per second per IP */
#define CO_RATELIMIT_ANON_BURST 400
#define CO_RATELIMIT_LOGIN_USER_FAILS 5
#define CO_RATELIMIT_LOGIN_IP_FAILS 30
#define CO_RATELIMIT_LOGIN_BASE_S 2
#define CO_RATELIMIT_LOGIN_MAX_S 900
#define CO_RATELIMIT_LOGIN_FORGET_S 900

void co_ratelimit_config_default(co_ratelimit_config *c);

/* Slots in use, and the table's size (for tests and the log). */
size_t co_ratelimit_used(co_ratelimit *rl);
size_t co_ratelimit_slots(const co_ratelimit *rl);

#endif
