/* dueheap.c — the projection's index of running deadlines: a binary min-heap
 * of (disposal deadline, row) over the rows whose clock runs (dispatched or
 * handling, with a deadline). "Overdue now" is then the part of the heap
 * below `now`, found by a depth-first walk that stops at every entry not
 * overdue — O(overdue) instead of a scan of every open row (the same job a
 * partial index on open cases does in a SQL database).
 *
 * Each row remembers its heap slot (chunk column hpos, slot + 1, 0 = not in
 * the heap) so that a state change moves or removes it in O(log n). Only the
 * writer changes the heap, under the projection's write lock; readers walk it
 * under the read lock. The heap owns its entry array (freed by
 * co_proj_dueheap_free). */
#include <string.h>

#include "lib/alloc.h"
#include "projection/projection_int.h"

static uint32_t *hpos_of(co_projection *p, uint32_t row)
{
    co_proj_chunk *ch = p->chunks[row / CO_PROJ_CHUNK];
    return &ch->hpos[row % CO_PROJ_CHUNK];
}

static void place(co_projection *p, size_t i, co_proj_due e)
{
    p->dueq.e[i] = e;
    *hpos_of(p, e.row) = (uint32_t)i + 1;
}

static void sift_up(co_projection *p, size_t i)
{
    co_proj_due e = p->dueq.e[i];
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (p->dueq.e[up].due <= e.due)
            break;
        place(p, i, p->dueq.e[up]);
        i = up;
    }
    place(p, i, e);
}

static void sift_down(co_projection *p, size_t i)
{
    co_proj_due e = p->dueq.e[i];
    size_t n = p->dueq.n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && p->dueq.e[c + 1].due < p->dueq.e[c].due)
            c++;
        if (e.due <= p->dueq.e[c].due)
            break;
        place(p, i, p->dueq.e[c]);
        i = c;
    }
    place(p, i, e);
}

static void remove_at(co_projection *p, size_t i)
{
    co_proj_due gone = p->dueq.e[i];
    *hpos_of(p, gone.row) = 0;
    size_t last = --p->dueq.n;
    if (i == last)
        return;
    p->dueq.e[i] = p->dueq.e[last];
    *hpos_of(p, p->dueq.e[i].row) = (uint32_t)i + 1;
    if (i > 0 && p->dueq.e[(i - 1) / 2].due > p->dueq.e[i].due)
        sift_up(p, i);
    else
        sift_down(p, i);
}

void co_proj_dueheap_set(co_projection *p, uint32_t row, uint32_t due)
{
    uint32_t pos = *hpos_of(p, row);
    if (!due) {
        if (pos)
            remove_at(p, pos - 1);
        return;
    }
    if (pos) {
        size_t i = pos - 1;
        uint32_t old = p->dueq.e[i].due;
        p->dueq.e[i].due = due;
        if (due < old)
            sift_up(p, i);
        else if (due > old)
            sift_down(p, i);
        return;
    }
    p->dueq.e = co_xgrow(p->dueq.e, &p->dueq.cap, p->dueq.n + 1, sizeof *p->dueq.e);
    size_t i = p->dueq.n++;
    p->dueq.e[i] = (co_proj_due){due, row};
    sift_up(p, i);
}

size_t co_proj_dueheap_before(const co_projection *p, uint32_t now, uint32_t **rows_out)
{
    const co_proj_due *e = p->dueq.e;
    size_t n = p->dueq.n, k = 0, cap = 0, top = 0, stack_cap = 0;
    uint32_t *rows = NULL;
    size_t *stack = NULL;
    if (n && e[0].due < now) {
        stack = co_xgrow(stack, &stack_cap, 1, sizeof *stack);
        stack[top++] = 0;
    }
    while (top) {
        size_t i = stack[--top];
        rows = co_xgrow(rows, &cap, k + 1, sizeof *rows);
        rows[k++] = e[i].row;
        for (size_t c = 2 * i + 1; c <= 2 * i + 2 && c < n; c++)
            if (e[c].due < now) {
                stack = co_xgrow(stack, &stack_cap, top + 1, sizeof *stack);
                stack[top++] = c;
            }
    }
    co_free(stack);
    *rows_out = rows;
    return k;
}

size_t co_proj_dueheap_size(const co_projection *p)
{
    return p->dueq.n;
}

void co_proj_dueheap_free(co_projection *p)
{
    co_free(p->dueq.e);
    memset(&p->dueq, 0, sizeof p->dueq);
}
