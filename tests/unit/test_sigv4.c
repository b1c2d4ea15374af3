/* test_sigv4 — AWS's SigV4 test suite (tests/unit/sigv4_vectors, see its
 * README), the signing-key cache, and the edges of the canonical forms. */
#include "clock.h"
#include "sigv4.h"
#include "testlib.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADERS 32

/* ---- reading the vector files ------------------------------------------- */

static char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    kcl_buf b = KCL_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) kcl_buf_append(&b, chunk, n);
    fclose(f);
    if (len) *len = b.len;
    return kcl_buf_steal(&b);
}

/* A parsed request.txt: "METHOD URI HTTP/1.1", header lines ("Name:value";
 * a line starting with whitespace continues the previous header as another
 * value of it), an empty line, the body. Strings point into `text`. */
typedef struct parsed_req {
    char *text;
    const char *method, *path, *query;
    kcl_sigv4_header headers[MAX_HEADERS];
    size_t nheaders;
    const char *body;
    size_t body_len;
} parsed_req;

static int parse_request(char *text, size_t len, parsed_req *r)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    char *end = text + len;
    char *line = text;
    char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl) *nl = '\0';
    char *sp1 = strchr(line, ' ');
    char *sp2 = strrchr(line, ' ');
    if (!sp1 || sp2 == sp1) return -1;
    *sp1 = '\0';
    *sp2 = '\0';
    r->method = line;
    char *uri = sp1 + 1;           /* may contain spaces: "/example space/" */
    char *q = strchr(uri, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    r->path = uri;
    char *p = nl ? nl + 1 : end;
    const char *last_name = NULL;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        if (eol == p) {            /* blank line: the body follows */
            p = eol + 1;
            break;
        }
        *eol = '\0';
        if (r->nheaders == MAX_HEADERS) return -1;
        if ((*p == ' ' || *p == '\t') && last_name) {
            r->headers[r->nheaders++] = (kcl_sigv4_header){last_name, p};
        } else {
            char *colon = strchr(p, ':');
            if (!colon) return -1;
            *colon = '\0';
            last_name = p;
            r->headers[r->nheaders++] = (kcl_sigv4_header){p, colon + 1};
        }
        p = nl ? nl + 1 : end;
    }
    r->body = p < end ? p : NULL;
    r->body_len = p < end ? (size_t)(end - p) : 0;
    return 0;
}

/* The few context.json fields the suite uses (its fixed, flat format). */
static const char *json_field(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return NULL;
    p = strchr(p + strlen(pat), ':');
    if (!p) return NULL;
    p++;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

static char *json_string(const char *json, const char *key)
{
    const char *p = json_field(json, key);
    if (!p || *p != '"') return NULL;
    const char *e = strchr(p + 1, '"');
    return e ? strndup(p + 1, (size_t)(e - p - 1)) : NULL;
}

static int json_bool(const char *json, const char *key, int dflt)
{
    const char *p = json_field(json, key);
    if (!p) return dflt;
    return strncmp(p, "true", 4) == 0;
}

/* The value of header `name` in a signed-request text (first match, exact
 * name), copied into out. */
static int find_line(const char *text, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == 0) break;       /* end of headers */
        if (len > n && strncmp(p, name, n) == 0 && p[n] == ':') {
            snprintf(out, outlen, "%.*s", (int)(len - n - 1), p + n + 1);
            return 0;
        }
        p = nl ? nl + 1 : NULL;
    }
    return -1;
}

static const char *out_header(const kcl_sigv4_result *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* ---- the suite ------------------------------------------------------------ */

static int run_case(const char *dir, const char *name, kcl_sigv4_signer *signer)
{
    char cdir[1300];
    snprintf(cdir, sizeof cdir, "%s/%s", dir, name);
    size_t rlen = 0;
    char *reqtext = read_file(cdir, "request.txt", &rlen);
    char *ctx = read_file(cdir, "context.json", NULL);
    char *signed_req = read_file(cdir, "header-signed-request.txt", NULL);
    CHECK_MSG(reqtext && ctx && signed_req, "%s: missing a vector file", name);
    if (!reqtext || !ctx || !signed_req) {
        free(reqtext); free(ctx); free(signed_req);
        return 0;
    }
    parsed_req pr;
    CHECK_MSG(parse_request(reqtext, rlen, &pr) == 0, "%s: request.txt does not parse", name);

    char *akid = json_string(ctx, "access_key_id");
    char *secret = json_string(ctx, "secret_access_key");
    char *token = json_string(ctx, "token");
    char *region = json_string(ctx, "region");
    char *service = json_string(ctx, "service");
    char *stamp = json_string(ctx, "timestamp");
    int64_t ms = 0;
    CHECK_MSG(akid && secret && region && service && stamp && kcl_clock_parse_time(stamp, &ms) == 0,
              "%s: context.json lacks a field", name);

    kcl_sigv4_creds creds = {akid, secret, json_bool(ctx, "omit_session_token", 0) ? NULL : token};
    kcl_sigv4_request req = {
        .method = pr.method, .path = pr.path, .query = pr.query,
        .headers = pr.headers, .nheaders = pr.nheaders,
        .body = pr.body, .body_len = pr.body_len,
        .region = region, .service = service, .epoch_s = ms / 1000,
        .normalize_path = json_bool(ctx, "normalize", 1),
        .add_content_sha256_header = json_bool(ctx, "sign_body", 0),
    };
    kcl_sigv4_result out = KCL_SIGV4_RESULT_INIT, out2 = KCL_SIGV4_RESULT_INIT;
    kcl_error err = {0};
    int rc = kcl_sigv4_sign(&creds, &req, &out, &err);
    CHECK_MSG(rc == 0, "%s: sign failed: %s", name, err.message);

    char want[2048];
    int ok = 1;
    if (find_line(signed_req, "Authorization", want, sizeof want) == 0) {
        const char *got = out_header(&out, "Authorization");
        ok = got && strcmp(got, want) == 0;
        CHECK_MSG(ok, "%s: Authorization differs\n  want %s\n  got  %s\n--- canonical request:\n%s\n--- string to sign:\n%s",
                  name, want, got ? got : "(none)", kcl_buf_cstr(&out.canonical_request), kcl_buf_cstr(&out.string_to_sign));
    } else {
        CHECK_MSG(0, "%s: no Authorization in header-signed-request.txt", name);
    }
    CHECK_MSG(find_line(signed_req, "X-Amz-Date", want, sizeof want) == 0 &&
              strcmp(want, out.amz_date) == 0 && out_header(&out, "X-Amz-Date") == out.amz_date,
              "%s: X-Amz-Date", name);
    if (creds.session_token) {
        const char *got = out_header(&out, "X-Amz-Security-Token");
        CHECK_MSG(got && find_line(signed_req, "X-Amz-Security-Token", want, sizeof want) == 0 &&
                  strcmp(got, want) == 0, "%s: X-Amz-Security-Token", name);
    } else {
        CHECK_MSG(!out_header(&out, "X-Amz-Security-Token"), "%s: unexpected token header", name);
    }
    if (req.add_content_sha256_header) {
        const char *got = out_header(&out, "X-Amz-Content-Sha256");
        CHECK_MSG(got && find_line(signed_req, "x-amz-content-sha256", want, sizeof want) == 0 &&
                  strcmp(got, want) == 0, "%s: X-Amz-Content-Sha256", name);
    }
    /* The string to sign: fixed lines and the canonical request's hash. */
    char crhash[65], sts[512];
    kcl_sigv4_sha256_hex(out.canonical_request.data, out.canonical_request.len, crhash);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n%s", crhash);
    CHECK_EQ_STR(kcl_buf_cstr(&out.string_to_sign), sts);
    /* The canonical request ends with the signed header list and the payload hash. */
    char tail[512];
    snprintf(tail, sizeof tail, "\n\n%s\n%s", kcl_buf_cstr(&out.signed_headers), out.payload_sha256);
    const char *cr = kcl_buf_cstr(&out.canonical_request);
    CHECK_MSG(strlen(cr) > strlen(tail) && strcmp(cr + strlen(cr) - strlen(tail), tail) == 0, "%s: canonical tail", name);

    /* The cached signer signs the same. */
    rc = kcl_sigv4_signer_sign(signer, &creds, &req, &out2, &err);
    CHECK_MSG(rc == 0 && strcmp(out2.signature, out.signature) == 0, "%s: signer differs from one-shot", name);

    kcl_sigv4_result_free(&out);
    kcl_sigv4_result_free(&out2);
    free(akid); free(secret); free(token); free(region); free(service); free(stamp);
    free(reqtext); free(ctx); free(signed_req);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_suite(kcl_sigv4_signer *signer)
{
    const char *src = kcl_test_env("LUAKCL_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/unit/sigv4_vectors", src);
    DIR *d = opendir(dir);
    CHECK_MSG(d != NULL, "cannot open %s", dir);
    if (!d) return;
    char *names[128];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128) {
        if (e->d_name[0] == '.' || strchr(e->d_name, '.')) continue;   /* skip README.md */
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int passed = 0;
    for (size_t i = 0; i < n; i++) {
        passed += run_case(dir, names[i], signer);
        free(names[i]);
    }
    printf("sigv4 suite: %d of %zu cases match\n", passed, n);
    CHECK_MSG(n >= 30, "only %zu vector cases found", n);
    CHECK_EQ_INT(passed, n);
    /* All cases share one day, region, service and secret: one derivation. */
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(signer), 1);
}

/* ---- known answers from AWS's documentation ------------------------------ */

static void test_known_answers(void)
{
    char hex[65];
    kcl_sigv4_sha256_hex("", 0, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    kcl_sigv4_sha256_hex("Param1=value1", 13, hex);
    CHECK_EQ_STR(hex, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");

    /* The GET example of "Create a canonical request" (the suite's
     * get-vanilla-query-order-key-case), spelled out in AWS's docs. */
    kcl_sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
    kcl_sigv4_creds c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    kcl_sigv4_request r = {.method = "GET", .path = "/", .query = "Param2=value2&Param1=value1",
                           .headers = h, .nheaders = 1, .region = "us-east-1", .service = "service",
                           .epoch_s = 1440938160, .normalize_path = 1};
    kcl_sigv4_result out = KCL_SIGV4_RESULT_INIT;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r, &out, NULL), 0);
    CHECK_EQ_STR(kcl_buf_cstr(&out.canonical_request),
                 "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                 "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EQ_STR(kcl_buf_cstr(&out.string_to_sign),
                 "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                 "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
    CHECK_EQ_STR(out.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
    kcl_sigv4_result_free(&out);
}

/* ---- canonical forms at the edges ---------------------------------------- */

static const char *line_of(const char *s, int n, char *buf, size_t len)
{
    for (int i = 0; i < n && s; i++) {
        s = strchr(s, '\n');
        if (s) s++;
    }
    if (!s) return "";
    const char *e = strchr(s, '\n');
    snprintf(buf, len, "%.*s", (int)(e ? e - s : (long)strlen(s)), s);
    return buf;
}

static void check_forms(const char *path, const char *query, int normalize, int s3,
                        const char *want_path, const char *want_query)
{
    kcl_sigv4_header h[] = {{"Host", "h"}};
    kcl_sigv4_creds c = {"AKID", "secret", NULL};
    kcl_sigv4_request r = {.method = "GET", .path = path, .query = query, .headers = h, .nheaders = 1,
                           .region = "r", .service = "s", .epoch_s = 0, .normalize_path = normalize,
                           .s3_path = s3};
    kcl_sigv4_result out = KCL_SIGV4_RESULT_INIT;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r, &out, NULL), 0);
    char buf[512];
    CHECK_EQ_STR(line_of(kcl_buf_cstr(&out.canonical_request), 1, buf, sizeof buf), want_path);
    CHECK_EQ_STR(line_of(kcl_buf_cstr(&out.canonical_request), 2, buf, sizeof buf), want_query);
    kcl_sigv4_result_free(&out);
}

static void test_forms(void)
{
    check_forms("/a%20b", NULL, 1, 0, "/a%2520b", "");            /* encoded once more */
    check_forms("/a%20b", NULL, 0, 1, "/a%20b", "");              /* S3: as sent */
    check_forms("", "", 1, 0, "/", "");
    check_forms("/a/b/../c/./d/", NULL, 1, 0, "/a/c/d/", "");
    check_forms("/a/..", NULL, 1, 0, "/", "");
    check_forms("/../..", NULL, 1, 0, "/", "");
    check_forms("/a+b=c", NULL, 1, 0, "/a%2Bb%3Dc", "");
    check_forms("/", "b=2&a=1&a=0&c", 1, 0, "/", "a=0&a=1&b=2&c=");
    check_forms("/", "k=a+b&k=a%20b&%41=%7e", 1, 0, "/", "A=~&k=a%20b&k=a%2Bb");
    check_forms("/", "x=%zz&&y=a=b&", 1, 0, "/", "x=%25zz&y=a%3Db");
    check_forms("/", "Action=ListStreams&Version=2013-12-02", 1, 0, "/", "Action=ListStreams&Version=2013-12-02");
}

static void test_headers_and_errors(void)
{
    kcl_sigv4_creds c = {"AKID", "secret", "tok"};
    kcl_sigv4_header h[] = {
        {"Host", "kinesis.us-east-1.amazonaws.com"},
        {"User-Agent", "luakcl"},                      /* not signed */
        {"X-Amz-Target", "  Kinesis_20131202.ListShards  "},
        {"Content-Type", "application/x-amz-json-1.1"},
        {"x-amz-date", "19990101T000000Z"},           /* replaced by the signer */
        {"X-Amz-Security-Token", "stale"},            /* replaced by the signer */
        {"X-Odd", "a \t  b\t"},
    };
    kcl_sigv4_request r = {.method = "POST", .path = "/", .headers = h, .nheaders = 7,
                           .body = "{}", .body_len = 2, .region = "us-east-1", .service = "kinesis",
                           .epoch_s = 1764116739, .normalize_path = 1, .add_content_sha256_header = 1};
    kcl_sigv4_result out = KCL_SIGV4_RESULT_INIT;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r, &out, NULL), 0);
    CHECK_EQ_STR(kcl_buf_cstr(&out.signed_headers),
                 "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target;x-odd");
    CHECK(strstr(kcl_buf_cstr(&out.canonical_request), "\nx-amz-target:Kinesis_20131202.ListShards\nx-odd:a b\n") != NULL);
    CHECK(strstr(kcl_buf_cstr(&out.canonical_request), "x-amz-security-token:tok\n") != NULL);
    CHECK(strstr(kcl_buf_cstr(&out.canonical_request), "x-amz-date:20251126T002539Z\n") != NULL);
    CHECK_EQ_INT(out.nheaders, 4);
    CHECK_EQ_STR(out.headers[0].name, "X-Amz-Date");
    CHECK_EQ_STR(out.headers[0].value, "20251126T002539Z");
    CHECK_EQ_STR(out.headers[1].value, "tok");
    CHECK_EQ_STR(out.headers[2].name, "X-Amz-Content-Sha256");
    CHECK_EQ_STR(out.headers[2].value, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK_EQ_STR(out.headers[3].name, "Authorization");
    CHECK(strncmp(out.headers[3].value, "AWS4-HMAC-SHA256 Credential=AKID/20251126/us-east-1/kinesis/aws4_request, "
                  "SignedHeaders=content-type;host;", 91) == 0);

    /* Reusing the result: a precomputed payload hash, no token. */
    c.session_token = NULL;
    r.payload_sha256 = "UNSIGNED-PAYLOAD";
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r, &out, NULL), 0);
    CHECK_EQ_INT(out.nheaders, 3);
    CHECK_EQ_STR(out.headers[1].value, "UNSIGNED-PAYLOAD");
    CHECK(strstr(kcl_buf_cstr(&out.canonical_request), "x-amz-security-token:stale\n") != NULL);   /* the caller's, signed */
    const char *cr = kcl_buf_cstr(&out.canonical_request);
    CHECK(strcmp(cr + strlen(cr) - 17, "\nUNSIGNED-PAYLOAD") == 0);

    /* A caller's X-Amz-Content-Sha256 header is what gets signed as the payload hash. */
    kcl_sigv4_header h2[] = {{"Host", "h"}, {"X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}};
    kcl_sigv4_request r2 = {.method = "PUT", .path = "/", .headers = h2, .nheaders = 2,
                            .region = "r", .service = "s3", .epoch_s = 0, .s3_path = 1};
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, NULL), 0);
    CHECK_EQ_STR(out.payload_sha256, "STREAMING-UNSIGNED-PAYLOAD-TRAILER");

    /* Refusals. */
    kcl_error err = {0};
    kcl_sigv4_header bad[] = {{"Host", "h"}, {"X-Bad", "a\r\nInjected: 1"}};
    r2.headers = bad;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(out.nheaders, 0);
    kcl_sigv4_header badname[] = {{"Bad Name", "x"}};
    r2.headers = badname;
    r2.nheaders = 1;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, &err), -1);
    r2.headers = h2;
    r2.region = "";
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, &err), -1);
    CHECK(strstr(err.message, "region") != NULL);
    r2.region = "r";
    kcl_sigv4_creds nocreds = {"AKID", "", NULL};
    CHECK_EQ_INT(kcl_sigv4_sign(&nocreds, &r2, &out, &err), -1);
    kcl_sigv4_creds slash = {"AK/ID", "s", NULL};
    CHECK_EQ_INT(kcl_sigv4_sign(&slash, &r2, &out, &err), -1);
    r2.epoch_s = -1;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, &err), -1);
    r2.epoch_s = 0;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r2, &out, &err), 0);
    kcl_sigv4_result_free(&out);
}

/* ---- the key cache -------------------------------------------------------- */

static void test_cache(void)
{
    kcl_sigv4_signer *s = kcl_sigv4_signer_new();
    CHECK(s != NULL);
    kcl_sigv4_header h[] = {{"Host", "example.amazonaws.com"}};
    kcl_sigv4_creds c = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
    kcl_sigv4_request r = {.method = "GET", .path = "/", .headers = h, .nheaders = 1,
                           .region = "us-east-1", .service = "service", .epoch_s = 1440938160,
                           .normalize_path = 1};
    kcl_sigv4_result a = KCL_SIGV4_RESULT_INIT, b = KCL_SIGV4_RESULT_INIT;
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &a, NULL), 0);
    CHECK_EQ_STR(a.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 1);
    r.epoch_s += 3600;                                   /* same day: cached */
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 1);
    CHECK(strcmp(a.signature, b.signature) != 0);       /* other time, other signature */
    kcl_sigv4_result one = KCL_SIGV4_RESULT_INIT;
    CHECK_EQ_INT(kcl_sigv4_sign(&c, &r, &one, NULL), 0);
    CHECK_EQ_STR(one.signature, b.signature);            /* cached key == fresh key */
    r.epoch_s += 86400;                                  /* next day */
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 2);
    r.service = "kinesis";
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 3);
    r.service = "service";
    r.epoch_s = 1440938160;
    kcl_sigv4_creds wrong = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", NULL};
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &wrong, &r, &b, NULL), 0);   /* other secret: not the cached key */
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 4);
    CHECK(strcmp(a.signature, b.signature) != 0);
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);       /* the first entry is still there */
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 4);
    CHECK_EQ_STR(a.signature, b.signature);
    /* More (day, service) pairs than slots: the oldest go, signing stays right. */
    for (int i = 0; i < 20; i++) {
        r.epoch_s = 1440938160 + 86400L * (i + 10);
        CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    }
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 24);
    r.epoch_s = 1440938160;
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 25);
    CHECK_EQ_STR(b.signature, a.signature);
    kcl_sigv4_signer_clear(s);
    CHECK_EQ_INT(kcl_sigv4_signer_sign(s, &c, &r, &b, NULL), 0);
    CHECK_EQ_INT(kcl_sigv4_signer_derivations(s), 26);
    kcl_sigv4_result_free(&a);
    kcl_sigv4_result_free(&b);
    kcl_sigv4_result_free(&one);
    kcl_sigv4_signer_free(s);
    kcl_sigv4_signer_free(NULL);
}

int main(void)
{
    kcl_sigv4_signer *signer = kcl_sigv4_signer_new();
    test_suite(signer);
    kcl_sigv4_signer_free(signer);
    test_known_answers();
    test_forms();
    test_headers_and_errors();
    test_cache();
    return TEST_END();
}
