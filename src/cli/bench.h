/* bench.h — benchmarks run as `cityops bench NAME [options]`. Each prints
 * its figures (and, where the benchmark compares, the ratio) on stdout and
 * returns an exit code. */
#ifndef CO_CLI_BENCH_H
#define CO_CLI_BENCH_H

int co_bench_geocode(int argc, char **argv);
int co_bench_intake(int argc, char **argv);
int co_bench_stats(int argc, char **argv);
int co_bench_classify(int argc, char **argv);
int co_bench_dedup(int argc, char **argv);

#endif
