/* config — option table, parsing from argv and the environment, validation.
 * Pure: no ev, no curl, no Lua (the config file is config_file.c). */
#include "config.h"
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef enum { T_STR, T_INT, T_BOOL, T_ENUM, T_MB, T_POSITION } opt_type;

typedef struct opt {
    const char *name;        /* long option name */
    opt_type    type;
    size_t      off;         /* field offset */
    long long   min, max;    /* T_INT / T_MB */
    const char *values;      /* T_ENUM: "a|b|c" (index stored as int, or string for T_STR fields) */
    unsigned    cmds;        /* subcommands taking it on the command line */
    const char *help;
} opt;

#define F(f) offsetof(kcl_config, f)
#define RUN KCL_CMD_RUN
#define PUT KCL_CMD_PUT
#define STA KCL_CMD_STATUS
#define CRE KCL_CMD_CREATE_STREAM
#define DEL KCL_CMD_DELETE_STREAM
#define ALL KCL_CMD_ALL

static const opt OPTS[] = {
    {"stream", T_STR, F(stream), 0, 0, NULL, RUN | PUT | STA | CRE | DEL, "NAME  the Kinesis stream"},
    {"app", T_STR, F(app), 0, 0, NULL, RUN | STA, "NAME  application name (= lease table name)"},
    {"table", T_STR, F(table), 0, 0, NULL, RUN | STA, "NAME  lease table (default: the app name)"},
    {"worker-id", T_STR, F(worker_id), 0, 0, NULL, RUN, "ID  this worker's id (default host:pid:random)"},
    {"script", T_STR, F(script), 0, 0, NULL, RUN, "FILE  the processor script (or run's argument)"},
    {"region", T_STR, F(region), 0, 0, NULL, ALL, "NAME  AWS region (AWS_REGION, AWS_DEFAULT_REGION, profile)"},
    {"endpoint", T_STR, F(endpoint), 0, 0, NULL, ALL, "URL  Kinesis endpoint (AWS_ENDPOINT_URL_KINESIS)"},
    {"dynamodb-endpoint", T_STR, F(dynamodb_endpoint), 0, 0, NULL, ALL, "URL  DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB)"},
    {"profile", T_STR, F(profile), 0, 0, NULL, ALL, "NAME  shared-config profile (AWS_PROFILE)"},
    {"insecure-tls", T_BOOL, F(insecure_tls), 0, 0, NULL, ALL, "skip TLS verification (explicit local endpoints only)"},
    {"initial-position", T_POSITION, F(initial_position), 0, 0, NULL, RUN,
     "POS  LATEST | TRIM_HORIZON | AT_TIMESTAMP=<RFC 3339 or epoch seconds> (LATEST)"},
    {"max-records", T_INT, F(max_records), 1, 10000, NULL, RUN, "N  records per GetRecords, 1..10000 (10000)"},
    {"idle-time-ms", T_INT, F(idle_time_ms), 200, INT_MAX, NULL, RUN, "MS  wait between empty polls, >= 200 (1000)"},
    {"call-process-records-even-for-empty-list", T_BOOL, F(call_process_records_even_for_empty_list), 0, 0, NULL, RUN,
     "call process_records with empty batches too"},
    {"kpl-hash-range-filter", T_BOOL, F(kpl_hash_range_filter), 0, 0, NULL, RUN,
     "drop KPL sub-records outside the shard's hash range"},
    {"failover-time-ms", T_INT, F(failover_time_ms), 1000, INT_MAX, NULL, RUN, "MS  lease duration, >= 1000 (10000)"},
    {"shard-sync-interval-ms", T_INT, F(shard_sync_interval_ms), 1000, INT_MAX, NULL, RUN,
     "MS  shard discovery period, >= 1000 (60000)"},
    {"max-leases", T_INT, F(max_leases), 0, INT_MAX, NULL, RUN, "N  most leases this worker holds, 0 = no bound (0)"},
    {"max-leases-to-steal", T_INT, F(max_leases_to_steal), 1, INT_MAX, NULL, RUN, "N  leases stolen at once, >= 1 (1)"},
    {"table-rcu", T_INT, F(table_rcu), 0, INT_MAX, NULL, RUN, "N  provisioned read capacity (0 = on-demand)"},
    {"table-wcu", T_INT, F(table_wcu), 0, INT_MAX, NULL, RUN, "N  provisioned write capacity (0 = on-demand)"},
    {"on-error", T_ENUM, F(on_error), 0, 0, "retry|skip|stop", RUN, "WHAT  when process_records fails (retry)"},
    {"shutdown-grace-ms", T_INT, F(shutdown_grace_ms), 0, INT_MAX, NULL, RUN, "MS  graceful shutdown bound (20000)"},
    {"callback-budget-ms", T_INT, F(callback_budget_ms), 0, INT_MAX, NULL, RUN, "MS  Lua run time per callback, 0 = none (0)"},
    {"lua-memory-limit-mb", T_MB, F(lua_memory_limit), 0, 1024 * 1024, NULL, RUN, "MB  Lua memory cap, 0 = none (0)"},
    {"no-reload", T_BOOL, F(no_reload), 0, 0, NULL, RUN, "do not watch the script for changes"},
    {"log-level", T_STR, F(log_level), 0, 0, "debug|info|warn|error", ALL, "LEVEL  debug|info|warn|error (info)"},
    {"log-format", T_STR, F(log_format), 0, 0, "text|json", ALL, "FMT  text|json (text)"},
    {"config", T_STR, F(config_file), 0, 0, NULL, ALL, "FILE  config file (Lua returning a table; LUAKCL_CONFIG)"},
    {"partition-key", T_STR, F(partition_key), 0, 0, NULL, PUT, "KEY  partition key of every record"},
    {"random-keys", T_BOOL, F(random_keys), 0, 0, NULL, PUT, "a random partition key per record (default)"},
    {"aggregate", T_BOOL, F(aggregate), 0, 0, NULL, PUT, "pack records as KPL aggregated records, per shard"},
    {"null", T_BOOL, F(null_separated), 0, 0, NULL, PUT, "records are separated by NUL bytes, not newlines"},
    {"json", T_BOOL, F(json), 0, 0, NULL, STA, "print JSON instead of a table"},
    {"shards", T_INT, F(shards), 1, 100000, NULL, CRE, "N  number of shards, 1..100000"},
};
#define NOPTS (sizeof OPTS / sizeof OPTS[0])

static const char *const CMD_NAMES[] = {"run", "put", "status", "create-stream", "delete-stream"};

kcl_command kcl_config_command(const char *name)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, CMD_NAMES[i]) == 0) return (kcl_command)(1 << i);
    return 0;
}

const char *kcl_config_command_name(kcl_command cmd)
{
    for (int i = 0; i < 5; i++)
        if (cmd == (kcl_command)(1 << i)) return CMD_NAMES[i];
    return "?";
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void kcl_config_defaults(kcl_config *c)
{
    memset(c, 0, sizeof *c);
    c->initial_position = KCL_POS_LATEST;
    c->max_records = 10000;
    c->idle_time_ms = 1000;
    c->failover_time_ms = 10000;
    c->shard_sync_interval_ms = 60000;
    c->max_leases_to_steal = 1;
    c->on_error = KCL_ON_ERROR_RETRY;
    c->shutdown_grace_ms = 20000;
}

#define STRFIELD(c, o) ((char **)((char *)(c) + (o)->off))
#define INTFIELD(c, o) ((int *)((char *)(c) + (o)->off))

void kcl_config_free(kcl_config *c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (OPTS[i].type == T_STR) free(*STRFIELD(c, &OPTS[i]));
    kcl_config_defaults(c);
}

int kcl_config_copy(kcl_config *dst, const kcl_config *src)
{
    *dst = *src;
    int ok = 1;
    for (size_t i = 0; i < NOPTS; i++) {
        if (OPTS[i].type != T_STR) continue;
        char **f = STRFIELD(dst, &OPTS[i]);
        if (*f && !(*f = strdup(*f))) ok = 0;
    }
    if (!ok) { kcl_config_free(dst); return -1; }
    return 0;
}

/* ---- names and distance ------------------------------------------------------ */

/* Compare option names with '-' and '_' equal. */
static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

static const opt *find_opt(const char *key)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (name_eq(OPTS[i].name, key)) return &OPTS[i];
    return NULL;
}

int kcl_config_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64) return (int)(n > m ? n : m);
    int d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            char x = a[i - 1] == '_' ? '-' : a[i - 1], y = b[j - 1] == '_' ? '-' : b[j - 1];
            int cost = x == y ? 0 : 1;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1) {
                char xp = a[i - 2] == '_' ? '-' : a[i - 2], yp = b[j - 2] == '_' ? '-' : b[j - 2];
                if (x == yp && xp == y && d[i - 2][j - 2] + 1 < v) v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
        }
    return d[n][m];
}

const char *kcl_config_closest(const char *key)
{
    const char *best = NULL;
    int bestd = INT_MAX;
    for (size_t i = 0; i < NOPTS; i++) {
        int dd = kcl_config_distance(key, OPTS[i].name);
        if (dd < bestd) { bestd = dd; best = OPTS[i].name; }
    }
    size_t len = strlen(key);
    int reach = len < 4 ? 1 : (int)(len / 3) + 1;
    if (reach < 2 && len >= 3) reach = 2;
    return bestd <= reach ? best : NULL;
}

/* "max_records" from "max-records". */
static void config_key(const char *name, char *out, size_t outlen)
{
    size_t i = 0;
    for (; name[i] && i + 1 < outlen; i++) out[i] = name[i] == '-' ? '_' : name[i];
    out[i] = 0;
}

static void env_name(const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "LUAKCL_");
    for (size_t i = 0; name[i] && (size_t)n + 1 < outlen; i++, n++)
        out[n] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    out[n] = 0;
}

/* ---- setting one value ------------------------------------------------------- */

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return -1;
}

static int parse_ll(const char *s, long long *out)
{
    if (!*s) return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) {
        /* A Lua number such as 5.0 comes as "5": but accept "5.0" too. */
        char *e2;
        double d = strtod(s, &e2);
        if (*e2 || d != d || d < -9e18 || d > 9e18 || (double)(long long)d != d) return -1;
        v = (long long)d;
    }
    *out = v;
    return 0;
}

static int enum_index(const char *values, const char *s)
{
    int idx = 0;
    const char *p = values;
    size_t n = strlen(s);
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncasecmp(p, s, n) == 0) return idx;
        idx++;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

static int set_position(kcl_config *c, const char *s)
{
    if (strcasecmp(s, "LATEST") == 0) { c->initial_position = KCL_POS_LATEST; return 0; }
    if (strcasecmp(s, "TRIM_HORIZON") == 0) { c->initial_position = KCL_POS_TRIM_HORIZON; return 0; }
    if (strncasecmp(s, "AT_TIMESTAMP=", 13) == 0) {
        int64_t ms;
        if (kcl_clock_parse_time(s + 13, &ms) != 0 || ms < 0) return -1;
        c->initial_position = KCL_POS_AT_TIMESTAMP;
        c->initial_timestamp_ms = ms;
        return 0;
    }
    return -1;
}

static const char *vt_name(kcl_config_vtype vt)
{
    switch (vt) {
    case KCL_CV_STRING: return "a string";
    case KCL_CV_NUMBER: return "a number";
    case KCL_CV_BOOL: return "a boolean";
    default: return "text";
    }
}

int kcl_config_set(kcl_config *c, const char *key, const char *text, kcl_config_vtype vt,
                   const char *origin, char *err, size_t errlen)
{
    const opt *o = find_opt(key);
    char flag[96];
    if (!o) {
        const char *near = kcl_config_closest(key);
        char ck[80];
        if (near) config_key(near, ck, sizeof ck);
        char who[256];
        if (origin) snprintf(who, sizeof who, "%s: unknown key", origin);
        else snprintf(who, sizeof who, "unknown key '%s'", key);
        if (near)
            seterr(err, errlen, "%s (did you mean '%s', --%s?)", who, ck, near);
        else
            seterr(err, errlen, "%s (see luakcl --help)", who);
        return -1;
    }
    snprintf(flag, sizeof flag, "--%s", o->name);
    if (!origin) origin = flag;
    if (!text) text = "";
    /* A config file gives each type its Lua type. */
    int want_bool = o->type == T_BOOL, want_num = o->type == T_INT || o->type == T_MB;
    if (vt != KCL_CV_TEXT) {
        int ok = want_bool ? vt == KCL_CV_BOOL : want_num ? vt == KCL_CV_NUMBER : vt == KCL_CV_STRING;
        if (!ok) {
            seterr(err, errlen, "%s: wrong type: got %s (%s), expected %s", origin, vt_name(vt), text,
                   want_bool ? "a boolean" : want_num ? "an integer" : "a string");
            return -1;
        }
    }
    switch (o->type) {
    case T_STR: {
        if (!*text) { seterr(err, errlen, "%s: empty value (expected %s)", origin, o->help); return -1; }
        if (o->values && enum_index(o->values, text) < 0) {
            seterr(err, errlen, "%s: invalid value '%s' (allowed: %s)", origin, text, o->values);
            return -1;
        }
        char *dup = strdup(text);
        if (!dup) { seterr(err, errlen, "out of memory"); return -1; }
        char **f = STRFIELD(c, o);
        free(*f);
        *f = dup;
        return 0;
    }
    case T_BOOL: {
        int b;
        if (parse_bool(text, &b) != 0) {
            seterr(err, errlen, "%s: invalid value '%s' (allowed: true|false)", origin, text);
            return -1;
        }
        *INTFIELD(c, o) = b;
        return 0;
    }
    case T_INT:
    case T_MB: {
        long long v;
        if (parse_ll(text, &v) != 0) {
            seterr(err, errlen, "%s: invalid value '%s' (expected an integer %lld..%lld)", origin, text,
                   o->min, o->max);
            return -1;
        }
        if (v < o->min || v > o->max) {
            if (o->max == INT_MAX)
                seterr(err, errlen, "%s: value %lld out of range (allowed: >= %lld)", origin, v, o->min);
            else
                seterr(err, errlen, "%s: value %lld out of range (allowed: %lld..%lld)", origin, v, o->min, o->max);
            return -1;
        }
        if (o->type == T_MB) *(int64_t *)((char *)c + o->off) = (int64_t)v * 1024 * 1024;
        else *INTFIELD(c, o) = (int)v;
        return 0;
    }
    case T_ENUM: {
        int idx = enum_index(o->values, text);
        if (idx < 0) {
            seterr(err, errlen, "%s: invalid value '%s' (allowed: %s)", origin, text, o->values);
            return -1;
        }
        *INTFIELD(c, o) = idx;
        return 0;
    }
    case T_POSITION:
        if (set_position(c, text) != 0) {
            seterr(err, errlen,
                   "%s: invalid value '%s' (allowed: LATEST, TRIM_HORIZON, AT_TIMESTAMP=<RFC 3339 time or epoch seconds>)",
                   origin, text);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* ---- argv --------------------------------------------------------------------- */

int kcl_config_apply_argv(kcl_config *c, kcl_command cmd, int argc, char **argv, char *err, size_t errlen)
{
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
                seterr(err, errlen, "unknown option '%s' (options are long: --name value)", a);
                return -1;
            }
            if (strcmp(a, "--") == 0) continue;
            /* positional */
            const char *key = NULL;
            if (npos == 0 && cmd == KCL_CMD_RUN) key = "script";
            else if (npos == 0 && (cmd == KCL_CMD_CREATE_STREAM || cmd == KCL_CMD_DELETE_STREAM)) key = "stream";
            if (!key) {
                seterr(err, errlen, "unexpected argument '%s' for '%s'", a, kcl_config_command_name(cmd));
                return -1;
            }
            char origin[80];
            snprintf(origin, sizeof origin, "%s argument", cmd == KCL_CMD_RUN ? "SCRIPT" : "NAME");
            if (kcl_config_set(c, key, a, KCL_CV_TEXT, origin, err, errlen) != 0) return -1;
            npos++;
            continue;
        }
        char name[128];
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (nlen >= sizeof name) nlen = sizeof name - 1;
        memcpy(name, a + 2, nlen);
        name[nlen] = 0;
        const opt *o = find_opt(name);
        if (!o || strchr(name, '_')) {
            const char *near = kcl_config_closest(name);
            if (near) seterr(err, errlen, "unknown option --%s (did you mean --%s?)", name, near);
            else seterr(err, errlen, "unknown option --%s (see luakcl help %s)", name, kcl_config_command_name(cmd));
            return -1;
        }
        if (!(o->cmds & cmd)) {
            seterr(err, errlen, "--%s is not an option of '%s' (see luakcl help %s)", name,
                   kcl_config_command_name(cmd), kcl_config_command_name(cmd));
            return -1;
        }
        const char *val;
        if (o->type == T_BOOL) {
            val = eq ? eq + 1 : "true";
        } else if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) { seterr(err, errlen, "--%s needs a value (%s)", name, o->help); return -1; }
            val = argv[++i];
        }
        if (kcl_config_set(c, name, val, KCL_CV_TEXT, NULL, err, errlen) != 0) return -1;
    }
    return 0;
}

/* ---- environment ------------------------------------------------------------- */

static int env_set(kcl_config *c, const char *key, const char *var, char *err, size_t errlen)
{
    const char *v = getenv(var);
    if (!v || !*v) return 0;
    return kcl_config_set(c, key, v, KCL_CV_TEXT, var, err, errlen);
}

int kcl_config_apply_env(kcl_config *c, char *err, size_t errlen)
{
    /* The AWS names, least specific first. */
    if (env_set(c, "region", "AWS_DEFAULT_REGION", err, errlen) || env_set(c, "region", "AWS_REGION", err, errlen))
        return -1;
    const char *ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!(ign && strcasecmp(ign, "true") == 0)) {
        if (env_set(c, "endpoint", "AWS_ENDPOINT_URL", err, errlen) ||
            env_set(c, "endpoint", "AWS_ENDPOINT_URL_KINESIS", err, errlen) ||
            env_set(c, "dynamodb-endpoint", "AWS_ENDPOINT_URL", err, errlen) ||
            env_set(c, "dynamodb-endpoint", "AWS_ENDPOINT_URL_DYNAMODB", err, errlen))
            return -1;
    }
    if (env_set(c, "profile", "AWS_PROFILE", err, errlen)) return -1;
    for (size_t i = 0; i < NOPTS; i++) {
        char var[96];
        env_name(OPTS[i].name, var, sizeof var);
        if (env_set(c, OPTS[i].name, var, err, errlen)) return -1;
    }
    return 0;
}

/* ---- checks -------------------------------------------------------------------- */

static int require(const kcl_config *c, const char *name, char *err, size_t errlen, const char *how)
{
    const opt *o = find_opt(name);
    if (*STRFIELD(c, o)) return 0;
    char ck[80];
    config_key(o->name, ck, sizeof ck);
    if (how) seterr(err, errlen, "missing %s", how);
    else seterr(err, errlen, "missing --%s (config key '%s')", o->name, ck);
    return -1;
}

int kcl_config_check(kcl_config *c, kcl_command cmd, char *err, size_t errlen)
{
    switch (cmd) {
    case KCL_CMD_RUN:
        if (require(c, "script", err, errlen, "SCRIPT (luakcl run SCRIPT.lua [options])") ||
            require(c, "stream", err, errlen, NULL) || require(c, "app", err, errlen, NULL))
            return -1;
        break;
    case KCL_CMD_PUT:
        if (require(c, "stream", err, errlen, NULL)) return -1;
        if (c->partition_key && c->random_keys) {
            seterr(err, errlen, "--partition-key and --random-keys exclude each other");
            return -1;
        }
        if (c->partition_key && strlen(c->partition_key) > 256) {
            seterr(err, errlen, "--partition-key: longer than 256 characters");
            return -1;
        }
        if (!c->partition_key) c->random_keys = 1;
        break;
    case KCL_CMD_STATUS:
        if (require(c, "app", err, errlen, NULL)) return -1;
        break;
    case KCL_CMD_CREATE_STREAM:
        if (require(c, "stream", err, errlen, "NAME (luakcl create-stream NAME --shards N)")) return -1;
        if (c->shards <= 0) { seterr(err, errlen, "missing --shards (config key 'shards')"); return -1; }
        break;
    case KCL_CMD_DELETE_STREAM:
        if (require(c, "stream", err, errlen, "NAME (luakcl delete-stream NAME)")) return -1;
        break;
    default:
        seterr(err, errlen, "unknown subcommand");
        return -1;
    }
    if (cmd & (KCL_CMD_RUN | KCL_CMD_STATUS)) {
        if (!c->table && c->app && !(c->table = strdup(c->app))) { seterr(err, errlen, "out of memory"); return -1; }
    }
    if (cmd == KCL_CMD_RUN) {
        if ((c->table_rcu > 0) != (c->table_wcu > 0)) {
            seterr(err, errlen, "--table-rcu and --table-wcu go together (both > 0 for a provisioned table)");
            return -1;
        }
        c->provisioned_table = c->table_rcu > 0;
        if (!c->worker_id) {
            char host[256] = "localhost";
            gethostname(host, sizeof host - 1);
            host[sizeof host - 1] = 0;
            unsigned r = (unsigned)time(NULL) ^ (unsigned)getpid() * 2654435761u ^ (unsigned)clock();
            char id[320];
            snprintf(id, sizeof id, "%s:%ld:%08x", host, (long)getpid(), r);
            if (!(c->worker_id = strdup(id))) { seterr(err, errlen, "out of memory"); return -1; }
        }
    }
    return 0;
}

/* ---- the whole load ------------------------------------------------------------- */

int kcl_config_load(kcl_config *c, kcl_command cmd, int argc, char **argv, char *err, size_t errlen)
{
    kcl_config_defaults(c);
    /* Find --config first: the file is the lowest source but must be read first. */
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0) path = argv[i] + 9;
    }
    if (!path) path = getenv("LUAKCL_CONFIG");
    if (path && *path && kcl_config_load_file(c, path, err, errlen) != 0) return -1;
    if (kcl_config_apply_env(c, err, errlen) != 0) return -1;
    if (kcl_config_apply_argv(c, cmd, argc, argv, err, errlen) != 0) return -1;
    return kcl_config_check(c, cmd, err, errlen);
}

void kcl_config_usage(FILE *f, kcl_command cmd)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const opt *o = &OPTS[i];
        if (!(o->cmds & cmd) || strcmp(o->name, "script") == 0) continue;
        const char *h = o->help, *sp = strstr(h, "  ");
        if (o->type != T_BOOL && sp)
            fprintf(f, "  --%s %.*s\n      %s\n", o->name, (int)(sp - h), h, sp + 2);
        else
            fprintf(f, "  --%s\n      %s\n", o->name, h);
    }
}
