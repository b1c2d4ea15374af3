/* test_cli — kcl_cli_open's guard on --insecure-tls: TLS verification is
 * only skipped for explicit endpoints on a loopback host (README: "Running
 * against AWS"), for the one-shot commands as for run. */
#include "cli.h"
#include "config.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

static int open_with(struct ev_loop *loop, const char *kin, const char *ddb, int insecure,
                     int want_kin, int want_ddb, char *err, size_t errlen)
{
    kcl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.region = "us-east-1";
    cfg.endpoint = (char *)kin;
    cfg.dynamodb_endpoint = (char *)ddb;
    cfg.insecure_tls = insecure;
    kcl_cli cli;
    err[0] = 0;
    int rc = kcl_cli_open(&cli, loop, &cfg, want_kin, want_ddb, err, errlen);
    if (rc == 0) kcl_cli_close(&cli);
    return rc;
}

int main(void)
{
    struct ev_loop *loop = ev_loop_new(0);
    char err[512];
    for (int round = 0; round < 2; round++) {   /* twice: no state left over */
        /* loopback endpoints: allowed */
        CHECK_MSG(open_with(loop, "https://127.0.0.1:4567", NULL, 1, 1, 0, err, sizeof err) == 0, "%s", err);
        CHECK_MSG(open_with(loop, "https://localhost:4567", "https://[::1]:4568", 1, 1, 1, err, sizeof err) == 0,
                  "%s", err);
        /* an explicit remote endpoint: refused */
        CHECK(open_with(loop, "https://kinesis.us-east-1.amazonaws.com", NULL, 1, 1, 0, err, sizeof err) != 0);
        CHECK(strstr(err, "insecure-tls") != NULL);
        CHECK(open_with(loop, "https://127.0.0.1.evil.example", NULL, 1, 1, 0, err, sizeof err) != 0);
        CHECK(open_with(loop, "https://localhost:1@evil.example", NULL, 1, 1, 0, err, sizeof err) != 0);
        /* the endpoint the command uses but did not name: refused */
        unsetenv("AWS_ENDPOINT_URL");
        unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
        CHECK(open_with(loop, "https://127.0.0.1:4567", NULL, 1, 1, 1, err, sizeof err) != 0);
        /* a remote DynamoDB endpoint next to a local Kinesis one: refused */
        CHECK(open_with(loop, "https://127.0.0.1:4567", "https://dynamodb.example.com", 1, 1, 1, err,
                        sizeof err) != 0);
        /* without --insecure-tls anything goes */
        CHECK_MSG(open_with(loop, "https://kinesis.us-east-1.amazonaws.com", NULL, 0, 1, 0, err, sizeof err) == 0,
                  "%s", err);
    }
    ev_loop_destroy(loop);
    return TEST_END();
}
