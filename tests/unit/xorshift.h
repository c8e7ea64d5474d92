/* xorshift.h — the unit tests' deterministic random numbers: xorshift64
 * over a state the caller owns (any nonzero seed), so a failing test fails
 * the same way on every run. Header-only, no allocation. */
#ifndef CO_TEST_XORSHIFT_H
#define CO_TEST_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Uniform in [0, 1), from the top 53 bits. */
static inline double xorshift_unit(uint64_t *state)
{
    return (double)(xorshift64(state) >> 11) / 9007199254740992.0;
}

#endif
