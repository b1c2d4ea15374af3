#include "backoff.h"

#include <math.h>

uint64_t kcl_backoff_rng_next(uint64_t *state)
{
    uint64_t x = *state;
    if (x == 0) x = 0x9E3779B97F4A7C15ull;   /* xorshift never leaves 0 */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

double kcl_backoff_rng_unit(uint64_t *state)
{
    /* The top 53 bits fill a double's mantissa exactly: [0, 1). */
    return (double)(kcl_backoff_rng_next(state) >> 11) * 0x1.0p-53;
}

double kcl_backoff_cap_ms(int attempt, double base_ms, double max_ms)
{
    if (!(base_ms > 0) || !(max_ms > 0)) return 0;
    if (attempt < 1) attempt = 1;
    /* base * 2^62 already exceeds any sensible cap; clamp the exponent so
     * ldexp cannot overflow to infinity. */
    int exp = attempt - 1 > 62 ? 62 : attempt - 1;
    double cap = ldexp(base_ms, exp);
    return cap < max_ms ? cap : max_ms;
}

double kcl_backoff_delay_ms(int attempt, double base_ms, double max_ms, uint64_t *rng_state)
{
    double cap = kcl_backoff_cap_ms(attempt, base_ms, max_ms);
    double u = kcl_backoff_rng_unit(rng_state);
    return u * cap;
}
