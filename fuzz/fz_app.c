/* fz_app.c — the application the request-path fuzz targets talk to, and the
 * checks on its replies (see fz.h). Also wraps argon2 so that password
 * hashing costs microseconds instead of ~50 ms per login attempt (the
 * parameters travel in the encoded hash, so verification stays exact). */
#include "fz.h"

#include <argon2.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/apikeys.h"
#include "api/intake.h"
#include "domain/password.h"
#include "geo/import.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/writer.h"

/* ---------------------------------------------------------- cheap argon2 */

int __real_argon2id_hash_encoded(uint32_t t, uint32_t m, uint32_t p, const void *pwd,
                                 size_t pwdlen, const void *salt, size_t saltlen, size_t hashlen,
                                 char *encoded, size_t encodedlen);
int __wrap_argon2id_hash_encoded(uint32_t t, uint32_t m, uint32_t p, const void *pwd,
                                 size_t pwdlen, const void *salt, size_t saltlen, size_t hashlen,
                                 char *encoded, size_t encodedlen);
int __real_argon2id_verify(const char *encoded, const void *pwd, size_t pwdlen);
int __wrap_argon2id_verify(const char *encoded, const void *pwd, size_t pwdlen);

int __wrap_argon2id_hash_encoded(uint32_t t, uint32_t m, uint32_t p, const void *pwd,
                                 size_t pwdlen, const void *salt, size_t saltlen, size_t hashlen,
                                 char *encoded, size_t encodedlen)
{
    (void)t;
    (void)m;
    return __real_argon2id_hash_encoded(1, 8, p, pwd, pwdlen, salt, saltlen, hashlen, encoded,
                                        encodedlen);
}

int __wrap_argon2id_verify(const char *encoded, const void *pwd, size_t pwdlen)
{
    /* the costly dummy hash of unknown users: a mismatch, cheaply */
    if (encoded && strstr(encoded, "m=19456"))
        return ARGON2_VERIFY_MISMATCH;
    return __real_argon2id_verify(encoded, pwd, pwdlen);
}

/* ------------------------------------------------------------ set-up */

static co_app *app;
static struct event_base *base;
static char dir[256];
static char tokens[CO_ROLE_COUNT][CO_TOKEN_HEX];
static char csrfs[CO_ROLE_COUNT][CO_TOKEN_HEX];
static char apikey[CO_APIKEY_MAX];

void fz_quiet(void)
{
    co_log_set_level(getenv("FUZZ_VERBOSE") ? CO_LOG_DEBUG : CO_LOG_ERROR);
}

static void die(const char *what, co_err rc)
{
    fprintf(stderr, "fuzz set-up failed: %s: %s\n", what, co_err_str(rc));
    exit(2);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (dir[0])
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

/* Directories of earlier runs that crashed (their process is gone). */
static void remove_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        static const char prefix[] = "cityops-fuzz-";
        char path[512], *end;
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) != 0)
            continue;
        long pid = strtol(e->d_name + sizeof prefix - 1, &end, 10);
        if (*end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (d)
        closedir(d);
}

static void make_dir(void)
{
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    remove_stale(tmp);
    snprintf(dir, sizeof dir, "%s/cityops-fuzz-%ld-XXXXXX", tmp, (long)getpid());
    if (!mkdtemp(dir))
        die("mkdtemp", CO_EIO);
    atexit(cleanup);
}

static void import_areas(co_store *st, const char *home)
{
    static const char *files[] = {NULL, "districts", "streets", "communities", "grids"};
    for (int level = CO_LEVEL_DISTRICT; level <= CO_LEVEL_GRID; level++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fixtures/areas/%s.geojson", home, files[level]);
        co_import_report rep = {0};
        co_err rc = co_import_areas_file(st, (co_level)level, path, &rep);
        co_import_report_free(&rep);
        if (rc)
            die(path, rc);
    }
}

/* The departments of share/departments.json and an office per street. */
static void add_departments(co_store *st, const char *home)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/share/departments.json", home);
    json_t *doc = json_load_file(path, 0, NULL);
    size_t i;
    json_t *d;
    co_err rc;
    json_array_foreach(json_object_get(doc, "departments"), i, d)
    {
        const char *district = json_string_value(json_object_get(d, "district"));
        co_dept_rec rec = {json_string_value(json_object_get(d, "code")),
                           json_string_value(json_object_get(d, "name")),
                           json_string_value(json_object_get(d, "type")), district ? district : "",
                           ""};
        if (rec.code && rec.name && rec.type && (rc = co_store_dept_put(st, &rec)))
            die("department", rc);
    }
    json_decref(doc);
    co_dept_rec offices[] = {
        {"S-150102001", "海拉尔东路街道办事处", "street_office", "150102001", ""},
        {"S-150102002", "锡林南路街道办事处", "street_office", "150102002", "09:00-12:00,13:30-17:30"},
    };
    for (i = 0; i < sizeof offices / sizeof offices[0]; i++)
        if ((rc = co_store_dept_put(st, &offices[i])))
            die("office", rc);
}

typedef struct fz_user {
    const char *name, *role, *scope;
} fz_user;

static const fz_user users[CO_ROLE_COUNT] = {
    {"admin", "admin", ""},           {"operator", "operator", ""},
    {"inspector", "inspector", "150102001"}, {"shiftlead", "shiftlead", ""},
    {"dispatcher", "dispatcher", ""}, {"handler", "handler", ""},
    {"leader", "leader", ""},
};

static void add_users(co_store *st, int64_t ids[CO_ROLE_COUNT])
{
    char hash[CO_PASSWORD_HASH_MAX];
    co_err rc = co_password_hash("fuzz-password", hash);
    if (rc)
        die("password", rc);
    for (int i = 0; i < CO_ROLE_COUNT; i++) {
        co_user_rec u = {0, users[i].name, users[i].name, hash, users[i].role, "",
                         users[i].scope, 0};
        if ((rc = co_store_user_put(st, &u, &ids[i])))
            die("user", rc);
    }
}

static int64_t user_ids[CO_ROLE_COUNT];

static char handler_dept[32];

static void add_session(int i)
{
    const char *dept = handler_dept[0]                ? handler_dept
                       : co_depts_count(app->depts) ? co_depts_at(app->depts, 0)->code
                                                    : "";
    co_session s = {0}, got;
    s.user_id = user_ids[i];
    s.role = (co_role)i;
    snprintf(s.username, sizeof s.username, "%s", users[i].name);
    snprintf(s.display_name, sizeof s.display_name, "%s", users[i].name);
    snprintf(s.scope, sizeof s.scope, "%s", users[i].scope);
    if (i == CO_ROLE_HANDLER)
        snprintf(s.dept, sizeof s.dept, "%s", dept);
    co_err rc = co_sessions_create(app->sessions, &s, tokens[i]);
    if (rc || (rc = co_sessions_get(app->sessions, tokens[i], &got)))
        die("session", rc);
    snprintf(csrfs[i], sizeof csrfs[i], "%s", got.csrf);
}

/* A few committed cases, so that case pages and actions have something to
 * act on: ids 1..3. */
static void add_cases(void)
{
    static const char *docs[] = {
        "{\"description\":\"井盖缺失 manhole cover missing\",\"category\":\"C0101\","
        "\"location\":{\"lon\":111.605,\"lat\":40.805},\"caller\":{\"name\":\"张三\","
        "\"phone\":\"13800000000\"}}",
        "{\"description\":\"占道经营 street vending\",\"category\":\"E0402\","
        "\"area\":\"150102002001\",\"severity\":\"urgent\"}",
        "{\"description\":\"咨询 question about opening hours\",\"request_type\":\"consult\","
        "\"address\":\"光明路社区 门口\"}",
    };
    co_wf_actor who = {"operator", CO_ROLE_OPERATOR, "", ""};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *doc = json_loads(docs[i], 0, NULL);
        co_case draft;
        char err[CO_INTAKE_ERR_MAX];
        co_err rc = co_intake_parse(app, doc, CO_CH_HOTLINE, &draft, err, sizeof err);
        json_decref(doc);
        if (rc) {
            fprintf(stderr, "fuzz set-up: case %zu: %s\n", i, err);
            die("intake", rc);
        }
        co_write_cmd cmd = {0};
        if ((rc = co_writer_prepare_register(app->writer, &draft, &who, co_time_now(), &cmd)) ||
            (rc = co_writer_run(app->writer, &cmd)) || (rc = cmd.rc))
            die("register", rc);
        co_writer_cmd_clear(&cmd);
    }
}

static int ticks;
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ticks++;
}

co_app *fz_app(void)
{
    if (app)
        return app;
    fz_quiet();
    char home[512];
    co_app_find_home(home, sizeof home);
    setenv("CITYOPS_HOME", home, 0);
    make_dir();
    co_store *st;
    int64_t ids[CO_ROLE_COUNT];
    co_err rc = co_store_open(dir, &st);
    if (rc)
        die("store", rc);
    import_areas(st, home);
    /* regression: loading departments from a store without any (a new data
     * directory) once passed NULL to qsort */
    co_depts *none;
    if ((rc = co_depts_load(st, &none)))
        die("departments", rc);
    co_depts_free(none);
    add_departments(st, home);
    add_users(st, ids);
    co_store_close(st);
    evthread_use_pthreads();
    base = event_base_new();
    if (!base)
        die("event base", CO_EIO);
    /* a timer keeps the loop blocking (not spinning) while it waits */
    static const struct timeval second = {1, 0};
    struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    if (!tick || event_add(tick, &second))
        die("timer", CO_EIO);
    if ((rc = co_app_open(dir, &app)))
        die("app", rc);
    memcpy(user_ids, ids, sizeof user_ids);
    for (int i = 0; i < CO_ROLE_COUNT; i++)
        add_session(i);
    int64_t kid;
    if ((rc = co_apikeys_create(app->apikeys, "fuzz", NULL, 100000, 1000000, "admin", &kid,
                                apikey)))
        die("api key", rc);
    add_cases();
    co_case c; /* the handler works for the department case 2 was routed to */
    if (co_store_case_get(app->store, 2, NULL, &c) == CO_OK && c.routed_dept[0]) {
        snprintf(handler_dept, sizeof handler_dept, "%s", c.routed_dept);
        add_session(CO_ROLE_HANDLER);
    }
    return app;
}

const char *fz_token(int role)
{
    return role >= 0 && role < CO_ROLE_COUNT ? tokens[role] : "";
}

const char *fz_csrf(int role)
{
    return role >= 0 && role < CO_ROLE_COUNT ? csrfs[role] : "";
}

const char *fz_apikey(void)
{
    return apikey;
}

/* Inputs may log a role out, revoke its sessions or its API key: give the
 * next input working ones again. */
static void refresh(void)
{
    co_session s;
    for (int i = 0; i < CO_ROLE_COUNT; i++)
        if (co_sessions_get(app->sessions, tokens[i], &s) != CO_OK)
            add_session(i);
    co_apikey_client client;
    int retry;
    if (co_apikeys_check(app->apikeys, apikey, co_time_now_ms(), &client, &retry) ==
        CO_APIKEY_INVALID) {
        static int serial;
        char name[32];
        int64_t kid;
        snprintf(name, sizeof name, "fuzz-%d", ++serial);
        co_err rc = co_apikeys_create(app->apikeys, name, NULL, 100000, 1000000, "admin", &kid,
                                      apikey);
        if (rc)
            die("api key", rc);
    }
}

/* ------------------------------------------------------- substitution */

char *fz_subst(const uint8_t *data, size_t len, size_t *outlen)
{
    size_t cap = len + 1, n = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        size_t skip = 0;
        if (data[i] == '$' && i + 1 < len) {
            if (data[i + 1] == 'K') {
                rep = fz_apikey();
                skip = 1;
            } else if ((data[i + 1] == 'T' || data[i + 1] == 'X') && i + 2 < len &&
                       data[i + 2] >= '0' && data[i + 2] < '0' + CO_ROLE_COUNT) {
                int role = data[i + 2] - '0';
                rep = data[i + 1] == 'T' ? fz_token(role) : fz_csrf(role);
                skip = 2;
            }
        }
        size_t add = rep ? strlen(rep) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            char *grown = realloc(out, cap);
            if (!grown)
                abort();
            out = grown;
        }
        if (rep) {
            memcpy(out + n, rep, add);
            i += skip;
        } else {
            out[n] = (char)data[i];
        }
        n += add;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* ------------------------------------------------------------ checks */

static void finding(const fz_req *q, const char *what)
{
    fprintf(stderr, "\n*** fuzz finding: %s\n*** path=%s status=%d replies=%d body=%.600s\n",
            what, q->path, fz_last.status, fz_last.count, fz_last.body ? fz_last.body : "");
    cleanup();
    abort();
}

void fz_check_reply(const fz_req *q)
{
    if (fz_last.count != 1)
        finding(q, fz_last.count ? "more than one reply" : "no reply");
    if (fz_last.status == 500)
        finding(q, "500 for a client's input");
    if (strncmp(q->path, "/api/", 5) != 0 || fz_last.streaming)
        return;
    int json = !strncmp(fz_last.ctype, "application/json", 16);
    if (!json && fz_last.status < 400)
        return; /* photos, GeoJSON, spreadsheets */
    if (!json)
        finding(q, "an /api/ error that is not JSON");
    json_error_t jerr;
    json_t *j = json_loads(fz_last.body ? fz_last.body : "", 0, &jerr);
    if (!json_is_object(j))
        finding(q, "an /api/ reply body that is not a JSON object");
    if (fz_last.status >= 400) {
        json_t *e = json_object_get(j, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")))
            finding(q, "an error reply without error.code and error.message");
    }
    json_decref(j);
}

/* ------------------------------------------------------------ requests */

int fz_app_request(const uint8_t *data, size_t len)
{
    fz_app();
    size_t n;
    char *text = fz_subst(data, len, &n);
    fz_req q;
    int status = 0;
    if (fz_req_build(&q, text, n) == 0) {
        /* the live feed keeps its request open for ever: without a
         * connection it answers 503, which is all a fuzzer can check */
        int conn = strcmp(q.path, "/api/v1/live") != 0;
        fz_req_begin(&q, base, conn);
        double started = co_time_mono();
        co_app_handle(q.ev, app);
        int t0 = ticks;
        while (fz_last.count == 0 && conn && ticks - t0 < 20)
            event_base_loop(base, EVLOOP_ONCE); /* a deferred reply: the writer fires it */
        fz_check_reply(&q);
        status = fz_last.status;
        static double slow_ms = -1;
        if (slow_ms < 0)
            slow_ms = getenv("FUZZ_SLOW_MS") ? atof(getenv("FUZZ_SLOW_MS")) : 0;
        double ms = (co_time_mono() - started) * 1000;
        if (slow_ms > 0 && ms > slow_ms)
            fprintf(stderr, "slow: %.1f ms %d %s\n", ms, status, q.path);
        fz_req_end();
        fz_req_free(&q);
    }
    free(text);
    refresh();
    return status;
}
