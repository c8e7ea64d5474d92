/* cues.h — explicit danger cues that make a report 特急 (critical) whatever
 * the model says: gas leaks, open manholes on roads, collapses, people
 * trapped (also in a stuck lift), fire, live wires down, burst mains
 * flooding a road, scalding steam, a fallen tree blocking the way. A cue is a
 * set of words that must all occur (each "any of" alternatives). Static
 * tables; nothing to free. */
#ifndef CO_CLASSIFY_CUES_H
#define CO_CLASSIFY_CUES_H

#include <stddef.h>

/* 1 when text (UTF-8, len bytes) carries a danger cue. */
int co_clf_danger(const char *text, size_t len);
/* The name of the first matching cue (static), or NULL. */
const char *co_clf_danger_cue(const char *text, size_t len);

#endif
