/* table.h — a small result table (typed columns with zh + en headers, rows
 * of cells) and its writers: JSON (jansson), CSV (UTF-8 with BOM, CRLF,
 * RFC 4180 quoting, spreadsheet-formula guard) and XLSX (libxlsxwriter in
 * constant-memory mode). Stats and evaluation build one; the API writes it.
 *
 * Ownership: the table owns its cells and copies every string set into it;
 * co_table_free releases everything. JSON functions return new references
 * the caller owns. co_table_export returns an open file descriptor of an
 * already-unlinked temporary file; the caller owns it (co_reply_file closes
 * it). A table is not thread-safe; build and write it on one thread. */
#ifndef CO_TABLE_H
#define CO_TABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/err.h"

typedef enum co_table_type {
    CO_TT_STR = 0,
    CO_TT_INT,   /* int64 */
    CO_TT_NUM,   /* double, 2 decimals in CSV/XLSX, 4 in JSON */
    CO_TT_RATE   /* fraction 0..1: JSON fraction (4 decimals), CSV percent, XLSX 0.00% */
} co_table_type;

typedef enum co_table_lang {
    CO_TABLE_BOTH = 0, /* "处置率 Disposal rate" */
    CO_TABLE_ZH,
    CO_TABLE_EN,
    CO_TABLE_KEY       /* machine keys, e.g. "disposal_rate" */
} co_table_lang;

typedef enum co_table_format { CO_TABLE_JSON = 0, CO_TABLE_CSV, CO_TABLE_XLSX } co_table_format;

#define CO_TABLE_MAX_COLS 64

typedef struct co_table co_table;

/* sheet: the XLSX sheet name (ASCII, ≤ 31 chars; truncated). */
co_table *co_table_new(const char *sheet);
void co_table_free(co_table *t);

/* Adds a column; returns its index. Strings are copied. At most
 * CO_TABLE_MAX_COLS columns (further ones are ignored and return the last). */
size_t co_table_col(co_table *t, const char *key, const char *zh, const char *en,
                    co_table_type type);
/* Decimals of a number column in CSV/XLSX (default 2; 0..9). */
void co_table_set_decimals(co_table *t, size_t col, int decimals);
/* Adds a row of empty (null) cells; returns its index. */
size_t co_table_row(co_table *t);
void co_table_set_str(co_table *t, size_t row, size_t col, const char *s);
void co_table_set_int(co_table *t, size_t row, size_t col, int64_t v);
void co_table_set_num(co_table *t, size_t row, size_t col, double v); /* NaN → null */

size_t co_table_nrows(const co_table *t);
size_t co_table_ncols(const co_table *t);
/* Column index by key, or -1. */
int co_table_find_col(const co_table *t, const char *key);
int co_table_is_null(const co_table *t, size_t row, size_t col);
const char *co_table_get_str(const co_table *t, size_t row, size_t col); /* "" if not a string */
int64_t co_table_get_int(const co_table *t, size_t row, size_t col);
double co_table_get_num(const co_table *t, size_t row, size_t col);   /* NaN if null */

/* [{"key","zh","en","type"}] */
json_t *co_table_columns_json(const co_table *t);
/* One row as {"key": value, ...}; all rows as an array of those. */
json_t *co_table_row_json(const co_table *t, size_t row);
json_t *co_table_rows_json(const co_table *t);

co_err co_table_write_csv(const co_table *t, co_table_lang lang, FILE *f) CO_MUST_CHECK;
co_err co_table_write_xlsx(const co_table *t, co_table_lang lang, const char *path) CO_MUST_CHECK;
/* Writes CSV or XLSX into an unlinked temporary file; *fd is positioned at
 * 0 and *len is its size. On error nothing is left open. */
co_err co_table_export(const co_table *t, co_table_format fmt, co_table_lang lang, int *fd,
                       size_t *len) CO_MUST_CHECK;

co_err co_table_format_parse(const char *s, co_table_format *out) CO_MUST_CHECK;
co_err co_table_lang_parse(const char *s, co_table_lang *out) CO_MUST_CHECK;
const char *co_table_mime(co_table_format fmt);
const char *co_table_ext(co_table_format fmt);

#endif
