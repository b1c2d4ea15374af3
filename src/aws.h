/* aws — one call of an AWS JSON-protocol API (Kinesis: JSON 1.1, DynamoDB:
 * JSON 1.0): POST / with X-Amz-Target "<prefix>.<Operation>", the JSON body,
 * SigV4-signed anew for each attempt with the provider's current credentials,
 * sent through kcl_http with retries for throttling, 5xx and network faults,
 * and the answer classified into a typed kcl_error from the status and the
 * error body's "__type" — so callers never parse error strings.
 *
 * The typed clients (kinesis.h, dynamodb.h) build request bodies with
 * json.h's writer and decode kcl_aws_result.body with its reader. */
#ifndef KCL_AWS_H
#define KCL_AWS_H

#include "error.h"
#include "http.h"

#include <stddef.h>

struct ev_loop;
struct kcl_creds_provider;
typedef struct kcl_aws_client kcl_aws_client;
typedef struct kcl_aws_call kcl_aws_call;

typedef struct kcl_aws_client_opts {
    const char *service;        /* signing name: "kinesis", "dynamodb" */
    const char *endpoint;       /* "https://kinesis.us-east-1.amazonaws.com" or "http://127.0.0.1:4567" */
    const char *region;         /* "us-east-1" */
    const char *target_prefix;  /* "Kinesis_20131202", "DynamoDB_20120810" */
    const char *content_type;   /* "application/x-amz-json-1.1" / "application/x-amz-json-1.0" */
    int         insecure_tls;   /* skip TLS verification (explicit local endpoints only) */
    long        timeout_ms;     /* per attempt; 0 = 10000 */
    kcl_retry_policy retry;     /* zeros = http defaults */
} kcl_aws_client_opts;

/* The result handed to a call's callback; valid only during the callback. */
typedef struct kcl_aws_result {
    kcl_error   err;            /* KCL_ERR_NONE on success */
    long        status;         /* HTTP status, 0 if none */
    const char *body;           /* response body (NUL-terminated), "" if none */
    size_t      body_len;
    int         attempts;
} kcl_aws_result;

typedef void (*kcl_aws_done_fn)(const kcl_aws_result *res, void *ud);

/* Per-call overrides; NULL for the client's defaults. */
typedef struct kcl_aws_call_opts {
    long timeout_ms;            /* 0 = client default */
    kcl_retry_policy retry;     /* max_attempts 0 = client default */
} kcl_aws_call_opts;

/* A client for one service endpoint. Strings are copied. `creds` and `http`
 * are borrowed and must outlive the client. NULL + err on bad options. */
kcl_aws_client *kcl_aws_client_new(struct ev_loop *loop, kcl_http *http,
                                   struct kcl_creds_provider *creds,
                                   const kcl_aws_client_opts *opts, kcl_error *err);
/* Cancels every call in flight (no callbacks) and frees the client. */
void kcl_aws_client_free(kcl_aws_client *c);

/* Start `operation` (e.g. "GetRecords") with a JSON body (copied). The
 * callback runs exactly once, later (never inside this call), unless the call
 * is cancelled. Returns NULL + err if it cannot start. */
kcl_aws_call *kcl_aws_call_start(kcl_aws_client *c, const char *operation,
                                 const char *json, size_t json_len,
                                 const kcl_aws_call_opts *opts,
                                 kcl_aws_done_fn done, void *ud, kcl_error *err);
/* Stop a call; its callback will not run. Safe from any callback. */
void kcl_aws_call_cancel(kcl_aws_call *call);
/* Calls in flight (leak checks). */
int kcl_aws_client_pending(const kcl_aws_client *c);

/* Pure: the typed kind for an HTTP status and an AWS error type name (the
 * part after '#' of "__type", or the x-amzn-ErrorType header). */
kcl_err_kind kcl_aws_error_kind(long status, const char *type);
/* Pure: fill `err` from an error response (status + body). Malformed or
 * empty bodies still give a typed error from the status alone. */
void kcl_aws_parse_error(long status, const char *body, size_t len, kcl_error *err);

#endif
