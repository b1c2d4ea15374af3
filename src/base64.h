/* base64 — standard alphabet (RFC 4648 §4) with padding, as Kinesis uses for
 * record data in its JSON protocol. Pure. */
#ifndef KCL_BASE64_H
#define KCL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes (no NUL). */
size_t kcl_base64_encoded_len(size_t n);
/* Upper bound of decoded bytes for an encoded length. */
size_t kcl_base64_decoded_max(size_t n);
/* Encode n bytes into out (kcl_base64_encoded_len(n) bytes, not NUL-terminated).
 * Returns the length written. */
size_t kcl_base64_encode(const uint8_t *in, size_t n, char *out);
/* Decode `n` characters into out (kcl_base64_decoded_max(n) bytes). Strict:
 * padding must be right and no other characters are allowed. Returns the
 * number of bytes, or -1 on invalid input. */
long kcl_base64_decode(const char *in, size_t n, uint8_t *out);

#endif
