/* follower.c — other nodes' changes into this node's read views (see
 * follower.h). One mutex orders the two appliers (the writer's hook and the
 * follower thread); `seq` is the last applied sequence. */
#include "api/follower.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define CATCH_UP_PAGE 500

struct co_follower {
    co_app *app;
    pthread_mutex_t lock; /* held while applying */
    int64_t seq;          /* last applied (under lock) */
    _Atomic int64_t seq_seen; /* the same, readable without the lock */
    pthread_t thread;
    int running;
    _Atomic int stop;
    _Atomic double last_error_log; /* monotonic s: errors are logged at most every 10 s */
    _Atomic double last_ok;        /* monotonic s: the last successful read of the log */
    char gen[CO_FOLLOW_GEN_MAX]; /* the configuration generation this node has (its thread's) */
};

static void applied(co_follower *f, int64_t seq)
{
    f->seq = seq;
    atomic_store(&f->seq_seen, seq);
}

static int apply_one(void *ctx, const co_case *c, const co_event *ev)
{
    co_follower *f = ctx;
    if (ev->seq <= f->seq)
        return 0;
    co_app_apply_change(f->app, c, ev);
    applied(f, ev->seq);
    return 0;
}

/* Applies what was committed after the last applied sequence and before
 * `before` (0: everything). Lock held. */
static co_err catch_up_locked(co_follower *f, int64_t before)
{
    for (;;) {
        int64_t from = f->seq;
        co_err rc = co_store_changes_since(f->app->store, from, before, CATCH_UP_PAGE, apply_one, f);
        if (rc)
            return rc;
        /* fewer sequence numbers than a page: that was all (gaps in the
         * numbers can make a short page look full: one more read, no harm) */
        if (f->seq - from < CATCH_UP_PAGE)
            return CO_OK;
    }
}

co_err co_follower_catch_up(co_follower *f)
{
    pthread_mutex_lock(&f->lock);
    co_err rc = catch_up_locked(f, 0);
    pthread_mutex_unlock(&f->lock);
    if (!rc)
        atomic_store(&f->last_ok, co_time_mono());
    return rc;
}

double co_follower_silence(co_follower *f)
{
    return co_time_mono() - atomic_load(&f->last_ok);
}

static void log_error(co_follower *f, const char *what, co_err rc)
{
    double now = co_time_mono();
    if (now - f->last_error_log < 10.0)
        return;
    f->last_error_log = now;
    co_log_warn("msg=\"follower: %s failed, retrying\" err=\"%s\" seq=%lld", what,
                co_err_str(rc), (long long)co_follower_seq(f));
}

void co_follower_committed(co_follower *f, const co_case *c, const co_event *ev)
{
    pthread_mutex_lock(&f->lock);
    co_err rc = CO_OK;
    /* another node committed in between, or a rolled-back batch left a gap:
     * everything below this change is committed and visible already (commit
     * order is sequence order), so read it first, then apply this one as is */
    if (ev->seq > f->seq + 1 && (rc = catch_up_locked(f, ev->seq)))
        log_error(f, "catch-up after commit", rc); /* the thread will read it all later */
    if (!rc && ev->seq > f->seq) {
        co_app_apply_change(f->app, c, ev);
        applied(f, ev->seq);
    }
    pthread_mutex_unlock(&f->lock);
}

int64_t co_follower_seq(co_follower *f)
{
    return atomic_load(&f->seq_seen);
}

/* Reloads the configuration when another node changed it. */
static void follow_config(co_follower *f)
{
    char gen[CO_FOLLOW_GEN_MAX] = "";
    co_err rc = co_store_meta_get(f->app->store, CO_FOLLOW_CONFIG_KEY, gen, sizeof gen);
    if (rc == CO_ENOTFOUND)
        return;
    if (rc) {
        log_error(f, "reading the configuration generation", rc);
        return;
    }
    if (!strcmp(gen, f->gen))
        return;
    if ((rc = co_app_refresh_config(f->app))) {
        log_error(f, "reloading the configuration", rc);
        return;
    }
    co_log_info("msg=\"configuration reloaded\" generation=%s", gen);
    snprintf(f->gen, sizeof f->gen, "%s", gen);
}

static void sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms * 1e6) % 1000000000L};
    nanosleep(&ts, NULL);
}

/* Waits for a notification (or the poll interval), then reads the log. Busy
 * nodes commit hundreds of times a second and every commit notifies every
 * node: reads are at least CO_FOLLOW_GATHER_MS apart, so one read takes in
 * all the commits of that interval (the notifications that arrive meanwhile
 * are drained by the next wait), and the configuration generation is read
 * every CO_FOLLOW_CONFIG_MS, not with every notification. */
static void *follow_main(void *arg)
{
    co_follower *f = arg;
    pthread_setname_np(pthread_self(), "co-follow");
    double last_read = 0, last_config = co_time_mono();
    while (!atomic_load(&f->stop)) {
        int notified = 0;
        co_err rc = co_store_wait_events(f->app->store, CO_FOLLOW_POLL_MS, &notified);
        if (rc) {
            log_error(f, "waiting for notifications", rc);
            sleep_ms(CO_FOLLOW_POLL_MS);
        }
        if (atomic_load(&f->stop))
            break;
        sleep_ms(CO_FOLLOW_GATHER_MS - (co_time_mono() - last_read) * 1000);
        last_read = co_time_mono();
        if ((rc = co_follower_catch_up(f)))
            log_error(f, "catch-up", rc);
        if (last_read - last_config >= CO_FOLLOW_CONFIG_MS / 1000.0) {
            follow_config(f);
            last_config = last_read;
        }
    }
    return NULL;
}

co_err co_follower_new(co_app *app, int64_t after, co_follower **out)
{
    co_follower *f = co_xcalloc(1, sizeof *f);
    f->app = app;
    f->last_error_log = -100.0;
    pthread_mutex_init(&f->lock, NULL);
    /* the configuration was loaded from the store just before */
    if (co_store_meta_get(app->store, CO_FOLLOW_CONFIG_KEY, f->gen, sizeof f->gen))
        f->gen[0] = '\0';
    applied(f, after);
    co_err rc = co_follower_catch_up(f);
    if (rc) {
        co_follower_free(f);
        return rc;
    }
    *out = f;
    return CO_OK;
}

co_err co_follower_run(co_follower *f)
{
    if (pthread_create(&f->thread, NULL, follow_main, f) != 0)
        return CO_EIO;
    f->running = 1;
    return CO_OK;
}

void co_follower_free(co_follower *f)
{
    if (!f)
        return;
    atomic_store(&f->stop, 1);
    if (f->running)
        pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->lock);
    co_free(f);
}
