/* demo_history.h — generates the demo city's case history (see demo_history.c). */
#ifndef CO_CLI_DEMO_HISTORY_H
#define CO_CLI_DEMO_HISTORY_H

#include <stdint.h>

#include "api/app.h"
#include "api/intake.h"

/* Generates about ncases cases over the two years before now into app's
 * store (which must hold no cases yet). *made receives the count. */
co_err co_demo_history(co_app *app, int64_t ncases, int64_t now, uint64_t seed, int64_t *made)
    CO_MUST_CHECK;

#endif
