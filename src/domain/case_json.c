/* case_json.c — a case as JSON and back. Times are ISO 8601 with +08:00
 * (0 = null). The same document is stored in register events and served by
 * the API, so from_json(to_json(c)) == c for every field (a unit test checks
 * it). The caller's phone is masked unless show_phone. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
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

json_t *co_case_to_json(const co_case *c, int show_phone)
{
    char cat[8], phone[CO_PHONE_MAX];
    co_category_format(c->category, cat);
    if (show_phone)
        snprintf(phone, sizeof phone, "%s", c->caller_phone);
    else
        co_phone_mask(c->caller_phone, phone);
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
