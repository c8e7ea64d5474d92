/* args.c — command line option helpers (see args.h). */
#include <string.h>

#include "cli/args.h"

const char *co_args_opt(int argc, char **argv, const char *name)
{
    const char *v = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            v = argv[++i];
    return v;
}

int co_args_flag(int argc, char **argv, const char *name)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

const char *co_args_positional(int argc, char **argv, int k)
{
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            i++; /* and its value */
            continue;
        }
        if (k-- == 0)
            return argv[i];
    }
    return NULL;
}
