/* http — HTTP requests on the libev loop through libcurl's multi-socket
 * interface (one curl multi per kcl_http, sockets and the timeout driven by
 * libev watchers, the pattern of curl's evhiperfifo example).
 *
 * Promises:
 * - Nothing blocks the loop: DNS is asynchronous (kcl_http_new fails if this
 *   libcurl would resolve names synchronously).
 * - Connections are kept alive and reused; HTTP/2 is negotiated when asked.
 * - The done callback is never called inside kcl_http_send, nor inside a
 *   libcurl callback: completions are queued and delivered from a libev
 *   watcher after curl_multi_socket_action has returned.
 * - Retries: a failed attempt that is retryable (connection error, timeout,
 *   5xx, 429, or what the `classify` hook says) is tried again after a full-
 *   jitter exponential backoff, up to retry.max_attempts attempts in all.
 *   The `prepare` hook runs before every attempt (to sign it anew).
 * - The callback is called exactly once per request, unless the request was
 *   cancelled with kcl_http_cancel (then never).
 * - Hooks (prepare, classify) and the done callback all run from one libev
 *   watcher (an ev_idle drain of completed work), never inside kcl_http_send
 *   and never inside libcurl; only on_data runs inside libcurl.
 * - Up to 128 idle connections are kept for reuse (HTTP/1.1); HTTP/2
 *   requests to one origin wait for and share one connection.
 * - TLS peers are verified unless the request says `insecure` (meant for an
 *   explicit local endpoint only; the caller decides and logs it).
 */
#ifndef KCL_HTTP_H
#define KCL_HTTP_H

#include "buf.h"
#include "error.h"

#include <stddef.h>

struct ev_loop;
typedef struct kcl_http kcl_http;
typedef struct kcl_http_req kcl_http_req;

typedef struct kcl_retry_policy {
    int    max_attempts;   /* attempts in all, >= 1 (1 = never retry); 0 means the default, 4 */
    double base_ms;        /* first backoff cap; 0 means 50 ms */
    double max_ms;         /* backoff cap; 0 means 5000 ms */
} kcl_retry_policy;

/* A finished attempt, as the callback and the classify hook see it. */
typedef struct kcl_http_resp {
    long        status;        /* HTTP status, 0 when no response arrived */
    int         curl_code;     /* CURLcode of the transfer, 0 = CURLE_OK */
    kcl_buf     body;          /* the body (empty when on_data consumed it) */
    kcl_buf     headers;       /* raw response header lines, "Name: value\r\n" each */
    int         attempts;      /* how many attempts were made */
    double      total_ms;      /* from send to completion, backoff included */
    kcl_error   err;           /* KCL_ERR_NONE on a 2xx; else the typed failure */
} kcl_http_resp;

/* Decide an attempt's fate. Called on every completed attempt (any status);
 * fill `err` (kind, code, message) and return 1 to retry, 0 to finish.
 * `err` arrives filled with the default decision below, so a hook may change
 * only what it knows better (an AWS error type in a 400 body, say). Not called
 * when the body exceeded max_body or on_data refused it (both end the request
 * with KCL_ERR_MALFORMED). Returning 1 past max_attempts finishes with `err`.
 * Without a hook: 2xx succeed; connection errors, timeouts, 429 and 5xx are
 * retried (KCL_ERR_NETWORK / KCL_ERR_THROTTLED / KCL_ERR_RETRYABLE); other
 * statuses finish with KCL_ERR_FATAL. */
typedef int (*kcl_http_classify_fn)(kcl_http_resp *resp, kcl_error *err, void *ud);

/* Before each attempt (the first one included, always from the loop, never
 * inside kcl_http_send): add the request's headers, one "Name: value" per
 * call of kcl_http_header_add; opts->headers are already in `headers`. A line
 * "Name:" removes a header libcurl would add. Returns 0, or -1 (with `err`
 * set) to fail the request without sending it: the done callback then gets
 * that error. kcl_http_header_add returns 0, or -1 when out of memory (the
 * attempt then fails with KCL_ERR_FATAL). */
typedef struct kcl_http_headers kcl_http_headers;
int kcl_http_header_add(kcl_http_headers *h, const char *line);
typedef int (*kcl_http_prepare_fn)(kcl_http_headers *headers, int attempt, kcl_error *err, void *ud);

/* Streaming: called with each chunk of a 2xx body as it arrives (the body is
 * then not buffered; a non-2xx body is buffered for classify and done).
 * Return 0 to go on, -1 to abort the transfer (the request then ends with
 * KCL_ERR_MALFORMED, "StreamRejected"). Called from inside libcurl: it must
 * not resume Lua nor free the client; it may call kcl_http_cancel (the
 * transfer stops) and kcl_http_send. An attempt that streamed any bytes is
 * never retried (they cannot be taken back). */
typedef int (*kcl_http_data_fn)(const char *data, size_t len, void *ud);

typedef void (*kcl_http_done_fn)(kcl_http_resp *resp, void *ud);

typedef struct kcl_http_opts {
    const char *method;            /* "GET", "POST", "PUT", ... */
    const char *url;
    const char *const *headers;    /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;              /* copied; may be NULL */
    size_t      body_len;
    long        timeout_ms;        /* whole attempt; 0 means 30000 */
    long        connect_timeout_ms;/* 0 means 5000 */
    int         http2;             /* negotiate HTTP/2 (TLS ALPN, or prior knowledge on http://) */
    int         insecure;          /* skip TLS verification (explicit local endpoints only) */
    kcl_retry_policy     retry;
    kcl_http_prepare_fn  prepare;  /* optional */
    kcl_http_classify_fn classify; /* optional */
    kcl_http_data_fn     on_data;  /* optional */
    void       *hook_ud;           /* passed to prepare/classify/on_data */
    size_t      max_body;          /* cap on a buffered response body; 0 means 64 MiB.
                                      Past it the request fails with KCL_ERR_MALFORMED. */
} kcl_http_opts;

/* A client on `loop`. Returns NULL and fills `err` when libcurl cannot do
 * asynchronous DNS or cannot be initialised. */
kcl_http *kcl_http_new(struct ev_loop *loop, kcl_error *err);
/* Cancel every request still in flight (no callbacks) and free the client.
 * Not to be called from inside one of its own callbacks. */
void kcl_http_free(kcl_http *h);

/* Start a request. Returns a handle valid until the callback returns (or
 * until kcl_http_cancel), or NULL on immediate failure with `err` filled
 * (nothing is called back then). The response passed to `done` is owned by
 * the client and freed after `done` returns. */
kcl_http_req *kcl_http_send(kcl_http *h, const kcl_http_opts *opts,
                            kcl_http_done_fn done, void *ud, kcl_error *err);
/* Stop a request; its callback will not be called, and its memory is
 * released at once or, when one of its hooks is on the stack, as soon as that
 * returns. Safe from any callback, including the request's own hooks and
 * on_data, and at any stage (waiting to start, in flight, in backoff, its
 * completion queued). A no-op inside the request's own done callback, and
 * twice in a row. The handle must not be used after the callback returned. */
void kcl_http_cancel(kcl_http_req *req);

/* Requests sent whose callback is still to come (cancelled ones do not
 * count). For leak checks in tests. */
int kcl_http_pending(const kcl_http *h);

/* A response header's value (case-insensitive name, the first one if
 * repeated, surrounding blanks trimmed), copied into out (truncated to fit,
 * always NUL-terminated). Returns 0, or -1 if absent. Only the headers of the
 * final response are kept (a 100 Continue's are dropped). */
int kcl_http_resp_header(const kcl_http_resp *resp, const char *name, char *out, size_t outlen);

#endif
