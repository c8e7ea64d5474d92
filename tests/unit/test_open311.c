/* test_open311.c — unit tests of the Open311 adapter's pure parts
 * (src/api/open311*.c) and of the API key values (src/domain/apikey.c):
 * the XML writer's output parsed back with libxml2 (xmlReadMemory + XPath),
 * Spark item names, the status mapping and which notes are public, the
 * request view field by field, service definitions from the shipped
 * taxonomy, attribute[code] / attribute[code][] parsing and checking, the
 * case description built from a request, UTF-8 counting, the token bucket
 * and key hashing. Run from the repository root (reads share/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "api/open311.h"
#include "domain/apikey.h"
#include "domain/taxonomy.h"
#include "lib/alloc.h"

/* ------------------------------------------------------------ helpers */

static xmlDocPtr to_xml(const json_t *doc, const char *root)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(co_open311_xml(doc, root, &text, &len), CO_OK);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_true(!strncmp(text, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38));
    xmlDocPtr x = xmlReadMemory(text, (int)len, "open311.xml", NULL, XML_PARSE_NONET);
    co_free(text);
    assert_non_null(x);
    return x;
}

static int xp_count(xmlDocPtr x, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(x);
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    assert_non_null(r);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return n;
}

/* Text of the first node expr selects ("" when none); the caller frees. */
static char *xp_text(xmlDocPtr x, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(x);
    xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    assert_non_null(r);
    char *out = NULL;
    if (r->nodesetval && r->nodesetval->nodeNr > 0) {
        xmlChar *c = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
        out = co_xstrdup(c ? (const char *)c : "");
        xmlFree(c);
    } else {
        out = co_xstrdup("");
    }
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return out;
}

static void assert_xp_text(xmlDocPtr x, const char *expr, const char *want)
{
    char *got = xp_text(x, expr);
    assert_string_equal(got, want);
    co_free(got);
}

static co_taxonomy *load_taxonomy(void)
{
    json_t *depts = json_load_file("share/departments.json", 0, NULL);
    assert_non_null(depts);
    co_taxonomy *t = NULL;
    char err[256];
    assert_int_equal(co_taxonomy_load_file("share/taxonomy/default.json", depts, &t, err,
                                           sizeof err),
                     CO_OK);
    json_decref(depts);
    return t;
}

/* ------------------------------------------------------------ the XML */

static void test_xml_services_list(void **state)
{
    (void)state;
    json_t *doc = json_pack("[{s:s,s:s,s:b,s:s},{s:s,s:s,s:b,s:s}]", "service_code", "C0101",
                            "service_name", "上水井盖 / Water supply manhole cover", "metadata",
                            1, "type", "realtime", "service_code", "E0102", "service_name",
                            "Bærum 🚧 <&> \"q\"", "metadata", 0, "type", "realtime");
    xmlDocPtr x = to_xml(doc, "services");
    assert_int_equal(xp_count(x, "/services/service"), 2);
    assert_xp_text(x, "/services/service[1]/service_code", "C0101");
    assert_xp_text(x, "/services/service[1]/service_name", "上水井盖 / Water supply manhole cover");
    assert_xp_text(x, "/services/service[2]/service_name", "Bærum 🚧 <&> \"q\"");
    assert_xp_text(x, "/services/service[1]/metadata", "true");
    assert_xp_text(x, "/services/service[2]/metadata", "false");
    /* no namespace on the root */
    assert_null(xmlDocGetRootElement(x)->ns);
    assert_string_equal((const char *)x->encoding, "UTF-8");
    xmlFreeDoc(x);
    json_decref(doc);
}

static void test_xml_nested_lists_and_scalars(void **state)
{
    (void)state;
    json_t *doc = json_pack(
        "{s:s,s:[{s:s,s:i,s:[{s:s,s:s}]}],s:f,s:n,s:[s,s]}", "service_code", "C0101",
        "attributes", "code", "severity", "order", 1, "values", "key", "urgent", "name",
        "紧急 / Urgent", "lat", 40.7688364, "zipcode", "formats", "text/xml", "application/json");
    xmlDocPtr x = to_xml(doc, "service_definition");
    assert_int_equal(xp_count(x, "/service_definition/attributes/attribute"), 1);
    assert_xp_text(x, "/service_definition/attributes/attribute/order", "1");
    assert_xp_text(x, "/service_definition/attributes/attribute/values/value/key", "urgent");
    assert_xp_text(x, "/service_definition/lat", "40.7688364");
    assert_int_equal(xp_count(x, "/service_definition/zipcode"), 1);
    assert_xp_text(x, "/service_definition/zipcode", "");
    assert_int_equal(xp_count(x, "/service_definition/formats/format"), 2);
    xmlFreeDoc(x);
    json_decref(doc);
}

static void test_xml_requests_and_errors(void **state)
{
    (void)state;
    json_t *doc = json_pack("[{s:s,s:s}]", "service_request_id", "2026112500123", "status",
                            "open");
    xmlDocPtr x = to_xml(doc, "service_requests");
    assert_int_equal(xp_count(x, "/service_requests/request"), 1);
    assert_xp_text(x, "/service_requests/request/service_request_id", "2026112500123");
    xmlFreeDoc(x);
    json_decref(doc);

    doc = json_pack("[{s:i,s:s},{s:i,s:s}]", "code", 400, "description", "a", "code", 403,
                    "description", "Invalid api_key received -- can't proceed with "
                                   "create_request.");
    x = to_xml(doc, "errors");
    assert_int_equal(xp_count(x, "/errors/error"), 2);
    assert_xp_text(x, "/errors/error[2]/code", "403");
    xmlFreeDoc(x);
    json_decref(doc);

    doc = json_pack("[{s:s}]", "update_id", "7");
    x = to_xml(doc, "service_request_updates");
    assert_xp_text(x, "/service_request_updates/request_update/update_id", "7");
    xmlFreeDoc(x);
    json_decref(doc);

    doc = json_array(); /* an empty list is an empty root */
    x = to_xml(doc, "service_requests");
    assert_int_equal(xp_count(x, "/service_requests"), 1);
    assert_int_equal(xp_count(x, "/service_requests/*"), 0);
    xmlFreeDoc(x);
    json_decref(doc);
}

static void test_xml_control_characters(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s}", "description", "line1\nline2\ttab\x01\x1f end");
    xmlDocPtr x = to_xml(doc, "request");
    assert_xp_text(x, "/request/description", "line1\nline2\ttab   end");
    xmlFreeDoc(x);
    json_decref(doc);
}

static void test_item_names(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(co_open311_item_name("services", buf, sizeof buf), "service");
    assert_string_equal(co_open311_item_name("service_requests", buf, sizeof buf), "request");
    assert_string_equal(co_open311_item_name("service_request_updates", buf, sizeof buf),
                        "request_update");
    assert_string_equal(co_open311_item_name("attributes", buf, sizeof buf), "attribute");
    assert_string_equal(co_open311_item_name("values", buf, sizeof buf), "value");
    assert_string_equal(co_open311_item_name("errors", buf, sizeof buf), "error");
    assert_string_equal(co_open311_item_name("formats", buf, sizeof buf), "format");
    assert_string_equal(co_open311_item_name("notes", buf, sizeof buf), "note");
    assert_string_equal(co_open311_item_name("list", buf, sizeof buf), "item");
}

/* ----------------------------------------------------- status mapping */

static void test_status_mapping(void **state)
{
    (void)state;
    for (int s = CO_ST_REGISTERED; s < CO_ST_COUNT; s++) {
        const char *want =
            s == CO_ST_CLOSED || s == CO_ST_VOIDED || s == CO_ST_MERGED ? "closed" : "open";
        assert_string_equal(co_open311_status((co_state)s), want);
    }
    assert_true(co_open311_note_is_public("handle"));
    assert_true(co_open311_note_is_public("close"));
    assert_true(co_open311_note_is_public("answer"));
    assert_false(co_open311_note_is_public("dispatch"));
    assert_false(co_open311_note_is_public("request_extension"));
    assert_false(co_open311_note_is_public("visit"));
    assert_false(co_open311_note_is_public(NULL));
    assert_non_null(strstr(co_open311_action_text("dispatch"), " / "));
    assert_string_equal(co_open311_action_text("nope"), "已更新 / updated");
}

static co_case sample_case(co_state st)
{
    co_case c;
    memset(&c, 0, sizeof c);
    snprintf(c.number, sizeof c.number, "2026112500123");
    c.created = 1795000000;
    c.updated = 1795003600;
    c.state = st;
    assert_int_equal(co_category_parse("C0101", &c.category), CO_OK);
    c.lon = 111.6692303;
    c.lat = 40.7688364;
    snprintf(c.grid, sizeof c.grid, "150104006009005");
    snprintf(c.description, sizeof c.description, "井盖丢了");
    c.step_due = 1795010000;
    c.disposal_due = 1795020000;
    return c;
}

static void test_request_view(void **state)
{
    (void)state;
    co_case c = sample_case(CO_ST_HANDLING);
    co_open311_view v = {&c, "上水井盖 / Water supply manhole cover", "水务集团", "华宇社区",
                         "已派遣", NULL, NULL};
    json_t *o = co_open311_request_json(&v);
    static const char *const order[] = {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url"};
    void *it = json_object_iter(o);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++, it = json_object_iter_next(o, it)) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), order[i]);
    }
    assert_null(it);
    assert_string_equal(json_string_value(json_object_get(o, "status")), "open");
    assert_string_equal(json_string_value(json_object_get(o, "service_code")), "C0101");
    assert_string_equal(json_string_value(json_object_get(o, "requested_datetime")),
                        "2026-11-18T19:06:40+08:00");
    /* working on it: the disposal deadline */
    assert_string_equal(json_string_value(json_object_get(o, "expected_datetime")),
                        "2026-11-19T00:40:00+08:00");
    assert_string_equal(json_string_value(json_object_get(o, "address_id")), "150104006009005");
    assert_true(fabs(json_real_value(json_object_get(o, "lat")) - 40.7688364) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "description")), "井盖丢了");
    json_decref(o);

    /* before dispatch: the step's deadline; the client's own text wins */
    c = sample_case(CO_ST_REGISTERED);
    v.description = "manhole missing";
    v.media_url = "https://example.org/p.jpg";
    o = co_open311_request_json(&v);
    assert_string_equal(json_string_value(json_object_get(o, "expected_datetime")),
                        "2026-11-18T21:53:20+08:00");
    assert_string_equal(json_string_value(json_object_get(o, "description")), "manhole missing");
    assert_string_equal(json_string_value(json_object_get(o, "media_url")),
                        "https://example.org/p.jpg");
    json_decref(o);

    /* closed: no expected_datetime; voided and merged are closed too */
    co_state done[] = {CO_ST_CLOSED, CO_ST_VOIDED, CO_ST_MERGED, CO_ST_SUSPENDED};
    for (size_t i = 0; i < 4; i++) {
        c = sample_case(done[i]);
        o = co_open311_request_json(&v);
        assert_null(json_object_get(o, "expected_datetime"));
        assert_string_equal(json_string_value(json_object_get(o, "status")),
                            done[i] == CO_ST_SUSPENDED ? "open" : "closed");
        json_decref(o);
    }
}

/* ------------------------------------------------ services from taxonomy */

static void test_definitions(void **state)
{
    (void)state;
    co_taxonomy *t = load_taxonomy();
    size_t n = co_taxonomy_nsubclasses(t);
    assert_true(n > 50);
    json_t *codes = json_object();
    for (size_t i = 0; i < n; i++) {
        const co_taxonomy_subclass *s = co_taxonomy_subclass_at(t, i);
        json_t *svc = co_open311_service_json(s);
        const char *code = json_string_value(json_object_get(svc, "service_code"));
        assert_non_null(code);
        assert_null(json_object_get(codes, code)); /* unique */
        json_object_set_new(codes, code, json_true());
        assert_true(json_is_true(json_object_get(svc, "metadata")));
        assert_string_equal(json_string_value(json_object_get(svc, "type")), "realtime");
        json_t *def = co_open311_definition_json(t, s);
        assert_string_equal(json_string_value(json_object_get(def, "service_code")), code);
        size_t k;
        json_t *a;
        json_t *orders = json_object();
        json_array_foreach(json_object_get(def, "attributes"), k, a)
        {
            char ord[16];
            json_int_t o = json_integer_value(json_object_get(a, "order"));
            assert_true(o >= 1);
            snprintf(ord, sizeof ord, "%lld", (long long)o);
            assert_null(json_object_get(orders, ord));
            json_object_set_new(orders, ord, json_true());
            const char *dt = json_string_value(json_object_get(a, "datatype"));
            if (!strcmp(dt, "singlevaluelist"))
                assert_true(json_array_size(json_object_get(a, "values")) == 3);
        }
        json_decref(orders);
        json_decref(svc);
        json_decref(def);
    }
    json_decref(codes);
    /* one definition through the XML writer */
    const co_taxonomy_subclass *s = co_taxonomy_find_subclass(t, CO_TAXONOMY_COMPONENT, "0101");
    assert_non_null(s);
    json_t *def = co_open311_definition_json(t, s);
    xmlDocPtr x = to_xml(def, "service_definition");
    assert_xp_text(x, "/service_definition/service_code", "C0101");
    assert_int_equal(xp_count(x, "//attribute"), 3);
    assert_xp_text(x, "//attribute[code='severity']/datatype", "singlevaluelist");
    assert_xp_text(x, "//attribute[code='severity']/values/value[2]/key", "urgent");
    assert_xp_text(x, "//attribute[code='severity']/values/value[2]/name", "紧急 / Urgent");
    assert_xp_text(x, "//attribute[code='note']/datatype", "text");
    assert_xp_text(x, "//attribute[code='filing_condition']/variable", "false");
    xmlFreeDoc(x);
    json_decref(def);
    co_taxonomy_free(t);
}

/* ----------------------------------------------------------- attributes */

static json_t *parse_form(const char *q, co_err want, char *err, size_t errlen)
{
    co_open311_form form = {0};
    assert_int_equal(co_open311_form_parse(q, strlen(q), &form), CO_OK);
    json_t *attrs = NULL;
    co_err rc = co_open311_attrs_parse(&form, &attrs, err, errlen);
    co_open311_form_clear(&form);
    assert_int_equal(rc, want);
    return attrs;
}

static void test_form_parse(void **state)
{
    (void)state;
    co_open311_form f = {0};
    const char *body = "api_key=demo-key&&description=%E4%BA%95%E7%9B%96+gone%0Aline+2"
                       "&attribute%5Bnote%5D%5B%5D=a%2Bb&flag&empty=&lat=40.1&lat=99";
    assert_int_equal(co_open311_form_parse(body, strlen(body), &f), CO_OK);
    assert_int_equal(f.n, 7);
    assert_string_equal(co_open311_form_get(&f, "api_key"), "demo-key");
    assert_string_equal(co_open311_form_get(&f, "description"), "井盖 gone\nline 2");
    assert_string_equal(co_open311_form_get(&f, "attribute[note][]"), "a+b");
    assert_string_equal(co_open311_form_get(&f, "flag"), "");
    assert_string_equal(co_open311_form_get(&f, "empty"), "");
    assert_string_equal(co_open311_form_get(&f, "lat"), "40.1"); /* the first wins */
    assert_null(co_open311_form_get(&f, "missing"));
    co_open311_form_clear(&f);
    assert_int_equal(f.n, 0);
    static const char *const bad[] = {"a=%00b", "a=%FF", "a=%C0%AF", "%E4%BA=1", "a=x%01y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(co_open311_form_parse(bad[i], strlen(bad[i]), &f), CO_EINVAL);
        assert_int_equal(f.n, 0);
    }
    assert_int_equal(co_open311_form_parse("", 0, &f), CO_OK);
    assert_int_equal(f.n, 0);
    char many[4000] = "";
    for (int i = 0; i < 300; i++)
        strcat(many, "a=1&");
    assert_int_equal(co_open311_form_parse(many, strlen(many), &f), CO_ETOOBIG);
    assert_int_equal(f.n, 0);
}

static void test_attrs_parse(void **state)
{
    (void)state;
    char err[CO_OPEN311_ERR_MAX];
    json_t *a = parse_form("service_code=C0101&attribute%5Bseverity%5D=urgent"
                           "&attribute[kinds][]=a&attribute[kinds][]=b+c&attribute[empty]="
                           "&attribute[one][]=x&attribute[twice]=1&attribute[twice]=2"
                           "&attribute[list][]=&lat=1",
                           CO_OK, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "severity")), "urgent");
    json_t *k = json_object_get(a, "kinds");
    assert_true(json_is_array(k));
    assert_int_equal(json_array_size(k), 2);
    assert_string_equal(json_string_value(json_array_get(k, 1)), "b c");
    assert_null(json_object_get(a, "empty"));             /* empty = not sent */
    assert_null(json_object_get(a, "list"));              /* only an empty item */
    assert_true(json_is_array(json_object_get(a, "one"))); /* [] form: always a list */
    assert_int_equal(json_array_size(json_object_get(a, "twice")), 2);
    assert_null(json_object_get(a, "lat"));
    json_decref(a);

    assert_null(parse_form("attribute[sev=1", CO_EINVAL, err, sizeof err));
    assert_non_null(strstr(err, "attribute[sev"));
    assert_null(parse_form("attribute[a][x]=1", CO_EINVAL, err, sizeof err));
    assert_null(parse_form("attribute[]=1", CO_EINVAL, err, sizeof err));
    assert_null(parse_form("attribute[a b]=1", CO_EINVAL, err, sizeof err));
}

static void test_attrs_check(void **state)
{
    (void)state;
    json_t *def = json_pack(
        "{s:s,s:[{s:b,s:s,s:s,s:b,s:i,s:[{s:s,s:s},{s:s,s:s}]},"
        "{s:b,s:s,s:s,s:b,s:i,s:[{s:s,s:s},{s:s,s:s},{s:s,s:s}]},"
        "{s:b,s:s,s:s,s:b,s:i},{s:b,s:s,s:s,s:b,s:i},{s:b,s:s,s:s,s:b,s:i},"
        "{s:b,s:s,s:s,s:b,s:i}]}",
        "service_code", "C0101", "attributes",
        /* 1 */ "variable", 1, "code", "size", "datatype", "singlevaluelist", "required", 1,
        "order", 1, "values", "key", "s", "name", "small", "key", "l", "name", "large",
        /* 2 */ "variable", 1, "code", "kinds", "datatype", "multivaluelist", "required", 0,
        "order", 2, "values", "key", "a", "name", "A", "key", "b", "name", "B", "key", "c", "name",
        "C",
        /* 3 */ "variable", 1, "code", "count", "datatype", "number", "required", 0, "order", 3,
        /* 4 */ "variable", 1, "code", "seen", "datatype", "datetime", "required", 0, "order", 4,
        /* 5 */ "variable", 1, "code", "note", "datatype", "text", "required", 0, "order", 5,
        /* 6 */ "variable", 0, "code", "info", "datatype", "string", "required", 0, "order", 6);
    assert_non_null(def);
    char errs[8][CO_OPEN311_ERR_MAX];

    json_t *ok = json_pack("{s:s,s:[s,s],s:s,s:s,s:s,s:s,s:s}", "size", "l", "kinds", "a", "c",
                           "count", "3.5", "seen", "2026-11-25T08:00:00+08:00", "note",
                           "两行\n文字", "info", "dropped", "fixmystreet_id", "77");
    assert_int_equal(co_open311_attrs_check(def, ok, errs, 8), 0);
    assert_null(json_object_get(ok, "info"));                   /* variable=false: dropped */
    assert_non_null(json_object_get(ok, "fixmystreet_id"));     /* unknown codes are kept */
    json_decref(ok);

    json_t *missing = json_object();
    assert_int_equal(co_open311_attrs_check(def, missing, errs, 8), 1);
    assert_non_null(strstr(errs[0], "attribute[size] is required"));
    json_decref(missing);

    json_t *bad = json_pack("{s:[s,s],s:[s,s],s:s,s:s}", "size", "s", "l", "kinds", "a", "z",
                            "count", "many", "seen", "yesterday");
    assert_int_equal(co_open311_attrs_check(def, bad, errs, 8), 4);
    assert_non_null(strstr(errs[0], "single value"));
    assert_non_null(strstr(errs[1], "attribute[kinds]: z"));
    assert_non_null(strstr(errs[2], "number"));
    assert_non_null(strstr(errs[3], "datetime"));
    json_decref(bad);

    char big[3 * 1001 + 1];
    for (int i = 0; i < 1001; i++)
        memcpy(big + 3 * i, "字", 3);
    big[3 * 1001] = '\0';
    json_t *toolong = json_pack("{s:s,s:s}", "size", "x", "note", big);
    assert_int_equal(co_open311_attrs_check(def, toolong, errs, 1), 2); /* counts beyond max */
    assert_non_null(strstr(errs[0], "not one of the listed keys"));
    json_decref(toolong);
    json_decref(def);
}

static void test_compose_description(void **state)
{
    (void)state;
    char out[CO_TEXT_MAX];
    json_t *attrs = json_pack("{s:s,s:s,s:[s,s]}", "severity", "urgent", "note", "东侧",
                              "kinds", "a", "b");
    co_open311_compose_description("井盖丢了", "上水井盖", attrs, out, sizeof out);
    assert_string_equal(out, "井盖丢了\n补充说明 / note: 东侧\nkinds: a, b");
    co_open311_compose_description(NULL, "上水井盖", attrs, out, sizeof out);
    assert_true(!strncmp(out, "上水井盖\n", strlen("上水井盖\n")));
    /* a long description is cut at a character boundary and keeps the attributes */
    char body[4000 * 3 + 1];
    for (int i = 0; i < 4000; i++)
        memcpy(body + 3 * i, "井", 3);
    body[sizeof body - 1] = '\0';
    co_open311_compose_description(body, "x", attrs, out, sizeof out);
    assert_true(strlen(out) < sizeof out);
    assert_true(co_open311_utf8_chars(out) > 0);
    assert_non_null(strstr(out, "…\n补充说明 / note: 东侧\nkinds: a, b"));
    json_decref(attrs);
    json_t *none = json_object();
    co_open311_compose_description("short", "x", none, out, 8);
    assert_string_equal(out, "short");
    co_open311_compose_description("0123456789", "x", none, out, 8);
    assert_string_equal(out, "0123…");
    json_decref(none);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_int_equal(co_open311_utf8_chars(""), 0);
    assert_int_equal(co_open311_utf8_chars("abc"), 3);
    assert_int_equal(co_open311_utf8_chars("Bærum 🚧 井"), 9);
    assert_int_equal(co_open311_utf8_chars("\xff"), -1);
    assert_int_equal(co_open311_utf8_chars("\xc0\xaf"), -1);       /* overlong */
    assert_int_equal(co_open311_utf8_chars("\xed\xa0\x80"), -1);   /* surrogate */
    assert_int_equal(co_open311_utf8_chars("\xe4\xba"), -1);       /* cut short */
    char fix[] = "ok \xff 井\xe4\xba";
    co_open311_utf8_fix(fix);
    assert_string_equal(fix, "ok ? 井??");
}

/* ------------------------------------------------------------ API keys */

static void test_token_bucket(void **state)
{
    (void)state;
    co_apikey_rate rate = {10, 5};
    co_apikey_bucket b;
    int retry = 0;
    co_apikey_bucket_init(&b, rate, 1000);
    for (int i = 0; i < 5; i++)
        assert_true(co_apikey_bucket_take(&b, rate, 1000, &retry)); /* the burst */
    assert_false(co_apikey_bucket_take(&b, rate, 1000, &retry));
    assert_int_equal(retry, 1);
    assert_false(co_apikey_bucket_take(&b, rate, 1050, &retry)); /* half a token */
    assert_true(co_apikey_bucket_take(&b, rate, 1100, &retry));  /* 100 ms = 1 token */
    assert_false(co_apikey_bucket_take(&b, rate, 1100, &retry));
    /* a long pause refills to the burst, not beyond */
    int ok = 0;
    while (co_apikey_bucket_take(&b, rate, 600000, &retry))
        ok++;
    assert_int_equal(ok, 5);
    /* a clock going backwards refills nothing */
    assert_false(co_apikey_bucket_take(&b, rate, 1000, &retry));
    /* slow rates: Retry-After rounds up to whole seconds */
    co_apikey_rate slow = {0.25, 1};
    co_apikey_bucket_init(&b, slow, 0);
    assert_true(co_apikey_bucket_take(&b, slow, 0, &retry));
    assert_false(co_apikey_bucket_take(&b, slow, 0, &retry));
    assert_int_equal(retry, 4);
    assert_false(co_apikey_bucket_take(&b, slow, 3500, &retry));
    assert_int_equal(retry, 1);
    assert_true(co_apikey_bucket_take(&b, slow, 4000, &retry));
}

static void test_key_values(void **state)
{
    (void)state;
    char k1[CO_APIKEY_MAX], k2[CO_APIKEY_MAX], h1[CO_APIKEY_HASH_HEX], h2[CO_APIKEY_HASH_HEX],
        h3[CO_APIKEY_HASH_HEX], prefix[CO_APIKEY_PREFIX_MAX + 4];
    assert_int_equal(co_apikey_generate(k1), CO_OK);
    assert_int_equal(co_apikey_generate(k2), CO_OK);
    assert_int_equal(strlen(k1), 45);
    assert_true(!strncmp(k1, "o311_", 5));
    assert_string_not_equal(k1, k2);
    assert_true(co_apikey_valid(k1));
    assert_true(co_apikey_valid("demo-key"));
    assert_false(co_apikey_valid("abc"));
    assert_false(co_apikey_valid("has space"));
    assert_false(co_apikey_valid(NULL));
    co_apikey_hash("salt-a", "demo-key", h1);
    co_apikey_hash("salt-a", "demo-key", h2);
    co_apikey_hash("salt-b", "demo-key", h3);
    assert_int_equal(strlen(h1), 64);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_null(strstr(h1, "demo"));
    co_apikey_prefix("demo-key", prefix);
    assert_string_equal(prefix, "demo…");
    co_apikey_prefix(k1, prefix);
    assert_int_equal(strlen(prefix), 10 + strlen("…"));
    assert_true(co_apikey_name_valid("fixmystreet"));
    assert_true(co_apikey_name_valid("市民 App"));
    assert_false(co_apikey_name_valid(""));
    assert_false(co_apikey_name_valid("a\nb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_services_list),
        cmocka_unit_test(test_xml_nested_lists_and_scalars),
        cmocka_unit_test(test_xml_requests_and_errors),
        cmocka_unit_test(test_xml_control_characters),
        cmocka_unit_test(test_item_names),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_request_view),
        cmocka_unit_test(test_definitions),
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_attrs_parse),
        cmocka_unit_test(test_attrs_check),
        cmocka_unit_test(test_compose_description),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_key_values),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
