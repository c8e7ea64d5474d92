/* bench.c — `cityops bench geocode|intake|stats`: dispatch from a table. */
#include <stdio.h>
#include <string.h>

#include "cli/bench.h"
#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} benches[] = {
    {"geocode", co_bench_geocode, "geocode --data DIR [--points N] [--seed S]"},
    {"intake", co_bench_intake,
     "intake --data DIR [--clients K] [--count N] [--threads T]   (starts its own server)"},
    {"stats", co_bench_stats, "stats [--cases N] [--seed S] [--data DIR] [--dump-csv DIR]"},
    {"classify", co_bench_classify, "classify --eval FILE [--model PATH | --train DIR] (--help)"},
    {"dedup", co_bench_dedup, "dedup [--cases N] [--days D] [--dup-share F] [--spots S] [--seed S] | --data DIR"},
};

int co_cli_bench(int argc, char **argv)
{
    for (size_t i = 0; argc >= 2 && i < sizeof benches / sizeof benches[0]; i++)
        if (!strcmp(argv[1], benches[i].name))
            return benches[i].run(argc - 1, argv + 1);
    fprintf(stderr, "usage: cityops bench NAME [options]\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(stderr, "  cityops bench %s\n", benches[i].help);
    return 2;
}
