/* user.c — `cityops user` manages staff accounts in a city's store:
 *   user add (--data DIR | --store URL) --username U --role ROLE --password P
 *            [--name NAME] [--dept DEPT] [--scope AREA]   creates the account
 *                                                         (or replaces U's)
 *   user list (--data DIR | --store URL)                  id, username, role,
 *                                                         name, dept, scope
 * --store URL is postgres://… or sqlite:DIR (store_arg.h); options may also
 * come from --config FILE. The arguments are checked before the store is
 * opened, so bad input changes nothing. Works on the store directly: a
 * running server sees a new account at its next login. Every change goes to
 * the audit log as actor "cli". Exit 0 ok, 1 failure, 2 bad input.
 * Nothing allocated here outlives the call. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/store_arg.h"
#include "domain/password.h"
#include "domain/role.h"
#include "store/store.h"

#define CMD "cityops user"
#define ROLES "admin|operator|inspector|shiftlead|dispatcher|handler|leader"

static int usage(void)
{
    fprintf(stderr,
            "usage: cityops user add (--data DIR | --store URL) --username U --role ROLE "
            "--password P\n"
            "                        [--name NAME] [--dept DEPT] [--scope AREA]\n"
            "       cityops user list (--data DIR | --store URL)\n"
            "  ROLE: " ROLES "\n"
            "  --store: postgres://… (PostgreSQL + PostGIS) or sqlite:DIR; --config FILE adds "
            "options\n");
    return 2;
}

static int print_user(void *ctx, const co_user *u)
{
    (void)ctx;
    printf("%lld\t%s\t%s\t%s\t%s\t%s%s\n", (long long)u->id, u->username, u->role,
           u->display_name, u->dept, u->scope, u->disabled ? "\t(disabled)" : "");
    return 0;
}

/* 0 when the option is given and fits the store's field of size max; else
 * prints why and returns 2. */
static int text_arg(const char *opt, const char *v, size_t max)
{
    if (!v || !*v) {
        fprintf(stderr, CMD " add: 缺少 %s / %s is required\n", opt, opt);
        return 2;
    }
    if (strlen(v) >= max) {
        fprintf(stderr, CMD " add: %s 太长（最多 %zu 字节）/ %s is too long (at most %zu bytes)\n",
                opt, max - 1, opt, max - 1);
        return 2;
    }
    return 0;
}

#define FIELD_MAX(f) sizeof(((co_user *)0)->f)

/* Reads and checks add's options into u, hashing the password into hash.
 * 0, or 2 after saying what is wrong. */
static int add_args(int argc, char **argv, co_user_rec *u, char *hash)
{
    const char *role = co_args_opt(argc, argv, "--role");
    const char *password = co_args_opt(argc, argv, "--password");
    const char *name = co_args_opt(argc, argv, "--name");
    u->username = co_args_opt(argc, argv, "--username");
    u->display_name = name ? name : u->username;
    u->dept = co_args_opt(argc, argv, "--dept");
    u->scope = co_args_opt(argc, argv, "--scope");
    co_role r;
    if (text_arg("--username", u->username, FIELD_MAX(username)) ||
        text_arg("--name", u->display_name, FIELD_MAX(display_name)) ||
        (u->dept && text_arg("--dept", u->dept, FIELD_MAX(dept))) ||
        (u->scope && text_arg("--scope", u->scope, FIELD_MAX(scope))) ||
        text_arg("--role", role, FIELD_MAX(role)) || text_arg("--password", password, 1024))
        return 2;
    if (co_role_parse(role, &r)) {
        fprintf(stderr, CMD " add: 未知角色 '%s'（可选 %s）/ unknown role '%s' (one of %s)\n", role,
                ROLES, role, ROLES);
        return 2;
    }
    u->role = co_role_name(r);
    if (co_password_hash(password, hash)) {
        fprintf(stderr, CMD " add: 密码须为 %d–%d 个字符 / the password must be %d–%d characters\n",
                CO_PASSWORD_MIN, CO_PASSWORD_MAX, CO_PASSWORD_MIN, CO_PASSWORD_MAX);
        return 2;
    }
    u->password_hash = hash;
    return 0;
}

static int add(const co_user_rec *u, co_store *st)
{
    int64_t id;
    co_err rc = co_store_user_put(st, u, &id);
    if (!rc)
        rc = co_store_audit(st, "cli", "user_put", u->username);
    if (rc) {
        fprintf(stderr, CMD " add: 写入失败 / cannot write the account: %s\n", co_err_str(rc));
        return 1;
    }
    printf("user %s (%s) id %lld\n", u->username, u->role, (long long)id);
    return 0;
}

int co_cli_user(int argc, char **argv)
{
    const char *action = co_args_positional(argc, argv, 0);
    int is_add = action && !strcmp(action, "add");
    if (!action || (!is_add && strcmp(action, "list"))) {
        if (action)
            fprintf(stderr, CMD ": 未知操作 / unknown action '%s'\n", action);
        return usage();
    }
    const char *where = co_cli_store_where(CMD, argc, argv);
    if (!where)
        return usage();
    co_user_rec u = {0};
    char hash[CO_PASSWORD_HASH_MAX];
    if (is_add && add_args(argc, argv, &u, hash))
        return usage();
    co_store *st = NULL;
    if (co_cli_store_open(CMD, where, &st))
        return 1;
    int rc = is_add ? add(&u, st) : co_store_users_each(st, print_user, NULL) ? 1 : 0;
    co_store_close(st);
    return rc;
}
