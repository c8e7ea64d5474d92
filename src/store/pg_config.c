/* pg_config.c — configuration tables of the PostgreSQL back-end: taxonomy
 * versions (each edit is a new version; cases keep theirs), routing rules
 * and admin calendar overrides. Same contracts as sqlite_config.c. */
#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "store/pg_int.h"
#include "store/store.h"

co_err co_pg_taxonomy_put(void *impl, int64_t version, const char *doc, const char *author)
{
    co_pg_params p = {0};
    co_pg_int(&p, version);
    co_pg_text(&p, doc);
    co_pg_int(&p, co_time_now());
    co_pg_text(&p, author);
    int64_t n = 0;
    /* ON CONFLICT keeps an open transaction usable; a taken version is EEXIST */
    co_err rc = co_pg_run(impl,
                          "INSERT INTO taxonomy_versions(version,doc,created,author) "
                          "VALUES($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING version",
                          &p, NULL, NULL, &n);
    return rc ? rc : n ? CO_OK : CO_EEXIST;
}

typedef struct tax_ctx {
    int64_t version;
    char *doc;
} tax_ctx;

static int tax_row(void *vctx, const co_pg_row *r)
{
    tax_ctx *t = vctx;
    t->version = co_pg_i64(r, 0);
    t->doc = co_xstrdup(co_pg_str(r, 1));
    return 1;
}

co_err co_pg_taxonomy_get(void *impl, int64_t version, char **doc, int64_t *version_out)
{
    co_pg_params p = {0};
    if (version)
        co_pg_int(&p, version);
    tax_ctx t = {0, NULL};
    co_err rc = co_pg_run(
        impl,
        version ? "SELECT version, doc FROM taxonomy_versions WHERE version=$1"
                : "SELECT version, doc FROM taxonomy_versions ORDER BY version DESC LIMIT 1",
        &p, tax_row, &t, NULL);
    if (rc) {
        co_free(t.doc);
        return rc;
    }
    if (!t.doc)
        return CO_ENOTFOUND;
    *doc = t.doc;
    *version_out = t.version;
    return CO_OK;
}

co_err co_pg_rule_put(void *impl, const co_rule_rec *r, int64_t *id_out)
{
    co_pg_params p = {0};
    co_pg_int(&p, r->id);
    co_pg_nz(&p, r->category);
    co_pg_nz(&p, r->area);
    co_pg_text(&p, r->dept);
    co_pg_nz(&p, r->note);
    int64_t id = 0, n = 0;
    co_err rc = co_pg_run(
        impl,
        r->id ? "UPDATE routing_rules SET category=$2, area=$3, dept=$4, note=$5 WHERE id=$1 "
                "RETURNING id"
              : "INSERT INTO routing_rules(category,area,dept,note) "
                "SELECT $2,$3,$4,$5 WHERE $1::bigint=0 RETURNING id",
        &p, co_pg_first_i64, &id, &n);
    if (rc)
        return rc;
    if (!n)
        return CO_ENOTFOUND;
    if (id_out)
        *id_out = id;
    return CO_OK;
}

co_err co_pg_rule_del(void *impl, int64_t id)
{
    co_pg_params p = {0};
    co_pg_int(&p, id);
    int64_t n = 0;
    co_err rc = co_pg_run(impl, "DELETE FROM routing_rules WHERE id=$1 RETURNING id", &p, NULL,
                          NULL, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

typedef struct rule_ctx {
    int (*cb)(void *, const co_rule_rec *);
    void *ctx;
} rule_ctx;

static int rule_row(void *vctx, const co_pg_row *r)
{
    rule_ctx *rc = vctx;
    co_rule_rec rec = {co_pg_i64(r, 0), co_pg_str(r, 1), co_pg_str(r, 2), co_pg_str(r, 3),
                       co_pg_str(r, 4)};
    return rc->cb(rc->ctx, &rec);
}

co_err co_pg_rules_each(void *impl, int (*cb)(void *, const co_rule_rec *), void *ctx)
{
    rule_ctx rc = {cb, ctx};
    return co_pg_run(impl, "SELECT id,category,area,dept,note FROM routing_rules ORDER BY id",
                     NULL, rule_row, &rc, NULL);
}

co_err co_pg_calday_put(void *impl, int64_t day, int kind, const char *name)
{
    co_pg_params p = {0};
    co_pg_int(&p, day);
    co_pg_int(&p, kind);
    co_pg_nz(&p, name);
    return co_pg_run(impl,
                     "INSERT INTO calendar_days(day,kind,name) VALUES($1,$2,$3) "
                     "ON CONFLICT(day) DO UPDATE SET kind=excluded.kind, name=excluded.name",
                     &p, NULL, NULL, NULL);
}

typedef struct calday_ctx {
    int (*cb)(void *, int64_t, int, const char *);
    void *ctx;
} calday_ctx;

static int calday_row(void *vctx, const co_pg_row *r)
{
    calday_ctx *cc = vctx;
    return cc->cb(cc->ctx, co_pg_i64(r, 0), (int)co_pg_i64(r, 1), co_pg_str(r, 2));
}

co_err co_pg_caldays_each(void *impl, int (*cb)(void *, int64_t, int, const char *), void *ctx)
{
    calday_ctx cc = {cb, ctx};
    return co_pg_run(impl, "SELECT day,kind,name FROM calendar_days ORDER BY day", NULL,
                     calday_row, &cc, NULL);
}
