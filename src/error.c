#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [KCL_ERR_NONE] = "none",
    [KCL_ERR_THROTTLED] = "throttled",
    [KCL_ERR_EXPIRED_ITERATOR] = "expired_iterator",
    [KCL_ERR_NOT_FOUND] = "not_found",
    [KCL_ERR_IN_USE] = "in_use",
    [KCL_ERR_CONDITION_FAILED] = "condition_failed",
    [KCL_ERR_ACCESS_DENIED] = "access_denied",
    [KCL_ERR_INVALID_ARGUMENT] = "invalid_argument",
    [KCL_ERR_RETRYABLE] = "retryable",
    [KCL_ERR_NETWORK] = "network",
    [KCL_ERR_MALFORMED] = "malformed",
    [KCL_ERR_CANCELLED] = "cancelled",
    [KCL_ERR_FATAL] = "fatal",
};

const char *kcl_err_kind_name(kcl_err_kind kind)
{
    return (unsigned)kind <= KCL_ERR_FATAL ? names[kind] : "unknown";
}

int kcl_err_kind_retryable(kcl_err_kind kind)
{
    return kind == KCL_ERR_THROTTLED || kind == KCL_ERR_RETRYABLE || kind == KCL_ERR_NETWORK;
}

void kcl_error_set(kcl_error *e, kcl_err_kind kind, long http_status, const char *code,
                   const char *fmt, ...)
{
    if (!e) return;
    e->kind = kind;
    e->http_status = http_status;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void kcl_error_clear(kcl_error *e)
{
    if (!e) return;
    memset(e, 0, sizeof *e);
}
