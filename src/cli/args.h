/* args.h — the command line helpers every subcommand shares: option values
 * ("--name VALUE"), flags ("--name") and positional arguments. Strings
 * returned point into argv; nothing to free. */
#ifndef CO_CLI_ARGS_H
#define CO_CLI_ARGS_H

/* The value after `name` (e.g. "--data"), or NULL when absent. When the
 * option is given more than once the last one counts, so an option on the
 * command line wins over the same option from --config FILE (whose options
 * come first, config_file.h). */
const char *co_args_opt(int argc, char **argv, const char *name);
/* 1 when the flag `name` is present. */
int co_args_flag(int argc, char **argv, const char *name);
/* The k-th (from 0) argument after argv[0] that is neither an option
 * ("--name") nor the value following one, or NULL. For subcommands whose
 * options all take a value: `apikey --data D add NAME` gives "add", "NAME". */
const char *co_args_positional(int argc, char **argv, int k);

#endif
