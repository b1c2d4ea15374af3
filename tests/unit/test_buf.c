#include "buf.h"
#include "testlib.h"

#include <stdlib.h>

int main(void)
{
    kcl_buf b = KCL_BUF_INIT;
    CHECK_EQ_STR(kcl_buf_cstr(&b), "");
    CHECK_EQ_INT(kcl_buf_append(&b, "ab\0c", 4), 0);
    CHECK_EQ_INT(b.len, 4);
    CHECK(memcmp(b.data, "ab\0c", 4) == 0);
    CHECK_EQ_INT(b.data[4], 0);
    kcl_buf_reset(&b);
    for (int i = 0; i < 1000; i++) kcl_buf_printf(&b, "%d,", i);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    CHECK(b.len > 3000);
    kcl_buf_reset(&b);
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    kcl_buf_printf(&b, "<%s>", big);           /* longer than the printf fast path */
    CHECK_EQ_INT(b.len, 601);
    CHECK_EQ_INT(b.data[600], '>');
    char *s = kcl_buf_steal(&b);
    CHECK(s && strlen(s) == 601);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    s = kcl_buf_steal(&b);                       /* empty buffer -> empty string */
    CHECK_EQ_STR(s, "");
    free(s);
    kcl_buf_free(&b);
    return TEST_END();
}
