/* stats.c — the analytics endpoints over the in-memory projection:
 *   GET /api/v1/stats              grouped counts and rates, top-N, series, heat map
 *   GET /api/v1/evaluation         综合评价: region / department / post / hotline
 *   GET /api/v1/dashboard/summary  the command screen's KPI tiles
 * Query parameters are parsed through const tables of small parsers; every
 * bad value is a 400 with a zh + en message. format=csv|xlsx streams the
 * same table as an attachment (a temporary file sent with sendfile).
 * Ownership: results and tables are created and freed here; JSON bodies are
 * handed to co_reply_json (which steals them); export file descriptors go to
 * co_reply_file (which closes them). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "projection/evaluation.h"
#include "projection/projection.h"
#include "projection/stats.h"
#include "projection/table.h"

#define DAY_S 86400
#define SH_OFFSET (8 * 3600)

/* ------------------------------------------------------ common parameters */

typedef struct common {
    int64_t from, to, now;
    co_table_format fmt;
    co_table_lang lang;
} common;

static int bad(co_req *r, const char *code, const char *msg)
{
    co_reply_error(r, 400, code, "%s", msg);
    return -1;
}

static int64_t midnight(int64_t t)
{
    int64_t d = (t + SH_OFFSET) / DAY_S;
    return d * DAY_S - SH_OFFSET;
}

/* A bound: ISO date or time; a date-only upper bound includes that day. */
static int parse_bound(co_req *r, const char *name, int upper, int64_t *out)
{
    const char *v = co_req_query(r, name);
    if (!v)
        return 0;
    if (strlen(v) > 40 || co_time_parse(v, out))
        return bad(r, "bad_time", "from/to/now 须为 ISO 8601 日期或时间 / from, to and now must be "
                                  "ISO 8601 dates or date-times");
    if (upper && strlen(v) == 10)
        *out += DAY_S;
    return 0;
}

static int parse_common(co_req *r, common *c)
{
    memset(c, 0, sizeof *c);
    if (parse_bound(r, "from", 0, &c->from) || parse_bound(r, "to", 1, &c->to) ||
        parse_bound(r, "now", 0, &c->now))
        return -1;
    if (!c->now)
        c->now = co_time_now();
    if (c->from && c->to && c->from >= c->to)
        return bad(r, "bad_range", "from 必须早于 to / from must be before to");
    const char *f = co_req_query(r, "format"), *l = co_req_query(r, "lang");
    if (f && co_table_format_parse(f, &c->fmt))
        return bad(r, "bad_format", "format 只能是 json|csv|xlsx / format must be json, csv or xlsx");
    if (l && co_table_lang_parse(l, &c->lang))
        return bad(r, "bad_lang", "lang 只能是 both|zh|en|key / lang must be both, zh, en or key");
    return 0;
}

static json_t *iso_or_null(int64_t t)
{
    char buf[CO_TIME_ISO_MAX];
    if (!t)
        return json_null();
    co_time_format(t, buf);
    return json_string(buf);
}

static co_projection *projection(co_req *r)
{
    co_app *app = (co_app *)r->app;
    if (!app->proj)
        co_reply_error(r, 503, "unavailable", "统计尚未就绪 / statistics are not loaded yet");
    return app->proj;
}

/* Streams a table as CSV or XLSX; the file name is base-YYYYMMDD.ext. */
static void reply_export(co_req *r, const co_table *t, const common *c, const char *base)
{
    int fd = -1;
    size_t len = 0;
    co_err rc = co_table_export(t, c->fmt, c->lang, &fd, &len);
    if (rc) {
        co_reply_err(r, rc, "导出失败 / export failed");
        return;
    }
    char day[CO_TIME_ISO_MAX], disp[160];
    co_time_format(c->now, day);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s-%.4s%.2s%.2s.%s\"", base, day, day + 5,
             day + 8, co_table_ext(c->fmt));
    evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Content-Disposition", disp);
    co_reply_file(r, co_table_mime(c->fmt), fd, len);
}

/* ------------------------------------------------------------------ stats */

typedef int (*stats_param_fn)(co_req *r, const char *v, co_stats_query *q);

static int p_group(co_req *r, const char *v, co_stats_query *q)
{
    if (co_stats_group_parse(v, &q->group))
        return bad(r, "bad_group", "group 只能是 district|street|community|grid|category|department|"
                                   "channel|state|day|week|month|none / group must be one of "
                                   "district, street, community, grid, category, department, "
                                   "channel, state, day, week, month, none");
    return 0;
}

static int p_area(co_req *r, const char *v, co_stats_query *q)
{
    co_app *app = (co_app *)r->app;
    if (strlen(v) >= sizeof q->area || co_areas_find(app->areas, v) < 0) {
        co_reply_error(r, 400, "bad_area", "没有这个区域 / no area with code %.20s", v);
        return -1;
    }
    snprintf(q->area, sizeof q->area, "%s", v);
    return 0;
}

static int p_category(co_req *r, const char *v, co_stats_query *q)
{
    if (strlen(v) >= sizeof q->category || !co_stats_category_valid(v))
        return bad(r, "bad_category", "category 须形如 E、E01 或 E0102 / category must look like "
                                      "E (kind), E01 (class) or E0102 (subclass)");
    snprintf(q->category, sizeof q->category, "%s", v);
    return 0;
}

static int p_dept(co_req *r, const char *v, co_stats_query *q)
{
    if (!*v || strlen(v) >= sizeof q->dept)
        return bad(r, "bad_dept", "dept 须为部门编码 / dept must be a department code");
    snprintf(q->dept, sizeof q->dept, "%s", v);
    return 0;
}

static int p_state(co_req *r, const char *v, co_stats_query *q)
{
    if (co_stats_states_parse(v, &q->states))
        return bad(r, "bad_state", "state 须为逗号分隔的状态名或 open / state must be open or a "
                                   "comma-separated list of states (registered, filed, "
                                   "dispatched, handling, closed, ...)");
    return 0;
}

static int p_channel(co_req *r, const char *v, co_stats_query *q)
{
    if (co_stats_channels_parse(v, &q->channels))
        return bad(r, "bad_channel", "channel 须为逗号分隔的渠道 / channel must be a comma-separated "
                                     "list of hotline, inspector, web, open311, sensor, import");
    return 0;
}

static int p_overdue(co_req *r, const char *v, co_stats_query *q)
{
    if (co_stats_overdue_parse(v, &q->overdue))
        return bad(r, "bad_overdue", "overdue 只能是 1|0|ever|any / overdue must be 1, 0, ever or any");
    return 0;
}

static int p_top(co_req *r, const char *v, co_stats_query *q)
{
    int64_t n;
    if (co_parse_i64(v, 1, 1000, &n))
        return bad(r, "bad_top", "top 须为 1–1000 的整数 / top must be an integer from 1 to 1000");
    q->top = (size_t)n;
    return 0;
}

static int p_metrics(co_req *r, const char *v, co_stats_query *q)
{
    if (co_stats_metrics_parse(v, &q->metrics))
        return bad(r, "bad_metrics", "metrics 须为逗号分隔的指标 / metrics must be a comma-separated "
                                     "list of count, open, closed, overdue, late, ontime_rate, "
                                     "satisfaction_rate, avg_handling_hours");
    return 0;
}

static int p_sort(co_req *r, const char *v, co_stats_query *q)
{
    co_stats_metric m;
    if (!strcmp(v, "key"))
        q->sort = CO_STATS_SORT_KEY;
    else if (co_stats_metric_parse(v, &m))
        return bad(r, "bad_sort", "sort 只能是 key 或某个指标 / sort must be key or a metric name");
    else
        q->sort = CO_STATS_SORT_BY(m);
    return 0;
}

static int p_fill(co_req *r, const char *v, co_stats_query *q)
{
    if (strcmp(v, "0") && strcmp(v, "1"))
        return bad(r, "bad_fill", "fill 只能是 0 或 1 / fill must be 0 or 1");
    q->fill = v[0] == '1';
    return 0;
}

static const struct {
    const char *name;
    stats_param_fn parse;
} stats_params[] = {
    {"group", p_group},     {"area", p_area},       {"category", p_category},
    {"dept", p_dept},       {"state", p_state},     {"channel", p_channel},
    {"overdue", p_overdue}, {"top", p_top},         {"metrics", p_metrics},
    {"sort", p_sort},       {"fill", p_fill},
};

static int parse_stats(co_req *r, const common *c, co_stats_query *q)
{
    *q = (co_stats_query){.group = CO_STATS_DISTRICT, .from = c->from, .to = c->to,
                          .now = c->now, .sort = CO_STATS_SORT_DEFAULT, .threads = 1};
    for (size_t i = 0; i < sizeof stats_params / sizeof stats_params[0]; i++) {
        const char *v = co_req_query(r, stats_params[i].name);
        if (v && stats_params[i].parse(r, v, q))
            return -1;
    }
    return 0;
}

static json_t *stats_body(const co_stats_query *q, const co_stats_result *res, const co_table *t,
                          double t0)
{
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:f}", "group",
                     co_stats_group_name(q->group), "from", iso_or_null(q->from), "to",
                     iso_or_null(q->to), "now", iso_or_null(q->now), "columns",
                     co_table_columns_json(t), "rows", co_table_rows_json(t), "totals",
                     co_stats_totals_json(res), "groups", (json_int_t)res->ngroups, "scanned",
                     (json_int_t)res->scanned, "took_ms", (co_time_mono() - t0) * 1000.0);
}

/* Forces the user's scope onto a stats query, like the case lists do: a
 * department's handlers count only their department's cases, a user limited
 * to an area only that area (asking for another one is 403). */
static int apply_scope(co_req *r, co_stats_query *q)
{
    const co_session *s = r->session;
    if (!s)
        return 0;
    if (s->role == CO_ROLE_HANDLER) {
        if (q->dept[0] && strcmp(q->dept, s->dept) != 0) {
            co_reply_error(r, 403, "out_of_scope",
                           "部门超出您的管辖范围 / department outside your scope");
            return -1;
        }
        snprintf(q->dept, sizeof q->dept, "%s", s->dept);
    }
    if (s->scope[0]) {
        if (q->area[0] && strncmp(q->area, s->scope, strlen(s->scope)) != 0) {
            co_reply_error(r, 403, "out_of_scope", "区域超出您的管辖范围 / area outside your scope");
            return -1;
        }
        if (!q->area[0])
            snprintf(q->area, sizeof q->area, "%s", s->scope);
    }
    return 0;
}

void co_api_stats(co_req *r)
{
    double t0 = co_time_mono();
    co_projection *p = projection(r);
    common c;
    co_stats_query q;
    if (!p || parse_common(r, &c) || parse_stats(r, &c, &q) || apply_scope(r, &q))
        return;
    co_stats_result res;
    co_table *t = NULL;
    co_err rc = co_stats_run(p, &q, &res);
    if (rc) {
        co_reply_err(r, rc, "统计失败 / statistics failed");
        return;
    }
    if ((rc = co_stats_to_table(p, &res, &t))) {
        co_stats_result_free(&res);
        co_reply_err(r, rc, "统计失败 / statistics failed");
        return;
    }
    char base[48];
    snprintf(base, sizeof base, "stats-%s", co_stats_group_name(q.group));
    if (c.fmt == CO_TABLE_JSON)
        co_reply_json(r, 200, stats_body(&q, &res, t, t0));
    else
        reply_export(r, t, &c, base);
    co_table_free(t);
    co_stats_result_free(&res);
}

/* ------------------------------------------------------------- evaluation */

/* Default period: this month (Asia/Shanghai) up to now. */
static void default_period(common *c)
{
    int y, m, d;
    co_civil_from_days((c->now + SH_OFFSET) / DAY_S, &y, &m, &d);
    if (!c->from)
        c->from = co_days_from_civil(y, m, 1) * DAY_S - SH_OFFSET;
    if (!c->to)
        c->to = c->now > c->from ? c->now : c->from + DAY_S;
}

static int parse_level(co_req *r, co_eval_query *q)
{
    const char *v = co_req_query(r, "level");
    if (!v)
        return 0;
    if (q->type == CO_EVAL_HOTLINE && !strcmp(v, "department")) {
        q->by = CO_EVAL_BY_DEPT;
        return 0;
    }
    if (co_level_parse(v, &q->level) || q->level > CO_LEVEL_COMMUNITY)
        return bad(r, "bad_level", "level 只能是 district|street|community（12345 另可 department）/ "
                                   "level must be district, street or community (hotline: also "
                                   "department)");
    return 0;
}

static int parse_role(co_req *r, co_eval_query *q)
{
    const char *v = co_req_query(r, "role");
    if (q->type != CO_EVAL_POST)
        return 0;
    if (!v || co_role_parse(v, &q->role) ||
        (q->role != CO_ROLE_INSPECTOR && q->role != CO_ROLE_OPERATOR &&
         q->role != CO_ROLE_SHIFTLEAD && q->role != CO_ROLE_DISPATCHER))
        return bad(r, "bad_role", "岗位评价需要 role=inspector|operator|shiftlead|dispatcher / post "
                                  "evaluation needs role=inspector, operator, shiftlead or "
                                  "dispatcher");
    return 0;
}

static int parse_eval(co_req *r, common *c, co_eval_query *q)
{
    const char *type = co_req_query(r, "type");
    co_eval_type ty = CO_EVAL_REGION;
    if (type && co_eval_type_parse(type, &ty))
        return bad(r, "bad_type", "type 只能是 region|department|post|hotline / type must be "
                                  "region, department, post or hotline");
    co_eval_query_init(q, ty);
    if (parse_level(r, q) || parse_role(r, q))
        return -1;
    const char *w = co_req_query(r, "weights");
    if (w && (strlen(w) > 1000 || co_eval_weights_parse(w, q)))
        return bad(r, "bad_weights", "weights 须形如 closure_rate:30,rework_rate:10（0–1000）/ "
                                     "weights must look like closure_rate:30,rework_rate:10 "
                                     "(0 to 1000)");
    for (int i = 0; i < CO_EI_COUNT; i++)
        if (q->weights[i] >= 0 &&
            co_eval_default_weight(q->type, q->role, (co_eval_indicator)i) < 0) {
            co_reply_error(r, 400, "bad_weights",
                           "此评价没有指标 %s / this evaluation has no indicator %s",
                           co_eval_indicator_name((co_eval_indicator)i),
                           co_eval_indicator_name((co_eval_indicator)i));
            return -1;
        }
    default_period(c);
    if (c->to <= c->from)
        return bad(r, "bad_range", "from 必须早于 to / from must be before to");
    q->from = c->from;
    q->to = c->to;
    q->now = c->now;
    return 0;
}

static json_t *eval_body(const co_eval_result *res, const co_table *t, double t0)
{
    json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "type", co_eval_type_name(res->type),
                          "from", iso_or_null(res->from), "to", iso_or_null(res->to), "now",
                          iso_or_null(res->now), "indicators", co_eval_indicators_json(res),
                          "columns", co_table_columns_json(t), "rows", co_table_rows_json(t));
    if (res->type == CO_EVAL_POST)
        json_object_set_new(o, "role", json_string(co_role_name(res->role)));
    else if (res->type == CO_EVAL_HOTLINE && res->by == CO_EVAL_BY_DEPT)
        json_object_set_new(o, "level", json_string("department"));
    else if (res->type != CO_EVAL_DEPT)
        json_object_set_new(o, "level", json_string(co_level_name(res->level)));
    json_object_set_new(o, "took_ms", json_real((co_time_mono() - t0) * 1000.0));
    return o;
}

void co_api_evaluation(co_req *r)
{
    double t0 = co_time_mono();
    co_projection *p = projection(r);
    common c;
    co_eval_query q;
    if (!p || parse_common(r, &c) || parse_eval(r, &c, &q))
        return;
    co_eval_result res;
    co_table *t = NULL;
    co_err rc = co_eval_run(p, &q, &res);
    if (!rc && (rc = co_eval_to_table(&res, &t)))
        co_eval_result_free(&res);
    if (rc) {
        co_reply_err(r, rc, "评价失败 / evaluation failed");
        return;
    }
    char base[48];
    snprintf(base, sizeof base, "evaluation-%s", co_eval_type_name(q.type));
    if (c.fmt == CO_TABLE_JSON)
        co_reply_json(r, 200, eval_body(&res, t, t0));
    else
        reply_export(r, t, &c, base);
    co_table_free(t);
    co_eval_result_free(&res);
}

/* ------------------------------------------------------ dashboard summary */

typedef struct summary {
    co_projection *p;
    int64_t now, today, from;   /* the rate period is [from, now] */
    json_t *body;
    co_err rc;
    co_stats_query scope;       /* the user's area and department (apply_scope) */
} summary;

/* Runs one stats query for the summary; NULL on failure (rc set). */
static int run_stats(summary *s, co_stats_query *q, co_stats_result *res)
{
    q->now = s->now;
    q->threads = 1;
    memcpy(q->area, s->scope.area, sizeof q->area);
    memcpy(q->dept, s->scope.dept, sizeof q->dept);
    if (!s->rc)
        s->rc = co_stats_run(s->p, q, res);
    return s->rc ? -1 : 0;
}

static void tile_current(summary *s)
{
    co_stats_query q = {.group = CO_STATS_NONE, .from = s->today};
    co_stats_result res;
    if (run_stats(s, &q, &res))
        return;
    json_object_set_new(s->body, "today_intake", json_integer((json_int_t)res.totals.count));
    co_stats_result_free(&res);
    q = (co_stats_query){.group = CO_STATS_NONE,
                         .metrics = (1u << CO_SM_COUNT) | (1u << CO_SM_OVERDUE)};
    if (co_stats_states_parse("open", &q.states) || run_stats(s, &q, &res))
        return;
    json_object_set_new(s->body, "open", json_integer((json_int_t)res.totals.count));
    json_object_set_new(s->body, "overdue", json_integer((json_int_t)res.totals.overdue));
    co_stats_result_free(&res);
}

static json_t *rate_json(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1e4) / 1e4);
}

static void tile_period(summary *s, int64_t days)
{
    co_stats_query q = {.group = CO_STATS_NONE, .from = s->from};
    co_stats_result res;
    if (run_stats(s, &q, &res))
        return;
    const co_stats_row *t = &res.totals;
    json_object_set_new(
        s->body, "period",
        json_pack("{s:I,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "days", (json_int_t)days, "from",
                  iso_or_null(s->from), "to", iso_or_null(s->now), "cases", (json_int_t)t->count,
                  "closed", (json_int_t)t->closed, "ontime_rate",
                  rate_json(co_stats_metric_value(t, CO_SM_ONTIME_RATE)), "satisfaction_rate",
                  rate_json(co_stats_metric_value(t, CO_SM_SATISFACTION_RATE)),
                  "avg_handling_hours",
                  rate_json(co_stats_metric_value(t, CO_SM_AVG_HANDLING_HOURS))));
    co_stats_result_free(&res);
}

static void tile_top_categories(summary *s)
{
    co_stats_query q = {.group = CO_STATS_CATEGORY, .from = s->from, .top = 10,
                        .metrics = 1u << CO_SM_COUNT};
    co_stats_result res;
    if (run_stats(s, &q, &res))
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < res.nrows; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "key", res.rows[i].key, "label",
                                           res.rows[i].label, "count",
                                           (json_int_t)res.rows[i].count));
    json_object_set_new(s->body, "top_categories", a);
    co_stats_result_free(&res);
}

static void tile_daily(summary *s)
{
    co_stats_query q = {.group = CO_STATS_DAY, .from = s->today - 29 * DAY_S,
                        .to = s->today + DAY_S, .fill = 1, .metrics = 1u << CO_SM_COUNT};
    co_stats_result res;
    if (run_stats(s, &q, &res))
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < res.nrows; i++)
        json_array_append_new(a, json_pack("{s:s,s:I}", "date", res.rows[i].key, "count",
                                           (json_int_t)res.rows[i].count));
    json_object_set_new(s->body, "daily", a);
    co_stats_result_free(&res);
}

static void tile_departments(summary *s)
{
    co_eval_query q;
    co_eval_query_init(&q, CO_EVAL_DEPT);
    q.from = s->from;
    q.to = s->now > s->from ? s->now : s->from + 1;
    q.now = s->now;
    co_eval_result res;
    if (s->rc || (s->rc = co_eval_run(s->p, &q, &res)))
        return;
    json_t *a = json_array();
    for (size_t i = 0; i < res.nrows && json_array_size(a) < 10; i++) {
        const co_eval_row *x = &res.rows[i];
        if (!x->rank)
            continue;
        char g[2] = {x->grade, 0};
        json_array_append_new(a, json_pack("{s:i,s:s,s:s,s:f,s:s}", "rank", x->rank, "key",
                                           x->key, "label", x->label, "score",
                                           round(x->score * 100) / 100, "grade", g));
    }
    json_object_set_new(s->body, "department_ranking", a);
    co_eval_result_free(&res);
}

void co_api_dashboard_summary(co_req *r)
{
    double t0 = co_time_mono();
    co_projection *p = projection(r);
    common c;
    if (!p || parse_common(r, &c))
        return;
    int64_t days = 30;
    const char *d = co_req_query(r, "days");
    if (d && co_parse_i64(d, 1, 366, &days)) {
        bad(r, "bad_days", "days 须为 1–366 的整数 / days must be an integer from 1 to 366");
        return;
    }
    summary s = {p, c.now, midnight(c.now), c.now - days * DAY_S, NULL, CO_OK, {0}};
    if (apply_scope(r, &s.scope))
        return;
    s.body = json_object();
    json_object_set_new(s.body, "now", iso_or_null(c.now));
    tile_current(&s);
    tile_period(&s, days);
    tile_top_categories(&s);
    tile_departments(&s);
    tile_daily(&s);
    if (s.rc) {
        json_decref(s.body);
        co_reply_err(r, s.rc, "统计失败 / statistics failed");
        return;
    }
    json_object_set_new(s.body, "took_ms", json_real((co_time_mono() - t0) * 1000.0));
    co_reply_json(r, 200, s.body);
}
