/* ratelimit.c — per-client buckets and failure back-off (see ratelimit.h).
 * Open addressing without tombstones: a key lives somewhere in the
 * CO_RATELIMIT_PROBE slots after its hash, every lookup scans the whole
 * window, so clearing a slot is just emptying it. The table owns its slots;
 * keys are copied in. */
#include "http/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"

typedef struct slot {
    char key[CO_RATELIMIT_KEY_MAX]; /* "" = free */
    int64_t used_ms;                /* last time the key was seen */
    co_apikey_bucket bucket;
    int has_bucket;
    int fails;                      /* failures in a row */
    int64_t fail_ms;                /* the last one */
    int64_t blocked_until_ms;
} slot;

struct co_ratelimit {
    pthread_mutex_t lock;
    size_t mask;
    slot *slots;
};

co_ratelimit *co_ratelimit_new(size_t slots)
{
    size_t n = CO_RATELIMIT_PROBE;
    while (n < slots && n < ((size_t)1 << 30))
        n <<= 1;
    co_ratelimit *rl = co_xcalloc(1, sizeof *rl);
    rl->slots = co_xcalloc(n, sizeof *rl->slots);
    rl->mask = n - 1;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void co_ratelimit_free(co_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    co_free(rl->slots);
    co_free(rl);
}

void co_ratelimit_config_default(co_ratelimit_config *c)
{
    c->anon = (co_apikey_rate){CO_RATELIMIT_ANON_RATE, CO_RATELIMIT_ANON_BURST};
    c->login_user = (co_backoff){CO_RATELIMIT_LOGIN_USER_FAILS, CO_RATELIMIT_LOGIN_BASE_S,
                                 CO_RATELIMIT_LOGIN_MAX_S, CO_RATELIMIT_LOGIN_FORGET_S};
    c->login_ip = c->login_user;
    c->login_ip.free_fails = CO_RATELIMIT_LOGIN_IP_FAILS;
}

size_t co_ratelimit_slots(const co_ratelimit *rl)
{
    return rl->mask + 1;
}

size_t co_ratelimit_used(co_ratelimit *rl)
{
    size_t n = 0;
    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i <= rl->mask; i++)
        n += rl->slots[i].key[0] != '\0';
    pthread_mutex_unlock(&rl->lock);
    return n;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h;
}

/* The slot holding key, or NULL (lock held). */
static slot *find_locked(co_ratelimit *rl, const char *key)
{
    size_t start = (size_t)hash_key(key) & rl->mask;
    for (size_t i = 0; i < CO_RATELIMIT_PROBE; i++) {
        slot *s = &rl->slots[(start + i) & rl->mask];
        if (s->key[0] && !strcmp(s->key, key))
            return s;
    }
    return NULL;
}

/* The slot for key, taking a free one or evicting (lock held). */
static slot *get_locked(co_ratelimit *rl, const char *key, int64_t now_ms)
{
    slot *s = find_locked(rl, key);
    if (s)
        return s;
    size_t start = (size_t)hash_key(key) & rl->mask;
    slot *victim = NULL;
    for (size_t i = 0; i < CO_RATELIMIT_PROBE; i++) {
        slot *c = &rl->slots[(start + i) & rl->mask];
        if (!c->key[0]) {
            victim = c;
            break;
        }
        int c_blocked = c->blocked_until_ms > now_ms;
        int v_blocked = victim && victim->blocked_until_ms > now_ms;
        if (!victim || (v_blocked && !c_blocked) ||
            (v_blocked == c_blocked && c->used_ms < victim->used_ms))
            victim = c;
    }
    memset(victim, 0, sizeof *victim);
    snprintf(victim->key, sizeof victim->key, "%s", key);
    return victim;
}

int co_ratelimit_take(co_ratelimit *rl, const char *key, co_apikey_rate rate, int64_t now_ms,
                      int *retry_after_s)
{
    if (rate.per_sec <= 0)
        return 1;
    pthread_mutex_lock(&rl->lock);
    slot *s = get_locked(rl, key, now_ms);
    if (!s->has_bucket) {
        co_apikey_bucket_init(&s->bucket, rate, now_ms);
        s->has_bucket = 1;
    }
    s->used_ms = now_ms;
    int ok = co_apikey_bucket_take(&s->bucket, rate, now_ms, retry_after_s);
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

static int secs_until(int64_t until_ms, int64_t now_ms)
{
    int64_t s = (until_ms - now_ms + 999) / 1000;
    return s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
}

int co_ratelimit_blocked(co_ratelimit *rl, const char *key, int64_t now_ms, int *retry_after_s)
{
    int blocked = 0;
    pthread_mutex_lock(&rl->lock);
    slot *s = find_locked(rl, key);
    if (s && s->blocked_until_ms > now_ms) {
        blocked = 1;
        *retry_after_s = secs_until(s->blocked_until_ms, now_ms);
    }
    pthread_mutex_unlock(&rl->lock);
    return blocked;
}

/* Seconds of block after the n-th failure in a row. */
static int block_for(const co_backoff *b, int n)
{
    if (b->free_fails <= 0 || n < b->free_fails)
        return 0;
    int64_t secs = b->base_s > 0 ? b->base_s : 1;
    for (int i = b->free_fails; i < n && secs < b->max_s; i++)
        secs *= 2;
    return secs > b->max_s && b->max_s > 0 ? b->max_s : (int)secs;
}

int co_ratelimit_fail(co_ratelimit *rl, const char *key, const co_backoff *b, int64_t now_ms,
                      int *fails)
{
    if (b->free_fails <= 0) {
        if (fails)
            *fails = 0;
        return 0;
    }
    pthread_mutex_lock(&rl->lock);
    slot *s = get_locked(rl, key, now_ms);
    if (s->fails && now_ms - s->fail_ms > (int64_t)b->forget_s * 1000 &&
        s->blocked_until_ms <= now_ms)
        s->fails = 0;
    if (s->fails < 1000000)
        s->fails++;
    s->fail_ms = s->used_ms = now_ms;
    int secs = block_for(b, s->fails);
    if (secs)
        s->blocked_until_ms = now_ms + (int64_t)secs * 1000;
    if (fails)
        *fails = s->fails;
    pthread_mutex_unlock(&rl->lock);
    return secs;
}

void co_ratelimit_clear(co_ratelimit *rl, const char *key)
{
    pthread_mutex_lock(&rl->lock);
    slot *s = find_locked(rl, key);
    if (s) {
        s->fails = 0;
        s->blocked_until_ms = 0;
    }
    pthread_mutex_unlock(&rl->lock);
}
