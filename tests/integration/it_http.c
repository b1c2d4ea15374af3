/* harness: --proxy --with http_test_server */
/* kcl_http against real servers: the hand-made http_test_server (HTTP/1.1 and
 * HTTP/2 over TLS) and the fault proxy in front of kinesalite. The whole
 * scenario runs twice in one process, each round with a fresh client, and
 * each round ends with no request pending and no watcher left on the loop. */
#include "http.h"
#include "log.h"
#include "testlib.h"

#include <curl/curl.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *loop;
static kcl_http *H;
static const char *S1, *S2, *PROXY;
static int round_no;

/* ---- one call's outcome ------------------------------------------------- */

typedef struct call {
    int done, calls;
    int returned;          /* set right after kcl_http_send returns */
    int returned_seen;     /* what the callback saw: 1 means not synchronous */
    long status;
    int curl_code, attempts;
    kcl_error err;
    kcl_buf body;
    const char *want_header;
    char header[256];
    int header_rc;
} call;

static void on_done(kcl_http_resp *resp, void *ud)
{
    call *c = ud;
    c->calls++;
    c->done = 1;
    c->returned_seen = c->returned;
    c->status = resp->status;
    c->curl_code = resp->curl_code;
    c->attempts = resp->attempts;
    c->err = resp->err;
    kcl_buf_reset(&c->body);
    kcl_buf_append(&c->body, resp->body.data ? resp->body.data : "", resp->body.len);
    if (c->want_header) c->header_rc = kcl_http_resp_header(resp, c->want_header, c->header, sizeof c->header);
}

static kcl_http_req *start(const kcl_http_opts *o, call *c)
{
    kcl_buf keep = c->body;
    const char *want = c->want_header;
    memset(c, 0, sizeof *c);
    c->body = keep;
    c->want_header = want;
    kcl_error err;
    kcl_error_clear(&err);
    kcl_http_req *r = kcl_http_send(H, o, on_done, c, &err);
    CHECK_MSG(r != NULL, "kcl_http_send %s: %s", o->url, err.message);
    c->returned = 1;
    return r;
}

static void wait_for(call *c, double ms)
{
    int rc = kcl_test_run_until(loop, &c->done, ms);
    CHECK_MSG(rc == 0, "no completion within %.0f ms", ms);
    CHECK_MSG(c->calls == 1, "callback ran %d times", c->calls);
    CHECK_MSG(c->returned_seen, "callback ran inside kcl_http_send");
}

/* Run one request to completion. */
static void run(const kcl_http_opts *o, call *c, double ms)
{
    start(o, c);
    wait_for(c, ms);
}

/* base + path in one of 64 rotating buffers: long enough-lived for the few
 * URLs a scenario keeps in variables. */
static char *url(const char *base, const char *path)
{
    static char buf[64][512];
    static int i;
    i = (i + 1) % 64;
    snprintf(buf[i], sizeof buf[i], "%s%s", base, path);
    return buf[i];
}

/* GET a JSON endpoint and read one integer member. */
static long get_number(const char *u, const char *key, int http2)
{
    call c = {0};
    kcl_http_opts o = {.method = "GET", .url = u, .http2 = http2, .insecure = 1};
    run(&o, &c, 5000);
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(kcl_buf_cstr(&c.body), pat);
    CHECK_MSG(p != NULL, "%s: no %s in %s", u, key, kcl_buf_cstr(&c.body));
    long v = p ? strtol(p + strlen(pat), NULL, 10) : -1;
    kcl_buf_free(&c.body);
    return v;
}

static void post_json(const char *u, const char *json)
{
    call c = {0};
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    kcl_http_opts o = {.method = "POST", .url = u, .headers = hdrs, .body = json, .body_len = strlen(json),
                       .retry = {.max_attempts = 1}};
    run(&o, &c, 5000);
    CHECK_MSG(c.status == 200, "POST %s %s -> %ld %s", u, json, c.status, kcl_buf_cstr(&c.body));
    kcl_buf_free(&c.body);
}

/* ---- hooks -------------------------------------------------------------- */

typedef struct hookctx {
    kcl_http_req *req;
    int prepares, classifies, cancel_at_prepare, cancel_at_classify, fail_prepare;
    int chunks, cancel_at_chunk, abort_at_chunk;
    size_t bytes;
    int pattern_ok;
    kcl_buf data;
    int flag;
} hookctx;

static int prep_hook(kcl_http_headers *hd, int attempt, kcl_error *err, void *ud)
{
    hookctx *x = ud;
    x->prepares++;
    char line[64];
    snprintf(line, sizeof line, "X-From-Prepare: attempt-%d", attempt);
    kcl_http_header_add(hd, line);
    if (x->cancel_at_prepare && attempt == x->cancel_at_prepare) {
        kcl_http_cancel(x->req);
        kcl_http_cancel(x->req);   /* twice is harmless */
        x->flag = 1;
    }
    if (x->fail_prepare) {
        kcl_error_set(err, KCL_ERR_ACCESS_DENIED, 0, "NoCredentials", "no credentials to sign with");
        return -1;
    }
    return 0;
}

static int classify_hook(kcl_http_resp *resp, kcl_error *err, void *ud)
{
    hookctx *x = ud;
    x->classifies++;
    if (x->cancel_at_classify) {
        kcl_http_cancel(x->req);
        x->flag = 1;
        return 1;
    }
    if (resp->status == 400 && strstr(kcl_buf_cstr(&resp->body), "ProvisionedThroughputExceeded")) {
        kcl_error_set(err, KCL_ERR_THROTTLED, 400, "ProvisionedThroughputExceededException", "throttled");
        return 1;
    }
    if (x->flag == 0 && x->cancel_at_classify == 0 && x->cancel_at_prepare == 0 && x->fail_prepare == 0 &&
        resp->status >= 500) {
        x->flag = 2;   /* "classified once, now in backoff" */
        return 1;
    }
    return err->kind != KCL_ERR_NONE && kcl_err_kind_retryable(err->kind);
}

static int data_hook(const char *data, size_t len, void *ud)
{
    hookctx *x = ud;
    for (size_t i = 0; i < len && x->pattern_ok; i++)
        if ((unsigned char)data[i] != 97 + (x->bytes + i) % 26) x->pattern_ok = 0;
    x->bytes += len;
    x->chunks++;
    if (x->data.len < 4096) kcl_buf_append(&x->data, data, len);
    if (x->cancel_at_chunk && x->chunks == x->cancel_at_chunk) {
        kcl_http_cancel(x->req);
        x->flag = 1;
    }
    if (x->abort_at_chunk && x->chunks == x->abort_at_chunk) return -1;
    return 0;
}

/* ---- scenarios ---------------------------------------------------------- */

static void test_roundtrip(void)
{
    call c = {0};
    hookctx x = {0};
    const char *hdrs[] = {"X-From-Opts: 1", NULL};
    kcl_http_opts o = {.method = "GET", .url = url(S1, "/echo?q=1"), .headers = hdrs,
                       .prepare = prep_hook, .hook_ud = &x};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NONE);
    CHECK_EQ_INT(c.attempts, 1);
    const char *b = kcl_buf_cstr(&c.body);
    CHECK_MSG(strstr(b, "\"method\":\"GET\"") && strstr(b, "\"url\":\"/echo?q=1\""), "echo: %s", b);
    CHECK_MSG(strstr(b, "\"x-from-opts\":\"1\""), "opts header missing: %s", b);
    CHECK_MSG(strstr(b, "\"x-from-prepare\":\"attempt-1\""), "prepare header missing: %s", b);
    CHECK_EQ_INT(x.prepares, 1);

    /* POST a 100 kB body: echoed whole, no Expect: 100-continue, no form type. */
    size_t n = 100000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)('A' + i % 26);
    o = (kcl_http_opts){.method = "POST", .url = url(S1, "/echo"), .body = big, .body_len = n};
    kcl_http_req *r = start(&o, &c);
    free(big);   /* the client copied it */
    CHECK(r != NULL);
    wait_for(&c, 5000);
    b = kcl_buf_cstr(&c.body);
    CHECK_EQ_INT(c.status, 200);
    CHECK_MSG(strstr(b, "\"method\":\"POST\"") && strstr(b, "\"bodyLength\":100000"), "post echo: %.200s", b);
    CHECK_MSG(strstr(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZABC") != NULL, "body content not echoed");
    CHECK_MSG(!strstr(b, "\"expect\""), "an Expect header was sent");
    CHECK_MSG(!strstr(b, "x-www-form-urlencoded"), "curl's default form content type was sent");

    /* PUT and DELETE go out with their method. */
    o = (kcl_http_opts){.method = "PUT", .url = url(S1, "/echo"), .body = "x", .body_len = 1};
    run(&o, &c, 5000);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "\"method\":\"PUT\""), "put: %s", kcl_buf_cstr(&c.body));
    o = (kcl_http_opts){.method = "DELETE", .url = url(S1, "/echo")};
    run(&o, &c, 5000);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "\"method\":\"DELETE\""), "delete: %s", kcl_buf_cstr(&c.body));

    /* Response headers, case-insensitively. */
    c.want_header = "x-luakcl-test";
    o = (kcl_http_opts){.url = url(S1, "/header?X-Luakcl-Test=hello%20world&X-Other=2")};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.header_rc, 0);
    CHECK_EQ_STR(c.header, "hello world");
    c.want_header = "X-Absent";
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.header_rc, -1);
    c.want_header = NULL;
    kcl_buf_free(&c.body);
}

static void test_reuse(void)
{
    const char *stats = url(S1, "/stats");
    long c0 = get_number(stats, "connections", 0);
    call c = {0};
    for (int i = 0; i < 10; i++) {
        kcl_http_opts o = {.url = url(S1, "/echo")};
        run(&o, &c, 5000);
        CHECK_EQ_INT(c.status, 200);
    }
    long c1 = get_number(stats, "connections", 0);
    CHECK_MSG(c1 == c0, "10 sequential requests opened %ld new connections", c1 - c0);

    /* A burst of 20 opens at most 20; the next burst reuses them all. */
    enum { N = 20 };
    call cs[N];
    memset(cs, 0, sizeof cs);
    for (int burst = 0; burst < 2; burst++) {
        long before = get_number(stats, "connections", 0);
        for (int i = 0; i < N; i++) {
            kcl_http_opts o = {.url = url(S1, "/slow?ms=100")};
            start(&o, &cs[i]);
        }
        CHECK_EQ_INT(kcl_http_pending(H), N);
        for (int i = 0; i < N; i++) {
            wait_for(&cs[i], 5000);
            CHECK_EQ_INT(cs[i].status, 200);
        }
        long after = get_number(stats, "connections", 0);
        if (burst == 0) CHECK_MSG(after - before <= N, "burst opened %ld connections", after - before);
        else CHECK_MSG(after == before, "second burst opened %ld new connections", after - before);
    }
    for (int i = 0; i < N; i++) kcl_buf_free(&cs[i].body);
    kcl_buf_free(&c.body);
}

static void test_http2(void)
{
    call c = {0};
    kcl_http_opts o = {.url = url(S2, "/echo"), .http2 = 1, .insecure = 1};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "\"httpVersion\":\"2.0\""), "not HTTP/2: %s", kcl_buf_cstr(&c.body));

    /* Concurrent requests are multiplexed on the session already open. */
    long s0 = get_number(url(S2, "/stats"), "h2sessions", 1);
    enum { N = 10 };
    call cs[N];
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < N; i++) {
        kcl_http_opts oi = {.url = url(S2, "/slow?ms=50"), .http2 = 1, .insecure = 1};
        start(&oi, &cs[i]);
    }
    for (int i = 0; i < N; i++) {
        wait_for(&cs[i], 5000);
        CHECK_EQ_INT(cs[i].status, 200);
        kcl_buf_free(&cs[i].body);
    }
    long s1 = get_number(url(S2, "/stats"), "h2sessions", 1);
    CHECK_MSG(s1 == s0, "%ld new HTTP/2 sessions for multiplexed requests", s1 - s0);

    /* Verification on: the self-signed certificate is refused, not retried. */
    o = (kcl_http_opts){.url = url(S2, "/echo"), .http2 = 1, .insecure = 0};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_INT(c.curl_code, CURLE_PEER_FAILED_VERIFICATION);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_FATAL);
    CHECK_EQ_INT(c.attempts, 1);
    kcl_buf_free(&c.body);
}

static void test_retries(void)
{
    call c = {0};
    char path[128];

    /* A timeout is a network error, tried max_attempts times. */
    kcl_http_opts o = {.url = url(S1, "/slow?ms=3000"), .timeout_ms = 200,
                       .retry = {.max_attempts = 2, .base_ms = 10}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(c.curl_code, CURLE_OPERATION_TIMEDOUT);
    CHECK_EQ_INT(c.attempts, 2);
    CHECK_MSG(strstr(c.err.message, "after 2 attempts") != NULL, "message: %s", c.err.message);

    /* 503 twice, then 200: three hits on the server. */
    snprintf(path, sizeof path, "/flaky/r%d?fail=2&status=503", round_no);
    o = (kcl_http_opts){.url = url(S1, path), .retry = {.max_attempts = 4, .base_ms = 5}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NONE);
    CHECK_EQ_INT(c.attempts, 3);
    CHECK_EQ_STR(kcl_buf_cstr(&c.body), "ok");
    snprintf(path, sizeof path, "/count?path=/flaky/r%d", round_no);
    CHECK_EQ_INT(get_number(url(S1, path), "hits", 0), 3);

    /* Giving up: typed by the last attempt. */
    o = (kcl_http_opts){.url = url(S1, "/status/503"), .retry = {.max_attempts = 3, .base_ms = 5}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_RETRYABLE);
    CHECK_EQ_INT(c.err.http_status, 503);
    CHECK_EQ_INT(c.attempts, 3);
    CHECK_EQ_STR(kcl_buf_cstr(&c.body), "status 503");
    o = (kcl_http_opts){.url = url(S1, "/status/429"), .retry = {.max_attempts = 2, .base_ms = 5}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_THROTTLED);
    CHECK_EQ_INT(c.attempts, 2);
    o = (kcl_http_opts){.url = url(S1, "/status/404"), .retry = {.max_attempts = 3, .base_ms = 5}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_FATAL);
    CHECK_EQ_INT(c.err.http_status, 404);
    CHECK_EQ_INT(c.attempts, 1);

    /* Nothing listens: connection refused is a network error. */
    o = (kcl_http_opts){.url = "http://127.0.0.1:1/", .retry = {.max_attempts = 2, .base_ms = 5}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(c.attempts, 2);

    /* A prepare failure ends the request through the callback, with its error. */
    hookctx x = {.fail_prepare = 1};
    o = (kcl_http_opts){.url = url(S1, "/echo"), .prepare = prep_hook, .hook_ud = &x};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(c.err.code, "NoCredentials");
    CHECK_EQ_INT(c.status, 0);
    kcl_buf_free(&c.body);
}

static void test_cancel(void)
{
    call c = {0}, later = {0};
    kcl_http_opts slow = {.url = url(S1, "/slow?ms=200")};
    kcl_http_opts slower = {.url = url(S1, "/slow?ms=400")};

    /* Cancelled before it even started. */
    kcl_http_req *r = start(&slow, &c);
    kcl_http_cancel(r);
    CHECK_EQ_INT(kcl_http_pending(H), 0);

    /* Cancelled while in flight (the prepare hook ran: the handle is active). */
    hookctx x = {0};
    kcl_http_opts o = slow;
    o.prepare = prep_hook;
    o.hook_ud = &x;
    call c2 = {0};
    r = start(&o, &c2);
    CHECK(kcl_test_run_until(loop, &x.prepares, 2000) == 0);
    kcl_http_cancel(r);
    CHECK_EQ_INT(kcl_http_pending(H), 0);

    /* Cancelled while waiting in backoff. */
    hookctx xb = {0};
    call c3 = {0};
    o = (kcl_http_opts){.url = url(S1, "/status/500"), .classify = classify_hook, .hook_ud = &xb,
                        .retry = {.max_attempts = 3, .base_ms = 10000, .max_ms = 10000}};
    r = start(&o, &c3);
    CHECK(kcl_test_run_until(loop, &xb.flag, 2000) == 0);
    CHECK_EQ_INT(xb.flag, 2);
    kcl_http_cancel(r);
    CHECK_EQ_INT(kcl_http_pending(H), 0);

    /* Cancelled from inside its own prepare hook (second attempt). */
    hookctx xp = {.cancel_at_prepare = 2};
    call c4 = {0};
    o = (kcl_http_opts){.url = url(S1, "/status/503"), .prepare = prep_hook, .hook_ud = &xp,
                        .retry = {.max_attempts = 3, .base_ms = 5}};
    xp.req = start(&o, &c4);
    CHECK(kcl_test_run_until(loop, &xp.flag, 2000) == 0);
    CHECK_EQ_INT(xp.prepares, 2);

    /* Cancelled from inside its own classify hook. */
    hookctx xc = {.cancel_at_classify = 1};
    call c5 = {0};
    o = (kcl_http_opts){.url = url(S1, "/status/503"), .classify = classify_hook, .hook_ud = &xc};
    xc.req = start(&o, &c5);
    CHECK(kcl_test_run_until(loop, &xc.flag, 2000) == 0);
    CHECK_EQ_INT(xc.classifies, 1);

    /* Cancelled from inside its own on_data, mid-stream. */
    hookctx xd = {.cancel_at_chunk = 2};
    call c6 = {0};
    o = (kcl_http_opts){.url = url(S1, "/chunked?n=6&ms=30"), .on_data = data_hook, .hook_ud = &xd};
    xd.req = start(&o, &c6);
    CHECK(kcl_test_run_until(loop, &xd.flag, 2000) == 0);
    CHECK_EQ_INT(xd.chunks, 2);
    CHECK_EQ_INT(kcl_http_pending(H), 0);

    /* Cancelled by another request's callback. */
    call cb = {0};
    kcl_http_req *victim = start(&slower, &cb);
    (void)victim;
    run(&(kcl_http_opts){.url = url(S1, "/echo")}, &later, 5000);
    kcl_http_cancel(victim);

    /* Let everything that was cancelled have finished on the server side:
     * no callback ever came. */
    run(&slower, &later, 5000);
    CHECK_EQ_INT(later.status, 200);
    CHECK_EQ_INT(c.calls + c2.calls + c3.calls + c4.calls + c5.calls + c6.calls + cb.calls, 0);
    CHECK_EQ_INT(xd.chunks, 2);   /* nothing streamed after the cancel */
    CHECK_EQ_INT(kcl_http_pending(H), 0);
    kcl_buf_free(&later.body);
    kcl_buf_free(&xd.data);
}

static void test_streaming(void)
{
    call c = {0};
    hookctx x = {.pattern_ok = 1};
    kcl_http_opts o = {.url = url(S1, "/big?bytes=1000000"), .on_data = data_hook, .hook_ud = &x};
    run(&o, &c, 10000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_EQ_INT(x.bytes, 1000000);
    CHECK_MSG(x.chunks > 1, "1 MB arrived in %d chunk(s)", x.chunks);
    CHECK(x.pattern_ok);
    CHECK_EQ_INT(c.body.len, 0);   /* streamed, not buffered */
    kcl_buf_free(&x.data);

    /* Chunked encoding, spaced out: several on_data calls, bytes in order. */
    hookctx xc = {0};
    o = (kcl_http_opts){.url = url(S1, "/chunked?n=4&ms=30"), .on_data = data_hook, .hook_ud = &xc};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_MSG(xc.chunks >= 2, "chunks: %d", xc.chunks);
    CHECK_EQ_STR(kcl_buf_cstr(&xc.data), "chunk-0\nchunk-1\nchunk-2\nchunk-3\n");
    kcl_buf_free(&xc.data);

    /* An error body is buffered for the caller, not streamed. */
    hookctx xe = {0};
    o = (kcl_http_opts){.url = url(S1, "/status/500"), .on_data = data_hook, .hook_ud = &xe,
                        .retry = {.max_attempts = 1}};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_RETRYABLE);
    CHECK_EQ_INT(xe.chunks, 0);
    CHECK_EQ_STR(kcl_buf_cstr(&c.body), "status 500");

    /* on_data refusing the stream. */
    hookctx xa = {.abort_at_chunk = 1};
    o = (kcl_http_opts){.url = url(S1, "/big?bytes=100000"), .on_data = data_hook, .hook_ud = &xa};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_MALFORMED);
    CHECK_EQ_INT(c.attempts, 1);
    kcl_buf_free(&xa.data);

    /* The buffered body is capped. */
    o = (kcl_http_opts){.url = url(S1, "/big?bytes=200000"), .max_body = 100000};
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_MALFORMED);
    CHECK_EQ_INT(c.attempts, 1);
    CHECK_MSG(c.body.len <= 100000, "kept %zu bytes", c.body.len);
    o.max_body = 200000;
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NONE);
    CHECK_EQ_INT(c.body.len, 200000);
    kcl_buf_free(&c.body);
}

/* A Kinesis call through the proxy; kinesalite wants a date and an
 * Authorization header but accepts any signature. */
static kcl_http_opts kinesis_opts(const char *target_op, hookctx *x)
{
    static char target[96];
    static const char *hdrs[6];
    snprintf(target, sizeof target, "X-Amz-Target: Kinesis_20131202.%s", target_op);
    hdrs[0] = target;
    hdrs[1] = "Content-Type: application/x-amz-json-1.1";
    hdrs[2] = "X-Amz-Date: 20240101T000000Z";
    hdrs[3] = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDLUAKCLTEST000001/20240101/us-east-1/kinesis/"
              "aws4_request, SignedHeaders=host;x-amz-date, Signature="
              "0000000000000000000000000000000000000000000000000000000000000000";
    hdrs[4] = NULL;
    return (kcl_http_opts){.method = "POST", .url = url(PROXY, "/"), .headers = hdrs, .body = "{}", .body_len = 2,
                           .classify = x ? classify_hook : NULL, .hook_ud = x,
                           .retry = {.max_attempts = 2, .base_ms = 5}};
}

static void fault(const char *json)
{
    post_json(url(PROXY, "/__luakcl/faults"), json);
}

static void test_fault_proxy(void)
{
    post_json(url(PROXY, "/__luakcl/reset"), "{}");
    post_json(url(PROXY, "/__luakcl/config"), "{\"verify\": false}");   /* we do not sign here */
    call c = {0};
    kcl_http_opts o = kinesis_opts("ListStreams", NULL);
    run(&o, &c, 5000);
    CHECK_MSG(c.status == 200 && strstr(kcl_buf_cstr(&c.body), "StreamNames"), "ListStreams: %ld %s",
              c.status, kcl_buf_cstr(&c.body));

    /* Connection reset on every attempt. (libcurl itself retries once on a
     * fresh connection when a reused one dies, so more than 2 resets are
     * consumed; the rest are cleared afterwards.) */
    fault("{\"match\":\"Kinesis_20131202.ListStreams\",\"action\":\"reset\",\"count\":10}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(c.attempts, 2);
    CHECK_MSG(c.curl_code == CURLE_RECV_ERROR || c.curl_code == CURLE_GOT_NOTHING ||
              c.curl_code == CURLE_SEND_ERROR, "reset gave curl code %d", c.curl_code);
    long resets = get_number(url(PROXY, "/__luakcl/stats"), "injected", 0);
    CHECK_MSG(resets >= 2 && resets <= 4, "%ld resets for 2 attempts", resets);
    post_json(url(PROXY, "/__luakcl/reset"), "{}");
    post_json(url(PROXY, "/__luakcl/config"), "{\"verify\": false}");

    /* Truncated body on every attempt. */
    fault("{\"match\":\"Kinesis_20131202.ListStreams\",\"action\":\"truncate\",\"count\":2}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(c.curl_code, CURLE_PARTIAL_FILE);
    CHECK_EQ_INT(c.attempts, 2);

    /* One 500, then through. */
    fault("{\"match\":\"*\",\"action\":\"error\",\"status\":500,\"type\":\"InternalFailure\",\"count\":1}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_EQ_INT(c.attempts, 2);

    /* A bare 503 with an HTML body, on both attempts. */
    fault("{\"match\":\"*\",\"action\":\"status\",\"status\":503,\"count\":2}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_RETRYABLE);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "<html>") != NULL, "body: %s", kcl_buf_cstr(&c.body));

    /* A 400 is final by default; a classify hook can make it a throttle to retry. */
    fault("{\"match\":\"Kinesis_20131202.ListStreams\",\"action\":\"error\",\"status\":400,"
          "\"type\":\"ProvisionedThroughputExceededException\",\"message\":\"slow down\",\"count\":1}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_FATAL);
    CHECK_EQ_INT(c.attempts, 1);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "\"__type\":\"ProvisionedThroughputExceededException\""),
              "error body: %s", kcl_buf_cstr(&c.body));
    hookctx x = {0};
    kcl_http_opts oc = kinesis_opts("ListStreams", &x);
    oc.retry.max_attempts = 4;
    fault("{\"match\":\"Kinesis_20131202.ListStreams\",\"action\":\"error\",\"status\":400,"
          "\"type\":\"ProvisionedThroughputExceededException\",\"message\":\"slow down\",\"count\":2}");
    run(&oc, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_EQ_INT(c.attempts, 3);
    CHECK_EQ_INT(x.classifies, 3);

    /* A hanging server: the attempt timeout ends it. */
    fault("{\"match\":\"*\",\"action\":\"hang\",\"count\":1}");
    o.timeout_ms = 300;
    o.retry.max_attempts = 1;
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.err.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(c.curl_code, CURLE_OPERATION_TIMEDOUT);

    /* A delay within the timeout is only slower. */
    fault("{\"match\":\"*\",\"action\":\"delay\",\"delay_ms\":100,\"count\":1}");
    o.timeout_ms = 5000;
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);

    /* Garbage with a 200 is a success at this layer; the body is what came. */
    fault("{\"match\":\"*\",\"action\":\"garbage\",\"count\":1}");
    run(&o, &c, 5000);
    CHECK_EQ_INT(c.status, 200);
    CHECK_MSG(strstr(kcl_buf_cstr(&c.body), "not json") != NULL, "garbage: %s", kcl_buf_cstr(&c.body));

    CHECK_EQ_INT(get_number(url(PROXY, "/__luakcl/stats"), "injected", 0), 2 + 1 + 2 + 1 + 2 + 1 + 1 + 1);
    post_json(url(PROXY, "/__luakcl/reset"), "{}");
    kcl_buf_free(&c.body);
}

int main(void)
{
    S1 = kcl_test_env("LUAKCL_TEST_HTTP_SERVER");
    S2 = kcl_test_env("LUAKCL_TEST_HTTP2_SERVER");
    PROXY = kcl_test_env("LUAKCL_TEST_KINESIS_PROXY");
    kcl_log_set_level(KCL_LOG_WARN);
    loop = ev_loop_new(EVFLAG_AUTO);
    for (round_no = 1; round_no <= 2; round_no++) {
        kcl_error err;
        H = kcl_http_new(loop, &err);
        CHECK_MSG(H != NULL, "kcl_http_new: %s", err.message);
        if (!H) break;
        test_roundtrip();
        test_reuse();
        test_http2();
        test_retries();
        test_cancel();
        test_streaming();
        test_fault_proxy();
        CHECK_EQ_INT(kcl_http_pending(H), 0);
        /* One request left in flight: kcl_http_free cancels it silently. */
        call c = {0};
        start(&(kcl_http_opts){.url = url(S1, "/slow?ms=2000")}, &c);
        kcl_http_free(H);
        H = NULL;
        CHECK_EQ_INT(c.calls, 0);
        /* Nothing of the client is left on the loop. */
        CHECK_MSG(ev_run(loop, EVRUN_NOWAIT) == 0, "watchers left active after kcl_http_free");
    }
    ev_loop_destroy(loop);
    return TEST_END();
}
