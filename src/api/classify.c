/* classify.c — POST /api/v1/classify {"text", "area"?, "lon"?, "lat"?}
 * → {"top":[{major,minor,code,score,department}…3], "department", "request_type",
 *    "request_type_zh", "severity", "severity_zh", "danger", "model":{version,
 *    trained, examples}}; also the JSON line of `cityops classify`.
 * The department comes from the routing rules (category × area), or the
 * category's department type at city level when no place is given. The
 * model is borrowed from the classifier service for the call. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/intake.h"
#include "api/routes.h"
#include "classify/service.h"
#include "lib/timeutil.h"

static const co_taxonomy_subclass *subclass_of(const co_taxonomy *t, const char *label,
                                               co_category *cat)
{
    if (!t || co_category_parse(label, cat))
        return NULL;
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(*cat));
    return co_taxonomy_find_subclass(
        t, co_category_kind(*cat) == 1 ? CO_TAXONOMY_COMPONENT : CO_TAXONOMY_EVENT, code);
}

static json_t *department(co_app *app, const co_taxonomy *tax, co_category cat,
                          const co_case *where)
{
    if (!app->routing || !app->depts)
        return json_null();
    co_case c = *where;
    c.category = cat;
    char dept[64] = "";
    pthread_rwlock_rdlock(&app->cfg_lock);
    co_routing_route(app->routing, tax, app->depts, &c, dept, sizeof dept);
    pthread_rwlock_unlock(&app->cfg_lock);
    if (!dept[0])
        return json_null();
    return json_pack("{s:s,s:s}", "code", dept, "name", co_app_dept_name(app, dept));
}

static double round3(double x)
{
    return floor(x * 1000 + 0.5) / 1000;
}

json_t *co_api_classify_view(co_app *app, const co_clf_model *m, const char *text, size_t len,
                             const co_case *where)
{
    co_clf_result r;
    co_clf_model_predict(m, text, len, &r);
    co_taxonomy *tax = co_app_taxonomy(app);
    json_t *top = json_array(), *first_dept = NULL;
    for (int k = 0; k < r.ntop; k++) {
        co_category cat = 0;
        const co_taxonomy_subclass *s = subclass_of(tax, r.top[k].label, &cat);
        if (!s)
            continue; /* the taxonomy no longer has it */
        json_t *dept = department(app, tax, cat, where);
        if (!first_dept)
            first_dept = json_incref(dept);
        json_array_append_new(top, json_pack("{s:s,s:s,s:s,s:f,s:o}", "major", s->cls->name,
                                             "minor", s->name, "code", r.top[k].label, "score",
                                             round3(r.top[k].score), "department", dept));
    }
    co_reqtype rt = CO_RT_NONE;
    co_severity sev = CO_SEV_NORMAL;
    if (co_reqtype_parse(r.reqtype.label, &rt))
        rt = CO_RT_NONE;
    if (co_severity_parse(r.severity.label, &sev))
        sev = CO_SEV_NORMAL;
    json_t *o = json_pack("{s:o,s:o,s:s,s:s,s:f,s:s,s:s,s:b}", "top", top, "department",
                          first_dept ? first_dept : json_null(), "request_type",
                          r.reqtype.label, "request_type_zh", co_reqtype_name_zh(rt),
                          "request_type_score", round3(r.reqtype.score), "severity",
                          r.severity.label, "severity_zh", co_severity_name_zh(sev), "danger",
                          r.danger);
    co_taxonomy_free(tax);
    return o;
}

json_t *co_api_classify_model_json(const co_clf_model *m)
{
    char when[CO_TIME_ISO_MAX];
    co_time_format(m->trained, when);
    return json_pack("{s:I,s:s,s:I,s:s}", "version", (json_int_t)m->trained, "trained", when,
                     "examples", (json_int_t)m->examples, "algorithm",
                     (m->flags & 0xff) == CO_CLF_NB ? "naive_bayes" : "logistic_regression");
}

co_err co_api_classify_place(co_app *app, const char *area, co_case *where)
{
    memset(where, 0, sizeof *where);
    where->lon = where->lat = NAN;
    int32_t idx = co_areas_find(app->areas, area);
    const co_area *a = co_areas_at(app->areas, idx);
    if (!a)
        return CO_ENOTFOUND;
    const int32_t *up = a->up;
    const co_area *g = co_areas_at(app->areas, up[CO_LEVEL_GRID]);
    const co_area *cm = co_areas_at(app->areas, up[CO_LEVEL_COMMUNITY]);
    const co_area *st = co_areas_at(app->areas, up[CO_LEVEL_STREET]);
    const co_area *d = co_areas_at(app->areas, up[CO_LEVEL_DISTRICT]);
    snprintf(where->grid, sizeof where->grid, "%s", g ? g->code : "");
    snprintf(where->community, sizeof where->community, "%s", cm ? cm->code : "");
    snprintf(where->street, sizeof where->street, "%s", st ? st->code : "");
    snprintf(where->district, sizeof where->district, "%s", d ? d->code : "");
    return CO_OK;
}

static int parse_where(co_req *r, json_t *body, co_case *where)
{
    co_app *app = (co_app *)r->app;
    json_t *jarea = json_object_get(body, "area");
    json_t *jlon = json_object_get(body, "lon"), *jlat = json_object_get(body, "lat");
    memset(where, 0, sizeof *where);
    where->lon = where->lat = NAN;
    if (jarea && !json_is_null(jarea)) {
        if (!json_is_string(jarea) || co_api_classify_place(app, json_string_value(jarea), where)) {
            co_reply_error(r, 400, "bad_area", "未知的区域编码 / unknown area code");
            return -1;
        }
        return 0;
    }
    if ((jlon && !json_is_null(jlon)) || (jlat && !json_is_null(jlat))) {
        double lon = json_number_value(jlon), lat = json_number_value(jlat);
        if (!json_is_number(jlon) || !json_is_number(jlat) || !isfinite(lon) || !isfinite(lat) ||
            lon < -180 || lon > 180 || lat < -90 || lat > 90) {
            co_reply_error(r, 400, "bad_point",
                           "lon/lat 必须同时给出且为有效数字 / lon and lat must both be valid "
                           "numbers (WGS84)");
            return -1;
        }
        if (co_intake_locate(app, lon, lat, where) != CO_OK) /* outside: city level */
            memset(where->grid, 0, sizeof where->grid);
    }
    return 0;
}

void co_api_classify(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    json_t *jtext = json_object_get(body, "text");
    const char *text = json_string_value(jtext);
    if (!jtext || json_is_null(jtext)) {
        co_reply_error(r, 400, "missing_text", "缺少 text / \"text\" is required");
        return;
    }
    size_t len = text ? json_string_length(jtext) : 0;
    if (!text || len == 0 || len >= CO_TEXT_MAX || strlen(text) != len) {
        co_reply_error(r, 400, "bad_text",
                       "text 必须是 1–%d 字节的非空字符串 / \"text\" must be a non-empty string of "
                       "at most %d bytes",
                       CO_TEXT_MAX - 1, CO_TEXT_MAX - 1);
        return;
    }
    int blank = 1;
    for (const char *p = text; *p && blank; p++)
        blank = (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');
    if (blank) {
        co_reply_error(r, 400, "bad_text", "text 不能为空白 / \"text\" must not be blank");
        return;
    }
    co_case where;
    if (parse_where(r, body, &where))
        return;
    co_clf_model *m = co_clf_service_model(app->clf);
    if (!m) {
        co_reply_error(r, 503, "classifier_not_ready",
                       "分类模型正在训练，请稍后再试 / the classifier model is being trained; "
                       "try again shortly");
        return;
    }
    json_t *o = co_api_classify_view(app, m, text, len, &where);
    json_object_set_new(o, "model", co_api_classify_model_json(m));
    co_clf_model_free(m);
    co_reply_json(r, 200, o);
}
