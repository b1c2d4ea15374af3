/* sigv4 — AWS Signature Version 4 (header signing, AWS4-HMAC-SHA256).
 *
 * A pure module: request in, headers out. No I/O, no clock (the caller gives
 * the signing time), no event loop. It follows the published AWS rules:
 *
 * - canonical URI: the path as sent on the wire, with `.`/`..` segments
 *   resolved and empty segments (`//`) dropped when `normalize_path` is set,
 *   then URI-encoded once more (every byte outside A-Z a-z 0-9 - _ . ~ and
 *   `/` becomes %XX, `%` included). S3 wants neither: set `s3_path` and
 *   normalize_path = 0, and the path is used as sent.
 * - canonical query: each `k=v` (or bare `k`) of the raw query is
 *   percent-decoded, re-encoded with the unreserved set, and the pairs sorted
 *   by encoded key, then encoded value; a bare key gets `k=`.
 * - canonical headers: names lowercased; values trimmed, runs of spaces and
 *   tabs collapsed to one space; repeated names joined with `,` in the order
 *   given; sorted by name. Every header the caller lists is signed, except
 *   ones that intermediaries change or drop (Authorization, Connection,
 *   Expect, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade,
 *   User-Agent, X-Amzn-Trace-Id), which are ignored.
 * - payload: hex SHA-256 of the body (or the caller's precomputed value, or
 *   the value of an X-Amz-Content-Sha256 header the caller lists).
 * - scope `YYYYMMDD/region/service/aws4_request`, key derivation
 *   HMAC("AWS4"+secret, date) -> region -> service -> "aws4_request".
 *
 * Secrets never appear in results or error messages. Key material the module
 * holds (derived keys, secret fingerprints, intermediate HMACs) is wiped with
 * OPENSSL_cleanse when dropped.
 */
#ifndef KCL_SIGV4_H
#define KCL_SIGV4_H

#include "buf.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct kcl_sigv4_header {
    const char *name;
    const char *value;
} kcl_sigv4_header;

typedef struct kcl_sigv4_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;      /* NULL or "" when there is none */
} kcl_sigv4_creds;

typedef struct kcl_sigv4_request {
    const char *method;             /* "POST" (used as given: upper case) */
    const char *path;               /* as sent on the wire: "/" or "/a%20b"; NULL or "" means "/" */
    const char *query;              /* raw query without '?', NULL or "" for none */
    const kcl_sigv4_header *headers;/* the headers that will be sent, Host included */
    size_t nheaders;
    const void *body;               /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *payload_sha256;     /* NULL: hash the body; else the value to sign as the
                                       payload hash, 1..64 characters (a cached hex hash,
                                       or "UNSIGNED-PAYLOAD") */
    const char *region;             /* "us-east-1" */
    const char *service;            /* "kinesis", "dynamodb" */
    int64_t epoch_s;                /* signing time, seconds since the epoch (UTC) */
    int normalize_path;             /* 1 for every service but S3 */
    int s3_path;                    /* 1 for S3: canonical path = path as sent (no second encoding) */
    int add_content_sha256_header;  /* 1: also send and sign X-Amz-Content-Sha256 */
} kcl_sigv4_request;

/* Headers the caller must add to the request, in this order:
 * X-Amz-Date, X-Amz-Security-Token (with a session token),
 * X-Amz-Content-Sha256 (when asked), Authorization. */
#define KCL_SIGV4_MAX_OUT_HEADERS 4

/* The outcome of one signing. Zero it (or KCL_SIGV4_RESULT_INIT) before the
 * first use; it can be reused for many signings and is released with
 * kcl_sigv4_result_free. Everything in it is owned by it: `headers[i]` point
 * into its own buffers and stay valid until the next signing or free. */
typedef struct kcl_sigv4_result {
    kcl_sigv4_header headers[KCL_SIGV4_MAX_OUT_HEADERS];
    size_t nheaders;
    char amz_date[17];              /* "20150830T123600Z" */
    char payload_sha256[65];        /* the payload hash that was signed (hex, or the caller's value) */
    char signature[65];             /* hex */
    kcl_buf authorization;          /* the Authorization value */
    kcl_buf signed_headers;         /* "host;x-amz-date" */
    kcl_buf canonical_request;      /* for debugging and tests */
    kcl_buf string_to_sign;         /* for debugging and tests */
    kcl_buf session_token;          /* copy of the token sent */
    kcl_buf scratch;                /* internal */
} kcl_sigv4_result;

#define KCL_SIGV4_RESULT_INIT {{{0, 0}}, 0, {0}, {0}, {0}, KCL_BUF_INIT, KCL_BUF_INIT, \
                               KCL_BUF_INIT, KCL_BUF_INIT, KCL_BUF_INIT, KCL_BUF_INIT}

void kcl_sigv4_result_free(kcl_sigv4_result *r);

/* Sign `req` with `creds`, stateless (derives the signing key each time).
 * Returns 0 and fills `out`, or -1 with `err` set (KCL_ERR_INVALID_ARGUMENT
 * for a bad request — missing fields, a header name or value with CR/LF or
 * NUL, a time outside years 1970..9999 — KCL_ERR_FATAL when memory or the
 * crypto library fails). `err` may be NULL. */
int kcl_sigv4_sign(const kcl_sigv4_creds *creds, const kcl_sigv4_request *req,
                   kcl_sigv4_result *out, kcl_error *err);

/* A signer keeps derived signing keys so one HMAC chain runs per
 * (day, region, service, secret) instead of one per request. It holds no
 * copy of the secret: entries are matched by a SHA-256 fingerprint of it.
 * A few entries are kept (enough for several services and regions); the
 * oldest is wiped and replaced when a new one is needed. Not thread-safe:
 * one signer per loop. */
typedef struct kcl_sigv4_signer kcl_sigv4_signer;

/* NULL when memory runs out. */
kcl_sigv4_signer *kcl_sigv4_signer_new(void);
/* Wipe every cached key and fingerprint and free the signer (NULL is fine). */
void kcl_sigv4_signer_free(kcl_sigv4_signer *s);
/* Wipe the cached keys (e.g. after credentials were revoked). */
void kcl_sigv4_signer_clear(kcl_sigv4_signer *s);
/* Like kcl_sigv4_sign, reusing a cached signing key when one matches. */
int kcl_sigv4_signer_sign(kcl_sigv4_signer *s, const kcl_sigv4_creds *creds,
                          const kcl_sigv4_request *req, kcl_sigv4_result *out, kcl_error *err);
/* How many signing keys this signer has derived so far (for tests and stats). */
unsigned long kcl_sigv4_signer_derivations(const kcl_sigv4_signer *s);

/* Hex SHA-256 of `data` into `out` (65 bytes with the NUL). Returns 0 or -1. */
int kcl_sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
