/* pg.c — the PostgreSQL (+ PostGIS) back-end of store.h: connections,
 * the statement runner shared by pg_*.c, and meta, areas, users, sessions,
 * departments, audit and transactions.
 *
 * The store is named by a libpq connection URI (postgres://… or
 * postgresql://…). One connection per thread, opened on first use and kept
 * in a thread-specific slot; every connection is closed when the store
 * closes. Each connection prepares a statement the first time it runs it
 * (PQprepare, then PQsendQueryPrepared every time). Between begin and commit
 * the connection is in libpq pipeline mode: BEGIN and deferred writes
 * (co_pg_defer: the case row after its event) go out without waiting, so a
 * registered case costs one round trip, not two; the first failure fails the
 * commit. Migrations (pg_migrate.c) run once at open. The impl owns its
 * connections and the conninfo copy. */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "store/pg_int.h"
#include "store/store.h"

#define MAX_CONNS 256
#define MAX_STMTS 128

typedef struct stmt {
    uint64_t hash;
    char *sql; /* a copy, owned; prepared as "s<slot>" */
} stmt;

typedef struct conn {
    PGconn *db;
    stmt stmts[MAX_STMTS];
    int nstmts;
    /* inside begin/commit the connection is in pipeline mode: statements
     * whose results nobody waits for (BEGIN, co_pg_defer) are sent without
     * a round trip and their results read with the next statement's */
    int pipeline;
    int deferred;     /* statements sent whose results are still unread */
} conn;

typedef struct impl {
    char *conninfo;
    pthread_key_t key;
    pthread_mutex_t lock;
    conn *conns[MAX_CONNS];
    int nconns;
} impl;

/* ---------------------------------------------------------------- params */

void co_pg_text(co_pg_params *p, const char *s)
{
    if (p->n >= CO_PG_MAX_PARAMS)
        return;
    p->val[p->n] = s;
    p->len[p->n] = s ? (int)strlen(s) : 0;
    p->n++;
}

void co_pg_nz(co_pg_params *p, const char *s) { co_pg_text(p, s ? s : ""); }

void co_pg_int(co_pg_params *p, int64_t v)
{
    if (p->n >= CO_PG_MAX_PARAMS)
        return;
    int n = snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
    p->val[p->n] = p->num[p->n];
    p->len[p->n] = n;
    p->n++;
}

void co_pg_real(co_pg_params *p, double v)
{
    if (p->n >= CO_PG_MAX_PARAMS)
        return;
    int n = snprintf(p->num[p->n], sizeof p->num[p->n], "%.17g", v);
    p->val[p->n] = p->num[p->n];
    p->len[p->n] = n;
    p->n++;
}

/* ---------------------------------------------------------- connections */

static co_err open_conn(const char *conninfo, PGconn **out)
{
    PGconn *db = PQconnectdb(conninfo);
    if (!db || PQstatus(db) != CONNECTION_OK) {
        co_log_error("msg=\"postgresql connect failed\" err=\"%s\"",
                     db ? PQerrorMessage(db) : "out of memory");
        PQfinish(db);
        return CO_EDB;
    }
    PQsetClientEncoding(db, "UTF8");
    PGresult *r = PQexec(db, "SET application_name = 'cityops'");
    PQclear(r);
    *out = db;
    return CO_OK;
}

static void forget_stmts(conn *cn)
{
    for (int i = 0; i < cn->nstmts; i++)
        co_free(cn->stmts[i].sql);
    cn->nstmts = 0;
}

/* Between transactions: reads what the server sent while the connection was
 * idle (poll with no wait, so nothing blocks). A server that stopped sent a
 * FATAL message and closed the socket; reading up to the end of the stream
 * marks the connection bad, so it is re-opened before a statement fails on
 * it. Notifications read here wait in libpq for PQnotifies. */
static void notice_closed(PGconn *db)
{
    for (int i = 0; i < 4 && PQstatus(db) == CONNECTION_OK; i++) {
        struct pollfd p = {PQsocket(db), POLLIN, 0};
        if (p.fd < 0 || poll(&p, 1, 0) <= 0 || !PQconsumeInput(db))
            return;
    }
}

static conn *thread_conn(impl *im)
{
    conn *cn = pthread_getspecific(im->key);
    if (cn) {
        if (!cn->pipeline && PQtransactionStatus(cn->db) == PQTRANS_IDLE)
            notice_closed(cn->db);
        /* a dropped connection is re-opened between transactions */
        if (PQstatus(cn->db) == CONNECTION_BAD) {
            forget_stmts(cn);
            PQreset(cn->db);
            if (PQstatus(cn->db) != CONNECTION_OK)
                return NULL;
        }
        return cn;
    }
    PGconn *db = NULL;
    if (open_conn(im->conninfo, &db))
        return NULL;
    pthread_mutex_lock(&im->lock);
    if (im->nconns >= MAX_CONNS) {
        pthread_mutex_unlock(&im->lock);
        PQfinish(db);
        co_log_error("msg=\"too many postgresql connections\"");
        return NULL;
    }
    cn = co_xcalloc(1, sizeof *cn);
    cn->db = db;
    im->conns[im->nconns++] = cn;
    pthread_mutex_unlock(&im->lock);
    pthread_setspecific(im->key, cn);
    return cn;
}

PGconn *co_pg_conn(void *vimpl)
{
    conn *cn = thread_conn(vimpl);
    return cn ? cn->db : NULL;
}

static void close_conn(conn *cn)
{
    forget_stmts(cn);
    PQfinish(cn->db);
    co_free(cn);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot of sql's prepared statement on cn, preparing it on first use;
 * -1 when it cannot be prepared (logged) or the cache is full (-2). */
static int stmt_slot(conn *cn, const char *sql, int nparams)
{
    uint64_t h = fnv1a(sql);
    for (int i = 0; i < cn->nstmts; i++)
        if (cn->stmts[i].hash == h && !strcmp(cn->stmts[i].sql, sql))
            return i;
    if (cn->nstmts >= MAX_STMTS)
        return -2;
    int slot = cn->nstmts;
    char name[16];
    snprintf(name, sizeof name, "s%d", slot);
    PGresult *r = PQprepare(cn->db, name, sql, nparams, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        co_log_error("msg=\"postgresql prepare failed\" err=\"%s\" sql=\"%.120s\"",
                     PQresultErrorMessage(r), sql);
    PQclear(r);
    if (!ok)
        return -1;
    stmt *s = &cn->stmts[cn->nstmts++];
    s->hash = h;
    s->sql = co_xstrdup(sql);
    return slot;
}

static co_err result_error(const PGresult *r, const char *sql)
{
    if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED)
        return CO_EDB; /* an earlier statement of the pipeline failed (logged) */
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && !strncmp(state, "23", 2))
        return CO_EEXIST; /* integrity constraint violation */
    co_log_error("msg=\"postgresql statement failed\" state=%s err=\"%s\" sql=\"%.120s\"",
                 state ? state : "?", PQresultErrorMessage(r), sql);
    return CO_EDB;
}

/* Reads the results of the deferred statements; the first error. */
static co_err drain_deferred(conn *cn)
{
    co_err rc = CO_OK;
    for (; cn->deferred > 0; cn->deferred--) {
        PGresult *r;
        while ((r = PQgetResult(cn->db))) { /* a statement's results end with NULL */
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !rc)
                rc = result_error(r, "(deferred statement)");
            PQclear(r);
        }
    }
    return rc;
}

/* Ends pipeline mode: a sync point (not a commit inside BEGIN), every
 * result read. The first error. */
static co_err pipeline_end(conn *cn)
{
    if (!cn->pipeline)
        return CO_OK;
    co_err rc = PQpipelineSync(cn->db) ? CO_OK : CO_EDB;
    co_err drc = drain_deferred(cn);
    PGresult *r;
    while ((r = PQgetResult(cn->db))) { /* up to the sync point */
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    if (!PQexitPipelineMode(cn->db)) {
        co_log_error("msg=\"postgresql pipeline not idle\" err=\"%s\"", PQerrorMessage(cn->db));
        rc = CO_EDB;
    }
    cn->pipeline = 0;
    return rc ? rc : drc;
}

static co_err pipeline_begin(conn *cn)
{
    if (!PQenterPipelineMode(cn->db)) {
        co_log_error("msg=\"postgresql pipeline mode failed\" err=\"%s\"", PQerrorMessage(cn->db));
        return CO_EDB;
    }
    cn->pipeline = 1;
    return CO_OK;
}

/* Sends sql (prepared on first use) with params; the caller collects the
 * results. CO_OK when sent. */
static co_err send_stmt(conn *cn, const char *sql, const co_pg_params *p)
{
    if (p->n >= CO_PG_MAX_PARAMS)
        return CO_EINVAL;
    int slot = -3;
    if (cn->pipeline) { /* preparing is synchronous: step out of the pipeline once */
        uint64_t h = fnv1a(sql);
        for (int i = 0; i < cn->nstmts && slot < 0; i++)
            if (cn->stmts[i].hash == h && !strcmp(cn->stmts[i].sql, sql))
                slot = i;
        co_err rc = CO_OK;
        if (slot == -3 && cn->nstmts < MAX_STMTS &&
            ((rc = pipeline_end(cn)) || (slot = stmt_slot(cn, sql, p->n)) == -1 ||
             (rc = pipeline_begin(cn))))
            return rc ? rc : CO_EDB;
    }
    if (slot == -3)
        slot = stmt_slot(cn, sql, p->n);
    if (slot == -1)
        return CO_EDB;
    int sent;
    if (slot >= 0) {
        char name[16];
        snprintf(name, sizeof name, "s%d", slot);
        sent = PQsendQueryPrepared(cn->db, name, p->n, p->val, p->len, NULL, 0);
    } else { /* cache full: still a parameterised, server-side prepared (unnamed) statement */
        sent = PQsendQueryParams(cn->db, sql, p->n, NULL, p->val, p->len, NULL, 0);
    }
    if (!sent) {
        co_log_error("msg=\"postgresql send failed\" err=\"%s\"", PQerrorMessage(cn->db));
        return CO_EDB;
    }
    if (cn->pipeline && (!PQsendFlushRequest(cn->db) || PQflush(cn->db) != 0))
        return CO_EDB;
    return CO_OK;
}

/* Hands the rows of r to cb until it stops; counts them into *n. */
static int each_row(const PGresult *r, co_pg_row_cb cb, void *ctx, int64_t *n)
{
    int rows = PQntuples(r);
    for (int i = 0; i < rows; i++) {
        (*n)++;
        co_pg_row row = {r, i};
        if (cb && cb(ctx, &row)) {
            *n += rows - i - 1;
            return 1;
        }
    }
    return 0;
}

/* Collects the results of the statement sent, then hands the rows to cb:
 * the connection is free again before the first callback. */
static co_err collect(conn *cn, const char *sql, co_pg_row_cb cb, void *ctx, int64_t *nrows)
{
    co_err rc = CO_OK;
    int64_t n = 0;
    PGresult *r, *rows = NULL;
    while ((r = PQgetResult(cn->db))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK && !rows) {
            rows = r;
            continue; /* kept for after the last result */
        }
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !rc)
            rc = result_error(r, sql);
        PQclear(r);
    }
    if (rows && !rc)
        each_row(rows, cb, ctx, &n);
    PQclear(rows);
    if (nrows)
        *nrows = n;
    return rc;
}

co_err co_pg_run(void *vimpl, const char *sql, const co_pg_params *p, co_pg_row_cb cb, void *ctx,
                 int64_t *nrows)
{
    static const co_pg_params none;
    conn *cn = thread_conn(vimpl);
    if (!cn)
        return CO_EDB;
    co_err rc = send_stmt(cn, sql, p ? p : &none);
    if (rc)
        return rc;
    co_err drc = drain_deferred(cn); /* results arrive in order */
    rc = collect(cn, sql, cb, ctx, nrows);
    return drc ? drc : rc;
}

co_err co_pg_defer(void *vimpl, const char *sql, const co_pg_params *p)
{
    conn *cn = thread_conn(vimpl);
    if (!cn)
        return CO_EDB;
    if (!cn->pipeline)
        return co_pg_run(vimpl, sql, p, NULL, NULL, NULL);
    co_err rc = send_stmt(cn, sql, p);
    if (!rc)
        cn->deferred++;
    return rc;
}

typedef struct scan_ctx {
    int key_col;
    int64_t last;
    int stopped;
    co_pg_row_cb cb;
    void *ctx;
} scan_ctx;

static int scan_row(void *vctx, const co_pg_row *r)
{
    scan_ctx *sc = vctx;
    sc->last = co_pg_i64(r, sc->key_col);
    sc->stopped = sc->cb(sc->ctx, r);
    return sc->stopped;
}

co_err co_pg_scan(void *vimpl, const char *sql, int key_col, co_pg_row_cb cb, void *ctx)
{
    scan_ctx sc = {key_col, 0, 0, cb, ctx};
    for (;;) {
        co_pg_params p = {0};
        co_pg_int(&p, sc.last);
        int64_t n = 0;
        co_err rc = co_pg_run(vimpl, sql, &p, scan_row, &sc, &n);
        if (rc || sc.stopped || n < CO_PG_SCAN_CHUNK)
            return rc;
    }
}

co_err co_pg_exec(void *vimpl, const char *sql)
{
    PGconn *db = co_pg_conn(vimpl);
    if (!db)
        return CO_EDB;
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    co_err rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CO_OK : result_error(r, sql);
    PQclear(r);
    return rc;
}

const char *co_pg_str(const co_pg_row *r, int col)
{
    return PQgetisnull(r->res, r->row, col) ? "" : PQgetvalue(r->res, r->row, col);
}

int64_t co_pg_i64(const co_pg_row *r, int col)
{
    return strtoll(co_pg_str(r, col), NULL, 10);
}

double co_pg_f64(const co_pg_row *r, int col)
{
    return strtod(co_pg_str(r, col), NULL);
}

int co_pg_isnull(const co_pg_row *r, int col) { return PQgetisnull(r->res, r->row, col); }

void co_pg_copy(char *dst, size_t len, const co_pg_row *r, int col)
{
    snprintf(dst, len, "%s", co_pg_str(r, col));
}

/* ------------------------------------------------------------ open/close */

static void pg_close(void *vimpl)
{
    impl *im = vimpl;
    for (int i = 0; i < im->nconns; i++)
        close_conn(im->conns[i]);
    pthread_key_delete(im->key);
    pthread_mutex_destroy(&im->lock);
    co_free(im->conninfo);
    co_free(im);
}

static co_err pg_open(const char *url, void **out)
{
    impl *im = co_xcalloc(1, sizeof *im);
    im->conninfo = co_xstrdup(url);
    pthread_key_create(&im->key, NULL);
    pthread_mutex_init(&im->lock, NULL);
    PGconn *db = co_pg_conn(im);
    if (!db || co_pg_migrate(db)) {
        pg_close(im);
        return CO_EDB;
    }
    *out = im;
    return CO_OK;
}

static int pg_schema_version(void *vimpl)
{
    PGconn *db = co_pg_conn(vimpl);
    return db ? co_pg_schema_version(db) : -1;
}

/* ------------------------------------------------------------------ meta */

int co_pg_first_str(void *ctx, const co_pg_row *r)
{
    co_pg_strout *o = ctx;
    co_pg_copy(o->dst, o->len, r, 0);
    return 1;
}

int co_pg_first_i64(void *ctx, const co_pg_row *r)
{
    *(int64_t *)ctx = co_pg_i64(r, 0);
    return 1;
}

static co_err pg_meta_get(void *vimpl, const char *key, char *val, size_t len)
{
    co_pg_params p = {0};
    co_pg_text(&p, key);
    co_pg_strout out = {val, len};
    int64_t n = 0;
    co_err rc = co_pg_run(vimpl, "SELECT value FROM meta WHERE key=$1", &p, co_pg_first_str, &out,
                          &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

static co_err pg_meta_set(void *vimpl, const char *key, const char *val)
{
    co_pg_params p = {0};
    co_pg_text(&p, key);
    co_pg_text(&p, val);
    return co_pg_run(vimpl,
                     "INSERT INTO meta(key,value) VALUES($1,$2) "
                     "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                     &p, NULL, NULL, NULL);
}

/* ---------------------------------------------------------- transactions */

/* BEGIN goes out in pipeline mode without a round trip; the statements of
 * the transaction follow it (co_pg_defer ones without waiting either). */
static co_err pg_begin(void *vimpl)
{
    conn *cn = thread_conn(vimpl);
    if (!cn)
        return CO_EDB;
    if (cn->pipeline) /* nested: SQLite refuses, PostgreSQL only warns */
        return CO_EDB;
    co_err rc = pipeline_begin(cn);
    if (rc)
        return rc;
    if (!PQsendQueryParams(cn->db, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)) {
        (void)pipeline_end(cn);
        return CO_EDB;
    }
    cn->deferred++;
    /* every writing transaction holds the log lock (CO_PG_WRITE_LOCK_KEY) until it ends: events get
     * their sequence numbers in commit order, so a node reading the log
     * after sequence N never misses an event that commits later below N */
    if (!PQsendQueryParams(cn->db, "SELECT pg_advisory_xact_lock(7106407)",
                           0, NULL, NULL, NULL, NULL, 0)) {
        (void)pipeline_end(cn);
        return CO_EDB;
    }
    cn->deferred++;
    return CO_OK;
}

static co_err pg_commit(void *vimpl)
{
    conn *cn = thread_conn(vimpl);
    if (!cn)
        return CO_EDB;
    if (!cn->pipeline) /* COMMIT of a failed transaction "succeeds" as a rollback */
        return PQtransactionStatus(cn->db) == PQTRANS_INERROR ? CO_EDB
                                                               : co_pg_exec(vimpl, "COMMIT");
    co_err rc = PQsendQueryParams(cn->db, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ? CO_OK : CO_EDB;
    if (!rc)
        cn->deferred++;
    co_err erc = pipeline_end(cn);
    rc = rc ? rc : erc;
    /* a failed statement leaves the transaction aborted: ROLLBACK ends it */
    if (!rc && PQtransactionStatus(cn->db) != PQTRANS_IDLE)
        rc = CO_EDB;
    return rc;
}

static co_err pg_rollback(void *vimpl)
{
    conn *cn = thread_conn(vimpl);
    if (!cn)
        return CO_EDB;
    (void)pipeline_end(cn); /* the errors are the reason for the rollback */
    return PQtransactionStatus(cn->db) == PQTRANS_IDLE ? CO_OK : co_pg_exec(vimpl, "ROLLBACK");
}

/* ----------------------------------------------------------------- areas */

static co_err pg_areas_replace(void *vimpl, co_level level, const char *within,
                               const co_area_rec *recs, size_t n)
{
    co_err rc = pg_begin(vimpl);
    if (rc)
        return rc;
    co_pg_params p = {0};
    co_pg_int(&p, (int)level);
    co_pg_text(&p, within ? within : "");
    rc = co_pg_run(vimpl, "DELETE FROM areas WHERE level=$1 AND ($2='' OR starts_with(code, $2))",
                   &p, NULL, NULL, NULL);
    /* the GeoJSON text as given, and the same as a PostGIS multipolygon for
     * GIS tools (NULL for anything but a (multi)polygon) */
    static const char ins[] =
        "INSERT INTO areas(code,level,name,parent,geometry,area_m2,cx,cy,minx,miny,maxx,maxy,geom)"
        " VALUES($1,$2,$3,$4,$5::text,$6,$7,$8,$9,$10,$11,$12,"
        " CASE WHEN $5::text IS NOT NULL AND $5::jsonb->>'type' IN ('Polygon','MultiPolygon')"
        " THEN ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON($5::text),4326)) END)";
    for (size_t i = 0; !rc && i < n; i++) {
        const co_area_rec *a = &recs[i];
        memset(&p, 0, sizeof p);
        co_pg_text(&p, a->code);
        co_pg_int(&p, (int)a->level);
        co_pg_text(&p, a->name);
        co_pg_nz(&p, a->parent);
        co_pg_text(&p, a->geometry);
        co_pg_real(&p, a->area_m2);
        co_pg_real(&p, a->cx);
        co_pg_real(&p, a->cy);
        co_pg_real(&p, a->minx);
        co_pg_real(&p, a->miny);
        co_pg_real(&p, a->maxx);
        co_pg_real(&p, a->maxy);
        rc = co_pg_run(vimpl, ins, &p, NULL, NULL, NULL);
    }
    if (rc) {
        (void)pg_rollback(vimpl);
        return rc;
    }
    return pg_commit(vimpl);
}

typedef struct area_ctx {
    int with_geometry;
    co_area_cb cb;
    void *ctx;
} area_ctx;

static int area_row(void *vctx, const co_pg_row *r)
{
    area_ctx *ac = vctx;
    co_area_rec a = {
        .code = co_pg_str(r, 0),
        .level = (co_level)co_pg_i64(r, 1),
        .name = co_pg_str(r, 2),
        .parent = co_pg_str(r, 3),
        .geometry = ac->with_geometry ? co_pg_str(r, 4) : NULL,
        .area_m2 = co_pg_f64(r, 5),
        .cx = co_pg_f64(r, 6),
        .cy = co_pg_f64(r, 7),
        .minx = co_pg_f64(r, 8),
        .miny = co_pg_f64(r, 9),
        .maxx = co_pg_f64(r, 10),
        .maxy = co_pg_f64(r, 11),
    };
    return ac->cb(ac->ctx, &a);
}

static co_err pg_areas_each(void *vimpl, int level, int with_geometry, co_area_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, level);
    area_ctx ac = {with_geometry, cb, ctx};
    return co_pg_run(vimpl,
                     with_geometry
                         ? "SELECT code,level,name,parent,geometry,area_m2,cx,cy,minx,miny,maxx,"
                           "maxy FROM areas WHERE ($1::int<0 OR level=$1) ORDER BY level, code"
                         : "SELECT code,level,name,parent,NULL,area_m2,cx,cy,minx,miny,maxx,"
                           "maxy FROM areas WHERE ($1::int<0 OR level=$1) ORDER BY level, code",
                     &p, area_row, &ac, NULL);
}

static co_err pg_area_get(void *vimpl, const char *code, co_area_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_text(&p, code);
    area_ctx ac = {1, cb, ctx};
    int64_t n = 0;
    co_err rc = co_pg_run(vimpl,
                          "SELECT code,level,name,parent,geometry,area_m2,cx,cy,minx,miny,maxx,"
                          "maxy FROM areas WHERE code=$1",
                          &p, area_row, &ac, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

/* ----------------------------------------------------------------- users */

static co_err pg_user_put(void *vimpl, const co_user_rec *u, int64_t *id_out)
{
    co_pg_params p = {0};
    co_pg_text(&p, u->username);
    co_pg_text(&p, u->display_name ? u->display_name : u->username);
    co_pg_text(&p, u->password_hash);
    co_pg_text(&p, u->role);
    co_pg_nz(&p, u->dept);
    co_pg_nz(&p, u->scope);
    co_pg_int(&p, u->disabled);
    int64_t id = 0, n = 0;
    co_err rc = co_pg_run(
        vimpl,
        "INSERT INTO users(username,display_name,password_hash,role,dept,scope,disabled) "
        "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(username) DO UPDATE SET "
        "display_name=excluded.display_name, password_hash=excluded.password_hash, "
        "role=excluded.role, dept=excluded.dept, scope=excluded.scope, "
        "disabled=excluded.disabled RETURNING id",
        &p, co_pg_first_i64, &id, &n);
    if (rc)
        return rc == CO_EEXIST ? CO_EDB : rc;
    if (!n)
        return CO_EDB;
    if (id_out)
        *id_out = id;
    return CO_OK;
}

static void user_row(const co_pg_row *r, co_user *u)
{
    u->id = co_pg_i64(r, 0);
    co_pg_copy(u->username, sizeof u->username, r, 1);
    co_pg_copy(u->display_name, sizeof u->display_name, r, 2);
    co_pg_copy(u->password_hash, sizeof u->password_hash, r, 3);
    co_pg_copy(u->role, sizeof u->role, r, 4);
    co_pg_copy(u->dept, sizeof u->dept, r, 5);
    co_pg_copy(u->scope, sizeof u->scope, r, 6);
    u->disabled = (int)co_pg_i64(r, 7);
}

static int user_one(void *ctx, const co_pg_row *r)
{
    user_row(r, ctx);
    return 1;
}

#define USER_COLS "id,username,display_name,password_hash,role,dept,scope,disabled"

static co_err pg_user_get(void *vimpl, const char *username, co_user *out)
{
    co_pg_params p = {0};
    co_pg_text(&p, username);
    int64_t n = 0;
    co_err rc = co_pg_run(vimpl, "SELECT " USER_COLS " FROM users WHERE username=$1", &p,
                          user_one, out, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

static co_err pg_user_get_id(void *vimpl, int64_t id, co_user *out)
{
    co_pg_params p = {0};
    co_pg_int(&p, id);
    int64_t n = 0;
    co_err rc = co_pg_run(vimpl, "SELECT " USER_COLS " FROM users WHERE id=$1", &p, user_one,
                          out, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

typedef struct user_each_ctx {
    co_user_cb cb;
    void *ctx;
} user_each_ctx;

static int user_each_row(void *vctx, const co_pg_row *r)
{
    user_each_ctx *uc = vctx;
    co_user u;
    user_row(r, &u);
    return uc->cb(uc->ctx, &u);
}

static co_err pg_users_each(void *vimpl, co_user_cb cb, void *ctx)
{
    user_each_ctx uc = {cb, ctx};
    return co_pg_run(vimpl, "SELECT " USER_COLS " FROM users ORDER BY id", NULL, user_each_row,
                     &uc, NULL);
}

/* -------------------------------------------------------------- sessions */

static co_err pg_session_put(void *vimpl, const co_session_rec *s)
{
    co_pg_params p = {0};
    co_pg_text(&p, s->token_hash);
    co_pg_text(&p, s->csrf);
    co_pg_int(&p, s->user_id);
    co_pg_int(&p, s->expires);
    return co_pg_run(vimpl,
                     "INSERT INTO sessions(token_hash,csrf,user_id,expires) VALUES($1,$2,$3,$4) "
                     "ON CONFLICT(token_hash) DO UPDATE SET csrf=excluded.csrf,"
                     " user_id=excluded.user_id, expires=excluded.expires",
                     &p, NULL, NULL, NULL);
}

static co_err pg_session_del(void *vimpl, const char *token_hash)
{
    co_pg_params p = {0};
    co_pg_text(&p, token_hash);
    return co_pg_run(vimpl, "DELETE FROM sessions WHERE token_hash=$1", &p, NULL, NULL, NULL);
}

typedef struct session_ctx {
    co_session_cb cb;
    void *ctx;
} session_ctx;

static int session_row(void *vctx, const co_pg_row *r)
{
    session_ctx *sc = vctx;
    co_session_rec s = {co_pg_str(r, 0), co_pg_str(r, 1), co_pg_i64(r, 2), co_pg_i64(r, 3)};
    return sc->cb(sc->ctx, &s);
}

static co_err pg_sessions_each(void *vimpl, int64_t now, co_session_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, now);
    session_ctx sc = {cb, ctx};
    return co_pg_run(vimpl,
                     "SELECT token_hash,csrf,user_id,expires FROM sessions WHERE expires>$1", &p,
                     session_row, &sc, NULL);
}

typedef struct trim_ctx {
    co_session_cb cb;
    void *ctx;
    int64_t user_id;
} trim_ctx;

static int trimmed_row(void *vctx, const co_pg_row *r)
{
    trim_ctx *tc = vctx;
    co_session_rec s = {co_pg_str(r, 0), "", tc->user_id, 0};
    tc->cb(tc->ctx, &s);
    return 0;
}

static co_err pg_sessions_trim(void *vimpl, int64_t user_id, const char *spare, int keep,
                               co_session_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, user_id);
    co_pg_int(&p, keep);
    co_pg_text(&p, spare);
    trim_ctx tc = {cb, ctx, user_id};
    return co_pg_run(vimpl,
                     "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions"
                     " WHERE user_id=$1 AND token_hash<>$3 ORDER BY expires DESC, token_hash"
                     " OFFSET $2)"
                     " RETURNING token_hash",
                     &p, trimmed_row, &tc, NULL);
}

/* One session by token hash (a node that did not create it asks). */
static co_err pg_session_get(void *vimpl, const char *token_hash, int64_t now, co_session_cb cb,
                             void *ctx)
{
    co_pg_params p = {0};
    co_pg_text(&p, token_hash);
    co_pg_int(&p, now);
    session_ctx sc = {cb, ctx};
    int64_t n = 0;
    co_err rc = co_pg_run(vimpl,
                          "SELECT token_hash,csrf,user_id,expires FROM sessions"
                          " WHERE token_hash=$1 AND expires>$2",
                          &p, session_row, &sc, &n);
    return rc ? rc : n ? CO_OK : CO_ENOTFOUND;
}

/* ----------------------------------------------------------- departments */

static co_err pg_dept_put(void *vimpl, const co_dept_rec *d)
{
    co_pg_params p = {0};
    co_pg_text(&p, d->code);
    co_pg_text(&p, d->name);
    co_pg_text(&p, d->type);
    co_pg_nz(&p, d->area);
    co_pg_nz(&p, d->hours);
    return co_pg_run(vimpl,
                     "INSERT INTO departments(code,name,type,area,hours) VALUES($1,$2,$3,$4,$5) "
                     "ON CONFLICT(code) DO UPDATE SET name=excluded.name, type=excluded.type,"
                     " area=excluded.area, hours=excluded.hours",
                     &p, NULL, NULL, NULL);
}

typedef struct dept_ctx {
    co_dept_cb cb;
    void *ctx;
} dept_ctx;

static int dept_row(void *vctx, const co_pg_row *r)
{
    dept_ctx *dc = vctx;
    co_dept_rec d = {co_pg_str(r, 0), co_pg_str(r, 1), co_pg_str(r, 2), co_pg_str(r, 3),
                     co_pg_str(r, 4)};
    return dc->cb(dc->ctx, &d);
}

static co_err pg_depts_each(void *vimpl, co_dept_cb cb, void *ctx)
{
    dept_ctx dc = {cb, ctx};
    return co_pg_run(vimpl, "SELECT code,name,type,area,hours FROM departments ORDER BY code",
                     NULL, dept_row, &dc, NULL);
}

/* ----------------------------------------------------------------- audit */

static co_err pg_audit_add(void *vimpl, int64_t ts, const char *actor, const char *action,
                           const char *detail)
{
    co_pg_params p = {0};
    co_pg_int(&p, ts);
    co_pg_text(&p, actor);
    co_pg_text(&p, action);
    co_pg_text(&p, detail);
    return co_pg_run(vimpl, "INSERT INTO audit(ts,actor,action,detail) VALUES($1,$2,$3,$4)", &p,
                     NULL, NULL, NULL);
}

typedef struct audit_ctx {
    co_audit_cb cb;
    void *ctx;
} audit_ctx;

static int audit_row(void *vctx, const co_pg_row *r)
{
    audit_ctx *ac = vctx;
    co_audit_rec a = {co_pg_i64(r, 0), co_pg_i64(r, 1), co_pg_str(r, 2), co_pg_str(r, 3),
                      co_pg_str(r, 4)};
    return ac->cb(ac->ctx, &a);
}

static co_err pg_audit_each(void *vimpl, int64_t before_id, int limit, co_audit_cb cb, void *ctx)
{
    co_pg_params p = {0};
    co_pg_int(&p, before_id);
    co_pg_int(&p, limit);
    audit_ctx ac = {cb, ctx};
    return co_pg_run(vimpl,
                     "SELECT id,ts,actor,action,detail FROM audit "
                     "WHERE ($1::bigint=0 OR id<$1) ORDER BY id DESC LIMIT $2",
                     &p, audit_row, &ac, NULL);
}

const co_store_backend co_store_pg = {
    .name = "postgresql",
    .indexes_place = 1,
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .areas_replace = pg_areas_replace,
    .areas_each = pg_areas_each,
    .area_get = pg_area_get,
    .user_put = pg_user_put,
    .user_get = pg_user_get,
    .user_get_id = pg_user_get_id,
    .users_each = pg_users_each,
    .session_put = pg_session_put,
    .session_del = pg_session_del,
    .sessions_each = pg_sessions_each,
    .dept_put = pg_dept_put,
    .depts_each = pg_depts_each,
    .audit_add = pg_audit_add,
    .audit_each = pg_audit_each,
    .event_append = co_pg_event_append,
    .case_put = co_pg_case_put,
    .case_get = co_pg_case_get,
    .cases_each = co_pg_cases_each,
    .cases_each_light = co_pg_cases_each_light,
    .cases_query = co_pg_cases_query,
    .events_of = co_pg_events_of,
    .case_max_id = co_pg_case_max_id,
    .events_each = co_pg_events_each,
    .case_last_number = co_pg_case_last_number,
    .media_put = co_pg_media_put,
    .media_get = co_pg_media_get,
    .taxonomy_put = co_pg_taxonomy_put,
    .taxonomy_get = co_pg_taxonomy_get,
    .rule_put = co_pg_rule_put,
    .rule_del = co_pg_rule_del,
    .rules_each = co_pg_rules_each,
    .calday_put = co_pg_calday_put,
    .caldays_each = co_pg_caldays_each,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .apikey_put = co_pg_apikey_put,
    .apikey_find = co_pg_apikey_find,
    .apikeys_each = co_pg_apikeys_each,
    .apikey_revoke = co_pg_apikey_revoke,
    .open311_request_put = co_pg_open311_request_put,
    .open311_requests_find = co_pg_open311_requests_find,
    .open311_update_put = co_pg_open311_update_put,
    .open311_updates_of = co_pg_open311_updates_of,
    .events_brief = co_pg_events_brief,
    .integrity = co_pg_integrity,
    .changes_since = co_pg_changes_since,
    .wait_events = co_pg_wait_events,
    .reserve = co_pg_reserve,
    .seq_reserve = co_pg_seq_reserve,
    .session_get = pg_session_get,
    .sessions_trim = pg_sessions_trim,
};
