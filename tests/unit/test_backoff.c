/* Full-jitter backoff: bounds, growth of the cap, the cap itself, and the
 * same delays for the same seed. */
#include "backoff.h"
#include "testlib.h"

#include <math.h>

static void test_rng(void)
{
    uint64_t a = 42, b = 42, z = 0;
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= kcl_backoff_rng_next(&a) == kcl_backoff_rng_next(&b);
    CHECK_MSG(same, "two generators with the same seed diverged");
    /* A zero seed still produces a changing, non-zero sequence. */
    uint64_t r1 = kcl_backoff_rng_next(&z), r2 = kcl_backoff_rng_next(&z);
    CHECK(r1 != 0 && r2 != 0 && r1 != r2);
    CHECK(z != 0);

    /* Unit interval and a rough uniformity check: mean near 0.5, both halves used. */
    uint64_t s = 7;
    double sum = 0, lo = 1, hi = 0;
    int below = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double u = kcl_backoff_rng_unit(&s);
        if (u < lo) lo = u;
        if (u > hi) hi = u;
        if (u < 0.5) below++;
        sum += u;
    }
    CHECK_MSG(lo >= 0.0 && hi < 1.0, "unit value out of [0,1): lo=%g hi=%g", lo, hi);
    CHECK_MSG(fabs(sum / n - 0.5) < 0.01, "mean %g is far from 0.5", sum / n);
    CHECK_MSG(below > n * 0.48 && below < n * 0.52, "%d of %d below 0.5", below, n);
    CHECK_MSG(lo < 0.001 && hi > 0.999, "range not covered: lo=%g hi=%g", lo, hi);
}

static void test_cap(void)
{
    CHECK(kcl_backoff_cap_ms(1, 50, 5000) == 50);
    CHECK(kcl_backoff_cap_ms(2, 50, 5000) == 100);
    CHECK(kcl_backoff_cap_ms(3, 50, 5000) == 200);
    CHECK(kcl_backoff_cap_ms(7, 50, 5000) == 3200);
    CHECK(kcl_backoff_cap_ms(8, 50, 5000) == 5000);       /* 6400 capped */
    CHECK(kcl_backoff_cap_ms(1000, 50, 5000) == 5000);    /* no overflow */
    CHECK(kcl_backoff_cap_ms(0, 50, 5000) == 50);         /* attempt < 1 counts as 1 */
    CHECK(kcl_backoff_cap_ms(-3, 50, 5000) == 50);
    CHECK(kcl_backoff_cap_ms(1, 500, 100) == 100);        /* max below base */
    CHECK(kcl_backoff_cap_ms(3, 0, 5000) == 0);
    CHECK(kcl_backoff_cap_ms(3, -1, 5000) == 0);
    CHECK(kcl_backoff_cap_ms(3, NAN, 5000) == 0);
    CHECK(kcl_backoff_cap_ms(3, 50, 0) == 0);
    CHECK(kcl_backoff_cap_ms(2000000000, 1e300, 1e308) == 1e308);  /* overflow clamps to max */
}

static void test_delay_bounds_and_growth(void)
{
    uint64_t s = 12345;
    double prev_max = 0;
    for (int attempt = 1; attempt <= 12; attempt++) {
        double cap = kcl_backoff_cap_ms(attempt, 10, 10000);
        double mx = 0, mn = 1e18, sum = 0;
        const int n = 20000;
        int inside = 1;
        for (int i = 0; i < n; i++) {
            double d = kcl_backoff_delay_ms(attempt, 10, 10000, &s);
            inside &= d >= 0 && d <= cap;
            if (d > mx) mx = d;
            if (d < mn) mn = d;
            sum += d;
        }
        CHECK_MSG(inside, "attempt %d: a delay left [0, %g]", attempt, cap);
        /* Full jitter: delays reach near both ends, and average about cap/2. */
        CHECK_MSG(mx > cap * 0.99 && mn < cap * 0.01, "attempt %d: range [%g, %g] of cap %g",
                  attempt, mn, mx, cap);
        CHECK_MSG(fabs(sum / n - cap / 2) < cap * 0.02, "attempt %d: mean %g, cap %g",
                  attempt, sum / n, cap);
        CHECK_MSG(mx >= prev_max, "attempt %d: max delay shrank (%g < %g)", attempt, mx, prev_max);
        prev_max = mx;
    }
    /* Past the cap the delays stop growing. */
    for (int i = 0; i < 1000; i++) {
        double d = kcl_backoff_delay_ms(40, 10, 10000, &s);
        if (d > 10000 || d < 0) { CHECK_MSG(0, "capped delay %g out of [0, 10000]", d); break; }
    }
    uint64_t z = 1;
    CHECK(kcl_backoff_delay_ms(5, 0, 1000, &z) == 0);
}

static void test_determinism(void)
{
    uint64_t a = 0xdeadbeef, b = 0xdeadbeef, c = 0xdeadbef0;
    int same = 1, differs = 0;
    for (int i = 1; i <= 50; i++) {
        double x = kcl_backoff_delay_ms(i % 8 + 1, 50, 5000, &a);
        double y = kcl_backoff_delay_ms(i % 8 + 1, 50, 5000, &b);
        double w = kcl_backoff_delay_ms(i % 8 + 1, 50, 5000, &c);
        same &= x == y;
        differs |= x != w;
    }
    CHECK_MSG(same, "same seed gave different delays");
    CHECK_MSG(differs, "different seeds gave identical delays");
}

int main(void)
{
    test_rng();
    test_cap();
    test_delay_bounds_and_growth();
    test_determinism();
    return TEST_END();
}
