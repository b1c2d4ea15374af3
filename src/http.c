/* http — libcurl's multi-socket interface driven by libev (see http.h).
 *
 * The shape follows curl's docs/examples/evhiperfifo.c: one struct for the
 * multi handle (kcl_http), one per transfer found back through
 * CURLOPT_PRIVATE (kcl_http_req), one per socket attached with
 * curl_multi_assign (struct sock), and one one-shot ev_timer for libcurl's
 * timeout. On top of it:
 *
 * - curl_multi_socket_action is only ever called from our own io and timer
 *   watchers, never from inside a libcurl callback; finished transfers are
 *   collected with curl_multi_info_read right after it returns.
 * - Everything that runs user code (prepare, classify, done) runs from one
 *   place: the drain of a queue of requests, an ev_idle watcher that is
 *   active only while the queue is non-empty. A request in the queue is
 *   either about to start an attempt (RS_START) or has just finished one
 *   (RS_FINISHED), or was cancelled while libcurl held it.
 * - A request is freed only by the drain, by kcl_http_cancel when nothing of
 *   it is on the stack, or by kcl_http_free; `busy` marks "a hook of mine is
 *   running", and a cancel during it only flags the request.
 */
#include "http.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"

#include <curl/curl.h>
#include <ev.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY       ((size_t)64 << 20)
#define MAX_HEADER_BYTES       ((size_t)1 << 20)
#define DEFAULT_TIMEOUT_MS     30000L
#define DEFAULT_CONNECT_MS     5000L
#define DEFAULT_MAX_ATTEMPTS   4
#define DEFAULT_BASE_MS        50.0
#define DEFAULT_MAX_MS         5000.0
#define MAX_IDLE_CONNECTIONS   128L    /* connection cache kept for reuse */

#ifndef LUAKCL_VERSION
#define LUAKCL_VERSION "dev"
#endif

struct kcl_http_headers {
    struct curl_slist *list;
    int failed;                 /* an append ran out of memory */
};

enum req_state {
    RS_START,                   /* queued: the next attempt starts at the drain */
    RS_ACTIVE,                  /* the easy handle is in the multi */
    RS_FINISHED,                /* queued: an attempt ended, classify it at the drain */
    RS_BACKOFF,                 /* waiting on `backoff` before the next attempt */
};

struct sock {                   /* one per socket libcurl asked us to watch */
    kcl_http *h;
    curl_socket_t fd;
    ev_io io;
    struct sock *prev, *next;
};

struct kcl_http_req {
    kcl_http *h;
    kcl_http_req *prev, *next;      /* every live request of h */
    kcl_http_req *qprev, *qnext;    /* the drain queue */
    int queued, state, cancelled, delivered, busy;
    int overflow, data_aborted, streamed;

    CURL *easy;
    struct curl_slist *base_headers;     /* opts->headers, copied */
    struct curl_slist *attempt_headers;  /* what the current attempt sends */
    char *method, *url, *body;
    size_t body_len, max_body;
    int http2;
    kcl_retry_policy retry;
    kcl_http_prepare_fn prepare;
    kcl_http_classify_fn classify;
    kcl_http_data_fn on_data;
    void *hook_ud;
    kcl_http_done_fn done;
    void *ud;

    kcl_http_resp resp;
    ev_timer backoff;
    uint64_t rng;
    int64_t start_ns;
    char errbuf[CURL_ERROR_SIZE];
};

struct kcl_http {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;             /* libcurl's timeout */
    ev_idle drain;              /* active while the queue is non-empty */
    kcl_http_req *reqs;
    kcl_http_req *qhead, *qtail;
    struct sock *socks;
    int pending;
    int in_curl;                /* inside curl_multi_socket_action */
    int closing;
    uint64_t rng;
};

/* ---- the drain queue ---------------------------------------------------- */

static void q_push(kcl_http_req *r)
{
    kcl_http *h = r->h;
    if (r->queued) return;
    r->queued = 1;
    r->qnext = NULL;
    r->qprev = h->qtail;
    if (h->qtail) h->qtail->qnext = r; else h->qhead = r;
    h->qtail = r;
    ev_idle_start(h->loop, &h->drain);
}

static void q_remove(kcl_http_req *r)
{
    kcl_http *h = r->h;
    if (!r->queued) return;
    if (r->qprev) r->qprev->qnext = r->qnext; else h->qhead = r->qnext;
    if (r->qnext) r->qnext->qprev = r->qprev; else h->qtail = r->qprev;
    r->qprev = r->qnext = NULL;
    r->queued = 0;
}

/* Free a header list, wiping each line first: they carry Authorization,
 * session and metadata tokens. */
static void free_headers_wiped(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i; i = i->next)
        if (i->data) explicit_bzero(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

/* Release everything of a request. Never called while libcurl is running
 * (the easy handle may be removed from the multi here) nor while one of the
 * request's own hooks or callbacks is on the stack. */
static void req_free(kcl_http_req *r)
{
    kcl_http *h = r->h;
    q_remove(r);
    ev_timer_stop(h->loop, &r->backoff);
    if (r->easy) {
        if (r->state == RS_ACTIVE) curl_multi_remove_handle(h->multi, r->easy);
        curl_easy_cleanup(r->easy);
    }
    free_headers_wiped(r->base_headers);
    free_headers_wiped(r->attempt_headers);
    free(r->method);
    free(r->url);
    if (r->body) explicit_bzero(r->body, r->body_len);   /* may hold a web identity token */
    free(r->body);
    kcl_buf_free(&r->resp.body);
    kcl_buf_free(&r->resp.headers);
    if (r->prev) r->prev->next = r->next; else h->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    free(r);
}

/* ---- classification ----------------------------------------------------- */

static int curl_code_is_fatal(CURLcode c)
{
    switch (c) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_ABORTED_BY_CALLBACK:
        return 1;
    default:
        return 0;
    }
}

/* A short printable excerpt of an error body for messages. */
static void body_excerpt(const kcl_buf *b, char *out, size_t outlen)
{
    size_t n = b->len < outlen - 1 ? b->len : outlen - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b->data[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[n] = '\0';
}

/* The default decision (see http.h); also what the classify hook starts from. */
static int classify_default(const kcl_http_req *r, kcl_error *e)
{
    const kcl_http_resp *resp = &r->resp;
    kcl_error_clear(e);
    if (r->overflow) {
        kcl_error_set(e, KCL_ERR_MALFORMED, resp->status, "ResponseTooLarge",
                      "response larger than %zu bytes from %s", r->max_body, r->url);
        return 0;
    }
    if (r->data_aborted) {
        kcl_error_set(e, KCL_ERR_MALFORMED, resp->status, "StreamRejected",
                      "response stream rejected by the data callback");
        return 0;
    }
    if (resp->curl_code != CURLE_OK) {
        CURLcode c = (CURLcode)resp->curl_code;
        const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(c);
        char code[32];
        snprintf(code, sizeof code, "curl:%d", (int)c);
        if (curl_code_is_fatal(c)) {
            kcl_error_set(e, KCL_ERR_FATAL, resp->status, code, "%s %s: %s", r->method, r->url, why);
            return 0;
        }
        kcl_error_set(e, KCL_ERR_NETWORK, resp->status, code, "%s %s: %s", r->method, r->url, why);
        return 1;
    }
    long st = resp->status;
    if (st >= 200 && st < 300) return 0;
    char excerpt[161];
    body_excerpt(&resp->body, excerpt, sizeof excerpt);
    char code[16];
    snprintf(code, sizeof code, "HTTP%ld", st);
    if (st == 429) {
        kcl_error_set(e, KCL_ERR_THROTTLED, st, code, "HTTP %ld from %s: %s", st, r->url, excerpt);
        return 1;
    }
    if (st >= 500) {
        kcl_error_set(e, KCL_ERR_RETRYABLE, st, code, "HTTP %ld from %s: %s", st, r->url, excerpt);
        return 1;
    }
    kcl_error_set(e, KCL_ERR_FATAL, st, code, "HTTP %ld from %s: %s", st, r->url, excerpt);
    return 0;
}

/* ---- libcurl callbacks (no user code but on_data; no curl calls) ------- */

/* Before the first body byte is buffered: room for the whole body in one
 * allocation when the response announced its Content-Length (a GetRecords
 * body is several MB; growing by doubling copied it ~20 times and touched
 * up to twice its size). A missing or oversized length leaves the doubling
 * (and the max_body check) to kcl_buf_append. */
static void presize_body(kcl_http_req *r)
{
    curl_off_t cl = -1;
    kcl_buf *b = &r->resp.body;
    if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK || cl <= 0 ||
        (uint64_t)cl > (uint64_t)r->max_body || (size_t)cl + 1 <= b->cap)
        return;
    char *p = realloc(b->data, (size_t)cl + 1);
    if (!p) return;
    b->data = p;
    b->cap = (size_t)cl + 1;
    b->data[b->len] = '\0';
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    kcl_http_req *r = ud;
    size_t len = size * n;
    if (r->cancelled) return len ? 0 : 1;   /* anything but len aborts */
    if (r->on_data) {
        long st = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &st);
        if (st >= 200 && st < 300) {   /* error bodies are buffered for classify */
            r->streamed = 1;
            if (r->on_data(p, len, r->hook_ud) != 0) {
                r->data_aborted = 1;
                return len ? 0 : 1;
            }
            return r->cancelled ? (len ? 0 : 1) : len;
        }
    }
    if (r->resp.body.len == 0) presize_body(r);
    if (len > r->max_body - r->resp.body.len || kcl_buf_append(&r->resp.body, p, len) != 0) {
        r->overflow = 1;
        return len ? 0 : 1;
    }
    return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    kcl_http_req *r = ud;
    size_t len = size * n;
    /* A new status line (after a 1xx) starts a new set of headers. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) kcl_buf_reset(&r->resp.headers);
    if (len > MAX_HEADER_BYTES - r->resp.headers.len || kcl_buf_append(&r->resp.headers, p, len) != 0) {
        r->overflow = 1;
        return len ? 0 : 1;
    }
    return len;
}

static void check_multi_info(kcl_http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;   /* m is invalid once the handle is removed */
        kcl_http_req *r = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
        if (!r) continue;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->resp.status);
        r->resp.curl_code = (int)rc;
        curl_multi_remove_handle(h->multi, easy);
        r->state = RS_FINISHED;
        q_push(r);
    }
}

static void socket_action(kcl_http *h, curl_socket_t fd, int ev_bitmask)
{
    int running = 0;
    h->in_curl++;
    CURLMcode mc = curl_multi_socket_action(h->multi, fd, ev_bitmask, &running);
    h->in_curl--;
    if (mc != CURLM_OK) KCL_WARN(NULL, "curl_multi_socket_action: %s", curl_multi_strerror(mc));
    check_multi_info(h);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sock *k = w->data;
    kcl_http *h = k->h;
    curl_socket_t fd = k->fd;
    int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
                 (revents & EV_WRITE ? CURL_CSELECT_OUT : 0) |
                 (revents & EV_ERROR ? CURL_CSELECT_ERR : 0);
    socket_action(h, fd, action);   /* may free k: not touched after */
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    socket_action(w->data, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 fires on the next loop
 * iteration (never a re-entrant socket_action from here). */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    kcl_http *h = userp;
    ev_timer_stop(h->loop, &h->timer);
    if (timeout_ms >= 0 && !h->closing) {
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.0);
        ev_timer_start(h->loop, &h->timer);
    }
    return 0;
}

static void sock_unlink_free(kcl_http *h, struct sock *k)
{
    ev_io_stop(h->loop, &k->io);
    if (k->prev) k->prev->next = k->next; else h->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    free(k);
}

/* CURLMOPT_SOCKETFUNCTION: one ev_io per socket, its struct attached to the
 * socket with curl_multi_assign and freed on CURL_POLL_REMOVE. */
static int curl_sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    kcl_http *h = userp;
    struct sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k) sock_unlink_free(h, k);
        return 0;
    }
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k) return -1;
        k->h = h;
        k->fd = fd;
        ev_init(&k->io, io_cb);
        k->io.data = k;
        k->next = h->socks;
        if (h->socks) h->socks->prev = k;
        h->socks = k;
        curl_multi_assign(h->multi, fd, k);
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_stop(h->loop, &k->io);
    ev_io_set(&k->io, fd, events);
    if (events) ev_io_start(h->loop, &k->io);
    return 0;
}

/* ---- the request's life ------------------------------------------------- */

static void deliver(kcl_http_req *r, const kcl_error *e)
{
    kcl_http *h = r->h;
    r->resp.err = *e;
    if (e->kind != KCL_ERR_NONE && r->resp.attempts > 1) {
        size_t n = strlen(r->resp.err.message);
        snprintf(r->resp.err.message + n, sizeof r->resp.err.message - n,
                 " (after %d attempts)", r->resp.attempts);
    }
    r->resp.total_ms = (double)(kcl_clock_mono_ns() - r->start_ns) / 1e6;
    h->pending--;
    r->delivered = 1;           /* a cancel from inside done is a no-op */
    r->busy++;
    r->done(&r->resp, r->ud);
    r->busy--;
    req_free(r);
}

static int has_header(const struct curl_slist *l, const char *name)
{
    size_t n = strlen(name);
    for (; l; l = l->next)
        if (strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';')) return 1;
    return 0;
}

static void attempt_start(kcl_http_req *r)
{
    kcl_http *h = r->h;
    kcl_error e;
    kcl_error_clear(&e);
    r->resp.attempts++;
    r->resp.status = 0;
    r->resp.curl_code = 0;
    kcl_buf_reset(&r->resp.body);
    kcl_buf_reset(&r->resp.headers);
    r->overflow = r->data_aborted = r->streamed = 0;
    r->errbuf[0] = '\0';

    struct kcl_http_headers hd = {NULL, 0};
    for (const struct curl_slist *l = r->base_headers; l; l = l->next) kcl_http_header_add(&hd, l->data);
    if (r->prepare) {
        r->busy++;
        int rc = r->prepare(&hd, r->resp.attempts, &e, r->hook_ud);
        r->busy--;
        if (r->cancelled) {
            curl_slist_free_all(hd.list);
            req_free(r);
            return;
        }
        if (rc != 0) {
            curl_slist_free_all(hd.list);
            if (e.kind == KCL_ERR_NONE) kcl_error_set(&e, KCL_ERR_FATAL, 0, "PrepareFailed", "request preparation failed");
            deliver(r, &e);
            return;
        }
    }
    /* kinesis-local never answers 100-continue; and no form content type
     * unless the caller chose one. */
    if (!has_header(hd.list, "Expect")) kcl_http_header_add(&hd, "Expect:");
    if (!has_header(hd.list, "Content-Type")) kcl_http_header_add(&hd, "Content-Type:");
    if (hd.failed) {
        curl_slist_free_all(hd.list);
        kcl_error_set(&e, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory building headers");
        deliver(r, &e);
        return;
    }
    free_headers_wiped(r->attempt_headers);
    r->attempt_headers = hd.list;
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->attempt_headers);
    CURLMcode mc = curl_multi_add_handle(h->multi, r->easy);
    if (mc != CURLM_OK) {
        kcl_error_set(&e, KCL_ERR_FATAL, 0, "CurlMulti", "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        deliver(r, &e);
        return;
    }
    r->state = RS_ACTIVE;
}

static void attempt_finished(kcl_http_req *r)
{
    kcl_http *h = r->h;
    kcl_error e;
    int retry = classify_default(r, &e);
    if (r->classify && !r->overflow && !r->data_aborted) {
        r->busy++;
        retry = r->classify(&r->resp, &e, r->hook_ud);
        r->busy--;
        if (r->cancelled) {
            req_free(r);
            return;
        }
    }
    /* Body bytes already handed to on_data cannot be taken back. */
    if (r->streamed) retry = 0;
    if (retry && r->resp.attempts < r->retry.max_attempts) {
        double ms = kcl_backoff_delay_ms(r->resp.attempts, r->retry.base_ms, r->retry.max_ms, &r->rng);
        KCL_DEBUG(NULL, "http: %s %s attempt %d failed (%s: %s); retrying in %.0f ms",
                  r->method, r->url, r->resp.attempts, kcl_err_kind_name(e.kind), e.message, ms);
        r->state = RS_BACKOFF;
        ev_timer_set(&r->backoff, ms / 1000.0, 0.0);
        ev_timer_start(h->loop, &r->backoff);
        return;
    }
    deliver(r, &e);
}

static void backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    kcl_http_req *r = w->data;
    r->state = RS_START;
    q_push(r);
}

static void drain_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    kcl_http *h = w->data;
    /* Pop one at a time: a callback may cancel or add any other request. */
    while (h->qhead) {
        kcl_http_req *r = h->qhead;
        q_remove(r);
        if (r->cancelled) req_free(r);
        else if (r->state == RS_START) attempt_start(r);
        else if (r->state == RS_FINISHED) attempt_finished(r);
    }
    ev_idle_stop(loop, w);
}

/* ---- public API --------------------------------------------------------- */

int kcl_http_header_add(kcl_http_headers *hd, const char *line)
{
    struct curl_slist *l = curl_slist_append(hd->list, line);
    if (!l) {
        hd->failed = 1;
        return -1;
    }
    hd->list = l;
    return 0;
}

kcl_http *kcl_http_new(struct ev_loop *loop, kcl_error *err)
{
    curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
    if (!(vi->features & CURL_VERSION_ASYNCHDNS)) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "NoAsyncDNS",
                      "libcurl %s resolves names synchronously (no AsynchDNS); it would block the event loop",
                      vi->version);
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "CurlInit", "curl_global_init failed");
        return NULL;
    }
    kcl_http *h = calloc(1, sizeof *h);
    if (h) h->multi = curl_multi_init();
    if (!h || !h->multi) {
        free(h);
        curl_global_cleanup();
        kcl_error_set(err, KCL_ERR_FATAL, 0, "CurlInit", "curl_multi_init failed");
        return NULL;
    }
    h->loop = loop;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    /* libcurl's default cache (4 x transfers in progress) shrinks as a burst
     * ends and closes connections that the next burst needs again. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, MAX_IDLE_CONNECTIONS);
    ev_timer_init(&h->timer, timer_cb, 0.0, 0.0);
    h->timer.data = h;
    ev_idle_init(&h->drain, drain_cb);
    /* Highest priority: pending I/O cannot starve completions. */
    ev_set_priority(&h->drain, EV_MAXPRI);
    h->drain.data = h;
    h->rng = (uint64_t)kcl_clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
    return h;
}

void kcl_http_free(kcl_http *h)
{
    if (!h) return;
    h->closing = 1;
    while (h->reqs) {
        kcl_http_req *r = h->reqs;
        r->cancelled = 1;
        req_free(r);
    }
    h->pending = 0;
    curl_multi_cleanup(h->multi);   /* closes pooled connections (CURL_POLL_REMOVE) */
    while (h->socks) sock_unlink_free(h, h->socks);
    ev_timer_stop(h->loop, &h->timer);
    ev_idle_stop(h->loop, &h->drain);
    free(h);
    curl_global_cleanup();
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* All the per-request options; set once, kept across attempts. */
static int setup_easy(kcl_http_req *r, const kcl_http_opts *o)
{
    CURL *c = r->easy;
    int https = strncasecmp(r->url, "https://", 8) == 0;
    long version = CURL_HTTP_VERSION_1_1;
    if (r->http2) version = https ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PRIVATE, (void *)r);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_WRITEFUNCTION, write_cb);
    SET(CURLOPT_WRITEDATA, (void *)r);
    SET(CURLOPT_HEADERFUNCTION, header_cb);
    SET(CURLOPT_HEADERDATA, (void *)r);
    SET(CURLOPT_ERRORBUFFER, r->errbuf);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS);
    SET(CURLOPT_HTTP_VERSION, version);
    if (r->http2) SET(CURLOPT_PIPEWAIT, 1L);   /* share one connection rather than open more */
    SET(CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, "luakcl/" LUAKCL_VERSION);
    if (strcmp(r->method, "GET") == 0 && !r->body_len) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(r->method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(r->method, "POST") != 0) SET(CURLOPT_CUSTOMREQUEST, r->method);
        if (r->body_len || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
            strcmp(r->method, "PATCH") == 0) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
            SET(CURLOPT_POSTFIELDS, r->body);
        }
    }
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

kcl_http_req *kcl_http_send(kcl_http *h, const kcl_http_opts *o,
                            kcl_http_done_fn done, void *ud, kcl_error *err)
{
    if (!h || !o || !o->url || !done) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument", "kcl_http_send: missing client, url or callback");
        return NULL;
    }
    if (h->closing) {
        kcl_error_set(err, KCL_ERR_CANCELLED, 0, "Closing", "kcl_http_send: the client is being freed");
        return NULL;
    }
    kcl_http_req *r = calloc(1, sizeof *r);
    if (!r) goto oom;
    r->h = h;
    r->method = dup_str(o->method ? o->method : "GET");
    r->url = dup_str(o->url);
    r->body_len = o->body ? o->body_len : 0;
    r->body = malloc(r->body_len ? r->body_len : 1);
    if (!r->method || !r->url || !r->body) goto oom_free;
    if (r->body_len) memcpy(r->body, o->body, r->body_len);
    r->http2 = o->http2;
    r->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    r->retry = o->retry;
    if (r->retry.max_attempts <= 0) r->retry.max_attempts = DEFAULT_MAX_ATTEMPTS;
    if (r->retry.base_ms <= 0) r->retry.base_ms = DEFAULT_BASE_MS;
    if (r->retry.max_ms <= 0) r->retry.max_ms = DEFAULT_MAX_MS;
    r->prepare = o->prepare;
    r->classify = o->classify;
    r->on_data = o->on_data;
    r->hook_ud = o->hook_ud;
    r->done = done;
    r->ud = ud;
    for (const char *const *l = o->headers; l && *l; l++) {
        struct curl_slist *n = curl_slist_append(r->base_headers, *l);
        if (!n) goto oom_free;
        r->base_headers = n;
    }
    r->easy = curl_easy_init();
    if (!r->easy) goto oom_free;
    if (setup_easy(r, o) != 0) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "CurlSetup", "kcl_http_send: libcurl refused an option for %s", r->url);
        goto fail;
    }
    ev_timer_init(&r->backoff, backoff_cb, 0.0, 0.0);
    r->backoff.data = r;
    r->rng = kcl_backoff_rng_next(&h->rng);
    r->start_ns = kcl_clock_mono_ns();
    r->state = RS_START;
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->pending++;
    q_push(r);
    return r;

oom_free:
    kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "kcl_http_send: out of memory");
fail:
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->base_headers);
    free(r->method);
    free(r->url);
    free(r->body);
    free(r);
    return NULL;
oom:
    kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "kcl_http_send: out of memory");
    return NULL;
}

void kcl_http_cancel(kcl_http_req *r)
{
    if (!r || r->cancelled || r->delivered) return;
    kcl_http *h = r->h;
    r->cancelled = 1;
    h->pending--;
    if (r->busy) return;   /* the hook's caller frees it when the hook returns */
    if (r->state == RS_ACTIVE && h->in_curl) {
        /* Inside libcurl (on_data): the handle cannot be removed here; the
         * transfer aborts at its next write and the drain frees it. */
        q_push(r);
        return;
    }
    req_free(r);
}

int kcl_http_pending(const kcl_http *h)
{
    return h ? h->pending : 0;
}

int kcl_http_resp_header(const kcl_http_resp *resp, const char *name, char *out, size_t outlen)
{
    if (!resp || !name || !resp->headers.data) return -1;
    size_t nlen = strlen(name);
    const char *p = resp->headers.data, *end = p + resp->headers.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            if (out && outlen) {
                size_t n = (size_t)(ve - v) < outlen - 1 ? (size_t)(ve - v) : outlen - 1;
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}
