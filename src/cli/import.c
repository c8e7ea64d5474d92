/* import.c — `cityops import areas (--data DIR | --store URL) --level LEVEL
 * FILE.geojson`. --store URL is postgres://… or sqlite:DIR (store_arg.h);
 * options may also come from --config FILE. Validates FILE with the importer
 * (geo/import.h) and, when it is clean, replaces the level's areas in the
 * store in one transaction. Prints every problem (code: reason at (lon, lat))
 * to stdout and a summary line. A running server keeps the areas it loaded
 * until it restarts. Exit 0 imported, 1 validation/I/O/storage failure,
 * 2 usage (the store is then not opened). Nothing allocated here outlives
 * the call. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/store_arg.h"
#include "geo/area.h"
#include "geo/import.h"
#include "store/store.h"

static int usage(void)
{
    fprintf(stderr, "usage: cityops import areas (--data DIR | --store URL)\n"
                    "         --level district|street|community|grid FILE.geojson\n"
                    "  --store: postgres://… (PostgreSQL + PostGIS) or sqlite:DIR; --config FILE "
                    "adds options\n");
    return 2;
}

int co_cli_import(int argc, char **argv)
{
    const char *lv = co_args_opt(argc, argv, "--level");
    const char *file = co_args_positional(argc, argv, 1);
    const char *action = co_args_positional(argc, argv, 0);
    if (!action || strcmp(action, "areas") || !lv || !file || co_args_positional(argc, argv, 2))
        return usage();
    co_level level;
    if (co_level_parse(lv, &level)) {
        fprintf(stderr, "cityops import: 未知层级 / unknown level '%s'\n", lv);
        return usage();
    }
    const char *where = co_cli_store_where("cityops import", argc, argv);
    if (!where)
        return usage();
    co_store *st = NULL;
    if (co_cli_store_open("cityops import", where, &st))
        return 1;
    co_import_report rep = {0};
    co_err rc = co_import_areas_file(st, level, file, &rep);
    co_import_report_print(&rep, stdout);
    if (!rc) {
        char detail[600];
        snprintf(detail, sizeof detail, "%s %zu from %.500s", co_level_name(level), rep.imported,
                 file);
        if (co_store_audit(st, "cli", "areas_import", detail))
            fprintf(stderr, "cityops import: warning: audit entry not written\n");
        printf("imported %zu %s areas from %s\n", rep.imported, co_level_name(level), file);
    } else if (rc == CO_EINVAL) {
        printf("%zu problem%s in %zu features; nothing imported\n", rep.nproblems,
               rep.nproblems == 1 ? "" : "s", rep.nfeatures);
    } else {
        printf("import failed (%s); nothing imported\n", co_err_str(rc));
    }
    co_import_report_free(&rep);
    co_store_close(st);
    return rc ? 1 : 0;
}
