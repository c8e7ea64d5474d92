/* config_file.c — expands `--config FILE` into options (see config_file.h). */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "cli/config_file.h"
#include "lib/alloc.h"

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int key_ok(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!islower((unsigned char)*k) && !isdigit((unsigned char)*k) && *k != '-')
            return 0;
    return 1;
}

/* Appends "--key" (and the value) for one line; 0 for a skipped line. */
static co_err add_line(char *line, char **out, int *n, const char *path, int lineno, FILE *err)
{
    char *s = trim(line);
    if (!*s || *s == '#')
        return CO_OK;
    char *eq = strchr(s, '=');
    char *val = NULL;
    if (eq) {
        *eq = '\0';
        val = trim(eq + 1);
    }
    char *key = trim(s);
    if (!key_ok(key) || !strcmp(key, "config")) {
        fprintf(err, "%s:%d: 选项名无效 / not an option name: '%s'\n", path, lineno, key);
        return CO_EINVAL;
    }
    size_t kn = strlen(key);
    char *opt = co_xmalloc(kn + 3);
    memcpy(opt, "--", 2);
    memcpy(opt + 2, key, kn + 1);
    out[(*n)++] = opt;
    if (val && *val)
        out[(*n)++] = co_xstrdup(val);
    return CO_OK;
}

static co_err read_file(const char *path, char **out, int *n, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "无法读取配置文件 / cannot read the config file %s\n", path);
        return CO_EIO;
    }
    char line[CO_CONFIG_MAX_LINE];
    co_err rc = CO_OK;
    int lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(err, "%s:%d: 行太长 / line longer than %d bytes\n", path, lineno,
                    CO_CONFIG_MAX_LINE - 2);
            rc = CO_ETOOBIG;
        } else if (lineno > CO_CONFIG_MAX_LINES) {
            fprintf(err, "%s: 超过 %d 行 / more than %d lines\n", path, CO_CONFIG_MAX_LINES,
                    CO_CONFIG_MAX_LINES);
            rc = CO_ETOOBIG;
        } else
            rc = add_line(line, out, n, path, lineno, err);
    }
    fclose(f);
    return rc;
}

co_err co_config_expand(int argc, char **argv, int *argc_out, char ***argv_out, FILE *err)
{
    *argc_out = argc;
    *argv_out = argv;
    int at = -1;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                fprintf(err, "--config 需要文件名 / --config needs a file\n");
                return CO_EINVAL;
            }
            at = i;
            break;
        }
    if (at < 0)
        return CO_OK;
    /* every line gives at most two arguments */
    char **out = co_xcalloc((size_t)argc + 2 * CO_CONFIG_MAX_LINES + 2, sizeof *out);
    int n = 0;
    out[n++] = argv[0];
    co_err rc = read_file(argv[at + 1], out, &n, err);
    if (rc) {
        for (int i = 1; i < n; i++)
            co_free(out[i]);
        co_free(out);
        return rc;
    }
    int from_file = n;
    for (int i = 1; i < argc; i++)
        if (i != at && i != at + 1)
            out[n++] = argv[i];
    out[n] = NULL;
    /* the slot after the terminating NULL remembers how many strings are ours */
    out[n + 1] = (char *)(intptr_t)from_file;
    *argc_out = n;
    *argv_out = out;
    return CO_OK;
}

void co_config_free(char **expanded, char **orig)
{
    if (!expanded || expanded == orig)
        return;
    int n = 0;
    while (expanded[n])
        n++;
    int from_file = (int)(intptr_t)expanded[n + 1];
    for (int i = 1; i < from_file; i++)
        co_free(expanded[i]);
    co_free(expanded);
}
