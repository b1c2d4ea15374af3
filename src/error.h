/* error — the typed errors every AWS call and every layer above reports.
 * Callers branch on `kind`, never on strings; `code` and `message` are the
 * server's words (or ours) for logs. Messages never contain secrets. */
#ifndef KCL_ERROR_H
#define KCL_ERROR_H

typedef enum {
    KCL_ERR_NONE = 0,
    KCL_ERR_THROTTLED,          /* ProvisionedThroughputExceeded, Throttling, LimitExceeded, RequestLimitExceeded */
    KCL_ERR_EXPIRED_ITERATOR,   /* ExpiredIteratorException */
    KCL_ERR_NOT_FOUND,          /* ResourceNotFoundException */
    KCL_ERR_IN_USE,             /* ResourceInUseException */
    KCL_ERR_CONDITION_FAILED,   /* ConditionalCheckFailedException */
    KCL_ERR_ACCESS_DENIED,      /* AccessDenied, UnrecognizedClient, InvalidSignature, ExpiredToken, ... */
    KCL_ERR_INVALID_ARGUMENT,   /* ValidationException, InvalidArgumentException, SerializationException */
    KCL_ERR_RETRYABLE,          /* 5xx, InternalFailure, ServiceUnavailable: still failing after retries */
    KCL_ERR_NETWORK,            /* connect/reset/timeout/DNS: still failing after retries */
    KCL_ERR_MALFORMED,          /* the response could not be understood */
    KCL_ERR_CANCELLED,          /* the caller cancelled */
    KCL_ERR_FATAL               /* anything else: not worth retrying */
} kcl_err_kind;

typedef struct kcl_error {
    kcl_err_kind kind;
    long http_status;     /* 0 when no response arrived */
    char code[96];        /* e.g. "ProvisionedThroughputExceededException" */
    char message[416];
} kcl_error;

/* "throttled", "expired_iterator", ... (stable names for logs and Lua). */
const char *kcl_err_kind_name(kcl_err_kind kind);
/* Whether a failure of this kind is worth another attempt later. */
int kcl_err_kind_retryable(kcl_err_kind kind);
/* Fill `e` (message formatted with printf rules, truncated to fit). */
void kcl_error_set(kcl_error *e, kcl_err_kind kind, long http_status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void kcl_error_clear(kcl_error *e);

#endif
