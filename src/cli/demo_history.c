/* demo_history.c — a plausible two-year case history for the demo city,
 * generated through the real code paths: every case is registered with
 * co_wf_register and every step is decided by co_wf_decide and folded by
 * co_wf_apply, then appended to the event log and written as a case row
 * through store.h — exactly what the writer does, but in large transactions
 * so 200,000 cases take seconds. Deterministic for a seed.
 * Shape: daily volume with weekly, seasonal and growth patterns; hot spots
 * (a few grids get many more reports); categories by season (供暖/积雪 in
 * winter, 垃圾/积水/占道 in summer); most cases on time, some overdue,
 * reworked, extended, suspended, sent back, voided; hotline enquiries
 * answered directly; return visits with satisfaction; the last days still
 * open in every state. */
#include "cli/demo_history.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/workflow.h"
#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define TXN_CASES 4000

typedef struct gen {
    co_app *app;
    uint64_t s;
    int64_t now;
    co_taxonomy *tax;
    double *cat_w;            /* base weight per subclass */
    uint8_t *cat_season;      /* 0 all year, 1 winter, 2 summer */
    int32_t *grids;           /* area indexes of grids */
    double *grid_w;           /* cumulative weights */
    size_t ngrids;
    int32_t *comms;           /* communities without grids */
    size_t ncomms;
    int64_t cases, events;
    const char *inspectors[24], *operators[8], *shiftleads[4], *dispatchers[4];
    int ninspectors, noperators, nshiftleads, ndispatchers;
} gen;

static uint64_t rnd(gen *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unit(gen *g) { return (double)(rnd(g) >> 11) / 9007199254740992.0; }
static int chance(gen *g, double p) { return unit(g) < p; }
static size_t pick(gen *g, size_t n) { return (size_t)(unit(g) * (double)n) % (n ? n : 1); }

static const char *staff_names[] = {"inspector", "operator", "shiftlead", "dispatcher"};

static void init_staff(gen *g)
{
    static char names[40][24];
    int k = 0;
    g->inspectors[g->ninspectors++] = "inspector";
    for (int i = 2; i <= 20; i++, k++) {
        snprintf(names[k], sizeof names[k], "inspector%02d", i);
        g->inspectors[g->ninspectors++] = names[k];
    }
    g->operators[g->noperators++] = "operator";
    for (int i = 2; i <= 6; i++, k++) {
        snprintf(names[k], sizeof names[k], "operator%02d", i);
        g->operators[g->noperators++] = names[k];
    }
    g->shiftleads[g->nshiftleads++] = "shiftlead";
    for (int i = 2; i <= 3; i++, k++) {
        snprintf(names[k], sizeof names[k], "shiftlead%02d", i);
        g->shiftleads[g->nshiftleads++] = names[k];
    }
    g->dispatchers[g->ndispatchers++] = "dispatcher";
    for (int i = 2; i <= 3; i++, k++) {
        snprintf(names[k], sizeof names[k], "dispatcher%02d", i);
        g->dispatchers[g->ndispatchers++] = names[k];
    }
    (void)staff_names;
}

/* ------------------------------------------------------------ weights */

static int month_of(int64_t t)
{
    int64_t local = t + CO_TZ_SHANGHAI_SEC;
    int y, m, d;
    co_civil_from_days(local / 86400, &y, &m, &d);
    return m;
}

/* Which season a subclass belongs to, from its name. */
static uint8_t season_of(const char *name)
{
    static const char *const winter_words[] = {"供暖", "供热", "积雪", "结冰", "热力"};
    static const char *const summer_words[] = {"垃圾", "积水", "占道", "扬尘", "绿地", "乱停",
                                               "夜市", "噪"};
    for (size_t i = 0; i < sizeof winter_words / sizeof *winter_words; i++)
        if (strstr(name, winter_words[i]))
            return 1;
    for (size_t i = 0; i < sizeof summer_words / sizeof *summer_words; i++)
        if (strstr(name, summer_words[i]))
            return 2;
    return 0;
}

static double season_factor(uint8_t season, int month)
{
    int winter = month >= 11 || month <= 3, summer = month >= 5 && month <= 9;
    if (season == 1)
        return winter ? 6.0 : 0.15;
    if (season == 2)
        return summer ? 2.2 : 0.8;
    return 1.0;
}

static const co_taxonomy_subclass *pick_category(gen *g, int64_t t)
{
    size_t n = co_taxonomy_nsubclasses(g->tax);
    int month = month_of(t);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += g->cat_w[i] * season_factor(g->cat_season[i], month);
    double x = unit(g) * total;
    for (size_t i = 0; i < n; i++) {
        x -= g->cat_w[i] * season_factor(g->cat_season[i], month);
        if (x <= 0)
            return co_taxonomy_subclass_at(g->tax, i);
    }
    return co_taxonomy_subclass_at(g->tax, n - 1);
}

static co_category category_of(const co_taxonomy_subclass *s)
{
    int code = 0;
    for (const char *p = s->code; *p; p++)
        code = code * 10 + (*p - '0');
    return (co_category)((s->kind == CO_TAXONOMY_COMPONENT ? 1 : 2) * 10000 + code);
}

static void init_weights(gen *g)
{
    size_t n = co_taxonomy_nsubclasses(g->tax);
    g->cat_w = co_xcalloc(n, sizeof *g->cat_w);
    g->cat_season = co_xcalloc(n, sizeof *g->cat_season);
    for (size_t i = 0; i < n; i++) {
        const co_taxonomy_subclass *s = co_taxonomy_subclass_at(g->tax, i);
        g->cat_season[i] = season_of(s->name);
        /* events are reported more than components; a few subclasses dominate */
        double base = s->kind == CO_TAXONOMY_EVENT ? 1.6 : 0.8;
        g->cat_w[i] = base * (0.3 + 3.0 * pow(unit(g), 3));
    }
    const co_areas *as = g->app->areas;
    size_t na = co_areas_count(as);
    g->grids = co_xcalloc(na, sizeof *g->grids);
    g->grid_w = co_xcalloc(na, sizeof *g->grid_w);
    g->comms = co_xcalloc(na, sizeof *g->comms);
    double acc = 0;
    for (size_t i = 0; i < na; i++) {
        const co_area *a = co_areas_at(as, (int32_t)i);
        if (a->level == CO_LEVEL_GRID) {
            double w = chance(g, 0.03) ? 12.0 : 0.4 + unit(g); /* hot spots */
            acc += w;
            g->grids[g->ngrids] = (int32_t)i;
            g->grid_w[g->ngrids++] = acc;
        } else if (a->level == CO_LEVEL_COMMUNITY && a->nchildren == 0) {
            g->comms[g->ncomms++] = (int32_t)i;
        }
    }
}

static int32_t pick_grid(gen *g)
{
    double x = unit(g) * g->grid_w[g->ngrids - 1];
    size_t lo = 0, hi = g->ngrids - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->grid_w[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return g->grids[lo];
}

/* ------------------------------------------------------------ the case */

static void place(gen *g, co_case *c)
{
    co_app *app = g->app;
    int in_grid = g->ngrids && (!g->ncomms || chance(g, 0.82));
    int32_t idx = in_grid ? pick_grid(g) : g->comms[pick(g, g->ncomms)];
    const co_area *a = co_areas_at(app->areas, idx);
    for (int tries = 0; tries < 6; tries++) {
        double lon = a->minx + unit(g) * (a->maxx - a->minx);
        double lat = a->miny + unit(g) * (a->maxy - a->miny);
        if (co_intake_locate(app, lon, lat, c) == CO_OK &&
            (!in_grid || !strcmp(c->grid, a->code)))
            return;
    }
    if (co_intake_locate(app, a->cx, a->cy, c) != CO_OK)
        snprintf(c->community, sizeof c->community, "%s", a->code);
}

static const char *surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗";

static void caller(gen *g, co_case *c)
{
    size_t i = pick(g, strlen(surnames) / 3);
    static const char *const titles[] = {"先生", "女士"};
    snprintf(c->caller_name, sizeof c->caller_name, "%.3s%s", surnames + 3 * i,
             titles[pick(g, 2)]);
    static const char *const pre[] = {"138", "139", "150", "151", "158", "186", "187", "133"};
    snprintf(c->caller_phone, sizeof c->caller_phone, "%s%08llu", pre[pick(g, 8)],
             (unsigned long long)(rnd(g) % 100000000ull));
}

static void describe(gen *g, co_case *c, const co_taxonomy_subclass *s)
{
    static const char *const where[] = {"小区门口", "路口东侧", "公交站旁", "学校附近",
                                        "菜市场外", "背街小巷", "人行道上", "广场西侧"};
    static const char *const urge[] = {"，影响通行", "，请尽快处理", "，已持续多日",
                                       "，存在安全隐患", ""};
    char comm[CO_AREA_NAME_MAX] = "";
    const co_area *a = co_areas_at(g->app->areas, co_areas_find(g->app->areas, c->community));
    if (a)
        co_area_short_name(a->name, comm, sizeof comm);
    snprintf(c->description, sizeof c->description, "%s%s发现%s%s", comm, where[pick(g, 8)],
             s->name, urge[pick(g, 5)]);
    snprintf(c->address, sizeof c->address, "%s%s", comm, where[pick(g, 8)]);
}

static co_channel pick_channel(gen *g)
{
    double x = unit(g);
    return x < 0.45   ? CO_CH_INSPECTOR
           : x < 0.80 ? CO_CH_HOTLINE
           : x < 0.92 ? CO_CH_WEB
           : x < 0.95 ? CO_CH_OPEN311
           : x < 0.98 ? CO_CH_SENSOR
                      : CO_CH_IMPORT;
}

static co_reqtype pick_reqtype(gen *g)
{
    double x = unit(g);
    return x < 0.45   ? CO_RT_COMPLAINT
           : x < 0.65 ? CO_RT_HELP
           : x < 0.80 ? CO_RT_CONSULT
           : x < 0.90 ? CO_RT_REPORT
           : x < 0.97 ? CO_RT_SUGGESTION
                      : CO_RT_PRAISE;
}

/* ---------------------------------------------------------- the steps */

typedef struct run {
    gen *g;
    co_case c;
    int64_t t;        /* the simulated clock */
    int stopped;      /* the clock passed "now": the case stays open here */
} run;

/* Advances the clock by some working minutes of the default calendar. */
static void wait_work(run *r, double minutes)
{
    if (minutes < 1)
        minutes = 1;
    co_calendar_limit lim = {(int64_t)minutes, CO_CALENDAR_WM};
    int64_t due;
    const co_calendar *cal = co_depts_calendar(r->g->app->depts, r->c.dept);
    if (co_calendar_due(cal, r->t, lim, &due) == CO_OK)
        r->t = due - (int64_t)(unit(r->g) * 50);
    if (r->t > r->g->now)
        r->stopped = 1;
}

static co_err step(run *r, const char *action, const char *user, co_role role, json_t *params)
{
    if (r->stopped) {
        json_decref(params);
        return CO_OK;
    }
    gen *g = r->g;
    co_wf_actor who = {user, role, role == CO_ROLE_HANDLER ? r->c.dept : "", ""};
    co_event ev;
    char err[CO_WF_ERR_MAX];
    co_err rc = co_wf_decide(&g->app->env, &r->c, action, &who, params, r->t, &ev, err);
    json_decref(params);
    if (rc) {
        co_log_error("msg=\"demo step refused\" action=%s state=%s err=\"%s\"", action,
                     co_state_name(r->c.state), err);
        return rc;
    }
    if (!(rc = co_store_event_append(g->app->store, &ev)))
        rc = co_wf_apply(&r->c, &ev);
    co_event_clear(&ev);
    g->events++;
    return rc;
}

#define NOTE(s) json_pack("{s:s}", "note", s)

static const char *any(gen *g, const char *const *v, int n) { return v[pick(g, (size_t)n)]; }

static co_err life_before_dispatch(run *r)
{
    gen *g = r->g;
    co_err rc = CO_OK;
    const char *sl = any(g, g->shiftleads, g->nshiftleads);
    if (r->c.channel != CO_CH_INSPECTOR && chance(g, 0.35)) {
        wait_work(r, 5 + unit(g) * 20);
        rc = step(r, "verify_request", any(g, g->operators, g->noperators), CO_ROLE_OPERATOR, NULL);
        wait_work(r, 10 + unit(g) * (chance(g, 0.1) ? 120 : 40));
        if (!rc)
            rc = step(r, "verify", any(g, g->inspectors, g->ninspectors), CO_ROLE_INSPECTOR,
                      json_pack("{s:b}", "result", !chance(g, 0.06)));
    }
    wait_work(r, 10 + unit(g) * (chance(g, 0.08) ? 200 : 60));
    if (rc || r->stopped)
        return rc;
    if ((r->c.flags & CO_CF_VERIFY_FALSE) || chance(g, 0.03))
        return step(r, "void", sl, CO_ROLE_SHIFTLEAD, NOTE("不符合立案条件"));
    rc = step(r, "file", sl, CO_ROLE_SHIFTLEAD, NULL);
    wait_work(r, 5 + unit(g) * (chance(g, 0.07) ? 120 : 40));
    return rc;
}

static co_err dispatch_to(run *r, const char *dept)
{
    gen *g = r->g;
    json_t *p = dept ? json_pack("{s:s}", "dept", dept) : NULL;
    return step(r, "dispatch", any(g, g->dispatchers, g->ndispatchers), CO_ROLE_DISPATCHER, p);
}

static co_err handling(run *r)
{
    gen *g = r->g;
    char h[40];
    snprintf(h, sizeof h, "h-%s", r->c.dept);
    wait_work(r, 10 + unit(g) * 50);
    co_err rc = step(r, "accept", h, CO_ROLE_HANDLER, NULL);
    if (!rc && chance(g, 0.03)) {
        rc = step(r, "request_extension", h, CO_ROLE_HANDLER,
                  json_pack("{s:s,s:s}", "limit", "2wd", "note", "需协调施工队，申请延期"));
        wait_work(r, 30);
        if (!rc)
            rc = step(r, "approve_extension", any(g, g->shiftleads, g->nshiftleads),
                      CO_ROLE_SHIFTLEAD, json_pack("{s:s}", "limit", "2wd"));
    }
    if (!rc && chance(g, 0.01)) {
        rc = step(r, "request_suspension", h, CO_ROLE_HANDLER, NOTE("季节性原因无法施工，申请挂账"));
        wait_work(r, 60);
        if (!rc)
            rc = step(r, "approve_suspension", any(g, g->shiftleads, g->nshiftleads),
                      CO_ROLE_SHIFTLEAD, NULL);
        wait_work(r, 60 * 7 * (5 + unit(g) * 20));
        if (!rc)
            rc = step(r, "resume", any(g, g->shiftleads, g->nshiftleads), CO_ROLE_SHIFTLEAD, NULL);
    }
    if (rc || r->stopped)
        return rc;
    /* how long the work takes: mostly within the limit, sometimes over */
    int64_t limit = 0;
    const co_calendar *cal = co_depts_calendar(g->app->depts, r->c.dept);
    if (r->c.disposal_due > r->t && co_calendar_worked(cal, r->t, r->c.disposal_due, &limit))
        limit = 3600;
    double frac = chance(g, 0.07) ? 1.05 + unit(g) * 0.8 : 0.1 + unit(g) * 0.8;
    wait_work(r, (double)limit / 60.0 * frac);
    return step(r, "handle", h, CO_ROLE_HANDLER,
                json_pack("{s:s}", "note", "已到场处置完毕，现场已恢复"));
}

static co_err check_and_close(run *r)
{
    gen *g = r->g;
    co_err rc = CO_OK;
    for (int round = 0; !rc && !r->stopped; round++) {
        wait_work(r, 5 + unit(g) * 40);
        rc = step(r, "request_check", any(g, g->operators, g->noperators), CO_ROLE_OPERATOR, NULL);
        wait_work(r, 10 + unit(g) * (chance(g, 0.1) ? 100 : 45));
        const char *insp = any(g, g->inspectors, g->ninspectors);
        if (!rc && round < 2 && chance(g, 0.05)) {
            rc = step(r, "check_fail", insp, CO_ROLE_INSPECTOR, NOTE("现场仍未处置到位，返工"));
            if (!rc)
                rc = handling(r);
            continue;
        }
        if (!rc)
            rc = step(r, "check_pass", insp, CO_ROLE_INSPECTOR, NOTE("核查属实，已处置"));
        wait_work(r, 5 + unit(g) * 40);
        if (!rc)
            rc = step(r, "close", any(g, g->shiftleads, g->nshiftleads), CO_ROLE_SHIFTLEAD, NULL);
        break;
    }
    return rc;
}

static co_err visit(run *r)
{
    gen *g = r->g;
    if (r->stopped || r->c.state != CO_ST_CLOSED || r->c.caller_phone[0] == '\0' || chance(g, 0.2))
        return CO_OK;
    wait_work(r, 60 + unit(g) * 400);
    int reached = !chance(g, 0.06);
    double x = unit(g);
    const char *sat = x < 0.78 ? "satisfied" : x < 0.93 ? "basic" : "unsatisfied";
    json_t *p = reached ? json_pack("{s:b,s:s,s:b}", "contacted", 1, "satisfaction", sat,
                                    "resolved", strcmp(sat, "unsatisfied") != 0)
                        : json_pack("{s:b}", "contacted", 0);
    return step(r, "visit", any(g, g->operators, g->noperators), CO_ROLE_OPERATOR, p);
}

static co_err life(run *r)
{
    gen *g = r->g;
    co_err rc;
    if (r->c.channel == CO_CH_HOTLINE &&
        (r->c.reqtype == CO_RT_CONSULT || r->c.reqtype == CO_RT_SUGGESTION ||
         r->c.reqtype == CO_RT_PRAISE) &&
        chance(g, 0.7)) {
        wait_work(r, 3 + unit(g) * 10);
        rc = step(r, "answer", r->c.reporter, CO_ROLE_OPERATOR, NOTE("已直接答复来电人"));
        return rc ? rc : visit(r);
    }
    if ((rc = life_before_dispatch(r)) || r->stopped || r->c.state != CO_ST_FILED)
        return rc;
    const char *wrong = NULL;
    if (chance(g, 0.03)) { /* misrouted first: the department sends it back */
        const co_dept *d = co_depts_at(g->app->depts, pick(g, co_depts_count(g->app->depts)));
        wrong = d && strcmp(d->code, r->c.routed_dept) ? d->code : NULL;
    }
    if (!r->c.routed_dept[0] && !wrong)
        wrong = "D-CG";
    if ((rc = dispatch_to(r, wrong)) || r->stopped)
        return rc;
    if (wrong && r->c.routed_dept[0]) {
        char h[40];
        snprintf(h, sizeof h, "h-%s", r->c.dept);
        wait_work(r, 20 + unit(g) * 60);
        if ((rc = step(r, "send_back", h, CO_ROLE_HANDLER, NOTE("非本部门职责，申请回退"))))
            return rc;
        wait_work(r, 10 + unit(g) * 30);
        if ((rc = dispatch_to(r, NULL)))
            return rc;
    }
    if ((rc = handling(r)) || r->stopped)
        return rc;
    if ((rc = check_and_close(r)))
        return rc;
    return visit(r);
}

static co_err one_case(gen *g, int64_t created)
{
    run r = {.g = g, .t = created};
    co_case *c = &r.c;
    memset(c, 0, sizeof *c);
    c->lon = c->lat = NAN;
    c->id = g->cases + 1;
    c->channel = pick_channel(g);
    const co_taxonomy_subclass *s = pick_category(g, created);
    c->category = category_of(s);
    double sx = unit(g);
    c->severity = sx < 0.85 ? CO_SEV_NORMAL : sx < 0.97 ? CO_SEV_URGENT : CO_SEV_CRITICAL;
    c->tax_version = (int32_t)g->app->tax_current;
    place(g, c);
    describe(g, c, s);
    if (c->channel == CO_CH_HOTLINE || c->channel == CO_CH_WEB) {
        caller(g, c);
        c->reqtype = c->channel == CO_CH_HOTLINE ? pick_reqtype(g) : CO_RT_REPORT;
        if (c->reqtype == CO_RT_CONSULT && chance(g, 0.5))
            c->category = CO_CATEGORY_NONE;
    }
    const char *rep = c->channel == CO_CH_INSPECTOR  ? any(g, g->inspectors, g->ninspectors)
                      : c->channel == CO_CH_HOTLINE ? any(g, g->operators, g->noperators)
                                                    : "";
    snprintf(c->reporter, sizeof c->reporter, "%s", rep);
    if (c->channel == CO_CH_INSPECTOR)
        c->flags |= CO_CF_VERIFIED;
    co_case_number_format(created, 0, c->number);
    c->number[8] = '\0';
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s", c->number);
    static char last_day[16];
    static int64_t seq;
    if (strcmp(last_day, prefix)) {
        snprintf(last_day, sizeof last_day, "%s", prefix);
        seq = 0;
    }
    co_case_number_format(created, ++seq, c->number);
    co_wf_actor who = {rep, c->channel == CO_CH_INSPECTOR ? CO_ROLE_INSPECTOR : CO_ROLE_OPERATOR,
                       "", ""};
    co_event ev;
    co_err rc = co_wf_register(&g->app->env, c, &who, created, &ev, c);
    if (!rc && !(rc = co_store_event_append(g->app->store, &ev)))
        c->last_seq = ev.seq;
    co_event_clear(&ev);
    g->events++;
    if (!rc)
        rc = life(&r);
    if (!rc)
        rc = co_store_case_put(g->app->store, c);
    g->cases++;
    return rc;
}

/* Cases per day: weekly rhythm, seasons (spring and summer busier), growth. */
static int day_volume(gen *g, int64_t day, int64_t first, int64_t days, double per_day)
{
    int64_t dow = (day + 4) % 7; /* 1970-01-01 was a Thursday; 0 = Sunday */
    double w = dow == 0 || dow == 6 ? 0.55 : 1.0;
    int y, m, d;
    co_civil_from_days(day, &y, &m, &d);
    double season = 1.0 + 0.25 * sin((m - 3) / 12.0 * 2 * M_PI);
    double growth = 0.8 + 0.4 * (double)(day - first) / (double)days;
    double v = per_day * w * season * growth * (0.85 + 0.3 * unit(g));
    return (int)(v + 0.5);
}

co_err co_demo_history(co_app *app, int64_t ncases, int64_t now, uint64_t seed, int64_t *made)
{
    gen g = {.app = app, .s = seed, .now = now};
    g.tax = co_app_taxonomy(app);
    init_staff(&g);
    init_weights(&g);
    co_err rc = CO_OK;
    int64_t days = 730, last = co_calendar_local_day(now), first = last - days + 1;
    double per_day = (double)ncases / days / 0.86; /* weekly rhythm and noise average ~0.86 */
    int64_t in_txn = 0;
    if ((rc = co_store_begin(app->store)))
        goto out;
    for (int64_t day = first; day <= last && !rc; day++) {
        int n = day_volume(&g, day, first, days, per_day);
        for (int i = 0; i < n && !rc; i++) {
            /* hours of the day: mostly working hours */
            double hour = chance(&g, 0.8) ? 8 + unit(&g) * 10 : unit(&g) * 24;
            int64_t t = day * 86400 - CO_TZ_SHANGHAI_SEC + (int64_t)(hour * 3600);
            if (t >= now)
                continue;
            rc = one_case(&g, t);
            if (!rc && ++in_txn >= TXN_CASES) {
                if (!(rc = co_store_commit(app->store)))
                    rc = co_store_begin(app->store);
                in_txn = 0;
            }
        }
    }
    if (!rc) { /* generated texts are templates: the classifier must not learn from them */
        char max_id[24];
        snprintf(max_id, sizeof max_id, "%lld", (long long)g.cases);
        rc = co_store_meta_set(app->store, "demo_history_max_id", max_id);
    }
    if (!rc)
        rc = co_store_commit(app->store);
    else if (co_store_rollback(app->store))
        co_log_error("msg=\"rollback failed\"");
    co_log_info("msg=\"demo history\" cases=%lld events=%lld", (long long)g.cases,
                (long long)g.events);
    *made = g.cases;
out:
    co_taxonomy_free(g.tax);
    co_free(g.cat_w);
    co_free(g.cat_season);
    co_free(g.grids);
    co_free(g.grid_w);
    co_free(g.comms);
    return rc;
}
