/* cli — what the `luakcl` subcommands share: the AWS clients built from a
 * kcl_config (region, endpoints, credentials chain), a blocking "wait on the
 * loop" for one-shot commands, and the stream administration commands
 * (create-stream, delete-stream).
 *
 * The subcommands are short-lived programs: they start an operation and run
 * the loop until it is done (kcl_cli_wait). Nothing here calls exit(). */
#ifndef KCL_CLI_H
#define KCL_CLI_H

#include "config.h"
#include "credentials.h"
#include "dynamodb.h"
#include "http.h"
#include "kinesis.h"

#include <stddef.h>

struct ev_loop;

typedef struct kcl_cli {
    struct ev_loop     *loop;      /* borrowed */
    const kcl_config   *cfg;       /* borrowed */
    kcl_http           *http;
    kcl_creds_provider *creds;
    kcl_kinesis        *kin;       /* NULL unless asked for */
    kcl_ddb            *ddb;       /* NULL unless asked for */
    char region[64];
    char kinesis_url[512];
    char dynamodb_url[512];
} kcl_cli;

/* Build the clients (Kinesis with want_kinesis, DynamoDB with want_ddb).
 * The region comes from cfg->region, the environment or the profile; the
 * endpoints from cfg or the AWS_ENDPOINT_URL* rules. --insecure-tls is
 * refused (-1) unless every endpoint used is given explicitly and is on a
 * loopback host. 0, or -1 with a one-line reason
 * in err (cli is then closed). Credentials are never printed. */
int kcl_cli_open(kcl_cli *cli, struct ev_loop *loop, const kcl_config *cfg, int want_kinesis,
                 int want_ddb, char *err, size_t errlen);
/* Free the clients (anything in flight is cancelled). */
void kcl_cli_close(kcl_cli *cli);

/* Run the loop until *done is non-zero. */
void kcl_cli_wait(kcl_cli *cli, const int *done);

/* CreateStream with cfg->shards, then wait until the stream is ACTIVE
 * (polling DescribeStreamSummary, at most timeout_ms). 0 or -1 + err. */
int kcl_cli_create_stream(kcl_cli *cli, const char *stream, int shards, double timeout_ms,
                          char *err, size_t errlen);
/* DeleteStream, then wait until DescribeStreamSummary says it is gone (at
 * most timeout_ms). 0 or -1 + err. */
int kcl_cli_delete_stream(kcl_cli *cli, const char *stream, double timeout_ms, char *err, size_t errlen);

/* Sleep `ms` on the loop (other watchers keep running). */
void kcl_cli_sleep(kcl_cli *cli, double ms);

#endif
