/* base64 — RFC 4648 §4 standard alphabet with padding.
 *
 * Decoding is the hot path (every Kinesis record's Data): one 256-byte
 * table maps a character to its 6 bits (or a high bit for a non-alphabet
 * byte), and four copies of it pre-shifted (D0..D3) let a quad be four
 * loads OR-ed together, validity checked once per string; the padded last
 * quad is handled apart. bench/JSON_RESULTS.md has the comparison with
 * OpenSSL's EVP_DecodeBlock, bench/PERF_NOTES.md the speed-up. */
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

/* The same table four times, each value already shifted to its place in a
 * quad's 24 bits; BAD sets bit 24, which no valid sum reaches, so a whole
 * string is checked by OR-ing its quads together and testing once. */
#define BAD 0x01000000u
static const uint32_t D0[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, 0x00f80000u, BAD, BAD, BAD, 0x00fc0000u,
    0x00d00000u, 0x00d40000u, 0x00d80000u, 0x00dc0000u, 0x00e00000u, 0x00e40000u, 0x00e80000u, 0x00ec0000u,
    0x00f00000u, 0x00f40000u, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00000000u, 0x00040000u, 0x00080000u, 0x000c0000u, 0x00100000u, 0x00140000u, 0x00180000u,
    0x001c0000u, 0x00200000u, 0x00240000u, 0x00280000u, 0x002c0000u, 0x00300000u, 0x00340000u, 0x00380000u,
    0x003c0000u, 0x00400000u, 0x00440000u, 0x00480000u, 0x004c0000u, 0x00500000u, 0x00540000u, 0x00580000u,
    0x005c0000u, 0x00600000u, 0x00640000u, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00680000u, 0x006c0000u, 0x00700000u, 0x00740000u, 0x00780000u, 0x007c0000u, 0x00800000u,
    0x00840000u, 0x00880000u, 0x008c0000u, 0x00900000u, 0x00940000u, 0x00980000u, 0x009c0000u, 0x00a00000u,
    0x00a40000u, 0x00a80000u, 0x00ac0000u, 0x00b00000u, 0x00b40000u, 0x00b80000u, 0x00bc0000u, 0x00c00000u,
    0x00c40000u, 0x00c80000u, 0x00cc0000u, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

static const uint32_t D1[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, 0x0003e000u, BAD, BAD, BAD, 0x0003f000u,
    0x00034000u, 0x00035000u, 0x00036000u, 0x00037000u, 0x00038000u, 0x00039000u, 0x0003a000u, 0x0003b000u,
    0x0003c000u, 0x0003d000u, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00000000u, 0x00001000u, 0x00002000u, 0x00003000u, 0x00004000u, 0x00005000u, 0x00006000u,
    0x00007000u, 0x00008000u, 0x00009000u, 0x0000a000u, 0x0000b000u, 0x0000c000u, 0x0000d000u, 0x0000e000u,
    0x0000f000u, 0x00010000u, 0x00011000u, 0x00012000u, 0x00013000u, 0x00014000u, 0x00015000u, 0x00016000u,
    0x00017000u, 0x00018000u, 0x00019000u, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x0001a000u, 0x0001b000u, 0x0001c000u, 0x0001d000u, 0x0001e000u, 0x0001f000u, 0x00020000u,
    0x00021000u, 0x00022000u, 0x00023000u, 0x00024000u, 0x00025000u, 0x00026000u, 0x00027000u, 0x00028000u,
    0x00029000u, 0x0002a000u, 0x0002b000u, 0x0002c000u, 0x0002d000u, 0x0002e000u, 0x0002f000u, 0x00030000u,
    0x00031000u, 0x00032000u, 0x00033000u, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

static const uint32_t D2[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, 0x00000f80u, BAD, BAD, BAD, 0x00000fc0u,
    0x00000d00u, 0x00000d40u, 0x00000d80u, 0x00000dc0u, 0x00000e00u, 0x00000e40u, 0x00000e80u, 0x00000ec0u,
    0x00000f00u, 0x00000f40u, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00000000u, 0x00000040u, 0x00000080u, 0x000000c0u, 0x00000100u, 0x00000140u, 0x00000180u,
    0x000001c0u, 0x00000200u, 0x00000240u, 0x00000280u, 0x000002c0u, 0x00000300u, 0x00000340u, 0x00000380u,
    0x000003c0u, 0x00000400u, 0x00000440u, 0x00000480u, 0x000004c0u, 0x00000500u, 0x00000540u, 0x00000580u,
    0x000005c0u, 0x00000600u, 0x00000640u, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00000680u, 0x000006c0u, 0x00000700u, 0x00000740u, 0x00000780u, 0x000007c0u, 0x00000800u,
    0x00000840u, 0x00000880u, 0x000008c0u, 0x00000900u, 0x00000940u, 0x00000980u, 0x000009c0u, 0x00000a00u,
    0x00000a40u, 0x00000a80u, 0x00000ac0u, 0x00000b00u, 0x00000b40u, 0x00000b80u, 0x00000bc0u, 0x00000c00u,
    0x00000c40u, 0x00000c80u, 0x00000cc0u, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

static const uint32_t D3[256] = {
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, 0x0000003eu, BAD, BAD, BAD, 0x0000003fu,
    0x00000034u, 0x00000035u, 0x00000036u, 0x00000037u, 0x00000038u, 0x00000039u, 0x0000003au, 0x0000003bu,
    0x0000003cu, 0x0000003du, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x00000000u, 0x00000001u, 0x00000002u, 0x00000003u, 0x00000004u, 0x00000005u, 0x00000006u,
    0x00000007u, 0x00000008u, 0x00000009u, 0x0000000au, 0x0000000bu, 0x0000000cu, 0x0000000du, 0x0000000eu,
    0x0000000fu, 0x00000010u, 0x00000011u, 0x00000012u, 0x00000013u, 0x00000014u, 0x00000015u, 0x00000016u,
    0x00000017u, 0x00000018u, 0x00000019u, BAD, BAD, BAD, BAD, BAD,
    BAD, 0x0000001au, 0x0000001bu, 0x0000001cu, 0x0000001du, 0x0000001eu, 0x0000001fu, 0x00000020u,
    0x00000021u, 0x00000022u, 0x00000023u, 0x00000024u, 0x00000025u, 0x00000026u, 0x00000027u, 0x00000028u,
    0x00000029u, 0x0000002au, 0x0000002bu, 0x0000002cu, 0x0000002du, 0x0000002eu, 0x0000002fu, 0x00000030u,
    0x00000031u, 0x00000032u, 0x00000033u, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};
#undef BAD


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
