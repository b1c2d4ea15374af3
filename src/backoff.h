/* backoff — full-jitter exponential backoff and the tiny RNG behind it.
 *
 * Pure: no libev, no libcurl, no global state. The caller owns the RNG state
 * (one uint64_t), seeds it however it likes (a zero seed is replaced by a
 * fixed non-zero constant, since xorshift would stay at zero), and gets the
 * same sequence of delays for the same seed — tests rely on that.
 *
 * "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the delay before retry n is uniform in [0, min(max, base * 2^(n-1))], which
 * spreads competing clients apart better than a fixed or "equal" jitter. */
#ifndef KCL_BACKOFF_H
#define KCL_BACKOFF_H

#include <stdint.h>

/* Next 64 random bits from the xorshift64* generator in *state (advanced). */
uint64_t kcl_backoff_rng_next(uint64_t *state);

/* A uniform double in [0, 1) from *state (advanced). */
double kcl_backoff_rng_unit(uint64_t *state);

/* The cap for retry `attempt` (1-based): min(max_ms, base_ms * 2^(attempt-1)).
 * attempt < 1 counts as 1; negative or NaN inputs give 0. Never overflows. */
double kcl_backoff_cap_ms(int attempt, double base_ms, double max_ms);

/* Delay in milliseconds before retry `attempt` (1-based: 1 is the first retry):
 * uniform in [0, kcl_backoff_cap_ms(attempt, base_ms, max_ms)]. Advances
 * *rng_state once. */
double kcl_backoff_delay_ms(int attempt, double base_ms, double max_ms, uint64_t *rng_state);

#endif
