/* cases.c — the case API:
 *   POST /api/v1/cases                      register (JSON or multipart with photos)
 *   GET  /api/v1/cases                      list with filters, cursor, inbox=1
 *   GET  /api/v1/cases/{id}                 one case (id or case number)
 *   GET  /api/v1/cases/{id}/events          its history
 *   POST /api/v1/cases/{id}/actions/{act}   a workflow action (409 lists the allowed ones)
 *   POST /api/v1/media, GET /api/v1/media/{id}   photos
 *   GET/POST /api/v1/public/cases[/{number}]     the citizens' channel
 * Every write goes through the writer (group commit) and replies only after
 * the commit. Reads honour the user's department and area scope. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/app.h"
#include "api/duplicates.h"
#include "api/intake.h"
#include "api/routes.h"
#include "http/multipart.h"
#include "lib/alloc.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "projection/projection.h"

/* ------------------------------------------------------------- helpers */

static co_err load_case(co_app *app, const char *key, co_case *out)
{
    if (!key)
        return CO_ENOTFOUND;
    size_t n = strlen(key);
    int64_t id;
    if (co_case_number_valid(key))
        return co_store_case_get(app->store, 0, key, out);
    if (n > 0 && n < 13 && co_parse_i64(key, 1, INT64_MAX, &id) == CO_OK)
        return co_store_case_get(app->store, id, NULL, out);
    return CO_ENOTFOUND;
}

/* Loads the case named by the route and checks that the user may see it;
 * replies itself and returns non-zero on failure. */
static int visible_case(co_req *r, co_case *c)
{
    co_app *app = (co_app *)r->app;
    co_err rc = load_case(app, co_req_param(r, 0), c);
    if (rc) {
        co_reply_err(r, rc, rc == CO_ENOTFOUND ? "没有这个案件 / no such case" : NULL);
        return -1;
    }
    co_wf_actor who = co_app_actor(r->session);
    if (!co_wf_visible(c, &who)) {
        co_reply_error(r, 403, "out_of_scope",
                       "案件不在您的管辖范围 / the case is outside your department or area");
        return -1;
    }
    return 0;
}

static co_channel default_channel(co_role role)
{
    return role == CO_ROLE_INSPECTOR ? CO_CH_INSPECTOR : CO_CH_HOTLINE;
}

static int channel_allowed(co_role role, co_channel ch)
{
    if (role == CO_ROLE_ADMIN)
        return ch == CO_CH_IMPORT || ch == CO_CH_SENSOR || ch == CO_CH_HOTLINE;
    if (role == CO_ROLE_INSPECTOR)
        return ch == CO_CH_INSPECTOR;
    return ch == CO_CH_HOTLINE || ch == CO_CH_IMPORT || ch == CO_CH_SENSOR;
}

/* ------------------------------------------------------------ register */

static int save_parts(co_req *r, co_part *parts, size_t n, json_t **doc)
{
    co_app *app = (co_app *)r->app;
    json_t *photos = json_array();
    char err[CO_INTAKE_ERR_MAX];
    *doc = NULL;
    size_t nphotos = 0; /* refused before any is stored */
    for (size_t i = 0; i < n; i++)
        nphotos += !strcmp(parts[i].name, "photo") || !strcmp(parts[i].name, "photos");
    if (nphotos > CO_PHOTOS_MAX) {
        json_decref(photos);
        co_reply_error(r, 400, "too_many_photos", "每个案件最多 %d 张照片 / at most %d photos per case",
                       CO_PHOTOS_MAX, CO_PHOTOS_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(parts[i].name, "case")) {
            json_decref(*doc);
            *doc = NULL;
            if (co_req_json_shape(r, (const char *)parts[i].data, parts[i].len)) {
                json_decref(photos);
                return -1;
            }
            *doc = json_loadb((const char *)parts[i].data, parts[i].len, 0, NULL);
            continue;
        }
        if (strcmp(parts[i].name, "photo") != 0 && strcmp(parts[i].name, "photos") != 0)
            continue;
        char hash[65];
        const char *type;
        co_err rc = co_media_save(app, parts[i].data, parts[i].len, hash, &type, err, sizeof err);
        if (rc) {
            json_decref(photos);
            json_decref(*doc);
            co_reply_err(r, rc, err);
            return -1;
        }
        json_array_append_new(photos, json_string(hash));
    }
    if (!json_is_object(*doc)) {
        json_decref(photos);
        json_decref(*doc);
        co_reply_error(r, 400, "bad_request",
                       "multipart 需要名为 case 的 JSON 部分 / multipart needs a \"case\" JSON part");
        return -1;
    }
    json_t *given = json_object_get(*doc, "photos");
    if (json_is_array(given))
        json_array_extend(photos, given);
    json_object_set_new(*doc, "photos", photos);
    return 0;
}

/* The intake document, from JSON or multipart (photos stored on the way).
 * Returns a new reference or NULL after replying. */
static json_t *intake_doc(co_req *r)
{
    const char *ct = co_req_header(r, "Content-Type");
    if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        size_t len, n;
        const unsigned char *body = co_req_body(r, &len);
        co_part parts[CO_MULTIPART_MAX];
        if (co_multipart_parse(ct, body, len, parts, &n)) {
            co_reply_error(r, 400, "bad_multipart", "无法解析 multipart 请求体 / malformed multipart body");
            return NULL;
        }
        json_t *doc;
        return save_parts(r, parts, n, &doc) ? NULL : doc;
    }
    json_t *doc = co_req_json(r);
    return doc ? json_incref(doc) : NULL;
}

static void reply_intake_error(co_req *r, co_err rc, const char *err)
{
    if (rc == CO_ENOTFOUND)
        co_reply_error(r, 400, "outside_city", "%s", err);
    else
        co_reply_err(r, rc, err);
}

void co_api_cases_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *doc = intake_doc(r);
    if (!doc)
        return;
    co_channel ch = default_channel(r->session->role);
    const char *chname = json_string_value(json_object_get(doc, "channel"));
    if (chname && (co_channel_parse(chname, &ch) || !channel_allowed(r->session->role, ch))) {
        json_decref(doc);
        co_reply_error(r, 400, "bad_channel", "此岗位不能使用该渠道 / channel not allowed for your role");
        return;
    }
    co_case draft;
    char err[CO_INTAKE_ERR_MAX];
    co_err rc = co_intake_parse(app, doc, ch, &draft, err, sizeof err);
    json_decref(doc);
    if (rc) {
        reply_intake_error(r, rc, err);
        return;
    }
    co_wf_actor who = co_app_actor(r->session);
    if (!co_wf_visible(&draft, &who)) {
        co_reply_error(r, 403, "out_of_scope",
                       "位置不在您的管辖范围 / the location is outside your area");
        return;
    }
    co_intake_submit(r, &draft, 0);
}

void co_api_public_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *doc = intake_doc(r);
    if (!doc)
        return;
    co_case draft;
    char err[CO_INTAKE_ERR_MAX];
    co_err rc = co_intake_parse(app, doc, CO_CH_WEB, &draft, err, sizeof err);
    json_decref(doc);
    if (rc) {
        reply_intake_error(r, rc, err);
        return;
    }
    draft.reqtype = draft.reqtype == CO_RT_NONE ? CO_RT_REPORT : draft.reqtype;
    r->session = NULL; /* a citizen's report carries no staff identity */
    co_intake_submit(r, &draft, 1);
}

void co_api_public_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *num = co_req_param(r, 0);
    co_case c;
    if (!co_case_number_valid(num)) {
        co_reply_error(r, 400, "bad_number", "案件编号为 13–15 位数字 / a case number has 13–15 digits");
        return;
    }
    co_err rc = co_store_case_get(app->store, 0, num, &c);
    if (rc) {
        co_reply_err(r, rc, rc == CO_ENOTFOUND ? "没有这个案件 / no such case" : NULL);
        return;
    }
    co_reply_json(r, 200, co_case_public_view(r, &c));
}

/* ---------------------------------------------------------------- list */

typedef struct list_ctx {
    co_req *r;
    json_t *items;
    int64_t last_id;
    size_t rows;  /* rows the store returned: items may be fewer */
    int inbox;    /* only cases this user can act on now */
} list_ctx;

static int list_one(void *vctx, const co_case *c)
{
    list_ctx *ctx = vctx;
    co_wf_actor who = co_app_actor(ctx->r->session);
    /* the store filters the inbox by role and state; department ownership
     * (a case moved on to another department) is the workflow's to say */
    if (co_wf_visible(c, &who) && (!ctx->inbox || co_wf_has_work(c, &who)))
        json_array_append_new(ctx->items, co_case_view(ctx->r, c));
    ctx->last_id = c->id;
    ctx->rows++;
    return 0;
}

/* ------------------------------------------------ lists by area or department */

#define NARROW_IDS 500 /* candidates per store query (co_case_query.ids) */

typedef struct narrow_ctx {
    co_case_cb cb;
    void *ctx;
    int skip;    /* matches still to skip (offset) */
    int left;    /* matches still wanted */
    int stopped; /* the caller's callback asked to stop, or left reached 0 */
} narrow_ctx;

static int narrow_one(void *vctx, const co_case *c)
{
    narrow_ctx *n = vctx;
    if (n->skip > 0) {
        n->skip--;
        return 0;
    }
    n->left--;
    if (n->cb(n->ctx, c) || n->left <= 0)
        n->stopped = 1;
    return n->stopped;
}

/* The store's list query. A store without indexes on area and department
 * (SQLite) gets such lists as candidate ids from the projection, newest
 * first, and checks every filter on them; the candidates come in growing
 * rounds (the page, then twice as many) so a page reads few rows. Inbox and
 * phone lists keep their own indexes. */
static co_err cases_query(co_app *app, const co_case_query *q, co_case_cb cb, void *ctx)
{
    if ((!q->area && !q->dept) || !app->proj || co_store_indexes_place(app->store) || q->phone ||
        q->pending_role >= 0)
        return co_store_cases_query(app->store, q, cb, ctx);
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    narrow_ctx nc = {cb, ctx, q->offset > 0 ? q->offset : 0, limit, 0};
    co_projection_idq iq = {q->area, q->dept, q->states, q->from, q->to, q->before_id};
    int64_t ids[NARROW_IDS];
    co_case_query sub = *q;
    sub.offset = 0;
    sub.limit = NARROW_IDS;
    sub.before_id = 0;
    size_t want = (size_t)(limit + nc.skip) + 1;
    co_err rc = CO_OK;
    do {
        want = want < NARROW_IDS ? want : NARROW_IDS;
        sub.nids = co_projection_case_ids(app->proj, &iq, ids, want, &iq.before);
        if (!sub.nids)
            break;
        sub.ids = ids;
        rc = co_store_cases_query(app->store, &sub, narrow_one, &nc);
        want *= 2;
    } while (!rc && !nc.stopped && iq.before);
    return rc;
}

static co_err parse_states(const char *s, unsigned *mask)
{
    *mask = 0;
    if (!strcmp(s, "open")) {
        for (int st = CO_ST_REGISTERED; st < CO_ST_COUNT; st++)
            if (co_state_is_open((co_state)st))
                *mask |= 1u << st;
        return CO_OK;
    }
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        co_state st;
        if (co_state_parse(tok, &st))
            return CO_EINVAL;
        *mask |= 1u << st;
    }
    return *mask ? CO_OK : CO_EINVAL;
}

static co_err parse_time_param(const char *s, int64_t *out)
{
    return s ? co_time_parse(s, out) : CO_OK;
}

/* Parses the list filters; replies itself on error. */
static int parse_filters(co_req *r, co_case_query *q)
{
    const char *v;
    int64_t n;
    memset(q, 0, sizeof *q);
    q->channel = -1;
    q->pending_role = -1;
    q->limit = 50;
    q->now = co_time_now();
    if ((v = co_req_query(r, "state")) && parse_states(v, &q->states))
        goto bad_state;
    if ((v = co_req_query(r, "category")) && co_category_parse(v, &q->category))
        goto bad;
    if ((v = co_req_query(r, "area")) && co_level_of_code(v) < 0)
        goto bad;
    q->area = v;
    q->dept = co_req_query(r, "dept");
    if ((v = co_req_query(r, "channel"))) {
        co_channel ch;
        if (co_channel_parse(v, &ch))
            goto bad;
        q->channel = (int)ch;
    }
    if ((v = co_req_query(r, "overdue")))
        q->overdue = !strcmp(v, "1") || !strcmp(v, "true");
    if (parse_time_param(co_req_query(r, "from"), &q->from) ||
        parse_time_param(co_req_query(r, "to"), &q->to))
        goto bad;
    if ((v = co_req_query(r, "q")) && (strlen(v) > 100 || !*v))
        goto bad;
    q->text = v;
    q->phone = co_req_query(r, "phone");
    if ((v = co_req_query(r, "before"))) {
        if (co_parse_i64(v, 1, INT64_MAX, &n))
            goto bad;
        q->before_id = n;
    }
    if ((v = co_req_query(r, "limit"))) {
        if (co_parse_i64(v, 1, 500, &n))
            goto bad;
        q->limit = (int)n;
    }
    return 0;
bad_state:
    co_reply_error(r, 400, "bad_filter", "state 必须是 open 或逗号分隔的状态名 / state must be "
                                         "\"open\" or a comma list of states");
    return -1;
bad:
    co_reply_error(r, 400, "bad_filter",
                   "筛选参数无效 / invalid filter (category C0101|E0102, area code 6/9/12/15 "
                   "digits, channel name, from/to ISO 8601, q ≤ 100 bytes, before id, limit "
                   "1–500)");
    return -1;
}

/* Forces the user's department and area scope onto the query. */
static int apply_scope(co_req *r, co_case_query *q)
{
    const co_session *s = r->session;
    if (q->phone && !(s->role == CO_ROLE_OPERATOR || s->role == CO_ROLE_SHIFTLEAD ||
                      s->role == CO_ROLE_ADMIN)) {
        co_reply_error(r, 403, "forbidden", "无权按来电号码查询 / your role may not search by phone");
        return -1;
    }
    if (s->role == CO_ROLE_HANDLER)
        q->dept = s->dept;
    if (s->scope[0]) {
        if (q->area && strncmp(q->area, s->scope, strlen(s->scope)) != 0) {
            co_reply_error(r, 403, "out_of_scope", "区域超出您的管辖范围 / area outside your scope");
            return -1;
        }
        if (!q->area)
            q->area = s->scope;
    }
    const char *inbox = co_req_query(r, "inbox");
    if (inbox && (!strcmp(inbox, "1") || !strcmp(inbox, "true")))
        q->pending_role = (int)s->role;
    return 0;
}

void co_api_cases_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_case_query q;
    if (parse_filters(r, &q) || apply_scope(r, &q))
        return;
    list_ctx ctx = {r, json_array(), 0, 0, q.pending_role >= 0};
    double t0 = co_time_mono();
    co_err rc = cases_query(app, &q, list_one, &ctx);
    if (rc) {
        json_decref(ctx.items);
        co_reply_err(r, rc, "无法查询案件 / cannot query cases");
        return;
    }
    size_t n = json_array_size(ctx.items);
    json_t *out = json_pack("{s:o,s:I,s:f}", "items", ctx.items, "count", (json_int_t)n,
                            "took_ms", (co_time_mono() - t0) * 1000);
    int full = ctx.last_id && (size_t)q.limit <= ctx.rows;
    json_object_set_new(out, "next", full ? json_integer(ctx.last_id) : json_null());
    co_reply_json(r, 200, out);
}

/* ------------------------------------------------------------- one case */

void co_api_case_get(co_req *r)
{
    co_case c;
    if (visible_case(r, &c))
        return;
    json_t *view = co_case_view(r, &c);
    co_dup_view_extras(r, &c, view);
    co_reply_json(r, 200, view);
}

typedef struct events_ctx {
    json_t *items;
    co_store *store;
} events_ctx;

/* The display name of an event's actor: a user's name, the client of an
 * Open311 update, or the department handler's department. */
static void actor_name(events_ctx *ctx, const co_event *e, char *out, size_t len)
{
    co_user u;
    out[0] = '\0';
    if (!e->actor[0])
        snprintf(out, len, "公众 / public");
    else if (co_store_user_get(ctx->store, e->actor, &u) == CO_OK)
        snprintf(out, len, "%s", u.display_name);
    else
        snprintf(out, len, "%s", e->actor);
}

static int event_one(void *vctx, const co_event *e)
{
    events_ctx *ctx = vctx;
    char ts[CO_TIME_ISO_MAX];
    co_time_format(e->ts, ts);
    json_t *data = json_deep_copy(e->data);
    json_t *c = json_object_get(data, "case");
    if (c) /* register events carry the whole case: drop the phone */
        json_object_del(json_object_get(c, "caller"), "phone");
    char name[64];
    actor_name(ctx, e, name, sizeof name);
    json_array_append_new(
        ctx->items,
        json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "seq", (json_int_t)e->seq, "ts", ts,
                  "actor", e->actor, "actor_name", name, "role", e->role, "action", e->action,
                  "action_zh",
                  co_wf_action_zh(e->action), "from", co_state_name(e->from), "to",
                  co_state_name(e->to), "data", data ? data : json_object()));
    return 0;
}

void co_api_case_events(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_case c;
    if (visible_case(r, &c))
        return;
    events_ctx ctx = {json_array(), app->store};
    co_err rc = co_store_events_of(app->store, c.id, event_one, &ctx);
    if (rc) {
        json_decref(ctx.items);
        co_reply_err(r, rc, NULL);
        return;
    }
    co_reply_json(r, 200, json_pack("{s:s,s:o}", "number", c.number, "events", ctx.items));
}

/* -------------------------------------------------------------- actions */

typedef struct action_ctx {
    co_write_cmd cmd;
    co_deferred *def;
} action_ctx;

static void action_reply(co_req *r, void *arg)
{
    action_ctx *ac = arg;
    co_write_cmd *cmd = &ac->cmd;
    if (cmd->rc == CO_ECONFLICT || cmd->rc == CO_EPERM) {
        /* list what the user may do now */
        co_case c;
        json_t *allowed = json_array();
        co_wf_actor who = co_app_actor(r->session);
        if (co_store_case_get(((co_app *)r->app)->store, cmd->case_id, NULL, &c) == CO_OK) {
            const char *acts[CO_WF_MAX_ACTIONS];
            size_t n = co_wf_allowed(&c, &who, acts);
            for (size_t i = 0; i < n; i++)
                json_array_append_new(allowed, json_string(acts[i]));
        }
        int status = cmd->rc == CO_EPERM ? 403 : 409;
        co_reply_json(r, status,
                      json_pack("{s:{s:s,s:s,s:o}}", "error", "code",
                                status == 409 ? "action_not_allowed" : "out_of_scope", "message",
                                cmd->err, "allowed_actions", allowed));
    } else if (cmd->rc) {
        co_reply_err(r, cmd->rc, cmd->err[0] ? cmd->err : NULL);
    } else {
        co_reply_json(r, 200, co_case_view(r, &cmd->result));
    }
    json_decref(cmd->params);
    co_free(ac);
}

static void action_gone(co_req *r, void *arg)
{
    (void)r;
    action_ctx *ac = arg;
    json_decref(ac->cmd.params);
    co_free(ac);
}

static void action_done(co_write_cmd *cmd)
{
    co_deferred_fire(((action_ctx *)cmd->arg)->def);
}

void co_api_case_action(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_case c;
    if (visible_case(r, &c))
        return;
    size_t len;
    co_req_body(r, &len);
    json_t *params = NULL;
    if (len) {
        params = co_req_json(r);
        if (!params)
            return;
        json_incref(params);
    }
    if (co_dup_check_merge(r, &c, co_req_param(r, 1), params)) {
        json_decref(params);
        return;
    }
    action_ctx *ac = co_xcalloc(1, sizeof *ac);
    co_write_cmd *cmd = &ac->cmd;
    cmd->kind = CO_WRITE_ACTION;
    cmd->case_id = c.id;
    snprintf(cmd->action, sizeof cmd->action, "%s", co_req_param(r, 1));
    cmd->params = params;
    snprintf(cmd->username, sizeof cmd->username, "%s", r->session->username);
    cmd->role = r->session->role;
    snprintf(cmd->dept, sizeof cmd->dept, "%s", r->session->dept);
    snprintf(cmd->scope, sizeof cmd->scope, "%s", r->session->scope);
    cmd->done = action_done;
    cmd->arg = ac;
    ac->def = co_req_defer(r, action_reply, action_gone, ac);
    if (!ac->def) {
        json_decref(params);
        co_free(ac);
        co_reply_error(r, 500, "internal", "cannot defer the reply");
        return;
    }
    co_writer_submit(app->writer, cmd);
}

/* ---------------------------------------------------------------- media */

void co_api_media_upload(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *ct = co_req_header(r, "Content-Type");
    size_t len;
    const unsigned char *body = co_req_body(r, &len);
    const unsigned char *data = body;
    size_t dlen = len;
    if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        co_part parts[CO_MULTIPART_MAX];
        size_t n;
        if (co_multipart_parse(ct, body, len, parts, &n) || !parts[0].filename[0]) {
            co_reply_error(r, 400, "bad_multipart", "需要一个文件部分 / one file part is required");
            return;
        }
        data = parts[0].data;
        dlen = parts[0].len;
    }
    char hash[65], err[CO_INTAKE_ERR_MAX];
    const char *type;
    co_err rc = co_media_save(app, data, dlen, hash, &type, err, sizeof err);
    if (rc) {
        co_reply_err(r, rc, err);
        return;
    }
    co_reply_json(r, 201, json_pack("{s:s,s:s,s:I}", "id", hash, "type", type, "size",
                                     (json_int_t)dlen));
}

void co_api_media_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *id = co_req_param(r, 0);
    char type[64], path[800];
    if (!id || strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64 ||
        co_store_media_get(app->store, id, type, sizeof type)) {
        co_reply_error(r, 404, "not_found", "没有这个照片 / no such media");
        return;
    }
    co_media_path(app, id, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        co_reply_error(r, 404, "not_found", "照片文件缺失 / media file missing");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Cache-Control",
                      "private, max-age=31536000, immutable");
    co_reply_file(r, type, fd, (size_t)st.st_size);
}
