/* train.c — fitting naive Bayes and softmax logistic regression heads,
 * choosing between them, calibrating temperatures, evaluating (train.h). */
#include "classify/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classify/features.h"
#include "lib/alloc.h"
#include "lib/timeutil.h"

void co_clf_train_opts_default(co_clf_train_opts *o)
{
    *o = (co_clf_train_opts){.bits = 20, .ngram = 2, .algo = -1, .epochs = 20, .bags = 3, .lr = 0.3f,
                             .alpha = 0.1f, .holdout_pct = 10, .seed = 0x5eed2026u,
                             .final_fit = 1};
}

static uint64_t hash_text(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

int co_clf_is_holdout(const co_clf_example *e, int pct)
{
    return e->source == CO_CLF_SRC_SEED && (int)(hash_text(e->text) % 100) < pct;
}

/* Features of every example, computed once. */
typedef struct feats {
    uint32_t *v;   /* buckets, per example contiguous */
    size_t *off;   /* n + 1 offsets */
} feats;

static void feats_build(const co_clf_data *d, unsigned bits, unsigned ngram, feats *f)
{
    uint32_t *tmp = co_xmalloc(CO_FEAT_MAX * sizeof *tmp);
    size_t cap = 0;
    f->v = NULL;
    f->off = co_xmalloc((d->n + 1) * sizeof *f->off);
    f->off[0] = 0;
    for (size_t i = 0; i < d->n; i++) {
        size_t k = co_features_extract(d->v[i].text, strlen(d->v[i].text), bits, ngram, tmp,
                                       CO_FEAT_MAX);
        f->v = co_xgrow(f->v, &cap, f->off[i] + k + 1, sizeof *f->v);
        memcpy(f->v + f->off[i], tmp, k * sizeof *tmp);
        f->off[i + 1] = f->off[i] + k;
    }
    co_free(tmp);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct category labels of the selected examples, sorted. */
static size_t category_labels(const co_clf_data *d, const uint8_t *mask, const char ***out)
{
    const char **v = co_xmalloc((d->n + 1) * sizeof *v);
    size_t n = 0, m = 0;
    for (size_t i = 0; i < d->n; i++)
        if (mask[i] && d->v[i].label[0])
            v[n++] = d->v[i].label;
    qsort(v, n, sizeof *v, cmp_label);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(v[m - 1], v[i]))
            v[m++] = v[i];
    *out = v;
    return m;
}

static int find_label(const co_clf_head *h, const char *label)
{
    size_t lo = 0, hi = h->nclasses;
    while (lo < hi) { /* category labels are sorted */
        size_t mid = (lo + hi) / 2;
        int c = strcmp(h->labels[mid], label);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* The target class of example i for head t, -1 if unknown. */
static int target(const co_clf_model *m, co_clf_task t, const co_clf_example *e)
{
    if (t == CO_CLF_CATEGORY)
        return e->label[0] ? find_label(&m->heads[t], e->label) : -1;
    return t == CO_CLF_REQTYPE ? e->reqtype : e->severity;
}

typedef struct fitset {
    const co_clf_data *d;
    const uint8_t *mask;
    uint32_t *rows;   /* per example, model rows */
    size_t *off;
} fitset;

static void fit_nb(co_clf_model *m, co_clf_task t, const fitset *s, float alpha)
{
    co_clf_head *h = &m->heads[t];
    uint32_t C = h->nclasses;
    double *wc = co_xcalloc(C, sizeof *wc), *nc = co_xcalloc(C, sizeof *nc), total = 0;
    for (size_t i = 0; i < s->d->n; i++) {
        int y = s->mask[i] ? target(m, t, &s->d->v[i]) : -1;
        if (y < 0)
            continue;
        float w = s->d->v[i].weight;
        wc[y] += w;
        total += w;
        for (size_t k = s->off[i]; k < s->off[i + 1]; k++) {
            h->rows[(size_t)s->rows[k] * C + (uint32_t)y] += w;
            nc[y] += w;
        }
    }
    double V = m->nrows ? m->nrows : 1;
    for (uint32_t c = 0; c < C; c++) {
        h->bias[c] = (float)log((wc[c] + 1) / (total + C));
        h->tok[c] = (float)(log(alpha) - log(nc[c] + alpha * V));
    }
    for (size_t j = 0; j < (size_t)m->nrows * C; j++)
        h->rows[j] = (float)log((h->rows[j] + alpha) / alpha);
    h->xnorm = 0;
    co_free(wc);
    co_free(nc);
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fit_lr(co_clf_model *m, co_clf_task t, const fitset *s, const co_clf_train_opts *o)
{
    co_clf_head *h = &m->heads[t];
    uint32_t C = h->nclasses;
    size_t n = 0;
    size_t *order = co_xmalloc((s->d->n + 1) * sizeof *order);
    for (size_t i = 0; i < s->d->n; i++)
        if (s->mask[i] && target(m, t, &s->d->v[i]) >= 0)
            order[n++] = i;
    float *g2 = co_xcalloc((size_t)m->nrows * C + 1, sizeof *g2);
    float *gb = co_xcalloc(C, sizeof *gb), *p = co_xmalloc(C * sizeof *p);
    uint64_t seed = o->seed + (uint64_t)t;
    const float eps = 1e-6f, lr = o->lr;
    h->xnorm = 1;
    for (int ep = 0; ep < o->epochs; ep++) {
        for (size_t i = n; i > 1; i--) { /* Fisher–Yates */
            size_t j = (size_t)(rnd(&seed) % i), tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
        for (size_t q = 0; q < n; q++) {
            size_t i = order[q];
            const co_clf_example *e = &s->d->v[i];
            int y = target(m, t, e);
            size_t nf = s->off[i + 1] - s->off[i];
            const uint32_t *rows = s->rows + s->off[i];
            co_clf_model_head_probs(m, t, rows, nf, nf, p);
            float x = nf ? 1.0f / sqrtf((float)nf) : 1.0f;
            for (uint32_t c = 0; c < C; c++) {
                float g = e->weight * (p[c] - (c == (uint32_t)y ? 1.0f : 0.0f));
                if (fabsf(g) < 1e-4f)
                    continue; /* nearly settled: skip (most classes after a few passes) */
                gb[c] += g * g;
                h->bias[c] -= lr * g / sqrtf(gb[c] + eps);
                float gx = g * x;
                for (size_t k = 0; k < nf; k++) {
                    size_t at = (size_t)rows[k] * C + c;
                    g2[at] += gx * gx;
                    h->rows[at] -= lr * gx / sqrtf(g2[at] + eps);
                }
            }
        }
    }
    co_free(order);
    co_free(g2);
    co_free(gb);
    co_free(p);
}

/* o->bags logistic regressions with different shuffles, their weights
 * averaged: the same argmax as averaging their log-odds (a small ensemble
 * at the cost of one model), and less dependent on one shuffle's luck. */
static void fit_lr_bagged(co_clf_model *m, co_clf_task t, const fitset *s,
                          const co_clf_train_opts *o)
{
    co_clf_head *h = &m->heads[t];
    size_t nw = (size_t)m->nrows * h->nclasses;
    int bags = o->bags > 1 ? o->bags : 1;
    float *rows = co_xcalloc(nw + 1, sizeof *rows), *bias = co_xcalloc(h->nclasses, sizeof *bias);
    co_clf_train_opts one = *o;
    for (int b = 0; b < bags; b++) {
        memset(h->rows, 0, nw * sizeof *h->rows);
        memset(h->bias, 0, h->nclasses * sizeof *h->bias);
        one.seed = o->seed + (uint64_t)b * 7919u;
        fit_lr(m, t, s, &one);
        for (size_t j = 0; j < nw; j++)
            rows[j] += h->rows[j] / (float)bags;
        for (uint32_t c = 0; c < h->nclasses; c++)
            bias[c] += h->bias[c] / (float)bags;
    }
    memcpy(h->rows, rows, nw * sizeof *rows);
    memcpy(h->bias, bias, h->nclasses * sizeof *bias);
    co_free(rows);
    co_free(bias);
}

/* Fits a model on the examples selected by mask. */
static co_clf_model *fit(const co_clf_data *d, const feats *f, const uint8_t *mask, int algo,
                         const co_clf_train_opts *o)
{
    size_t total = 0, nb = 0;
    for (size_t i = 0; i < d->n; i++)
        if (mask[i])
            total += f->off[i + 1] - f->off[i];
    uint32_t *b = co_xmalloc((total + 1) * sizeof *b);
    for (size_t i = 0; i < d->n; i++)
        if (mask[i])
            for (size_t k = f->off[i]; k < f->off[i + 1]; k++)
                b[nb++] = f->v[k];
    qsort(b, nb, sizeof *b, cmp_u32);
    size_t nrows = 0;
    for (size_t i = 0; i < nb; i++)
        if (nrows == 0 || b[nrows - 1] != b[i])
            b[nrows++] = b[i];
    co_clf_model *m = co_clf_model_new(o->bits, o->ngram, (uint32_t)nrows, b);
    co_free(b);
    fitset s = {d, mask, co_xmalloc((f->off[d->n] + 1) * sizeof(uint32_t)), f->off};
    for (size_t k = 0; k < f->off[d->n]; k++) {
        int32_t r = m->index[f->v[k]];
        s.rows[k] = r >= 0 ? (uint32_t)r : 0; /* unmasked examples are never read */
    }
    const char **labels = NULL;
    size_t ncat = category_labels(d, mask, &labels);
    co_err rc = co_clf_model_head_init(m, CO_CLF_CATEGORY, (uint32_t)(ncat ? ncat : 1),
                                       ncat ? labels : (const char *const[]){"C0000"});
    if (!rc)
        rc = co_clf_model_head_init(m, CO_CLF_REQTYPE, CO_CLF_NREQTYPES, co_clf_reqtype_labels);
    if (!rc)
        rc = co_clf_model_head_init(m, CO_CLF_SEVERITY, CO_CLF_NSEVERITIES,
                                    co_clf_severity_labels);
    co_free(labels);
    for (int t = 0; !rc && t < CO_CLF_NTASKS; t++) {
        if (algo == CO_CLF_NB)
            fit_nb(m, (co_clf_task)t, &s, o->alpha);
        else
            fit_lr_bagged(m, (co_clf_task)t, &s, o);
    }
    m->flags = (uint32_t)algo;
    co_free(s.rows);
    if (rc) {
        co_clf_model_free(m);
        return NULL;
    }
    return m;
}

void co_clf_evaluate(const co_clf_model *m, const co_clf_data *d, const uint8_t *mask,
                     co_clf_eval *out)
{
    size_t hit1 = 0, hit3 = 0, hit_rt = 0, hit_sev = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < d->n; i++) {
        const co_clf_example *e = &d->v[i];
        if (mask && !mask[i])
            continue;
        co_clf_result r;
        co_clf_model_predict(m, e->text, strlen(e->text), &r);
        if (e->label[0]) {
            out->n++;
            for (int k = 0; k < r.ntop; k++)
                if (!strcmp(r.top[k].label, e->label)) {
                    hit1 += k == 0;
                    hit3++;
                }
        }
        if (e->reqtype >= 0) {
            out->n_rt++;
            hit_rt += !strcmp(r.reqtype.label, co_clf_reqtype_labels[e->reqtype]);
        }
        if (e->severity >= 0) {
            out->n_sev++;
            hit_sev += !strcmp(r.severity.label, co_clf_severity_labels[e->severity]);
        }
    }
    out->top1 = out->n ? (double)hit1 / (double)out->n : 0;
    out->top3 = out->n ? (double)hit3 / (double)out->n : 0;
    out->reqtype = out->n_rt ? (double)hit_rt / (double)out->n_rt : 0;
    out->severity = out->n_sev ? (double)hit_sev / (double)out->n_sev : 0;
}

/* Negative log-likelihood of head t on the masked examples at temperature T. */
static double nll(co_clf_model *m, co_clf_task t, const co_clf_data *d, const uint8_t *mask,
                  float T)
{
    co_clf_head *h = &m->heads[t];
    float save = h->temp, *p = co_xmalloc(h->nclasses * sizeof *p);
    uint32_t *rows = co_xmalloc(CO_FEAT_MAX * sizeof *rows);
    double sum = 0;
    h->temp = T;
    for (size_t i = 0; i < d->n; i++) {
        int y = mask[i] ? target(m, t, &d->v[i]) : -1;
        if (y < 0)
            continue;
        size_t nfeat, n = co_clf_model_rows(m, d->v[i].text, strlen(d->v[i].text), rows,
                                            CO_FEAT_MAX, &nfeat);
        co_clf_model_head_probs(m, t, rows, n, nfeat, p);
        sum -= log(p[y] > 1e-9f ? p[y] : 1e-9f);
    }
    h->temp = save;
    co_free(p);
    co_free(rows);
    return sum;
}

/* Chooses each head's temperature on the held-out share (log grid). */
static void calibrate(co_clf_model *m, const co_clf_data *d, const uint8_t *mask, float *temps)
{
    for (int t = 0; t < CO_CLF_NTASKS; t++) {
        float best_t = 1.0f;
        double best = INFINITY;
        for (int k = -12; k <= 12; k++) {
            float T = powf(2.0f, (float)k / 4.0f);
            double v = nll(m, (co_clf_task)t, d, mask, T);
            if (v < best) {
                best = v;
                best_t = T;
            }
        }
        temps[t] = best_t;
    }
}

co_err co_clf_train(const co_clf_data *d, const co_clf_train_opts *o, co_clf_model **out,
                    co_clf_train_report *rep)
{
    double t0 = co_time_mono();
    co_clf_train_report r = {.examples = d->n};
    if (d->n == 0 || o->bits < CO_FEAT_BITS_MIN || o->bits > CO_FEAT_BITS_MAX || o->ngram < 1 ||
        o->ngram > CO_FEAT_NGRAM_MAX || o->holdout_pct < 0 || o->holdout_pct > 50)
        return CO_EINVAL;
    feats f;
    feats_build(d, o->bits, o->ngram, &f);
    uint8_t *train = co_xmalloc(d->n), *held = co_xmalloc(d->n), *all = co_xmalloc(d->n);
    for (size_t i = 0; i < d->n; i++) {
        held[i] = (uint8_t)co_clf_is_holdout(&d->v[i], o->holdout_pct);
        train[i] = !held[i];
        all[i] = 1;
        r.holdout += held[i];
    }
    int algo = o->algo >= 0 ? o->algo : CO_CLF_LR;
    float temps[CO_CLF_NTASKS] = {1, 1, 1};
    co_clf_model *m = NULL;
    if (r.holdout > 0) {
        co_clf_model *mods[2] = {NULL, NULL};
        for (int a = 0; a < 2; a++) {
            if (o->algo >= 0 && o->algo != a)
                continue;
            mods[a] = fit(d, &f, train, a, o);
            co_clf_evaluate(mods[a], d, held, a == CO_CLF_NB ? &r.nb : &r.lr);
        }
        if (o->algo < 0)
            algo = r.nb.top1 > r.lr.top1 ? CO_CLF_NB : CO_CLF_LR;
        calibrate(mods[algo], d, held, temps);
        if (!o->final_fit) {
            m = mods[algo];
            mods[algo] = NULL;
        }
        co_clf_model_free(mods[0]);
        co_clf_model_free(mods[1]);
    }
    if (!m)
        m = fit(d, &f, all, algo, o);
    co_free(train);
    co_free(held);
    co_free(all);
    co_free(f.v);
    co_free(f.off);
    if (!m)
        return CO_EINVAL;
    for (int t = 0; t < CO_CLF_NTASKS; t++)
        m->heads[t].temp = temps[t];
    m->examples = (uint32_t)d->n;
    m->trained = co_time_now();
    r.algo = algo;
    r.seconds = co_time_mono() - t0;
    if (rep)
        *rep = r;
    *out = m;
    return CO_OK;
}
