/* fz_req.c — fake evhttp requests and the link-time wraps that serve them
 * (see fz.h). Only the fuzz targets link this file. */
#include "fz.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

fz_reply fz_last;

static fz_req *cur;
static struct event_base *cur_base;
static int cur_conn;
static char fake_conn; /* its address stands for the connection */

/* ---------------------------------------------------------------- wraps */

const struct evhttp_uri *__real_evhttp_request_get_evhttp_uri(const struct evhttp_request *req);
enum evhttp_cmd_type __real_evhttp_request_get_command(const struct evhttp_request *req);
void __real_evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                              struct evbuffer *databuf);
void __real_evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason);
struct evhttp_connection *__real_evhttp_request_get_connection(struct evhttp_request *req);
struct event_base *__real_evhttp_connection_get_base(struct evhttp_connection *conn);
void __real_evhttp_connection_set_closecb(struct evhttp_connection *evcon,
                                          void (*cb)(struct evhttp_connection *, void *),
                                          void *cbarg);
void __real_evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
                                       ev_uint16_t *port);

const struct evhttp_uri *__wrap_evhttp_request_get_evhttp_uri(const struct evhttp_request *req);
enum evhttp_cmd_type __wrap_evhttp_request_get_command(const struct evhttp_request *req);
void __wrap_evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                              struct evbuffer *databuf);
void __wrap_evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason);
struct evhttp_connection *__wrap_evhttp_request_get_connection(struct evhttp_request *req);
struct event_base *__wrap_evhttp_connection_get_base(struct evhttp_connection *conn);
void __wrap_evhttp_connection_set_closecb(struct evhttp_connection *evcon,
                                          void (*cb)(struct evhttp_connection *, void *),
                                          void *cbarg);
void __wrap_evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
                                       ev_uint16_t *port);

static int ours(const struct evhttp_request *req)
{
    return cur && req == cur->ev;
}

const struct evhttp_uri *__wrap_evhttp_request_get_evhttp_uri(const struct evhttp_request *req)
{
    return ours(req) ? cur->uri : __real_evhttp_request_get_evhttp_uri(req);
}

enum evhttp_cmd_type __wrap_evhttp_request_get_command(const struct evhttp_request *req)
{
    return ours(req) ? cur->cmd : __real_evhttp_request_get_command(req);
}

static void capture(struct evhttp_request *req, int code)
{
    fz_last.count++;
    fz_last.status = code;
    const char *ct = evhttp_find_header(evhttp_request_get_output_headers(req), "Content-Type");
    snprintf(fz_last.ctype, sizeof fz_last.ctype, "%s", ct ? ct : "");
}

void __wrap_evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                              struct evbuffer *databuf)
{
    if (!ours(req)) {
        __real_evhttp_send_reply(req, code, reason, databuf);
        return;
    }
    capture(req, code);
    free(fz_last.body);
    fz_last.body = NULL;
    fz_last.len = databuf ? evbuffer_get_length(databuf) : 0;
    if (databuf && !strncmp(fz_last.ctype, "application/json", 16)) {
        fz_last.body = malloc(fz_last.len + 1);
        if (fz_last.body) {
            evbuffer_copyout(databuf, fz_last.body, fz_last.len);
            fz_last.body[fz_last.len] = '\0';
        }
    }
    if (databuf) /* as the real one does: the buffer is drained */
        evbuffer_drain(databuf, fz_last.len);
}

void __wrap_evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason)
{
    if (!ours(req)) {
        __real_evhttp_send_reply_start(req, code, reason);
        return;
    }
    capture(req, code);
    fz_last.streaming = 1;
}

struct evhttp_connection *__wrap_evhttp_request_get_connection(struct evhttp_request *req)
{
    if (ours(req))
        return cur_conn ? (struct evhttp_connection *)&fake_conn : NULL;
    return __real_evhttp_request_get_connection(req);
}

struct event_base *__wrap_evhttp_connection_get_base(struct evhttp_connection *conn)
{
    return (void *)conn == (void *)&fake_conn ? cur_base : __real_evhttp_connection_get_base(conn);
}

void __wrap_evhttp_connection_set_closecb(struct evhttp_connection *evcon,
                                          void (*cb)(struct evhttp_connection *, void *),
                                          void *cbarg)
{
    if ((void *)evcon != (void *)&fake_conn)
        __real_evhttp_connection_set_closecb(evcon, cb, cbarg);
}

void __wrap_evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
                                       ev_uint16_t *port)
{
    if ((void *)evcon != (void *)&fake_conn) {
        __real_evhttp_connection_get_peer(evcon, address, port);
        return;
    }
    static char peer[] = "127.0.0.1";
    *address = peer;
    *port = 40000;
}

/* ------------------------------------------------------------- requests */

static const struct {
    const char *name;
    enum evhttp_cmd_type cmd;
} methods[] = {
    {"GET", EVHTTP_REQ_GET},       {"POST", EVHTTP_REQ_POST},
    {"PUT", EVHTTP_REQ_PUT},       {"PATCH", EVHTTP_REQ_PATCH},
    {"DELETE", EVHTTP_REQ_DELETE}, {"HEAD", EVHTTP_REQ_HEAD},
    {"OPTIONS", EVHTTP_REQ_OPTIONS},
};

/* Next line of [*p, end): returns its length without CR/LF, advances *p. */
static size_t next_line(const char **p, const char *end, const char **line)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    *line = *p;
    size_t n = (size_t)(stop - *p);
    if (n && stop[-1] == '\r')
        n--;
    *p = nl ? nl + 1 : end;
    return n;
}

static int parse_request_line(fz_req *q, const char *line, size_t n)
{
    char buf[4096];
    if (n == 0 || n >= sizeof buf || memchr(line, '\0', n))
        return -1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *sp = strchr(buf, ' ');
    if (!sp)
        return -1;
    *sp = '\0';
    char *uri = sp + 1, *ver = strchr(uri, ' ');
    if (ver) {
        *ver++ = '\0';
        if (strcmp(ver, "HTTP/1.1") && strcmp(ver, "HTTP/1.0"))
            return -1;
    }
    size_t i;
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(buf, methods[i].name))
            break;
    if (i == sizeof methods / sizeof methods[0] || !*uri)
        return -1;
    q->cmd = methods[i].cmd;
    /* what libevent's server does with the request line */
    q->uri = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
    if (!q->uri)
        return -1;
    const char *raw = evhttp_uri_get_path(q->uri);
    size_t dlen = 0;
    char *dec = raw ? evhttp_uridecode(raw, 0, &dlen) : NULL;
    if (dec && strlen(dec) == dlen && dlen < sizeof q->path)
        memcpy(q->path, dec, dlen + 1);
    free(dec);
    return 0;
}

static int add_header(fz_req *q, const char *line, size_t n)
{
    char buf[8192];
    if (n >= sizeof buf || memchr(line, '\0', n) || line[0] == ' ' || line[0] == '\t')
        return -1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon || colon == buf)
        return -1;
    *colon = '\0';
    char *v = colon + 1, *e = v + strlen(v);
    while (*v == ' ' || *v == '\t')
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return evhttp_add_header(evhttp_request_get_input_headers(q->ev), buf, v);
}

int fz_req_build(fz_req *q, const char *text, size_t len)
{
    memset(q, 0, sizeof *q);
    const char *p = text, *end = text + len, *line;
    size_t n = next_line(&p, end, &line);
    q->ev = evhttp_request_new(NULL, NULL);
    if (!q->ev || parse_request_line(q, line, n))
        goto fail;
    for (int nh = 0; p < end; nh++) {
        n = next_line(&p, end, &line);
        if (n == 0)
            break;
        if (nh >= 64 || add_header(q, line, n))
            goto fail;
    }
    if (p < end)
        evbuffer_add(evhttp_request_get_input_buffer(q->ev), p, (size_t)(end - p));
    return 0;
fail:
    fz_req_free(q);
    return -1;
}

void fz_req_free(fz_req *q)
{
    if (q->ev)
        evhttp_request_free(q->ev);
    if (q->uri)
        evhttp_uri_free(q->uri);
    q->ev = NULL;
    q->uri = NULL;
}

void fz_req_begin(fz_req *q, struct event_base *base, int with_conn)
{
    cur = q;
    cur_base = base;
    cur_conn = with_conn && base;
    free(fz_last.body);
    memset(&fz_last, 0, sizeof fz_last);
}

void fz_req_end(void)
{
    cur = NULL;
    cur_conn = 0;
}
