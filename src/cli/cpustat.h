/* cpustat.h — the machine's CPU time by kind, from /proc/stat, for the
 * benchmarks to print next to their figures: on a shared virtual machine the
 * time the hypervisor gave to others ("steal") moves a rate as much as any
 * change of ours. A snapshot is a plain value (nothing to free). */
#ifndef CO_CLI_CPUSTAT_H
#define CO_CLI_CPUSTAT_H

#include <stdint.h>

/* The aggregate "cpu" line's fields, in clock ticks. */
typedef struct co_cpustat {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    int ok; /* 0 when /proc/stat could not be read or parsed */
} co_cpustat;

/* Shares of all CPU time between two snapshots, in per cent. */
typedef struct co_cpushare {
    double busy, idle, iowait, steal;
} co_cpushare;

co_cpustat co_cpustat_now(void);
/* Parses the text of /proc/stat (its first line is the aggregate). */
co_cpustat co_cpustat_parse(const char *text);
/* 0 and the shares, or -1 when either snapshot is missing or no time passed. */
int co_cpustat_share(const co_cpustat *a, const co_cpustat *b, co_cpushare *out);

#endif
