/* projection.c — the columnar case projection (see projection.h and
 * projection_int.h): rows in chunks, the id → row map, interning of
 * departments, users and categories, the area code → index hash, and the
 * chunk scan that stats.c and evaluation.c build on.
 *
 * Ownership: the projection owns its chunks, maps and interned strings and
 * frees them in co_projection_free; it borrows the co_areas it was built on.
 * Only the single writer thread mutates; it takes the write lock for each
 * apply. Readers take the read lock per chunk in co_proj_scan. */
#include "projection/projection_int.h"

#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* ------------------------------------------------------------------ time */

uint32_t co_proj_time(int64_t unix_s)
{
    if (unix_s == 0)
        return 0;
    int64_t t = unix_s - CO_PROJ_EPOCH;
    if (t < 1)
        return 1;
    return t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

int64_t co_proj_unix(uint32_t t)
{
    return t ? (int64_t)t + CO_PROJ_EPOCH : 0;
}

/* ---------------------------------------------------------------- intern */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static void intern_init(co_proj_intern *t)
{
    t->cap = 64;
    t->str = co_xcalloc(t->cap, sizeof *t->str);
    t->str[0] = co_xstrdup("");
    t->n = 1;
    t->nslots = 128;
    t->slots = co_xcalloc(t->nslots, sizeof *t->slots);
}

static void intern_free(co_proj_intern *t)
{
    for (size_t i = 0; i < t->n; i++)
        co_free(t->str[i]);
    co_free(t->str);
    co_free(t->slots);
}

int co_proj_intern_find(const co_proj_intern *t, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t mask = t->nslots - 1;
    for (size_t i = hash_str(s) & mask;; i = (i + 1) & mask) {
        uint16_t id = t->slots[i];
        if (!id)
            return -1;
        if (!strcmp(t->str[id], s))
            return id;
    }
}

const char *co_proj_intern_str(const co_proj_intern *t, unsigned id)
{
    return id < t->n ? t->str[id] : "";
}

static void intern_rehash(co_proj_intern *t)
{
    co_free(t->slots);
    t->nslots *= 2;
    t->slots = co_xcalloc(t->nslots, sizeof *t->slots);
    size_t mask = t->nslots - 1;
    for (size_t id = 1; id < t->n; id++) {
        size_t i = hash_str(t->str[id]) & mask;
        while (t->slots[i])
            i = (i + 1) & mask;
        t->slots[i] = (uint16_t)id;
    }
}

/* Id of s, adding it when new. 0 for "", and 0 with *full set when the
 * table already holds CO_PROJ_MAX_IDS strings. Writer only. */
static uint16_t intern_get(co_proj_intern *t, const char *s, int *full)
{
    int id = co_proj_intern_find(t, s);
    if (id >= 0)
        return (uint16_t)id;
    if (t->n >= CO_PROJ_MAX_IDS) {
        *full = 1;
        return 0;
    }
    t->str = co_xgrow(t->str, &t->cap, t->n + 1, sizeof *t->str);
    t->str[t->n] = co_xstrdup(s);
    uint16_t nid = (uint16_t)t->n++;
    if (t->n * 2 > t->nslots)
        intern_rehash(t);
    else {
        size_t mask = t->nslots - 1, i = hash_str(s) & mask;
        while (t->slots[i])
            i = (i + 1) & mask;
        t->slots[i] = nid;
    }
    return nid;
}

/* ----------------------------------------------------------------- areas */

static size_t pow2_at_least(size_t n)
{
    size_t k = 16;
    while (k < n)
        k <<= 1;
    return k;
}

/* Each area's ancestors as level ordinals, once every ordinal is known. */
static void area_ancestors(co_projection *p)
{
    for (size_t i = 0; i < p->nareas; i++) {
        const co_area *a = co_areas_at(p->areas, (int32_t)i);
        for (int l = 0; l < 3; l++) {
            int32_t up = a->up[l + CO_LEVEL_DISTRICT];
            p->area_up[i][l] = up >= 0 ? p->area_ord[up] : 0;
        }
    }
}

static co_err build_areas(co_projection *p)
{
    const co_areas *as = p->areas;
    size_t n = as ? co_areas_count(as) : 0;
    p->nareas = n;
    p->area_ord = co_xcalloc(n + 1, sizeof *p->area_ord);
    p->area_level = co_xcalloc(n + 1, sizeof *p->area_level);
    p->area_up = co_xcalloc(n + 1, sizeof *p->area_up);
    p->area_code = co_xcalloc(n + 1, sizeof *p->area_code);
    for (int l = 0; l < 3; l++) {
        size_t cnt = as ? co_areas_count_level(as, (co_level)(l + CO_LEVEL_DISTRICT)) : 0;
        if (cnt >= CO_PROJ_MAX_IDS)
            return CO_ETOOBIG;
        p->ord_area[l] = co_xcalloc(cnt + 1, sizeof *p->ord_area[l]);
        p->ord_area[l][0] = -1;
    }
    p->area_hash_n = pow2_at_least(2 * n + 1);
    p->area_hash = co_xmalloc(p->area_hash_n * sizeof *p->area_hash);
    memset(p->area_hash, 0xff, p->area_hash_n * sizeof *p->area_hash);
    for (size_t i = 0; i < n; i++) {
        const co_area *a = co_areas_at(as, (int32_t)i);
        int l = (int)a->level - CO_LEVEL_DISTRICT;
        p->area_level[i] = (uint8_t)a->level;
        if (l >= 0 && l < 3) {
            p->ord_area[l][++p->nord[l]] = (int32_t)i;
            p->area_ord[i] = (uint16_t)p->nord[l];
        }
        memcpy(p->area_code[i], a->code, sizeof p->area_code[i]);
        size_t mask = p->area_hash_n - 1, h = hash_str(a->code) & mask;
        while (p->area_hash[h] >= 0)
            h = (h + 1) & mask;
        p->area_hash[h] = (int32_t)i;
    }
    area_ancestors(p);
    return CO_OK;
}

static int32_t area_lookup(const co_projection *p, const char *code)
{
    if (!p->nareas || !code || !*code)
        return -1;
    size_t mask = p->area_hash_n - 1;
    for (size_t h = hash_str(code) & mask;; h = (h + 1) & mask) {
        int32_t i = p->area_hash[h];
        if (i < 0)
            return -1;
        if (!strcmp(p->area_code[i], code))
            return i;
    }
}

/* The finest of the case's area codes that the hierarchy knows; -1 when it
 * has none, -2 when it has only codes the hierarchy does not know. */
static int32_t case_area(const co_projection *p, const co_case *c)
{
    const char *codes[] = {c->grid, c->community, c->street, c->district};
    int any = 0;
    for (size_t i = 0; i < 4; i++) {
        int32_t a = area_lookup(p, codes[i]);
        if (a >= 0)
            return a;
        any |= codes[i][0] != '\0';
    }
    return any ? -2 : -1;
}

/* ------------------------------------------------------------- lifecycle */

co_err co_projection_new(const co_areas *areas, co_projection **out)
{
    *out = NULL;
    co_projection *p = co_xcalloc(1, sizeof *p);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&p->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    p->areas = areas;
    intern_init(&p->depts);
    intern_init(&p->users);
    p->cat_id = co_xcalloc(CO_PROJ_CAT_SPACE, sizeof *p->cat_id);
    p->id_cat = co_xcalloc(CO_PROJ_CAT_SPACE, sizeof *p->id_cat);
    p->ncat = 1; /* id 0 = unclassified */
    co_err rc = build_areas(p);
    if (rc) {
        co_projection_free(p);
        return rc;
    }
    *out = p;
    return CO_OK;
}

void co_projection_free(co_projection *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nchunks; i++)
        co_free(p->chunks[i]);
    co_free(p->chunks);
    co_free(p->id_row);
    co_proj_dueheap_free(p);
    intern_free(&p->depts);
    intern_free(&p->users);
    co_free(p->cat_id);
    co_free(p->id_cat);
    co_free(p->area_ord);
    co_free(p->area_level);
    co_free(p->area_up);
    co_free(p->area_code);
    for (int l = 0; l < 3; l++)
        co_free(p->ord_area[l]);
    co_free(p->area_hash);
    pthread_rwlock_destroy(&p->lock);
    co_free(p);
}

void co_projection_set_names(co_projection *p, const co_projection_names *names)
{
    pthread_rwlock_wrlock(&p->lock);
    if (names) {
        p->names = *names;
        p->has_names = 1;
    } else {
        memset(&p->names, 0, sizeof p->names);
        p->has_names = 0;
    }
    pthread_rwlock_unlock(&p->lock);
}

const co_areas *co_projection_areas(const co_projection *p)
{
    return p->areas;
}

void co_proj_rdlock(co_projection *p)
{
    pthread_rwlock_rdlock(&p->lock);
}

void co_proj_unlock(co_projection *p)
{
    pthread_rwlock_unlock(&p->lock);
}

/* ------------------------------------------------------------------ rows */

typedef struct rowref {
    co_proj_chunk *ch;
    uint32_t r;
    uint32_t row;
} rowref;

static rowref row_at(const co_projection *p, uint64_t row)
{
    rowref x = {p->chunks[row / CO_PROJ_CHUNK], (uint32_t)(row % CO_PROJ_CHUNK), (uint32_t)row};
    return x;
}

static int find_row(const co_projection *p, int64_t id, rowref *out)
{
    if (id <= 0 || (uint64_t)id >= p->id_cap || !p->id_row[id])
        return 0;
    *out = row_at(p, p->id_row[id] - 1);
    return 1;
}

/* Appends an empty row for id; the caller fills it. */
static rowref new_row(co_projection *p, int64_t id)
{
    if ((uint64_t)id >= p->id_cap) {
        size_t old = p->id_cap;
        p->id_row = co_xgrow(p->id_row, &p->id_cap, (size_t)id + 1, sizeof *p->id_row);
        memset(p->id_row + old, 0, (p->id_cap - old) * sizeof *p->id_row);
    }
    if (p->nrows == (uint64_t)p->nchunks * CO_PROJ_CHUNK) {
        p->chunks = co_xgrow(p->chunks, &p->chunks_cap, p->nchunks + 1, sizeof *p->chunks);
        co_proj_chunk *ch = co_xcalloc(1, sizeof *ch);
        ch->tmin = UINT32_MAX;
        p->chunks[p->nchunks++] = ch;
    }
    rowref x = row_at(p, p->nrows);
    p->id_row[id] = (uint32_t)(++p->nrows);
    x.ch->n = x.r + 1;
    x.ch->nstate[CO_ST_NONE]++; /* until fill_row sets its state */
    for (int s = 0; s < CO_SLOT_COUNT; s++)
        x.ch->slot[s][x.r] = 0;
    x.ch->pflags[x.r] = 0;
    x.ch->step_due[x.r] = 0;
    x.ch->hpos[x.r] = 0;
    return x;
}

static uint8_t status_byte(const co_case *c)
{
    unsigned sb = (unsigned)c->state & CO_SB_STATE;
    if (c->state == CO_ST_CLOSED && c->close_type != CO_CLOSE_OVERDUE &&
        !(c->flags & CO_CF_HANDLED_LATE))
        sb |= CO_SB_ONTIME;
    if (c->flags & (CO_CF_EVER_OVERDUE | CO_CF_HANDLED_LATE))
        sb |= CO_SB_LATE;
    unsigned v = 0;
    if (c->flags & CO_CF_VISITED)
        v = c->satisfaction == CO_SAT_SATISFIED ? 1 : c->satisfaction == CO_SAT_BASIC ? 2 : 3;
    return (uint8_t)(sb | v << CO_SB_VISIT_SHIFT);
}

/* Steps the case must have gone through, judged from the case alone. */
static uint8_t infer_pflags(const co_case *c)
{
    unsigned f = 0, fl = c->flags;
    co_state st = c->state;
    if ((st >= CO_ST_FILED && st <= CO_ST_CHECKED) || (st == CO_ST_CLOSED && !(fl & CO_CF_DIRECT)) ||
        c->dispatched_at || (fl & CO_CF_FILE_LATE))
        f |= CO_PF_FILED;
    if ((fl & (CO_CF_VERIFY_FALSE | CO_CF_VERIFY_LATE)) ||
        ((fl & CO_CF_VERIFIED) && c->channel != CO_CH_INSPECTOR))
        f |= CO_PF_VERIFY | CO_PF_VREQ;
    if (st == CO_ST_VERIFYING)
        f |= CO_PF_VREQ;
    if ((fl & CO_CF_CHECK_LATE) || c->rework > 0 || st == CO_ST_CHECKED ||
        (st == CO_ST_CLOSED && c->handled_at))
        f |= CO_PF_CHECK | CO_PF_CREQ;
    if (st == CO_ST_CHECKING)
        f |= CO_PF_CREQ;
    return (uint8_t)f;
}

static uint16_t cat_intern(co_projection *p, co_category c)
{
    if (c == CO_CATEGORY_NONE || c >= CO_PROJ_CAT_SPACE)
        return 0;
    if (!p->cat_id[c]) {
        p->id_cat[p->ncat] = c;
        p->cat_id[c] = (uint16_t)p->ncat++;
    }
    return p->cat_id[c];
}

static uint8_t sat8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void set_area(co_projection *p, rowref x, int32_t a)
{
    x.ch->area[x.r] = a;
    for (int l = 0; l < 3; l++)
        x.ch->lvl[l][x.r] = a >= 0 ? p->area_up[a][l] : 0;
}

static void fill_row(co_projection *p, rowref x, const co_case *c, int *full)
{
    co_proj_chunk *ch = x.ch;
    uint32_t r = x.r, t = co_proj_time(c->created);
    ch->created[r] = t;
    if (t < ch->tmin)
        ch->tmin = t;
    if (t > ch->tmax)
        ch->tmax = t;
    ch->dispatched[r] = co_proj_time(c->dispatched_at);
    ch->due[r] = co_proj_time(c->disposal_due);
    ch->handled[r] = co_proj_time(c->handled_at);
    ch->closed[r] = co_proj_time(c->closed_at);
    ch->step_due[r] = co_proj_time(c->step_due);
    ch->flags[r] = c->flags;
    set_area(p, x, case_area(p, c));
    ch->cat[r] = cat_intern(p, c->category);
    ch->dept[r] = intern_get(&p->depts, c->dept, full);
    ch->first_dept[r] = intern_get(&p->depts, c->first_dept, full);
    ch->slot[CO_SLOT_REPORTER][r] = intern_get(&p->users, c->reporter, full);
    ch->nstate[ch->sb[r] & CO_SB_STATE]--;
    ch->sb[r] = status_byte(c);
    ch->nstate[ch->sb[r] & CO_SB_STATE]++;
    if (co_state_is_open(c->state))
        ch->open_bits[r >> 6] |= 1ull << (r & 63);
    else
        ch->open_bits[r >> 6] &= ~(1ull << (r & 63));
    ch->channel[r] = (uint8_t)c->channel;
    ch->severity[r] = (uint8_t)c->severity;
    ch->reqtype[r] = (uint8_t)c->reqtype;
    ch->rework[r] = sat8(c->rework);
    ch->dispatches[r] = sat8(c->dispatches);
    ch->close_type[r] = (uint8_t)c->close_type;
    ch->pflags[r] |= infer_pflags(c);
    int runs = c->state == CO_ST_DISPATCHED || c->state == CO_ST_HANDLING;
    co_proj_dueheap_set(p, x.row, runs ? ch->due[r] : 0);
}

/* ----------------------------------------------------------- attribution */

typedef enum attr_kind { AT_PLAIN, AT_FIRST, AT_REQ_LATE, AT_DATA_LATE, AT_REGISTER } attr_kind;

typedef struct attr_rule {
    const char *action;
    int slot;          /* co_proj_slot */
    attr_kind kind;
    uint8_t pflag;     /* set when the step happens */
    uint8_t late_flag; /* set when the step was late */
} attr_rule;

static const attr_rule attr_rules[] = {
    {"register", CO_SLOT_REPORTER, AT_REGISTER, 0, 0},
    {"verify_request", CO_SLOT_VREQ, AT_REQ_LATE, CO_PF_VREQ, CO_PF_VREQ_LATE},
    {"verify", CO_SLOT_VERIFIER, AT_PLAIN, CO_PF_VERIFY | CO_PF_VREQ, 0},
    {"file", CO_SLOT_FILER, AT_FIRST, CO_PF_FILED, 0},
    {"dispatch", CO_SLOT_DISPATCHER, AT_FIRST, CO_PF_FILED, 0},
    {"request_check", CO_SLOT_CREQ, AT_REQ_LATE, CO_PF_CREQ, CO_PF_CREQ_LATE},
    {"check_pass", CO_SLOT_CHECKER, AT_PLAIN, CO_PF_CHECK | CO_PF_CREQ, 0},
    {"check_fail", CO_SLOT_CHECKER, AT_PLAIN, CO_PF_CHECK | CO_PF_CREQ, 0},
    {"close", CO_SLOT_CLOSER, AT_DATA_LATE, 0, CO_PF_CLOSE_LATE},
};

static int64_t json_time(const json_t *v)
{
    int64_t t = 0;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v) && co_time_parse(json_string_value(v), &t) == CO_OK)
        return t;
    return 0;
}

/* The step deadline an event starts, if it names one (0 = leaves it). */
static int event_step_due(const co_event *ev, uint32_t *out)
{
    const json_t *v = json_object_get(ev->data, "step_due");
    if (!v && !strcmp(ev->action, "register"))
        v = json_object_get(json_object_get(ev->data, "case"), "step_due");
    if (!v)
        return 0;
    *out = co_proj_time(json_time(v));
    return 1;
}

static void attribute_row(co_projection *p, rowref x, const co_event *ev, int *full)
{
    co_proj_chunk *ch = x.ch;
    uint32_t r = x.r;
    for (size_t i = 0; i < sizeof attr_rules / sizeof attr_rules[0]; i++) {
        const attr_rule *a = &attr_rules[i];
        if (strcmp(a->action, ev->action) != 0)
            continue;
        uint16_t *slot = &ch->slot[a->slot][r];
        if ((a->kind != AT_FIRST && a->kind != AT_REGISTER) || !*slot)
            *slot = intern_get(&p->users, ev->actor, full);
        ch->pflags[r] |= a->pflag;
        uint32_t prev = ch->step_due[r], ts = co_proj_time(ev->ts);
        if (a->kind == AT_REQ_LATE && prev && ts > prev)
            ch->pflags[r] |= a->late_flag;
        if (a->kind == AT_DATA_LATE && json_is_true(json_object_get(ev->data, "late")))
            ch->pflags[r] |= a->late_flag;
        break;
    }
    uint32_t sd;
    if (event_step_due(ev, &sd))
        ch->step_due[r] = sd;
}

co_err co_projection_apply(co_projection *p, const co_case *c, const co_event *ev)
{
    if (c->id <= 0)
        return CO_EINVAL;
    if (c->id > INT32_MAX)
        return CO_ETOOBIG;
    int full = 0;
    pthread_rwlock_wrlock(&p->lock);
    rowref x;
    if (!find_row(p, c->id, &x))
        x = new_row(p, c->id);
    if (ev)
        attribute_row(p, x, ev, &full);
    fill_row(p, x, c, &full);
    x.ch->efacts[x.r] = co_proj_eval_facts(x.ch, x.r, 0);
    pthread_rwlock_unlock(&p->lock);
    if (full) {
        co_log_warn("msg=\"projection: more than 65534 departments or users\" case=%lld",
                    (long long)c->id);
        return CO_ETOOBIG;
    }
    return CO_OK;
}

co_err co_projection_attribute(co_projection *p, const co_event *ev)
{
    int full = 0;
    co_err rc = CO_OK;
    pthread_rwlock_wrlock(&p->lock);
    rowref x;
    if (find_row(p, ev->case_id, &x)) {
        attribute_row(p, x, ev, &full);
        x.ch->efacts[x.r] = co_proj_eval_facts(x.ch, x.r, 0);
    } else
        rc = CO_ENOTFOUND;
    pthread_rwlock_unlock(&p->lock);
    return rc ? rc : full ? CO_ETOOBIG : CO_OK;
}

/* ------------------------------------------------------------------ scan */

void co_proj_scan(co_projection *p, uint32_t from, uint32_t to, size_t first, size_t stride,
                  co_proj_chunk_fn fn, void *ctx)
{
    for (size_t i = first;; i += stride) {
        pthread_rwlock_rdlock(&p->lock);
        if (i >= p->nchunks) {
            pthread_rwlock_unlock(&p->lock);
            return;
        }
        const co_proj_chunk *ch = p->chunks[i];
        uint32_t n = ch->n;
        int meets = n && ch->tmax >= from && (!to || ch->tmin < to);
        int inside = ch->tmin >= from && (!to || ch->tmax < to);
        int stop = meets ? fn(ctx, ch, n, inside) : 0;
        pthread_rwlock_unlock(&p->lock);
        if (stop)
            return;
    }
}

typedef struct par_arg {
    co_proj_worker_fn fn;
    size_t i;
    void *ctx;
} par_arg;

static void *par_main(void *v)
{
    par_arg *a = v;
    a->fn(a->i, a->ctx);
    return NULL;
}

void co_proj_parallel(size_t k, co_proj_worker_fn fn, void *ctxs, size_t ctx_size)
{
    enum { MAXT = 16 };
    pthread_t th[MAXT];
    par_arg args[MAXT];
    int started[MAXT] = {0};
    if (k > MAXT)
        k = MAXT;
    for (size_t i = 1; i < k; i++) {
        args[i] = (par_arg){fn, i, (char *)ctxs + i * ctx_size};
        started[i] = pthread_create(&th[i], NULL, par_main, &args[i]) == 0;
        if (!started[i])
            fn(i, args[i].ctx); /* no thread: do its share inline */
    }
    fn(0, ctxs);
    for (size_t i = 1; i < k; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}

/* ------------------------------------------------------------------ info */

void co_projection_get_info(co_projection *p, co_projection_info *out)
{
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock(&p->lock);
    out->rows = p->nrows;
    out->row_bytes = CO_PROJ_ROW_BYTES;
    out->chunks = p->nchunks;
    out->bytes = p->nchunks * sizeof(co_proj_chunk) + p->id_cap * sizeof *p->id_row +
                 p->chunks_cap * sizeof *p->chunks;
    out->depts = p->depts.n - 1;
    out->users = p->users.n - 1;
    out->categories = p->ncat - 1;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t i = 0; i < p->nchunks; i++) {
        if (!p->chunks[i]->n)
            continue;
        lo = p->chunks[i]->tmin < lo ? p->chunks[i]->tmin : lo;
        hi = p->chunks[i]->tmax > hi ? p->chunks[i]->tmax : hi;
    }
    out->tmin = p->nrows ? co_proj_unix(lo) : 0;
    out->tmax = p->nrows ? co_proj_unix(hi) : 0;
    pthread_rwlock_unlock(&p->lock);
}
