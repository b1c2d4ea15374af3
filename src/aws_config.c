#include "aws_config.h"

#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

#define JSMN_STATIC
#include <jsmn.h>

#define SHARED_FILE_MAX (1u << 20)

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void wipe_free(char *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* ---- credentials ----------------------------------------------------------- */

void kcl_credentials_wipe(kcl_credentials *c)
{
    if (c) OPENSSL_cleanse(c, sizeof *c);
}

/* A credential value: printable ASCII without blanks (it goes into headers). */
static int clean_value(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return 0;
    return 1;
}

static int copy_field(char *dst, size_t cap, const char *src, int may_be_empty, const char *what,
                      char *err, size_t errlen)
{
    size_t n = src ? strlen(src) : 0;
    if (n == 0 && !may_be_empty) { errf(err, errlen, "%s is empty", what); return -1; }
    if (n >= cap) { errf(err, errlen, "%s is too long (%zu bytes)", what, n); return -1; }
    if (n && !clean_value(src)) { errf(err, errlen, "%s holds invalid characters", what); return -1; }
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
    return 0;
}

int kcl_credentials_set(kcl_credentials *c, const char *access_key_id, const char *secret,
                        const char *token, int64_t expiration_ms, char *err, size_t errlen)
{
    kcl_credentials_wipe(c);
    if (copy_field(c->access_key_id, sizeof c->access_key_id, access_key_id, 0, "AccessKeyId", err, errlen) ||
        copy_field(c->secret_access_key, sizeof c->secret_access_key, secret, 0, "SecretAccessKey", err, errlen) ||
        copy_field(c->session_token, sizeof c->session_token, token, 1, "SessionToken", err, errlen)) {
        kcl_credentials_wipe(c);
        return -1;
    }
    c->expiration_ms = expiration_ms;
    return 0;
}

/* ---- INI ------------------------------------------------------------------- */

#define INI_SECTION_MAX 256
#define INI_KEY_MAX     128
#define INI_VALUE_MAX   (KCL_CREDS_TOKEN_MAX + 256)

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_blank(**s)) (*s)++;
    while (*e > *s && is_blank((*e)[-1])) (*e)--;
}

int kcl_ini_parse(const char *text, size_t len, kcl_ini_fn fn, void *ud)
{
    char section[INI_SECTION_MAX], key[INI_KEY_MAX];
    char *value = malloc(INI_VALUE_MAX);
    int have_section = 0, after_property = 0, reported = 0;
    const char *p = text, *end = text + len;
    if (!value) return 0;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *ls = p, *le = nl ? nl : end;
        p = nl ? nl + 1 : end;
        int indented = ls < le && is_blank(*ls);
        trim(&ls, &le);
        if (ls == le || *ls == '#' || *ls == ';') continue;
        if (memchr(ls, 0, (size_t)(le - ls))) { after_property = 0; continue; }   /* binary junk */
        if (*ls == '[') {
            const char *close = memchr(ls, ']', (size_t)(le - ls));
            after_property = 0;
            have_section = 0;
            if (!close) continue;
            const char *s = ls + 1, *e = close;
            trim(&s, &e);
            size_t n = 0;
            int ok = 1;
            for (const char *q = s; q < e; q++) {
                if (is_blank(*q) && n && section[n - 1] == ' ') continue;
                if (n + 1 >= sizeof section) { ok = 0; break; }
                section[n++] = is_blank(*q) ? ' ' : *q;
            }
            section[n] = 0;
            have_section = ok && n > 0;
            continue;
        }
        if (indented && after_property) continue;     /* continuation / sub-property */
        const char *eq = NULL;
        for (const char *q = ls; q < le; q++)
            if (*q == '=' || *q == ':') { eq = q; break; }
        if (!eq || !have_section) continue;
        const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;
        trim(&ks, &ke);
        for (const char *q = vs; q < ve; q++) {       /* inline comment */
            if ((*q == '#' || *q == ';') && q > vs && is_blank(q[-1])) { ve = q; break; }
        }
        trim(&vs, &ve);
        if (ks == ke || (size_t)(ke - ks) >= sizeof key || (size_t)(ve - vs) >= INI_VALUE_MAX) continue;
        for (size_t i = 0; i < (size_t)(ke - ks); i++) key[i] = (char)tolower((unsigned char)ks[i]);
        key[ke - ks] = 0;
        memcpy(value, vs, (size_t)(ve - vs));
        value[ve - vs] = 0;
        after_property = 1;
        reported++;
        int stop = fn(section, key, value, ud);
        if (stop) break;
    }
    OPENSSL_cleanse(value, INI_VALUE_MAX);
    free(value);
    return reported;
}

/* ---- profiles ---------------------------------------------------------------- */

struct profile_ctx {
    kcl_aws_profile *p;
    const char *name;
    int is_config, found, oom;
};

static int section_matches(const char *section, const char *name, int is_config)
{
    if (!is_config) return strcmp(section, name) == 0;
    if (strncmp(section, "profile ", 8) == 0) return strcmp(section + 8, name) == 0;
    return strcmp(name, "default") == 0 && strcmp(section, "default") == 0;
}

static int profile_prop(const char *section, const char *key, const char *value, void *ud)
{
    struct profile_ctx *c = ud;
    if (!section_matches(section, c->name, c->is_config)) return 0;
    c->found = 1;
    static const struct { const char *key; size_t off; int config_only; } fields[] = {
        {"aws_access_key_id", offsetof(kcl_aws_profile, aws_access_key_id), 0},
        {"aws_secret_access_key", offsetof(kcl_aws_profile, aws_secret_access_key), 0},
        {"aws_session_token", offsetof(kcl_aws_profile, aws_session_token), 0},
        {"region", offsetof(kcl_aws_profile, region), 1},
        {"role_arn", offsetof(kcl_aws_profile, role_arn), 1},
        {"web_identity_token_file", offsetof(kcl_aws_profile, web_identity_token_file), 1},
        {"role_session_name", offsetof(kcl_aws_profile, role_session_name), 1},
        {"source_profile", offsetof(kcl_aws_profile, source_profile), 1},
        {"credential_source", offsetof(kcl_aws_profile, credential_source), 1},
        {"credential_process", offsetof(kcl_aws_profile, credential_process), 1},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (strcmp(key, fields[i].key) != 0) continue;
        if (fields[i].config_only && !c->is_config) return 0;
        char **slot = (char **)((char *)c->p + fields[i].off);
        char *copy = strdup(value);
        if (!copy) { c->oom = 1; return 1; }
        wipe_free(*slot);
        *slot = copy;
        return 0;
    }
    return 0;
}

int kcl_aws_profile_parse(kcl_aws_profile *p, const char *text, size_t len, int is_config,
                          const char *name)
{
    struct profile_ctx c = {p, name, is_config, 0, 0};
    kcl_ini_parse(text, len, profile_prop, &c);
    if (c.oom) return -1;
    if (c.found) p->found = 1;
    return c.found;
}

void kcl_aws_profile_free(kcl_aws_profile *p)
{
    if (!p) return;
    char **fields[] = {&p->aws_access_key_id, &p->aws_secret_access_key, &p->aws_session_token,
                       &p->region, &p->role_arn, &p->web_identity_token_file,
                       &p->role_session_name, &p->source_profile, &p->credential_source,
                       &p->credential_process};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        wipe_free(*fields[i]);
        *fields[i] = NULL;
    }
    p->found = 0;
}

const char *kcl_aws_profile_name(const char *explicit_name)
{
    if (explicit_name && *explicit_name) return explicit_name;
    const char *env = getenv("AWS_PROFILE");
    if (env && *env) return env;
    return "default";
}

int kcl_aws_shared_file_path(int is_config, char *out, size_t outlen)
{
    const char *env = getenv(is_config ? "AWS_CONFIG_FILE" : "AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    int n;
    if (env && *env) {
        if (strncmp(env, "~/", 2) == 0) {
            if (!home || !*home) return -1;
            n = snprintf(out, outlen, "%s/%s", home, env + 2);
        } else {
            n = snprintf(out, outlen, "%s", env);
        }
    } else {
        if (!home || !*home) return -1;
        n = snprintf(out, outlen, "%s/.aws/%s", home, is_config ? "config" : "credentials");
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int kcl_aws_read_file(const char *path, size_t max_bytes, kcl_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    kcl_buf_reset(out);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > max_bytes) { fclose(f); errno = EFBIG; return -1; }
        if (kcl_buf_append(out, chunk, n) != 0) { fclose(f); errno = ENOMEM; return -1; }
    }
    int bad = ferror(f);
    fclose(f);
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (bad) { errno = EIO; return -1; }
    return 0;
}

static void wipe_buf(kcl_buf *b)
{
    if (b->data) OPENSSL_cleanse(b->data, b->cap);
    kcl_buf_free(b);
}

int kcl_aws_profile_load(kcl_aws_profile *p, const char *name, char *err, size_t errlen)
{
    for (int is_config = 1; is_config >= 0; is_config--) {
        char path[4096];
        if (kcl_aws_shared_file_path(is_config, path, sizeof path) != 0) continue;
        kcl_buf text = KCL_BUF_INIT;
        if (kcl_aws_read_file(path, SHARED_FILE_MAX, &text) != 0) {
            int e = errno;
            wipe_buf(&text);
            if (e == ENOENT || e == ENOTDIR) continue;
            errf(err, errlen, "cannot read %s: %s", path, strerror(e));
            return -1;
        }
        int r = kcl_aws_profile_parse(p, kcl_buf_cstr(&text), text.len, is_config, name);
        wipe_buf(&text);
        if (r < 0) { errf(err, errlen, "out of memory reading %s", path); return -1; }
    }
    return 0;
}

int kcl_aws_read_token_file(const char *path, kcl_buf *out, char *err, size_t errlen)
{
    if (kcl_aws_read_file(path, ((size_t)64 << 10), out) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while (out->len && isspace((unsigned char)out->data[out->len - 1])) out->data[--out->len] = 0;
    size_t skip = 0;
    while (skip < out->len && isspace((unsigned char)out->data[skip])) skip++;
    if (skip) { memmove(out->data, out->data + skip, out->len - skip + 1); out->len -= skip; }
    for (size_t i = 0; i < out->len; i++)
        if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f) {
            snprintf(err, errlen, "%s holds control characters", path);
            return -1;
        }
    if (!out->len) { snprintf(err, errlen, "%s is empty", path); return -1; }
    return 0;
}

int kcl_url_host_is_local(const char *url, int allow_metadata_ips)
{
    const char *h = strstr(url, "://");
    char host[256];
    size_t n = 0;
    if (!h) return 0;
    h += 3;
    /* "http://localhost:1@evil.example/" connects to evil.example: a URL
     * with userinfo is never treated as local (libcurl takes the host after
     * the last '@' of the authority, which ends at '/', '?' or '#'). */
    size_t auth = strcspn(h, "/?#");
    if (memchr(h, '@', auth)) return 0;
    if (*h == '[') {
        const char *e = strchr(h, ']');
        if (!e || (size_t)(e - h - 1) >= sizeof host) return 0;
        n = (size_t)(e - h - 1);
        memcpy(host, h + 1, n);
    } else {
        while (h[n] && h[n] != ':' && h[n] != '/' && h[n] != '?' && n + 1 < sizeof host) { host[n] = h[n]; n++; }
    }
    host[n] = 0;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0) return 1;
    if (strncmp(host, "127.", 4) == 0) {          /* an IPv4 literal, not a name like 127.0.0.1.example */
        int dots = 0;
        for (const char *q = host; *q; q++) {
            if (*q == '.') dots++;
            else if (!isdigit((unsigned char)*q)) return 0;
        }
        return dots == 3;
    }
    /* the ECS and EKS Pod Identity agents, which the SDKs also accept over http */
    return allow_metadata_ips && (strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0 ||
                                  strcasecmp(host, "fd00:ec2::23") == 0);
}

/* ---- XML ------------------------------------------------------------------- */

static int put_utf8(char *out, size_t outlen, size_t *n, unsigned long cp)
{
    char tmp[4];
    size_t k;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if (cp < 0x80) { tmp[0] = (char)cp; k = 1; }
    else if (cp < 0x800) { tmp[0] = (char)(0xC0 | (cp >> 6)); tmp[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
    else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12)); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F)); k = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18)); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (char)(0x80 | (cp & 0x3F)); k = 4;
    }
    if (*n + k >= outlen) return -1;
    memcpy(out + *n, tmp, k);
    *n += k;
    return 0;
}

/* Decode entities of s..e into out. */
static int xml_unescape(const char *s, const char *e, char *out, size_t outlen)
{
    size_t n = 0;
    while (s < e) {
        if (*s != '&') {
            if (n + 1 >= outlen || *s == 0) return -1;
            out[n++] = *s++;
            continue;
        }
        const char *semi = memchr(s, ';', (size_t)(e - s) < 12 ? (size_t)(e - s) : 12);
        if (!semi) return -1;
        size_t elen = (size_t)(semi - s - 1);
        const char *ent = s + 1;
        unsigned long cp = 0;
        static const struct { const char *name; char c; } named[] = {
            {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
        int ok = 0;
        for (size_t i = 0; i < 5; i++)
            if (strlen(named[i].name) == elen && memcmp(ent, named[i].name, elen) == 0) {
                cp = (unsigned char)named[i].c; ok = 1;
            }
        if (!ok && elen >= 2 && ent[0] == '#') {
            int hex = ent[1] == 'x' || ent[1] == 'X';
            const char *d = ent + 1 + hex;
            if (d == semi) return -1;
            for (; d < semi; d++) {
                int v = isdigit((unsigned char)*d) ? *d - '0'
                      : hex && isxdigit((unsigned char)*d) ? tolower((unsigned char)*d) - 'a' + 10 : -1;
                if (v < 0) return -1;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
                if (cp > 0x10FFFF) return -1;
            }
            ok = 1;
        }
        if (!ok || put_utf8(out, outlen, &n, cp) != 0) return -1;
        s = semi + 1;
    }
    if (n >= outlen) return -1;
    out[n] = 0;
    return 0;
}

int kcl_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t outlen)
{
    size_t tlen = strlen(tag);
    const char *p = xml, *end = xml + len;
    if (!outlen || !tlen) return -1;
    out[0] = 0;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt || (size_t)(end - lt) < tlen + 2) return -1;
        p = lt + 1;
        if (memcmp(p, tag, tlen) != 0) continue;
        char after = p[tlen];
        if (after != '>' && after != '/' && !is_blank(after) && after != '\n') continue;
        const char *gt = memchr(p + tlen, '>', (size_t)(end - p - (ptrdiff_t)tlen));
        if (!gt) return -1;
        if (gt[-1] == '/') return 0;                   /* <tag/> */
        const char *cs = gt + 1;
        const char *ce = memchr(cs, '<', (size_t)(end - cs));
        if (!ce || (size_t)(end - ce) < tlen + 3 || ce[1] != '/' ||
            memcmp(ce + 2, tag, tlen) != 0) return -1;
        const char *q = ce + 2 + tlen;
        while (q < end && (is_blank(*q) || *q == '\n')) q++;
        if (q >= end || *q != '>') return -1;
        while (cs < ce && (is_blank(*cs) || *cs == '\n')) cs++;
        while (ce > cs && (is_blank(ce[-1]) || ce[-1] == '\n')) ce--;
        if (xml_unescape(cs, ce, out, outlen) != 0) { OPENSSL_cleanse(out, outlen); out[0] = 0; return -1; }
        return 0;
    }
    return -1;
}

static int parse_expiration(const char *s, int64_t *ms, char *err, size_t errlen)
{
    *ms = 0;
    if (!*s) { errf(err, errlen, "no Expiration"); return -1; }
    if (kcl_clock_parse_time(s, ms) != 0 || *ms <= 0) {
        errf(err, errlen, "bad Expiration \"%.40s\"", s);
        return -1;
    }
    return 0;
}

int kcl_creds_parse_sts_xml(const char *xml, size_t len, kcl_credentials *out,
                            char *err, size_t errlen)
{
    char akid[KCL_CREDS_AKID_MAX], secret[KCL_CREDS_SECRET_MAX], exp[64];
    char *token = malloc(KCL_CREDS_TOKEN_MAX);
    int rc = -1;
    kcl_credentials_wipe(out);
    if (!token) { errf(err, errlen, "out of memory"); return -1; }
    if (kcl_xml_text(xml, len, "AccessKeyId", akid, sizeof akid) != 0 ||
        kcl_xml_text(xml, len, "SecretAccessKey", secret, sizeof secret) != 0 ||
        kcl_xml_text(xml, len, "SessionToken", token, KCL_CREDS_TOKEN_MAX) != 0) {
        char code[96], msg[256];
        if (kcl_xml_text(xml, len, "Code", code, sizeof code) != 0) snprintf(code, sizeof code, "?");
        if (kcl_xml_text(xml, len, "Message", msg, sizeof msg) != 0) msg[0] = 0;
        if (strcmp(code, "?") != 0 || msg[0])
            errf(err, errlen, "STS error %s: %s", code, msg);
        else
            errf(err, errlen, "STS answer has no usable Credentials element");
        goto done;
    }
    int64_t exp_ms = 0;
    if (kcl_xml_text(xml, len, "Expiration", exp, sizeof exp) != 0) exp[0] = 0;
    if (parse_expiration(exp, &exp_ms, err, errlen) != 0) goto done;
    rc = kcl_credentials_set(out, akid, secret, token, exp_ms, err, errlen);
done:
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(token, KCL_CREDS_TOKEN_MAX);
    free(token);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Copy the top-level string member `key` of the object in toks[0] into out,
 * unescaped. This is the one place that reads JSON; it can move to json.h. */
static int json_member(const char *text, const jsmntok_t *toks, int ntok, const char *key,
                       char *out, size_t outlen)
{
    size_t klen = strlen(key);
    if (ntok < 1 || toks[0].type != JSMN_OBJECT) return -1;
    int i = 1;
    for (int m = 0; m < toks[0].size && i + 1 < ntok; m++) {
        const jsmntok_t *k = &toks[i], *v = &toks[i + 1];
        if (k->type == JSMN_STRING && (size_t)(k->end - k->start) == klen &&
            memcmp(text + k->start, key, klen) == 0) {
            if (v->type != JSMN_STRING) return -1;
            size_t n = 0;
            for (int j = v->start; j < v->end; j++) {
                char c = text[j];
                if (c == '\\') {
                    if (++j >= v->end) return -1;
                    switch (text[j]) {
                    case '"': c = '"'; break;   case '\\': c = '\\'; break;
                    case '/': c = '/'; break;   case 'b': c = '\b'; break;
                    case 'f': c = '\f'; break;  case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;  case 't': c = '\t'; break;
                    case 'u': {
                        unsigned long cp = 0;
                        if (v->end - j < 5) return -1;
                        for (int h = 1; h <= 4; h++) {
                            int d = text[j + h];
                            if (!isxdigit(d)) return -1;
                            cp = cp * 16 + (unsigned long)(isdigit(d) ? d - '0' : tolower(d) - 'a' + 10);
                        }
                        j += 4;
                        if (put_utf8(out, outlen, &n, cp) != 0) return -1;
                        continue;
                    }
                    default: return -1;
                    }
                }
                if (n + 1 >= outlen) return -1;
                out[n++] = c;
            }
            out[n] = 0;
            return 0;
        }
        /* skip the value: count the tokens of its subtree */
        int skip = 1, j = i + 1;
        while (skip > 0 && j < ntok) { skip += toks[j].size; skip--; j++; }
        i = j;
    }
    return -1;
}

int kcl_creds_parse_json(const char *text, size_t len, kcl_credentials *out,
                         char *err, size_t errlen)
{
    char akid[KCL_CREDS_AKID_MAX], secret[KCL_CREDS_SECRET_MAX], exp[64], code[64];
    char *token = malloc(KCL_CREDS_TOKEN_MAX);
    jsmntok_t toks[64];
    jsmn_parser jp;
    int rc = -1;
    kcl_credentials_wipe(out);
    if (!token) { errf(err, errlen, "out of memory"); return -1; }
    jsmn_init(&jp);
    int ntok = jsmn_parse(&jp, text, len, toks, sizeof toks / sizeof toks[0]);
    if (ntok < 1 || toks[0].type != JSMN_OBJECT) {
        errf(err, errlen, "credentials response is not a JSON object");
        goto done;
    }
    if (json_member(text, toks, ntok, "Code", code, sizeof code) == 0 && strcmp(code, "Success") != 0) {
        errf(err, errlen, "credentials response Code is \"%s\"", code);
        goto done;
    }
    if (json_member(text, toks, ntok, "AccessKeyId", akid, sizeof akid) != 0 ||
        json_member(text, toks, ntok, "SecretAccessKey", secret, sizeof secret) != 0) {
        errf(err, errlen, "credentials response lacks AccessKeyId or SecretAccessKey");
        goto done;
    }
    if (json_member(text, toks, ntok, "Token", token, KCL_CREDS_TOKEN_MAX) != 0) token[0] = 0;
    int64_t exp_ms = 0;
    if (json_member(text, toks, ntok, "Expiration", exp, sizeof exp) == 0) {
        if (parse_expiration(exp, &exp_ms, err, errlen) != 0) goto done;
    } else if (token[0]) {
        errf(err, errlen, "temporary credentials without Expiration");
        goto done;
    }
    rc = kcl_credentials_set(out, akid, secret, token, exp_ms, err, errlen);
done:
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(token, KCL_CREDS_TOKEN_MAX);
    free(token);
    return rc;
}

int kcl_form_append(kcl_buf *b, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *parts[2] = {key, value};
    if (b->len && kcl_buf_append_char(b, '&') != 0) return -1;
    for (int i = 0; i < 2; i++) {
        if (i == 1 && kcl_buf_append_char(b, '=') != 0) return -1;
        for (const unsigned char *s = (const unsigned char *)parts[i]; *s; s++) {
            char enc[3] = {'%', hex[*s >> 4], hex[*s & 15]};
            int r = isalnum(*s) || *s == '-' || *s == '_' || *s == '.' || *s == '~'
                  ? kcl_buf_append_char(b, (char)*s) : kcl_buf_append(b, enc, 3);
            if (r != 0) return -1;
        }
    }
    return 0;
}

/* ---- region and endpoints ------------------------------------------------------ */

static int valid_region(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63) return 0;
    for (; *r; r++)
        if (!(islower((unsigned char)*r) || isdigit((unsigned char)*r) || *r == '-')) return 0;
    return 1;
}

static int put_region(const char *r, char *out, size_t outlen)
{
    if (!valid_region(r) || strlen(r) >= outlen) { if (outlen) out[0] = 0; return -1; }
    memcpy(out, r, strlen(r) + 1);
    return 0;
}

int kcl_region_resolve(const char *explicit_region, const char *profile, char *out, size_t outlen)
{
    const char *cands[] = {explicit_region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")};
    for (size_t i = 0; i < 3; i++)
        if (cands[i] && *cands[i]) return put_region(cands[i], out, outlen);
    kcl_aws_profile p = {0};
    char path[4096];
    kcl_buf text = KCL_BUF_INIT;
    int rc = -1;
    if (kcl_aws_shared_file_path(1, path, sizeof path) == 0 &&
        kcl_aws_read_file(path, SHARED_FILE_MAX, &text) == 0 &&
        kcl_aws_profile_parse(&p, kcl_buf_cstr(&text), text.len, 1, kcl_aws_profile_name(profile)) == 1 &&
        p.region && *p.region)
        rc = put_region(p.region, out, outlen);
    else if (outlen)
        out[0] = 0;
    wipe_buf(&text);
    kcl_aws_profile_free(&p);
    return rc;
}

int kcl_endpoint_resolve(const char *service, const char *explicit_url, const char *region,
                         char *out, size_t outlen)
{
    const char *url = explicit_url && *explicit_url ? explicit_url : NULL;
    const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    int n;
    if (!url && !(ignore && strcasecmp(ignore, "true") == 0)) {
        char var[96];
        n = snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", service);
        if (n > 0 && (size_t)n < sizeof var) {
            for (char *v = var; *v; v++) *v = *v == '-' || *v == ' ' ? '_' : (char)toupper((unsigned char)*v);
            url = getenv(var);
        }
        if (!url || !*url) url = getenv("AWS_ENDPOINT_URL");
        if (url && !*url) url = NULL;
    }
    if (url) {
        size_t ul = strlen(url);
        while (ul > 0 && url[ul - 1] == '/') ul--;
        n = snprintf(out, outlen, "%.*s", (int)ul, url);
    } else {
        if (!region || !valid_region(region)) { if (outlen) out[0] = 0; return -1; }
        n = snprintf(out, outlen, "https://%s.%s.amazonaws.com%s", service, region,
                     strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    }
    if (n < 0 || (size_t)n >= outlen) { if (outlen) out[0] = 0; return -1; }
    return 0;
}
