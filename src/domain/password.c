/* password.c — argon2id password hashing (see password.h).
 * Parameters follow current guidance for argon2id: t=2, m=19 MiB, p=1. */
#include "domain/password.h"

#include <argon2.h>
#include <string.h>
#include <sys/random.h>

#define T_COST 2
#define M_COST (19 * 1024)
#define PAR 1
#define SALT_LEN 16
#define HASH_LEN 32

co_err co_password_hash(const char *password, char out[CO_PASSWORD_HASH_MAX])
{
    size_t len = strlen(password);
    if (len < CO_PASSWORD_MIN || len > CO_PASSWORD_MAX)
        return CO_EINVAL;
    unsigned char salt[SALT_LEN];
    if (getrandom(salt, sizeof salt, 0) != (ssize_t)sizeof salt)
        return CO_EIO;
    int rc = argon2id_hash_encoded(T_COST, M_COST, PAR, password, len, salt, sizeof salt,
                                   HASH_LEN, out, CO_PASSWORD_HASH_MAX);
    return rc == ARGON2_OK ? CO_OK : CO_EINTERNAL;
}

co_err co_password_verify(const char *encoded, const char *password)
{
    size_t len = strlen(password);
    if (len > CO_PASSWORD_MAX)
        return CO_EPERM;
    return argon2id_verify(encoded, password, len) == ARGON2_OK ? CO_OK : CO_EPERM;
}

void co_password_dummy_verify(const char *password)
{
    static const char dummy[] =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
        "3B6r1bq1JrY3n1l5oJjJ0Qq8lE3o3Wm4m5k0xv1bE2c";
    if (co_password_verify(dummy, password) == CO_OK)
        return;
}
