/* test_sqlite_vfs.c — unit tests of the "cityops" SQLite VFS
 * (src/store/sqlite_vfs.c), which gathers a WAL's consecutive writes into
 * one system call: a commit's frames go out together (many writes in, about
 * one call out), and another connection — through the default VFS, with a
 * file handle of its own — reads exactly what was committed after every
 * commit, even with synchronous=NORMAL (no sync to flush at), through a
 * transaction that spills pages to the log before its commit, and across log
 * checkpoints and restarts. The file is sound afterwards when opened
 * without the VFS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_int.h"
#include "sqlite_sql.h"

typedef struct fx {
    char dir[64], path[96];
    sqlite3 *w, *r; /* writer through the VFS, reader through the default one */
} fx;

static void assert_sound(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cityops-vfs-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    const char *vfs = co_sqlite_vfs();
    if (!vfs || strcmp(vfs, CO_SQLITE_VFS) != 0)
        return -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(f->path, &f->w, flags, vfs) != SQLITE_OK ||
        sqlite3_open_v2(f->path, &f->r, flags, NULL) != SQLITE_OK)
        return -1;
    exec(f->w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, tag INTEGER, v BLOB);"
               "CREATE INDEX t_tag ON t(tag);");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    sqlite3_close(f->w);
    sqlite3_close(f->r);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* Commits `rows` rows of tag `tag` in one transaction on the writer. */
static void commit_rows(sqlite3 *w, int tag, int rows, int bytes)
{
    char sql[160];
    exec(w, "BEGIN");
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<%d) "
             "INSERT INTO t(tag, v) SELECT %d, randomblob(%d) FROM n",
             rows, tag, bytes);
    exec(w, sql);
    exec(w, "COMMIT");
}

static void test_reader_sees_every_commit(void **state)
{
    fx *f = *state;
    uint64_t g0, w0, g1, w1;
    co_sqlite_vfs_counts(&g0, &w0, NULL);
    enum { COMMITS = 300, ROWS = 10, BYTES = 1500 };
    for (int i = 1; i <= COMMITS; i++) {
        commit_rows(f->w, i, ROWS, BYTES);
        /* the reader's own handle on the log sees this commit whole */
        assert_int_equal(one(f->r, "SELECT count(*) FROM t"), (int64_t)i * ROWS);
        assert_int_equal(one(f->r, "SELECT sum(length(v)) FROM t"), (int64_t)i * ROWS * BYTES);
        char sql[80];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE tag=%d", i);
        assert_int_equal(one(f->r, sql), ROWS);
        if (i % 100 == 0)
            assert_sound(f->r);
    }
    co_sqlite_vfs_counts(&g1, &w1, NULL);
    uint64_t gathered = g1 - g0, written = w1 - w0;
    print_message("%d commits: %llu writes to the log gathered into %llu\n", COMMITS,
                  (unsigned long long)gathered, (unsigned long long)written);
    /* each commit is several pages, two writes each; out it goes in about one */
    assert_true(gathered >= (uint64_t)COMMITS * 8);
    assert_true(written <= (uint64_t)COMMITS * 2);
}

static void test_spill_checkpoint_and_reopen(void **state)
{
    fx *f = *state;
    /* a tiny cache: the big transaction writes pages to the log before its
     * commit and reads them back from there */
    exec(f->w, "PRAGMA cache_size=5");
    commit_rows(f->w, 1, 3000, 700);
    assert_int_equal(one(f->r, "SELECT count(*) FROM t"), 3000);
    assert_sound(f->r);
    /* the reader checkpoints everything and empties the log: the writer's
     * next commit starts it again from the top */
    exec(f->r, "PRAGMA wal_checkpoint(TRUNCATE)");
    for (int i = 2; i <= 40; i++) {
        commit_rows(f->w, i, 20, 900);
        assert_int_equal(one(f->r, "SELECT count(*) FROM t"), 3000 + (int64_t)(i - 1) * 20);
        if (i % 10 == 0)
            exec(f->r, "PRAGMA wal_checkpoint(RESTART)");
    }
    assert_sound(f->w);
    /* closed and reopened without the VFS: everything is there */
    sqlite3_close(f->w);
    sqlite3_close(f->r);
    f->w = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &f->r, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(one(f->r, "SELECT count(*) FROM t"), 3000 + 39 * 20);
    assert_sound(f->r);
}

static struct stat wal_stat(const fx *f)
{
    char wal[128];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat st;
    if (stat(wal, &st) != 0)
        fail_msg("no log at %s", wal);
    return st;
}

/* The log grows ahead of its frames by whole chunks of written blocks (no
 * holes: stat's blocks cover its size), so a commit's sync does not change
 * the file's size or allocate blocks. */
static void test_log_grows_ahead(void **state)
{
    fx *f = *state;
    uint64_t g0, w0, grown0, g1, w1, grown1;
    co_sqlite_vfs_counts(&g0, &w0, &grown0);
    off_t first = wal_stat(f).st_size, last = first; /* the set-up's commit grew it once */
    assert_int_equal(first, CO_SQLITE_LOG_CHUNK);
    exec(f->w, "PRAGMA wal_autocheckpoint=0"); /* the log only grows */
    for (int i = 1; i <= 40; i++) {
        commit_rows(f->w, i, 40, 3000); /* ~40 pages a commit: the log passes several chunks */
        struct stat st = wal_stat(f);
        assert_int_equal(st.st_size % CO_SQLITE_LOG_CHUNK, 0);
        assert_true(st.st_size >= last);
        assert_true((off_t)st.st_blocks * 512 >= st.st_size);
        last = st.st_size;
        assert_int_equal(one(f->r, "SELECT count(*) FROM t"), (int64_t)i * 40);
    }
    co_sqlite_vfs_counts(&g1, &w1, &grown1);
    assert_true(last >= 2 * CO_SQLITE_LOG_CHUNK);
    assert_int_equal(grown1 - grown0, (uint64_t)((last - first) / CO_SQLITE_LOG_CHUNK));
    assert_sound(f->r);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out)
        fail_msg("cannot copy %s to %s", from, to);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* The database and its log copied as a crash would leave them (no shared
 * memory), opened by the default VFS. */
static sqlite3 *crash_image(const fx *f)
{
    char db[128], wal[128], from[128];
    snprintf(db, sizeof db, "%s/crash.db", f->dir);
    snprintf(wal, sizeof wal, "%s/crash.db-wal", f->dir);
    snprintf(from, sizeof from, "%s-wal", f->path);
    copy_file(f->path, db);
    copy_file(from, wal);
    sqlite3 *c = NULL;
    assert_int_equal(sqlite3_open_v2(db, &c, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return c;
}

/* The files as a crash would leave them, the log with its zero tail: every
 * commit is there. */
static void test_crash_image_recovers(void **state)
{
    fx *f = *state;
    for (int i = 1; i <= 25; i++)
        commit_rows(f->w, i, 30, 2000);
    assert_true(wal_stat(f).st_size % CO_SQLITE_LOG_CHUNK == 0);
    sqlite3 *c = crash_image(f);
    assert_int_equal(one(c, "SELECT count(*) FROM t"), 25 * 30);
    assert_int_equal(one(c, "SELECT sum(length(v)) FROM t"), 25 * 30 * 2000);
    assert_sound(c);
    sqlite3_close(c);
}

/* A transaction bigger than the cache writes pages to the log before its
 * commit, and when it changes such a page again SQLite overwrites that frame
 * and, at the commit, rewrites the checksums of the frames after it: headers
 * alone, the last of them a commit frame's. With synchronous=NORMAL no sync
 * follows, so that header must still reach the file when the write lock is
 * released: a process that dies after its commit (the files as they are
 * then) keeps the commit, as SQLite promises for NORMAL. */
static void test_crash_after_rewritten_commit(void **state)
{
    fx *f = *state;
    commit_rows(f->w, 1, 10, 500);
    exec(f->w, "PRAGMA cache_size=5");
    commit_rows(f->w, 2, 3000, 700);
    sqlite3 *c = crash_image(f);
    assert_int_equal(one(c, "SELECT count(*) FROM t"), 3010);
    assert_sound(c);
    sqlite3_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reader_sees_every_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spill_checkpoint_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_grows_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_image_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_after_rewritten_commit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
