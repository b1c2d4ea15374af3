/* cli — shared setup of the luakcl subcommands, and create/delete-stream. */
#include "cli.h"
#include "aws_config.h"
#include "clock.h"
#include "log.h"

#include <ev.h>
#include <stdio.h>
#include <string.h>

void kcl_cli_close(kcl_cli *cli)
{
    if (cli->kin) kcl_kinesis_free(cli->kin);
    if (cli->ddb) kcl_ddb_free(cli->ddb);
    if (cli->creds) kcl_creds_provider_free(cli->creds);
    if (cli->http) kcl_http_free(cli->http);
    cli->kin = NULL;
    cli->ddb = NULL;
    cli->creds = NULL;
    cli->http = NULL;
}

int kcl_cli_open(kcl_cli *cli, struct ev_loop *loop, const kcl_config *cfg, int want_kinesis,
                 int want_ddb, char *err, size_t errlen)
{
    memset(cli, 0, sizeof *cli);
    cli->loop = loop;
    cli->cfg = cfg;
    if (kcl_region_resolve(cfg->region, cfg->profile, cli->region, sizeof cli->region) != 0) {
        if (cfg->region)
            snprintf(err, errlen, "--region: invalid region '%s'", cfg->region);
        else
            snprintf(err, errlen, "no AWS region: give --region, AWS_REGION or a profile with a region");
        return -1;
    }
    if (want_kinesis &&
        kcl_endpoint_resolve("kinesis", cfg->endpoint, cli->region, cli->kinesis_url, sizeof cli->kinesis_url) != 0) {
        snprintf(err, errlen, "no Kinesis endpoint for region %s", cli->region);
        return -1;
    }
    if (want_ddb && kcl_endpoint_resolve("dynamodb", cfg->dynamodb_endpoint, cli->region, cli->dynamodb_url,
                                         sizeof cli->dynamodb_url) != 0) {
        snprintf(err, errlen, "no DynamoDB endpoint for region %s", cli->region);
        return -1;
    }
    /* As for run (worker.c): TLS verification is only ever skipped for an
     * explicit endpoint on a loopback host, never for AWS or a remote server. */
    if (cfg->insecure_tls &&
        ((want_kinesis && !(cfg->endpoint && kcl_url_host_is_local(cli->kinesis_url, 0))) ||
         (want_ddb && !(cfg->dynamodb_endpoint && kcl_url_host_is_local(cli->dynamodb_url, 0))))) {
        snprintf(err, errlen, "--insecure-tls is only allowed with explicit loopback endpoints");
        return -1;
    }
    kcl_error e;
    kcl_error_clear(&e);
    if (!(cli->http = kcl_http_new(loop, &e))) {
        snprintf(err, errlen, "http: %s", e.message);
        return -1;
    }
    kcl_creds_config cc = {.loop = loop, .http = cli->http, .profile = cfg->profile, .region = cli->region};
    if (!(cli->creds = kcl_creds_provider_new(&cc, &e))) {
        snprintf(err, errlen, "credentials: %s", e.message);
        kcl_cli_close(cli);
        return -1;
    }
    if (want_kinesis) {
        kcl_kinesis_opts ko = {.endpoint = cli->kinesis_url, .region = cli->region,
                               .insecure_tls = cfg->insecure_tls};
        if (!(cli->kin = kcl_kinesis_new(loop, cli->http, cli->creds, &ko, &e))) {
            snprintf(err, errlen, "kinesis client: %s", e.message);
            kcl_cli_close(cli);
            return -1;
        }
    }
    if (want_ddb) {
        kcl_ddb_opts dopts = {.endpoint = cli->dynamodb_url, .region = cli->region,
                              .insecure_tls = cfg->insecure_tls};
        if (!(cli->ddb = kcl_ddb_new(loop, cli->http, cli->creds, &dopts, &e))) {
            snprintf(err, errlen, "dynamodb client: %s", e.message);
            kcl_cli_close(cli);
            return -1;
        }
    }
    return 0;
}

void kcl_cli_wait(kcl_cli *cli, const int *done)
{
    while (!*done) ev_run(cli->loop, EVRUN_ONCE);
}

static void sleep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    *(int *)t->data = 1;
}

void kcl_cli_sleep(kcl_cli *cli, double ms)
{
    int done = 0;
    ev_timer t;
    ev_timer_init(&t, sleep_cb, ms / 1000.0, 0);
    t.data = &done;
    ev_timer_start(cli->loop, &t);
    kcl_cli_wait(cli, &done);
    ev_timer_stop(cli->loop, &t);
}

/* ---- stream administration ------------------------------------------------------- */

typedef struct admin_wait {
    int done;
    kcl_error err;
    kcl_kinesis_stream_status status;
} admin_wait;

static void on_done(const kcl_error *err, void *ud)
{
    admin_wait *w = ud;
    w->err = *err;
    w->done = 1;
}

static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    admin_wait *w = ud;
    w->err = *err;
    w->status = s ? s->status : KCL_STREAM_UNKNOWN;
    w->done = 1;
}

static int describe(kcl_cli *cli, const char *stream, admin_wait *w, char *err, size_t errlen)
{
    kcl_error e;
    memset(w, 0, sizeof *w);
    if (!kcl_kinesis_describe_stream_summary(cli->kin, stream, NULL, on_summary, w, &e)) {
        snprintf(err, errlen, "DescribeStreamSummary %s: %s", stream, e.message);
        return -1;
    }
    kcl_cli_wait(cli, &w->done);
    return 0;
}

/* After CreateStream/DeleteStream: report the call's error, or poll
 * DescribeStreamSummary until the stream is ACTIVE (want_gone 0) or gone
 * (want_gone 1), within timeout_ms. */
static int await_stream(kcl_cli *cli, const char *op, const char *stream, admin_wait *w, int want_gone,
                        double timeout_ms, char *err, size_t errlen)
{
    kcl_cli_wait(cli, &w->done);
    if (w->err.kind != KCL_ERR_NONE) {
        snprintf(err, errlen, "%s %s: %s%s%s", op, stream, w->err.code, w->err.code[0] ? ": " : "",
                 w->err.message);
        return -1;
    }
    int64_t deadline = kcl_clock_mono_ms() + (int64_t)timeout_ms;
    double delay = 50;
    for (;;) {
        if (describe(cli, stream, w, err, errlen) != 0) return -1;
        if (want_gone ? w->err.kind == KCL_ERR_NOT_FOUND
                      : w->err.kind == KCL_ERR_NONE && w->status == KCL_STREAM_ACTIVE)
            return 0;
        if (w->err.kind != KCL_ERR_NONE && (want_gone || w->err.kind != KCL_ERR_NOT_FOUND)) {
            snprintf(err, errlen, "DescribeStreamSummary %s: %s", stream, w->err.message);
            return -1;
        }
        if (kcl_clock_mono_ms() > deadline) {
            snprintf(err, errlen, want_gone ? "stream %s still exists after %.0f s"
                                            : "stream %s is not ACTIVE after %.0f s",
                     stream, timeout_ms / 1000);
            return -1;
        }
        kcl_cli_sleep(cli, delay);
        if (delay < 2000) delay *= 2;
    }
}

int kcl_cli_create_stream(kcl_cli *cli, const char *stream, int shards, double timeout_ms,
                          char *err, size_t errlen)
{
    admin_wait w = {0};
    kcl_error e;
    if (!kcl_kinesis_create_stream(cli->kin, stream, shards, NULL, on_done, &w, &e)) {
        snprintf(err, errlen, "CreateStream %s: %s", stream, e.message);
        return -1;
    }
    return await_stream(cli, "CreateStream", stream, &w, 0, timeout_ms, err, errlen);
}

int kcl_cli_delete_stream(kcl_cli *cli, const char *stream, double timeout_ms, char *err, size_t errlen)
{
    admin_wait w = {0};
    kcl_error e;
    if (!kcl_kinesis_delete_stream(cli->kin, stream, 0, NULL, on_done, &w, &e)) {
        snprintf(err, errlen, "DeleteStream %s: %s", stream, e.message);
        return -1;
    }
    return await_stream(cli, "DeleteStream", stream, &w, 1, timeout_ms, err, errlen);
}
