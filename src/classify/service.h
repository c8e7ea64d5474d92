/* service.h — the classifier inside the running server: holds the current
 * model, loads it at start-up (DATA/classify/model.bin), trains one in the
 * background when it is missing, retrains on a schedule (nightly at a local
 * hour, Asia/Shanghai, and after N newly confirmed labels) and swaps the new
 * model in atomically. Readers take a reference (co_clf_service_model) and
 * drop it when done, so a swap never frees a model in use.
 *
 * Intake: co_clf_service_intake() classifies a case that arrived without a
 * category; at or above the threshold it files the case under the top
 * subclass (and fills request type and severity the caller left out), below
 * it only the suggestions are kept. co_clf_annotate() records either in the
 * register event's data ({"classified":{code,score,model}} or
 * {"suggested":{top,model}}).
 *
 * Settings (store meta keys, read at start-up): classify_threshold (0..1,
 * default 0.7), classify_retrain_labels (default 50, 0 = never; a retrain
 * they ask for waits until CO_CLF_RETRAIN_GAP_S after the last one),
 * classify_retrain_hour (0..23, default 3; -1 = never). The trainer thread
 * runs at nice CO_CLF_TRAINER_NICE. */
#ifndef CO_CLASSIFY_SERVICE_H
#define CO_CLASSIFY_SERVICE_H

#include <jansson.h>
#include <stdint.h>

#include "classify/data.h"
#include "classify/model.h"
#include "classify/train.h"
#include "domain/case.h"
#include "domain/taxonomy.h"
#include "lib/err.h"
#include "store/store.h"

typedef struct co_clf_service co_clf_service;

#define CO_CLF_RETRAIN_GAP_S 3600
#define CO_CLF_TRAINER_NICE 10

typedef struct co_clf_service_opts {
    char model_path[1024];   /* DATA/classify/model.bin */
    char seed_dir[1024];     /* HOME/share/classify/train */
    double threshold;
    int retrain_labels;
    int retrain_hour;
    int background;          /* 0: train synchronously when the model is missing (tests, CLI) */
} co_clf_service_opts;

/* Taxonomy provider: returns a reference the service drops (co_taxonomy_free). */
typedef co_taxonomy *(*co_clf_taxonomy_fn)(void *arg);

/* Fills defaults and the paths from data_dir and home, then the settings
 * from store meta. */
void co_clf_service_opts_init(co_clf_service_opts *o, const char *data_dir, const char *home,
                              co_store *st);
co_err co_clf_service_start(const co_clf_service_opts *o, co_store *st, co_clf_taxonomy_fn tax,
                            void *tax_arg, co_clf_service **out) CO_MUST_CHECK;
void co_clf_service_stop(co_clf_service *s); /* joins the trainer; NULL ok */

/* The current model with a reference (co_clf_model_free), NULL when none yet. */
co_clf_model *co_clf_service_model(co_clf_service *s);
/* Installs m (the service takes the reference) and saves nothing. */
void co_clf_service_swap(co_clf_service *s, co_clf_model *m);
/* Asks the trainer to retrain now. */
void co_clf_service_retrain(co_clf_service *s);
/* Called after each commit: counts confirmed labels (reclassify, file, a
 * register by staff with a category chosen by a person). */
void co_clf_service_observe(co_clf_service *s, const co_case *c, const co_event *ev);
/* How often the trainer thread has woken from its wait (tests). */
uint64_t co_clf_service_wakeups(co_clf_service *s);
double co_clf_service_threshold(const co_clf_service *s);

/* Trains from the seed set, the taxonomy and the store and saves to path
 * (the CLI's `classify train` and the background trainer). */
co_err co_clf_build(const char *seed_dir, co_store *st, const co_taxonomy *tax,
                    const co_clf_train_opts *o, const char *path, co_clf_model **out,
                    co_clf_train_report *rep, size_t counts[3]) CO_MUST_CHECK;

/* ----------------------------------------------------------------- intake */

typedef struct co_clf_intake {
    int ran;                 /* the classifier looked at the case */
    int filed;               /* the category was set from the top suggestion */
    int64_t model_version;
    int ntop;
    char code[CO_CLF_TOP][CO_CLF_LABEL_MAX];
    float score[CO_CLF_TOP];
    char reqtype[CO_CLF_LABEL_MAX], severity[CO_CLF_LABEL_MAX];
} co_clf_intake;

/* category_ok(arg, cat) says whether the current taxonomy has cat. */
void co_clf_service_intake(co_clf_service *s, co_case *d, int has_reqtype, int has_severity,
                           int (*category_ok)(void *, co_category), void *arg,
                           co_clf_intake *out);
/* Adds the intake record to a register event (data and pre-serialised text). */
co_err co_clf_annotate(co_event *ev, const co_clf_intake *ci) CO_MUST_CHECK;

#endif
