/* cpustat.c — CPU time by kind from /proc/stat (see cpustat.h). */
#include "cli/cpustat.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

co_cpustat co_cpustat_parse(const char *text)
{
    co_cpustat s;
    memset(&s, 0, sizeof s);
    if (!text || strncmp(text, "cpu ", 4) != 0)
        return s;
    int n = sscanf(text + 4,
                   "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                   " %" SCNu64 " %" SCNu64,
                   &s.user, &s.nice, &s.system, &s.idle, &s.iowait, &s.irq, &s.softirq,
                   &s.steal);
    s.ok = n == 8; /* every kernel since 2.6.11 has steal */
    return s;
}

co_cpustat co_cpustat_now(void)
{
    char line[512] = "";
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    return co_cpustat_parse(line);
}

static uint64_t total(const co_cpustat *s)
{
    return s->user + s->nice + s->system + s->idle + s->iowait + s->irq + s->softirq + s->steal;
}

int co_cpustat_share(const co_cpustat *a, const co_cpustat *b, co_cpushare *out)
{
    if (!a->ok || !b->ok || total(b) <= total(a))
        return -1;
    double t = (double)(total(b) - total(a));
    double idle = (double)(b->idle - a->idle), io = (double)(b->iowait - a->iowait);
    double steal = (double)(b->steal - a->steal);
    out->idle = idle / t * 100;
    out->iowait = io / t * 100;
    out->steal = steal / t * 100;
    out->busy = 100 - out->idle - out->iowait - out->steal;
    return 0;
}
