/* test_multipart.c — unit tests of src/http/multipart.c: well-formed bodies
 * (names, file names, content types, binary data, empty parts, quoted
 * boundaries, preambles, header order and case), and every malformed shape
 * (no boundary, wrong content type, missing closing delimiter, truncated
 * headers, parts without a name, too many parts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/multipart.h"

#define CT "multipart/form-data; boundary=XyZ123"

static co_err parse(const char *ct, const char *body, size_t len, co_part *parts, size_t *n)
{
    return co_multipart_parse(ct, (const unsigned char *)body, len, parts, n);
}

static co_err parse_s(const char *ct, const char *body, co_part *parts, size_t *n)
{
    return parse(ct, body, strlen(body), parts, n);
}

static void assert_part(const co_part *p, const char *name, const char *filename,
                        const char *type, const char *data, size_t len)
{
    assert_string_equal(p->name, name);
    assert_string_equal(p->filename, filename);
    assert_string_equal(p->type, type);
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, data, len);
}

static void test_two_parts(void **state)
{
    (void)state;
    const char *body = "--XyZ123\r\n"
                       "Content-Disposition: form-data; name=\"case\"\r\n"
                       "Content-Type: application/json\r\n"
                       "\r\n"
                       "{\"description\":\"x\"}\r\n"
                       "--XyZ123\r\n"
                       "Content-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n"
                       "Content-Type: image/png\r\n"
                       "\r\n"
                       "PNGDATA\r\n"
                       "--XyZ123--\r\n";
    co_part parts[CO_MULTIPART_MAX];
    size_t n = 99;
    assert_int_equal(parse_s(CT, body, parts, &n), CO_OK);
    assert_int_equal(n, 2);
    assert_part(&parts[0], "case", "", "application/json", "{\"description\":\"x\"}", 19);
    assert_part(&parts[1], "photo", "a.png", "image/png", "PNGDATA", 7);
    /* parts are views into the body */
    assert_true(parts[1].data > (const unsigned char *)body &&
                parts[1].data < (const unsigned char *)body + strlen(body));
}

static void test_binary_data_and_empty_part(void **state)
{
    (void)state;
    /* data with NULs, CR, LF, "--" and the boundary text not after CRLF */
    static const char data[] = "\x89PNG\r\n\x1a\n\0\0--XyZ12\r\n-XyZ123 \r--XyZ123x";
    size_t dlen = sizeof data - 1;
    char body[512];
    size_t len = 0;
    len += (size_t)snprintf(body + len, sizeof body - len,
                            "--XyZ123\r\nContent-Disposition: form-data; name=\"f\"; "
                            "filename=\"b.bin\"\r\n\r\n");
    memcpy(body + len, data, dlen);
    len += dlen;
    len += (size_t)snprintf(body + len, sizeof body - len,
                            "\r\n--XyZ123\r\nContent-Disposition: form-data; name=\"empty\"\r\n"
                            "\r\n\r\n--XyZ123--");
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse(CT, body, len, parts, &n), CO_OK);
    assert_int_equal(n, 2);
    assert_part(&parts[0], "f", "b.bin", "", data, dlen);
    assert_part(&parts[1], "empty", "", "", "", 0);
}

static void test_boundary_forms(void **state)
{
    (void)state;
    const char *body = "--a b'c\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b'c--";
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse_s("multipart/form-data; boundary=\"a b'c\"", body, parts, &n), CO_OK);
    assert_int_equal(n, 1);
    assert_part(&parts[0], "x", "", "", "1", 1);
    /* boundary followed by more parameters; content type in upper case */
    const char *b2 = "--b2\r\nContent-Disposition: form-data; name=\"y\"\r\n\r\n22\r\n--b2--\r\n";
    assert_int_equal(parse_s("Multipart/Form-Data; boundary=b2; charset=utf-8", b2, parts, &n),
                     CO_OK);
    assert_part(&parts[0], "y", "", "", "22", 2);
    /* the longest boundary RFC 2046 allows: 70 characters */
    char bnd[71], ct[128], body3[256];
    memset(bnd, 'q', 70);
    bnd[70] = '\0';
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", bnd);
    snprintf(body3, sizeof body3,
             "--%s\r\nContent-Disposition: form-data; name=\"z\"\r\n\r\nzz\r\n--%s--", bnd, bnd);
    assert_int_equal(parse_s(ct, body3, parts, &n), CO_OK);
    assert_part(&parts[0], "z", "", "", "zz", 2);
    /* 71 characters is too long */
    char bnd71[72], ct71[128];
    memset(bnd71, 'q', 71);
    bnd71[71] = '\0';
    snprintf(ct71, sizeof ct71, "multipart/form-data; boundary=%s", bnd71);
    assert_int_equal(parse_s(ct71, body3, parts, &n), CO_EINVAL);
}

static void test_preamble_and_header_case(void **state)
{
    (void)state;
    const char *body = "This is a preamble.\r\n"
                       "--XyZ123\r\n"
                       "content-disposition: form-data; name=\"lower\"\r\n"
                       "CONTENT-TYPE:text/plain\r\n"
                       "X-Other: ignored\r\n"
                       "\r\n"
                       "v\r\n"
                       "--XyZ123--\r\nepilogue";
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse_s(CT, body, parts, &n), CO_OK);
    assert_int_equal(n, 1);
    assert_part(&parts[0], "lower", "", "text/plain", "v", 1);
}

/* RFC 7578 does not fix the order of the disposition parameters: a filename
 * given before the name must not be taken for the name. */
static void test_filename_before_name(void **state)
{
    (void)state;
    const char *body = "--XyZ123\r\n"
                       "Content-Disposition: form-data; filename=\"p.jpg\"; name=\"photo\"\r\n"
                       "\r\n"
                       "J\r\n"
                       "--XyZ123--";
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse_s(CT, body, parts, &n), CO_OK);
    assert_int_equal(n, 1);
    assert_part(&parts[0], "photo", "p.jpg", "", "J", 1);
    /* a part named "filename" */
    const char *b2 = "--XyZ123\r\nContent-Disposition: form-data; name=\"filename\"\r\n\r\nF\r\n"
                     "--XyZ123--";
    assert_int_equal(parse_s(CT, b2, parts, &n), CO_OK);
    assert_part(&parts[0], "filename", "", "", "F", 1);
}

static void test_long_names_are_cut(void **state)
{
    (void)state;
    char name[151], body[1024];
    memset(name, 'n', 150);
    name[150] = '\0';
    snprintf(body, sizeof body,
             "--XyZ123\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
             "Content-Type: %s\r\n\r\nd\r\n--XyZ123--",
             name, name, name);
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse_s(CT, body, parts, &n), CO_OK);
    assert_int_equal(strlen(parts[0].name), sizeof parts[0].name - 1);
    assert_int_equal(strlen(parts[0].filename), sizeof parts[0].filename - 1);
    assert_int_equal(strlen(parts[0].type), sizeof parts[0].type - 1);
}

static void test_part_limit(void **state)
{
    (void)state;
    char body[8192];
    size_t len = 0;
    for (int i = 0; i < CO_MULTIPART_MAX; i++)
        len += (size_t)snprintf(body + len, sizeof body - len,
                                "--XyZ123\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n",
                                i, i);
    char ok[8192 + 128];
    snprintf(ok, sizeof ok, "%s--XyZ123--", body);
    co_part parts[CO_MULTIPART_MAX];
    size_t n;
    assert_int_equal(parse_s(CT, ok, parts, &n), CO_OK);
    assert_int_equal(n, CO_MULTIPART_MAX);
    assert_string_equal(parts[15].name, "p15");
    /* one more part */
    snprintf(ok, sizeof ok,
             "%s--XyZ123\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n--XyZ123--", body);
    assert_int_equal(parse_s(CT, ok, parts, &n), CO_ETOOBIG);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *ct, *body;
    } bad[] = {
        {NULL, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ123--"},
        {"application/json", "{}"},
        {"multipart/form-data", "--XyZ123\r\n"},                 /* no boundary parameter */
        {"multipart/form-data; boundary=", "--\r\n"},          /* empty boundary */
        {"multipart/form-data; boundary=\"\"", "--\r\n"},
        {"multipart/mixed; boundary=XyZ123",
         "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ123--"},
        {CT, ""},                                                /* empty body */
        {CT, "no boundary at all"},
        {CT, "--XyZ123--"},                                      /* no part */
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1"}, /* unterminated */
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n"},      /* no blank line */
        {CT, "--XyZ123\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ123--"}, /* no name */
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n--XyZ123--"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--XyZ123--"},
        {CT, "--XyZ123 junk\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ123--"},
        {CT, "--XyZ123\nContent-Disposition: form-data; name=\"a\"\n\n1\n--XyZ123--"}, /* bare LF */
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ123"},
        {CT, "--XyZ123\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ123\r\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co_part parts[CO_MULTIPART_MAX];
        size_t n = 99;
        co_err rc = parse_s(bad[i].ct, bad[i].body, parts, &n);
        if (rc != CO_EINVAL)
            fail_msg("#%zu accepted (%s): %s", i, co_err_str(rc), bad[i].body);
    }
}

/* Every prefix of a valid body either parses to a subset or is refused; no
 * read past the end (run under ASan with make SANITIZE=1). */
static void test_every_truncation(void **state)
{
    (void)state;
    const char *body = "--XyZ123\r\n"
                       "Content-Disposition: form-data; name=\"case\"\r\n"
                       "Content-Type: application/json\r\n"
                       "\r\n"
                       "{}\r\n"
                       "--XyZ123\r\n"
                       "Content-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n"
                       "\r\n"
                       "PNG\r\n"
                       "--XyZ123--";
    size_t len = strlen(body);
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
        memcpy(copy, body, cut);
        co_part parts[CO_MULTIPART_MAX];
        size_t n;
        co_err rc = parse(CT, copy, cut, parts, &n);
        /* only the whole body is complete */
        if (rc == CO_OK)
            fail_msg("truncated at %zu accepted", cut);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_parts),
        cmocka_unit_test(test_binary_data_and_empty_part),
        cmocka_unit_test(test_boundary_forms),
        cmocka_unit_test(test_preamble_and_header_case),
        cmocka_unit_test(test_filename_before_name),
        cmocka_unit_test(test_long_names_are_cut),
        cmocka_unit_test(test_part_limit),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
