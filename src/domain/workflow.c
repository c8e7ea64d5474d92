/* workflow.c — the transition table and what each action means.
 * One row per action: the states it starts from, the roles that may take
 * it, an optional guard on the case's flags, the state it leads to, a
 * `decide` function that validates parameters and records computed values in
 * the event's data, and an `apply` function that folds that data into the
 * case. Reading `actions[]` below tells what the loop allows. */
#include "domain/workflow.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lib/timeutil.h"

#define M(s) (1u << (s))
#define OPEN_BEFORE_DISPATCH (M(CO_ST_REGISTERED) | M(CO_ST_VERIFYING) | M(CO_ST_FILED))
#define ANY_STATE (((1u << CO_ST_COUNT) - 1) & ~M(CO_ST_NONE))

typedef struct wf_call {
    const co_wf_env *env;
    const co_case *c;
    const co_wf_actor *who;
    json_t *params;   /* borrowed, may be NULL */
    json_t *data;     /* event data being built */
    int64_t now;
    co_state to;      /* may be changed by decide */
    char *err;
} wf_call;

typedef int (*wf_guard)(const co_case *c);
typedef co_err (*wf_decide_fn)(wf_call *k);
typedef void (*wf_apply_fn)(co_case *c, const co_event *ev);

typedef struct wf_action {
    const char *name;
    const char *zh;
    unsigned from;     /* mask of states */
    unsigned roles;    /* mask of roles */
    wf_guard guard;    /* NULL = none */
    co_state to;       /* CO_ST_NONE = stays */
    int own_dept;      /* handler must belong to c->dept */
    wf_decide_fn decide;
    wf_apply_fn apply;
} wf_action;

/* ---------------------------------------------------------------- helpers */

static co_err fail(wf_call *k, co_err rc, const char *msg)
{
    snprintf(k->err, CO_WF_ERR_MAX, "%s", msg);
    return rc;
}

static const char *param_str(wf_call *k, const char *key)
{
    return k->params ? json_string_value(json_object_get(k->params, key)) : NULL;
}

/* Copies an optional note (≤ 1000 bytes); required → CO_EINVAL when absent. */
static co_err take_note(wf_call *k, int required)
{
    const char *note = param_str(k, "note");
    if (note && strlen(note) > 1000)
        return fail(k, CO_EINVAL, "note 过长 / note longer than 1000 bytes");
    if (required && (!note || !*note))
        return fail(k, CO_EINVAL, "需要说明 / a \"note\" is required for this action");
    if (note && *note)
        json_object_set_new(k->data, "note", json_string(note));
    return CO_OK;
}

static co_err take_photos(wf_call *k)
{
    json_t *p = k->params ? json_object_get(k->params, "photos") : NULL;
    if (!p)
        return CO_OK;
    if (!json_is_array(p) || json_array_size(p) > CO_PHOTOS_MAX)
        return fail(k, CO_EINVAL, "photos 必须是最多 8 个媒体编号的数组 / photos must be an "
                                  "array of at most 8 media ids");
    size_t i;
    json_t *v;
    json_array_foreach(p, i, v)
    {
        const char *h = json_string_value(v);
        if (!h || strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
            return fail(k, CO_EINVAL, "photos 中有无效的媒体编号 / invalid media id in photos");
    }
    json_object_set(k->data, "photos", p);
    return CO_OK;
}

static const co_calendar *cal_of(wf_call *k, const char *dept)
{
    return k->env->calendar(k->env->arg, dept ? dept : "");
}

static int64_t due_after(wf_call *k, const char *dept, int64_t from, const char *limit)
{
    co_calendar_limit lim;
    int64_t due = 0;
    if (co_calendar_limit_parse(limit, &lim) || co_calendar_due(cal_of(k, dept), from, lim, &due))
        return 0;
    return due;
}

static void set_step_due(wf_call *k, const char *dept, const char *limit)
{
    json_object_set_new(k->data, "step_due", json_integer(due_after(k, dept, k->now, limit)));
}

static int late(const wf_call *k)
{
    return k->c->step_due > 0 && k->now > k->c->step_due;
}

static int64_t jint(const co_event *ev, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(ev->data, key));
}

static int jbool(const co_event *ev, const char *key)
{
    return json_is_true(json_object_get(ev->data, key));
}

static void jcopy(char *dst, size_t len, const co_event *ev, const char *key)
{
    const char *s = json_string_value(json_object_get(ev->data, key));
    if (s)
        snprintf(dst, len, "%s", s);
}

static void apply_photos(co_case *c, const co_event *ev)
{
    json_t *p = json_object_get(ev->data, "photos");
    size_t i;
    json_t *v;
    json_array_foreach(p, i, v)
    {
        if (c->nphotos >= CO_PHOTOS_MAX)
            break;
        snprintf(c->photos[c->nphotos++], CO_HASH_HEX, "%s", json_string_value(v));
    }
}

static void apply_step(co_case *c, const co_event *ev)
{
    if (json_object_get(ev->data, "step_due")) {
        c->step_started = ev->ts;
        c->step_due = jint(ev, "step_due");
    }
}

/* ------------------------------------------------------------ the actions */

static int is_ext_pending(const co_case *c) { return (c->flags & CO_CF_EXT_PENDING) != 0; }
static int is_susp_pending(const co_case *c) { return (c->flags & CO_CF_SUSP_PENDING) != 0; }
static int no_request_pending(const co_case *c)
{
    return !(c->flags & (CO_CF_EXT_PENDING | CO_CF_SUSP_PENDING));
}
/* A return visit needs someone to call: not yet visited and a caller phone. */
static int visitable(const co_case *c)
{
    return !(c->flags & CO_CF_VISITED) && c->caller_phone[0] != '\0';
}
static int is_hotline_consult(const co_case *c)
{
    return c->reqtype == CO_RT_CONSULT || c->reqtype == CO_RT_PRAISE ||
           c->reqtype == CO_RT_SUGGESTION;
}

static co_err d_note_required(wf_call *k) { return take_note(k, 1); }

static co_err d_verify_request(wf_call *k)
{
    set_step_due(k, "", CO_WF_LIMIT_VERIFY);
    return take_note(k, 0);
}

static co_err d_verify(wf_call *k)
{
    json_t *res = k->params ? json_object_get(k->params, "result") : NULL;
    if (!json_is_boolean(res))
        return fail(k, CO_EINVAL, "需要核实结果 result: true|false / \"result\" (boolean) is required");
    json_object_set(k->data, "result", res);
    json_object_set_new(k->data, "late", json_boolean(late(k)));
    set_step_due(k, "", CO_WF_LIMIT_FILE);
    co_err rc = take_photos(k);
    return rc ? rc : take_note(k, 0);
}

static void a_verify(co_case *c, const co_event *ev)
{
    c->flags &= ~(unsigned)(CO_CF_VERIFIED | CO_CF_VERIFY_FALSE);
    c->flags |= jbool(ev, "result") ? CO_CF_VERIFIED : CO_CF_VERIFY_FALSE;
    if (jbool(ev, "late"))
        c->flags |= CO_CF_VERIFY_LATE;
    apply_photos(c, ev);
}

static co_err take_category(wf_call *k, int required)
{
    const char *cat = param_str(k, "category");
    const char *sev = param_str(k, "severity");
    co_category cc = k->c->category;
    co_severity sv;
    if (cat && (co_category_parse(cat, &cc) || !k->env->category_exists(k->env->arg, cc)))
        return fail(k, CO_EINVAL, "未知的类别 / unknown category (want e.g. \"C0101\" or \"E0102\")");
    if (cat)
        json_object_set_new(k->data, "category", json_string(cat));
    if (sev && co_severity_parse(sev, &sv))
        return fail(k, CO_EINVAL, "severity 只能是 normal|urgent|critical");
    if (sev)
        json_object_set_new(k->data, "severity", json_string(sev));
    if (required && cc == CO_CATEGORY_NONE && k->c->reqtype == CO_RT_NONE)
        return fail(k, CO_EINVAL, "立案需要类别 / filing needs a \"category\"");
    /* routing with the possibly new category */
    co_case tmp = *k->c;
    tmp.category = cc;
    char dept[64] = "";
    k->env->route(k->env->arg, &tmp, dept, sizeof dept);
    json_object_set_new(k->data, "routed_dept", json_string(dept));
    return CO_OK;
}

static co_err d_file(wf_call *k)
{
    co_err rc = take_category(k, 1);
    if (rc)
        return rc;
    json_object_set_new(k->data, "late", json_boolean(late(k)));
    set_step_due(k, "", CO_WF_LIMIT_DISPATCH);
    return take_note(k, 0);
}

static void a_category(co_case *c, const co_event *ev)
{
    const char *cat = json_string_value(json_object_get(ev->data, "category"));
    const char *sev = json_string_value(json_object_get(ev->data, "severity"));
    co_category cc;
    co_severity sv;
    if (cat && co_category_parse(cat, &cc) == CO_OK)
        c->category = cc;
    if (sev && co_severity_parse(sev, &sv) == CO_OK)
        c->severity = sv;
    jcopy(c->routed_dept, sizeof c->routed_dept, ev, "routed_dept");
}

static void a_file(co_case *c, const co_event *ev)
{
    a_category(c, ev);
    if (jbool(ev, "late"))
        c->flags |= CO_CF_FILE_LATE;
}

static co_err d_reclassify(wf_call *k)
{
    co_err rc = take_category(k, 0);
    return rc ? rc : take_note(k, 0);
}

static co_err d_dispatch(wf_call *k)
{
    const char *dept = param_str(k, "dept");
    if (!dept || !*dept)
        dept = k->c->routed_dept;
    if (!dept || !*dept)
        return fail(k, CO_EINVAL, "需要处置部门 / \"dept\" is required (no routing rule matched)");
    if (!k->env->dept_exists(k->env->arg, dept))
        return fail(k, CO_EINVAL, "未知的部门 / unknown department");
    json_object_set_new(k->data, "dept", json_string(dept));
    json_object_set_new(k->data, "late", json_boolean(late(k)));
    int misdispatch = k->c->first_dept[0] && strcmp(k->c->first_dept, dept) != 0;
    json_object_set_new(k->data, "misdispatch", json_boolean(misdispatch));
    co_case tmp = *k->c;
    snprintf(tmp.dept, sizeof tmp.dept, "%s", dept);
    co_calendar_limit lim = k->env->disposal_limit(k->env->arg, &tmp);
    int64_t due = 0;
    if (co_calendar_due(cal_of(k, dept), k->now, lim, &due))
        return fail(k, CO_EINTERNAL, "无法计算处置时限 / cannot compute the disposal deadline");
    json_object_set_new(k->data, "disposal_due", json_integer(due));
    set_step_due(k, dept, CO_WF_LIMIT_ACCEPT);
    return take_note(k, 0);
}

static void a_dispatch(co_case *c, const co_event *ev)
{
    jcopy(c->dept, sizeof c->dept, ev, "dept");
    if (!c->first_dept[0])
        snprintf(c->first_dept, sizeof c->first_dept, "%s", c->dept);
    if (!c->dispatched_at)
        c->dispatched_at = ev->ts;
    c->disposal_due = jint(ev, "disposal_due");
    c->dispatches++;
    if (jbool(ev, "late"))
        c->flags |= CO_CF_DISPATCH_LATE;
    if (jbool(ev, "misdispatch"))
        c->flags |= CO_CF_MISDISPATCH;
}

static co_err d_accept(wf_call *k)
{
    json_object_set_new(k->data, "step_due", json_integer(k->c->disposal_due));
    return take_note(k, 0);
}

static co_err d_send_back(wf_call *k)
{
    set_step_due(k, "", CO_WF_LIMIT_DISPATCH);
    return take_note(k, 1);
}

static void a_send_back(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags |= CO_CF_SENT_BACK;
    c->dept[0] = '\0';
    c->disposal_due = 0;
}

static co_err d_handle(wf_call *k)
{
    co_err rc = take_photos(k);
    if (rc || (rc = take_note(k, 1)))
        return rc;
    json_object_set_new(k->data, "late",
                        json_boolean(k->c->disposal_due > 0 && k->now > k->c->disposal_due));
    set_step_due(k, "", CO_WF_LIMIT_REQCHECK);
    return CO_OK;
}

static void a_handle(co_case *c, const co_event *ev)
{
    c->handled_at = ev->ts;
    if (jbool(ev, "late"))
        c->flags |= CO_CF_HANDLED_LATE | CO_CF_EVER_OVERDUE;
    else
        c->flags &= ~(unsigned)CO_CF_HANDLED_LATE;
    apply_photos(c, ev);
}

static co_err d_request_extension(wf_call *k)
{
    const char *limit = param_str(k, "limit");
    co_calendar_limit lim;
    if (!limit || co_calendar_limit_parse(limit, &lim))
        return fail(k, CO_EINVAL, "需要延期时长 limit，如 \"2wd\" 或 \"4wh\" / \"limit\" such as "
                                  "\"2wd\" or \"4wh\" is required");
    json_object_set_new(k->data, "limit", json_string(limit));
    return take_note(k, 1);
}

static void a_flag_ext(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags |= CO_CF_EXT_PENDING;
}

static co_err d_approve_extension(wf_call *k)
{
    /* the requested limit is in the case's last request event: the API passes
     * it back as "limit" (the UI shows it); a shift lead may change it */
    const char *limit = param_str(k, "limit");
    co_calendar_limit lim;
    if (!limit || co_calendar_limit_parse(limit, &lim))
        return fail(k, CO_EINVAL, "需要批准的延期时长 limit / \"limit\" is required");
    int64_t base = k->c->disposal_due > k->now ? k->c->disposal_due : k->now;
    int64_t due;
    if (co_calendar_due(cal_of(k, k->c->dept), base, lim, &due))
        return fail(k, CO_EINTERNAL, "无法计算 / cannot compute the new deadline");
    json_object_set_new(k->data, "limit", json_string(limit));
    json_object_set_new(k->data, "disposal_due", json_integer(due));
    json_object_set_new(k->data, "step_due", json_integer(due));
    return take_note(k, 0);
}

static void a_approve_extension(co_case *c, const co_event *ev)
{
    c->flags &= ~(unsigned)CO_CF_EXT_PENDING;
    c->flags |= CO_CF_EXTENDED;
    c->extensions++;
    c->disposal_due = jint(ev, "disposal_due");
}

static void a_reject_extension(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags &= ~(unsigned)CO_CF_EXT_PENDING;
}

static void a_flag_susp(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags |= CO_CF_SUSP_PENDING;
}

static co_err d_approve_suspension(wf_call *k)
{
    int64_t left = 0;
    if (k->c->disposal_due > k->now &&
        co_calendar_worked(cal_of(k, k->c->dept), k->now, k->c->disposal_due, &left))
        return fail(k, CO_EINTERNAL, "无法计算 / cannot compute the time left");
    json_object_set_new(k->data, "disposal_left", json_integer(left));
    json_object_set_new(k->data, "step_due", json_integer(0));
    return take_note(k, 0);
}

static void a_approve_suspension(co_case *c, const co_event *ev)
{
    c->flags &= ~(unsigned)CO_CF_SUSP_PENDING;
    c->flags |= CO_CF_SUSPENDED_ONCE;
    c->disposal_left = jint(ev, "disposal_left");
}

static void a_reject_suspension(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags &= ~(unsigned)CO_CF_SUSP_PENDING;
}

static co_err d_resume(wf_call *k)
{
    int64_t left = k->c->disposal_left;
    int64_t due = k->now;
    if (left > 0) {
        co_calendar_limit lim = {(left + 59) / 60, CO_CALENDAR_WM};
        if (co_calendar_due(cal_of(k, k->c->dept), k->now, lim, &due))
            return fail(k, CO_EINTERNAL, "无法计算 / cannot compute the new deadline");
    }
    json_object_set_new(k->data, "disposal_due", json_integer(due));
    json_object_set_new(k->data, "step_due", json_integer(due));
    return take_note(k, 0);
}

static void a_resume(co_case *c, const co_event *ev)
{
    c->disposal_due = jint(ev, "disposal_due");
    c->disposal_left = 0;
}

static co_err d_request_check(wf_call *k)
{
    set_step_due(k, "", CO_WF_LIMIT_CHECK);
    return take_note(k, 0);
}

static co_err d_check(wf_call *k)
{
    co_err rc = take_photos(k);
    if (rc || (rc = take_note(k, k->to == CO_ST_DISPATCHED)))
        return rc;
    json_object_set_new(k->data, "late", json_boolean(late(k)));
    if (k->to == CO_ST_CHECKED) {
        set_step_due(k, "", CO_WF_LIMIT_CLOSE);
        return CO_OK;
    }
    /* 返工: back to the same department with a fresh disposal limit */
    co_calendar_limit lim = k->env->disposal_limit(k->env->arg, k->c);
    int64_t due = 0;
    if (co_calendar_due(cal_of(k, k->c->dept), k->now, lim, &due))
        return fail(k, CO_EINTERNAL, "无法计算 / cannot compute the deadline");
    json_object_set_new(k->data, "dept", json_string(k->c->dept));
    json_object_set_new(k->data, "disposal_due", json_integer(due));
    set_step_due(k, k->c->dept, CO_WF_LIMIT_ACCEPT);
    return CO_OK;
}

static void a_check_pass(co_case *c, const co_event *ev)
{
    if (jbool(ev, "late"))
        c->flags |= CO_CF_CHECK_LATE;
    apply_photos(c, ev);
}

static void a_check_fail(co_case *c, const co_event *ev)
{
    if (jbool(ev, "late"))
        c->flags |= CO_CF_CHECK_LATE;
    c->rework++;
    c->dispatches++;
    c->disposal_due = jint(ev, "disposal_due");
    c->handled_at = 0;
    apply_photos(c, ev);
}

static co_err d_close(wf_call *k)
{
    const char *t = param_str(k, "close_type");
    co_close_type ct = (k->c->flags & CO_CF_HANDLED_LATE) ? CO_CLOSE_OVERDUE : CO_CLOSE_NORMAL;
    if (t) {
        co_close_type asked;
        if (co_close_type_parse(t, &asked))
            return fail(k, CO_EINVAL, "close_type 只能是 normal|overdue|special");
        if (asked == CO_CLOSE_SPECIAL)
            ct = asked;
    }
    json_object_set_new(k->data, "close_type", json_string(co_close_type_name(ct)));
    json_object_set_new(k->data, "late", json_boolean(late(k)));
    json_object_set_new(k->data, "step_due", json_integer(0));
    return take_note(k, ct == CO_CLOSE_SPECIAL);
}

static void a_close(co_case *c, const co_event *ev)
{
    const char *t = json_string_value(json_object_get(ev->data, "close_type"));
    co_close_type ct = CO_CLOSE_NORMAL;
    if (t && co_close_type_parse(t, &ct))
        ct = CO_CLOSE_NORMAL;
    c->close_type = ct;
    c->closed_at = ev->ts;
}

static co_err d_answer(wf_call *k)
{
    json_object_set_new(k->data, "close_type", json_string("normal"));
    json_object_set_new(k->data, "step_due", json_integer(0));
    return take_note(k, 1);
}

static void a_answer(co_case *c, const co_event *ev)
{
    c->flags |= CO_CF_DIRECT;
    a_close(c, ev);
}

static co_err d_reopen(wf_call *k)
{
    set_step_due(k, "", CO_WF_LIMIT_DISPATCH);
    return take_note(k, 1);
}

static void a_reopen(co_case *c, const co_event *ev)
{
    (void)ev;
    c->flags |= CO_CF_REOPENED;
    c->flags &= ~(unsigned)(CO_CF_VISITED | CO_CF_CONTACTED | CO_CF_RESOLVED);
    c->satisfaction = CO_SAT_NONE;
    c->close_type = CO_CLOSE_NONE;
    c->closed_at = 0;
    c->handled_at = 0;
    c->dept[0] = '\0';
}

static co_err d_merge(wf_call *k)
{
    const char *into = param_str(k, "into");
    if (!into || strlen(into) < 8 || strlen(into) >= CO_NUMBER_MAX ||
        !strcmp(into, k->c->number))
        return fail(k, CO_EINVAL, "需要目标案件编号 into / \"into\" (another case number) is required");
    json_t *score = k->params ? json_object_get(k->params, "score") : NULL;
    if (score && !json_is_null(score) &&
        (!json_is_number(score) || json_number_value(score) < 0 || json_number_value(score) > 1))
        return fail(k, CO_EINVAL, "score 必须是 0–1 的数 / \"score\" must be a number in [0, 1]");
    json_object_set_new(k->data, "into", json_string(into));
    if (score && json_is_number(score))
        json_object_set_new(k->data, "score", json_real(json_number_value(score)));
    if (k->who->username && !strcmp(k->who->username, CO_WF_SYSTEM_ACTOR))
        json_object_set_new(k->data, "auto", json_true());
    json_object_set_new(k->data, "step_due", json_integer(0));
    return take_note(k, 0);
}

static void a_merge(co_case *c, const co_event *ev)
{
    jcopy(c->merged_into, sizeof c->merged_into, ev, "into");
    c->flags &= ~(unsigned)(CO_CF_PREMERGE_VERIFYING | CO_CF_PREMERGE_FILED);
    if (c->state == CO_ST_VERIFYING)
        c->flags |= CO_CF_PREMERGE_VERIFYING;
    else if (c->state == CO_ST_FILED)
        c->flags |= CO_CF_PREMERGE_FILED;
}

/* 取消合并: back to the state the case had before the merge (recorded in
 * its flags by a_merge), with a fresh limit for that step. */
static co_err d_unmerge(wf_call *k)
{
    const co_case *c = k->c;
    k->to = (c->flags & CO_CF_PREMERGE_VERIFYING) ? CO_ST_VERIFYING
            : (c->flags & CO_CF_PREMERGE_FILED)   ? CO_ST_FILED
                                                  : CO_ST_REGISTERED;
    json_object_set_new(k->data, "from_master", json_string(c->merged_into));
    set_step_due(k, "", k->to == CO_ST_VERIFYING ? CO_WF_LIMIT_VERIFY
                        : k->to == CO_ST_FILED   ? CO_WF_LIMIT_DISPATCH
                                                 : CO_WF_LIMIT_FILE);
    return take_note(k, 0);
}

static void a_unmerge(co_case *c, const co_event *ev)
{
    (void)ev;
    c->merged_into[0] = '\0';
    c->flags &= ~(unsigned)(CO_CF_PREMERGE_VERIFYING | CO_CF_PREMERGE_FILED);
}

static co_err d_visit(wf_call *k)
{
    const char *s = param_str(k, "satisfaction");
    co_satisfaction sat;
    json_t *contacted = k->params ? json_object_get(k->params, "contacted") : NULL;
    json_t *resolved = k->params ? json_object_get(k->params, "resolved") : NULL;
    if (contacted && !json_is_boolean(contacted))
        return fail(k, CO_EINVAL, "contacted 必须是布尔值 / \"contacted\" must be a boolean");
    if (resolved && !json_is_boolean(resolved))
        return fail(k, CO_EINVAL, "resolved 必须是布尔值 / \"resolved\" must be a boolean");
    int reached = !contacted || json_is_true(contacted);
    if (reached && (!s || co_satisfaction_parse(s, &sat)))
        return fail(k, CO_EINVAL, "需要满意度 satisfaction: satisfied|basic|unsatisfied");
    json_object_set_new(k->data, "contacted", json_boolean(reached));
    json_object_set_new(k->data, "resolved", json_boolean(resolved ? json_is_true(resolved) : reached && strcmp(s, "unsatisfied") != 0));
    if (reached)
        json_object_set_new(k->data, "satisfaction", json_string(s));
    return take_note(k, 0);
}

static void a_visit(co_case *c, const co_event *ev)
{
    c->flags |= CO_CF_VISITED;
    if (jbool(ev, "contacted"))
        c->flags |= CO_CF_CONTACTED;
    if (jbool(ev, "resolved"))
        c->flags |= CO_CF_RESOLVED;
    const char *s = json_string_value(json_object_get(ev->data, "satisfaction"));
    co_satisfaction sat;
    if (s && co_satisfaction_parse(s, &sat) == CO_OK)
        c->satisfaction = sat;
}

static void a_none(co_case *c, const co_event *ev)
{
    (void)c;
    (void)ev;
}

#define R(x) CO_R(x)

static const wf_action actions[] = {
    /* name, zh, from states, roles, guard, to, own dept, decide, apply */
    {"verify_request", "发核实", M(CO_ST_REGISTERED), R(OPERATOR) | R(SHIFTLEAD), NULL,
     CO_ST_VERIFYING, 0, d_verify_request, a_none},
    {"verify", "核实", M(CO_ST_VERIFYING), R(INSPECTOR), NULL, CO_ST_REGISTERED, 0, d_verify,
     a_verify},
    {"reclassify", "修改分类", OPEN_BEFORE_DISPATCH, R(OPERATOR) | R(SHIFTLEAD) | R(DISPATCHER),
     NULL, CO_ST_NONE, 0, d_reclassify, a_category},
    {"file", "立案", M(CO_ST_REGISTERED), R(SHIFTLEAD), NULL, CO_ST_FILED, 0, d_file, a_file},
    {"void", "作废", M(CO_ST_REGISTERED) | M(CO_ST_VERIFYING), R(SHIFTLEAD), NULL, CO_ST_VOIDED,
     0, d_note_required, a_none},
    {"answer", "直接答复", M(CO_ST_REGISTERED), R(OPERATOR), is_hotline_consult, CO_ST_CLOSED, 0,
     d_answer, a_answer},
    {"merge", "合并重复", OPEN_BEFORE_DISPATCH, R(SHIFTLEAD) | R(OPERATOR), NULL, CO_ST_MERGED, 0,
     d_merge, a_merge},
    {"unmerge", "取消合并", M(CO_ST_MERGED), R(SHIFTLEAD) | R(OPERATOR), NULL, CO_ST_REGISTERED, 0,
     d_unmerge, a_unmerge},
    {"dispatch", "派遣", M(CO_ST_FILED), R(DISPATCHER), NULL, CO_ST_DISPATCHED, 0, d_dispatch,
     a_dispatch},
    {"accept", "签收", M(CO_ST_DISPATCHED), R(HANDLER), NULL, CO_ST_HANDLING, 1, d_accept, a_none},
    {"send_back", "回退", M(CO_ST_DISPATCHED) | M(CO_ST_HANDLING), R(HANDLER), no_request_pending,
     CO_ST_FILED, 1, d_send_back, a_send_back},
    {"handle", "处置反馈", M(CO_ST_HANDLING), R(HANDLER), no_request_pending, CO_ST_HANDLED, 1,
     d_handle, a_handle},
    {"request_extension", "申请延期", M(CO_ST_HANDLING), R(HANDLER), no_request_pending,
     CO_ST_NONE, 1, d_request_extension, a_flag_ext},
    {"approve_extension", "批准延期", M(CO_ST_HANDLING), R(SHIFTLEAD), is_ext_pending, CO_ST_NONE,
     0, d_approve_extension, a_approve_extension},
    {"reject_extension", "驳回延期", M(CO_ST_HANDLING), R(SHIFTLEAD), is_ext_pending, CO_ST_NONE,
     0, d_note_required, a_reject_extension},
    {"request_suspension", "申请挂账", M(CO_ST_HANDLING), R(HANDLER), no_request_pending,
     CO_ST_NONE, 1, d_note_required, a_flag_susp},
    {"approve_suspension", "批准挂账", M(CO_ST_HANDLING), R(SHIFTLEAD), is_susp_pending,
     CO_ST_SUSPENDED, 0, d_approve_suspension, a_approve_suspension},
    {"reject_suspension", "驳回挂账", M(CO_ST_HANDLING), R(SHIFTLEAD), is_susp_pending,
     CO_ST_NONE, 0, d_note_required, a_reject_suspension},
    {"resume", "恢复处置", M(CO_ST_SUSPENDED), R(SHIFTLEAD) | R(HANDLER), NULL, CO_ST_HANDLING, 1,
     d_resume, a_resume},
    {"request_check", "发核查", M(CO_ST_HANDLED), R(OPERATOR) | R(SHIFTLEAD), NULL,
     CO_ST_CHECKING, 0, d_request_check, a_none},
    {"check_pass", "核查通过", M(CO_ST_CHECKING), R(INSPECTOR), NULL, CO_ST_CHECKED, 0, d_check,
     a_check_pass},
    {"check_fail", "核查不通过(返工)", M(CO_ST_CHECKING), R(INSPECTOR), NULL, CO_ST_DISPATCHED, 0,
     d_check, a_check_fail},
    {"close", "结案", M(CO_ST_CHECKED), R(SHIFTLEAD), NULL, CO_ST_CLOSED, 0, d_close, a_close},
    {"reopen", "重办", M(CO_ST_CLOSED), R(SHIFTLEAD), NULL, CO_ST_FILED, 0, d_reopen, a_reopen},
    /* a merged case's caller is visited too (listed on the master's page once
     * the master is closed; not inbox work: see is_optional) */
    {"visit", "回访评价", M(CO_ST_CLOSED) | M(CO_ST_MERGED), R(OPERATOR), visitable, CO_ST_NONE,
     0, d_visit, a_visit},
    /* a note in the case's history (also where Open311 clients' updates land) */
    {"comment", "备注", ANY_STATE,
     R(OPERATOR) | R(INSPECTOR) | R(SHIFTLEAD) | R(DISPATCHER) | R(HANDLER), NULL, CO_ST_NONE, 0,
     d_note_required, a_none},
};

#define NACTIONS (sizeof actions / sizeof actions[0])

/* ------------------------------------------------------------ public API */

static const wf_action *find(const char *name)
{
    for (size_t i = 0; name && i < NACTIONS; i++)
        if (!strcmp(actions[i].name, name))
            return &actions[i];
    return NULL;
}

static int in_scope(const co_case *c, const char *scope)
{
    if (!scope || !*scope)
        return 1;
    size_t n = strlen(scope);
    const char *codes[] = {c->grid, c->community, c->street, c->district};
    for (size_t i = 0; i < 4; i++)
        if (codes[i][0] && !strncmp(codes[i], scope, n))
            return 1;
    return 0;
}

int co_wf_visible(const co_case *c, const co_wf_actor *who)
{
    if (who->role == CO_ROLE_HANDLER) {
        /* a department sees what is or was dispatched to it */
        int mine = who->dept && *who->dept &&
                   (!strcmp(c->dept, who->dept) || !strcmp(c->first_dept, who->dept));
        return mine && in_scope(c, who->scope);
    }
    return in_scope(c, who->scope);
}

static int may(const wf_action *a, const co_case *c, const co_wf_actor *who)
{
    if (!(a->from & M(c->state)) || !(a->roles & (1u << who->role)))
        return 0;
    if (a->guard && !a->guard(c))
        return 0;
    /* own_dept binds handlers only (a shift lead may resume any case) */
    if (a->own_dept && who->role == CO_ROLE_HANDLER &&
        (!who->dept || strcmp(who->dept, c->dept) != 0))
        return 0;
    return co_wf_visible(c, who);
}

size_t co_wf_allowed(const co_case *c, const co_wf_actor *who, const char *out[CO_WF_MAX_ACTIONS])
{
    size_t n = 0;
    for (size_t i = 0; i < NACTIONS && n < CO_WF_MAX_ACTIONS; i++)
        if (may(&actions[i], c, who))
            out[n++] = actions[i].name;
    return n;
}

/* Actions that are possible but never work waiting: inboxes skip them. */
static const char *const optional_actions[] = {"reclassify", "merge", "unmerge", "comment",
                                                "reopen"};

static int is_optional(const wf_action *a, const co_case *c)
{
    /* the visit of a merged caller is listed with its master, not in inboxes */
    if (c->state == CO_ST_MERGED && !strcmp(a->name, "visit"))
        return 1;
    for (size_t i = 0; i < sizeof optional_actions / sizeof optional_actions[0]; i++)
        if (!strcmp(a->name, optional_actions[i]))
            return 1;
    return 0;
}

int co_wf_has_work(const co_case *c, const co_wf_actor *who)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (!is_optional(&actions[i], c) && may(&actions[i], c, who))
            return 1;
    return 0;
}

unsigned co_wf_pending_roles(const co_case *c)
{
    unsigned mask = 0;
    for (size_t i = 0; i < NACTIONS; i++) {
        const wf_action *a = &actions[i];
        if (is_optional(a, c))
            continue;
        if ((a->from & M(c->state)) && (!a->guard || a->guard(c)))
            mask |= a->roles;
    }
    return mask;
}

size_t co_wf_actions(const char *out[CO_WF_MAX_ACTIONS])
{
    size_t n = 0;
    for (size_t i = 0; i < NACTIONS && n < CO_WF_MAX_ACTIONS; i++)
        out[n++] = actions[i].name;
    return n;
}

const char *co_wf_action_zh(const char *action)
{
    if (action && !strcmp(action, "register"))
        return "受理登记";
    const wf_action *a = find(action);
    return a ? a->zh : "";
}

#define CO_WF_DOC_MAX (256 * 1024) /* a register event's data as text */

static void fill_event(co_event *ev, const co_case *c, const co_wf_actor *who, const char *action,
                       int64_t now, co_state to, json_t *data)
{
    memset(ev, 0, sizeof *ev);
    ev->case_id = c->id;
    ev->ts = now;
    snprintf(ev->actor, sizeof ev->actor, "%s", who->username ? who->username : "");
    snprintf(ev->role, sizeof ev->role, "%s", co_role_name(who->role));
    snprintf(ev->action, sizeof ev->action, "%s", action);
    ev->from = c->state;
    ev->to = to;
    ev->data = data;
}

co_err co_wf_decide(const co_wf_env *env, const co_case *c, const char *action,
                    const co_wf_actor *who, json_t *params, int64_t now, co_event *ev,
                    char err[CO_WF_ERR_MAX])
{
    const wf_action *a = find(action);
    err[0] = '\0';
    if (!a) {
        snprintf(err, CO_WF_ERR_MAX, "未知的操作 / unknown action");
        return CO_ENOTFOUND;
    }
    if (!co_wf_visible(c, who)) {
        snprintf(err, CO_WF_ERR_MAX, "案件不在您的管辖范围 / the case is outside your scope");
        return CO_EPERM;
    }
    if (!may(a, c, who)) {
        snprintf(err, CO_WF_ERR_MAX, "当前状态(%s)和岗位(%s)不允许此操作 / action not allowed in "
                                     "state %s for role %s",
                 co_state_name_zh(c->state), co_role_name_zh(who->role), co_state_name(c->state),
                 co_role_name(who->role));
        return CO_ECONFLICT;
    }
    if (params && !json_is_object(params)) {
        snprintf(err, CO_WF_ERR_MAX, "参数必须是 JSON 对象 / parameters must be a JSON object");
        return CO_EINVAL;
    }
    /* a text parameter of another type is refused, not silently ignored
     * ({"dept": 5} must not dispatch to the routed department) */
    static const char *const text_params[] = {"note",  "dept",       "category", "severity",
                                              "limit", "close_type", "into",     "satisfaction"};
    for (size_t i = 0; params && i < sizeof text_params / sizeof text_params[0]; i++) {
        json_t *v = json_object_get(params, text_params[i]);
        if (v && !json_is_string(v) && !json_is_null(v)) {
            snprintf(err, CO_WF_ERR_MAX, "%s 必须是字符串 / \"%s\" must be a string",
                     text_params[i], text_params[i]);
            return CO_EINVAL;
        }
    }
    wf_call k = {env, c, who, params, json_object(), now,
                 a->to == CO_ST_NONE ? c->state : a->to, err};
    co_err rc = a->decide(&k);
    if (rc) {
        json_decref(k.data);
        return rc;
    }
    fill_event(ev, c, who, a->name, now, k.to, k.data);
    return CO_OK;
}

co_err co_wf_apply(co_case *c, const co_event *ev)
{
    if (!strcmp(ev->action, "register")) {
        /* from the store the data is a tree; fresh from co_wf_register, text */
        json_t *parsed = !ev->data && ev->data_text ? json_loads(ev->data_text, 0, NULL) : NULL;
        co_err rc = co_case_from_json(json_object_get(ev->data ? ev->data : parsed, "case"), c);
        json_decref(parsed);
        if (rc)
            return rc;
        c->id = ev->case_id;
        c->created = c->updated = ev->ts;
        c->state = ev->to;
        c->step_started = ev->ts;
        c->last_seq = ev->seq;
        return CO_OK;
    }
    const wf_action *a = find(ev->action);
    if (!a || c->state != ev->from)
        return CO_EINVAL;
    a->apply(c, ev);
    apply_step(c, ev);
    c->state = ev->to;
    c->updated = ev->ts;
    c->last_seq = ev->seq;
    return CO_OK;
}

co_err co_wf_register(const co_wf_env *env, const co_case *c, const co_wf_actor *who,
                      int64_t now, co_event *ev, co_case *out)
{
    co_case init = *c;
    init.state = CO_ST_REGISTERED;
    init.created = init.updated = now;
    init.step_started = now; /* the document must equal the case the writer stores */
    env->route(env->arg, &init, init.routed_dept, sizeof init.routed_dept);
    const co_calendar *cal = env->calendar(env->arg, "");
    co_calendar_limit lim;
    int64_t due = 0;
    if (co_calendar_limit_parse(CO_WF_LIMIT_FILE, &lim) == CO_OK &&
        co_calendar_due(cal, now, lim, &due) != CO_OK)
        due = 0;
    init.step_due = due;
    /* the event's data as text only ({"case":…}, written straight from the
     * case): nothing on the intake path needs it as a tree */
    co_buf text;
    co_buf_init(&text, CO_WF_DOC_MAX);
    co_err rc = co_buf_puts(&text, "{\"case\":");
    if (!rc && !(rc = co_case_json_text(&init, 1, &text)))
        rc = co_buf_puts(&text, "}");
    if (rc) {
        co_buf_free(&text);
        return rc;
    }
    fill_event(ev, c, who, "register", now, CO_ST_REGISTERED, NULL);
    ev->data_text = co_buf_take(&text);
    ev->from = CO_ST_NONE;
    if (out) {
        *out = init;
        out->step_started = now;
    }
    return CO_OK;
}
