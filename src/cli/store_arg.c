/* store_arg.c — `--store URL` / `--data DIR` for the store commands (see
 * store_arg.h). Nothing allocated here outlives a call. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/store_arg.h"

#define STORE_FORMS "postgres://… | postgresql://… | sqlite:DIR"

static int url_ok(const char *url)
{
    return co_store_is_pg_url(url) || (!strncmp(url, "sqlite:", 7) && url[7]);
}

/* where for messages: "scheme://user:***@host/db" — no password, no query. */
static void masked(const char *where, char *out, size_t n)
{
    size_t len = strcspn(where, "?");
    const char *auth = strstr(where, "://");
    if (auth && (size_t)(auth - where) >= len)
        auth = NULL;
    const char *at = auth ? memchr(auth + 3, '@', len - (size_t)(auth + 3 - where)) : NULL;
    const char *colon = at ? memchr(auth + 3, ':', (size_t)(at - auth - 3)) : NULL;
    if (colon)
        snprintf(out, n, "%.*s:***%.*s", (int)(colon - where), where,
                 (int)(len - (size_t)(at - where)), at);
    else
        snprintf(out, n, "%.*s", (int)len, where);
}

const char *co_cli_store_where(const char *cmd, int argc, char **argv)
{
    const char *url = co_args_opt(argc, argv, "--store");
    const char *dir = co_args_opt(argc, argv, "--data");
    if (url && !url_ok(url)) {
        char shown[512];
        masked(url, shown, sizeof shown);
        fprintf(stderr, "%s: --store 无效：'%s'（应为 %s）/ bad --store '%s' (want %s)\n", cmd,
                shown, STORE_FORMS, shown, STORE_FORMS);
        return NULL;
    }
    if (!url && (!dir || !*dir)) {
        fprintf(stderr, "%s: 需要 --data DIR 或 --store URL / needs --data DIR or --store URL\n",
                cmd);
        return NULL;
    }
    return url ? url : dir;
}

co_err co_cli_store_open(const char *cmd, const char *where, co_store **out)
{
    co_err rc = co_store_open_url(where, out);
    if (rc) {
        char shown[512];
        masked(where, shown, sizeof shown);
        fprintf(stderr, "%s: 无法打开存储 %s / cannot open the store %s: %s\n", cmd, shown, shown,
                co_err_str(rc));
    }
    return rc;
}
