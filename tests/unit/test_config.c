/* test_config — defaults, every option, precedence, each kind of error. */
#include "config.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[512];

static void clear_env(void)
{
    static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_DYNAMODB",
                                       "AWS_PROFILE", "LUAKCL_CONFIG", "LUAKCL_MAX_RECORDS",
                                       "LUAKCL_REGION", "LUAKCL_STREAM", "LUAKCL_APP", NULL};
    for (int i = 0; vars[i]; i++) unsetenv(vars[i]);
}

static int load(kcl_config *c, kcl_command cmd, int argc, char **argv)
{
    err[0] = 0;
    return kcl_config_load(c, cmd, argc, argv, err, sizeof err);
}

static const char *write_file(const char *text)
{
    static char path[64];
    static int n;
    snprintf(path, sizeof path, "/tmp/test_config_%d_%d.lua", (int)getpid(), n++);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

#define HAS(s, sub) CHECK_MSG(strstr((s), (sub)) != NULL, "'%s' not in '%s'", (sub), (s))

static void test_defaults(void)
{
    kcl_config c;
    kcl_config_defaults(&c);
    CHECK_EQ_INT(c.max_records, 10000);
    CHECK_EQ_INT(c.idle_time_ms, 1000);
    CHECK_EQ_INT(c.failover_time_ms, 10000);
    CHECK_EQ_INT(c.shard_sync_interval_ms, 60000);
    CHECK_EQ_INT(c.max_leases, 0);
    CHECK_EQ_INT(c.max_leases_to_steal, 1);
    CHECK_EQ_INT(c.on_error, KCL_ON_ERROR_RETRY);
    CHECK_EQ_INT(c.shutdown_grace_ms, 20000);
    CHECK_EQ_INT(c.initial_position, KCL_POS_LATEST);
    CHECK(c.stream == NULL && c.app == NULL && c.region == NULL);
    kcl_config_free(&c);
}

static void test_every_option(void)
{
    char *argv[] = {"proc.lua", "--stream", "s1", "--app=a1", "--table", "t1", "--worker-id", "w1",
                    "--region", "eu-west-1", "--endpoint", "http://127.0.0.1:1", "--dynamodb-endpoint",
                    "http://127.0.0.1:2", "--profile", "p1", "--insecure-tls", "--initial-position",
                    "TRIM_HORIZON", "--max-records", "500", "--idle-time-ms=250",
                    "--call-process-records-even-for-empty-list", "--kpl-hash-range-filter=true",
                    "--failover-time-ms", "5000", "--shard-sync-interval-ms", "2000", "--max-leases", "7",
                    "--max-leases-to-steal", "3", "--table-rcu", "5", "--table-wcu", "6", "--on-error",
                    "skip", "--shutdown-grace-ms", "1500", "--callback-budget-ms", "40",
                    "--lua-memory-limit-mb", "64", "--no-reload", "--log-level", "debug",
                    "--log-format", "json"};
    kcl_config c;
    clear_env();
    CHECK_MSG(load(&c, KCL_CMD_RUN, (int)(sizeof argv / sizeof *argv), argv) == 0, "%s", err);
    CHECK_EQ_STR(c.script, "proc.lua");
    CHECK_EQ_STR(c.stream, "s1");
    CHECK_EQ_STR(c.app, "a1");
    CHECK_EQ_STR(c.table, "t1");
    CHECK_EQ_STR(c.worker_id, "w1");
    CHECK_EQ_STR(c.region, "eu-west-1");
    CHECK_EQ_STR(c.endpoint, "http://127.0.0.1:1");
    CHECK_EQ_STR(c.dynamodb_endpoint, "http://127.0.0.1:2");
    CHECK_EQ_STR(c.profile, "p1");
    CHECK_EQ_INT(c.insecure_tls, 1);
    CHECK_EQ_INT(c.initial_position, KCL_POS_TRIM_HORIZON);
    CHECK_EQ_INT(c.max_records, 500);
    CHECK_EQ_INT(c.idle_time_ms, 250);
    CHECK_EQ_INT(c.call_process_records_even_for_empty_list, 1);
    CHECK_EQ_INT(c.kpl_hash_range_filter, 1);
    CHECK_EQ_INT(c.failover_time_ms, 5000);
    CHECK_EQ_INT(c.shard_sync_interval_ms, 2000);
    CHECK_EQ_INT(c.max_leases, 7);
    CHECK_EQ_INT(c.max_leases_to_steal, 3);
    CHECK_EQ_INT(c.table_rcu, 5);
    CHECK_EQ_INT(c.table_wcu, 6);
    CHECK_EQ_INT(c.provisioned_table, 1);
    CHECK_EQ_INT(c.on_error, KCL_ON_ERROR_SKIP);
    CHECK_EQ_INT(c.shutdown_grace_ms, 1500);
    CHECK_EQ_INT(c.callback_budget_ms, 40);
    CHECK_EQ_INT(c.lua_memory_limit, 64LL * 1024 * 1024);
    CHECK_EQ_INT(c.no_reload, 1);
    CHECK_EQ_STR(c.log_level, "debug");
    CHECK_EQ_STR(c.log_format, "json");

    kcl_config d;
    CHECK(kcl_config_copy(&d, &c) == 0);
    CHECK_EQ_STR(d.stream, "s1");
    CHECK(d.stream != c.stream);
    kcl_config_free(&d);
    kcl_config_free(&c);

    /* defaults derived by check: table := app, worker id generated */
    char *argv2[] = {"p.lua", "--stream", "s", "--app", "myapp"};
    CHECK_MSG(load(&c, KCL_CMD_RUN, 5, argv2) == 0, "%s", err);
    CHECK_EQ_STR(c.table, "myapp");
    CHECK(c.worker_id != NULL && strchr(c.worker_id, ':') != NULL);
    CHECK_EQ_INT(c.provisioned_table, 0);
    kcl_config_free(&c);

    /* put, status, create-stream, delete-stream options */
    char *argv3[] = {"--stream", "s", "--partition-key", "k", "--aggregate", "--null"};
    CHECK_MSG(load(&c, KCL_CMD_PUT, 6, argv3) == 0, "%s", err);
    CHECK_EQ_STR(c.partition_key, "k");
    CHECK_EQ_INT(c.aggregate, 1);
    CHECK_EQ_INT(c.null_separated, 1);
    CHECK_EQ_INT(c.random_keys, 0);
    kcl_config_free(&c);
    char *argv3b[] = {"--stream", "s"};
    CHECK(load(&c, KCL_CMD_PUT, 2, argv3b) == 0);
    CHECK_EQ_INT(c.random_keys, 1);
    kcl_config_free(&c);
    char *argv4[] = {"--app", "a", "--json", "--stream", "s"};
    CHECK_MSG(load(&c, KCL_CMD_STATUS, 5, argv4) == 0, "%s", err);
    CHECK_EQ_INT(c.json, 1);
    CHECK_EQ_STR(c.table, "a");
    kcl_config_free(&c);
    char *argv5[] = {"mystream", "--shards", "4"};
    CHECK_MSG(load(&c, KCL_CMD_CREATE_STREAM, 3, argv5) == 0, "%s", err);
    CHECK_EQ_STR(c.stream, "mystream");
    CHECK_EQ_INT(c.shards, 4);
    kcl_config_free(&c);
    char *argv6[] = {"gone"};
    CHECK(load(&c, KCL_CMD_DELETE_STREAM, 1, argv6) == 0);
    CHECK_EQ_STR(c.stream, "gone");
    kcl_config_free(&c);
}

static void test_at_timestamp(void)
{
    kcl_config c;
    kcl_config_defaults(&c);
    CHECK(kcl_config_set(&c, "initial-position", "AT_TIMESTAMP=2026-11-26T00:25:39Z", KCL_CV_TEXT, NULL, err,
                         sizeof err) == 0);
    CHECK_EQ_INT(c.initial_position, KCL_POS_AT_TIMESTAMP);
    CHECK_EQ_INT(c.initial_timestamp_ms, 1795652739000LL);
    CHECK(kcl_config_set(&c, "initial-position", "AT_TIMESTAMP=2026-11-26T01:25:39.5+01:00", KCL_CV_TEXT, NULL,
                         err, sizeof err) == 0);
    CHECK_EQ_INT(c.initial_timestamp_ms, 1795652739500LL);
    CHECK(kcl_config_set(&c, "initial_position", "AT_TIMESTAMP=1764116739", KCL_CV_TEXT, NULL, err,
                         sizeof err) == 0);
    CHECK_EQ_INT(c.initial_timestamp_ms, 1764116739000LL);
    CHECK(kcl_config_set(&c, "initial-position", "AT_TIMESTAMP=yesterday", KCL_CV_TEXT, NULL, err,
                         sizeof err) == -1);
    HAS(err, "--initial-position");
    HAS(err, "yesterday");
    HAS(err, "RFC 3339");
    CHECK(kcl_config_set(&c, "initial-position", "EARLIEST", KCL_CV_TEXT, NULL, err, sizeof err) == -1);
    HAS(err, "TRIM_HORIZON");
    CHECK(kcl_config_set(&c, "initial-position", "latest", KCL_CV_TEXT, NULL, err, sizeof err) == 0);
    CHECK_EQ_INT(c.initial_position, KCL_POS_LATEST);
    kcl_config_free(&c);
}

static void test_errors(void)
{
    kcl_config c;
    clear_env();
    /* unknown option: closest named */
    char *a1[] = {"p.lua", "--stream", "s", "--app", "a", "--max-record", "5"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a1) == -1);
    HAS(err, "--max-record");
    HAS(err, "did you mean --max-records");
    kcl_config_free(&c);
    char *a1b[] = {"p.lua", "--stream", "s", "--app", "a", "--fialover-time-ms", "5"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a1b) == -1);
    HAS(err, "did you mean --failover-time-ms");   /* a transposition */
    kcl_config_free(&c);
    CHECK_EQ_INT(kcl_config_distance("ab", "ba"), 1);
    CHECK_EQ_INT(kcl_config_distance("kitten", "sitting"), 3);
    CHECK(kcl_config_closest("zzzzzzzzzzzz") == NULL);
    /* option of another subcommand */
    char *a2[] = {"--stream", "s", "--aggregate"};
    CHECK(load(&c, KCL_CMD_STATUS, 3, a2) == -1);
    HAS(err, "--aggregate is not an option of 'status'");
    kcl_config_free(&c);
    /* out of range, wrong value */
    char *a3[] = {"p.lua", "--stream", "s", "--app", "a", "--max-records", "0"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a3) == -1);
    HAS(err, "--max-records");
    HAS(err, "0");
    HAS(err, "1..10000");
    kcl_config_free(&c);
    char *a4[] = {"p.lua", "--stream", "s", "--app", "a", "--idle-time-ms", "lots"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a4) == -1);
    HAS(err, "--idle-time-ms");
    HAS(err, "'lots'");
    kcl_config_free(&c);
    char *a5[] = {"p.lua", "--stream", "s", "--app", "a", "--on-error", "ignore"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a5) == -1);
    HAS(err, "retry|skip|stop");
    kcl_config_free(&c);
    char *a6[] = {"p.lua", "--stream", "s", "--app", "a", "--log-level", "loud"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a6) == -1);
    HAS(err, "debug|info|warn|error");
    kcl_config_free(&c);
    char *a7[] = {"p.lua", "--stream"};
    CHECK(load(&c, KCL_CMD_RUN, 2, a7) == -1);
    HAS(err, "--stream needs a value");
    kcl_config_free(&c);
    char *a8[] = {"p.lua", "--no-reload=maybe"};
    CHECK(load(&c, KCL_CMD_RUN, 2, a8) == -1);
    HAS(err, "'maybe'");
    kcl_config_free(&c);
    /* missing required */
    char *a9[] = {"p.lua", "--app", "a"};
    CHECK(load(&c, KCL_CMD_RUN, 3, a9) == -1);
    CHECK_EQ_STR(err, "missing --stream (config key 'stream')");
    kcl_config_free(&c);
    char *a10[] = {"p.lua", "--stream", "s"};
    CHECK(load(&c, KCL_CMD_RUN, 3, a10) == -1);
    CHECK_EQ_STR(err, "missing --app (config key 'app')");
    kcl_config_free(&c);
    CHECK(load(&c, KCL_CMD_RUN, 0, NULL) == -1);
    HAS(err, "SCRIPT");
    kcl_config_free(&c);
    char *a11[] = {"s", "--shards", "0"};
    CHECK(load(&c, KCL_CMD_CREATE_STREAM, 3, a11) == -1);
    HAS(err, "--shards");
    kcl_config_free(&c);
    CHECK(load(&c, KCL_CMD_CREATE_STREAM, 1, a11) == -1);
    HAS(err, "missing --shards");
    kcl_config_free(&c);
    char *a12[] = {"--stream", "s", "--partition-key", "k", "--random-keys"};
    CHECK(load(&c, KCL_CMD_PUT, 5, a12) == -1);
    HAS(err, "exclude");
    kcl_config_free(&c);
    char *a13[] = {"p.lua", "extra.lua"};
    CHECK(load(&c, KCL_CMD_RUN, 2, a13) == -1);
    HAS(err, "unexpected argument 'extra.lua'");
    kcl_config_free(&c);
    char *a14[] = {"p.lua", "--stream", "s", "--app", "a", "--table-rcu", "5"};
    CHECK(load(&c, KCL_CMD_RUN, 7, a14) == -1);
    HAS(err, "--table-wcu");
    kcl_config_free(&c);
}

static void test_file(void)
{
    kcl_config c;
    clear_env();
    const char *p = write_file("local base = 100\n"
                               "return { stream = 'fs', app = 'fa', max_records = base * 2,\n"
                               "  no_reload = true, initial_position = 'AT_TIMESTAMP=1764116739',\n"
                               "  on_error = 'stop', lua_memory_limit_mb = 8, region = 'ap-south-1' }\n");
    char *argv[] = {"p.lua", "--config", (char *)p};
    CHECK_MSG(load(&c, KCL_CMD_RUN, 3, argv) == 0, "%s", err);
    CHECK_EQ_STR(c.stream, "fs");
    CHECK_EQ_STR(c.app, "fa");
    CHECK_EQ_INT(c.max_records, 200);
    CHECK_EQ_INT(c.no_reload, 1);
    CHECK_EQ_INT(c.initial_position, KCL_POS_AT_TIMESTAMP);
    CHECK_EQ_INT(c.initial_timestamp_ms, 1764116739000LL);
    CHECK_EQ_INT(c.on_error, KCL_ON_ERROR_STOP);
    CHECK_EQ_INT(c.lua_memory_limit, 8LL << 20);
    CHECK_EQ_STR(c.region, "ap-south-1");
    kcl_config_free(&c);

    /* precedence: argv > env > file > default */
    setenv("LUAKCL_MAX_RECORDS", "300", 1);
    setenv("AWS_REGION", "us-west-2", 1);
    setenv("LUAKCL_APP", "ea", 1);
    CHECK_MSG(load(&c, KCL_CMD_RUN, 3, argv) == 0, "%s", err);
    CHECK_EQ_INT(c.max_records, 300);       /* env over file */
    CHECK_EQ_STR(c.region, "us-west-2");    /* AWS_REGION over file */
    CHECK_EQ_STR(c.app, "ea");
    CHECK_EQ_STR(c.stream, "fs");           /* file over default */
    CHECK_EQ_INT(c.idle_time_ms, 1000);     /* default */
    kcl_config_free(&c);
    char *argv2[] = {"p.lua", "--config", (char *)p, "--max-records", "400", "--region", "eu-north-1"};
    setenv("LUAKCL_REGION", "eu-central-1", 1);
    CHECK_MSG(load(&c, KCL_CMD_RUN, 7, argv2) == 0, "%s", err);
    CHECK_EQ_INT(c.max_records, 400);       /* argv over env */
    CHECK_EQ_STR(c.region, "eu-north-1");
    kcl_config_free(&c);
    CHECK(load(&c, KCL_CMD_RUN, 3, argv) == 0);
    CHECK_EQ_STR(c.region, "eu-central-1");   /* LUAKCL_REGION over AWS_REGION */
    kcl_config_free(&c);
    /* the config file from LUAKCL_CONFIG */
    clear_env();
    setenv("LUAKCL_CONFIG", p, 1);
    char *argv3[] = {"p.lua"};
    CHECK_MSG(load(&c, KCL_CMD_RUN, 1, argv3) == 0, "%s", err);
    CHECK_EQ_STR(c.stream, "fs");
    kcl_config_free(&c);
    clear_env();
    /* endpoints from the AWS variables */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8", 1);
    setenv("AWS_PROFILE", "prof", 1);
    setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
    CHECK(load(&c, KCL_CMD_RUN, 3, argv) == 0);
    CHECK_EQ_STR(c.endpoint, "http://127.0.0.1:9");
    CHECK_EQ_STR(c.dynamodb_endpoint, "http://127.0.0.1:8");
    CHECK_EQ_STR(c.profile, "prof");
    CHECK_EQ_STR(c.region, "sa-east-1");
    kcl_config_free(&c);
    clear_env();
    unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
    unsetenv("AWS_DEFAULT_REGION");
    /* env errors name the variable */
    setenv("LUAKCL_MAX_RECORDS", "20000", 1);
    CHECK(load(&c, KCL_CMD_RUN, 3, argv) == -1);
    HAS(err, "LUAKCL_MAX_RECORDS");
    HAS(err, "20000");
    kcl_config_free(&c);
    clear_env();
    unlink(p);

    /* file errors */
    struct { const char *text, *want1, *want2; } bad[] = {
        {"return { max_record = 5 }", "'max_record'", "did you mean 'max_records'"},
        {"return { stream = 'a', \n app = }", ":2:", "unexpected symbol"},
        {"return { max_records = '5' }", "'max_records'", "expected an integer"},
        {"return { no_reload = 1 }", "'no_reload'", "expected a boolean"},
        {"return { stream = 5 }", "'stream'", "expected a string"},
        {"return { max_records = 0 }", "'max_records'", "1..10000"},
        {"return 42", "must return a table", "number"},
        {"error('boom')", ":1:", "boom"},
        {"while true do end", "too long", ""},
        {"return { x = os.exit(1) }", "os", "nil"},
        {"return { x = io.open('/etc/passwd') }", "io", "nil"},
        {"return { x = require('os') }", "require", "nil"},
        {"return { stream = {} }", "'stream'", "table"},
        {"return { [1] = 'x' }", "keys must be strings", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *bp = write_file(bad[i].text);
        char *av[] = {"p.lua", "--stream", "s", "--app", "a", "--config", (char *)bp};
        CHECK_MSG(load(&c, KCL_CMD_RUN, 7, av) == -1, "case %zu accepted", i);
        HAS(err, bp);
        HAS(err, bad[i].want1);
        HAS(err, bad[i].want2);
        kcl_config_free(&c);
        unlink(bp);
    }
    char *av[] = {"p.lua", "--config", "/nonexistent/x.lua"};
    CHECK(load(&c, KCL_CMD_RUN, 3, av) == -1);
    HAS(err, "/nonexistent/x.lua");
    kcl_config_free(&c);
}

static void test_commands(void)
{
    CHECK_EQ_INT(kcl_config_command("run"), KCL_CMD_RUN);
    CHECK_EQ_INT(kcl_config_command("create-stream"), KCL_CMD_CREATE_STREAM);
    CHECK_EQ_INT(kcl_config_command("nope"), 0);
    CHECK_EQ_STR(kcl_config_command_name(KCL_CMD_STATUS), "status");
    FILE *f = tmpfile();
    kcl_config_usage(f, KCL_CMD_PUT);
    char buf[4096] = {0};
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    HAS(buf, "--aggregate");
    HAS(buf, "--region");
    CHECK(strstr(buf, "--max-records") == NULL);
}

int main(void)
{
    for (int rep = 0; rep < 2; rep++) {
        test_defaults();
        test_every_option();
        test_at_timestamp();
        test_errors();
        test_file();
        test_commands();
    }
    return TEST_END();
}
