/* main.c — entry point of bin/cityops: dispatches to a subcommand from a
 * const table. Each subcommand parses its own options (see cli.h); `--config
 * FILE` adds options from a file first (config_file.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "cli/version.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"serve", co_cli_serve, "serve --data DIR [--listen HOST:PORT] [--threads N]   serve an existing data directory"},
    {"demo", co_cli_demo, "demo [--data DIR] [--listen HOST:PORT] [--no-serve] [--cases N]   build the Hohhot demo city if DIR is empty, then serve"},
    {"import", co_cli_import, "import areas --data DIR|--store URL --level LEVEL FILE.geojson   validate and import areas"},
    {"export", co_cli_export, "export areas --data DIR|--store URL --level LEVEL [--within CODE]   print areas as GeoJSON"},
    {"calendar", co_cli_calendar, "calendar due|worked|days ...   working time (due --from ISO8601 --limit 3wd|4wh|30wm)"},
    {"bench", co_cli_bench, "bench geocode|intake|stats [...]   run a benchmark"},
    {"user", co_cli_user, "user add|list --data DIR|--store URL ...   manage users"},
    {"apikey", co_cli_apikey, "apikey add NAME|list|revoke ID|config --data DIR|--store URL ...   Open311 API keys"},
    {"migrate", co_cli_migrate, "migrate --from sqlite:DIR --to postgres://...   move a city into PostgreSQL + PostGIS, verified"},
    {"backup", co_cli_backup, "backup --data DIR --to BACKUPDIR   online backup (restore: serve --data BACKUPDIR)"},
    {"check", co_cli_check, "check --data DIR|--store URL   check the store: integrity, case rows = replay of their events"},
    {"classify", co_cli_classify, "classify [train|config] --data DIR [--area CODE]   classify texts (JSON lines on stdin), retrain, or set the classifier's settings"},
    {"version", co_cli_version, "version   print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "cityops %s — city operations platform\n\nusage: cityops COMMAND [--config FILE] [options]\n\n",
            CO_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int n;
            char **args;
            if (co_config_expand(argc - 1, argv + 1, &n, &args, stderr) != CO_OK)
                return 2;
            int rc = commands[i].run(n, args);
            co_config_free(args, argv + 1);
            return rc;
        }
    fprintf(stderr, "cityops: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
