/* model.c — the classifier model: construction, prediction, and the binary
 * file format (see model.h). */
#include "classify/model.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify/cues.h"
#include "classify/features.h"
#include "lib/alloc.h"

#define CLASSES_MAX 4096
static const unsigned char MAGIC[8] = {'C', 'O', 'C', 'L', 'F', '\r', '\n', 0x1a};

co_clf_model *co_clf_model_new(unsigned bits, unsigned ngram, uint32_t nrows,
                               const uint32_t *buckets)
{
    co_clf_model *m = co_xcalloc(1, sizeof *m);
    m->refs = 1;
    m->bits = bits;
    m->ngram = ngram;
    m->nrows = nrows;
    m->buckets = co_xmalloc((nrows ? nrows : 1) * sizeof *m->buckets);
    if (nrows)
        memcpy(m->buckets, buckets, nrows * sizeof *buckets);
    m->index = co_xmalloc(((size_t)1 << bits) * sizeof *m->index);
    memset(m->index, 0xff, ((size_t)1 << bits) * sizeof *m->index);
    for (uint32_t i = 0; i < nrows; i++)
        m->index[buckets[i]] = (int32_t)i;
    return m;
}

co_err co_clf_model_head_init(co_clf_model *m, co_clf_task t, uint32_t nclasses,
                              const char *const *labels)
{
    co_clf_head *h = &m->heads[t];
    if (nclasses == 0 || nclasses > CLASSES_MAX || h->nclasses)
        return CO_EINVAL;
    h->nclasses = nclasses;
    h->temp = 1.0f;
    h->labels = co_xcalloc(nclasses, sizeof *h->labels);
    for (uint32_t i = 0; i < nclasses; i++)
        snprintf(h->labels[i], sizeof h->labels[i], "%s", labels[i]);
    h->bias = co_xcalloc(nclasses, sizeof *h->bias);
    h->tok = co_xcalloc(nclasses, sizeof *h->tok);
    h->rows = co_xcalloc((size_t)m->nrows * nclasses + 1, sizeof *h->rows);
    return CO_OK;
}

co_clf_model *co_clf_model_ref(co_clf_model *m)
{
    if (m)
        m->refs++;
    return m;
}

void co_clf_model_free(co_clf_model *m)
{
    if (!m || --m->refs > 0)
        return;
    for (int t = 0; t < CO_CLF_NTASKS; t++) {
        co_free(m->heads[t].labels);
        co_free(m->heads[t].bias);
        co_free(m->heads[t].tok);
        co_free(m->heads[t].rows);
    }
    co_free(m->buckets);
    co_free(m->index);
    co_free(m);
}

/* -------------------------------------------------------------- predict */

size_t co_clf_model_rows(const co_clf_model *m, const char *text, size_t len, uint32_t *rows,
                         size_t max, size_t *nfeat)
{
    uint32_t feats[CO_FEAT_MAX];
    size_t n = co_features_extract(text, len, m->bits, m->ngram, feats, CO_FEAT_MAX), k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        int32_t r = m->index[feats[i]];
        if (r >= 0)
            rows[k++] = (uint32_t)r;
    }
    *nfeat = n;
    return k;
}

void co_clf_model_head_probs(const co_clf_model *m, co_clf_task t, const uint32_t *rows,
                             size_t nrows, size_t nfeat, float *p)
{
    const co_clf_head *h = &m->heads[t];
    uint32_t C = h->nclasses;
    float x = h->xnorm && nfeat ? 1.0f / sqrtf((float)nfeat) : 1.0f;
    float acc[CLASSES_MAX];
    memset(acc, 0, C * sizeof *acc);
    for (size_t i = 0; i < nrows; i++) {
        const float *w = h->rows + (size_t)rows[i] * C;
        for (uint32_t c = 0; c < C; c++)
            acc[c] += w[c];
    }
    float best = -INFINITY;
    for (uint32_t c = 0; c < C; c++) {
        p[c] = (h->bias[c] + (float)nfeat * h->tok[c] + x * acc[c]) / h->temp;
        if (p[c] > best)
            best = p[c];
    }
    float sum = 0;
    for (uint32_t c = 0; c < C; c++)
        sum += (p[c] = expf(p[c] - best));
    for (uint32_t c = 0; c < C; c++)
        p[c] /= sum;
}

static co_clf_pick best_of(const co_clf_head *h, const float *p)
{
    co_clf_pick b = {NULL, -1};
    for (uint32_t c = 0; c < h->nclasses; c++)
        if (p[c] > b.score)
            b = (co_clf_pick){h->labels[c], p[c]};
    return b;
}

void co_clf_model_predict(const co_clf_model *m, const char *text, size_t len, co_clf_result *out)
{
    uint32_t rows[CO_FEAT_MAX];
    float p[CLASSES_MAX];
    size_t nfeat = 0, n = co_clf_model_rows(m, text, len, rows, CO_FEAT_MAX, &nfeat);
    memset(out, 0, sizeof *out);
    const co_clf_head *h = &m->heads[CO_CLF_CATEGORY];
    co_clf_model_head_probs(m, CO_CLF_CATEGORY, rows, n, nfeat, p);
    for (uint32_t c = 0; c < h->nclasses; c++) {
        int pos;
        if (out->ntop < CO_CLF_TOP)
            pos = out->ntop++;
        else if (p[c] > out->top[CO_CLF_TOP - 1].score)
            pos = CO_CLF_TOP - 1;
        else
            continue;
        for (; pos > 0 && out->top[pos - 1].score < p[c]; pos--)
            out->top[pos] = out->top[pos - 1];
        out->top[pos] = (co_clf_pick){h->labels[c], p[c]};
    }
    co_clf_model_head_probs(m, CO_CLF_REQTYPE, rows, n, nfeat, p);
    out->reqtype = best_of(&m->heads[CO_CLF_REQTYPE], p);
    co_clf_model_head_probs(m, CO_CLF_SEVERITY, rows, n, nfeat, p);
    out->severity = best_of(&m->heads[CO_CLF_SEVERITY], p);
    /* thanks, questions and suggestions about a past danger are not emergencies */
    const char *rt = out->reqtype.label ? out->reqtype.label : "";
    if (strcmp(rt, "praise") && strcmp(rt, "consult") && strcmp(rt, "suggestion") &&
        co_clf_danger(text, len)) {
        const co_clf_head *s = &m->heads[CO_CLF_SEVERITY];
        for (uint32_t c = 0; c < s->nclasses; c++)
            if (!strcmp(s->labels[c], "critical") && out->severity.label != s->labels[c]) {
                out->severity = (co_clf_pick){s->labels[c], p[c]};
                out->danger = 1;
            }
    }
}

/* ----------------------------------------------------------- file format */

typedef struct wbuf {
    unsigned char *p;
    size_t n, cap;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    b->p = co_xgrow(b->p, &b->cap, b->n + n, 1);
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_i64(wbuf *b, int64_t v) { put(b, &v, 8); }

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void put_head(wbuf *b, const co_clf_model *m, const co_clf_head *h)
{
    put_u32(b, h->nclasses);
    put_u32(b, h->xnorm);
    put(b, &h->temp, 4);
    put(b, h->labels, (size_t)h->nclasses * CO_CLF_LABEL_MAX);
    put(b, h->bias, h->nclasses * sizeof(float));
    put(b, h->tok, h->nclasses * sizeof(float));
    put(b, h->rows, (size_t)m->nrows * h->nclasses * sizeof(float));
}

static co_err write_atomically(const char *path, const unsigned char *p, size_t n)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return CO_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return CO_EIO;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off != n || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return CO_EIO;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return CO_EIO;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return CO_OK;
}

co_err co_clf_model_save(co_clf_model *m, const char *path)
{
    wbuf b = {0};
    put(&b, MAGIC, sizeof MAGIC);
    put_u32(&b, CO_CLF_FORMAT);
    put_u32(&b, m->flags);
    put_i64(&b, m->tax_version);
    put_i64(&b, m->trained);
    put_u32(&b, m->examples);
    put_u32(&b, m->bits);
    put_u32(&b, m->ngram);
    put_u32(&b, m->nrows);
    put(&b, m->buckets, (size_t)m->nrows * sizeof *m->buckets);
    for (int t = 0; t < CO_CLF_NTASKS; t++)
        put_head(&b, m, &m->heads[t]);
    uint64_t sum = fnv1a(b.p, b.n);
    put(&b, &sum, 8);
    co_err rc = write_atomically(path, b.p, b.n);
    if (!rc)
        m->file_bytes = b.n;
    co_free(b.p);
    return rc;
}

typedef struct rbuf {
    const unsigned char *p;
    size_t n, off;
} rbuf;

static int get(rbuf *b, void *dst, size_t n)
{
    if (n > b->n - b->off)
        return -1;
    memcpy(dst, b->p + b->off, n);
    b->off += n;
    return 0;
}

static co_err get_head(rbuf *b, co_clf_model *m, co_clf_task t)
{
    uint32_t C, xnorm;
    float temp;
    if (get(b, &C, 4) || get(b, &xnorm, 4) || get(b, &temp, 4) || C == 0 || C > CLASSES_MAX ||
        !(temp > 0) || (size_t)C * CO_CLF_LABEL_MAX > b->n - b->off)
        return CO_EINVAL;
    const char *labels[CLASSES_MAX];
    char(*raw)[CO_CLF_LABEL_MAX] = (char(*)[CO_CLF_LABEL_MAX])(b->p + b->off);
    char tmp[CLASSES_MAX][CO_CLF_LABEL_MAX];
    for (uint32_t c = 0; c < C; c++) {
        memcpy(tmp[c], raw[c], CO_CLF_LABEL_MAX);
        tmp[c][CO_CLF_LABEL_MAX - 1] = '\0';
        labels[c] = tmp[c];
    }
    b->off += (size_t)C * CO_CLF_LABEL_MAX;
    if (co_clf_model_head_init(m, t, C, labels))
        return CO_EINVAL;
    co_clf_head *h = &m->heads[t];
    h->temp = temp;
    h->xnorm = xnorm != 0;
    if (get(b, h->bias, C * 4) || get(b, h->tok, C * 4) ||
        (m->nrows && get(b, h->rows, (size_t)m->nrows * C * 4)))
        return CO_EINVAL;
    return CO_OK;
}

static co_err parse_model(const unsigned char *p, size_t n, co_clf_model **out)
{
    rbuf b = {p, n - 8, 0};
    unsigned char magic[8];
    uint32_t fmt, flags, examples, bits, ngram, nrows;
    int64_t taxv, trained;
    uint64_t sum;
    memcpy(&sum, p + n - 8, 8);
    if (get(&b, magic, 8) || memcmp(magic, MAGIC, 8) || fnv1a(p, n - 8) != sum)
        return CO_EINVAL;
    if (get(&b, &fmt, 4) || fmt != CO_CLF_FORMAT || get(&b, &flags, 4) || get(&b, &taxv, 8) ||
        get(&b, &trained, 8) || get(&b, &examples, 4) || get(&b, &bits, 4) ||
        get(&b, &ngram, 4) || get(&b, &nrows, 4) || bits < CO_FEAT_BITS_MIN ||
        bits > CO_FEAT_BITS_MAX || ngram < 1 || ngram > CO_FEAT_NGRAM_MAX ||
        nrows > (1u << bits) || (size_t)nrows * 4 > b.n - b.off)
        return CO_EINVAL;
    const uint32_t *buckets = (const uint32_t *)(p + b.off);
    for (uint32_t i = 0; i < nrows; i++) {
        uint32_t v;
        memcpy(&v, buckets + i, 4);
        if (v >= (1u << bits))
            return CO_EINVAL;
    }
    uint32_t *bk = co_xmalloc((nrows ? nrows : 1) * sizeof *bk);
    memcpy(bk, p + b.off, (size_t)nrows * 4);
    b.off += (size_t)nrows * 4;
    co_clf_model *m = co_clf_model_new(bits, ngram, nrows, bk);
    co_free(bk);
    m->flags = flags;
    m->tax_version = taxv;
    m->trained = trained;
    m->examples = examples;
    m->file_bytes = n;
    co_err rc = CO_OK;
    for (int t = 0; t < CO_CLF_NTASKS && !rc; t++)
        rc = get_head(&b, m, (co_clf_task)t);
    if (!rc && b.off != b.n)
        rc = CO_EINVAL;
    if (rc) {
        co_clf_model_free(m);
        return rc;
    }
    *out = m;
    return CO_OK;
}

co_err co_clf_model_load(const char *path, co_clf_model **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? CO_ENOTFOUND : CO_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > (off_t)1 << 31) {
        close(fd);
        return CO_EIO;
    }
    if (st.st_size < 64) {
        close(fd);
        return CO_EINVAL;
    }
    size_t n = (size_t)st.st_size, off = 0;
    unsigned char *p = co_xmalloc(n);
    while (off < n) {
        ssize_t r = read(fd, p + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    co_err rc = off == n ? parse_model(p, n, out) : CO_EIO;
    co_free(p);
    return rc;
}
