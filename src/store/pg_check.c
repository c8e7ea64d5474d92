/* pg_check.c — the PostgreSQL back-end's own consistency check (the
 * `integrity` entry of the back-end table, used by `cityops check`):
 *   - every B-tree index of the cityops tables verified with amcheck's
 *     bt_index_check, when the amcheck extension is installed in the
 *     database (optional: a superuser runs CREATE EXTENSION amcheck once);
 *   - sessions whose user is gone, areas whose GeoJSON polygon has no
 *     PostGIS geometry (or the other way round), and the schema version.
 * Each problem is handed to cb as text valid during the call. */
#include <stdio.h>

#include "store/pg_int.h"
#include "store/store.h"

typedef struct check_ctx {
    co_integrity_cb cb;
    void *ctx;
    const char *what;
} check_ctx;

/* Rows of (text) are problems. */
static int problem_row(void *vctx, const co_pg_row *r)
{
    check_ctx *cc = vctx;
    char msg[600];
    snprintf(msg, sizeof msg, "%s: %s", cc->what, co_pg_str(r, 0));
    cc->cb(cc->ctx, msg);
    return 0;
}

static const struct {
    const char *what, *sql;
} checks[] = {
    {"sessions", "SELECT 'session of missing user ' || s.user_id FROM sessions s"
                 " LEFT JOIN users u ON u.id=s.user_id WHERE u.id IS NULL LIMIT 100"},
    {"areas", "SELECT 'area ' || code || ' has a polygon but no PostGIS geometry' FROM areas"
              " WHERE geom IS NULL AND geometry IS NOT NULL"
              " AND geometry::jsonb->>'type' IN ('Polygon','MultiPolygon') LIMIT 100"},
    {"areas", "SELECT 'area ' || code || ' has a PostGIS geometry but no GeoJSON' FROM areas"
              " WHERE geom IS NOT NULL AND geometry IS NULL LIMIT 100"},
    {"events", "SELECT 'event sequence ' || seq || ' is not positive' FROM events"
               " WHERE seq <= 0 LIMIT 100"},
};

co_err co_pg_integrity(void *impl, co_integrity_cb cb, void *ctx)
{
    check_ctx cc = {cb, ctx, "amcheck"};
    int64_t has_amcheck = 0;
    co_err rc = co_pg_run(impl, "SELECT count(*) FROM pg_extension WHERE extname='amcheck'", NULL,
                          co_pg_first_i64, &has_amcheck, NULL);
    if (!rc && has_amcheck) {
        /* bt_index_check raises an error on corruption (the statement fails) */
        int64_t bad = 0;
        rc = co_pg_run(impl,
                       "SELECT count(*) FROM (SELECT bt_index_check(c.oid) FROM pg_index i"
                       " JOIN pg_class c ON c.oid=i.indexrelid JOIN pg_am a ON a.oid=c.relam"
                       " WHERE a.amname='btree'"
                       " AND c.relnamespace=current_schema()::regnamespace) x WHERE false",
                       NULL, co_pg_first_i64, &bad, NULL);
        if (rc == CO_EDB) { /* amcheck found a broken index: the error says which */
            cb(ctx, "amcheck: bt_index_check failed (see the server log)");
            rc = CO_OK;
        }
    }
    for (size_t i = 0; !rc && i < sizeof checks / sizeof checks[0]; i++) {
        cc.what = checks[i].what;
        rc = co_pg_run(impl, checks[i].sql, NULL, problem_row, &cc, NULL);
    }
    return rc;
}
