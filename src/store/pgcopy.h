/* pgcopy.h — moves a city from the SQLite store to PostgreSQL
 * (`cityops migrate --from sqlite:DIR --to postgres://…`).
 *
 * Both schemas are the same tables and columns (migrate.c, pg_migrate.c), so
 * the copy is table by table, row by row, ids and sequence numbers kept, in
 * one PostgreSQL transaction (all or nothing); identity sequences then
 * continue after the copied ids, and area geometries are built from their
 * GeoJSON. The target must hold no city yet (its fresh schema only). Then
 * every table is read back from both sides in key order and compared: row
 * count and a 64-bit checksum over the values (integers in decimal, reals
 * with 17 significant digits, text as stored). The SQLite store is read in
 * one read transaction: stop the server first, or writes after that moment
 * are not moved. */
#ifndef CO_STORE_PGCOPY_H
#define CO_STORE_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* Called once per table after verification. */
typedef void (*co_pgcopy_cb)(void *ctx, const char *table, int64_t rows, uint64_t sum_from,
                             uint64_t sum_to, int64_t rows_to);

/* Copies the SQLite store in dir into the PostgreSQL database url (its
 * schema created or migrated first). CO_EEXIST when the target already has
 * data, CO_ECONFLICT when a table differs after the copy (reported through
 * cb; the copy is committed by then), CO_EDB / CO_EIO on storage errors
 * (logged; nothing committed). err (may be NULL) gets a one-line reason. */
co_err co_pgcopy_from_sqlite(const char *dir, const char *url, co_pgcopy_cb cb, void *ctx,
                             char *err, size_t errlen) CO_MUST_CHECK;

#endif
