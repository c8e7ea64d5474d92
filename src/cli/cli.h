/* cli.h — the subcommands of the cityops binary.
 * Each subcommand is `int co_cli_NAME(int argc, char **argv)` where argv[0] is
 * the subcommand's own name; it returns the process exit code (0 ok, 1 failure,
 * 2 usage error). The table that maps names to functions lives in main.c. */
#ifndef CO_CLI_H
#define CO_CLI_H

int co_cli_serve(int argc, char **argv);
int co_cli_demo(int argc, char **argv);
int co_cli_calendar(int argc, char **argv);
int co_cli_import(int argc, char **argv);
int co_cli_export(int argc, char **argv);
int co_cli_bench(int argc, char **argv);
int co_cli_user(int argc, char **argv);
int co_cli_apikey(int argc, char **argv);
int co_cli_check(int argc, char **argv);
int co_cli_backup(int argc, char **argv);
int co_cli_migrate(int argc, char **argv);
int co_cli_version(int argc, char **argv);
int co_cli_classify(int argc, char **argv);
/* classify_cmd.c: --algo, --bits, --ngram, --epochs, --lr into training options; -1 if bad. */
struct co_clf_train_opts;
int co_cli_classify_train_opts(int argc, char **argv, struct co_clf_train_opts *o);
/* Trains the first classifier model of a new city into DIR/classify/model.bin
 * (logs and carries on when it cannot). */
struct co_app;
void co_cli_classify_initial(struct co_app *app, const char *dir);

#endif
