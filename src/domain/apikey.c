/* apikey.c — API key values and the token bucket (see apikey.h). */
#include "domain/apikey.h"

#include <argon2.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void co_apikey_bucket_init(co_apikey_bucket *b, co_apikey_rate rate, int64_t now_ms)
{
    b->tokens = rate.burst;
    b->last_ms = now_ms;
}

int co_apikey_bucket_take(co_apikey_bucket *b, co_apikey_rate rate, int64_t now_ms,
                          int *retry_after_s)
{
    if (rate.per_sec <= 0)
        rate.per_sec = CO_APIKEY_DEFAULT_RATE;
    if (rate.burst < 1)
        rate.burst = 1;
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) / 1000.0 * rate.per_sec;
        b->last_ms = now_ms;
    }
    if (b->tokens > rate.burst)
        b->tokens = rate.burst;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 1;
    }
    double wait = (1.0 - b->tokens) / rate.per_sec;
    int secs = (int)ceil(wait);
    *retry_after_s = secs < 1 ? 1 : secs;
    return 0;
}

co_err co_apikey_generate(char out[CO_APIKEY_MAX])
{
    unsigned char raw[20];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return CO_EIO;
    memcpy(out, "o311_", 5);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 5 + 2 * i, 3, "%02x", raw[i]);
    return CO_OK;
}

int co_apikey_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n < 4 || n >= CO_APIKEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] <= ' ' || key[i] > '~')
            return 0;
    return 1;
}

void co_apikey_hash(const char *salt, const char *key, char out[CO_APIKEY_HASH_HEX])
{
    unsigned char h[32];
    char s[80];
    /* argon2 needs a salt of at least 8 bytes: pad short ones deterministically */
    snprintf(s, sizeof s, "%s.cityops-apikey", salt ? salt : "");
    if (argon2id_hash_raw(1, 8, 1, key, strlen(key), s, strlen(s), h, sizeof h) != ARGON2_OK)
        memset(h, 0, sizeof h);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

void co_apikey_prefix(const char *key, char out[CO_APIKEY_PREFIX_MAX + 4])
{
    size_t n = strlen(key) / 2;
    if (n > 10)
        n = 10;
    snprintf(out, CO_APIKEY_PREFIX_MAX + 4, "%.*s…", (int)n, key);
}

int co_apikey_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= CO_APIKEY_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}
