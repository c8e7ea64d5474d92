/* test_dedup.c — unit tests of src/domain/dedup.c: shingles and MinHash
 * signatures, the radius/window and related-category tables, the score, and
 * the cell index (insert, move, close, merge/unmerge, and every query
 * compared with a brute-force scan of the same cases). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/dedup.h"
#include "xorshift.h"

static co_category cat(const char *s)
{
    co_category c = 0;
    if (co_category_parse(s, &c) != CO_OK)
        fail_msg("bad category %s", s);
    return c;
}

/* ------------------------------------------------------------- shingles */

static double exact_jaccard(const char *a, const char *b)
{
    uint64_t sa[4096], sb[4096];
    size_t na = co_dedup_shingles(a, sa, 4096), nb = co_dedup_shingles(b, sb, 4096);
    size_t i = 0, j = 0, both = 0;
    while (i < na && j < nb) {
        if (sa[i] == sb[j]) {
            both++;
            i++;
            j++;
        } else if (sa[i] < sb[j]) {
            i++;
        } else {
            j++;
        }
    }
    size_t uni = na + nb - both;
    return uni ? (double)both / (double)uni : 0;
}

static void test_shingles(void **state)
{
    (void)state;
    uint64_t s[64], t[64];
    assert_int_equal(co_dedup_shingles("", s, 64), 0);
    assert_int_equal(co_dedup_shingles("井", s, 64), 0);
    assert_int_equal(co_dedup_shingles("井盖", s, 64), 1);
    assert_int_equal(co_dedup_shingles("井盖丢", s, 64), 3); /* 2 bigrams + 1 trigram */
    /* punctuation and spaces carry nothing; ASCII case folds */
    size_t n1 = co_dedup_shingles("井盖，丢了！ AB", s, 64);
    size_t n2 = co_dedup_shingles("井盖丢了ab", t, 64);
    assert_int_equal(n1, n2);
    assert_memory_equal(s, t, n1 * sizeof s[0]);
    /* repeats are one shingle */
    assert_int_equal(co_dedup_shingles("哈哈哈哈哈哈", s, 64), 2);
    /* stray bytes do not crash and count as characters */
    assert_int_equal(co_dedup_shingles("\xff\xfe\xe4", s, 64), 3);
}

static void test_minhash(void **state)
{
    (void)state;
    static const char *texts[] = {
        "小区门口的井盖丢了，晚上很危险，请尽快处理",
        "小区门口井盖不见了，晚上走路很危险，麻烦尽快处理一下",
        "幸福小区南门外人行道上有个井盖没了，有人差点掉下去",
        "工地晚上十一点还在施工，噪音太大了，影响休息",
        "夜里工地一直在打桩，吵得睡不着觉",
        "路边有人乱停车，堵住了消防通道",
        "新华大街与锡林郭勒北路交叉口东北角上水井盖破损，需更换。",
        "新华大街与锡林郭勒北路交叉口东北角上水井盖破损需更换",
    };
    size_t n = sizeof texts / sizeof texts[0];
    co_dedup_sig sig[8];
    for (size_t i = 0; i < n; i++)
        co_dedup_signature(texts[i], &sig[i]);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(co_dedup_similarity(&sig[i], &sig[i]) == 1.0);
        for (size_t j = 0; j < n; j++) {
            double est = co_dedup_similarity(&sig[i], &sig[j]);
            double ex = exact_jaccard(texts[i], texts[j]);
            assert_true(est >= 0 && est <= 1);
            assert_true(co_dedup_similarity(&sig[j], &sig[i]) == est); /* symmetric */
            worst = fmax(worst, fabs(est - ex));
        }
    }
    /* 32 slots: the standard error is at most 0.09; allow 3 of them */
    print_message("largest |MinHash - Jaccard| = %.3f\n", worst);
    assert_true(worst < 0.27);
    /* punctuation only differs: the same signature */
    assert_true(co_dedup_similarity(&sig[6], &sig[7]) == 1.0);
    /* a paraphrase is closer than another problem */
    assert_true(co_dedup_similarity(&sig[0], &sig[1]) > co_dedup_similarity(&sig[0], &sig[3]));
    /* no text, no similarity */
    co_dedup_sig empty;
    co_dedup_signature("。", &empty);
    assert_int_equal(empty.nshingles, 0);
    assert_true(co_dedup_similarity(&empty, &empty) == 0);
}

/* ---------------------------------------------------------------- rules */

static void test_rules(void **state)
{
    (void)state;
    struct {
        const char *cat;
        double radius;
        int days;
    } want[] = {
        {"C0101", 30, 7},   {"C0110", 30, 7},   {"E0504", 30, 7},  {"C0207", 50, 7},
        {"E0502", 50, 7},   {"E0102", 50, 3},   {"E0404", 50, 1},  {"E0301", 300, 14},
        {"E0505", 200, 2},  {"E0508", 1000, 3}, {"E0509", 1000, 3}, {"C0104", 50, 7},
        {"E0601", 100, 7},  {"C0601", 100, 7},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        co_dedup_rule r = co_dedup_rule_of(cat(want[i].cat));
        if (r.radius_m != want[i].radius || r.window_days != want[i].days)
            fail_msg("%s: %.0f m %d d, want %.0f m %d d", want[i].cat, r.radius_m,
                     r.window_days, want[i].radius, want[i].days);
    }
    assert_int_equal(co_dedup_relation(cat("C0101"), cat("C0101")), 2);
    assert_int_equal(co_dedup_relation(cat("C0101"), cat("E0504")), 1);
    assert_int_equal(co_dedup_relation(cat("E0504"), cat("C0108")), 1);
    assert_int_equal(co_dedup_relation(cat("E0503"), cat("C0104")), 1);
    assert_int_equal(co_dedup_relation(cat("E0503"), cat("E0512")), 1);
    assert_int_equal(co_dedup_relation(cat("E0301"), cat("E0411")), 1);
    assert_int_equal(co_dedup_relation(cat("E0411"), cat("E0301")), 1);
    assert_int_equal(co_dedup_relation(cat("C0101"), cat("E0411")), 0);
    assert_int_equal(co_dedup_relation(cat("E0404"), cat("E0102")), 0);
    assert_int_equal(co_dedup_relation(CO_CATEGORY_NONE, CO_CATEGORY_NONE), 0);
    co_dedup_rule p = co_dedup_pair_rule(cat("E0301"), cat("E0411"));
    assert_true(p.radius_m == 300 && p.window_days == 14);
}

static void test_distance(void **state)
{
    (void)state;
    /* 0.001° of latitude ≈ 110.6 m; 0.001° of longitude at 40.8° ≈ 84.3 m */
    assert_true(fabs(co_dedup_distance(111.7, 40.8, 111.7, 40.801) - 110.57) < 0.5);
    assert_true(fabs(co_dedup_distance(111.7, 40.8, 111.701, 40.8) - 84.3) < 0.5);
    assert_true(co_dedup_distance(111.7, 40.8, 111.7, 40.8) == 0);
}

static void test_score(void **state)
{
    (void)state;
    co_dedup_rule r = {50, 7};
    double day = 86400;
    assert_true(fabs(co_dedup_score(2, 0, 0, &r, 1.0) - 1.0) < 1e-9);
    assert_true(co_dedup_score(2, 51, 0, &r, 1.0) == 0);          /* outside the radius */
    assert_true(co_dedup_score(2, 10, 8 * day, &r, 1.0) == 0);    /* outside the window */
    assert_true(co_dedup_score(0, 0, 0, &r, 1.0) == 0);           /* unrelated */
    assert_true(co_dedup_score(2, 10, -day, &r, 0.5) == co_dedup_score(2, 10, day, &r, 0.5));
    double prev = 2;
    for (double d = 0; d <= 50; d += 5) { /* farther → lower */
        double s = co_dedup_score(2, d, day, &r, 0.3);
        assert_true(s > 0 && s <= 1 && s <= prev);
        prev = s;
    }
    prev = -1;
    for (double t = 0; t <= 1.0001; t += 0.1) { /* more similar → higher */
        double s = co_dedup_score(2, 20, day, &r, t);
        assert_true(s >= prev);
        prev = s;
    }
    assert_true(co_dedup_score(1, 20, day, &r, 0.4) < co_dedup_score(2, 20, day, &r, 0.4));
    assert_true(co_dedup_score(2, 20, day, &r, 0.4) < co_dedup_score(2, 20, 0, &r, 0.4));
}

/* ---------------------------------------------------------------- index */

static co_case mk(int64_t id, const char *category, double lon, double lat, int64_t created,
                  const char *text)
{
    co_case c;
    memset(&c, 0, sizeof c);
    c.id = id;
    snprintf(c.number, sizeof c.number, "20261125%05lld", (long long)id);
    c.category = cat(category);
    c.lon = lon;
    c.lat = lat;
    c.created = created;
    c.state = CO_ST_REGISTERED;
    snprintf(c.description, sizeof c.description, "%s", text);
    return c;
}

static size_t query(co_dedup *d, const co_case *c, co_dedup_hit *hits, size_t max, double min)
{
    co_dedup_sig sig;
    co_dedup_signature(c->description, &sig);
    co_dedup_query q = {c->category, c->lon, c->lat, c->created, &sig, c->id, min};
    return co_dedup_find(d, &q, hits, max, NULL);
}

#define T0 1764000000

static void test_index_updates(void **state)
{
    (void)state;
    co_dedup *d = co_dedup_new(40.8);
    co_case a = mk(1, "C0101", 111.70000, 40.80000, T0, "幸福小区南门上水井盖丢了，很危险");
    snprintf(a.community, sizeof a.community, "150102001001");
    snprintf(a.district, sizeof a.district, "150102");
    co_dedup_update(d, &a);
    co_dedup_hit h[8];
    /* a re-report 15 m away, an hour later */
    co_case b = mk(2, "C0101", 111.70000, 40.80013, T0 + 3600, "幸福小区南门口井盖不见了，危险");
    assert_int_equal(query(d, &b, h, 8, 0), 1);
    assert_int_equal(h[0].id, 1);
    assert_string_equal(h[0].number, a.number);
    assert_true(h[0].distance_m > 13 && h[0].distance_m < 16);
    assert_string_equal(h[0].description, a.description); /* shown without the store */
    assert_string_equal(h[0].area, "150102001001");
    assert_true(h[0].score > 0.5);
    /* the related subclass 井盖缺失 finds it too, with a lower score */
    co_case b2 = b;
    b2.category = cat("E0504");
    assert_int_equal(query(d, &b2, h, 8, 0), 1);
    /* 60 m away: outside a manhole's 30 m */
    co_case far = mk(3, "C0101", 111.70000, 40.80054, T0 + 3600, a.description);
    assert_int_equal(query(d, &far, h, 8, 0), 0);
    /* another category on the same spot */
    co_case other = mk(4, "E0404", a.lon, a.lat, T0 + 3600, a.description);
    assert_int_equal(query(d, &other, h, 8, 0), 0);
    /* eight days later: outside the window */
    co_case late = mk(5, "C0101", a.lon, a.lat, T0 + 8 * 86400, a.description);
    assert_int_equal(query(d, &late, h, 8, 0), 0);
    /* the case itself is excluded */
    assert_int_equal(query(d, &a, h, 8, 0), 0);
    /* moved 200 m: found at the new place only */
    co_case moved = a;
    moved.lat += 0.0018;
    co_dedup_update(d, &moved);
    assert_int_equal(query(d, &b, h, 8, 0), 0);
    co_case near_moved = b;
    near_moved.lat = moved.lat;
    assert_int_equal(query(d, &near_moved, h, 8, 0), 1);
    co_dedup_update(d, &a);
    /* dispatched is still open; closed is gone */
    a.state = CO_ST_DISPATCHED;
    co_dedup_update(d, &a);
    assert_int_equal(query(d, &b, h, 8, 0), 1);
    assert_int_equal(h[0].state, CO_ST_DISPATCHED);
    a.state = CO_ST_CLOSED;
    co_dedup_update(d, &a);
    assert_int_equal(query(d, &b, h, 8, 0), 0);
    co_dedup_info info;
    co_dedup_get_info(d, &info);
    assert_int_equal(info.open, 0);
    /* reopened: back */
    a.state = CO_ST_FILED;
    co_dedup_update(d, &a);
    assert_int_equal(query(d, &b, h, 8, 0), 1);
    /* b merged into a: listed under a, not a candidate any more */
    co_dedup_update(d, &b);
    co_case c3 = mk(6, "C0101", b.lon, b.lat, T0 + 7200, b.description);
    assert_int_equal(query(d, &c3, h, 8, 0), 2);
    b.state = CO_ST_MERGED;
    snprintf(b.merged_into, sizeof b.merged_into, "%s", a.number);
    co_dedup_update(d, &b);
    assert_int_equal(query(d, &c3, h, 8, 0), 1);
    int64_t ids[4];
    assert_int_equal(co_dedup_merged_of(d, a.number, ids, 4), 1);
    assert_int_equal(ids[0], 2);
    assert_int_equal(co_dedup_merged_of(d, "2026112500099", ids, 4), 0);
    /* unmerged: a candidate again, no longer listed */
    b.state = CO_ST_REGISTERED;
    b.merged_into[0] = '\0';
    co_dedup_update(d, &b);
    assert_int_equal(co_dedup_merged_of(d, a.number, ids, 4), 0);
    assert_int_equal(query(d, &c3, h, 8, 0), 2);
    /* unclassified or unlocated cases are not indexed */
    co_case u = mk(7, "C0101", NAN, NAN, T0, "x");
    co_dedup_update(d, &u);
    co_dedup_get_info(d, &info);
    assert_int_equal(info.open, 2);
    co_dedup_free(d);
}

/* Random cases in a 2 km square: every query's hits equal a brute-force
 * scan of the open cases with the same rules, best first. */
static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void) { return xorshift64(&rng); }
static double ur(void) { return xorshift_unit(&rng); }

static void test_index_matches_brute_force(void **state)
{
    (void)state;
    static const char *cats[] = {"C0101", "E0504", "C0102", "E0301", "E0411", "E0404", "E0503",
                                 "C0104", "E0508"};
    static const char *words[] = {"井盖丢了很危险", "工地夜间施工噪音大", "门口有车乱停",
                                  "路上积水很深", "小区停电了", "下水道堵了冒水"};
    enum { N = 3000 };
    static co_case cs[N];
    co_dedup *d = co_dedup_new(40.8);
    for (int i = 0; i < N; i++) {
        cs[i] = mk(i + 1, cats[xr() % 9], 111.69 + ur() * 0.024, 40.79 + ur() * 0.018,
                   T0 + (int64_t)(ur() * 20 * 86400), words[xr() % 6]);
        cs[i].state = xr() % 4 == 0 ? CO_ST_CLOSED : CO_ST_FILED;
        co_dedup_update(d, &cs[i]);
    }
    co_dedup_hit got[20];
    size_t total = 0;
    for (int k = 0; k < 300; k++) {
        co_case *q = &cs[xr() % N];
        size_t n = query(d, q, got, 20, 0.2);
        /* brute force */
        co_dedup_sig qs;
        co_dedup_signature(q->description, &qs);
        size_t want = 0;
        double best = 0;
        for (int i = 0; i < N; i++) {
            const co_case *e = &cs[i];
            if (e->id == q->id || !co_state_is_open(e->state))
                continue;
            int rel = co_dedup_relation(q->category, e->category);
            co_dedup_rule r = co_dedup_pair_rule(q->category, e->category);
            co_dedup_sig es;
            co_dedup_signature(e->description, &es);
            double s = co_dedup_score(rel, co_dedup_distance(q->lon, q->lat, e->lon, e->lat),
                                      (double)(q->created - e->created), &r,
                                      co_dedup_similarity(&qs, &es));
            if (s > 0 && s >= 0.2) {
                want++;
                best = fmax(best, s);
            }
        }
        assert_int_equal(n, want < 20 ? want : 20);
        if (n) {
            assert_true(fabs(got[0].score - best) < 1e-12);
            for (size_t i = 1; i < n; i++)
                assert_true(got[i - 1].score >= got[i].score);
        }
        total += want;
    }
    assert_true(total > 300); /* the queries did find things */
    co_dedup_free(d);
}

/* Rings of cases just inside and just outside the pair's radius, around
 * points north and south of the index's reference latitude: a query finds
 * every case inside and none outside, so the cells it looks at cover the
 * whole radius whatever the cell size of the related subclass. */
static void test_radius_edge(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        {"C0101", "C0101"}, /* 30 m, cells of 30 m */
        {"C0104", "C0101"}, /* 50 m, cells of 30 m */
        {"C0101", "C0104"}, /* 50 m, cells of 50 m */
        {"E0508", "E0501"}, /* 1000 m, cells of 200 m */
        {"E0501", "E0508"}, /* 1000 m, cells of 1000 m */
        {"E0503", "C0103"}, /* 100 m, cells of 30 m */
    };
    enum { ANGLES = 72 };
    int64_t id = 1;
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        for (int k = 0; k < 8; k++) {
            co_dedup *d = co_dedup_new(40.8);
            double lon = 111.5 + ur() * 0.5, lat = 40.3 + ur() * 1.0;
            co_case q = mk(id++, pairs[p][0], lon, lat, T0, "井盖丢了很危险");
            co_dedup_rule r = co_dedup_pair_rule(q.category, cat(pairs[p][1]));
            int inside = 0;
            for (int a = 0; a < ANGLES; a++) {
                double th = (a + ur()) * 2 * M_PI / ANGLES;
                for (int out = 0; out <= 1; out++) {
                    double m = r.radius_m * (out ? 1.003 : 0.997);
                    double elat = lat + m * sin(th) / 110574.0;
                    double elon = lon + m * cos(th) / (111320.0 * cos((lat + elat) / 2 * M_PI / 180));
                    double dist = co_dedup_distance(lon, lat, elon, elat);
                    assert_true(out ? dist > r.radius_m : dist < r.radius_m);
                    co_case e = mk(id++, pairs[p][1], elon, elat, T0, "井盖丢了很危险");
                    co_dedup_update(d, &e);
                    inside += !out;
                }
            }
            co_dedup_hit got[2 * ANGLES];
            size_t n = query(d, &q, got, 2 * ANGLES, 0);
            assert_int_equal(n, (size_t)inside);
            for (size_t i = 0; i < n; i++)
                assert_true(got[i].distance_m <= r.radius_m);
            co_dedup_free(d);
        }
    }
}

/* Long descriptions are kept cut at a character boundary. */
static void test_text_is_cut(void **state)
{
    (void)state;
    co_dedup *d = co_dedup_new(40.8);
    char text[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(text, "井"); /* 3 bytes each: 900 bytes */
    co_case c = mk(1, "C0101", 111.7, 40.8, T0, text);
    co_dedup_update(d, &c);
    co_case q = mk(2, "C0101", 111.7, 40.8, T0, text);
    co_dedup_hit h[1];
    assert_int_equal(query(d, &q, h, 1, 0), 1);
    size_t n = strlen(h[0].description);
    assert_true(n < CO_DEDUP_TEXT_MAX && n % 3 == 0 && n >= CO_DEDUP_TEXT_MAX - 3);
    assert_memory_equal(h[0].description, text, n);
    co_dedup_free(d);
}

/* A flood of identical open reports on one spot: a query stays bounded
 * (at most 4096 entries scored) and still returns the best it saw. */
static void test_flood_is_bounded(void **state)
{
    (void)state;
    co_dedup *d = co_dedup_new(40.8);
    for (int i = 1; i <= 6000; i++) {
        co_case c = mk(i, "C0101", 111.7, 40.8, T0 + i, "压测：人行道井盖破损");
        co_dedup_update(d, &c);
    }
    co_case q = mk(7000, "C0101", 111.7, 40.8, T0 + 7000, "压测：人行道井盖破损");
    co_dedup_sig sig;
    co_dedup_signature(q.description, &sig);
    co_dedup_query qq = {q.category, q.lon, q.lat, q.created, &sig, 0, 0};
    co_dedup_hit h[5];
    size_t visited = 0;
    assert_int_equal(co_dedup_find(d, &qq, h, 5, &visited), 5);
    assert_int_equal(visited, 4096);
    assert_true(h[0].score > 0.99);
    co_dedup_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shingles),
        cmocka_unit_test(test_minhash),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_index_updates),
        cmocka_unit_test(test_index_matches_brute_force),
        cmocka_unit_test(test_flood_is_bounded),
        cmocka_unit_test(test_radius_edge),
        cmocka_unit_test(test_text_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
