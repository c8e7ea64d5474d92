/* serve.c — `cityops serve --data DIR [--listen HOST:PORT] [--threads N]`. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "cli/cli.h"
#include "cli/serve.h"
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

co_err co_cli_serve_dir(const char *dir, const co_server_config *cfg)
{
    co_app *app = NULL;
    co_err rc = co_app_open(dir, &app);
    if (rc) {
        co_log_error("msg=\"cannot open data directory\" dir=%s err=\"%s\"", dir, co_err_str(rc));
        return rc;
    }
    co_server_config run_cfg = *cfg;
    run_cfg.drain = drain_writes;
    run_cfg.drain_arg = app;
    rc = co_server_run(&run_cfg, co_app_handle, app, NULL, co_app_thread_done);
    co_app_close(app);
    co_log_info("msg=\"stopped\"");
    return rc;
}

int co_cli_parse_server_opts(int argc, char **argv, const char **dir, co_server_config *cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--data") && v) {
            *dir = v;
            i++;
        } else if (!strcmp(a, "--listen") && v) {
            if (co_server_parse_listen(v, cfg)) {
                fprintf(stderr, "cityops: bad --listen '%s' (want HOST:PORT)\n", v);
                return -1;
            }
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
        fprintf(stderr, "usage: cityops serve --data DIR [--listen HOST:PORT] [--threads N]\n");
        return 2;
    }
    return co_cli_serve_dir(dir, &cfg) ? 1 : 0;
}
