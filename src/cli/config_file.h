/* config_file.h — `--config FILE` for every subcommand.
 * A config file holds the long options of a command, one per line:
 *
 *     # /etc/cityops/cityops.conf
 *     data = /var/lib/cityops
 *     listen = 127.0.0.1:8080
 *     store = postgres://cityops@db.internal/cityops
 *     threads = 2
 *
 * `key = value` becomes "--key value", a bare `key` becomes the flag "--key";
 * blank lines and lines starting with # are skipped. The file's options go
 * before the command line's, so an option given on the command line wins.
 * The expanded vector and the strings read from the file belong to the
 * caller, who releases them with co_config_free. */
#ifndef CO_CLI_CONFIG_FILE_H
#define CO_CLI_CONFIG_FILE_H

#include <stdio.h>

#include "lib/err.h"

#define CO_CONFIG_MAX_LINES 256
#define CO_CONFIG_MAX_LINE 2048

/* argv[0] is the subcommand. When argv holds "--config FILE", *argv_out is a
 * new vector: argv[0], the file's options, then argv without the --config
 * pair; otherwise argv itself. Problems are reported on err (with the line
 * number) and return CO_EINVAL (syntax), CO_EIO (unreadable) or CO_ETOOBIG. */
co_err co_config_expand(int argc, char **argv, int *argc_out, char ***argv_out, FILE *err)
    CO_MUST_CHECK;
/* Frees what co_config_expand allocated (nothing when it returned argv
 * itself); orig is the argv that was passed in. */
void co_config_free(char **expanded, char **orig);

#endif
