/* strparse.h — bounded number parsing that replaces atoi/strtol/sscanf.
 * Each function parses the whole string (no trailing garbage) and checks the
 * range; on failure *out is untouched and CO_EINVAL is returned. */
#ifndef CO_STRPARSE_H
#define CO_STRPARSE_H
#include <stdint.h>

#include "err.h"

co_err co_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) CO_MUST_CHECK;
/* Finite doubles only (rejects NaN, inf, hex floats, empty). */
co_err co_parse_double(const char *s, double min, double max, double *out) CO_MUST_CHECK;
/* True when s is exactly n ASCII digits. */
int co_is_digits(const char *s, unsigned n);

#endif
