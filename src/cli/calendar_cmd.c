/* calendar_cmd.c — `cityops calendar due|worked|days`: the working-time
 * calendar from the shell, with the built-in holidays and optional --hours.
 * Options are read into a struct of borrowed argv pointers (nothing owned);
 * the one co_calendar is created per run and freed on the single exit path.
 * Exit codes follow cli.h: 0 ok, 1 failure, 2 usage error (message on stderr). */
#include <stdio.h>
#include <string.h>

#include "calendar/calendar.h"
#include "cli/cli.h"
#include "lib/alloc.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"

#define MAX_SUSPEND 64

typedef struct opts {
    const char *from, *to, *limit, *hours, *year;
    const char *suspend[MAX_SUSPEND];
    size_t n_suspend;
} opts;

typedef struct args {
    int64_t from, to, year;
    co_calendar_limit limit;
    co_calendar_interval susp[MAX_SUSPEND];
    size_t n_susp;
} args;

static void usage(FILE *f)
{
    fputs("usage: cityops calendar due --from ISO8601 --limit N(wd|wh|wm) [--hours SPANS]\n"
          "                             [--suspend START/END ...]\n"
          "       cityops calendar worked --from ISO8601 --to ISO8601 [--limit L] [--hours SPANS]\n"
          "                             [--suspend START/END ...]\n"
          "       cityops calendar days --year YYYY\n"
          "SPANS like " CO_CALENDAR_DEFAULT_HOURS " (the default); times are +08:00 unless given.\n",
          f);
}

static int usage_error(const char *what, const char *value)
{
    fprintf(stderr, "cityops calendar: %s%s%s\n", what, value ? ": " : "", value ? value : "");
    usage(stderr);
    return 2;
}

/* Stores one "--name value" pair; returns 0, or 2 after a usage message. */
static int take_option(opts *o, const char *name, const char *value)
{
    const struct { const char *name; const char **slot; } tab[] = {
        {"--from", &o->from}, {"--to", &o->to}, {"--limit", &o->limit},
        {"--hours", &o->hours}, {"--year", &o->year},
    };
    if (!value)
        return usage_error("missing value for", name);
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].name)) {
            *tab[i].slot = value;
            return 0;
        }
    if (strcmp(name, "--suspend") != 0)
        return usage_error("unknown option", name);
    if (o->n_suspend == MAX_SUSPEND)
        return usage_error("too many --suspend options", NULL);
    o->suspend[o->n_suspend++] = value;
    return 0;
}

static int read_opts(int argc, char **argv, opts *o)
{
    for (int i = 2; i < argc; i += 2) {
        int rc = take_option(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_time(const char *name, const char *s, int64_t *out)
{
    if (!s)
        return usage_error("missing", name);
    if (co_time_parse(s, out) != CO_OK)
        return usage_error("bad time (want ISO 8601)", s);
    return 0;
}

/* "START/END" -> interval. */
static int parse_suspend(const char *s, co_calendar_interval *iv)
{
    char start[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof start)
        return usage_error("bad --suspend (want START/END)", s);
    memcpy(start, s, (size_t)(slash - s));
    start[slash - s] = '\0';
    if (co_time_parse(start, &iv->start) != CO_OK || co_time_parse(slash + 1, &iv->end) != CO_OK ||
        iv->end < iv->start)
        return usage_error("bad --suspend (want START/END)", s);
    return 0;
}

static int apply_hours(co_calendar *cal, const char *spans)
{
    co_calendar_hours h;
    if (!spans)
        return 0;
    if (co_calendar_hours_parse(spans, &h) != CO_OK || co_calendar_set_hours(cal, &h) != CO_OK)
        return usage_error("bad --hours (want e.g. " CO_CALENDAR_DEFAULT_HOURS ")", spans);
    return 0;
}

/* Checks and converts the options every subcommand may use. */
static int parse_common(const opts *o, co_calendar *cal, args *a)
{
    int rc = apply_hours(cal, o->hours);
    if (!rc && o->limit && co_calendar_limit_parse(o->limit, &a->limit) != CO_OK)
        rc = usage_error("bad --limit (want e.g. 3wd, 4wh, 30wm)", o->limit);
    for (size_t i = 0; !rc && i < o->n_suspend; i++)
        rc = parse_suspend(o->suspend[i], &a->susp[a->n_susp++]);
    return rc;
}

static int fail(co_err rc)
{
    fprintf(stderr, "cityops calendar: %s\n", co_err_str(rc));
    return 1;
}

static int run_due(const opts *o, co_calendar *cal, args *a)
{
    char iso[CO_TIME_ISO_MAX];
    int64_t due;
    int rc = parse_time("--from", o->from, &a->from);
    if (rc)
        return rc;
    if (!o->limit)
        return usage_error("missing", "--limit");
    co_err err = co_calendar_due_suspended(cal, a->from, a->limit, a->susp, a->n_susp, &due);
    if (err != CO_OK)
        return fail(err);
    co_time_format(due, iso);
    printf("%s\n", iso);
    return 0;
}

static int run_worked(const opts *o, co_calendar *cal, args *a)
{
    int64_t used, limit;
    int rc = parse_time("--from", o->from, &a->from);
    if (!rc)
        rc = parse_time("--to", o->to, &a->to);
    if (rc)
        return rc;
    co_err err = co_calendar_worked_suspended(cal, a->from, a->to, a->susp, a->n_susp, &used);
    if (err != CO_OK)
        return fail(err);
    if (!o->limit) {
        printf("%.2f\n", (double)used / 3600.0);
        return 0;
    }
    err = co_calendar_limit_seconds(cal, a->from, a->limit, &limit);
    if (err != CO_OK)
        return fail(err);
    printf("%.2f of %.2f working hours (%.1f %%) %s\n", (double)used / 3600.0,
           (double)limit / 3600.0, 100.0 * (double)used / (double)limit,
           co_calendar_color_name(co_calendar_light(used, limit)));
    return 0;
}

static int run_days(const opts *o, co_calendar *cal, args *a)
{
    co_calendar_day *days = NULL;
    size_t n = 0;
    if (!o->year)
        return usage_error("missing", "--year");
    if (co_parse_i64(o->year, CO_CALENDAR_YEAR_MIN, CO_CALENDAR_YEAR_MAX, &a->year) != CO_OK)
        return usage_error("bad --year", o->year);
    co_err err = co_calendar_days(cal, (int)a->year, &days, &n);
    if (err != CO_OK)
        return fail(err);
    for (size_t i = 0; i < n; i++) {
        int y, m, d;
        co_civil_from_days(days[i].days, &y, &m, &d);
        printf("%04d-%02d-%02d\t%s\t%s\t%s\n", y, m, d,
               days[i].kind == CO_CALENDAR_DAY_HOLIDAY ? "holiday" : "make-up", days[i].name,
               days[i].name_en);
    }
    co_free(days);
    return 0;
}

static const struct sub {
    const char *name;
    int (*run)(const opts *o, co_calendar *cal, args *a);
} subs[] = {
    {"due", run_due},
    {"worked", run_worked},
    {"days", run_days},
};

int co_cli_calendar(int argc, char **argv)
{
    opts o = {0};
    args a = {0};
    co_calendar *cal = NULL;
    const struct sub *sub = NULL;
    int rc = 2;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
                      !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name))
            sub = &subs[i];
    if (!sub) {
        rc = usage_error(argc < 2 ? "missing subcommand" : "unknown subcommand",
                         argc < 2 ? NULL : argv[1]);
        goto out;
    }
    rc = read_opts(argc, argv, &o);
    if (rc)
        goto out;
    cal = co_calendar_new();
    rc = parse_common(&o, cal, &a);
    if (!rc)
        rc = sub->run(&o, cal, &a);
out:
    co_calendar_free(cal);
    return rc;
}
