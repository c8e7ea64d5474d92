/* store_fixture.h — opens the store a unit test works on (header-only, for
 * tests that open stores).
 *
 * fx_store_open(dir, &st): without CITYOPS_TEST_PG, the SQLite store in dir
 * (co_store_open). With CITYOPS_TEST_PG set to a PostgreSQL URL (the
 * database needs PostGIS; scripts/pg-test-cluster.sh start makes one), a
 * PostgreSQL store in a schema of its own, named after dir: a fresh
 * directory is a fresh store, and opening the same directory again opens
 * the same store (restarts). Schemas are left behind: the cluster is thrown
 * away after the run. fx_store_url gives the same store as a `--store`
 * argument, for tests of the command line. */
#ifndef CO_TEST_STORE_FIXTURE_H
#define CO_TEST_STORE_FIXTURE_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static inline const char *fx_pg_url(void)
{
    const char *u = getenv("CITYOPS_TEST_PG");
    return u && *u ? u : NULL;
}

/* The store a test works on, as `--store` names it: "sqlite:DIR", or the
 * PostgreSQL URL of dir's schema (created if needed). CO_EDB when the
 * schema cannot be made. */
static inline co_err fx_store_url(const char *dir, char *url, size_t len)
{
    const char *base = fx_pg_url();
    if (!base) {
        snprintf(url, len, "sqlite:%s", dir);
        return CO_OK;
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    char schema[40], sql[96];
    snprintf(schema, sizeof schema, "t_%016llx", (unsigned long long)h);
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", schema);
    PGconn *db = PQconnectdb(base);
    int ok = PQstatus(db) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(db, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "fx_store_url: %s", PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "fx_store_url: %s", PQerrorMessage(db));
    }
    PQfinish(db);
    if (!ok)
        return CO_EDB;
    snprintf(url, len, "%s%soptions=-csearch_path%%3D%s%%2Cpublic", base,
             strchr(base, '?') ? "&" : "?", schema);
    return CO_OK;
}

static inline co_err fx_store_open(const char *dir, co_store **out)
{
    if (!fx_pg_url())
        return co_store_open(dir, out);
    char url[1024];
    co_err rc = fx_store_url(dir, url, sizeof url);
    return rc ? rc : co_store_open_url(url, out);
}

#endif
