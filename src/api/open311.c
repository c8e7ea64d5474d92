/* open311.c — GeoReport v2: discovery, the service list and definitions,
 * POST service request, tokens, errors and the shared request plumbing
 * (formats, jurisdiction, form bodies, API keys). See open311.h.
 *
 * POST requests.{fmt}: the form is validated (errors are collected and
 * returned together), turned into an intake document and run through
 * co_intake_parse like every channel (location → grid/community/street/
 * district; category; severity; caller). The writer reserves the case
 * number; what the case has no field for (the client's full description,
 * attributes, media_url, email, device and account ids) is stored with a
 * fresh token before the case is submitted; the reply (201 with the
 * service_request_id, the token in X-Open311-Token) goes out once the
 * writer has committed the case. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "api/intake.h"
#include "api/open311_int.h"
#include "api/routes.h"
#include "http/session.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

/* ------------------------------------------------------------- replies */

static void common_headers(co_req *r)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Cache-Control", "no-store");
}

void co_open311_reply(co_req *r, co_open311_fmt fmt, int status, json_t *doc, const char *root)
{
    char *text = NULL;
    size_t len = 0;
    co_err rc = CO_OK;
    common_headers(r);
    if (fmt == CO_OPEN311_XML) {
        rc = co_open311_xml(doc, root, &text, &len);
    } else {
        text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
        len = text ? strlen(text) : 0;
        rc = text ? CO_OK : CO_ENOMEM;
    }
    json_decref(doc);
    if (rc) {
        co_free(text);
        co_reply_bytes(r, 500, "text/plain; charset=utf-8", "encoding failed\n", 16);
        return;
    }
    co_reply_bytes(r, status,
                   fmt == CO_OPEN311_XML ? "text/xml; charset=utf-8"
                                         : "application/json; charset=utf-8",
                   text, len);
    co_free(text);
}

void co_open311_errors_add(co_open311_errors *e, int code, const char *fmt, ...)
{
    if (e->n >= CO_OPEN311_ERRORS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->desc[e->n], sizeof e->desc[e->n], fmt, ap);
    va_end(ap);
    co_open311_utf8_fix(e->desc[e->n]);
    e->codes[e->n++] = code;
}

void co_open311_reply_errors(co_req *r, co_open311_fmt fmt, const co_open311_errors *e)
{
    json_t *list = json_array();
    for (int i = 0; i < e->n; i++)
        json_array_append_new(list, json_pack("{s:i,s:s}", "code", e->codes[i], "description",
                                              e->desc[i]));
    co_open311_reply(r, fmt, e->n ? e->codes[0] : 400, list, "errors");
}

void co_open311_error(co_req *r, co_open311_fmt fmt, int status, const char *msg, ...)
{
    co_open311_errors e = {0};
    va_list ap;
    va_start(ap, msg);
    vsnprintf(e.desc[0], sizeof e.desc[0], msg, ap);
    va_end(ap);
    co_open311_utf8_fix(e.desc[0]);
    e.codes[0] = status;
    e.n = 1;
    co_open311_reply_errors(r, fmt, &e);
}

/* ---------------------------------------------------------- plumbing */

int co_open311_format(co_req *r, const char *segment, int has_stem, co_open311_fmt *fmt,
                      char *stem, size_t stemlen)
{
    const char *dot = segment ? strrchr(segment, '.') : NULL;
    const char *ext = has_stem ? (dot ? dot + 1 : "") : (segment ? segment : "");
    *fmt = CO_OPEN311_XML;
    if (!strcmp(ext, "json"))
        *fmt = CO_OPEN311_JSON;
    else if (strcmp(ext, "xml") != 0) {
        co_open311_error(r, CO_OPEN311_XML, 404,
                         "没有这个资源：地址须以 .xml 或 .json 结尾 / no such resource: the path "
                         "must end in .xml or .json");
        return -1;
    }
    if (has_stem) {
        size_t n = (size_t)(dot - segment);
        if (n == 0 || n >= stemlen) {
            co_open311_error(r, *fmt, 404, "没有这个资源 / no such resource");
            return -1;
        }
        memcpy(stem, segment, n);
        stem[n] = '\0';
    }
    return 0;
}

/* 1 when s is UTF-8 without control characters other than tab and line
 * breaks. */
static int text_ok(const char *s)
{
    if (co_open311_utf8_chars(s) < 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
            return 0;
    return 1;
}

/* Percent-decodes n bytes of s ('+' = space) into a new string; NULL when
 * the result would hold a NUL byte or bad text. */
static char *decode_part(const char *s, size_t n)
{
    char *raw = co_xstrndup(s, n);
    size_t len = 0;
    char *dec = evhttp_uridecode(raw, 1, &len);
    co_free(raw);
    if (!dec)
        return NULL;
    char *out = NULL;
    if (strlen(dec) == len && text_ok(dec))
        out = co_xstrdup(dec);
    free(dec);
    return out;
}

co_err co_open311_form_parse(const char *body, size_t len, co_open311_form *form)
{
    const char *p = body, *end = body + len;
    co_err rc = CO_OK;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *kend = eq ? eq : stop;
            if (form->n >= CO_OPEN311_FORM_PAIRS) {
                rc = CO_ETOOBIG;
                goto out;
            }
            char *key = decode_part(p, (size_t)(kend - p));
            char *value = decode_part(eq ? eq + 1 : stop, eq ? (size_t)(stop - eq - 1) : 0);
            if (!key || !value) {
                co_free(key);
                co_free(value);
                rc = CO_EINVAL;
                goto out;
            }
            form->pairs = co_xgrow(form->pairs, &form->cap, form->n + 1, sizeof *form->pairs);
            form->pairs[form->n++] = (co_open311_pair){key, value};
        }
        p = stop + 1;
    }
out:
    if (rc)
        co_open311_form_clear(form);
    return rc;
}

void co_open311_form_clear(co_open311_form *form)
{
    for (size_t i = 0; i < form->n; i++) {
        co_free(form->pairs[i].key);
        co_free(form->pairs[i].value);
    }
    co_free(form->pairs);
    memset(form, 0, sizeof *form);
}

const char *co_open311_form_get(const co_open311_form *form, const char *key)
{
    for (size_t i = 0; form && i < form->n; i++)
        if (!strcmp(form->pairs[i].key, key))
            return form->pairs[i].value;
    return NULL;
}

int co_open311_read_form(co_req *r, co_open311_fmt fmt, co_open311_form *form)
{
    const char *ct = co_req_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        co_open311_error(r, fmt, 400,
                         "请求体须为 application/x-www-form-urlencoded / the body must be "
                         "application/x-www-form-urlencoded");
        return -1;
    }
    size_t len;
    const unsigned char *body = co_req_body(r, &len);
    if (len > CO_OPEN311_FORM_MAX) {
        co_open311_error(r, fmt, 400, "请求体过大 / the body is larger than %u bytes",
                         CO_OPEN311_FORM_MAX);
        return -1;
    }
    if (co_open311_form_parse((const char *)body, len, form)) {
        co_open311_error(r, fmt, 400,
                         "无法解析表单，或文本不是 UTF-8 / malformed form body or text that is "
                         "not UTF-8");
        return -1;
    }
    return 0;
}

const char *co_open311_arg(co_req *r, const co_open311_form *form, const char *key)
{
    const char *v = co_open311_form_get(form, key);
    if (!v || !*v)
        v = co_req_query(r, key);
    return v && *v ? v : NULL;
}

int co_open311_jurisdiction(co_req *r, co_open311_fmt fmt, const co_open311_form *form)
{
    co_app *app = (co_app *)r->app;
    const char *j = co_open311_arg(r, form, "jurisdiction_id");
    if (!j)
        return 0; /* one jurisdiction per endpoint: it may be left out */
    co_open311_settings s;
    co_apikeys_settings(app->apikeys, &s);
    if (!strcasecmp(j, s.jurisdiction))
        return 0;
    co_open311_error(r, fmt, 404,
                     "未知的 jurisdiction_id（本系统为 %s）/ jurisdiction_id not found (this "
                     "endpoint serves %s)",
                     s.jurisdiction, s.jurisdiction);
    return -1;
}

int co_open311_authorize(co_req *r, co_open311_fmt fmt, const co_open311_form *form,
                         const char *what, co_apikey_client *client)
{
    co_app *app = (co_app *)r->app;
    const char *key = co_open311_arg(r, form, "api_key");
    int retry = 1;
    switch (co_apikeys_check(app->apikeys, key, co_time_now_ms(), client, &retry)) {
    case CO_APIKEY_OK:
        return 0;
    case CO_APIKEY_MISSING:
        co_open311_error(r, fmt, 403,
                         "缺少 api_key，无法执行 %s / api_key required -- can't proceed with %s",
                         what, what);
        return -1;
    case CO_APIKEY_INVALID:
        co_open311_error(r, fmt, 403,
                         "api_key 无效 / Invalid api_key received -- can't proceed with %s", what);
        return -1;
    case CO_APIKEY_LIMITED: {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry);
        evhttp_add_header(evhttp_request_get_output_headers(r->ev), "Retry-After", secs);
        co_open311_error(r, fmt, 429,
                         "请求过于频繁，请 %d 秒后重试 / rate limit exceeded for this api_key; "
                         "retry in %d s",
                         retry, retry);
        return -1;
    }
    case CO_APIKEY_FAILED:
        break;
    }
    co_open311_error(r, fmt, 400, "服务暂时不可用 / the service failed; try again later");
    return -1;
}

void co_open311_service_name(co_app *app, const co_taxonomy *t, co_category cat, char *out,
                             size_t len)
{
    out[0] = '\0';
    if (cat == CO_CATEGORY_NONE)
        return;
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(cat));
    const co_taxonomy_subclass *s =
        t ? co_taxonomy_find_subclass(t, co_category_kind(cat) == 1 ? CO_TAXONOMY_COMPONENT
                                                                   : CO_TAXONOMY_EVENT,
                                      code)
          : NULL;
    if (s && s->name_en && *s->name_en)
        snprintf(out, len, "%s / %s", s->name, s->name_en);
    else if (s)
        snprintf(out, len, "%s", s->name);
    else
        co_app_category_name(app, cat, out, len);
}

co_err co_open311_parse_status(const char *s, unsigned *mask)
{
    char buf[64];
    *mask = 0;
    if (strlen(s) >= sizeof buf)
        return CO_EINVAL;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        int open = !strcasecmp(tok, "open"), closed = !strcasecmp(tok, "closed");
        if (!open && !closed)
            return CO_EINVAL;
        for (int st = CO_ST_REGISTERED; st < CO_ST_COUNT; st++)
            if (co_state_is_open((co_state)st) == open)
                *mask |= 1u << st;
    }
    return *mask ? CO_OK : CO_EINVAL;
}

/* ---------------------------------------------------------- discovery */

/* The endpoint's base URL: the configured one, else from the Host header
 * (characters of a host name only). */
static void base_url(co_req *r, const co_open311_settings *s, char *out, size_t len)
{
    if (s->base_url[0]) {
        snprintf(out, len, "%s", s->base_url);
        return;
    }
    const char *host = co_req_header(r, "Host");
    if (!host || !*host || strlen(host) > 200 ||
        strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
            strlen(host))
        host = "localhost";
    snprintf(out, len, "http://%s/open311/v2", host);
}

void co_open311_discovery(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    co_open311_settings s;
    co_apikeys_settings(app->apikeys, &s);
    co_taxonomy *t = co_app_taxonomy(app);
    char changeset[CO_TIME_ISO_MAX], url[320];
    co_time_format(co_apikeys_changeset(app->apikeys, t ? co_taxonomy_version(t) : 0), changeset);
    co_taxonomy_free(t);
    base_url(r, &s, url, sizeof url);
    json_t *endpoint = json_pack("{s:s,s:s,s:s,s:s,s:[s,s]}", "specification", CO_OPEN311_SPEC,
                                 "url", url, "changeset", changeset, "type", "production",
                                 "formats", "text/xml", "application/json");
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:[o]}", "changeset", changeset, "contact", s.contact, "key_service",
        "向城市运行管理中心申请 API key（管理员：cityops apikey add 客户端名称）/ ask the city's "
        "operations centre for an API key (administrators: cityops apikey add CLIENT)",
        "endpoints", endpoint);
    co_open311_reply(r, fmt, 200, doc, "discovery");
}

/* ------------------------------------------------------------ services */

static void join_keywords(const co_taxonomy_subclass *s, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint16_t i = 0; i < s->nkeywords && used + 1 < len; i++) {
        int n = snprintf(out + used, len - used, "%s%s", i ? ", " : "", s->keywords[i]);
        if (n < 0 || (size_t)n >= len - used) {
            out[used] = '\0'; /* drop a keyword that does not fit whole */
            break;
        }
        used += (size_t)n;
    }
}

json_t *co_open311_service_json(const co_taxonomy_subclass *s)
{
    char code[16], name[256], group[256], keywords[1024];
    snprintf(code, sizeof code, "%c%s", s->kind == CO_TAXONOMY_COMPONENT ? 'C' : 'E', s->code);
    if (s->name_en && *s->name_en)
        snprintf(name, sizeof name, "%s / %s", s->name, s->name_en);
    else
        snprintf(name, sizeof name, "%s", s->name);
    if (s->cls->name_en && *s->cls->name_en)
        snprintf(group, sizeof group, "%s / %s", s->cls->name, s->cls->name_en);
    else
        snprintf(group, sizeof group, "%s", s->cls->name);
    join_keywords(s, keywords, sizeof keywords);
    return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "service_code", code, "service_name", name,
                     "description", s->filing ? s->filing : "", "metadata", 1, "type", "realtime",
                     "keywords", keywords, "group", group);
}

json_t *co_open311_definition_json(const co_taxonomy *t, const co_taxonomy_subclass *s)
{
    char code[16];
    snprintf(code, sizeof code, "%c%s", s->kind == CO_TAXONOMY_COMPONENT ? 'C' : 'E', s->code);
    json_t *values = json_array();
    for (int sev = 0; sev < CO_TAXONOMY_NSEV; sev++) {
        const co_taxonomy_severity *ts = co_taxonomy_severity_of(t, (co_taxonomy_sev)sev);
        const char *key = co_taxonomy_sev_code((co_taxonomy_sev)sev);
        char name[128];
        if (ts && ts->name_en)
            snprintf(name, sizeof name, "%s / %s", ts->name, ts->name_en);
        else
            snprintf(name, sizeof name, "%s", ts ? ts->name : key);
        json_array_append_new(values, json_pack("{s:s,s:s}", "key", key, "name", name));
    }
    json_t *attrs = json_array();
    json_array_append_new(
        attrs, json_pack("{s:b,s:s,s:s,s:b,s:s,s:i,s:s,s:o}", "variable", 1, "code", "severity",
                         "datatype", "singlevaluelist", "required", 0, "datatype_description",
                         "normal / urgent / critical（默认 normal / normal when left out）", "order",
                         1, "description",
                         "紧急程度：是否危及安全、需要立即处置 / How urgent is it? Choose urgent "
                         "or critical when people or vehicles are in danger",
                         "values", values));
    char tdesc[128];
    snprintf(tdesc, sizeof tdesc, "最多 %d 字，可换行 / up to %d characters, line breaks allowed",
             CO_OPEN311_TEXT_ATTR_MAX_CHARS, CO_OPEN311_TEXT_ATTR_MAX_CHARS);
    json_array_append_new(
        attrs, json_pack("{s:b,s:s,s:s,s:b,s:s,s:i,s:s}", "variable", 1, "code", "note",
                         "datatype", "text", "required", 0, "datatype_description", tdesc, "order",
                         2, "description",
                         "补充说明（具体位置、持续时间等）/ Anything else the city should know "
                         "(exact spot, since when, ...)"));
    json_array_append_new(
        attrs, json_pack("{s:b,s:s,s:s,s:b,s:s,s:i,s:s}", "variable", 0, "code",
                         "filing_condition", "datatype", "string", "required", 0,
                         "datatype_description", "", "order", 3, "description",
                         s->filing ? s->filing : ""));
    return json_pack("{s:s,s:o}", "service_code", code, "attributes", attrs);
}

/* Finds the subclass for a service code in t; NULL when unknown. */
static const co_taxonomy_subclass *find_service(const co_taxonomy *t, const char *code)
{
    co_category cat;
    char sub[8];
    if (!t || !code || co_category_parse(code, &cat))
        return NULL;
    snprintf(sub, sizeof sub, "%04d", co_category_code(cat));
    return co_taxonomy_find_subclass(
        t, co_category_kind(cat) == 1 ? CO_TAXONOMY_COMPONENT : CO_TAXONOMY_EVENT, sub);
}

void co_open311_services(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    co_taxonomy *t = co_app_taxonomy(app);
    json_t *list = json_array();
    for (size_t i = 0; t && i < co_taxonomy_nsubclasses(t); i++)
        json_array_append_new(list, co_open311_service_json(co_taxonomy_subclass_at(t, i)));
    co_taxonomy_free(t);
    co_open311_reply(r, fmt, 200, list, "services");
}

void co_open311_service_definition(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    char code[32];
    if (co_open311_format(r, co_req_param(r, 0), 1, &fmt, code, sizeof code) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    co_taxonomy *t = co_app_taxonomy(app);
    const co_taxonomy_subclass *s = find_service(t, code);
    if (!s) {
        co_taxonomy_free(t);
        co_open311_error(r, fmt, 404,
                         "未知的 service_code：%s（见 services.%s）/ service_code not found: %s",
                         code, fmt == CO_OPEN311_XML ? "xml" : "json", code);
        return;
    }
    json_t *doc = co_open311_definition_json(t, s);
    co_taxonomy_free(t);
    co_open311_reply(r, fmt, 200, doc, "service_definition");
}

/* ---------------------------------------------------------- attributes */

static int valid_attr_code(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

co_err co_open311_attrs_parse(const co_open311_form *form, json_t **out, char *err,
                              size_t errlen)
{
    json_t *attrs = json_object();
    co_err rc = CO_OK;
    for (size_t i = 0; i < form->n; i++) {
        const co_open311_pair *kv = &form->pairs[i];
        if (strncmp(kv->key, "attribute[", 10) != 0)
            continue;
        const char *code = kv->key + 10, *close = strchr(code, ']');
        size_t n = close ? (size_t)(close - code) : 0;
        int multi = close && !strcmp(close, "][]");
        if (!close || (!multi && strcmp(close, "]") != 0) || !valid_attr_code(code, n)) {
            snprintf(err, errlen,
                     "无法识别的属性参数 %.80s（应为 attribute[代码] 或 attribute[代码][]）/ "
                     "malformed attribute parameter %.80s (use attribute[CODE] or "
                     "attribute[CODE][])",
                     kv->key, kv->key);
            rc = CO_EINVAL;
            goto out;
        }
        if (!*kv->value)
            continue; /* empty = not sent */
        if (strlen(kv->value) > 4 * CO_OPEN311_DESC_MAX_CHARS) {
            snprintf(err, errlen, "属性 %.*s 的值过长 / attribute[%.*s] is too long", (int)n,
                     code, (int)n, code);
            rc = CO_EINVAL;
            goto out;
        }
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)n, code);
        json_t *have = json_object_get(attrs, name);
        if (!have && !multi) {
            if (json_object_size(attrs) >= 32)
                goto too_many;
            json_object_set_new(attrs, name, json_string(kv->value));
            continue;
        }
        if (!have) {
            if (json_object_size(attrs) >= 32)
                goto too_many;
            have = json_array();
            json_object_set_new(attrs, name, have);
        } else if (json_is_string(have)) {
            json_t *arr = json_pack("[O]", have);
            json_object_set_new(attrs, name, arr);
            have = arr;
        }
        if (json_array_size(have) >= 64)
            goto too_many;
        json_array_append_new(have, json_string(kv->value));
    }
out:
    if (rc) {
        json_decref(attrs);
        attrs = NULL;
    }
    *out = attrs;
    return rc;
too_many:
    snprintf(err, errlen, "属性或取值过多 / too many attributes or values");
    rc = CO_EINVAL;
    goto out;
}

static int in_values(const json_t *values, const char *v)
{
    size_t i;
    json_t *item;
    json_array_foreach(values, i, item)
    {
        const char *key = json_string_value(json_object_get(item, "key"));
        if (key && !strcmp(key, v))
            return 1;
    }
    return 0;
}

/* Checks one value of attribute def; returns 0 or writes err. */
static int check_one(const json_t *def, const char *code, const char *type, const char *v,
                     char *err)
{
    double d;
    int64_t t;
    long chars = co_open311_utf8_chars(v);
    if ((!strcmp(type, "singlevaluelist") || !strcmp(type, "multivaluelist")) &&
        !in_values(json_object_get(def, "values"), v)) {
        snprintf(err, CO_OPEN311_ERR_MAX,
                 "attribute[%s] 的取值 %.60s 不在列表中 / attribute[%s]: %.60s is not one of the "
                 "listed keys",
                 code, v, code, v);
        return -1;
    }
    if (!strcmp(type, "number") && co_parse_double(v, -1e15, 1e15, &d)) {
        snprintf(err, CO_OPEN311_ERR_MAX, "attribute[%s] 须为数字 / attribute[%s] must be a number",
                 code, code);
        return -1;
    }
    if (!strcmp(type, "datetime") && co_time_parse(v, &t)) {
        snprintf(err, CO_OPEN311_ERR_MAX,
                 "attribute[%s] 须为 ISO 8601 时间 / attribute[%s] must be an ISO 8601 datetime",
                 code, code);
        return -1;
    }
    if ((!strcmp(type, "string") || !strcmp(type, "text")) &&
        chars > CO_OPEN311_TEXT_ATTR_MAX_CHARS) {
        snprintf(err, CO_OPEN311_ERR_MAX,
                 "attribute[%s] 超过 %d 字 / attribute[%s] is longer than %d characters", code,
                 CO_OPEN311_TEXT_ATTR_MAX_CHARS, code, CO_OPEN311_TEXT_ATTR_MAX_CHARS);
        return -1;
    }
    return 0;
}

int co_open311_attrs_check(const json_t *definition, json_t *attrs,
                           char errs[][CO_OPEN311_ERR_MAX], int max)
{
    int n = 0;
    size_t i;
    json_t *def;
    char err[CO_OPEN311_ERR_MAX];
#define PROBLEM()                                                                              \
    do {                                                                                       \
        if (n < max)                                                                           \
            snprintf(errs[n], CO_OPEN311_ERR_MAX, "%s", err);                                  \
        n++;                                                                                   \
    } while (0)
    json_array_foreach(json_object_get(definition, "attributes"), i, def)
    {
        const char *code = json_string_value(json_object_get(def, "code"));
        const char *type = json_string_value(json_object_get(def, "datatype"));
        if (!code || !type)
            continue;
        json_t *v = json_object_get(attrs, code);
        if (!json_is_true(json_object_get(def, "variable"))) {
            json_object_del(attrs, code); /* information only: nothing to send */
            continue;
        }
        if (!v) {
            if (json_is_true(json_object_get(def, "required"))) {
                snprintf(err, sizeof err, "缺少必填属性 attribute[%s] / attribute[%s] is required",
                         code, code);
                PROBLEM();
            }
            continue;
        }
        if (json_is_array(v) && strcmp(type, "multivaluelist") != 0) {
            snprintf(err, sizeof err,
                     "attribute[%s] 只能有一个值 / attribute[%s] takes a single value", code,
                     code);
            PROBLEM();
            continue;
        }
        if (json_is_string(v)) {
            if (check_one(def, code, type, json_string_value(v), err))
                PROBLEM();
            continue;
        }
        size_t k;
        json_t *item;
        json_array_foreach(v, k, item)
        {
            if (check_one(def, code, type, json_string_value(item), err)) {
                PROBLEM();
                break;
            }
        }
    }
#undef PROBLEM
    return n;
}

/* Length of the longest prefix of s that fits in max bytes without cutting
 * a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

void co_open311_compose_description(const char *text, const char *fallback, const json_t *attrs,
                                    char *out, size_t len)
{
    char tail[CO_TEXT_MAX];
    size_t used = 0;
    tail[0] = '\0';
    const char *code;
    json_t *v;
    json_object_foreach((json_t *)attrs, code, v)
    {
        if (!strcmp(code, "severity"))
            continue; /* goes into the case's severity */
        char value[CO_TEXT_MAX];
        value[0] = '\0';
        if (json_is_string(v)) {
            snprintf(value, sizeof value, "%s", json_string_value(v));
        } else {
            size_t k, vu = 0;
            json_t *item;
            json_array_foreach(v, k, item)
            {
                int w = snprintf(value + vu, sizeof value - vu, "%s%s", k ? ", " : "",
                                 json_string_value(item));
                if (w < 0 || (size_t)w >= sizeof value - vu)
                    break;
                vu += (size_t)w;
            }
        }
        const char *label = !strcmp(code, "note") ? "补充说明 / note" : code;
        int w = snprintf(tail + used, sizeof tail - used, "\n%s: %s", label, value);
        if (w < 0 || (size_t)w >= sizeof tail - used) {
            tail[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    const char *body = text && *text ? text : fallback ? fallback : "";
    size_t tlen = strlen(tail);
    if (tlen + 1 > len / 2) { /* attributes may take at most half */
        tlen = utf8_cut(tail, len / 2 - 1);
        tail[tlen] = '\0';
    }
    size_t room = len - 1 - tlen;
    size_t blen = strlen(body);
    if (blen <= room) {
        snprintf(out, len, "%s%s", body, tail);
        return;
    }
    static const char ell[] = "…";
    size_t cut = utf8_cut(body, room - (sizeof ell - 1));
    snprintf(out, len, "%.*s%s%s", (int)cut, body, ell, tail);
}

/* ------------------------------------------------------ POST request */

typedef struct create_ctx {
    co_write_cmd cmd;
    co_deferred *def;
    co_open311_fmt fmt;
    char token[CO_TOKEN_HEX];
    char account_id[136];
} create_ctx;

static void create_reply(co_req *r, void *arg)
{
    create_ctx *cc = arg;
    co_write_cmd *cmd = &cc->cmd;
    if (cmd->rc) {
        co_open311_error(r, cc->fmt, 400, "无法受理 / the request could not be registered: %s",
                         cmd->err[0] ? cmd->err : co_err_str(cmd->rc));
    } else {
        struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
        char loc[128];
        snprintf(loc, sizeof loc, "/open311/v2/requests/%s.%s", cmd->result.number,
                 cc->fmt == CO_OPEN311_XML ? "xml" : "json");
        evhttp_add_header(h, "Location", loc);
        evhttp_add_header(h, "X-Open311-Token", cc->token);
        char notice[256];
        snprintf(notice, sizeof notice,
                 "已受理，案件编号 %s，可凭编号查询办理进度 / received as case %s; use this "
                 "number to follow it",
                 cmd->result.number, cmd->result.number);
        json_t *req = json_pack("{s:s,s:s}", "service_request_id", cmd->result.number,
                                "service_notice", notice);
        if (cc->account_id[0])
            json_object_set_new(req, "account_id", json_string(cc->account_id));
        co_open311_reply(r, cc->fmt, 201, json_pack("[o]", req), "service_requests");
    }
    co_writer_cmd_clear(cmd);
    co_free(cc);
}

static void create_gone(co_req *r, void *arg)
{
    (void)r;
    create_ctx *cc = arg;
    co_writer_cmd_clear(&cc->cmd);
    co_free(cc);
}

static void create_done(co_write_cmd *cmd)
{
    co_deferred_fire(((create_ctx *)cmd->arg)->def);
}

/* The fields of a POST, borrowed from the form. */
typedef struct post_fields {
    const char *service_code, *lat, *lon, *address, *address_id, *description, *email, *phone,
        *first_name, *last_name, *media_url, *device_id, *account_id;
    double wlat, wlon;
    int has_point;
} post_fields;

static void check_len(co_open311_errors *e, const char *name, const char *v, size_t max)
{
    if (v && strlen(v) > max)
        co_open311_errors_add(e, 400, "%s 过长（最多 %zu 字节）/ %s is longer than %zu bytes",
                              name, max, name, max);
}

static void check_location(co_app *app, post_fields *f, co_open311_errors *e)
{
    if (!!f->lat != !!f->lon) {
        co_open311_errors_add(e, 400,
                              "lat 和 long 必须同时提供 / lat and long must both be sent");
    } else if (f->lat) {
        if (co_parse_double(f->lat, -90, 90, &f->wlat) ||
            co_parse_double(f->lon, -180, 180, &f->wlon))
            co_open311_errors_add(e, 400,
                                  "lat/long 须为 WGS84 经纬度数字 / lat and long must be WGS84 "
                                  "degrees (lat -90..90, long -180..180)");
        else
            f->has_point = 1;
    }
    if (f->address_id && co_areas_find(app->areas, f->address_id) < 0)
        co_open311_errors_add(e, 400,
                              "未知的 address_id（应为区域/网格编码）/ unknown address_id (use an "
                              "area or grid code of this city)");
    if (!f->lat && !f->lon && !f->address && !f->address_id)
        co_open311_errors_add(e, 400,
                              "需要位置：lat+long、address_string 或 address_id / a location is "
                              "required: lat and long, address_string or address_id");
}

static void check_contact(post_fields *f, co_open311_errors *e)
{
    long chars = f->description ? co_open311_utf8_chars(f->description) : 0;
    if (chars > CO_OPEN311_DESC_MAX_CHARS)
        co_open311_errors_add(e, 400,
                              "description 超过 %d 字 / description is longer than %d characters",
                              CO_OPEN311_DESC_MAX_CHARS, CO_OPEN311_DESC_MAX_CHARS);
    if (f->email) {
        const char *at = strchr(f->email, '@');
        if (strlen(f->email) > 254 || !at || at == f->email || !at[1] || strchr(f->email, ' '))
            co_open311_errors_add(e, 400, "email 格式不正确 / email is not an e-mail address");
    }
    if (f->media_url && (strlen(f->media_url) > 1000 || strpbrk(f->media_url, " \t\r\n") ||
                         (strncmp(f->media_url, "http://", 7) &&
                          strncmp(f->media_url, "https://", 8))))
        co_open311_errors_add(e, 400,
                              "media_url 须为 http(s) 地址 / media_url must be an http(s) URL");
    check_len(e, "address_string", f->address, 255);
    check_len(e, "first_name", f->first_name, 60);
    check_len(e, "last_name", f->last_name, 60);
    check_len(e, "device_id", f->device_id, 128);
    check_len(e, "account_id", f->account_id, 128);
    if (f->first_name && f->last_name && strlen(f->first_name) + strlen(f->last_name) > 62)
        co_open311_errors_add(e, 400, "姓名过长 / first_name and last_name are too long together");
}

/* "first last" — or "lastfirst" when both are written in CJK. */
static void full_name(const post_fields *f, char *out, size_t len)
{
    const char *a = f->first_name ? f->first_name : "", *b = f->last_name ? f->last_name : "";
    int cjk = *a && *b && (unsigned char)a[0] >= 0xE0 && (unsigned char)b[0] >= 0xE0;
    if (cjk)
        snprintf(out, len, "%s%s", b, a);
    else
        snprintf(out, len, "%s%s%s", a, *a && *b ? " " : "", b);
}

/* Builds the intake document (new reference). */
static json_t *intake_doc(const post_fields *f, const char *description, const json_t *attrs)
{
    json_t *doc = json_pack("{s:s,s:s,s:s}", "description", description, "category",
                            f->service_code, "request_type", "report");
    const char *sev = json_string_value(json_object_get(attrs, "severity"));
    if (sev)
        json_object_set_new(doc, "severity", json_string(sev));
    if (f->has_point)
        json_object_set_new(doc, "location",
                            json_pack("{s:f,s:f,s:s}", "lon", f->wlon, "lat", f->wlat, "crs",
                                      "wgs84"));
    else if (f->address_id)
        json_object_set_new(doc, "area", json_string(f->address_id));
    if (f->address)
        json_object_set_new(doc, "address", json_string(f->address));
    char name[CO_NAME_MAX];
    full_name(f, name, sizeof name);
    if (name[0] || f->phone) {
        json_t *caller = json_object();
        if (name[0])
            json_object_set_new(caller, "name", json_string(name));
        if (f->phone)
            json_object_set_new(caller, "phone", json_string(f->phone));
        json_object_set_new(doc, "caller", caller);
    }
    return doc;
}

static void read_fields(co_req *r, const co_open311_form *form, post_fields *f)
{
    memset(f, 0, sizeof *f);
    f->service_code = co_open311_arg(r, form, "service_code");
    f->lat = co_open311_arg(r, form, "lat");
    f->lon = co_open311_arg(r, form, "long");
    f->address = co_open311_arg(r, form, "address_string");
    f->address_id = co_open311_arg(r, form, "address_id");
    f->description = co_open311_arg(r, form, "description");
    f->email = co_open311_arg(r, form, "email");
    f->phone = co_open311_arg(r, form, "phone");
    f->first_name = co_open311_arg(r, form, "first_name");
    f->last_name = co_open311_arg(r, form, "last_name");
    f->media_url = co_open311_arg(r, form, "media_url");
    f->device_id = co_open311_arg(r, form, "device_id");
    f->account_id = co_open311_arg(r, form, "account_id");
}

/* Validates the form against the service; replies and returns -1 on error.
 * *attrs receives the checked attributes (new reference). */
static int validate(co_req *r, co_open311_fmt fmt, const co_open311_form *form, post_fields *f,
                    char *service_name, size_t namelen, json_t **attrs)
{
    co_app *app = (co_app *)r->app;
    co_open311_errors e = {0};
    char err[CO_OPEN311_ERR_MAX];
    *attrs = NULL;
    read_fields(r, form, f);
    if (!f->service_code) {
        co_open311_error(r, fmt, 400, "缺少 service_code / service_code is required");
        return -1;
    }
    co_taxonomy *t = co_app_taxonomy(app);
    const co_taxonomy_subclass *s = find_service(t, f->service_code);
    if (!s) {
        co_taxonomy_free(t);
        co_open311_error(r, fmt, 404, "未知的 service_code / service_code not found: %.40s",
                         f->service_code);
        return -1;
    }
    json_t *def = co_open311_definition_json(t, s);
    snprintf(service_name, namelen, "%s", s->name);
    co_taxonomy_free(t);
    check_location(app, f, &e);
    check_contact(f, &e);
    if (co_open311_attrs_parse(form, attrs, err, sizeof err)) {
        co_open311_errors_add(&e, 400, "%s", err);
    } else {
        char errs[CO_OPEN311_ERRORS_MAX][CO_OPEN311_ERR_MAX];
        int n = co_open311_attrs_check(def, *attrs, errs, CO_OPEN311_ERRORS_MAX);
        for (int i = 0; i < n && i < CO_OPEN311_ERRORS_MAX; i++)
            co_open311_errors_add(&e, 400, "%s", errs[i]);
    }
    json_decref(def);
    if (!e.n)
        return 0;
    json_decref(*attrs);
    *attrs = NULL;
    co_open311_reply_errors(r, fmt, &e);
    return -1;
}

/* Stores the request's extras with its token, then submits the case; the
 * reply follows the commit. Consumes attrs. */
static void submit(co_req *r, co_open311_fmt fmt, const post_fields *f, const co_case *draft,
                   json_t *attrs, int64_t key_id)
{
    co_app *app = (co_app *)r->app;
    create_ctx *cc = co_xcalloc(1, sizeof *cc);
    char *attrs_text = json_dumps(attrs, JSON_COMPACT);
    json_decref(attrs);
    cc->fmt = fmt;
    snprintf(cc->account_id, sizeof cc->account_id, "%s", f->account_id ? f->account_id : "");
    co_wf_actor who = {"", CO_ROLE_OPERATOR, "", ""}; /* an outside channel: like the desk */
    co_err rc = co_random_hex(cc->token, 16);
    if (!rc)
        rc = co_writer_prepare_register(app->writer, draft, &who, co_time_now(), &cc->cmd);
    if (rc) {
        co_open311_error(r, fmt, 400, "无法受理 / the request could not be registered");
        goto fail;
    }
    co_open311_request_rec rec = {
        cc->token,     cc->cmd.draft.number, key_id,       co_time_now(), f->description,
        attrs_text,    f->media_url,         f->email,     f->first_name, f->last_name,
        f->phone,      f->device_id,         f->account_id, f->address_id};
    if ((rc = co_store_open311_request_put(app->store, &rec))) {
        co_writer_cmd_clear(&cc->cmd);
        co_open311_error(r, fmt, 400, "无法保存请求 / the request could not be stored");
        goto fail;
    }
    cc->cmd.done = create_done;
    cc->cmd.arg = cc;
    cc->def = co_req_defer(r, create_reply, create_gone, cc);
    if (!cc->def) {
        co_writer_cmd_clear(&cc->cmd);
        co_open311_error(r, fmt, 400, "无法受理 / the request could not be registered");
        goto fail;
    }
    free(attrs_text);
    co_writer_submit(app->writer, &cc->cmd);
    return;
fail:
    free(attrs_text);
    co_free(cc);
}

void co_open311_request_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    co_open311_form form = {0};
    post_fields f;
    json_t *attrs = NULL, *doc = NULL;
    char service_name[128], description[CO_TEXT_MAX], err[CO_INTAKE_ERR_MAX];
    co_apikey_client client;
    if (co_open311_format(r, co_req_param(r, 0), 0, &fmt, NULL, 0) ||
        co_open311_read_form(r, fmt, &form) || co_open311_jurisdiction(r, fmt, &form) ||
        co_open311_authorize(r, fmt, &form, "create_request", &client) ||
        validate(r, fmt, &form, &f, service_name, sizeof service_name, &attrs))
        goto out;
    co_open311_compose_description(f.description, service_name, attrs, description,
                                   sizeof description);
    doc = intake_doc(&f, description, attrs);
    co_case draft;
    co_err rc = co_intake_parse(app, doc, CO_CH_OPEN311, &draft, err, sizeof err);
    if (rc) {
        co_open311_error(r, fmt, 400, "%s", err);
        goto out;
    }
    submit(r, fmt, &f, &draft, attrs, client.id);
    attrs = NULL;
out:
    json_decref(doc);
    json_decref(attrs);
    co_open311_form_clear(&form);
}

/* -------------------------------------------------------------- tokens */

typedef struct token_ctx {
    char number[CO_NUMBER_MAX];
} token_ctx;

static int take_number(void *vctx, const co_open311_request_rec *rec)
{
    token_ctx *ctx = vctx;
    snprintf(ctx->number, sizeof ctx->number, "%s", rec->number);
    return 1;
}

void co_open311_token_get(co_req *r)
{
    co_app *app = (co_app *)r->app;
    co_open311_fmt fmt;
    char token[80];
    if (co_open311_format(r, co_req_param(r, 0), 1, &fmt, token, sizeof token) ||
        co_open311_jurisdiction(r, fmt, NULL))
        return;
    token_ctx ctx = {""};
    co_case c;
    if (strspn(token, "0123456789abcdef") != strlen(token) ||
        co_store_open311_requests_find(app->store, token, NULL, take_number, &ctx) ||
        !ctx.number[0] || co_store_case_get(app->store, 0, ctx.number, &c)) {
        co_open311_error(r, fmt, 404, "没有这个 token / token not found");
        return;
    }
    co_open311_reply(r, fmt, 200,
                     json_pack("[{s:s,s:s}]", "service_request_id", c.number, "token", token),
                     "service_requests");
}

/* ------------------------------------------------------------ fallback */

void co_open311_fallback(co_req *r)
{
    const char *dot = strrchr(r->path, '.');
    co_open311_fmt fmt = dot && !strcmp(dot, ".json") ? CO_OPEN311_JSON : CO_OPEN311_XML;
    unsigned mask = 0;
    co_req *probe = co_xcalloc(1, sizeof *probe);
    for (size_t i = 0; i < co_api_router.nroutes; i++) {
        const co_route *rt = &co_api_router.routes[i];
        if (rt->handler != co_open311_fallback && co_router_match(rt->pattern, r->path, probe))
            mask |= rt->methods;
    }
    co_free(probe);
    if (!mask) {
        co_open311_error(r, fmt, 404, "没有这个资源 / no such resource: %.200s", r->path);
        return;
    }
    char allow[96] = "";
    for (unsigned bit = CO_GET; bit <= CO_OPTIONS; bit <<= 1)
        if (mask & bit)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", co_method_name((co_method)bit));
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
    evhttp_add_header(h, "Allow", allow);
    if (r->method == CO_OPTIONS) { /* CORS preflight */
        common_headers(r);
        evhttp_add_header(h, "Access-Control-Allow-Methods", allow);
        evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type");
        co_reply_bytes(r, 204, "text/plain; charset=utf-8", "", 0);
        return;
    }
    co_open311_error(r, fmt, 405, "不支持该方法 / method %s not allowed here; allowed: %s",
                     co_method_name(r->method), allow);
}
