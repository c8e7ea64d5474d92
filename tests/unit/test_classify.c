/* test_classify.c — unit tests of src/classify/: feature extraction on
 * tricky UTF-8 (full-width forms, digits, punctuation, invalid bytes), the
 * model file round trip and its corruption checks, deterministic training,
 * danger cues, the register-event annotation, which stored cases count as
 * confirmed labels (and that generated demo history does not), and a sanity floor: a model
 * trained on the seed set (share/classify/train) must classify the small
 * hand-written set tests/unit/data/classify_sanity.jsonl (not part of the
 * seed or evaluation sets) clearly better than chance. Run from the
 * repository root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify/cues.h"
#include "classify/data.h"
#include "classify/features.h"
#include "classify/model.h"
#include "classify/service.h"
#include "classify/train.h"
#include "lib/alloc.h"
#include "store_fixture.h"

#define SEED_DIR "share/classify/train"
#define SANITY "tests/unit/data/classify_sanity.jsonl"

static size_t feats(const char *s, uint32_t *out)
{
    return co_features_extract(s, strlen(s), 16, 3, out, CO_FEAT_MAX);
}

static int same_feats(const char *a, const char *b)
{
    uint32_t fa[CO_FEAT_MAX], fb[CO_FEAT_MAX];
    size_t na = feats(a, fa), nb = feats(b, fb);
    return na == nb && !memcmp(fa, fb, na * sizeof *fa);
}

static void test_normalize(void **state)
{
    (void)state;
    /* full-width letters and digits fold to ASCII; digits collapse to one '0' */
    assert_true(same_feats("ＡＢＣ１２３号楼", "abc9号楼"));
    assert_true(same_feats("路灯 不亮", "路灯，不亮"));
    assert_true(same_feats("路灯　不亮！！", "路灯 不亮"));
    assert_false(same_feats("路灯不亮", "路灯 不亮")); /* the boundary removes 灯不 */
    uint32_t cps[64];
    size_t n = co_features_normalize("A１b", strlen("A１b"), cps, 64);
    assert_int_equal(n, 3);
    assert_int_equal(cps[0], 'a');
    assert_int_equal(cps[1], '0');
    n = co_features_normalize("A１b", 3, cps, 64); /* "A" + two bytes of "１" */
    assert_int_equal(n, 2);
    assert_int_equal(cps[1], 0);
    n = co_features_normalize("井盖①②", strlen("井盖①②"), cps, 64);
    assert_int_equal(n, 3);
    assert_int_equal(cps[2], '0');
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    uint32_t f[CO_FEAT_MAX], cps[64];
    /* overlong '/', a lone continuation byte, a surrogate, a truncated 3-byte
     * sequence, 0xFF: all boundaries, never crashes, never characters */
    const char bad[] = "\xC0\xAF井\x80盖\xED\xA0\x80坏\xE4\xBD\xFF了";
    size_t n = co_features_normalize(bad, sizeof bad - 1, cps, 64);
    for (size_t i = 0; i < n; i++)
        assert_true(cps[i] == 0 || cps[i] >= 0x4E00);
    assert_int_equal(n, 7); /* 井 0 盖 0 坏 0 了 */
    assert_int_equal(feats(bad, f), 4); /* four unigrams, no n-gram crosses a bad byte */
    assert_int_equal(co_features_extract("", 0, 16, 3, f, CO_FEAT_MAX), 0);
    assert_int_equal(co_features_extract("！？。", strlen("！？。"), 16, 3, f, CO_FEAT_MAX), 0);
    /* sorted and distinct */
    n = feats("垃圾垃圾垃圾没人清理垃圾", f);
    for (size_t i = 1; i < n; i++)
        assert_true(f[i - 1] < f[i]);
    /* bits out of range give nothing */
    assert_int_equal(co_features_extract("路灯", strlen("路灯"), 40, 3, f, CO_FEAT_MAX), 0);
}

static void test_cues(void **state)
{
    (void)state;
    const char *crit[] = {"楼道里一股煤气味", "电梯困人了快来", "路口井盖没了，车都绕着走",
                          "主路上突然塌陷一个坑", "高压电线断了掉在路上"};
    for (size_t i = 0; i < sizeof crit / sizeof *crit; i++)
        assert_true(co_clf_danger(crit[i], strlen(crit[i])));
    const char *calm[] = {"路灯不亮", "井盖响，开车压过去咣当咣当", "小区停车位太少",
                          "燃气费怎么交"};
    for (size_t i = 0; i < sizeof calm / sizeof *calm; i++)
        assert_false(co_clf_danger(calm[i], strlen(calm[i])));
}

/* A small fixed training set written here. */
static void tiny_data(co_clf_data *d)
{
    static const char *const rows[][4] = {
        {"路灯不亮了晚上很黑", "C0112", "complaint", "normal"},
        {"这条街的路灯坏了好几天", "C0112", "complaint", "normal"},
        {"灯杆倒了灯也不亮", "C0112", "help", "urgent"},
        {"垃圾桶满了没人清", "E0107", "complaint", "normal"},
        {"垃圾箱溢出来了臭气熏天", "E0107", "complaint", "normal"},
        {"垃圾满地没人收", "E0107", "complaint", "normal"},
        {"闻到煤气味很浓", "E0505", "help", "critical"},
        {"燃气管道漏气了", "E0505", "help", "critical"},
        {"楼道里燃气泄漏", "E0505", "report", "critical"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        co_clf_data_add(d, rows[i][0], rows[i][1], co_clf_reqtype_index(rows[i][2]),
                        co_clf_severity_index(rows[i][3]), CO_CLF_SRC_SEED, 1.0f);
}

static co_clf_model *train_tiny(int algo)
{
    co_clf_data d = {0};
    tiny_data(&d);
    co_clf_train_opts o;
    co_clf_train_opts_default(&o);
    o.bits = 14;
    o.algo = algo;
    o.holdout_pct = 0;
    co_clf_model *m = NULL;
    assert_int_equal(co_clf_train(&d, &o, &m, NULL), CO_OK);
    co_clf_data_free(&d);
    return m;
}

static int same_model(const co_clf_model *a, const co_clf_model *b)
{
    if (a->nrows != b->nrows || a->bits != b->bits ||
        memcmp(a->buckets, b->buckets, a->nrows * sizeof *a->buckets))
        return 0;
    for (int t = 0; t < CO_CLF_NTASKS; t++) {
        const co_clf_head *x = &a->heads[t], *y = &b->heads[t];
        if (x->nclasses != y->nclasses || x->temp != y->temp ||
            memcmp(x->labels, y->labels, x->nclasses * sizeof *x->labels) ||
            memcmp(x->bias, y->bias, x->nclasses * sizeof(float)) ||
            memcmp(x->tok, y->tok, x->nclasses * sizeof(float)) ||
            memcmp(x->rows, y->rows, (size_t)a->nrows * x->nclasses * sizeof(float)))
            return 0;
    }
    return 1;
}

static void test_determinism_and_tiny(void **state)
{
    (void)state;
    for (int algo = CO_CLF_NB; algo <= CO_CLF_LR; algo++) {
        co_clf_model *a = train_tiny(algo), *b = train_tiny(algo);
        assert_true(same_model(a, b));
        co_clf_result r;
        const char *t = "家门口的路灯不亮";
        co_clf_model_predict(a, t, strlen(t), &r);
        assert_string_equal(r.top[0].label, "C0112");
        assert_int_equal(r.ntop, 3);
        float sum = r.top[0].score + r.top[1].score + r.top[2].score;
        assert_true(sum <= 1.0001f && r.top[0].score >= r.top[1].score &&
                    r.top[1].score >= r.top[2].score);
        const char *g = "厨房有煤气味";
        co_clf_model_predict(a, g, strlen(g), &r);
        assert_string_equal(r.top[0].label, "E0505");
        assert_string_equal(r.severity.label, "critical");
        co_clf_model_free(a);
        co_clf_model_free(b);
    }
}

static void test_save_load(void **state)
{
    (void)state;
    co_clf_model *m = train_tiny(CO_CLF_LR), *back = NULL;
    char path[] = "/tmp/cityops-test-classify-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(co_clf_model_save(m, path), CO_OK);
    assert_int_equal(co_clf_model_load(path, &back), CO_OK);
    assert_true(same_model(m, back));
    assert_int_equal(back->examples, m->examples);
    assert_int_equal(back->trained, m->trained);
    co_clf_result r1, r2;
    const char *t = "垃圾桶满了";
    co_clf_model_predict(m, t, strlen(t), &r1);
    co_clf_model_predict(back, t, strlen(t), &r2);
    assert_string_equal(r1.top[0].label, r2.top[0].label);
    assert_true(r1.top[0].score == r2.top[0].score);
    co_clf_model_free(back);
    /* flip one byte in the middle: the checksum catches it */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
    back = NULL;
    assert_int_equal(co_clf_model_load(path, &back), CO_EINVAL);
    assert_null(back);
    /* truncated */
    assert_int_equal(truncate(path, size / 3), 0);
    assert_int_equal(co_clf_model_load(path, &back), CO_EINVAL);
    unlink(path);
    assert_int_equal(co_clf_model_load(path, &back), CO_ENOTFOUND);
    co_clf_model_free(m);
}

static void test_annotate(void **state)
{
    (void)state;
    co_event ev = {0};
    ev.data = json_pack("{s:{s:i}}", "case", "id", 7);
    ev.data_text = strdup("{\"case\":{\"id\":7}}");
    co_clf_intake ci = {.ran = 1, .filed = 1, .model_version = 42, .ntop = 2};
    snprintf(ci.code[0], sizeof ci.code[0], "C0112");
    snprintf(ci.code[1], sizeof ci.code[1], "E0107");
    ci.score[0] = 0.75f;
    ci.score[1] = 0.125f;
    assert_int_equal(co_clf_annotate(&ev, &ci), CO_OK);
    json_t *back = json_loads(ev.data_text, 0, NULL);
    assert_non_null(back);
    json_t *cl = json_object_get(back, "classified");
    assert_string_equal(json_string_value(json_object_get(cl, "code")), "C0112");
    assert_int_equal(json_integer_value(json_object_get(cl, "model")), 42);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(back, "case"), "id")), 7);
    assert_true(json_equal(back, ev.data));
    json_decref(back);
    co_event_clear(&ev);
    /* below the threshold: only suggestions */
    ev.data = json_object();
    ev.data_text = strdup("{}");
    ci.filed = 0;
    assert_int_equal(co_clf_annotate(&ev, &ci), CO_OK);
    back = json_loads(ev.data_text, 0, NULL);
    assert_null(json_object_get(back, "classified"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(back, "suggested"), "top")), 2);
    json_decref(back);
    co_event_clear(&ev);
}

static co_taxonomy *no_taxonomy(void *arg)
{
    (void)arg;
    return NULL;
}

/* Labels past the retrain count tell the trainer once; while the gap after
 * the last training holds it back it sleeps, it is not woken per label. */
static void test_labels_wake_trainer_once(void **state)
{
    (void)state;
    co_clf_model *m = train_tiny(CO_CLF_LR);
    co_clf_service_opts o = {.threshold = 0.7, .retrain_labels = 5, .retrain_hour = -1,
                             .background = 1};
    snprintf(o.model_path, sizeof o.model_path, "/tmp/cityops-test-trainer-XXXXXX");
    int fd = mkstemp(o.model_path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(co_clf_model_save(m, o.model_path), CO_OK);
    co_clf_model_free(m);
    co_clf_service *s = NULL;
    assert_int_equal(co_clf_service_start(&o, NULL, no_taxonomy, NULL, &s), CO_OK);
    co_case c = {0};
    assert_int_equal(co_category_parse("C0112", &c.category), CO_OK);
    co_event ev = {0};
    snprintf(ev.action, sizeof ev.action, "register");
    snprintf(ev.role, sizeof ev.role, "operator");
    usleep(20000); /* the trainer is waiting */
    uint64_t before = co_clf_service_wakeups(s);
    for (int i = 0; i < 200; i++) {
        co_clf_service_observe(s, &c, &ev);
        usleep(200);
    }
    usleep(20000);
    uint64_t woke = co_clf_service_wakeups(s) - before;
    print_message("trainer woke %llu times for 200 labels\n", (unsigned long long)woke);
    assert_true(woke >= 1); /* told once, at the fifth label */
    assert_true(woke <= 2);
    co_clf_service_stop(s);
    unlink(o.model_path);
}

static void test_sanity_floor(void **state)
{
    (void)state;
    co_clf_data d = {0}, sanity = {0};
    if (co_clf_data_load_dir(&d, SEED_DIR, NULL) != CO_OK || d.n < 500) {
        co_clf_data_free(&d);
        skip(); /* the seed set is not there */
    }
    assert_int_equal(co_clf_data_load_jsonl(&sanity, SANITY, NULL), CO_OK);
    assert_int_equal(sanity.rejected, 0);
    assert_true(sanity.n >= 30);
    co_clf_train_opts o;
    co_clf_train_opts_default(&o);
    o.algo = CO_CLF_LR;
    o.holdout_pct = 0;
    o.bits = 18;
    o.epochs = 6; /* a floor, not the best model: keep the test quick under ASan */
    co_clf_model *m = NULL;
    assert_int_equal(co_clf_train(&d, &o, &m, NULL), CO_OK);
    co_clf_eval ev;
    co_clf_evaluate(m, &sanity, NULL, &ev);
    print_message("sanity set: top-1 %.2f top-3 %.2f request type %.2f severity %.2f\n", ev.top1,
                  ev.top3, ev.reqtype, ev.severity);
    /* chance is below 1 % for 115 subclasses; these floors leave a margin */
    assert_true(ev.top1 >= 0.6);
    assert_true(ev.top3 >= 0.75);
    assert_true(ev.severity >= 0.5);
    co_clf_model_free(m);
    co_clf_data_free(&d);
    co_clf_data_free(&sanity);
}


/* ------------------------------------------------ confirmed cases in a store */

static void put_case(co_store *st, int64_t id, const char *cat, const char *text,
                     const char *role, int auto_filed, const char *later_action)
{
    co_case c;
    memset(&c, 0, sizeof c);
    c.id = id;
    snprintf(c.number, sizeof c.number, "20261125%05lld", (long long)id);
    c.created = c.updated = 1764000000 + id;
    c.state = CO_ST_REGISTERED;
    snprintf(c.description, sizeof c.description, "%s", text);
    if (cat)
        assert_int_equal(co_category_parse(cat, &c.category), CO_OK);
    co_event ev = {.case_id = id, .ts = c.created, .from = CO_ST_NONE, .to = CO_ST_REGISTERED};
    snprintf(ev.actor, sizeof ev.actor, "%s", *role ? "someone" : "");
    snprintf(ev.role, sizeof ev.role, "%s", role);
    snprintf(ev.action, sizeof ev.action, "register");
    ev.data = json_pack("{s:{s:I}}", "case", "id", (json_int_t)id);
    if (auto_filed)
        json_object_set_new(ev.data, "classified", json_pack("{s:s,s:f}", "code", cat, "score", 0.9));
    assert_int_equal(co_store_event_append(st, &ev), CO_OK);
    co_event_clear(&ev);
    if (later_action) {
        co_event e2 = {.case_id = id, .ts = c.created + 60, .from = CO_ST_REGISTERED,
                       .to = CO_ST_REGISTERED};
        snprintf(e2.actor, sizeof e2.actor, "lead");
        snprintf(e2.role, sizeof e2.role, "%s", !strcmp(later_action, "file") ? "shiftlead" : "dispatcher");
        snprintf(e2.action, sizeof e2.action, "%s", later_action);
        e2.data = json_object();
        assert_int_equal(co_store_event_append(st, &e2), CO_OK);
        c.last_seq = e2.seq;
        co_event_clear(&e2);
    }
    assert_int_equal(co_store_case_put(st, &c), CO_OK);
}

static void test_store_labels(void **state)
{
    (void)state;
    char dir[] = "/tmp/cityops-test-clfstore-XXXXXX";
    assert_non_null(mkdtemp(dir));
    co_store *st = NULL;
    assert_int_equal(fx_store_open(dir, &st), CO_OK);
    assert_int_equal(co_store_begin(st), CO_OK);
    put_case(st, 1, "C0112", "generated: 发现路灯", "operator", 0, NULL); /* demo history */
    put_case(st, 2, "E0402", "staff chose it: 早市占道", "operator", 0, NULL);
    put_case(st, 3, "E0107", "the classifier chose it", "operator", 1, NULL);
    put_case(st, 4, "E0107", "the classifier chose, a dispatcher corrected", "operator", 1,
             "reclassify");
    put_case(st, 5, "C0203", "a citizen chose it", "", 0, NULL);
    put_case(st, 6, "C0203", "a citizen chose it, the shift lead filed it", "", 0, "file");
    put_case(st, 7, NULL, "nobody classified it", "operator", 0, NULL);
    assert_int_equal(co_store_meta_set(st, "demo_history_max_id", "1"), CO_OK);
    assert_int_equal(co_store_commit(st), CO_OK);
    co_clf_data d = {0};
    size_t added = 0;
    assert_int_equal(co_clf_data_load_store(&d, st, NULL, &added), CO_OK);
    assert_int_equal(added, 3);
    assert_int_equal(d.n, 3);
    int seen = 0;
    for (size_t i = 0; i < d.n; i++) {
        assert_int_equal(d.v[i].source, CO_CLF_SRC_STORE);
        static const char *const want[][2] = {{"staff chose it", "E0402"},
                                              {"dispatcher corrected", "E0107"},
                                              {"shift lead filed", "C0203"}};
        for (int k = 0; k < 3; k++)
            if (strstr(d.v[i].text, want[k][0])) {
                assert_string_equal(d.v[i].label, want[k][1]);
                seen |= 1 << k;
            }
    }
    assert_int_equal(seen, 7);
    co_clf_data_free(&d);
    co_store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_cues),
        cmocka_unit_test(test_determinism_and_tiny),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_annotate),
        cmocka_unit_test(test_store_labels),
        cmocka_unit_test(test_labels_wake_trainer_once),
        cmocka_unit_test(test_sanity_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
