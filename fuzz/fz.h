/* fz.h — support code shared by the libFuzzer targets in fuzz/.
 *
 * Fake requests (fz_req.c): a request text "METHOD URI [HTTP/1.1]\n" +
 * "Name: value\n" headers + "\n" + body (CRLF or LF) becomes a real
 * evhttp_request without a socket. The few libevent calls that need the
 * connection or the parsed request line are replaced at link time
 * (-Wl,--wrap=..., see FUZZ_WRAP in the Makefile) by functions here that
 * answer for the current fake request, and evhttp_send_reply() is captured
 * into fz_reply instead of being written to a socket. Nothing is kept
 * between inputs except the application (below).
 *
 * The application (fz_app.c): one co_app per process in a temporary data
 * directory (on /dev/shm when it exists; removed at exit) holding the small
 * area hierarchy of tests/fixtures/areas, one user and one session per role,
 * an Open311 API key and a few cases. fz_app_request() runs a request text
 * through co_app_handle() exactly as the server would (deferred replies
 * included: the writer commits and the harness runs the event loop until the
 * reply), then checks the reply (fz_check_reply). In request texts "$T0".."$T6"
 * stand for the bearer token of role 0..6 (co_role order), "$X0".."$X6" for
 * that session's CSRF token and "$K" for the API key.
 *
 * Environment: FUZZ_VERBOSE=1 shows the application's log (errors only
 * otherwise); FUZZ_SLOW_MS=N prints every request that took longer than N ms.
 *
 * Ownership: a fz_req owns its evhttp_request and URI (fz_req_free). The
 * captured reply body is owned by this module and valid until the next
 * request. */
#ifndef CO_FUZZ_FZ_H
#define CO_FUZZ_FZ_H

#include <event2/http.h>
#include <stddef.h>
#include <stdint.h>

#include "api/app.h"

typedef struct fz_reply {
    int count;           /* replies sent for the current request (must be 1) */
    int status;
    int streaming;       /* evhttp_send_reply_start was used */
    char ctype[128];     /* Content-Type of the reply, "" when none */
    char *body;          /* NUL-terminated copy (JSON replies only), or NULL */
    size_t len;
} fz_reply;

typedef struct fz_req {
    struct evhttp_request *ev;
    struct evhttp_uri *uri;
    enum evhttp_cmd_type cmd;
    char path[1024];     /* decoded path (for the checks), "" when undecodable */
} fz_req;

extern fz_reply fz_last;

/* Builds a request from text (after token substitution). Returns 0, or -1
 * when libevent itself would have refused the request line or a header
 * (those inputs never reach cityops: the caller just skips them). */
int fz_req_build(fz_req *q, const char *text, size_t len);
void fz_req_free(fz_req *q);
/* Makes q the request the wrapped libevent calls answer for, clears the
 * reply; with_conn gives it a (fake) connection on base, so replies can be
 * deferred. */
void fz_req_begin(fz_req *q, struct event_base *base, int with_conn);
void fz_req_end(void);

/* Copies text, replacing $T<n>, $X<n> and $K (see above); NUL-terminated,
 * caller frees with free(). */
char *fz_subst(const uint8_t *data, size_t len, size_t *outlen);

/* The shared application (created on first use; exits on set-up failure). */
co_app *fz_app(void);
const char *fz_token(int role);
const char *fz_csrf(int role);
const char *fz_apikey(void);
/* Runs one request text through co_app_handle and checks the reply.
 * Returns the status (0 when the input was skipped). */
int fz_app_request(const uint8_t *data, size_t len);
/* Aborts (a fuzzer finding) when the reply breaks the API's promises:
 * exactly one reply; /api/ replies are JSON objects; errors carry
 * {"error":{"code","message"}}; no 500 for any input. */
void fz_check_reply(const fz_req *q);

/* Quiet logs (warnings and errors only) unless FUZZ_VERBOSE is set. */
void fz_quiet(void);

#endif
