/* service.c — the server's classifier: current model, background trainer,
 * schedule, intake hook (see service.h). The model pointer is swapped under
 * s->lock; models are reference-counted so readers keep theirs. */
#include "classify/service.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

struct co_clf_service {
    co_clf_service_opts o;
    co_store *store;
    co_clf_taxonomy_fn tax;
    void *tax_arg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int has_thread, stop, want;
    int new_labels;
    uint64_t wakeups;     /* the trainer's returns from its wait (tests) */
    int64_t last_trained; /* when the trainer last finished (Unix s), 0 = never */
    co_clf_model *model;
};

static void meta_num(co_store *st, const char *key, double lo, double hi, double *v)
{
    char val[64];
    if (!st || co_store_meta_get(st, key, val, sizeof val) != CO_OK)
        return;
    char *end;
    double x = strtod(val, &end);
    if (end != val && !*end && x >= lo && x <= hi)
        *v = x;
    else
        co_log_warn("msg=\"ignoring bad setting\" key=%s", key);
}

void co_clf_service_opts_init(co_clf_service_opts *o, const char *data_dir, const char *home,
                              co_store *st)
{
    memset(o, 0, sizeof *o);
    snprintf(o->model_path, sizeof o->model_path, "%s/classify/model.bin", data_dir);
    snprintf(o->seed_dir, sizeof o->seed_dir, "%s/share/classify/train", home);
    double th = 0.7, labels = 50, hour = 3;
    meta_num(st, "classify_threshold", 0, 1, &th);
    meta_num(st, "classify_retrain_labels", 0, 1e9, &labels);
    meta_num(st, "classify_retrain_hour", -1, 23, &hour);
    o->threshold = th;
    o->retrain_labels = (int)labels;
    o->retrain_hour = (int)hour;
    o->background = 1;
}

co_err co_clf_build(const char *seed_dir, co_store *st, const co_taxonomy *tax,
                    const co_clf_train_opts *o, const char *path, co_clf_model **out,
                    co_clf_train_report *rep, size_t counts[3])
{
    co_clf_data d = {0};
    co_err rc = co_clf_data_load_dir(&d, seed_dir, tax);
    if (rc == CO_ENOTFOUND) {
        co_log_warn("msg=\"no classifier seed set\" dir=%s", seed_dir);
        rc = CO_OK;
    }
    counts[0] = d.n;
    size_t before = d.n, from_store = 0;
    if (!rc && tax)
        co_clf_data_add_taxonomy(&d, tax);
    counts[1] = d.n - before;
    if (!rc && st)
        rc = co_clf_data_load_store(&d, st, tax, &from_store);
    counts[2] = from_store;
    co_clf_model *m = NULL;
    if (!rc)
        rc = co_clf_train(&d, o, &m, rep);
    co_clf_data_free(&d);
    if (!rc && tax)
        m->tax_version = co_taxonomy_version(tax);
    if (!rc && path) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            if (mkdir(dir, 0750) != 0 && errno != EEXIST)
                rc = CO_EIO;
        }
        if (!rc)
            rc = co_clf_model_save(m, path);
    }
    if (rc) {
        co_clf_model_free(m);
        return rc;
    }
    *out = m;
    return CO_OK;
}

co_clf_model *co_clf_service_model(co_clf_service *s)
{
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->lock);
    co_clf_model *m = co_clf_model_ref(s->model);
    pthread_mutex_unlock(&s->lock);
    return m;
}

void co_clf_service_swap(co_clf_service *s, co_clf_model *m)
{
    pthread_mutex_lock(&s->lock);
    co_clf_model *old = s->model;
    s->model = m;
    pthread_mutex_unlock(&s->lock);
    co_clf_model_free(old);
}

double co_clf_service_threshold(const co_clf_service *s)
{
    return s ? s->o.threshold : 1.0;
}

static void train_now(co_clf_service *s)
{
    co_taxonomy *tax = s->tax(s->tax_arg);
    co_clf_train_opts o;
    co_clf_train_opts_default(&o);
    co_clf_model *m = NULL;
    co_clf_train_report rep;
    size_t counts[3];
    co_err rc = co_clf_build(s->o.seed_dir, s->store, tax, &o, s->o.model_path, &m, &rep, counts);
    co_taxonomy_free(tax);
    if (rc) {
        co_log_error("msg=\"classifier training failed\" err=\"%s\"", co_err_str(rc));
        return;
    }
    co_log_info("msg=\"classifier trained\" seed=%zu taxonomy=%zu store=%zu algo=%s "
                "holdout_top1=%.3f seconds=%.1f",
                counts[0], counts[1], counts[2], rep.algo == CO_CLF_NB ? "nb" : "lr",
                rep.algo == CO_CLF_NB ? rep.nb.top1 : rep.lr.top1, rep.seconds);
    co_clf_service_swap(s, m);
}

/* Seconds until the next local hour h (Asia/Shanghai) after now. */
static int64_t next_nightly(int64_t now, int h)
{
    int64_t local = now + CO_TZ_SHANGHAI_SEC;
    int64_t at = local / 86400 * 86400 + h * 3600;
    if (at <= local)
        at += 86400;
    return at - CO_TZ_SHANGHAI_SEC;
}

/* The earliest a retrain asked for by new labels may start: labels arrive by
 * the thousand on a busy day, training takes a core for ~20 s, so at most one
 * label-driven retrain per CO_CLF_RETRAIN_GAP_S. */
static int64_t labels_allow_at(const co_clf_service *s)
{
    return s->last_trained ? s->last_trained + CO_CLF_RETRAIN_GAP_S : 0;
}

static void *trainer(void *arg)
{
    co_clf_service *s = arg;
    /* training yields to the threads that answer requests and commit cases */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), CO_CLF_TRAINER_NICE);
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        int64_t due = s->o.retrain_hour >= 0 ? next_nightly(co_time_now(), s->o.retrain_hour)
                                             : INT64_MAX / 2;
        for (;;) {
            int64_t now = co_time_now(), wake = now + 3600;
            if (s->stop || now >= due || (s->want && now >= labels_allow_at(s)))
                break;
            if (due < wake)
                wake = due;
            if (s->want && labels_allow_at(s) < wake)
                wake = labels_allow_at(s);
            struct timespec ts = {(time_t)wake, 0};
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
            s->wakeups++;
        }
        if (s->stop)
            break;
        s->want = 0;
        s->new_labels = 0;
        pthread_mutex_unlock(&s->lock);
        train_now(s);
        pthread_mutex_lock(&s->lock);
        s->last_trained = co_time_now();
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

co_err co_clf_service_start(const co_clf_service_opts *o, co_store *st, co_clf_taxonomy_fn tax,
                            void *tax_arg, co_clf_service **out)
{
    co_clf_service *s = co_xcalloc(1, sizeof *s);
    s->o = *o;
    s->store = st;
    s->tax = tax;
    s->tax_arg = tax_arg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    double t0 = co_time_mono();
    co_err rc = co_clf_model_load(o->model_path, &s->model);
    if (rc == CO_OK) {
        co_log_info("msg=\"classifier loaded\" examples=%u bytes=%zu ms=%.0f", s->model->examples,
                    s->model->file_bytes, (co_time_mono() - t0) * 1000);
        s->last_trained = co_time_now(); /* label-driven retrains wait their gap from here */
    } else {
        if (rc != CO_ENOTFOUND)
            co_log_warn("msg=\"classifier model unreadable, retraining\" path=%s err=\"%s\"",
                        o->model_path, co_err_str(rc));
        s->want = 1;
        if (!o->background) {
            s->want = 0;
            train_now(s);
        }
    }
    if (o->background) {
        if (pthread_create(&s->thread, NULL, trainer, s) != 0) {
            co_clf_service_stop(s);
            return CO_EINTERNAL;
        }
        s->has_thread = 1;
    }
    *out = s;
    return CO_OK;
}

void co_clf_service_stop(co_clf_service *s)
{
    if (!s)
        return;
    if (s->has_thread) {
        pthread_mutex_lock(&s->lock);
        s->stop = 1;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    co_clf_model_free(s->model);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    co_free(s);
}

void co_clf_service_retrain(co_clf_service *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->want = 1;
    s->last_trained = 0; /* asked for explicitly: no gap */
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

static int is_staff_role(const char *role)
{
    return !strcmp(role, "operator") || !strcmp(role, "inspector") || !strcmp(role, "admin") ||
           !strcmp(role, "shiftlead") || !strcmp(role, "dispatcher");
}

void co_clf_service_observe(co_clf_service *s, const co_case *c, const co_event *ev)
{
    if (!s || c->category == CO_CATEGORY_NONE || !is_staff_role(ev->role))
        return;
    int confirmed = !strcmp(ev->action, "reclassify") || !strcmp(ev->action, "file") ||
                    (!strcmp(ev->action, "register") &&
                     !json_object_get(ev->data, "classified"));
    if (!confirmed)
        return;
    pthread_mutex_lock(&s->lock);
    /* the trainer is told once: it then sleeps until the gap allows a
     * retrain (waking it for every later label cost a context switch a case) */
    if (++s->new_labels >= s->o.retrain_labels && s->o.retrain_labels > 0 && !s->want) {
        s->want = 1;
        pthread_cond_broadcast(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
}

uint64_t co_clf_service_wakeups(co_clf_service *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->wakeups;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ----------------------------------------------------------------- intake */

void co_clf_service_intake(co_clf_service *s, co_case *d, int has_reqtype, int has_severity,
                           int (*category_ok)(void *, co_category), void *arg,
                           co_clf_intake *out)
{
    memset(out, 0, sizeof *out);
    co_clf_model *m = co_clf_service_model(s);
    if (!m)
        return;
    co_clf_result r;
    co_clf_model_predict(m, d->description, strlen(d->description), &r);
    out->ran = 1;
    out->model_version = m->trained;
    for (int k = 0; k < r.ntop; k++) {
        snprintf(out->code[k], sizeof out->code[k], "%s", r.top[k].label);
        out->score[k] = r.top[k].score;
    }
    out->ntop = r.ntop;
    co_category cat;
    if (r.ntop > 0 && r.top[0].score >= s->o.threshold && !co_category_parse(r.top[0].label, &cat) &&
        (!category_ok || category_ok(arg, cat))) {
        d->category = cat;
        out->filed = 1;
        co_reqtype rt;
        co_severity sev;
        if (!has_reqtype && r.reqtype.label && !co_reqtype_parse(r.reqtype.label, &rt)) {
            d->reqtype = rt;
            snprintf(out->reqtype, sizeof out->reqtype, "%s", r.reqtype.label);
        }
        if (!has_severity && r.severity.label && !co_severity_parse(r.severity.label, &sev)) {
            d->severity = sev;
            snprintf(out->severity, sizeof out->severity, "%s", r.severity.label);
        }
    }
    co_clf_model_free(m);
}

static json_t *intake_json(const co_clf_intake *ci)
{
    json_t *top = json_array();
    for (int k = 0; k < ci->ntop; k++)
        json_array_append_new(top, json_pack("{s:s,s:f}", "code", ci->code[k], "score",
                                             (double)(int)(ci->score[k] * 1000 + 0.5) / 1000));
    if (!ci->filed)
        return json_pack("{s:o,s:I}", "top", top, "model", (json_int_t)ci->model_version);
    json_t *o = json_pack("{s:s,s:f,s:I,s:o}", "code", ci->code[0], "score",
                          (double)(int)(ci->score[0] * 1000 + 0.5) / 1000, "model",
                          (json_int_t)ci->model_version, "top", top);
    if (ci->reqtype[0])
        json_object_set_new(o, "request_type", json_string(ci->reqtype));
    if (ci->severity[0])
        json_object_set_new(o, "severity", json_string(ci->severity));
    return o;
}

co_err co_clf_annotate(co_event *ev, const co_clf_intake *ci)
{
    if (!ci->ran || ci->ntop == 0)
        return CO_OK;
    const char *key = ci->filed ? "classified" : "suggested";
    json_t *v = intake_json(ci);
    char *text = json_dumps(v, JSON_COMPACT);
    if (!ev->data)
        ev->data = json_object();
    json_object_set_new(ev->data, key, v);
    if (!text)
        return CO_ENOMEM;
    if (ev->data_text) { /* splice before the closing brace */
        size_t n = strlen(ev->data_text), add = strlen(key) + strlen(text) + 8;
        if (n < 2 || ev->data_text[n - 1] != '}') {
            free(text);
            return CO_EINTERNAL;
        }
        char *p = realloc(ev->data_text, n + add);
        if (!p) {
            free(text);
            return CO_ENOMEM;
        }
        int empty = n == 2; /* "{}" */
        snprintf(p + n - 1, add + 1, "%s\"%s\":%s}", empty ? "" : ",", key, text);
        ev->data_text = p;
    }
    free(text);
    return CO_OK;
}
