#include "aws.h"

#include "credentials.h"
#include "json.h"
#include "log.h"
#include "sigv4.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct kcl_aws_client {
    struct ev_loop *loop;
    kcl_http *http;
    kcl_creds_provider *creds;
    kcl_sigv4_signer *signer;
    char *service, *endpoint, *region, *target_prefix, *content_type;
    char *host;                     /* Host header value, from the endpoint */
    char *url;                      /* endpoint with the "/" path */
    int insecure_tls;
    long timeout_ms;
    kcl_retry_policy retry;
    kcl_aws_call *calls;            /* in flight, doubly linked */
    int ncalls;
};

struct kcl_aws_call {
    kcl_aws_client *client;
    kcl_aws_call *prev, *next;
    char target[128];
    char *body;
    size_t body_len;
    char payload_sha256[65];
    long timeout_ms;
    kcl_retry_policy retry;
    kcl_creds_wait *creds_wait;
    kcl_http_req *req;
    kcl_credentials creds;          /* the set this call signs with (wiped on free) */
    kcl_sigv4_result sig;
    kcl_aws_done_fn done;
    void *ud;
};

/* ---- error typing (pure) ---------------------------------------------------- */

static const struct { const char *type; kcl_err_kind kind; } error_types[] = {
    {"ProvisionedThroughputExceededException", KCL_ERR_THROTTLED},
    {"ThrottlingException", KCL_ERR_THROTTLED},
    {"Throttling", KCL_ERR_THROTTLED},
    {"ThrottledException", KCL_ERR_THROTTLED},
    {"LimitExceededException", KCL_ERR_THROTTLED},
    {"RequestLimitExceeded", KCL_ERR_THROTTLED},
    {"TooManyRequestsException", KCL_ERR_THROTTLED},
    {"KMSThrottlingException", KCL_ERR_THROTTLED},
    {"SlowDown", KCL_ERR_THROTTLED},
    {"ExpiredIteratorException", KCL_ERR_EXPIRED_ITERATOR},
    {"ResourceNotFoundException", KCL_ERR_NOT_FOUND},
    {"ResourceInUseException", KCL_ERR_IN_USE},
    {"ConditionalCheckFailedException", KCL_ERR_CONDITION_FAILED},
    {"AccessDeniedException", KCL_ERR_ACCESS_DENIED},
    {"AccessDenied", KCL_ERR_ACCESS_DENIED},
    {"UnrecognizedClientException", KCL_ERR_ACCESS_DENIED},
    {"InvalidSignatureException", KCL_ERR_ACCESS_DENIED},
    {"SignatureDoesNotMatch", KCL_ERR_ACCESS_DENIED},
    {"IncompleteSignatureException", KCL_ERR_ACCESS_DENIED},
    {"IncompleteSignature", KCL_ERR_ACCESS_DENIED},
    {"MissingAuthenticationTokenException", KCL_ERR_ACCESS_DENIED},
    {"MissingAuthenticationToken", KCL_ERR_ACCESS_DENIED},
    {"ExpiredTokenException", KCL_ERR_ACCESS_DENIED},
    {"ExpiredToken", KCL_ERR_ACCESS_DENIED},
    {"InvalidClientTokenId", KCL_ERR_ACCESS_DENIED},
    {"KMSAccessDeniedException", KCL_ERR_ACCESS_DENIED},
    {"ValidationException", KCL_ERR_INVALID_ARGUMENT},
    {"InvalidArgumentException", KCL_ERR_INVALID_ARGUMENT},
    {"SerializationException", KCL_ERR_INVALID_ARGUMENT},
    {"ExpiredNextTokenException", KCL_ERR_INVALID_ARGUMENT},
    {"MissingParameter", KCL_ERR_INVALID_ARGUMENT},
    {"InvalidParameterValue", KCL_ERR_INVALID_ARGUMENT},
    {"InternalFailure", KCL_ERR_RETRYABLE},
    {"InternalFailureException", KCL_ERR_RETRYABLE},
    {"InternalServerError", KCL_ERR_RETRYABLE},
    {"InternalServerErrorException", KCL_ERR_RETRYABLE},
    {"ServiceUnavailable", KCL_ERR_RETRYABLE},
    {"ServiceUnavailableException", KCL_ERR_RETRYABLE},
    {"TransactionInProgressException", KCL_ERR_RETRYABLE},
    {"RequestTimeout", KCL_ERR_RETRYABLE},
    {"RequestTimeoutException", KCL_ERR_RETRYABLE},
};

kcl_err_kind kcl_aws_error_kind(long status, const char *type)
{
    if (type && *type) {
        for (size_t i = 0; i < sizeof error_types / sizeof error_types[0]; i++)
            if (strcmp(type, error_types[i].type) == 0) return error_types[i].kind;
    }
    if (status >= 200 && status < 300) return KCL_ERR_NONE;
    if (status == 429) return KCL_ERR_THROTTLED;
    if (status >= 500) return KCL_ERR_RETRYABLE;
    if (status == 401 || status == 403) return KCL_ERR_ACCESS_DENIED;
    if (status == 404) return KCL_ERR_NOT_FOUND;
    if (status == 400 || status == 413) return KCL_ERR_INVALID_ARGUMENT;
    return KCL_ERR_FATAL;
}

/* "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException" and
 * "ValidationException:http://internal..." both name a bare type. */
static void bare_type(const char *in, char *out, size_t outlen)
{
    const char *hash = strrchr(in, '#');
    if (hash) in = hash + 1;
    size_t n = strcspn(in, ":");
    if (n >= outlen) n = outlen - 1;
    memcpy(out, in, n);
    out[n] = '\0';
}

/* Replace s[at, at+n) by `with` in the NUL-terminated s (with no longer than n). */
static void splice_out(char *s, size_t at, size_t n, const char *with)
{
    size_t wl = strlen(with), tail = strlen(s + at + n);
    memcpy(s + at, with, wl);
    memmove(s + at + wl, s + at + n, tail + 1);
}

/* An InvalidSignatureException / SignatureDoesNotMatch message quotes the
 * canonical request the server expected, signed headers included: the
 * x-amz-security-token line holds the session token (cut short when the
 * message is truncated, so the log's whole-secret masking misses it). */
static void scrub_token_headers(char *msg)
{
    static const char name[] = "x-amz-security-token";
    size_t nl = sizeof name - 1;
    for (char *p = msg; *p; p++) {
        if (strncasecmp(p, name, nl) != 0) continue;
        char *v = p + nl;
        while (*v == ' ' || *v == '\t' || *v == ':' || *v == '=') v++;
        size_t n = strcspn(v, "\r\n'\"&;, ");
        if (n > 3) splice_out(msg, (size_t)(v - msg), n, "***");
        p = v - 1;
    }
}

void kcl_aws_parse_error(long status, const char *body, size_t len, kcl_error *err)
{
    char type[96] = "", message[400] = "";
    kcl_json doc = {0};
    kcl_error perr;
    if (body && len && kcl_json_parse(&doc, body, len, 256, &perr) == 0) {
        kcl_jv root = kcl_json_root(&doc);
        char raw[160];
        if (kcl_json_str_copy(&doc, kcl_json_get(&doc, root, "__type"), raw, sizeof raw) == 0 ||
            kcl_json_str_copy(&doc, kcl_json_get(&doc, root, "code"), raw, sizeof raw) == 0)
            bare_type(raw, type, sizeof type);
        /* A long message is kept truncated (str_copy fills what fits even
         * when it reports -1), not dropped for the other spelling. */
        kcl_jv m = kcl_json_get(&doc, root, "message");
        if (kcl_json_type_of(&doc, m) != KCL_JSON_STRING) m = kcl_json_get(&doc, root, "Message");
        if (kcl_json_type_of(&doc, m) == KCL_JSON_STRING) kcl_json_str_copy(&doc, m, message, sizeof message);
    }
    kcl_json_free(&doc);
    scrub_token_headers(message);
    kcl_err_kind kind = kcl_aws_error_kind(status, type);
    if (kind == KCL_ERR_NONE) kind = KCL_ERR_MALFORMED;   /* error body with a 2xx status */
    if (!message[0]) {
        if (body && len && !type[0])
            snprintf(message, sizeof message, "HTTP %ld with a body that is not an AWS error", status);
        else
            snprintf(message, sizeof message, "HTTP %ld", status);
    }
    kcl_error_set(err, kind, status, type[0] ? type : NULL, "%s", message);
}

/* ---- the client ------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

kcl_aws_client *kcl_aws_client_new(struct ev_loop *loop, kcl_http *http,
                                   kcl_creds_provider *creds,
                                   const kcl_aws_client_opts *o, kcl_error *err)
{
    if (!loop || !http || !creds || !o || !o->service || !o->endpoint || !o->region ||
        !o->target_prefix || !o->content_type) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "aws client: loop, http, credentials, service, endpoint, region, "
                      "target prefix and content type are required");
        return NULL;
    }
    const char *scheme_end = strstr(o->endpoint, "://");
    if (!scheme_end || (strncmp(o->endpoint, "http://", 7) != 0 && strncmp(o->endpoint, "https://", 8) != 0)) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "endpoint '%s' is not an http:// or https:// URL", o->endpoint);
        return NULL;
    }
    const char *host = scheme_end + 3;
    size_t hostlen = strcspn(host, "/?#");
    if (hostlen == 0) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "endpoint '%s' has no host", o->endpoint);
        return NULL;
    }
    kcl_aws_client *c = calloc(1, sizeof *c);
    if (!c) goto oom;
    c->loop = loop;
    c->http = http;
    c->creds = creds;
    c->service = xstrdup(o->service);
    c->endpoint = xstrdup(o->endpoint);
    c->region = xstrdup(o->region);
    c->target_prefix = xstrdup(o->target_prefix);
    c->content_type = xstrdup(o->content_type);
    c->host = strndup(host, hostlen);
    c->url = malloc((size_t)(host - o->endpoint) + hostlen + 2);
    c->signer = kcl_sigv4_signer_new();
    if (!c->service || !c->endpoint || !c->region || !c->target_prefix || !c->content_type ||
        !c->host || !c->url || !c->signer) {
        kcl_aws_client_free(c);
        goto oom;
    }
    size_t prefix = (size_t)(host - o->endpoint) + hostlen;
    memcpy(c->url, o->endpoint, prefix);
    memcpy(c->url + prefix, "/", 2);
    c->insecure_tls = o->insecure_tls;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    c->retry = o->retry;
    if (c->insecure_tls && strncmp(o->endpoint, "https://", 8) == 0)
        KCL_WARN(NULL, "TLS verification is off for %s", c->url);
    return c;
oom:
    kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
    return NULL;
}

static void call_free(kcl_aws_call *call)
{
    kcl_aws_client *c = call->client;
    if (call->prev) call->prev->next = call->next;
    else c->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    c->ncalls--;
    kcl_credentials_wipe(&call->creds);
    kcl_sigv4_result_free(&call->sig);
    free(call->body);
    free(call);
}

void kcl_aws_call_cancel(kcl_aws_call *call)
{
    if (!call) return;
    if (call->creds_wait) kcl_creds_cancel(call->creds_wait);
    if (call->req) kcl_http_cancel(call->req);
    call_free(call);
}

void kcl_aws_client_free(kcl_aws_client *c)
{
    if (!c) return;
    while (c->calls) kcl_aws_call_cancel(c->calls);
    kcl_sigv4_signer_free(c->signer);
    free(c->service);
    free(c->endpoint);
    free(c->region);
    free(c->target_prefix);
    free(c->content_type);
    free(c->host);
    free(c->url);
    free(c);
}

int kcl_aws_client_pending(const kcl_aws_client *c)
{
    return c ? c->ncalls : 0;
}

/* ---- one call ----------------------------------------------------------------- */

static void finish(kcl_aws_call *call, const kcl_error *err, long status,
                   const char *body, size_t body_len, int attempts)
{
    kcl_aws_result res;
    memset(&res, 0, sizeof res);
    if (err) res.err = *err;
    res.status = status;
    res.body = body ? body : "";
    res.body_len = body ? body_len : 0;
    res.attempts = attempts;
    kcl_aws_done_fn done = call->done;
    void *ud = call->ud;
    call->req = NULL;
    call->creds_wait = NULL;
    call_free(call);
    done(&res, ud);
}

/* Sign this attempt with the current credentials and a fresh date. */
static int prepare_attempt(kcl_http_headers *h, int attempt, kcl_error *err, void *ud)
{
    kcl_aws_call *call = ud;
    kcl_aws_client *c = call->client;
    const kcl_credentials *now = kcl_creds_current(c->creds);
    if (now && now != &call->creds) call->creds = *now;

    kcl_sigv4_header in[3] = {
        {"Host", c->host},
        {"Content-Type", c->content_type},
        {"X-Amz-Target", call->target},
    };
    kcl_sigv4_creds sc = {call->creds.access_key_id, call->creds.secret_access_key,
                          call->creds.session_token[0] ? call->creds.session_token : NULL};
    kcl_sigv4_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/";
    req.headers = in;
    req.nheaders = 3;
    req.body = call->body;
    req.body_len = call->body_len;
    req.payload_sha256 = call->payload_sha256;
    req.region = c->region;
    req.service = c->service;
    req.epoch_s = (int64_t)time(NULL);
    req.normalize_path = 1;
    if (kcl_sigv4_signer_sign(c->signer, &sc, &req, &call->sig, err) != 0) return -1;

    kcl_buf line = KCL_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        kcl_buf_reset(&line);
        kcl_buf_printf(&line, "%s: %s", in[i].name, in[i].value);
        rc = kcl_http_header_add(h, kcl_buf_cstr(&line));
    }
    for (size_t i = 0; i < call->sig.nheaders && rc == 0; i++) {
        kcl_buf_reset(&line);
        kcl_buf_printf(&line, "%s: %s", call->sig.headers[i].name, call->sig.headers[i].value);
        rc = kcl_http_header_add(h, kcl_buf_cstr(&line));
    }
    /* the request line holds a secret-derived signature only; still wipe it */
    if (line.data) memset(line.data, 0, line.cap);
    kcl_buf_free(&line);
    if (rc != 0) kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory adding headers");
    (void)attempt;
    return rc;
}

/* Mask `secret` in msg, and any run of 12+ of its leading characters (a
 * copy cut short by a truncated server message). */
static void mask_secret_prefix(char *msg, const char *secret)
{
    size_t sl = strlen(secret);
    if (sl < 12) return;
    for (char *p = msg; *p; p++) {
        size_t n = 0;
        while (n < sl && p[n] && p[n] == secret[n]) n++;
        if (n >= 12) {
            splice_out(msg, (size_t)(p - msg), n, "***");
            p += 2;
        }
    }
}

/* Secrets never reach a message: whatever the server echoed is masked. */
static void redact_message(char *msg, const kcl_credentials *c)
{
    scrub_token_headers(msg);
    mask_secret_prefix(msg, c->session_token);
    mask_secret_prefix(msg, c->secret_access_key);
}

/* Decide an attempt's fate from AWS's answer. */
static int classify_attempt(kcl_http_resp *resp, kcl_error *err, void *ud)
{
    kcl_aws_call *call = ud;
    if (resp->status == 0) {
        /* No response: http.c's default decision stands (certificate
         * failures and bad URLs are fatal; connection faults retryable). */
        return err->kind == KCL_ERR_NETWORK || err->kind == KCL_ERR_RETRYABLE;
    }
    if (resp->status >= 200 && resp->status < 300) {
        kcl_error_clear(err);
        return 0;
    }
    kcl_aws_parse_error(resp->status, resp->body.data, resp->body.len, err);
    redact_message(err->message, &call->creds);
    return kcl_err_kind_retryable(err->kind);
}

static void on_http_done(kcl_http_resp *resp, void *ud)
{
    kcl_aws_call *call = ud;
    call->req = NULL;
    kcl_error err = resp->err;
    if (err.kind == KCL_ERR_NONE && (resp->status < 200 || resp->status >= 300))
        kcl_aws_parse_error(resp->status, resp->body.data, resp->body.len, &err);
    if (err.kind != KCL_ERR_NONE) {
        redact_message(err.message, &call->creds);
        /* Say which operation failed; keep the server's words (truncated to fit). */
        kcl_buf msg = KCL_BUF_INIT;
        kcl_buf_printf(&msg, "%s: %s", call->target, err.message);
        size_t n = msg.len < sizeof err.message - 1 ? msg.len : sizeof err.message - 1;
        if (msg.data) memcpy(err.message, msg.data, n);
        err.message[n] = '\0';
        kcl_buf_free(&msg);
    }
    finish(call, err.kind == KCL_ERR_NONE ? NULL : &err, resp->status,
           resp->body.data, resp->body.len, resp->attempts);
}

/* Hand the call to http. Returns 0, or -1 with `err` filled (nothing sent). */
static int send_now(kcl_aws_call *call, kcl_error *err)
{
    kcl_aws_client *c = call->client;
    kcl_http_opts o;
    memset(&o, 0, sizeof o);
    o.method = "POST";
    o.url = c->url;
    o.body = call->body;
    o.body_len = call->body_len;
    o.timeout_ms = call->timeout_ms;
    o.insecure = c->insecure_tls;
    o.retry = call->retry;
    o.prepare = prepare_attempt;
    o.classify = classify_attempt;
    o.hook_ud = call;
    call->req = kcl_http_send(c->http, &o, on_http_done, call, err);
    return call->req ? 0 : -1;
}

static void on_creds(const kcl_credentials *creds, const kcl_error *err, void *ud)
{
    kcl_aws_call *call = ud;
    call->creds_wait = NULL;
    if (!creds) {
        kcl_error e = *err;
        finish(call, &e, 0, NULL, 0, 0);
        return;
    }
    call->creds = *creds;
    kcl_error e;
    kcl_error_clear(&e);
    if (send_now(call, &e) != 0) finish(call, &e, 0, NULL, 0, 0);
}

kcl_aws_call *kcl_aws_call_start(kcl_aws_client *c, const char *operation,
                                 const char *json, size_t json_len,
                                 const kcl_aws_call_opts *opts,
                                 kcl_aws_done_fn done, void *ud, kcl_error *err)
{
    if (!c || !operation || !done || (!json && json_len)) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "aws call: missing arguments");
        return NULL;
    }
    kcl_aws_call *call = calloc(1, sizeof *call);
    if (!call) goto oom;
    call->client = c;
    call->next = c->calls;
    if (c->calls) c->calls->prev = call;
    c->calls = call;
    c->ncalls++;
    snprintf(call->target, sizeof call->target, "%s.%s", c->target_prefix, operation);
    call->body = malloc(json_len + 1);
    if (!call->body) { call_free(call); goto oom; }
    if (json_len) memcpy(call->body, json, json_len);
    call->body[json_len] = '\0';
    call->body_len = json_len;
    if (kcl_sigv4_sha256_hex(call->body, json_len, call->payload_sha256) != 0) {
        call_free(call);
        goto oom;
    }
    call->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : c->timeout_ms;
    call->retry = opts && opts->retry.max_attempts > 0 ? opts->retry : c->retry;
    call->done = done;
    call->ud = ud;

    const kcl_credentials *now = kcl_creds_current(c->creds);
    if (now) {
        call->creds = *now;
            /* kcl_http_send never completes synchronously */
        if (send_now(call, err) != 0) { call_free(call); return NULL; }
        return call;
    }
    call->creds_wait = kcl_creds_get(c->creds, on_creds, call);
    if (!call->creds_wait) { call_free(call); goto oom; }
    return call;
oom:
    kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
    return NULL;
}
