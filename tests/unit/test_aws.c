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
    CHECK_EQ_STR(kcl_err_kind_name(KCL_ERR_EXPIRED_ITERATOR), "expired_iterator");
    CHECK(kcl_err_kind_retryable(KCL_ERR_THROTTLED));
    CHECK(!kcl_err_kind_retryable(KCL_ERR_CONDITION_FAILED));
    return TEST_END();
}
