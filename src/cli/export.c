/* export.c — `cityops export areas (--data DIR | --store URL) --level LEVEL
 * [--within CODE] [--out FILE]`: writes the level's areas (below CODE when
 * given) as a GeoJSON FeatureCollection with the properties `cityops import
 * areas` reads, to stdout or to FILE (written to FILE.tmp, then renamed: no
 * half files). --store URL is postgres://… or sqlite:DIR (store_arg.h);
 * options may also come from --config FILE.
 * Exit 0 ok, 1 failure (unknown --within, I/O, storage), 2 usage.
 * Nothing allocated here outlives the call. */
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
    fprintf(stderr, "usage: cityops export areas (--data DIR | --store URL)\n"
                    "         --level district|street|community|grid "
                    "[--within CODE] [--out FILE]\n"
                    "  --store: postgres://… (PostgreSQL + PostGIS) or sqlite:DIR; --config FILE "
                    "adds options\n");
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
    const char *lv = co_args_opt(argc, argv, "--level");
    const char *within = co_args_opt(argc, argv, "--within");
    const char *out = co_args_opt(argc, argv, "--out");
    const char *action = co_args_positional(argc, argv, 0);
    if (!action || strcmp(action, "areas") || !lv || co_args_positional(argc, argv, 1))
        return usage();
    co_level level;
    if (co_level_parse(lv, &level)) {
        fprintf(stderr, "cityops export: 未知层级 / unknown level '%s'\n", lv);
        return usage();
    }
    const char *where = co_cli_store_where("cityops export", argc, argv);
    if (!where)
        return usage();
    co_store *st = NULL;
    if (co_cli_store_open("cityops export", where, &st))
        return 1;
    co_err rc = out ? export_file(st, level, within, out)
                    : co_export_areas(st, level, within, stdout);
    if (rc == CO_ENOTFOUND)
        fprintf(stderr, "cityops export: no area with code %s\n", within ? within : "");
    else if (rc)
        fprintf(stderr, "cityops export: failed: %s\n", co_err_str(rc));
    co_store_close(st);
    return rc ? 1 : 0;
}
