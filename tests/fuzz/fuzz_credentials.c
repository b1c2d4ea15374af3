/* fuzz_credentials — the parsers of credentials.c's pure half (aws_config.c)
 * on arbitrary bytes: the bounded XML tag extractor and the STS answer built
 * on it, the ECS/IMDS credentials JSON, and the shared-file INI dialect with
 * profile lookup. Checks the documented invariants: outputs are
 * NUL-terminated within their buffers, a successful parse yields clean,
 * non-empty keys, and INI callbacks get a lower-case key with no '=' in it. */
#include "aws_config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "fuzz_credentials: %s\n", #c); abort(); } } while (0)

static void check_creds(const kcl_credentials *c)
{
    REQUIRE(memchr(c->access_key_id, 0, sizeof c->access_key_id) && c->access_key_id[0]);
    REQUIRE(memchr(c->secret_access_key, 0, sizeof c->secret_access_key) && c->secret_access_key[0]);
    REQUIRE(memchr(c->session_token, 0, sizeof c->session_token));
    for (const char *s = c->secret_access_key; *s; s++) REQUIRE((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f);
}

static int on_prop(const char *section, const char *key, const char *value, void *ud)
{
    int *n = ud;
    REQUIRE(section[0] && key[0]);
    REQUIRE(strlen(section) < 256 && strlen(key) < 128);
    REQUIRE(strlen(value) < KCL_CREDS_TOKEN_MAX + 256);
    for (const char *k = key; *k; k++) REQUIRE(*k != '=' && *k != '\n' && !isupper((unsigned char)*k));
    return ++*n > 10000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char out[64], err[256];
    kcl_credentials c;

    static const char *const tags[] = {"AccessKeyId", "Code", "Message", "a", "Expiration"};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        memset(out, 'x', sizeof out);
        if (kcl_xml_text(text, size, tags[i], out, sizeof out) == 0) REQUIRE(memchr(out, 0, sizeof out));
    }
    err[0] = 0;
    if (kcl_creds_parse_sts_xml(text, size, &c, err, sizeof err) == 0) check_creds(&c);
    else REQUIRE(err[0] && memchr(err, 0, sizeof err));
    err[0] = 0;
    if (kcl_creds_parse_json(text, size, &c, err, sizeof err) == 0) check_creds(&c);
    else REQUIRE(err[0] && memchr(err, 0, sizeof err));
    kcl_credentials_wipe(&c);

    int n = 0;
    kcl_ini_parse(text, size, on_prop, &n);
    for (int is_config = 0; is_config < 2; is_config++) {
        kcl_aws_profile p = {0};
        REQUIRE(kcl_aws_profile_parse(&p, text, size, is_config, "default") >= 0);
        kcl_aws_profile_parse(&p, text, size, is_config, "p");
        if (!is_config) REQUIRE(p.region == NULL && p.role_arn == NULL);
        kcl_aws_profile_free(&p);
    }
    return 0;
}
