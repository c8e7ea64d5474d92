/* open311_list.c — reading service requests through GeoReport v2:
 *   GET requests.{fmt}               every filter of the spec plus page/page_size,
 *                                    updated_after/updated_before, bbox, extensions
 *   GET requests/{id}.{fmt}          one request (a list of one)
 *   GET/POST servicerequestupdates.{fmt}   FixMyStreet's update feed and push
 * Requests are read with co_store_cases_query (newest first, in chunks of
 * 500 joined by the id cursor) and turned into Spark JSON as they arrive; a
 * batch then adds in two queries what the case rows do not hold: status
 * notes (the latest public note, from the event log) and, for requests taken
 * here, the client's own description and media_url. Status mapping, field
 * by field, is documented in docs/open311.md. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/open311_int.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/buf.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

/* ------------------------------------------------------ one request */

json_t *co_open311_request_json(const co_open311_view *v)
{
    const co_case *c = v->c;
    char code[8] = "", requested[CO_TIME_ISO_MAX], updated[CO_TIME_ISO_MAX];
    if (c->category != CO_CATEGORY_NONE)
        co_category_format(c->category, code);
    co_time_format(c->created, requested);
    co_time_format(c->updated > c->created ? c->updated : c->created, updated);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "service_request_id",
                          c->number, "status", co_open311_status(c->state), "status_notes",
                          v->status_notes ? v->status_notes : "", "service_name",
                          v->service_name ? v->service_name : "", "service_code", code,
                          "description", v->description ? v->description : c->description,
                          "agency_responsible", v->agency ? v->agency : "", "service_notice", "",
                          "requested_datetime", requested, "updated_datetime", updated);
    /* the disposal deadline while a department works on it, else the
     * current step's (suspended cases have none: the clock stands still) */
    int working = c->state == CO_ST_DISPATCHED || c->state == CO_ST_HANDLING;
    int64_t due = working && c->disposal_due ? c->disposal_due : c->step_due;
    if (co_state_is_open(c->state) && c->state != CO_ST_SUSPENDED && due > 0) {
        char expected[CO_TIME_ISO_MAX];
        co_time_format(due, expected);
        json_object_set_new(o, "expected_datetime", json_string(expected));
    }
    json_object_set_new(o, "address", json_string(v->address ? v->address : c->address));
    /* the finest area the case is placed in (a grid unless only a coarser area was given) */
    const char *area = c->grid[0]        ? c->grid
                       : c->community[0] ? c->community
                       : c->street[0]    ? c->street
                                         : c->district;
    json_object_set_new(o, "address_id", json_string(area));
    json_object_set_new(o, "zipcode", json_string(""));
    if (c->lat == c->lat && c->lon == c->lon) { /* not NaN */
        json_object_set_new(o, "lat", json_real(c->lat));
        json_object_set_new(o, "long", json_real(c->lon));
    } else {
        json_object_set_new(o, "lat", json_string(""));
        json_object_set_new(o, "long", json_string(""));
    }
    json_object_set_new(o, "media_url", json_string(v->media_url ? v->media_url : ""));
    return o;
}

/* ------------------------------------------------------------ batches */

typedef struct item {
    int64_t id;
    char number[CO_NUMBER_MAX];
    json_t *obj;    /* borrowed from the batch's list */
    json_t *notes;  /* extensions: borrowed from obj */
} item;

struct by_id {
    int64_t id;
    size_t idx;
};

typedef struct batch {
    co_req *r;
    co_app *app;
    co_taxonomy *t;
    json_t *list;
    item *items;
    size_t n, cap;
    int extensions;
    int64_t last_id;
    struct by_id *by_id; /* (case id, item index) sorted by id, after collection */
} batch;

static json_t *area_ref(const co_app *app, const char *code)
{
    const co_area *a = co_areas_at(app->areas, co_areas_find(app->areas, code));
    return a ? json_pack("{s:s,s:s}", "code", a->code, "name", a->name) : json_null();
}

/* Human address: the case's text, else community, street, district names. */
static void address_of(const co_app *app, const co_case *c, char *out, size_t len)
{
    if (c->address[0]) {
        snprintf(out, len, "%s", c->address);
        return;
    }
    const char *codes[] = {c->community, c->street, c->district};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        const co_area *a = co_areas_at(app->areas, co_areas_find(app->areas, codes[i]));
        if (!a)
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? ", " : "", a->name);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

static json_t *extended(const co_app *app, const co_case *c)
{
    json_t *x = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "channel", co_channel_name(c->channel),
                          "channel_zh", co_channel_name_zh(c->channel), "state",
                          co_state_name(c->state), "state_zh", co_state_name_zh(c->state),
                          "severity", co_severity_name(c->severity), "request_type",
                          co_reqtype_name(c->reqtype));
    if (c->lon == c->lon) {
        json_object_set_new(x, "x", json_real(c->lon));
        json_object_set_new(x, "y", json_real(c->lat));
    }
    json_object_set_new(x, "district", area_ref(app, c->district));
    json_object_set_new(x, "street", area_ref(app, c->street));
    json_object_set_new(x, "community", area_ref(app, c->community));
    json_object_set_new(x, "grid", area_ref(app, c->grid));
    if (c->closed_at) {
        char t[CO_TIME_ISO_MAX];
        co_time_format(c->closed_at, t);
        json_object_set_new(x, "closed_datetime", json_string(t));
    }
    return x;
}

static json_t *note_json(int64_t ts, const char *description, const char *type)
{
    char t[CO_TIME_ISO_MAX];
    co_time_format(ts, t);
    return json_pack("{s:s,s:s,s:s}", "datetime", t, "description", description, "type", type);
}

static int batch_add(void *vctx, const co_case *c)
{
    batch *b = vctx;
    char service[256], address[300];
    co_open311_service_name(b->app, b->t, c->category, service, sizeof service);
    if (!service[0])
        snprintf(service, sizeof service, "%s", co_reqtype_name_zh(c->reqtype));
    address_of(b->app, c, address, sizeof address);
    co_open311_view v = {c, service,
                         co_app_dept_name(b->app, c->dept[0] ? c->dept : c->routed_dept),
                         address, "", NULL, NULL};
    json_t *o = co_open311_request_json(&v);
    b->items = co_xgrow(b->items, &b->cap, b->n + 1, sizeof *b->items);
    item *it = &b->items[b->n++];
    it->id = c->id;
    snprintf(it->number, sizeof it->number, "%s", c->number);
    it->obj = o;
    it->notes = NULL;
    if (b->extensions) {
        json_t *attrs = json_array();
        json_array_append_new(attrs, json_pack("{s:s,s:s,s:s,s:s}", "code", "severity", "name",
                                               "severity", "label", "紧急程度 / Severity",
                                               "value", co_severity_name(c->severity)));
        json_object_set_new(o, "attributes", attrs);
        json_object_set_new(o, "extended_attributes", extended(b->app, c));
        it->notes = json_array();
        json_array_append_new(it->notes,
                              note_json(c->created, co_open311_action_text("register"),
                                        "submitted"));
        json_object_set_new(o, "notes", it->notes);
    }
    json_array_append_new(b->list, o);
    b->last_id = c->id;
    return 0;
}

static int cmp_by_id(const void *a, const void *b)
{
    int64_t x = ((const struct by_id *)a)->id, y = ((const struct by_id *)b)->id;
    return x < y ? -1 : x > y;
}

static item *find_id(batch *b, int64_t id)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int64_t v = b->by_id[mid].id;
        if (v == id)
            return &b->items[b->by_id[mid].idx];
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static item *find_number(batch *b, const char *number)
{
    for (size_t i = 0; i < b->n; i++) /* at most 1000, once per request taken here */
        if (!strcmp(b->items[i].number, number))
            return &b->items[i];
    return NULL;
}

static int add_event(void *vctx, const co_event_brief *e)
{
    batch *b = vctx;
    item *it = find_id(b, e->case_id);
    if (!it)
        return 0;
    int public_note = co_open311_note_is_public(e->action) && e->note[0];
    if (public_note)
        json_object_set_new(it->obj, "status_notes", json_string(e->note));
    if (it->notes && (public_note || (e->to != CO_ST_NONE && e->to != e->from)))
        json_array_append_new(it->notes,
                              note_json(e->ts,
                                        public_note ? e->note : co_open311_action_text(e->action),
                                        e->action));
    return 0;
}

static int add_extras(void *vctx, const co_open311_request_rec *rec)
{
    batch *b = vctx;
    item *it = find_number(b, rec->number);
    if (!it)
        return 0;
    /* what the client wrote, not the case's text (which also lists the attributes) */
    json_object_set_new(it->obj, "description", json_string(rec->description ? rec->description : ""));
    json_object_set_new(it->obj, "media_url", json_string(rec->media_url ? rec->media_url : ""));
    json_t *attrs = b->extensions ? json_object_get(it->obj, "attributes") : NULL;
    json_t *given = attrs && rec->attributes ? json_loads(rec->attributes, 0, NULL) : NULL;
    const char *code;
    json_t *val;
    json_object_foreach(given, code, val)
    {
        if (strcmp(code, "severity") != 0)
            json_array_append_new(attrs, json_pack("{s:s,s:s,s:s,s:O}", "code", code, "name",
                                                   code, "label",
                                                   !strcmp(code, "note") ? "补充说明 / Note" : code,
                                                   "value", val));
    }
    json_decref(given);
    return 0;
}

static int add_comment(void *vctx, const co_open311_update_rec *u)
{
    json_array_append_new(vctx, note_json(u->updated, u->description, "comment"));
    return 0;
}

static int cmp_note(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "datetime"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "datetime"));
    return strcmp(x ? x : "", y ? y : "");
}

/* Orders an item's notes by time (stable for equal times: by position). */
static void sort_notes(json_t *notes)
{
    size_t n = json_array_size(notes);
    if (n < 2)
        return;
    json_t **v = co_xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(notes, i));
    /* insertion sort keeps equal times in order */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp_note(&v[j - 1], &v[j]) > 0; j--) {
            json_t *tmp = v[j];
            v[j] = v[j - 1];
            v[j - 1] = tmp;
        }
    json_array_clear(notes);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(notes, v[i]);
    co_free(v);
}

/* Adds status notes, the clients' texts and (extensions) comments. */
static co_err batch_finish(batch *b)
{
    if (!b->n)
        return CO_OK;
    co_app *app = b->app;
    b->by_id = co_xcalloc(b->n, sizeof *b->by_id);
    for (size_t i = 0; i < b->n; i++)
        b->by_id[i] = (struct by_id){b->items[i].id, i};
    qsort(b->by_id, b->n, sizeof *b->by_id, cmp_by_id);
    json_t *ids = json_array(), *numbers = json_array();
    for (size_t i = 0; i < b->n; i++) {
        json_array_append_new(ids, json_integer(b->items[i].id));
        json_array_append_new(numbers, json_string(b->items[i].number));
    }
    char *ids_text = json_dumps(ids, JSON_COMPACT), *numbers_text = json_dumps(numbers, JSON_COMPACT);
    json_decref(ids);
    json_decref(numbers);
    co_err rc = CO_ENOMEM;
    if (!ids_text || !numbers_text)
        goto out;
    if ((rc = co_store_events_brief(app->store, ids_text, 0, 0, 0, 0, add_event, b)) ||
        (rc = co_store_open311_requests_find(app->store, NULL, numbers_text, add_extras, b)))
        goto out;
    for (size_t i = 0; b->extensions && i < b->n; i++) {
        if ((rc = co_store_open311_updates_of(app->store, b->items[i].number, add_comment,
                                              b->items[i].notes)))
            goto out;
        sort_notes(b->items[i].notes);
    }
out:
    free(ids_text);
    free(numbers_text);
    return rc;
}

static void batch_init(batch *b, co_req *r, int extensions)
{
    memset(b, 0, sizeof *b);
    b->r = r;
    b->app = (co_app *)r->app;
    b->t = co_app_taxonomy(b->app);
    b->list = json_array();
    b->extensions = extensions;
}

static void batch_free(batch *b)
{
    co_taxonomy_free(b->t);
    json_decref(b->list);
    co_free(b->items);
    co_free(b->by_id);
}

/* Finishes the batch and replies with its list (or a 400 on failure). */
static void batch_reply(batch *b, co_open311_fmt fmt)
{
    co_err rc = batch_finish(b);
    if (rc)
        co_open311_error(b->r, fmt, 400, "查询失败 / the query failed: %s", co_err_str(rc));
    else
        co_open311_reply(b->r, fmt, 200, json_incref(b->list), "service_requests");
    batch_free(b);
}

static int want_extensions(co_req *r)
{
    const char *x = co_open311_arg(r, NULL, "extensions");
    return x && (!strcasecmp(x, "true") || !strcmp(x, "1"));
}

/* ------------------------------------------------------------ filters */

typedef struct filters {
    co_case_query q;
    char categories[1024];
    double bbox[4];
    int limit, offset;
} filters;

static int parse_time_arg(co_req *r, const char *key, int64_t *out, co_open311_errors *e)
{
    const char *v = co_open311_arg(r, NULL, key);
    *out = 0;
    if (!v)
        return 0;
    if (co_time_parse(v, out)) {
        co_open311_errors_add(e, 400,
                              "%s 须为带时区的 ISO 8601 时间 / %s must be an ISO 8601 datetime "
                              "such as 2026-11-25T08:30:00+08:00",
                              key, key);
        return 0;
    }
    return 1;
}

/* Collects every service_code (repeated and/or comma lists). */
static void parse_codes(co_req *r, filters *f, co_open311_errors *e)
{
    co_req_query(r, "service_code"); /* parses the query string */
    co_buf b;
    co_buf_init(&b, sizeof f->categories - 1);
    int n = 0, bad = 0;
    const struct evkeyval *kv;
    TAILQ_FOREACH(kv, &r->query, next)
    {
        if (strcmp(kv->key, "service_code") != 0 || !*kv->value)
            continue;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", kv->value);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            co_category cat;
            if (!*tok)
                continue;
            if (co_category_parse(tok, &cat) ||
                co_buf_printf(&b, "%s%u", n ? "," : "[", (unsigned)cat)) {
                bad = 1;
                break;
            }
            n++;
        }
    }
    if (bad)
        co_open311_errors_add(e, 400,
                              "service_code 须为 C0101 / E0102 形式的代码（最多约 100 个）/ "
                              "service_code must be codes like C0101 or E0102 (about 100 at most)");
    else if (n) {
        snprintf(f->categories, sizeof f->categories, "%s]", b.data);
        f->q.categories = f->categories;
    }
    co_buf_free(&b);
}

static void parse_bbox(co_req *r, filters *f, co_open311_errors *e)
{
    const char *v = co_open311_arg(r, NULL, "bbox");
    if (!v)
        return;
    char buf[200];
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < 5;
         tok = strtok_r(NULL, ",", &save)) {
        double lim = n % 2 ? 90 : 180;
        if (n == 4 || co_parse_double(tok, -lim, lim, &f->bbox[n])) {
            n = -1;
            break;
        }
        n++;
    }
    if (n != 4 || f->bbox[0] > f->bbox[2] || f->bbox[1] > f->bbox[3]) {
        co_open311_errors_add(e, 400,
                              "bbox 须为 最小经度,最小纬度,最大经度,最大纬度 / bbox must be "
                              "min_long,min_lat,max_long,max_lat (WGS84)");
        return;
    }
    f->q.bbox = f->bbox;
}

static void parse_page(co_req *r, filters *f, co_open311_errors *e)
{
    const char *p = co_open311_arg(r, NULL, "page"), *ps = co_open311_arg(r, NULL, "page_size");
    int64_t page = 1, size = CO_OPEN311_LIMIT;
    if ((p && co_parse_i64(p, 1, 100000, &page)) ||
        (ps && co_parse_i64(ps, 1, CO_OPEN311_LIMIT, &size)))
        co_open311_errors_add(e, 400,
                              "page 须为正整数，page_size 须在 1–%d / page must be a positive "
                              "integer and page_size 1–%d",
                              CO_OPEN311_LIMIT, CO_OPEN311_LIMIT);
    f->limit = (int)size;
    f->offset = (int)((page - 1) * size);
}

/* The requested_datetime window: the given one (at most 90 days), else the
 * last 90 days — unless only updated_after/updated_before are given. */
static void parse_window(co_req *r, filters *f, co_open311_errors *e)
{
    int64_t start, end, ua, ub, now = co_time_now();
    int has_s = parse_time_arg(r, "start_date", &start, e);
    int has_e = parse_time_arg(r, "end_date", &end, e);
    int has_ua = parse_time_arg(r, "updated_after", &ua, e);
    int has_ub = parse_time_arg(r, "updated_before", &ub, e);
    if (e->n)
        return;
    if (has_s && has_e && end < start)
        co_open311_errors_add(e, 400, "end_date 早于 start_date / end_date is before start_date");
    else if (has_s && has_e && end - start > CO_OPEN311_WINDOW_S)
        co_open311_errors_add(e, 400,
                              "start_date 与 end_date 相隔不能超过 90 天 / start_date and "
                              "end_date may not span more than 90 days");
    if (has_ua && has_ub && ub < ua)
        co_open311_errors_add(e, 400,
                              "updated_before 早于 updated_after / updated_before is before "
                              "updated_after");
    if (has_s || has_e) {
        f->q.from = has_s ? start : end - CO_OPEN311_WINDOW_S;
        f->q.to = (has_e ? end : start + CO_OPEN311_WINDOW_S) + 1;
    } else if (!has_ua && !has_ub) {
        f->q.from = now - CO_OPEN311_WINDOW_S;
    }
    if (f->q.from <= 0)
        f->q.from = 1;
    if (has_ua)
        f->q.updated_from = ua > 0 ? ua : 1;
    if (has_ub)
        f->q.updated_to = ub + 1;
}

static int parse_filters(co_req *r, co_open311_fmt fmt, filters *f)
{
    co_open311_errors e = {0};
    memset(f, 0, sizeof *f);
    f->q.channel = -1;
    f->q.pending_role = -1;
    f->q.now = co_time_now();
    const char *status = co_open311_arg(r, NULL, "status");
    if (status && co_open311_parse_status(status, &f->q.states))
        co_open311_errors_add(&e, 400,
                              "status 只能是 open、closed 或二者以逗号分隔 / status must be open, "
                              "closed or open,closed");
    parse_codes(r, f, &e);
    parse_window(r, f, &e);
    parse_bbox(r, f, &e);
    parse_page(r, f, &e);
    if (!e.n)
        return 0;
    co_open311_reply_errors(r, fmt, &e);
    return -1;
}

/* ------------------------------------------------------------ handlers */

/* service_request_id=ID1,ID2: those requests, whatever the other filters. */
static int by_ids(co_req *r, co_open311_fmt fmt, const char *ids, batch *b)
{
    char buf[16 * CO_OPEN311_LIMIT];
    if (strlen(ids) >= sizeof buf) {
        co_open311_error(r, fmt, 400, "service_request_id 过多 / too many service_request_id values");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", ids);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        co_case c;
        if (!co_case_number_valid(tok)) {
            co_open311_error(r, fmt, 400,
                             "service_request_id 须为 13–15 位案件编号 / service_request_id must be "
                             "case numbers of 13-15 digits");
            return -1;
        }
        if (find_number(b, tok) || co_store_case_get(b->app->store, 0, tok, &c))
            continue; /* repeated or unknown: not listed */
        batch_add(b, &c);
    }
    return 0;
}

void co_open311_requests_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    batch b;
    batch_init(&b, r, want_extensions(r));
    const char *ids = co_open311_arg(r, NULL, "service_request_id");
    if (ids) {
        if (by_ids(r, fmt, ids, &b)) {
            batch_free(&b);
            return;
        }
        batch_reply(&b, fmt);
        return;
    }
    filters f;
    if (parse_filters(r, fmt, &f)) {
        batch_free(&b);
        return;
    }
    f.q.offset = f.offset;
    while ((int)b.n < f.limit) {
        size_t before = b.n;
        f.q.limit = f.limit - (int)b.n < 500 ? f.limit - (int)b.n : 500;
        co_err rc = co_store_cases_query(app->store, &f.q, batch_add, &b);
        if (rc) {
            co_open311_error(r, fmt, 400, "查询失败 / the query failed: %s", co_err_str(rc));
            batch_free(&b);
            return;
        }
        if ((int)(b.n - before) < f.q.limit)
            break;
        f.q.before_id = b.last_id;
        f.q.offset = 0;
    }
    batch_reply(&b, fmt);
}

void co_open311_request_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    char id[32];
    if (co_open311_format(r, co_req_param(r, 0), 1, &fmt, id, sizeof id) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    co_case c;
    if (!co_case_number_valid(id) || co_store_case_get(app->store, 0, id, &c)) {
        co_open311_error(r, fmt, 404, "没有这个服务请求 / service_request_id not found: %s", id);
        return;
    }
    batch b;
    batch_init(&b, r, want_extensions(r));
    batch_add(&b, &c);
    batch_reply(&b, fmt);
}

/* ------------------------------------------- FixMyStreet: update feed */

static int add_update(void *ctx, const co_event_brief *e)
{
    int public_note = co_open311_note_is_public(e->action) && e->note[0];
    if (!public_note && (e->to == CO_ST_NONE || e->to == e->from))
        return 0; /* internal steps without a public change */
    char seq[24], ts[CO_TIME_ISO_MAX];
    snprintf(seq, sizeof seq, "%lld", (long long)e->seq);
    co_time_format(e->ts, ts);
    co_state after = e->to != CO_ST_NONE ? e->to : e->from;
    json_array_append_new(
        ctx, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "update_id", seq, "service_request_id",
                       e->number, "status", co_open311_status(after), "updated_datetime", ts,
                       "description", public_note ? e->note : co_open311_action_text(e->action),
                       "media_url", "", "external_status_code", e->action));
    return 0;
}

void co_open311_updates_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    co_open311_errors e = {0};
    int64_t start, end, now = co_time_now();
    int has_s = parse_time_arg(r, "start_date", &start, &e);
    int has_e = parse_time_arg(r, "end_date", &end, &e);
    filters f;
    memset(&f, 0, sizeof f);
    parse_page(r, &f, &e);
    if (!e.n) {
        if (!has_e)
            end = now;
        if (!has_s)
            start = end - 86400; /* FixMyStreet polls often: the last day by default */
        if (end < start)
            co_open311_errors_add(&e, 400, "end_date 早于 start_date / end_date is before start_date");
        else if (end - start > CO_OPEN311_WINDOW_S)
            co_open311_errors_add(&e, 400,
                                  "start_date 与 end_date 相隔不能超过 90 天 / start_date and "
                                  "end_date may not span more than 90 days");
    }
    if (e.n) {
        co_open311_reply_errors(r, fmt, &e);
        return;
    }
    json_t *list = json_array();
    co_err rc = co_store_events_brief(app->store, NULL, start, end + 1, f.limit, f.offset,
                                      add_update, list);
    if (rc) {
        json_decref(list);
        co_open311_error(r, fmt, 400, "查询失败 / the query failed: %s", co_err_str(rc));
        return;
    }
    co_open311_reply(r, fmt, 200, list, "service_request_updates");
}

/* ------------------------------------------- FixMyStreet: update push */

static int valid_update_status(const char *s)
{
    static const char *const ok[] = {
        "open",          "closed",    "fixed",
        "in_progress",   "action_scheduled", "investigating",
        "duplicate",     "not_councils_responsibility", "no_further_action",
        "internal_referral", "for_triage", "cancelled",
        "reopen"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcasecmp(s, ok[i]))
            return 1;
    return 0;
}

static void comment_done(co_write_cmd *cmd)
{
    if (cmd->rc)
        co_log_warn("msg=\"open311 update not added to the case history\" case=%lld err=\"%s\"",
                    (long long)cmd->case_id, cmd->err);
    json_decref(cmd->params);
    co_free(cmd);
}

/* The client's update also goes into the case's own history, as a note by
 * "open311:<client>", so staff see it on the case page. The update itself is
 * already stored; the note follows through the writer. */
static void add_case_note(co_app *app, const co_case *c, const co_apikey_client *client,
                          const char *status, const char *desc)
{
    co_write_cmd *cmd = co_xcalloc(1, sizeof *cmd);
    cmd->kind = CO_WRITE_ACTION;
    cmd->case_id = c->id;
    snprintf(cmd->action, sizeof cmd->action, "comment");
    char note[1000];
    snprintf(note, sizeof note, "[Open311 %s] %.900s", status, desc);
    cmd->params = json_pack("{s:s}", "note", note);
    snprintf(cmd->username, sizeof cmd->username, "open311:%.50s", client->name);
    cmd->role = CO_ROLE_OPERATOR;
    cmd->done = comment_done;
    co_writer_submit(app->writer, cmd);
}

void co_open311_update_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    co_open311_form form = {0};
    co_apikey_client client;
    co_open311_errors e = {0};
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_read_form(r, fmt, &form) || co_open311_jurisdiction(r, fmt, &form) ||
        co_open311_authorize(r, fmt, &form, "update_request", &client))
        goto out;
    const char *id = co_open311_arg(r, &form, "service_request_id");
    const char *uid = co_open311_arg(r, &form, "update_id");
    const char *when = co_open311_arg(r, &form, "updated_datetime");
    const char *status = co_open311_arg(r, &form, "status");
    const char *desc = co_open311_arg(r, &form, "description");
    const char *media = co_open311_arg(r, &form, "media_url");
    const char *esc = co_open311_arg(r, &form, "external_status_code");
    int64_t ts = 0;
    const char *names[] = {"service_request_id", "update_id", "updated_datetime", "status",
                           "description"};
    const char *vals[] = {id, uid, when, status, desc};
    for (int i = 0; i < 5; i++)
        if (!vals[i])
            co_open311_errors_add(&e, 400, "缺少 %s / %s is required", names[i], names[i]);
    if (uid && strlen(uid) > 64)
        co_open311_errors_add(&e, 400, "update_id 过长 / update_id is longer than 64 bytes");
    if (when && co_time_parse(when, &ts))
        co_open311_errors_add(&e, 400,
                              "updated_datetime 须为 ISO 8601 时间 / updated_datetime must be an "
                              "ISO 8601 datetime");
    if (status && !valid_update_status(status))
        co_open311_errors_add(&e, 400, "未知的 status / unknown status: %.40s", status);
    if (desc && co_open311_utf8_chars(desc) > CO_OPEN311_DESC_MAX_CHARS)
        co_open311_errors_add(&e, 400, "description 超过 %d 字 / description is longer than %d "
                                       "characters",
                              CO_OPEN311_DESC_MAX_CHARS, CO_OPEN311_DESC_MAX_CHARS);
    const char *people[] = {co_open311_arg(r, &form, "first_name"),
                            co_open311_arg(r, &form, "last_name"), co_open311_arg(r, &form, "email"),
                            co_open311_arg(r, &form, "phone")};
    for (int i = 0; i < 4; i++)
        if (people[i] && strlen(people[i]) > 254) {
            co_open311_errors_add(&e, 400, "姓名、email 或电话过长 / a name, email or phone is "
                                           "longer than 254 bytes");
            break;
        }
    if ((media && strlen(media) > 1000) || (esc && strlen(esc) > 64))
        co_open311_errors_add(&e, 400, "media_url 或 external_status_code 过长 / media_url or "
                                       "external_status_code is too long");
    if (e.n) {
        co_open311_reply_errors(r, fmt, &e);
        goto out;
    }
    co_case c;
    if (!co_case_number_valid(id) || co_store_case_get(app->store, 0, id, &c)) {
        co_open311_error(r, fmt, 404, "没有这个服务请求 / service_request_id not found: %.20s", id);
        goto out;
    }
    char lower[40];
    snprintf(lower, sizeof lower, "%s", status);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    co_open311_update_rec u = {0,
                               client.id,
                               uid,
                               id,
                               lower,
                               desc,
                               ts,
                               co_time_now(),
                               media,
                               co_open311_arg(r, &form, "first_name"),
                               co_open311_arg(r, &form, "last_name"),
                               co_open311_arg(r, &form, "email"),
                               co_open311_arg(r, &form, "phone"),
                               esc};
    int64_t row = 0;
    co_err rc = co_store_open311_update_put(app->store, &u, &row);
    if (rc == CO_EEXIST) {
        co_open311_error(r, fmt, 400, "update_id 已存在 / update_id already exists: %.64s", uid);
        goto out;
    }
    if (rc) {
        co_open311_error(r, fmt, 400, "无法保存更新 / the update could not be stored");
        goto out;
    }
    add_case_note(app, &c, &client, lower, desc);
    char rid[24];
    snprintf(rid, sizeof rid, "%lld", (long long)row);
    co_open311_reply(r, fmt, 200, json_pack("[{s:s}]", "update_id", rid),
                     "service_request_updates");
out:
    co_open311_form_clear(&form);
}
