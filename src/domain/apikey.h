/* apikey.h — API keys of Open311 clients as values: how a key looks, how it
 * is hashed for storage, and the token bucket that rate-limits each key.
 * A key is "o311_" + 40 hex digits (160 random bits) unless an administrator
 * chooses one (the demo's "demo-key"). Only a keyed hash of a key is ever
 * stored: argon2id with minimal cost and the installation's salt — keys are
 * random, so the hash must be one-way and keyed, not slow.
 * Token bucket: a key may make `burst` requests at once and then `per_sec`
 * requests per second on average. Buckets are plain values; the caller
 * serialises access (the registry in api/apikeys.c holds a mutex).
 * Nothing here allocates, touches globals or does I/O except
 * co_apikey_generate (getrandom). */
#ifndef CO_DOMAIN_APIKEY_H
#define CO_DOMAIN_APIKEY_H

#include <stdint.h>

#include "lib/err.h"

#define CO_APIKEY_MAX 65         /* longest key + NUL */
#define CO_APIKEY_HASH_HEX 65    /* 64 hex digits + NUL */
#define CO_APIKEY_PREFIX_MAX 12  /* shown prefix + NUL */
#define CO_APIKEY_NAME_MAX 64    /* client name bytes + NUL */
#define CO_APIKEY_DEFAULT_RATE 10.0
#define CO_APIKEY_DEFAULT_BURST 50

typedef struct co_apikey_rate {
    double per_sec;  /* refill rate, > 0 */
    double burst;    /* bucket capacity, >= 1 */
} co_apikey_rate;

typedef struct co_apikey_bucket {
    double tokens;   /* tokens left (fractional while refilling) */
    int64_t last_ms; /* when tokens was last brought up to date */
} co_apikey_bucket;

/* A full bucket at now_ms. */
void co_apikey_bucket_init(co_apikey_bucket *b, co_apikey_rate rate, int64_t now_ms);
/* Refills the bucket for the time passed since the last call and takes one
 * token. Returns 1 when the request may go ahead; 0 when the bucket is empty,
 * with *retry_after_s set to the whole seconds (>= 1) until a token is back.
 * A clock that goes backwards refills nothing. */
int co_apikey_bucket_take(co_apikey_bucket *b, co_apikey_rate rate, int64_t now_ms,
                          int *retry_after_s);

/* Writes a new random key ("o311_" + 40 hex). CO_EIO if no randomness. */
co_err co_apikey_generate(char out[CO_APIKEY_MAX]) CO_MUST_CHECK;
/* 1 when key has the shape of a key we accept: 4..64 printable ASCII
 * characters without spaces. */
int co_apikey_valid(const char *key);
/* Keyed hash of key with salt (hex, 64 digits). Deterministic. */
void co_apikey_hash(const char *salt, const char *key, char out[CO_APIKEY_HASH_HEX]);
/* The part of a key shown in lists to recognise it: at most 10 characters
 * and never more than half of the key, followed by "…". */
void co_apikey_prefix(const char *key, char out[CO_APIKEY_PREFIX_MAX + 4]);
/* 1 when name is a valid client name: 1..63 bytes, no control characters. */
int co_apikey_name_valid(const char *name);

#endif
