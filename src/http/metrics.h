/* metrics.h — counters of the HTTP layer for GET /metrics (Prometheus text).
 * Process-wide, lock-free (relaxed atomics): every answered request adds to
 * a count per method × status class and to a latency histogram per method.
 * Nothing to allocate or free. */
#ifndef CO_HTTP_METRICS_H
#define CO_HTTP_METRICS_H

#include "http/req.h"
#include "lib/buf.h"

/* Records one answered request (status as sent, seconds since it arrived). */
void co_metrics_request(co_method method, int status, double seconds);
/* Appends the HTTP families in Prometheus text format. */
co_err co_metrics_render_http(co_buf *out) CO_MUST_CHECK;

#endif
