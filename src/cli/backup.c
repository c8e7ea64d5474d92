/* backup.c — `cityops backup --data DIR --to BACKUPDIR`: an online, verified
 * copy of a city while its server keeps running.
 *
 * BACKUPDIR (which must not exist or be empty) becomes a complete data
 * directory: cityops.db — one consistent snapshot taken with the store's
 * online backup (co_store_backup) — and media/, the content-addressed photos
 * (copied file by file; a photo is never changed once written, so a later
 * backup into the same place only adds new ones). Restoring is serving it:
 * `cityops serve --data BACKUPDIR`. The copy is then opened and checked with
 * SQLite's integrity check before the command says "ok". For PostgreSQL
 * stores the command explains pg_dump instead (docs/deployment.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "store/store.h"

typedef struct media_count {
    long files, copied;
    long long bytes;
} media_count;

/* out = a "/" b; CO_ETOOBIG when it does not fit. */
static co_err path_join(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s/%s", a, b);
    return k < 0 || (size_t)k >= n ? CO_ETOOBIG : CO_OK;
}

static int usage(void)
{
    fprintf(stderr, "usage: cityops backup --data DIR --to BACKUPDIR\n"
                    "  在线备份（服务可继续运行）/ online backup while the server keeps running;\n"
                    "  restore: cityops serve --data BACKUPDIR\n");
    return 2;
}

/* Copies src to dst (dst.part then rename) and fsyncs it. */
static co_err copy_file(const char *src, const char *dst, long long *bytes)
{
    char part[1200], buf[1 << 16];
    int k = snprintf(part, sizeof part, "%s.part", dst);
    if (k < 0 || (size_t)k >= sizeof part)
        return CO_ETOOBIG;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return CO_EIO;
    int out = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    co_err rc = out < 0 ? CO_EIO : CO_OK;
    ssize_t n;
    while (!rc && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = CO_EIO;
        else
            *bytes += n;
    }
    if (!rc && fsync(out) != 0)
        rc = CO_EIO;
    close(in);
    if (out >= 0)
        close(out);
    if (!rc && rename(part, dst) != 0)
        rc = CO_EIO;
    if (rc)
        unlink(part);
    return rc;
}

/* Copies DIR/media/xx/HASH files that the backup does not have yet. */
static co_err copy_media(const char *from, const char *to, media_count *mc)
{
    DIR *top = opendir(from);
    if (!top)
        return errno == ENOENT ? CO_OK : CO_EIO;
    co_err rc = mkdir(to, 0750) == 0 || errno == EEXIST ? CO_OK : CO_EIO;
    struct dirent *d;
    while (!rc && (d = readdir(top))) {
        if (d->d_name[0] == '.' || strlen(d->d_name) != 2)
            continue;
        char sub[1100], dsub[1100];
        if (path_join(sub, sizeof sub, from, d->d_name) ||
            path_join(dsub, sizeof dsub, to, d->d_name)) {
            rc = CO_ETOOBIG;
            break;
        }
        DIR *in = opendir(sub);
        if (!in)
            continue;
        if (mkdir(dsub, 0750) != 0 && errno != EEXIST)
            rc = CO_EIO;
        struct dirent *f;
        while (!rc && (f = readdir(in))) {
            if (f->d_name[0] == '.' || strstr(f->d_name, ".part"))
                continue;
            char src[1200], dst[1200];
            if (path_join(src, sizeof src, sub, f->d_name) ||
                path_join(dst, sizeof dst, dsub, f->d_name)) {
                rc = CO_ETOOBIG;
                break;
            }
            mc->files++;
            struct stat st;
            if (stat(dst, &st) == 0)
                continue; /* content-addressed: same name, same bytes */
            rc = copy_file(src, dst, &mc->bytes);
            mc->copied += !rc;
        }
        closedir(in);
    }
    closedir(top);
    return rc;
}

static void on_problem(void *ctx, const char *problem)
{
    int *bad = ctx;
    (*bad)++;
    fprintf(stderr, "backup check: %s\n", problem);
}

/* Opens the copy as a store of its own and runs the integrity check. */
static co_err verify_copy(const char *dir)
{
    co_store *st = NULL;
    int bad = 0;
    co_err rc = co_store_open(dir, &st);
    if (!rc)
        rc = co_store_integrity(st, on_problem, &bad);
    co_store_close(st);
    return rc ? rc : bad ? CO_EDB : CO_OK;
}

static int pg_guidance(void)
{
    fprintf(stderr,
            "PostgreSQL 存储请用 pg_dump 备份 / for a PostgreSQL store use its own tools:\n"
            "  pg_dump -Fc -f cityops.dump 'postgres://…'   (restore: pg_restore -d …)\n"
            "  and copy the data directory's media/ folder. See docs/deployment.md.\n");
    return 2;
}

int co_cli_backup(int argc, char **argv)
{
    const char *data = co_args_opt(argc, argv, "--data");
    const char *to = co_args_opt(argc, argv, "--to");
    const char *url = co_args_opt(argc, argv, "--store");
    if (url && co_store_is_pg_url(url))
        return pg_guidance();
    if (!data || !to)
        return usage();
    char db[1100], media_from[1100], media_to[1100];
    if (path_join(db, sizeof db, to, "cityops.db") ||
        path_join(media_from, sizeof media_from, data, "media") ||
        path_join(media_to, sizeof media_to, to, "media"))
        return usage();
    struct stat sb;
    if (stat(db, &sb) == 0) {
        fprintf(stderr, "备份目录已有数据库 / %s already exists: choose a new directory\n", db);
        return 1;
    }
    if (mkdir(to, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "无法创建目录 / cannot create %s: %s\n", to, strerror(errno));
        return 1;
    }
    co_store *st = NULL;
    co_err rc = co_store_open(data, &st);
    if (rc) {
        fprintf(stderr, "无法打开数据目录 / cannot open the store in %s: %s\n", data,
                co_err_str(rc));
        return 1;
    }
    rc = co_store_backup(st, db, NULL, NULL);
    co_store_close(st);
    media_count mc = {0};
    if (!rc)
        rc = copy_media(media_from, media_to, &mc);
    if (!rc)
        rc = verify_copy(to);
    if (rc) {
        fprintf(stderr, "备份失败 / backup failed: %s\n", co_err_str(rc));
        return 1;
    }
    stat(db, &sb);
    printf("ok: %s (%.1f MB), media %ld files (%ld copied, %.1f MB)\n", db,
           (double)sb.st_size / 1e6, mc.files, mc.copied, (double)mc.bytes / 1e6);
    return 0;
}
