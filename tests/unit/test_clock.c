#include "clock.h"
#include "testlib.h"

int main(void)
{
    char out[25];
    kcl_clock_format_rfc3339(0, out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000Z");
    kcl_clock_format_rfc3339(1440938160123LL, out);
    CHECK_EQ_STR(out, "2015-08-30T12:36:00.123Z");

    int64_t ms = 0;
    CHECK_EQ_INT(kcl_clock_parse_time("2015-08-30T12:36:00Z", &ms), 0);
    CHECK_EQ_INT(ms, 1440938160000LL);
    CHECK_EQ_INT(kcl_clock_parse_time("2015-08-30T12:36:00.5Z", &ms), 0);
    CHECK_EQ_INT(ms, 1440938160500LL);
    CHECK_EQ_INT(kcl_clock_parse_time("2015-08-30T14:36:00+02:00", &ms), 0);
    CHECK_EQ_INT(ms, 1440938160000LL);
    CHECK_EQ_INT(kcl_clock_parse_time("1440938160", &ms), 0);
    CHECK_EQ_INT(ms, 1440938160000LL);
    CHECK_EQ_INT(kcl_clock_parse_time("1440938160.25", &ms), 0);
    CHECK_EQ_INT(ms, 1440938160250LL);
    CHECK_EQ_INT(kcl_clock_parse_time("2024-02-29T00:00:00Z", &ms), 0);
    CHECK_EQ_INT(ms, 1709164800000LL);
    CHECK_EQ_INT(kcl_clock_parse_time("yesterday", &ms), -1);
    CHECK_EQ_INT(kcl_clock_parse_time("2015-13-30T12:36:00Z", &ms), -1);
    CHECK_EQ_INT(kcl_clock_parse_time("2015-08-30T12:36:00", &ms), -1);
    CHECK_EQ_INT(kcl_clock_parse_time("", &ms), -1);

    int64_t a = kcl_clock_mono_ms(), b = kcl_clock_mono_ms();
    CHECK(b >= a);
    CHECK(kcl_clock_wall_ms() > 1700000000000LL);
    return TEST_END();
}
