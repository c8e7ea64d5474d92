/* bench_intake.c — `cityops bench intake --data DIR [--clients K] [--count N]`.
 * Starts `cityops serve` on the data directory (a copy is advised: the bench
 * adds N cases), logs in as the operator, then K keep-alive HTTP connections
 * driven by one epoll loop POST N cases in total to /api/v1/cases, each at a
 * random point of the city. Every 201 is a committed case (group commit), so
 * cases/s here is durable throughput. Prints cases/s and p50/p99 latency.
 * With --url http://HOST:PORT it uses an already running server instead. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/bench.h"
#include "cli/cpustat.h"
#include "geo/area.h"
#include "lib/alloc.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "store/store.h"

extern char **environ;

#define REQ_MAX 4096
#define RESP_MAX 65536

typedef struct conn {
    int fd;
    char req[REQ_MAX];
    size_t req_len, req_off;
    char resp[RESP_MAX];
    size_t resp_len;
    double t0;
    int busy;
} conn;

typedef struct bench {
    char host[64];
    int port;
    char token[80];
    int64_t count, sent, done, failed;
    double *lat;
    double bb[4];
    uint64_t seed;
} bench;

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s) { return (double)(rng(s) >> 11) / 9007199254740992.0; }

static int connect_to(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* One blocking request (for login and health); returns the status. */
static int simple_request(const char *host, int port, const char *method, const char *path,
                          const char *body, char *out, size_t outlen)
{
    int fd = connect_to(host, port);
    if (fd < 0)
        return -1;
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, host, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got + 1 < outlen && (r = read(fd, out + got, outlen - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fd);
    int status = 0;
    return sscanf(out, "HTTP/1.1 %d", &status) == 1 ? status : -1;
}

static void build_request(bench *b, conn *c)
{
    double lon = b->bb[0] + unit(&b->seed) * (b->bb[2] - b->bb[0]);
    double lat = b->bb[1] + unit(&b->seed) * (b->bb[3] - b->bb[1]);
    char body[512];
    int blen = snprintf(body, sizeof body,
                        "{\"description\":\"压测：人行道井盖破损 #%lld\",\"category\":\"C0101\","
                        "\"severity\":\"urgent\",\"location\":{\"lon\":%.6f,\"lat\":%.6f},"
                        "\"caller\":{\"name\":\"张先生\",\"phone\":\"13800138000\"}}",
                        (long long)b->sent, lon, lat);
    c->req_len = (size_t)snprintf(c->req, sizeof c->req,
                                  "POST /api/v1/cases HTTP/1.1\r\nHost: %s\r\n"
                                  "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %d\r\n\r\n%s",
                                  b->host, b->token, blen, body);
    c->req_off = 0;
    c->resp_len = 0;
    c->t0 = co_time_mono();
    c->busy = 1;
    b->sent++;
}

/* Returns 1 when a whole response is in c->resp, and its status. */
static int response_complete(conn *c, int *status)
{
    c->resp[c->resp_len < RESP_MAX ? c->resp_len : RESP_MAX - 1] = '\0';
    char *hend = strstr(c->resp, "\r\n\r\n");
    if (!hend)
        return 0;
    char *cl = strcasestr(c->resp, "Content-Length:");
    size_t body = cl && cl < hend ? strtoul(cl + 15, NULL, 10) : 0;
    if (c->resp_len < (size_t)(hend + 4 - c->resp) + body)
        return 0;
    *status = 0;
    if (sscanf(c->resp, "HTTP/1.1 %d", status) != 1)
        *status = -1;
    return 1;
}

static int on_readable(bench *b, conn *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->resp + c->resp_len, RESP_MAX - 1 - c->resp_len);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (r <= 0)
            return -1;
        c->resp_len += (size_t)r;
        int status;
        if (response_complete(c, &status)) {
            b->lat[b->done++] = (co_time_mono() - c->t0) * 1000.0;
            if (status != 201)
                b->failed++;
            c->busy = 0;
            return 1;
        }
        if (c->resp_len >= RESP_MAX - 1)
            return -1;
    }
}

static int flush_request(conn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t w = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0)
            return -1;
        c->req_off += (size_t)w;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int drive(bench *b, int nclients)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    conn *conns = co_xcalloc((size_t)nclients, sizeof *conns);
    for (int i = 0; i < nclients; i++) {
        conns[i].fd = connect_to(b->host, b->port);
        if (conns[i].fd < 0)
            return -1;
        fcntl(conns[i].fd, F_SETFL, fcntl(conns[i].fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        if (b->sent < b->count) {
            build_request(b, &conns[i]);
            if (flush_request(&conns[i]))
                return -1;
        }
    }
    struct epoll_event evs[256];
    while (b->done < b->count) {
        int n = epoll_wait(ep, evs, 256, 10000);
        if (n <= 0)
            return -1;
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            int r = on_readable(b, c);
            if (r < 0)
                return -1;
            if (r == 1 && b->sent < b->count) {
                build_request(b, c);
                if (flush_request(c))
                    return -1;
            }
        }
    }
    for (int i = 0; i < nclients; i++)
        close(conns[i].fd);
    co_free(conns);
    close(ep);
    return 0;
}

static pid_t start_server(const char *dir, int port)
{
    char exe[1024], listen[64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char *argv[] = {exe, "serve", "--data", (char *)dir, "--listen", listen, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 0, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc ? -1 : pid;
}

static int wait_health(bench *b)
{
    char buf[4096];
    for (int i = 0; i < 600; i++) {
        if (simple_request(b->host, b->port, "GET", "/api/v1/health", NULL, buf, sizeof buf) ==
            200)
            return 0;
        usleep(100000);
    }
    return -1;
}

static int login(bench *b)
{
    char buf[8192];
    if (simple_request(b->host, b->port, "POST", "/api/v1/login",
                       "{\"username\":\"operator\",\"password\":\"demo\"}", buf,
                       sizeof buf) != 200)
        return -1;
    char *tok = strstr(buf, "\"token\":\"");
    if (!tok)
        return -1;
    snprintf(b->token, sizeof b->token, "%.64s", tok + 9);
    return 0;
}

static void city_bbox(const char *dir, double bb[4])
{
    co_store *st = NULL;
    co_areas *as = NULL;
    bb[0] = 111.60, bb[1] = 40.78, bb[2] = 111.75, bb[3] = 40.86;
    if (co_store_open(dir, &st) == CO_OK && co_areas_load(st, &as) == CO_OK) {
        double b0 = 1e9, b1 = 1e9, b2 = -1e9, b3 = -1e9;
        for (size_t i = 0; i < co_areas_count(as); i++) {
            const co_area *a = co_areas_at(as, (int32_t)i);
            if (a->level != CO_LEVEL_GRID)
                continue;
            b0 = a->minx < b0 ? a->minx : b0;
            b1 = a->miny < b1 ? a->miny : b1;
            b2 = a->maxx > b2 ? a->maxx : b2;
            b3 = a->maxy > b3 ? a->maxy : b3;
        }
        if (b0 < b2) {
            /* the inner half of the gridded box: points land inside the city */
            double w = (b2 - b0) / 4, h = (b3 - b1) / 4;
            bb[0] = b0 + w, bb[1] = b1 + h, bb[2] = b2 - w, bb[3] = b3 - h;
        }
    }
    co_areas_free(as);
    co_store_close(st);
}

int co_bench_intake(int argc, char **argv)
{
    const char *dir = NULL, *url = NULL;
    int64_t clients = 16, count = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--data"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--clients") && !co_parse_i64(argv[i + 1], 1, 1024, &clients))
            ;
        else if (!strcmp(argv[i], "--count") && !co_parse_i64(argv[i + 1], 1, 100000000, &count))
            ;
        else
            dir = NULL, url = NULL, i = argc;
    }
    if (!dir) {
        fprintf(stderr, "usage: cityops bench intake --data DIR [--url http://HOST:PORT] "
                        "[--clients K] [--count N]\n");
        return 2;
    }
    bench b = {.count = count, .seed = 7};
    snprintf(b.host, sizeof b.host, "127.0.0.1");
    b.port = 18000 + (int)(getpid() % 2000);
    pid_t pid = -1;
    if (url && sscanf(url, "http://%63[^:]:%d", b.host, &b.port) != 2) {
        fprintf(stderr, "cityops bench intake: bad --url\n");
        return 2;
    }
    city_bbox(dir, b.bb);
    if (!url && (pid = start_server(dir, b.port)) < 0) {
        fprintf(stderr, "cityops bench intake: cannot start the server\n");
        return 1;
    }
    int rc = 1;
    b.lat = co_xcalloc((size_t)count, sizeof *b.lat);
    if (wait_health(&b) || login(&b)) {
        fprintf(stderr, "cityops bench intake: server not ready or login failed\n");
        goto out;
    }
    co_cpustat cpu0 = co_cpustat_now();
    double t0 = co_time_mono();
    if (drive(&b, (int)clients)) {
        fprintf(stderr, "cityops bench intake: connection failed after %lld cases\n",
                (long long)b.done);
        goto out;
    }
    double secs = co_time_mono() - t0;
    qsort(b.lat, (size_t)b.done, sizeof *b.lat, cmp_double);
    printf("intake: %lld cases with %lld clients in %.2f s = %.0f cases/s (each 201 committed "
           "to disk)\n",
           (long long)b.done, (long long)clients, secs, (double)b.done / secs);
    printf("intake: latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; failures %lld\n",
           b.lat[b.done / 2], b.lat[(b.done * 99) / 100], b.lat[b.done - 1], (long long)b.failed);
    co_cpustat cpu1 = co_cpustat_now();
    co_cpushare sh;
    if (!co_cpustat_share(&cpu0, &cpu1, &sh)) /* client and server share the machine */
        printf("intake: the machine during the run: busy %.1f %%, idle %.1f %%, iowait %.1f %%, "
               "steal %.1f %% (/proc/stat)\n",
               sh.busy, sh.idle, sh.iowait, sh.steal);
    rc = b.failed ? 1 : 0;
out:
    co_free(b.lat);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return rc;
}
