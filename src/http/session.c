/* session.c — login sessions (see session.h).
 * The table is a chained hash map keyed by the token hash, guarded by one
 * mutex. The token hash is argon2id(token, installation salt) with minimal
 * cost: tokens are 256-bit random, so the hash only has to be one-way and
 * keyed, not slow. The salt lives in the store's meta table. */
#include "http/session.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "store/store.h"

#define NBUCKETS 1024

typedef struct entry {
    co_session s;
    int64_t checked;          /* shared store: when the store last confirmed it */
    char token[CO_TOKEN_HEX]; /* the raw token once seen (memory only, never stored) */
    struct entry *next;
    struct entry *next_tok;
} entry;

/* Two indexes over the same entries: by token hash (what the store keeps)
 * and by raw token (so a request costs no hashing once its token is known). */
struct co_sessions {
    co_store *store;
    pthread_mutex_t lock;
    entry *buckets[NBUCKETS];
    entry *by_token[NBUCKETS];
    int ttl_s;
    unsigned created; /* sessions created, for the periodic sweep */
    int recheck_s;    /* > 0: other nodes share the store (see co_sessions_set_shared) */
};

static char salt[65] = "cityops-default-salt-0000000000";

co_err co_random_hex(char *out, unsigned n)
{
    unsigned char raw[32];
    if (n > sizeof raw)
        return CO_EINVAL;
    if (getrandom(raw, n, 0) != (ssize_t)n)
        return CO_EIO;
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    out[2 * n] = '\0';
    return CO_OK;
}

void co_token_hash(const char *token, char out[CO_TOKEN_HEX])
{
    unsigned char h[32];
    if (argon2id_hash_raw(1, 8, 1, token, strlen(token), salt, strlen(salt), h, sizeof h) !=
        ARGON2_OK)
        memset(h, 0, sizeof h);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static unsigned bucket_of(const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 8 && hash[i]; i++)
        v = v * 31 + (unsigned char)hash[i];
    return v % NBUCKETS;
}

static void link_token(co_sessions *s, entry *e, const char *token)
{
    snprintf(e->token, sizeof e->token, "%s", token);
    unsigned b = bucket_of(token);
    e->next_tok = s->by_token[b];
    s->by_token[b] = e;
}

static entry *insert_locked(co_sessions *s, const co_session *src)
{
    entry *e = co_xcalloc(1, sizeof *e);
    e->s = *src;
    unsigned b = bucket_of(src->token_hash);
    e->next = s->buckets[b];
    s->buckets[b] = e;
    return e;
}

/* A session from its stored record and its user as stored now; CO_ENOTFOUND
 * when the user is gone, disabled or has no valid role. */
static co_err from_rec(co_store *store, const co_session_rec *rec, co_session *ses)
{
    co_user u;
    if (co_store_user_get_id(store, rec->user_id, &u) || u.disabled)
        return CO_ENOTFOUND;
    memset(ses, 0, sizeof *ses);
    snprintf(ses->token_hash, sizeof ses->token_hash, "%s", rec->token_hash);
    snprintf(ses->csrf, sizeof ses->csrf, "%s", rec->csrf);
    ses->user_id = u.id;
    snprintf(ses->username, sizeof ses->username, "%s", u.username);
    snprintf(ses->display_name, sizeof ses->display_name, "%s", u.display_name);
    if (co_role_parse(u.role, &ses->role))
        return CO_ENOTFOUND;
    snprintf(ses->dept, sizeof ses->dept, "%s", u.dept);
    snprintf(ses->scope, sizeof ses->scope, "%s", u.scope);
    ses->expires = rec->expires;
    return CO_OK;
}

static int load_one(void *ctx, const co_session_rec *rec)
{
    co_sessions *s = ctx;
    co_session ses;
    if (!from_rec(s->store, rec, &ses))
        insert_locked(s, &ses)->checked = co_time_now();
    return 0;
}

co_err co_sessions_new(co_store *store, co_sessions **out)
{
    char val[64];
    co_err rc = co_store_meta_get(store, "token_salt", val, sizeof val);
    if (rc == CO_ENOTFOUND) {
        if ((rc = co_random_hex(val, 16)) || (rc = co_store_meta_set(store, "token_salt", val)))
            return rc;
    } else if (rc) {
        return rc;
    }
    snprintf(salt, sizeof salt, "%s", val);
    co_sessions *s = co_xcalloc(1, sizeof *s);
    s->store = store;
    s->ttl_s = CO_SESSION_TTL;
    pthread_mutex_init(&s->lock, NULL);
    rc = co_store_sessions_each(store, co_time_now(), load_one, s);
    if (rc) {
        co_sessions_free(s);
        return rc;
    }
    *out = s;
    return CO_OK;
}

void co_sessions_free(co_sessions *s)
{
    if (!s)
        return;
    for (int i = 0; i < NBUCKETS; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *n = e->next;
            co_free(e);
            e = n;
        }
    }
    pthread_mutex_destroy(&s->lock);
    co_free(s);
}

void co_sessions_set_ttl(co_sessions *s, int ttl_s)
{
    pthread_mutex_lock(&s->lock);
    s->ttl_s = ttl_s < 1 ? 1 : ttl_s;
    pthread_mutex_unlock(&s->lock);
}

int co_sessions_ttl(co_sessions *s)
{
    pthread_mutex_lock(&s->lock);
    int ttl = s->ttl_s;
    pthread_mutex_unlock(&s->lock);
    return ttl;
}

static void remove_where(co_sessions *s, const char *hash, int64_t user_id, int64_t expired);

static void forget_locked(co_sessions *s, const char *hash);

static int forget_trimmed(void *ctx, const co_session_rec *rec)
{
    co_sessions *s = ctx;
    pthread_mutex_lock(&s->lock);
    forget_locked(s, rec->token_hash);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

co_err co_sessions_create(co_sessions *s, const co_session *tmpl, char token_out[CO_TOKEN_HEX])
{
    co_session ses = *tmpl;
    co_err rc = co_random_hex(token_out, 32);
    if (rc || (rc = co_random_hex(ses.csrf, 32)))
        return rc;
    co_token_hash(token_out, ses.token_hash);
    int64_t now = co_time_now();
    ses.expires = now + co_sessions_ttl(s);
    co_session_rec rec = {ses.token_hash, ses.csrf, ses.user_id, ses.expires};
    if ((rc = co_store_session_put(s->store, &rec)))
        return rc;
    pthread_mutex_lock(&s->lock);
    entry *e = insert_locked(s, &ses);
    e->checked = now;
    link_token(s, e, token_out);
    int sweep = ++s->created % CO_SESSION_SWEEP == 0;
    pthread_mutex_unlock(&s->lock);
    /* the new session exists either way: a failed trim only leaves old ones */
    if (co_store_sessions_trim(s->store, ses.user_id, ses.token_hash, CO_SESSION_PER_USER - 1,
                               forget_trimmed, s))
        co_log_warn("msg=\"cannot end the oldest sessions\" user=%lld", (long long)ses.user_id);
    if (sweep)
        remove_where(s, NULL, 0, now);
    return CO_OK;
}

void co_sessions_set_shared(co_sessions *s, int recheck_s)
{
    pthread_mutex_lock(&s->lock);
    s->recheck_s = recheck_s < 1 ? 1 : recheck_s;
    pthread_mutex_unlock(&s->lock);
}

/* The table's answer: 1 with *out when the token's session is in memory and
 * valid (*stale when a shared store should confirm it again), else 0;
 * *shared tells whether the store is shared. */
static int lookup(co_sessions *s, const char *token, int64_t now, co_session *out, int *stale,
                  int *shared)
{
    entry *hit = NULL;
    pthread_mutex_lock(&s->lock);
    for (entry *e = s->by_token[bucket_of(token)]; e && !hit; e = e->next_tok)
        if (!strcmp(e->token, token))
            hit = e;
    if (!hit) {
        pthread_mutex_unlock(&s->lock);
        char h[CO_TOKEN_HEX];
        co_token_hash(token, h);
        pthread_mutex_lock(&s->lock);
        for (entry *e = s->buckets[bucket_of(h)]; e && !hit; e = e->next)
            if (!strcmp(e->s.token_hash, h)) {
                hit = e;
                if (!e->token[0])
                    link_token(s, e, token);
            }
    }
    int ok = hit && hit->s.expires > now;
    *shared = s->recheck_s > 0;
    if (ok) {
        *out = hit->s;
        *stale = s->recheck_s > 0 && now - hit->checked >= s->recheck_s;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

typedef struct fetch_ctx {
    co_store *store;
    co_session ses;
    co_err rc;
} fetch_ctx;

static int fetch_one(void *ctx, const co_session_rec *rec)
{
    fetch_ctx *fc = ctx;
    fc->rc = from_rec(fc->store, rec, &fc->ses);
    return 1;
}

/* Shared store: asks it about the token's session (another node may have
 * created or revoked it, or changed its user) and brings memory in line. */
static co_err confirm(co_sessions *s, const char *token, int64_t now, co_session *out)
{
    char h[CO_TOKEN_HEX];
    co_token_hash(token, h);
    fetch_ctx fc = {.store = s->store, .rc = CO_ENOTFOUND};
    co_err rc = co_store_session_get(s->store, h, now, fetch_one, &fc);
    if (rc && rc != CO_ENOTFOUND)
        return rc; /* the store is unreachable: the caller decides */
    pthread_mutex_lock(&s->lock);
    forget_locked(s, h);
    if (!rc && !fc.rc) {
        entry *e = insert_locked(s, &fc.ses);
        e->checked = now;
        link_token(s, e, token);
        *out = fc.ses;
    }
    pthread_mutex_unlock(&s->lock);
    return rc ? rc : fc.rc;
}

co_err co_sessions_get(co_sessions *s, const char *token, co_session *out)
{
    if (!token || strlen(token) != 64)
        return CO_ENOTFOUND;
    int64_t now = co_time_now();
    int stale = 0, shared = 0;
    int found = lookup(s, token, now, out, &stale, &shared);
    if (!shared || (found && !stale))
        return found ? CO_OK : CO_ENOTFOUND;
    co_session cached;
    if (found)
        cached = *out;
    co_err rc = confirm(s, token, now, out);
    if (rc == CO_OK || rc == CO_ENOTFOUND)
        return rc;
    if (!found)
        return CO_ENOTFOUND;
    *out = cached; /* store unreachable: what this node knew a moment ago */
    return CO_OK;
}

static void unlink_token(co_sessions *s, entry *dead)
{
    if (!dead->token[0])
        return;
    for (entry **pp = &s->by_token[bucket_of(dead->token)]; *pp; pp = &(*pp)->next_tok)
        if (*pp == dead) {
            *pp = dead->next_tok;
            return;
        }
}

/* Drops the session from memory only (lock held). */
static void forget_locked(co_sessions *s, const char *hash)
{
    for (entry **pp = &s->buckets[bucket_of(hash)]; *pp;) {
        entry *e = *pp;
        if (!strcmp(e->s.token_hash, hash)) {
            *pp = e->next;
            unlink_token(s, e);
            co_free(e);
        } else {
            pp = &e->next;
        }
    }
}

/* Removes (memory and store) the session whose token hash is `hash`; with
 * hash NULL, those that expired by `expired` (when > 0), else every session
 * of user_id. */
static void remove_where(co_sessions *s, const char *hash, int64_t user_id, int64_t expired)
{
    pthread_mutex_lock(&s->lock);
    for (int b = 0; b < NBUCKETS; b++) {
        entry **pp = &s->buckets[b];
        while (*pp) {
            entry *e = *pp;
            int dead = hash ? !strcmp(e->s.token_hash, hash)
                       : expired ? e->s.expires <= expired : e->s.user_id == user_id;
            if (dead) {
                *pp = e->next;
                unlink_token(s, e);
                if (co_store_session_del(s->store, e->s.token_hash))
                    co_log_warn("msg=\"session delete failed\"");
                co_free(e);
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
}

co_err co_sessions_revoke(co_sessions *s, const char *token)
{
    if (!token || strlen(token) != 64)
        return CO_ENOTFOUND;
    char h[CO_TOKEN_HEX];
    co_token_hash(token, h);
    remove_where(s, h, 0, 0);
    return CO_OK;
}

void co_sessions_revoke_user(co_sessions *s, int64_t user_id)
{
    remove_where(s, NULL, user_id, 0);
}
