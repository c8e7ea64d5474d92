/* pg_follow.c — what lets several cityops nodes share one PostgreSQL
 * database besides the event log itself (pg_cases.c reads the changes):
 *
 *  - notifications: a statement trigger on events (migration 4) sends
 *    NOTIFY cityops_events with every committing transaction that appended
 *    events; co_pg_wait_events LISTENs on the calling thread's connection
 *    and waits for one;
 *  - counters: blocks of case ids and daily case numbers reserved from the
 *    counters table in one committed upsert, so nodes never hand out the
 *    same id or number.
 *
 * Nothing here allocates anything the caller must free. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "store/pg_int.h"

/* The connection (and the server process behind it) this thread LISTENs
 * on: a reset connection is a new server process that must LISTEN again. */
static _Thread_local PGconn *listen_db;
static _Thread_local int listen_pid;

static int drain_notifies(PGconn *db)
{
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(db))) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

co_err co_pg_wait_events(void *impl, int timeout_ms, int *notified)
{
    *notified = 0;
    PGconn *db = co_pg_conn(impl);
    if (!db)
        return CO_EDB;
    if (db != listen_db || PQbackendPID(db) != listen_pid) {
        co_err rc = co_pg_exec(impl, "LISTEN cityops_events");
        if (rc)
            return rc;
        listen_db = db;
        listen_pid = PQbackendPID(db);
        *notified = 1; /* commits before the LISTEN were not announced to us */
        return CO_OK;
    }
    if (!PQconsumeInput(db))
        return CO_EDB;
    if ((*notified = drain_notifies(db)))
        return CO_OK;
    struct pollfd pfd = {PQsocket(db), POLLIN, 0};
    if (pfd.fd < 0)
        return CO_EDB;
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0)
        return CO_OK; /* interrupted: the caller catches up anyway */
    if (n > 0 && !PQconsumeInput(db))
        return CO_EDB;
    *notified = drain_notifies(db);
    return CO_OK;
}

co_err co_pg_reserve(void *impl, const char *counter, int64_t floor, int64_t block,
                     int64_t *last)
{
    co_pg_params p = {0};
    co_pg_text(&p, counter);
    co_pg_int(&p, floor);
    co_pg_int(&p, block);
    int64_t n = 0, v = 0;
    /* one statement, committed on its own: concurrent reservations queue on
     * the counter's row and each gets a block of its own */
    co_err rc = co_pg_run(impl,
                          "INSERT INTO counters(name,n) VALUES($1,$2::bigint+$3::bigint)"
                          " ON CONFLICT(name) DO UPDATE SET"
                          " n=GREATEST(counters.n,$2::bigint)+$3::bigint RETURNING n",
                          &p, co_pg_first_i64, &v, &n);
    if (!rc && n != 1)
        rc = CO_EDB;
    if (!rc)
        *last = v;
    return rc;
}
