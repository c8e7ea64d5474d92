/* sqlite_backup.c — online backup of the SQLite store (co_store_backup).
 * Copies the live database into a new file with SQLite's online backup API
 * in a single step: one read transaction, hence one consistent snapshot. In
 * WAL mode a reader never blocks the writer, so the server keeps committing
 * during the copy (only checkpoints wait for it to finish); a copy in many
 * small steps would instead restart every time a commit lands and might never
 * finish on a busy city. The copy is written to DEST.part, turned into a
 * single-file database, synced and renamed to DEST, so a crash never leaves a
 * half-written file under the final name. Owns nothing after it returns. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/sqlite_int.h"
#include "store/store.h"

/* Copies src into the open destination connection, step by step. */
static co_err copy_pages(sqlite3 *src, sqlite3 *dst, co_backup_progress_cb cb, void *ctx)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        co_log_error("msg=\"backup init failed\" err=\"%s\"", sqlite3_errmsg(dst));
        return CO_EDB;
    }
    int rc = sqlite3_backup_step(b, -1);
    if (cb)
        cb(ctx, sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b),
           sqlite3_backup_pagecount(b));
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        co_log_error("msg=\"backup step failed\" err=\"%s\"", sqlite3_errstr(rc));
        return CO_EDB;
    }
    return CO_OK;
}

/* fsyncs the file at path. */
static co_err sync_file(const char *path)
{
    FILE *f = fopen(path, "r+");
    if (!f)
        return CO_EIO;
    int ok = fsync(fileno(f)) == 0;
    fclose(f);
    return ok ? CO_OK : CO_EIO;
}

co_err co_sqlite_backup(void *impl, const char *dest, co_backup_progress_cb cb, void *ctx)
{
    char part[1100];
    struct stat st;
    if (stat(dest, &st) == 0)
        return CO_EEXIST;
    int n = snprintf(part, sizeof part, "%s.part", dest);
    if (n < 0 || (size_t)n >= sizeof part)
        return CO_ETOOBIG;
    unlink(part);
    sqlite3 *src = co_sqlite_conn(impl), *dst = NULL;
    if (!src)
        return CO_EDB;
    co_err rc = CO_OK;
    if (sqlite3_open_v2(part, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = CO_EIO;
        goto out;
    }
    if ((rc = copy_pages(src, dst, cb, ctx)))
        goto out;
    /* the copy is a plain rollback-journal database: one file, nothing beside it */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE;", NULL, NULL, NULL) != SQLITE_OK) {
        rc = CO_EDB;
        goto out;
    }
out:
    if (dst)
        sqlite3_close_v2(dst);
    if (!rc)
        rc = sync_file(part);
    if (!rc && rename(part, dest) != 0)
        rc = CO_EIO;
    if (rc)
        unlink(part);
    return rc;
}
