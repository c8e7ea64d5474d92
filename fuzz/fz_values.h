/* fz_values.h — runs one outside text value through every value parser
 * with round-trip checks (fz_values.c). */
#ifndef CO_FUZZ_FZ_VALUES_H
#define CO_FUZZ_FZ_VALUES_H

void fz_values(const char *s);

#endif
