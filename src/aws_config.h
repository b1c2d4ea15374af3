/* aws_config — the pure parts of finding AWS credentials, region and
 * endpoints: the shared config/credentials files (an INI dialect), the
 * credentials JSON of the ECS and EC2 metadata services, the STS XML answer,
 * and the environment-variable precedence rules of the AWS SDKs.
 *
 * Pure: no event loop, no network. Reading the shared files is a small,
 * bounded, blocking file read (as every AWS SDK does it). Everything here is
 * tested with plain inputs (tests/unit/test_credentials.c) and fuzzed
 * (tests/fuzz/fuzz_credentials.c). The asynchronous provider chain that uses
 * it is credentials.h.
 *
 * Secrets: functions that copy a secret (a secret key, a session token) into
 * memory they own wipe that memory when it is freed or overwritten; callers
 * wipe their own copies with kcl_credentials_wipe. No error message produced
 * here ever contains a secret value. */
#ifndef KCL_AWS_CONFIG_H
#define KCL_AWS_CONFIG_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define KCL_CREDS_AKID_MAX   128
#define KCL_CREDS_SECRET_MAX 128
#define KCL_CREDS_TOKEN_MAX  8192

/* One set of AWS credentials, as SigV4 needs them. Plain fixed buffers, so a
 * set can be copied with `=` and wiped in one call. */
typedef struct kcl_credentials {
    char    access_key_id[KCL_CREDS_AKID_MAX];
    char    secret_access_key[KCL_CREDS_SECRET_MAX];
    char    session_token[KCL_CREDS_TOKEN_MAX];  /* "" for long-term keys */
    int64_t expiration_ms;                       /* epoch ms; 0 = never expires */
} kcl_credentials;

/* Fill `c` from strings (token and expiration optional: NULL / 0). Each value
 * must be non-empty (token may be empty), fit its buffer and hold no control
 * characters or spaces. Returns 0, or -1 with a message in err (which names
 * the field, never its value); `c` is wiped on failure. */
int kcl_credentials_set(kcl_credentials *c, const char *access_key_id, const char *secret,
                        const char *token, int64_t expiration_ms, char *err, size_t errlen);
/* Zero every byte of `c` in a way the compiler cannot elide. */
void kcl_credentials_wipe(kcl_credentials *c);

/* ---- INI (the AWS shared-file dialect) ------------------------------------
 * Lines end in \n or \r\n; a UTF-8 BOM is skipped. Blank lines and lines whose
 * first non-blank character is '#' or ';' are comments. "[ name ]" starts a
 * section (the name is trimmed and runs of blanks inside it become one space;
 * text after ']' is ignored; a header without ']' makes the following keys
 * belong to no section, so they are skipped). "key = value" or "key: value"
 * (split at the first '=' or ':') gives a property: key and value trimmed,
 * key lower-cased, an inline comment starting with whitespace + '#' or ';'
 * removed from the value. An indented line after a property is a
 * continuation or sub-property of it (e.g. "s3 =\n  addressing_style = path")
 * and is not reported. Lines longer than the limits (section 255, key 127,
 * value KCL_CREDS_TOKEN_MAX + 255 bytes) and lines holding a NUL byte are
 * skipped, and so are properties outside any section. The callback returns 0 to go on, non-zero to stop. */
typedef int (*kcl_ini_fn)(const char *section, const char *key, const char *value, void *ud);
/* Returns the number of properties reported. */
int kcl_ini_parse(const char *text, size_t len, kcl_ini_fn fn, void *ud);

/* The settings of one named profile. Every field is NULL when absent, else a
 * malloc'd string owned by the struct (kcl_aws_profile_free wipes and frees). */
typedef struct kcl_aws_profile {
    char *aws_access_key_id;
    char *aws_secret_access_key;
    char *aws_session_token;
    char *region;
    char *role_arn;
    char *web_identity_token_file;
    char *role_session_name;
    char *source_profile;       /* recognised so an unsupported setup can be named */
    char *credential_source;
    char *credential_process;
    int   found;                /* the profile's section exists in some file */
} kcl_aws_profile;

/* Merge the profile `name` found in one file's text into `p`. In a config
 * file (is_config) the section is "[profile NAME]", or "[default]" /
 * "[profile default]" for "default"; in a credentials file it is "[NAME]".
 * Later values override earlier ones (so parse the config file first, then
 * the credentials file: credentials-file keys win, as in the SDKs). Returns
 * 1 if the section was found, 0 if not, -1 on out-of-memory. */
int kcl_aws_profile_parse(kcl_aws_profile *p, const char *text, size_t len, int is_config,
                          const char *name);
/* Load profile `name` from the config file, then the credentials file (paths
 * from kcl_aws_shared_file_path). Missing files are not errors. Returns 0
 * (look at p->found), or -1 with a message when a file exists but cannot be
 * read, is larger than 1 MiB, or memory runs out. */
int kcl_aws_profile_load(kcl_aws_profile *p, const char *name, char *err, size_t errlen);
void kcl_aws_profile_free(kcl_aws_profile *p);

/* The profile to use: `explicit_name` if non-empty, else AWS_PROFILE, else
 * "default". The returned pointer is `explicit_name`, the environment's
 * string, or a literal: do not free it. */
const char *kcl_aws_profile_name(const char *explicit_name);
/* Path of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials) or, with is_config, the config file (AWS_CONFIG_FILE or
 * ~/.aws/config). A leading "~/" is expanded from $HOME. Returns 0, or -1
 * when $HOME is unset and no variable names the file, or it does not fit. */
int kcl_aws_shared_file_path(int is_config, char *out, size_t outlen);
/* Read a whole small file (at most max_bytes) into `out` (replacing its
 * contents). Returns 0, -1 on error with errno set (ENOENT for a missing
 * file, EFBIG when too large). */
int kcl_aws_read_file(const char *path, size_t max_bytes, kcl_buf *out);

/* Read a token file (web identity, container authorization): at most 64 KiB,
 * surrounding whitespace trimmed, non-empty, no control characters. Returns
 * 0, or -1 with a message naming the file (not its contents). */
int kcl_aws_read_token_file(const char *path, kcl_buf *out, char *err, size_t errlen);

/* Whether the host of `url` ("scheme://host[:port]/...") is loopback
 * (localhost, 127.*, ::1) or, with allow_metadata_ips, one of the container
 * credential agents' link-local addresses the SDKs accept over plain http
 * (169.254.170.2, 169.254.170.23, fd00:ec2::23). A URL with userinfo
 * ("user@host") is never local. */
int kcl_url_host_is_local(const char *url, int allow_metadata_ips);

/* ---- response parsers ----------------------------------------------------- */

/* The text of the first element <tag ...>text</tag> in `xml` (bounded by
 * len; no NUL needed), trimmed, with the five predefined entities and
 * numeric character references decoded, into out. An empty element ("<a/>"
 * or "<a></a>") gives "". Returns 0, or -1 if absent, not a text-only
 * element, badly escaped, or too long for out. */
int kcl_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t outlen);

/* Credentials from an STS AssumeRole* XML answer: <AccessKeyId>,
 * <SecretAccessKey>, <SessionToken>, <Expiration> (RFC 3339). For an STS
 * <ErrorResponse> or anything unusable returns -1 with a message holding the
 * error's Code and Message (secrets are not echoed). Returns 0 on success. */
int kcl_creds_parse_sts_xml(const char *xml, size_t len, kcl_credentials *out,
                            char *err, size_t errlen);

/* Credentials from the JSON of the ECS container endpoint or EC2 IMDS:
 * {"AccessKeyId","SecretAccessKey","Token","Expiration"}; a "Code" member,
 * when present (IMDS), must be "Success". Returns 0, or -1 with a message. */
int kcl_creds_parse_json(const char *text, size_t len, kcl_credentials *out,
                         char *err, size_t errlen);

/* Append key=value to an application/x-www-form-urlencoded body ('&' first
 * unless the body is empty), percent-encoding all but unreserved characters.
 * Returns 0, or -1 on out-of-memory. */
int kcl_form_append(kcl_buf *b, const char *key, const char *value);

/* ---- region and endpoints -------------------------------------------------- */

/* Region: `explicit_region` if non-empty, else AWS_REGION, else
 * AWS_DEFAULT_REGION, else the `region` of profile `profile` (NULL: see
 * kcl_aws_profile_name) in the config file. The region must look like one
 * ([a-z0-9-], at most 63 bytes). Returns 0, or -1 when none is set, it is
 * invalid, or it does not fit in out (out is then ""). */
int kcl_region_resolve(const char *explicit_region, const char *profile, char *out, size_t outlen);

/* Endpoint URL of `service` ("kinesis" | "dynamodb" | "sts" | any lower-case
 * service id): `explicit_url` if non-empty, else AWS_ENDPOINT_URL_<SERVICE>
 * (upper-cased), else AWS_ENDPOINT_URL (both ignored when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else
 * https://<service>.<region>.amazonaws.com (".amazonaws.com.cn" for cn-*
 * regions). A trailing '/' is removed. Returns 0, or -1 when no URL is
 * configured and region is empty/invalid, or it does not fit. */
int kcl_endpoint_resolve(const char *service, const char *explicit_url, const char *region,
                         char *out, size_t outlen);

#endif
