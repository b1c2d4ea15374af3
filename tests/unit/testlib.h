/* testlib — the few helpers every C test uses: checks that say what they
 * expected, a pass/fail count, and a bounded run of the event loop.
 *
 *   CHECK(cond)                  -> fails with the expression and location
 *   CHECK_EQ_INT(a, b)           -> fails with both values
 *   CHECK_EQ_STR(a, b)           -> fails with both strings (NULL-safe)
 *   TEST_END()                   -> prints "N passed, N failed", returns exit status
 *
 * A test file that runs no check fails: TEST_END treats zero checks as failure. */
#ifndef KCL_TESTLIB_H
#define KCL_TESTLIB_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int kcl_test_passed, kcl_test_failed;

#define CHECK(cond) do { \
    if (cond) kcl_test_passed++; \
    else { kcl_test_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
    if (cond) kcl_test_passed++; \
    else { kcl_test_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long _a = (long long)(a), _b = (long long)(b); \
    if (_a == _b) kcl_test_passed++; \
    else { kcl_test_failed++; fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %lld, %s == %lld\n", \
                                      __FILE__, __LINE__, #a, _a, #b, _b); } \
} while (0)

#define CHECK_EQ_STR(a, b) do { \
    const char *_a = (a), *_b = (b); \
    if (_a && _b && strcmp(_a, _b) == 0) kcl_test_passed++; \
    else { kcl_test_failed++; fprintf(stderr, "%s:%d: CHECK_EQ_STR failed:\n  %s = \"%s\"\n  %s = \"%s\"\n", \
                                      __FILE__, __LINE__, #a, _a ? _a : "(null)", #b, _b ? _b : "(null)"); } \
} while (0)

/* Print the summary line and return the process exit status. */
int kcl_test_end(const char *name);
#define TEST_END() kcl_test_end(__FILE__)

/* Environment variable that must be set (the harness sets it); aborts the
 * test with a clear message otherwise, so it never passes by testing nothing. */
const char *kcl_test_env(const char *name);

/* A name unique to this process and call, for streams and tables:
 * "<prefix>-<pid>-<counter>". Returns a static buffer overwritten per call. */
const char *kcl_test_unique(const char *prefix);

struct ev_loop;
/* Run the loop until *done becomes non-zero or timeout_ms passes (a timer
 * bounds it). Returns 0 when done, -1 on timeout. */
int kcl_test_run_until(struct ev_loop *loop, const int *done, double timeout_ms);

#endif
