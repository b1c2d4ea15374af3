#include "base64.h"
#include "testlib.h"

#include <stdlib.h>

/* RFC 4648 §10 test vectors. */
static const char *vec[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static int dec(const char *s, uint8_t *out)
{
    return (int)kcl_base64_decode(s, strlen(s), out);
}

int main(void)
{
    char enc[64];
    uint8_t out[64];
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        size_t n = strlen(vec[i][0]);
        CHECK_EQ_INT(kcl_base64_encoded_len(n), strlen(vec[i][1]));
        size_t e = kcl_base64_encode((const uint8_t *)vec[i][0], n, enc);
        enc[e] = 0;
        CHECK_EQ_STR(enc, vec[i][1]);
        CHECK(kcl_base64_decoded_max(strlen(vec[i][1])) >= n);
        memset(out, 0, sizeof out);
        CHECK_EQ_INT(dec(vec[i][1], out), n);
        CHECK(memcmp(out, vec[i][0], n) == 0);
    }

    /* every byte value, every length 0..300: round trip, exact output size */
    uint8_t all[300], back[303];
    char *buf = malloc(kcl_base64_encoded_len(sizeof all));
    for (size_t i = 0; i < sizeof all; i++) all[i] = (uint8_t)(i * 7 + 3);
    int ok = 1;
    for (size_t n = 0; n <= sizeof all; n++) {
        size_t e = kcl_base64_encode(all, n, buf);
        ok &= e == kcl_base64_encoded_len(n);
        ok &= kcl_base64_decoded_max(e) <= sizeof back;
        long d = kcl_base64_decode(buf, e, back);
        ok &= d == (long)n && memcmp(back, all, n) == 0;
    }
    CHECK(ok);
    free(buf);

    /* the whole alphabet, both special characters */
    CHECK_EQ_INT(dec("+/+/", out), 3);
    CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
    CHECK_EQ_INT(dec("AAAA", out), 3);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0);

    /* invalid inputs: wrong length, bad characters, bad or misplaced padding,
     * whitespace, URL-safe alphabet, non-canonical trailing bits */
    static const char *bad[] = {
        "Z", "Zg", "Zg=", "Zm9", "Zm9vY", "Zg===", "====", "Z===", "=Zg=", "Zg==Zg==",
        "Zm=v", "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v====", "Zm9-", "Zm9_", "Zm9v*AAA",
        "Zh==", "Zm9=", "Zm8=Zm8=", "\x80\x80\x80\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(kcl_base64_decode(bad[i], strlen(bad[i]), out) == -1,
                  "accepted: %s", bad[i]);
    CHECK_EQ_INT(kcl_base64_decode("Zm\0v", 4, out), -1);   /* an embedded NUL */
    /* a bad character anywhere in a long input is found */
    char lng[400];
    for (int pos = 0; pos < 400; pos += 37) {
        memset(lng, 'A', sizeof lng);
        lng[pos] = '!';
        uint8_t big[400];
        CHECK_MSG(kcl_base64_decode(lng, sizeof lng, big) == -1, "bad char at %d accepted", pos);
    }
    return TEST_END();
}
