/* hashkey — Kinesis hash-key arithmetic: 128-bit unsigned keys as 16 bytes,
 * big-endian (byte 0 is the most significant), so comparing two keys is a
 * memcmp. A record's hash key is its explicit hash key when it has one, else
 * the MD5 of its partition key's bytes read as a big-endian integer; a shard
 * owns the closed range [StartingHashKey, EndingHashKey], both given by the
 * API as decimal strings of 0 .. 2^128-1.
 *
 * Pure module: no allocation, no I/O, no global state except a digest handle
 * fetched once from OpenSSL and kept for the life of the process. */
#ifndef KCL_HASHKEY_H
#define KCL_HASHKEY_H

#include <stddef.h>
#include <stdint.h>

#define KCL_HASHKEY_LEN 16
/* Longest decimal form (2^128-1 has 39 digits) plus the NUL. */
#define KCL_HASHKEY_DEC_MAX 40

/* Parse a decimal string of exactly `len` bytes (no sign, no spaces; leading
 * zeros allowed) into `out`. Returns 0, or -1 if it is empty, holds a
 * non-digit, or exceeds 2^128-1 (`out` is then unspecified). */
int kcl_hashkey_parse(const char *dec, size_t len, uint8_t out[KCL_HASHKEY_LEN]);

/* Write the decimal form of `key` into `out` (NUL-terminated, at most 39
 * digits). Returns the number of digits. */
size_t kcl_hashkey_format(const uint8_t key[KCL_HASHKEY_LEN], char out[KCL_HASHKEY_DEC_MAX]);

/* <0, 0, >0 as a is less than, equal to, greater than b. */
int kcl_hashkey_cmp(const uint8_t a[KCL_HASHKEY_LEN], const uint8_t b[KCL_HASHKEY_LEN]);

/* The hash key Kinesis gives a partition key: MD5 of its `len` bytes.
 * Returns 0, or -1 if the digest could not be computed (OpenSSL failure). */
int kcl_hashkey_of_partition_key(const char *pk, size_t len, uint8_t out[KCL_HASHKEY_LEN]);

/* 1 if start <= key <= end, else 0. */
int kcl_hashkey_in_range(const uint8_t key[KCL_HASHKEY_LEN], const uint8_t start[KCL_HASHKEY_LEN],
                         const uint8_t end[KCL_HASHKEY_LEN]);

/* MD5 of `len` bytes into out[16]: the digest used above, shared with the
 * KPL aggregate checksum. Returns 0, or -1 on an OpenSSL failure. */
int kcl_hashkey_md5(const void *data, size_t len, uint8_t out[16]);

#endif
