/* fuzz_open311.c — libFuzzer target: Open311 GeoReport v2 form input.
 * First byte even: the pure building blocks (open311.h) — the form body is
 * parsed (co_open311_form_parse: every pair decoded, UTF-8, no controls),
 * its attribute[...] pairs collected and checked against the definition of
 * a real service of the taxonomy (byte 0 picks it), the case description
 * composed (must fit its buffer and stay UTF-8), and the pairs written as
 * an XML document (must be well-formed UTF-8 text).
 * First byte odd: a POST through the whole application (fz.h): byte 0 picks
 * requests.json / requests.xml / servicerequestupdates.json; the rest is the
 * form body ("$K" stands for a valid api_key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/open311.h"
#include "lib/alloc.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void finding(const char *what)
{
    fprintf(stderr, "\n*** fuzz finding: %s\n", what);
    abort();
}

static void pure(co_app *app, uint8_t pick, const char *body, size_t len)
{
    co_open311_form form = {0};
    if (co_open311_form_parse(body, len, &form)) {
        if (form.n || form.pairs)
            finding("a refused form is not cleared");
        return;
    }
    json_t *pairs = json_object();
    for (size_t i = 0; i < form.n; i++) {
        if (co_open311_utf8_chars(form.pairs[i].key) < 0 ||
            co_open311_utf8_chars(form.pairs[i].value) < 0)
            finding("a form pair that is not UTF-8");
        json_object_set_new(pairs, form.pairs[i].key, json_string(form.pairs[i].value));
    }
    json_t *attrs = NULL;
    char err[CO_OPEN311_ERR_MAX];
    if (co_open311_attrs_parse(&form, &attrs, err, sizeof err) == CO_OK) {
        co_taxonomy *t = co_app_taxonomy(app);
        size_t ns = co_taxonomy_nsubclasses(t);
        if (ns) {
            const co_taxonomy_subclass *s = co_taxonomy_subclass_at(t, pick % ns);
            json_t *def = co_open311_definition_json(t, s);
            char errs[8][CO_OPEN311_ERR_MAX];
            int n = co_open311_attrs_check(def, attrs, errs, 8);
            for (int i = 0; i < n && i < 8; i++)
                if (!memchr(errs[i], '\0', sizeof errs[i]))
                    finding("an unterminated attribute error");
            char desc[CO_TEXT_MAX];
            co_open311_compose_description(co_open311_form_get(&form, "description"), s->name,
                                           attrs, desc, sizeof desc);
            if (strlen(desc) >= sizeof desc || co_open311_utf8_chars(desc) < 0)
                finding("a composed description that is too long or not UTF-8");
            json_decref(def);
        }
        co_taxonomy_free(t);
    } else if (!memchr(err, '\0', sizeof err)) {
        finding("an unterminated attribute error");
    }
    json_decref(attrs);
    char *xml = NULL;
    size_t xlen = 0;
    json_t *doc = json_pack("[o]", pairs);
    if (co_open311_xml(doc, "service_requests", &xml, &xlen) == CO_OK) {
        if (strlen(xml) != xlen || co_open311_utf8_chars(xml) < 0)
            finding("XML that is not one UTF-8 string");
        co_free(xml);
    }
    json_decref(doc);
    co_open311_form_clear(&form);
}

static void http(uint8_t pick, const uint8_t *body, size_t len)
{
    static const char *const lines[] = {
        "POST /open311/v2/requests.json HTTP/1.1\r\n",
        "POST /open311/v2/requests.xml HTTP/1.1\r\n",
        "POST /open311/v2/servicerequestupdates.json HTTP/1.1\r\n",
    };
    const char *line = lines[(pick >> 1) % 3];
    static const char ct[] = "Content-Type: application/x-www-form-urlencoded\r\n\r\n";
    size_t ll = strlen(line), cl = sizeof ct - 1;
    uint8_t *req = malloc(ll + cl + len);
    if (!req)
        return;
    memcpy(req, line, ll);
    memcpy(req + ll, ct, cl);
    memcpy(req + ll + cl, body, len);
    fz_app_request(req, ll + cl + len);
    free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    co_app *app = fz_app();
    if (data[0] & 1) {
        http(data[0], data + 1, size - 1);
        return 0;
    }
    /* an exact-size copy: reading past the body is an ASan error */
    char *body = malloc(size);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    pure(app, data[0] >> 1, body, size - 1);
    free(body);
    return 0;
}
