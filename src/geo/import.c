/* import.c — area import and export as GeoJSON FeatureCollections (see
 * import.h; the checks themselves live in validate.c, the design in
 * docs/internals/import.md).
 *
 * Import: read the file (bounded), parse it with jansson, validate every
 * feature and every relation, and only when the report is empty replace the
 * level in the store with one atomic co_store_areas_replace(). A file that
 * jansson rejects because a number overflows a double (or is NaN/Infinity)
 * is re-read with those numbers as null so the report can name the feature
 * that holds them; such a document is never written.
 * Export: stream the stored areas of a level (optionally below one area) as
 * a FeatureCollection with exactly the properties the import reads (code,
 * name, parent) plus level; stored geometry text is already normalised, so
 * export → import → export is byte-identical.
 * Ownership: the report's problems array is the caller's
 * (co_import_report_free); everything else is freed before returning. */
#include "geo/import.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "geo/area.h"
#include "geo/validate.h"
#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define CO_IMPORT_FILE_MAX ((size_t)1 << 30) /* 1 GiB of GeoJSON */

/* ---- report ---------------------------------------------------------------- */

void co_import_report_free(co_import_report *rep)
{
    if (!rep)
        return;
    co_free(rep->problems);
    memset(rep, 0, sizeof *rep);
}

void co_import_report_print(const co_import_report *rep, FILE *f)
{
    for (size_t i = 0; i < rep->nproblems; i++) {
        const co_import_problem *p = &rep->problems[i];
        if (isnan(p->lon) || isnan(p->lat))
            fprintf(f, "%s: %s\n", p->code, p->reason);
        else
            fprintf(f, "%s: %s at (%.7f, %.7f)\n", p->code, p->reason, p->lon, p->lat);
    }
}

/* ---- import ---------------------------------------------------------------- */

/* Writes the validated features of v as the whole level. */
static co_err write_level(co_store *st, const co_import_vctx *v, co_import_report *rep)
{
    co_area_rec *recs = co_xcalloc(v->n + 1, sizeof *recs);
    for (size_t i = 0; i < v->n; i++) {
        const co_import_feat *f = &v->f[i];
        recs[i] = (co_area_rec){
            .code = f->code, .name = f->name, .parent = f->parent, .level = v->level,
            .geometry = f->geojson, .area_m2 = f->area_m2, .cx = f->cx, .cy = f->cy,
            .minx = f->minx, .miny = f->miny, .maxx = f->maxx, .maxy = f->maxy,
        };
    }
    co_err rc = co_store_areas_replace(st, v->level, "", recs, v->n);
    co_free(recs);
    if (rc) {
        co_import_problem_add(rep, NULL, (size_t)-1, NAN, NAN,
                              "写入失败 / the store rejected the import (%s); nothing written",
                              co_err_str(rc));
        return rc;
    }
    rep->imported = v->n;
    return CO_OK;
}

typedef struct orphans {
    const co_import_vctx *v;
    const char **codes; /* the new level's codes, sorted */
    size_t n;
    char example[32];
} orphans;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int count_orphan(void *ctx, const co_area_rec *r)
{
    orphans *o = ctx;
    const char *key = r->parent ? r->parent : "";
    if (!bsearch(&key, o->codes, o->v->n, sizeof *o->codes, cmp_str)) {
        if (!o->n)
            snprintf(o->example, sizeof o->example, "%s", r->code);
        o->n++;
    }
    return 0;
}

/* After a level was replaced: logs a warning when areas of the level below
 * now name a parent that no longer exists (re-import that level too). */
static void warn_orphans(co_store *st, const co_import_vctx *v)
{
    if (v->level >= CO_LEVEL_GRID)
        return;
    orphans o = {.v = v, .codes = co_xcalloc(v->n + 1, sizeof(char *))};
    for (size_t i = 0; i < v->n; i++)
        o.codes[i] = v->f[i].code;
    qsort(o.codes, v->n, sizeof *o.codes, cmp_str);
    co_level below = (co_level)(v->level + 1);
    if (!co_store_areas_each(st, (int)below, 0, count_orphan, &o) && o.n)
        co_log_warn("msg=\"areas left without a parent; re-import that level\" level=%s "
                    "count=%zu example=%s",
                    co_level_name(below), o.n, o.example);
    co_free(o.codes);
}

/* Validates fc and writes it when clean. allow_write 0 = validate only (a
 * repaired document). */
static co_err import_doc(co_store *st, co_level level, json_t *fc, co_import_report *rep,
                         int allow_write)
{
    co_import_vctx v;
    co_err rc = co_import_vctx_init(&v, level, rep);
    if (rc) {
        co_import_problem_add(rep, NULL, (size_t)-1, NAN, NAN,
                              rc == CO_EINVAL ? "层级无效 / level must be district, street, "
                                                "community or grid"
                                              : "无法初始化 GEOS / GEOS cannot be initialised");
        goto out;
    }
    double t0 = co_time_mono();
    if ((rc = co_import_validate(&v, st, fc)))
        goto out;
    co_log_info("msg=\"areas validated\" level=%s features=%zu problems=%zu seconds=%.2f",
                co_level_name(level), v.n, rep->nproblems, co_time_mono() - t0);
    if (rep->nproblems || !allow_write) {
        rc = CO_EINVAL;
        goto out;
    }
    if (!(rc = write_level(st, &v, rep)))
        warn_orphans(st, &v);
out:
    co_import_vctx_free(&v);
    return rc;
}

co_err co_import_areas_json(co_store *st, co_level level, struct json_t *fc,
                            co_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    return import_doc(st, level, fc, rep, 1);
}

/* Reads path into b (at most CO_IMPORT_FILE_MAX bytes). */
static co_err read_file(const char *path, co_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CO_EIO;
    co_err rc = CO_OK;
    char chunk[1 << 16];
    size_t got;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = co_buf_append(b, chunk, got);
    if (!rc && ferror(f))
        rc = CO_EIO;
    fclose(f);
    if (!rc && !b->data)
        rc = co_buf_append(b, "", 0); /* empty file: still a C string */
    return rc;
}

static int is_word(const char *s, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - s) >= n && !strncmp(s, w, n);
}

/* Length of the token at s when it is a non-finite number (1e999, -1e999,
 * NaN, nan, Infinity, -Infinity) as *bad = 1; for a finite number its length
 * with *bad = 0; 0 for anything else. */
static size_t number_len(const char *s, const char *end, int *bad)
{
    *bad = 1;
    if (*s == '-' || (*s >= '0' && *s <= '9')) {
        char *stop = NULL;
        double d = strtod(s, &stop);
        *bad = !isfinite(d);
        return stop > s ? (size_t)(stop - s) : 0;
    }
    if (is_word(s, end, "NaN") || is_word(s, end, "nan"))
        return 3;
    if (is_word(s, end, "Infinity"))
        return 8;
    return 0;
}

/* A copy of text (len bytes, NUL-terminated) in which numbers that are not
 * finite doubles outside strings are replaced by null. NULL when there is
 * nothing to replace. Caller frees (co_free). */
static char *null_nonfinite(const char *text, size_t len)
{
    co_buf out;
    co_buf_init(&out, len * 2 + 64);
    size_t done = 0, count = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
            continue;
        }
        int bad = 0;
        size_t n = number_len(text + i, text + len, &bad);
        if (n && !bad)
            i += n - 1;
        if (!n || !bad)
            continue;
        if (co_buf_append(&out, text + done, i - done) || co_buf_puts(&out, "null")) {
            co_buf_free(&out);
            return NULL;
        }
        done = i + n;
        i = done - 1;
        count++;
    }
    if (!count || co_buf_append(&out, text + done, len - done)) {
        co_buf_free(&out);
        return NULL;
    }
    return co_buf_take(&out);
}

co_err co_import_areas_file(co_store *st, co_level level, const char *path,
                            co_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    co_buf text;
    co_buf_init(&text, CO_IMPORT_FILE_MAX);
    json_t *doc = NULL;
    char *fixed = NULL;
    co_err rc = read_file(path, &text);
    if (rc) {
        co_import_problem_add(rep, NULL, (size_t)-1, NAN, NAN,
                              "无法读取文件 / cannot read %.160s: %s", path,
                              rc == CO_ETOOBIG ? "larger than 1 GiB" : strerror(errno));
        goto out;
    }
    json_error_t jerr;
    doc = json_loadb(text.data, text.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc) {
        rc = import_doc(st, level, doc, rep, 1);
        goto out;
    }
    /* Not JSON. If only non-finite numbers are to blame, validate a copy
     * with them as null to name the features; never write it. */
    fixed = null_nonfinite(text.data, text.len);
    json_error_t jerr2;
    doc = fixed ? json_loads(fixed, JSON_REJECT_DUPLICATES, &jerr2) : NULL;
    if (doc) {
        rc = import_doc(st, level, doc, rep, 0);
        if (rc != CO_EINVAL)
            goto out;
    }
    if (!doc || !rep->nproblems)
        co_import_problem_add(rep, NULL, (size_t)-1, NAN, NAN,
                              "JSON 无效 / invalid JSON at line %d column %d: %s", jerr.line,
                              jerr.column, jerr.text);
    rc = CO_EINVAL;
out:
    json_decref(doc);
    co_free(fixed);
    co_buf_free(&text);
    return rc;
}

/* ---- export ---------------------------------------------------------------- */

typedef struct exp_ctx {
    FILE *out;
    const char *within;
    size_t wlen;
    co_level level;
    size_t n;
    co_err rc;
} exp_ctx;

static int export_one(void *ctx, const co_area_rec *r)
{
    exp_ctx *e = ctx;
    const char *parent = r->parent ? r->parent : "";
    if (e->wlen && strncmp(r->code, e->within, e->wlen) != 0 && strcmp(parent, e->within) != 0)
        return 0;
    json_t *props = json_pack("{s:s,s:s,s:s,s:s}", "code", r->code, "name", r->name ? r->name : "",
                              "parent", parent, "level", co_level_name(e->level));
    char *ps = props ? json_dumps(props, JSON_COMPACT) : NULL;
    json_decref(props);
    if (!ps) {
        e->rc = CO_EINTERNAL;
        return 1;
    }
    int w = fprintf(e->out, "%s{\"type\":\"Feature\",\"properties\":%s,\"geometry\":%s}",
                    e->n ? ",\n" : "\n", ps, r->geometry && *r->geometry ? r->geometry : "null");
    co_free(ps); /* jansson allocates with libc malloc; co_free is free() */
    if (w < 0) {
        e->rc = CO_EIO;
        return 1;
    }
    e->n++;
    return 0;
}

static int found_cb(void *ctx, const co_area_rec *r)
{
    (void)ctx;
    (void)r;
    return 1;
}

co_err co_export_areas(co_store *st, co_level level, const char *within, FILE *out)
{
    if ((unsigned)level < CO_LEVEL_DISTRICT || (unsigned)level > CO_LEVEL_GRID)
        return CO_EINVAL;
    exp_ctx e = {.out = out, .within = within ? within : "", .level = level};
    e.wlen = strlen(e.within);
    if (e.wlen) {
        co_err rc = co_store_area_get(st, e.within, found_cb, NULL);
        if (rc)
            return rc;
    }
    if (fputs("{\"type\":\"FeatureCollection\",\"features\":[", out) < 0)
        return CO_EIO;
    co_err rc = co_store_areas_each(st, (int)level, 1, export_one, &e);
    if (!rc)
        rc = e.rc;
    if (!rc && fputs("\n]}\n", out) < 0)
        rc = CO_EIO;
    if (!rc && fflush(out) != 0)
        rc = CO_EIO;
    return rc;
}

co_err co_export_areas_json(co_store *st, co_level level, const char *within, json_t **out)
{
    *out = NULL;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return CO_EIO;
    co_err rc = co_export_areas(st, level, within, f);
    if (fclose(f) != 0 && !rc)
        rc = CO_EIO;
    if (!rc) {
        json_error_t jerr;
        *out = json_loadb(mem, len, 0, &jerr);
        if (!*out) {
            co_log_error("msg=\"export produced invalid JSON\" line=%d text=\"%s\"", jerr.line,
                         jerr.text);
            rc = CO_EINTERNAL;
        }
    }
    co_free(mem); /* open_memstream allocates with malloc; co_free is free() */
    return rc;
}
