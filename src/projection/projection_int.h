/* projection_int.h — the projection's internals, shared only by the files of
 * src/projection/ (projection.c, stats.c, evaluation.c). Nothing outside that
 * folder may include it.
 *
 * Layout: rows live in fixed-size chunks of CO_PROJ_CHUNK rows; inside a
 * chunk every column is its own array (struct of arrays), so a scan touches
 * only the columns it needs. Chunks never move once allocated; the array of
 * chunk pointers may (writer only, under the write lock).
 *
 * Locking: one writer-preferring pthread rwlock. The writer holds it for
 * writing during one apply (a few hundred ns). Readers take it for reading
 * per chunk (co_proj_scan), so a writer never waits longer than one chunk's
 * scan (~20 µs). A query therefore sees every row in a valid state but not
 * a snapshot across chunks (a case updated mid-query is counted once, in its
 * old or new state).
 *
 * Times are u32 seconds since 2020-01-01T00:00+08:00 (CO_PROJ_EPOCH); 0 means
 * "not set". That epoch is a Shanghai midnight, so day = t / 86400 is the
 * Asia/Shanghai calendar day. */
#ifndef CO_PROJECTION_INT_H
#define CO_PROJECTION_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "projection/projection.h"

#define CO_PROJ_EPOCH 1577808000LL /* 2020-01-01T00:00:00+08:00 */
#define CO_PROJ_CHUNK 16384
#define CO_PROJ_NONE16 0           /* interned id 0 = none / empty */
#define CO_PROJ_MAX_IDS 65535

/* Post attribution slots (who did which step), interned user ids. */
typedef enum co_proj_slot {
    CO_SLOT_REPORTER = 0, /* c->reporter: registered it (operator or inspector) */
    CO_SLOT_VREQ,         /* verify_request: sent it for verification (受理员 发核实) */
    CO_SLOT_VERIFIER,     /* verify (监督员 核实) */
    CO_SLOT_FILER,        /* file (值班长 立案), first */
    CO_SLOT_DISPATCHER,   /* dispatch (派遣员), first */
    CO_SLOT_CREQ,         /* request_check (受理员 发核查) */
    CO_SLOT_CHECKER,      /* check_pass / check_fail (监督员 核查) */
    CO_SLOT_CLOSER,       /* close (值班长 结案) */
    CO_SLOT_COUNT
} co_proj_slot;

/* Status byte (sb): everything count-like a dashboard needs, in one byte. */
#define CO_SB_STATE 0x0fu       /* co_state */
#define CO_SB_ONTIME 0x10u      /* closed on time */
#define CO_SB_LATE 0x20u        /* ever overdue (EVER_OVERDUE or HANDLED_LATE) */
#define CO_SB_VISIT_SHIFT 6     /* 0 not visited, 1 satisfied, 2 basic, 3 other */
#define CO_SB_VISIT(sb) ((unsigned)(sb) >> CO_SB_VISIT_SHIFT)

/* Projection flags (pflags): steps a case went through, derived from events
 * and, where possible, inferred from the case itself (sticky). */
enum {
    CO_PF_FILED = 1 << 0,      /* 立案 happened */
    CO_PF_VERIFY = 1 << 1,     /* a 核实 happened */
    CO_PF_CHECK = 1 << 2,      /* a 核查 happened */
    CO_PF_VREQ = 1 << 3,       /* 发核实 happened */
    CO_PF_VREQ_LATE = 1 << 4,  /* ... after the intake step deadline */
    CO_PF_CREQ = 1 << 5,       /* 发核查 happened */
    CO_PF_CREQ_LATE = 1 << 6,  /* ... after the request-check step deadline */
    CO_PF_CLOSE_LATE = 1 << 7, /* 结案 after the close step deadline */
};

typedef struct co_proj_chunk {
    uint32_t n;          /* rows in use */
    uint32_t tmin, tmax; /* zone map of created */
    uint32_t nstate[16]; /* rows per co_state (lets scans skip chunks) */
    uint64_t open_bits[CO_PROJ_CHUNK / 64]; /* rows in an open state (1 bit per row) */
    uint32_t created[CO_PROJ_CHUNK];
    uint32_t dispatched[CO_PROJ_CHUNK];
    uint32_t due[CO_PROJ_CHUNK];       /* disposal deadline */
    uint32_t handled[CO_PROJ_CHUNK];
    uint32_t closed[CO_PROJ_CHUNK];
    uint32_t step_due[CO_PROJ_CHUNK];  /* last known step deadline (for request lateness) */
    uint32_t flags[CO_PROJ_CHUNK];     /* co_case.flags */
    uint32_t efacts[CO_PROJ_CHUNK];    /* evaluation counters the row adds to while not overdue */
    uint32_t hpos[CO_PROJ_CHUNK];      /* slot + 1 in the deadline heap, 0 = not in it */
    int32_t area[CO_PROJ_CHUNK];       /* finest known area index, -1 none, -2 unknown codes */
    uint16_t lvl[3][CO_PROJ_CHUNK];    /* district/street/community ordinal + 1, 0 none */
    uint16_t cat[CO_PROJ_CHUNK];       /* interned category */
    uint16_t dept[CO_PROJ_CHUNK];      /* interned department in charge */
    uint16_t first_dept[CO_PROJ_CHUNK];
    uint16_t slot[CO_SLOT_COUNT][CO_PROJ_CHUNK];
    uint8_t sb[CO_PROJ_CHUNK];
    uint8_t channel[CO_PROJ_CHUNK];
    uint8_t severity[CO_PROJ_CHUNK];
    uint8_t reqtype[CO_PROJ_CHUNK];
    uint8_t rework[CO_PROJ_CHUNK];     /* saturates at 255 */
    uint8_t dispatches[CO_PROJ_CHUNK];
    uint8_t close_type[CO_PROJ_CHUNK];
    uint8_t pflags[CO_PROJ_CHUNK];
} co_proj_chunk;

/* Bytes of column data per row (the struct minus its header). */
#define CO_PROJ_ROW_BYTES ((sizeof(co_proj_chunk) - offsetof(co_proj_chunk, created)) / CO_PROJ_CHUNK)

/* A string ↔ u16 id table; id 0 is the empty string. Writer mutates under
 * the write lock; readers look up under the read lock. */
typedef struct co_proj_intern {
    char **str;        /* id → string (str[0] = "") */
    size_t n, cap;
    uint16_t *slots;   /* open addressing, 0 = empty */
    size_t nslots;
} co_proj_intern;

/* An entry of the deadline heap (dueheap.c). */
typedef struct co_proj_due {
    uint32_t due, row;
} co_proj_due;

struct co_projection {
    pthread_rwlock_t lock;
    const co_areas *areas;
    size_t nareas;
    /* area index → ordinal+1 within its level; level ordinal → area index */
    uint16_t *area_ord;
    uint8_t *area_level;  /* area index → co_level */
    uint16_t (*area_up)[3];      /* area index → ancestor ordinals (district/street/community) */
    char (*area_code)[CO_AREA_CODE_MAX]; /* area index → code (compact, for the hash) */
    int32_t *ord_area[3];
    size_t nord[3];
    /* area code → index hash */
    int32_t *area_hash;
    size_t area_hash_n;
    /* rows */
    co_proj_chunk **chunks;
    size_t nchunks, chunks_cap;
    uint64_t nrows;
    uint32_t *id_row;  /* case id → row + 1 (0 = absent) */
    size_t id_cap;
    /* interned values */
    co_proj_intern depts, users;
    uint16_t *cat_id;  /* co_category → interned id (size CO_PROJ_CAT_SPACE) */
    uint16_t *id_cat;  /* interned id → co_category */
    size_t ncat;
    /* display names */
    co_projection_names names;
    int has_names;
    /* running deadlines (dueheap.c) */
    struct {
        co_proj_due *e;
        size_t n, cap;
    } dueq;
};

#define CO_PROJ_CAT_SPACE 30000

/* The deadline heap (dueheap.c): rows whose disposal clock runs.
 * Puts row in the heap with deadline due, moves it, or (due 0) removes it.
 * Writer only, under the write lock. */
void co_proj_dueheap_set(co_projection *p, uint32_t row, uint32_t due);
/* The rows whose deadline is before now, in no particular order, as a new
 * array (*rows_out, caller frees with co_free; NULL when none). Caller
 * holds the read lock. */
size_t co_proj_dueheap_before(const co_projection *p, uint32_t now, uint32_t **rows_out);
size_t co_proj_dueheap_size(const co_projection *p);
void co_proj_dueheap_free(co_projection *p);

/* The case-level evaluation counters (co_eval_counter bits < 32) row r adds
 * to at time `now` (evaluation.c). The projection caches the value for
 * now = 0 (not overdue) in efacts on every change of the row. */
uint32_t co_proj_eval_facts(const co_proj_chunk *ch, uint32_t r, uint32_t now);

/* Time conversions. */
uint32_t co_proj_time(int64_t unix_s);   /* 0 for 0; clamps into [1, UINT32_MAX] */
int64_t co_proj_unix(uint32_t t);

/* Calls fn for every chunk whose zone map meets [from, to) (to = 0 for no
 * upper bound), holding the read lock for that chunk only. inside is 1 when
 * every row of the chunk has created in [from, to). fn returns non-zero to
 * stop. Chunks are visited in order first..nchunks-1 step `stride`, so k
 * threads can share a scan with first = 0..k-1, stride = k. */
typedef int (*co_proj_chunk_fn)(void *ctx, const co_proj_chunk *ch, uint32_t n, int inside);
void co_proj_scan(co_projection *p, uint32_t from, uint32_t to, size_t first, size_t stride,
                  co_proj_chunk_fn fn, void *ctx);

/* Runs scan work on k threads (1 or 2 ...): worker(i, ctx[i]) each; the
 * caller merges. k == 1 runs inline. */
typedef void (*co_proj_worker_fn)(size_t i, void *ctx);
void co_proj_parallel(size_t k, co_proj_worker_fn fn, void *ctxs, size_t ctx_size);

/* Look-ups by code under the read lock (the caller holds it via
 * co_proj_rdlock). -1 when unknown. */
void co_proj_rdlock(co_projection *p);
void co_proj_unlock(co_projection *p);
int co_proj_intern_find(const co_proj_intern *t, const char *s);
const char *co_proj_intern_str(const co_proj_intern *t, unsigned id);

#endif
