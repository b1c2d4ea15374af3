/* credentials — the AWS credential provider chain, asynchronous on the loop.
 *
 * The chain, in the AWS SDKs' order; the first link that yields credentials
 * wins, and a link that fails hands over to the next:
 *   1. explicit   keys in kcl_creds_config
 *   2. environment AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
 *                 (legacy AWS_ACCESS_KEY + AWS_SECRET_KEY also read)
 *   3. profile:NAME the shared files (aws_config.h): static keys, or
 *                 role_arn + web_identity_token_file (STS, as in 4)
 *   4. web-identity AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *                 [+ AWS_ROLE_SESSION_NAME]: STS AssumeRoleWithWebIdentity,
 *                 an unsigned query-protocol POST to the STS endpoint
 *                 (kcl_endpoint_resolve("sts", ...))
 *   5. ecs        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2)
 *                 or AWS_CONTAINER_CREDENTIALS_FULL_URI; Authorization from
 *                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN
 *   6. imds       EC2 IMDSv2 (token PUT, role name, role credentials); off when
 *                 AWS_EC2_METADATA_DISABLED=true; 1 s connect timeout, 2 attempts
 *
 * Temporary credentials are refreshed in the background on a timer at
 * max(expiry - refresh_before, issue + 3/4 of the lifetime); the refresh asks
 * the link that supplied them. A failed refresh keeps the old set while it
 * is still valid and retries with exponential backoff (1 s doubling to 60 s,
 * always before the expiry). Once a set has expired without a successful
 * refresh it is dropped and the next kcl_creds_get runs the whole chain.
 *
 * Secrets (secret keys, session tokens, web identity and metadata tokens) are
 * registered with kcl_log_add_secret as soon as they are read, and wiped from
 * the provider's memory when replaced or freed. Error messages never contain
 * them. Plain-HTTP metadata endpoints are only used on loopback or link-local
 * metadata addresses (as the SDKs require for the ECS full URI).
 */
#ifndef KCL_CREDENTIALS_H
#define KCL_CREDENTIALS_H

#include "aws_config.h"
#include "error.h"
#include "http.h"

struct ev_loop;
typedef struct kcl_creds_provider kcl_creds_provider;
typedef struct kcl_creds_wait kcl_creds_wait;

typedef struct kcl_creds_config {
    struct ev_loop *loop;            /* required */
    kcl_http *http;                  /* for the network links (NULL: they fail); borrowed, must outlive the provider */
    /* explicit keys (both or neither); session token optional */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *profile;             /* NULL: AWS_PROFILE, else "default" */
    const char *region;              /* region for STS; NULL: kcl_region_resolve, else us-east-1 */
    /* endpoint overrides (NULL = the SDK rules above) */
    const char *sts_endpoint;        /* else AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / https://sts.<region>... */
    const char *ecs_base_url;        /* base for the RELATIVE_URI, else http://169.254.170.2 */
    const char *imds_endpoint;       /* else AWS_EC2_METADATA_SERVICE_ENDPOINT, else http://169.254.169.254 */
    /* Skip TLS verification for https endpoints on a loopback host (a local
     * test STS with a self-signed certificate). Never applies elsewhere. */
    int allow_insecure_local;
    /* refresh this long before expiry (0 = 300 s); see the rule above */
    double refresh_before_s;
    /* skip whole links (tests, or a deployment that knows better) */
    int disable_env, disable_profile, disable_web_identity, disable_ecs, disable_imds;
} kcl_creds_config;

/* Build a provider. Strings are copied. Nothing is fetched until the first
 * kcl_creds_get. Returns NULL with err set if loop is missing or the
 * explicit keys are half given or invalid. */
kcl_creds_provider *kcl_creds_provider_new(const kcl_creds_config *cfg, kcl_error *err);
/* Cancel in-flight fetches and timers (pending waiters are dropped without a
 * callback), wipe the cached secrets and free. Safe from inside a
 * kcl_creds_get callback (the memory is released when it returns). */
void kcl_creds_provider_free(kcl_creds_provider *p);

/* Called once per kcl_creds_get: `creds` (valid only during the call; copy
 * what you keep, or call kcl_creds_current later) on success, else NULL and
 * `err` says which links were tried and why each failed. */
typedef void (*kcl_creds_cb)(const kcl_credentials *creds, const kcl_error *err, void *ud);

/* Ask for credentials. Never calls back from inside this call: usable cached
 * credentials are delivered on the next loop iteration; otherwise the call
 * joins the fetch in flight or starts one (concurrent calls share one fetch).
 * Returns a handle valid until the callback runs, for kcl_creds_cancel; NULL
 * when memory runs out, p or cb is NULL, or p is being freed (then nothing
 * is called back). */
kcl_creds_wait *kcl_creds_get(kcl_creds_provider *p, kcl_creds_cb cb, void *ud);
/* Forget a pending get; its callback will not run. */
void kcl_creds_cancel(kcl_creds_wait *w);

/* The cached set if it is valid and not yet due for refresh, else NULL (then
 * use kcl_creds_get). Cheap, for hot paths; the pointer stays valid until
 * control returns to the loop. */
const kcl_credentials *kcl_creds_current(const kcl_creds_provider *p);

/* Which link supplied the cached set: "explicit", "environment",
 * "profile:NAME", "web-identity", "ecs", "imds"; "" before the first. */
const char *kcl_creds_source(const kcl_creds_provider *p);

/* Completed fetches (chain runs and refreshes), failed or not; for tests. */
int kcl_creds_fetch_count(const kcl_creds_provider *p);

#endif
