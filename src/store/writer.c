/* writer.c — the single writer with group commit (see writer.h). */
#include "store/writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define MAX_BATCH 2048

struct co_writer {
    co_store *st;
    co_writer_hooks hooks;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t idle;      /* signalled when the queue is empty and no batch runs */
    int busy;
    co_event events[MAX_BATCH]; /* the events of the batch being committed */
    int64_t seqs[MAX_BATCH];    /* shared store: their sequence numbers, reserved at once */
    size_t nseqs, used_seqs;    /* how many reserved for the batch, how many used */
    co_write_cmd *head, *tail;
    int stopping;
    pthread_mutex_t idlock;   /* guards next_id and the number counter */
    int64_t next_id;
    int64_t num_day;     /* local day of the number counter */
    int64_t num_seq;
    int64_t prev_day;    /* the day before a switch, and how far its numbers went: */
    int64_t prev_seq;    /* at midnight both days are in flight, uncommitted */
    /* several nodes on one store: ids and numbers come in blocks reserved
     * from the store's counters (co_store_reserve) */
    int shared;
    int64_t id_end;      /* last id of the reserved block (next_id..id_end) */
    int64_t id_block;
    double id_t;         /* when the id block was reserved (monotonic s) */
    struct num_block {   /* two days' number blocks (around midnight both are in use) */
        int64_t day, seq, end, block;
        double t, used;
    } nb[2];
    co_writer_stats stats;
};

void co_case_number_format(int64_t t, int64_t seq, char out[CO_NUMBER_MAX])
{
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int y, m, d;
    co_civil_from_days(days, &y, &m, &d);
    snprintf(out, CO_NUMBER_MAX, "%04d%02d%02d%05lld", y, m, d, (long long)seq);
}

static int64_t local_day(int64_t t)
{
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

#define BLOCK_MIN 16
#define BLOCK_MAX 1024

/* The next block's size: doubled while blocks last less than a second
 * (busy intake, few round trips), back to the minimum when they last long
 * (few values lost when a node stops with a block half used). */
static int64_t next_block(int64_t block, double *t)
{
    double now = co_time_mono();
    int64_t b = block && now - *t < 1.0 ? block * 2 : BLOCK_MIN;
    *t = now;
    return b > BLOCK_MAX ? BLOCK_MAX : b;
}

/* Shared store, idlock held: a case id from the node's block. */
static co_err shared_id(co_writer *w, int64_t *id)
{
    if (w->next_id > w->id_end) {
        int64_t block = next_block(w->id_block, &w->id_t), last = 0;
        co_err rc = co_store_reserve(w->st, "case_id", w->next_id - 1, block, &last);
        if (rc)
            return rc;
        w->id_block = block;
        w->next_id = last - block + 1;
        w->id_end = last;
    }
    *id = w->next_id++;
    return CO_OK;
}

/* Shared store, idlock held: a number of the day from the node's block. */
static co_err shared_number(co_writer *w, int64_t now, char out[CO_NUMBER_MAX])
{
    int64_t day = local_day(now);
    char prefix[CO_NUMBER_MAX];
    co_case_number_format(now, 0, prefix);
    prefix[8] = '\0';
    co_err rc;
    struct num_block *b = w->nb[0].day == day ? &w->nb[0] : w->nb[1].day == day ? &w->nb[1] : NULL;
    if (!b) { /* a new day takes the slot used least recently */
        b = w->nb[0].used <= w->nb[1].used ? &w->nb[0] : &w->nb[1];
        int64_t last = 0; /* what the day has already (a store migrated to this one) */
        if ((rc = co_store_case_last_number(w->st, prefix, &last)))
            return rc;
        *b = (struct num_block){.day = day, .seq = last, .end = last};
    }
    b->used = co_time_mono();
    if (b->seq >= b->end) {
        char counter[32];
        snprintf(counter, sizeof counter, "number:%s", prefix);
        int64_t block = next_block(b->block, &b->t), last = 0;
        if ((rc = co_store_reserve(w->st, counter, b->seq, block, &last)))
            return rc;
        b->block = block;
        b->seq = last - block;
        b->end = last;
    }
    if (b->seq >= CO_CASE_SEQ_MAX)
        return CO_ETOOBIG;
    co_case_number_format(now, ++b->seq, out);
    return CO_OK;
}

/* Called with idlock held. */
static co_err next_number(co_writer *w, int64_t now, char out[CO_NUMBER_MAX])
{
    if (w->shared)
        return shared_number(w, now, out);
    int64_t day = local_day(now);
    if (day != w->num_day) {
        char prefix[CO_NUMBER_MAX];
        co_case_number_format(now, 0, prefix);
        prefix[8] = '\0';
        int64_t last = 0;
        co_err rc = co_store_case_last_number(w->st, prefix, &last);
        if (rc)
            return rc;
        if (day == w->prev_day && w->prev_seq > last)
            last = w->prev_seq; /* handed out, maybe not committed yet */
        w->prev_day = w->num_day;
        w->prev_seq = w->num_seq;
        w->num_day = day;
        w->num_seq = last;
    }
    if (w->num_seq >= CO_CASE_SEQ_MAX)
        return CO_ETOOBIG;
    co_case_number_format(now, ++w->num_seq, out);
    return CO_OK;
}

static int is_storage_error(co_err rc);

/* Executes one command inside the open transaction. On success the event is
 * appended, the case row written, and *ev filled (caller clears it). */
static co_err execute(co_writer *w, co_write_cmd *cmd, co_event *ev)
{
    int64_t now = cmd->now ? cmd->now : co_time_now();
    co_wf_actor who = {cmd->username, cmd->role, cmd->dept, cmd->scope};
    co_case c;
    co_err rc;
    if (cmd->kind == CO_WRITE_REGISTER) {
        /* prepared on the submitting thread: take over its event */
        *ev = cmd->ev;
        memset(&cmd->ev, 0, sizeof cmd->ev);
        cmd->result = cmd->draft;
    } else {
        if ((rc = co_store_case_get(w->st, cmd->case_id, NULL, &c))) {
            if (rc == CO_ENOTFOUND)
                snprintf(cmd->err, sizeof cmd->err, "没有这个案件 / no such case");
            return rc;
        }
        rc = co_wf_decide(w->hooks.env, &c, cmd->action, &who, cmd->params, now, ev, cmd->err);
        if (rc)
            return rc;
        cmd->result = c;
    }
    /* the next reserved number (refused commands take none), else 0: the
     * store numbers it */
    ev->seq = w->used_seqs < w->nseqs ? w->seqs[w->used_seqs++] : 0;
    if ((rc = co_store_event_append(w->st, ev)))
        return rc;
    if (cmd->kind == CO_WRITE_REGISTER) {
        cmd->result.last_seq = ev->seq; /* co_wf_register built the case already */
        rc = co_store_case_put_doc(w->st, &cmd->result, cmd->doc);
    } else if (co_wf_apply(&cmd->result, ev)) {
        return CO_EINTERNAL; /* decide accepted what apply refuses: a bug */
    } else {
        rc = co_store_case_put(w->st, &cmd->result);
    }
    if (rc) /* the event is appended already: only rolling the batch back undoes it */
        return is_storage_error(rc) ? rc : CO_EDB;
    cmd->seq = ev->seq;
    return CO_OK;
}

static int is_storage_error(co_err rc)
{
    return rc == CO_EDB || rc == CO_EIO || rc == CO_ENOMEM || rc == CO_EINTERNAL;
}

/* Adds to the stats under the lock (co_writer_get_stats reads them there). */
static void add_stats(co_writer *w, size_t commands, double execute_s, double commit_s,
                      double after_s)
{
    pthread_mutex_lock(&w->lock);
    w->stats.commits += commands > 0;
    w->stats.commands += commands;
    if (commands > w->stats.max_batch)
        w->stats.max_batch = commands;
    w->stats.execute_s += execute_s;
    w->stats.commit_s += commit_s;
    w->stats.after_s += after_s;
    pthread_mutex_unlock(&w->lock);
}

/* Runs one batch. The counts are in the stats before any command completes
 * (a client that got its answer sees them). */
static void run_batch(co_writer *w, co_write_cmd *batch)
{
    co_event *events = w->events;
    size_t n = 0;
    double t0 = co_time_mono();
    co_err rc = co_store_begin(w->st);
    w->nseqs = w->used_seqs = 0; /* a server store: one round trip numbers the batch */
    if (!rc && w->shared) {
        int count = 0;
        for (co_write_cmd *c = batch; c; c = c->next)
            count++;
        co_err src = co_store_seq_reserve(w->st, count, w->seqs);
        if (!src)
            w->nseqs = (size_t)count;
        else if (src != CO_ENOTSUP)
            rc = src;
    }
    for (co_write_cmd *c = batch; c; c = c->next, n++) {
        memset(&events[n], 0, sizeof events[n]);
        c->err[0] = '\0';
        c->rc = rc ? rc : execute(w, c, &events[n]);
        if (is_storage_error(c->rc) && !rc)
            rc = c->rc;
    }
    double t1 = co_time_mono();
    if (!rc)
        rc = co_store_commit(w->st);
    if (rc) {
        co_log_error("msg=\"batch failed, rolled back\" commands=%zu err=\"%s\"", n,
                     co_err_str(rc));
        if (co_store_rollback(w->st))
            co_log_error("msg=\"rollback failed\"");
    }
    double t2 = co_time_mono();
    add_stats(w, n, t1 - t0, t2 - t1, 0);
    size_t i = 0;
    for (co_write_cmd *c = batch, *next; c; c = next, i++) {
        next = c->next;
        if (rc) {
            c->rc = rc;
            snprintf(c->err, sizeof c->err, "存储失败 / storage failure: %s", co_err_str(rc));
        } else if (!c->rc) {
            if (w->hooks.committed)
                w->hooks.committed(w->hooks.arg, &c->result, &events[i],
                                   c->kind == CO_WRITE_REGISTER ? c->hint : NULL);
            if (c->extra && w->hooks.announce)
                w->hooks.announce(w->hooks.arg, &c->result, c->extra);
        }
        if (c->kind == CO_WRITE_REGISTER && !c->ev.data && !c->ev.data_text) {
            c->ev = events[i]; /* execute took it: back to its owner, who frees it */
            memset(&events[i], 0, sizeof events[i]); /* on its own thread (and arena) */
        } else { /* (a batch that failed before this command kept it in the command) */
            co_event_clear(&events[i]);
        }
        c->next = NULL;
        c->done(c);
    }
    add_stats(w, 0, 0, 0, co_time_mono() - t2);
}

static void *writer_main(void *arg)
{
    co_writer *w = arg;
    pthread_setname_np(pthread_self(), "co-writer");
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head && w->stopping)
            break;
        /* take up to MAX_BATCH commands */
        co_write_cmd *batch = w->head, *last = w->head;
        size_t n = 1;
        while (last->next && n < MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->busy = 1;
        pthread_mutex_unlock(&w->lock);
        run_batch(w, batch);
        pthread_mutex_lock(&w->lock);
        w->busy = 0;
        if (!w->head)
            pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

co_err co_writer_start(co_store *st, const co_writer_hooks *hooks, co_writer **out)
{
    co_writer *w = co_xcalloc(1, sizeof *w);
    w->st = st;
    w->hooks = *hooks;
    w->num_day = w->prev_day = -1;
    int64_t max_id = 0, max_seq = 0;
    co_err rc = co_store_case_max_id(st, &max_id, &max_seq);
    if (rc) {
        co_free(w);
        return rc;
    }
    w->next_id = max_id + 1;
    w->shared = co_store_shared(st);
    w->nb[0].day = w->nb[1].day = -1;
    w->id_end = w->shared ? max_id : INT64_MAX;
    pthread_mutex_init(&w->lock, NULL);
    pthread_mutex_init(&w->idlock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->idle, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        co_free(w);
        return CO_EIO;
    }
    *out = w;
    return CO_OK;
}

void co_writer_stop(co_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_mutex_destroy(&w->idlock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    co_free(w);
}

void co_writer_drain(co_writer *w)
{
    pthread_mutex_lock(&w->lock);
    while (w->head || w->busy)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

co_err co_writer_prepare_register(co_writer *w, const co_case *draft, const co_wf_actor *who,
                                  int64_t now, co_write_cmd *cmd)
{
    co_case c = *draft;
    pthread_mutex_lock(&w->idlock);
    co_err rc = next_number(w, now, c.number);
    if (!rc && w->shared)
        rc = shared_id(w, &c.id);
    else if (!rc)
        c.id = w->next_id++;
    pthread_mutex_unlock(&w->idlock);
    if (rc)
        return rc;
    cmd->kind = CO_WRITE_REGISTER;
    cmd->now = now;
    if ((rc = co_wf_register(w->hooks.env, &c, who, now, &cmd->ev, &cmd->draft)))
        return rc;
    /* the event's data is {"case":<document>} as text: the document is the
     * case row's copy of it */
    const char *t = cmd->ev.data_text;
    size_t n = t ? strlen(t) : 0;
    if (n < 10 || memcmp(t, "{\"case\":", 8) != 0 || t[n - 1] != '}') {
        co_writer_cmd_clear(cmd);
        return CO_EINTERNAL;
    }
    cmd->doc = co_xmalloc(n - 8);
    memcpy(cmd->doc, t + 8, n - 9);
    cmd->doc[n - 9] = '\0';
    if (w->hooks.prepare)
        cmd->extra = w->hooks.prepare(w->hooks.arg, &cmd->draft);
    return CO_OK;
}

void co_writer_cmd_clear(co_write_cmd *cmd)
{
    co_event_clear(&cmd->ev);
    co_free(cmd->doc);
    cmd->doc = NULL;
    free(cmd->extra);
    cmd->extra = NULL;
}

void co_writer_submit(co_writer *w, co_write_cmd *cmd)
{
    cmd->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = cmd;
    else
        w->head = cmd;
    w->tail = cmd;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

typedef struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
} waiter;

static void wake_waiter(co_write_cmd *cmd)
{
    waiter *wt = cmd->arg;
    pthread_mutex_lock(&wt->lock);
    wt->done = 1;
    pthread_cond_signal(&wt->cond);
    pthread_mutex_unlock(&wt->lock);
}

co_err co_writer_run(co_writer *w, co_write_cmd *cmd)
{
    waiter wt = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    cmd->done = wake_waiter;
    cmd->arg = &wt;
    co_writer_submit(w, cmd);
    pthread_mutex_lock(&wt.lock);
    while (!wt.done)
        pthread_cond_wait(&wt.cond, &wt.lock);
    pthread_mutex_unlock(&wt.lock);
    return cmd->rc;
}

void co_writer_get_stats(co_writer *w, co_writer_stats *out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    out->queued = 0;
    for (const co_write_cmd *c = w->head; c; c = c->next)
        out->queued++;
    pthread_mutex_unlock(&w->lock);
}
