#include "log.h"

#include "buf.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>

kcl_log_level kcl_log_level_current = KCL_LOG_INFO;
static kcl_log_format log_format = KCL_LOG_TEXT;
static FILE *log_file = NULL;
static kcl_log_hook_fn log_hook = NULL;
static void *log_hook_ud = NULL;

#define MAX_SECRETS 64
static char *secrets[MAX_SECRETS];
static int nsecrets = 0;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void kcl_log_set_level(kcl_log_level level) { kcl_log_level_current = level; }
kcl_log_level kcl_log_get_level(void) { return kcl_log_level_current; }
void kcl_log_set_format(kcl_log_format format) { log_format = format; }
void kcl_log_set_file(FILE *f) { log_file = f; }
void kcl_log_set_hook(kcl_log_hook_fn fn, void *ud) { log_hook = fn; log_hook_ud = ud; }

const char *kcl_log_level_name(kcl_log_level level)
{
    return (unsigned)level <= KCL_LOG_OFF ? level_names[level] : "?";
}

int kcl_log_parse_level(const char *name, kcl_log_level *out)
{
    for (int i = 0; i <= KCL_LOG_OFF; i++) {
        if (name && strcmp(name, level_names[i]) == 0) { *out = (kcl_log_level)i; return 0; }
    }
    if (name && strcmp(name, "warning") == 0) { *out = KCL_LOG_WARN; return 0; }
    return -1;
}

void kcl_log_add_secret(const char *secret)
{
    if (!secret || strlen(secret) < 4) return;
    for (int i = 0; i < nsecrets; i++) {
        if (strcmp(secrets[i], secret) == 0) {
            /* still in use: make it the newest so it is the last to be forgotten */
            char *keep = secrets[i];
            memmove(secrets + i, secrets + i + 1, sizeof(secrets[0]) * (size_t)(nsecrets - i - 1));
            secrets[nsecrets - 1] = keep;
            return;
        }
    }
    if (nsecrets == MAX_SECRETS) {      /* forget the oldest */
        volatile char *p = secrets[0];
        while (*p) *p++ = 0;
        free(secrets[0]);
        memmove(secrets, secrets + 1, sizeof(secrets[0]) * (MAX_SECRETS - 1));
        nsecrets--;
    }
    char *copy = strdup(secret);
    if (copy) secrets[nsecrets++] = copy;
}

void kcl_log_clear_secrets(void)
{
    for (int i = 0; i < nsecrets; i++) {
        /* wipe before freeing so the bytes do not linger in the heap */
        volatile char *p = secrets[i];
        while (*p) *p++ = 0;
        free(secrets[i]);
    }
    nsecrets = 0;
}

static void mask_secrets(char *s)
{
    for (int i = 0; i < nsecrets; i++) {
        size_t n = strlen(secrets[i]);
        char *hit;
        while ((hit = strstr(s, secrets[i])) != NULL) memset(hit, '*', n);
    }
}

static void json_escape(kcl_buf *b, const char *s)
{
    kcl_buf_append_char(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  kcl_buf_append_str(b, "\\\""); break;
        case '\\': kcl_buf_append_str(b, "\\\\"); break;
        case '\n': kcl_buf_append_str(b, "\\n"); break;
        case '\r': kcl_buf_append_str(b, "\\r"); break;
        case '\t': kcl_buf_append_str(b, "\\t"); break;
        default:
            if (*p < 0x20) kcl_buf_printf(b, "\\u%04x", *p);
            else kcl_buf_append_char(b, (char)*p);
        }
    }
    kcl_buf_append_char(b, '"');
}

/* Text values with spaces or quotes are quoted so lines stay greppable. */
static void text_value(kcl_buf *b, const char *v)
{
    if (*v && !strpbrk(v, " \"=\t\n")) kcl_buf_append_str(b, v);
    else json_escape(b, v);
}

void kcl_log_vwrite(kcl_log_level level, const char *shard, const char *const *fields,
                    const char *fmt, va_list ap)
{
    if (!kcl_log_enabled(level) || level >= KCL_LOG_OFF) return;
    kcl_buf msg = KCL_BUF_INIT, line = KCL_BUF_INIT;
    kcl_buf_vprintf(&msg, fmt, ap);
    char ts[25];
    kcl_clock_format_rfc3339(kcl_clock_wall_ms(), ts);

    if (log_format == KCL_LOG_JSON) {
        kcl_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
        if (shard) { kcl_buf_append_str(&line, ",\"shard\":"); json_escape(&line, shard); }
        kcl_buf_append_str(&line, ",\"msg\":");
        json_escape(&line, kcl_buf_cstr(&msg));
        for (const char *const *f = fields; f && f[0] && f[1]; f += 2) {
            kcl_buf_append_char(&line, ',');
            json_escape(&line, f[0]);
            kcl_buf_append_char(&line, ':');
            json_escape(&line, f[1]);
        }
        kcl_buf_append_char(&line, '}');
    } else {
        kcl_buf_printf(&line, "%s %-5s ", ts, level_names[level]);
        if (shard) kcl_buf_printf(&line, "[%s] ", shard);
        kcl_buf_append_str(&line, kcl_buf_cstr(&msg));
        for (const char *const *f = fields; f && f[0] && f[1]; f += 2) {
            kcl_buf_printf(&line, " %s=", f[0]);
            text_value(&line, f[1]);
        }
    }
    if (line.data) {
        mask_secrets(line.data);
        FILE *out = log_file ? log_file : stderr;
        fprintf(out, "%s\n", line.data);
        fflush(out);
        if (log_hook) log_hook(level, line.data, log_hook_ud);
    }
    /* The unmasked message may hold a secret: wipe both buffers before freeing. */
    if (msg.data) memset(msg.data, 0, msg.cap);
    if (line.data) memset(line.data, 0, line.cap);
    kcl_buf_free(&msg);
    kcl_buf_free(&line);
}

void kcl_log_write(kcl_log_level level, const char *shard, const char *const *fields,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kcl_log_vwrite(level, shard, fields, fmt, ap);
    va_end(ap);
}
