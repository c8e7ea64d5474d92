/* projection.h — the in-memory columnar projection of every case: the data
 * behind every dashboard number, heat map and evaluation.
 *
 * Data flow: at start-up the server feeds every stored case once
 * (co_projection_apply with ev NULL), then replays the event log through
 * co_projection_attribute (who did which step); after each commit the single
 * writer thread calls co_projection_apply with the event and the case as it
 * is right after it. A row is 72 bytes (plus 4 for the id map); see
 * docs/internals/projection.md for the columns.
 *
 * Threads: exactly one thread may call the mutating functions (apply,
 * attribute, set_names) at a time; any number of threads may run stats and
 * evaluation queries concurrently with it (a writer-preferring rwlock taken
 * per chunk of rows; see projection_int.h).
 *
 * Ownership: the projection borrows `areas` (it must outlive the projection;
 * rebuild the projection when the area hierarchy is replaced) and copies
 * everything it keeps from cases and events. co_projection_free frees all. */
#ifndef CO_PROJECTION_H
#define CO_PROJECTION_H

#include <stddef.h>
#include <stdint.h>

#include "domain/case.h"
#include "geo/area.h"
#include "lib/err.h"

typedef struct co_projection co_projection;

/* Display names the application supplies (department and taxonomy names,
 * users' display names). Each callback writes a NUL-terminated name into out
 * (n bytes) and returns 1, or returns 0 when it does not know the code (the
 * code itself is then used). Any callback may be NULL. Called from reader
 * threads while a query runs, so they must be thread-safe and must not call
 * back into the projection. */
typedef struct co_projection_names {
    void *ctx;
    int (*dept)(void *ctx, const char *code, char *out, size_t n);
    int (*category)(void *ctx, co_category cat, char *out, size_t n);
    int (*user)(void *ctx, const char *username, char *out, size_t n);
} co_projection_names;

/* Creates an empty projection over the area hierarchy (areas may be NULL:
 * then no case has an area). CO_ETOOBIG when a level has more than 65,534
 * areas. */
co_err co_projection_new(const co_areas *areas, co_projection **out) CO_MUST_CHECK;
void co_projection_free(co_projection *p);

/* Copies *names (the struct, not what ctx points to). Call before serving. */
void co_projection_set_names(co_projection *p, const co_projection_names *names);

/* Inserts the case (new id) or updates its row. ev, when not NULL, is the
 * event that produced c: it records who did the step (verify_request,
 * verify, file, dispatch, request_check, check_pass/check_fail, close) and
 * the request steps' lateness. Events of one case must arrive in order.
 * CO_EINVAL for id <= 0, CO_ETOOBIG for id > 2^31 or more than 65,534
 * distinct departments or users (their rows still go in, under id "none"). */
co_err co_projection_apply(co_projection *p, const co_case *c, const co_event *ev) CO_MUST_CHECK;

/* Attribution only, for a start-up replay of stored events after the cases
 * were loaded with ev NULL: applies what ev says about who did which step.
 * Events of a case must come in order, starting with its "register".
 * CO_ENOTFOUND when the case is not in the projection. */
co_err co_projection_attribute(co_projection *p, const co_event *ev) CO_MUST_CHECK;

/* Narrowing a case list (caseids.c): the ids, newest first and below
 * before (0 = from the newest), of the cases that may match. Every filter is
 * optional; the set may hold more than the matches (a case whose area the
 * hierarchy does not know is in it for any area), never fewer, so the store
 * must check each filter again. */
typedef struct co_projection_idq {
    const char *area;       /* area code prefix, NULL = any */
    const char *dept;       /* department in charge or first department, NULL = any */
    unsigned states;        /* mask of (1u << co_state), 0 = any */
    int64_t from, to;       /* created in [from, to) (Unix s), 0 = open-ended */
    int64_t before;
} co_projection_idq;

/* Writes at most max ids into ids and returns how many; *next is the
 * `before` to continue with, 0 when no older case is left. */
size_t co_projection_case_ids(co_projection *p, const co_projection_idq *q, int64_t *ids,
                              size_t max, int64_t *next);

typedef struct co_projection_info {
    uint64_t rows;
    size_t row_bytes;      /* column bytes per row */
    size_t bytes;          /* everything allocated for rows, ids and tables */
    size_t chunks;
    size_t depts, users, categories;
    int64_t tmin, tmax;    /* created range (Unix s), 0 when empty */
} co_projection_info;

void co_projection_get_info(co_projection *p, co_projection_info *out);
const co_areas *co_projection_areas(const co_projection *p);

#endif
