/* export.c — `cityops export areas --data DIR --level LEVEL [--within CODE]
 * [--out FILE]`: writes the level's areas (below CODE when given) as a GeoJSON
 * FeatureCollection with the properties `cityops import areas` reads, to
 * stdout or to FILE (written to FILE.tmp, then renamed: no half files).
 * Exit 0 ok, 1 failure (unknown --within, I/O, storage), 2 usage.
 * Nothing allocated here outlives the call. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "geo/area.h"
#include "geo/import.h"
#include "store/store.h"

static int usage(void)
{
    fprintf(stderr, "usage: cityops export areas --data DIR --level district|street|community|grid "
                    "[--within CODE] [--out FILE]\n");
    return 2;
}

/* Exports into path via path.tmp + rename. */
static co_err export_file(co_store *st, co_level level, const char *within, const char *path)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return CO_ETOOBIG;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return CO_EIO;
    co_err rc = co_export_areas(st, level, within, f);
    if (fclose(f) != 0 && !rc)
        rc = CO_EIO;
    if (!rc && rename(tmp, path) != 0)
        rc = CO_EIO;
    if (rc)
        remove(tmp);
    return rc;
}

int co_cli_export(int argc, char **argv)
{
    const char *dir = NULL, *lv = NULL, *within = NULL, *out = NULL;
    if (argc < 2 || strcmp(argv[1], "areas") != 0)
        return usage();
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(a, "--data"))
            dir = argv[++i];
        else if (!strcmp(a, "--level"))
            lv = argv[++i];
        else if (!strcmp(a, "--within"))
            within = argv[++i];
        else if (!strcmp(a, "--out"))
            out = argv[++i];
        else
            return usage();
    }
    co_level level;
    if (!dir || !lv)
        return usage();
    if (co_level_parse(lv, &level)) {
        fprintf(stderr, "cityops export: unknown level '%s'\n", lv);
        return usage();
    }
    co_store *st = NULL;
    co_err rc = co_store_open(dir, &st);
    if (rc) {
        fprintf(stderr, "cityops export: cannot open %s: %s\n", dir, co_err_str(rc));
        return 1;
    }
    rc = out ? export_file(st, level, within, out) : co_export_areas(st, level, within, stdout);
    if (rc == CO_ENOTFOUND)
        fprintf(stderr, "cityops export: no area with code %s\n", within ? within : "");
    else if (rc)
        fprintf(stderr, "cityops export: failed: %s\n", co_err_str(rc));
    co_store_close(st);
    return rc ? 1 : 0;
}
