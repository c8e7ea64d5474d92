/* version.c — `cityops version`. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/version.h"

int co_cli_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("cityops %s\n", CO_VERSION);
    return 0;
}
