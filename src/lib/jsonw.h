/* jsonw.h — writing JSON text straight into a co_buf, for the few documents
 * written on every intake (the case, its duplicate candidates), where
 * building a jansson tree only to print it cost more than the rest.
 *
 * Output is byte for byte what jansson's json_dumps(JSON_COMPACT) prints for
 * the same values (strings escaped the same way, reals as "%.17g" with ".0"
 * added), so a document may come from either; test_jsonw.c checks it.
 * Every call appends to the buffer and returns CO_ETOOBIG when its hard
 * limit is reached, or CO_EINVAL for a string that is not UTF-8 (nothing
 * of that string is written). The caller owns the buffer. */
#ifndef CO_JSONW_H
#define CO_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* A string value: "…" with the escapes JSON needs. NULL writes "". */
co_err co_jsonw_str(co_buf *b, const char *s) CO_MUST_CHECK;
/* A key and its colon: "key": (keys are written as given: plain ASCII). A
 * comma goes first unless first is set. */
co_err co_jsonw_key(co_buf *b, const char *key, int first) CO_MUST_CHECK;
co_err co_jsonw_int(co_buf *b, int64_t v) CO_MUST_CHECK;
/* A real as jansson prints it (17 significant digits); not finite: null. */
co_err co_jsonw_real(co_buf *b, double v) CO_MUST_CHECK;
/* Length of the valid UTF-8 sequence at s (1–4), 0 when there is none: a
 * stray or truncated byte, an overlong form, a surrogate, past U+10FFFF
 * (what jansson refuses). Never reads past a NUL. */
size_t co_jsonw_utf8_seq(const unsigned char *s);
/* 1 when s is valid UTF-8 that jansson would accept in a string. */
int co_jsonw_utf8_ok(const char *s);

#endif
