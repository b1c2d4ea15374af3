/* json — a strict reader over jsmn and an escaping writer over kcl_buf.
 *
 * jsmn (strict mode, parent links) finds the tokens and checks string escapes
 * and bracket matching, but it still accepts missing or doubled commas and
 * colons, bare words, trailing commas and several top-level values. So after
 * jsmn, one pass walks the tokens in document order and checks the bytes
 * *between* them: each gap must be whitespace plus exactly the punctuation
 * the grammar wants there. The same pass checks literals and numbers
 * (RFC 8259), strings for raw control characters, the nesting depth, and
 * rewrites every token in place into our own form, which links each value to
 * its next sibling so iteration and lookups skip subtrees in O(1). */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"
#include "base64.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 64

/* Our token, written over jsmn's in the same memory after parsing. */
struct kcl_json_tok {
    int type;      /* kcl_json_type | TF_* flags */
    int start;     /* strings: after the opening quote; others: first byte */
    int end;       /* strings: at the closing quote; others: one past the last byte */
    int count;     /* containers: elements / members */
    int next;      /* next value in the same container, or -1 */
};
_Static_assert(sizeof(struct kcl_json_tok) == sizeof(jsmntok_t), "token layouts differ");
_Static_assert(offsetof(struct kcl_json_tok, next) == offsetof(jsmntok_t, parent), "token layouts differ");

#define TF_TYPE   0xff
#define TF_ESCAPE 0x100   /* string contains a backslash */
#define TF_MEMBER 0x200   /* value of an object member: its key is the token before */
#define TF_KEY    0x400   /* an object member's key */

static int tok_type(const kcl_json *d, kcl_jv v)
{
    if (!d || v < 0 || v >= d->ntoks) return KCL_JSON_ABSENT;
    return d->toks[v].type & TF_TYPE;
}

/* ---- parsing ------------------------------------------------------------ */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether text[a, b) is whitespace around exactly one `sep` (or around
 * nothing when sep is 0). Compact JSON (what AWS sends) takes the first line. */
static int gap_ok(const char *t, int a, int b, char sep)
{
    if (b - a == (sep != 0) && (!sep || t[a] == sep)) return 1;
    while (a < b && is_ws(t[a])) a++;
    if (sep) {
        if (a >= b || t[a] != sep) return 0;
        a++;
        while (a < b && is_ws(t[a])) a++;
    }
    return a == b;
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *s, int n)
{
    int i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return 0;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return 0;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    return i == n;
}

static int primitive_type(const char *s, int n)
{
    if (n == 4 && memcmp(s, "true", 4) == 0) return KCL_JSON_TRUE;
    if (n == 5 && memcmp(s, "false", 5) == 0) return KCL_JSON_FALSE;
    if (n == 4 && memcmp(s, "null", 4) == 0) return KCL_JSON_NULL;
    if (number_ok(s, n)) return KCL_JSON_NUMBER;
    return KCL_JSON_ABSENT;
}

/* Whether any of the 8 bytes of w is a control byte (< 0x20) or a backslash. */
static int word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t bs = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w & highs) | ((bs - ones) & ~bs & highs)) != 0;
}

/* Flags for a string's raw bytes: TF_ESCAPE, or -1 on a raw control byte.
 * Strings of 16 bytes or more (the base64 Data strings that make up most of
 * a GetRecords body) are checked 16 bytes at a time with SSE2 (8 with plain
 * C), the last block overlapping the one before; only a string where a block
 * shows a control byte or a backslash is looked at byte by byte. */
static int string_flags(const char *s, int n)
{
    int i = 0;
    if (n >= 16) {
#ifdef __SSE2__
        const __m128i lim = _mm_set1_epi8(0x1f), bsl = _mm_set1_epi8('\\');
        int hit = 0;
        for (;; i += 16) {
            if (i > n - 16) i = n - 16;   /* the last block, overlapping */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i m = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, lim), lim), _mm_cmpeq_epi8(v, bsl));
            if (_mm_movemask_epi8(m)) { hit = 1; break; }
            if (i == n - 16) break;
        }
#else
        int hit = 0;
        for (;; i += 8) {
            if (i > n - 8) i = n - 8;
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_special(w)) { hit = 1; break; }
            if (i == n - 8) break;
        }
#endif
        if (!hit) return 0;
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (!word_special(a) && !word_special(b)) return 0;
    }
    int flags = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20) return -1;
        if (c == '\\') flags = TF_ESCAPE;
    }
    return flags;
}

struct frame {
    int tok;        /* the container's token */
    int end;        /* one past its closing bracket */
    int last;       /* its last value so far, or -1 */
    int expect_key; /* objects: 1 when the next token must be a key */
};

static int fail(kcl_error *err, const char *what, int pos)
{
    if (err) kcl_error_set(err, KCL_ERR_MALFORMED, 0, "MalformedJson", "json: %s at byte %d", what, pos);
    return -1;
}

/* Close the innermost container: only whitespace may precede its bracket. */
static int close_frame(kcl_json *d, struct frame *f, int *pos, kcl_error *err)
{
    struct kcl_json_tok *t = &d->toks[f->tok];
    if (!gap_ok(d->text, *pos, f->end - 1, 0)) return fail(err, "unexpected punctuation before closing bracket", *pos);
    if ((t->type & TF_TYPE) == KCL_JSON_OBJECT && !f->expect_key) return fail(err, "member without value", *pos);
    *pos = f->end;
    return 0;
}

/* The pass described at the top of this file. */
static int validate(kcl_json *d, kcl_error *err)
{
    struct frame stack[MAX_DEPTH];
    int sp = 0, pos = 0;
    const char *text = d->text;
    for (int i = 0; i < d->ntoks; i++) {
        jsmntok_t jt;   /* copied out: the same memory is rewritten as ours below */
        memcpy(&jt, &d->toks[i], sizeof jt);
        int jtype = (int)jt.type, start = jt.start, end = jt.end;
        int tstart = jtype == JSMN_STRING ? start - 1 : start;
        while (sp > 0 && tstart >= stack[sp - 1].end) {
            if (close_frame(d, &stack[sp - 1], &pos, err) != 0) return -1;
            sp--;
        }
        int flags = 0;
        if (sp == 0) {
            if (i != 0) return fail(err, "more than one top-level value", tstart);
            if (!gap_ok(text, pos, tstart, 0)) return fail(err, "unexpected bytes", pos);
        } else {
            struct frame *f = &stack[sp - 1];
            struct kcl_json_tok *ct = &d->toks[f->tok];
            int is_obj = (ct->type & TF_TYPE) == KCL_JSON_OBJECT;
            char sep = f->last < 0 && (!is_obj || f->expect_key) ? 0 : (is_obj && !f->expect_key) ? ':' : ',';
            if (!gap_ok(text, pos, tstart, sep)) return fail(err, "bad separator", pos);
            if (is_obj && f->expect_key) {
                if (jtype != JSMN_STRING) return fail(err, "object key is not a string", tstart);
                flags = TF_KEY;
                f->expect_key = 0;
            } else {
                if (f->last >= 0) d->toks[f->last].next = i;
                f->last = i;
                ct->count++;
                if (is_obj) { flags = TF_MEMBER; f->expect_key = 1; }
            }
        }
        struct kcl_json_tok *t = &d->toks[i];
        int type;
        switch (jtype) {
        case JSMN_OBJECT:
        case JSMN_ARRAY:
            if (sp == MAX_DEPTH) return fail(err, "nested too deep", start);
            type = jtype == JSMN_OBJECT ? KCL_JSON_OBJECT : KCL_JSON_ARRAY;
            stack[sp++] = (struct frame){i, end, -1, jtype == JSMN_OBJECT};
            pos = start + 1;
            break;
        case JSMN_STRING: {
            int sf = string_flags(text + start, end - start);
            if (sf < 0) return fail(err, "control character in string", start);
            flags |= sf;
            type = KCL_JSON_STRING;
            pos = end + 1;
            break;
        }
        case JSMN_PRIMITIVE:
            type = primitive_type(text + start, end - start);
            if (type == KCL_JSON_ABSENT) return fail(err, "invalid literal or number", start);
            pos = end;
            break;
        default:
            return fail(err, "unknown token", start);
        }
        t->type = type | flags;
        t->start = start;
        t->end = end;
        t->count = 0;
        t->next = -1;
    }
    while (sp > 0) {
        if (close_frame(d, &stack[sp - 1], &pos, err) != 0) return -1;
        sp--;
    }
    if (d->ntoks == 0) return fail(err, "no value", 0);
    if (!gap_ok(text, pos, (int)d->len, 0)) return fail(err, "trailing bytes", pos);
    return 0;
}

static int grow(kcl_json *d, int want, int max_tokens)
{
    if (max_tokens > 0 && want > max_tokens) want = max_tokens;
    if (want <= d->cap) return -1;
    struct kcl_json_tok *p = realloc(d->toks, (size_t)want * sizeof *p);
    if (!p) return -1;
    d->toks = p;
    d->cap = want;
    return 0;
}

/* Open containers above jsmn's current parent token (stops counting past
 * MAX_DEPTH + 1). */
static int open_depth(const kcl_json *d, int sup)
{
    const jsmntok_t *t = (const jsmntok_t *)d->toks;
    int depth = 0;
    while (sup >= 0 && depth <= MAX_DEPTH) {
        if (t[sup].type == JSMN_OBJECT || t[sup].type == JSMN_ARRAY) depth++;
        sup = t[sup].parent;
    }
    return depth;
}

int kcl_json_parse(kcl_json *doc, const char *text, size_t len, int max_tokens, kcl_error *err)
{
    doc->text = text;
    doc->len = len;
    doc->ntoks = 0;
    if (len >= (size_t)0x7fffffff) return fail(err, "text too large", 0);
    size_t i = 0;
    while (i < len && is_ws(text[i])) i++;
    if (i < len && text[i] != '{' && text[i] != '[' && text[i] != '"') {
        /* A top-level literal: jsmn's strict mode wants a terminator after
         * it, so it is tokenized here. */
        size_t e = i;
        while (e < len && !is_ws(text[e])) e++;
        if (doc->cap < 1 && grow(doc, 16, 0) != 0) return fail(err, "out of memory", 0);
        jsmntok_t *jt = (jsmntok_t *)doc->toks;
        jt->type = JSMN_PRIMITIVE;
        jt->start = (int)i;
        jt->end = (int)e;
        jt->size = 0;
        jt->parent = -1;
        doc->ntoks = 1;
        if (validate(doc, err) != 0) { doc->ntoks = 0; return -1; }
        return 0;
    }
    if (doc->cap < 16) {
        int guess = (int)(len / 24) + 16;
        if (grow(doc, guess, max_tokens) != 0 && doc->cap < 1) return fail(err, "out of memory", 0);
    }
    /* jsmn closes a bracket by walking up from the last token, which costs
     * that token's depth: quadratic on deeply nested input. So it runs
     * STEP tokens at a time and the open depth is checked in between, which
     * bounds every token's depth by MAX_DEPTH + STEP. */
    enum { STEP = 256 };
    jsmn_parser p;
    jsmn_init(&p);
    int r;
    for (;;) {
        int lim = doc->cap;
        if (max_tokens > 0 && max_tokens < lim) lim = max_tokens;
        if ((int)p.toknext + STEP < lim) lim = (int)p.toknext + STEP;
        r = jsmn_parse(&p, text, len, (jsmntok_t *)doc->toks, (unsigned)lim);
        if (r != JSMN_ERROR_NOMEM) break;
        if (open_depth(doc, p.toksuper) > MAX_DEPTH) return fail(err, "nested too deep", (int)p.pos);
        if (lim < doc->cap && (max_tokens <= 0 || lim < max_tokens)) continue;
        if (max_tokens > 0 && lim >= max_tokens) return fail(err, "too many tokens", (int)p.pos);
        int want = doc->cap > 0x3fffffff / 2 ? 0x3fffffff : doc->cap * 2;
        if (grow(doc, want, max_tokens) != 0) return fail(err, "out of memory", (int)p.pos);
    }
    if (r == JSMN_ERROR_INVAL) return fail(err, "invalid character", (int)p.pos);
    if (r == JSMN_ERROR_PART) return fail(err, "truncated", (int)p.pos);
    if (r < 0) return fail(err, "tokenizer error", (int)p.pos);
    doc->ntoks = (int)p.toknext;
    if (validate(doc, err) != 0) { doc->ntoks = 0; return -1; }
    return 0;
}

void kcl_json_free(kcl_json *doc)
{
    free(doc->toks);
    memset(doc, 0, sizeof *doc);
}

/* ---- navigation --------------------------------------------------------- */

kcl_jv kcl_json_root(const kcl_json *doc)
{
    return doc && doc->ntoks > 0 ? 0 : KCL_JV_NONE;
}

kcl_json_type kcl_json_type_of(const kcl_json *doc, kcl_jv v)
{
    return (kcl_json_type)tok_type(doc, v);
}

int kcl_json_count(const kcl_json *doc, kcl_jv v)
{
    int t = tok_type(doc, v);
    return t == KCL_JSON_OBJECT || t == KCL_JSON_ARRAY ? doc->toks[v].count : 0;
}

kcl_jv kcl_json_first(const kcl_json *doc, kcl_jv c)
{
    int t = tok_type(doc, c);
    if ((t != KCL_JSON_OBJECT && t != KCL_JSON_ARRAY) || doc->toks[c].count == 0) return KCL_JV_NONE;
    return t == KCL_JSON_OBJECT ? c + 2 : c + 1;
}

kcl_jv kcl_json_next(const kcl_json *doc, kcl_jv v)
{
    if (tok_type(doc, v) == KCL_JSON_ABSENT) return KCL_JV_NONE;
    return doc->toks[v].next;
}

kcl_jv kcl_json_key_of(const kcl_json *doc, kcl_jv v)
{
    if (tok_type(doc, v) == KCL_JSON_ABSENT || !(doc->toks[v].type & TF_MEMBER)) return KCL_JV_NONE;
    return v - 1;
}

kcl_jv kcl_json_get(const kcl_json *doc, kcl_jv obj, const char *key)
{
    if (tok_type(doc, obj) != KCL_JSON_OBJECT || !key) return KCL_JV_NONE;
    size_t klen = strlen(key);
    for (kcl_jv v = kcl_json_first(doc, obj); v >= 0; v = doc->toks[v].next) {
        const struct kcl_json_tok *k = &doc->toks[v - 1];
        if (!(k->type & TF_ESCAPE)) {
            if ((size_t)(k->end - k->start) == klen && memcmp(doc->text + k->start, key, klen) == 0) return v;
        } else if (kcl_json_str_eq(doc, v - 1, key)) {
            return v;
        }
    }
    return KCL_JV_NONE;
}

/* ---- strings ------------------------------------------------------------ */

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Unescape s[0, n) into out, which has room for n bytes (the result is never
 * longer than the source). A lone surrogate becomes U+FFFD. Returns the
 * length, or -1 on a bad escape. */
static long unescape(const char *s, size_t n, char *out)
{
    char *o = out;
    size_t i = 0;
    while (i < n) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        memcpy(o, s + i, run);
        o += run;
        i += run;
        if (!bs) break;
        if (i + 1 >= n) return -1;
        char c = s[i + 1];
        i += 2;
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (i + 4 > n || hex4(s + i, &cp) != 0) return -1;
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u' && hex4(s + i + 2, &lo) == 0 &&
                    lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                cp = 0xfffd;
            }
            o = put_utf8(o, cp);
            break;
        }
        default:
            return -1;
        }
    }
    return (long)(o - out);
}

int kcl_json_str(const kcl_json *doc, kcl_jv v, kcl_buf *out)
{
    if (tok_type(doc, v) != KCL_JSON_STRING) return -1;
    const struct kcl_json_tok *t = &doc->toks[v];
    size_t n = (size_t)(t->end - t->start);
    kcl_buf_reset(out);
    if (kcl_buf_reserve(out, n) != 0) return -1;
    long r = unescape(doc->text + t->start, n, out->data);
    if (r < 0) { kcl_buf_reset(out); return -1; }
    out->len = (size_t)r;
    out->data[r] = '\0';
    return 0;
}

const char *kcl_json_raw(const kcl_json *doc, kcl_jv v, size_t *len, int *has_escape)
{
    if (tok_type(doc, v) != KCL_JSON_STRING) return NULL;
    const struct kcl_json_tok *t = &doc->toks[v];
    if (len) *len = (size_t)(t->end - t->start);
    if (has_escape) *has_escape = (t->type & TF_ESCAPE) != 0;
    return doc->text + t->start;
}

/* Unescape string v into a malloc'd NUL-terminated copy; *n gets its length. */
static char *unescaped_copy(const kcl_json *doc, kcl_jv v, size_t *n)
{
    if (tok_type(doc, v) != KCL_JSON_STRING) return NULL;
    const struct kcl_json_tok *t = &doc->toks[v];
    size_t raw = (size_t)(t->end - t->start);
    char *s = malloc(raw + 1);
    if (!s) return NULL;
    long r = unescape(doc->text + t->start, raw, s);
    if (r < 0) { free(s); return NULL; }
    s[r] = '\0';
    *n = (size_t)r;
    return s;
}

int kcl_json_str_eq(const kcl_json *doc, kcl_jv v, const char *s)
{
    if (tok_type(doc, v) != KCL_JSON_STRING || !s) return 0;
    const struct kcl_json_tok *t = &doc->toks[v];
    size_t slen = strlen(s), raw = (size_t)(t->end - t->start);
    if (!(t->type & TF_ESCAPE)) return raw == slen && memcmp(doc->text + t->start, s, slen) == 0;
    if (slen > raw) return 0;   /* unescaping never lengthens */
    size_t n;
    char *u = unescaped_copy(doc, v, &n);
    int eq = u && n == slen && memcmp(u, s, slen) == 0;
    free(u);
    return eq;
}

int kcl_json_str_copy(const kcl_json *doc, kcl_jv v, char *out, size_t outlen)
{
    if (!out || outlen == 0) return -1;
    out[0] = '\0';
    size_t n;
    char *u = unescaped_copy(doc, v, &n);
    if (!u) return -1;
    int rc = 0;
    if (memchr(u, '\0', n) || n >= outlen) {
        rc = -1;
        n = n >= outlen ? outlen - 1 : n;
    }
    memcpy(out, u, n);
    out[n] = '\0';
    free(u);
    return rc;
}

char *kcl_json_strdup(const kcl_json *doc, kcl_jv v)
{
    size_t n;
    char *u = unescaped_copy(doc, v, &n);
    if (u && memchr(u, '\0', n)) { free(u); return NULL; }
    return u;
}

/* ---- numbers and booleans ----------------------------------------------- */

int kcl_json_int64(const kcl_json *doc, kcl_jv v, int64_t *out)
{
    if (tok_type(doc, v) != KCL_JSON_NUMBER) return -1;
    const struct kcl_json_tok *t = &doc->toks[v];
    const char *s = doc->text + t->start, *e = doc->text + t->end;
    int neg = *s == '-';
    if (neg) s++;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9') return -1;   /* fraction or exponent */
        unsigned dgt = (unsigned)(*s - '0');
        if (acc > (limit - dgt) / 10) return -1;
        acc = acc * 10 + dgt;
    }
    if (out) *out = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    return 0;
}

/* Exact powers of ten as doubles (10^22 is the largest). */
static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path: a number without exponent whose digits (at most 15)
 * make an integer below 2^53, divided by an exact power of ten, is one
 * correctly rounded operation: the same double strtod returns. Returns -1
 * for anything else (exponent, more digits), which goes to strtod. */
static int fast_double(const char *s, size_t n, double *out)
{
    size_t i = 0;
    int neg = 0, digits = 0, frac = 0;
    uint64_t m = 0;
    if (i < n && s[i] == '-') { neg = 1; i++; }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) m = m * 10 + (uint64_t)(s[i] - '0');
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++, frac++) m = m * 10 + (uint64_t)(s[i] - '0');
    if (i != n || digits == 0 || digits > 15) return -1;
    double d = (double)m / POW10[frac];
    *out = neg ? -d : d;
    return 0;
}

int kcl_json_double(const kcl_json *doc, kcl_jv v, double *out)
{
    if (tok_type(doc, v) != KCL_JSON_NUMBER) return -1;
    const struct kcl_json_tok *t = &doc->toks[v];
    size_t n = (size_t)(t->end - t->start);
    double fd;
    if (fast_double(doc->text + t->start, n, &fd) == 0) {
        if (out) *out = fd;
        return 0;
    }
    char small[64];
    char *copy = n < sizeof small ? small : malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, doc->text + t->start, n);
    copy[n] = '\0';
    char *endp;
    errno = 0;
    double d = strtod(copy, &endp);
    int ok = endp == copy + n && isfinite(d);
    if (copy != small) free(copy);
    if (!ok) return -1;
    if (out) *out = d;
    return 0;
}

int kcl_json_bool(const kcl_json *doc, kcl_jv v, int *out)
{
    int t = tok_type(doc, v);
    if (t != KCL_JSON_TRUE && t != KCL_JSON_FALSE) return -1;
    if (out) *out = t == KCL_JSON_TRUE;
    return 0;
}

/* ---- writing ------------------------------------------------------------ */

void kcl_jw_init(kcl_jw *w, kcl_buf *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
}

static void put(kcl_jw *w, const void *p, size_t n)
{
    if (kcl_buf_append(w->out, p, n) != 0) w->failed = 1;
}

/* Before any value or key: the comma that separates it from the previous one. */
static void sep(kcl_jw *w)
{
    if (w->after_key) { w->after_key = 0; return; }
    if (w->depth > 0 && w->depth <= 64) {
        uint64_t bit = (uint64_t)1 << (w->depth - 1);
        if (w->need_comma & bit) put(w, ",", 1);
        w->need_comma |= bit;
    }
}

static void open_(kcl_jw *w, char c)
{
    sep(w);
    put(w, &c, 1);
    if (w->depth >= 64) w->failed = 1;
    w->depth++;
    if (w->depth <= 64) w->need_comma &= ~((uint64_t)1 << (w->depth - 1));
}

static void close_(kcl_jw *w, char c)
{
    put(w, &c, 1);
    if (w->depth > 0) w->depth--;
    else w->failed = 1;
    w->after_key = 0;
}

void kcl_jw_obj_begin(kcl_jw *w) { open_(w, '{'); }
void kcl_jw_obj_end(kcl_jw *w) { close_(w, '}'); }
void kcl_jw_arr_begin(kcl_jw *w) { open_(w, '['); }
void kcl_jw_arr_end(kcl_jw *w) { close_(w, ']'); }

static void put_string(kcl_jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (kcl_buf_reserve(w->out, n + 2) != 0) { w->failed = 1; return; }
    put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        put(w, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            put(w, esc, 6);
            continue;
        }
        put(w, esc, 2);
    }
    put(w, s + run, n - run);
    put(w, "\"", 1);
}

void kcl_jw_keyn(kcl_jw *w, const char *key, size_t n)
{
    sep(w);
    put_string(w, key, n);
    put(w, ":", 1);
    w->after_key = 1;
}

void kcl_jw_key(kcl_jw *w, const char *key)
{
    kcl_jw_keyn(w, key ? key : "", key ? strlen(key) : 0);
}

void kcl_jw_str(kcl_jw *w, const char *s)
{
    if (!s) { kcl_jw_null(w); return; }
    kcl_jw_strn(w, s, strlen(s));
}

void kcl_jw_strn(kcl_jw *w, const char *s, size_t n)
{
    sep(w);
    put_string(w, s, n);
}

void kcl_jw_int(kcl_jw *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    sep(w);
    put(w, tmp, (size_t)n);
}

void kcl_jw_double(kcl_jw *w, double v)
{
    if (!isfinite(v)) { kcl_jw_null(w); return; }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    sep(w);
    put(w, tmp, (size_t)n);
}

void kcl_jw_bool(kcl_jw *w, int v)
{
    sep(w);
    if (v) put(w, "true", 4);
    else put(w, "false", 5);
}

void kcl_jw_null(kcl_jw *w)
{
    sep(w);
    put(w, "null", 4);
}

void kcl_jw_base64(kcl_jw *w, const void *data, size_t n)
{
    sep(w);
    size_t e = kcl_base64_encoded_len(n);
    if (kcl_buf_reserve(w->out, e + 2) != 0) { w->failed = 1; return; }
    kcl_buf *b = w->out;
    b->data[b->len++] = '"';
    b->len += kcl_base64_encode(data, n, b->data + b->len);
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
}

void kcl_jw_kstr(kcl_jw *w, const char *key, const char *s)
{
    kcl_jw_key(w, key);
    kcl_jw_str(w, s);
}

void kcl_jw_kint(kcl_jw *w, const char *key, int64_t v)
{
    kcl_jw_key(w, key);
    kcl_jw_int(w, v);
}
