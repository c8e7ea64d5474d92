/* taxonomy.c — loads, validates, looks up and serialises the taxonomy.
 * Owns struct co_taxonomy and everything in it: the class, subclass and
 * request-type arrays (co_x* allocations) and an arena of blocks holding every
 * string and keyword array. The loader never keeps a reference to the caller's
 * json_t. The last co_taxonomy_free() releases the arrays and the arena. */
#include "domain/taxonomy.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

/* Hard limits on what a document may hold (an admin uploads it). */
#define MAX_CLASSES 1000u
#define MAX_SUBCLASSES 100000u
#define MAX_REQUEST_TYPES 64u
#define MAX_KEYWORDS 64u
#define MAX_NAME 200u     /* bytes of UTF-8 */
#define MAX_TEXT 4000u    /* filing / closing */
#define MAX_KEYWORD 64u
#define MAX_IDENT 32u     /* dept_type, request type code */
#define ARENA_BLOCK 16384u

/* ---------------------------------------------------------------- arena */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
} arena_block;

typedef struct arena {
    arena_block *head;
} arena;

static void *arena_alloc(arena *a, size_t n, size_t align)
{
    arena_block *b = a->head;
    if (b) {
        size_t off = (b->used + align - 1) & ~(align - 1);
        if (off <= b->cap && n <= b->cap - off) {
            b->used = off + n;
            return (unsigned char *)b->data + off;
        }
    }
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    arena_block *nb = co_xmalloc(sizeof *nb + cap);
    nb->cap = cap;
    nb->used = n;
    if (b && n > ARENA_BLOCK) { /* oversized: keep filling the current block */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    return nb->data;
}

static const char *arena_strdup(arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(a, n, 1);
    memcpy(p, s, n);
    return p;
}

static void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        co_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---------------------------------------------------------------- the object */

struct co_taxonomy {
    atomic_uint refs;
    int64_t version;
    co_taxonomy_class *classes;
    size_t nclasses;
    co_taxonomy_subclass *subs;
    size_t nsubs;
    co_taxonomy_request_type *rtypes;
    size_t nrtypes;
    co_taxonomy_severity sevs[CO_TAXONOMY_NSEV];
    arena strings;
};

static const char *const kind_codes[] = {"component", "event"};
static const char *const sev_codes[CO_TAXONOMY_NSEV] = {"normal", "urgent", "critical"};
static const char *const sev_default_names[CO_TAXONOMY_NSEV] = {"一般", "紧急", "特急"};
static const char *const sev_default_en[CO_TAXONOMY_NSEV] = {"Normal", "Urgent", "Critical"};

const char *co_taxonomy_kind_code(co_taxonomy_kind kind)
{
    return (unsigned)kind < 2 ? kind_codes[kind] : "?";
}

co_err co_taxonomy_kind_parse(const char *s, co_taxonomy_kind *out)
{
    for (unsigned i = 0; s && i < 2; i++)
        if (strcmp(s, kind_codes[i]) == 0) {
            *out = (co_taxonomy_kind)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_taxonomy_sev_code(co_taxonomy_sev sev)
{
    return (unsigned)sev < CO_TAXONOMY_NSEV ? sev_codes[sev] : "?";
}

co_err co_taxonomy_sev_parse(const char *s, co_taxonomy_sev *out)
{
    for (unsigned i = 0; s && i < CO_TAXONOMY_NSEV; i++)
        if (strcmp(s, sev_codes[i]) == 0) {
            *out = (co_taxonomy_sev)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

/* ---------------------------------------------------------------- limits */

co_err co_taxonomy_limit_parse(const char *s, co_taxonomy_limit *out)
{
    if (!s || !out || s[0] < '1' || s[0] > '9')
        return CO_EINVAL;
    uint32_t v = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (uint32_t)(s[i] - '0');
        if (v > CO_TAXONOMY_LIMIT_MAX)
            return CO_EINVAL;
    }
    if (s[i] != 'w')
        return CO_EINVAL;
    char u = s[i + 1];
    if ((u != 'm' && u != 'h' && u != 'd') || s[i + 2] != '\0')
        return CO_EINVAL;
    out->value = (uint16_t)v;
    out->unit = u;
    return CO_OK;
}

char *co_taxonomy_limit_format(co_taxonomy_limit lim, char *buf, size_t n)
{
    if (n)
        snprintf(buf, n, "%uw%c", (unsigned)lim.value, lim.unit);
    return buf;
}

uint32_t co_taxonomy_limit_minutes(co_taxonomy_limit lim)
{
    uint32_t per = lim.unit == 'd' ? CO_TAXONOMY_WD_MINUTES : lim.unit == 'h' ? 60 : 1;
    return lim.value * per;
}

/* ---------------------------------------------------------------- validation helpers */

typedef struct ctx {
    char *err;
    size_t errlen;
    arena *a;
    const char **depts; /* dept type codes (borrowed from caller's json), or NULL */
    size_t ndepts;
} ctx;

static co_err bad(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static co_err bad(ctx *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return CO_EINVAL;
}

/* Rejects keys outside allowed (NULL-terminated): catches typos in admin edits. */
static co_err check_keys(ctx *c, const json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return bad(c, "%s: unknown key \"%.40s\"", where, key);
    }
    return CO_OK;
}

/* Fetches obj[key] as a non-empty string of at most maxlen bytes. A missing
 * optional key gives *out = NULL. */
static co_err get_str(ctx *c, const json_t *obj, const char *where, const char *key,
                      size_t maxlen, bool required, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return bad(c, "%s: missing \"%s\"", where, key);
        return CO_OK;
    }
    if (!json_is_string(v))
        return bad(c, "%s.%s: must be a string", where, key);
    size_t n = json_string_length(v);
    if (n == 0)
        return bad(c, "%s.%s: must not be empty", where, key);
    if (n > maxlen)
        return bad(c, "%s.%s: longer than %zu bytes", where, key, maxlen);
    if (strlen(json_string_value(v)) != n)
        return bad(c, "%s.%s: contains a NUL character", where, key);
    *out = json_string_value(v);
    return CO_OK;
}

/* As get_str, then copies into the arena. */
static co_err get_text(ctx *c, const json_t *obj, const char *where, const char *key,
                       size_t maxlen, bool required, const char **out)
{
    const char *s;
    co_err rc = get_str(c, obj, where, key, maxlen, required, &s);
    if (rc != CO_OK)
        return rc;
    *out = s ? arena_strdup(c->a, s) : NULL;
    return CO_OK;
}

static bool is_digits(const char *s, size_t minlen, size_t maxlen)
{
    size_t n = strlen(s);
    if (n < minlen || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_ident(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return *s != '\0';
}

static co_err get_kind(ctx *c, const json_t *obj, const char *where, co_taxonomy_kind *out)
{
    const char *s;
    co_err rc = get_str(c, obj, where, "kind", MAX_IDENT, true, &s);
    if (rc != CO_OK)
        return rc;
    if (co_taxonomy_kind_parse(s, out) != CO_OK)
        return bad(c, "%s.kind: unknown kind \"%.40s\" (want component or event)", where, s);
    return CO_OK;
}

static co_err get_limit(ctx *c, const json_t *obj, const char *where, const char *key,
                        co_taxonomy_limit *out)
{
    const char *s;
    co_err rc = get_str(c, obj, where, key, MAX_IDENT, true, &s);
    if (rc != CO_OK)
        return rc;
    if (co_taxonomy_limit_parse(s, out) != CO_OK)
        return bad(c, "%s.%s: bad limit \"%.40s\" (want a number 1-%u then wm, wh or wd, e.g. \"4wh\")",
                   where, key, s, (unsigned)CO_TAXONOMY_LIMIT_MAX);
    return CO_OK;
}

/* Collects the dept type codes from departments.json, its "types" array, or
 * an array of strings. The pointers borrow from the caller's json. */
static co_err collect_depts(ctx *c, const json_t *dt)
{
    if (json_is_object(dt))
        dt = json_object_get(dt, "types");
    if (!json_is_array(dt))
        return bad(c, "dept types: want the departments document, its \"types\" array or an array of codes");
    size_t n = json_array_size(dt);
    c->depts = co_xcalloc(n ? n : 1, sizeof *c->depts);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(dt, i);
        if (json_is_object(e))
            e = json_object_get(e, "code");
        if (!json_is_string(e))
            return bad(c, "dept types[%zu]: want a code string or an object with \"code\"", i);
        c->depts[c->ndepts++] = json_string_value(e);
    }
    return CO_OK;
}

static bool dept_known(const ctx *c, const char *code)
{
    for (size_t i = 0; i < c->ndepts; i++)
        if (strcmp(c->depts[i], code) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- ordering */

static int cmp_kind_code(uint8_t ka, const char *ca, uint8_t kb, const char *cb)
{
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return strcmp(ca, cb);
}

/* Sort records by (kind, code, original index) through a permutation so a
 * duplicate can name both positions. */
typedef struct perm_ent {
    uint8_t kind;
    const char *code;
    size_t idx;
} perm_ent;

static int cmp_perm(const void *a, const void *b)
{
    const perm_ent *x = a, *y = b;
    int r = cmp_kind_code(x->kind, x->code, y->kind, y->code);
    if (r)
        return r;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* ---------------------------------------------------------------- parsing */

static const char *const top_keys[] = {"version", "classes", "subclasses", "request_types",
                                       "severities", NULL};
static const char *const class_keys[] = {"kind", "code", "name", "name_en", NULL};
static const char *const sub_keys[] = {"kind", "class", "code", "name", "name_en", "filing",
                                       "closing", "dept_type", "limits", "keywords", NULL};
static const char *const limit_keys[] = {"normal", "urgent", "critical", NULL};
static const char *const rtype_keys[] = {"code", "name", "name_en", "limit", NULL};
static const char *const sev_keys[] = {"code", "name", "name_en", NULL};

static co_err parse_classes(ctx *c, const json_t *arr, co_taxonomy *t)
{
    co_err rc = CO_OK;
    co_taxonomy_class *tmp = NULL;
    perm_ent *perm = NULL;
    char where[64];

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(c, "classes: must be a non-empty array");
    size_t n = json_array_size(arr);
    if (n > MAX_CLASSES)
        return bad(c, "classes: more than %u classes", MAX_CLASSES);
    tmp = co_xcalloc(n, sizeof *tmp);
    perm = co_xcalloc(n, sizeof *perm);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        co_taxonomy_class *k = &tmp[i];
        co_taxonomy_kind kind;
        const char *code;
        snprintf(where, sizeof where, "classes[%zu]", i);
        if (!json_is_object(o)) {
            rc = bad(c, "%s: must be an object", where);
            goto out;
        }
        if ((rc = check_keys(c, o, where, class_keys)) != CO_OK ||
            (rc = get_kind(c, o, where, &kind)) != CO_OK ||
            (rc = get_str(c, o, where, "code", MAX_IDENT, true, &code)) != CO_OK)
            goto out;
        if (!is_digits(code, 1, CO_TAXONOMY_CLASS_CODE_MAX)) {
            rc = bad(c, "%s.code: \"%.40s\" is not 1-%d digits", where, code, CO_TAXONOMY_CLASS_CODE_MAX);
            goto out;
        }
        snprintf(where, sizeof where, "classes[%zu] (%s %s)", i, kind_codes[kind], code);
        if ((rc = get_text(c, o, where, "name", MAX_NAME, true, &k->name)) != CO_OK ||
            (rc = get_text(c, o, where, "name_en", MAX_NAME, true, &k->name_en)) != CO_OK)
            goto out;
        k->kind = (uint8_t)kind;
        memcpy(k->code, code, strlen(code) + 1);
        perm[i] = (perm_ent){k->kind, k->code, i};
    }
    qsort(perm, n, sizeof *perm, cmp_perm);
    for (size_t i = 1; i < n; i++) {
        const perm_ent *p = &perm[i - 1], *q = &perm[i];
        if (p->kind != q->kind)
            continue;
        if (strcmp(p->code, q->code) == 0) {
            rc = bad(c, "classes[%zu]: duplicate %s class code %s (also classes[%zu])", q->idx,
                     kind_codes[q->kind], q->code, p->idx);
            goto out;
        }
        /* A class code that prefixes another would make subclass codes ambiguous. */
        if (strncmp(p->code, q->code, strlen(p->code)) == 0) {
            rc = bad(c, "classes[%zu]: %s class code %s starts with class code %s (classes[%zu])",
                     q->idx, kind_codes[q->kind], q->code, p->code, p->idx);
            goto out;
        }
    }
    t->classes = co_xcalloc(n, sizeof *t->classes);
    for (size_t i = 0; i < n; i++)
        t->classes[i] = tmp[perm[i].idx];
    t->nclasses = n;
out:
    co_free(perm);
    co_free(tmp);
    return rc;
}

static co_err parse_keywords(ctx *c, const json_t *o, const char *where, co_taxonomy_subclass *s)
{
    const json_t *kw = json_object_get(o, "keywords");
    if (!kw)
        return CO_OK;
    if (!json_is_array(kw))
        return bad(c, "%s.keywords: must be an array of strings", where);
    size_t n = json_array_size(kw);
    if (n > MAX_KEYWORDS)
        return bad(c, "%s.keywords: more than %u keywords", where, MAX_KEYWORDS);
    if (n == 0)
        return CO_OK;
    const char **list = arena_alloc(c->a, n * sizeof *list, _Alignof(const char *));
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(kw, i);
        if (!json_is_string(e) || json_string_length(e) == 0 ||
            json_string_length(e) > MAX_KEYWORD || strlen(json_string_value(e)) != json_string_length(e))
            return bad(c, "%s.keywords[%zu]: must be a non-empty string of at most %u bytes", where, i,
                       MAX_KEYWORD);
        const char *w = json_string_value(e);
        for (size_t j = 0; j < i; j++)
            if (strcmp(list[j], w) == 0)
                return bad(c, "%s.keywords[%zu]: duplicate keyword \"%s\"", where, i, w);
        list[i] = arena_strdup(c->a, w);
    }
    s->keywords = list;
    s->nkeywords = (uint16_t)n;
    return CO_OK;
}

static co_err parse_limits(ctx *c, const json_t *o, const char *where, co_taxonomy_subclass *s)
{
    char lw[96];
    const json_t *lim = json_object_get(o, "limits");
    co_err rc;
    if (!lim)
        return bad(c, "%s: missing \"limits\"", where);
    snprintf(lw, sizeof lw, "%s.limits", where);
    if (!json_is_object(lim))
        return bad(c, "%s: must be an object with normal, urgent and critical", lw);
    if ((rc = check_keys(c, lim, lw, limit_keys)) != CO_OK)
        return rc;
    for (unsigned v = 0; v < CO_TAXONOMY_NSEV; v++)
        if ((rc = get_limit(c, lim, lw, sev_codes[v], &s->limits[v])) != CO_OK)
            return rc;
    for (unsigned v = 1; v < CO_TAXONOMY_NSEV; v++) {
        if (co_taxonomy_limit_minutes(s->limits[v]) > co_taxonomy_limit_minutes(s->limits[v - 1])) {
            char a[16], b[16];
            return bad(c, "%s: %s limit %s is longer than %s limit %s (want critical <= urgent <= normal)",
                       lw, sev_codes[v], co_taxonomy_limit_format(s->limits[v], a, sizeof a),
                       sev_codes[v - 1], co_taxonomy_limit_format(s->limits[v - 1], b, sizeof b));
        }
    }
    return CO_OK;
}

static co_err parse_subclass(ctx *c, const json_t *o, size_t i, const co_taxonomy *t,
                             co_taxonomy_subclass *s)
{
    char where[80];
    co_err rc;
    co_taxonomy_kind kind;
    const char *code, *clscode, *dept;

    snprintf(where, sizeof where, "subclasses[%zu]", i);
    if (!json_is_object(o))
        return bad(c, "%s: must be an object", where);
    if ((rc = check_keys(c, o, where, sub_keys)) != CO_OK ||
        (rc = get_kind(c, o, where, &kind)) != CO_OK ||
        (rc = get_str(c, o, where, "code", MAX_IDENT, true, &code)) != CO_OK)
        return rc;
    if (!is_digits(code, 2, CO_TAXONOMY_CODE_MAX))
        return bad(c, "%s.code: \"%.40s\" is not 2-%d digits", where, code, CO_TAXONOMY_CODE_MAX);
    snprintf(where, sizeof where, "subclasses[%zu] (%s %s)", i, kind_codes[kind], code);
    if ((rc = get_str(c, o, where, "class", MAX_IDENT, true, &clscode)) != CO_OK)
        return rc;
    const co_taxonomy_class *cls = co_taxonomy_find_class(t, kind, clscode);
    if (!cls)
        return bad(c, "%s.class: unknown %s class \"%.40s\"", where, kind_codes[kind], clscode);
    size_t cl = strlen(cls->code);
    if (strncmp(code, cls->code, cl) != 0)
        return bad(c, "%s.code: %s does not start with its class code %s", where, code, cls->code);
    if (strlen(code) <= cl)
        return bad(c, "%s.code: %s must be longer than its class code %s", where, code, cls->code);
    if ((rc = get_text(c, o, where, "name", MAX_NAME, true, &s->name)) != CO_OK ||
        (rc = get_text(c, o, where, "name_en", MAX_NAME, true, &s->name_en)) != CO_OK ||
        (rc = get_text(c, o, where, "filing", MAX_TEXT, true, &s->filing)) != CO_OK ||
        (rc = get_text(c, o, where, "closing", MAX_TEXT, true, &s->closing)) != CO_OK ||
        (rc = get_str(c, o, where, "dept_type", MAX_IDENT, true, &dept)) != CO_OK)
        return rc;
    if (!is_ident(dept))
        return bad(c, "%s.dept_type: \"%.40s\" is not a type code (a-z, 0-9, _)", where, dept);
    if (c->depts && !dept_known(c, dept))
        return bad(c, "%s.dept_type: unknown department type \"%.40s\"", where, dept);
    s->dept_type = arena_strdup(c->a, dept);
    if ((rc = parse_limits(c, o, where, s)) != CO_OK || (rc = parse_keywords(c, o, where, s)) != CO_OK)
        return rc;
    s->kind = (uint8_t)kind;
    s->cls = cls;
    memcpy(s->code, code, strlen(code) + 1);
    return CO_OK;
}

static co_err parse_subclasses(ctx *c, const json_t *arr, co_taxonomy *t)
{
    co_err rc = CO_OK;
    co_taxonomy_subclass *tmp = NULL;
    perm_ent *perm = NULL;

    if (!json_is_array(arr))
        return bad(c, "subclasses: missing or not an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return bad(c, "subclasses: at least one subclass is required");
    if (n > MAX_SUBCLASSES)
        return bad(c, "subclasses: more than %u subclasses", MAX_SUBCLASSES);
    tmp = co_xcalloc(n, sizeof *tmp);
    perm = co_xcalloc(n, sizeof *perm);
    for (size_t i = 0; i < n; i++) {
        if ((rc = parse_subclass(c, json_array_get(arr, i), i, t, &tmp[i])) != CO_OK)
            goto out;
        perm[i] = (perm_ent){tmp[i].kind, tmp[i].code, i};
    }
    qsort(perm, n, sizeof *perm, cmp_perm);
    for (size_t i = 1; i < n; i++) {
        const perm_ent *p = &perm[i - 1], *q = &perm[i];
        if (p->kind == q->kind && strcmp(p->code, q->code) == 0) {
            rc = bad(c, "subclasses[%zu]: duplicate %s subclass code %s (also subclasses[%zu])", q->idx,
                     kind_codes[q->kind], q->code, p->idx);
            goto out;
        }
    }
    t->subs = co_xcalloc(n, sizeof *t->subs);
    for (size_t i = 0; i < n; i++)
        t->subs[i] = tmp[perm[i].idx];
    t->nsubs = n;
    /* No class code prefixes another (checked), so (kind, code) order keeps
     * each class's subclasses contiguous and in class order. */
    for (size_t i = 0; i < n; i++) {
        co_taxonomy_class *k = (co_taxonomy_class *)t->subs[i].cls;
        if (k->count == 0)
            k->first = (uint32_t)i;
        k->count++;
    }
out:
    co_free(perm);
    co_free(tmp);
    return rc;
}

static co_err parse_request_types(ctx *c, const json_t *arr, co_taxonomy *t)
{
    char where[64];
    co_err rc;
    if (!arr)
        return CO_OK;
    if (!json_is_array(arr))
        return bad(c, "request_types: must be an array");
    size_t n = json_array_size(arr);
    if (n > MAX_REQUEST_TYPES)
        return bad(c, "request_types: more than %u request types", MAX_REQUEST_TYPES);
    t->rtypes = co_xcalloc(n ? n : 1, sizeof *t->rtypes);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        co_taxonomy_request_type *r = &t->rtypes[i];
        const char *code;
        snprintf(where, sizeof where, "request_types[%zu]", i);
        if (!json_is_object(o))
            return bad(c, "%s: must be an object", where);
        if ((rc = check_keys(c, o, where, rtype_keys)) != CO_OK ||
            (rc = get_str(c, o, where, "code", MAX_IDENT, true, &code)) != CO_OK)
            return rc;
        if (!is_ident(code))
            return bad(c, "%s.code: \"%.40s\" is not a type code (a-z, 0-9, _)", where, code);
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->rtypes[j].code, code) == 0)
                return bad(c, "%s: duplicate request type code %s (also request_types[%zu])", where,
                           code, j);
        snprintf(where, sizeof where, "request_types[%zu] (%s)", i, code);
        r->code = arena_strdup(c->a, code);
        if ((rc = get_text(c, o, where, "name", MAX_NAME, true, &r->name)) != CO_OK ||
            (rc = get_text(c, o, where, "name_en", MAX_NAME, true, &r->name_en)) != CO_OK ||
            (rc = get_limit(c, o, where, "limit", &r->limit)) != CO_OK)
            return rc;
        t->nrtypes = i + 1;
    }
    return CO_OK;
}

static co_err parse_severities(ctx *c, const json_t *arr, co_taxonomy *t)
{
    char where[64];
    co_err rc;
    bool seen[CO_TAXONOMY_NSEV] = {false};
    for (unsigned v = 0; v < CO_TAXONOMY_NSEV; v++)
        t->sevs[v] = (co_taxonomy_severity){sev_default_names[v], sev_default_en[v], (co_taxonomy_sev)v};
    if (!arr)
        return CO_OK;
    if (!json_is_array(arr) || json_array_size(arr) != CO_TAXONOMY_NSEV)
        return bad(c, "severities: must be an array of normal, urgent and critical");
    for (size_t i = 0; i < CO_TAXONOMY_NSEV; i++) {
        const json_t *o = json_array_get(arr, i);
        const char *code;
        co_taxonomy_sev sev;
        snprintf(where, sizeof where, "severities[%zu]", i);
        if (!json_is_object(o))
            return bad(c, "%s: must be an object", where);
        if ((rc = check_keys(c, o, where, sev_keys)) != CO_OK ||
            (rc = get_str(c, o, where, "code", MAX_IDENT, true, &code)) != CO_OK)
            return rc;
        if (co_taxonomy_sev_parse(code, &sev) != CO_OK)
            return bad(c, "%s.code: unknown severity \"%.40s\" (want normal, urgent or critical)", where, code);
        if (seen[sev])
            return bad(c, "%s: duplicate severity %s", where, code);
        seen[sev] = true;
        snprintf(where, sizeof where, "severities[%zu] (%s)", i, code);
        co_taxonomy_severity *s = &t->sevs[sev];
        if ((rc = get_text(c, o, where, "name", MAX_NAME, true, &s->name)) != CO_OK ||
            (rc = get_text(c, o, where, "name_en", MAX_NAME, false, &s->name_en)) != CO_OK)
            return rc;
    }
    return CO_OK;
}

co_err co_taxonomy_from_json(const json_t *doc, const json_t *dept_types, co_taxonomy **out,
                             char *err, size_t errlen)
{
    co_err rc = CO_OK;
    co_taxonomy *t = NULL;
    ctx c = {err, errlen, NULL, NULL, 0};

    if (!out)
        return CO_EINVAL;
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!json_is_object(doc))
        return bad(&c, "taxonomy: the document must be a JSON object");
    if (dept_types && (rc = collect_depts(&c, dept_types)) != CO_OK)
        goto out;

    t = co_xcalloc(1, sizeof *t);
    atomic_init(&t->refs, 1u);
    c.a = &t->strings;
    if ((rc = check_keys(&c, doc, "taxonomy", top_keys)) != CO_OK)
        goto out;
    const json_t *ver = json_object_get(doc, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
        rc = bad(&c, "version: must be an integer >= 1");
        goto out;
    }
    t->version = (int64_t)json_integer_value(ver);
    if ((rc = parse_classes(&c, json_object_get(doc, "classes"), t)) != CO_OK ||
        (rc = parse_subclasses(&c, json_object_get(doc, "subclasses"), t)) != CO_OK ||
        (rc = parse_request_types(&c, json_object_get(doc, "request_types"), t)) != CO_OK ||
        (rc = parse_severities(&c, json_object_get(doc, "severities"), t)) != CO_OK)
        goto out;
    *out = t;
    t = NULL;
out:
    co_free(c.depts);
    co_taxonomy_free(t);
    return rc;
}

co_err co_taxonomy_load_file(const char *path, const json_t *dept_types, co_taxonomy **out,
                             char *err, size_t errlen)
{
    json_error_t je;
    co_err rc;
    if (!out || !path)
        return CO_EINVAL;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open", path);
        return CO_EIO;
    }
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!doc) {
        if (err && errlen)
            snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return CO_EINVAL;
    }
    rc = co_taxonomy_from_json(doc, dept_types, out, err, errlen);
    json_decref(doc);
    return rc;
}

co_taxonomy *co_taxonomy_ref(co_taxonomy *t)
{
    if (t)
        atomic_fetch_add_explicit(&t->refs, 1u, memory_order_relaxed);
    return t;
}

void co_taxonomy_free(co_taxonomy *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1u, memory_order_acq_rel) != 1u)
        return;
    co_free(t->classes);
    co_free(t->subs);
    co_free(t->rtypes);
    arena_free(&t->strings);
    co_free(t);
}

/* ---------------------------------------------------------------- lookups */

int64_t co_taxonomy_version(const co_taxonomy *t) { return t->version; }
size_t co_taxonomy_nclasses(const co_taxonomy *t) { return t->nclasses; }
size_t co_taxonomy_nsubclasses(const co_taxonomy *t) { return t->nsubs; }
size_t co_taxonomy_nrequest_types(const co_taxonomy *t) { return t->nrtypes; }

const co_taxonomy_class *co_taxonomy_class_at(const co_taxonomy *t, size_t i)
{
    return i < t->nclasses ? &t->classes[i] : NULL;
}

const co_taxonomy_subclass *co_taxonomy_subclass_at(const co_taxonomy *t, size_t i)
{
    return i < t->nsubs ? &t->subs[i] : NULL;
}

const co_taxonomy_request_type *co_taxonomy_request_type_at(const co_taxonomy *t, size_t i)
{
    return i < t->nrtypes ? &t->rtypes[i] : NULL;
}

const co_taxonomy_class *co_taxonomy_find_class(const co_taxonomy *t, co_taxonomy_kind kind,
                                                const char *code)
{
    size_t lo = 0, hi = t->nclasses;
    if (!code)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp_kind_code((uint8_t)kind, code, t->classes[mid].kind, t->classes[mid].code);
        if (r == 0)
            return &t->classes[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const co_taxonomy_subclass *co_taxonomy_find_subclass(const co_taxonomy *t, co_taxonomy_kind kind,
                                                      const char *code)
{
    size_t lo = 0, hi = t->nsubs;
    if (!code)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = cmp_kind_code((uint8_t)kind, code, t->subs[mid].kind, t->subs[mid].code);
        if (r == 0)
            return &t->subs[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const co_taxonomy_request_type *co_taxonomy_find_request_type(const co_taxonomy *t,
                                                              const char *code)
{
    for (size_t i = 0; code && i < t->nrtypes; i++)
        if (strcmp(t->rtypes[i].code, code) == 0)
            return &t->rtypes[i];
    return NULL;
}

const co_taxonomy_severity *co_taxonomy_severity_of(const co_taxonomy *t, co_taxonomy_sev sev)
{
    return (unsigned)sev < CO_TAXONOMY_NSEV ? &t->sevs[sev] : NULL;
}

const co_taxonomy_severity *co_taxonomy_find_severity(const co_taxonomy *t, const char *code)
{
    co_taxonomy_sev sev;
    if (co_taxonomy_sev_parse(code, &sev) != CO_OK)
        return NULL;
    return &t->sevs[sev];
}

/* ---------------------------------------------------------------- serialising */

/* Each helper returns 0 on success, -1 when jansson ran out of memory. */
static int put_str(json_t *o, const char *k, const char *v)
{
    return json_object_set_new(o, k, json_string(v));
}

static int put_limit(json_t *o, const char *k, co_taxonomy_limit lim)
{
    char buf[16];
    return put_str(o, k, co_taxonomy_limit_format(lim, buf, sizeof buf));
}

static int push(json_t *arr, json_t *item)
{
    return item ? json_array_append_new(arr, item) : -1;
}

/* Moves *v into o[k]; set_new consumes the value even when it fails. */
static int take(json_t *o, const char *k, json_t **v)
{
    json_t *x = *v;
    *v = NULL;
    return json_object_set_new(o, k, x);
}

static json_t *class_json(const co_taxonomy_class *k)
{
    json_t *o = json_object();
    if (!o || put_str(o, "kind", kind_codes[k->kind]) || put_str(o, "code", k->code) ||
        put_str(o, "name", k->name) || put_str(o, "name_en", k->name_en)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *subclass_json(const co_taxonomy_subclass *s)
{
    json_t *o = json_object(), *lim = json_object(), *kw = json_array();
    if (!o || !lim || !kw)
        goto fail;
    for (unsigned v = 0; v < CO_TAXONOMY_NSEV; v++)
        if (put_limit(lim, sev_codes[v], s->limits[v]))
            goto fail;
    for (size_t i = 0; i < s->nkeywords; i++)
        if (push(kw, json_string(s->keywords[i])))
            goto fail;
    if (put_str(o, "kind", kind_codes[s->kind]) || put_str(o, "class", s->cls->code) ||
        put_str(o, "code", s->code) || put_str(o, "name", s->name) ||
        put_str(o, "name_en", s->name_en) || put_str(o, "filing", s->filing) ||
        put_str(o, "closing", s->closing) || put_str(o, "dept_type", s->dept_type))
        goto fail;
    if (take(o, "limits", &lim) || take(o, "keywords", &kw))
        goto fail;
    return o;
fail:
    json_decref(lim);
    json_decref(kw);
    json_decref(o);
    return NULL;
}

co_err co_taxonomy_to_json(const co_taxonomy *t, json_t **out)
{
    co_err rc = CO_ENOMEM;
    json_t *doc = json_object(), *classes = json_array(), *subs = json_array(),
           *rtypes = json_array(), *sevs = json_array();
    if (!out)
        rc = CO_EINVAL;
    if (!out || !doc || !classes || !subs || !rtypes || !sevs)
        goto out;
    *out = NULL;
    for (size_t i = 0; i < t->nclasses; i++)
        if (push(classes, class_json(&t->classes[i])))
            goto out;
    for (size_t i = 0; i < t->nsubs; i++)
        if (push(subs, subclass_json(&t->subs[i])))
            goto out;
    for (size_t i = 0; i < t->nrtypes; i++) {
        const co_taxonomy_request_type *r = &t->rtypes[i];
        json_t *o = json_object();
        if (push(rtypes, o) || put_str(o, "code", r->code) || put_str(o, "name", r->name) ||
            put_str(o, "name_en", r->name_en) || put_limit(o, "limit", r->limit))
            goto out;
    }
    for (unsigned v = 0; v < CO_TAXONOMY_NSEV; v++) {
        const co_taxonomy_severity *s = &t->sevs[v];
        json_t *o = json_object();
        if (push(sevs, o) || put_str(o, "code", sev_codes[v]) || put_str(o, "name", s->name) ||
            (s->name_en && put_str(o, "name_en", s->name_en)))
            goto out;
    }
    if (json_object_set_new(doc, "version", json_integer((json_int_t)t->version)))
        goto out;
    if (take(doc, "classes", &classes) || take(doc, "subclasses", &subs) ||
        take(doc, "request_types", &rtypes) || take(doc, "severities", &sevs))
        goto out;
    *out = doc;
    doc = NULL;
    rc = CO_OK;
out:
    json_decref(classes);
    json_decref(subs);
    json_decref(rtypes);
    json_decref(sevs);
    json_decref(doc);
    return rc;
}
