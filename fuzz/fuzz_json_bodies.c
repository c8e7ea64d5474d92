/* fuzz_json_bodies.c — libFuzzer target: the JSON body of every POST/PUT
 * endpoint, and the domain functions that turn such a body into structs.
 *
 * First byte < 0x80: an HTTP request through the whole application (fz.h):
 * byte 0 picks the endpoint (login, case intake as operator / inspector /
 * admin, the citizens' intake, workflow actions on cases 1-16 by any role,
 * users, taxonomy PUT, routing rules, calendar days, API keys), byte 1 the
 * action, case and role of an action; the rest is the body.
 * First byte >= 0x80: the pure functions directly (faster):
 *   mode 0  co_wf_decide: a case in any state (byte 1) with flags (byte 2),
 *           any role (byte 3), any action (byte 4), params = the rest; an
 *           accepted action is applied (co_wf_apply) and the case must
 *           survive co_case_to_json → co_case_from_json unchanged;
 *   mode 1  co_taxonomy_from_json: an accepted taxonomy must serialise to a
 *           document that loads again and serialises identically;
 *   mode 2  co_case_from_json (register events, replays): the same round
 *           trip;
 *   mode 3  co_intake_parse for every channel (byte 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/intake.h"
#include "domain/taxonomy.h"
#include "domain/workflow.h"
#include "fz.h"
#include "lib/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct endpoint {
    const char *method, *path;
    int role; /* -1 = anonymous */
} endpoint;

static const endpoint endpoints[] = {
    {"POST", "/api/v1/login", -1},
    {"POST", "/api/v1/cases", CO_ROLE_OPERATOR},
    {"POST", "/api/v1/cases", CO_ROLE_INSPECTOR},
    {"POST", "/api/v1/cases", CO_ROLE_ADMIN},
    {"POST", "/api/v1/public/cases", -1},
    {"POST", NULL, 0}, /* a workflow action: see action_path */
    {"POST", "/api/v1/users", CO_ROLE_ADMIN},
    {"PUT", "/api/v1/taxonomy", CO_ROLE_ADMIN},
    {"POST", "/api/v1/routing-rules", CO_ROLE_ADMIN},
    {"PUT", "/api/v1/calendar/days/2031-10-08", CO_ROLE_ADMIN},
    {"POST", "/api/v1/apikeys", CO_ROLE_ADMIN},
};
#define NENDPOINTS (sizeof endpoints / sizeof endpoints[0])

static const char *action_at(unsigned i)
{
    static const char *acts[CO_WF_MAX_ACTIONS];
    static size_t n;
    if (!n)
        n = co_wf_actions(acts);
    return acts[i % n];
}

static void http_body(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    const endpoint *e = &endpoints[data[0] % NENDPOINTS];
    char head[512], path[128];
    int role = e->role;
    const char *p = e->path;
    if (!p) {
        role = (data[1] >> 4) % CO_ROLE_COUNT;
        /* cases 1-3 from the set-up, later ones registered by earlier inputs */
        snprintf(path, sizeof path, "/api/v1/cases/%d/actions/%s", 1 + (data[1] & 15),
                 action_at((unsigned)data[1] * 7u + (unsigned)size));
        p = path;
    }
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nContent-Type: application/json\r\n%s%s%s\r\n",
                     e->method, p, role >= 0 ? "Authorization: Bearer " : "",
                     role >= 0 ? fz_token(role) : "", role >= 0 ? "\r\n" : "");
    uint8_t *req = malloc((size_t)n + size);
    if (!req)
        return;
    memcpy(req, head, (size_t)n);
    memcpy(req + n, data + 2, size - 2);
    fz_app_request(req, (size_t)n + size - 2);
    free(req);
}

static void same_case(const co_case *a, const char *what)
{
    json_t *ja = co_case_to_json(a, 1);
    co_case b;
    if (co_case_from_json(ja, &b)) {
        char *sa = json_dumps(ja, JSON_SORT_KEYS);
        fprintf(stderr, "*** fuzz finding: %s: co_case_from_json refuses co_case_to_json\n%s\n",
                what, sa ? sa : "(null)");
        abort();
    }
    json_t *jb = co_case_to_json(&b, 1);
    if (!json_equal(ja, jb)) {
        char *sa = json_dumps(ja, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
        fprintf(stderr, "*** fuzz finding: %s: case JSON round trip differs\n%s\n%s\n", what,
                sa, sb);
        abort();
    }
    json_decref(ja);
    json_decref(jb);
}

static void workflow(co_app *app, const uint8_t *data, json_t *params)
{
    static co_case base;
    static int loaded;
    if (!loaded) {
        if (co_store_case_get(app->store, 1, NULL, &base))
            abort();
        loaded = 1;
    }
    co_case c = base;
    c.state = (co_state)(data[1] % CO_ST_COUNT);
    c.flags = data[2] & 1 ? (uint32_t)data[2] << 8 | data[3] : 0;
    if (data[2] & 2)
        snprintf(c.dept, sizeof c.dept, "%s", c.routed_dept[0] ? c.routed_dept : "S-150102001");
    co_role role = (co_role)(data[3] % CO_ROLE_COUNT);
    co_wf_actor who = {"fuzz", role, role == CO_ROLE_HANDLER ? c.dept : "",
                       data[3] & 0x80 ? "150102" : ""};
    const char *action = action_at(data[4]);
    co_event ev = {0};
    char err[CO_WF_ERR_MAX];
    int64_t now = c.created + (int64_t)(data[2] >> 2) * 3600;
    co_err rc = co_wf_decide(&app->env, &c, action, &who, params, now, &ev, err);
    if (rc == CO_OK) {
        co_case after = c;
        if (co_wf_apply(&after, &ev) == CO_OK)
            same_case(&after, action);
    } else if (!memchr(err, '\0', sizeof err)) {
        abort();
    }
    co_event_clear(&ev);
}

static void taxonomy(const json_t *doc)
{
    co_taxonomy *t = NULL, *t2 = NULL;
    char err[512];
    if (co_taxonomy_from_json(doc, NULL, &t, err, sizeof err))
        return;
    json_t *j1 = NULL, *j2 = NULL;
    if (co_taxonomy_to_json(t, &j1) || co_taxonomy_from_json(j1, NULL, &t2, err, sizeof err) ||
        co_taxonomy_to_json(t2, &j2) || !json_equal(j1, j2)) {
        fprintf(stderr, "*** fuzz finding: taxonomy round trip: %s\n", err);
        abort();
    }
    json_decref(j1);
    json_decref(j2);
    co_taxonomy_free(t);
    co_taxonomy_free(t2);
}

static void case_json(const json_t *doc)
{
    co_case c;
    /* without "state" the case is a draft (state none), which the reader
     * never gets from the store and the writer never writes back */
    if (co_case_from_json(doc, &c) == CO_OK && c.state != CO_ST_NONE)
        same_case(&c, "co_case_from_json");
}

static void intake(co_app *app, uint8_t ch, json_t *doc)
{
    co_case d;
    char err[CO_INTAKE_ERR_MAX];
    co_err rc = co_intake_parse(app, doc, (co_channel)(ch % CO_CH_COUNT), &d, err, sizeof err);
    if (rc == CO_OK) {
        d.state = CO_ST_REGISTERED; /* a draft has no state yet; registering gives it one */
        same_case(&d, "intake draft");
    }
    else if (!memchr(err, '\0', sizeof err) || !err[0])
        abort(); /* every refusal says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6 || size > 65536)
        return 0;
    co_app *app = fz_app();
    if (data[0] < 0x80) {
        http_body(data, size);
        return 0;
    }
    json_t *doc = json_loadb((const char *)data + 5, size - 5, JSON_REJECT_DUPLICATES, NULL);
    if (!doc)
        return 0;
    switch (data[0] & 3) {
    case 0: workflow(app, data, json_is_object(doc) ? doc : NULL); break;
    case 1: taxonomy(doc); break;
    case 2: case_json(doc); break;
    default: intake(app, data[1], doc); break;
    }
    json_decref(doc);
    return 0;
}
