/* test_pgcopy.c — the PostgreSQL back-end's own pieces: store names
 * (co_store_open_url), areas stored with a PostGIS geometry, and moving a
 * SQLite city into PostgreSQL (co_pgcopy_from_sqlite: every row kept, ids
 * and sequences continue, a second copy into the same database refused),
 * and a failed statement inside a (pipelined) transaction failing it.
 * The PostgreSQL tests need CITYOPS_TEST_PG (make unit-pg); without it they
 * are skipped and only the store-name test runs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/case.h"
#include "lib/log.h"
#include "store/pgcopy.h"
#include "store/store.h"
#include "store_fixture.h"

#define SQUARE                                                                                  \
    "{\"type\":\"Polygon\",\"coordinates\":[[[111.70,40.80],[111.71,40.80],[111.71,40.81],"    \
    "[111.70,40.81],[111.70,40.80]]]}"

static void rm_rf(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* One SQL answer from the PostgreSQL database of url, as text ("" on error). */
static void pg_answer(const char *url, const char *sql, char *out, size_t len)
{
    PGconn *db = PQconnectdb(url);
    PGresult *r = PQexec(db, sql);
    snprintf(out, len, "%s",
             PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(db);
}

static void test_store_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/cityops-pgname-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char named[64];
    snprintf(named, sizeof named, "sqlite:%s", dir);
    co_store *st = NULL;
    assert_int_equal(co_store_open_url(named, &st), CO_OK);
    assert_int_equal(co_store_meta_set(st, "k", "v"), CO_OK);
    co_store_close(st);
    /* the same store as the plain directory */
    assert_int_equal(co_store_open_url(dir, &st), CO_OK);
    char v[8] = "";
    assert_int_equal(co_store_meta_get(st, "k", v, sizeof v), CO_OK);
    assert_string_equal(v, "v");
    co_store_close(st);
    assert_int_equal(co_store_open_url("", &st), CO_EINVAL);
    assert_int_equal(co_store_open_url("sqlite:", &st), CO_EINVAL);
    assert_true(co_store_is_pg_url("postgres://u@h/db"));
    assert_true(co_store_is_pg_url("postgresql://u@h/db"));
    assert_false(co_store_is_pg_url("sqlite:/tmp/x"));
    assert_false(co_store_is_pg_url("/tmp/postgres://x"));
    rm_rf(dir);
}

/* The URL of a fresh schema (store_fixture.h names it after dir). */
static void schema_url(const char *dir, char *url, size_t len)
{
    co_store *st = NULL;
    assert_int_equal(fx_store_open(dir, &st), CO_OK); /* creates and migrates it */
    co_store_close(st);
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    const char *base = fx_pg_url();
    snprintf(url, len, "%s%soptions=-csearch_path%%3Dt_%016llx%%2Cpublic", base,
             strchr(base, '?') ? "&" : "?", (unsigned long long)h);
}

static void test_area_geometry(void **state)
{
    (void)state;
    if (!fx_pg_url())
        skip();
    char dir[] = "/tmp/cityops-pggeom-XXXXXX", url[1024], got[64];
    assert_non_null(mkdtemp(dir));
    schema_url(dir, url, sizeof url);
    co_store *st = NULL;
    assert_int_equal(co_store_open_url(url, &st), CO_OK);
    co_area_rec recs[] = {
        {"150102", "新城区", "", CO_LEVEL_DISTRICT, SQUARE, 1e6, 111.705, 40.805, 111.70, 40.80,
         111.71, 40.81},
        {"150103", "回民区", "", CO_LEVEL_DISTRICT, NULL, 0, 0, 0, 0, 0, 0, 0},
    };
    assert_int_equal(co_store_areas_replace(st, CO_LEVEL_DISTRICT, "", recs, 2), CO_OK);
    co_store_close(st);
    pg_answer(url, "SELECT ST_GeometryType(geom) || ' ' || ST_SRID(geom) FROM areas WHERE code='150102'",
              got, sizeof got);
    assert_string_equal(got, "ST_MultiPolygon 4326");
    pg_answer(url,
              "SELECT code FROM areas WHERE ST_Contains(geom, ST_SetSRID(ST_Point(111.705,40.805),"
              "4326))",
              got, sizeof got);
    assert_string_equal(got, "150102");
    pg_answer(url, "SELECT count(*) FROM areas WHERE geom IS NULL", got, sizeof got);
    assert_string_equal(got, "1");
    rm_rf(dir);
}

/* A small SQLite city: areas, a user, a department, meta, two cases with
 * their events. */
static void build_city(const char *dir)
{
    co_store *st = NULL;
    assert_int_equal(co_store_open(dir, &st), CO_OK);
    co_area_rec a = {"150102", "新城区", "", CO_LEVEL_DISTRICT, SQUARE, 1234.5678901234567,
                     111.705, 40.805, 111.70, 40.80, 111.71, 40.81};
    assert_int_equal(co_store_areas_replace(st, CO_LEVEL_DISTRICT, "", &a, 1), CO_OK);
    co_user_rec u = {0, "zhang", "张三", "$argon2id$x", "operator", "", "", 0};
    assert_int_equal(co_store_user_put(st, &u, NULL), CO_OK);
    co_dept_rec d = {"D-A", "城管", "城管", "150102", ""};
    assert_int_equal(co_store_dept_put(st, &d), CO_OK);
    assert_int_equal(co_store_meta_set(st, "demo_built", "yes"), CO_OK);
    assert_int_equal(co_store_begin(st), CO_OK);
    for (int i = 1; i <= 2; i++) {
        co_case c;
        memset(&c, 0, sizeof c);
        c.id = i;
        snprintf(c.number, sizeof c.number, "202611250000%d", i % 10);
        c.created = c.updated = 1795600000 + i;
        c.state = CO_ST_REGISTERED;
        c.lon = 111.705;
        c.lat = 40.805;
        snprintf(c.description, sizeof c.description, "井盖破损 %d", i);
        snprintf(c.district, sizeof c.district, "150102");
        co_event ev = {0};
        ev.case_id = i;
        ev.ts = c.created;
        snprintf(ev.actor, sizeof ev.actor, "zhang");
        snprintf(ev.role, sizeof ev.role, "operator");
        snprintf(ev.action, sizeof ev.action, "register");
        ev.data = json_pack("{s:s}", "note", "来电");
        assert_int_equal(co_store_event_append(st, &ev), CO_OK);
        c.last_seq = ev.seq;
        co_event_clear(&ev);
        assert_int_equal(co_store_case_put(st, &c), CO_OK);
    }
    assert_int_equal(co_store_commit(st), CO_OK);
    co_store_close(st);
}

typedef struct tally {
    int tables, differ;
    int64_t rows;
} tally;

static void on_table(void *ctx, const char *table, int64_t rows, uint64_t sum_from,
                     uint64_t sum_to, int64_t rows_to)
{
    (void)table;
    tally *t = ctx;
    t->tables++;
    t->rows += rows;
    if (rows != rows_to || sum_from != sum_to)
        t->differ++;
}

static void test_copy(void **state)
{
    (void)state;
    if (!fx_pg_url())
        skip();
    char src[] = "/tmp/cityops-pgsrc-XXXXXX", dst[] = "/tmp/cityops-pgdst-XXXXXX", url[1024];
    assert_non_null(mkdtemp(src));
    assert_non_null(mkdtemp(dst));
    build_city(src);
    schema_url(dst, url, sizeof url);
    tally t = {0};
    char err[256] = "";
    assert_int_equal(co_pgcopy_from_sqlite(src, url, on_table, &t, err, sizeof err), CO_OK);
    assert_int_equal(t.tables, 15);
    assert_int_equal(t.differ, 0);

    co_store *lite = NULL, *pg = NULL;
    assert_int_equal(co_store_open(src, &lite), CO_OK);
    assert_int_equal(co_store_open_url(url, &pg), CO_OK);
    char s1[64] = "", s2[64] = "";
    assert_int_equal(co_store_meta_get(lite, "apikey_salt", s1, sizeof s1), CO_OK);
    assert_int_equal(co_store_meta_get(pg, "apikey_salt", s2, sizeof s2), CO_OK);
    assert_string_equal(s1, s2); /* API key hashes stay valid */
    co_user u1, u2;
    assert_int_equal(co_store_user_get(lite, "zhang", &u1), CO_OK);
    assert_int_equal(co_store_user_get(pg, "zhang", &u2), CO_OK);
    assert_int_equal(u1.id, u2.id);
    co_case c;
    assert_int_equal(co_store_case_get(pg, 0, "2026112500002", &c), CO_OK);
    assert_int_equal(c.id, 2);
    assert_string_equal(c.description, "井盖破损 2");
    /* the sequences go on after the copied rows */
    co_event ev = {0};
    ev.case_id = 2;
    ev.ts = 1795700000;
    snprintf(ev.action, sizeof ev.action, "note");
    assert_int_equal(co_store_event_append(pg, &ev), CO_OK);
    assert_int_equal(ev.seq, 3);
    co_user_rec nu = {0, "li", "李四", "$argon2id$y", "handler", "", "", 0};
    int64_t id = 0;
    assert_int_equal(co_store_user_put(pg, &nu, &id), CO_OK);
    assert_int_equal(id, u1.id + 1);
    co_store_close(lite);
    co_store_close(pg);
    char got[64];
    pg_answer(url, "SELECT count(*) FROM areas WHERE geom IS NOT NULL", got, sizeof got);
    assert_string_equal(got, "1");

    /* a database that holds a city already is refused, and left as it was */
    t = (tally){0};
    assert_int_equal(co_pgcopy_from_sqlite(src, url, on_table, &t, err, sizeof err), CO_EEXIST);
    assert_int_equal(t.tables, 0);
    pg_answer(url, "SELECT count(*) FROM events", got, sizeof got);
    assert_string_equal(got, "3");
    rm_rf(src);
    rm_rf(dst);
}

/* A statement that fails inside a transaction fails its commit (statements
 * of a transaction are pipelined), nothing of it stays, and the connection
 * serves the next transaction. */
static void test_failed_transaction(void **state)
{
    (void)state;
    if (!fx_pg_url())
        skip();
    char dir[] = "/tmp/cityops-pgtx-XXXXXX";
    assert_non_null(mkdtemp(dir));
    co_store *st = NULL;
    assert_int_equal(fx_store_open(dir, &st), CO_OK);
    co_case c;
    memset(&c, 0, sizeof c);
    c.state = CO_ST_REGISTERED;
    c.lon = c.lat = NAN;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(co_store_begin(st), CO_OK);
        c.id = 1 + round * 2;
        snprintf(c.number, sizeof c.number, "2026112500%03d", (1 + round) % 10);
        assert_int_equal(co_store_case_put(st, &c), CO_OK);
        if (round == 0) { /* a second case with the same number: unique violation */
            c.id = 2;
            assert_int_equal(co_store_case_put(st, &c), CO_OK); /* only sent */
            assert_int_not_equal(co_store_commit(st), CO_OK);
            assert_int_equal(co_store_rollback(st), CO_OK);
        } else {
            assert_int_equal(co_store_commit(st), CO_OK);
        }
    }
    co_case got;
    assert_int_equal(co_store_case_get(st, 1, NULL, &got), CO_ENOTFOUND);
    assert_int_equal(co_store_case_get(st, 2, NULL, &got), CO_ENOTFOUND);
    assert_int_equal(co_store_case_get(st, 3, NULL, &got), CO_OK);
    assert_string_equal(got.number, "2026112500002");
    /* and a failure reported by a later statement of the same transaction */
    assert_int_equal(co_store_begin(st), CO_OK);
    c.id = 4; /* the number of case 3 again */
    assert_int_equal(co_store_case_put(st, &c), CO_OK);
    int64_t id = 0, seq = 0;
    assert_int_not_equal(co_store_case_max_id(st, &id, &seq), CO_OK);
    assert_int_equal(co_store_rollback(st), CO_OK);
    assert_int_equal(co_store_case_max_id(st, &id, &seq), CO_OK);
    assert_int_equal(id, 3);
    co_store_close(st);
    rm_rf(dir);
}

int main(void)
{
    co_log_set_level(CO_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_names),
        cmocka_unit_test(test_area_geometry),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_failed_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
