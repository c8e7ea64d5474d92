/* follower.h — keeps one node's read views (projection, duplicate index,
 * live feed, classifier labels) current when several nodes write to one
 * store (PostgreSQL, co_store_shared).
 *
 * Every change is applied exactly once and in sequence order, whoever
 * committed it: the writer's own changes directly after its commit when
 * they follow the last applied sequence without a gap, everything else by
 * reading the log after that sequence (co_store_changes_since) — from the
 * writer's hook when it finds a gap, and from the follower's thread when a
 * NOTIFY announces another node's commit or every half second regardless,
 * so a lost notification only delays. The store's writers commit in
 * sequence order (store.h), so reading "after N" never skips a late commit.
 *
 * Ownership: the follower belongs to the app (app->follower); it borrows
 * the app and must be stopped before the views are closed. */
#ifndef CO_API_FOLLOWER_H
#define CO_API_FOLLOWER_H

#include <stdint.h>

#include "domain/case.h"
#include "lib/err.h"

struct co_app;
typedef struct co_follower co_follower;

#define CO_FOLLOW_POLL_MS 500 /* catch up at least this often */
#define CO_FOLLOW_GATHER_MS 10 /* and at most this often (commits gathered into one read) */
#define CO_FOLLOW_CONFIG_MS 250 /* how often the configuration generation is compared */

/* Creates the follower starting after sequence `after` (the log position the
 * views were loaded at) and catches up once; the thread starts with
 * co_follower_run. */
co_err co_follower_new(struct co_app *app, int64_t after, co_follower **out) CO_MUST_CHECK;
/* Starts the thread that waits for notifications and catches up. */
co_err co_follower_run(co_follower *f) CO_MUST_CHECK;
/* Stops the thread (within CO_FOLLOW_POLL_MS) and frees the follower. */
void co_follower_free(co_follower *f);
/* The writer's hook for each committed change of this node (writer thread). */
void co_follower_committed(co_follower *f, const co_case *c, const co_event *ev);
/* Reads and applies everything committed after the last applied sequence. */
co_err co_follower_catch_up(co_follower *f) CO_MUST_CHECK;
/* The last sequence applied (every change up to it is in the views). */
int64_t co_follower_seq(co_follower *f);
/* Seconds since the follower last read the log successfully (it tries at
 * least every CO_FOLLOW_POLL_MS): large when the database is unreachable,
 * and the node's views fall behind the other nodes' writes. */
double co_follower_silence(co_follower *f);
#define CO_FOLLOW_STALE_S 3.0 /* silence after which the node reports itself unavailable */

/* Configuration: an administrator's change on any node writes a new random
 * generation under this meta key (co_app_config_changed); the follower
 * thread compares it every CO_FOLLOW_CONFIG_MS and reloads the configuration when it
 * differs from what it saw (co_app_refresh_config). */
#define CO_FOLLOW_CONFIG_KEY "config_gen"
#define CO_FOLLOW_GEN_MAX 40

#endif
