/* base64 — RFC 4648 §4 standard alphabet with padding.
 *
 * Decoding is the hot path (every Kinesis record's Data): one 256-byte
 * table maps a character to its 6 bits (or a high bit for a non-alphabet
 * byte), so a quad is four loads, one validity test and a few shifts; the padded last quad is handled apart. bench/JSON_RESULTS.md has
 * the comparison with OpenSSL's EVP_DecodeBlock. */
#include "base64.h"

#include <string.h>

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Each character's 6-bit value, or 255 (high bit set) for a non-alphabet
 * byte, '=' included: padding is handled outside the table. */
static const uint8_t DEC[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
     52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
    255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
     15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
    255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
     41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

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
    const uint8_t *s = (const uint8_t *)in;
    uint8_t *o = out;
    const uint8_t *last = s + n - 4;  /* the last quad may carry padding */
    uint32_t x, bad;
    for (; s < last; s += 4) {
        QUAD(s, x, bad);
        if (bad) return -1;
        o[0] = (uint8_t)(x >> 16);
        o[1] = (uint8_t)(x >> 8);
        o[2] = (uint8_t)x;
        o += 3;
    }
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
