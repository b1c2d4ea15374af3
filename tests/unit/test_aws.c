/* The pure half of aws.c: how AWS's answers become typed errors. */
#include "aws.h"
#include "testlib.h"

static kcl_err_kind kind_of(long status, const char *body)
{
    kcl_error e;
    kcl_aws_parse_error(status, body, body ? strlen(body) : 0, &e);
    return e.kind;
}

int main(void)
{
    /* every class the callers branch on */
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"Rate exceeded\"}"), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\"}"), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"LimitExceededException\"}"), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#RequestLimitExceeded\"}"), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"ExpiredIteratorException\",\"message\":\"Iterator expired\"}"), KCL_ERR_EXPIRED_ITERATOR);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"ResourceNotFoundException\"}"), KCL_ERR_NOT_FOUND);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceInUseException\"}"), KCL_ERR_IN_USE);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\",\"message\":\"The conditional request failed\"}"), KCL_ERR_CONDITION_FAILED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"UnrecognizedClientException\"}"), KCL_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(kind_of(403, "{\"__type\":\"InvalidSignatureException\"}"), KCL_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"com.amazon.coral.validate#ValidationException\"}"), KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":\"ValidationException:http://internal.amazon.com/coral/\"}"), KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kind_of(500, "{\"__type\":\"InternalFailure\"}"), KCL_ERR_RETRYABLE);
    CHECK_EQ_INT(kind_of(503, "<html>Service Unavailable</html>"), KCL_ERR_RETRYABLE);
    CHECK_EQ_INT(kind_of(429, NULL), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(kind_of(403, "not json"), KCL_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(kind_of(418, "{\"__type\":\"SomethingNew\"}"), KCL_ERR_FATAL);
    /* malformed and hostile bodies still give a typed error */
    CHECK_EQ_INT(kind_of(400, "{\"__type\":"), KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kind_of(400, "{\"__type\":12}"), KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kind_of(400, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]"), KCL_ERR_INVALID_ARGUMENT);

    kcl_error e;
    const char *b = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\",\"Message\":\"The conditional request failed\"}";
    kcl_aws_parse_error(400, b, strlen(b), &e);
    CHECK_EQ_STR(e.code, "ConditionalCheckFailedException");
    CHECK_EQ_STR(e.message, "The conditional request failed");
    CHECK_EQ_INT(e.http_status, 400);
    kcl_aws_parse_error(502, "", 0, &e);
    CHECK_EQ_STR(e.message, "HTTP 502");
    /* InvalidSignatureException quotes the expected canonical request, whose
     * x-amz-security-token line is the session token (here cut short by the
     * message's size, so whole-secret masking in the log would miss it). */
    const char *sig =
        "{\"__type\":\"InvalidSignatureException\",\"message\":\"The request signature we calculated does not "
        "match the signature you provided.\\n\\nThe Canonical String for this request should have been\\n'POST\\n/"
        "\\n\\ncontent-type:application/x-amz-json-1.0\\nhost:dynamodb.us-east-1.amazonaws.com\\n"
        "x-amz-date:20240101T000000Z\\nX-Amz-Security-Token:IQoJb3JpZ2luX2VjEXAMPLETOKENxyzSECRETSECRETSECRETSECRET"
        "SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRET"
        "SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRET\\nx-amz-target:"
        "DynamoDB_20120810.GetItem\\n'\"}";
    kcl_aws_parse_error(400, sig, strlen(sig), &e);
    CHECK_EQ_INT(e.kind, KCL_ERR_ACCESS_DENIED);
    CHECK_MSG(strstr(e.message, "IQoJb3JpZ2lu") == NULL && strstr(e.message, "SECRET") == NULL, "%s", e.message);
    CHECK_MSG(strstr(e.message, "X-Amz-Security-Token:***") != NULL, "%s", e.message);
    /* the long message is kept (truncated), not replaced by "HTTP 400" */
    CHECK_MSG(strncmp(e.message, "The request signature we calculated", 35) == 0, "%s", e.message);
    CHECK_EQ_STR(kcl_err_kind_name(KCL_ERR_EXPIRED_ITERATOR), "expired_iterator");
    CHECK(kcl_err_kind_retryable(KCL_ERR_THROTTLED));
    CHECK(!kcl_err_kind_retryable(KCL_ERR_CONDITION_FAILED));
    return TEST_END();
}
