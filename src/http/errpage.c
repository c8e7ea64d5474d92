/* errpage.c — JSON instead of libevent's own HTML error pages (see errpage.h). */
#include "http/errpage.h"

#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libevent 2.1's page (http.c, evhttp_send_error): its first and last bytes */
static const char PAGE_OPEN[] = "<HTML><HEAD>\n<TITLE>";
static const char PAGE_TAIL[] = "</BODY></HTML>\n";
#define TAIL_LEN (sizeof PAGE_TAIL - 1)
#define HEAD_MAX 4096      /* libevent's head for these pages is ~120 bytes */
#define PAGE_MIN 80        /* the page is added in one piece of 94–160 bytes */
#define PAGE_MAX 512
#define QUEUED_MAX (64 << 10) /* a page behind more than this (a slow reader's
                               * backlog) stays HTML: never a long walk */

typedef struct page_error {
    int status;
    const char *code;
    const char *message;
} page_error;

static const page_error errors[] = {
    {400, "bad_request", "请求不是有效的 HTTP（请求行、版本、头部或分块格式有误，或头部过长）/ "
                         "the request is not valid HTTP (request line, version, headers or chunked "
                         "body), or its headers are too long"},
    {408, "request_timeout", "请求超时 / the request took too long"},
    {413, "too_large", "请求体超过服务器上限 / the request body is over the server's limit"},
    {414, "uri_too_long", "请求地址过长 / the request target is too long"},
    {501, "not_implemented", "不支持此请求方法 / this request method is not supported"},
    {503, "unavailable", "服务暂不可用，请稍后重试 / unavailable; try again later"},
};

static const page_error *error_for(int status)
{
    static const page_error client = {0, "bad_request", "请求有误 / bad request"};
    static const page_error server = {0, "internal", "服务器错误 / server error"};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].status == status)
            return &errors[i];
    return status < 500 ? &client : &server;
}

/* The last occurrence of needle in hay[0..n), or NULL. */
static const char *last_of(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = n >= k ? n - k + 1 : 0; i-- > 0;)
        if (hay[i] == needle[0] && !memcmp(hay + i, needle, k))
            return hay + i;
    return NULL;
}

/* Where the head that ends at `end` starts: the last "HTTP/1." within
 * HEAD_MAX bytes before it (the page's headers never contain one; an earlier
 * reply still queued ends right before it, with or without a newline). */
static const char *head_start(const char *all, const char *end)
{
    const char *lim = end - all > HEAD_MAX ? end - HEAD_MAX : all;
    for (const char *p = end - 7; p >= lim; p--)
        if (!memcmp(p, "HTTP/1.", 7))
            return p;
    return NULL;
}

static int header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && line[k] == ':' && !strncasecmp(line, name, k);
}

/* Builds the JSON reply for the head [head, body) into dst; 0 when the head
 * is not libevent's page head after all. */
static int build(struct evbuffer *dst, const char *head, const char *body, int status)
{
    const char *eol = memchr(head, '\r', (size_t)(body - head));
    if (!eol)
        return 0;
    int html = 0;
    for (const char *p = eol + 2; p < body - 2;) { /* the header lines */
        const char *e = memchr(p, '\r', (size_t)(body - p));
        if (!e || e == p)
            break;
        size_t n = (size_t)(e - p);
        if (header_is(p, n, "Content-Type"))
            html = n >= 23 && !strncmp(p + 14, "text/html", 9);
        p = e + 2;
    }
    if (!html)
        return 0;
    const page_error *pe = error_for(status);
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", pe->code, "message", pe->message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return 0;
    evbuffer_add(dst, head, (size_t)(eol - head) + 2); /* the status line */
    for (const char *p = eol + 2; p < body - 2;) {
        const char *e = memchr(p, '\r', (size_t)(body - p));
        if (!e || e == p)
            break;
        size_t n = (size_t)(e - p);
        if (!header_is(p, n, "Content-Type") && !header_is(p, n, "Content-Length"))
            evbuffer_add(dst, p, n + 2);
        p = e + 2;
    }
    evbuffer_add_printf(dst,
                        "Content-Type: application/json; charset=utf-8\r\n"
                        "X-Content-Type-Options: nosniff\r\n"
                        "Content-Length: %zu\r\n\r\n%s",
                        strlen(text), text);
    free(text);
    return 1;
}

/* The buffer ends like libevent's page: find it whole and replace it. */
static void rewrite(struct evbuffer *out)
{
    size_t len = evbuffer_get_length(out);
    const char *all = (const char *)evbuffer_pullup(out, -1);
    const char *body = all ? last_of(all, len, PAGE_OPEN) : NULL;
    if (!body || body - all < 4 || memcmp(body - 4, "\r\n\r\n", 4))
        return;
    const char *head = head_start(all, body - 4);
    int status = 0;
    if (!head || sscanf(head + 7, "%*1[01] %3d ", &status) != 1 || status < 400 || status > 599)
        return;
    char title[8];
    snprintf(title, sizeof title, "%d ", status);
    if (strncmp(body + sizeof PAGE_OPEN - 1, title, strlen(title)))
        return;
    struct evbuffer *fresh = evbuffer_new();
    if (!fresh)
        return; /* the HTML page goes out: still a reply */
    size_t keep = (size_t)(head - all); /* earlier replies still queued */
    if (keep)
        evbuffer_add(fresh, all, keep);
    if (build(fresh, head, body, status)) {
        evbuffer_unfreeze(out, 1); /* as the bufferevent's own write does */
        evbuffer_drain(out, len);
        evbuffer_add_buffer(out, fresh);
        evbuffer_freeze(out, 1);
    }
    evbuffer_free(fresh);
}

/* Whether the last TAIL_LEN bytes are the page's. Peeks: a socket
 * bufferevent's output is frozen at the start (only its own write may
 * drain it), and copying out of it is refused then. */
static int ends_like_page(struct evbuffer *out, size_t len)
{
    struct evbuffer_ptr at;
    struct evbuffer_iovec v[4];
    if (evbuffer_ptr_set(out, &at, len - TAIL_LEN, EVBUFFER_PTR_SET) < 0)
        return 0;
    int n = evbuffer_peek(out, (ev_ssize_t)TAIL_LEN, &at, v, 4);
    size_t got = 0;
    for (int i = 0; i < n && i < 4 && got < TAIL_LEN; i++) {
        size_t k = v[i].iov_len < TAIL_LEN - got ? v[i].iov_len : TAIL_LEN - got;
        if (memcmp(v[i].iov_base, PAGE_TAIL + got, k))
            return 0;
        got += k;
    }
    return got == TAIL_LEN;
}

static void on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
    (void)arg;
    size_t len = evbuffer_get_length(out);
    if (info->n_added < PAGE_MIN || info->n_added > PAGE_MAX || len > QUEUED_MAX)
        return;
    if (ends_like_page(out, len))
        rewrite(out);
}

void co_errpage_attach(struct bufferevent *bev)
{
    if (bev)
        evbuffer_add_cb(bufferevent_get_output(bev), on_output, NULL);
}
