/* pgcopy.c — moves a city from the SQLite store to PostgreSQL (see
 * pgcopy.h). Reads the SQLite file directly (read-only, one read
 * transaction) and writes through one libpq connection of its own, every
 * row with one prepared INSERT per table; the copy and its verification run
 * in one PostgreSQL transaction, committed only when every table matches.
 * Table and column names come from the fixed table list below and the
 * SQLite schema (checked to be plain identifiers), never from input. */
#include "store/pgcopy.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "store/store.h"

/* Every table of schema version 3, parents before children; key orders the
 * rows for the checksum (text keys compare bytewise on both sides). */
static const struct {
    const char *name, *key;
    int text_key;
    const char *identity; /* identity column whose sequence must continue, or NULL */
} tables[] = {
    {"meta", "key", 1, NULL},
    {"areas", "code", 1, NULL},
    {"users", "id", 0, "id"},
    {"sessions", "token_hash", 1, NULL},
    {"departments", "code", 1, NULL},
    {"audit", "id", 0, "id"},
    {"cases", "id", 0, NULL},
    {"events", "seq", 0, "seq"},
    {"media", "hash", 1, NULL},
    {"taxonomy_versions", "version", 0, NULL},
    {"routing_rules", "id", 0, "id"},
    {"calendar_days", "day", 0, NULL},
    {"api_keys", "id", 0, "id"},
    {"open311_requests", "token", 1, NULL},
    {"open311_updates", "id", 0, "id"},
};
#define NTABLES (sizeof tables / sizeof tables[0])
#define MAX_COLS 40

#define FNV_OFFSET 1469598103934665603ULL

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Adds one value in its canonical text form, then a separator. */
static uint64_t hash_value(uint64_t h, const char *text)
{
    h = text ? fnv(h, text, strlen(text)) : fnv(h, "\\N", 2);
    return fnv(h, "\x1f", 1);
}

static void fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t len, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    co_log_error("msg=\"migrate: %s\"", msg);
    if (err && len)
        snprintf(err, len, "%s", msg);
}

static int plain_ident(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* A SQLite value in canonical text (buf holds numbers); NULL for NULL. */
static const char *sqlite_value(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return NULL;
    case SQLITE_INTEGER:
        snprintf(buf, len, "%lld", (long long)sqlite3_column_int64(st, col));
        return buf;
    case SQLITE_FLOAT:
        snprintf(buf, len, "%.17g", sqlite3_column_double(st, col));
        return buf;
    default:
        return (const char *)sqlite3_column_text(st, col);
    }
}

/* A PostgreSQL value in the same canonical text. */
static const char *pg_value(const PGresult *r, int row, int col, char *buf, size_t len)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    const char *v = PQgetvalue(r, row, col);
    Oid t = PQftype(r, col);
    if (t == 700 || t == 701) { /* float4, float8 */
        snprintf(buf, len, "%.17g", strtod(v, NULL));
        return buf;
    }
    return v;
}

typedef struct job {
    sqlite3 *lite;
    PGconn *pg;
    char cols[MAX_COLS][64];
    int ncols;
    co_buf sql;
    char *err;
    size_t errlen;
} job;

static co_err pg_ok(job *j, PGresult *r, const char *what)
{
    ExecStatusType st = PQresultStatus(r);
    co_err rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CO_OK : CO_EDB;
    if (rc)
        fail(j->err, j->errlen, "%s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

static co_err pg_exec(job *j, const char *sql) { return pg_ok(j, PQexec(j->pg, sql), sql); }

/* Opens the SQLite rows of table t in key order; fills j->cols. */
static co_err lite_select(job *j, size_t t, sqlite3_stmt **out)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", tables[t].name, tables[t].key);
    if (sqlite3_prepare_v2(j->lite, sql, -1, out, NULL) != SQLITE_OK) {
        fail(j->err, j->errlen, "%s: %s", sql, sqlite3_errmsg(j->lite));
        return CO_EDB;
    }
    j->ncols = sqlite3_column_count(*out);
    if (j->ncols > MAX_COLS)
        return CO_ETOOBIG;
    for (int c = 0; c < j->ncols; c++) {
        const char *name = sqlite3_column_name(*out, c);
        if (!plain_ident(name) || strlen(name) >= sizeof j->cols[c]) {
            fail(j->err, j->errlen, "unexpected column in %s", tables[t].name);
            return CO_EINVAL;
        }
        snprintf(j->cols[c], sizeof j->cols[c], "%s", name);
    }
    return CO_OK;
}

/* The column list "a,b,c" into j->sql after prefix. */
static co_err cols_sql(job *j, const char *prefix)
{
    co_buf_reset(&j->sql);
    co_err rc = co_buf_puts(&j->sql, prefix);
    for (int c = 0; !rc && c < j->ncols; c++)
        rc = co_buf_printf(&j->sql, "%s%s", c ? "," : "", j->cols[c]);
    return rc;
}

/* Copies table t; *rows and *sum describe what was read from SQLite. */
static co_err copy_table(job *j, size_t t, int64_t *rows, uint64_t *sum)
{
    sqlite3_stmt *st = NULL;
    co_err rc = lite_select(j, t, &st);
    if (!rc)
        rc = cols_sql(j, "");
    if (!rc) {
        char *cols = co_buf_take(&j->sql);
        co_buf_reset(&j->sql);
        rc = co_buf_printf(&j->sql, "INSERT INTO %s(%s) VALUES(", tables[t].name, cols);
        for (int c = 0; !rc && c < j->ncols; c++)
            rc = co_buf_printf(&j->sql, "%s$%d", c ? "," : "", c + 1);
        if (!rc)
            rc = co_buf_puts(&j->sql, ")");
        co_free(cols);
    }
    char name[64];
    snprintf(name, sizeof name, "copy_%s", tables[t].name);
    if (!rc)
        rc = pg_ok(j, PQprepare(j->pg, name, j->sql.data, j->ncols, NULL), tables[t].name);
    char nums[MAX_COLS][40];
    const char *vals[MAX_COLS];
    uint64_t h = FNV_OFFSET;
    int64_t n = 0;
    int s = SQLITE_DONE;
    while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < j->ncols; c++) {
            vals[c] = sqlite_value(st, c, nums[c], sizeof nums[c]);
            h = hash_value(h, vals[c]);
        }
        h = fnv(h, "\x1e", 1);
        n++;
        rc = pg_ok(j, PQexecPrepared(j->pg, name, j->ncols, vals, NULL, NULL, 0),
                   tables[t].name);
    }
    if (!rc && s != SQLITE_DONE) {
        fail(j->err, j->errlen, "reading %s: %s", tables[t].name, sqlite3_errmsg(j->lite));
        rc = CO_EDB;
    }
    sqlite3_finalize(st);
    *rows = n;
    *sum = h;
    return rc;
}

/* Reads table t back from PostgreSQL (same columns, same order). */
static co_err verify_table(job *j, size_t t, int64_t *rows, uint64_t *sum)
{
    co_err rc = cols_sql(j, "SELECT ");
    if (!rc)
        rc = co_buf_printf(&j->sql, " FROM %s ORDER BY %s%s", tables[t].name, tables[t].key,
                           tables[t].text_key ? " COLLATE \"C\"" : "");
    if (rc)
        return rc;
    PGresult *r = PQexec(j->pg, j->sql.data);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return pg_ok(j, r, j->sql.data);
    uint64_t h = FNV_OFFSET;
    char num[40];
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < j->ncols; c++)
            h = hash_value(h, pg_value(r, i, c, num, sizeof num));
        h = fnv(h, "\x1e", 1);
    }
    PQclear(r);
    *rows = n;
    *sum = h;
    return CO_OK;
}

static co_err after_copy(job *j)
{
    char sql[256];
    for (size_t t = 0; t < NTABLES; t++) {
        if (!tables[t].identity)
            continue;
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s','%s'),"
                 " (SELECT coalesce(max(%s),0)+1 FROM %s), false)",
                 tables[t].name, tables[t].identity, tables[t].identity, tables[t].name);
        if (pg_exec(j, sql))
            return CO_EDB;
    }
    return pg_exec(j, "UPDATE areas SET geom = ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(geometry),"
                      "4326)) WHERE geometry IS NOT NULL"
                      " AND geometry::jsonb->>'type' IN ('Polygon','MultiPolygon')");
}

/* 1 when the target holds nothing but its fresh schema (meta aside). */
static int target_empty(job *j)
{
    PGresult *r = PQexec(j->pg, "SELECT (SELECT count(*) FROM areas) + (SELECT count(*) FROM users)"
                                " + (SELECT count(*) FROM cases) + (SELECT count(*) FROM events)"
                                " + (SELECT count(*) FROM taxonomy_versions)");
    int empty = PQresultStatus(r) == PGRES_TUPLES_OK && !strcmp(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    return empty;
}

static co_err copy_all(job *j, co_pgcopy_cb cb, void *ctx)
{
    if (!target_empty(j)) {
        fail(j->err, j->errlen, "目标数据库已有数据 / the target database already holds a city");
        return CO_EEXIST;
    }
    /* the fresh schema's own meta (a new apikey_salt) gives way to the city's */
    co_err rc = pg_exec(j, "DELETE FROM meta");
    int64_t rows[NTABLES];
    uint64_t sums[NTABLES];
    for (size_t t = 0; !rc && t < NTABLES; t++)
        rc = copy_table(j, t, &rows[t], &sums[t]);
    if (!rc)
        rc = after_copy(j);
    int differ = 0;
    for (size_t t = 0; !rc && t < NTABLES; t++) {
        sqlite3_stmt *st = NULL;
        int64_t n = 0;
        uint64_t sum = 0;
        if ((rc = lite_select(j, t, &st)) == CO_OK) /* the columns, for the read-back */
            rc = verify_table(j, t, &n, &sum);
        sqlite3_finalize(st);
        if (rc)
            break;
        if (n != rows[t] || sum != sums[t])
            differ++;
        if (cb)
            cb(ctx, tables[t].name, rows[t], sums[t], sum, n);
    }
    if (!rc && differ) {
        fail(j->err, j->errlen, "%d 张表复制后不一致 / %d tables differ after the copy", differ,
             differ);
        rc = CO_ECONFLICT;
    }
    return rc;
}

co_err co_pgcopy_from_sqlite(const char *dir, const char *url, co_pgcopy_cb cb, void *ctx,
                             char *err, size_t errlen)
{
    job j = {.err = err, .errlen = errlen};
    co_buf_init(&j.sql, 1 << 16);
    co_store *st = NULL;
    /* both schemas brought to this binary's version first */
    co_err rc = co_store_open_url(dir, &st);
    if (rc)
        fail(err, errlen, "cannot open the SQLite store in %s", dir);
    co_store_close(st);
    st = NULL;
    if (!rc && (rc = co_store_open_url(url, &st)))
        fail(err, errlen, "cannot open the PostgreSQL store");
    co_store_close(st);
    char path[1024];
    snprintf(path, sizeof path, "%s/cityops.db", dir);
    if (!rc && sqlite3_open_v2(path, &j.lite, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fail(err, errlen, "cannot open %s", path);
        rc = CO_EIO;
    }
    if (!rc && sqlite3_exec(j.lite, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = CO_EDB;
    if (!rc) {
        j.pg = PQconnectdb(url);
        if (PQstatus(j.pg) != CONNECTION_OK) {
            fail(err, errlen, "postgresql: %s", PQerrorMessage(j.pg));
            rc = CO_EDB;
        }
    }
    if (!rc && !(rc = pg_exec(&j, "BEGIN")) && !(rc = pg_exec(&j, "SET client_min_messages=warning"))) {
        rc = copy_all(&j, cb, ctx);
        if (pg_exec(&j, rc ? "ROLLBACK" : "COMMIT") && !rc)
            rc = CO_EDB;
    }
    if (j.lite)
        sqlite3_exec(j.lite, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(j.lite);
    PQfinish(j.pg);
    co_buf_free(&j.sql);
    return rc;
}
