/* dedup.c — duplicate detection: text signatures, the radius/window and
 * related-category tables, the score, and the cell index of open cases
 * (see dedup.h; design and figures in docs/internals/dedup.md). */
#include "domain/dedup.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

/* ------------------------------------------------------------- the text */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Decodes one UTF-8 character; a stray byte is returned as itself. */
static uint32_t next_char(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint32_t c = p[0];
    int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (n <= 0) {
        *pp = p + 1;
        return c;
    }
    uint32_t v = c & (0x3Fu >> n);
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *pp = p + 1;
            return c;
        }
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    *pp = p + n + 1;
    return v;
}

/* Characters that carry no content: spaces, ASCII and CJK punctuation. */
static int is_noise(uint32_t c)
{
    if (c < 0x80)
        return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    return (c >= 0x2000 && c <= 0x206F) ||  /* general punctuation */
           (c >= 0x3000 && c <= 0x303F) ||  /* CJK symbols and punctuation */
           (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
           (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) || c == 0x00A0;
}

typedef void (*shingle_fn)(void *arg, uint64_t h);

/* Calls fn for every 2- and 3-gram of the cleaned text; returns the count. */
static size_t each_shingle(const char *text, shingle_fn fn, void *arg)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    uint32_t w[3] = {0, 0, 0};
    size_t have = 0, n = 0;
    while (*p) {
        uint32_t c = next_char(&p);
        if (is_noise(c))
            continue;
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        w[0] = w[1];
        w[1] = w[2];
        w[2] = c & 0x1FFFFFu;
        have++;
        if (have >= 2) {
            fn(arg, mix64((uint64_t)w[1] << 21 | w[2] | 1ull << 62));
            n++;
        }
        if (have >= 3) {
            fn(arg, mix64((uint64_t)w[0] << 42 | (uint64_t)w[1] << 21 | w[2]));
            n++;
        }
    }
    return n;
}

/* The K hash functions: h_i(x) = high 32 bits of (a_i x + b_i) mod 2^64, a_i odd. */
typedef struct minhash_ctx {
    uint64_t a[CO_DEDUP_K], b[CO_DEDUP_K];
    uint32_t *h;
} minhash_ctx;

static void minhash_one(void *arg, uint64_t x)
{
    minhash_ctx *m = arg;
    for (int i = 0; i < CO_DEDUP_K; i++) {
        uint32_t v = (uint32_t)((m->a[i] * x + m->b[i]) >> 32);
        if (v < m->h[i])
            m->h[i] = v;
    }
}

void co_dedup_signature(const char *text, co_dedup_sig *out)
{
    minhash_ctx m;
    for (int i = 0; i < CO_DEDUP_K; i++) {
        m.a[i] = mix64(0xC17E0F5ull + 2 * (uint64_t)i) | 1u;
        m.b[i] = mix64(0xC17E0F5ull + 2 * (uint64_t)i + 1);
        out->h[i] = UINT32_MAX;
    }
    m.h = out->h;
    size_t n = each_shingle(text, minhash_one, &m);
    out->nshingles = (uint16_t)(n > UINT16_MAX ? UINT16_MAX : n);
}

double co_dedup_similarity(const co_dedup_sig *a, const co_dedup_sig *b)
{
    if (!a->nshingles || !b->nshingles)
        return 0;
    int same = 0;
    for (int i = 0; i < CO_DEDUP_K; i++)
        same += a->h[i] == b->h[i];
    return (double)same / CO_DEDUP_K;
}

typedef struct collect_ctx {
    uint64_t *out;
    size_t n, max;
} collect_ctx;

static void collect_one(void *arg, uint64_t h)
{
    collect_ctx *c = arg;
    if (c->n < c->max)
        c->out[c->n++] = h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t co_dedup_shingles(const char *text, uint64_t *out, size_t max)
{
    collect_ctx c = {out, 0, max};
    each_shingle(text, collect_one, &c);
    qsort(out, c.n, sizeof *out, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < c.n; i++)
        if (k == 0 || out[k - 1] != out[i])
            out[k++] = out[i];
    return k;
}

/* ------------------------------------------------------------- the rules */

#define CAT(kind, code) ((co_category)((kind) * 10000 + (code)))
#define C_(code) CAT(1, code)
#define E_(code) CAT(2, code)

/* Radius and window by subclass (lo == hi) or a range of subclasses; the
 * first row that matches wins. Why these numbers: docs/internals/dedup.md. */
static const struct {
    co_category lo, hi;
    double radius_m;
    int days;
} RULES[] = {
    {C_(104), C_(104), 50, 7},   /* 雨水箅子: grates come in rows along the kerb */
    {C_(101), C_(110), 30, 7},   /* 井盖 (上水…无主): one cover, one spot */
    {C_(111), C_(111), 30, 7},   /* 消防栓 */
    {C_(112), C_(112), 30, 7},   /* 路灯: lamps stand ~30 m apart */
    {E_(504), E_(504), 30, 7},   /* 井盖缺失 */
    {C_(206), C_(207), 50, 7},   /* 人行道, 车行道路面 (potholes) */
    {E_(502), E_(502), 50, 7},   /* 路面塌陷 */
    {E_(102), E_(103), 50, 3},   /* 暴露垃圾, 积存垃圾渣土 */
    {E_(107), E_(107), 50, 3},   /* 垃圾满溢 */
    {C_(301), C_(301), 50, 3},   /* 垃圾箱 */
    {E_(404), E_(405), 50, 1},   /* 违章停车, 共享单车乱停放: gone within a day */
    {E_(402), E_(403), 100, 3},  /* 占道经营, 店外经营 */
    {E_(301), E_(301), 300, 14}, /* 施工扰民: heard across a block, for weeks */
    {E_(303), E_(303), 300, 7},  /* 工地扬尘 */
    {E_(411), E_(411), 200, 7},  /* 噪音扰民 */
    {E_(607), E_(607), 300, 7},  /* 广场舞噪声 */
    {E_(505), E_(505), 200, 2},  /* 燃气泄漏: smelled from afar */
    {E_(608), E_(608), 300, 3},  /* 异味污染 */
    {E_(506), E_(506), 300, 1},  /* 火灾 */
    {E_(503), E_(503), 100, 2},  /* 道路积水 */
    {E_(512), E_(512), 100, 3},  /* 污水冒溢 */
    {E_(501), E_(501), 200, 3},  /* 供水管道破裂 */
    {E_(507), E_(509), 1000, 3}, /* 供暖不热, 停水停电, 水质异常: a whole community */
    {E_(511), E_(511), 300, 3},  /* 供热管道泄漏 */
    {E_(510), E_(510), 50, 3},   /* 树木倒伏 */
    {E_(513), E_(513), 200, 1},  /* 电力线断落 */
};
#define DEFAULT_RADIUS 100.0
#define DEFAULT_DAYS 7

co_dedup_rule co_dedup_rule_of(co_category cat)
{
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (cat >= RULES[i].lo && cat <= RULES[i].hi)
            return (co_dedup_rule){RULES[i].radius_m, RULES[i].days};
    return (co_dedup_rule){DEFAULT_RADIUS, DEFAULT_DAYS};
}

/* Groups of related subclasses: the same problem reported under either. */
static const co_category G_MANHOLE[] = {C_(101), C_(102), C_(103), C_(104), C_(105), C_(106),
                                        C_(107), C_(108), C_(109), C_(110), E_(504), 0};
static const co_category G_WATER_ON_ROAD[] = {E_(503), C_(104), C_(103), E_(512), 0};
static const co_category G_NOISE[] = {E_(301), E_(411), E_(607), 0};
static const co_category G_ROAD[] = {C_(206), C_(207), E_(502), 0};
static const co_category G_RUBBISH[] = {E_(102), E_(103), E_(107), C_(301), 0};
static const co_category G_GAS[] = {E_(505), C_(108), C_(115), E_(608), 0};
static const co_category G_WATER_SUPPLY[] = {E_(501), E_(508), E_(509), 0};
static const co_category G_TREE[] = {E_(510), C_(401), 0};
static const co_category G_HEAT[] = {E_(507), E_(511), C_(109), 0};
static const co_category G_PARKING[] = {E_(404), E_(410), 0};
static const co_category G_STREET_TRADE[] = {E_(401), E_(402), E_(403), E_(408), 0};
static const co_category G_SITE[] = {E_(302), E_(303), E_(304), E_(305), E_(306), 0};

static const co_category *const GROUPS[] = {
    G_MANHOLE, G_WATER_ON_ROAD, G_NOISE, G_ROAD,   G_RUBBISH,      G_GAS,
    G_WATER_SUPPLY, G_TREE,    G_HEAT,  G_PARKING, G_STREET_TRADE, G_SITE,
};
#define NGROUPS (sizeof GROUPS / sizeof GROUPS[0])

static int in_group(const co_category *g, co_category c)
{
    for (; *g; g++)
        if (*g == c)
            return 1;
    return 0;
}

int co_dedup_relation(co_category a, co_category b)
{
    if (a == CO_CATEGORY_NONE || b == CO_CATEGORY_NONE)
        return 0;
    if (a == b)
        return 2;
    for (size_t i = 0; i < NGROUPS; i++)
        if (in_group(GROUPS[i], a) && in_group(GROUPS[i], b))
            return 1;
    return 0;
}

co_dedup_rule co_dedup_pair_rule(co_category a, co_category b)
{
    co_dedup_rule ra = co_dedup_rule_of(a), rb = co_dedup_rule_of(b);
    return (co_dedup_rule){fmax(ra.radius_m, rb.radius_m),
                           ra.window_days > rb.window_days ? ra.window_days : rb.window_days};
}

/* The categories to search for a new case of category c (itself first). */
static size_t related_list(co_category c, co_category *out, size_t max)
{
    size_t n = 0;
    out[n++] = c;
    for (size_t i = 0; i < NGROUPS; i++) {
        if (!in_group(GROUPS[i], c))
            continue;
        for (const co_category *g = GROUPS[i]; *g && n < max; g++) {
            size_t k = 0;
            while (k < n && out[k] != *g)
                k++;
            if (k == n)
                out[n++] = *g;
        }
    }
    return n;
}

/* ------------------------------------------------------------- the score */

#define M_PER_DEG_LAT 110574.0
#define M_PER_DEG_LON 111320.0
#define DEG (3.14159265358979323846 / 180.0)

double co_dedup_distance(double lon1, double lat1, double lon2, double lat2)
{
    double dx = (lon2 - lon1) * M_PER_DEG_LON * cos((lat1 + lat2) * 0.5 * DEG);
    double dy = (lat2 - lat1) * M_PER_DEG_LAT;
    return sqrt(dx * dx + dy * dy);
}

/* The score: where and when (distance against the radius, time apart
 * against the window) make a place score; the text similarity, counted as
 * full from TEXT_FULL up (two tellings of one problem by one caller rarely
 * share more of their 2/3-grams), is added to it; a related subclass counts
 * RELATED_FACTOR of a same one. Calibrated on `cityops bench dedup`
 * (docs/internals/dedup.md). */
#define W_PLACE 0.55
#define W_TEXT 0.45
#define PLACE_DIST 0.7 /* the rest of the place score is time */
#define TEXT_FULL 0.50
#define RELATED_FACTOR 0.85

double co_dedup_score(int relation, double distance_m, double age_s, const co_dedup_rule *rule,
                      double text_sim)
{
    double window = rule->window_days * 86400.0;
    age_s = fabs(age_s);
    if (relation <= 0 || !(distance_m <= rule->radius_m) || age_s > window)
        return 0;
    double dn = distance_m / rule->radius_m;
    double ds = 1 - dn * dn;            /* flat near the spot, falling at the edge */
    double ts = 1 - age_s / window;
    double tx = text_sim >= TEXT_FULL ? 1 : text_sim / TEXT_FULL;
    double s = W_PLACE * (PLACE_DIST * ds + (1 - PLACE_DIST) * ts) + W_TEXT * tx;
    return relation == 2 ? s : s * RELATED_FACTOR;
}

/* ------------------------------------------------------------- the index */

typedef struct entry {
    int64_t id, created;
    double lon, lat;
    uint64_t cell;     /* key of its cell */
    uint32_t next;     /* next entry in the cell (index + 1, 0 = end) */
    co_category cat;
    uint8_t state;
    char number[CO_NUMBER_MAX];
    char area[CO_CODE_MAX];
    char *desc, *addr; /* owned, cut to CO_DEDUP_TEXT_MAX / CO_DEDUP_ADDR_MAX */
    co_dedup_sig sig;
} entry;

typedef struct merged_rec {
    int64_t id;
    char master[CO_NUMBER_MAX];
    uint32_t next; /* next in the master's bucket (index + 1) */
} merged_rec;

#define MBUCKETS 4096u
#define SLOT_MERGED 0x80000000u

struct co_dedup {
    pthread_rwlock_t lock;
    double kx;                 /* metres per degree of longitude at lat_ref */
    entry *ents;
    size_t nents, cap_ents;
    uint32_t free_ent;         /* free list (index + 1) through next */
    size_t open;
    /* cells: open addressing, key → first entry (index + 1; 0 = empty chain) */
    uint64_t *ckeys;
    uint32_t *cheads;
    size_t ccap, cused;
    /* id → entry index + 1, or merged record index + 1 with SLOT_MERGED */
    uint32_t *slot;
    size_t cap_slot;
    merged_rec *mrecs;
    size_t nmrecs, cap_mrecs, nmerged;
    uint32_t free_m;
    uint32_t mheads[MBUCKETS];
    /* open entries by category (kind 1/2 × code 0..9999): a search skips the
     * cells of related categories that have none */
    uint32_t cat_open[2][10000];
};

co_dedup *co_dedup_new(double lat_ref)
{
    co_dedup *d = co_xcalloc(1, sizeof *d);
    pthread_rwlock_init(&d->lock, NULL);
    if (!isfinite(lat_ref) || fabs(lat_ref) > 80)
        lat_ref = 0;
    d->kx = M_PER_DEG_LON * cos(lat_ref * DEG);
    d->ccap = 1024;
    d->ckeys = co_xcalloc(d->ccap, sizeof *d->ckeys);
    d->cheads = co_xcalloc(d->ccap, sizeof *d->cheads);
    return d;
}

void co_dedup_free(co_dedup *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nents; i++) {
        co_free(d->ents[i].desc);
        co_free(d->ents[i].addr);
    }
    pthread_rwlock_destroy(&d->lock);
    co_free(d->ents);
    co_free(d->ckeys);
    co_free(d->cheads);
    co_free(d->slot);
    co_free(d->mrecs);
    co_free(d);
}

static double cell_size(co_category cat)
{
    return co_dedup_rule_of(cat).radius_m;
}

static uint64_t cell_key(co_category cat, int64_t cx, int64_t cy)
{
    /* key 0 marks an empty slot: the category is never 0 here */
    return (uint64_t)cat << 48 | ((uint64_t)cx & 0xFFFFFFu) << 24 | ((uint64_t)cy & 0xFFFFFFu);
}

static void cell_xy(const co_dedup *d, co_category cat, double lon, double lat, int64_t *cx,
                    int64_t *cy)
{
    double cs = cell_size(cat);
    *cx = (int64_t)floor(lon * d->kx / cs);
    *cy = (int64_t)floor(lat * M_PER_DEG_LAT / cs);
}

static size_t cell_find(const co_dedup *d, uint64_t key)
{
    size_t mask = d->ccap - 1, i = (size_t)mix64(key) & mask;
    while (d->ckeys[i] && d->ckeys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static void cells_rehash(co_dedup *d)
{
    size_t live = 0;
    for (size_t i = 0; i < d->ccap; i++)
        live += d->ckeys[i] && d->cheads[i];
    size_t ncap = 1024;
    while (ncap < live * 4)
        ncap *= 2;
    uint64_t *ok = d->ckeys;
    uint32_t *oh = d->cheads;
    size_t ocap = d->ccap;
    d->ckeys = co_xcalloc(ncap, sizeof *d->ckeys);
    d->cheads = co_xcalloc(ncap, sizeof *d->cheads);
    d->ccap = ncap;
    d->cused = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!ok[i] || !oh[i])
            continue; /* empty chains are dropped here */
        size_t j = cell_find(d, ok[i]);
        d->ckeys[j] = ok[i];
        d->cheads[j] = oh[i];
        d->cused++;
    }
    co_free(ok);
    co_free(oh);
}

static void slot_set(co_dedup *d, int64_t id, uint32_t v)
{
    if ((size_t)id >= d->cap_slot) {
        size_t old = d->cap_slot;
        d->slot = co_xgrow(d->slot, &d->cap_slot, (size_t)id + 1, sizeof *d->slot);
        memset(d->slot + old, 0, (d->cap_slot - old) * sizeof *d->slot);
    }
    d->slot[id] = v;
}

static uint32_t slot_get(const co_dedup *d, int64_t id)
{
    return id > 0 && (size_t)id < d->cap_slot ? d->slot[id] : 0;
}

/* The counter of open entries of cat, NULL for a category out of range. */
static uint32_t *cat_counter(co_dedup *d, co_category cat)
{
    int kind = co_category_kind(cat), code = co_category_code(cat);
    return kind >= 1 && kind <= 2 && code >= 0 && code < 10000 ? &d->cat_open[kind - 1][code]
                                                                : NULL;
}

static void cell_unlink(co_dedup *d, uint32_t ei)
{
    entry *e = &d->ents[ei];
    uint32_t *n = cat_counter(d, e->cat);
    if (n && *n)
        (*n)--;
    size_t ci = cell_find(d, e->cell);
    uint32_t *link = &d->cheads[ci];
    while (*link && *link != ei + 1)
        link = &d->ents[*link - 1].next;
    if (*link)
        *link = e->next;
    e->next = 0;
}

static void cell_link(co_dedup *d, uint32_t ei)
{
    if ((d->cused + 1) * 2 > d->ccap)
        cells_rehash(d);
    entry *e = &d->ents[ei];
    size_t ci = cell_find(d, e->cell);
    if (!d->ckeys[ci]) {
        d->ckeys[ci] = e->cell;
        d->cused++;
    }
    e->next = d->cheads[ci];
    d->cheads[ci] = ei + 1;
    uint32_t *n = cat_counter(d, e->cat);
    if (n)
        (*n)++;
}

static void remove_entry(co_dedup *d, int64_t id)
{
    uint32_t s = slot_get(d, id);
    if (!s || (s & SLOT_MERGED))
        return;
    uint32_t ei = s - 1;
    cell_unlink(d, ei);
    CO_FREE(d->ents[ei].desc);
    CO_FREE(d->ents[ei].addr);
    d->ents[ei].id = 0;
    d->ents[ei].next = d->free_ent;
    d->free_ent = ei + 1;
    d->open--;
    d->slot[id] = 0;
}

static uint32_t mbucket(const char *master)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = master; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return (uint32_t)(h % MBUCKETS);
}

static void remove_merged(co_dedup *d, int64_t id)
{
    uint32_t s = slot_get(d, id);
    if (!(s & SLOT_MERGED))
        return;
    uint32_t mi = (s & ~SLOT_MERGED) - 1;
    uint32_t *link = &d->mheads[mbucket(d->mrecs[mi].master)];
    while (*link && *link != mi + 1)
        link = &d->mrecs[*link - 1].next;
    if (*link)
        *link = d->mrecs[mi].next;
    d->mrecs[mi].id = 0;
    d->mrecs[mi].next = d->free_m;
    d->free_m = mi + 1;
    d->nmerged--;
    d->slot[id] = 0;
}

static void add_merged(co_dedup *d, int64_t id, const char *master)
{
    uint32_t mi;
    if (d->free_m) {
        mi = d->free_m - 1;
        d->free_m = d->mrecs[mi].next;
    } else {
        d->mrecs = co_xgrow(d->mrecs, &d->cap_mrecs, d->nmrecs + 1, sizeof *d->mrecs);
        mi = (uint32_t)d->nmrecs++;
    }
    merged_rec *m = &d->mrecs[mi];
    m->id = id;
    memcpy(m->master, master, CO_NUMBER_MAX);
    m->master[CO_NUMBER_MAX - 1] = '\0';
    uint32_t b = mbucket(m->master);
    m->next = d->mheads[b];
    d->mheads[b] = mi + 1;
    d->nmerged++;
    slot_set(d, id, (mi + 1) | SLOT_MERGED);
}

/* A copy of s cut to fit max bytes (with the NUL) at a UTF-8 boundary. */
static char *cut_copy(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n >= max) {
        n = max - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return co_xstrndup(s, n);
}

static int indexable(const co_case *c)
{
    return c->id > 0 && c->id < (int64_t)SLOT_MERGED && co_state_is_open(c->state) &&
           c->category != CO_CATEGORY_NONE && isfinite(c->lon) && isfinite(c->lat);
}

void co_dedup_update_sig(co_dedup *d, const co_case *c, const co_dedup_sig *sig)
{
    if (c->id <= 0 || c->id >= (int64_t)SLOT_MERGED)
        return;
    co_dedup_sig own;
    if (!sig && indexable(c)) {
        /* the signature of a case seen for the first time, outside the lock */
        pthread_rwlock_rdlock(&d->lock);
        uint32_t s0 = slot_get(d, c->id);
        pthread_rwlock_unlock(&d->lock);
        if (!s0 || (s0 & SLOT_MERGED)) {
            co_dedup_signature(c->description, &own);
            sig = &own;
        }
    }
    pthread_rwlock_wrlock(&d->lock);
    uint32_t s = slot_get(d, c->id);
    if (s & SLOT_MERGED)
        remove_merged(d, c->id);
    if (c->state == CO_ST_MERGED && c->merged_into[0]) {
        remove_entry(d, c->id);
        add_merged(d, c->id, c->merged_into);
        goto out;
    }
    if (!indexable(c)) {
        remove_entry(d, c->id);
        goto out;
    }
    s = slot_get(d, c->id);
    uint32_t ei;
    if (s && !(s & SLOT_MERGED)) {
        ei = s - 1;
        cell_unlink(d, ei); /* category or point may have changed */
    } else {
        if (!sig) { /* only the writer updates: not reached, but be safe */
            co_dedup_signature(c->description, &own);
            sig = &own;
        }
        if (d->free_ent) {
            ei = d->free_ent - 1;
            d->free_ent = d->ents[ei].next;
        } else {
            d->ents = co_xgrow(d->ents, &d->cap_ents, d->nents + 1, sizeof *d->ents);
            ei = (uint32_t)d->nents++;
        }
        d->ents[ei].sig = *sig;
        d->ents[ei].desc = cut_copy(c->description, CO_DEDUP_TEXT_MAX);
        d->ents[ei].addr = cut_copy(c->address, CO_DEDUP_ADDR_MAX);
        d->open++;
        slot_set(d, c->id, ei + 1);
    }
    entry *e = &d->ents[ei];
    e->id = c->id;
    e->created = c->created;
    e->lon = c->lon;
    e->lat = c->lat;
    e->cat = c->category;
    e->state = (uint8_t)c->state;
    memcpy(e->number, c->number, CO_NUMBER_MAX);
    e->number[CO_NUMBER_MAX - 1] = '\0';
    const char *area = co_case_finest_area(c);
    memcpy(e->area, area, CO_CODE_MAX);
    e->area[CO_CODE_MAX - 1] = '\0';
    int64_t cx, cy;
    cell_xy(d, e->cat, e->lon, e->lat, &cx, &cy);
    e->cell = cell_key(e->cat, cx, cy);
    e->next = 0;
    cell_link(d, ei);
out:
    pthread_rwlock_unlock(&d->lock);
}

void co_dedup_update(co_dedup *d, const co_case *c)
{
    co_dedup_update_sig(d, c, NULL);
}

/* Inserts h into the best-first list out[0..*n) of capacity max. */
static void keep_best(co_dedup_hit *out, size_t *n, size_t max, const co_dedup_hit *h)
{
    size_t i = *n < max ? (*n)++ : max;
    while (i > 0 && out[i - 1].score < h->score) {
        if (i < max)
            out[i] = out[i - 1];
        i--;
    }
    if (i < max)
        out[i] = *h;
}

/* A flood of open reports of one subclass in one place (thousands within a
 * few radii) must not make every intake slow: a query scores at most this
 * many entries and keeps the best of them. */
#define MAX_SCORED 4096

size_t co_dedup_find(co_dedup *d, const co_dedup_query *q, co_dedup_hit *out, size_t max,
                     size_t *visited)
{
    size_t n = 0, seen = 0;
    if (visited)
        *visited = 0;
    if (!max || q->category == CO_CATEGORY_NONE || !isfinite(q->lon) || !isfinite(q->lat))
        return 0;
    co_category cats[48];
    size_t ncats = related_list(q->category, cats, sizeof cats / sizeof cats[0]);
    double coslat = cos(q->lat * DEG);
    pthread_rwlock_rdlock(&d->lock);
    for (size_t k = 0; k < ncats && seen < MAX_SCORED; k++) {
        co_category b = cats[k];
        const uint32_t *open = cat_counter(d, b);
        if (open && !*open)
            continue; /* nothing of this category is open anywhere */
        int rel = co_dedup_relation(q->category, b);
        co_dedup_rule rule = co_dedup_pair_rule(q->category, b);
        /* the cells the radius reaches: in the index's x metres (its cos is
         * the city's) and y metres, with 1 % to spare for rounding */
        double cs = cell_size(b);
        double rx = rule.radius_m * (d->kx / M_PER_DEG_LON) / (coslat > 0.1 ? coslat : 0.1);
        double qx = q->lon * d->kx, qy = q->lat * M_PER_DEG_LAT;
        rx *= 1.01;
        double ry = rule.radius_m * 1.01;
        int64_t x0 = (int64_t)floor((qx - rx) / cs), x1 = (int64_t)floor((qx + rx) / cs);
        int64_t y0 = (int64_t)floor((qy - ry) / cs), y1 = (int64_t)floor((qy + ry) / cs);
        for (int64_t x = x0; x <= x1; x++)
            for (int64_t y = y0; y <= y1; y++) {
                size_t ci = cell_find(d, cell_key(b, x, y));
                if (!d->ckeys[ci])
                    continue;
                for (uint32_t ei = d->cheads[ci]; ei && seen < MAX_SCORED;
                     ei = d->ents[ei - 1].next) {
                    const entry *e = &d->ents[ei - 1];
                    if (e->cat != b || e->id == q->exclude_id)
                        continue;
                    seen++;
                    double dist = co_dedup_distance(q->lon, q->lat, e->lon, e->lat);
                    if (dist > rule.radius_m)
                        continue;
                    double sim = q->sig ? co_dedup_similarity(q->sig, &e->sig) : 0;
                    double sc = co_dedup_score(rel, dist, (double)(q->created - e->created),
                                               &rule, sim);
                    if (sc <= 0 || sc < q->min_score)
                        continue;
                    if (n == max && out[max - 1].score >= sc)
                        continue; /* not among the best: copy nothing */
                    co_dedup_hit h = {e->id, "", e->cat, (co_state)e->state, e->created,
                                      sc, dist, sim, "", "", ""};
                    memcpy(h.number, e->number, CO_NUMBER_MAX);
                    memcpy(h.area, e->area, CO_CODE_MAX);
                    snprintf(h.description, sizeof h.description, "%s", e->desc ? e->desc : "");
                    snprintf(h.address, sizeof h.address, "%s", e->addr ? e->addr : "");
                    keep_best(out, &n, max, &h);
                }
            }
    }
    pthread_rwlock_unlock(&d->lock);
    if (visited)
        *visited = seen;
    return n;
}

int co_dedup_sig_of(co_dedup *d, int64_t id, co_dedup_sig *out)
{
    pthread_rwlock_rdlock(&d->lock);
    uint32_t s = slot_get(d, id);
    int found = s && !(s & SLOT_MERGED);
    if (found)
        *out = d->ents[s - 1].sig;
    pthread_rwlock_unlock(&d->lock);
    return found;
}

size_t co_dedup_merged_of(co_dedup *d, const char *master, int64_t *ids, size_t max)
{
    size_t n = 0;
    if (!master || !*master)
        return 0;
    pthread_rwlock_rdlock(&d->lock);
    for (uint32_t mi = d->mheads[mbucket(master)]; mi; mi = d->mrecs[mi - 1].next) {
        const merged_rec *m = &d->mrecs[mi - 1];
        if (strcmp(m->master, master) != 0)
            continue;
        if (n < max)
            ids[n] = m->id;
        n++;
    }
    pthread_rwlock_unlock(&d->lock);
    /* oldest first */
    size_t k = n < max ? n : max;
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            int64_t t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    return n;
}

void co_dedup_get_info(co_dedup *d, co_dedup_info *out)
{
    pthread_rwlock_rdlock(&d->lock);
    out->open = d->open;
    out->cells = d->cused;
    out->merged = d->nmerged;
    out->bytes = d->cap_ents * sizeof *d->ents + d->ccap * (sizeof *d->ckeys + sizeof *d->cheads) +
                 d->cap_slot * sizeof *d->slot + d->cap_mrecs * sizeof *d->mrecs;
    pthread_rwlock_unlock(&d->lock);
}
