/* it_sigv4_oracle — luakcl's signer against an independent one.
 *
 * Signs a deterministic set of varied requests (methods; wire paths with
 * encoded spaces, UTF-8, '%', '+', dot segments, doubled slashes; queries
 * with repeated, bare, empty, encoded and unencoded keys and values; headers
 * with odd spacing, tabs, repeated names in different case, empty values,
 * an unsigned User-Agent; session tokens; binary bodies; X-Amz-Content-Sha256)
 * and has tests/harness/sigv4_oracle_cli.js verify each one with AWS's JS
 * signer (@smithy/signature-v4). Then tampers with a few signed requests and
 * checks the oracle rejects every one of them, so a pass means something.
 *
 * Not generated, on purpose (the two signers would legitimately differ or
 * the oracle cannot represent them):
 * - S3-style paths (no normalization, no second encoding): the oracle signs
 *   like every other service.
 * - query bytes that are not UTF-8 once percent-decoded: smithy holds the
 *   query as JS strings.
 * - a signed Date header: smithy always drops Date before signing.
 */
#include "base64.h"
#include "sigv4.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define NREQ 60

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void json_str(kcl_buf *b, const char *s, size_t n)
{
    kcl_buf_append_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') kcl_buf_printf(b, "\\%c", c);
        else if (c < 0x20) kcl_buf_printf(b, "\\u%04x", c);
        else kcl_buf_append_char(b, (char)c);
    }
    kcl_buf_append_char(b, '"');
}

typedef struct gen_req {
    char method[8];
    char path[256];
    char query[256];
    kcl_sigv4_header headers[8];
    size_t nheaders;
    unsigned char body[256];
    size_t body_len;
    char token[64];
    kcl_sigv4_request req;
    kcl_sigv4_creds creds;
} gen_req;

static const char *const SEGMENTS[] = {
    "a", "b%20c", "%E1%88%B4", "x+y", "~user", "-_.", "percent%25", ".", "..", "",
    "semi;colon", "eq=ual", "with%2Fslash", "UPPER", "q%3Fmark", "%F0%9F%98%80", "a%2b",
};
static const char *const KEYS[] = {
    "a", "B", "k", "%E1%88%B4", "sp%20ace", "plus+", "tilde%7E", "empty", "", "Action", "x-amz-meta",
};
static const char *const VALUES[] = {
    "1", "v", "", "a%20b", "x+y", "%2F", "%E2%82%AC", "==", "%zz", "~-._", "A%3db",
};
static const kcl_sigv4_header EXTRA[] = {
    {"X-Amz-Target", "Kinesis_20131202.PutRecords"},
    {"Content-Type", "application/x-amz-json-1.1"},
    {"X-Custom", "   spaced    out   "},
    {"x-tab", "a\t\tb \t c"},
    {"X-Dup", " one "},
    {"x-dup", "two  too"},
    {"X-Empty", ""},
    {"User-Agent", "luakcl/0.1 (unsigned)"},
};

static void generate(gen_req *g, int i)
{
    static const char *const METHODS[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    memset(g, 0, sizeof *g);
    snprintf(g->method, sizeof g->method, "%s", METHODS[rnd(5)]);

    size_t nseg = 1 + rnd(4);
    for (size_t s = 0; s < nseg; s++) {
        strcat(g->path, "/");
        strcat(g->path, SEGMENTS[rnd(sizeof SEGMENTS / sizeof *SEGMENTS)]);
    }
    if (rnd(3) == 0) strcat(g->path, "/");
    if (i == 0) strcpy(g->path, "/");

    size_t nq = rnd(5);
    for (size_t q = 0; q < nq; q++) {
        if (q) strcat(g->query, "&");
        strcat(g->query, KEYS[rnd(sizeof KEYS / sizeof *KEYS)]);
        if (rnd(5)) {
            strcat(g->query, "=");
            strcat(g->query, VALUES[rnd(sizeof VALUES / sizeof *VALUES)]);
        }
    }
    if (nq && rnd(4) == 0) strcat(g->query, "&");   /* a trailing '&' */

    g->headers[g->nheaders++] = (kcl_sigv4_header){"Host", rnd(2) ? "kinesis.us-east-1.amazonaws.com" : "127.0.0.1:4567"};
    for (size_t e = 0; e < sizeof EXTRA / sizeof *EXTRA; e++)
        if (rnd(3) == 0) g->headers[g->nheaders++] = EXTRA[e];

    if (strcmp(g->method, "GET") != 0 && strcmp(g->method, "DELETE") != 0) {
        g->body_len = rnd(sizeof g->body);
        for (size_t b = 0; b < g->body_len; b++) g->body[b] = (unsigned char)rnd(256);
    }
    if (rnd(2)) snprintf(g->token, sizeof g->token, "FwoGZXIvYXdzE+/tok=%d", i);

    g->creds = (kcl_sigv4_creds){"AKIDLUAKCLORACLE0001", "oracle/Secret+Key/0000000000000000000000", g->token[0] ? g->token : NULL};
    int ddb = rnd(2);
    g->req = (kcl_sigv4_request){
        .method = g->method, .path = g->path, .query = g->query[0] ? g->query : NULL,
        .headers = g->headers, .nheaders = g->nheaders, .body = g->body, .body_len = g->body_len,
        .region = ddb ? "eu-west-2" : "us-east-1", .service = ddb ? "dynamodb" : "kinesis",
        .epoch_s = 1440938160 + (int64_t)i * 102947, .normalize_path = 1,
        .add_content_sha256_header = (int)rnd(2),
    };
}

/* One JSON line: what was sent (caller headers + the signer's), and the creds. */
static void write_line(kcl_buf *b, int i, const gen_req *g, const kcl_sigv4_result *r,
                       const char *tamper_header_value, int tamper_body)
{
    kcl_buf_printf(b, "{\"name\":\"req%d\",\"method\":\"%s\",\"path\":", i, g->method);
    kcl_buf target = KCL_BUF_INIT;
    kcl_buf_printf(&target, "%s%s%s", g->path, g->req.query ? "?" : "", g->req.query ? g->req.query : "");
    json_str(b, target.data, target.len);
    kcl_buf_free(&target);
    kcl_buf_append_str(b, ",\"headers\":[");
    for (size_t h = 0; h < g->nheaders + r->nheaders; h++) {
        const kcl_sigv4_header *x = h < g->nheaders ? &g->headers[h] : &r->headers[h - g->nheaders];
        const char *v = x->value;
        if (tamper_header_value && strcasecmp(x->name, "Host") == 0) v = tamper_header_value;
        kcl_buf_append_str(b, h ? ",[" : "[");
        json_str(b, x->name, strlen(x->name));
        kcl_buf_append_char(b, ',');
        json_str(b, v, strlen(v));
        kcl_buf_append_char(b, ']');
    }
    char b64[400];
    unsigned char body[256];
    memcpy(body, g->body, g->body_len);
    size_t blen = g->body_len;
    if (tamper_body) {
        if (blen) body[blen / 2] ^= 1;
        else body[blen++] = 'x';
    }
    size_t n = kcl_base64_encode(body, blen, b64);
    b64[n] = '\0';
    kcl_buf_printf(b, "],\"body_b64\":\"%s\",\"creds\":{\"accessKeyId\":", b64);
    json_str(b, g->creds.access_key_id, strlen(g->creds.access_key_id));
    kcl_buf_append_str(b, ",\"secretAccessKey\":");
    json_str(b, g->creds.secret_access_key, strlen(g->creds.secret_access_key));
    if (g->creds.session_token) {
        kcl_buf_append_str(b, ",\"sessionToken\":");
        json_str(b, g->creds.session_token, strlen(g->creds.session_token));
    }
    kcl_buf_append_str(b, "}}\n");
}

/* Run the oracle on `lines`; returns its exit status, *verified and *total
 * from its last line. Its whole output is shown when the status is not the
 * expected one. */
static int run_oracle(const char *src, const kcl_buf *lines, int expect_code, long *verified, long *total)
{
    char path[] = "/tmp/it_sigv4_oracle_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return -1;
    CHECK_EQ_INT(write(fd, lines->data, lines->len), (long long)lines->len);
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "node '%s/tests/harness/sigv4_oracle_cli.js' '%s' 2>&1", src, path);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    *verified = *total = -1;
    kcl_buf out = KCL_BUF_INIT;
    char line[8192];
    while (p && fgets(line, sizeof line, p)) {
        kcl_buf_append_str(&out, line);
        sscanf(line, "verified %ld of %ld", verified, total);
    }
    int st = p ? pclose(p) : -1;
    unlink(path);
    int code = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (code != expect_code) printf("--- oracle said (exit %d):\n%s", code, kcl_buf_cstr(&out));
    else printf("oracle (exit %d): verified %ld of %ld\n", code, *verified, *total);
    kcl_buf_free(&out);
    return code;
}

int main(void)
{
    const char *src = kcl_test_env("LUAKCL_SOURCE_DIR");
    kcl_sigv4_signer *signer = kcl_sigv4_signer_new();
    kcl_buf good = KCL_BUF_INIT, bad = KCL_BUF_INIT;
    kcl_sigv4_result r = KCL_SIGV4_RESULT_INIT;
    int nbad = 0;
    for (int i = 0; i < NREQ; i++) {
        gen_req g;
        generate(&g, i);
        kcl_error err = {0};
        int rc = kcl_sigv4_signer_sign(signer, &g.creds, &g.req, &r, &err);
        CHECK_MSG(rc == 0, "req%d: %s", i, err.message);
        if (rc != 0) continue;
        write_line(&good, i, &g, &r, NULL, 0);
        if (i % 10 == 3) {   /* tampered copies: another Host, a flipped body bit */
            write_line(&bad, i, &g, &r, "evil.example.com", 0);
            nbad++;
            if (g.req.add_content_sha256_header || g.body_len) {
                write_line(&bad, i, &g, &r, NULL, 1);
                nbad++;
            }
        }
    }
    kcl_sigv4_result_free(&r);
    kcl_sigv4_signer_free(signer);

    long verified, total;
    int code = run_oracle(src, &good, 0, &verified, &total);
    CHECK_EQ_INT(code, 0);
    CHECK_EQ_INT(total, NREQ);
    CHECK_EQ_INT(verified, NREQ);

    code = run_oracle(src, &bad, 1, &verified, &total);
    CHECK_EQ_INT(code, 1);
    CHECK_EQ_INT(total, nbad);
    CHECK_EQ_INT(verified, 0);
    CHECK(nbad >= 6);

    kcl_buf_free(&good);
    kcl_buf_free(&bad);
    return TEST_END();
}
