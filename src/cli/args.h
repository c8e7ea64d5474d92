/* args.h — the command line helpers every subcommand shares: option values
 * ("--name VALUE") and flags ("--name"). Strings returned point into argv;
 * nothing to free. */
#ifndef CO_CLI_ARGS_H
#define CO_CLI_ARGS_H

/* The value after `name` (e.g. "--data"), or NULL when absent. */
const char *co_args_opt(int argc, char **argv, const char *name);
/* 1 when the flag `name` is present. */
int co_args_flag(int argc, char **argv, const char *name);

#endif
