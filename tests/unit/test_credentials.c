/* Unit tests of the pure parts of credentials (aws_config.c) and of the
 * provider chain's local links (explicit, environment, profile files), with
 * no network: the provider gets no HTTP client, so network links fail. */
#include "aws_config.h"
#include "clock.h"
#include "credentials.h"
#include "log.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

static void clear_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
        "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_STS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", NULL};
    for (int i = 0; vars[i]; i++) unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

/* ---- INI ---------------------------------------------------------------- */

struct seen { char lines[32][200]; int n; };
static int collect(const char *section, const char *key, const char *value, void *ud)
{
    struct seen *s = ud;
    if (s->n < 32) snprintf(s->lines[s->n++], 200, "%s|%s|%s", section, key, value);
    return 0;
}

static void test_ini(void)
{
    const char *text =
        "\xEF\xBB\xBF# comment\r\n"
        "top = ignored\n"
        "  [  profile    odd\t name ]   # trailing\r\n"
        "\tKey_One   =   value one   ; inline comment\n"
        "key2=v#not-a-comment\n"
        "s3 =\n"
        "   addressing_style = path\n"
        "   max_concurrent = 5\n"
        "key3 : colon value\n"
        "; another comment\n"
        "novalue\n"
        "[broken\n"
        "lost = yes\n"
        "[]\n"
        "lost2 = yes\n"
        "[default]\n"
        "empty =\n"
        "last = x";
    struct seen s = {0};
    int n = kcl_ini_parse(text, strlen(text), collect, &s);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_INT(s.n, 6);
    CHECK_EQ_STR(s.lines[0], "profile odd name|key_one|value one");
    CHECK_EQ_STR(s.lines[1], "profile odd name|key2|v#not-a-comment");
    CHECK_EQ_STR(s.lines[2], "profile odd name|s3|");
    CHECK_EQ_STR(s.lines[3], "profile odd name|key3|colon value");
    CHECK_EQ_STR(s.lines[4], "default|empty|");
    CHECK_EQ_STR(s.lines[5], "default|last|x");

    /* indented first key of a section is a key; not a continuation */
    const char *t2 = "[a]\n  k = 1\n  j = 2\n";
    struct seen s2 = {0};
    kcl_ini_parse(t2, strlen(t2), collect, &s2);
    CHECK_EQ_INT(s2.n, 1);
    CHECK_EQ_STR(s2.lines[0], "a|k|1");

    /* empty and garbage input */
    CHECK_EQ_INT(kcl_ini_parse("", 0, collect, &s2), 0);
    CHECK_EQ_INT(kcl_ini_parse("[[[]]]=\n==\n", 11, collect, &s2), 0);
    CHECK_EQ_INT(kcl_ini_parse("[s]\n=v\nk=\n", 10, collect, &s2), 1);
}

static void test_profile_parse(void)
{
    const char *config =
        "[default]\nregion = us-west-2\n"
        "[profile dev]\nregion=eu-west-1\naws_access_key_id = CONFIGKEY\naws_secret_access_key = configsecret\n"
        "[dev]\nregion = never-used\n"
        "[profile web]\nrole_arn = arn:aws:iam::123456789012:role/r\nweb_identity_token_file = /tmp/t\n";
    const char *creds =
        "[dev]\naws_access_key_id = CREDKEY\naws_secret_access_key = credsecret\naws_session_token = tok\n"
        "region = ignored-in-credentials\n"
        "[profile dev]\naws_access_key_id = WRONG\n";
    kcl_aws_profile p = {0};
    CHECK_EQ_INT(kcl_aws_profile_parse(&p, config, strlen(config), 1, "dev"), 1);
    CHECK_EQ_STR(p.region, "eu-west-1");
    CHECK_EQ_STR(p.aws_access_key_id, "CONFIGKEY");
    CHECK_EQ_INT(kcl_aws_profile_parse(&p, creds, strlen(creds), 0, "dev"), 1);
    CHECK_EQ_STR(p.aws_access_key_id, "CREDKEY");
    CHECK_EQ_STR(p.aws_secret_access_key, "credsecret");
    CHECK_EQ_STR(p.aws_session_token, "tok");
    CHECK_EQ_STR(p.region, "eu-west-1");
    kcl_aws_profile_free(&p);
    CHECK(p.region == NULL && !p.found);

    CHECK_EQ_INT(kcl_aws_profile_parse(&p, config, strlen(config), 1, "default"), 1);
    CHECK_EQ_STR(p.region, "us-west-2");
    kcl_aws_profile_free(&p);
    const char *pd = "[profile default]\nregion = ap-south-1\n";
    CHECK_EQ_INT(kcl_aws_profile_parse(&p, pd, strlen(pd), 1, "default"), 1);
    CHECK_EQ_STR(p.region, "ap-south-1");
    kcl_aws_profile_free(&p);
    CHECK_EQ_INT(kcl_aws_profile_parse(&p, config, strlen(config), 1, "web"), 1);
    CHECK_EQ_STR(p.role_arn, "arn:aws:iam::123456789012:role/r");
    CHECK_EQ_STR(p.web_identity_token_file, "/tmp/t");
    kcl_aws_profile_free(&p);
    CHECK_EQ_INT(kcl_aws_profile_parse(&p, config, strlen(config), 1, "nope"), 0);
    kcl_aws_profile_free(&p);
}

/* ---- response parsers ----------------------------------------------------- */

static void test_xml(void)
{
    char out[64];
    const char *x = "<A><B attr=\"1\"> x &lt;&amp;&gt;&quot;&apos;&#65;&#x42; </B><Empty/><E2></E2><BB>no</BB></A>";
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "B", out, sizeof out), 0);
    CHECK_EQ_STR(out, "x <&>\"'AB");
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "BB", out, sizeof out), 0);
    CHECK_EQ_STR(out, "no");
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "Empty", out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "E2", out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "C", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text(x, strlen(x), "A", out, sizeof out), -1);      /* not text-only */
    /* malformed: unterminated, bad entity, too long, cut short by len */
    CHECK_EQ_INT(kcl_xml_text("<B>abc", 6, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>a&bogus;</B>", 15, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>a&#0;</B>", 12, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>a&#xFFFFFFFFFF;</B>", 22, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>abcdef</B>", 13, "B", out, 4), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>ab</B>", 7, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B", 2, "B", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_xml_text("<B>x</Bx>", 9, "B", out, sizeof out), -1);

    const char *sts =
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
        "  <AssumeRoleWithWebIdentityResult>\n"
        "    <SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>\n"
        "    <Credentials>\n"
        "      <SessionToken>FwoGZX+/tok==</SessionToken>\n"
        "      <SecretAccessKey>wJalr/secret+key</SecretAccessKey>\n"
        "      <Expiration>2030-01-02T03:04:05Z</Expiration>\n"
        "      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
        "    </Credentials>\n"
        "  </AssumeRoleWithWebIdentityResult>\n"
        "</AssumeRoleWithWebIdentityResponse>\n";
    kcl_credentials c;
    char err[256];
    CHECK_EQ_INT(kcl_creds_parse_sts_xml(sts, strlen(sts), &c, err, sizeof err), 0);
    CHECK_EQ_STR(c.access_key_id, "ASIAEXAMPLE");
    CHECK_EQ_STR(c.secret_access_key, "wJalr/secret+key");
    CHECK_EQ_STR(c.session_token, "FwoGZX+/tok==");
    CHECK_EQ_INT(c.expiration_ms, 1893553445000LL);
    kcl_credentials_wipe(&c);
    CHECK_EQ_STR(c.secret_access_key, "");

    const char *sts_err =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
        "<Code>InvalidIdentityToken</Code><Message>bad token</Message></Error></ErrorResponse>";
    CHECK_EQ_INT(kcl_creds_parse_sts_xml(sts_err, strlen(sts_err), &c, err, sizeof err), -1);
    CHECK(strstr(err, "InvalidIdentityToken") && strstr(err, "bad token"));
    const char *no_exp = "<AccessKeyId>A1</AccessKeyId><SecretAccessKey>S1</SecretAccessKey><SessionToken>T</SessionToken>";
    CHECK_EQ_INT(kcl_creds_parse_sts_xml(no_exp, strlen(no_exp), &c, err, sizeof err), -1);
    CHECK(strstr(err, "Expiration") != NULL);
    CHECK_EQ_INT(kcl_creds_parse_sts_xml("garbage", 7, &c, err, sizeof err), -1);
}

static void test_json(void)
{
    kcl_credentials c;
    char err[256];
    const char *j = "{\"Code\":\"Success\",\"LastUpdated\":\"2030-01-01T00:00:00Z\",\"Type\":\"AWS-HMAC\","
                    "\"Nested\":{\"a\":[1,2,{\"b\":3}]},"
                    "\"AccessKeyId\":\"ASIAJSON\",\"SecretAccessKey\":\"se\\/cr\\u0065t\","
                    "\"Token\":\"tok\",\"Expiration\":\"2030-01-02T03:04:05Z\"}";
    CHECK_EQ_INT(kcl_creds_parse_json(j, strlen(j), &c, err, sizeof err), 0);
    CHECK_EQ_STR(c.access_key_id, "ASIAJSON");
    CHECK_EQ_STR(c.secret_access_key, "se/cret");
    CHECK_EQ_STR(c.session_token, "tok");
    CHECK_EQ_INT(c.expiration_ms, 1893553445000LL);
    /* static keys from a container endpoint: no token, no expiry */
    const char *st = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK12\"}";
    CHECK_EQ_INT(kcl_creds_parse_json(st, strlen(st), &c, err, sizeof err), 0);
    CHECK_EQ_INT(c.expiration_ms, 0);
    static const char *const bad[] = {
        "", "[]", "{", "{\"AccessKeyId\":\"AK\"}", "{\"AccessKeyId\":1,\"SecretAccessKey\":\"S\"}",
        "{\"Code\":\"Failure\",\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\"}",
        "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\",\"Token\":\"T\"}",
        "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"soon\"}",
        "{\"AccessKeyId\":\"A K\",\"SecretAccessKey\":\"S\"}",
        "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\\u0000\"}",
        "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\\q\"}", NULL};
    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        int r = kcl_creds_parse_json(bad[i], strlen(bad[i]), &c, err, sizeof err);
        CHECK_MSG(r == -1 && err[0], "input %d: r=%d", i, r);
        CHECK(c.access_key_id[0] == 0);
    }
}

static void test_helpers(void)
{
    CHECK(kcl_url_host_is_local("http://127.0.0.1:8080/x", 0));
    CHECK(kcl_url_host_is_local("http://localhost/x", 0));
    CHECK(kcl_url_host_is_local("http://[::1]:9/x", 0));
    CHECK(!kcl_url_host_is_local("http://169.254.170.2/v2/creds", 0));
    CHECK(kcl_url_host_is_local("http://169.254.170.2/v2/creds", 1));
    CHECK(kcl_url_host_is_local("http://[fd00:ec2::23]/creds", 1));
    CHECK(!kcl_url_host_is_local("http://169.254.169.254/latest", 1));
    CHECK(!kcl_url_host_is_local("http://127.0.0.1.evil.example/x", 0));
    CHECK(!kcl_url_host_is_local("http://127.0.0.1.2/x", 0));
    CHECK(!kcl_url_host_is_local("http://example.com/127.0.0.1", 0));
    /* userinfo: libcurl connects to the host after the '@' */
    CHECK(!kcl_url_host_is_local("http://localhost:80@evil.example/x", 0));
    CHECK(!kcl_url_host_is_local("http://127.0.0.1:1@evil.example/", 0));
    CHECK(!kcl_url_host_is_local("http://[::1]@evil.example/", 0));
    CHECK(!kcl_url_host_is_local("http://169.254.170.2:80@evil.example/creds", 1));
    CHECK(!kcl_url_host_is_local("http://localhost@evil.example", 0));
    CHECK(kcl_url_host_is_local("http://localhost/a@b", 0));   /* '@' in the path only */
    CHECK(!kcl_url_host_is_local("no-scheme", 1));

    kcl_buf b = KCL_BUF_INIT;
    char err[256], path[512];
    snprintf(path, sizeof path, "%s/tok", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("  \n eyJ.token.sig \r\n\n", f);
    fclose(f);
    CHECK_EQ_INT(kcl_aws_read_token_file(path, &b, err, sizeof err), 0);
    CHECK_EQ_STR(kcl_buf_cstr(&b), "eyJ.token.sig");
    f = fopen(path, "w");
    fputs("two\nlines", f);
    fclose(f);
    CHECK_EQ_INT(kcl_aws_read_token_file(path, &b, err, sizeof err), -1);
    CHECK(strstr(err, "control characters") != NULL && strstr(err, "two") == NULL);
    f = fopen(path, "w");
    fputs(" \n", f);
    fclose(f);
    CHECK_EQ_INT(kcl_aws_read_token_file(path, &b, err, sizeof err), -1);
    CHECK(strstr(err, "is empty") != NULL);
    unlink(path);
    CHECK_EQ_INT(kcl_aws_read_token_file(path, &b, err, sizeof err), -1);
    CHECK(strstr(err, "cannot read") != NULL);
    kcl_buf_free(&b);
}

static void test_form(void)
{
    kcl_buf b = KCL_BUF_INIT;
    kcl_form_append(&b, "RoleArn", "arn:aws:iam::1:role/a b");
    kcl_form_append(&b, "X", "~-_.+&=");
    CHECK_EQ_STR(kcl_buf_cstr(&b), "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&X=~-_.%2B%26%3D");
    kcl_buf_free(&b);
}

/* ---- region and endpoints -------------------------------------------------- */

static void test_region_endpoint(void)
{
    char out[128], path[512];
    clear_env();
    write_file("config", "[default]\nregion = eu-central-1\n[profile other]\nregion = ap-northeast-1\n"
                         "[profile bad]\nregion = Not A Region\n");
    snprintf(path, sizeof path, "%s/config", tmpdir);
    setenv("AWS_CONFIG_FILE", path, 1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "eu-central-1");
    CHECK_EQ_INT(kcl_region_resolve(NULL, "other", out, sizeof out), 0);
    CHECK_EQ_STR(out, "ap-northeast-1");
    setenv("AWS_PROFILE", "other", 1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "ap-northeast-1");
    CHECK_EQ_INT(kcl_region_resolve(NULL, "bad", out, sizeof out), -1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, "missing", out, sizeof out), -1);
    CHECK_EQ_STR(out, "");
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "us-west-1");
    setenv("AWS_REGION", "us-east-2", 1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "us-east-2");
    CHECK_EQ_INT(kcl_region_resolve("cn-north-1", NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "cn-north-1");
    CHECK_EQ_INT(kcl_region_resolve("us-east-1/../x", NULL, out, sizeof out), -1);
    CHECK_EQ_INT(kcl_region_resolve("us-east-1", NULL, out, 4), -1);
    clear_env();
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    CHECK_EQ_INT(kcl_region_resolve(NULL, NULL, out, sizeof out), -1);

    CHECK_EQ_INT(kcl_endpoint_resolve("kinesis", NULL, "us-east-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "https://kinesis.us-east-1.amazonaws.com");
    CHECK_EQ_INT(kcl_endpoint_resolve("dynamodb", NULL, "cn-northwest-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "https://dynamodb.cn-northwest-1.amazonaws.com.cn");
    CHECK_EQ_INT(kcl_endpoint_resolve("sts", NULL, NULL, out, sizeof out), -1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9/", 1);
    CHECK_EQ_INT(kcl_endpoint_resolve("sts", NULL, NULL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "http://127.0.0.1:9");
    setenv("AWS_ENDPOINT_URL_STS", "http://localhost:8", 1);
    CHECK_EQ_INT(kcl_endpoint_resolve("sts", NULL, "us-east-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "http://localhost:8");
    CHECK_EQ_INT(kcl_endpoint_resolve("kinesis", NULL, "us-east-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "http://127.0.0.1:9");
    CHECK_EQ_INT(kcl_endpoint_resolve("sts", "https://x.example//", "us-east-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "https://x.example");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    CHECK_EQ_INT(kcl_endpoint_resolve("sts", NULL, "us-east-1", out, sizeof out), 0);
    CHECK_EQ_STR(out, "https://sts.us-east-1.amazonaws.com");
    CHECK_EQ_INT(kcl_endpoint_resolve("kinesis", NULL, "us-east-1", out, 10), -1);
    clear_env();
}

/* ---- the provider's local links ------------------------------------------- */

struct got {
    int calls, ok;
    char akid[128], source[64], msg[512];
    int sync_guard;
    kcl_creds_provider *free_me;
};

static void on_creds(const kcl_credentials *c, const kcl_error *err, void *ud)
{
    struct got *g = ud;
    CHECK_MSG(!g->sync_guard, "callback ran inside kcl_creds_get");
    g->calls++;
    g->ok = c != NULL;
    snprintf(g->akid, sizeof g->akid, "%s", c ? c->access_key_id : "");
    snprintf(g->msg, sizeof g->msg, "%s", err ? err->message : "");
    if (g->free_me) { kcl_creds_provider_free(g->free_me); g->free_me = NULL; }
}

static int fetch(struct ev_loop *loop, kcl_creds_provider *p, struct got *g)
{
    memset(g, 0, sizeof *g);
    g->sync_guard = 1;
    kcl_creds_wait *w = kcl_creds_get(p, on_creds, g);
    g->sync_guard = 0;
    CHECK(w != NULL);
    CHECK_EQ_INT(g->calls, 0);
    int rc = kcl_test_run_until(loop, &g->calls, 2000);
    CHECK_EQ_INT(rc, 0);
    snprintf(g->source, sizeof g->source, "%s", kcl_creds_source(p));
    return g->ok ? 0 : -1;
}

static kcl_creds_provider *provider(struct ev_loop *loop, const char *akid, const char *secret,
                                    const char *profile)
{
    kcl_creds_config cfg = {0};
    kcl_error err;
    cfg.loop = loop;
    cfg.access_key_id = akid;
    cfg.secret_access_key = secret;
    cfg.profile = profile;
    kcl_creds_provider *p = kcl_creds_provider_new(&cfg, &err);
    CHECK_MSG(p != NULL, "%s", err.message);
    return p;
}

static void test_chain(void)
{
    struct ev_loop *loop = ev_default_loop(0);
    struct got g;
    char path[512];
    clear_env();
    write_file("credentials", "[default]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = profilesecret\n"
                              "[half]\naws_access_key_id = ONLYKEY\n");
    write_file("config2", "[profile web]\nrole_arn = arn:aws:iam::1:role/x\nweb_identity_token_file = /nonexistent/tok\n"
                          "[profile assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
    snprintf(path, sizeof path, "%s/credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof path, "%s/config2", tmpdir);
    setenv("AWS_CONFIG_FILE", path, 1);

    /* explicit beats everything */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    kcl_creds_provider *p = provider(loop, "EXPLICITKEY", "explicitsecret", NULL);
    CHECK(kcl_creds_current(p) == NULL);
    CHECK_EQ_INT(fetch(loop, p, &g), 0);
    CHECK_EQ_STR(g.akid, "EXPLICITKEY");
    CHECK_EQ_STR(g.source, "explicit");
    const kcl_credentials *cur = kcl_creds_current(p);
    CHECK(cur && strcmp(cur->secret_access_key, "explicitsecret") == 0 && cur->expiration_ms == 0);
    /* a second get is served from the cache, still asynchronously */
    CHECK_EQ_INT(fetch(loop, p, &g), 0);
    CHECK_EQ_INT(kcl_creds_fetch_count(p), 1);
    kcl_creds_provider_free(p);

    /* environment beats the profile; legacy names work too */
    p = provider(loop, NULL, NULL, NULL);
    CHECK_EQ_INT(fetch(loop, p, &g), 0);
    CHECK_EQ_STR(g.akid, "ENVKEY");
    CHECK_EQ_STR(g.source, "environment");
    kcl_creds_provider_free(p);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_ACCESS_KEY", "LEGACYKEY", 1);
    setenv("AWS_SECRET_KEY", "legacysecret", 1);
    p = provider(loop, NULL, NULL, NULL);
    CHECK_EQ_INT(fetch(loop, p, &g), 0);
    CHECK_EQ_STR(g.akid, "LEGACYKEY");
    kcl_creds_provider_free(p);
    unsetenv("AWS_ACCESS_KEY");
    unsetenv("AWS_SECRET_KEY");

    /* half-set environment falls through to the profile */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    p = provider(loop, NULL, NULL, NULL);
    CHECK_EQ_INT(fetch(loop, p, &g), 0);
    CHECK_EQ_STR(g.akid, "PROFILEKEY");
    CHECK_EQ_STR(g.source, "profile:default");
    kcl_creds_provider_free(p);
    unsetenv("AWS_ACCESS_KEY_ID");

    /* AWS_PROFILE chooses; an unusable profile makes the chain fail, naming every link */
    setenv("AWS_PROFILE", "half", 1);
    p = provider(loop, NULL, NULL, NULL);
    CHECK_EQ_INT(fetch(loop, p, &g), -1);
    CHECK(strstr(g.msg, "environment: AWS_ACCESS_KEY_ID not set") != NULL);
    CHECK(strstr(g.msg, "profile:half: SecretAccessKey is empty") != NULL);
    CHECK(strstr(g.msg, "web-identity: AWS_WEB_IDENTITY_TOKEN_FILE not set") != NULL);
    CHECK(strstr(g.msg, "ecs: ") != NULL);
    CHECK(strstr(g.msg, "imds: disabled") != NULL);
    CHECK(kcl_creds_current(p) == NULL);
    CHECK_EQ_STR(kcl_creds_source(p), "");
    kcl_creds_provider_free(p);
    unsetenv("AWS_PROFILE");

    /* profile with web identity: the token file cannot be read; role_arn+source_profile unsupported */
    p = provider(loop, NULL, NULL, "web");
    CHECK_EQ_INT(fetch(loop, p, &g), -1);
    CHECK(strstr(g.msg, "profile:web: web identity token: cannot read /nonexistent/tok") != NULL);
    kcl_creds_provider_free(p);
    p = provider(loop, NULL, NULL, "assume");
    CHECK_EQ_INT(fetch(loop, p, &g), -1);
    CHECK(strstr(g.msg, "profile:assume: uses role_arn with source_profile") != NULL);
    kcl_creds_provider_free(p);
    p = provider(loop, NULL, NULL, "nosuch");
    CHECK_EQ_INT(fetch(loop, p, &g), -1);
    CHECK(strstr(g.msg, "profile:nosuch: no such profile") != NULL);
    kcl_creds_provider_free(p);

    /* web identity from the environment with no HTTP client fails cleanly */
    write_file("token", "jwt-token-value\n");
    snprintf(path, sizeof path, "%s/token", tmpdir);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    p = provider(loop, NULL, NULL, "nosuch");
    CHECK_EQ_INT(fetch(loop, p, &g), -1);
    CHECK(strstr(g.msg, "web-identity: no HTTP client configured") != NULL);
    kcl_creds_provider_free(p);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");

    /* bad explicit config is refused up front */
    kcl_creds_config cfg = {0};
    kcl_error err;
    cfg.loop = loop;
    cfg.access_key_id = "ONLYKEY";
    CHECK(kcl_creds_provider_new(&cfg, &err) == NULL);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    cfg.secret_access_key = "has space";
    CHECK(kcl_creds_provider_new(&cfg, &err) == NULL);

    /* cancel: the callback never runs; free with a waiter pending */
    p = provider(loop, "K1", "S1S1", NULL);
    memset(&g, 0, sizeof g);
    kcl_creds_wait *w = kcl_creds_get(p, on_creds, &g);
    kcl_creds_cancel(w);
    struct got g2 = {0};
    kcl_creds_get(p, on_creds, &g2);
    CHECK_EQ_INT(kcl_test_run_until(loop, &g2.calls, 2000), 0);
    CHECK_EQ_INT(g.calls, 0);
    memset(&g, 0, sizeof g);
    kcl_creds_get(p, on_creds, &g);
    kcl_creds_provider_free(p);
    ev_run(loop, EVRUN_NOWAIT);
    CHECK_EQ_INT(g.calls, 0);

    /* free from inside a callback, with another waiter still queued */
    p = provider(loop, "K2", "S2S2", NULL);
    memset(&g, 0, sizeof g);
    memset(&g2, 0, sizeof g2);
    g.free_me = p;
    kcl_creds_get(p, on_creds, &g);
    kcl_creds_get(p, on_creds, &g2);
    CHECK_EQ_INT(kcl_test_run_until(loop, &g.calls, 2000), 0);
    ev_run(loop, EVRUN_NOWAIT);
    CHECK_EQ_INT(g.calls, 1);
    CHECK_EQ_INT(g2.calls, 0);
    clear_env();
}

static int hook_hits;
static void secret_hook(kcl_log_level level, const char *line, void *ud)
{
    if (strstr(line, "explicitsecret") || strstr(line, "envsecret")) hook_hits++;
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kcl-creds-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    FILE *devnull = fopen("/dev/null", "w");
    kcl_log_set_file(devnull);
    kcl_log_set_hook(secret_hook, NULL);
    kcl_log_set_level(KCL_LOG_DEBUG);

    test_ini();
    test_profile_parse();
    test_xml();
    test_json();
    test_form();
    test_helpers();
    test_region_endpoint();
    for (int i = 0; i < 2; i++) test_chain();     /* twice: no leaked state */
    CHECK_EQ_INT(hook_hits, 0);

    static const char *const files[] = {"config", "config2", "credentials", "token", NULL};
    for (int i = 0; files[i]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    kcl_log_set_hook(NULL, NULL);
    kcl_log_set_file(NULL);
    kcl_log_clear_secrets();
    fclose(devnull);
    ev_loop_destroy(ev_default_loop(0));
    return TEST_END();
}
