/* serve.h — helpers shared by the serving subcommands (serve, demo). */
#ifndef CO_CLI_SERVE_H
#define CO_CLI_SERVE_H

#include "http/server.h"
#include "lib/err.h"

/* Opens the data directory and serves it until SIGINT/SIGTERM. */
co_err co_cli_serve_dir(const char *dir, const co_server_config *cfg);
/* The --store URL parsed last (postgres://…, sqlite:DIR), NULL when none. */
const char *co_cli_store(void);
/* Parses --data/--store/--listen/--threads. Returns 0 when all arguments were
 * consumed, -1 on a bad value, or the index of the first unknown argument. */
int co_cli_parse_server_opts(int argc, char **argv, const char **dir, co_server_config *cfg);

#endif
