/* caseids.c — the case ids a list filtered by area or department can hold.
 *
 * The SQLite store has no index on a case's area or department (each cost a
 * random page write per case at intake), so a list filtered by them asks the
 * projection for candidates first, newest first, and the store reads and
 * checks only those rows (co_case_query.ids). A candidate set is always a
 * superset of the matches: a case whose area codes the hierarchy does not
 * know, or knows only above the finest one, is a candidate for every area
 * that may hold it, and the store applies every filter again.
 *
 * Locking: the read lock is taken per block of ids, so the writer waits at
 * most one block. Ownership: the caller owns ids; nothing is kept. */
#include <string.h>

#include "lib/alloc.h"
#include "projection/projection_int.h"

#define IDS_BLOCK 8192 /* ids examined per read-lock hold */

/* match[i] = 1 when area i may hold cases under code: it lies under it, or
 * above it (a case located only that far may still carry a finer code). */
static uint8_t *area_matches(const co_projection *p, const char *code)
{
    size_t len = strlen(code);
    uint8_t *m = co_xcalloc(p->nareas ? p->nareas : 1, 1);
    for (size_t i = 0; i < p->nareas; i++) {
        const char *a = p->area_code[i];
        size_t alen = strnlen(a, CO_AREA_CODE_MAX);
        m[i] = !strncmp(a, code, alen < len ? alen : len);
    }
    return m;
}

typedef struct idfilter {
    const uint8_t *area; /* NULL = any */
    int dept;            /* interned id, -1 = any, -2 = none can match */
    unsigned states;
    uint32_t from, to;   /* projection times, 0 = open */
} idfilter;

static int row_matches(const idfilter *f, const co_proj_chunk *ch, uint32_t r)
{
    if (f->area) {
        int32_t a = ch->area[r]; /* -1: no area at all; -2: codes nobody knows */
        if (a == -1 || (a >= 0 && !f->area[a]))
            return 0;
    }
    if (f->dept >= 0 && ch->dept[r] != f->dept && ch->first_dept[r] != f->dept)
        return 0;
    if (f->states && !(f->states & (1u << (ch->sb[r] & CO_SB_STATE))))
        return 0;
    if (f->from && ch->created[r] < f->from)
        return 0;
    if (f->to && ch->created[r] >= f->to)
        return 0;
    return 1;
}

size_t co_projection_case_ids(co_projection *p, const co_projection_idq *q, int64_t *ids,
                              size_t max, int64_t *next)
{
    idfilter f = {NULL, -1, q->states, q->from ? co_proj_time(q->from) : 0,
                  q->to ? co_proj_time(q->to) : 0};
    uint8_t *area = q->area && *q->area ? area_matches(p, q->area) : NULL;
    f.area = area;
    size_t n = 0;
    int64_t id = q->before > 0 ? q->before - 1 : INT64_MAX;
    while (id >= 1 && n < max) {
        co_proj_rdlock(p);
        if (q->dept && f.dept == -1) { /* interned ids only grow: look up once */
            int d = co_proj_intern_find(&p->depts, q->dept);
            f.dept = d >= 0 ? d : -2;
        }
        if (f.dept == -2 || p->id_cap == 0) {
            co_proj_unlock(p);
            id = 0;
            break;
        }
        if ((uint64_t)id >= p->id_cap)
            id = (int64_t)p->id_cap - 1;
        for (int k = 0; k < IDS_BLOCK && id >= 1 && n < max; k++, id--) {
            uint32_t row = p->id_row[id];
            if (!row)
                continue;
            row--;
            const co_proj_chunk *ch = p->chunks[row / CO_PROJ_CHUNK];
            if (row_matches(&f, ch, row % CO_PROJ_CHUNK))
                ids[n++] = id;
        }
        co_proj_unlock(p);
    }
    *next = id >= 1 ? id + 1 : 0;
    co_free(area);
    return n;
}
