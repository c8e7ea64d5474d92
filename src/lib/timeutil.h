/* timeutil.h — wall-clock time, ISO 8601 with offsets, Asia/Shanghai.
 * Instants are int64 Unix seconds (UTC). China has used UTC+08:00 with no
 * daylight saving since 1991, so Asia/Shanghai is a fixed +8 h offset here.
 * Formatting writes into caller buffers of CO_TIME_ISO_MAX bytes. */
#ifndef CO_TIMEUTIL_H
#define CO_TIMEUTIL_H
#include <stdint.h>

#include "err.h"

#define CO_TIME_ISO_MAX 32
#define CO_TZ_SHANGHAI_SEC (8 * 3600)

int64_t co_time_now(void);          /* Unix seconds */
int64_t co_time_now_ms(void);       /* Unix milliseconds */
double co_time_mono(void);          /* monotonic seconds, for measuring */

/* "2026-11-25T08:30:00+08:00" (Asia/Shanghai). */
void co_time_format(int64_t t, char out[CO_TIME_ISO_MAX]);
/* Parses ISO 8601: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]] with Z or ±HH:MM
 * (or ±HHMM). A time without an offset is read as Asia/Shanghai. Instants
 * whose Asia/Shanghai date is outside the years 0000–9999 are refused (they
 * could not be formatted back). */
co_err co_time_parse(const char *s, int64_t *out) CO_MUST_CHECK;

/* Days since 1970-01-01 for a civil date, and back (proleptic Gregorian). */
int64_t co_days_from_civil(int y, int m, int d);
void co_civil_from_days(int64_t z, int *y, int *m, int *d);

#endif
