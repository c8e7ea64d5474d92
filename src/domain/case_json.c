/* case_json.c — a case as JSON and back (as a jansson tree, or written
 * straight as the same text by co_case_json_text). Times are ISO 8601 with +08:00
 * (0 = null). The same document is stored in register events and served by
 * the API, so from_json(to_json(c)) == c for every field (a unit test checks
 * it). The caller's phone is masked unless show_phone. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/jsonw.h"
#include "lib/timeutil.h"

static json_t *jtime(int64_t t)
{
    if (!t)
        return json_null();
    char buf[CO_TIME_ISO_MAX];
    co_time_format(t, buf);
    return json_string(buf);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, json_string(v ? v : ""));
}

/* The category code and the caller's phone as the document shows them
 * (masked unless show_phone); both writers below use it. */
static void format_codes(const co_case *c, int show_phone, char cat[8], char phone[CO_PHONE_MAX])
{
    co_category_format(c->category, cat);
    if (show_phone)
        snprintf(phone, CO_PHONE_MAX, "%s", c->caller_phone);
    else
        co_phone_mask(c->caller_phone, phone);
}

json_t *co_case_to_json(const co_case *c, int show_phone)
{
    char cat[8], phone[CO_PHONE_MAX];
    format_codes(c, show_phone, cat, phone);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    set_str(o, "number", c->number);
    json_object_set_new(o, "created", jtime(c->created));
    json_object_set_new(o, "updated", jtime(c->updated));
    set_str(o, "channel", co_channel_name(c->channel));
    set_str(o, "request_type", co_reqtype_name(c->reqtype));
    set_str(o, "severity", co_severity_name(c->severity));
    set_str(o, "category", cat);
    json_object_set_new(o, "tax_version", json_integer(c->tax_version));
    set_str(o, "state", co_state_name(c->state));
    set_str(o, "state_zh", co_state_name_zh(c->state));
    json_object_set_new(o, "flags", json_integer(c->flags));
    if (isfinite(c->lon) && isfinite(c->lat))
        json_object_set_new(o, "location", json_pack("{s:f,s:f}", "lon", c->lon, "lat", c->lat));
    else
        json_object_set_new(o, "location", json_null());
    set_str(o, "grid", c->grid);
    set_str(o, "community", c->community);
    set_str(o, "street", c->street);
    set_str(o, "district", c->district);
    set_str(o, "address", c->address);
    set_str(o, "description", c->description);
    json_object_set_new(o, "caller", json_pack("{s:s,s:s}", "name", c->caller_name, "phone", phone));
    set_str(o, "reporter", c->reporter);
    set_str(o, "dept", c->dept);
    set_str(o, "routed_dept", c->routed_dept);
    set_str(o, "first_dept", c->first_dept);
    set_str(o, "merged_into", c->merged_into);
    json_object_set_new(o, "step_started", jtime(c->step_started));
    json_object_set_new(o, "step_due", jtime(c->step_due));
    json_object_set_new(o, "dispatched_at", jtime(c->dispatched_at));
    json_object_set_new(o, "disposal_due", jtime(c->disposal_due));
    json_object_set_new(o, "disposal_left", json_integer(c->disposal_left));
    json_object_set_new(o, "handled_at", jtime(c->handled_at));
    json_object_set_new(o, "closed_at", jtime(c->closed_at));
    json_object_set_new(o, "rework", json_integer(c->rework));
    json_object_set_new(o, "dispatches", json_integer(c->dispatches));
    json_object_set_new(o, "extensions", json_integer(c->extensions));
    set_str(o, "close_type", co_close_type_name(c->close_type));
    set_str(o, "satisfaction", co_satisfaction_name(c->satisfaction));
    json_t *ph = json_array();
    for (int i = 0; i < c->nphotos; i++)
        json_array_append_new(ph, json_string(c->photos[i]));
    json_object_set_new(o, "photos", ph);
    return o;
}

/* ---- the same document written straight as text (co_case_json_text) ---- */

typedef struct jw {
    co_buf *b;
    co_err rc;
} jw;

/* A key and its string; a text that is not UTF-8 leaves the key out, as
 * jansson's json_string refusing it did. */
static void jw_str(jw *w, const char *k, const char *v)
{
    if (w->rc)
        return;
    size_t mark = w->b->len;
    if (!(w->rc = co_jsonw_key(w->b, k, 0)))
        w->rc = co_jsonw_str(w->b, v ? v : "");
    if (w->rc == CO_EINVAL) {
        w->b->len = mark;
        w->b->data[mark] = '\0';
        w->rc = CO_OK;
    }
}

static void jw_int(jw *w, const char *k, int64_t v)
{
    if (!w->rc && !(w->rc = co_jsonw_key(w->b, k, 0)))
        w->rc = co_jsonw_int(w->b, v);
}

static void jw_time(jw *w, const char *k, int64_t t)
{
    char buf[CO_TIME_ISO_MAX];
    if (!t) {
        if (!w->rc && !(w->rc = co_jsonw_key(w->b, k, 0)))
            w->rc = co_buf_append(w->b, "null", 4);
        return;
    }
    co_time_format(t, buf);
    jw_str(w, k, buf);
}

static void jw_raw(jw *w, const char *s)
{
    if (!w->rc)
        w->rc = co_buf_puts(w->b, s);
}

static void jw_location(jw *w, const co_case *c)
{
    if (!isfinite(c->lon) || !isfinite(c->lat)) {
        jw_raw(w, ",\"location\":null");
        return;
    }
    jw_raw(w, ",\"location\":{\"lon\":");
    if (!w->rc)
        w->rc = co_jsonw_real(w->b, c->lon);
    jw_raw(w, ",\"lat\":");
    if (!w->rc)
        w->rc = co_jsonw_real(w->b, c->lat);
    jw_raw(w, "}");
}

static void jw_caller(jw *w, const co_case *c, const char *phone)
{
    if (w->rc || !co_jsonw_utf8_ok(c->caller_name) || !co_jsonw_utf8_ok(phone))
        return; /* json_pack refused the object: no "caller" at all */
    jw_raw(w, ",\"caller\":{\"name\":");
    if (!w->rc)
        w->rc = co_jsonw_str(w->b, c->caller_name);
    jw_raw(w, ",\"phone\":");
    if (!w->rc)
        w->rc = co_jsonw_str(w->b, phone);
    jw_raw(w, "}");
}

static void jw_photos(jw *w, const co_case *c)
{
    jw_raw(w, ",\"photos\":[");
    int first = 1;
    for (int i = 0; i < c->nphotos && !w->rc; i++) {
        if (!co_jsonw_utf8_ok(c->photos[i]))
            continue;
        if (!first)
            jw_raw(w, ",");
        if (!w->rc)
            w->rc = co_jsonw_str(w->b, c->photos[i]);
        first = 0;
    }
    jw_raw(w, "]");
}

co_err co_case_json_text(const co_case *c, int show_phone, co_buf *out)
{
    char cat[8], phone[CO_PHONE_MAX];
    format_codes(c, show_phone, cat, phone);
    jw w = {out, co_buf_puts(out, "{\"id\":")};
    if (!w.rc)
        w.rc = co_jsonw_int(out, c->id);
    jw_str(&w, "number", c->number);
    jw_time(&w, "created", c->created);
    jw_time(&w, "updated", c->updated);
    jw_str(&w, "channel", co_channel_name(c->channel));
    jw_str(&w, "request_type", co_reqtype_name(c->reqtype));
    jw_str(&w, "severity", co_severity_name(c->severity));
    jw_str(&w, "category", cat);
    jw_int(&w, "tax_version", c->tax_version);
    jw_str(&w, "state", co_state_name(c->state));
    jw_str(&w, "state_zh", co_state_name_zh(c->state));
    jw_int(&w, "flags", c->flags);
    jw_location(&w, c);
    jw_str(&w, "grid", c->grid);
    jw_str(&w, "community", c->community);
    jw_str(&w, "street", c->street);
    jw_str(&w, "district", c->district);
    jw_str(&w, "address", c->address);
    jw_str(&w, "description", c->description);
    jw_caller(&w, c, phone);
    jw_str(&w, "reporter", c->reporter);
    jw_str(&w, "dept", c->dept);
    jw_str(&w, "routed_dept", c->routed_dept);
    jw_str(&w, "first_dept", c->first_dept);
    jw_str(&w, "merged_into", c->merged_into);
    jw_time(&w, "step_started", c->step_started);
    jw_time(&w, "step_due", c->step_due);
    jw_time(&w, "dispatched_at", c->dispatched_at);
    jw_time(&w, "disposal_due", c->disposal_due);
    jw_int(&w, "disposal_left", c->disposal_left);
    jw_time(&w, "handled_at", c->handled_at);
    jw_time(&w, "closed_at", c->closed_at);
    jw_int(&w, "rework", c->rework);
    jw_int(&w, "dispatches", c->dispatches);
    jw_int(&w, "extensions", c->extensions);
    jw_str(&w, "close_type", co_close_type_name(c->close_type));
    jw_str(&w, "satisfaction", co_satisfaction_name(c->satisfaction));
    jw_photos(&w, c);
    jw_raw(&w, "}");
    return w.rc;
}

/* Copies s into dst, cut (when too long) at a character boundary: half a
 * UTF-8 sequence could not be written as JSON again, and the field would
 * silently drop out of the case's document. */
static void copy_text(char *dst, size_t len, const char *s)
{
    snprintf(dst, len, "%s", s);
    size_t n = strlen(dst);
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    dst[n] = '\0';
}

static void get_str(const json_t *j, const char *k, char *dst, size_t len)
{
    const char *s = json_string_value(json_object_get(j, k));
    copy_text(dst, len, s ? s : "");
}

static int64_t get_time(const json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    int64_t t = 0;
    if (s && co_time_parse(s, &t) != CO_OK)
        t = 0;
    return t;
}

static int64_t get_int(const json_t *j, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(j, k));
}

static co_err get_enums(const json_t *j, co_case *c)
{
    const char *s;
    if ((s = json_string_value(json_object_get(j, "channel"))) && co_channel_parse(s, &c->channel))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "request_type"))) && *s &&
        co_reqtype_parse(s, &c->reqtype))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "severity"))) && co_severity_parse(s, &c->severity))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "category"))) && *s &&
        co_category_parse(s, &c->category))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "state"))) && co_state_parse(s, &c->state))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "close_type"))) && *s &&
        co_close_type_parse(s, &c->close_type))
        return CO_EINVAL;
    if ((s = json_string_value(json_object_get(j, "satisfaction"))) && *s &&
        co_satisfaction_parse(s, &c->satisfaction))
        return CO_EINVAL;
    return CO_OK;
}

co_err co_case_from_json(const json_t *j, co_case *c)
{
    if (!json_is_object(j))
        return CO_EINVAL;
    memset(c, 0, sizeof *c);
    c->lon = c->lat = NAN;
    c->id = get_int(j, "id");
    get_str(j, "number", c->number, sizeof c->number);
    c->created = get_time(j, "created");
    c->updated = get_time(j, "updated");
    if (get_enums(j, c))
        return CO_EINVAL;
    c->tax_version = (int32_t)get_int(j, "tax_version");
    c->flags = (uint32_t)get_int(j, "flags");
    json_t *loc = json_object_get(j, "location");
    if (json_is_object(loc)) {
        c->lon = json_number_value(json_object_get(loc, "lon"));
        c->lat = json_number_value(json_object_get(loc, "lat"));
    }
    get_str(j, "grid", c->grid, sizeof c->grid);
    get_str(j, "community", c->community, sizeof c->community);
    get_str(j, "street", c->street, sizeof c->street);
    get_str(j, "district", c->district, sizeof c->district);
    get_str(j, "address", c->address, sizeof c->address);
    get_str(j, "description", c->description, sizeof c->description);
    json_t *caller = json_object_get(j, "caller");
    get_str(caller, "name", c->caller_name, sizeof c->caller_name);
    get_str(caller, "phone", c->caller_phone, sizeof c->caller_phone);
    get_str(j, "reporter", c->reporter, sizeof c->reporter);
    get_str(j, "dept", c->dept, sizeof c->dept);
    get_str(j, "routed_dept", c->routed_dept, sizeof c->routed_dept);
    get_str(j, "first_dept", c->first_dept, sizeof c->first_dept);
    get_str(j, "merged_into", c->merged_into, sizeof c->merged_into);
    c->step_started = get_time(j, "step_started");
    c->step_due = get_time(j, "step_due");
    c->dispatched_at = get_time(j, "dispatched_at");
    c->disposal_due = get_time(j, "disposal_due");
    c->disposal_left = get_int(j, "disposal_left");
    c->handled_at = get_time(j, "handled_at");
    c->closed_at = get_time(j, "closed_at");
    c->rework = (int16_t)get_int(j, "rework");
    c->dispatches = (int16_t)get_int(j, "dispatches");
    c->extensions = (int16_t)get_int(j, "extensions");
    json_t *ph = json_object_get(j, "photos");
    size_t i;
    json_t *v;
    json_array_foreach(ph, i, v)
    {
        if (c->nphotos >= CO_PHOTOS_MAX || !json_string_value(v))
            break;
        copy_text(c->photos[c->nphotos++], CO_HASH_HEX, json_string_value(v));
    }
    return CO_OK;
}
