/* config.c — configuration endpoints: the taxonomy (versioned; admins PUT a
 * new version, cases keep theirs), departments, routing rules, the working
 * calendar (admins add holidays and make-up days for later years) and the
 * workflow table. Admin changes go to the audit log. */
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "calendar/calendar.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

static void audit(co_req *r, const char *action, const char *detail)
{
    co_app *app = (co_app *)r->app;
    if (co_store_audit(app->store, r->session ? r->session->username : "-", action, detail))
        co_log_warn("msg=\"audit write failed\" action=%s", action);
}

void co_api_taxonomy_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *v = co_req_query(r, "version");
    co_taxonomy *t = NULL;
    if (v) {
        int64_t ver;
        if (co_parse_i64(v, 1, CO_APP_MAX_TAX_VERSIONS - 1, &ver)) {
            co_reply_error(r, 400, "bad_version", "version 必须是正整数 / version must be a positive integer");
            return;
        }
        pthread_rwlock_rdlock(&app->cfg_lock);
        t = co_taxonomy_ref(app->tax[ver]);
        pthread_rwlock_unlock(&app->cfg_lock);
        if (!t) {
            co_reply_error(r, 404, "not_found", "没有这个版本 / no such taxonomy version");
            return;
        }
    } else {
        t = co_app_taxonomy(app);
    }
    json_t *doc = NULL;
    co_err rc = co_taxonomy_to_json(t, &doc);
    co_taxonomy_free(t);
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    co_reply_json(r, 200, doc);
}

void co_api_taxonomy_put(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *doc = co_req_json(r);
    if (!doc)
        return;
    char err[512];
    int added = 0;
    co_err rc = co_app_set_taxonomy(app, doc, r->session->username, &added, err, sizeof err);
    if (rc == CO_ECONFLICT) {
        co_reply_error(r, 409, "conflict", "%s", err);
        return;
    }
    if (rc) {
        co_reply_error(r, rc == CO_EINVAL ? 422 : 500, "invalid_taxonomy", "%s", err);
        return;
    }
    if (added) { /* the same document again (a retry) changes nothing */
        char detail[64];
        snprintf(detail, sizeof detail, "version=%lld", (long long)app->tax_current);
        audit(r, "taxonomy_put", detail);
        co_app_config_changed(app);
    }
    co_reply_json(r, 200, json_pack("{s:I,s:b}", "version", (json_int_t)app->tax_current, "added",
                                    added));
}

void co_api_departments(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *items = json_array();
    const char *type = co_req_query(r, "type");
    for (size_t i = 0; i < co_depts_count(app->depts); i++) {
        const co_dept *d = co_depts_at(app->depts, i);
        if (type && strcmp(type, d->type) != 0)
            continue;
        json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", d->code, "name",
                                               d->name, "type", d->type, "area", d->area,
                                               "hours", d->hours[0] ? d->hours
                                                                    : CO_CALENDAR_DEFAULT_HOURS));
    }
    co_reply_json(r, 200, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(items),
                                    "items", items));
}

static int rule_json(void *ctx, const co_rule_rec *rec)
{
    json_array_append_new(ctx, json_pack("{s:I,s:s,s:s,s:s,s:s}", "id", (json_int_t)rec->id,
                                         "category", rec->category, "area", rec->area, "dept",
                                         rec->dept, "note", rec->note));
    return 0;
}

void co_api_rules_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *items = json_array();
    co_err rc = co_store_rules_each(app->store, rule_json, items);
    if (rc) {
        json_decref(items);
        co_reply_err(r, rc, NULL);
        return;
    }
    co_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

void co_api_rule_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    const char *cat = json_string_value(json_object_get(body, "category"));
    const char *area = json_string_value(json_object_get(body, "area"));
    const char *dept = json_string_value(json_object_get(body, "dept"));
    const char *note = json_string_value(json_object_get(body, "note"));
    co_category cc;
    if (cat && *cat && co_category_parse(cat, &cc)) {
        co_reply_error(r, 400, "bad_category", "未知的类别 / category must look like C0101 or E0102");
        return;
    }
    if (area && *area && co_areas_find(app->areas, area) < 0) {
        co_reply_error(r, 400, "bad_area", "未知的区域 / unknown area code");
        return;
    }
    if (!dept || !co_depts_find(app->depts, dept)) {
        co_reply_error(r, 400, "bad_dept", "需要已有的部门 dept / \"dept\" must be a known department");
        return;
    }
    co_rule_rec rec = {0, cat ? cat : "", area ? area : "", dept, note ? note : ""};
    int64_t id;
    co_err rc = co_store_rule_put(app->store, &rec, &id);
    if (!rc)
        rc = co_app_reload_rules(app);
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "id=%lld category=%s area=%s dept=%s", (long long)id,
             rec.category, rec.area, dept);
    audit(r, "rule_create", detail);
    co_app_config_changed(app);
    co_reply_json(r, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

void co_api_rule_delete(co_req *r)
{
    co_app *app = (co_app *)r->app;
    int64_t id;
    if (co_parse_i64(co_req_param(r, 0), 1, INT64_MAX, &id)) {
        co_reply_error(r, 400, "bad_id", "规则编号无效 / invalid rule id");
        return;
    }
    co_err rc = co_store_rule_del(app->store, id);
    if (!rc)
        rc = co_app_reload_rules(app);
    if (rc) {
        co_reply_err(r, rc, rc == CO_ENOTFOUND ? "没有这条规则 / no such rule" : NULL);
        return;
    }
    char detail[32];
    snprintf(detail, sizeof detail, "id=%lld", (long long)id);
    audit(r, "rule_delete", detail);
    co_app_config_changed(app);
    co_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

void co_api_calendar_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    const char *y = co_req_query(r, "year");
    int64_t year = 0;
    if (!y || co_parse_i64(y, CO_CALENDAR_YEAR_MIN, CO_CALENDAR_YEAR_MAX, &year)) {
        co_reply_error(r, 400, "bad_year", "需要 year 参数 / ?year=YYYY is required");
        return;
    }
    co_calendar_day *days = NULL;
    size_t n = 0;
    co_err rc = co_calendar_days(co_depts_default_calendar(app->depts), (int)year, &days, &n);
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        int yy, mm, dd;
        co_civil_from_days(days[i].days, &yy, &mm, &dd);
        char date[16];
        snprintf(date, sizeof date, "%04d-%02d-%02d", yy, mm, dd);
        json_array_append_new(items, json_pack("{s:s,s:s,s:s}", "date", date, "kind",
                                               days[i].kind == CO_CALENDAR_DAY_HOLIDAY ? "holiday"
                                                                                      : "workday",
                                               "name", days[i].name ? days[i].name : ""));
    }
    co_free(days);
    co_reply_json(r, 200, json_pack("{s:I,s:s,s:o}", "year", (json_int_t)year, "hours",
                                    CO_CALENDAR_DEFAULT_HOURS, "days", items));
}

void co_api_calendar_put(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    const char *date = co_req_param(r, 0);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *name = json_string_value(json_object_get(body, "name"));
    int64_t t;
    int yy = 0, mm, dd;
    if (date && strlen(date) == 10 && co_time_parse(date, &t) == CO_OK)
        co_civil_from_days(co_calendar_local_day(t), &yy, &mm, &dd);
    /* checked before anything is stored: an override the calendar refuses
     * must not reach the store either */
    if (yy < CO_CALENDAR_YEAR_MIN || yy > CO_CALENDAR_YEAR_MAX) {
        co_reply_error(r, 400, "bad_date", "日期格式为 YYYY-MM-DD（%d–%d 年）/ date must be "
                       "YYYY-MM-DD in %d–%d", CO_CALENDAR_YEAR_MIN, CO_CALENDAR_YEAR_MAX,
                       CO_CALENDAR_YEAR_MIN, CO_CALENDAR_YEAR_MAX);
        return;
    }
    co_calendar_day_kind k;
    if (kind && !strcmp(kind, "holiday"))
        k = CO_CALENDAR_DAY_HOLIDAY;
    else if (kind && !strcmp(kind, "workday"))
        k = CO_CALENDAR_DAY_WORKDAY;
    else if (kind && !strcmp(kind, "none"))
        k = CO_CALENDAR_DAY_NONE;
    else {
        co_reply_error(r, 400, "bad_kind", "kind 只能是 holiday|workday|none");
        return;
    }
    if (name && strlen(name) >= CO_CALENDAR_NAME_MAX) {
        co_reply_error(r, 400, "bad_name", "名称过长 / name too long");
        return;
    }
    int64_t day = co_calendar_local_day(t);
    co_err rc = co_store_calday_put(app->store, day, (int)k, name ? name : "");
    if (!rc)
        rc = co_depts_set_day(app->depts, day, k, name);
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "date=%s kind=%s", date, kind);
    audit(r, "calendar_put", detail);
    co_app_config_changed(app);
    co_reply_json(r, 200, json_pack("{s:s,s:s}", "date", date, "kind", kind));
}

void co_api_workflow(co_req *r)
{
    const char *acts[CO_WF_MAX_ACTIONS];
    size_t n = co_wf_actions(acts);
    json_t *actions = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(actions, json_pack("{s:s,s:s}", "action", acts[i], "label",
                                                 co_wf_action_zh(acts[i])));
    json_t *states = json_array();
    for (int s = CO_ST_REGISTERED; s < CO_ST_COUNT; s++)
        json_array_append_new(states, json_pack("{s:s,s:s}", "state", co_state_name((co_state)s),
                                                "label", co_state_name_zh((co_state)s)));
    co_reply_json(r, 200, json_pack("{s:o,s:o}", "actions", actions, "states", states));
}
