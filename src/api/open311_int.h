/* open311_int.h — what open311.c and open311_list.c share: choosing the
 * format from the path, the jurisdiction check, form bodies, API keys,
 * replies and the spec's error lists. Not for other modules. Every
 * function that can reply replies itself on failure and returns -1, so a
 * handler just returns. */
#ifndef CO_API_OPEN311_INT_H
#define CO_API_OPEN311_INT_H

#include "api/apikeys.h"
#include "api/app.h"
#include "api/open311.h"

#define CO_OPEN311_ERRORS_MAX 8
#define CO_OPEN311_FORM_MAX (128u << 10) /* bytes of a POST body */

/* A list of errors for one reply; the HTTP status is the first one's. */
typedef struct co_open311_errors {
    int n;
    int codes[CO_OPEN311_ERRORS_MAX];
    char desc[CO_OPEN311_ERRORS_MAX][CO_OPEN311_ERR_MAX];
} co_open311_errors;

void co_open311_errors_add(co_open311_errors *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void co_open311_reply_errors(co_req *r, co_open311_fmt fmt, const co_open311_errors *e);
void co_open311_error(co_req *r, co_open311_fmt fmt, int status, const char *msg, ...)
    __attribute__((format(printf, 4, 5)));
/* Replies doc (stolen) as XML under root, or as JSON. */
void co_open311_reply(co_req *r, co_open311_fmt fmt, int status, json_t *doc,
                      const char *root);

/* Splits a path segment "NAME.xml" / "NAME.json" (or just "xml"/"json"
 * for routes like "requests.{fmt}"): *fmt is set and, when stem is not
 * NULL, the part before the dot is copied into it. 404 otherwise. */
int co_open311_format(co_req *r, const char *segment, int has_stem, co_open311_fmt *fmt,
                      char *stem, size_t stemlen);
/* Parses an application/x-www-form-urlencoded body into form (zeroed by
 * the caller, who clears it with co_open311_form_clear even on failure).
 * 400 for another content type, a body over CO_OPEN311_FORM_MAX, bad
 * encoding or text that is not UTF-8. */
int co_open311_read_form(co_req *r, co_open311_fmt fmt, co_open311_form *form);
/* A parameter from the form (when not NULL) or the query string; NULL
 * when absent or empty (the spec treats both alike). */
const char *co_open311_arg(co_req *r, const co_open311_form *form, const char *key);
/* 404 when jurisdiction_id is given and is not this city's. */
int co_open311_jurisdiction(co_req *r, co_open311_fmt fmt, const co_open311_form *form);
/* The api_key check of the keyed methods: 403 when missing or invalid,
 * 429 with Retry-After when its bucket is empty. what names the method in
 * the message ("create_request"). */
int co_open311_authorize(co_req *r, co_open311_fmt fmt, const co_open311_form *form,
                         const char *what, co_apikey_client *client);

/* Service name of a category: "上水井盖 / Water supply manhole cover" from
 * the taxonomy t (may be NULL), "" when unknown. */
void co_open311_service_name(co_app *app, const co_taxonomy *t, co_category cat, char *out,
                             size_t len);
/* Parses a comma list of "open"/"closed" into a state mask; CO_EINVAL for
 * anything else. */
co_err co_open311_parse_status(const char *s, unsigned *mask) CO_MUST_CHECK;

#endif
