/* calendar_int.h — internals shared by the calendar .c files only.
 * The calendar keeps its overrides twice: a sorted vector (dates, kinds and
 * names; the truth, used for listing) and an O(1) index of kinds in chunks of
 * 512 days, allocated on first use, for is_workday. Both are owned by the
 * calendar and freed by co_calendar_free. Never include outside calendar/. */
#ifndef CO_CALENDAR_INT_H
#define CO_CALENDAR_INT_H
#include <stdint.h>

#include "calendar/calendar.h"

#define DAY_SECS INT64_C(86400)
#define CHUNK_BITS 9
#define CHUNK_DAYS (1 << CHUNK_BITS)
/* Enough chunks for every date from 1970-01-01 up to the end of YEAR_MAX. */
#define N_CHUNKS (((CO_CALENDAR_YEAR_MAX + 1 - 1970) * 366) / CHUNK_DAYS + 1)
/* The longest stretch of dates a deadline may scan (100 years). */
#define MAX_SCAN_DAYS (366 * 100)

typedef struct override {
    int64_t days;
    uint8_t kind;         /* co_calendar_day_kind, never NONE */
    const char *name_zh;  /* static (built in) or == owned */
    const char *name_en;  /* static; "" for admin-set days */
    char *owned;          /* admin-set name, freed with the override */
} override;

struct co_calendar {
    co_calendar_hours hours;
    int64_t span_secs[CO_CALENDAR_MAX_SPANS][2];  /* hours in seconds */
    int64_t day_secs;                             /* sum of spans */
    uint8_t *chunk[N_CHUNKS];                     /* kinds per date, or NULL */
    override *ov;                                 /* sorted by days */
    size_t n_ov, cap_ov;
};

/* Checks spans are sorted, non-overlapping and inside one day. */
co_err co_calendar_hours_check(const co_calendar_hours *h) CO_MUST_CHECK;

#endif
