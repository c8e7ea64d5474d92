/* sqlite.c — the embedded SQLite back-end of store.h.
 * DIR/cityops.db in WAL mode with synchronous=FULL (a committed transaction
 * survives power loss), through the "cityops" VFS (sqlite_vfs.c: a commit's
 * WAL frames in one write). One connection per thread, created on first use and
 * kept in a thread-specific slot; every connection is closed when the store
 * closes. Schema migrations (migrate.c) run once at open. Only prepared
 * statements with bound parameters are used. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define MAX_CONNS 256

#define MAX_CACHED 16

typedef struct conn {
    sqlite3 *db;
    sqlite3_stmt *cache[MAX_CACHED];
} conn;

typedef struct impl {
    char path[1024];
    pthread_key_t key;
    pthread_mutex_t lock;
    conn *conns[MAX_CONNS];
    int nconns;
    /* checkpoints run on their own thread so commits never pay for them */
    pthread_t ckpt_thread;
    pthread_cond_t ckpt_wake;
    int ckpt_stop, ckpt_started;
    atomic_int long_log;     /* a commit left the log long: the checkpoint thread is told */
    atomic_int catch_up;     /* the log is long: the next committer finishes its checkpoint */
} impl;

#define CKPT_INTERVAL_MS 2000

static co_err open_conn(const char *path, sqlite3 **out)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             co_sqlite_vfs());
    if (rc != SQLITE_OK) {
        co_log_error("msg=\"sqlite open failed\" path=%s err=\"%s\"", path,
                     db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return CO_EDB;
    }
    sqlite3_busy_timeout(db, 10000);
    const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                          "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                          "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-65536;";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        co_log_error("msg=\"sqlite pragmas failed\" err=\"%s\"", sqlite3_errmsg(db));
        sqlite3_close(db);
        return CO_EDB;
    }
    *out = db;
    return CO_OK;
}

static int on_wal(void *arg, sqlite3 *db, const char *name, int frames);

static conn *thread_conn(impl *im)
{
    conn *cn = pthread_getspecific(im->key);
    if (cn)
        return cn;
    sqlite3 *db = NULL;
    if (open_conn(im->path, &db))
        return NULL;
    pthread_mutex_lock(&im->lock);
    if (im->nconns >= MAX_CONNS) {
        pthread_mutex_unlock(&im->lock);
        sqlite3_close(db);
        co_log_error("msg=\"too many sqlite connections\"");
        return NULL;
    }
    cn = co_xcalloc(1, sizeof *cn);
    cn->db = db;
    sqlite3_wal_hook(db, on_wal, im);
    im->conns[im->nconns++] = cn;
    pthread_mutex_unlock(&im->lock);
    pthread_setspecific(im->key, cn);
    return cn;
}

sqlite3 *co_sqlite_conn(void *vimpl)
{
    conn *cn = thread_conn(vimpl);
    return cn ? cn->db : NULL;
}

sqlite3_stmt *co_sqlite_cached(void *vimpl, int slot, const char *sql)
{
    conn *cn = thread_conn(vimpl);
    if (!cn || slot < 0 || slot >= MAX_CACHED)
        return NULL;
    if (!cn->cache[slot]) {
        if (sqlite3_prepare_v3(cn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &cn->cache[slot],
                               NULL) != SQLITE_OK) {
            co_log_error("msg=\"sqlite prepare failed\" err=\"%s\"", sqlite3_errmsg(cn->db));
            return NULL;
        }
    } else {
        sqlite3_reset(cn->cache[slot]);
        sqlite3_clear_bindings(cn->cache[slot]);
    }
    return cn->cache[slot];
}

static void close_conn(conn *cn)
{
    for (int i = 0; i < MAX_CACHED; i++)
        sqlite3_finalize(cn->cache[i]);
    sqlite3_exec(cn->db, "PRAGMA wal_checkpoint(PASSIVE);", NULL, NULL, NULL);
    sqlite3_close_v2(cn->db);
    co_free(cn);
}

/* Checkpoints the WAL into the database file every CKPT_INTERVAL_MS on a
 * connection of its own (PASSIVE: never blocks writers or readers). SQLite
 * starts the log again from its beginning at a write transaction that finds
 * every frame checkpointed (and no reader still on the log); until then the
 * log grows. Under continuous writes a passive checkpoint never gets there:
 * the frames appended while it copies are always left, and the file grows
 * without end (200 MB in a 20,000-case run with 16 clients), every byte of
 * its growth written twice (sqlite_vfs.c fills it with zeros ahead of the
 * frames). So past CKPT_RESTART_FRAMES frames (the commit that gets there
 * wakes it: on_wal) the thread checkpoints every CKPT_BUSY_MS, in passes
 * until one leaves fewer than CKPT_CATCH_UP_FRAMES appended behind it, and
 * then asks the next committer to finish the job (catch_up, see sq_commit): on the writer's own connection, between two of
 * its transactions, a passive checkpoint copies the few frames left with
 * nothing appended behind it, and the writer's next transaction starts the
 * log again. (A RESTART checkpoint from here, as before, blocked the writer
 * for as long as it copied: up to hundreds of milliseconds.) */
#define CKPT_RESTART_FRAMES 8192
static atomic_int g_log_limit = CKPT_RESTART_FRAMES;
#define CKPT_BUSY_MS 100
#define CKPT_PASSES 8
#define CKPT_CATCH_UP_FRAMES 1024 /* appended during a pass: few enough for the committer */
void co_sqlite_set_log_limit(int frames)
{
    atomic_store(&g_log_limit, frames > 0 ? frames : CKPT_RESTART_FRAMES);
}

/* After every commit, on the committing connection: the first commit that
 * leaves the log long wakes the checkpoint thread at once. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    impl *im = arg;
    if (frames > atomic_load(&g_log_limit) && !atomic_exchange(&im->long_log, 1))
        pthread_cond_signal(&im->ckpt_wake);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    impl *im = arg;
    sqlite3 *db = NULL;
    pthread_setname_np(pthread_self(), "co-checkpoint");
    if (open_conn(im->path, &db))
        return NULL;
    int busy = 0; /* the log was long at the last round */
    pthread_mutex_lock(&im->lock);
    while (!im->ckpt_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (busy ? CKPT_BUSY_MS : CKPT_INTERVAL_MS) * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&im->ckpt_wake, &im->lock, &ts);
        pthread_mutex_unlock(&im->lock);
        int nlog = 0, nckpt = 0, limit = atomic_load(&g_log_limit);
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
        busy = nlog > limit;
        if (!busy)
            atomic_store(&im->long_log, 0); /* the next long log wakes this thread */
        /* each pass copies what was appended during the one before: a few
         * passes leave little, and only then is the committer asked */
        int left = nlog;
        for (int pass = 0; busy && pass < CKPT_PASSES && left >= CKPT_CATCH_UP_FRAMES; pass++) {
            int before = nlog;
            if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt) !=
                SQLITE_OK)
                break;
            left = nlog - before; /* appended during the last pass */
        }
        atomic_store(&im->catch_up, busy && left < CKPT_CATCH_UP_FRAMES);
        pthread_mutex_lock(&im->lock);
    }
    pthread_mutex_unlock(&im->lock);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_close_v2(db);
    return NULL;
}

static co_err sq_open(const char *dir, void **out)
{
    if (mkdir(dir, 0750) != 0) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            co_log_error("msg=\"cannot create data directory\" dir=%s", dir);
            return CO_EIO;
        }
    }
    impl *im = co_xcalloc(1, sizeof *im);
    int n = snprintf(im->path, sizeof im->path, "%s/cityops.db", dir);
    if (n < 0 || (size_t)n >= sizeof im->path) {
        co_free(im);
        return CO_EINVAL;
    }
    pthread_key_create(&im->key, NULL);
    pthread_mutex_init(&im->lock, NULL);
    sqlite3 *db = co_sqlite_conn(im);
    if (!db || co_sqlite_migrate(db)) {
        for (int i = 0; i < im->nconns; i++)
            close_conn(im->conns[i]);
        pthread_key_delete(im->key);
        co_free(im);
        return CO_EDB;
    }
    pthread_cond_init(&im->ckpt_wake, NULL);
    im->ckpt_started = pthread_create(&im->ckpt_thread, NULL, ckpt_main, im) == 0;
    *out = im;
    return CO_OK;
}

static void sq_close(void *vimpl)
{
    impl *im = vimpl;
    if (im->ckpt_started) {
        pthread_mutex_lock(&im->lock);
        im->ckpt_stop = 1;
        pthread_cond_signal(&im->ckpt_wake);
        pthread_mutex_unlock(&im->lock);
        pthread_join(im->ckpt_thread, NULL);
    }
    pthread_cond_destroy(&im->ckpt_wake);
    for (int i = 0; i < im->nconns; i++)
        close_conn(im->conns[i]);
    pthread_key_delete(im->key);
    pthread_mutex_destroy(&im->lock);
    co_free(im);
}

static int sq_schema_version(void *vimpl)
{
    sqlite3 *db = co_sqlite_conn(vimpl);
    return db ? co_sqlite_user_version(db) : -1;
}

co_err co_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (!db)
        return CO_EDB;
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        co_log_error("msg=\"sqlite prepare failed\" err=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(db),
                     sql);
        return CO_EDB;
    }
    return CO_OK;
}

co_err co_sqlite_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return CO_OK;
    if (rc == SQLITE_CONSTRAINT)
        return CO_EEXIST;
    co_log_error("msg=\"sqlite step failed\" err=\"%s\"", sqlite3_errmsg(sqlite3_db_handle(st)));
    return CO_EDB;
}

void co_sqlite_copy(char *dst, size_t len, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
}

const char *co_sqlite_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* ---- meta ---- */
static co_err sq_meta_get(void *vimpl, const char *key, char *val, size_t len)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl), "SELECT value FROM meta WHERE key=?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        co_sqlite_copy(val, len, st, 0);
    else
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_meta_set(void *vimpl, const char *key, const char *val)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "INSERT INTO meta(key,value) VALUES(?1,?2) "
                                  "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

/* ---- transactions ---- */
static co_err exec(void *vimpl, const char *sql)
{
    sqlite3 *db = co_sqlite_conn(vimpl);
    if (!db || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        co_log_error("msg=\"sqlite exec failed\" sql=\"%s\" err=\"%s\"", sql,
                     db ? sqlite3_errmsg(db) : "no connection");
        return CO_EDB;
    }
    return CO_OK;
}

static co_err sq_begin(void *vimpl) { return exec(vimpl, "BEGIN IMMEDIATE"); }
/* Commits; then, when the checkpoint thread asked for it (a long log), this
 * connection finishes the checkpoint between two transactions (see
 * ckpt_main). Its cost is the committer's: a few milliseconds every
 * CKPT_RESTART_FRAMES frames. */
static co_err sq_commit(void *vimpl)
{
    impl *im = vimpl;
    co_err rc = exec(vimpl, "COMMIT");
    if (!rc && atomic_load(&im->catch_up) && atomic_exchange(&im->catch_up, 0))
        sqlite3_wal_checkpoint_v2(co_sqlite_conn(vimpl), NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                  NULL); /* busy (another checkpoint): the thread asks again */
    return rc;
}
static co_err sq_rollback(void *vimpl) { return exec(vimpl, "ROLLBACK"); }

/* ---- areas ---- */
static co_err bind_area(sqlite3_stmt *st, const co_area_rec *a)
{
    sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)a->level);
    sqlite3_bind_text(st, 3, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->parent ? a->parent : "", -1, SQLITE_STATIC);
    if (a->geometry)
        sqlite3_bind_text(st, 5, a->geometry, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_double(st, 6, a->area_m2);
    sqlite3_bind_double(st, 7, a->cx);
    sqlite3_bind_double(st, 8, a->cy);
    sqlite3_bind_double(st, 9, a->minx);
    sqlite3_bind_double(st, 10, a->miny);
    sqlite3_bind_double(st, 11, a->maxx);
    sqlite3_bind_double(st, 12, a->maxy);
    return CO_OK;
}

static co_err sq_areas_replace(void *vimpl, co_level level, const char *within,
                               const co_area_rec *recs, size_t n)
{
    sqlite3 *db = co_sqlite_conn(vimpl);
    sqlite3_stmt *del = NULL, *ins = NULL;
    co_err rc = sq_begin(vimpl);
    if (rc)
        return rc;
    rc = co_sqlite_prepare(db, "DELETE FROM areas WHERE level=?1 AND (?2='' OR code LIKE ?2 || '%')",
                           &del);
    if (rc)
        goto out;
    sqlite3_bind_int(del, 1, (int)level);
    sqlite3_bind_text(del, 2, within, -1, SQLITE_STATIC);
    if ((rc = co_sqlite_step_done(del)))
        goto out;
    rc = co_sqlite_prepare(db,
                           "INSERT INTO areas(code,level,name,parent,geometry,area_m2,cx,cy,"
                           "minx,miny,maxx,maxy) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
                           &ins);
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++) {
        sqlite3_reset(ins);
        bind_area(ins, &recs[i]);
        if ((rc = co_sqlite_step_done(ins)))
            goto out;
    }
out:
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (rc) {
        sq_rollback(vimpl);
        return rc;
    }
    return sq_commit(vimpl);
}

static int area_row(sqlite3_stmt *st, int with_geometry, co_area_cb cb, void *ctx)
{
    co_area_rec a = {
        .code = co_sqlite_text(st, 0),
        .level = (co_level)sqlite3_column_int(st, 1),
        .name = co_sqlite_text(st, 2),
        .parent = co_sqlite_text(st, 3),
        .geometry = with_geometry ? co_sqlite_text(st, 4) : NULL,
        .area_m2 = sqlite3_column_double(st, 5),
        .cx = sqlite3_column_double(st, 6),
        .cy = sqlite3_column_double(st, 7),
        .minx = sqlite3_column_double(st, 8),
        .miny = sqlite3_column_double(st, 9),
        .maxx = sqlite3_column_double(st, 10),
        .maxy = sqlite3_column_double(st, 11),
    };
    return cb(ctx, &a);
}

#define AREA_COLS "code,level,name,parent,%s,area_m2,cx,cy,minx,miny,maxx,maxy"

static co_err sq_areas_each(void *vimpl, int level, int with_geometry, co_area_cb cb, void *ctx)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT " AREA_COLS " FROM areas WHERE (?1<0 OR level=?1) ORDER BY level, code",
             with_geometry ? "geometry" : "NULL");
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl), sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, level);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        if (area_row(st, with_geometry, cb, ctx))
            break;
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_area_get(void *vimpl, const char *code, co_area_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT code,level,name,parent,geometry,area_m2,cx,cy,minx,miny,"
                                  "maxx,maxy FROM areas WHERE code=?1",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        area_row(st, 1, cb, ctx);
    else
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* ---- users ---- */
static co_err sq_user_put(void *vimpl, const co_user_rec *u, int64_t *id_out)
{
    sqlite3 *db = co_sqlite_conn(vimpl);
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(
        db,
        "INSERT INTO users(username,display_name,password_hash,role,dept,scope,disabled) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(username) DO UPDATE SET "
        "display_name=excluded.display_name, password_hash=excluded.password_hash, "
        "role=excluded.role, dept=excluded.dept, scope=excluded.scope, "
        "disabled=excluded.disabled RETURNING id",
        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->display_name ? u->display_name : u->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, u->dept ? u->dept : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, u->scope ? u->scope : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, u->disabled);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        if (id_out)
            *id_out = sqlite3_column_int64(st, 0);
    } else {
        co_log_error("msg=\"user_put failed\" err=\"%s\"", sqlite3_errmsg(db));
        rc = CO_EDB;
    }
    sqlite3_finalize(st);
    return rc;
}

static void user_row(sqlite3_stmt *st, co_user *u)
{
    u->id = sqlite3_column_int64(st, 0);
    co_sqlite_copy(u->username, sizeof u->username, st, 1);
    co_sqlite_copy(u->display_name, sizeof u->display_name, st, 2);
    co_sqlite_copy(u->password_hash, sizeof u->password_hash, st, 3);
    co_sqlite_copy(u->role, sizeof u->role, st, 4);
    co_sqlite_copy(u->dept, sizeof u->dept, st, 5);
    co_sqlite_copy(u->scope, sizeof u->scope, st, 6);
    u->disabled = sqlite3_column_int(st, 7);
}

#define USER_COLS "id,username,display_name,password_hash,role,dept,scope,disabled"

static co_err user_query(void *vimpl, const char *sql, const char *s_arg, int64_t i_arg,
                         co_user *out)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl), sql, &st);
    if (rc)
        return rc;
    if (s_arg)
        sqlite3_bind_text(st, 1, s_arg, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, i_arg);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        user_row(st, out);
    else
        rc = s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_user_get(void *vimpl, const char *username, co_user *out)
{
    return user_query(vimpl, "SELECT " USER_COLS " FROM users WHERE username=?1", username, 0, out);
}

static co_err sq_user_get_id(void *vimpl, int64_t id, co_user *out)
{
    return user_query(vimpl, "SELECT " USER_COLS " FROM users WHERE id=?1", NULL, id, out);
}

static co_err sq_users_each(void *vimpl, co_user_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT " USER_COLS " FROM users ORDER BY id", &st);
    if (rc)
        return rc;
    co_user u;
    while (sqlite3_step(st) == SQLITE_ROW) {
        user_row(st, &u);
        if (cb(ctx, &u))
            break;
    }
    sqlite3_finalize(st);
    return CO_OK;
}

/* ---- sessions ---- */
static co_err sq_session_put(void *vimpl, const co_session_rec *s)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "INSERT OR REPLACE INTO sessions(token_hash,csrf,user_id,expires) "
                                  "VALUES(?1,?2,?3,?4)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, s->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, s->user_id);
    sqlite3_bind_int64(st, 4, s->expires);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_session_del(void *vimpl, const char *token_hash)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "DELETE FROM sessions WHERE token_hash=?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_sessions_each(void *vimpl, int64_t now, co_session_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT token_hash,csrf,user_id,expires FROM sessions "
                                  "WHERE expires>?1",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, now);
    while (sqlite3_step(st) == SQLITE_ROW) {
        co_session_rec s = {co_sqlite_text(st, 0), co_sqlite_text(st, 1), sqlite3_column_int64(st, 2),
                            sqlite3_column_int64(st, 3)};
        if (cb(ctx, &s))
            break;
    }
    sqlite3_finalize(st);
    return CO_OK;
}

static co_err sq_session_get(void *vimpl, const char *token_hash, int64_t now, co_session_cb cb,
                             void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT token_hash,csrf,user_id,expires FROM sessions "
                                  "WHERE token_hash=?1 AND expires>?2",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        co_session_rec rec = {co_sqlite_text(st, 0), co_sqlite_text(st, 1),
                              sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
        cb(ctx, &rec);
    }
    rc = s == SQLITE_ROW ? CO_OK : s == SQLITE_DONE ? CO_ENOTFOUND : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_sessions_trim(void *vimpl, int64_t user_id, const char *spare, int keep,
                               co_session_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash"
                                  " FROM sessions WHERE user_id=?1 AND token_hash!=?3"
                                  " ORDER BY expires DESC, token_hash LIMIT -1 OFFSET ?2)"
                                  " RETURNING token_hash",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int(st, 2, keep);
    sqlite3_bind_text(st, 3, spare, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        co_session_rec rec = {co_sqlite_text(st, 0), "", user_id, 0};
        cb(ctx, &rec);
    }
    rc = s == SQLITE_DONE ? CO_OK : CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

/* ---- departments ---- */
static co_err sq_dept_put(void *vimpl, const co_dept_rec *d)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "INSERT OR REPLACE INTO departments(code,name,type,area,hours) "
                                  "VALUES(?1,?2,?3,?4,?5)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, d->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->area ? d->area : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->hours ? d->hours : "", -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_depts_each(void *vimpl, co_dept_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT code,name,type,area,hours FROM departments ORDER BY code",
                                  &st);
    if (rc)
        return rc;
    while (sqlite3_step(st) == SQLITE_ROW) {
        co_dept_rec d = {co_sqlite_text(st, 0), co_sqlite_text(st, 1), co_sqlite_text(st, 2), co_sqlite_text(st, 3),
                         co_sqlite_text(st, 4)};
        if (cb(ctx, &d))
            break;
    }
    sqlite3_finalize(st);
    return CO_OK;
}

/* ---- audit ---- */
static co_err sq_audit_add(void *vimpl, int64_t ts, const char *actor, const char *action,
                           const char *detail)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "INSERT INTO audit(ts,actor,action,detail) VALUES(?1,?2,?3,?4)",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, ts);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
    rc = co_sqlite_step_done(st);
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_audit_each(void *vimpl, int64_t before_id, int limit, co_audit_cb cb, void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(co_sqlite_conn(vimpl),
                                  "SELECT id,ts,actor,action,detail FROM audit "
                                  "WHERE (?1=0 OR id<?1) ORDER BY id DESC LIMIT ?2",
                                  &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, before_id);
    sqlite3_bind_int(st, 2, limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        co_audit_rec a = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                          co_sqlite_text(st, 2), co_sqlite_text(st, 3), co_sqlite_text(st, 4)};
        if (cb(ctx, &a))
            break;
    }
    sqlite3_finalize(st);
    return CO_OK;
}

/* ---- integrity: SQLite's own checks ---- */
/* Runs a PRAGMA that lists problems one per row; calls cb for each row
 * (a lone "ok" row means none). Columns are joined with spaces. */
static co_err pragma_problems(sqlite3 *db, const char *sql, const char *what, co_integrity_cb cb,
                              void *ctx)
{
    sqlite3_stmt *st = NULL;
    co_err rc = co_sqlite_prepare(db, sql, &st);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        char line[512];
        size_t off = 0;
        for (int i = 0; i < sqlite3_column_count(st) && off < sizeof line; i++) {
            int n = snprintf(line + off, sizeof line - off, "%s%s", i ? " " : "",
                             co_sqlite_text(st, i));
            off += n > 0 ? (size_t)n : 0;
        }
        if (!strcmp(line, "ok"))
            continue;
        char msg[600];
        snprintf(msg, sizeof msg, "%s: %s", what, line);
        cb(ctx, msg);
    }
    if (s != SQLITE_DONE)
        rc = CO_EDB;
    sqlite3_finalize(st);
    return rc;
}

static co_err sq_integrity(void *vimpl, co_integrity_cb cb, void *ctx)
{
    sqlite3 *db = co_sqlite_conn(vimpl);
    if (!db)
        return CO_EDB;
    co_err rc = pragma_problems(db, "PRAGMA integrity_check(100)", "integrity_check", cb, ctx);
    if (!rc)
        rc = pragma_problems(db, "PRAGMA foreign_key_check", "foreign_key_check", cb, ctx);
    return rc;
}

const co_store_backend co_store_sqlite = {
    .name = "sqlite",
    .backup = co_sqlite_backup,
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .areas_replace = sq_areas_replace,
    .areas_each = sq_areas_each,
    .area_get = sq_area_get,
    .user_put = sq_user_put,
    .user_get = sq_user_get,
    .user_get_id = sq_user_get_id,
    .users_each = sq_users_each,
    .session_put = sq_session_put,
    .session_del = sq_session_del,
    .session_get = sq_session_get,
    .sessions_trim = sq_sessions_trim,
    .changes_since = co_sqlite_changes_since,
    .sessions_each = sq_sessions_each,
    .dept_put = sq_dept_put,
    .depts_each = sq_depts_each,
    .audit_add = sq_audit_add,
    .audit_each = sq_audit_each,
    .event_append = co_sqlite_event_append,
    .case_put = co_sqlite_case_put,
    .case_get = co_sqlite_case_get,
    .cases_each = co_sqlite_cases_each,
    .cases_each_light = co_sqlite_cases_each_light,
    .cases_query = co_sqlite_cases_query,
    .events_of = co_sqlite_events_of,
    .case_max_id = co_sqlite_case_max_id,
    .events_each = co_sqlite_events_each,
    .case_last_number = co_sqlite_case_last_number,
    .media_put = co_sqlite_media_put,
    .media_get = co_sqlite_media_get,
    .taxonomy_put = co_sqlite_taxonomy_put,
    .taxonomy_get = co_sqlite_taxonomy_get,
    .rule_put = co_sqlite_rule_put,
    .rule_del = co_sqlite_rule_del,
    .rules_each = co_sqlite_rules_each,
    .calday_put = co_sqlite_calday_put,
    .caldays_each = co_sqlite_caldays_each,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .apikey_put = co_sqlite_apikey_put,
    .apikey_find = co_sqlite_apikey_find,
    .apikeys_each = co_sqlite_apikeys_each,
    .apikey_revoke = co_sqlite_apikey_revoke,
    .open311_request_put = co_sqlite_open311_request_put,
    .open311_requests_find = co_sqlite_open311_requests_find,
    .open311_update_put = co_sqlite_open311_update_put,
    .open311_updates_of = co_sqlite_open311_updates_of,
    .events_brief = co_sqlite_events_brief,
    .integrity = sq_integrity,
};
