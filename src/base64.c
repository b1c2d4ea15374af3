/* base64 — RFC 4648 §4 standard alphabet with padding.
 *
 * Decoding is the hot path (every Kinesis record's Data): one 256-byte
 * table maps a character to its 6 bits (or a high bit for a non-alphabet
 * byte), and four copies of it pre-shifted (D0..D3) let a quad be four
 * loads OR-ed together, validity checked once per string; the padded last
 * quad is handled apart. bench/JSON_RESULTS.md has the comparison with
 * OpenSSL's EVP_DecodeBlock, bench/PERF_NOTES.md the speed-up. */
#include "base64.h"

#include <pthread.h>
#include <string.h>

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Each character's 6-bit value, or 255 (high bit set) for a non-alphabet
 * byte, '=' included: padding is handled outside the table. D0..D3 are the
 * same table four times, each value already shifted to its place in a quad's
 * 24 bits; BAD sets bit 24, which no valid sum reaches, so a whole string is
 * checked by OR-ing its quads together and testing once. All five are built
 * once from ALPHABET. */
#define BAD 0x01000000u
static uint8_t DEC[256];
static uint32_t D0[256], D1[256], D2[256], D3[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    memset(DEC, 255, sizeof DEC);
    for (uint8_t v = 0; v < 64; v++) DEC[(uint8_t)ALPHABET[v]] = v;
    for (int i = 0; i < 256; i++) {
        uint32_t v = DEC[i];
        int bad = v == 255;
        D0[i] = bad ? BAD : v << 18;
        D1[i] = bad ? BAD : v << 12;
        D2[i] = bad ? BAD : v << 6;
        D3[i] = bad ? BAD : v;
    }
}

size_t kcl_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t kcl_base64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

size_t kcl_base64_encode(const uint8_t *in, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t x = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        o[0] = ALPHABET[x >> 18];
        o[1] = ALPHABET[(x >> 12) & 63];
        o[2] = ALPHABET[(x >> 6) & 63];
        o[3] = ALPHABET[x & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t x = (uint32_t)in[i] << 16;
        o[0] = ALPHABET[x >> 18];
        o[1] = ALPHABET[(x >> 12) & 63];
        o[2] = '=';
        o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t x = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        o[0] = ALPHABET[x >> 18];
        o[1] = ALPHABET[(x >> 12) & 63];
        o[2] = ALPHABET[(x >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    return (size_t)(o - out);
}

#define QUAD(q, x, bad) do { \
    uint32_t a_ = DEC[(q)[0]], b_ = DEC[(q)[1]], c_ = DEC[(q)[2]], d_ = DEC[(q)[3]]; \
    (bad) = (a_ | b_ | c_ | d_) & 0x80; \
    (x) = a_ << 18 | b_ << 12 | c_ << 6 | d_; \
} while (0)

long kcl_base64_decode(const char *in, size_t n, uint8_t *out)
{
    if (n % 4 != 0) return -1;
    if (n == 0) return 0;
    pthread_once(&tables_once, build_tables);
    const uint8_t *s = (const uint8_t *)in;
    uint8_t *o = out;
    const uint8_t *last = s + n - 4;  /* the last quad may carry padding */
    uint32_t x, bad, acc = 0;
    for (; s + 8 <= last; s += 8, o += 6) {
        uint32_t a = D0[s[0]] | D1[s[1]] | D2[s[2]] | D3[s[3]];
        uint32_t b = D0[s[4]] | D1[s[5]] | D2[s[6]] | D3[s[7]];
        acc |= a | b;
        o[0] = (uint8_t)(a >> 16);
        o[1] = (uint8_t)(a >> 8);
        o[2] = (uint8_t)a;
        o[3] = (uint8_t)(b >> 16);
        o[4] = (uint8_t)(b >> 8);
        o[5] = (uint8_t)b;
    }
    for (; s < last; s += 4, o += 3) {
        uint32_t a = D0[s[0]] | D1[s[1]] | D2[s[2]] | D3[s[3]];
        acc |= a;
        o[0] = (uint8_t)(a >> 16);
        o[1] = (uint8_t)(a >> 8);
        o[2] = (uint8_t)a;
    }
    if (acc & 0xff000000u) return -1;
    uint8_t q[4] = {last[0], last[1], last[2], last[3]};
    int pad = q[3] != '=' ? 0 : q[2] != '=' ? 1 : 2;
    if (pad >= 1) q[3] = 'A';
    if (pad == 2) q[2] = 'A';
    QUAD(q, x, bad);
    if (bad) return -1;
    /* Canonical only: the bits a padded quad does not use must be zero. */
    if ((pad == 1 && (x & 0xff)) || (pad == 2 && (x & 0xffff))) return -1;
    o[0] = (uint8_t)(x >> 16);
    if (pad < 2) o[1] = (uint8_t)(x >> 8);
    if (pad < 1) o[2] = (uint8_t)x;
    return (long)(o - out) + 3 - pad;
}
