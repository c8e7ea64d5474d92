/* session.h — login sessions: an in-memory table shared by all worker
 * threads (guarded by a mutex), persisted through the store so sessions
 * survive a restart. Tokens are 256-bit random values (hex); the store keeps
 * only a keyed hash of each token. Lookups return a copy the caller owns
 * (on the stack), so no pointer into the table escapes the lock. */
#ifndef CO_HTTP_SESSION_H
#define CO_HTTP_SESSION_H

#include <stdint.h>

#include "domain/role.h"
#include "lib/err.h"

#define CO_TOKEN_HEX 65           /* 64 hex chars + NUL */
#define CO_SESSION_SWEEP 256
#define CO_SESSION_TTL (12 * 3600) /* seconds, the default lifetime */
#define CO_SESSION_PER_USER 32     /* a login beyond it ends the user's oldest session */

struct co_store;

typedef struct co_session {
    char token_hash[CO_TOKEN_HEX];
    char csrf[CO_TOKEN_HEX];
    int64_t user_id;
    char username[64];
    char display_name[64];
    co_role role;
    char dept[32];        /* department code or "" */
    char scope[16];       /* area code the user is limited to, "" = whole city */
    int64_t expires;
} co_session;

typedef struct co_sessions co_sessions;

co_err co_sessions_new(struct co_store *store, co_sessions **out) CO_MUST_CHECK;
void co_sessions_free(co_sessions *s);
/* Lifetime of sessions created from now on (seconds, >= 1; default
 * CO_SESSION_TTL). */
void co_sessions_set_ttl(co_sessions *s, int ttl_s);
int co_sessions_ttl(co_sessions *s);
/* Creates a session for the user; token_out receives the bearer token.
 * A user keeps at most CO_SESSION_PER_USER sessions: the new one ends those
 * beyond it that expire first (in the store, so on every node; other nodes
 * notice within their recheck time). Every CO_SESSION_SWEEP creations,
 * expired sessions are dropped (memory and store), so the table does not
 * grow with logins. */
co_err co_sessions_create(co_sessions *s, const co_session *tmpl, char token_out[CO_TOKEN_HEX])
    CO_MUST_CHECK;
/* Several nodes share the store: a token this node does not know is looked
 * up in the store, and one it knows is confirmed again when its last check
 * is recheck_s seconds old (a logout or revocation on another node takes
 * effect here within that time; if the store is unreachable the known
 * session stays valid). */
void co_sessions_set_shared(co_sessions *s, int recheck_s);
/* Looks the token up; CO_ENOTFOUND if unknown or expired. */
co_err co_sessions_get(co_sessions *s, const char *token, co_session *out) CO_MUST_CHECK;
co_err co_sessions_revoke(co_sessions *s, const char *token) CO_MUST_CHECK;
/* Revokes every session of a user (password change, disable). */
void co_sessions_revoke_user(co_sessions *s, int64_t user_id);

/* Fills out with 2*n hex chars of cryptographic randomness (n <= 32). */
co_err co_random_hex(char *out, unsigned n) CO_MUST_CHECK;
/* Keyed hash of a token (hex, 64 chars) used as the stored identifier. */
void co_token_hash(const char *token, char out[CO_TOKEN_HEX]);

#endif
