/* sigv4 — AWS Signature Version 4; see sigv4.h for the rules it follows. */
#include "sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALGORITHM "AWS4-HMAC-SHA256"
#define CACHE_SLOTS 8
#define CACHE_FIELD 64

typedef struct key_slot {
    int used;
    unsigned long stamp;               /* last use, for replacing the oldest */
    char date[9];                      /* YYYYMMDD */
    char region[CACHE_FIELD];
    char service[CACHE_FIELD];
    unsigned char fingerprint[32];     /* SHA-256 of the secret */
    unsigned char key[32];             /* the derived signing key */
} key_slot;

struct kcl_sigv4_signer {
    key_slot slots[CACHE_SLOTS];
    unsigned long clock;
    unsigned long derivations;
};

/* ---- small helpers ------------------------------------------------------- */

static const char HEX[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = HEX[in[i] >> 4];
        out[2 * i + 1] = HEX[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data ? data : "", len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

static int hmac(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) && n == 32 ? 0 : -1;
}

int kcl_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    if (sha256(data, len, md) != 0) return -1;
    hex_encode(md, 32, out);
    return 0;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Append `s[0..n)` URI-encoded (RFC 3986 unreserved kept, '/' kept if asked). */
static int uri_encode(kcl_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char UHEX[] = "0123456789ABCDEF";
    if (kcl_buf_reserve(b, n * 3) != 0) return -1;
    char *p = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = UHEX[c >> 4];
            *p++ = UHEX[c & 15];
        }
    }
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode `s[0..n)` into `b` (a '%' not followed by two hex digits
 * stays as it is; '+' stays '+': SigV4 treats it as a literal). */
static int uri_decode(kcl_buf *b, const char *s, size_t n)
{
    if (kcl_buf_reserve(b, n) != 0) return -1;
    char *p = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n &&
            (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            *p++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *p++ = s[i];
        }
    }
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

static int fail(kcl_error *err, kcl_err_kind kind, const char *msg)
{
    kcl_error_set(err, kind, 0, "SigV4", "sigv4: %s", msg);
    return -1;
}

/* Header names and methods: printable ASCII without spaces and ':'. */
static int valid_token(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == ':') return 0;
    }
    return 1;
}

/* Parts of the credential scope and the access key: no separators. */
static int valid_scope_part(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',' || c == ';' || c == '=') return 0;
    }
    return 1;
}

static int valid_value(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

/* ---- canonical URI ------------------------------------------------------- */

static int append_segment(kcl_buf *b, const char *s, size_t n, int encode)
{
    return encode ? uri_encode(b, s, n, 0) : kcl_buf_append(b, s, n);
}

static int canonical_path(kcl_buf *b, const char *path, int normalize, int encode)
{
    if (!path || !*path) path = "/";
    size_t plen = strlen(path);
    if (!normalize) return encode ? uri_encode(b, path, plen, 1) : kcl_buf_append(b, path, plen);

    /* Resolve "." and "..", drop empty segments; keep a leading and a
     * trailing '/' (the latter only when a segment is left). */
    size_t maxseg = 1;
    for (const char *p = path; *p; p++) maxseg += *p == '/';
    size_t *off = malloc(maxseg * 2 * sizeof *off);
    if (!off) return -1;
    size_t n = 0;
    for (size_t i = 0; i <= plen;) {
        size_t j = i;
        while (j < plen && path[j] != '/') j++;
        size_t len = j - i;
        if (len == 0 || (len == 1 && path[i] == '.')) {
            /* skip */
        } else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n) n--;
        } else {
            off[2 * n] = i;
            off[2 * n + 1] = len;
            n++;
        }
        i = j + 1;
    }
    int rc = 0;
    if (path[0] == '/' || n == 0) rc |= kcl_buf_append_char(b, '/');
    for (size_t k = 0; k < n && rc == 0; k++) {
        if (k) rc |= kcl_buf_append_char(b, '/');
        rc |= append_segment(b, path + off[2 * k], off[2 * k + 1], encode);
    }
    if (rc == 0 && n && path[plen - 1] == '/') rc |= kcl_buf_append_char(b, '/');
    free(off);
    return rc ? -1 : 0;
}

/* ---- canonical query ----------------------------------------------------- */

typedef struct qparam {
    char *k, *v;   /* both encoded */
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* Decode then re-encode `s[0..n)`; a malloc'd string, NULL on OOM. */
static char *reencode(const char *s, size_t n, kcl_buf *tmp)
{
    kcl_buf_reset(tmp);
    if (uri_decode(tmp, s, n) != 0) return NULL;
    kcl_buf enc = KCL_BUF_INIT;
    if (uri_encode(&enc, tmp->data, tmp->len, 0) != 0) {
        kcl_buf_free(&enc);
        return NULL;
    }
    return kcl_buf_steal(&enc);
}

static int canonical_query(kcl_buf *out, const char *q, kcl_buf *tmp)
{
    if (!q || !*q) return 0;
    size_t max = 1;
    for (const char *p = q; *p; p++) max += *p == '&';
    qparam *ps = calloc(max, sizeof *ps);
    if (!ps) return -1;
    size_t n = 0;
    int rc = 0;
    size_t qlen = strlen(q);
    for (size_t i = 0; i <= qlen && rc == 0;) {
        size_t j = i;
        while (j < qlen && q[j] != '&') j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (q + i)) : j - i;
            ps[n].k = reencode(q + i, klen, tmp);
            ps[n].v = eq ? reencode(eq + 1, (size_t)(q + j - eq - 1), tmp) : strdup("");
            if (!ps[n].k || !ps[n].v) rc = -1;
            n++;
        }
        i = j + 1;
    }
    if (rc == 0) {
        qsort(ps, n, sizeof *ps, qparam_cmp);
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = kcl_buf_printf(out, "%s%s=%s", k ? "&" : "", ps[k].k, ps[k].v);
    }
    for (size_t k = 0; k < n; k++) {
        free(ps[k].k);
        free(ps[k].v);
    }
    free(ps);
    return rc;
}

/* ---- canonical headers --------------------------------------------------- */

typedef struct hent {
    char *name;     /* lowercased, malloc'd */
    char *value;    /* trimmed, spaces collapsed, malloc'd */
    size_t order;   /* position given, to keep repeated names in order */
} hent;

static int hent_cmp(const void *a, const void *b)
{
    const hent *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    if (d)
        for (char *p = d; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Trim spaces and tabs at both ends and collapse inner runs to one space. */
static char *normalize_value(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (!d) return NULL;
    char *p = d;
    int pending = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t') {
            pending = p != d;
            continue;
        }
        if (pending) *p++ = ' ';
        pending = 0;
        *p++ = *s;
    }
    *p = '\0';
    return d;
}

static int unsignable(const char *lname)
{
    static const char *const names[] = {
        "authorization", "connection", "expect", "keep-alive", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", NULL,
    };
    for (size_t i = 0; names[i]; i++)
        if (strcmp(lname, names[i]) == 0) return 1;
    return strncmp(lname, "proxy-", 6) == 0;
}

/* Add a header the signer generates (`lname` already lowercase). */
static int push_header(hent *hs, size_t *n, const char *lname, const char *value)
{
    hent *h = &hs[*n];
    h->name = strdup(lname);
    h->value = normalize_value(value);
    h->order = *n;
    (*n)++;
    return h->name && h->value ? 0 : -1;
}

/* Append the canonical header block ("name:value\n"...) to `cr` and the
 * signed header list to `signed_list`. Fills *payload_from_header with the
 * caller's X-Amz-Content-Sha256 value when it is kept (malloc'd). */
static int canonical_headers(const kcl_sigv4_request *req, const char *amz_date, const char *token,
                             const char *content_sha256, kcl_buf *cr, kcl_buf *signed_list,
                             char **payload_from_header, kcl_error *err)
{
    hent *hs = calloc(req->nheaders + 3, sizeof *hs);
    if (!hs) return fail(err, KCL_ERR_FATAL, "out of memory");
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < req->nheaders && rc == 0; i++) {
        const kcl_sigv4_header *h = &req->headers[i];
        if (!valid_token(h->name) || !valid_value(h->value)) {
            rc = fail(err, KCL_ERR_INVALID_ARGUMENT, "a header name or value is not allowed (empty, control characters or CR/LF)");
            break;
        }
        char *l = lower_dup(h->name);
        if (!l) { rc = fail(err, KCL_ERR_FATAL, "out of memory"); break; }
        int skip = unsignable(l) || strcmp(l, "x-amz-date") == 0 ||
                   (token && strcmp(l, "x-amz-security-token") == 0) ||
                   (content_sha256 && strcmp(l, "x-amz-content-sha256") == 0);
        if (!skip && strcmp(l, "x-amz-content-sha256") == 0 && !*payload_from_header) {
            *payload_from_header = normalize_value(h->value);
            if (!*payload_from_header) skip = -1;
        }
        if (skip == 0) {
            hs[n].name = l;
            hs[n].value = normalize_value(h->value);
            hs[n].order = n;
            n++;
            if (!hs[n - 1].value) skip = -1;
        } else {
            free(l);
        }
        if (skip < 0) rc = fail(err, KCL_ERR_FATAL, "out of memory");
    }
    if (rc == 0) {
        rc |= push_header(hs, &n, "x-amz-date", amz_date);
        if (token) rc |= push_header(hs, &n, "x-amz-security-token", token);
        if (content_sha256) rc |= push_header(hs, &n, "x-amz-content-sha256", content_sha256);
        if (rc) fail(err, KCL_ERR_FATAL, "out of memory");
    }
    if (rc == 0) {
        qsort(hs, n, sizeof *hs, hent_cmp);
        for (size_t i = 0; i < n && rc == 0; i++) {
            int first = i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0;
            int last = i + 1 == n || strcmp(hs[i].name, hs[i + 1].name) != 0;
            if (first) {
                rc |= kcl_buf_printf(cr, "%s:", hs[i].name);
                rc |= kcl_buf_printf(signed_list, "%s%s", i ? ";" : "", hs[i].name);
            }
            rc |= kcl_buf_append_str(cr, hs[i].value);
            rc |= kcl_buf_append_char(cr, last ? '\n' : ',');
        }
        if (rc) fail(err, KCL_ERR_FATAL, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
    free(hs);
    return rc ? -1 : 0;
}

/* ---- signing key ---------------------------------------------------------- */

static int derive_key(const char *secret, const char *date, const char *region, const char *service,
                      unsigned char key[32])
{
    size_t slen = strlen(secret);
    unsigned char *k = malloc(slen + 4);
    if (!k) return -1;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    unsigned char a[32], b[32];
    int rc = hmac(k, slen + 4, date, strlen(date), a);
    if (rc == 0) rc = hmac(a, 32, region, strlen(region), b);
    if (rc == 0) rc = hmac(b, 32, service, strlen(service), a);
    if (rc == 0) rc = hmac(a, 32, "aws4_request", 12, key);
    OPENSSL_cleanse(k, slen + 4);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    free(k);
    return rc;
}

static int get_key(kcl_sigv4_signer *s, const kcl_sigv4_creds *c, const char *date,
                   const char *region, const char *service, unsigned char key[32])
{
    if (!s) return derive_key(c->secret_access_key, date, region, service, key);
    if (strlen(region) >= CACHE_FIELD || strlen(service) >= CACHE_FIELD) {
        s->derivations++;
        return derive_key(c->secret_access_key, date, region, service, key);
    }
    unsigned char fp[32];
    if (sha256(c->secret_access_key, strlen(c->secret_access_key), fp) != 0) return -1;
    key_slot *victim = NULL;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        key_slot *k = &s->slots[i];
        if (k->used && strcmp(k->date, date) == 0 && strcmp(k->region, region) == 0 &&
            strcmp(k->service, service) == 0 && CRYPTO_memcmp(k->fingerprint, fp, 32) == 0) {
            k->stamp = ++s->clock;
            memcpy(key, k->key, 32);
            OPENSSL_cleanse(fp, sizeof fp);
            return 0;
        }
        /* Replace a free slot if there is one, else the least recently used. */
        if (!victim || (victim->used && (!k->used || k->stamp < victim->stamp))) victim = k;
    }
    int rc = derive_key(c->secret_access_key, date, region, service, key);
    if (rc == 0) {
        s->derivations++;
        OPENSSL_cleanse(victim, sizeof *victim);
        victim->used = 1;
        victim->stamp = ++s->clock;
        memcpy(victim->date, date, 9);
        snprintf(victim->region, sizeof victim->region, "%s", region);
        snprintf(victim->service, sizeof victim->service, "%s", service);
        memcpy(victim->fingerprint, fp, 32);
        memcpy(victim->key, key, 32);
    }
    OPENSSL_cleanse(fp, sizeof fp);
    return rc;
}

/* ---- signing -------------------------------------------------------------- */

static void result_reset(kcl_sigv4_result *r)
{
    memset(r->headers, 0, sizeof r->headers);
    r->nheaders = 0;
    r->amz_date[0] = r->payload_sha256[0] = r->signature[0] = '\0';
    kcl_buf_reset(&r->authorization);
    kcl_buf_reset(&r->signed_headers);
    kcl_buf_reset(&r->canonical_request);
    kcl_buf_reset(&r->string_to_sign);
    kcl_buf_reset(&r->session_token);
    kcl_buf_reset(&r->scratch);
}

void kcl_sigv4_result_free(kcl_sigv4_result *r)
{
    if (!r) return;
    kcl_buf_free(&r->authorization);
    kcl_buf_free(&r->signed_headers);
    kcl_buf_free(&r->canonical_request);
    kcl_buf_free(&r->string_to_sign);
    if (r->session_token.data) OPENSSL_cleanse(r->session_token.data, r->session_token.cap);
    kcl_buf_free(&r->session_token);
    kcl_buf_free(&r->scratch);
    memset(r, 0, sizeof *r);
}

static int check_request(const kcl_sigv4_creds *c, const kcl_sigv4_request *req, kcl_error *err)
{
    if (!c || !req) return fail(err, KCL_ERR_INVALID_ARGUMENT, "no credentials or no request");
    if (!valid_scope_part(c->access_key_id)) return fail(err, KCL_ERR_INVALID_ARGUMENT, "access key id missing or malformed");
    if (!c->secret_access_key || !*c->secret_access_key) return fail(err, KCL_ERR_INVALID_ARGUMENT, "secret access key missing");
    if (c->session_token && !valid_value(c->session_token)) return fail(err, KCL_ERR_INVALID_ARGUMENT, "session token has CR/LF");
    if (!valid_token(req->method)) return fail(err, KCL_ERR_INVALID_ARGUMENT, "method missing or malformed");
    if (!valid_scope_part(req->region)) return fail(err, KCL_ERR_INVALID_ARGUMENT, "region missing or malformed");
    if (!valid_scope_part(req->service)) return fail(err, KCL_ERR_INVALID_ARGUMENT, "service missing or malformed");
    if (req->nheaders && !req->headers) return fail(err, KCL_ERR_INVALID_ARGUMENT, "nheaders without headers");
    if (req->body_len && !req->body) return fail(err, KCL_ERR_INVALID_ARGUMENT, "body_len without body");
    if (req->path && strpbrk(req->path, "\r\n")) return fail(err, KCL_ERR_INVALID_ARGUMENT, "path has CR/LF");
    if (req->payload_sha256 && (!*req->payload_sha256 || strlen(req->payload_sha256) > 64 || !valid_value(req->payload_sha256)))
        return fail(err, KCL_ERR_INVALID_ARGUMENT, "payload_sha256 must be 1..64 characters");
    if (req->epoch_s < 0 || req->epoch_s > 253402300799LL) return fail(err, KCL_ERR_INVALID_ARGUMENT, "signing time out of range");
    return 0;
}

static int sign(kcl_sigv4_signer *s, const kcl_sigv4_creds *c, const kcl_sigv4_request *req,
                kcl_sigv4_result *out, kcl_error *err)
{
    if (!out) return fail(err, KCL_ERR_INVALID_ARGUMENT, "no result");
    result_reset(out);
    if (check_request(c, req, err) != 0) return -1;
    const char *token = c->session_token && *c->session_token ? c->session_token : NULL;

    time_t t = (time_t)req->epoch_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out->amz_date, sizeof out->amz_date, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return fail(err, KCL_ERR_INVALID_ARGUMENT, "signing time out of range");
    char date[9];
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';

    /* The payload hash that is signed: the caller's precomputed one, else the
     * body's; an X-Amz-Content-Sha256 header the caller sends wins (it is
     * what the server compares with). */
    if (req->payload_sha256) snprintf(out->payload_sha256, sizeof out->payload_sha256, "%s", req->payload_sha256);
    else if (kcl_sigv4_sha256_hex(req->body, req->body_len, out->payload_sha256) != 0)
        return fail(err, KCL_ERR_FATAL, "SHA-256 failed");

    kcl_buf *cr = &out->canonical_request;
    char *payload_header = NULL;
    int rc = kcl_buf_printf(cr, "%s\n", req->method);
    rc |= canonical_path(cr, req->path, req->normalize_path, !req->s3_path);
    rc |= kcl_buf_append_char(cr, '\n');
    rc |= canonical_query(cr, req->query, &out->scratch);
    rc |= kcl_buf_append_char(cr, '\n');
    if (rc) return fail(err, KCL_ERR_FATAL, "out of memory");
    if (canonical_headers(req, out->amz_date, token, req->add_content_sha256_header ? out->payload_sha256 : NULL,
                          cr, &out->signed_headers, &payload_header, err) != 0) {
        free(payload_header);
        return -1;
    }
    if (payload_header) {
        snprintf(out->payload_sha256, sizeof out->payload_sha256, "%s", payload_header);
        free(payload_header);
    }
    rc = kcl_buf_printf(cr, "\n%s\n%s", kcl_buf_cstr(&out->signed_headers), out->payload_sha256);

    char cr_hash[65];
    if (rc || kcl_sigv4_sha256_hex(cr->data, cr->len, cr_hash) != 0) return fail(err, KCL_ERR_FATAL, "out of memory or SHA-256 failed");
    rc = kcl_buf_printf(&out->string_to_sign, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
                        out->amz_date, date, req->region, req->service, cr_hash);
    if (rc) return fail(err, KCL_ERR_FATAL, "out of memory");

    unsigned char key[32], sig[32];
    if (get_key(s, c, date, req->region, req->service, key) != 0) {
        OPENSSL_cleanse(key, sizeof key);
        return fail(err, KCL_ERR_FATAL, "signing key derivation failed");
    }
    rc = hmac(key, sizeof key, out->string_to_sign.data, out->string_to_sign.len, sig);
    OPENSSL_cleanse(key, sizeof key);
    if (rc) return fail(err, KCL_ERR_FATAL, "HMAC failed");
    hex_encode(sig, 32, out->signature);

    rc = kcl_buf_printf(&out->authorization, ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                        c->access_key_id, date, req->region, req->service,
                        kcl_buf_cstr(&out->signed_headers), out->signature);
    if (token) rc |= kcl_buf_append_str(&out->session_token, token);
    if (rc) return fail(err, KCL_ERR_FATAL, "out of memory");

    size_t n = 0;
    out->headers[n++] = (kcl_sigv4_header){"X-Amz-Date", out->amz_date};
    if (token) out->headers[n++] = (kcl_sigv4_header){"X-Amz-Security-Token", out->session_token.data};
    if (req->add_content_sha256_header) out->headers[n++] = (kcl_sigv4_header){"X-Amz-Content-Sha256", out->payload_sha256};
    out->headers[n++] = (kcl_sigv4_header){"Authorization", out->authorization.data};
    out->nheaders = n;
    return 0;
}

int kcl_sigv4_sign(const kcl_sigv4_creds *creds, const kcl_sigv4_request *req,
                   kcl_sigv4_result *out, kcl_error *err)
{
    return sign(NULL, creds, req, out, err);
}

int kcl_sigv4_signer_sign(kcl_sigv4_signer *s, const kcl_sigv4_creds *creds,
                          const kcl_sigv4_request *req, kcl_sigv4_result *out, kcl_error *err)
{
    if (!s) return fail(err, KCL_ERR_INVALID_ARGUMENT, "no signer");
    return sign(s, creds, req, out, err);
}

kcl_sigv4_signer *kcl_sigv4_signer_new(void)
{
    return calloc(1, sizeof(kcl_sigv4_signer));
}

void kcl_sigv4_signer_clear(kcl_sigv4_signer *s)
{
    if (s) OPENSSL_cleanse(s->slots, sizeof s->slots);
}

void kcl_sigv4_signer_free(kcl_sigv4_signer *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

unsigned long kcl_sigv4_signer_derivations(const kcl_sigv4_signer *s)
{
    return s ? s->derivations : 0;
}
