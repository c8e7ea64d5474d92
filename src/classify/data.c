/* data.c — loading labelled texts (see data.h). */
#include "classify/data.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "domain/case.h"
#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/log.h"

const char *const co_clf_reqtype_labels[CO_CLF_NREQTYPES] = {
    "consult", "help", "complaint", "report", "suggestion", "praise"};
const char *const co_clf_severity_labels[CO_CLF_NSEVERITIES] = {"normal", "urgent", "critical"};

static int index_of(const char *const *v, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(v[i], s))
            return i;
    return -1;
}

int co_clf_reqtype_index(const char *code)
{
    return index_of(co_clf_reqtype_labels, CO_CLF_NREQTYPES, code);
}

int co_clf_severity_index(const char *code)
{
    return index_of(co_clf_severity_labels, CO_CLF_NSEVERITIES, code);
}

void co_clf_data_free(co_clf_data *d)
{
    for (size_t i = 0; i < d->n; i++)
        co_free(d->v[i].text);
    co_free(d->v);
    memset(d, 0, sizeof *d);
}

void co_clf_data_add(co_clf_data *d, const char *text, const char *label, int reqtype,
                     int severity, co_clf_source src, float weight)
{
    d->v = co_xgrow(d->v, &d->cap, d->n + 1, sizeof *d->v);
    co_clf_example *e = &d->v[d->n++];
    memset(e, 0, sizeof *e);
    e->text = co_xstrdup(text);
    snprintf(e->label, sizeof e->label, "%s", label ? label : "");
    e->reqtype = (int8_t)reqtype;
    e->severity = (int8_t)severity;
    e->source = (uint8_t)src;
    e->weight = weight;
}

/* "C0101" → its subclass in tax, NULL if none. */
static const co_taxonomy_subclass *subclass_of(const co_taxonomy *tax, const char *label)
{
    co_category cat;
    if (co_category_parse(label, &cat))
        return NULL;
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(cat));
    return co_taxonomy_find_subclass(
        tax, co_category_kind(cat) == 1 ? CO_TAXONOMY_COMPONENT : CO_TAXONOMY_EVENT, code);
}

static int add_line(co_clf_data *d, const char *line, const co_taxonomy *tax)
{
    json_t *o = json_loads(line, 0, NULL);
    const char *text = json_string_value(json_object_get(o, "text"));
    const char *cat = json_string_value(json_object_get(o, "category"));
    const char *rt = json_string_value(json_object_get(o, "request_type"));
    const char *sev = json_string_value(json_object_get(o, "severity"));
    co_category c;
    int ok = text && *text && cat && !co_category_parse(cat, &c) &&
             (!tax || subclass_of(tax, cat));
    if (ok)
        co_clf_data_add(d, text, cat, co_clf_reqtype_index(rt), co_clf_severity_index(sev),
                        CO_CLF_SRC_SEED, 1.0f);
    json_decref(o);
    return ok;
}

co_err co_clf_data_load_jsonl(co_clf_data *d, const char *path, const co_taxonomy *tax)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return CO_EIO;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (!add_line(d, line, tax))
            d->rejected++;
    }
    free(line);
    fclose(f);
    return CO_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

co_err co_clf_data_load_dir(co_clf_data *d, const char *dir, const co_taxonomy *tax)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return CO_ENOTFOUND;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (len > 6 && !strcmp(e->d_name + len - 6, ".jsonl") && e->d_name[0] != '.') {
            names = co_xgrow(names, &cap, n + 1, sizeof *names);
            names[n++] = co_xstrdup(e->d_name);
        }
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_str);
    co_err rc = CO_OK;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!rc)
            rc = co_clf_data_load_jsonl(d, path, tax);
        co_free(names[i]);
    }
    co_free(names);
    return rc;
}

void co_clf_data_add_taxonomy(co_clf_data *d, const co_taxonomy *tax)
{
    for (size_t i = 0; i < co_taxonomy_nsubclasses(tax); i++) {
        const co_taxonomy_subclass *s = co_taxonomy_subclass_at(tax, i);
        char label[CO_CLF_LABEL_MAX], text[2048];
        snprintf(label, sizeof label, "%c%s", s->kind == CO_TAXONOMY_COMPONENT ? 'C' : 'E',
                 s->code);
        size_t off = (size_t)snprintf(text, sizeof text, "%s", s->name);
        for (uint16_t k = 0; k < s->nkeywords && off < sizeof text; k++)
            off += (size_t)snprintf(text + off, sizeof text - off, " %s", s->keywords[k]);
        co_clf_data_add(d, text, label, -1, -1, CO_CLF_SRC_TAXONOMY, 1.0f);
        for (uint16_t k = 0; k < s->nkeywords; k++)
            co_clf_data_add(d, s->keywords[k], label, -1, -1, CO_CLF_SRC_TAXONOMY, 0.5f);
        if (s->filing && *s->filing)
            co_clf_data_add(d, s->filing, label, -1, -1, CO_CLF_SRC_TAXONOMY, 1.0f);
    }
}

/* ---------------------------------------------------------------- store */

enum { M_REG_STAFF = 1, M_CONFIRMED = 2 };

typedef struct cand {
    int64_t id;
    co_category cat;
    uint8_t marks;
    int8_t reqtype, severity;
    char *text;
} cand;

typedef struct store_ctx {
    int64_t min_id;
    cand *v;
    size_t n, cap;
} store_ctx;

static int on_case(void *arg, const co_case *c)
{
    store_ctx *x = arg;
    if (c->id <= x->min_id || c->category == CO_CATEGORY_NONE || !c->description[0])
        return 0;
    x->v = co_xgrow(x->v, &x->cap, x->n + 1, sizeof *x->v);
    cand *k = &x->v[x->n++];
    memset(k, 0, sizeof *k);
    k->id = c->id;
    k->cat = c->category;
    k->reqtype = (int8_t)(c->reqtype != CO_RT_NONE ? (int)c->reqtype - 1 : -1);
    k->severity = (int8_t)c->severity;
    k->text = co_xstrdup(c->description);
    return 0;
}

static cand *find_cand(store_ctx *x, int64_t id)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n && x->v[lo].id == id ? &x->v[lo] : NULL;
}

static int is_staff(const char *role)
{
    return !strcmp(role, "operator") || !strcmp(role, "inspector") || !strcmp(role, "admin") ||
           !strcmp(role, "shiftlead") || !strcmp(role, "dispatcher");
}

static int on_event(void *arg, const co_event *e)
{
    store_ctx *x = arg;
    cand *k = find_cand(x, e->case_id);
    if (!k || !is_staff(e->role))
        return 0;
    if (!strcmp(e->action, "register"))
        k->marks |= M_REG_STAFF;
    else if (!strcmp(e->action, "reclassify") || !strcmp(e->action, "file"))
        k->marks |= M_CONFIRMED;
    return 0;
}

/* The register event of a case registered by staff: did the classifier
 * choose its category? */
static int on_register(void *arg, const co_event *e)
{
    int *auto_filed = arg;
    if (!strcmp(e->action, "register") && json_object_get(e->data, "classified"))
        *auto_filed = 1;
    return 1; /* the register event is the first: stop */
}

co_err co_clf_data_load_store(co_clf_data *d, co_store *st, const co_taxonomy *tax,
                              size_t *added)
{
    store_ctx x = {0};
    char val[32];
    *added = 0;
    if (co_store_meta_get(st, "demo_history_max_id", val, sizeof val) == CO_OK)
        x.min_id = strtoll(val, NULL, 10);
    co_err rc = co_store_cases_each(st, on_case, &x);
    if (!rc && x.n)
        rc = co_store_events_each(st, on_event, &x);
    size_t *per = co_xcalloc(65536, sizeof *per);
    for (size_t i = x.n; !rc && i-- > 0;) { /* newest first */
        cand *k = &x.v[i];
        char label[8];
        co_category_format(k->cat, label);
        if (!(k->marks & (M_REG_STAFF | M_CONFIRMED)) || per[k->cat] >= CO_CLF_STORE_CAP ||
            (tax && !subclass_of(tax, label)))
            continue;
        if (!(k->marks & M_CONFIRMED)) {
            int auto_filed = 0;
            if (co_store_events_of(st, k->id, on_register, &auto_filed) || auto_filed)
                continue;
        }
        per[k->cat]++;
        co_clf_data_add(d, k->text, label, k->reqtype, k->severity, CO_CLF_SRC_STORE, 1.0f);
        (*added)++;
    }
    for (size_t i = 0; i < x.n; i++)
        co_free(x.v[i].text);
    co_free(x.v);
    co_free(per);
    return rc;
}
