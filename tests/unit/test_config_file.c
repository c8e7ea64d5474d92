/* test_config_file.c — `--config FILE`: options from the file come first,
 * the command line's after them (so they win); comments, blanks, flags and
 * every kind of bad file are handled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config_file.h"

static char path[64];

static void write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/co_conf_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static co_err expand(int argc, char **argv, int *n, char ***out)
{
    FILE *err = fopen("/dev/null", "w");
    co_err rc = co_config_expand(argc, argv, n, out, err);
    fclose(err);
    return rc;
}

static void test_expands_before_command_line(void **state)
{
    (void)state;
    write_conf("# a city\n\ndata = /var/lib/cityops\n  listen=127.0.0.1:8080  \nno-serve\n");
    char *argv[] = {"serve", "--listen", "0.0.0.0:9000", "--config", path, "--threads", "2", NULL};
    int n;
    char **out;
    assert_int_equal(expand(7, argv, &n, &out), CO_OK);
    const char *want[] = {"serve", "--data", "/var/lib/cityops", "--listen", "127.0.0.1:8080",
                          "--no-serve", "--listen", "0.0.0.0:9000", "--threads", "2"};
    assert_int_equal(n, 10);
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i], want[i]);
    assert_null(out[n]);
    co_config_free(out, argv);
    unlink(path);
}

static void test_without_config_is_unchanged(void **state)
{
    (void)state;
    char *argv[] = {"serve", "--data", "x", NULL};
    int n;
    char **out;
    assert_int_equal(expand(3, argv, &n, &out), CO_OK);
    assert_int_equal(n, 3);
    assert_ptr_equal(out, argv);
    co_config_free(out, argv); /* nothing to free */
}

static void test_bad_files(void **state)
{
    (void)state;
    int n;
    char **out;
    char *missing[] = {"serve", "--config", NULL};
    assert_int_equal(expand(2, missing, &n, &out), CO_EINVAL);
    char *nofile[] = {"serve", "--config", "/nonexistent/cityops.conf", NULL};
    assert_int_equal(expand(3, nofile, &n, &out), CO_EIO);
    static const char *const bad[] = {"Data = x\n", "= x\n", "my key = 1\n", "config = other\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_conf(bad[i]);
        char *argv[] = {"serve", "--config", path, NULL};
        assert_int_equal(expand(3, argv, &n, &out), CO_EINVAL);
        unlink(path);
    }
    char *big = malloc(CO_CONFIG_MAX_LINE + 100);
    memset(big, 'a', CO_CONFIG_MAX_LINE + 50);
    strcpy(big + CO_CONFIG_MAX_LINE + 50, "\n");
    write_conf(big);
    free(big);
    char *argv[] = {"serve", "--config", path, NULL};
    assert_int_equal(expand(3, argv, &n, &out), CO_ETOOBIG);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expands_before_command_line),
        cmocka_unit_test(test_without_config_is_unchanged),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
