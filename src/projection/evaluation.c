/* evaluation.c — 综合评价 (see evaluation.h and docs/evaluation.md).
 *
 * One pass over the period's rows adds each case to per-object counter
 * arrays (objects: area ordinals, interned department ids or interned user
 * ids, so arrays, not hash maps). Indicators are then ratios of counters
 * declared in one const table (`inds`), each profile (region, department,
 * hotline, and the four posts) lists the counters and indicators it shows
 * with its default weights (`profiles`), and the score is the weighted mean
 * of the indicator scores that are defined.
 *
 * Ownership: counter arrays are allocated and freed here; result rows are
 * the caller's (co_eval_result_free). */
#include "projection/evaluation.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/strparse.h"
#include "lib/timeutil.h"
#include "projection/projection_int.h"

/* ------------------------------------------------------------- definitions */

typedef struct ind_def {
    const char *code, *zh, *en;
    int num, minus;   /* numerator = c[num] (− c[minus] when minus ≥ 0) ... */
    int plus;         /* ... + 0.9 × c[plus] when plus ≥ 0 (基本满意) */
    int den;          /* denominator counter; -1 for the band score */
    int polarity;     /* +1 higher is better, -1 lower is better */
} ind_def;

#define NO (-1)

static const ind_def inds[CO_EI_COUNT] = {
    [CO_EI_VALID_REPORT] = {"valid_report_rate", "有效上报率", "Valid report rate",
                            CO_EC_REPORTED_VALID, NO, NO, CO_EC_REPORTED, 1},
    [CO_EI_ONTIME_VERIFY] = {"ontime_verify_rate", "按时核实率", "On-time verification rate",
                             CO_EC_VERIFY_ONTIME, NO, NO, CO_EC_VERIFY, 1},
    [CO_EI_ONTIME_CHECK] = {"ontime_check_rate", "按时核查率", "On-time check rate",
                            CO_EC_CHECK_ONTIME, NO, NO, CO_EC_CHECK, 1},
    [CO_EI_ONTIME_FILE] = {"ontime_file_rate", "按时立案率", "On-time filing rate",
                           CO_EC_FILED_ONTIME, NO, NO, CO_EC_FILED, 1},
    [CO_EI_ACCURATE_FILE] = {"accurate_file_rate", "准确立案率", "Accurate filing rate",
                             CO_EC_FILED, CO_EC_FILED_VOID, NO, CO_EC_FILED, 1},
    [CO_EI_ONTIME_DISPATCH] = {"ontime_dispatch_rate", "按时派遣率", "On-time dispatch rate",
                               CO_EC_DISPATCH_ONTIME, NO, NO, CO_EC_DISPATCH, 1},
    [CO_EI_ACCURATE_DISPATCH] = {"accurate_dispatch_rate", "准确派遣率",
                                 "Accurate dispatch rate", CO_EC_DISPATCH, CO_EC_MISDISPATCH,
                                 NO, CO_EC_DISPATCH, 1},
    [CO_EI_DISPOSAL] = {"disposal_rate", "处置率", "Disposal rate", CO_EC_HANDLED, NO, NO,
                        CO_EC_TO_HANDLE, 1},
    [CO_EI_ONTIME_DISPOSAL] = {"ontime_disposal_rate", "按期处置率", "On-time disposal rate",
                               CO_EC_HANDLED_ONTIME, NO, NO, CO_EC_TO_HANDLE, 1},
    [CO_EI_CLOSURE] = {"closure_rate", "结案率", "Closure rate", CO_EC_CLOSED, NO, NO,
                       CO_EC_TO_CLOSE, 1},
    [CO_EI_ONTIME_CLOSURE] = {"ontime_closure_rate", "按期结案率", "On-time closure rate",
                              CO_EC_CLOSED_ONTIME, NO, NO, CO_EC_TO_CLOSE, 1},
    [CO_EI_REWORK] = {"rework_rate", "返工率", "Rework rate", CO_EC_REWORK, NO, NO,
                      CO_EC_TO_CLOSE, -1},
    [CO_EI_OVERDUE] = {"overdue_rate", "超期率", "Overdue rate", CO_EC_LATE, NO, NO,
                       CO_EC_TO_HANDLE, -1},
    [CO_EI_EXTENSION] = {"extension_rate", "延期率", "Extension rate", CO_EC_EXTENDED, NO, NO,
                         CO_EC_TO_HANDLE, -1},
    [CO_EI_RESPONSE] = {"response_rate", "响应率", "Response rate", CO_EC_CONTACTED, NO, NO,
                        CO_EC_VISITED, 1},
    [CO_EI_RESOLUTION] = {"resolution_rate", "解决率", "Resolution rate", CO_EC_RESOLVED, NO,
                          NO, CO_EC_VISITED, 1},
    [CO_EI_SATISFACTION] = {"satisfaction_rate", "满意率", "Satisfaction rate",
                            CO_EC_SATISFIED, NO, CO_EC_BASIC, CO_EC_VISITED, 1},
    [CO_EI_INTAKE_SCORE] = {"intake_score", "受理数分值", "Intake volume score", CO_EC_ACCEPTED,
                            NO, NO, NO, 1},
    [CO_EI_ONTIME_VREQ] = {"ontime_vreq_rate", "核实按时派发率",
                           "On-time verification dispatch rate", CO_EC_VREQ_ONTIME, NO, NO,
                           CO_EC_VREQ, 1},
    [CO_EI_ONTIME_CREQ] = {"ontime_creq_rate", "核查按时派发率", "On-time check dispatch rate",
                           CO_EC_CREQ_ONTIME, NO, NO, CO_EC_CREQ, 1},
    [CO_EI_ONTIME_CLOSE] = {"ontime_close_rate", "按时结案率", "On-time close rate",
                            CO_EC_CLOSER_ONTIME, NO, NO, CO_EC_CLOSER, 1},
};

typedef struct counter_def {
    const char *code, *zh, *en;
} counter_def;

static const counter_def counters[CO_EC_COUNT] = {
    [CO_EC_CASES] = {"cases", "案件数", "Cases"},
    [CO_EC_REPORTED] = {"reported", "上报数", "Reported"},
    [CO_EC_REPORTED_VALID] = {"reported_valid", "有效上报数", "Valid reports"},
    [CO_EC_FILED] = {"filed", "立案数", "Filed"},
    [CO_EC_FILED_ONTIME] = {"filed_ontime", "按时立案数", "Filed on time"},
    [CO_EC_FILED_VOID] = {"filed_void", "作废数", "Voided after filing"},
    [CO_EC_VERIFY] = {"to_verify", "应核实数", "To verify"},
    [CO_EC_VERIFY_ONTIME] = {"verified_ontime", "按时核实数", "Verified on time"},
    [CO_EC_CHECK] = {"to_check", "应核查数", "To check"},
    [CO_EC_CHECK_ONTIME] = {"checked_ontime", "按时核查数", "Checked on time"},
    [CO_EC_DISPATCH] = {"to_dispatch", "应派遣数", "Dispatched"},
    [CO_EC_DISPATCH_ONTIME] = {"dispatched_ontime", "按时派遣数", "Dispatched on time"},
    [CO_EC_MISDISPATCH] = {"misdispatched", "错派数", "Misdispatched"},
    [CO_EC_HANDLED] = {"handled", "处置数", "Handled"},
    [CO_EC_HANDLED_ONTIME] = {"handled_ontime", "按期处置数", "Handled on time"},
    [CO_EC_OVERDUE_OPEN] = {"overdue_open", "超期未处置数", "Overdue, not handled"},
    [CO_EC_TO_HANDLE] = {"to_handle", "应处置数", "To handle"},
    [CO_EC_CLOSED] = {"closed", "结案数", "Closed"},
    [CO_EC_CLOSED_ONTIME] = {"closed_ontime", "按期结案数", "Closed on time"},
    [CO_EC_TO_CLOSE] = {"to_close", "应结案数", "To close"},
    [CO_EC_REWORK] = {"rework", "返工数", "Reworked"},
    [CO_EC_LATE] = {"late", "超期数", "Overdue"},
    [CO_EC_EXTENDED] = {"extended", "延期数", "Extended"},
    [CO_EC_VISITED] = {"visited", "有效回访数", "Valid return visits"},
    [CO_EC_CONTACTED] = {"contacted", "联系数", "Contacted"},
    [CO_EC_RESOLVED] = {"resolved", "解决数", "Resolved"},
    [CO_EC_SATISFIED] = {"satisfied", "满意数", "Satisfied"},
    [CO_EC_BASIC] = {"basic", "基本满意数", "Basically satisfied"},
    [CO_EC_ACCEPTED] = {"accepted", "受理数", "Registered"},
    [CO_EC_VREQ] = {"vreq", "发核实数", "Sent for verification"},
    [CO_EC_VREQ_ONTIME] = {"vreq_ontime", "按时发核实数", "Sent for verification on time"},
    [CO_EC_CREQ] = {"creq", "发核查数", "Sent for check"},
    [CO_EC_CREQ_ONTIME] = {"creq_ontime", "按时发核查数", "Sent for check on time"},
    [CO_EC_CLOSER] = {"closed_by", "结案数", "Closed (by this shift lead)"},
    [CO_EC_CLOSER_ONTIME] = {"closed_by_ontime", "按时结案数", "Closed on time"},
};

/* Profiles: what each evaluation shows and how it weighs it. */
typedef enum profile_id {
    PR_REGION, PR_DEPT, PR_HOTLINE, PR_INSPECTOR, PR_OPERATOR, PR_SHIFTLEAD, PR_DISPATCHER, PR_COUNT
} profile_id;

typedef struct weight_def {
    int ind;
    double w;
} weight_def;

#define MAXW 16
#define MAXC 20

typedef struct profile {
    const char *sheet;
    int counters[MAXC]; /* terminated by NO */
    weight_def w[MAXW]; /* terminated by {NO} */
} profile;

static const profile profiles[PR_COUNT] = {
    [PR_REGION] = {"region",
                   {CO_EC_CASES, CO_EC_FILED, CO_EC_TO_HANDLE, CO_EC_HANDLED, CO_EC_HANDLED_ONTIME,
                    CO_EC_OVERDUE_OPEN, CO_EC_TO_CLOSE, CO_EC_CLOSED, CO_EC_CLOSED_ONTIME,
                    CO_EC_REWORK, CO_EC_LATE, CO_EC_EXTENDED, CO_EC_DISPATCH, CO_EC_MISDISPATCH,
                    CO_EC_REPORTED, CO_EC_REPORTED_VALID, CO_EC_VISITED, NO},
                   {{CO_EI_DISPOSAL, 20}, {CO_EI_ONTIME_DISPOSAL, 20}, {CO_EI_CLOSURE, 20},
                    {CO_EI_ONTIME_CLOSURE, 20}, {CO_EI_REWORK, 10}, {CO_EI_OVERDUE, 10},
                    {CO_EI_EXTENSION, 0}, {CO_EI_ACCURATE_DISPATCH, 0}, {CO_EI_VALID_REPORT, 0},
                    {CO_EI_ONTIME_VERIFY, 0}, {CO_EI_ONTIME_CHECK, 0}, {CO_EI_RESPONSE, 0},
                    {CO_EI_RESOLUTION, 0}, {CO_EI_SATISFACTION, 0}, {NO, 0}}},
    [PR_DEPT] = {"department",
                 {CO_EC_CASES, CO_EC_TO_HANDLE, CO_EC_HANDLED, CO_EC_HANDLED_ONTIME,
                  CO_EC_OVERDUE_OPEN, CO_EC_TO_CLOSE, CO_EC_CLOSED, CO_EC_CLOSED_ONTIME,
                  CO_EC_REWORK, CO_EC_LATE, CO_EC_EXTENDED, CO_EC_DISPATCH, CO_EC_MISDISPATCH,
                  CO_EC_VISITED, NO},
                 {{CO_EI_DISPOSAL, 30}, {CO_EI_ONTIME_DISPOSAL, 20}, {CO_EI_REWORK, 20},
                  {CO_EI_OVERDUE, 20}, {CO_EI_EXTENSION, 10}, {CO_EI_CLOSURE, 0},
                  {CO_EI_ONTIME_CLOSURE, 0}, {CO_EI_ACCURATE_DISPATCH, 0}, {CO_EI_RESPONSE, 0},
                  {CO_EI_RESOLUTION, 0}, {CO_EI_SATISFACTION, 0}, {NO, 0}}},
    [PR_HOTLINE] = {"hotline",
                    {CO_EC_CASES, CO_EC_VISITED, CO_EC_CONTACTED, CO_EC_RESOLVED, CO_EC_SATISFIED,
                     CO_EC_BASIC, NO},
                    {{CO_EI_RESPONSE, 10}, {CO_EI_RESOLUTION, 50}, {CO_EI_SATISFACTION, 40},
                     {NO, 0}}},
    [PR_INSPECTOR] = {"inspector",
                      {CO_EC_REPORTED, CO_EC_REPORTED_VALID, CO_EC_VERIFY, CO_EC_VERIFY_ONTIME,
                       CO_EC_CHECK, CO_EC_CHECK_ONTIME, NO},
                      {{CO_EI_VALID_REPORT, 40}, {CO_EI_ONTIME_VERIFY, 30}, {CO_EI_ONTIME_CHECK, 30},
                       {NO, 0}}},
    [PR_OPERATOR] = {"operator",
                     {CO_EC_ACCEPTED, CO_EC_VREQ, CO_EC_VREQ_ONTIME, CO_EC_CREQ, CO_EC_CREQ_ONTIME,
                      NO},
                     {{CO_EI_INTAKE_SCORE, 25}, {CO_EI_ONTIME_VREQ, 40}, {CO_EI_ONTIME_CREQ, 35},
                      {NO, 0}}},
    [PR_SHIFTLEAD] = {"shiftlead",
                      {CO_EC_FILED, CO_EC_FILED_ONTIME, CO_EC_FILED_VOID, CO_EC_CLOSER,
                       CO_EC_CLOSER_ONTIME, NO},
                      {{CO_EI_ONTIME_FILE, 25}, {CO_EI_ACCURATE_FILE, 40}, {CO_EI_ONTIME_CLOSE, 35},
                       {NO, 0}}},
    [PR_DISPATCHER] = {"dispatcher",
                       {CO_EC_DISPATCH, CO_EC_DISPATCH_ONTIME, CO_EC_MISDISPATCH, NO},
                       {{CO_EI_ONTIME_DISPATCH, 50}, {CO_EI_ACCURATE_DISPATCH, 50}, {NO, 0}}},
};

static const char *const type_names[CO_EVAL_TYPE_COUNT] = {"region", "department", "post",
                                                           "hotline"};

static int profile_of(co_eval_type type, co_role role)
{
    switch (type) {
    case CO_EVAL_REGION: return PR_REGION;
    case CO_EVAL_DEPT: return PR_DEPT;
    case CO_EVAL_HOTLINE: return PR_HOTLINE;
    case CO_EVAL_POST:
        switch (role) {
        case CO_ROLE_INSPECTOR: return PR_INSPECTOR;
        case CO_ROLE_OPERATOR: return PR_OPERATOR;
        case CO_ROLE_SHIFTLEAD: return PR_SHIFTLEAD;
        case CO_ROLE_DISPATCHER: return PR_DISPATCHER;
        default: return NO;
        }
    default: return NO;
    }
}

double co_eval_default_weight(co_eval_type type, co_role role, co_eval_indicator i)
{
    int pr = profile_of(type, role);
    for (int k = 0; pr >= 0 && k < MAXW && profiles[pr].w[k].ind != NO; k++)
        if (profiles[pr].w[k].ind == (int)i)
            return profiles[pr].w[k].w;
    return -1;
}

char co_eval_grade(double s)
{
    if (isnan(s))
        return 0;
    return s >= 90 ? 'A' : s >= 75 ? 'B' : s >= 60 ? 'C' : s >= 40 ? 'D' : 'E';
}

void co_eval_query_init(co_eval_query *q, co_eval_type type)
{
    memset(q, 0, sizeof *q);
    q->type = type;
    q->level = CO_LEVEL_STREET;
    q->role = CO_ROLE_INSPECTOR;
    for (int i = 0; i < CO_EI_COUNT; i++)
        q->weights[i] = -1;
}

/* --------------------------------------------------------------- counting */

typedef struct ew {
    co_projection *p;
    int profile;
    co_eval_by by;
    int lvl;               /* 0..2 */
    uint32_t from, to, now;
    size_t nkeys;
    uint32_t *c;           /* nkeys × CO_EC_COUNT */
    struct lane_acc *lanes;/* nkeys packed byte counters (see add_bits) */
    uint64_t need;         /* counters the profile shows or its indicators use */
} ew;

static const uint8_t open_state[16] = {
    [CO_ST_REGISTERED] = 1, [CO_ST_VERIFYING] = 1, [CO_ST_FILED] = 1, [CO_ST_DISPATCHED] = 1,
    [CO_ST_HANDLING] = 1, [CO_ST_SUSPENDED] = 1, [CO_ST_HANDLED] = 1, [CO_ST_CHECKING] = 1,
    [CO_ST_CHECKED] = 1,
};

static uint32_t *obj(ew *w, unsigned k)
{
    return k && k < w->nkeys ? w->c + (size_t)k * CO_EC_COUNT : NULL;
}

#define B(x) (1ull << CO_EC_##x)
#define DISPATCH_BITS (B(DISPATCH) | B(DISPATCH_ONTIME) | B(MISDISPATCH))
#define VISIT_BITS (B(VISITED) | B(CONTACTED) | B(RESOLVED) | B(SATISFIED) | B(BASIC))

_Static_assert(CO_EC_BASIC < 32, "case-level counters must fit the efacts column");

/* Every case-level counter the row adds to, one bit per co_eval_counter,
 * computed without branches (docs/evaluation.md defines each). */
uint32_t co_proj_eval_facts(const co_proj_chunk *ch, uint32_t r, uint32_t now)
{
    uint32_t fl = ch->flags[r], due = ch->due[r];
    unsigned pf = ch->pflags[r], sb = ch->sb[r], st = sb & CO_SB_STATE, v = CO_SB_VISIT(sb);
    uint64_t filed = (pf & CO_PF_FILED) != 0, insp = ch->channel[r] == CO_CH_INSPECTOR;
    uint64_t ver = (pf & CO_PF_VERIFY) != 0, chk = (pf & CO_PF_CHECK) != 0;
    uint64_t disp = ch->dispatched[r] != 0, handled = ch->handled[r] != 0;
    uint64_t ov = (st == CO_ST_DISPATCHED || st == CO_ST_HANDLING) && due && due < now;
    uint64_t hl = (fl & CO_CF_HANDLED_LATE) != 0, vis = v != 0;
    uint64_t toh = handled | ov, closed = filed & (st == CO_ST_CLOSED);
    uint64_t toc = closed | (filed & open_state[st] & (ov | hl));
    uint64_t late = ov | ((fl & (CO_CF_EVER_OVERDUE | CO_CF_HANDLED_LATE)) != 0);
    return (uint32_t)(B(CASES) | insp << CO_EC_REPORTED | (insp & filed) << CO_EC_REPORTED_VALID |
           filed << CO_EC_FILED | (filed & !(fl & CO_CF_FILE_LATE)) << CO_EC_FILED_ONTIME |
           (filed & (st == CO_ST_VOIDED || st == CO_ST_MERGED)) << CO_EC_FILED_VOID |
           ver << CO_EC_VERIFY | (ver & !(fl & CO_CF_VERIFY_LATE)) << CO_EC_VERIFY_ONTIME |
           chk << CO_EC_CHECK | (chk & !(fl & CO_CF_CHECK_LATE)) << CO_EC_CHECK_ONTIME |
           disp << CO_EC_DISPATCH | (disp & !(fl & CO_CF_DISPATCH_LATE)) << CO_EC_DISPATCH_ONTIME |
           (disp & ((fl & CO_CF_MISDISPATCH) != 0)) << CO_EC_MISDISPATCH |
           handled << CO_EC_HANDLED | (handled & !hl) << CO_EC_HANDLED_ONTIME |
           ov << CO_EC_OVERDUE_OPEN | toh << CO_EC_TO_HANDLE | (toh & late) << CO_EC_LATE |
           (toh & ((fl & CO_CF_EXTENDED) != 0)) << CO_EC_EXTENDED | closed << CO_EC_CLOSED |
           (closed & ((sb & CO_SB_ONTIME) != 0)) << CO_EC_CLOSED_ONTIME |
           toc << CO_EC_TO_CLOSE | (toc & (ch->rework[r] > 0)) << CO_EC_REWORK |
           vis << CO_EC_VISITED | (vis & ((fl & CO_CF_CONTACTED) != 0)) << CO_EC_CONTACTED |
           (vis & ((fl & CO_CF_RESOLVED) != 0)) << CO_EC_RESOLVED |
           (uint64_t)(v == 1) << CO_EC_SATISFIED | (uint64_t)(v == 2) << CO_EC_BASIC);
}

/* The cached facts, recomputed only for the rows overdue at `now`. */
static uint32_t row_facts(const co_proj_chunk *ch, uint32_t r, uint32_t now)
{
    unsigned st = ch->sb[r] & CO_SB_STATE;
    if (st == CO_ST_DISPATCHED || st == CO_ST_HANDLING) {
        uint32_t due = ch->due[r];
        if (due && due < now)
            return co_proj_eval_facts(ch, r, now);
    }
    return ch->efacts[r];
}

/* Packed counting: each object keeps its counters as bytes in LANES words;
 * a row adds spread[byte] (bit i of the byte → byte i of the word) to each
 * word, without branches, and the bytes are flushed into the u32 counters
 * before they can overflow (every 255 rows of that object). */
#define LANES 4 /* the 32 bits of the case-level facts */

typedef struct lane_acc {
    uint64_t lane[LANES];
    uint32_t n;
} lane_acc;

static uint64_t spread[256];
static pthread_once_t spread_once = PTHREAD_ONCE_INIT;

static void spread_init(void)
{
    for (unsigned x = 0; x < 256; x++)
        for (unsigned b = 0; b < 8; b++)
            spread[x] |= (uint64_t)((x >> b) & 1u) << (8 * b);
}

static void lanes_flush(ew *w, unsigned k)
{
    lane_acc *a = &w->lanes[k];
    uint32_t *c = w->c + (size_t)k * CO_EC_COUNT;
    for (int b = 0; b < 8 * LANES; b++)
        c[b] += (uint32_t)(a->lane[b / 8] >> (8 * (b % 8))) & 0xffu;
    memset(a, 0, sizeof *a);
}

static int valid_key(const ew *w, unsigned k)
{
    return k && k < w->nkeys;
}

static void add_bits(ew *w, unsigned k, uint32_t m)
{
    lane_acc *a = &w->lanes[k];
    for (int i = 0; i < LANES; i++)
        a->lane[i] += spread[(m >> (8 * i)) & 0xffu];
    if (++a->n == 255)
        lanes_flush(w, k);
}

static void post_inspector(ew *w, const co_proj_chunk *ch, uint32_t r)
{
    uint32_t fl = ch->flags[r], *c;
    unsigned pf = ch->pflags[r];
    if (ch->channel[r] == CO_CH_INSPECTOR && (c = obj(w, ch->slot[CO_SLOT_REPORTER][r]))) {
        c[CO_EC_REPORTED]++;
        c[CO_EC_REPORTED_VALID] += (pf & CO_PF_FILED) != 0;
    }
    if ((pf & CO_PF_VERIFY) && (c = obj(w, ch->slot[CO_SLOT_VERIFIER][r]))) {
        c[CO_EC_VERIFY]++;
        c[CO_EC_VERIFY_ONTIME] += !(fl & CO_CF_VERIFY_LATE);
    }
    if ((pf & CO_PF_CHECK) && (c = obj(w, ch->slot[CO_SLOT_CHECKER][r]))) {
        c[CO_EC_CHECK]++;
        c[CO_EC_CHECK_ONTIME] += !(fl & CO_CF_CHECK_LATE);
    }
}

static void post_operator(ew *w, const co_proj_chunk *ch, uint32_t r)
{
    unsigned pf = ch->pflags[r];
    uint32_t *c;
    if (ch->channel[r] != CO_CH_INSPECTOR && (c = obj(w, ch->slot[CO_SLOT_REPORTER][r])))
        c[CO_EC_ACCEPTED]++;
    if ((pf & CO_PF_VREQ) && (c = obj(w, ch->slot[CO_SLOT_VREQ][r]))) {
        c[CO_EC_VREQ]++;
        c[CO_EC_VREQ_ONTIME] += !(pf & CO_PF_VREQ_LATE);
    }
    if ((pf & CO_PF_CREQ) && (c = obj(w, ch->slot[CO_SLOT_CREQ][r]))) {
        c[CO_EC_CREQ]++;
        c[CO_EC_CREQ_ONTIME] += !(pf & CO_PF_CREQ_LATE);
    }
}

static void post_shiftlead(ew *w, const co_proj_chunk *ch, uint32_t r)
{
    unsigned pf = ch->pflags[r], st = ch->sb[r] & CO_SB_STATE;
    uint32_t fl = ch->flags[r], *c;
    if ((pf & CO_PF_FILED) && (c = obj(w, ch->slot[CO_SLOT_FILER][r]))) {
        c[CO_EC_FILED]++;
        c[CO_EC_FILED_ONTIME] += !(fl & CO_CF_FILE_LATE);
        c[CO_EC_FILED_VOID] += st == CO_ST_VOIDED || st == CO_ST_MERGED;
    }
    if (st == CO_ST_CLOSED && (c = obj(w, ch->slot[CO_SLOT_CLOSER][r]))) {
        c[CO_EC_CLOSER]++;
        c[CO_EC_CLOSER_ONTIME] += !(pf & CO_PF_CLOSE_LATE);
    }
}

static void count_row(ew *w, const co_proj_chunk *ch, uint32_t r)
{
    unsigned k, k2;
    switch (w->profile) {
    case PR_REGION:
        if (valid_key(w, k = ch->lvl[w->lvl][r]))
            add_bits(w, k, row_facts(ch, r, w->now) & (uint32_t)w->need);
        break;
    case PR_DEPT: {
        k = ch->dept[r];
        k2 = ch->first_dept[r];
        if (!valid_key(w, k) && !valid_key(w, k2))
            break;
        uint32_t f = row_facts(ch, r, w->now) & (uint32_t)w->need;
        if (valid_key(w, k))
            add_bits(w, k, f & ~DISPATCH_BITS);
        if (valid_key(w, k2))
            add_bits(w, k2, f & DISPATCH_BITS);
        break;
    }
    case PR_HOTLINE:
        k = w->by == CO_EVAL_BY_DEPT ? ch->dept[r] : ch->lvl[w->lvl][r];
        if (valid_key(w, k))
            add_bits(w, k, row_facts(ch, r, w->now) & (B(CASES) | VISIT_BITS));
        break;
    case PR_INSPECTOR: post_inspector(w, ch, r); break;
    case PR_OPERATOR: post_operator(w, ch, r); break;
    case PR_SHIFTLEAD: post_shiftlead(w, ch, r); break;
    case PR_DISPATCHER:
        if (valid_key(w, k = ch->slot[CO_SLOT_DISPATCHER][r]))
            add_bits(w, k, row_facts(ch, r, w->now) & DISPATCH_BITS);
        break;
    }
}

static int eval_chunk(void *ctx, const co_proj_chunk *ch, uint32_t n, int inside)
{
    ew *w = ctx;
    for (uint32_t r = 0; r < n; r++) {
        uint32_t t = ch->created[r];
        if (!inside && (t < w->from || t >= w->to))
            continue;
        count_row(w, ch, r);
    }
    return 0;
}

/* ---------------------------------------------------------------- scoring */

static double band_score(double per_month)
{
    return per_month > 2000 ? 100 : per_month > 1200 ? 90 : per_month > 500 ? 75
                                  : per_month > 300  ? 60 : 0;
}

static double indicator(const co_eval_row *row, int i, double days)
{
    const ind_def *d = &inds[i];
    if (d->den == NO)
        return band_score((double)row->c[d->num] * 30.0 / days);
    uint32_t den = row->c[d->den];
    if (!den)
        return NAN;
    double num = (double)row->c[d->num];
    if (d->minus != NO)
        num -= (double)row->c[d->minus];
    if (d->plus != NO)
        num += 0.9 * (double)row->c[d->plus];
    return num / (double)den;
}

static void score_row(co_eval_row *row, const double *weights, double days)
{
    double sw = 0, s = 0;
    for (int i = 0; i < CO_EI_COUNT; i++) {
        row->value[i] = weights[i] >= 0 ? indicator(row, i, days) : NAN;
        double v = row->value[i];
        if (weights[i] <= 0 || isnan(v))
            continue;
        double pts = inds[i].den == NO ? v : 100.0 * (inds[i].polarity > 0 ? v : 1.0 - v);
        s += weights[i] * pts;
        sw += weights[i];
    }
    row->score = sw > 0 ? s / sw : NAN;
    row->grade = co_eval_grade(row->score);
}

static int cmp_rows(const void *x, const void *y)
{
    const co_eval_row *a = x, *b = y;
    int na = isnan(a->score), nb = isnan(b->score);
    if (na != nb)
        return na - nb;
    if (!na) {
        double ra = round(a->score * 100), rb = round(b->score * 100);
        if (ra != rb)
            return ra > rb ? -1 : 1;
    }
    return strcmp(a->key, b->key);
}

static void rank_rows(co_eval_result *r)
{
    qsort(r->rows, r->nrows, sizeof *r->rows, cmp_rows);
    for (size_t i = 0; i < r->nrows; i++) {
        co_eval_row *x = &r->rows[i];
        if (isnan(x->score))
            x->rank = 0;
        else if (i && !isnan(r->rows[i - 1].score) &&
                 round(r->rows[i - 1].score * 100) == round(x->score * 100))
            x->rank = r->rows[i - 1].rank;
        else
            x->rank = (int)i + 1;
    }
}

/* ------------------------------------------------------------------- keys */

static size_t nkeys_of(co_projection *p, const ew *w)
{
    switch (w->profile) {
    case PR_REGION: return p->nord[w->lvl] + 1;
    case PR_DEPT: return p->depts.n + 64;
    case PR_HOTLINE: return w->by == CO_EVAL_BY_DEPT ? p->depts.n + 64 : p->nord[w->lvl] + 1;
    default: return p->users.n + 64;
    }
}

static int keyed_by_area(const ew *w)
{
    return w->profile == PR_REGION || (w->profile == PR_HOTLINE && w->by == CO_EVAL_BY_LEVEL);
}

/* Under the read lock: code of object k. */
static void key_of(co_projection *p, const ew *w, unsigned k, co_eval_row *row)
{
    if (keyed_by_area(w)) {
        const co_area *a = co_areas_at(p->areas, p->ord_area[w->lvl][k]);
        snprintf(row->key, sizeof row->key, "%s", a ? a->code : "");
        snprintf(row->label, sizeof row->label, "%s", a ? a->name : "");
        return;
    }
    const co_proj_intern *t =
        w->profile == PR_DEPT || w->profile == PR_HOTLINE ? &p->depts : &p->users;
    snprintf(row->key, sizeof row->key, "%s", co_proj_intern_str(t, k));
}

static void label_of(const co_projection_names *nm, const ew *w, co_eval_row *row)
{
    if (row->label[0])
        return;
    int ok = 0;
    if (nm && (w->profile == PR_DEPT || w->profile == PR_HOTLINE) && nm->dept)
        ok = nm->dept(nm->ctx, row->key, row->label, sizeof row->label);
    else if (nm && w->profile >= PR_INSPECTOR && nm->user)
        ok = nm->user(nm->ctx, row->key, row->label, sizeof row->label);
    if (!ok)
        snprintf(row->label, sizeof row->label, "%s", row->key);
}

static int any_counter(const uint32_t *c)
{
    for (int i = 0; i < CO_EC_COUNT; i++)
        if (c[i])
            return 1;
    return 0;
}

static void build_rows(co_projection *p, const ew *w, co_eval_result *r)
{
    r->rows = co_xcalloc(w->nkeys, sizeof *r->rows);
    co_proj_rdlock(p); /* interned codes may move while the writer adds one */
    for (size_t k = 1; k < w->nkeys; k++) {
        const uint32_t *c = w->c + k * CO_EC_COUNT;
        if (!any_counter(c))
            continue;
        co_eval_row *row = &r->rows[r->nrows];
        r->nrows++;
        memcpy(row->c, c, sizeof row->c);
        key_of(p, w, (unsigned)k, row);
    }
    co_projection_names nm = p->names;
    int has = p->has_names;
    co_proj_unlock(p);
    double days = (double)(r->to - r->from) / 86400.0;
    for (size_t i = 0; i < r->nrows; i++) {
        label_of(has ? &nm : NULL, w, &r->rows[i]);
        score_row(&r->rows[i], r->weights, days < 1 ? 1 : days);
    }
    rank_rows(r);
}

/* --------------------------------------------------------------------- run */

static uint64_t need_mask(int pr)
{
    const profile *pf = &profiles[pr];
    if (pr == PR_REGION || pr == PR_DEPT)
        return ~0ull; /* every case-level counter (the API returns them all) */
    uint64_t m = B(CASES);
    for (int k = 0; k < MAXC && pf->counters[k] != NO; k++)
        m |= 1ull << pf->counters[k];
    for (int k = 0; k < MAXW && pf->w[k].ind != NO; k++) {
        const ind_def *d = &inds[pf->w[k].ind];
        const int used[] = {d->num, d->minus, d->plus, d->den};
        for (size_t u = 0; u < 4; u++)
            m |= used[u] >= 0 ? 1ull << used[u] : 0;
    }
    return m;
}

static co_err check_query(const co_eval_query *q, int pr)
{
    if (pr < 0 || !q->from || !q->to || q->to <= q->from)
        return CO_EINVAL;
    int by_level = q->type == CO_EVAL_REGION || (q->type == CO_EVAL_HOTLINE && q->by == CO_EVAL_BY_LEVEL);
    if (by_level && (q->level < CO_LEVEL_DISTRICT || q->level > CO_LEVEL_COMMUNITY))
        return CO_EINVAL;
    return CO_OK;
}

static co_err effective_weights(const co_eval_query *q, double *w)
{
    for (int i = 0; i < CO_EI_COUNT; i++) {
        double d = co_eval_default_weight(q->type, q->role, (co_eval_indicator)i);
        if (q->weights[i] >= 0 && d < 0)
            return CO_EINVAL; /* a weight on an indicator this evaluation does not show */
        w[i] = q->weights[i] >= 0 ? q->weights[i] : d;
    }
    return CO_OK;
}

co_err co_eval_run(co_projection *p, const co_eval_query *q, co_eval_result *out)
{
    double t0 = co_time_mono();
    memset(out, 0, sizeof *out);
    int pr = profile_of(q->type, q->role);
    co_err rc = check_query(q, pr);
    if (rc || (rc = effective_weights(q, out->weights)))
        return rc;
    out->type = q->type;
    out->by = q->by;
    out->level = q->level;
    out->role = q->role;
    out->from = q->from;
    out->to = q->to;
    out->now = q->now ? q->now : co_time_now();
    ew w = {p, pr, q->by, (int)q->level - CO_LEVEL_DISTRICT, co_proj_time(q->from),
            co_proj_time(q->to), co_proj_time(out->now), 0, NULL, NULL, need_mask(pr)};
    if (w.lvl < 0 || w.lvl > 2)
        w.lvl = 0;
    co_proj_rdlock(p);
    w.nkeys = nkeys_of(p, &w);
    co_proj_unlock(p);
    pthread_once(&spread_once, spread_init);
    w.c = co_xcalloc(w.nkeys * CO_EC_COUNT, sizeof *w.c);
    w.lanes = co_xcalloc(w.nkeys, sizeof *w.lanes);
    co_proj_scan(p, w.from, w.to, 0, 1, eval_chunk, &w);
    for (size_t k = 0; k < w.nkeys; k++)
        lanes_flush(&w, (unsigned)k);
    build_rows(p, &w, out);
    co_free(w.lanes);
    co_free(w.c);
    out->took_ms = (co_time_mono() - t0) * 1000.0;
    return CO_OK;
}

void co_eval_result_free(co_eval_result *r)
{
    if (!r)
        return;
    co_free(r->rows);
    r->rows = NULL;
    r->nrows = 0;
}

/* ------------------------------------------------------------------ table */

co_err co_eval_to_table(const co_eval_result *r, co_table **out)
{
    const profile *pf = &profiles[profile_of(r->type, r->role)];
    co_table *t = co_table_new(pf->sheet);
    co_table_col(t, "rank", "排名", "Rank", CO_TT_INT);
    co_table_col(t, "key", "编码", "Key", CO_TT_STR);
    co_table_col(t, "label", "名称", "Name", CO_TT_STR);
    for (int k = 0; k < MAXC && pf->counters[k] != NO; k++) {
        const counter_def *c = &counters[pf->counters[k]];
        co_table_col(t, c->code, c->zh, c->en, CO_TT_INT);
    }
    for (int k = 0; k < MAXW && pf->w[k].ind != NO; k++) {
        const ind_def *d = &inds[pf->w[k].ind];
        co_table_col(t, d->code, d->zh, d->en, d->den == NO ? CO_TT_NUM : CO_TT_RATE);
    }
    size_t score_col = co_table_col(t, "score", "综合得分", "Score", CO_TT_NUM);
    co_table_col(t, "grade", "等级", "Grade", CO_TT_STR);
    for (size_t i = 0; i < r->nrows; i++) {
        const co_eval_row *row = &r->rows[i];
        size_t x = co_table_row(t), c = 3;
        if (row->rank)
            co_table_set_int(t, x, 0, row->rank);
        co_table_set_str(t, x, 1, row->key);
        co_table_set_str(t, x, 2, row->label);
        for (int k = 0; k < MAXC && pf->counters[k] != NO; k++)
            co_table_set_int(t, x, c++, row->c[pf->counters[k]]);
        for (int k = 0; k < MAXW && pf->w[k].ind != NO; k++)
            co_table_set_num(t, x, c++, row->value[pf->w[k].ind]);
        co_table_set_num(t, x, score_col, row->score);
        char g[2] = {row->grade, 0};
        if (row->grade)
            co_table_set_str(t, x, score_col + 1, g);
    }
    *out = t;
    return CO_OK;
}

json_t *co_eval_indicators_json(const co_eval_result *r)
{
    const profile *pf = &profiles[profile_of(r->type, r->role)];
    json_t *o = json_object();
    for (int k = 0; k < MAXW && pf->w[k].ind != NO; k++) {
        int i = pf->w[k].ind;
        json_object_set_new(o, inds[i].code,
                            json_pack("{s:s,s:s,s:f,s:s}", "zh", inds[i].zh, "en", inds[i].en,
                                      "weight", r->weights[i], "polarity",
                                      inds[i].den == NO ? "score"
                                      : inds[i].polarity > 0 ? "higher_better"
                                                             : "lower_better"));
    }
    return o;
}

/* ---------------------------------------------------------------- parsing */

co_err co_eval_type_parse(const char *s, co_eval_type *out)
{
    for (int i = 0; s && i < CO_EVAL_TYPE_COUNT; i++)
        if (!strcmp(s, type_names[i]) || (i == CO_EVAL_DEPT && !strcmp(s, "dept"))) {
            *out = (co_eval_type)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_eval_type_name(co_eval_type t)
{
    return (unsigned)t < CO_EVAL_TYPE_COUNT ? type_names[t] : "?";
}

co_err co_eval_indicator_parse(const char *s, co_eval_indicator *out)
{
    for (int i = 0; s && i < CO_EI_COUNT; i++)
        if (!strcmp(s, inds[i].code)) {
            *out = (co_eval_indicator)i;
            return CO_OK;
        }
    return CO_EINVAL;
}

const char *co_eval_indicator_name(co_eval_indicator i)
{
    return (unsigned)i < CO_EI_COUNT ? inds[i].code : "?";
}

/* One "code:weight" item. */
static co_err weight_item(const char *item, size_t n, co_eval_query *q)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return CO_EINVAL;
    memcpy(buf, item, n);
    buf[n] = '\0';
    char *colon = strchr(buf, ':');
    if (!colon)
        return CO_EINVAL;
    *colon = '\0';
    co_eval_indicator ind;
    double w;
    if (co_eval_indicator_parse(buf, &ind) || co_parse_double(colon + 1, 0, 1000, &w))
        return CO_EINVAL;
    q->weights[ind] = w;
    return CO_OK;
}

co_err co_eval_weights_parse(const char *s, co_eval_query *q)
{
    if (!s || !*s)
        return CO_EINVAL;
    for (const char *p = s;;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        co_err rc = weight_item(p, n, q);
        if (rc)
            return rc;
        if (!e)
            return CO_OK;
        p = e + 1;
    }
}
