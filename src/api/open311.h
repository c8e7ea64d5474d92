/* open311.h — Open311 GeoReport v2 under /open311/v2/, so 311 apps and
 * FixMyStreet can talk to the city. An adapter over the case model: a
 * service is a taxonomy subclass (service_code "C0101"/"E0102"), a service
 * request is a case (service_request_id = the 13-digit case number), and a
 * request posted here goes through the same intake, writer, routing,
 * projection and inboxes as any other case (channel open311).
 *
 * Every method answers in .xml (libxml2 xmlTextWriter) and .json (the Spark
 * convention: list containers are arrays); documents are built once as
 * Spark JSON and converted (co_open311_xml). Errors use the spec's
 * errors → error {code, description} list with 400 / 403 / 404 (plus 429
 * with Retry-After when a key's rate limit is hit). Dates are ISO 8601 with
 * the offset (+08:00). Files: open311.c (discovery, services, POST request,
 * tokens, errors, the fallback), open311_list.c (GET requests, one request,
 * servicerequestupdates), open311_xml.c (the XML writer and the pure
 * helpers below, which the unit tests call directly). */
#ifndef CO_API_OPEN311_H
#define CO_API_OPEN311_H

#include <jansson.h>
#include <stddef.h>

#include "domain/case.h"
#include "domain/taxonomy.h"
#include "http/req.h"
#include "lib/err.h"

#define CO_OPEN311_SPEC "http://wiki.open311.org/GeoReport_v2"
#define CO_OPEN311_DESC_MAX_CHARS 4000   /* the spec's limit for description */
#define CO_OPEN311_TEXT_ATTR_MAX_CHARS 1000
#define CO_OPEN311_LIMIT 1000            /* default and largest page */
#define CO_OPEN311_WINDOW_S (90 * 86400) /* default and widest date range */
#define CO_OPEN311_ERR_MAX 512

typedef enum co_open311_fmt { CO_OPEN311_XML = 0, CO_OPEN311_JSON = 1 } co_open311_fmt;

/* ---- handlers (routes.c) ---- */
void co_open311_discovery(co_req *r);          /* GET discovery.{fmt} */
void co_open311_services(co_req *r);           /* GET services.{fmt} */
void co_open311_service_definition(co_req *r); /* GET services/{code}.{fmt} */
void co_open311_request_create(co_req *r);     /* POST requests.{fmt} (api_key) */
void co_open311_requests_list(co_req *r);      /* GET requests.{fmt} */
void co_open311_request_get(co_req *r);        /* GET requests/{id}.{fmt} */
void co_open311_token_get(co_req *r);          /* GET tokens/{token}.{fmt} */
void co_open311_updates_list(co_req *r);       /* GET servicerequestupdates.{fmt} (FMS) */
void co_open311_update_create(co_req *r);      /* POST servicerequestupdates.{fmt} (FMS) */
void co_open311_fallback(co_req *r);           /* anything else under /open311/v2/ */

/* ---- building blocks (pure: no request, no store) ---- */

/* Writes a Spark JSON document as XML: an XML declaration with
 * encoding="UTF-8", then root holding doc (an object's members become child
 * elements in order; an array's items repeat an element named by
 * co_open311_item_name(container); true/false/numbers become text; null an
 * empty element). Characters XML 1.0 forbids are replaced by spaces. *out
 * is a NUL-terminated string the caller frees with co_free. */
co_err co_open311_xml(const json_t *doc, const char *root, char **out, size_t *len)
    CO_MUST_CHECK;
/* The element of one item of a list: "services" → "service",
 * "service_requests" → "request", "service_request_updates" →
 * "request_update", "attributes" → "attribute", else without the final s. */
const char *co_open311_item_name(const char *container, char *buf, size_t len);

/* "open" while the workflow state is open, "closed" after close, void or merge. */
const char *co_open311_status(co_state s);
/* 1 when a note written with this workflow action is meant for the public
 * (answer, handle, close, void, merge, reopen); such a note becomes
 * status_notes. Notes of other actions stay internal. */
int co_open311_note_is_public(const char *action);
/* "zh / en" text telling what a workflow action did, for updates without a
 * public note. */
const char *co_open311_action_text(const char *action);

/* The service and its definition for a taxonomy subclass (new references).
 * Attributes: severity (singlevaluelist normal/urgent/critical with the
 * taxonomy's zh/en names), note (text), filing_condition (variable=false:
 * the 立案条件 shown to the user). */
json_t *co_open311_service_json(const co_taxonomy_subclass *s);
json_t *co_open311_definition_json(const co_taxonomy *t, const co_taxonomy_subclass *s);

/* A form body (application/x-www-form-urlencoded): pairs in order, keys and
 * values percent-decoded with '+' as space. Owns its strings. */
typedef struct co_open311_pair {
    char *key, *value;
} co_open311_pair;
typedef struct co_open311_form {
    co_open311_pair *pairs;
    size_t n, cap;
} co_open311_form;
#define CO_OPEN311_FORM_PAIRS 256

/* Parses len bytes of body into *form (which must be zeroed). Empty
 * segments are skipped; a segment without '=' has an empty value.
 * CO_EINVAL when a key or value decodes to a NUL byte or is not UTF-8, or
 * when it holds control characters other than tab and line breaks;
 * CO_ETOOBIG past CO_OPEN311_FORM_PAIRS pairs. On error form is cleared. */
co_err co_open311_form_parse(const char *body, size_t len, co_open311_form *form) CO_MUST_CHECK;
void co_open311_form_clear(co_open311_form *form);
/* The first value of key, or NULL. */
const char *co_open311_form_get(const co_open311_form *form, const char *key);

/* Collects attribute[CODE]=v and attribute[CODE][]=v pairs of a form into
 * *out, a new object {CODE: "v" | ["v1", ...]} (the [] form always gives an
 * array; a repeated plain key too). Empty values count as not sent.
 * CO_EINVAL with err set for a malformed key or too many/too long values. */
co_err co_open311_attrs_parse(const co_open311_form *form, json_t **out, char *err,
                              size_t errlen) CO_MUST_CHECK;
/* Checks attrs against a service definition: required ones present, list
 * values among the keys, numbers and datetimes well formed, text lengths.
 * Attributes with variable=false are dropped from attrs; codes the
 * definition does not know are kept. Returns the number of problems and
 * writes the first up to max of them into errs (each CO_OPEN311_ERR_MAX). */
int co_open311_attrs_check(const json_t *definition, json_t *attrs,
                           char errs[][CO_OPEN311_ERR_MAX], int max);
/* The case description for a request: text (or fallback when text is
 * empty) followed by one line per attribute other than severity, cut at a
 * UTF-8 boundary with "…" so the whole fits in len bytes. */
void co_open311_compose_description(const char *text, const char *fallback, const json_t *attrs,
                                    char *out, size_t len);
/* Number of UTF-8 characters in s, or -1 when s is not valid UTF-8. */
long co_open311_utf8_chars(const char *s);
/* Replaces every byte of s that is not part of valid UTF-8 with '?' (for
 * messages that echo what a client sent, or were cut short). In place. */
void co_open311_utf8_fix(char *s);

/* What a service request shows besides the case itself. */
typedef struct co_open311_view {
    const co_case *c;
    const char *service_name;  /* "" when unknown */
    const char *agency;        /* department in charge, "" when none */
    const char *address;       /* most specific first */
    const char *status_notes;  /* latest public note, "" when none */
    const char *description;   /* as the client sent it, NULL = the case's */
    const char *media_url;     /* NULL = none */
} co_open311_view;
/* One request in the spec's field order: service_request_id, status,
 * status_notes, service_name, service_code, description,
 * agency_responsible, service_notice, requested_datetime, updated_datetime,
 * expected_datetime (open cases with a deadline only), address, address_id
 * (the grid), zipcode, lat, long, media_url. New reference. */
json_t *co_open311_request_json(const co_open311_view *v);

#endif
