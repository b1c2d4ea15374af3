/* clock — the two clocks luakcl uses. Monotonic time decides every timeout and
 * lease expiry (never compared across machines); wall time is only for
 * timestamps sent to AWS (SigV4 dates, AT_TIMESTAMP) and for logs. */
#ifndef KCL_CLOCK_H
#define KCL_CLOCK_H

#include <stdint.h>
#include <stddef.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t kcl_clock_mono_ms(void);
/* Nanoseconds on CLOCK_MONOTONIC (for benchmarks and budgets). */
int64_t kcl_clock_mono_ns(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t kcl_clock_wall_ms(void);
/* Format epoch milliseconds as RFC 3339 UTC with milliseconds,
 * e.g. "2026-11-26T00:25:39.123Z". `out` needs 25 bytes. */
void kcl_clock_format_rfc3339(int64_t epoch_ms, char out[25]);
/* Parse an RFC 3339 timestamp ("2026-11-26T00:25:39Z", fractional seconds and
 * a numeric offset allowed) or plain epoch seconds ("1764116739", fractions
 * allowed) into epoch milliseconds. Returns 0, or -1 if it is neither. */
int kcl_clock_parse_time(const char *s, int64_t *epoch_ms);

#endif
