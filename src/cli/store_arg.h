/* store_arg.h — which store a command works on: `--store URL` (postgres://…,
 * postgresql://… or sqlite:DIR, as for serve) or `--data DIR` (the SQLite
 * store in DIR); --store wins when both are given. Used by the commands that
 * act on a city's store directly (user, apikey, import, export); their
 * options may also come from --config FILE (main.c expands it first,
 * config_file.h). The store is named and checked before it is opened, so a
 * command can check the rest of its input in between and bad input changes
 * nothing. Messages go to stderr, zh-CN then English, with a PostgreSQL
 * password masked. Strings returned point into argv; the opened store
 * belongs to the caller (co_store_close). */
#ifndef CO_CLI_STORE_ARG_H
#define CO_CLI_STORE_ARG_H

#include "store/store.h"

/* The store argv names, or NULL after printing why not (prefixed with cmd,
 * e.g. "cityops user") when neither option is given or --store is not one
 * of the URL forms above. */
const char *co_cli_store_where(const char *cmd, int argc, char **argv);
/* Opens where (from co_cli_store_where); on failure prints cmd's message
 * and returns the error. */
co_err co_cli_store_open(const char *cmd, const char *where, co_store **out) CO_MUST_CHECK;

#endif
