/* serve.c — `cityops serve --data DIR [--listen HOST:PORT] [--threads N]`
 * and the limit options (see usage below and docs/api.md, "Limits and rate
 * limits"). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/app.h"
#include "classify/service.h"
#include "cli/cli.h"
#include "cli/serve.h"
#include "http/req.h"
#include "http/server.h"
#include "lib/log.h"
#include "lib/strparse.h"

/* At shutdown: commit and answer every write already accepted. */
static void drain_writes(void *arg)
{
    co_app *app = arg;
    co_writer_drain(app->writer);
    co_log_info("msg=\"writes drained\"");
}

static co_taxonomy *clf_taxonomy(void *app)
{
    return co_app_taxonomy(app);
}

/* The text classifier: loads DATA/classify/model.bin or trains it in the
 * background (classify/service.h). The server runs without one on error. */
static co_clf_service *start_classifier(co_app *app, const char *dir)
{
    co_clf_service_opts o;
    co_clf_service *clf = NULL;
    co_clf_service_opts_init(&o, dir, app->home, app->store);
    if (co_clf_service_start(&o, app->store, clf_taxonomy, app, &clf) != CO_OK) {
        co_log_warn("msg=\"classifier not started\"");
        return NULL;
    }
    app->clf = clf;
    return clf;
}

/* --store URL (co_store_open_url); NULL = the SQLite store in --data DIR */
static const char *store_url;

const char *co_cli_store(void) { return store_url; }

co_err co_cli_serve_dir(const char *dir, const co_server_config *cfg)
{
    co_app *app = NULL;
    if (store_url)
        mkdir(dir, 0750); /* media and model files stay in the data directory */
    co_err rc = co_app_open_store(dir, store_url, &app);
    if (rc) {
        co_log_error("msg=\"cannot open data directory\" dir=%s err=\"%s\"", dir, co_err_str(rc));
        return rc;
    }
    app->limits = cfg->limits;
    snprintf(app->trusted_proxies, sizeof app->trusted_proxies, "%s", cfg->trusted_proxies);
    co_sessions_set_ttl(app->sessions, cfg->session_ttl_s);
    co_clf_service *clf = start_classifier(app, dir);
    co_server_config run_cfg = *cfg;
    run_cfg.drain = drain_writes;
    run_cfg.drain_arg = app;
    rc = co_server_run(&run_cfg, co_app_handle, app, NULL, co_app_thread_done);
    app->clf = NULL;
    co_clf_service_stop(clf);
    co_app_close(app);
    co_log_info("msg=\"stopped\"");
    return rc;
}

/* "A" or "A:B": two numbers in [min, max]; b keeps its value when absent. */
static int parse_pair(const char *s, double min, double max, double *a, double *b)
{
    char first[32];
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n == 0 || n >= sizeof first)
        return -1;
    memcpy(first, s, n);
    first[n] = '\0';
    if (co_parse_double(first, min, max, a))
        return -1;
    return colon && co_parse_double(colon + 1, min, max, b) ? -1 : 0;
}

/* The limit options; 1 when a was one (and its value was good), 0 when a
 * is another option, -1 after printing what is wrong. */
static int parse_limit_opt(const char *a, const char *v, co_server_config *cfg)
{
    co_ratelimit_config *l = &cfg->limits;
    double x, y;
    int bad;
    if (!strcmp(a, "--anon-rate")) { /* RATE[:BURST], 0 = off */
        y = l->anon.burst;
        bad = parse_pair(v, 0, 100000, &x, &y) || (x > 0 && y < 1);
        l->anon = (co_apikey_rate){x, y};
    } else if (!strcmp(a, "--login-fails")) { /* USER[:IP], 0 = off */
        y = l->login_ip.free_fails;
        bad = parse_pair(v, 0, 1000000, &x, &y);
        l->login_user.free_fails = (int)x;
        l->login_ip.free_fails = (int)y;
    } else if (!strcmp(a, "--login-delay")) { /* FIRST[:MAX] seconds */
        y = l->login_user.max_s;
        bad = parse_pair(v, 1, 86400, &x, &y) || y < x;
        l->login_user.base_s = l->login_ip.base_s = (int)x;
        l->login_user.max_s = l->login_ip.max_s = (int)y;
    } else if (!strcmp(a, "--session-ttl")) {
        bad = co_parse_double(v, 1, 366 * 86400, &x) != CO_OK;
        cfg->session_ttl_s = (int)x;
    } else if (!strcmp(a, "--timeout")) {
        bad = co_parse_double(v, 1, 3600, &x) != CO_OK;
        cfg->timeout_s = (int)x;
    } else if (!strcmp(a, "--request-timeout")) { /* 0 = off */
        bad = co_parse_double(v, 0, 3600, &x) != CO_OK;
        cfg->request_timeout_s = (int)x;
    } else {
        return 0;
    }
    if (bad) {
        fprintf(stderr, "cityops: bad %s '%s'\n", a, v);
        return -1;
    }
    return 1;
}

int co_cli_parse_server_opts(int argc, char **argv, const char **dir, co_server_config *cfg)
{
    for (int i = 1; i < argc; i++) {
        int lim;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--data") && v) {
            *dir = v;
            i++;
        } else if (!strcmp(a, "--store") && v) {
            store_url = v;
            i++;
        } else if (!strcmp(a, "--trusted-proxy") && v) {
            char bad[64];
            if (strlen(v) >= sizeof cfg->trusted_proxies) {
                fprintf(stderr, "cityops: --trusted-proxy is too long\n");
                return -1;
            }
            if (!co_req_proxies_valid(v, bad, sizeof bad)) {
                fprintf(stderr,
                        "cityops: bad --trusted-proxy '%s': '%s' is not an address written as the "
                        "server sees it (e.g. 127.0.0.1, 10.0.0.5, ::1; comma-separated)\n",
                        v, bad);
                return -1;
            }
            snprintf(cfg->trusted_proxies, sizeof cfg->trusted_proxies, "%s", v);
            i++;
        } else if (!strcmp(a, "--listen") && v) {
            if (co_server_parse_listen(v, cfg)) {
                fprintf(stderr, "cityops: bad --listen '%s' (want HOST:PORT)\n", v);
                return -1;
            }
            i++;
        } else if (v && (lim = parse_limit_opt(a, v, cfg)) != 0) {
            if (lim < 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--threads") && v) {
            int64_t n;
            if (co_parse_i64(v, 1, 64, &n)) {
                fprintf(stderr, "cityops: bad --threads '%s'\n", v);
                return -1;
            }
            cfg->threads = (int)n;
            i++;
        } else {
            return i; /* not a server option: let the caller look at it */
        }
    }
    return 0;
}

int co_cli_serve(int argc, char **argv)
{
    const char *dir = NULL;
    co_server_config cfg;
    co_server_config_default(&cfg);
    int bad = co_cli_parse_server_opts(argc, argv, &dir, &cfg);
    if (bad != 0 || !dir) {
        if (bad > 0)
            fprintf(stderr, "cityops serve: unknown option '%s'\n", argv[bad]);
        fprintf(stderr,
                "usage: cityops serve --data DIR [--listen HOST:PORT] [--threads N]\n"
                "         [--store URL]                postgres://… (PostgreSQL + PostGIS) or "
                "sqlite:DIR (default: DIR/cityops.db)\n"
                "         [--anon-rate RATE[:BURST]]   anonymous API requests per second per IP "
                "(default %g:%d; 0 = off)\n"
                "         [--login-fails USER[:IP]]    failed logins before delays (default "
                "%d:%d; 0 = off)\n"
                "         [--login-delay FIRST[:MAX]]  seconds, doubling (default %d:%d)\n"
                "         [--session-ttl SECONDS]      login session lifetime (default %d)\n"
                "         [--timeout SECONDS]          idle/slow connection timeout (default "
                "%d)\n"
                "         [--request-timeout SECONDS]  a whole request must arrive within this "
                "(default %d; 0 = off)\n"
                "         [--trusted-proxy ADDR[,ADDR]] load balancers whose X-Forwarded-For "
                "names the client\n",
                CO_RATELIMIT_ANON_RATE, CO_RATELIMIT_ANON_BURST, CO_RATELIMIT_LOGIN_USER_FAILS,
                CO_RATELIMIT_LOGIN_IP_FAILS, CO_RATELIMIT_LOGIN_BASE_S, CO_RATELIMIT_LOGIN_MAX_S,
                CO_SESSION_TTL, cfg.timeout_s, cfg.request_timeout_s);
        return 2;
    }
    return co_cli_serve_dir(dir, &cfg) ? 1 : 0;
}
