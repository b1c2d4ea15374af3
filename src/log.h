/* log — leveled log lines, text (for a terminal) or JSON lines, written to
 * stderr (or a sink set by tests). Every line about a shard carries its shard
 * id. Secrets registered with kcl_log_add_secret are masked in every line
 * before it is written, so a credential that slips into a message (an error
 * body echoing a header, say) never reaches the log. */
#ifndef KCL_LOG_H
#define KCL_LOG_H

#include <stdarg.h>
#include <stdio.h>

typedef enum {
    KCL_LOG_DEBUG = 0,
    KCL_LOG_INFO,
    KCL_LOG_WARN,
    KCL_LOG_ERROR,
    KCL_LOG_OFF
} kcl_log_level;

typedef enum { KCL_LOG_TEXT = 0, KCL_LOG_JSON } kcl_log_format;

void kcl_log_set_level(kcl_log_level level);
kcl_log_level kcl_log_get_level(void);
void kcl_log_set_format(kcl_log_format format);
/* Write lines to `f` instead of stderr (NULL restores stderr). */
void kcl_log_set_file(FILE *f);
/* Also hand each finished line (without the newline) to `fn`; tests use it. */
typedef void (*kcl_log_hook_fn)(kcl_log_level level, const char *line, void *ud);
void kcl_log_set_hook(kcl_log_hook_fn fn, void *ud);
/* "debug" | "info" | "warn" | "error" | "off" -> level. 0, or -1 if unknown. */
int kcl_log_parse_level(const char *name, kcl_log_level *out);
const char *kcl_log_level_name(kcl_log_level level);

/* Mask this string (>= 4 bytes; shorter ones are ignored) wherever it appears
 * in a log line. The log keeps its own copy; kcl_log_clear_secrets forgets all. */
void kcl_log_add_secret(const char *secret);
void kcl_log_clear_secrets(void);

static inline int kcl_log_enabled(kcl_log_level level);

/* One log line. `shard` may be NULL. `fields` is NULL or a NULL-terminated
 * array of key, value string pairs added to the line ("k=v" in text, members
 * in JSON). */
void kcl_log_write(kcl_log_level level, const char *shard, const char *const *fields,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void kcl_log_vwrite(kcl_log_level level, const char *shard, const char *const *fields,
                    const char *fmt, va_list ap);

extern kcl_log_level kcl_log_level_current;
static inline int kcl_log_enabled(kcl_log_level level) { return level >= kcl_log_level_current; }

#define KCL_LOG(lvl, shard, ...) \
    do { if (kcl_log_enabled(lvl)) kcl_log_write((lvl), (shard), NULL, __VA_ARGS__); } while (0)
#define KCL_DEBUG(shard, ...) KCL_LOG(KCL_LOG_DEBUG, shard, __VA_ARGS__)
#define KCL_INFO(shard, ...)  KCL_LOG(KCL_LOG_INFO, shard, __VA_ARGS__)
#define KCL_WARN(shard, ...)  KCL_LOG(KCL_LOG_WARN, shard, __VA_ARGS__)
#define KCL_ERROR(shard, ...) KCL_LOG(KCL_LOG_ERROR, shard, __VA_ARGS__)

#endif
