/* table.c — result tables and their JSON / CSV / XLSX writers (see table.h).
 * Cells are stored row-major in one growing array; string cells own a
 * co_xstrdup'd copy. The XLSX writer uses libxlsxwriter's constant-memory
 * mode (rows written in order, temp files in $TMPDIR or /tmp) and the
 * workbook is always closed (which frees it) on every path. */
#include "projection/table.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "lib/alloc.h"

typedef struct cell {
    uint8_t set;
    union {
        int64_t i;
        double d;
        char *s;
    } v;
} cell;

typedef struct col {
    char *key, *zh, *en;
    co_table_type type;
    int decimals;
} col;

struct co_table {
    char sheet[32];
    col cols[CO_TABLE_MAX_COLS];
    size_t ncols;
    cell *cells;
    size_t nrows, cap; /* cap in rows */
};

co_table *co_table_new(const char *sheet)
{
    co_table *t = co_xcalloc(1, sizeof *t);
    snprintf(t->sheet, sizeof t->sheet, "%s", sheet && *sheet ? sheet : "Sheet1");
    return t;
}

void co_table_free(co_table *t)
{
    if (!t)
        return;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++)
            if (t->cols[c].type == CO_TT_STR)
                co_free(t->cells[r * t->ncols + c].v.s);
    for (size_t c = 0; c < t->ncols; c++) {
        co_free(t->cols[c].key);
        co_free(t->cols[c].zh);
        co_free(t->cols[c].en);
    }
    co_free(t->cells);
    co_free(t);
}

size_t co_table_col(co_table *t, const char *key, const char *zh, const char *en,
                    co_table_type type)
{
    /* columns are fixed once rows exist (cells are row-major) */
    if (t->ncols >= CO_TABLE_MAX_COLS || t->nrows)
        return t->ncols ? t->ncols - 1 : 0;
    col *c = &t->cols[t->ncols];
    c->key = co_xstrdup(key);
    c->zh = co_xstrdup(zh ? zh : key);
    c->en = co_xstrdup(en ? en : key);
    c->type = type;
    c->decimals = 2;
    return t->ncols++;
}

void co_table_set_decimals(co_table *t, size_t c, int decimals)
{
    if (c < t->ncols && decimals >= 0 && decimals <= 9)
        t->cols[c].decimals = decimals;
}

size_t co_table_row(co_table *t)
{
    if (t->nrows == t->cap) {
        size_t old = t->cap;
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = co_xrealloc(t->cells, t->cap * (t->ncols ? t->ncols : 1) * sizeof *t->cells);
        memset(t->cells + old * t->ncols, 0, (t->cap - old) * t->ncols * sizeof *t->cells);
    }
    return t->nrows++;
}

static cell *at(const co_table *t, size_t row, size_t c)
{
    return row < t->nrows && c < t->ncols ? &t->cells[row * t->ncols + c] : NULL;
}

void co_table_set_str(co_table *t, size_t row, size_t c, const char *s)
{
    cell *x = at(t, row, c);
    if (!x || t->cols[c].type != CO_TT_STR)
        return;
    co_free(x->v.s);
    x->v.s = co_xstrdup(s ? s : "");
    x->set = 1;
}

void co_table_set_int(co_table *t, size_t row, size_t c, int64_t v)
{
    cell *x = at(t, row, c);
    if (!x || t->cols[c].type == CO_TT_STR)
        return;
    if (t->cols[c].type == CO_TT_INT)
        x->v.i = v;
    else
        x->v.d = (double)v;
    x->set = 1;
}

void co_table_set_num(co_table *t, size_t row, size_t c, double v)
{
    cell *x = at(t, row, c);
    if (!x || t->cols[c].type == CO_TT_STR)
        return;
    if (isnan(v)) {
        x->set = 0;
        return;
    }
    if (t->cols[c].type == CO_TT_INT)
        x->v.i = (int64_t)llround(v);
    else
        x->v.d = v;
    x->set = 1;
}

size_t co_table_nrows(const co_table *t) { return t->nrows; }
size_t co_table_ncols(const co_table *t) { return t->ncols; }

int co_table_find_col(const co_table *t, const char *key)
{
    for (size_t c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c].key, key))
            return (int)c;
    return -1;
}

int co_table_is_null(const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    return !x || !x->set;
}

const char *co_table_get_str(const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    return x && x->set && t->cols[c].type == CO_TT_STR ? x->v.s : "";
}

int64_t co_table_get_int(const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    if (!x || !x->set || t->cols[c].type == CO_TT_STR)
        return 0;
    return t->cols[c].type == CO_TT_INT ? x->v.i : (int64_t)llround(x->v.d);
}

double co_table_get_num(const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    if (!x || !x->set || t->cols[c].type == CO_TT_STR)
        return NAN;
    return t->cols[c].type == CO_TT_INT ? (double)x->v.i : x->v.d;
}

/* ------------------------------------------------------------------ JSON */

static const char *type_name(co_table_type ty)
{
    static const char *const names[] = {"string", "integer", "number", "rate"};
    return names[ty];
}

json_t *co_table_columns_json(const co_table *t)
{
    json_t *a = json_array();
    for (size_t c = 0; c < t->ncols; c++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "key", t->cols[c].key, "zh",
                                           t->cols[c].zh, "en", t->cols[c].en, "type",
                                           type_name(t->cols[c].type)));
    return a;
}

static json_t *cell_json(const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    if (!x || !x->set)
        return json_null();
    switch (t->cols[c].type) {
    case CO_TT_STR: return json_string(x->v.s);
    case CO_TT_INT: return json_integer((json_int_t)x->v.i);
    default: {
        double scale = pow(10, t->cols[c].decimals > 4 ? t->cols[c].decimals : 4);
        return json_real(round(x->v.d * scale) / scale);
    }
    }
}

json_t *co_table_row_json(const co_table *t, size_t row)
{
    json_t *o = json_object();
    for (size_t c = 0; c < t->ncols; c++)
        json_object_set_new(o, t->cols[c].key, cell_json(t, row, c));
    return o;
}

json_t *co_table_rows_json(const co_table *t)
{
    json_t *a = json_array();
    for (size_t r = 0; r < t->nrows; r++)
        json_array_append_new(a, co_table_row_json(t, r));
    return a;
}

/* --------------------------------------------------------------- headers */

static void header(const co_table *t, size_t c, co_table_lang lang, char *out, size_t n)
{
    const col *x = &t->cols[c];
    const char *pct = x->type == CO_TT_RATE && lang != CO_TABLE_KEY ? " (%)" : "";
    switch (lang) {
    case CO_TABLE_ZH: snprintf(out, n, "%s%s", x->zh, pct); break;
    case CO_TABLE_EN: snprintf(out, n, "%s%s", x->en, pct); break;
    case CO_TABLE_KEY: snprintf(out, n, "%s", x->key); break;
    default: snprintf(out, n, "%s %s%s", x->zh, x->en, pct); break;
    }
}

/* ------------------------------------------------------------------- CSV */

/* RFC 4180 quoting, and a leading ' for text that a spreadsheet would run as
 * a formula (=, +, -, @, tab, CR). */
static int csv_text(FILE *f, const char *s)
{
    int guard = strchr("=+-@\t\r", s[0]) && s[0];
    int quote = guard || strpbrk(s, ",\"\r\n") != NULL;
    if (!quote)
        return fputs(s, f) < 0 ? -1 : 0;
    if (fputc('"', f) == EOF || (guard && fputc('\'', f) == EOF))
        return -1;
    for (; *s; s++)
        if ((*s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF)
            return -1;
    return fputc('"', f) == EOF ? -1 : 0;
}

static int csv_cell(FILE *f, const co_table *t, size_t row, size_t c)
{
    const cell *x = at(t, row, c);
    if (!x || !x->set)
        return 0;
    switch (t->cols[c].type) {
    case CO_TT_STR: return csv_text(f, x->v.s);
    case CO_TT_INT: return fprintf(f, "%lld", (long long)x->v.i) < 0 ? -1 : 0;
    case CO_TT_NUM: return fprintf(f, "%.*f", t->cols[c].decimals, x->v.d) < 0 ? -1 : 0;
    default: return fprintf(f, "%.*f", t->cols[c].decimals, x->v.d * 100.0) < 0 ? -1 : 0;
    }
}

co_err co_table_write_csv(const co_table *t, co_table_lang lang, FILE *f)
{
    char h[256];
    if (fputs("\xEF\xBB\xBF", f) < 0)
        return CO_EIO;
    for (size_t c = 0; c < t->ncols; c++) {
        header(t, c, lang, h, sizeof h);
        if ((c && fputc(',', f) == EOF) || csv_text(f, h))
            return CO_EIO;
    }
    if (fputs("\r\n", f) < 0)
        return CO_EIO;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            if ((c && fputc(',', f) == EOF) || csv_cell(f, t, r, c))
                return CO_EIO;
        if (fputs("\r\n", f) < 0)
            return CO_EIO;
    }
    return fflush(f) ? CO_EIO : CO_OK;
}

/* ------------------------------------------------------------------ XLSX */

/* One number format per column (decimals, percent for rates). */
static lxw_format *xlsx_format(lxw_workbook *wb, const col *x)
{
    char f[24] = "0";
    if (x->type == CO_TT_STR || x->type == CO_TT_INT)
        return NULL;
    if (x->decimals > 0) {
        f[1] = '.';
        memset(f + 2, '0', (size_t)x->decimals);
        f[2 + x->decimals] = '\0';
    }
    if (x->type == CO_TT_RATE)
        strcat(f, "%");
    lxw_format *fm = workbook_add_format(wb);
    format_set_num_format(fm, f);
    return fm;
}

static lxw_error xlsx_cell(lxw_worksheet *ws, const co_table *t, size_t row, size_t c,
                           lxw_format *fm)
{
    const cell *x = at(t, row, c);
    lxw_row_t r = (lxw_row_t)(row + 1);
    lxw_col_t k = (lxw_col_t)c;
    if (!x || !x->set)
        return LXW_NO_ERROR;
    switch (t->cols[c].type) {
    case CO_TT_STR: return worksheet_write_string(ws, r, k, x->v.s, NULL);
    case CO_TT_INT: return worksheet_write_number(ws, r, k, (double)x->v.i, NULL);
    default: return worksheet_write_number(ws, r, k, x->v.d, fm);
    }
}

static lxw_error xlsx_sheet(lxw_workbook *wb, const co_table *t, co_table_lang lang)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, t->sheet);
    if (!ws)
        return LXW_ERROR_MEMORY_MALLOC_FAILED;
    lxw_format *head = workbook_add_format(wb), *fm[CO_TABLE_MAX_COLS];
    format_set_bold(head);
    for (size_t c = 0; c < t->ncols; c++) {
        fm[c] = xlsx_format(wb, &t->cols[c]);
        double width = t->cols[c].type == CO_TT_STR ? 24 : 14;
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, width, NULL);
    }
    worksheet_freeze_panes(ws, 1, 0);
    char h[256];
    lxw_error e = LXW_NO_ERROR;
    for (size_t c = 0; c < t->ncols && !e; c++) {
        header(t, c, lang, h, sizeof h);
        e = worksheet_write_string(ws, 0, (lxw_col_t)c, h, head);
    }
    for (size_t r = 0; r < t->nrows && !e; r++)
        for (size_t c = 0; c < t->ncols && !e; c++)
            e = xlsx_cell(ws, t, r, c, fm[c]);
    return e;
}

co_err co_table_write_xlsx(const co_table *t, co_table_lang lang, const char *path)
{
    const char *tmp = getenv("TMPDIR");
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE,
                                .tmpdir = (char *)(tmp && *tmp ? tmp : "/tmp")};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    if (!wb)
        return CO_EIO;
    lxw_error e = xlsx_sheet(wb, t, lang);
    lxw_error ce = workbook_close(wb); /* frees wb */
    return e || ce ? CO_EIO : CO_OK;
}

/* ---------------------------------------------------------------- export */

static const char *tmp_dir(void)
{
    const char *d = getenv("TMPDIR");
    return d && *d ? d : "/tmp";
}

static co_err export_csv(const co_table *t, co_table_lang lang, int *fd)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cityops-table-XXXXXX", tmp_dir());
    int f = mkstemp(path);
    if (f < 0)
        return CO_EIO;
    unlink(path);
    int dupfd = dup(f);
    FILE *fp = dupfd >= 0 ? fdopen(dupfd, "w") : NULL;
    if (!fp) {
        if (dupfd >= 0)
            close(dupfd);
        close(f);
        return CO_EIO;
    }
    co_err rc = co_table_write_csv(t, lang, fp);
    if (fclose(fp) && !rc)
        rc = CO_EIO;
    if (rc) {
        close(f);
        return rc;
    }
    *fd = f;
    return CO_OK;
}

static co_err export_xlsx(const co_table *t, co_table_lang lang, int *fd)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cityops-table-XXXXXX.xlsx", tmp_dir());
    int f = mkstemps(path, 5);
    if (f < 0)
        return CO_EIO;
    close(f);
    co_err rc = co_table_write_xlsx(t, lang, path);
    f = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    if (rc)
        return rc;
    if (f < 0)
        return CO_EIO;
    *fd = f;
    return CO_OK;
}

co_err co_table_export(const co_table *t, co_table_format fmt, co_table_lang lang, int *fd,
                       size_t *len)
{
    *fd = -1;
    *len = 0;
    int f = -1;
    co_err rc = fmt == CO_TABLE_XLSX ? export_xlsx(t, lang, &f)
                : fmt == CO_TABLE_CSV ? export_csv(t, lang, &f)
                                      : CO_EINVAL;
    if (rc)
        return rc;
    struct stat st;
    if (fstat(f, &st) || lseek(f, 0, SEEK_SET) < 0) {
        close(f);
        return CO_EIO;
    }
    *fd = f;
    *len = (size_t)st.st_size;
    return CO_OK;
}

/* --------------------------------------------------------------- parsing */

co_err co_table_format_parse(const char *s, co_table_format *out)
{
    static const char *const names[] = {"json", "csv", "xlsx"};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = (co_table_format)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

co_err co_table_lang_parse(const char *s, co_table_lang *out)
{
    static const char *const names[] = {"both", "zh", "en", "key"};
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (co_table_lang)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_table_mime(co_table_format fmt)
{
    switch (fmt) {
    case CO_TABLE_CSV: return "text/csv; charset=utf-8";
    case CO_TABLE_XLSX: return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    default: return "application/json; charset=utf-8";
    }
}

const char *co_table_ext(co_table_format fmt)
{
    return fmt == CO_TABLE_CSV ? "csv" : fmt == CO_TABLE_XLSX ? "xlsx" : "json";
}
