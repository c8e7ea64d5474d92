/* pg_int.h — internals shared by the PostgreSQL back-end's files only
 * (pg.c, pg_cases.c, pg_config.c, pg_apikeys.c, pg_migrate.c). Not for
 * callers of store.h.
 *
 * Every statement goes through co_pg_run (or co_pg_scan, which pages through
 * large tables by key): the SQL text is prepared once per connection
 * (PQprepare, named after its slot in the connection's statement cache) and
 * then executed with PQsendQueryPrepared. Parameters are text-format values
 * (co_pg_params); nothing is ever pasted into SQL. */
#ifndef CO_STORE_PG_INT_H
#define CO_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define CO_PG_MAX_PARAMS 48

/* Positional parameters $1..$n in the order they are added. Strings are
 * borrowed (they must outlive the co_pg_run call); numbers are formatted
 * into the struct itself. */
typedef struct co_pg_params {
    int n;
    const char *val[CO_PG_MAX_PARAMS];
    int len[CO_PG_MAX_PARAMS];
    char num[CO_PG_MAX_PARAMS][32];
} co_pg_params;

void co_pg_text(co_pg_params *p, const char *s);  /* NULL binds SQL NULL */
void co_pg_nz(co_pg_params *p, const char *s);    /* NULL binds "" */
void co_pg_int(co_pg_params *p, int64_t v);
void co_pg_real(co_pg_params *p, double v);

/* One row of a result, handed to row callbacks. */
typedef struct co_pg_row {
    const PGresult *res;
    int row;
} co_pg_row;

/* Called for each result row; non-zero stops (the rest is discarded). */
typedef int (*co_pg_row_cb)(void *ctx, const co_pg_row *res);

/* Runs sql with params on the calling thread's connection; cb may be NULL.
 * *nrows (may be NULL) gets the number of rows. The whole result arrives
 * before the first callback, so callbacks may run statements of their own
 * (as they may with SQLite). A unique or other integrity violation is
 * CO_EEXIST, anything else CO_EDB (logged). */
co_err co_pg_run(void *impl, const char *sql, const co_pg_params *p, co_pg_row_cb cb, void *ctx,
                 int64_t *nrows);
/* Scans too large to hold at once (every case, every event) in chunks by
 * key: sql takes $1 = the last key seen (bigint, 0 at first) and returns at
 * most CO_PG_SCAN_CHUNK rows with key > $1 in key order, the key in column
 * key_col. Callbacks may run statements, as with co_pg_run. Chunks are
 * separate statements: not one snapshot unless the caller is inside a
 * transaction. */
#define CO_PG_SCAN_CHUNK 2000
#define CO_PG_SCAN_LIMIT " LIMIT 2000" /* the same number, for the SQL text */
co_err co_pg_scan(void *impl, const char *sql, int key_col, co_pg_row_cb cb, void *ctx);
/* Runs a statement whose result nobody needs at once (no rows). Inside a
 * transaction it is only sent: an error shows at the next statement or at
 * commit, failing the transaction. Outside, the same as co_pg_run. */
co_err co_pg_defer(void *impl, const char *sql, const co_pg_params *p);
/* Runs a plain statement (no parameters, not prepared: BEGIN, DDL). */
co_err co_pg_exec(void *impl, const char *sql);

/* Column readers for row callbacks. A NULL reads as "" / 0. co_pg_str
 * points into the result: valid during the callback. */
const char *co_pg_str(const co_pg_row *r, int col);
int64_t co_pg_i64(const co_pg_row *r, int col);
double co_pg_f64(const co_pg_row *r, int col);
int co_pg_isnull(const co_pg_row *r, int col);
void co_pg_copy(char *dst, size_t len, const co_pg_row *r, int col);

/* Row callbacks for a single value: copy column 0 of the first row into a
 * co_pg_strout, or read it as an integer into an int64_t; both stop. */
typedef struct co_pg_strout {
    char *dst;
    size_t len;
} co_pg_strout;
int co_pg_first_str(void *ctx, const co_pg_row *r);
int co_pg_first_i64(void *ctx, const co_pg_row *r);

/* The calling thread's connection, opened on first use (NULL on failure). */
PGconn *co_pg_conn(void *impl);

/* pg_migrate.c — applies pending migrations (serialised between nodes by an
 * advisory lock); returns the schema version or -1. */
co_err co_pg_migrate(PGconn *db);
int co_pg_schema_version(PGconn *db);

/* pg_check.c — the back-end's consistency check */
#include "store/store.h"
co_err co_pg_integrity(void *impl, co_integrity_cb cb, void *ctx);

/* pg_cases.c — cases, events, media */
#include "domain/case.h"
struct co_case_query;
co_err co_pg_event_append(void *impl, co_event *ev);
co_err co_pg_seq_reserve(void *impl, int n, int64_t *out);
co_err co_pg_case_put(void *impl, const co_case *c, const char *doc);
co_err co_pg_case_get(void *impl, int64_t id, const char *number, co_case *out);
co_err co_pg_cases_each(void *impl, int (*cb)(void *, const co_case *), void *ctx);
co_err co_pg_cases_each_light(void *impl, int (*cb)(void *, const co_case *), void *ctx);
co_err co_pg_cases_query(void *impl, const struct co_case_query *q,
                         int (*cb)(void *, const co_case *), void *ctx);
co_err co_pg_events_of(void *impl, int64_t case_id, int (*cb)(void *, const co_event *),
                       void *ctx);
co_err co_pg_case_max_id(void *impl, int64_t *id, int64_t *seq);
co_err co_pg_events_each(void *impl, int (*cb)(void *, const co_event *), void *ctx);
co_err co_pg_case_last_number(void *impl, const char *prefix, int64_t *seq);
co_err co_pg_changes_since(void *impl, int64_t after, int64_t before, int limit, co_change_cb cb,
                           void *ctx);

/* pg_follow.c — several nodes on one database: notifications, counters */
#define CO_PG_WRITE_LOCK_KEY 0x6c6f67 /* "log": held by every writing transaction */
co_err co_pg_wait_events(void *impl, int timeout_ms, int *notified);
co_err co_pg_reserve(void *impl, const char *counter, int64_t floor, int64_t block,
                     int64_t *last);
co_err co_pg_media_put(void *impl, const char *hash, const char *type, int64_t size);
co_err co_pg_media_get(void *impl, const char *hash, char *type, size_t len);

/* pg_config.c — taxonomy versions, routing rules, calendar days */
struct co_rule_rec;
co_err co_pg_taxonomy_put(void *impl, int64_t version, const char *doc, const char *author);
co_err co_pg_taxonomy_get(void *impl, int64_t version, char **doc, int64_t *version_out);
co_err co_pg_rule_put(void *impl, const struct co_rule_rec *r, int64_t *id_out);
co_err co_pg_rule_del(void *impl, int64_t id);
co_err co_pg_rules_each(void *impl, int (*cb)(void *, const struct co_rule_rec *), void *ctx);
co_err co_pg_calday_put(void *impl, int64_t day, int kind, const char *name);
co_err co_pg_caldays_each(void *impl, int (*cb)(void *, int64_t, int, const char *), void *ctx);

/* pg_apikeys.c — Open311: API keys, request extras, client updates, events
 * by time */
struct co_apikey_rec;
struct co_open311_request_rec;
struct co_open311_update_rec;
struct co_event_brief;
co_err co_pg_apikey_put(void *impl, const struct co_apikey_rec *k, int64_t *id_out);
co_err co_pg_apikey_find(void *impl, const char *key_hash,
                         int (*cb)(void *, const struct co_apikey_rec *), void *ctx);
co_err co_pg_apikeys_each(void *impl, int (*cb)(void *, const struct co_apikey_rec *), void *ctx);
co_err co_pg_apikey_revoke(void *impl, int64_t id);
co_err co_pg_open311_request_put(void *impl, const struct co_open311_request_rec *r);
co_err co_pg_open311_requests_find(void *impl, const char *token, const char *numbers,
                                   int (*cb)(void *, const struct co_open311_request_rec *),
                                   void *ctx);
co_err co_pg_open311_update_put(void *impl, const struct co_open311_update_rec *u,
                                int64_t *id_out);
co_err co_pg_open311_updates_of(void *impl, const char *number,
                                int (*cb)(void *, const struct co_open311_update_rec *),
                                void *ctx);
co_err co_pg_events_brief(void *impl, const char *case_ids, int64_t from, int64_t to, int limit,
                          int offset, int (*cb)(void *, const struct co_event_brief *),
                          void *ctx);

#endif
