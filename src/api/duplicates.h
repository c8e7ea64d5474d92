/* duplicates.h — duplicate cases in the API (重复件):
 *   GET /api/v1/cases/{id}/duplicates   candidates for one case (staff)
 *   GET/PUT /api/v1/dedup/config        the automatic-merge threshold
 * and the hooks the rest of the API calls: the index's start-up load and
 * upkeep after every commit (views.c), the candidates and the automatic merge
 * of a new case (intake.c), the check of a manual merge target and the
 * master's list of merged cases (cases.c).
 * Ownership: co_dup_intake objects belong to the intake request that made
 * them (co_dup_intake_free); everything else is borrowed for the call. */
#ifndef CO_API_DUPLICATES_H
#define CO_API_DUPLICATES_H

#include <jansson.h>

#include "api/app.h"
#include "domain/dedup.h"
#include "http/req.h"
#include "store/writer.h"

#define CO_DUP_SHOW CO_DEDUP_SHOW         /* default score from which a candidate is shown */
#define CO_DUP_AUTO_DEFAULT CO_DEDUP_AUTO /* suggested automatic-merge threshold (off until set) */
#define CO_DUP_INTAKE_TOP 5

/* Route handlers. */
void co_api_case_duplicates(co_req *r);
void co_api_dedup_config_get(co_req *r);
void co_api_dedup_config_put(co_req *r);

/* Builds the index from the store (open and merged cases) and reads the
 * configuration; views.c at start-up. */
co_err co_dup_open(co_app *app) CO_MUST_CHECK;
void co_dup_close(co_app *app);
/* (Re)reads the automatic merge threshold from the store. */
void co_dup_load_config(co_app *app);
/* The writer's hook, after every committed change (views.c). */
void co_dup_committed(co_app *app, const co_case *c, const co_event *ev, const void *sig);

/* ---- intake ---- */
typedef struct co_dup_intake co_dup_intake;
/* On the submitting thread, before the register is queued: finds the
 * candidates for the new case (reg->draft) and decides whether it is to be
 * merged automatically. NULL when there is no index. */
co_dup_intake *co_dup_intake_begin(co_req *r, const co_write_cmd *reg);
/* On the writer thread, when the register is committed: queues the
 * automatic merge when one is due and returns 1 (fire(arg) is called when it
 * completes); returns 0 when there is nothing more to do. */
/* The new case's duplicate signature, for the writer's committed hook
 * (co_write_cmd.hint); valid until co_dup_intake_free. NULL for NULL. */
const void *co_dup_intake_sig(const co_dup_intake *di);
int co_dup_intake_committed(co_dup_intake *di, const co_write_cmd *reg, void (*fire)(void *arg),
                            void *arg);
/* The case as it stands after intake (merged or as registered). */
const co_case *co_dup_intake_result(const co_dup_intake *di, const co_write_cmd *reg);
/* Replies 201 to a staff intake: the case (the stored document when
 * show_phone and not merged) plus "duplicates" and, when it happened,
 * "auto_merged". di may be NULL. */
void co_dup_intake_reply(co_req *r, co_dup_intake *di, const co_write_cmd *reg, int show_phone);
void co_dup_intake_free(co_dup_intake *di);

/* ---- cases.c ---- */
/* Checks a manual merge's target ("into": an existing, open, visible case
 * other than c); replies 4xx itself and returns -1 when it is wrong. Other
 * actions pass. */
int co_dup_check_merge(co_req *r, const co_case *c, const char *action, json_t *params);
/* Adds "merged_cases" (a master's merged cases) to a case view. */
void co_dup_view_extras(co_req *r, const co_case *c, json_t *view);

#endif
