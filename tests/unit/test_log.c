#include "log.h"
#include "testlib.h"

#include <stdlib.h>

static char last[2048];
static void hook(kcl_log_level level, const char *line, void *ud)
{
    (void)level; (void)ud;
    snprintf(last, sizeof last, "%s", line);
}

int main(void)
{
    FILE *devnull = fopen("/dev/null", "w");
    kcl_log_set_file(devnull);
    kcl_log_set_hook(hook, NULL);

    kcl_log_set_level(KCL_LOG_INFO);
    last[0] = 0;
    KCL_DEBUG(NULL, "hidden");
    CHECK_EQ_STR(last, "");
    KCL_INFO("shardId-000000000001", "hello %d", 42);
    CHECK(strstr(last, "[shardId-000000000001] hello 42") != NULL);

    const char *fields[] = {"key", "a value", "n", "7", NULL};
    kcl_log_write(KCL_LOG_WARN, NULL, fields, "with fields");
    CHECK(strstr(last, "with fields key=\"a value\" n=7") != NULL);

    kcl_log_set_format(KCL_LOG_JSON);
    kcl_log_write(KCL_LOG_ERROR, "s-1", fields, "quote \" and\nnewline");
    CHECK(strstr(last, "\"level\":\"error\",\"shard\":\"s-1\",\"msg\":\"quote \\\" and\\nnewline\"") != NULL);
    CHECK(strstr(last, "\"key\":\"a value\",\"n\":\"7\"}") != NULL);

    /* secrets never reach a line */
    kcl_log_add_secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    KCL_ERROR(NULL, "server said: bad key wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY!");
    CHECK(strstr(last, "wJalrXUtnFEMI") == NULL);
    CHECK(strstr(last, "****************") != NULL);
    kcl_log_clear_secrets();

    kcl_log_level lv;
    CHECK_EQ_INT(kcl_log_parse_level("warn", &lv), 0);
    CHECK_EQ_INT(lv, KCL_LOG_WARN);
    CHECK_EQ_INT(kcl_log_parse_level("loud", &lv), -1);

    kcl_log_set_hook(NULL, NULL);
    kcl_log_set_file(NULL);
    fclose(devnull);
    return TEST_END();
}
