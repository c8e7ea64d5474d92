/* workflow.h — the closed loop as one const table: state × action × role →
 * state. co_wf_decide() checks a requested action against the table (the
 * case's state, the user's role, department and area scope, the action's
 * guard and parameters), computes what the action means (deadlines in working
 * time, rework, misdispatch, lateness) and returns it as an event. It never
 * changes the case: co_wf_apply() folds an event into a case, for the writer
 * and for replays alike. Nothing here allocates except the event's data. */
#ifndef CO_DOMAIN_WORKFLOW_H
#define CO_DOMAIN_WORKFLOW_H

#include <jansson.h>
#include <stddef.h>

#include "calendar/calendar.h"
#include "domain/case.h"
#include "domain/role.h"
#include "lib/buf.h"

/* Step limits (working time) for the steps that are not the disposal. */
#define CO_WF_LIMIT_FILE "2wh"      /* 受理 → 立案 */
#define CO_WF_LIMIT_VERIFY "60wm"   /* 核实 */
#define CO_WF_LIMIT_DISPATCH "1wh"  /* 立案 → 派遣 */
#define CO_WF_LIMIT_ACCEPT "1wh"    /* 派遣 → 签收 */
#define CO_WF_LIMIT_REQCHECK "2wh"  /* 处置 → 发核查 */
#define CO_WF_LIMIT_CHECK "60wm"    /* 核查 */
#define CO_WF_LIMIT_CLOSE "2wh"     /* 核查 → 结案 */
#define CO_WF_LIMIT_DEFAULT "5wd"   /* disposal when nothing else applies */

/* What decisions need from the rest of the system. */
typedef struct co_wf_env {
    void *arg;
    /* The calendar of a department (its working hours); never NULL. */
    const co_calendar *(*calendar)(void *arg, const char *dept);
    /* 1 when the department exists. */
    int (*dept_exists)(void *arg, const char *dept);
    /* Disposal limit for the case (category × severity, else request type). */
    co_calendar_limit (*disposal_limit)(void *arg, const co_case *c);
    /* Routing: writes the suggested department ("" when unrouted). */
    void (*route)(void *arg, const co_case *c, char *dept, size_t len);
    /* 1 when the category exists in the case's taxonomy version. */
    int (*category_exists)(void *arg, co_category cat);
} co_wf_env;

typedef struct co_wf_actor {
    const char *username;
    co_role role;
    const char *dept;   /* "" if none */
    const char *scope;  /* area code prefix the user is limited to, "" = city */
} co_wf_actor;

#define CO_WF_MAX_ACTIONS 32
/* The username of actions the system takes by itself (automatic merges). */
#define CO_WF_SYSTEM_ACTOR "system"
#define CO_WF_ERR_MAX 256

/* Decides whether `who` may perform `action` with `params` (a JSON object,
 * borrowed, may be NULL) on case c at time now. On success fills *ev (the
 * caller owns ev->data). Returns CO_ECONFLICT when the action is not allowed
 * for this state and role (err lists the allowed actions), CO_EPERM when the
 * case is outside the user's department or scope, CO_EINVAL for bad
 * parameters (err says which), CO_ENOTFOUND for an unknown action. */
co_err co_wf_decide(const co_wf_env *env, const co_case *c, const char *action,
                    const co_wf_actor *who, json_t *params, int64_t now, co_event *ev,
                    char err[CO_WF_ERR_MAX]) CO_MUST_CHECK;

/* Folds one event into the case (register builds it from nothing). */
co_err co_wf_apply(co_case *c, const co_event *ev) CO_MUST_CHECK;

/* Names of the actions `who` may take on c now (state, role, guards, scope). */
size_t co_wf_allowed(const co_case *c, const co_wf_actor *who, const char *out[CO_WF_MAX_ACTIONS]);

/* Mask of (1u << role) for the roles that have some action to take on c
 * (state and guards only; department and scope are checked separately). */
unsigned co_wf_pending_roles(const co_case *c);

/* 1 when who has a step of the loop to take on c now (optional actions —
 * reclassify, merge, comment, reopen — do not count): inboxes. */
int co_wf_has_work(const co_case *c, const co_wf_actor *who);

/* 1 when who may see the case at all (department / area scope). */
int co_wf_visible(const co_case *c, const co_wf_actor *who);

/* Every action name in the table (for docs and tests). */
size_t co_wf_actions(const char *out[CO_WF_MAX_ACTIONS]);
/* The label of an action, zh and en. */
const char *co_wf_action_zh(const char *action);

/* Builds the register event for a new case (the intake's validated fields
 * already in *c; its state is NONE). Computes routing and the first step
 * deadline. When out is not NULL it receives the case the event creates
 * (what co_wf_apply would build from the event, without re-parsing it). */
co_err co_wf_register(const co_wf_env *env, const co_case *c, const co_wf_actor *who,
                      int64_t now, co_event *ev, co_case *out) CO_MUST_CHECK;

/* Serialises / reads the whole case as JSON (used by register events and the
 * API). co_case_to_json masks the caller's phone unless show_phone. */
json_t *co_case_to_json(const co_case *c, int show_phone);
/* Appends to out exactly what json_dumps(co_case_to_json(c, show_phone),
 * JSON_COMPACT) prints, without building the tree (the intake's hot path).
 * CO_ETOOBIG past out's limit. */
co_err co_case_json_text(const co_case *c, int show_phone, co_buf *out) CO_MUST_CHECK;
co_err co_case_from_json(const json_t *j, co_case *c) CO_MUST_CHECK;

#endif
