/* main — the `luakcl` command: run, put, status, create-stream,
 * delete-stream, help, --version.
 *
 * Exit status: 0 success (a graceful stop for run); 1 a runtime failure
 * (AWS errors, failed records, a fatal worker error); 2 a usage, config or
 * script error (the user's input: nothing was started). Each failure prints
 * one line "luakcl CMD: reason" on stderr. Credentials are never printed. */
#include "cli.h"
#include "cli_put.h"
#include "cli_status.h"
#include "config.h"
#include "kinesis.h"
#include "log.h"
#include "lua_host.h"
#include "worker.h"

#include <ev.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const struct {
    const char *name, *args, *what;
} COMMANDS[] = {
    {"run", "SCRIPT.lua --stream NAME --app NAME [options]", "consume a stream with a Lua record processor"},
    {"put", "--stream NAME [--partition-key K | --random-keys] [--aggregate] [--null]",
     "put records read from stdin (one per line)"},
    {"status", "--app NAME [--table T] [--stream NAME] [--json]", "show the leases of an application"},
    {"create-stream", "NAME --shards N", "create a stream and wait until it is ACTIVE"},
    {"delete-stream", "NAME", "delete a stream"},
};
#define NCOMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void usage(FILE *f)
{
    fprintf(f, "luakcl %s — Kinesis Client Library runtime with Lua record processors\n\n", LUAKCL_VERSION);
    fprintf(f, "usage: luakcl COMMAND [ARGS] [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-14s %s\n", COMMANDS[i].name, COMMANDS[i].what);
    fprintf(f, "\n  luakcl help COMMAND   options of a command\n  luakcl --version\n\n"
               "Every option can also come from the environment (LUAKCL_<NAME>, e.g. LUAKCL_MAX_RECORDS)\n"
               "or from a config file (--config FILE: Lua returning a table, keys like max_records).\n"
               "Precedence: command line > environment > config file > defaults.\n");
}

static void command_help(FILE *f, kcl_command cmd)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (kcl_config_command(COMMANDS[i].name) != cmd) continue;
        fprintf(f, "usage: luakcl %s %s\n\n%s.\n\noptions:\n", COMMANDS[i].name, COMMANDS[i].args, COMMANDS[i].what);
    }
    kcl_config_usage(f, cmd);
}

static int fail(const char *cmd, int code, const char *msg)
{
    fprintf(stderr, "luakcl %s: %s\n", cmd, msg);
    return code;
}

static void setup_log(const kcl_config *c)
{
    kcl_log_level lvl = KCL_LOG_INFO;
    if (c->log_level) kcl_log_parse_level(c->log_level, &lvl);
    kcl_log_set_level(lvl);
    kcl_log_set_format(c->log_format && strcmp(c->log_format, "json") == 0 ? KCL_LOG_JSON : KCL_LOG_TEXT);
}

/* ---- run ----------------------------------------------------------------------- */

typedef struct run_state {
    struct ev_loop *loop;
    kcl_worker *worker;
    kcl_lua_host *host;
    int stopped;
    int failed;
    char reason[640];
    ev_signal sigint, sigterm, sighup;
} run_state;

/* put_records for scripts, through the worker's Kinesis client. */
struct kcl_put_handle {
    kcl_kinesis_op *op;
    kcl_put_done_fn done;
    void *ud;
};

static void svc_put_cb(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    kcl_put_handle *h = ud;
    if (err->kind != KCL_ERR_NONE || !res) {
        h->done(h->ud, err, NULL, 0);
        free(h);
        return;
    }
    kcl_put_result *out = calloc(res->count ? res->count : 1, sizeof *out);
    if (!out) {
        kcl_error e;
        kcl_error_set(&e, KCL_ERR_FATAL, 0, NULL, "out of memory");
        h->done(h->ud, &e, NULL, 0);
        free(h);
        return;
    }
    for (size_t i = 0; i < res->count; i++)
        out[i] = (kcl_put_result){res->entries[i].sequence_number, res->entries[i].shard_id,
                                  res->entries[i].error_code, res->entries[i].error_message};
    h->done(h->ud, NULL, out, res->count);
    free(out);
    free(h);
}

static kcl_put_handle *svc_put(void *svc_ud, const char *stream, const kcl_put_entry *entries, size_t n,
                               kcl_put_done_fn done, void *done_ud, kcl_error *err)
{
    run_state *rs = svc_ud;
    kcl_kinesis *k = rs->worker ? kcl_worker_kinesis(rs->worker) : NULL;
    if (!k) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "put_records is not available yet");
        return NULL;
    }
    kcl_kinesis_put_entry *pe = calloc(n ? n : 1, sizeof *pe);
    kcl_put_handle *h = calloc(1, sizeof *h);
    if (!pe || !h) {
        free(pe);
        free(h);
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        pe[i] = (kcl_kinesis_put_entry){entries[i].data, entries[i].len, entries[i].partition_key,
                                        entries[i].explicit_hash_key};
    h->done = done;
    h->ud = done_ud;
    h->op = kcl_kinesis_put_records(k, stream, pe, n, NULL, svc_put_cb, h, err);
    free(pe);
    if (!h->op) {
        free(h);
        return NULL;
    }
    return h;
}

static void svc_put_cancel(void *svc_ud, kcl_put_handle *h)
{
    (void)svc_ud;
    kcl_kinesis_cancel(h->op);
    free(h);
}

static void on_stopped(kcl_worker *w, const kcl_error *err, void *ud)
{
    (void)w;
    run_state *rs = ud;
    rs->stopped = 1;
    if (err && err->kind != KCL_ERR_NONE) {
        rs->failed = 1;
        snprintf(rs->reason, sizeof rs->reason, "%s%s%s", err->code, err->code[0] ? ": " : "", err->message);
    }
}

static void on_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    (void)loop;
    (void)revents;
    run_state *rs = s->data;
    if (s->signum == SIGHUP) {
        char e[512];
        if (kcl_lua_host_reload(rs->host, e, sizeof e) == 0) KCL_INFO(NULL, "SIGHUP: script reloaded");
        else KCL_WARN(NULL, "SIGHUP: reload refused, the old code keeps running: %s", e);
        return;
    }
    KCL_INFO(NULL, "%s: shutting down", s->signum == SIGINT ? "SIGINT" : "SIGTERM");
    kcl_worker_shutdown(rs->worker);
}

/* glibc malloc for the consumer's allocation pattern: every GetRecords
 * response is a few large blocks (the body, its token array, the decoded
 * records: up to ~15 MB each with 10,000 1 KB records) allocated and freed
 * per batch. By default blocks over 128 KB start out as fresh mmaps and the
 * heap top is trimmed back to the kernel, so each batch faulted in and zeroed
 * its pages again (a third of the CPU at 1 KB records). Serving them from the
 * heap and trimming only past 128 MB of free top keeps those pages; the cost
 * is that RSS stays near its high-water mark. bench/PERF_NOTES.md has the
 * figures. A GLIBC_TUNABLES setting for malloc takes precedence. */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.")) return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

static int cmd_run(struct ev_loop *loop, kcl_config *cfg)
{
    if (access(cfg->script, R_OK) != 0) {
        char m[600];
        snprintf(m, sizeof m, "cannot read script %s", cfg->script);
        return fail("run", EXIT_USAGE, m);
    }
    tune_malloc();
    run_state rs = {.loop = loop};
    kcl_host_services svc = {.loop = loop, .worker_id = cfg->worker_id, .put_records = svc_put,
                             .put_cancel = svc_put_cancel, .svc_ud = &rs};
    kcl_lua_host_opts ho = {.script_path = cfg->script, .budget_ms = cfg->callback_budget_ms,
                            .mem_limit = (size_t)cfg->lua_memory_limit, .no_reload = cfg->no_reload};
    char e[1024];
    rs.host = kcl_lua_host_new(&svc, &ho, e, sizeof e);
    if (!rs.host) return fail("run", EXIT_USAGE, e);
    kcl_processor_factory factory = kcl_lua_host_factory(rs.host);
    kcl_error err;
    kcl_error_clear(&err);
    rs.worker = kcl_worker_new(loop, cfg, &factory, on_stopped, &rs, &err);
    if (!rs.worker) {
        kcl_lua_host_free(rs.host);
        return fail("run", EXIT_USAGE, err.message);
    }
    if (kcl_worker_start(rs.worker, &err) != 0) {
        kcl_worker_free(rs.worker);
        kcl_lua_host_free(rs.host);
        return fail("run", EXIT_RUNTIME, err.message);
    }
    ev_signal_init(&rs.sigint, on_signal, SIGINT);
    ev_signal_init(&rs.sigterm, on_signal, SIGTERM);
    ev_signal_init(&rs.sighup, on_signal, SIGHUP);
    rs.sigint.data = rs.sigterm.data = rs.sighup.data = &rs;
    ev_signal_start(loop, &rs.sigint);
    ev_signal_start(loop, &rs.sigterm);
    ev_signal_start(loop, &rs.sighup);
    KCL_INFO(NULL, "worker %s consuming stream %s for application %s", cfg->worker_id, cfg->stream, cfg->app);
    while (!rs.stopped) ev_run(loop, EVRUN_ONCE);
    ev_signal_stop(loop, &rs.sigint);
    ev_signal_stop(loop, &rs.sigterm);
    ev_signal_stop(loop, &rs.sighup);
    kcl_worker_free(rs.worker);
    rs.worker = NULL;
    kcl_lua_host_free(rs.host);
    if (rs.failed) return fail("run", EXIT_RUNTIME, rs.reason);
    KCL_INFO(NULL, "stopped");
    return 0;
}

/* ---- the one-shot commands ------------------------------------------------------- */

static int cmd_oneshot(struct ev_loop *loop, kcl_config *cfg, kcl_command cmd)
{
    const char *name = kcl_config_command_name(cmd);
    kcl_cli cli;
    char e[1024];
    int want_ddb = cmd == KCL_CMD_STATUS;
    int want_kin = cmd != KCL_CMD_STATUS || cfg->stream != NULL;
    if (kcl_cli_open(&cli, loop, cfg, want_kin, want_ddb, e, sizeof e) != 0) return fail(name, EXIT_USAGE, e);
    int rc = 0;
    switch (cmd) {
    case KCL_CMD_CREATE_STREAM:
        rc = kcl_cli_create_stream(&cli, cfg->stream, cfg->shards, 300000, e, sizeof e);
        if (rc == 0) fprintf(stderr, "luakcl create-stream: %s is ACTIVE with %d shards\n", cfg->stream, cfg->shards);
        break;
    case KCL_CMD_DELETE_STREAM:
        rc = kcl_cli_delete_stream(&cli, cfg->stream, 300000, e, sizeof e);
        if (rc == 0) fprintf(stderr, "luakcl delete-stream: %s deleted\n", cfg->stream);
        break;
    case KCL_CMD_STATUS:
        rc = kcl_cli_status(&cli, stdout, e, sizeof e);
        break;
    case KCL_CMD_PUT: {
        kcl_cli_put_stats st;
        rc = kcl_cli_put(&cli, stdin, isatty(2) ? stderr : NULL, &st, e, sizeof e);
        fprintf(stderr, "luakcl put: %zu records read, %zu written in %zu Kinesis records, %zu failed, "
                        "%zu retried, %.2f s (%.0f records/s)\n",
                st.read, st.written, st.kinesis_records, st.failed, st.retries, st.seconds,
                st.seconds > 0 ? (double)st.written / st.seconds : 0.0);
        break;
    }
    default:
        rc = -1;
        snprintf(e, sizeof e, "unknown command");
    }
    kcl_cli_close(&cli);
    return rc == 0 ? 0 : fail(name, EXIT_RUNTIME, e);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || (strcmp(a, "help") == 0 && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(a, "--version") == 0 || strcmp(a, "version") == 0) {
        printf("luakcl %s\n", LUAKCL_VERSION);
        return 0;
    }
    if (strcmp(a, "help") == 0) {
        kcl_command c = kcl_config_command(argv[2]);
        if (!c) {
            fprintf(stderr, "luakcl help: unknown command '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        command_help(stdout, c);
        return 0;
    }
    kcl_command cmd = kcl_config_command(a);
    if (!cmd) {
        const char *near = NULL;
        int best = 3;
        for (size_t i = 0; i < NCOMMANDS; i++) {
            int d = kcl_config_distance(a, COMMANDS[i].name);
            if (d < best) { best = d; near = COMMANDS[i].name; }
        }
        if (near) fprintf(stderr, "luakcl: unknown command '%s' (did you mean '%s'?)\n", a, near);
        else fprintf(stderr, "luakcl: unknown command '%s' (see luakcl --help)\n", a);
        return EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            command_help(stdout, cmd);
            return 0;
        }
    kcl_config cfg;
    char err[1024];
    if (kcl_config_load(&cfg, cmd, argc - 2, argv + 2, err, sizeof err) != 0) {
        kcl_config_free(&cfg);
        fprintf(stderr, "luakcl %s: %s\n", a, err);
        return EXIT_USAGE;
    }
    setup_log(&cfg);
    signal(SIGPIPE, SIG_IGN);
    struct ev_loop *loop = ev_default_loop(0);
    int rc = cmd == KCL_CMD_RUN ? cmd_run(loop, &cfg) : cmd_oneshot(loop, &cfg, cmd);
    kcl_config_free(&cfg);
    ev_loop_destroy(loop);
    return rc;
}
