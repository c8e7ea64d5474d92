/* train.h — training and evaluating classifier models from a co_clf_data.
 * Deterministic: the same data and options give the same model, bit for bit
 * (fixed seed, one thread). Seed examples whose text hashes into the
 * held-out share are kept out of the first fit, used to compare naive Bayes
 * with logistic regression and to calibrate each head's softmax temperature;
 * the final model is then fitted on everything with the chosen algorithm.
 * The model returned is the caller's (co_clf_model_free). */
#ifndef CO_CLASSIFY_TRAIN_H
#define CO_CLASSIFY_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "classify/data.h"
#include "classify/model.h"

typedef struct co_clf_train_opts {
    unsigned bits;     /* hashed buckets: 2^bits (default 20) */
    unsigned ngram;    /* 1..3 (default 3) */
    int algo;          /* CO_CLF_NB, CO_CLF_LR, or -1 = the better on the held-out share */
    int epochs;        /* logistic regression passes (default 20) */
    int bags;          /* logistic regressions averaged, each its own shuffle (default 3) */
    float lr;          /* AdaGrad step (default 0.3) */
    float alpha;       /* naive Bayes smoothing (default 0.1) */
    int holdout_pct;   /* share of seed examples held out, 0..50 (default 10) */
    uint64_t seed;     /* shuffling (default fixed) */
    int final_fit;     /* 1 (default): refit on everything after choosing */
} co_clf_train_opts;

typedef struct co_clf_eval {
    size_t n;                /* examples with a category */
    double top1, top3;       /* subclass accuracy */
    size_t n_rt, n_sev;
    double reqtype, severity;
} co_clf_eval;

typedef struct co_clf_train_report {
    size_t examples, holdout;
    co_clf_eval nb, lr;      /* on the held-out share (n = 0 when not measured) */
    int algo;                /* chosen */
    double seconds;
} co_clf_train_report;

void co_clf_train_opts_default(co_clf_train_opts *o);
co_err co_clf_train(const co_clf_data *d, const co_clf_train_opts *o, co_clf_model **out,
                    co_clf_train_report *rep) CO_MUST_CHECK;
/* Accuracy of m on the examples of d selected by mask (NULL = all). */
void co_clf_evaluate(const co_clf_model *m, const co_clf_data *d, const uint8_t *mask,
                     co_clf_eval *out);
/* 1 when the example belongs to the held-out share for pct percent. */
int co_clf_is_holdout(const co_clf_example *e, int pct);

#endif
