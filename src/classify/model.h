/* model.h — the classifier's model: three linear heads over one set of
 * hashed character n-gram features (features.h) — the subclass ("C0101"),
 * the 12345 request type ("complaint") and the severity ("critical").
 *
 * A head scores class c as  bias[c] + nfeat·tok[c] + x·Σ rows[f][c]  over the
 * text's distinct features f that were seen in training, where x is 1 or
 * 1/√nfeat; scores go through a softmax with the head's temperature. The same
 * form holds a multinomial naive Bayes (tok ≠ 0, x = 1) and a softmax
 * logistic regression (tok = 0, x = 1/√nfeat). Features never seen in
 * training have no row: index[bucket] = -1.
 *
 * File format (little-endian; docs/internals/classify.md): header "COCLF\r\n\x1a",
 * format version, flags, taxonomy version, training time, example count, bits,
 * n-gram order, row count, the bucket of each row, then per head its labels,
 * temperature, bias, tok and rows as float32; a trailing FNV-1a 64 checksum of
 * everything before it. Saved to a temporary file, fsynced and renamed.
 *
 * Ownership: a model is immutable once built or loaded and reference-counted:
 * any number of threads may predict with it at once; co_clf_model_ref() adds
 * a reference, co_clf_model_free() drops one. */
#ifndef CO_CLASSIFY_MODEL_H
#define CO_CLASSIFY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define CO_CLF_FORMAT 1
#define CO_CLF_LABEL_MAX 16
#define CO_CLF_TOP 3

typedef enum co_clf_task {
    CO_CLF_CATEGORY = 0,
    CO_CLF_REQTYPE = 1,
    CO_CLF_SEVERITY = 2,
    CO_CLF_NTASKS = 3
} co_clf_task;

typedef enum co_clf_algo { CO_CLF_NB = 0, CO_CLF_LR = 1 } co_clf_algo;

typedef struct co_clf_head {
    uint32_t nclasses;
    char (*labels)[CO_CLF_LABEL_MAX];
    float temp;     /* softmax temperature (calibration) */
    uint8_t xnorm;  /* 1: feature value 1/√nfeat, else 1 */
    float *bias;    /* nclasses */
    float *tok;     /* nclasses */
    float *rows;    /* nrows × nclasses */
} co_clf_head;

typedef struct co_clf_model {
    _Atomic int refs;
    uint32_t bits, ngram;
    uint32_t flags;        /* co_clf_algo of the category head in the low byte */
    int64_t tax_version;
    int64_t trained;       /* Unix seconds */
    uint32_t examples;
    uint32_t nrows;
    uint32_t *buckets;     /* nrows: the bucket of each row (for saving) */
    int32_t *index;        /* 2^bits: bucket → row or -1 */
    co_clf_head heads[CO_CLF_NTASKS];
    size_t file_bytes;     /* size on disk when loaded or saved */
} co_clf_model;

typedef struct co_clf_pick {
    const char *label; /* borrowed from the model */
    float score;
} co_clf_pick;

typedef struct co_clf_result {
    co_clf_pick top[CO_CLF_TOP]; /* best first; label NULL past ntop */
    int ntop;
    co_clf_pick reqtype;
    co_clf_pick severity;
    int danger;                  /* severity raised to critical by a danger cue */
} co_clf_result;

/* An empty model with the given shape; heads are filled by the trainer. */
co_clf_model *co_clf_model_new(unsigned bits, unsigned ngram, uint32_t nrows,
                               const uint32_t *buckets);
co_err co_clf_model_head_init(co_clf_model *m, co_clf_task t, uint32_t nclasses,
                              const char *const *labels) CO_MUST_CHECK;
co_clf_model *co_clf_model_ref(co_clf_model *m);
void co_clf_model_free(co_clf_model *m); /* drops one reference; NULL ok */

co_err co_clf_model_save(co_clf_model *m, const char *path) CO_MUST_CHECK;
/* CO_EIO unreadable, CO_EINVAL bad magic/version/checksum/shape. */
co_err co_clf_model_load(const char *path, co_clf_model **out) CO_MUST_CHECK;

/* Features of text in model space: rows (at most max) and the total count of
 * distinct features (seen or not). */
size_t co_clf_model_rows(const co_clf_model *m, const char *text, size_t len, uint32_t *rows,
                         size_t max, size_t *nfeat);
/* Probabilities of one head for precomputed rows; probs has nclasses. */
void co_clf_model_head_probs(const co_clf_model *m, co_clf_task t, const uint32_t *rows,
                             size_t nrows, size_t nfeat, float *probs);
/* Full prediction: top 3 subclasses, request type, severity (with danger
 * cues applied). Thread-safe; no allocation. */
void co_clf_model_predict(const co_clf_model *m, const char *text, size_t len,
                          co_clf_result *out);

#endif
