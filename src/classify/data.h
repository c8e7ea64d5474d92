/* data.h — labelled texts for training the classifier: the seed set
 * (share/classify/train/NAME.jsonl), pseudo-examples from the taxonomy (names,
 * keywords, filing conditions) and cases whose category a staff user
 * confirmed in the store.
 * Ownership: a co_clf_data owns its examples and their texts;
 * co_clf_data_free() releases them. */
#ifndef CO_CLASSIFY_DATA_H
#define CO_CLASSIFY_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "classify/model.h"
#include "domain/taxonomy.h"
#include "lib/err.h"
#include "store/store.h"

#define CO_CLF_NREQTYPES 6
#define CO_CLF_NSEVERITIES 3
#define CO_CLF_STORE_CAP 300 /* confirmed store cases used per category, newest first */

extern const char *const co_clf_reqtype_labels[CO_CLF_NREQTYPES];
extern const char *const co_clf_severity_labels[CO_CLF_NSEVERITIES];

typedef enum co_clf_source { CO_CLF_SRC_SEED = 0, CO_CLF_SRC_TAXONOMY, CO_CLF_SRC_STORE } co_clf_source;

typedef struct co_clf_example {
    char *text;                     /* owned */
    char label[CO_CLF_LABEL_MAX];   /* "C0101" / "E0402"; "" = unknown */
    int8_t reqtype;                 /* index in co_clf_reqtype_labels, -1 unknown */
    int8_t severity;                /* index in co_clf_severity_labels, -1 unknown */
    uint8_t source;                 /* co_clf_source */
    float weight;
} co_clf_example;

typedef struct co_clf_data {
    co_clf_example *v;
    size_t n, cap;
    size_t rejected; /* lines that were not valid examples */
} co_clf_data;

void co_clf_data_free(co_clf_data *d);
void co_clf_data_add(co_clf_data *d, const char *text, const char *label, int reqtype,
                     int severity, co_clf_source src, float weight);
int co_clf_reqtype_index(const char *code);  /* -1 if unknown */
int co_clf_severity_index(const char *code); /* -1 if unknown */

/* One JSON-lines file of {"text","category","request_type","severity"};
 * invalid lines (bad JSON, unknown category in tax when tax is given) are
 * counted in d->rejected. CO_EIO if the file cannot be read. */
co_err co_clf_data_load_jsonl(co_clf_data *d, const char *path, const co_taxonomy *tax)
    CO_MUST_CHECK;
/* Every *.jsonl file in dir, in name order. CO_ENOTFOUND if dir is missing. */
co_err co_clf_data_load_dir(co_clf_data *d, const char *dir, const co_taxonomy *tax)
    CO_MUST_CHECK;
/* Pseudo-examples per subclass: name + keywords, each keyword (half weight)
 * and the filing text. */
void co_clf_data_add_taxonomy(co_clf_data *d, const co_taxonomy *tax);
/* Cases whose category a staff user set or confirmed (registered with a
 * category by an operator, inspector or admin and not filed by the
 * classifier; reclassified; filed), excluding the demo city's generated
 * history (store meta "demo_history_max_id"), at most CO_CLF_STORE_CAP per
 * category. *added receives the count. */
co_err co_clf_data_load_store(co_clf_data *d, co_store *st, const co_taxonomy *tax,
                              size_t *added) CO_MUST_CHECK;

#endif
