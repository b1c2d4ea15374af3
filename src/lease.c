#include "lease.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kcl_lease_free(kcl_lease *l)
{
    if (l) kcl_buf_free(&l->pending_state);
}

int kcl_lease_copy(kcl_lease *dst, const kcl_lease *src)
{
    *dst = *src;
    dst->pending_state = (kcl_buf)KCL_BUF_INIT;
    if (src->pending_state.len &&
        kcl_buf_append(&dst->pending_state, src->pending_state.data, src->pending_state.len) != 0)
        return -1;
    return 0;
}

static int copy_str(const kcl_ddb_item *item, const char *name, char *out, size_t outlen,
                    int required, kcl_error *err)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get(item, name);
    if (!a) {
        out[0] = '\0';
        if (!required) return 0;
        kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL, "lease item has no %s", name);
        return -1;
    }
    if (a->type != KCL_DDB_S || a->n != 1 || a->v[0].len >= outlen) {
        kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL,
                      "lease attribute %s is not a string of at most %zu bytes", name, outlen - 1);
        return -1;
    }
    memcpy(out, a->v[0].data, a->v[0].len + 1);
    return 0;
}

static int read_int(const kcl_ddb_item *item, const char *name, int64_t *out, kcl_error *err)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get(item, name);
    *out = 0;
    if (!a) return 0;
    if (a->type != KCL_DDB_N || kcl_ddb_item_get_int64(item, name, out) != 0) {
        kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL, "lease attribute %s is not an integer (N)", name);
        return -1;
    }
    return 0;
}

static int read_set(const kcl_ddb_item *item, const char *name, char out[2][KCL_LEASE_KEY_MAX + 1],
                    int *count, kcl_error *err)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get(item, name);
    *count = 0;
    if (!a) return 0;
    /* The Java KCL writes SS; accept a lone S too (hand-edited tables). */
    if (a->type != KCL_DDB_SS && a->type != KCL_DDB_S) {
        kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL, "lease attribute %s is not a string set (SS)", name);
        return -1;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].len > KCL_LEASE_KEY_MAX || i >= 2) {
            kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL,
                          "lease attribute %s has more than two shard ids or one too long", name);
            return -1;
        }
        memcpy(out[i], a->v[i].data, a->v[i].len + 1);
        (*count)++;
    }
    return 0;
}

int kcl_lease_from_item(const kcl_ddb_item *item, kcl_lease *out, kcl_error *err)
{
    kcl_lease l;
    memset(&l, 0, sizeof l);
    if (copy_str(item, KCL_LEASE_A_KEY, l.key, sizeof l.key, 1, err) ||
        copy_str(item, KCL_LEASE_A_OWNER, l.owner, sizeof l.owner, 0, err) ||
        read_int(item, KCL_LEASE_A_COUNTER, &l.counter, err) ||
        copy_str(item, KCL_LEASE_A_CHECKPOINT, l.checkpoint, sizeof l.checkpoint, 0, err) ||
        read_int(item, KCL_LEASE_A_CHECKPOINT_SUB, &l.checkpoint_sub, err) ||
        read_int(item, KCL_LEASE_A_OWNER_SWITCHES, &l.owner_switches, err) ||
        copy_str(item, KCL_LEASE_A_PENDING, l.pending, sizeof l.pending, 0, err) ||
        read_int(item, KCL_LEASE_A_PENDING_SUB, &l.pending_sub, err) ||
        read_set(item, KCL_LEASE_A_PARENTS, l.parents, &l.nparents, err) ||
        read_set(item, KCL_LEASE_A_CHILDREN, l.children, &l.nchildren, err) ||
        copy_str(item, KCL_LEASE_A_START_HASH, l.starting_hash_key, sizeof l.starting_hash_key, 0, err) ||
        copy_str(item, KCL_LEASE_A_END_HASH, l.ending_hash_key, sizeof l.ending_hash_key, 0, err))
        return -1;
    l.has_pending = l.pending[0] != '\0';
    const kcl_ddb_attr *st = kcl_ddb_item_get(item, KCL_LEASE_A_PENDING_STATE);
    if (st) {
        if (st->type != KCL_DDB_B || st->n != 1) {
            kcl_error_set(err, KCL_ERR_MALFORMED, 0, NULL, "lease attribute %s is not binary (B)",
                          KCL_LEASE_A_PENDING_STATE);
            return -1;
        }
        if (kcl_buf_append(&l.pending_state, st->v[0].data, st->v[0].len) != 0) {
            kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
            return -1;
        }
    }
    *out = l;
    return 0;
}

int kcl_lease_to_item(const kcl_lease *l, kcl_ddb_item *out)
{
    int rc = kcl_ddb_item_add_s(out, KCL_LEASE_A_KEY, l->key);
    if (l->owner[0]) rc |= kcl_ddb_item_add_s(out, KCL_LEASE_A_OWNER, l->owner);
    rc |= kcl_ddb_item_add_n_int64(out, KCL_LEASE_A_COUNTER, l->counter);
    if (l->checkpoint[0]) rc |= kcl_ddb_item_add_s(out, KCL_LEASE_A_CHECKPOINT, l->checkpoint);
    rc |= kcl_ddb_item_add_n_int64(out, KCL_LEASE_A_CHECKPOINT_SUB, l->checkpoint_sub);
    rc |= kcl_ddb_item_add_n_int64(out, KCL_LEASE_A_OWNER_SWITCHES, l->owner_switches);
    if (l->nparents > 0) {
        const char *p[2] = {l->parents[0], l->parents[1]};
        rc |= kcl_ddb_item_add_ss(out, KCL_LEASE_A_PARENTS, p, (size_t)l->nparents);
    }
    if (l->nchildren > 0) {
        const char *c[2] = {l->children[0], l->children[1]};
        rc |= kcl_ddb_item_add_ss(out, KCL_LEASE_A_CHILDREN, c, (size_t)l->nchildren);
    }
    if (l->starting_hash_key[0] && l->ending_hash_key[0]) {
        rc |= kcl_ddb_item_add_s(out, KCL_LEASE_A_START_HASH, l->starting_hash_key);
        rc |= kcl_ddb_item_add_s(out, KCL_LEASE_A_END_HASH, l->ending_hash_key);
    }
    return rc ? -1 : 0;
}

int kcl_lease_is_finished(const kcl_lease *l)
{
    return strcmp(l->checkpoint, KCL_SENTINEL_SHARD_END) == 0;
}

int kcl_seq_is_sentinel(const char *s)
{
    return s && (strcmp(s, KCL_SENTINEL_TRIM_HORIZON) == 0 || strcmp(s, KCL_SENTINEL_LATEST) == 0 ||
                 strcmp(s, KCL_SENTINEL_AT_TIMESTAMP) == 0 || strcmp(s, KCL_SENTINEL_SHARD_END) == 0);
}

int kcl_seq_is_valid(const char *s)
{
    if (!s || !*s) return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (!isdigit((unsigned char)s[n]) || n >= KCL_LEASE_SEQ_MAX) return 0;
    return 1;
}

int kcl_seq_cmp(const char *a, const char *b)
{
    while (*a == '0' && a[1]) a++;
    while (*b == '0' && b[1]) b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return la < lb ? -1 : 1;
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

int kcl_extseq_cmp(const char *a, int64_t asub, const char *b, int64_t bsub)
{
    int c = kcl_seq_cmp(a, b);
    if (c) return c;
    if (asub < 0) asub = 0;
    if (bsub < 0) bsub = 0;
    return asub < bsub ? -1 : asub > bsub;
}
