/* metrics.c — HTTP request counters and latency histograms (see metrics.h).
 * Methods are counted in 8 slots (the 7 of co_method and "other"); status in
 * 5 classes (1xx..5xx); latency in CO_METRICS_NBUCKETS cumulative-on-render
 * buckets. All counters are relaxed atomics: a scrape may see one request in
 * the count and not yet in the histogram, which Prometheus tolerates. */
#include <stdatomic.h>
#include <stdint.h>

#include "http/metrics.h"
#include "http/router.h"

#define NMETHODS 8
#define NCLASSES 5

static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof bucket_le / sizeof bucket_le[0])

static _Atomic uint64_t requests[NMETHODS][NCLASSES];
static _Atomic uint64_t buckets[NMETHODS][NBUCKETS + 1]; /* last = above every bound */
static _Atomic uint64_t micros[NMETHODS];                /* sum of latencies, µs */

static int method_slot(co_method m)
{
    for (int i = 0; i < NMETHODS - 1; i++)
        if (m == (co_method)(1u << i))
            return i;
    return NMETHODS - 1;
}

static const char *slot_name(int i)
{
    return i < NMETHODS - 1 ? co_method_name((co_method)(1u << i)) : "other";
}

void co_metrics_request(co_method method, int status, double seconds)
{
    int m = method_slot(method);
    int c = status >= 100 && status < 600 ? status / 100 - 1 : NCLASSES - 1;
    size_t b = 0;
    while (b < NBUCKETS && seconds > bucket_le[b])
        b++;
    atomic_fetch_add_explicit(&requests[m][c], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&buckets[m][b], 1, memory_order_relaxed);
    uint64_t us = seconds > 0 ? (uint64_t)(seconds * 1e6) : 0;
    atomic_fetch_add_explicit(&micros[m], us, memory_order_relaxed);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static co_err render_requests(co_buf *out)
{
    co_err rc = co_buf_puts(out, "# HELP cityops_http_requests_total HTTP requests answered, by "
                                 "method and status class.\n"
                                 "# TYPE cityops_http_requests_total counter\n");
    for (int m = 0; !rc && m < NMETHODS; m++)
        for (int c = 0; !rc && c < NCLASSES; c++) {
            uint64_t n = load(&requests[m][c]);
            if (n)
                rc = co_buf_printf(out, "cityops_http_requests_total{method=\"%s\",code=\"%dxx\"} "
                                        "%llu\n",
                                   slot_name(m), c + 1, (unsigned long long)n);
        }
    return rc;
}

static co_err render_histogram(co_buf *out, int m)
{
    uint64_t cum = 0;
    co_err rc = CO_OK;
    for (size_t b = 0; !rc && b <= NBUCKETS; b++) {
        cum += load(&buckets[m][b]);
        if (b < NBUCKETS)
            rc = co_buf_printf(out,
                               "cityops_http_request_duration_seconds_bucket{method=\"%s\","
                               "le=\"%g\"} %llu\n",
                               slot_name(m), bucket_le[b], (unsigned long long)cum);
        else
            rc = co_buf_printf(out,
                               "cityops_http_request_duration_seconds_bucket{method=\"%s\","
                               "le=\"+Inf\"} %llu\n"
                               "cityops_http_request_duration_seconds_sum{method=\"%s\"} %.6f\n"
                               "cityops_http_request_duration_seconds_count{method=\"%s\"} %llu\n",
                               slot_name(m), (unsigned long long)cum, slot_name(m),
                               (double)load(&micros[m]) / 1e6, slot_name(m),
                               (unsigned long long)cum);
    }
    return rc;
}

co_err co_metrics_render_http(co_buf *out)
{
    co_err rc = render_requests(out);
    if (!rc)
        rc = co_buf_puts(out, "# HELP cityops_http_request_duration_seconds Time from a request's "
                              "arrival to its reply, by method.\n"
                              "# TYPE cityops_http_request_duration_seconds histogram\n");
    for (int m = 0; !rc && m < NMETHODS; m++) {
        uint64_t any = 0;
        for (size_t b = 0; b <= NBUCKETS; b++)
            any += load(&buckets[m][b]);
        if (any)
            rc = render_histogram(out, m);
    }
    return rc;
}
