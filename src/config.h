/* config — the settings of a luakcl worker and of the command's other
 * subcommands, with their defaults, their validation and their sources.
 *
 * Precedence: command line > environment > config file > defaults. The config
 * file is Lua returning a table; its keys are the long options' names with
 * '_' for '-' ("max_records" for --max-records). Validation never lets a bad
 * setting through: an unknown key names the closest valid key, a wrong type
 * or range names the key, the value and what is allowed, a missing required
 * key names both the flag and the config key. */
#ifndef KCL_CONFIG_H
#define KCL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { KCL_POS_LATEST = 0, KCL_POS_TRIM_HORIZON, KCL_POS_AT_TIMESTAMP } kcl_initial_position;
typedef enum { KCL_ON_ERROR_RETRY = 0, KCL_ON_ERROR_SKIP, KCL_ON_ERROR_STOP } kcl_on_error;

typedef struct kcl_config {
    /* what to consume, and as whom */
    char   *stream;                 /* --stream (required for run) */
    char   *app;                    /* --app: application name = lease table name (required for run) */
    char   *table;                  /* --table: lease table override (default: app) */
    char   *worker_id;              /* --worker-id (default host:pid:random) */
    char   *script;                 /* the processor script (run's argument) */
    /* AWS */
    char   *region;                 /* --region, AWS_REGION, AWS_DEFAULT_REGION, profile */
    char   *endpoint;               /* --endpoint, AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL */
    char   *dynamodb_endpoint;      /* --dynamodb-endpoint, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL */
    char   *profile;                /* --profile, AWS_PROFILE */
    int     insecure_tls;           /* --insecure-tls: only for an explicit local endpoint */
    /* where to start */
    kcl_initial_position initial_position;   /* --initial-position LATEST|TRIM_HORIZON|AT_TIMESTAMP=T */
    int64_t initial_timestamp_ms;            /* for AT_TIMESTAMP */
    /* fetching */
    int     max_records;            /* --max-records 1..10000 (10000) */
    int     idle_time_ms;           /* --idle-time-ms >= 200 (1000) */
    int     call_process_records_even_for_empty_list;  /* (0) */
    int     kpl_hash_range_filter;  /* --kpl-hash-range-filter: drop sub-records outside the shard's range (0) */
    /* leases */
    int     failover_time_ms;       /* --failover-time-ms >= 1000 (10000) */
    int     shard_sync_interval_ms; /* --shard-sync-interval-ms >= 1000 (60000) */
    int     max_leases;             /* --max-leases 0 = no bound */
    int     max_leases_to_steal;    /* --max-leases-to-steal >= 1 (1) */
    int     provisioned_table;      /* --table-rcu/--table-wcu > 0 makes it provisioned */
    int     table_rcu, table_wcu;
    /* processors */
    kcl_on_error on_error;          /* --on-error retry|skip|stop (retry) */
    int     shutdown_grace_ms;      /* --shutdown-grace-ms (20000) */
    int     callback_budget_ms;     /* --callback-budget-ms 0 = none (0) */
    int64_t lua_memory_limit;       /* --lua-memory-limit-mb, bytes; 0 = none */
    int     no_reload;              /* --no-reload */
    /* logs */
    char   *log_level;              /* --log-level debug|info|warn|error (info) */
    char   *log_format;             /* --log-format text|json (text on a terminal, else json?) */
    char   *config_file;            /* --config FILE */
    /* other subcommands */
    char   *partition_key;          /* put --partition-key K */
    int     random_keys;            /* put --random-keys (the default when no key is given) */
    int     aggregate;              /* put --aggregate: KPL aggregated records */
    int     null_separated;         /* put --null: records are NUL-separated */
    int     json;                   /* status --json */
    int     shards;                 /* create-stream --shards N (1..100000) */
} kcl_config;

/* The subcommands, as a bit mask (each option says where it is allowed). */
typedef enum {
    KCL_CMD_RUN           = 1 << 0,
    KCL_CMD_PUT           = 1 << 1,
    KCL_CMD_STATUS        = 1 << 2,
    KCL_CMD_CREATE_STREAM = 1 << 3,
    KCL_CMD_DELETE_STREAM = 1 << 4,
    KCL_CMD_ALL           = 0x1f
} kcl_command;

/* Defaults for every field (strings NULL). */
void kcl_config_defaults(kcl_config *c);
/* Free every string and reset to defaults. */
void kcl_config_free(kcl_config *c);
/* Deep copy: dst is overwritten (not freed first). 0, or -1 out of memory
 * (dst is then freed and holds defaults). */
int kcl_config_copy(kcl_config *dst, const kcl_config *src);

/* "run" -> KCL_CMD_RUN, ...; 0 for an unknown name. */
kcl_command kcl_config_command(const char *name);
const char *kcl_config_command_name(kcl_command cmd);

/* The whole thing for one subcommand: defaults, then the config file (from
 * --config, else LUAKCL_CONFIG), then the environment, then argv (the
 * arguments after the subcommand; positional arguments: run's SCRIPT,
 * create-/delete-stream's NAME), then kcl_config_check. Returns 0, or -1 with
 * one line in err (c then holds whatever was parsed; free it either way). */
int kcl_config_load(kcl_config *c, kcl_command cmd, int argc, char **argv,
                    char *err, size_t errlen);

/* ---- the steps, for tests and for callers that want their own order -------- */

/* How a value was given: TEXT (argv, environment: parsed by the key's type),
 * or a Lua value from a config file: STRING, NUMBER (`text` is its %.17g
 * form), BOOL (`text` is "true"/"false"). A config file must give flags as
 * booleans and numbers as numbers. */
typedef enum { KCL_CV_TEXT = 0, KCL_CV_STRING, KCL_CV_NUMBER, KCL_CV_BOOL } kcl_config_vtype;

/* Set the option `key` (long option name with '-' or config key with '_').
 * `origin` names the source in messages ("--max-records", "LUAKCL_MAX_RECORDS",
 * "config key 'max_records' in f.lua"); NULL means the option's flag.
 * Unknown key: err names the closest key. Returns 0 or -1. Options of every
 * subcommand are accepted here (a config file is shared by all). */
int kcl_config_set(kcl_config *c, const char *key, const char *text, kcl_config_vtype vt,
                   const char *origin, char *err, size_t errlen);
/* argv after the subcommand: "--name value", "--name=value", flags, and
 * positionals. An option of another subcommand is refused. */
int kcl_config_apply_argv(kcl_config *c, kcl_command cmd, int argc, char **argv,
                          char *err, size_t errlen);
/* AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_KINESIS /
 * AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, AWS_PROFILE,
 * then LUAKCL_<KEY> for every key (which wins over the AWS names).
 * Unrecognised LUAKCL_* variables are ignored (tests set some). */
int kcl_config_apply_env(kcl_config *c, char *err, size_t errlen);
/* Load a config file (config_file.c): Lua returning a table, run in a
 * sandbox (no os/io/package/debug/load*, JIT off, an instruction budget).
 * Every key goes through kcl_config_set. Returns 0 or -1 with err
 * ("f.lua:3: ..." for a syntax or run-time error). */
int kcl_config_load_file(kcl_config *c, const char *path, char *err, size_t errlen);
/* Required settings and cross-field rules for `cmd`; fills derived values
 * (table := app, worker_id := host:pid:random for run). */
int kcl_config_check(kcl_config *c, kcl_command cmd, char *err, size_t errlen);

/* The valid key closest to `key` by Damerau-Levenshtein distance (with '-'
 * and '_' equal), or NULL when nothing is within reach. */
const char *kcl_config_closest(const char *key);
/* Optimal-string-alignment distance between two strings. */
int kcl_config_distance(const char *a, const char *b);
/* Write the options `cmd` takes, one per line with its help, to f. */
void kcl_config_usage(FILE *f, kcl_command cmd);

#endif
