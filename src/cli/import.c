/* import.c — `cityops import areas --data DIR --level LEVEL FILE.geojson`.
 * Validates FILE with the importer (geo/import.h) and, when it is clean,
 * replaces the level's areas in the store in one transaction. Prints every
 * problem (code: reason at (lon, lat)) to stdout and a summary line.
 * Exit 0 imported, 1 validation/I/O/storage failure, 2 usage.
 * Nothing allocated here outlives the call. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "geo/area.h"
#include "geo/import.h"
#include "store/store.h"

static int usage(void)
{
    fprintf(stderr, "usage: cityops import areas --data DIR --level district|street|community|grid "
                    "FILE.geojson\n");
    return 2;
}

int co_cli_import(int argc, char **argv)
{
    const char *dir = NULL, *lv = NULL, *file = NULL;
    if (argc < 2 || strcmp(argv[1], "areas") != 0)
        return usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(a, "--level") && i + 1 < argc)
            lv = argv[++i];
        else if (a[0] == '-' && a[1] != '\0')
            return usage();
        else if (!file)
            file = a;
        else
            return usage();
    }
    co_level level;
    if (!dir || !lv || !file)
        return usage();
    if (co_level_parse(lv, &level)) {
        fprintf(stderr, "cityops import: unknown level '%s'\n", lv);
        return usage();
    }
    co_store *st = NULL;
    co_err rc = co_store_open(dir, &st);
    if (rc) {
        fprintf(stderr, "cityops import: cannot open %s: %s\n", dir, co_err_str(rc));
        return 1;
    }
    co_import_report rep = {0};
    rc = co_import_areas_file(st, level, file, &rep);
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
