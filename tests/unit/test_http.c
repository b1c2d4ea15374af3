/* kcl_http without any server: header lookup, argument checks, failures that
 * need no peer (bad URL, refused connection), cancel before start, and a
 * client that leaves nothing on the loop. The rest is in
 * tests/integration/it_http.c against real servers. */
#include "http.h"
#include "testlib.h"

#include <curl/curl.h>
#include <ev.h>
#include <string.h>

static void test_resp_header(void)
{
    kcl_http_resp r;
    memset(&r, 0, sizeof r);
    char v[17];
    CHECK_EQ_INT(kcl_http_resp_header(&r, "Content-Type", v, sizeof v), -1);
    kcl_buf_append_str(&r.headers, "HTTP/1.1 200 OK\r\n"
                                   "Content-Type:  application/json \r\n"
                                   "x-amzn-RequestId: abc-123\r\n"
                                   "X-Long: 0123456789abcdefghij\r\n"
                                   "X-Empty:\r\n"
                                   "X-Amzn-RequestId: second\r\n"
                                   "\r\n");
    CHECK_EQ_INT(kcl_http_resp_header(&r, "content-type", v, sizeof v), 0);
    CHECK_EQ_STR(v, "application/json");
    CHECK_EQ_INT(kcl_http_resp_header(&r, "X-AMZN-REQUESTID", v, sizeof v), 0);
    CHECK_EQ_STR(v, "abc-123");                       /* the first of two */
    CHECK_EQ_INT(kcl_http_resp_header(&r, "X-Long", v, sizeof v), 0);
    CHECK_EQ_STR(v, "0123456789abcdef");              /* truncated, terminated */
    CHECK_EQ_INT(kcl_http_resp_header(&r, "X-Empty", v, sizeof v), 0);
    CHECK_EQ_STR(v, "");
    CHECK_EQ_INT(kcl_http_resp_header(&r, "X-Lon", v, sizeof v), -1);   /* no prefix match */
    CHECK_EQ_INT(kcl_http_resp_header(&r, "Content-Type", NULL, 0), 0);  /* presence only */
    kcl_buf_free(&r.headers);
}

typedef struct {
    int done, calls, returned, returned_seen;
    kcl_err_kind kind;
    int curl_code, attempts;
} outcome;

static void on_done(kcl_http_resp *resp, void *ud)
{
    outcome *o = ud;
    o->calls++;
    o->done = 1;
    o->returned_seen = o->returned;
    o->kind = resp->err.kind;
    o->curl_code = resp->curl_code;
    o->attempts = resp->attempts;
}

static void test_client(struct ev_loop *loop)
{
    kcl_error err;
    kcl_http *h = kcl_http_new(loop, &err);
    CHECK_MSG(h != NULL, "kcl_http_new: %s", err.message);
    if (!h) return;

    /* Misuse fails at once, nothing called back. */
    kcl_http_opts none = {0};
    CHECK(kcl_http_send(h, &none, on_done, NULL, &err) == NULL);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kcl_http_pending(h), 0);

    /* A URL libcurl cannot use: fatal, not retried, called back later. */
    outcome a = {0};
    kcl_http_opts bad = {.url = "gopher://127.0.0.1/x", .retry = {.max_attempts = 3, .base_ms = 1}};
    CHECK(kcl_http_send(h, &bad, on_done, &a, &err) != NULL);
    a.returned = 1;
    CHECK_EQ_INT(a.calls, 0);
    CHECK_EQ_INT(kcl_http_pending(h), 1);
    CHECK(kcl_test_run_until(loop, &a.done, 5000) == 0);
    CHECK(a.returned_seen);
    CHECK_EQ_INT(a.kind, KCL_ERR_FATAL);
    CHECK_EQ_INT(a.curl_code, CURLE_UNSUPPORTED_PROTOCOL);
    CHECK_EQ_INT(a.attempts, 1);

    /* Nothing listens on port 1: a network error, retried, then given up. */
    outcome b = {0};
    kcl_http_opts refused = {.url = "http://127.0.0.1:1/", .retry = {.max_attempts = 3, .base_ms = 1}};
    CHECK(kcl_http_send(h, &refused, on_done, &b, &err) != NULL);
    b.returned = 1;
    CHECK(kcl_test_run_until(loop, &b.done, 5000) == 0);
    CHECK_EQ_INT(b.kind, KCL_ERR_NETWORK);
    CHECK_EQ_INT(b.curl_code, CURLE_COULDNT_CONNECT);
    CHECK_EQ_INT(b.attempts, 3);
    CHECK_EQ_INT(b.calls, 1);

    /* Cancelled before it started: never called back. */
    outcome c = {0};
    kcl_http_req *r = kcl_http_send(h, &refused, on_done, &c, &err);
    kcl_http_cancel(r);
    kcl_http_cancel(NULL);
    CHECK_EQ_INT(kcl_http_pending(h), 0);
    outcome d = {0};
    CHECK(kcl_http_send(h, &bad, on_done, &d, &err) != NULL);
    CHECK(kcl_test_run_until(loop, &d.done, 5000) == 0);
    CHECK_EQ_INT(c.calls, 0);

    /* Freed with one in flight: no callback, no watcher left. */
    outcome e = {0};
    CHECK(kcl_http_send(h, &refused, on_done, &e, &err) != NULL);
    kcl_http_free(h);
    CHECK_EQ_INT(e.calls, 0);
    CHECK_MSG(ev_run(loop, EVRUN_NOWAIT) == 0, "watchers left on the loop");
}

int main(void)
{
    test_resp_header();
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    test_client(loop);
    test_client(loop);   /* twice: no state left behind */
    ev_loop_destroy(loop);
    kcl_http_free(NULL);
    return TEST_END();
}
