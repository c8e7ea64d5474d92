/* dept.h — the departments (专业部门, 街道办事处 …) in memory, each with its
 * working-hours calendar. Immutable once loaded; shared by all threads.
 * Department calendars share the holiday table of the base calendar's
 * built-in days plus admin overrides applied by the caller. */
#ifndef CO_DOMAIN_DEPT_H
#define CO_DOMAIN_DEPT_H

#include <stddef.h>

#include "calendar/calendar.h"
#include "lib/err.h"
#include "store/store.h"

typedef struct co_dept {
    char code[32];
    char name[128];
    char type[32];
    char area[16];          /* area covered, "" = whole city */
    char hours[CO_CALENDAR_HOURS_TEXT_MAX];
    co_calendar *cal;       /* owned by the registry */
} co_dept;

typedef struct co_depts co_depts;

/* Loads departments from the store. day_overrides: admin calendar days to
 * apply to every calendar (may be NULL). */
co_err co_depts_load(co_store *st, co_depts **out) CO_MUST_CHECK;
void co_depts_free(co_depts *d);
size_t co_depts_count(const co_depts *d);
const co_dept *co_depts_at(const co_depts *d, size_t i);
const co_dept *co_depts_find(const co_depts *d, const char *code);
/* The default calendar (default hours). */
const co_calendar *co_depts_default_calendar(const co_depts *d);
/* The calendar of a department, the default one for unknown codes. */
const co_calendar *co_depts_calendar(const co_depts *d, const char *code);
/* Applies a day override to every calendar (admin edits). */
co_err co_depts_set_day(co_depts *d, int64_t days, co_calendar_day_kind kind, const char *name)
    CO_MUST_CHECK;

#endif
