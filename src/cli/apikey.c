/* apikey.c — `cityops apikey` manages Open311 clients in a city's store
 * (STORE is --data DIR or --store URL, postgres://… or sqlite:DIR):
 *   apikey add NAME STORE [--rate N] [--burst N]   prints the new key (once)
 *   apikey list STORE                               clients, never their keys
 *   apikey revoke ID STORE
 *   apikey config STORE [--jurisdiction ID] [--rate N] [--burst N]
 *                 [--contact TEXT] [--base-url URL]  Open311 settings
 * Options may also come from --config FILE (store_arg.h). Works on the store
 * directly (a running server sees new keys at once and CLI revocations
 * within CO_APIKEYS_RECHECK_S seconds). Every change goes to the audit log
 * as actor "cli". Exit 0 ok, 1 failure, 2 bad input (the store is then not
 * opened). Nothing allocated here outlives the call. */
#include <stdio.h>
#include <string.h>

#include "api/apikeys.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/store_arg.h"
#include "domain/apikey.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "store/store.h"


static void usage(void)
{
    fprintf(stderr,
            "usage: cityops apikey add NAME STORE [--rate N] [--burst N]\n"
            "       cityops apikey list STORE\n"
            "       cityops apikey revoke ID STORE\n"
            "       cityops apikey config STORE [--jurisdiction ID] [--rate N] [--burst N]\n"
            "                             [--contact TEXT] [--base-url URL]\n"
            "  STORE: --data DIR | --store URL (postgres://… or sqlite:DIR); --config FILE adds "
            "options\n");
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

/* What add and revoke read from the command line. */
typedef struct key_args {
    const char *name;   /* add: the client's name */
    double rate;        /* add: requests per second, 0 = the Open311 default */
    int64_t burst;
    int64_t id;         /* revoke */
} key_args;

/* Reads and checks the arguments of action into a before the store is
 * opened: 0, or 2 after saying what is wrong. */
static int check_args(const char *action, int argc, char **argv, key_args *a)
{
    const char *arg = co_args_positional(argc, argv, 1);
    const char *rs = co_args_opt(argc, argv, "--rate"), *bs = co_args_opt(argc, argv, "--burst");
    if (!strcmp(action, "revoke") && (!arg || co_parse_i64(arg, 1, INT64_MAX, &a->id))) {
        fprintf(stderr, "cityops apikey revoke: 需要密钥 ID / needs a key ID\n");
        return 2;
    }
    if (strcmp(action, "add"))
        return 0;
    if (!arg || !co_apikey_name_valid(arg)) {
        fprintf(stderr, "cityops apikey add: 名称无效（1–63 字节）/ invalid name (1–63 bytes)\n");
        return 2;
    }
    if ((rs && co_parse_double(rs, 0, 100000, &a->rate)) ||
        (bs && co_parse_i64(bs, 0, 1000000, &a->burst))) {
        fprintf(stderr, "cityops apikey add: --rate 或 --burst 无效 / bad --rate or --burst\n");
        return 2;
    }
    a->name = arg;
    return 0;
}

static int add(const key_args *a, co_store *st, co_apikeys *k)
{
    int64_t id = 0;
    char key[CO_APIKEY_MAX];
    co_err rc = co_apikeys_create(k, a->name, NULL, a->rate, (int)a->burst, "cli", &id, key);
    if (rc == CO_EEXIST) {
        fprintf(stderr, "cityops apikey: 已有名为 %s 的客户端 / a client named %s exists\n",
                a->name, a->name);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "cityops apikey: %s\n",
                rc == CO_EINVAL ? "名称无效（1–63 字节）/ invalid name (1–63 bytes)"
                                : co_err_str(rc));
        return 1;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "id=%lld name=%s", (long long)id, a->name);
    if (co_store_audit(st, "cli", "apikey_create", detail))
        fprintf(stderr, "cityops apikey: warning: audit write failed\n");
    printf("%s\n", key);
    fprintf(stderr, "client %s (id %lld): the key above is shown only once — store it now\n",
            a->name, (long long)id);
    return 0;
}

static int revoke(const key_args *a, co_store *st, co_apikeys *k)
{
    co_err rc = co_apikeys_revoke(k, a->id);
    if (rc) {
        fprintf(stderr, "cityops apikey: %s\n",
                rc == CO_ENOTFOUND ? "没有这个密钥 / no such key" : co_err_str(rc));
        return 1;
    }
    char detail[32];
    snprintf(detail, sizeof detail, "id=%lld", (long long)a->id);
    if (co_store_audit(st, "cli", "apikey_revoke", detail))
        fprintf(stderr, "cityops apikey: warning: audit write failed\n");
    printf("revoked %lld\n", (long long)a->id);
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
    static const char *const actions[] = {"add", "list", "revoke", "config"};
    const char *action = co_args_positional(argc, argv, 0);
    size_t n = sizeof actions / sizeof actions[0], i = 0;
    while (action && i < n && strcmp(action, actions[i]))
        i++;
    if (!action || i == n) {
        if (action)
            fprintf(stderr, "cityops apikey: 未知操作 / unknown action '%s'\n", action);
        usage();
        return 2;
    }
    key_args a = {0};
    const char *where = co_cli_store_where("cityops apikey", argc, argv);
    if (!where || check_args(action, argc, argv, &a)) {
        usage();
        return 2;
    }
    co_store *st = NULL;
    co_apikeys *k = NULL;
    if (co_cli_store_open("cityops apikey", where, &st))
        return 1;
    co_err orc = co_apikeys_open(st, &k);
    if (orc) {
        fprintf(stderr, "cityops apikey: 无法读取密钥 / cannot load the keys: %s\n",
                co_err_str(orc));
        co_store_close(st);
        return 1;
    }
    int rc;
    if (!strcmp(action, "add"))
        rc = add(&a, st, k);
    else if (!strcmp(action, "list"))
        rc = co_store_apikeys_each(st, print_key, NULL) ? 1 : 0;
    else if (!strcmp(action, "revoke"))
        rc = revoke(&a, st, k);
    else
        rc = config(argc, argv, st, k);
    co_apikeys_free(k);
    co_store_close(st);
    return rc;
}
