/* credentials — the provider chain on the loop (see credentials.h).
 *
 * One fetch at a time: `link` walks the chain, a synchronous link (explicit,
 * environment, a profile with static keys) answers at once, a network link
 * starts one kcl_http request and continues from its completion. Waiters are
 * never answered from inside kcl_creds_get: a finished fetch marks them due
 * and a zero-delay timer (`deliver`) calls them back. `busy` marks "a user
 * callback of mine is on the stack"; kcl_creds_provider_free during it only
 * flags the provider, and the deliver loop releases it when it unwinds. */
#include "credentials.h"

#include "clock.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>

enum { LINK_EXPLICIT, LINK_ENV, LINK_PROFILE, LINK_WEBID, LINK_ECS, LINK_IMDS, LINK_COUNT };
enum { STEP_NONE, STEP_STS, STEP_ECS, STEP_IMDS_TOKEN, STEP_IMDS_ROLE, STEP_IMDS_CREDS };
enum { LINK_DONE, LINK_PENDING, LINK_FAILED };

#define DEFAULT_REFRESH_BEFORE_S 300.0
#define ECS_DEFAULT_BASE  "http://169.254.170.2"
#define IMDS_DEFAULT_BASE "http://169.254.169.254"
#define IMDS_PATH "/latest/meta-data/iam/security-credentials/"

struct kcl_creds_wait {
    kcl_creds_provider *p;
    kcl_creds_wait *prev, *next;
    kcl_creds_cb cb;
    void *ud;
    int due, batch;
};

struct kcl_creds_provider {
    struct ev_loop *loop;
    kcl_http *http;
    char *akid, *secret, *token;               /* explicit keys (copies) */
    char *profile, *region, *sts_endpoint, *ecs_base, *imds_endpoint;
    int insecure_local;
    double refresh_before_s;
    int disabled[LINK_COUNT];

    kcl_credentials cur;
    int have, source_link;
    char source[160];
    int64_t expires_mono, refresh_mono, margin_ms;

    /* the fetch in flight */
    int fetching, refresh_only, link, step, fetches, failures;
    kcl_err_kind fail_kind;
    kcl_http_req *req;
    kcl_buf tried;                              /* "link: reason; ..." */
    char pending_source[160];
    char base[1024];                            /* IMDS base URL of this fetch */
    char imds_token[1024];
    char imds_role[256];
    kcl_error last_err;

    kcl_creds_wait *waiters;
    ev_timer deliver, refresh;
    int busy, dying;
};

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static void wipe_str(char **s)
{
    if (*s) { OPENSSL_cleanse(*s, strlen(*s)); free(*s); *s = NULL; }
}

static void wipe_buf(kcl_buf *b)
{
    if (b->data) OPENSSL_cleanse(b->data, b->cap);
    kcl_buf_free(b);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcasecmp(v, "true") == 0;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* ---- waiters and delivery -------------------------------------------------- */

static int usable(const kcl_creds_provider *p, int64_t now)
{
    return p->have && (p->expires_mono == 0 || now < p->expires_mono - p->margin_ms);
}

static void unlink_waiter(kcl_creds_wait *w)
{
    kcl_creds_provider *p = w->p;
    if (w->prev) w->prev->next = w->next; else p->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

static void mark_all_due(kcl_creds_provider *p)
{
    int any = 0;
    for (kcl_creds_wait *w = p->waiters; w; w = w->next) { w->due = 1; any = 1; }
    if (any && !ev_is_active(&p->deliver)) ev_timer_start(p->loop, &p->deliver);
}

static void destroy(kcl_creds_provider *p);
static void start_fetch(kcl_creds_provider *p, int refresh_only);
static void drop_credentials(kcl_creds_provider *p);

static void deliver_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    kcl_creds_provider *p = t->data;
    p->busy++;
    for (kcl_creds_wait *w = p->waiters; w; w = w->next) w->batch = w->due;
    for (;;) {
        kcl_creds_wait *w = p->waiters;
        while (w && !w->batch) w = w->next;
        if (!w) break;
        w->batch = 0;
        int64_t now = kcl_clock_mono_ms();
        if (!usable(p, now) && !p->fetching && p->last_err.kind == KCL_ERR_NONE) {
            drop_credentials(p);                 /* expired since it was queued */
            start_fetch(p, 0);
            now = kcl_clock_mono_ms();
        }
        if (!usable(p, now) && p->fetching) { w->due = 0; continue; }   /* wait for the fetch */
        kcl_creds_cb cb = w->cb;
        void *ud = w->ud;
        unlink_waiter(w);
        free(w);
        if (usable(p, now)) cb(&p->cur, NULL, ud);
        else cb(NULL, &p->last_err, ud);
        if (p->dying) break;
    }
    p->busy--;
    if (p->dying && !p->busy) destroy(p);
}

void kcl_creds_cancel(kcl_creds_wait *w)
{
    if (!w) return;
    unlink_waiter(w);
    free(w);
}

/* ---- finishing a fetch ------------------------------------------------------ */

static void note_failure(kcl_creds_provider *p, const char *what, kcl_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note_failure(kcl_creds_provider *p, const char *what, kcl_err_kind kind, const char *fmt, ...)
{
    va_list ap;
    if (p->tried.len) kcl_buf_append_str(&p->tried, "; ");
    kcl_buf_printf(&p->tried, "%s: ", what);
    va_start(ap, fmt);
    kcl_buf_vprintf(&p->tried, fmt, ap);
    va_end(ap);
    if (kcl_err_kind_retryable(kind)) p->fail_kind = kind;
}

/* The refresh timer does not keep the loop alive on its own (ev_unref after
 * starting it, ev_ref before it stops: libev's documented pattern), so a
 * short-lived program's ev_run still returns when its real work is done. */
static void stop_refresh(kcl_creds_provider *p)
{
    if (!ev_is_active(&p->refresh)) return;
    ev_ref(p->loop);
    ev_timer_stop(p->loop, &p->refresh);
}

static void schedule_refresh(kcl_creds_provider *p, double delay_s)
{
    stop_refresh(p);
    ev_timer_set(&p->refresh, delay_s > 0.01 ? delay_s : 0.01, 0.0);
    ev_timer_start(p->loop, &p->refresh);
    ev_unref(p->loop);
}

static void drop_credentials(kcl_creds_provider *p)
{
    kcl_credentials_wipe(&p->cur);
    p->have = 0;
    p->expires_mono = p->refresh_mono = 0;
    stop_refresh(p);
}

static void fetch_failed(kcl_creds_provider *p)
{
    int64_t now = kcl_clock_mono_ms();
    p->fetching = 0;
    p->fetches++;
    p->step = STEP_NONE;
    kcl_error_set(&p->last_err, p->fail_kind ? p->fail_kind : KCL_ERR_ACCESS_DENIED, 0,
                  "NoCredentials", "no AWS credentials: %s", kcl_buf_cstr(&p->tried));
    if (p->refresh_only && usable(p, now)) {
        p->failures++;
        double delay = 1.0;
        for (int i = 1; i < p->failures && delay < 60.0; i++) delay *= 2;
        if (delay > 60.0) delay = 60.0;
        double left = (double)(p->expires_mono - p->margin_ms - now) / 1000.0;
        if (delay >= left) delay = left / 2;
        KCL_WARN(NULL, "credentials: refresh from %s failed, keeping the current set (valid %.1f s more), "
                 "retry in %.2f s: %s", p->source, left, delay, kcl_buf_cstr(&p->tried));
        schedule_refresh(p, delay);
    } else {
        if (p->have) KCL_ERROR(NULL, "credentials: refresh from %s failed and the set expired: %s",
                               p->source, kcl_buf_cstr(&p->tried));
        else KCL_WARN(NULL, "credentials: %s", p->last_err.message);
        drop_credentials(p);
    }
    mark_all_due(p);
}

/* Take `c` (wiped here) as the new set from link p->link. */
static void fetch_succeeded(kcl_creds_provider *p, kcl_credentials *c, const char *source)
{
    int64_t now = kcl_clock_mono_ms();
    int64_t lifetime = c->expiration_ms ? c->expiration_ms - kcl_clock_wall_ms() : 0;
    if (c->expiration_ms && lifetime <= 0) {
        kcl_credentials_wipe(c);
        note_failure(p, source, KCL_ERR_MALFORMED, "the credentials had already expired");
        if (!p->refresh_only && ++p->link < LINK_COUNT) return;   /* caller continues the chain */
        fetch_failed(p);
        return;
    }
    kcl_log_add_secret(c->secret_access_key);
    kcl_log_add_secret(c->session_token);
    kcl_credentials_wipe(&p->cur);
    p->cur = *c;
    kcl_credentials_wipe(c);
    p->have = 1;
    p->source_link = p->link;
    snprintf(p->source, sizeof p->source, "%s", source);
    p->fetching = 0;
    p->fetches++;
    p->failures = 0;
    p->step = STEP_NONE;
    kcl_error_clear(&p->last_err);
    stop_refresh(p);
    /* Only the key id's last four characters are logged: enough to tell keys apart. */
    size_t idlen = strlen(p->cur.access_key_id);
    const char *idtail = p->cur.access_key_id + (idlen > 4 ? idlen - 4 : 0);
    if (lifetime > 0) {
        double window = p->refresh_before_s * 1000.0;
        double delay = (double)lifetime - window;
        if (delay < 0.75 * (double)lifetime) delay = 0.75 * (double)lifetime;
        p->expires_mono = now + lifetime;
        p->refresh_mono = now + (int64_t)delay;
        p->margin_ms = lifetime / 20 < 10000 ? lifetime / 20 : 10000;
        schedule_refresh(p, delay / 1000.0);
        KCL_INFO(NULL, "credentials: from %s (key id ...%s), expire in %.0f s, refresh in %.1f s", source,
                 idtail, (double)lifetime / 1000.0, delay / 1000.0);
    } else {
        p->expires_mono = p->refresh_mono = p->margin_ms = 0;
        KCL_INFO(NULL, "credentials: from %s (key id ...%s)", source, idtail);
    }
    mark_all_due(p);
}

/* ---- the links ---------------------------------------------------------------- */

static int link_explicit(kcl_creds_provider *p)
{
    kcl_credentials c;
    char err[160];
    if (!p->akid) return LINK_FAILED;      /* not configured: not worth a mention */
    if (kcl_credentials_set(&c, p->akid, p->secret, p->token, 0, err, sizeof err) != 0) {
        note_failure(p, "explicit", KCL_ERR_INVALID_ARGUMENT, "%s", err);
        return LINK_FAILED;
    }
    fetch_succeeded(p, &c, "explicit");
    return LINK_DONE;
}

static int link_env(kcl_creds_provider *p)
{
    const char *akid = env_nonempty("AWS_ACCESS_KEY_ID"), *secret = env_nonempty("AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret) {
        akid = env_nonempty("AWS_ACCESS_KEY");
        secret = env_nonempty("AWS_SECRET_KEY");
    }
    if (!akid || !secret) {
        note_failure(p, "environment", KCL_ERR_NONE, !akid && !secret ? "AWS_ACCESS_KEY_ID not set"
                     : !akid ? "AWS_SECRET_ACCESS_KEY set without AWS_ACCESS_KEY_ID"
                             : "AWS_ACCESS_KEY_ID set without AWS_SECRET_ACCESS_KEY");
        return LINK_FAILED;
    }
    kcl_credentials c;
    char err[160];
    if (kcl_credentials_set(&c, akid, secret, env_nonempty("AWS_SESSION_TOKEN"), 0, err, sizeof err) != 0) {
        note_failure(p, "environment", KCL_ERR_NONE, "%s", err);
        return LINK_FAILED;
    }
    fetch_succeeded(p, &c, "environment");
    return LINK_DONE;
}

static void on_http_done(kcl_http_resp *resp, void *ud);

static int send_request(kcl_creds_provider *p, const char *what, int step, const kcl_http_opts *o)
{
    kcl_error err;
    kcl_error_clear(&err);
    if (!p->http) {
        note_failure(p, what, KCL_ERR_NONE, "no HTTP client configured");
        return LINK_FAILED;
    }
    p->step = step;
    p->req = kcl_http_send(p->http, o, on_http_done, p, &err);
    if (!p->req) {
        p->step = STEP_NONE;
        note_failure(p, what, err.kind, "%s", err.message);
        return LINK_FAILED;
    }
    return LINK_PENDING;
}

static int start_sts(kcl_creds_provider *p, const char *what, const char *role_arn,
                     const char *token_file, const char *session_name)
{
    char err[300], region[64], url[1024], sess[80];
    kcl_buf token = KCL_BUF_INIT, form = KCL_BUF_INIT;
    if (kcl_aws_read_token_file(token_file, &token, err, sizeof err) != 0) {
        wipe_buf(&token);
        note_failure(p, what, KCL_ERR_NONE, "web identity token: %s", err);
        return LINK_FAILED;
    }
    kcl_log_add_secret(kcl_buf_cstr(&token));
    if (kcl_region_resolve(p->region, p->profile, region, sizeof region) != 0)
        snprintf(region, sizeof region, "us-east-1");
    if (kcl_endpoint_resolve("sts", p->sts_endpoint, region, url, sizeof url) != 0) {
        wipe_buf(&token);
        note_failure(p, what, KCL_ERR_NONE, "no STS endpoint");
        return LINK_FAILED;
    }
    if (!session_name || !*session_name) {
        snprintf(sess, sizeof sess, "luakcl-%lld", (long long)kcl_clock_wall_ms());
        session_name = sess;
    }
    int bad = kcl_form_append(&form, "Action", "AssumeRoleWithWebIdentity") ||
              kcl_form_append(&form, "Version", "2011-06-15") ||
              kcl_form_append(&form, "RoleArn", role_arn) ||
              kcl_form_append(&form, "RoleSessionName", session_name) ||
              kcl_form_append(&form, "WebIdentityToken", kcl_buf_cstr(&token));
    wipe_buf(&token);
    if (bad) {
        wipe_buf(&form);
        note_failure(p, what, KCL_ERR_NONE, "out of memory");
        return LINK_FAILED;
    }
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Accept: text/xml", NULL};
    kcl_http_opts o = {0};
    o.method = "POST";
    o.url = url;
    o.headers = headers;
    o.body = form.data;
    o.body_len = form.len;
    o.timeout_ms = 10000;
    o.connect_timeout_ms = 3000;
    o.retry.max_attempts = 3;
    o.insecure = p->insecure_local && kcl_url_host_is_local(url, 0);
    int r = send_request(p, what, STEP_STS, &o);
    wipe_buf(&form);
    return r;
}

static int link_profile(kcl_creds_provider *p)
{
    const char *name = kcl_aws_profile_name(p->profile);
    char what[160], err[300];
    kcl_aws_profile prof = {0};
    int r = LINK_FAILED;
    snprintf(what, sizeof what, "profile:%s", name);
    if (kcl_aws_profile_load(&prof, name, err, sizeof err) != 0) {
        note_failure(p, what, KCL_ERR_NONE, "%s", err);
    } else if (!prof.found) {
        note_failure(p, what, KCL_ERR_NONE, "no such profile in the shared config/credentials files");
    } else if (prof.aws_access_key_id || prof.aws_secret_access_key) {
        kcl_credentials c;
        if (kcl_credentials_set(&c, prof.aws_access_key_id, prof.aws_secret_access_key,
                                prof.aws_session_token, 0, err, sizeof err) != 0) {
            note_failure(p, what, KCL_ERR_NONE, "%s", err);
        } else {
            fetch_succeeded(p, &c, what);
            r = LINK_DONE;
        }
    } else if (prof.role_arn && prof.web_identity_token_file) {
        snprintf(p->pending_source, sizeof p->pending_source, "%s", what);
        r = start_sts(p, what, prof.role_arn, prof.web_identity_token_file, prof.role_session_name);
    } else if (prof.role_arn || prof.credential_process) {
        note_failure(p, what, KCL_ERR_NONE, "uses %s, which luakcl does not support",
                     prof.credential_process ? "credential_process"
                     : prof.source_profile ? "role_arn with source_profile" : "role_arn without web_identity_token_file");
    } else {
        note_failure(p, what, KCL_ERR_NONE, "has no credentials");
    }
    kcl_aws_profile_free(&prof);
    return r;
}

static int link_webid(kcl_creds_provider *p)
{
    const char *file = env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = env_nonempty("AWS_ROLE_ARN");
    if (!file || !role) {
        note_failure(p, "web-identity", KCL_ERR_NONE, "%s not set",
                     !file ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
        return LINK_FAILED;
    }
    snprintf(p->pending_source, sizeof p->pending_source, "web-identity");
    return start_sts(p, "web-identity", role, file, env_nonempty("AWS_ROLE_SESSION_NAME"));
}

static int link_ecs(kcl_creds_provider *p)
{
    const char *rel = env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[2048], err[300];
    if (!rel && !full) {
        note_failure(p, "ecs", KCL_ERR_NONE, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set");
        return LINK_FAILED;
    }
    if (rel) {
        const char *base = p->ecs_base ? p->ecs_base : ECS_DEFAULT_BASE;
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/') bl--;
        snprintf(url, sizeof url, "%.*s%s%s", (int)bl, base, rel[0] == '/' ? "" : "/", rel);
    } else {
        snprintf(url, sizeof url, "%s", full);
        if (strncasecmp(full, "https://", 8) != 0 &&
            !(strncasecmp(full, "http://", 7) == 0 && kcl_url_host_is_local(full, 1))) {
            note_failure(p, "ecs", KCL_ERR_NONE, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a "
                         "loopback/ECS/EKS address");
            return LINK_FAILED;
        }
    }
    kcl_buf auth = KCL_BUF_INIT;
    const char *tfile = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok = env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (tfile) {
        kcl_buf t = KCL_BUF_INIT;
        if (kcl_aws_read_token_file(tfile, &t, err, sizeof err) != 0) {
            wipe_buf(&t);
            note_failure(p, "ecs", KCL_ERR_NONE, "authorization token: %s", err);
            return LINK_FAILED;
        }
        kcl_log_add_secret(kcl_buf_cstr(&t));
        kcl_buf_printf(&auth, "Authorization: %s", kcl_buf_cstr(&t));
        wipe_buf(&t);
    } else if (tok) {
        if (strpbrk(tok, "\r\n")) {
            note_failure(p, "ecs", KCL_ERR_NONE, "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break");
            return LINK_FAILED;
        }
        kcl_log_add_secret(tok);
        kcl_buf_printf(&auth, "Authorization: %s", tok);
    }
    const char *headers[] = {"Accept: application/json", auth.len ? auth.data : NULL, NULL};
    kcl_http_opts o = {0};
    o.method = "GET";
    o.url = url;
    o.headers = headers;
    o.timeout_ms = 5000;
    o.connect_timeout_ms = 2000;
    o.retry.max_attempts = 2;
    o.retry.base_ms = 100;
    o.insecure = p->insecure_local && kcl_url_host_is_local(url, 0);
    snprintf(p->pending_source, sizeof p->pending_source, "ecs");
    int r = send_request(p, "ecs", STEP_ECS, &o);
    wipe_buf(&auth);
    return r;
}

static int imds_send(kcl_creds_provider *p, int step)
{
    char url[2048], hdr[1100];
    kcl_http_opts o = {0};
    const char *headers[2] = {hdr, NULL};
    if (step == STEP_IMDS_TOKEN) {
        snprintf(url, sizeof url, "%s/latest/api/token", p->base);
        snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
        o.method = "PUT";
    } else {
        snprintf(url, sizeof url, "%s" IMDS_PATH "%s", p->base, step == STEP_IMDS_CREDS ? p->imds_role : "");
        snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", p->imds_token);
        o.method = "GET";
    }
    o.url = url;
    o.headers = headers;
    o.timeout_ms = 2000;
    o.connect_timeout_ms = 1000;
    o.retry.max_attempts = 2;
    o.retry.base_ms = 100;
    int r = send_request(p, "imds", step, &o);
    OPENSSL_cleanse(hdr, sizeof hdr);
    return r;
}

static int link_imds(kcl_creds_provider *p)
{
    if (env_true("AWS_EC2_METADATA_DISABLED")) {
        note_failure(p, "imds", KCL_ERR_NONE, "disabled by AWS_EC2_METADATA_DISABLED");
        return LINK_FAILED;
    }
    const char *base = p->imds_endpoint ? p->imds_endpoint : env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base) base = IMDS_DEFAULT_BASE;
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/') bl--;
    if (bl >= sizeof p->base) {
        note_failure(p, "imds", KCL_ERR_NONE, "endpoint too long");
        return LINK_FAILED;
    }
    memcpy(p->base, base, bl);
    p->base[bl] = 0;
    snprintf(p->pending_source, sizeof p->pending_source, "imds");
    return imds_send(p, STEP_IMDS_TOKEN);
}

/* Walk the chain from p->link until a link answers or starts a request. */
static void run_chain(kcl_creds_provider *p)
{
    while (p->fetching && p->link < LINK_COUNT) {
        int link = p->link, r = LINK_FAILED;
        if (!p->disabled[link]) {
            switch (link) {
            case LINK_EXPLICIT: r = link_explicit(p); break;
            case LINK_ENV:      r = link_env(p); break;
            case LINK_PROFILE:  r = link_profile(p); break;
            case LINK_WEBID:    r = link_webid(p); break;
            case LINK_ECS:      r = link_ecs(p); break;
            default:            r = link_imds(p); break;
            }
        }
        if (r != LINK_FAILED) return;
        if (p->refresh_only) break;
        p->link++;
    }
    if (p->fetching) fetch_failed(p);
}

/* The completion of a network link's request. */
static void on_http_done(kcl_http_resp *resp, void *ud)
{
    kcl_creds_provider *p = ud;
    const char *what = p->pending_source;
    const char *body = kcl_buf_cstr(&resp->body);
    char err[320];
    kcl_credentials c;
    int step = p->step, ok = 0;
    p->req = NULL;
    if (resp->err.kind != KCL_ERR_NONE) {
        char code[96] = "", msg[256] = "";
        if (step == STEP_STS) {
            kcl_xml_text(body, resp->body.len, "Code", code, sizeof code);
            kcl_xml_text(body, resp->body.len, "Message", msg, sizeof msg);
        }
        if (code[0]) note_failure(p, what, resp->err.kind, "HTTP %ld %s: %s", resp->status, code, msg);
        else if (resp->err.message[0]) note_failure(p, what, resp->err.kind, "%s (%d attempts)",
                                                    resp->err.message, resp->attempts);
        else note_failure(p, what, resp->err.kind, "HTTP %ld (%d attempts)", resp->status, resp->attempts);
    } else if (step == STEP_STS || step == STEP_ECS || step == STEP_IMDS_CREDS) {
        int r = step == STEP_STS ? kcl_creds_parse_sts_xml(body, resp->body.len, &c, err, sizeof err)
                                 : kcl_creds_parse_json(body, resp->body.len, &c, err, sizeof err);
        if (r == 0) ok = 1;
        else note_failure(p, what, KCL_ERR_MALFORMED, "%s", err);
    } else if (step == STEP_IMDS_TOKEN) {
        size_t n = resp->body.len;
        while (n && isspace((unsigned char)body[n - 1])) n--;
        if (n == 0 || n >= sizeof p->imds_token || memchr(body, '\n', n) || memchr(body, '\r', n)) {
            note_failure(p, what, KCL_ERR_MALFORMED, "bad metadata token");
        } else {
            memcpy(p->imds_token, body, n);
            p->imds_token[n] = 0;
            kcl_log_add_secret(p->imds_token);
            OPENSSL_cleanse(resp->body.data, resp->body.len);
            if (imds_send(p, STEP_IMDS_ROLE) == LINK_PENDING) return;
        }
    } else if (step == STEP_IMDS_ROLE) {
        size_t s = 0, e;
        while (s < resp->body.len && isspace((unsigned char)body[s])) s++;
        for (e = s; e < resp->body.len && !isspace((unsigned char)body[e]); e++) {}
        int valid = e > s && e - s < sizeof p->imds_role;
        for (size_t i = s; valid && i < e; i++)
            if (!(isalnum((unsigned char)body[i]) || strchr("+=,.@_-", body[i]))) valid = 0;
        if (!valid) {
            note_failure(p, what, KCL_ERR_MALFORMED, "no usable IAM role name in the instance metadata");
        } else {
            memcpy(p->imds_role, body + s, e - s);
            p->imds_role[e - s] = 0;
            if (imds_send(p, STEP_IMDS_CREDS) == LINK_PENDING) return;
        }
    }
    if (resp->body.data) OPENSSL_cleanse(resp->body.data, resp->body.len);
    if (step >= STEP_IMDS_TOKEN) OPENSSL_cleanse(p->imds_token, sizeof p->imds_token);
    if (ok) {
        int link = p->link;
        fetch_succeeded(p, &c, what);
        if (p->fetching && p->link != link) run_chain(p);   /* expired on arrival: go on */
        return;
    }
    p->step = STEP_NONE;
    if (!p->refresh_only) p->link++;
    else { fetch_failed(p); return; }
    run_chain(p);
}

/* ---- the provider ------------------------------------------------------------- */

static void start_fetch(kcl_creds_provider *p, int refresh_only)
{
    p->fetching = 1;
    p->refresh_only = refresh_only;
    p->link = refresh_only ? p->source_link : 0;
    p->fail_kind = KCL_ERR_NONE;
    kcl_buf_reset(&p->tried);
    run_chain(p);
}

static void refresh_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    kcl_creds_provider *p = t->data;
    ev_ref(loop);                       /* it has stopped: undo schedule_refresh's ev_unref */
    if (p->fetching || !p->have) return;
    KCL_DEBUG(NULL, "credentials: refreshing from %s", p->source);
    start_fetch(p, 1);
}

kcl_creds_provider *kcl_creds_provider_new(const kcl_creds_config *cfg, kcl_error *err)
{
    if (!cfg || !cfg->loop) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument", "credentials: no loop");
        return NULL;
    }
    int has_akid = cfg->access_key_id && *cfg->access_key_id;
    int has_secret = cfg->secret_access_key && *cfg->secret_access_key;
    if (has_akid != has_secret) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument",
                      "credentials: explicit access key id and secret key must be given together");
        return NULL;
    }
    if (has_akid) {
        kcl_credentials c;
        char msg[160];
        if (kcl_credentials_set(&c, cfg->access_key_id, cfg->secret_access_key, cfg->session_token, 0,
                                msg, sizeof msg) != 0) {
            kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument", "credentials: explicit %s", msg);
            return NULL;
        }
        kcl_credentials_wipe(&c);
    }
    kcl_creds_provider *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->loop = cfg->loop;
    p->http = cfg->http;
    p->akid = dup_or_null(cfg->access_key_id);
    p->secret = dup_or_null(cfg->secret_access_key);
    p->token = dup_or_null(cfg->session_token);
    p->profile = dup_or_null(cfg->profile);
    p->region = dup_or_null(cfg->region);
    p->sts_endpoint = dup_or_null(cfg->sts_endpoint);
    p->ecs_base = dup_or_null(cfg->ecs_base_url);
    p->imds_endpoint = dup_or_null(cfg->imds_endpoint);
    if ((has_akid && (!p->akid || !p->secret)) || (cfg->session_token && *cfg->session_token && !p->token) ||
        (cfg->profile && *cfg->profile && !p->profile) || (cfg->region && *cfg->region && !p->region) ||
        (cfg->sts_endpoint && *cfg->sts_endpoint && !p->sts_endpoint) ||
        (cfg->ecs_base_url && *cfg->ecs_base_url && !p->ecs_base) ||
        (cfg->imds_endpoint && *cfg->imds_endpoint && !p->imds_endpoint)) {
        destroy(p);
        goto oom;
    }
    if (p->secret) kcl_log_add_secret(p->secret);
    if (p->token) kcl_log_add_secret(p->token);
    p->insecure_local = cfg->allow_insecure_local;
    p->refresh_before_s = cfg->refresh_before_s > 0 ? cfg->refresh_before_s : DEFAULT_REFRESH_BEFORE_S;
    p->disabled[LINK_ENV] = cfg->disable_env;
    p->disabled[LINK_PROFILE] = cfg->disable_profile;
    p->disabled[LINK_WEBID] = cfg->disable_web_identity;
    p->disabled[LINK_ECS] = cfg->disable_ecs;
    p->disabled[LINK_IMDS] = cfg->disable_imds;
    ev_timer_init(&p->deliver, deliver_cb, 0.0, 0.0);
    p->deliver.data = p;
    ev_timer_init(&p->refresh, refresh_cb, 0.0, 0.0);
    p->refresh.data = p;
    return p;
oom:
    kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "credentials: out of memory");
    return NULL;
}

static void shut_down(kcl_creds_provider *p)
{
    if (p->req) { kcl_http_cancel(p->req); p->req = NULL; }
    p->fetching = 0;
    if (p->loop) {
        ev_timer_stop(p->loop, &p->deliver);
        stop_refresh(p);
    }
    while (p->waiters) kcl_creds_cancel(p->waiters);
}

static void destroy(kcl_creds_provider *p)
{
    shut_down(p);
    kcl_credentials_wipe(&p->cur);
    wipe_str(&p->akid); wipe_str(&p->secret); wipe_str(&p->token);
    wipe_str(&p->profile); wipe_str(&p->region); wipe_str(&p->sts_endpoint);
    wipe_str(&p->ecs_base); wipe_str(&p->imds_endpoint);
    OPENSSL_cleanse(p->imds_token, sizeof p->imds_token);
    wipe_buf(&p->tried);
    free(p);
}

void kcl_creds_provider_free(kcl_creds_provider *p)
{
    if (!p || p->dying) return;
    if (p->busy) { p->dying = 1; shut_down(p); return; }
    destroy(p);
}

kcl_creds_wait *kcl_creds_get(kcl_creds_provider *p, kcl_creds_cb cb, void *ud)
{
    if (!p || !cb || p->dying) return NULL;
    kcl_creds_wait *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->p = p;
    w->cb = cb;
    w->ud = ud;
    kcl_creds_wait **tail = &p->waiters;
    while (*tail) { w->prev = *tail; tail = &(*tail)->next; }
    *tail = w;
    if (usable(p, kcl_clock_mono_ms())) {
        w->due = 1;
        if (!ev_is_active(&p->deliver)) ev_timer_start(p->loop, &p->deliver);
    } else if (!p->fetching) {
        if (p->have) drop_credentials(p);
        start_fetch(p, 0);
    }
    return w;
}

const kcl_credentials *kcl_creds_current(const kcl_creds_provider *p)
{
    if (!p || !p->have) return NULL;
    if (p->expires_mono && kcl_clock_mono_ms() >= p->refresh_mono) return NULL;
    return &p->cur;
}

const char *kcl_creds_source(const kcl_creds_provider *p)
{
    return p && p->have ? p->source : "";
}

int kcl_creds_fetch_count(const kcl_creds_provider *p) { return p ? p->fetches : 0; }
