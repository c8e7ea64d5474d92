/* duplicates.c — duplicate cases in the API (see duplicates.h): the index's
 * load and upkeep, candidates for a case and for a new report, the automatic
 * merge (a `merge` event by the system actor, the score in its data), the
 * configuration, the manual merge's target check and a master's merged
 * cases. Design: docs/internals/dedup.md. */
#include "api/duplicates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/dedup.h"
#include "lib/alloc.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

#define META_AUTO "dedup_auto_merge"
#define MERGED_LIST_MAX 100

/* ------------------------------------------------------- index upkeep */

typedef struct load_ctx {
    co_app *app;
    int64_t last_id;
    size_t rows;
} load_ctx;

static int load_one(void *vctx, const co_case *c)
{
    load_ctx *ctx = vctx;
    co_dedup_update(ctx->app->dedup, c);
    ctx->last_id = c->id;
    ctx->rows++;
    return 0;
}

static double city_latitude(const co_app *app)
{
    const co_area *a = co_areas_at(app->areas, 0);
    return a ? a->cy : 0;
}

void co_dup_load_config(co_app *app)
{
    char v[32];
    double t = 0;
    if (co_store_meta_get(app->store, META_AUTO, v, sizeof v) == CO_OK && v[0]) {
        char *end;
        t = strtod(v, &end);
        if (*end || !(t >= 0 && t <= 1))
            t = 0;
    }
    app->dedup_auto = t;
}

co_err co_dup_open(co_app *app)
{
    double t0 = co_time_mono();
    app->dedup = co_dedup_new(city_latitude(app));
    co_case_query q;
    memset(&q, 0, sizeof q);
    for (int st = CO_ST_REGISTERED; st < CO_ST_COUNT; st++)
        if (co_state_is_open((co_state)st) || st == CO_ST_MERGED)
            q.states |= 1u << st;
    q.channel = -1;
    q.pending_role = -1;
    q.limit = 500;
    load_ctx ctx = {app, 0, 0};
    do { /* newest first, a page at a time */
        ctx.rows = 0;
        co_err rc = co_store_cases_query(app->store, &q, load_one, &ctx);
        if (rc)
            return rc;
        q.before_id = ctx.last_id;
    } while (ctx.rows == (size_t)q.limit);
    co_dup_load_config(app);
    co_dedup_info info;
    co_dedup_get_info(app->dedup, &info);
    co_log_info("msg=\"duplicate index loaded\" open=%zu merged=%zu bytes=%zu s=%.2f", info.open,
                info.merged, info.bytes, co_time_mono() - t0);
    return CO_OK;
}

void co_dup_close(co_app *app)
{
    co_dedup_free(app->dedup);
    app->dedup = NULL;
}

void co_dup_committed(co_app *app, const co_case *c, const co_event *ev, const void *sig)
{
    (void)ev;
    if (app->dedup) /* sig: the intake's own (co_dup_intake_sig), not computed twice */
        co_dedup_update_sig(app->dedup, c, sig);
}

/* ---------------------------------------------------------- candidates */

#define CO_DUP_TEXT_MAX (64 * 1024) /* the intake's candidates as text */

static double round_to(double v, double unit)
{
    return round(v / unit) * unit;
}

/* One candidate as staff see it; NULL when the case is gone or outside the
 * user's scope. */
static json_t *candidate_json(co_req *r, const co_dedup_hit *h)
{
    co_app *app = (co_app *)r->app;
    co_case c;
    if (co_store_case_get(app->store, h->id, NULL, &c) != CO_OK)
        return NULL;
    if (r->session) {
        co_wf_actor who = co_app_actor(r->session);
        if (!co_wf_visible(&c, &who))
            return NULL;
    }
    char cat[8], cat_name[64], created[CO_TIME_ISO_MAX];
    co_category_format(c.category, cat);
    co_app_category_name(app, c.category, cat_name, sizeof cat_name);
    co_time_format(c.created, created);
    return json_pack("{s:I,s:s,s:f,s:f,s:f,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)c.id,
                     "number", c.number, "score", round_to(h->score, 0.001), "distance_m",
                     round_to(h->distance_m, 0.1), "text_similarity",
                     round_to(h->text_sim, 0.001), "category", cat, "category_name", cat_name,
                     "created", created, "state", co_state_name(c.state), "state_zh",
                     co_state_name_zh(c.state), "description", c.description, "address",
                     c.address);
}

/* The same from what the index holds (intake: no store read), written
 * straight as text into out (what json_dumps of candidate_json's object
 * would print). Nothing is written when the case is outside the user's
 * scope (the intake roles are scoped by area only: handlers do not register
 * cases) or a text is not UTF-8. */
static co_err candidate_text_mem(co_req *r, const co_dedup_hit *h, co_buf *out, int first)
{
    co_app *app = (co_app *)r->app;
    const co_session *s = r->session;
    if (!s || s->role == CO_ROLE_HANDLER ||
        (s->scope[0] && strncmp(h->area, s->scope, strlen(s->scope)) != 0))
        return CO_OK;
    char cat[8], cat_name[64], created[CO_TIME_ISO_MAX];
    co_category_format(h->category, cat);
    co_app_category_name(app, h->category, cat_name, sizeof cat_name);
    co_time_format(h->created, created);
    size_t mark = out->len;
    co_err rc = co_buf_puts(out, first ? "{" : ",{");
    if (!rc && !(rc = co_jsonw_key(out, "id", 1)))
        rc = co_jsonw_int(out, h->id);
    const struct {
        const char *key;
        const char *str; /* NULL: the real */
        double real;
    } f[] = {{"number", h->number, 0},
             {"score", NULL, round_to(h->score, 0.001)},
             {"distance_m", NULL, round_to(h->distance_m, 0.1)},
             {"text_similarity", NULL, round_to(h->text_sim, 0.001)},
             {"category", cat, 0},
             {"category_name", cat_name, 0},
             {"created", created, 0},
             {"state", co_state_name(h->state), 0},
             {"state_zh", co_state_name_zh(h->state), 0},
             {"description", h->description, 0},
             {"address", h->address, 0}};
    for (size_t i = 0; !rc && i < sizeof f / sizeof f[0]; i++)
        if (!(rc = co_jsonw_key(out, f[i].key, 0)))
            rc = f[i].str ? co_jsonw_str(out, f[i].str) : co_jsonw_real(out, f[i].real);
    if (!rc)
        rc = co_buf_puts(out, "}");
    if (rc) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc == CO_EINVAL ? CO_OK : rc; /* a bad text drops the candidate, as jansson did */
}

static json_t *candidates_json(co_req *r, const co_dedup_hit *hits, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = candidate_json(r, &hits[i]);
        if (o)
            json_array_append_new(a, o);
    }
    return a;
}

static co_err load_case(co_app *app, const char *key, co_case *out)
{
    int64_t id;
    if (!key)
        return CO_ENOTFOUND;
    if (co_case_number_valid(key))
        return co_store_case_get(app->store, 0, key, out);
    if (strlen(key) < 13 && co_parse_i64(key, 1, INT64_MAX, &id) == CO_OK)
        return co_store_case_get(app->store, id, NULL, out);
    return CO_ENOTFOUND;
}

static int parse_unit(const char *s, double *out)
{
    char *end;
    if (!s || !*s || strlen(s) > 16)
        return -1;
    double v = strtod(s, &end);
    if (*end || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

/* GET /api/v1/cases/{id}/duplicates?limit=&min_score= */
void co_api_case_duplicates(co_req *r)
{
    co_app *app = (co_app *)r->app;
    int64_t limit = 10;
    double min_score = CO_DUP_SHOW;
    const char *v;
    if ((v = co_req_query(r, "limit")) && co_parse_i64(v, 1, 50, &limit)) {
        co_reply_error(r, 400, "bad_limit", "limit 必须是 1–50 的整数 / limit must be 1–50");
        return;
    }
    if ((v = co_req_query(r, "min_score")) && parse_unit(v, &min_score)) {
        co_reply_error(r, 400, "bad_min_score",
                       "min_score 必须是 0–1 的数 / min_score must be a number in [0, 1]");
        return;
    }
    co_case c;
    co_err rc = load_case(app, co_req_param(r, 0), &c);
    if (rc) {
        co_reply_err(r, rc, rc == CO_ENOTFOUND ? "没有这个案件 / no such case" : NULL);
        return;
    }
    co_wf_actor who = co_app_actor(r->session);
    if (!co_wf_visible(&c, &who)) {
        co_reply_error(r, 403, "out_of_scope",
                       "案件不在您的管辖范围 / the case is outside your department or area");
        return;
    }
    double t0 = co_time_mono();
    co_dedup_sig sig;
    if (!co_dedup_sig_of(app->dedup, c.id, &sig))
        co_dedup_signature(c.description, &sig);
    co_dedup_query q = {c.category, c.lon, c.lat, c.created, &sig, c.id, min_score};
    co_dedup_hit hits[50];
    size_t visited = 0;
    size_t n = co_dedup_find(app->dedup, &q, hits, (size_t)limit, &visited);
    double took = (co_time_mono() - t0) * 1e6;
    co_reply_json(r, 200,
                  json_pack("{s:s,s:o,s:f,s:f,s:I,s:f}", "number", c.number, "candidates",
                            candidates_json(r, hits, n), "min_score", min_score,
                            "auto_merge", (double)app->dedup_auto, "scored", (json_int_t)visited,
                            "took_us", round_to(took, 0.1)));
}

/* ------------------------------------------------------- configuration */

static json_t *config_json(co_app *app)
{
    double a = app->dedup_auto;
    return json_pack("{s:o,s:f,s:f}", "auto_merge", a > 0 ? json_real(a) : json_false(),
                     "suggested_auto_merge", CO_DUP_AUTO_DEFAULT, "show_threshold", CO_DUP_SHOW);
}

void co_api_dedup_config_get(co_req *r)
{
    co_reply_json(r, 200, config_json((co_app *)r->app));
}

/* PUT {"auto_merge": 0.92} (a threshold in [0.5, 1]) or false / 0 (off). */
void co_api_dedup_config_put(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *doc = co_req_json(r);
    if (!doc)
        return;
    json_t *v = json_is_object(doc) ? json_object_get(doc, "auto_merge") : NULL;
    double t;
    if (json_is_false(v) || json_is_null(v) || (json_is_number(v) && json_number_value(v) == 0))
        t = 0;
    else if (json_is_number(v) && json_number_value(v) >= 0.5 && json_number_value(v) <= 1)
        t = json_number_value(v);
    else {
        co_reply_error(r, 400, "bad_config",
                       "auto_merge 必须是 0.5–1 的阈值或 false / \"auto_merge\" must be a "
                       "threshold in [0.5, 1] or false");
        return;
    }
    char val[32], detail[64];
    snprintf(val, sizeof val, "%.4f", t);
    if (co_store_meta_set(app->store, META_AUTO, val)) {
        co_reply_error(r, 500, "internal", "无法保存配置 / cannot store the setting");
        return;
    }
    app->dedup_auto = t;
    co_app_config_changed(app);
    snprintf(detail, sizeof detail, "auto_merge=%s", val);
    if (co_store_audit(app->store, r->session->username, "dedup_config", detail))
        co_log_warn("msg=\"audit write failed\" action=dedup_config");
    co_reply_json(r, 200, config_json(app));
}

/* -------------------------------------------------------------- intake */

struct co_dup_intake {
    co_app *app;
    co_buf candidates;          /* JSON text: staff view of the top candidates ("[]" for the public) */
    co_dedup_sig sig;           /* the new case's signature (the committed hook indexes it) */
    char into[CO_NUMBER_MAX];   /* automatic merge target, "" = none */
    double score;
    co_write_cmd *merge;        /* the automatic merge (owned; only when one follows) */
    int merged;                 /* 1 when it was committed */
    void (*fire)(void *arg);
    void *arg;
};

co_dup_intake *co_dup_intake_begin(co_req *r, const co_write_cmd *reg)
{
    co_app *app = (co_app *)r->app;
    if (!app->dedup)
        return NULL;
    const co_case *c = &reg->draft;
    co_dedup_sig sig;
    co_dedup_signature(c->description, &sig);
    co_dedup_query q = {c->category, c->lon, c->lat, c->created, &sig, c->id, CO_DUP_SHOW};
    co_dedup_hit hits[CO_DUP_INTAKE_TOP];
    size_t n = co_dedup_find(app->dedup, &q, hits, CO_DUP_INTAKE_TOP, NULL);
    co_dup_intake *di = co_xcalloc(1, sizeof *di);
    di->app = app;
    di->sig = sig;
    co_buf_init(&di->candidates, CO_DUP_TEXT_MAX);
    co_err rc = co_buf_puts(&di->candidates, "[");
    for (size_t i = 0; r->session && !rc && i < n; i++)
        rc = candidate_text_mem(r, &hits[i], &di->candidates, di->candidates.len == 1);
    if (!rc)
        rc = co_buf_puts(&di->candidates, "]");
    if (rc) { /* cannot happen within the limit: answer without candidates */
        co_buf_reset(&di->candidates);
        if (co_buf_puts(&di->candidates, "[]"))
            co_log_warn("msg=\"no room for the duplicates list\"");
    }
    double threshold = app->dedup_auto;
    if (n && threshold > 0 && hits[0].score >= threshold) {
        memcpy(di->into, hits[0].number, CO_NUMBER_MAX);
        di->score = hits[0].score;
    }
    return di;
}

static void merge_done(co_write_cmd *cmd)
{
    co_dup_intake *di = cmd->arg;
    di->merged = cmd->rc == CO_OK;
    if (cmd->rc)
        co_log_warn("msg=\"automatic merge refused\" case=%lld into=%s err=\"%s\"",
                    (long long)cmd->case_id, di->into, cmd->err);
    di->fire(di->arg);
}

int co_dup_intake_committed(co_dup_intake *di, const co_write_cmd *reg, void (*fire)(void *arg),
                            void *arg)
{
    if (!di || reg->rc || !di->into[0])
        return 0;
    co_write_cmd *m = di->merge = co_xcalloc(1, sizeof *di->merge);
    char note[160];
    snprintf(note, sizeof note, "系统自动合并（相似度 %.2f）/ merged automatically (score %.2f)",
             di->score, di->score);
    m->kind = CO_WRITE_ACTION;
    m->case_id = reg->result.id;
    snprintf(m->action, sizeof m->action, "merge");
    m->params = json_pack("{s:s,s:f,s:s}", "into", di->into, "score", round_to(di->score, 0.001),
                          "note", note);
    snprintf(m->username, sizeof m->username, "%s", CO_WF_SYSTEM_ACTOR);
    m->role = CO_ROLE_SHIFTLEAD; /* the system merges with a shift lead's rights */
    m->done = merge_done;
    m->arg = di;
    di->fire = fire;
    di->arg = arg;
    co_writer_submit(di->app->writer, m);
    return 1;
}

const void *co_dup_intake_sig(const co_dup_intake *di)
{
    return di ? &di->sig : NULL;
}

const co_case *co_dup_intake_result(const co_dup_intake *di, const co_write_cmd *reg)
{
    return di && di->merged ? &di->merge->result : &reg->result;
}

/* The stored document with fields appended: "{...}" + ",k:v...}". */
static void reply_doc_plus(co_req *r, const char *doc, const char *tail)
{
    size_t n = strlen(doc), t = strlen(tail);
    if (n < 2 || doc[n - 1] != '}') {
        co_reply_bytes(r, 201, "application/json; charset=utf-8", doc, n);
        return;
    }
    char *buf = co_xmalloc(n + t + 2);
    memcpy(buf, doc, n - 1);
    size_t k = n - 1;
    if (n > 2)
        buf[k++] = ',';
    memcpy(buf + k, tail, t);
    k += t;
    buf[k++] = '}';
    co_reply_bytes(r, 201, "application/json; charset=utf-8", buf, k);
    co_free(buf);
}

void co_dup_intake_reply(co_req *r, co_dup_intake *di, const co_write_cmd *reg, int show_phone)
{
    const char *list = di && di->candidates.data ? di->candidates.data : "[]";
    if (show_phone && reg->doc && !(di && di->merged)) {
        /* the stored document and the candidates' text: nothing encoded twice */
        size_t n = strlen(list) + 16;
        char *tail = co_xmalloc(n);
        snprintf(tail, n, "\"duplicates\":%s", list);
        reply_doc_plus(r, reg->doc, tail);
        co_free(tail);
        return;
    }
    json_t *cands = json_loads(list, 0, NULL);
    if (!cands)
        cands = json_array();
    if (di && di->merged) {
        json_t *o = co_case_to_json(&di->merge->result, show_phone);
        json_object_set_new(o, "duplicates", cands);
        json_object_set_new(o, "auto_merged", json_pack("{s:s,s:f}", "into", di->into, "score",
                                                        round_to(di->score, 0.001)));
        co_reply_json(r, 201, o);
        return;
    }
    json_t *o = co_case_to_json(&reg->result, 0);
    json_object_set_new(o, "duplicates", cands);
    co_reply_json(r, 201, o);
}

void co_dup_intake_free(co_dup_intake *di)
{
    if (!di)
        return;
    co_buf_free(&di->candidates);
    if (di->merge)
        json_decref(di->merge->params);
    co_free(di->merge);
    co_free(di);
}

/* ------------------------------------------------------------ cases.c */

int co_dup_check_merge(co_req *r, const co_case *c, const char *action, json_t *params)
{
    if (!action || strcmp(action, "merge") != 0)
        return 0;
    co_app *app = (co_app *)r->app;
    const char *into = json_string_value(json_object_get(params, "into"));
    if (!into)
        return 0; /* the workflow says what is missing */
    co_case m;
    if (!co_case_number_valid(into) || co_store_case_get(app->store, 0, into, &m) != CO_OK) {
        co_reply_error(r, 422, "bad_merge_target", "没有这个目标案件 / no case with the number in \"into\"");
        return -1;
    }
    co_wf_actor who = co_app_actor(r->session);
    if (m.id == c->id || !co_state_is_open(m.state) || !co_wf_visible(&m, &who)) {
        co_reply_error(r, 422, "bad_merge_target",
                       "只能合并到另一个您可见的未办结案件 / the target must be another open case you "
                       "can see");
        return -1;
    }
    return 0;
}

void co_dup_view_extras(co_req *r, const co_case *c, json_t *view)
{
    co_app *app = (co_app *)r->app;
    if (!app->dedup)
        return;
    int64_t ids[MERGED_LIST_MAX];
    size_t n = co_dedup_merged_of(app->dedup, c->number, ids, MERGED_LIST_MAX);
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < MERGED_LIST_MAX; i++) {
        co_case m;
        if (co_store_case_get(app->store, ids[i], NULL, &m) != CO_OK)
            continue;
        char created[CO_TIME_ISO_MAX];
        co_time_format(m.created, created);
        /* every caller is called back: due once the master is closed */
        int visit_due = c->state == CO_ST_CLOSED && !(m.flags & CO_CF_VISITED) &&
                        m.caller_phone[0] != '\0';
        json_array_append_new(
            list, json_pack("{s:I,s:s,s:s,s:s,s:b,s:b,s:b}", "id", (json_int_t)m.id, "number",
                            m.number, "created", created, "description", m.description,
                            "has_caller", m.caller_phone[0] != '\0', "visited",
                            (m.flags & CO_CF_VISITED) != 0, "visit_due", visit_due));
    }
    json_object_set_new(view, "merged_cases", list);
    json_object_set_new(view, "merged_count", json_integer((json_int_t)n));
}
