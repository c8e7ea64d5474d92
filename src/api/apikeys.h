/* apikeys.h — the registry of Open311 clients: their API keys, one token
 * bucket per key, and the Open311 settings kept in the store's meta table
 * (jurisdiction_id, default rate and burst, contact). Keys are created by
 * administrators (admin API, `cityops apikey add`), shown once, and stored
 * only as a keyed hash (domain/apikey.h).
 *
 * The registry caches the keys it has seen, by hash, with their buckets; an
 * entry older than CO_APIKEYS_RECHECK_S is re-read from the store, so a key
 * revoked by the CLI of another process stops working within that time (one
 * revoked through the admin API stops at once). Settings are re-read on the
 * same schedule. All functions are thread-safe (one mutex); nothing returned
 * points into the registry. */
#ifndef CO_API_APIKEYS_H
#define CO_API_APIKEYS_H

#include <stdint.h>

#include "domain/apikey.h"
#include "http/req.h"
#include "lib/err.h"
#include "store/store.h"

#define CO_APIKEYS_RECHECK_S 30
#define CO_OPEN311_JURISDICTION_MAX 128
#define CO_OPEN311_DEFAULT_JURISDICTION "cityops"

typedef struct co_apikeys co_apikeys;

/* A client, as the registry hands it out (a copy). */
typedef struct co_apikey_client {
    int64_t id;
    char name[CO_APIKEY_NAME_MAX];
} co_apikey_client;

/* Open311 settings (copies). */
typedef struct co_open311_settings {
    char jurisdiction[CO_OPEN311_JURISDICTION_MAX]; /* the one jurisdiction_id accepted */
    char contact[256];                              /* discovery's contact */
    char base_url[256];                             /* "" = from the Host header */
    co_apikey_rate rate;                            /* default per key */
} co_open311_settings;

/* Opens the registry over st (borrowed; must outlive it). */
co_err co_apikeys_open(co_store *st, co_apikeys **out) CO_MUST_CHECK;
void co_apikeys_free(co_apikeys *k);

/* Result of checking a request's key. */
typedef enum co_apikey_verdict {
    CO_APIKEY_OK = 0,
    CO_APIKEY_MISSING,  /* no key given */
    CO_APIKEY_INVALID,  /* unknown or revoked */
    CO_APIKEY_LIMITED,  /* the key's bucket is empty: *retry_after_s set */
    CO_APIKEY_FAILED,   /* the store failed */
} co_apikey_verdict;

/* Checks key and takes one token from its bucket. On CO_APIKEY_OK *client
 * names the key's client. */
co_apikey_verdict co_apikeys_check(co_apikeys *k, const char *key, int64_t now_ms,
                                   co_apikey_client *client, int *retry_after_s);

/* Creates a key for a new client. key NULL generates one; key_out (may be
 * NULL) receives the key — the only time it is ever visible. CO_EEXIST
 * when the name (or the key) is taken, CO_EINVAL for a bad name, key or
 * rate. rate/burst 0 = the default. */
co_err co_apikeys_create(co_apikeys *k, const char *name, const char *key, double rate,
                         int burst, const char *created_by, int64_t *id_out,
                         char key_out[CO_APIKEY_MAX]) CO_MUST_CHECK;
/* Revokes a key by id (at once in this registry). CO_ENOTFOUND if none. */
co_err co_apikeys_revoke(co_apikeys *k, int64_t id) CO_MUST_CHECK;

/* Current settings (re-read from the store every CO_APIKEYS_RECHECK_S). */
void co_apikeys_settings(co_apikeys *k, co_open311_settings *out);
/* Stores a setting: "open311_jurisdiction", "open311_rate", "open311_burst",
 * "open311_contact" or "open311_base_url"; CO_EINVAL for another key or a
 * bad value. Takes effect at once in this registry. */
co_err co_apikeys_set(co_apikeys *k, const char *key, const char *value) CO_MUST_CHECK;
/* The discovery changeset for a taxonomy version: the time this registry
 * first saw the version (Unix seconds), so it moves whenever services do. */
int64_t co_apikeys_changeset(co_apikeys *k, int64_t tax_version);

/* `cityops demo`: makes sure the store at DIR (or a co_store_open_url name)
 * has the client "demo" with the key
 * "demo-key" and the jurisdiction "hohhot.cityops" (idempotent). */
co_err co_apikeys_demo_setup(const char *dir) CO_MUST_CHECK;
#define CO_APIKEY_DEMO_KEY "demo-key"
#define CO_APIKEY_DEMO_JURISDICTION "hohhot.cityops"

/* Admin API (routes.c): GET/POST /api/v1/apikeys, DELETE /api/v1/apikeys/{id}. */
void co_apikey_api_list(co_req *r);
void co_apikey_api_create(co_req *r);
void co_apikey_api_revoke(co_req *r);

#endif
