/* migrate.c — `cityops migrate --from sqlite:DIR --to postgres://…`: moves a
 * city from the embedded SQLite store to PostgreSQL + PostGIS (pgcopy.h),
 * then prints each table's row count and checksum on both sides. Stop the
 * server first; afterwards serve with `--data DIR --store postgres://…` (the
 * media stay in DIR). Exit 0 when every table matched and the copy is
 * committed, 1 otherwise (nothing committed), 2 for bad usage. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "store/pgcopy.h"
#include "store/store.h"

static void on_table(void *ctx, const char *table, int64_t rows, uint64_t sum_from,
                     uint64_t sum_to, int64_t rows_to)
{
    (void)ctx;
    int same = rows == rows_to && sum_from == sum_to;
    printf("  %-18s %10" PRId64 " rows  %016" PRIx64 "  →  %10" PRId64 " rows  %016" PRIx64
           "  %s\n",
           table, rows, sum_from, rows_to, sum_to, same ? "ok" : "DIFFERENT 不一致");
}

int co_cli_migrate(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--from"))
            from = argv[i + 1];
        else if (!strcmp(argv[i], "--to"))
            to = argv[i + 1];
        else
            from = to = NULL, i = argc;
    }
    if (argc % 2 == 0 || !from || !to || strncmp(from, "sqlite:", 7) || !from[7] ||
        !co_store_is_pg_url(to)) {
        fprintf(stderr, "usage: cityops migrate --from sqlite:DIR --to postgres://USER@HOST/DB\n"
                        "  copies the city in DIR (stop its server first) into an empty\n"
                        "  PostgreSQL database with PostGIS, verifying counts and checksums\n");
        return 2;
    }
    char err[512] = "";
    printf("cityops migrate: %s → PostgreSQL\n", from + 7);
    co_err rc = co_pgcopy_from_sqlite(from + 7, to, on_table, NULL, err, sizeof err);
    if (rc) {
        fprintf(stderr, "cityops migrate: 迁移失败，目标库未改动 / migration failed, nothing "
                        "committed: %s\n",
                err[0] ? err : co_err_str(rc));
        return 1;
    }
    printf("迁移完成 / migrated: every table matches; serve with --data %s --store <URL>\n",
           from + 7);
    return 0;
}
