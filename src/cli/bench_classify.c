/* bench_classify.c — `cityops bench classify --eval FILE`: accuracy of the
 * text classifier on a held-out evaluation set (top-1/top-3 subclass,
 * request type, severity, per-class precision/recall, the most frequent
 * confusions), throughput on one core, model load time and size. The model
 * is --model PATH, DIR/classify/model.bin with --data DIR, or trained here
 * from the seed set (--train DIR, default share/classify/train) and the
 * taxonomy. The evaluation file is only read for scoring, never trained on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "classify/service.h"
#include "cli/bench.h"
#include "cli/cli.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cityops bench classify --eval FILE [--model PATH | --data DIR | --train DIR]\n"
            "                              [--algo auto|nb|lr] [--bits N] [--ngram N] [--top N]\n"
            "  Scores the classifier on FILE (JSON lines {text, category, request_type,\n"
            "  severity}): top-1/top-3 subclass accuracy, request type and severity accuracy,\n"
            "  per-class precision/recall, the N (15) most frequent confusion pairs, texts/s\n"
            "  on one core, model load time and size. Without --model/--data the model is\n"
            "  trained from the seed set (--train DIR, default share/classify/train) plus the\n"
            "  taxonomy, saved to a temporary file and loaded back. FILE is never trained on.\n"
            "  评测集只用于打分，绝不用于训练。\n");
}

static co_taxonomy *load_taxonomy(const char *home)
{
    char path[1100], types[1100], err[256];
    snprintf(path, sizeof path, "%s/share/taxonomy/default.json", home);
    snprintf(types, sizeof types, "%s/share/departments.json", home);
    json_t *dt = json_load_file(types, 0, NULL);
    co_taxonomy *t = NULL;
    if (co_taxonomy_load_file(path, dt, &t, err, sizeof err))
        fprintf(stderr, "cityops bench classify: taxonomy: %s\n", err);
    json_decref(dt);
    return t;
}

static const char *name_of(const co_taxonomy *tax, const char *label)
{
    co_category cat;
    if (!tax || co_category_parse(label, &cat))
        return "?";
    char code[8];
    snprintf(code, sizeof code, "%04d", co_category_code(cat));
    const co_taxonomy_subclass *s = co_taxonomy_find_subclass(
        tax, co_category_kind(cat) == 1 ? CO_TAXONOMY_COMPONENT : CO_TAXONOMY_EVENT, code);
    return s ? s->name : "?";
}

typedef struct pair {
    const char *truth, *pred;
    int n;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->n != y->n)
        return y->n - x->n;
    int c = strcmp(x->truth, y->truth);
    return c ? c : strcmp(x->pred, y->pred);
}

/* Per-class counts indexed like the model's category head. */
typedef struct classes {
    const co_clf_head *h;
    int *tp, *fp, *fn;
} classes;

static int class_index(const co_clf_head *h, const char *label)
{
    for (uint32_t c = 0; c < h->nclasses; c++)
        if (!strcmp(h->labels[c], label))
            return (int)c;
    return -1;
}

static void report(const co_clf_model *m, const co_clf_data *ev, const co_taxonomy *tax,
                   int ntop_pairs)
{
    const co_clf_head *h = &m->heads[CO_CLF_CATEGORY];
    classes k = {h, co_xcalloc(h->nclasses, sizeof(int)), co_xcalloc(h->nclasses, sizeof(int)),
                 co_xcalloc(h->nclasses, sizeof(int))};
    pair *pairs = NULL;
    size_t npairs = 0, cap = 0, unknown = 0, n = 0, hit1 = 0, hit3 = 0, nrt = 0, hrt = 0, nsev = 0,
           hsev = 0, ncrit = 0, hcrit = 0;
    static const double ths[] = {0.3, 0.5, 0.7, 0.9};
    size_t above[4] = {0}, right[4] = {0};
    for (size_t i = 0; i < ev->n; i++) {
        const co_clf_example *e = &ev->v[i];
        co_clf_result r;
        co_clf_model_predict(m, e->text, strlen(e->text), &r);
        if (e->label[0]) {
            n++;
            for (int t = 0; t < r.ntop; t++)
                if (!strcmp(r.top[t].label, e->label)) {
                    hit1 += t == 0;
                    hit3++;
                }
            for (int q = 0; q < 4; q++)
                if (r.top[0].score >= ths[q]) {
                    above[q]++;
                    right[q] += !strcmp(r.top[0].label, e->label);
                }
            int ti = class_index(h, e->label), pi = class_index(h, r.top[0].label);
            if (ti < 0)
                unknown++;
            if (ti >= 0 && ti == pi) {
                k.tp[ti]++;
            } else {
                if (ti >= 0)
                    k.fn[ti]++;
                if (pi >= 0)
                    k.fp[pi]++;
                size_t j = 0;
                while (j < npairs && (strcmp(pairs[j].truth, e->label) ||
                                      strcmp(pairs[j].pred, r.top[0].label)))
                    j++;
                if (j == npairs) {
                    pairs = co_xgrow(pairs, &cap, npairs + 1, sizeof *pairs);
                    pairs[npairs++] = (pair){e->label, r.top[0].label, 0};
                }
                pairs[j].n++;
            }
        }
        if (e->reqtype >= 0) {
            nrt++;
            hrt += !strcmp(r.reqtype.label, co_clf_reqtype_labels[e->reqtype]);
        }
        if (e->severity >= 0) {
            nsev++;
            hsev += !strcmp(r.severity.label, co_clf_severity_labels[e->severity]);
            if (e->severity == 2) {
                ncrit++;
                hcrit += !strcmp(r.severity.label, "critical");
            }
        }
    }
    printf("eval texts: %zu (with a subclass %zu, of which %zu in classes the model does not know)\n",
           ev->n, n, unknown);
    printf("top-1 subclass accuracy: %.1f %%\n", n ? 100.0 * (double)hit1 / (double)n : 0);
    printf("top-3 subclass accuracy: %.1f %%\n", n ? 100.0 * (double)hit3 / (double)n : 0);
    printf("request type accuracy:   %.1f %% (n=%zu)\n", nrt ? 100.0 * (double)hrt / (double)nrt : 0, nrt);
    printf("severity accuracy:       %.1f %% (n=%zu; 特急 recall %.1f %% of %zu)\n",
           nsev ? 100.0 * (double)hsev / (double)nsev : 0, nsev,
           ncrit ? 100.0 * (double)hcrit / (double)ncrit : 0, ncrit);
    printf("auto-filing at a threshold (intake): top-1 score ≥ t → share of texts filed, "
           "precision\n");
    for (int q = 0; q < 4; q++)
        printf("  t=%.1f  filed %.1f %%  precision %.1f %%\n", ths[q],
               n ? 100.0 * (double)above[q] / (double)n : 0,
               above[q] ? 100.0 * (double)right[q] / (double)above[q] : 0);
    printf("\nper-class precision / recall (top-1):\n  code   name              prec    rec  support\n");
    for (uint32_t c = 0; c < h->nclasses; c++) {
        int sup = k.tp[c] + k.fn[c], pr = k.tp[c] + k.fp[c];
        if (!sup && !pr)
            continue;
        printf("  %-6s %-16s %5.1f  %5.1f  %4d\n", h->labels[c], name_of(tax, h->labels[c]),
               pr ? 100.0 * k.tp[c] / pr : 0.0, sup ? 100.0 * k.tp[c] / sup : 0.0, sup);
    }
    qsort(pairs, npairs, sizeof *pairs, cmp_pair);
    printf("\nmost frequent confusions (truth → predicted):\n");
    for (size_t j = 0; j < npairs && (int)j < ntop_pairs; j++)
        printf("  %3d  %s %s → %s %s\n", pairs[j].n, pairs[j].truth, name_of(tax, pairs[j].truth),
               pairs[j].pred, name_of(tax, pairs[j].pred));
    co_free(pairs);
    co_free(k.tp);
    co_free(k.fp);
    co_free(k.fn);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Texts per second on this thread: by its CPU time (what one core does,
 * whatever else the machine runs) and by the wall clock. */
static void speed(const co_clf_model *m, const co_clf_data *ev)
{
    size_t done = 0, bytes = 0;
    double t0 = co_time_mono(), c0 = cpu_now(), t, c;
    volatile float sink = 0;
    do {
        for (size_t i = 0; i < ev->n; i++) {
            co_clf_result r;
            size_t len = strlen(ev->v[i].text);
            co_clf_model_predict(m, ev->v[i].text, len, &r);
            sink += r.top[0].score;
            bytes += len;
        }
        done += ev->n;
        c = cpu_now() - c0;
        t = co_time_mono() - t0;
    } while (c < 1.0 && ev->n);
    printf("\nthroughput: %.0f texts/s on one core (CPU time; %.1f µs per text, mean %.0f bytes); "
           "wall clock %.0f texts/s\n",
           (double)done / c, c * 1e6 / (double)(done ? done : 1),
           (double)bytes / (double)(done ? done : 1), (double)done / t);
    (void)sink;
}

static co_clf_model *obtain(int argc, char **argv, const char *home, const co_taxonomy *tax,
                            char *path, size_t plen)
{
    const char *model = opt(argc, argv, "--model"), *data = opt(argc, argv, "--data");
    if (model || data) {
        if (model)
            snprintf(path, plen, "%s", model);
        else
            snprintf(path, plen, "%s/classify/model.bin", data);
        return NULL; /* loaded by the caller */
    }
    co_clf_train_opts o;
    if (co_cli_classify_train_opts(argc, argv, &o)) {
        usage(stderr);
        exit(2);
    }
    char seed[1100];
    const char *tr = opt(argc, argv, "--train");
    if (tr)
        snprintf(seed, sizeof seed, "%s", tr);
    else
        snprintf(seed, sizeof seed, "%s/share/classify/train", home);
    const char *tmp = getenv("TMPDIR");
    snprintf(path, plen, "%s/cityops-bench-classify-%ld.bin", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    co_clf_model *m = NULL;
    co_clf_train_report rep;
    size_t counts[3];
    if (co_clf_build(seed, NULL, tax, &o, path, &m, &rep, counts)) {
        fprintf(stderr, "cityops bench classify: cannot train from %s\n", seed);
        exit(1);
    }
    printf("trained: seed %zu + taxonomy %zu examples, %s, %.1f s (held-out seed share: top-1 "
           "nb %.1f %% / lr %.1f %%)\n",
           counts[0], counts[1], rep.algo == CO_CLF_NB ? "naive Bayes" : "logistic regression",
           rep.seconds, rep.nb.top1 * 100, rep.lr.top1 * 100);
    return m;
}

int co_bench_classify(int argc, char **argv)
{
    const char *eval = opt(argc, argv, "--eval"), *top = opt(argc, argv, "--top");
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    if (!eval) {
        usage(stderr);
        return 2;
    }
    char home[512], path[1200];
    co_app_find_home(home, sizeof home);
    co_taxonomy *tax = load_taxonomy(home);
    co_clf_model *trained = obtain(argc, argv, home, tax, path, sizeof path);
    co_clf_model *m = NULL;
    double t0 = co_time_mono();
    co_err rc = co_clf_model_load(path, &m);
    double load_s = co_time_mono() - t0;
    if (trained)
        unlink(path);
    co_clf_model_free(trained);
    if (rc) {
        fprintf(stderr, "cityops bench classify: cannot load %s (%s)\n", path, co_err_str(rc));
        co_taxonomy_free(tax);
        return 1;
    }
    co_clf_data ev = {0};
    if (co_clf_data_load_jsonl(&ev, eval, NULL)) {
        fprintf(stderr, "cityops bench classify: cannot read %s\n", eval);
        co_clf_model_free(m);
        co_taxonomy_free(tax);
        return 1;
    }
    printf("model: %s, %u subclasses, 2^%u buckets, n-grams 1..%u, %u rows, %u training "
           "examples\n",
           (m->flags & 0xff) == CO_CLF_NB ? "naive Bayes" : "logistic regression",
           m->heads[CO_CLF_CATEGORY].nclasses, m->bits, m->ngram, m->nrows, m->examples);
    printf("model size: %zu bytes (%.1f MiB); load time: %.0f ms\n", m->file_bytes,
           (double)m->file_bytes / 1048576.0, load_s * 1000);
    report(m, &ev, tax, top ? atoi(top) : 15);
    speed(m, &ev);
    co_clf_data_free(&ev);
    co_clf_model_free(m);
    co_taxonomy_free(tax);
    return 0;
}
