/* check.c — `cityops check --data DIR`: is the store sound? (see check.h)
 * Four passes over the store: the back-end's own check; the event log in
 * sequence order (no gaps, which cases it names); every case row in id
 * order, replayed from its events and compared field by field, document and
 * indexed columns, and its area codes checked to nest; then events without a case and duplicate case numbers.
 * `--store URL` checks any back-end (e.g. postgres://…). Exit 0 when nothing
 * is wrong, 1 when something is (each problem printed), 2 for bad usage. The arrays collected on the way are freed before
 * co_check_store returns. */
#include "cli/check.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/store_arg.h"
#include "domain/workflow.h"
#include "lib/alloc.h"

typedef struct checker {
    co_store *st;
    co_check_problem_cb cb;
    void *ctx;
    co_check_report *rep;
    int64_t *ev_cases;      /* case id of every event (sorted, deduplicated after pass 2) */
    size_t n_ev_cases, cap_ev_cases;
    int64_t *case_ids;      /* ids of the case rows */
    size_t n_cases, cap_cases;
    char (*numbers)[CO_NUMBER_MAX];
    size_t cap_numbers;
    int64_t prev_seq;
    co_err rc;              /* a storage error inside a callback */
} checker;

static void problem(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(checker *k, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->rep->problems++;
    if (k->cb)
        k->cb(k->ctx, msg);
}

/* ---- pass 1: the back-end's own check ---- */

static void on_integrity(void *ctx, const char *text)
{
    problem(ctx, "存储引擎报告问题 / the storage engine reports: %s", text);
}

static co_err check_engine(checker *k)
{
    co_err rc = co_store_integrity(k->st, on_integrity, k);
    if (rc == CO_ENOTFOUND)
        problem(k, "存储后端没有完整性检查 / the store back-end has no integrity check");
    else if (rc)
        problem(k, "完整性检查未能完成 / the integrity check did not complete: %s",
                co_err_str(rc));
    return CO_OK;
}

/* ---- pass 2: the event log ---- */

static int on_event(void *ctx, const co_event *e)
{
    checker *k = ctx;
    if (e->seq <= k->prev_seq || (e->seq != k->prev_seq + 1 && co_store_seq_gapless(k->st)))
        problem(k, "事件序号不连续：%lld 之后是 %lld / event sequence gap: %lld follows %lld",
                (long long)k->prev_seq, (long long)e->seq, (long long)e->seq,
                (long long)k->prev_seq);
    k->prev_seq = e->seq;
    k->rep->events++;
    k->rep->max_seq = e->seq;
    k->ev_cases = co_xgrow(k->ev_cases, &k->cap_ev_cases, k->n_ev_cases + 1, sizeof *k->ev_cases);
    k->ev_cases[k->n_ev_cases++] = e->case_id;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t sort_unique(int64_t *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_i64);
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[out - 1])
            v[out++] = v[i];
    return out;
}

/* ---- pass 3: every case row against the replay of its events ---- */

typedef struct replay {
    co_case c;
    int64_t n;
    char bad[256];
} replay;

static int replay_event(void *ctx, const co_event *e)
{
    replay *r = ctx;
    int is_register = !strcmp(e->action, "register");
    if (is_register != (r->n == 0)) {
        snprintf(r->bad, sizeof r->bad,
                 r->n ? "事件 %lld 是第二个登记事件 / event %lld is a second register event"
                      : "第一个事件 %lld 不是登记 / the first event %lld is not a register event",
                 (long long)e->seq, (long long)e->seq);
        return 1;
    }
    if (co_wf_apply(&r->c, e) != CO_OK) {
        snprintf(r->bad, sizeof r->bad,
                 "事件 %lld (%s) 无法应用于状态 %s / event %lld (%s) does not apply in state %s",
                 (long long)e->seq, e->action, co_state_name(r->c.state), (long long)e->seq,
                 e->action, co_state_name(r->c.state));
        return 1;
    }
    r->n++;
    return 0;
}

/* The indexed columns the light read fills, compared with the replay. */
typedef struct column {
    const char *name;
    size_t off, size;       /* size 0: a NUL-terminated string */
} column;

#define INT_COL(f) {#f, offsetof(co_case, f), sizeof(((co_case *)0)->f)}
#define STR_COL(f) {#f, offsetof(co_case, f), 0}

static const column light_columns[] = {
    STR_COL(number),       INT_COL(created),      INT_COL(updated),    INT_COL(state),
    INT_COL(channel),      INT_COL(category),     STR_COL(dept),       STR_COL(first_dept),
    STR_COL(reporter),     INT_COL(disposal_due), INT_COL(severity),   INT_COL(reqtype),
    INT_COL(satisfaction), INT_COL(close_type),   INT_COL(flags),      INT_COL(rework),
    INT_COL(dispatches),   INT_COL(closed_at),    INT_COL(dispatched_at), INT_COL(handled_at),
    INT_COL(step_due),
};

/* The finest area code of a case (the one column the store indexes). */
static const char *finest_area(const co_case *c)
{
    return c->grid[0] ? c->grid : c->community[0] ? c->community : c->street[0] ? c->street
                                                                              : c->district;
}

static const char *light_diff(const co_case *light, const co_case *rep)
{
    const char *a = (const char *)light, *b = (const char *)rep;
    for (size_t i = 0; i < sizeof light_columns / sizeof light_columns[0]; i++) {
        const column *col = &light_columns[i];
        int differs = col->size ? memcmp(a + col->off, b + col->off, col->size) != 0
                                : strcmp(a + col->off, b + col->off) != 0;
        if (differs)
            return col->name;
    }
    return strcmp(finest_area(light), finest_area(rep)) ? "area" : NULL;
}

/* Compares the stored document with the replayed case; on a difference
 * reports the first field that differs with both values. */
static void compare_doc(checker *k, const co_case *row, const co_case *rep)
{
    json_t *a = co_case_to_json(row, 1), *b = co_case_to_json(rep, 1);
    const char *key;
    json_t *va;
    json_object_foreach(a, key, va)
    {
        json_t *vb = json_object_get(b, key);
        if (json_equal(va, vb))
            continue;
        char *sa = json_dumps(va, JSON_ENCODE_ANY | JSON_COMPACT);
        char *sb = vb ? json_dumps(vb, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        problem(k,
                "案件 %s (id %lld) 的记录与事件重放不一致，字段 %s：存储 %.80s，重放 %.80s / case "
                "row differs from the replay of its events in %s: stored %.80s, replayed %.80s",
                row->number, (long long)row->id, key, sa ? sa : "?", sb ? sb : "null", key,
                sa ? sa : "?", sb ? sb : "null");
        free(sa);
        free(sb);
        break;
    }
    json_decref(a);
    json_decref(b);
}

/* 1 when code is empty or starts with parent (or parent is empty). */
static int nests(const char *code, const char *parent)
{
    return !*code || !*parent || !strncmp(code, parent, strlen(parent));
}

/* A case's grid, community, street and district must nest: lists by area
 * narrow by the finest code alone. (Before 2026-11-26 a point outside every
 * grid could be given the nearest grid across its community's boundary.) */
static void check_nesting(checker *k, const co_case *c)
{
    if (nests(c->grid, c->community) && nests(c->community, c->street) &&
        nests(c->street, c->district) && nests(c->grid, c->street) && nests(c->grid, c->district))
        return;
    problem(k,
            "案件 %s (id %lld) 的区域编码不嵌套 / area codes do not nest: grid %s, community %s, "
            "street %s, district %s",
            c->number, (long long)c->id, c->grid, c->community, c->street, c->district);
}

static void check_case(checker *k, const co_case *light)
{
    co_case row;
    co_err rc = co_store_case_get(k->st, light->id, NULL, &row);
    if (rc) {
        problem(k, "案件 %s (id %lld) 的记录无法读取 / the case row cannot be read: %s",
                light->number, (long long)light->id, co_err_str(rc));
        return;
    }
    replay *r = co_xcalloc(1, sizeof *r);
    if ((rc = co_store_events_of(k->st, light->id, replay_event, r)))
        k->rc = rc;
    else if (r->bad[0])
        problem(k, "案件 %s (id %lld): %s", light->number, (long long)light->id, r->bad);
    else if (!r->n)
        problem(k, "案件 %s (id %lld) 没有事件 / case has no events", light->number,
                (long long)light->id);
    else {
        check_nesting(k, &row);
        compare_doc(k, &row, &r->c);
        const char *col = light_diff(light, &r->c);
        if (col)
            problem(k,
                    "案件 %s (id %lld) 的索引列 %s 与事件重放不一致 / indexed column %s differs "
                    "from the replay of its events",
                    light->number, (long long)light->id, col, col);
    }
    co_free(r);
}

static int on_case(void *ctx, const co_case *c)
{
    checker *k = ctx;
    k->rep->cases++;
    k->case_ids = co_xgrow(k->case_ids, &k->cap_cases, k->n_cases + 1, sizeof *k->case_ids);
    k->numbers = co_xgrow(k->numbers, &k->cap_numbers, k->n_cases + 1, sizeof *k->numbers);
    k->case_ids[k->n_cases] = c->id;
    snprintf(k->numbers[k->n_cases], CO_NUMBER_MAX, "%s", c->number);
    k->n_cases++;
    check_case(k, c);
    return k->rc != CO_OK;
}

/* ---- pass 4: events without a case, duplicate numbers ---- */

static void check_orphans(checker *k)
{
    size_t nc = sort_unique(k->case_ids, k->n_cases);
    size_t j = 0;
    for (size_t i = 0; i < k->n_ev_cases; i++) {
        while (j < nc && k->case_ids[j] < k->ev_cases[i])
            j++;
        if (j == nc || k->case_ids[j] != k->ev_cases[i])
            problem(k, "有事件属于不存在的案件 id %lld / events belong to a missing case id %lld",
                    (long long)k->ev_cases[i], (long long)k->ev_cases[i]);
    }
}

static int cmp_number(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void check_numbers(checker *k)
{
    if (!k->n_cases)
        return;
    qsort(k->numbers, k->n_cases, sizeof *k->numbers, cmp_number);
    for (size_t i = 1; i < k->n_cases; i++)
        if (!strcmp(k->numbers[i], k->numbers[i - 1]) &&
            (i < 2 || strcmp(k->numbers[i], k->numbers[i - 2])))
            problem(k, "案件编号重复 / duplicate case number: %s", k->numbers[i]);
}

co_err co_check_store(co_store *st, co_check_problem_cb cb, void *ctx, co_check_report *out)
{
    memset(out, 0, sizeof *out);
    checker k = {.st = st, .cb = cb, .ctx = ctx, .rep = out};
    co_err rc = check_engine(&k);
    /* events first: cases are never deleted, so every case an event names is
     * still there when the case rows are read afterwards */
    if (!rc)
        rc = co_store_events_each(st, on_event, &k);
    if (!rc) {
        k.n_ev_cases = sort_unique(k.ev_cases, k.n_ev_cases);
        rc = co_store_cases_each_light(st, on_case, &k);
    }
    if (!rc)
        rc = k.rc;
    if (!rc) {
        check_orphans(&k);
        check_numbers(&k);
    }
    co_free(k.ev_cases);
    co_free(k.case_ids);
    co_free(k.numbers);
    return rc;
}

/* ---- the command ---- */

#define PRINT_MAX 100

typedef struct printer {
    int64_t printed, more;
} printer;

static void print_problem(void *ctx, const char *msg)
{
    printer *p = ctx;
    if (p->printed < PRINT_MAX) {
        printf("  - %s\n", msg);
        p->printed++;
    } else {
        p->more++;
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: cityops check --data DIR | --store URL\n"
                    "  检查存储：引擎完整性、案件记录 = 事件重放、事件序号连续、案件编号唯一\n"
                    "  checks the store: engine integrity, case rows = replay of their events,\n"
                    "  gap-free event sequence, unique case numbers (run it with no server\n"
                    "  writing). Exit 0 clean, 1 problems, 2 usage.\n");
    return 2;
}

/* Opens the store named by --store (any back-end) or --data (an existing
 * directory: checking must not create an empty store); messages as the
 * other store commands print them (store_arg.h: a password masked). NULL
 * after the message; *status is then the exit status. */
static co_store *open_store(int argc, char **argv, int *status)
{
    static const char cmd[] = "cityops check";
    *status = 2;
    const char *where = co_cli_store_where(cmd, argc, argv);
    if (!where)
        return NULL;
    *status = 1;
    struct stat sb;
    if (!co_args_opt(argc, argv, "--store") && (stat(where, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        fprintf(stderr, "%s: 数据目录不存在 / no such data directory: %s\n", cmd, where);
        return NULL;
    }
    co_store *st = NULL;
    return co_cli_store_open(cmd, where, &st) ? NULL : st;
}

static void print_summary(const co_check_report *rep)
{
    printf("cityops check: %lld 件案件，%lld 个事件（最大序号 %lld），%lld 个问题 / %lld cases, "
           "%lld events (max seq %lld), %lld problems — %s\n",
           (long long)rep->cases, (long long)rep->events, (long long)rep->max_seq,
           (long long)rep->problems, (long long)rep->cases, (long long)rep->events,
           (long long)rep->max_seq, (long long)rep->problems,
           rep->problems ? "存储有问题 / the store has problems" : "存储完好 / the store is sound");
}

int co_cli_check(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    for (int i = 1; i < argc; i += 2) /* only --data DIR and --store URL */
        if (i + 1 >= argc || (strcmp(argv[i], "--data") && strcmp(argv[i], "--store")))
            return usage();
    int status = 0;
    co_store *st = open_store(argc, argv, &status);
    if (!st)
        return status;
    printer p = {0};
    co_check_report rep;
    co_err rc = co_check_store(st, print_problem, &p, &rep);
    co_store_close(st);
    if (p.more)
        printf("  … 另有 %lld 个问题 / %lld more problems\n", (long long)p.more, (long long)p.more);
    if (rc) {
        printf("cityops check: 检查未能完成 / the check did not complete: %s\n", co_err_str(rc));
        return 1;
    }
    print_summary(&rep);
    return rep.problems ? 1 : 0;
}
