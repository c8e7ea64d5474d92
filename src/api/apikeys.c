/* apikeys.c — the Open311 client registry (see apikeys.h) and the admin API
 *   GET    /api/v1/apikeys          the clients (never their keys) and the settings
 *   POST   /api/v1/apikeys          {"name", "rate"?, "burst"?} → 201 with the key, once
 *   DELETE /api/v1/apikeys/{id}     revoke
 * The cache is a chained hash table of entries keyed by the key's hash; each
 * entry carries the key's token bucket. Store reads happen outside the lock;
 * a request only hashes its key (argon2id, minimal cost) and looks it up. */
#include "api/apikeys.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api/app.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

#define NBUCKETS 256
#define MAX_ENTRIES 100000 /* cache bound: keys beyond it are checked in the store each time */

typedef struct entry {
    char hash[CO_APIKEY_HASH_HEX];
    int64_t id;
    char name[CO_APIKEY_NAME_MAX];
    int revoked;
    double rate;            /* 0 = default */
    int burst;              /* 0 = default */
    co_apikey_bucket bucket;
    int64_t checked_ms;     /* when the row was last read from the store */
    struct entry *next;
} entry;

struct co_apikeys {
    co_store *st;
    pthread_mutex_t lock;
    char salt[80];
    entry *table[NBUCKETS];
    size_t nentries;
    co_open311_settings settings;
    int64_t settings_ms;
    int64_t tax_seen;       /* last taxonomy version asked about */
    int64_t changeset;      /* when it was first seen */
};

static unsigned bucket_of(const char *hash)
{
    unsigned v = 0;
    for (int i = 0; i < 8 && hash[i]; i++)
        v = v * 31 + (unsigned char)hash[i];
    return v % NBUCKETS;
}

/* ------------------------------------------------------------- settings */

static void meta_text(co_store *st, const char *key, const char *dflt, char *out, size_t len)
{
    if (co_store_meta_get(st, key, out, len) != CO_OK || !out[0])
        snprintf(out, len, "%s", dflt);
}

static co_err parse_rate(const char *s, double *out)
{
    return co_parse_double(s, 0.01, 100000, out);
}

static co_err parse_burst(const char *s, int *out)
{
    int64_t v;
    co_err rc = co_parse_i64(s, 1, 1000000, &v);
    if (!rc)
        *out = (int)v;
    return rc;
}

/* Reads the settings from the store (no lock held). */
static void read_settings(co_store *st, co_open311_settings *s)
{
    char v[64];
    double rate = CO_APIKEY_DEFAULT_RATE;
    int burst = CO_APIKEY_DEFAULT_BURST;
    meta_text(st, "open311_jurisdiction", CO_OPEN311_DEFAULT_JURISDICTION, s->jurisdiction,
              sizeof s->jurisdiction);
    meta_text(st, "open311_contact", "12345 市民服务热线 / the city's 12345 hotline", s->contact,
              sizeof s->contact);
    meta_text(st, "open311_base_url", "", s->base_url, sizeof s->base_url);
    if (co_store_meta_get(st, "open311_rate", v, sizeof v) == CO_OK && parse_rate(v, &rate))
        rate = CO_APIKEY_DEFAULT_RATE;
    if (co_store_meta_get(st, "open311_burst", v, sizeof v) == CO_OK && parse_burst(v, &burst))
        burst = CO_APIKEY_DEFAULT_BURST;
    s->rate.per_sec = rate;
    s->rate.burst = burst;
}

static void refresh_settings(co_apikeys *k, int64_t now_ms, int force)
{
    pthread_mutex_lock(&k->lock);
    int stale = force || now_ms - k->settings_ms > CO_APIKEYS_RECHECK_S * 1000;
    pthread_mutex_unlock(&k->lock);
    if (!stale)
        return;
    co_open311_settings s;
    read_settings(k->st, &s);
    pthread_mutex_lock(&k->lock);
    k->settings = s;
    k->settings_ms = now_ms;
    pthread_mutex_unlock(&k->lock);
}

void co_apikeys_settings(co_apikeys *k, co_open311_settings *out)
{
    refresh_settings(k, co_time_now_ms(), 0);
    pthread_mutex_lock(&k->lock);
    *out = k->settings;
    pthread_mutex_unlock(&k->lock);
}

co_err co_apikeys_set(co_apikeys *k, const char *key, const char *value)
{
    double rate;
    int burst;
    if (!value)
        return CO_EINVAL;
    if (!strcmp(key, "open311_rate")) {
        if (parse_rate(value, &rate))
            return CO_EINVAL;
    } else if (!strcmp(key, "open311_burst")) {
        if (parse_burst(value, &burst))
            return CO_EINVAL;
    } else if (!strcmp(key, "open311_jurisdiction")) {
        size_t n = strlen(value);
        if (n == 0 || n >= CO_OPEN311_JURISDICTION_MAX || strspn(value,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != n)
            return CO_EINVAL;
    } else if (!strcmp(key, "open311_contact")) {
        if (strlen(value) >= sizeof k->settings.contact)
            return CO_EINVAL;
    } else if (!strcmp(key, "open311_base_url")) {
        if (strlen(value) >= sizeof k->settings.base_url ||
            (*value && strncmp(value, "http://", 7) && strncmp(value, "https://", 8)))
            return CO_EINVAL;
    } else {
        return CO_EINVAL;
    }
    co_err rc = co_store_meta_set(k->st, key, value);
    if (!rc)
        refresh_settings(k, co_time_now_ms(), 1);
    return rc;
}

int64_t co_apikeys_changeset(co_apikeys *k, int64_t tax_version)
{
    pthread_mutex_lock(&k->lock);
    if (tax_version != k->tax_seen || !k->changeset) {
        k->tax_seen = tax_version;
        k->changeset = co_time_now();
    }
    int64_t v = k->changeset;
    pthread_mutex_unlock(&k->lock);
    return v;
}

/* ------------------------------------------------------------- registry */

co_err co_apikeys_open(co_store *st, co_apikeys **out)
{
    co_apikeys *k = co_xcalloc(1, sizeof *k);
    k->st = st;
    pthread_mutex_init(&k->lock, NULL);
    co_err rc = co_store_meta_get(st, "apikey_salt", k->salt, sizeof k->salt);
    if (rc) {
        co_log_error("msg=\"no apikey_salt in the store (migration 3 missing?)\"");
        co_apikeys_free(k);
        return rc;
    }
    refresh_settings(k, co_time_now_ms(), 1);
    *out = k;
    return CO_OK;
}

void co_apikeys_free(co_apikeys *k)
{
    if (!k)
        return;
    for (int i = 0; i < NBUCKETS; i++)
        for (entry *e = k->table[i], *next; e; e = next) {
            next = e->next;
            co_free(e);
        }
    pthread_mutex_destroy(&k->lock);
    co_free(k);
}

static entry *find_locked(co_apikeys *k, const char *hash)
{
    for (entry *e = k->table[bucket_of(hash)]; e; e = e->next)
        if (!strcmp(e->hash, hash))
            return e;
    return NULL;
}

static co_apikey_rate rate_of(const co_apikeys *k, const entry *e)
{
    co_apikey_rate r = k->settings.rate;
    if (e->rate > 0)
        r.per_sec = e->rate;
    if (e->burst > 0)
        r.burst = e->burst;
    return r;
}

typedef struct found {
    int ok;
    co_apikey_rec rec;
    char name[CO_APIKEY_NAME_MAX];
} found;

static int take_row(void *ctx, const co_apikey_rec *rec)
{
    found *f = ctx;
    f->ok = 1;
    f->rec = *rec;
    snprintf(f->name, sizeof f->name, "%s", rec->name);
    f->rec.name = f->name;
    f->rec.key_hash = f->rec.prefix = f->rec.created_by = NULL; /* point into the statement */
    return 1;
}

/* Brings the cached entry for hash up to date from the store (called
 * without the lock). *f receives the stored row (f->ok = 0 when there is
 * none). Returns -1 when the store failed, else 0. */
static int reload(co_apikeys *k, const char *hash, int64_t now_ms, found *f)
{
    memset(f, 0, sizeof *f);
    co_err rc = co_store_apikey_find(k->st, hash, take_row, f);
    if (rc && rc != CO_ENOTFOUND)
        return -1;
    pthread_mutex_lock(&k->lock);
    entry *e = find_locked(k, hash);
    if (!e && f->ok && k->nentries < MAX_ENTRIES) {
        e = co_xcalloc(1, sizeof *e);
        snprintf(e->hash, sizeof e->hash, "%s", hash);
        unsigned b = bucket_of(hash);
        e->next = k->table[b];
        k->table[b] = e;
        k->nentries++;
        e->rate = f->rec.rate;
        e->burst = f->rec.burst;
        co_apikey_bucket_init(&e->bucket, rate_of(k, e), now_ms);
    }
    if (e) {
        e->id = f->ok ? f->rec.id : 0;
        snprintf(e->name, sizeof e->name, "%s", f->ok ? f->name : "");
        e->revoked = !f->ok || f->rec.revoked;
        e->rate = f->ok ? f->rec.rate : 0;
        e->burst = f->ok ? f->rec.burst : 0;
        e->checked_ms = now_ms;
    }
    pthread_mutex_unlock(&k->lock);
    return 0;
}

co_apikey_verdict co_apikeys_check(co_apikeys *k, const char *key, int64_t now_ms,
                                   co_apikey_client *client, int *retry_after_s)
{
    if (!key || !*key)
        return CO_APIKEY_MISSING;
    if (!co_apikey_valid(key))
        return CO_APIKEY_INVALID;
    refresh_settings(k, now_ms, 0);
    char hash[CO_APIKEY_HASH_HEX];
    co_apikey_hash(k->salt, key, hash);
    pthread_mutex_lock(&k->lock);
    entry *e = find_locked(k, hash);
    int fresh = e && now_ms - e->checked_ms <= CO_APIKEYS_RECHECK_S * 1000 &&
                now_ms >= e->checked_ms;
    pthread_mutex_unlock(&k->lock);
    found f = {0};
    if (!fresh) {
        if (reload(k, hash, now_ms, &f))
            return CO_APIKEY_FAILED;
        if (!f.ok || f.rec.revoked)
            return CO_APIKEY_INVALID;
    }
    co_apikey_verdict v = CO_APIKEY_INVALID;
    pthread_mutex_lock(&k->lock);
    e = find_locked(k, hash);
    if (!e && f.ok) {
        /* a valid key the full cache could not take: no bucket for it */
        client->id = f.rec.id;
        snprintf(client->name, sizeof client->name, "%s", f.name);
        v = CO_APIKEY_OK;
    } else if (e && !e->revoked) {
        if (co_apikey_bucket_take(&e->bucket, rate_of(k, e), now_ms, retry_after_s)) {
            v = CO_APIKEY_OK;
            client->id = e->id;
            snprintf(client->name, sizeof client->name, "%s", e->name);
        } else {
            v = CO_APIKEY_LIMITED;
        }
    }
    pthread_mutex_unlock(&k->lock);
    return v;
}

co_err co_apikeys_create(co_apikeys *k, const char *name, const char *key, double rate,
                         int burst, const char *created_by, int64_t *id_out,
                         char key_out[CO_APIKEY_MAX])
{
    char fresh[CO_APIKEY_MAX], hash[CO_APIKEY_HASH_HEX], prefix[CO_APIKEY_PREFIX_MAX + 4];
    co_err rc;
    if (!co_apikey_name_valid(name) || !isfinite(rate) || rate < 0 || rate > 100000 ||
        burst < 0 || burst > 1000000)
        return CO_EINVAL;
    if (!key) {
        if ((rc = co_apikey_generate(fresh)))
            return rc;
        key = fresh;
    }
    if (!co_apikey_valid(key))
        return CO_EINVAL;
    co_apikey_hash(k->salt, key, hash);
    co_apikey_prefix(key, prefix);
    co_apikey_rec rec = {0, name, hash, prefix, co_time_now(), created_by ? created_by : "",
                         0, rate, burst};
    int64_t id = 0;
    if ((rc = co_store_apikey_put(k->st, &rec, &id)))
        return rc;
    if (id_out)
        *id_out = id;
    if (key_out)
        snprintf(key_out, CO_APIKEY_MAX, "%s", key);
    return CO_OK;
}

co_err co_apikeys_revoke(co_apikeys *k, int64_t id)
{
    co_err rc = co_store_apikey_revoke(k->st, id);
    if (rc)
        return rc;
    pthread_mutex_lock(&k->lock);
    for (int i = 0; i < NBUCKETS; i++)
        for (entry *e = k->table[i]; e; e = e->next)
            if (e->id == id)
                e->revoked = 1;
    pthread_mutex_unlock(&k->lock);
    return CO_OK;
}

typedef struct name_ctx {
    const char *name;
    int found;
} name_ctx;

static int has_name(void *vctx, const co_apikey_rec *rec)
{
    name_ctx *ctx = vctx;
    if (!strcmp(rec->name, ctx->name))
        ctx->found = 1;
    return ctx->found;
}

co_err co_apikeys_demo_setup(const char *dir)
{
    co_store *st = NULL;
    co_apikeys *k = NULL;
    char val[CO_OPEN311_JURISDICTION_MAX];
    co_err rc;
    if ((rc = co_store_open_url(dir, &st)) || (rc = co_apikeys_open(st, &k)))
        goto out;
    if (co_store_meta_get(st, "open311_jurisdiction", val, sizeof val) == CO_ENOTFOUND &&
        (rc = co_apikeys_set(k, "open311_jurisdiction", CO_APIKEY_DEMO_JURISDICTION)))
        goto out;
    name_ctx nc = {"demo", 0};
    if ((rc = co_store_apikeys_each(st, has_name, &nc)) || nc.found)
        goto out;
    rc = co_apikeys_create(k, "demo", CO_APIKEY_DEMO_KEY, 0, 0, "demo", NULL, NULL);
    if (!rc)
        rc = co_store_audit(st, "demo", "apikey_create", "name=demo");
out:
    co_apikeys_free(k);
    co_store_close(st);
    return rc;
}

/* ------------------------------------------------------------ admin API */

static void audit(co_req *r, const char *action, const char *detail)
{
    co_app *app = (co_app *)r->app;
    if (co_store_audit(app->store, r->session ? r->session->username : "-", action, detail))
        co_log_warn("msg=\"audit write failed\" action=%s", action);
}

static json_t *key_json(const co_apikey_rec *rec)
{
    char created[CO_TIME_ISO_MAX];
    co_time_format(rec->created, created);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:f,s:i}", "id", (json_int_t)rec->id, "name",
                     rec->name, "prefix", rec->prefix, "created", created, "created_by",
                     rec->created_by, "revoked", rec->revoked, "rate", rec->rate, "burst",
                     rec->burst);
}

static int list_one(void *ctx, const co_apikey_rec *rec)
{
    json_array_append_new(ctx, key_json(rec));
    return 0;
}

void co_apikey_api_list(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *items = json_array();
    co_err rc = co_store_apikeys_each(app->store, list_one, items);
    if (rc) {
        json_decref(items);
        co_reply_err(r, rc, NULL);
        return;
    }
    co_open311_settings s;
    co_apikeys_settings(app->apikeys, &s);
    co_reply_json(r, 200,
                  json_pack("{s:o,s:{s:s,s:f,s:i}}", "items", items, "settings",
                            "jurisdiction_id", s.jurisdiction, "rate", s.rate.per_sec, "burst",
                            (int)s.rate.burst));
}

void co_apikey_api_create(co_req *r)
{
    co_app *app = (co_app *)r->app;
    json_t *body = co_req_json(r);
    if (!body)
        return;
    const char *name = json_string_value(json_object_get(body, "name"));
    json_t *jrate = json_object_get(body, "rate"), *jburst = json_object_get(body, "burst");
    if (!co_apikey_name_valid(name) || (jrate && !json_is_number(jrate)) ||
        (jburst && !json_is_integer(jburst))) {
        co_reply_error(r, 400, "bad_request",
                       "需要客户端名称 name（1–63 字节），rate 为数字，burst 为整数 / \"name\" "
                       "(1–63 bytes) is required; \"rate\" must be a number and \"burst\" an "
                       "integer");
        return;
    }
    double rate = jrate ? json_number_value(jrate) : 0;
    json_int_t burst = jburst ? json_integer_value(jburst) : 0;
    if (rate < 0 || rate > 100000 || burst < 0 || burst > 1000000) {
        co_reply_error(r, 400, "bad_request",
                       "rate 须在 0–100000，burst 须在 0–1000000 / rate must be 0–100000 and "
                       "burst 0–1000000 (0 = the default)");
        return;
    }
    char key[CO_APIKEY_MAX];
    int64_t id = 0;
    co_err rc = co_apikeys_create(app->apikeys, name, NULL, rate, (int)burst,
                                  r->session->username, &id, key);
    if (rc == CO_EEXIST) {
        co_reply_error(r, 409, "exists", "已有同名客户端 / a client with this name exists");
        return;
    }
    if (rc) {
        co_reply_err(r, rc, NULL);
        return;
    }
    char detail[160], prefix[CO_APIKEY_PREFIX_MAX + 4], created[CO_TIME_ISO_MAX];
    snprintf(detail, sizeof detail, "id=%lld name=%s", (long long)id, name);
    audit(r, "apikey_create", detail);
    co_apikey_prefix(key, prefix);
    co_time_format(co_time_now(), created);
    co_reply_json(r, 201,
                  json_pack("{s:I,s:s,s:s,s:s,s:s,s:f,s:I,s:s}", "id", (json_int_t)id, "name",
                            name, "key", key, "prefix", prefix, "created", created, "rate", rate,
                            "burst", (json_int_t)burst, "message",
                            "请立即保存密钥，它不会再次显示 / store the key now: it is not shown "
                            "again"));
}

void co_apikey_api_revoke(co_req *r)
{
    co_app *app = (co_app *)r->app;
    int64_t id;
    if (co_parse_i64(co_req_param(r, 0), 1, INT64_MAX, &id)) {
        co_reply_error(r, 400, "bad_id", "密钥编号无效 / invalid key id");
        return;
    }
    co_err rc = co_apikeys_revoke(app->apikeys, id);
    if (rc) {
        co_reply_err(r, rc, rc == CO_ENOTFOUND ? "没有这个密钥 / no such key" : NULL);
        return;
    }
    char detail[32];
    snprintf(detail, sizeof detail, "id=%lld", (long long)id);
    audit(r, "apikey_revoke", detail);
    co_reply_json(r, 200, json_pack("{s:I,s:b}", "id", (json_int_t)id, "revoked", 1));
}
