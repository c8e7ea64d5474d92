/* test_taxonomy.c — unit tests of src/domain/taxonomy.c: the shipped default
 * taxonomy (share/taxonomy/default.json, checked against share/departments.json),
 * lookups, limit parsing, every validation error on small inline documents,
 * and the JSON round trip. Run from the repository root. Each test loads and
 * frees its own taxonomy and json_t documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "domain/taxonomy.h"

#define DEFAULT_PATH "share/taxonomy/default.json"
#define DEPTS_PATH "share/departments.json"

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        fail_msg("%s:%d:%d: %s", path, je.line, je.column, je.text);
    return doc;
}

static co_taxonomy *load_default(void)
{
    char err[256] = "";
    co_taxonomy *t = NULL;
    json_t *depts = load_json(DEPTS_PATH);
    co_err rc = co_taxonomy_load_file(DEFAULT_PATH, depts, &t, err, sizeof err);
    json_decref(depts);
    if (rc != CO_OK)
        fail_msg("%s: %s", co_err_str(rc), err);
    return t;
}

/* ------------------------------------------------------------ default data */

static void test_default_counts(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    size_t ncomp = 0, nevent = 0;
    assert_int_equal(co_taxonomy_version(t), 1);
    assert_true(co_taxonomy_nsubclasses(t) >= 70);
    for (size_t i = 0; i < co_taxonomy_nsubclasses(t); i++) {
        if (co_taxonomy_subclass_at(t, i)->kind == CO_TAXONOMY_COMPONENT)
            ncomp++;
        else
            nevent++;
    }
    assert_true(ncomp >= 30);
    assert_true(nevent >= 35);
    assert_null(co_taxonomy_subclass_at(t, co_taxonomy_nsubclasses(t)));
    co_taxonomy_free(t);
}

static void test_default_classes(void **state)
{
    (void)state;
    static const struct {
        co_taxonomy_kind kind;
        const char *code, *name;
    } want[] = {
        {CO_TAXONOMY_COMPONENT, "01", "公用设施"}, {CO_TAXONOMY_COMPONENT, "02", "道路交通"},
        {CO_TAXONOMY_COMPONENT, "03", "市容环境"}, {CO_TAXONOMY_COMPONENT, "04", "园林绿化"},
        {CO_TAXONOMY_COMPONENT, "05", "房屋土地"}, {CO_TAXONOMY_COMPONENT, "06", "其他设施"},
        {CO_TAXONOMY_EVENT, "01", "市容环境"},     {CO_TAXONOMY_EVENT, "02", "宣传广告"},
        {CO_TAXONOMY_EVENT, "03", "施工管理"},     {CO_TAXONOMY_EVENT, "04", "街面秩序"},
        {CO_TAXONOMY_EVENT, "05", "突发事件"},     {CO_TAXONOMY_EVENT, "06", "其他事件"},
    };
    co_taxonomy *t = load_default();
    assert_int_equal(co_taxonomy_nclasses(t), 12);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const co_taxonomy_class *k = co_taxonomy_find_class(t, want[i].kind, want[i].code);
        assert_non_null(k);
        assert_ptr_equal(k, co_taxonomy_class_at(t, i)); /* listed by kind, then code */
        assert_string_equal(k->name, want[i].name);
        assert_true(k->name_en[0] != '\0');
        assert_true(k->count >= 2);
        for (uint32_t j = k->first; j < k->first + k->count; j++)
            assert_ptr_equal(co_taxonomy_subclass_at(t, j)->cls, k);
    }
    co_taxonomy_free(t);
}

static void test_default_subclasses_complete(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    for (size_t i = 0; i < co_taxonomy_nsubclasses(t); i++) {
        const co_taxonomy_subclass *s = co_taxonomy_subclass_at(t, i);
        char where[64];
        snprintf(where, sizeof where, "%s %s", co_taxonomy_kind_code(s->kind), s->code);
        assert_int_equal(strlen(s->code), 4);
        assert_memory_equal(s->code, s->cls->code, 2);
        assert_int_equal(s->kind, s->cls->kind);
        assert_true(strlen(s->name) >= 3);     /* at least one CJK character */
        assert_true(strlen(s->name_en) >= 3);
        if (strlen(s->filing) < 15 || strlen(s->closing) < 15)
            fail_msg("%s: filing/closing text too short", where);
        if (s->nkeywords < 5 || s->nkeywords > 12)
            fail_msg("%s: %u keywords, want 5-12", where, (unsigned)s->nkeywords);
        uint32_t n = co_taxonomy_limit_minutes(s->limits[CO_TAXONOMY_SEV_NORMAL]);
        uint32_t u = co_taxonomy_limit_minutes(s->limits[CO_TAXONOMY_SEV_URGENT]);
        uint32_t c = co_taxonomy_limit_minutes(s->limits[CO_TAXONOMY_SEV_CRITICAL]);
        if (!(c > 0 && c <= u && u <= n))
            fail_msg("%s: limits out of order (%u, %u, %u minutes)", where, n, u, c);
        assert_ptr_equal(co_taxonomy_find_subclass(t, s->kind, s->code), s);
    }
    co_taxonomy_free(t);
}

/* Keywords feed a classifier, so one keyword should point at one subclass. */
static void test_default_keywords_distinct(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    size_t n = co_taxonomy_nsubclasses(t);
    for (size_t i = 0; i < n; i++) {
        const co_taxonomy_subclass *a = co_taxonomy_subclass_at(t, i);
        for (size_t k = 0; k < a->nkeywords; k++)
            for (size_t j = i + 1; j < n; j++) {
                const co_taxonomy_subclass *b = co_taxonomy_subclass_at(t, j);
                for (size_t m = 0; m < b->nkeywords; m++)
                    if (strcmp(a->keywords[k], b->keywords[m]) == 0)
                        fail_msg("keyword %s in %s and %s", a->keywords[k], a->code, b->code);
            }
    }
    co_taxonomy_free(t);
}

static void test_default_dept_types(void **state)
{
    (void)state;
    json_t *depts = load_json(DEPTS_PATH);
    json_t *types = json_object_get(depts, "types");
    json_t *list = json_object_get(depts, "departments");
    assert_true(json_is_array(types) && json_array_size(types) >= 14);
    assert_true(json_is_array(list) && json_array_size(list) >= 14);
    co_taxonomy *t = load_default();
    for (size_t i = 0; i < co_taxonomy_nsubclasses(t); i++) {
        const co_taxonomy_subclass *s = co_taxonomy_subclass_at(t, i);
        int found = 0;
        size_t j;
        json_t *ty;
        json_array_foreach(types, j, ty)
            found |= strcmp(json_string_value(json_object_get(ty, "code")), s->dept_type) == 0;
        if (!found)
            fail_msg("%s: dept_type %s not in %s", s->code, s->dept_type, DEPTS_PATH);
    }
    /* Every department has a known type, a level, and districts are 6 digits. */
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        const char *type = json_string_value(json_object_get(d, "type"));
        const char *level = json_string_value(json_object_get(d, "level"));
        int found = 0;
        size_t j;
        json_t *ty;
        assert_non_null(json_string_value(json_object_get(d, "code")));
        assert_non_null(json_string_value(json_object_get(d, "name")));
        assert_non_null(type);
        assert_non_null(level);
        json_array_foreach(types, j, ty)
            found |= strcmp(json_string_value(json_object_get(ty, "code")), type) == 0;
        assert_true(found);
        if (strcmp(level, "district") == 0) {
            const char *dist = json_string_value(json_object_get(d, "district"));
            assert_non_null(dist);
            assert_int_equal(strlen(dist), 6);
            assert_memory_equal(dist, "1501", 4); /* 呼和浩特市 */
        } else {
            assert_string_equal(level, "city");
        }
    }
    /* The loader accepts the "types" array and a plain list of codes as well. */
    char err[256];
    co_taxonomy *t2 = NULL;
    assert_int_equal(co_taxonomy_load_file(DEFAULT_PATH, types, &t2, err, sizeof err), CO_OK);
    co_taxonomy_free(t2);
    json_t *codes = json_pack("[s]", "water");
    assert_int_equal(co_taxonomy_load_file(DEFAULT_PATH, codes, &t2, err, sizeof err), CO_EINVAL);
    assert_null(t2);
    assert_non_null(strstr(err, "unknown department type"));
    json_decref(codes);
    co_taxonomy_free(t);
    json_decref(depts);
}

static void test_default_request_types(void **state)
{
    (void)state;
    static const char *const want[][2] = {
        {"consult", "咨询"}, {"help", "求助"},       {"complaint", "投诉"},
        {"report", "举报"},  {"suggestion", "建议"}, {"praise", "表扬"},
    };
    co_taxonomy *t = load_default();
    assert_int_equal(co_taxonomy_nrequest_types(t), 6);
    for (size_t i = 0; i < 6; i++) {
        const co_taxonomy_request_type *r = co_taxonomy_find_request_type(t, want[i][0]);
        assert_non_null(r);
        assert_ptr_equal(r, co_taxonomy_request_type_at(t, i));
        assert_string_equal(r->name, want[i][1]);
        assert_true(r->limit.value > 0);
    }
    const co_taxonomy_request_type *c = co_taxonomy_find_request_type(t, "consult");
    assert_int_equal(c->limit.value, 2);
    assert_int_equal(c->limit.unit, 'd');
    assert_null(co_taxonomy_find_request_type(t, "nosuch"));
    assert_null(co_taxonomy_find_request_type(t, NULL));
    assert_null(co_taxonomy_request_type_at(t, 6));
    co_taxonomy_free(t);
}

static void test_default_severities(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    assert_string_equal(co_taxonomy_severity_of(t, CO_TAXONOMY_SEV_NORMAL)->name, "一般");
    assert_string_equal(co_taxonomy_severity_of(t, CO_TAXONOMY_SEV_URGENT)->name, "紧急");
    assert_string_equal(co_taxonomy_severity_of(t, CO_TAXONOMY_SEV_CRITICAL)->name, "特急");
    assert_ptr_equal(co_taxonomy_find_severity(t, "urgent"),
                     co_taxonomy_severity_of(t, CO_TAXONOMY_SEV_URGENT));
    assert_int_equal(co_taxonomy_find_severity(t, "critical")->sev, CO_TAXONOMY_SEV_CRITICAL);
    assert_null(co_taxonomy_find_severity(t, "high"));
    assert_null(co_taxonomy_severity_of(t, CO_TAXONOMY_NSEV));
    co_taxonomy_sev sev;
    assert_int_equal(co_taxonomy_sev_parse("normal", &sev), CO_OK);
    assert_int_equal(sev, CO_TAXONOMY_SEV_NORMAL);
    assert_int_equal(co_taxonomy_sev_parse("Normal", &sev), CO_EINVAL);
    assert_string_equal(co_taxonomy_sev_code(CO_TAXONOMY_SEV_CRITICAL), "critical");
    co_taxonomy_free(t);
}

static void test_lookups(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    const co_taxonomy_subclass *s = co_taxonomy_find_subclass(t, CO_TAXONOMY_COMPONENT, "0101");
    assert_non_null(s);
    assert_string_equal(s->name, "上水井盖");
    assert_string_equal(s->dept_type, "water");
    assert_string_equal(s->cls->name, "公用设施");
    s = co_taxonomy_find_subclass(t, CO_TAXONOMY_EVENT, "0101");
    assert_non_null(s);
    assert_string_equal(s->name, "私搭乱建");
    s = co_taxonomy_find_subclass(t, CO_TAXONOMY_EVENT, "0102");
    assert_string_equal(s->name, "暴露垃圾");
    assert_int_equal(s->limits[CO_TAXONOMY_SEV_NORMAL].value, 4);
    assert_int_equal(s->limits[CO_TAXONOMY_SEV_NORMAL].unit, 'h');
    s = co_taxonomy_find_subclass(t, CO_TAXONOMY_EVENT, "0507");
    assert_string_equal(s->name, "供暖不热");
    assert_string_equal(s->dept_type, "heating");
    assert_null(co_taxonomy_find_subclass(t, CO_TAXONOMY_EVENT, "0199"));
    assert_null(co_taxonomy_find_subclass(t, CO_TAXONOMY_EVENT, "01"));
    assert_null(co_taxonomy_find_subclass(t, CO_TAXONOMY_COMPONENT, NULL));
    assert_null(co_taxonomy_find_class(t, CO_TAXONOMY_EVENT, "07"));
    assert_null(co_taxonomy_class_at(t, 12));
    co_taxonomy_kind kind;
    assert_int_equal(co_taxonomy_kind_parse("event", &kind), CO_OK);
    assert_int_equal(kind, CO_TAXONOMY_EVENT);
    assert_int_equal(co_taxonomy_kind_parse("部件", &kind), CO_EINVAL);
    assert_string_equal(co_taxonomy_kind_code(CO_TAXONOMY_COMPONENT), "component");
    co_taxonomy_free(t);
}

static void test_refcount(void **state)
{
    (void)state;
    co_taxonomy *t = load_default();
    assert_ptr_equal(co_taxonomy_ref(t), t);
    co_taxonomy_free(t); /* one reference left: still readable */
    assert_non_null(co_taxonomy_find_subclass(t, CO_TAXONOMY_COMPONENT, "0101"));
    co_taxonomy_free(t);
    co_taxonomy_free(NULL);
}

/* ------------------------------------------------------------ limits */

static void test_limit_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        unsigned value;
        char unit;
        uint32_t minutes;
    } good[] = {
        {"4wh", 4, 'h', 240}, {"2wd", 2, 'd', 840}, {"30wm", 30, 'm', 30},
        {"1wd", 1, 'd', 420}, {"15wd", 15, 'd', 6300}, {"3660wd", 3660, 'd', 3660u * 420},
    };
    static const char *const badv[] = {"", "wh", "0wh", "04wh", "4", "4w", "4h", "4WH", "4wx",
                                       "4whh", " 4wh", "4wh ", "-1wh", "3661wd", "99999999999wh",
                                       "4.5wh"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        co_taxonomy_limit lim = {0, 0};
        char buf[16];
        assert_int_equal(co_taxonomy_limit_parse(good[i].s, &lim), CO_OK);
        assert_int_equal(lim.value, good[i].value);
        assert_int_equal(lim.unit, good[i].unit);
        assert_int_equal(co_taxonomy_limit_minutes(lim), good[i].minutes);
        assert_string_equal(co_taxonomy_limit_format(lim, buf, sizeof buf), good[i].s);
    }
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        co_taxonomy_limit lim = {7, 'x'};
        if (co_taxonomy_limit_parse(badv[i], &lim) != CO_EINVAL)
            fail_msg("accepted bad limit \"%s\"", badv[i]);
        assert_int_equal(lim.value, 7); /* untouched */
    }
    co_taxonomy_limit lim;
    assert_int_equal(co_taxonomy_limit_parse(NULL, &lim), CO_EINVAL);
    /* 1 wd = 7 wh for ordering */
    co_taxonomy_limit a = {1, 'd'}, b = {7, 'h'}, c = {8, 'h'};
    assert_int_equal(co_taxonomy_limit_minutes(a), co_taxonomy_limit_minutes(b));
    assert_true(co_taxonomy_limit_minutes(c) > co_taxonomy_limit_minutes(a));
}

/* ------------------------------------------------------------ validation */

#define CLASSES                                                                           \
    "\"classes\":[{\"kind\":\"component\",\"code\":\"01\",\"name\":\"公用设施\","         \
    "\"name_en\":\"Public utilities\"},"                                                  \
    "{\"kind\":\"event\",\"code\":\"01\",\"name\":\"市容环境\",\"name_en\":\"City\"}]"
#define LIMITS "\"limits\":{\"normal\":\"4wh\",\"urgent\":\"2wh\",\"critical\":\"1wh\"}"
/* A subclass with the given kind, class, code, dept type and limits object. */
#define SUB(kind, cls, code, dept, limits)                                                \
    "{\"kind\":\"" kind "\",\"class\":\"" cls "\",\"code\":\"" code "\","                 \
    "\"name\":\"名称\",\"name_en\":\"Name\",\"filing\":\"立案\",\"closing\":\"结案\","    \
    "\"dept_type\":\"" dept "\"," limits "}"
#define COVER SUB("component", "01", "0101", "water", LIMITS)
#define SPRAWL SUB("event", "01", "0101", "chengguan", LIMITS)
#define DOC(subs) "{\"version\":3," CLASSES ",\"subclasses\":[" subs "]}"

static co_err try_load(const char *text, const json_t *depts, char *err, size_t errlen,
                       co_taxonomy **out)
{
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc)
        fail_msg("test document does not parse: %s at %d:%d\n%s", je.text, je.line, je.column, text);
    co_err rc = co_taxonomy_from_json(doc, depts, out, err, errlen);
    json_decref(doc);
    return rc;
}

static void test_valid_minimal(void **state)
{
    (void)state;
    char err[256];
    co_taxonomy *t = NULL;
    assert_int_equal(try_load(DOC(SPRAWL "," COVER), NULL, err, sizeof err, &t), CO_OK);
    assert_int_equal(co_taxonomy_version(t), 3);
    assert_int_equal(co_taxonomy_nsubclasses(t), 2);
    /* Sorted: the component comes first even though the event was listed first. */
    assert_int_equal(co_taxonomy_subclass_at(t, 0)->kind, CO_TAXONOMY_COMPONENT);
    assert_int_equal(co_taxonomy_subclass_at(t, 0)->nkeywords, 0);
    assert_int_equal(co_taxonomy_nrequest_types(t), 0);
    /* Default severity names when the document has none. */
    assert_string_equal(co_taxonomy_severity_of(t, CO_TAXONOMY_SEV_CRITICAL)->name, "特急");
    co_taxonomy_free(t);
}

static void test_validation_errors(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"[]", "must be a JSON object"},
        {"{\"version\":1," CLASSES ",\"subclasses\":[]}", "at least one subclass is required"},
        {"{\"version\":1," CLASSES "}", "subclasses: missing"},
        {"{" CLASSES ",\"subclasses\":[" COVER "]}", "version: must be an integer >= 1"},
        {"{\"version\":0," CLASSES ",\"subclasses\":[" COVER "]}", "version: must be an integer >= 1"},
        {"{\"version\":1,\"classes\":[],\"subclasses\":[" COVER "]}", "classes: must be a non-empty array"},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"extra\":1}",
         "taxonomy: unknown key \"extra\""},
        /* duplicates */
        {DOC(COVER "," SPRAWL "," COVER),
         "subclasses[2]: duplicate component subclass code 0101 (also subclasses[0])"},
        {"{\"version\":1,\"classes\":[{\"kind\":\"event\",\"code\":\"02\",\"name\":\"a\",\"name_en\":\"a\"},"
         "{\"kind\":\"event\",\"code\":\"02\",\"name\":\"b\",\"name_en\":\"b\"}],\"subclasses\":[" SPRAWL "]}",
         "classes[1]: duplicate event class code 02 (also classes[0])"},
        {"{\"version\":1,\"classes\":[{\"kind\":\"event\",\"code\":\"01\",\"name\":\"a\",\"name_en\":\"a\"},"
         "{\"kind\":\"event\",\"code\":\"011\",\"name\":\"b\",\"name_en\":\"b\"}],\"subclasses\":[" SPRAWL "]}",
         "event class code 011 starts with class code 01"},
        /* class membership and codes */
        {DOC(SUB("component", "09", "0901", "water", LIMITS)), "class: unknown component class \"09\""},
        {DOC(SUB("event", "02", "0201", "water", LIMITS)), "unknown event class \"02\""},
        {DOC(SUB("component", "01", "0201", "water", LIMITS)),
         "subclasses[0] (component 0201).code: 0201 does not start with its class code 01"},
        {DOC(SUB("component", "01", "01", "water", LIMITS)), "code: 01 must be longer than its class code 01"},
        {DOC(SUB("component", "01", "01a1", "water", LIMITS)), "code: \"01a1\" is not 2-8 digits"},
        {DOC(SUB("component", "01", "010203040", "water", LIMITS)), "is not 2-8 digits"},
        {DOC(SUB("部件", "01", "0101", "water", LIMITS)), "kind: unknown kind \"部件\""},
        /* limits */
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4xh\",\"urgent\":\"2wh\",\"critical\":\"1wh\"}")),
         "subclasses[0] (component 0101).limits.normal: bad limit \"4xh\""},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4wh\",\"urgent\":\"0wh\",\"critical\":\"1wh\"}")),
         "limits.urgent: bad limit \"0wh\""},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4wh\",\"urgent\":2,\"critical\":\"1wh\"}")),
         "limits.urgent: must be a string"},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4wh\",\"urgent\":\"2wh\"}")),
         "limits: missing \"critical\""},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4wh\",\"urgent\":\"2wh\",\"critical\":\"1wh\",\"low\":\"1wd\"}")),
         "limits: unknown key \"low\""},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"1wd\",\"urgent\":\"8wh\",\"critical\":\"1wh\"}")),
         "urgent limit 8wh is longer than normal limit 1wd"},
        {DOC(SUB("component", "01", "0101", "water",
                 "\"limits\":{\"normal\":\"4wh\",\"urgent\":\"2wh\",\"critical\":\"3wh\"}")),
         "critical limit 3wh is longer than urgent limit 2wh"},
        {DOC(SUB("component", "01", "0101", "water", "\"x_limits\":{}")), "unknown key \"x_limits\""},
        /* names and texts */
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS "}"),
         "subclasses[0] (component 0101): missing \"name\""},
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS "}"),
         "subclasses[0] (component 0101).name: must not be empty"},
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"n\",\"name_en\":\"N\","
             "\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS "}"),
         "missing \"filing\""},
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"n\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\"," LIMITS "}"),
         "missing \"dept_type\""},
        {DOC(SUB("component", "01", "0101", "Water-Co", LIMITS)), "dept_type: \"Water-Co\" is not a type code"},
        {"{\"version\":1,\"classes\":[{\"kind\":\"event\",\"code\":\"01\",\"name_en\":\"a\"}],"
         "\"subclasses\":[" SPRAWL "]}",
         "classes[0] (event 01): missing \"name\""},
        {"{\"version\":1,\"classes\":[{\"kind\":\"event\",\"code\":\"01\",\"name\":\"a\"}],"
         "\"subclasses\":[" SPRAWL "]}",
         "classes[0] (event 01): missing \"name_en\""},
        {"{\"version\":1,\"classes\":[{\"kind\":\"event\",\"code\":\"A1\",\"name\":\"a\",\"name_en\":\"a\"}],"
         "\"subclasses\":[" SPRAWL "]}",
         "classes[0].code: \"A1\" is not 1-6 digits"},
        /* keywords */
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"n\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS
             ",\"keywords\":[\"井盖\",\"井盖\"]}"),
         "keywords[1]: duplicate keyword \"井盖\""},
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"n\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS ",\"keywords\":[\"a\",3]}"),
         "keywords[1]: must be a non-empty string"},
        {DOC("{\"kind\":\"component\",\"class\":\"01\",\"code\":\"0101\",\"name\":\"n\",\"name_en\":\"N\","
             "\"filing\":\"f\",\"closing\":\"c\",\"dept_type\":\"water\"," LIMITS ",\"keywords\":\"井盖\"}"),
         "keywords: must be an array"},
        /* request types and severities */
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"request_types\":["
         "{\"code\":\"consult\",\"name\":\"咨询\",\"name_en\":\"Enquiry\",\"limit\":\"2wd\"},"
         "{\"code\":\"consult\",\"name\":\"咨询\",\"name_en\":\"Enquiry\",\"limit\":\"2wd\"}]}",
         "request_types[1]: duplicate request type code consult (also request_types[0])"},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"request_types\":["
         "{\"code\":\"consult\",\"name\":\"咨询\",\"name_en\":\"Enquiry\",\"limit\":\"two days\"}]}",
         "request_types[0] (consult).limit: bad limit \"two days\""},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"request_types\":["
         "{\"code\":\"consult\",\"name_en\":\"Enquiry\",\"limit\":\"2wd\"}]}",
         "request_types[0] (consult): missing \"name\""},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"severities\":["
         "{\"code\":\"normal\",\"name\":\"一般\"},{\"code\":\"high\",\"name\":\"紧急\"},"
         "{\"code\":\"critical\",\"name\":\"特急\"}]}",
         "severities[1].code: unknown severity \"high\""},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"severities\":["
         "{\"code\":\"normal\",\"name\":\"一般\"},{\"code\":\"normal\",\"name\":\"紧急\"},"
         "{\"code\":\"critical\",\"name\":\"特急\"}]}",
         "severities[1]: duplicate severity normal"},
        {"{\"version\":1," CLASSES ",\"subclasses\":[" COVER "],\"severities\":["
         "{\"code\":\"normal\",\"name\":\"一般\"}]}",
         "severities: must be an array of normal, urgent and critical"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        co_taxonomy *t = (co_taxonomy *)&err; /* must be reset to NULL */
        co_err rc = try_load(cases[i].doc, NULL, err, sizeof err, &t);
        if (rc != CO_EINVAL || t != NULL)
            fail_msg("case %zu: rc=%s, want invalid (\"%s\")", i, co_err_str(rc), cases[i].want);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: error \"%s\" does not contain \"%s\"", i, err, cases[i].want);
    }
}

static void test_validation_dept_types(void **state)
{
    (void)state;
    char err[256];
    co_taxonomy *t = NULL;
    json_t *depts = json_pack("{s:[{s:s},{s:s}]}", "types", "code", "water", "code", "chengguan");
    assert_int_equal(try_load(DOC(COVER "," SPRAWL), depts, err, sizeof err, &t), CO_OK);
    co_taxonomy_free(t);
    assert_int_equal(try_load(DOC(COVER "," SUB("event", "01", "0102", "nosuch", LIMITS)), depts, err,
                             sizeof err, &t),
                     CO_EINVAL);
    assert_string_equal(err, "subclasses[1] (event 0102).dept_type: unknown department type \"nosuch\"");
    /* Without a dept-type list the same document loads. */
    assert_int_equal(try_load(DOC(COVER "," SUB("event", "01", "0102", "nosuch", LIMITS)), NULL, err,
                             sizeof err, &t),
                     CO_OK);
    co_taxonomy_free(t);
    json_t *junk = json_integer(5);
    assert_int_equal(try_load(DOC(COVER), junk, err, sizeof err, &t), CO_EINVAL);
    assert_non_null(strstr(err, "dept types"));
    json_decref(junk);
    json_decref(depts);
}

static void test_error_buffer(void **state)
{
    (void)state;
    char small[8];
    co_taxonomy *t = NULL;
    memset(small, 'x', sizeof small);
    assert_int_equal(try_load(DOC(COVER "," COVER), NULL, small, sizeof small, &t), CO_EINVAL);
    assert_int_equal(strlen(small), 7); /* truncated, terminated */
    assert_int_equal(try_load(DOC(COVER "," COVER), NULL, NULL, 0, &t), CO_EINVAL);
    assert_null(t);
    char err[256];
    assert_int_equal(co_taxonomy_load_file("share/taxonomy/does-not-exist.json", NULL, &t, err,
                                           sizeof err),
                     CO_EIO);
    assert_non_null(strstr(err, "does-not-exist.json"));
    /* A file that is not JSON: message with the position. */
    assert_int_equal(co_taxonomy_load_file("tests/unit/test_taxonomy.c", NULL, &t, err, sizeof err),
                     CO_EINVAL);
    assert_non_null(strstr(err, "tests/unit/test_taxonomy.c:1:"));
    assert_null(t);
    assert_int_equal(co_taxonomy_from_json(NULL, NULL, NULL, NULL, 0), CO_EINVAL);
}

/* ------------------------------------------------------------ round trip */

static void test_round_trip(void **state)
{
    (void)state;
    char err[256];
    co_taxonomy *t = load_default(), *t2 = NULL;
    json_t *file = load_json(DEFAULT_PATH), *out = NULL, *out2 = NULL;
    assert_int_equal(co_taxonomy_to_json(t, &out), CO_OK);
    /* The shipped file is in canonical order, so it comes back identical. */
    if (!json_equal(file, out)) {
        char *a = json_dumps(out, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fail_msg("to_json differs from %s:\n%.2000s", DEFAULT_PATH, a);
    }
    assert_int_equal(co_taxonomy_from_json(out, NULL, &t2, err, sizeof err), CO_OK);
    assert_int_equal(co_taxonomy_to_json(t2, &out2), CO_OK);
    assert_true(json_equal(out, out2));
    assert_int_equal(co_taxonomy_nsubclasses(t2), co_taxonomy_nsubclasses(t));

    /* An admin edit: change one limit, bump the version, reload. The old
     * taxonomy is unaffected (cases filed under version 1 keep its rules). */
    json_t *subs = json_object_get(out2, "subclasses");
    json_t *first = json_array_get(subs, 0);
    json_object_set_new(json_object_get(first, "limits"), "normal", json_string("6wh"));
    json_object_set_new(out2, "version", json_integer(2));
    co_taxonomy *t3 = NULL;
    assert_int_equal(co_taxonomy_from_json(out2, NULL, &t3, err, sizeof err), CO_OK);
    assert_int_equal(co_taxonomy_version(t3), 2);
    assert_int_equal(co_taxonomy_subclass_at(t3, 0)->limits[CO_TAXONOMY_SEV_NORMAL].value, 6);
    assert_int_equal(co_taxonomy_subclass_at(t, 0)->limits[CO_TAXONOMY_SEV_NORMAL].value, 4);

    /* A minimal document round-trips too (no keywords, default severities). */
    co_taxonomy *t4 = NULL;
    json_t *out4 = NULL;
    assert_int_equal(try_load(DOC(SPRAWL), NULL, err, sizeof err, &t4), CO_OK);
    assert_int_equal(co_taxonomy_to_json(t4, &out4), CO_OK);
    assert_int_equal(json_array_size(json_object_get(out4, "severities")), 3);
    co_taxonomy *t5 = NULL;
    assert_int_equal(co_taxonomy_from_json(out4, NULL, &t5, err, sizeof err), CO_OK);
    assert_int_equal(co_taxonomy_nsubclasses(t5), 1);

    co_taxonomy_free(t5);
    json_decref(out4);
    co_taxonomy_free(t4);
    co_taxonomy_free(t3);
    co_taxonomy_free(t2);
    co_taxonomy_free(t);
    json_decref(out2);
    json_decref(out);
    json_decref(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_counts),
        cmocka_unit_test(test_default_classes),
        cmocka_unit_test(test_default_subclasses_complete),
        cmocka_unit_test(test_default_keywords_distinct),
        cmocka_unit_test(test_default_dept_types),
        cmocka_unit_test(test_default_request_types),
        cmocka_unit_test(test_default_severities),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_limit_parse),
        cmocka_unit_test(test_valid_minimal),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_validation_dept_types),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
