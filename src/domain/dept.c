/* dept.c — the department registry (see dept.h). */
#include "domain/dept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

struct co_depts {
    co_dept *v;
    size_t n, cap;
    co_calendar *def;
};

static int add(void *ctx, const co_dept_rec *r)
{
    co_depts *d = ctx;
    d->v = co_xgrow(d->v, &d->cap, d->n + 1, sizeof *d->v);
    co_dept *x = &d->v[d->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->code, sizeof x->code, "%s", r->code);
    snprintf(x->name, sizeof x->name, "%s", r->name);
    snprintf(x->type, sizeof x->type, "%s", r->type);
    snprintf(x->area, sizeof x->area, "%s", r->area ? r->area : "");
    snprintf(x->hours, sizeof x->hours, "%s", r->hours ? r->hours : "");
    return 0;
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const co_dept *)a)->code, ((const co_dept *)b)->code);
}

co_err co_depts_load(co_store *st, co_depts **out)
{
    co_depts *d = co_xcalloc(1, sizeof *d);
    co_err rc = co_store_depts_each(st, add, d);
    if (rc) {
        co_depts_free(d);
        return rc;
    }
    if (d->n) /* no departments yet: d->v is NULL, which qsort may not take */
        qsort(d->v, d->n, sizeof *d->v, by_code);
    d->def = co_calendar_new();
    for (size_t i = 0; i < d->n; i++) {
        co_calendar_hours h;
        if (!d->v[i].hours[0])
            continue;
        if (co_calendar_hours_parse(d->v[i].hours, &h)) {
            co_log_warn("msg=\"bad department hours, using default\" dept=%s", d->v[i].code);
            continue;
        }
        d->v[i].cal = co_calendar_new();
        if (co_calendar_set_hours(d->v[i].cal, &h))
            co_log_warn("msg=\"cannot set hours\" dept=%s", d->v[i].code);
    }
    *out = d;
    return CO_OK;
}

void co_depts_free(co_depts *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        co_calendar_free(d->v[i].cal);
    co_calendar_free(d->def);
    co_free(d->v);
    co_free(d);
}

size_t co_depts_count(const co_depts *d) { return d->n; }

const co_dept *co_depts_at(const co_depts *d, size_t i)
{
    return i < d->n ? &d->v[i] : NULL;
}

const co_dept *co_depts_find(const co_depts *d, const char *code)
{
    if (!code || !*code)
        return NULL;
    co_dept key;
    snprintf(key.code, sizeof key.code, "%s", code);
    return bsearch(&key, d->v, d->n, sizeof *d->v, by_code);
}

const co_calendar *co_depts_default_calendar(const co_depts *d) { return d->def; }

const co_calendar *co_depts_calendar(const co_depts *d, const char *code)
{
    const co_dept *x = co_depts_find(d, code);
    return x && x->cal ? x->cal : d->def;
}

co_err co_depts_set_day(co_depts *d, int64_t days, co_calendar_day_kind kind, const char *name)
{
    co_err rc = co_calendar_set_day(d->def, days, kind, name);
    for (size_t i = 0; !rc && i < d->n; i++)
        if (d->v[i].cal)
            rc = co_calendar_set_day(d->v[i].cal, days, kind, name);
    return rc;
}
