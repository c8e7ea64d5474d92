/* apikey.c — `cityops apikey` manages Open311 clients in a data directory:
 *   apikey add NAME --data DIR [--rate N] [--burst N]   prints the new key (once)
 *   apikey list --data DIR                               clients, never their keys
 *   apikey revoke ID --data DIR
 *   apikey config --data DIR [--jurisdiction ID] [--rate N] [--burst N]
 *                 [--contact TEXT] [--base-url URL]      Open311 settings
 * Works on the store directly (a running server sees new keys at once and
 * CLI revocations within CO_APIKEYS_RECHECK_S seconds). Every change goes
 * to the audit log as actor "cli". */
#include <stdio.h>
#include <string.h>

#include "api/apikeys.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "store/store.h"


/* The first argument after the action that is not an option or its value. */
static const char *positional(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            i++; /* skip the option's value */
            continue;
        }
        return argv[i];
    }
    return NULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: cityops apikey add NAME --data DIR [--rate N] [--burst N]\n"
            "       cityops apikey list --data DIR\n"
            "       cityops apikey revoke ID --data DIR\n"
            "       cityops apikey config --data DIR [--jurisdiction ID] [--rate N] [--burst N]\n"
            "                             [--contact TEXT] [--base-url URL]\n");
}

static int print_key(void *ctx, const co_apikey_rec *k)
{
    (void)ctx;
    char created[CO_TIME_ISO_MAX];
    co_time_format(k->created, created);
    printf("%lld\t%s\t%s\t%s\trate=%g\tburst=%d%s\n", (long long)k->id, k->name, k->prefix,
           created, k->rate, k->burst, k->revoked ? "\t(revoked)" : "");
    return 0;
}

static int add(int argc, char **argv, co_store *st, co_apikeys *k)
{
    const char *name = positional(argc, argv), *rs = co_args_opt(argc, argv, "--rate"),
               *bs = co_args_opt(argc, argv, "--burst");
    double rate = 0;
    int64_t burst = 0, id = 0;
    if (!name || (rs && co_parse_double(rs, 0, 100000, &rate)) ||
        (bs && co_parse_i64(bs, 0, 1000000, &burst))) {
        usage();
        return 2;
    }
    char key[CO_APIKEY_MAX];
    co_err rc = co_apikeys_create(k, name, NULL, rate, (int)burst, "cli", &id, key);
    if (rc == CO_EEXIST) {
        fprintf(stderr, "cityops apikey: 已有名为 %s 的客户端 / a client named %s exists\n", name,
                name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "cityops apikey: %s\n",
                rc == CO_EINVAL ? "名称无效（1–63 字节）/ invalid name (1–63 bytes)"
                                : co_err_str(rc));
        return 1;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "id=%lld name=%s", (long long)id, name);
    if (co_store_audit(st, "cli", "apikey_create", detail))
        fprintf(stderr, "cityops apikey: warning: audit write failed\n");
    printf("%s\n", key);
    fprintf(stderr, "client %s (id %lld): the key above is shown only once — store it now\n",
            name, (long long)id);
    return 0;
}

static int revoke(int argc, char **argv, co_store *st, co_apikeys *k)
{
    const char *ids = positional(argc, argv);
    int64_t id;
    if (!ids || co_parse_i64(ids, 1, INT64_MAX, &id)) {
        usage();
        return 2;
    }
    co_err rc = co_apikeys_revoke(k, id);
    if (rc) {
        fprintf(stderr, "cityops apikey: %s\n",
                rc == CO_ENOTFOUND ? "没有这个密钥 / no such key" : co_err_str(rc));
        return 1;
    }
    char detail[32];
    snprintf(detail, sizeof detail, "id=%lld", (long long)id);
    if (co_store_audit(st, "cli", "apikey_revoke", detail))
        fprintf(stderr, "cityops apikey: warning: audit write failed\n");
    printf("revoked %lld\n", (long long)id);
    return 0;
}

static int config(int argc, char **argv, co_store *st, co_apikeys *k)
{
    static const struct {
        const char *opt, *key;
    } map[] = {{"--jurisdiction", "open311_jurisdiction"}, {"--rate", "open311_rate"},
               {"--burst", "open311_burst"},               {"--contact", "open311_contact"},
               {"--base-url", "open311_base_url"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = co_args_opt(argc, argv, map[i].opt);
        if (!v)
            continue;
        if (co_apikeys_set(k, map[i].key, v)) {
            fprintf(stderr, "cityops apikey: %s 的值无效 / bad value for %s\n", map[i].opt,
                    map[i].opt);
            return 1;
        }
        char detail[300];
        snprintf(detail, sizeof detail, "%s=%s", map[i].key, v);
        if (co_store_audit(st, "cli", "open311_config", detail))
            fprintf(stderr, "cityops apikey: warning: audit write failed\n");
    }
    co_open311_settings s;
    co_apikeys_settings(k, &s);
    printf("jurisdiction_id\t%s\nrate\t%g\nburst\t%g\ncontact\t%s\nbase_url\t%s\n",
           s.jurisdiction, s.rate.per_sec, s.rate.burst, s.contact,
           s.base_url[0] ? s.base_url : "(from the Host header)");
    return 0;
}

int co_cli_apikey(int argc, char **argv)
{
    const char *dir = co_args_opt(argc, argv, "--data");
    if (argc < 2 || !dir) {
        usage();
        return 2;
    }
    co_store *st = NULL;
    co_apikeys *k = NULL;
    if (co_store_open(dir, &st) || co_apikeys_open(st, &k)) {
        fprintf(stderr, "cityops: cannot open %s\n", dir);
        co_store_close(st);
        return 1;
    }
    int rc = 2;
    if (!strcmp(argv[1], "add"))
        rc = add(argc, argv, st, k);
    else if (!strcmp(argv[1], "list"))
        rc = co_store_apikeys_each(st, print_key, NULL) ? 1 : 0;
    else if (!strcmp(argv[1], "revoke"))
        rc = revoke(argc, argv, st, k);
    else if (!strcmp(argv[1], "config"))
        rc = config(argc, argv, st, k);
    else {
        fprintf(stderr, "cityops apikey: unknown action '%s'\n", argv[1]);
        usage();
    }
    co_apikeys_free(k);
    co_store_close(st);
    return rc;
}
