/* The credential provider chain against a fake of the AWS metadata services
 * (tests/harness/extras/fake_aws_metadata.js: STS AssumeRoleWithWebIdentity,
 * the ECS container endpoint, EC2 IMDSv2): each link on its own, the chain's
 * order, one shared fetch for concurrent callers, background refresh before
 * expiry while the loop keeps running, a failed refresh that keeps the old
 * set, fast failure without IMDS, and no secret in any log line.
 *
 * harness: --with fake_aws_metadata */
#include "clock.h"
#include "credentials.h"
#include "json.h"
#include "log.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_MS 10000

static struct ev_loop *loop;
static kcl_http *http;
static const char *fake;
static char tmpdir[256];
static kcl_buf log_lines = KCL_BUF_INIT;
static char *secrets[256];
static int nsecrets;

static void remember_secret(const char *s)
{
    if (!s || !*s || nsecrets == 256) return;
    for (int i = 0; i < nsecrets; i++) if (strcmp(secrets[i], s) == 0) return;
    secrets[nsecrets++] = strdup(s);
}

static void log_hook(kcl_log_level level, const char *line, void *ud)
{
    kcl_buf_append_str(&log_lines, line);
    kcl_buf_append_char(&log_lines, '\n');
}

static void write_file(const char *name, const char *text, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

/* ---- talking to the fake's control routes --------------------------------- */

struct ctl { int done; long status; kcl_buf body; };

static void ctl_done(kcl_http_resp *resp, void *ud)
{
    struct ctl *c = ud;
    c->status = resp->status;
    kcl_buf_append(&c->body, resp->body.data ? resp->body.data : "", resp->body.len);
    c->done = 1;
}

static int control(const char *method, const char *path, const char *body, kcl_buf *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", fake, path);
    const char *headers[] = {"Content-Type: application/json", NULL};
    kcl_http_opts o = {.method = method, .url = url, .headers = headers, .body = body,
                       .body_len = body ? strlen(body) : 0, .retry = {.max_attempts = 1}};
    struct ctl c = {0};
    kcl_error err;
    if (!kcl_http_send(http, &o, ctl_done, &c, &err)) return -1;
    if (kcl_test_run_until(loop, &c.done, WAIT_MS) != 0 || c.status != 200) {
        kcl_buf_free(&c.body);
        return -1;
    }
    if (out) kcl_buf_append(out, kcl_buf_cstr(&c.body), c.body.len);
    kcl_buf_free(&c.body);
    return 0;
}

static long long stat_of(const char *name)
{
    kcl_buf b = KCL_BUF_INIT;
    kcl_json doc = {0};
    kcl_error err;
    int64_t v = -1;
    if (control("GET", "/__stats", NULL, &b) == 0 && kcl_json_parse(&doc, b.data, b.len, 0, &err) == 0)
        kcl_json_int64(&doc, kcl_json_get(&doc, kcl_json_root(&doc), name), &v);
    kcl_json_free(&doc);
    kcl_buf_free(&b);
    return v;
}

static void fake_config(const char *json)
{
    CHECK_MSG(control("POST", "/__config", json, NULL) == 0, "POST /__config %s", json);
}

/* ---- provider helpers -------------------------------------------------------- */

struct got { int calls, ok; char akid[128], source[64], msg[512]; int64_t expiration; };

static void on_creds(const kcl_credentials *c, const kcl_error *err, void *ud)
{
    struct got *g = ud;
    g->calls++;
    g->ok = c != NULL;
    snprintf(g->akid, sizeof g->akid, "%s", c ? c->access_key_id : "");
    snprintf(g->msg, sizeof g->msg, "%s", err ? err->message : "");
    g->expiration = c ? c->expiration_ms : 0;
    if (c) {
        remember_secret(c->secret_access_key);
        remember_secret(c->session_token);
        /* a careless log line: the secret must come out masked */
        KCL_INFO(NULL, "test: got %s / %s", c->secret_access_key, c->session_token);
    }
}

static kcl_creds_provider *provider(double refresh_before_s)
{
    kcl_creds_config cfg = {.loop = loop, .http = http, .ecs_base_url = fake,
                            .refresh_before_s = refresh_before_s};
    kcl_error err;
    kcl_creds_provider *p = kcl_creds_provider_new(&cfg, &err);
    CHECK_MSG(p != NULL, "kcl_creds_provider_new: %s", err.message);
    return p;
}

static int get(kcl_creds_provider *p, struct got *g)
{
    memset(g, 0, sizeof *g);
    CHECK(kcl_creds_get(p, on_creds, g) != NULL);
    CHECK_EQ_INT(g->calls, 0);
    CHECK_EQ_INT(kcl_test_run_until(loop, &g->calls, WAIT_MS), 0);
    snprintf(g->source, sizeof g->source, "%s", kcl_creds_source(p));
    return g->ok ? 0 : -1;
}

/* One provider, one get: the source and access key id that came out. */
static int one_shot(struct got *g)
{
    kcl_creds_provider *p = provider(0);
    int rc = get(p, g);
    kcl_creds_provider_free(p);
    return rc;
}

static char env_akid[128], env_secret[128];

static void reset_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", NULL};
    for (int i = 0; vars[i]; i++) unsetenv(vars[i]);
    char path[512];
    snprintf(path, sizeof path, "%s/no-credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(path, sizeof path, "%s/no-config", tmpdir);
    setenv("AWS_CONFIG_FILE", path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_ENDPOINT_URL_STS", fake, 1);
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_env_and_profile(void)
{
    struct got g;
    char path[512];
    reset_env();
    write_file("credentials", "# test profile\n[default]\n  aws_access_key_id=PROFILEAKID01\n"
               "aws_secret_access_key = profile/Secret+Key01   ; comment\n\n[other]\n"
               "aws_access_key_id = PROFILEAKID02\naws_secret_access_key = profileSecretKey02\n", path, sizeof path);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    remember_secret("profile/Secret+Key01");
    remember_secret("profileSecretKey02");
    remember_secret(env_secret);

    setenv("AWS_ACCESS_KEY_ID", env_akid, 1);
    setenv("AWS_SECRET_ACCESS_KEY", env_secret, 1);
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "environment");
    CHECK_EQ_STR(g.akid, env_akid);
    CHECK_EQ_INT(g.expiration, 0);

    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "profile:default");
    CHECK_EQ_STR(g.akid, "PROFILEAKID01");
    setenv("AWS_PROFILE", "other", 1);
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "profile:other");
    CHECK_EQ_STR(g.akid, "PROFILEAKID02");
    unlink(path);
}

static void test_web_identity(void)
{
    struct got g;
    char tok[512], cfgpath[512], cfg[1200];
    reset_env();
    const char *token = kcl_test_env("LUAKCL_TEST_FAKE_WEB_IDENTITY_TOKEN");
    remember_secret(token);
    write_file("wi-token", token, tok, sizeof tok);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/luakcl-test", 1);
    setenv("AWS_ROLE_SESSION_NAME", "it-credentials", 1);
    long long before = stat_of("sts");
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "web-identity");
    CHECK(strncmp(g.akid, "ASIAFAKESTS", 11) == 0);
    CHECK(g.expiration > kcl_clock_wall_ms() + 3000 * 1000LL);
    CHECK_EQ_INT(stat_of("sts"), before + 1);

    /* a token STS refuses: the chain fails and says why (STS's code), without the token */
    char bad[512];
    write_file("wi-bad", "not-the-right-token\n", bad, sizeof bad);
    remember_secret("not-the-right-token");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", bad, 1);
    CHECK_EQ_INT(one_shot(&g), -1);
    CHECK_MSG(strstr(g.msg, "web-identity: HTTP 400 InvalidIdentityToken") != NULL, "%s", g.msg);
    CHECK(strstr(g.msg, "not-the-right-token") == NULL);
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    unsetenv("AWS_ROLE_ARN");

    /* the same through a profile in the config file */
    snprintf(cfg, sizeof cfg, "[profile  wi ]\nrole_arn = arn:aws:iam::123456789012:role/luakcl-test\n"
             "web_identity_token_file = %s\n", tok);
    write_file("config-wi", cfg, cfgpath, sizeof cfgpath);
    setenv("AWS_CONFIG_FILE", cfgpath, 1);
    setenv("AWS_PROFILE", "wi", 1);
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "profile:wi");
    CHECK(strncmp(g.akid, "ASIAFAKESTS", 11) == 0);
    unlink(tok);
    unlink(bad);
    unlink(cfgpath);
}

static void test_ecs(void)
{
    struct got g;
    char url[512], tokfile[512];
    const char *token = kcl_test_env("LUAKCL_TEST_FAKE_ECS_TOKEN");
    remember_secret(token);
    reset_env();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds?id=1", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", token, 1);
    long long before = stat_of("ecs");
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "ecs");
    CHECK(strncmp(g.akid, "ASIAFAKEECS", 11) == 0);
    CHECK_EQ_INT(stat_of("ecs"), before + 1);

    /* full URI, token from a file (which wins over the variable) */
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    snprintf(url, sizeof url, "%s/ecs/full", fake);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    char line[256];
    snprintf(line, sizeof line, "%s\n", token);
    write_file("ecs-token", line, tokfile, sizeof tokfile);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token-ignored", 1);
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "ecs");

    /* a wrong token is refused (401) */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    CHECK_EQ_INT(one_shot(&g), -1);
    CHECK_MSG(strstr(g.msg, "ecs: ") && strstr(g.msg, "401"), "%s", g.msg);
    /* plain http to a non-loopback host is refused without a request */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
    CHECK_EQ_INT(one_shot(&g), -1);
    CHECK_MSG(strstr(g.msg, "must be https") != NULL, "%s", g.msg);
    unlink(tokfile);
}

static void test_imds(void)
{
    struct got g;
    reset_env();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake, 1);
    long long t = stat_of("imdsToken"), r = stat_of("imdsRole"), c = stat_of("imdsCreds");
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "imds");
    CHECK(strncmp(g.akid, "ASIAFAKEIMDS", 12) == 0);
    CHECK_EQ_INT(stat_of("imdsToken"), t + 1);
    CHECK_EQ_INT(stat_of("imdsRole"), r + 1);
    CHECK_EQ_INT(stat_of("imdsCreds"), c + 1);

    /* no metadata service at all: fails fast, saying so */
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    int64_t t0 = kcl_clock_mono_ms();
    CHECK_EQ_INT(one_shot(&g), -1);
    CHECK_MSG(kcl_clock_mono_ms() - t0 < 4000, "took %lld ms", (long long)(kcl_clock_mono_ms() - t0));
    CHECK_MSG(strstr(g.msg, "imds: ") != NULL, "%s", g.msg);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void test_chain_order(void)
{
    struct got g;
    char tok[512];
    reset_env();
    write_file("wi-token2", kcl_test_env("LUAKCL_TEST_FAKE_WEB_IDENTITY_TOKEN"), tok, sizeof tok);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/luakcl-test", 1);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", kcl_test_env("LUAKCL_TEST_FAKE_ECS_TOKEN"), 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake, 1);
    setenv("AWS_ACCESS_KEY_ID", env_akid, 1);
    setenv("AWS_SECRET_ACCESS_KEY", env_secret, 1);
    static const char *const expect[] = {"environment", "web-identity", "ecs", "imds"};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(one_shot(&g), 0);
        CHECK_EQ_STR(g.source, expect[i]);
        if (i == 0) { unsetenv("AWS_ACCESS_KEY_ID"); unsetenv("AWS_SECRET_ACCESS_KEY"); }
        if (i == 1) unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        if (i == 2) unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    }
    /* a failing link hands over to the next one */
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
    CHECK_EQ_INT(one_shot(&g), 0);
    CHECK_EQ_STR(g.source, "imds");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unlink(tok);
}

static void test_shared_fetch(void)
{
    struct got g[3];
    reset_env();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", kcl_test_env("LUAKCL_TEST_FAKE_ECS_TOKEN"), 1);
    long long before = stat_of("ecs");
    kcl_creds_provider *p = provider(0);
    memset(g, 0, sizeof g);
    for (int i = 0; i < 3; i++) CHECK(kcl_creds_get(p, on_creds, &g[i]) != NULL);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(kcl_test_run_until(loop, &g[i].calls, WAIT_MS), 0);
    CHECK_EQ_INT(stat_of("ecs"), before + 1);
    CHECK(g[0].ok && strcmp(g[0].akid, g[1].akid) == 0 && strcmp(g[1].akid, g[2].akid) == 0);
    CHECK_EQ_INT(kcl_creds_fetch_count(p), 1);
    const kcl_credentials *cur = kcl_creds_current(p);
    CHECK(cur && strcmp(cur->access_key_id, g[0].akid) == 0);
    /* freeing with a fetch in flight cancels it cleanly */
    kcl_creds_provider_free(p);
    p = provider(0);
    struct got never = {0};
    kcl_creds_get(p, on_creds, &never);
    kcl_creds_provider_free(p);
    CHECK_EQ_INT(kcl_http_pending(http), 0);
    CHECK_EQ_INT(never.calls, 0);
}

struct ticker { ev_timer t; int ticks; int64_t last, max_gap; };
static void tick(struct ev_loop *l, ev_timer *t, int revents)
{
    struct ticker *k = (struct ticker *)t;
    int64_t now = kcl_clock_mono_ms();
    if (k->last && now - k->last > k->max_gap) k->max_gap = now - k->last;
    k->last = now;
    k->ticks++;
}

/* Wait until the provider has completed `n` fetches. A 10 ms timer looks at
 * the counter, so the wait ends right after the fetch, not at the next event. */
struct watch { ev_timer t; kcl_creds_provider *p; int fetches; int done; };
static void watch_fetches(struct ev_loop *l, ev_timer *t, int revents)
{
    struct watch *x = (struct watch *)t;
    if (kcl_creds_fetch_count(x->p) >= x->fetches) x->done = 1;
}

static int wait_fetches(kcl_creds_provider *p, int n, double ms)
{
    struct watch x = {.p = p, .fetches = n};
    ev_timer_init(&x.t, watch_fetches, 0.01, 0.01);
    ev_timer_start(loop, &x.t);
    int rc = kcl_test_run_until(loop, &x.done, ms);
    ev_timer_stop(loop, &x.t);
    return rc;
}

static void test_refresh(void)
{
    struct got g;
    reset_env();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/ecs/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", kcl_test_env("LUAKCL_TEST_FAKE_ECS_TOKEN"), 1);
    fake_config("{\"expirySeconds\": 3}");
    long long before = stat_of("ecs");
    kcl_creds_provider *p = provider(60);     /* window > lifetime: refresh at 3/4 of it */
    CHECK_EQ_INT(get(p, &g), 0);
    char first[128];
    snprintf(first, sizeof first, "%s", g.akid);
    int64_t first_exp = g.expiration;

    struct ticker k = {0};
    ev_timer_init(&k.t, tick, 0.02, 0.02);
    ev_timer_start(loop, &k.t);
    CHECK_EQ_INT(wait_fetches(p, 2, WAIT_MS), 0);
    int64_t wall = kcl_clock_wall_ms();
    ev_timer_stop(loop, &k.t);
    CHECK_MSG(wall < first_exp, "refreshed %lld ms after expiry", (long long)(wall - first_exp));
    CHECK_MSG(k.ticks >= 40, "only %d ticks while waiting", k.ticks);
    CHECK_MSG(k.max_gap < 500, "the loop stalled %lld ms", (long long)k.max_gap);
    CHECK_EQ_INT(stat_of("ecs"), before + 2);
    const kcl_credentials *cur = kcl_creds_current(p);
    CHECK(cur && strcmp(cur->access_key_id, first) != 0 && strncmp(cur->access_key_id, "ASIAFAKEECS", 11) == 0);
    kcl_creds_provider_free(p);

    /* a failed refresh keeps the old, still valid set, then recovers */
    fake_config("{\"expirySeconds\": 6}");
    p = provider(60);
    CHECK_EQ_INT(get(p, &g), 0);
    snprintf(first, sizeof first, "%s", g.akid);
    first_exp = g.expiration;
    fake_config("{\"failNext\": 2}");        /* one refresh = 2 attempts */
    long long failed = stat_of("failed");
    CHECK_EQ_INT(wait_fetches(p, 2, WAIT_MS), 0);
    CHECK_EQ_INT(stat_of("failed"), failed + 2);
    CHECK(kcl_clock_wall_ms() < first_exp);
    CHECK_EQ_INT(get(p, &g), 0);              /* still served: the old set */
    CHECK_EQ_STR(g.akid, first);
    CHECK_EQ_STR(kcl_creds_source(p), "ecs");
    CHECK_EQ_INT(wait_fetches(p, 3, WAIT_MS), 0);
    cur = kcl_creds_current(p);
    CHECK(cur && strcmp(cur->access_key_id, first) != 0);
    CHECK(kcl_clock_wall_ms() < first_exp);
    kcl_creds_provider_free(p);
    fake_config("{\"expirySeconds\": 3600, \"failNext\": 0}");
}

int main(void)
{
    fake = kcl_test_env("LUAKCL_TEST_FAKE_AWS");
    snprintf(env_akid, sizeof env_akid, "%s", kcl_test_env("AWS_ACCESS_KEY_ID"));
    snprintf(env_secret, sizeof env_secret, "%s", kcl_test_env("AWS_SECRET_ACCESS_KEY"));
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kcl-it-creds-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    FILE *devnull = fopen("/dev/null", "w");
    kcl_log_set_file(getenv("LUAKCL_TEST_VERBOSE") ? NULL : devnull);
    kcl_log_set_hook(log_hook, NULL);
    kcl_log_set_level(KCL_LOG_DEBUG);

    loop = ev_loop_new(EVFLAG_AUTO);
    kcl_error err = {0};
    http = kcl_http_new(loop, &err);
    CHECK_MSG(http != NULL, "kcl_http_new: %s", err.message);
    if (!http) return TEST_END();
    CHECK(control("POST", "/__config", "{\"reset\": true}", NULL) == 0);

    test_env_and_profile();
    test_web_identity();
    test_ecs();
    test_imds();
    test_chain_order();
    test_shared_fetch();
    test_refresh();

    /* no secret in any log line (and the careless lines were really written) */
    const char *all = kcl_buf_cstr(&log_lines);
    CHECK(strstr(all, "test: got ") != NULL);
    CHECK(strstr(all, "credentials: from ecs") != NULL);
    CHECK_MSG(nsecrets > 10, "only %d secrets seen", nsecrets);
    for (int i = 0; i < nsecrets; i++) {
        CHECK_MSG(strstr(all, secrets[i]) == NULL, "secret #%d appears in the log", i);
        free(secrets[i]);
    }

    CHECK_EQ_INT(kcl_http_pending(http), 0);
    kcl_http_free(http);
    /* nothing of ours is left on the loop (and the refresh timer's ev_unref /
     * ev_ref pairs balanced): ev_run returns at once; SIGALRM fails the test if not */
    alarm(10);
    ev_run(loop, 0);
    alarm(0);
    CHECK(1);
    ev_loop_destroy(loop);
    rmdir(tmpdir);
    kcl_log_set_hook(NULL, NULL);
    kcl_log_set_file(NULL);
    kcl_log_clear_secrets();
    fclose(devnull);
    kcl_buf_free(&log_lines);
    return TEST_END();
}
