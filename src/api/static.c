/* static.c — the web pages and their assets, served from the installation's
 * web/ folder, and vendored browser libraries from node_modules (an allow
 * list: nothing else under node_modules is reachable). Paths with "..",
 * backslashes or hidden segments are refused. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/app.h"
#include "api/routes.h"

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".geojson", "application/geo+json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static int safe_rel(const char *rel)
{
    if (!*rel || rel[0] == '/' || strchr(rel, '\\') || strlen(rel) > 200)
        return 0;
    for (const char *p = rel; *p; p++) {
        if ((p == rel || p[-1] == '/') && p[0] == '.')
            return 0; /* "..", "./", hidden files */
        if ((unsigned char)*p < 0x20)
            return 0;
    }
    return 1;
}

static void send_file(co_req *r, const char *path, const char *cache)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        co_reply_error(r, 404, "not_found", "文件不存在 / no such file: %s", r->path);
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Cache-Control", cache);
    if (r->method == CO_HEAD) {
        close(fd);
        co_reply_bytes(r, 200, type_of(path), "", 0);
        return;
    }
    co_reply_file(r, type_of(path), fd, (size_t)st.st_size);
}

void co_api_static(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *rel = co_req_param(r, 0);
    if (!safe_rel(rel)) {
        co_reply_error(r, 400, "bad_path", "非法路径 / path not allowed");
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", app->web_dir, rel);
    send_file(r, path, "no-cache");
}

void co_api_page(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *page = !strcmp(r->path, "/dashboard") ? "dashboard.html"
                       : !strcmp(r->path, "/report") ? "report.html"
                                                     : "index.html";
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", app->web_dir, page);
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' "
                      "'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                      "form-action 'self'; frame-ancestors 'none'");
    send_file(r, path, "no-cache");
}

/* Browser libraries installed by scripts/install-deps.sh into node_modules. */
static const struct {
    const char *url;
    const char *file;
} vendored[] = {
    {"echarts.min.js", "node_modules/echarts/dist/echarts.min.js"},
    {"echarts.esm.min.mjs", "node_modules/echarts/dist/echarts.esm.min.mjs"},
};

void co_api_vendor(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *rel = co_req_param(r, 0);
    for (size_t i = 0; i < sizeof vendored / sizeof vendored[0]; i++) {
        if (strcmp(rel, vendored[i].url))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", app->home, vendored[i].file);
        send_file(r, path, "public, max-age=86400");
        return;
    }
    co_reply_error(r, 404, "not_found", "没有这个资源 / no such vendored asset");
}
