/* json — reading and writing the JSON that AWS JSON-protocol APIs speak.
 *
 * Reading is a thin layer over jsmn (Debian's libjsmn-dev), a zero-allocation
 * tokenizer: kcl_json_parse tokenizes the text once, values are addressed by
 * token index (kcl_jv, -1 = absent), and strings are unescaped only when asked
 * for, straight from the caller's text — which must outlive the document.
 * Every accessor tolerates an absent or wrongly typed value (it returns -1,
 * 0, NULL or "absent"), so a decoder can read a malformed response field by
 * field and fail with a typed error instead of crashing.
 *
 * Writing appends to a kcl_buf with correct escaping; kcl_jw tracks commas. */
#ifndef KCL_JSON_H
#define KCL_JSON_H

#include "buf.h"
#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef int kcl_jv;                /* a value: token index, or -1 = absent */
#define KCL_JV_NONE (-1)

typedef enum {
    KCL_JSON_ABSENT = 0,
    KCL_JSON_OBJECT,
    KCL_JSON_ARRAY,
    KCL_JSON_STRING,
    KCL_JSON_NUMBER,
    KCL_JSON_TRUE,
    KCL_JSON_FALSE,
    KCL_JSON_NULL
} kcl_json_type;

struct kcl_json_tok;
typedef struct kcl_json {
    const char *text;              /* the parsed text (not owned) */
    size_t len;
    struct kcl_json_tok *toks;     /* owned */
    int ntoks, cap;
} kcl_json;

/* Parse `text`. `doc` must be zeroed or previously parsed (its token memory
 * is reused; kcl_json_free releases it). Returns 0, or -1 with err->kind =
 * KCL_ERR_MALFORMED (err may be NULL) for text that is not one complete
 * RFC 8259 value (trailing bytes, NUL bytes and raw control characters in
 * strings included), nested more than 64 levels, or larger than max_tokens
 * (0 = no limit beyond memory). A token is one value or one object key.
 * Running out of memory is reported the same way (code "MalformedJson",
 * message "out of memory"). After a failure the document is empty (every
 * accessor answers "absent").
 * Text longer than 2 GiB is refused. */
int kcl_json_parse(kcl_json *doc, const char *text, size_t len, int max_tokens, kcl_error *err);
void kcl_json_free(kcl_json *doc);

kcl_jv kcl_json_root(const kcl_json *doc);
kcl_json_type kcl_json_type_of(const kcl_json *doc, kcl_jv v);
/* Member `key` of object `obj` (compared after unescaping; the first one
 * when a key repeats), or -1. Linear in the object's size: other members'
 * values are skipped whole. */
kcl_jv kcl_json_get(const kcl_json *doc, kcl_jv obj, const char *key);
/* Number of elements of an array or members of an object (0 otherwise). */
int kcl_json_count(const kcl_json *doc, kcl_jv v);
/* Iteration over an array's elements or an object's values:
 *   for (kcl_jv e = kcl_json_first(d, arr); e >= 0; e = kcl_json_next(d, e))
 * For objects, kcl_json_first/next return values and kcl_json_key_of(d, value)
 * gives the member's key token. */
kcl_jv kcl_json_first(const kcl_json *doc, kcl_jv container);
kcl_jv kcl_json_next(const kcl_json *doc, kcl_jv v);
kcl_jv kcl_json_key_of(const kcl_json *doc, kcl_jv member_value);

/* A string value unescaped into `out` (replacing its contents); \uXXXX
 * escapes and surrogate pairs become UTF-8, a lone surrogate becomes U+FFFD,
 * \u0000 becomes a NUL byte (out->len counts it). Raw bytes >= 0x80 are
 * passed through unchecked (the parser does not validate UTF-8). Returns 0,
 * or -1 if `v` is not a string (out is then empty). */
int kcl_json_str(const kcl_json *doc, kcl_jv v, kcl_buf *out);
/* The raw bytes between a string's quotes (escapes not processed) and
 * whether any escape occurs in them: the zero-copy path for base64 data. */
const char *kcl_json_raw(const kcl_json *doc, kcl_jv v, size_t *len, int *has_escape);
/* Whether string `v` equals `s` (after unescaping). */
int kcl_json_str_eq(const kcl_json *doc, kcl_jv v, const char *s);
/* Copy a string value into a fixed buffer, always NUL-terminated. Returns 0,
 * or -1 if absent/not a string (out = ""), or if it does not fit or contains
 * a NUL (out then holds the truncated prefix). */
int kcl_json_str_copy(const kcl_json *doc, kcl_jv v, char *out, size_t outlen);
/* A newly malloc'd unescaped copy of string `v` (caller frees), or NULL if
 * absent, not a string, out of memory, or if it contains \u0000. */
char *kcl_json_strdup(const kcl_json *doc, kcl_jv v);
/* Numbers: exact integers (-1 on fractions, exponents, "1.0" included, and
 * values outside int64) and doubles (strtod, so LC_NUMERIC must stay "C", the
 * default; -1 when the value overflows to infinity). Both leave *out alone on
 * failure. AWS sends some timestamps as JSON numbers with fractions (seconds). */
int kcl_json_int64(const kcl_json *doc, kcl_jv v, int64_t *out);
int kcl_json_double(const kcl_json *doc, kcl_jv v, double *out);
/* true/false -> 1/0 in *out; -1 if not a boolean. */
int kcl_json_bool(const kcl_json *doc, kcl_jv v, int *out);

/* ---- writing -------------------------------------------------------------- */
typedef struct kcl_jw {
    kcl_buf *out;
    int depth;
    uint64_t need_comma;   /* bit per depth level */
    int after_key;
    int failed;            /* set when memory ran out or nesting passed 64 levels */
} kcl_jw;

/* Writing never fails midway: on out-of-memory (or nesting past 64 levels)
 * w->failed is set and the output is incomplete; check it once at the end.
 * Strings are escaped (", \\, control characters); bytes >= 0x80 are copied
 * as they are, so give UTF-8. Doubles are written with %.17g (exact round
 * trip), NaN and infinities as null. A NULL string is written as null. */
void kcl_jw_init(kcl_jw *w, kcl_buf *out);
void kcl_jw_obj_begin(kcl_jw *w);
void kcl_jw_obj_end(kcl_jw *w);
void kcl_jw_arr_begin(kcl_jw *w);
void kcl_jw_arr_end(kcl_jw *w);
void kcl_jw_key(kcl_jw *w, const char *key);
void kcl_jw_keyn(kcl_jw *w, const char *key, size_t n);
void kcl_jw_str(kcl_jw *w, const char *s);
void kcl_jw_strn(kcl_jw *w, const char *s, size_t n);
void kcl_jw_int(kcl_jw *w, int64_t v);
void kcl_jw_double(kcl_jw *w, double v);
void kcl_jw_bool(kcl_jw *w, int v);
void kcl_jw_null(kcl_jw *w);
/* Base64 of binary bytes as a JSON string. */
void kcl_jw_base64(kcl_jw *w, const void *data, size_t n);
/* Conveniences: key + value. */
void kcl_jw_kstr(kcl_jw *w, const char *key, const char *s);
void kcl_jw_kint(kcl_jw *w, const char *key, int64_t v);

#endif
