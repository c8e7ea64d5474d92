/* password.h — password hashing with argon2id (libargon2).
 * Encoded hashes are self-describing strings ("$argon2id$v=19$m=...") of at
 * most CO_PASSWORD_HASH_MAX bytes, written into caller buffers. */
#ifndef CO_DOMAIN_PASSWORD_H
#define CO_DOMAIN_PASSWORD_H

#include "lib/err.h"

#define CO_PASSWORD_HASH_MAX 160
#define CO_PASSWORD_MIN 4
#define CO_PASSWORD_MAX 256

co_err co_password_hash(const char *password, char out[CO_PASSWORD_HASH_MAX]) CO_MUST_CHECK;
/* CO_OK when password matches encoded, CO_EPERM when not. */
co_err co_password_verify(const char *encoded, const char *password) CO_MUST_CHECK;
/* Spends the same time as a verification, for unknown users. */
void co_password_dummy_verify(const char *password);

#endif
