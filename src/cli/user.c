/* user.c — `cityops user add --data DIR --username U --role R [--password P]
 * [--name N] [--dept D] [--scope CODE]` and `cityops user list --data DIR`. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "domain/password.h"
#include "domain/role.h"
#include "store/store.h"


static int print_user(void *ctx, const co_user *u)
{
    (void)ctx;
    printf("%lld\t%s\t%s\t%s\t%s\t%s%s\n", (long long)u->id, u->username, u->role,
           u->display_name, u->dept, u->scope, u->disabled ? "\t(disabled)" : "");
    return 0;
}

static int add(int argc, char **argv, co_store *st)
{
    const char *username = co_args_opt(argc, argv, "--username");
    const char *role = co_args_opt(argc, argv, "--role");
    const char *password = co_args_opt(argc, argv, "--password");
    co_role r;
    if (!username || !role || co_role_parse(role, &r) || !password) {
        fprintf(stderr, "usage: cityops user add --data DIR --username U --role "
                        "admin|operator|inspector|shiftlead|dispatcher|handler|leader --password P\n");
        return 2;
    }
    char hash[CO_PASSWORD_HASH_MAX];
    if (co_password_hash(password, hash)) {
        fprintf(stderr, "cityops: password must be %d–%d characters\n", CO_PASSWORD_MIN,
                CO_PASSWORD_MAX);
        return 1;
    }
    const char *name = co_args_opt(argc, argv, "--name");
    co_user_rec u = {.username = username, .display_name = name ? name : username,
                     .password_hash = hash, .role = role,
                     .dept = co_args_opt(argc, argv, "--dept"), .scope = co_args_opt(argc, argv, "--scope")};
    int64_t id;
    if (co_store_user_put(st, &u, &id) || co_store_audit(st, "cli", "user_put", username))
        return 1;
    printf("user %s (%s) id %lld\n", username, role, (long long)id);
    return 0;
}

int co_cli_user(int argc, char **argv)
{
    const char *dir = co_args_opt(argc, argv, "--data");
    if (argc < 2 || !dir) {
        fprintf(stderr, "usage: cityops user add|list --data DIR ...\n");
        return 2;
    }
    co_store *st = NULL;
    if (co_store_open(dir, &st)) {
        fprintf(stderr, "cityops: cannot open %s\n", dir);
        return 1;
    }
    int rc = 2;
    if (!strcmp(argv[1], "add"))
        rc = add(argc, argv, st);
    else if (!strcmp(argv[1], "list"))
        rc = co_store_users_each(st, print_user, NULL) ? 1 : 0;
    else
        fprintf(stderr, "cityops user: unknown action '%s'\n", argv[1]);
    co_store_close(st);
    return rc;
}
