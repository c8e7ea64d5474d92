/* sqlite_vfs.c — the "cityops" SQLite VFS: the platform's default VFS with
 * the writes to a write-ahead log gathered into one.
 *
 * SQLite writes a WAL commit frame by frame, each frame as two pwrite calls
 * (its 24-byte header, then the page): a commit of 20 pages is 40 system
 * calls (gathered, the writer thread's CPU fell by 14 % with 16 clients,
 * 7 % with 256: docs/benchmarks.md). Here the writes
 * to a WAL file that follow each other are kept in a buffer of the file's
 * own and written with one call when:
 *   - the frame that ends a transaction is complete (its header carries the
 *     database size, which only a commit frame does). So a commit's frames
 *     are in the file before SQLite publishes them in the WAL index, whatever
 *     the connection's synchronous setting: readers (other connections and
 *     processes) never see a frame that is not written;
 *   - a write does not continue the buffered run, or would overflow it;
 *   - anything else touches the file: read, sync, truncate, size, file
 *     control, fetch, close;
 *   - the connection releases the log's write lock. A commit can end with
 *     a lone header in the buffer: when a transaction overwrote a frame it
 *     had spilled, SQLite rewrites the checksums of the frames after it at
 *     the commit, headers only. Without a sync at the commit
 *     (synchronous=NORMAL) that header would stay in this process, and a
 *     crash would lose a commit SQLite promises to keep.
 *
 * A WAL file also grows ahead of its frames, by LOG_CHUNK bytes of zeros at
 * a time, written like data. On ext4 (and most file systems) fdatasync must
 * also write the inode when a write changed the file's size or allocated
 * blocks: a second synchronous I/O at every commit of a growing log (a tenth
 * of the writer thread's CPU with 16 clients). Writes into blocks that exist
 * change neither, so the commit's sync is one I/O. The zeros are never frames
 * SQLite accepts (their salt does not match the log header's), so recovery
 * stops at them as it stops at a log's stale frames after a restart.
 * PostgreSQL fills its WAL segments with zeros before use for the same
 * reason (wal_init_zero).
 *
 * Every other file (the database, its shared memory, journals) passes
 * straight through. Each open file owns its buffer (allocated on its first
 * gathered write, freed at close). Registered once per process
 * (co_sqlite_vfs, which returns its name); connections opt in by that
 * name. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "store/sqlite_int.h"

/* the unix VFS writes at most 0x1ffff bytes a call (it masks larger sizes
 * and then reports a short write as a full disk): 31 frames of 4 KiB pages */
#define BUF_CAP 0x1ffffu
#define FRAME_HDR 24        /* a WAL frame's header (the only 24-byte write) */
#define LOG_CHUNK CO_SQLITE_LOG_CHUNK
#define ZERO_CAP 0x10000u   /* zeros written per call */

typedef struct wfile {
    sqlite3_file base;      /* our methods */
    sqlite3_file *real;     /* the default VFS's file, in the same allocation */
    int wal;
    int commit_pending;     /* a commit frame's header is buffered: flush after its page */
    unsigned char *buf;
    size_t len;
    sqlite3_int64 off;      /* file offset of buf[0] */
    sqlite3_int64 ready;    /* WAL: bytes of the file whose blocks exist, -1 = not known yet */
    struct wfile *log;      /* a database: its open WAL, if through this VFS */
    struct wfile *owner;    /* a WAL: its database file, if through this VFS */
} wfile;

#define REAL_OFFSET ((sizeof(wfile) + 15) & ~(size_t)15)

static sqlite3_vfs *g_base;
static sqlite3_vfs g_vfs;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_registered;
static atomic_ullong g_gathered, g_written, g_grown;
static unsigned char g_zeros[ZERO_CAP]; /* only ever read */

/* Makes sure the WAL's blocks exist up to end: zeros from the file's end to
 * end rounded up to LOG_CHUNK. Runs under the log's write lock (only the
 * writer writes frames), so the size asked is the file's: other connections
 * (of this process or another) may have grown it since this one last looked,
 * and their frames are never overwritten. */
static int grow(wfile *f, sqlite3_int64 end)
{
    if (end <= f->ready)
        return SQLITE_OK; /* a truncation by another connection since only
                           * means the write extends the file itself */
    int rc = f->real->pMethods->xFileSize(f->real, &f->ready);
    if (rc != SQLITE_OK) {
        f->ready = -1;
        return rc;
    }
    if (end <= f->ready)
        return SQLITE_OK;
    sqlite3_int64 to = (end + LOG_CHUNK - 1) / LOG_CHUNK * LOG_CHUNK;
    while (f->ready < to) {
        sqlite3_int64 n = to - f->ready < ZERO_CAP ? to - f->ready : ZERO_CAP;
        rc = f->real->pMethods->xWrite(f->real, g_zeros, (int)n, f->ready);
        if (rc != SQLITE_OK)
            return rc;
        f->ready += n;
    }
    atomic_fetch_add(&g_grown, 1);
    return SQLITE_OK;
}

static int flush(wfile *f)
{
    if (!f->len)
        return SQLITE_OK;
    int rc = grow(f, f->off + (sqlite3_int64)f->len);
    if (rc == SQLITE_OK)
        rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
    atomic_fetch_add(&g_written, 1);
    f->len = 0;
    f->commit_pending = 0;
    return rc;
}

static int w_close(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    if (f->owner)
        f->owner->log = NULL;
    if (f->log)
        f->log->owner = NULL;
    int rc2 = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *p, void *out, int n, sqlite3_int64 off)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

/* Big-endian 32-bit field of a frame header. */
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int w_write(sqlite3_file *p, const void *data, int n, sqlite3_int64 off)
{
    wfile *f = (wfile *)p;
    if (!f->wal || n <= 0)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    atomic_fetch_add(&g_gathered, 1);
    int rc = SQLITE_OK;
    if (f->len && (off != f->off + (sqlite3_int64)f->len || f->len + (size_t)n > BUF_CAP))
        rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if ((size_t)n > BUF_CAP || (!f->buf && !(f->buf = sqlite3_malloc(BUF_CAP)))) {
        rc = grow(f, off + n);
        return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, n, off);
    }
    if (!f->len)
        f->off = off;
    int was_pending = f->commit_pending;
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len += (size_t)n;
    /* bytes 4..7 of a frame header: the database size after a commit, 0 in
     * every other frame */
    if (n == FRAME_HDR && be32((const unsigned char *)data + 4) != 0)
        f->commit_pending = 1;
    else if (was_pending)
        return flush(f); /* the commit frame's page: out before SQLite publishes it */
    return SQLITE_OK;
}

static int w_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    if (rc == SQLITE_OK)
        rc = f->real->pMethods->xTruncate(f->real, size);
    f->ready = -1; /* asked again at the next write */
    return rc;
}

static int w_sync(sqlite3_file *p, int flags)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int w_lock(sqlite3_file *p, int level)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xLock(f->real, level);
}

static int w_unlock(sqlite3_file *p, int level)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int w_check_reserved(sqlite3_file *p, int *out)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int w_file_control(sqlite3_file *p, int op, void *arg)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int w_sector_size(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xSectorSize(f->real);
}

static int w_device_chars(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int w_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **out)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, out);
}

/* The WAL's write lock is the first of the shared-memory locks. What is
 * still buffered when it is released (a commit's rewritten header, see the
 * top) goes out while the lock is held: never later, over another
 * connection's frames. */
#define WAL_WRITE_LOCK 0

static int w_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    wfile *f = (wfile *)p;
    if ((flags & SQLITE_SHM_UNLOCK) && offset <= WAL_WRITE_LOCK && offset + n > WAL_WRITE_LOCK &&
        f->log && f->log->len) {
        int rc = flush(f->log);
        if (rc != SQLITE_OK)
            return rc;
    }
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *p)
{
    wfile *f = (wfile *)p;
    f->real->pMethods->xShmBarrier(f->real);
}

static int w_shm_unmap(sqlite3_file *p, int del)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xShmUnmap(f->real, del);
}

static int w_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
    wfile *f = (wfile *)p;
    int rc = flush(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, n, out);
}

static int w_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
    wfile *f = (wfile *)p;
    return f->real->pMethods->xUnfetch(f->real, off, page);
}

/* the wrapper's methods: gather WAL writes, everything else to the real file */
static const sqlite3_io_methods IO_METHODS = {
    .iVersion = 3,
    .xClose = w_close,
    .xRead = w_read,
    .xWrite = w_write,
    .xTruncate = w_truncate,
    .xSync = w_sync,
    .xFileSize = w_file_size,
    .xLock = w_lock,
    .xUnlock = w_unlock,
    .xCheckReservedLock = w_check_reserved,
    .xFileControl = w_file_control,
    .xSectorSize = w_sector_size,
    .xDeviceCharacteristics = w_device_chars,
    .xShmMap = w_shm_map,
    .xShmLock = w_shm_lock,
    .xShmBarrier = w_shm_barrier,
    .xShmUnmap = w_shm_unmap,
    .xFetch = w_fetch,
    .xUnfetch = w_unfetch,
};

static int w_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags,
                  int *out_flags)
{
    (void)vfs;
    wfile *f = (wfile *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)p + REAL_OFFSET);
    int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        f->base.pMethods = NULL; /* nothing to close */
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->ready = -1;
    if (f->wal && name) {
        wfile *db = (wfile *)sqlite3_database_file_object(name);
        if (db && db->base.pMethods == &IO_METHODS) {
            db->log = f;
            f->owner = db;
        }
    }
    f->base.pMethods = &IO_METHODS;
    return SQLITE_OK;
}

static void register_once(void)
{
    g_base = sqlite3_vfs_find(NULL);
    /* the unix VFS's files all have version-3 methods (shared memory, fetch) */
    if (!g_base || strcmp(g_base->zName, "unix") != 0)
        return;
    g_vfs = *g_base; /* every other method is the default VFS's own */
    g_vfs.zName = CO_SQLITE_VFS;
    g_vfs.szOsFile = (int)(REAL_OFFSET + (size_t)g_base->szOsFile);
    g_vfs.xOpen = w_open;
    g_vfs.pNext = NULL;
    g_registered = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
}

const char *co_sqlite_vfs(void)
{
    pthread_once(&g_once, register_once);
    return g_registered ? CO_SQLITE_VFS : NULL;
}

void co_sqlite_vfs_counts(uint64_t *gathered, uint64_t *written, uint64_t *grown)
{
    *gathered = atomic_load(&g_gathered);
    *written = atomic_load(&g_written);
    if (grown)
        *grown = atomic_load(&g_grown);
}
