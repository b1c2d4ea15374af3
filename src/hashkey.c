/* hashkey — 128-bit Kinesis hash keys as big-endian byte strings.
 *
 * Decimal conversion works byte by byte (multiply-add and divide by ten over
 * the 16 bytes), which is portable C11 and fast enough: a key has at most 39
 * digits. MD5 goes through OpenSSL 3's EVP interface with the digest fetched
 * once per thread (an implicit fetch on every call costs as much as hashing a
 * short key). */
#include "hashkey.h"

#include <openssl/evp.h>
#include <string.h>

int kcl_hashkey_parse(const char *dec, size_t len, uint8_t out[KCL_HASHKEY_LEN])
{
    if (!dec || len == 0) return -1;
    memset(out, 0, KCL_HASHKEY_LEN);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)dec[i];
        if (c < '0' || c > '9') return -1;
        unsigned carry = c - '0';
        for (int b = KCL_HASHKEY_LEN - 1; b >= 0; b--) {
            unsigned v = out[b] * 10u + carry;
            out[b] = (uint8_t)(v & 0xffu);
            carry = v >> 8;
        }
        if (carry) return -1;   /* past 2^128-1 */
    }
    return 0;
}

size_t kcl_hashkey_format(const uint8_t key[KCL_HASHKEY_LEN], char out[KCL_HASHKEY_DEC_MAX])
{
    uint8_t n[KCL_HASHKEY_LEN];
    char rev[KCL_HASHKEY_DEC_MAX];
    size_t digits = 0;
    memcpy(n, key, sizeof n);
    for (;;) {
        unsigned rem = 0;
        int nonzero = 0;
        for (int b = 0; b < KCL_HASHKEY_LEN; b++) {
            unsigned v = rem * 256u + n[b];
            n[b] = (uint8_t)(v / 10u);
            rem = v % 10u;
            nonzero |= n[b];
        }
        rev[digits++] = (char)('0' + rem);
        if (!nonzero) break;
    }
    for (size_t i = 0; i < digits; i++) out[i] = rev[digits - 1 - i];
    out[digits] = '\0';
    return digits;
}

int kcl_hashkey_cmp(const uint8_t a[KCL_HASHKEY_LEN], const uint8_t b[KCL_HASHKEY_LEN])
{
    return memcmp(a, b, KCL_HASHKEY_LEN);
}

int kcl_hashkey_in_range(const uint8_t key[KCL_HASHKEY_LEN], const uint8_t start[KCL_HASHKEY_LEN],
                         const uint8_t end[KCL_HASHKEY_LEN])
{
    return kcl_hashkey_cmp(start, key) <= 0 && kcl_hashkey_cmp(key, end) <= 0;
}

/* One digest and one context per thread, made on first use and kept: they
 * stay reachable through these pointers, so leak checkers do not count them. */
static _Thread_local EVP_MD *md5_md;
static _Thread_local EVP_MD_CTX *md5_ctx;

int kcl_hashkey_md5(const void *data, size_t len, uint8_t out[16])
{
    if (!md5_md) {
        md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
        if (!md5_md) return -1;
    }
    if (!md5_ctx) {
        md5_ctx = EVP_MD_CTX_new();
        if (!md5_ctx) return -1;
    }
    unsigned int n = 0;
    if (EVP_DigestInit_ex2(md5_ctx, md5_md, NULL) != 1 ||
        (len && EVP_DigestUpdate(md5_ctx, data, len) != 1) ||
        EVP_DigestFinal_ex(md5_ctx, out, &n) != 1 || n != 16)
        return -1;
    return 0;
}

int kcl_hashkey_of_partition_key(const char *pk, size_t len, uint8_t out[KCL_HASHKEY_LEN])
{
    return kcl_hashkey_md5(pk, len, out);
}
