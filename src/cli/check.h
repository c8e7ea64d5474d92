/* check.h — the store's consistency check behind `cityops check --data DIR`:
 * the back-end's own check (co_store_integrity), then what holds above any
 * back-end because the event log is the truth — every case row (its JSON
 * document and its indexed columns) equals the replay of its events with
 * co_wf_apply, event sequence numbers run 1, 2, 3 … without gaps, every event
 * belongs to a stored case, and case numbers are unique.
 * Problems are handed to a callback one by one as text (zh-CN / English,
 * valid during the call); nothing returned needs freeing. Run it on a store
 * no server is writing to: a live writer can make a pass see a moment the
 * next one does not. */
#ifndef CO_CLI_CHECK_H
#define CO_CLI_CHECK_H

#include <stdint.h>

#include "store/store.h"

typedef struct co_check_report {
    int64_t cases;      /* case rows read */
    int64_t events;     /* events read */
    int64_t max_seq;    /* highest event sequence */
    int64_t problems;   /* problems found (each passed to the callback) */
} co_check_report;

typedef void (*co_check_problem_cb)(void *ctx, const char *problem);

/* Runs every check on st; cb (may be NULL) receives each problem. Returns
 * CO_OK when the checks ran (out->problems says what they found), or the
 * storage error that stopped them. */
co_err co_check_store(co_store *st, co_check_problem_cb cb, void *ctx, co_check_report *out)
    CO_MUST_CHECK;

#endif
