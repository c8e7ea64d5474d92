/* case_assert.h — one field-by-field comparison of two cases for the unit
 * tests (test_case_json, test_workflow, test_writer): fails with the name of
 * the first field that differs. Include after <cmocka.h>. */
#ifndef CO_TEST_CASE_ASSERT_H
#define CO_TEST_CASE_ASSERT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "domain/case.h"

#define CO_CMP_INT(f)                                                                              \
    if ((int64_t)a->f != (int64_t)b->f)                                                            \
    fail_msg("%s: field " #f " differs: %lld vs %lld", what, (long long)a->f, (long long)b->f)
#define CO_CMP_STR(f)                                                                              \
    if (strcmp(a->f, b->f) != 0)                                                                   \
    fail_msg("%s: field " #f " differs: \"%s\" vs \"%s\"", what, a->f, b->f)

/* with_seq: also compare last_seq (which case documents do not carry). */
static inline void assert_case_fields(const co_case *a, const co_case *b, int with_seq,
                                      const char *what)
{
    CO_CMP_INT(id);
    CO_CMP_STR(number);
    CO_CMP_INT(created);
    CO_CMP_INT(updated);
    CO_CMP_INT(channel);
    CO_CMP_INT(reqtype);
    CO_CMP_INT(severity);
    CO_CMP_INT(category);
    CO_CMP_INT(tax_version);
    CO_CMP_INT(state);
    CO_CMP_INT(flags);
    if (!((isnan(a->lon) && isnan(b->lon)) || a->lon == b->lon))
        fail_msg("%s: lon differs: %.17g vs %.17g", what, a->lon, b->lon);
    if (!((isnan(a->lat) && isnan(b->lat)) || a->lat == b->lat))
        fail_msg("%s: lat differs: %.17g vs %.17g", what, a->lat, b->lat);
    CO_CMP_STR(grid);
    CO_CMP_STR(community);
    CO_CMP_STR(street);
    CO_CMP_STR(district);
    CO_CMP_STR(address);
    CO_CMP_STR(description);
    CO_CMP_STR(caller_name);
    CO_CMP_STR(caller_phone);
    CO_CMP_STR(reporter);
    CO_CMP_STR(dept);
    CO_CMP_STR(routed_dept);
    CO_CMP_STR(first_dept);
    CO_CMP_STR(merged_into);
    CO_CMP_INT(step_started);
    CO_CMP_INT(step_due);
    CO_CMP_INT(dispatched_at);
    CO_CMP_INT(disposal_due);
    CO_CMP_INT(disposal_left);
    CO_CMP_INT(handled_at);
    CO_CMP_INT(closed_at);
    CO_CMP_INT(rework);
    CO_CMP_INT(dispatches);
    CO_CMP_INT(extensions);
    CO_CMP_INT(close_type);
    CO_CMP_INT(satisfaction);
    CO_CMP_INT(nphotos);
    for (int i = 0; i < a->nphotos; i++)
        CO_CMP_STR(photos[i]);
    if (with_seq)
        CO_CMP_INT(last_seq);
}

#endif
