/* env.c — what the workflow needs from the running application: calendars
 * of departments, department existence, disposal limits from the taxonomy
 * version a case was filed under, routing and category checks; plus the
 * taxonomy versions and routing rules (loaded from the store, swapped under
 * cfg_lock when admins change them). */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static co_taxonomy *tax_for(co_app *app, int64_t version)
{
    if (version > 0 && version < CO_APP_MAX_TAX_VERSIONS && app->tax[version])
        return app->tax[version];
    return app->tax[app->tax_current];
}

static const co_taxonomy_subclass *subclass_of(const co_taxonomy *t, co_category cat)
{
    if (!t || cat == CO_CATEGORY_NONE)
        return NULL;
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(cat));
    return co_taxonomy_find_subclass(t, co_category_kind(cat) == 1 ? CO_TAXONOMY_COMPONENT
                                                                  : CO_TAXONOMY_EVENT,
                                     code);
}

static const co_calendar *env_calendar(void *arg, const char *dept)
{
    co_app *app = arg;
    return co_depts_calendar(app->depts, dept);
}

static int env_dept_exists(void *arg, const char *dept)
{
    co_app *app = arg;
    return co_depts_find(app->depts, dept) != NULL;
}

static co_calendar_limit to_limit(co_taxonomy_limit l)
{
    co_calendar_limit out = {l.value, l.unit == 'd'   ? CO_CALENDAR_WD
                                      : l.unit == 'h' ? CO_CALENDAR_WH
                                                      : CO_CALENDAR_WM};
    return out;
}

static co_calendar_limit env_disposal_limit(void *arg, const co_case *c)
{
    co_app *app = arg;
    co_calendar_limit lim;
    pthread_rwlock_rdlock(&app->cfg_lock);
    co_taxonomy *t = tax_for(app, c->tax_version);
    const co_taxonomy_subclass *s = subclass_of(t, c->category);
    if (s) {
        lim = to_limit(s->limits[c->severity < CO_SEV_COUNT ? c->severity : 0]);
    } else if (c->reqtype != CO_RT_NONE && t &&
               co_taxonomy_find_request_type(t, co_reqtype_name(c->reqtype))) {
        lim = to_limit(co_taxonomy_find_request_type(t, co_reqtype_name(c->reqtype))->limit);
    } else if (co_calendar_limit_parse(CO_WF_LIMIT_DEFAULT, &lim)) {
        lim = (co_calendar_limit){5, CO_CALENDAR_WD};
    }
    pthread_rwlock_unlock(&app->cfg_lock);
    return lim;
}

static void env_route(void *arg, const co_case *c, char *dept, size_t len)
{
    co_app *app = arg;
    pthread_rwlock_rdlock(&app->cfg_lock);
    co_routing_route(app->routing, tax_for(app, c->tax_version), app->depts, c, dept, len);
    pthread_rwlock_unlock(&app->cfg_lock);
}

static int env_category_exists(void *arg, co_category cat)
{
    co_app *app = arg;
    pthread_rwlock_rdlock(&app->cfg_lock);
    int ok = subclass_of(app->tax[app->tax_current], cat) != NULL;
    pthread_rwlock_unlock(&app->cfg_lock);
    return ok;
}

void co_app_env_init(co_app *app)
{
    app->env = (co_wf_env){
        .arg = app,
        .calendar = env_calendar,
        .dept_exists = env_dept_exists,
        .disposal_limit = env_disposal_limit,
        .route = env_route,
        .category_exists = env_category_exists,
    };
}

co_taxonomy *co_app_taxonomy(co_app *app)
{
    pthread_rwlock_rdlock(&app->cfg_lock);
    co_taxonomy *t = co_taxonomy_ref(app->tax[app->tax_current]);
    pthread_rwlock_unlock(&app->cfg_lock);
    return t;
}

void co_app_category_name(co_app *app, co_category cat, char *out, size_t len)
{
    out[0] = '\0';
    pthread_rwlock_rdlock(&app->cfg_lock);
    const co_taxonomy_subclass *s = subclass_of(app->tax[app->tax_current], cat);
    if (s)
        snprintf(out, len, "%s", s->name);
    pthread_rwlock_unlock(&app->cfg_lock);
}

const char *co_app_dept_name(const co_app *app, const char *code)
{
    const co_dept *d = co_depts_find(app->depts, code);
    return d ? d->name : "";
}

static json_t *dept_types(co_app *app)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/share/departments.json", app->home);
    return json_load_file(path, 0, NULL);
}

static co_err load_version(co_app *app, const char *doc_text, int64_t version)
{
    char err[256];
    json_t *doc = json_loads(doc_text, 0, NULL);
    json_t *types = dept_types(app);
    co_taxonomy *t = NULL;
    co_err rc = doc ? co_taxonomy_from_json(doc, types, &t, err, sizeof err) : CO_EINVAL;
    json_decref(doc);
    json_decref(types);
    if (rc) {
        co_log_error("msg=\"stored taxonomy invalid\" version=%lld", (long long)version);
        return rc;
    }
    pthread_rwlock_wrlock(&app->cfg_lock);
    co_taxonomy *old = app->tax[version];
    app->tax[version] = t;
    if (version > app->tax_current)
        app->tax_current = version;
    pthread_rwlock_unlock(&app->cfg_lock);
    co_taxonomy_free(old);
    return CO_OK;
}

co_err co_app_refresh_taxonomy(co_app *app)
{
    char *doc = NULL;
    int64_t latest = 0;
    co_err rc = co_store_taxonomy_get(app->store, 0, &doc, &latest);
    if (rc)
        return rc == CO_ENOTFOUND ? CO_OK : rc;
    co_free(doc);
    for (int64_t v = app->tax_current + 1; v <= latest && v < CO_APP_MAX_TAX_VERSIONS; v++) {
        int64_t got = 0;
        if ((rc = co_store_taxonomy_get(app->store, v, &doc, &got)) == CO_OK) {
            rc = load_version(app, doc, v);
            co_free(doc);
        }
        if (rc && rc != CO_ENOTFOUND)
            return rc;
    }
    return CO_OK;
}

co_err co_app_load_taxonomy(co_app *app)
{
    char *doc = NULL;
    int64_t latest = 0;
    co_err rc = co_store_taxonomy_get(app->store, 0, &doc, &latest);
    if (rc == CO_ENOTFOUND) {
        char path[1024];
        snprintf(path, sizeof path, "%s/share/taxonomy/default.json", app->home);
        json_t *def = json_load_file(path, 0, NULL);
        if (!def) {
            co_log_error("msg=\"cannot read default taxonomy\" path=%s", path);
            return CO_EIO;
        }
        json_object_set_new(def, "version", json_integer(1));
        char err[256];
        rc = co_app_set_taxonomy(app, def, "system", NULL, err, sizeof err);
        json_decref(def);
        return rc;
    }
    if (rc)
        return rc;
    co_free(doc);
    for (int64_t v = 1; v <= latest && v < CO_APP_MAX_TAX_VERSIONS; v++) {
        if ((rc = co_store_taxonomy_get(app->store, v, &doc, &latest)) == CO_OK) {
            rc = load_version(app, doc, v);
            co_free(doc);
        } else if (rc == CO_ENOTFOUND) {
            rc = CO_OK;
        }
        if (rc)
            return rc;
    }
    return CO_OK;
}

/* Whether doc (validated, its version set) equals the current version's
 * document but for the version number. */
static int same_as_current(co_app *app, const json_t *doc)
{
    int64_t current = app->tax_current, stored = 0;
    char *text = NULL;
    if (current < 1 || co_store_taxonomy_get(app->store, current, &text, &stored) != CO_OK)
        return 0;
    json_t *cur = json_loads(text, 0, NULL);
    co_free(text);
    json_t *cand = json_deep_copy(doc);
    if (cand)
        json_object_set_new(cand, "version", json_integer(current));
    int same = cur && cand && json_equal(cur, cand);
    json_decref(cur);
    json_decref(cand);
    return same;
}

co_err co_app_set_taxonomy(co_app *app, json_t *doc, const char *author, int *added, char *err,
                           size_t errlen)
{
    if (added)
        *added = 0;
    /* several nodes: versions another node stored lately first, so this one
     * follows the latest (a simultaneous PUT elsewhere still conflicts) */
    co_err rc = co_store_shared(app->store) ? co_app_refresh_taxonomy(app) : CO_OK;
    if (rc)
        co_log_warn("msg=\"taxonomy refresh before a change failed\" err=\"%s\"", co_err_str(rc));
    int64_t version = app->tax_current + 1;
    if (version >= CO_APP_MAX_TAX_VERSIONS) {
        snprintf(err, errlen, "too many taxonomy versions");
        return CO_ETOOBIG;
    }
    json_object_set_new(doc, "version", json_integer(version));
    json_t *types = dept_types(app);
    co_taxonomy *t = NULL;
    rc = co_taxonomy_from_json(doc, types, &t, err, errlen);
    json_decref(types);
    if (rc)
        return rc;
    if (same_as_current(app, doc)) { /* a repeated PUT (a retry) adds no version */
        co_taxonomy_free(t);
        return CO_OK;
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    rc = text ? co_store_taxonomy_put(app->store, version, text, author) : CO_ENOMEM;
    free(text);
    if (rc == CO_EEXIST) { /* another node stored this version a moment ago */
        co_taxonomy_free(t);
        snprintf(err, errlen, "另一位管理员刚刚修改了分类，请重新读取后再提交 / another administrator "
                              "changed the taxonomy at the same moment: read it again and resubmit");
        return CO_ECONFLICT;
    }
    if (rc) {
        co_taxonomy_free(t);
        snprintf(err, errlen, "cannot store the taxonomy");
        return rc;
    }
    pthread_rwlock_wrlock(&app->cfg_lock);
    app->tax[version] = t;
    app->tax_current = version;
    pthread_rwlock_unlock(&app->cfg_lock);
    if (added)
        *added = 1;
    return CO_OK;
}

typedef struct rules_ctx {
    co_route_rule *v;
    size_t n, cap;
} rules_ctx;

static int add_rule(void *vctx, const co_rule_rec *r)
{
    rules_ctx *ctx = vctx;
    co_route_rule rule = {.id = r->id};
    if (r->category[0] && co_category_parse(r->category, &rule.category))
        return 0; /* a rule for a category that no longer parses is skipped */
    snprintf(rule.area, sizeof rule.area, "%s", r->area);
    snprintf(rule.dept, sizeof rule.dept, "%s", r->dept);
    ctx->v = co_xgrow(ctx->v, &ctx->cap, ctx->n + 1, sizeof *ctx->v);
    ctx->v[ctx->n++] = rule;
    return 0;
}

co_err co_app_reload_rules(co_app *app)
{
    rules_ctx ctx = {0};
    co_err rc = co_store_rules_each(app->store, add_rule, &ctx);
    if (rc) {
        co_free(ctx.v);
        return rc;
    }
    co_routing *r = co_routing_new(ctx.v, ctx.n);
    co_free(ctx.v);
    pthread_rwlock_wrlock(&app->cfg_lock);
    co_routing *old = app->routing;
    app->routing = r;
    pthread_rwlock_unlock(&app->cfg_lock);
    co_routing_free(old);
    return CO_OK;
}

co_wf_actor co_app_actor(const co_session *s)
{
    co_wf_actor a = {s->username, s->role, s->dept, s->scope};
    return a;
}
