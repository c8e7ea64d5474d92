/* classify_cmd.c — `cityops classify train --data DIR [options]` retrains the
 * text classifier from the seed set, the taxonomy and the cases staff
 * confirmed (writes DATA/classify/model.bin); `cityops classify --data DIR
 * [--area CODE]` reads JSON lines {"text": …} (or plain lines) on stdin and
 * writes one JSON line per input (see src/api/classify.c); `cityops classify
 * config --data DIR [...]` sets the server's classifier settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/routes.h"
#include "classify/features.h"
#include "classify/service.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/strparse.h"

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int has_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: cityops classify --data DIR [--store URL] [--area CODE] [--model PATH] < texts\n"
            "       cityops classify train --data DIR [--seed DIR] [--algo auto|nb|lr]\n"
            "                              [--bits 10..24] [--ngram 1..3] [--no-store]\n"            "       cityops classify config --data DIR [--threshold 0..1] [--retrain-labels N]\n"
            "                              [--retrain-hour -1..23]   (read by serve at start-up)\n"
            "  输入每行一个 JSON {\"text\": …} 或纯文本；输出每行一个 JSON。\n"
            "  Input: one JSON object {\"text\": …} or plain text per line; output: one JSON\n"
            "  line each. train writes DIR/classify/model.bin and prints counts and the\n"
            "  held-out accuracy.\n");
}

/* Training options from the command line; -1 on a bad value. */
int co_cli_classify_train_opts(int argc, char **argv, co_clf_train_opts *o)
{
    const char *algo = opt(argc, argv, "--algo"), *bits = opt(argc, argv, "--bits");
    const char *ngram = opt(argc, argv, "--ngram");
    int64_t v;
    co_clf_train_opts_default(o);
    if (algo && strcmp(algo, "auto")) {
        if (strcmp(algo, "nb") && strcmp(algo, "lr"))
            return -1;
        o->algo = !strcmp(algo, "nb") ? CO_CLF_NB : CO_CLF_LR;
    }
    if (bits) {
        if (co_parse_i64(bits, CO_FEAT_BITS_MIN, CO_FEAT_BITS_MAX, &v))
            return -1;
        o->bits = (unsigned)v;
    }
    const char *epochs = opt(argc, argv, "--epochs"), *lr = opt(argc, argv, "--lr");
    double x;
    if (epochs) {
        if (co_parse_i64(epochs, 1, 200, &v))
            return -1;
        o->epochs = (int)v;
    }
    if (lr) {
        if (co_parse_double(lr, 0.001, 10, &x))
            return -1;
        o->lr = (float)x;
    }
    if (ngram) {
        if (co_parse_i64(ngram, 1, CO_FEAT_NGRAM_MAX, &v))
            return -1;
        o->ngram = (unsigned)v;
    }
    return 0;
}

static void print_eval(const char *name, const co_clf_eval *e)
{
    if (!e->n)
        return;
    printf("  %-20s top-1 %.1f %%  top-3 %.1f %%  request type %.1f %%  severity %.1f %%  (n=%zu)\n",
           name, e->top1 * 100, e->top3 * 100, e->reqtype * 100, e->severity * 100, e->n);
}

static int train(int argc, char **argv, co_app *app, const char *dir)
{
    co_clf_train_opts o;
    if (co_cli_classify_train_opts(argc, argv, &o)) {
        usage();
        return 2;
    }
    char seed[1100], path[1100];
    const char *seed_opt = opt(argc, argv, "--seed");
    snprintf(seed, sizeof seed, "%s", seed_opt ? seed_opt : "");
    if (!seed_opt)
        snprintf(seed, sizeof seed, "%s/share/classify/train", app->home);
    snprintf(path, sizeof path, "%s/classify/model.bin", dir);
    co_taxonomy *tax = co_app_taxonomy(app);
    co_clf_model *m = NULL;
    co_clf_train_report rep;
    size_t counts[3];
    co_err rc = co_clf_build(seed, has_flag(argc, argv, "--no-store") ? NULL : app->store, tax, &o,
                             path, &m, &rep, counts);
    co_taxonomy_free(tax);
    if (rc) {
        fprintf(stderr, "cityops classify train: %s\n", co_err_str(rc));
        return 1;
    }
    printf("训练样本 examples: seed %zu, taxonomy %zu, confirmed cases %zu (total %zu)\n",
           counts[0], counts[1], counts[2], rep.examples);
    printf("类别 subclasses: %u, buckets 2^%u, n-grams 1..%u, rows %u\n",
           m->heads[CO_CLF_CATEGORY].nclasses, m->bits, m->ngram, m->nrows);
    printf("held-out seed share: %zu examples\n", rep.holdout);
    print_eval("naive Bayes", &rep.nb);
    print_eval("logistic regression", &rep.lr);
    printf("chosen: %s; model %s (%zu bytes) in %.1f s\n",
           rep.algo == CO_CLF_NB ? "naive Bayes" : "logistic regression", path, m->file_bytes,
           rep.seconds);
    co_clf_model_free(m);
    return 0;
}

void co_cli_classify_initial(co_app *app, const char *dir)
{
    char seed[1100], path[1100];
    snprintf(seed, sizeof seed, "%s/share/classify/train", app->home);
    snprintf(path, sizeof path, "%s/classify/model.bin", dir);
    co_clf_train_opts o;
    co_clf_train_opts_default(&o);
    co_taxonomy *tax = co_app_taxonomy(app);
    co_clf_model *m = NULL;
    co_clf_train_report rep;
    size_t counts[3];
    co_err rc = co_clf_build(seed, app->store, tax, &o, path, &m, &rep, counts);
    co_taxonomy_free(tax);
    if (rc) {
        co_log_warn("msg=\"no classifier model\" err=\"%s\"", co_err_str(rc));
        return;
    }
    co_log_info("msg=\"classifier trained\" seed=%zu taxonomy=%zu seconds=%.1f", counts[0],
                counts[1], rep.seconds);
    co_clf_model_free(m);
}

/* The text of one input line: a JSON object's "text", or the line itself. */
static int line_text(char *line, json_t **doc, const char **text)
{
    *doc = NULL;
    if (line[0] != '{') {
        *text = line;
        return 0;
    }
    *doc = json_loads(line, 0, NULL);
    *text = json_string_value(json_object_get(*doc, "text"));
    return *text ? 0 : -1;
}

static int predict(co_app *app, const char *model_path, const char *area)
{
    co_clf_model *m = NULL;
    co_err rc = co_clf_model_load(model_path, &m);
    if (rc) {
        fprintf(stderr, "cityops classify: cannot load %s (%s); run `cityops classify train "
                        "--data DIR` first\n", model_path, co_err_str(rc));
        return 1;
    }
    co_case where;
    memset(&where, 0, sizeof where);
    if (area && co_api_classify_place(app, area, &where)) {
        fprintf(stderr, "cityops classify: unknown area %s\n", area);
        co_clf_model_free(m);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        json_t *doc, *out;
        const char *text;
        if (line_text(line, &doc, &text) || !*text)
            out = json_pack("{s:{s:s,s:s}}", "error", "code", "bad_line", "message",
                            "需要 {\"text\": …} 或非空文本行 / need {\"text\": …} or a non-empty line");
        else
            out = co_api_classify_view(app, m, text, strlen(text), &where);
        char *s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(4));
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(out);
        json_decref(doc);
    }
    free(line);
    co_clf_model_free(m);
    return 0;
}

/* `classify config`: the service's settings in store meta (read by serve at
 * start-up); prints them. */
static int config(int argc, char **argv, co_app *app)
{
    static const struct {
        const char *opt, *key;
        double lo, hi;
    } keys[] = {
        {"--threshold", "classify_threshold", 0, 1},
        {"--retrain-labels", "classify_retrain_labels", 0, 1e9},
        {"--retrain-hour", "classify_retrain_hour", -1, 23},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = opt(argc, argv, keys[i].opt);
        double x;
        if (!v)
            continue;
        if (co_parse_double(v, keys[i].lo, keys[i].hi, &x)) {
            fprintf(stderr, "cityops classify config: %s must be in [%g, %g]\n", keys[i].opt,
                    keys[i].lo, keys[i].hi);
            return 2;
        }
        if (co_store_meta_set(app->store, keys[i].key, v)) {
            fprintf(stderr, "cityops classify config: cannot store %s\n", keys[i].key);
            return 1;
        }
    }
    co_clf_service_opts o;
    co_clf_service_opts_init(&o, "", app->home, app->store);
    printf("classify_threshold=%g classify_retrain_labels=%d classify_retrain_hour=%d\n",
           o.threshold, o.retrain_labels, o.retrain_hour);
    return 0;
}

int co_cli_classify(int argc, char **argv)
{
    int is_train = argc >= 2 && !strcmp(argv[1], "train");
    int is_config = argc >= 2 && !strcmp(argv[1], "config");
    const char *dir = opt(argc, argv, "--data");
    if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
        usage();
        return 0;
    }
    if (!dir) {
        usage();
        return 2;
    }
    co_log_set_level(CO_LOG_WARN);
    co_app *app = NULL;
    co_err rc = co_app_open_store(dir, opt(argc, argv, "--store"), &app); /* NULL: SQLite in DIR */
    if (rc) {
        fprintf(stderr, "cityops classify: cannot open %s (%s)\n", dir, co_err_str(rc));
        return 1;
    }
    int ret;
    if (is_train) {
        ret = train(argc - 1, argv + 1, app, dir);
    } else if (is_config) {
        ret = config(argc - 1, argv + 1, app);
    } else {
        char path[1100];
        const char *model = opt(argc, argv, "--model");
        snprintf(path, sizeof path, "%s/classify/model.bin", dir);
        ret = predict(app, model ? model : path, opt(argc, argv, "--area"));
    }
    co_app_close(app);
    return ret;
}
