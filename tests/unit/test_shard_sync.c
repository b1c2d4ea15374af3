/* shard_sync's planning half: which leases a sync creates, at which
 * checkpoint and waiting on which parents; parents_done; the cleanup plan;
 * child leases at shard end. Pure: no loop, no servers.
 *
 * The stream used by most cases (ListShards order deliberately shuffled,
 * children before parents):
 *
 *   s0 (closed) --split--> s3 (closed) --merge--> s5 (open)      3 generations,
 *                      \-> s4 (closed) ---/                       a merge child
 *   s1 (closed) --split--> s6 (open), s7 (open)
 *   s2 (open)
 */
#include "shard_sync.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static kcl_kinesis_shard mk(const char *id, const char *parent, const char *adj, const char *start,
                            const char *end, int closed)
{
    kcl_kinesis_shard s;
    memset(&s, 0, sizeof s);
    snprintf(s.shard_id, sizeof s.shard_id, "%s", id);
    snprintf(s.parent_shard_id, sizeof s.parent_shard_id, "%s", parent ? parent : "");
    snprintf(s.adjacent_parent_shard_id, sizeof s.adjacent_parent_shard_id, "%s", adj ? adj : "");
    snprintf(s.hash_range.starting, sizeof s.hash_range.starting, "%s", start);
    snprintf(s.hash_range.ending, sizeof s.hash_range.ending, "%s", end);
    snprintf(s.starting_sequence_number, sizeof s.starting_sequence_number, "100");
    if (closed) snprintf(s.ending_sequence_number, sizeof s.ending_sequence_number, "200");
    return s;
}

static kcl_kinesis_shard S[8];
static const size_t NS = 8;

static void build_stream(void)
{
    S[0] = mk("s5", "s3", "s4", "0", "99", 0);
    S[1] = mk("s7", "s1", NULL, "150", "199", 0);
    S[2] = mk("s3", "s0", NULL, "0", "49", 1);
    S[3] = mk("s0", NULL, NULL, "0", "99", 1);
    S[4] = mk("s2", NULL, NULL, "200", "299", 0);
    S[5] = mk("s4", "s0", NULL, "50", "99", 1);
    S[6] = mk("s6", "s1", NULL, "100", "149", 0);
    S[7] = mk("s1", NULL, NULL, "100", "199", 1);
}

/* Copy a short test string into a fixed field. */
static void cpy(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    if (len >= size) len = size - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

static kcl_lease row(const char *key, const char *checkpoint, const char *p1, const char *p2)
{
    kcl_lease l;
    memset(&l, 0, sizeof l);
    cpy(l.key, sizeof l.key, key);
    cpy(l.checkpoint, sizeof l.checkpoint, checkpoint);
    if (p1) cpy(l.parents[l.nparents++], sizeof l.parents[0], p1);
    if (p2) cpy(l.parents[l.nparents++], sizeof l.parents[0], p2);
    return l;
}

static void set_children(kcl_lease *l, const char *c1, const char *c2)
{
    if (c1) cpy(l->children[l->nchildren++], sizeof l->children[0], c1);
    if (c2) cpy(l->children[l->nchildren++], sizeof l->children[0], c2);
}

static const kcl_lease *find(const kcl_lease *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) if (strcmp(v[i].key, key) == 0) return &v[i];
    return NULL;
}

static long pos_of(const kcl_lease *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) if (strcmp(v[i].key, key) == 0) return (long)i;
    return -1;
}

static int has_parent(const kcl_lease *l, const char *p)
{
    for (int i = 0; i < l->nparents; i++) if (strcmp(l->parents[i], p) == 0) return 1;
    return 0;
}

/* Every created lease: once, after each parent it names that is also
 * created, counter 0, no owner. */
static void check_well_formed(const kcl_lease *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(pos_of(v, n, v[i].key), (long)i);
        CHECK_EQ_INT(v[i].counter, 0);
        CHECK_EQ_STR(v[i].owner, "");
        CHECK(v[i].nparents >= 0 && v[i].nparents <= 2);
        for (int p = 0; p < v[i].nparents; p++) {
            long pp = pos_of(v, n, v[i].parents[p]);
            CHECK_MSG(pp < (long)i, "%s created before its parent %s", v[i].key, v[i].parents[p]);
        }
    }
}

/* Expect lease `key` in the plan with `checkpoint` and exactly the parents given. */
static void expect(const kcl_lease *v, size_t n, const char *key, const char *checkpoint,
                   const char *p1, const char *p2)
{
    const kcl_lease *l = find(v, n, key);
    CHECK_MSG(l != NULL, "expected a lease for %s", key);
    if (!l) return;
    CHECK_EQ_STR(l->checkpoint, checkpoint);
    CHECK_EQ_INT(l->nparents, (p1 != NULL) + (p2 != NULL));
    if (p1) CHECK_MSG(has_parent(l, p1), "%s should name parent %s", key, p1);
    if (p2) CHECK_MSG(has_parent(l, p2), "%s should name parent %s", key, p2);
}

static void plan(const kcl_lease *rows, size_t nrows, kcl_initial_position pos, kcl_lease **out, size_t *n)
{
    kcl_error err;
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(kcl_shard_sync_plan(S, NS, rows, nrows, pos, out, n, &err), 0);
    check_well_formed(*out, *n);
}

static void empty_table(void)
{
    kcl_lease *v;
    size_t n;

    /* LATEST: only the open shards, at LATEST, waiting on nothing. */
    plan(NULL, 0, KCL_POS_LATEST, &v, &n);
    CHECK_EQ_INT(n, 4);
    expect(v, n, "s5", "LATEST", NULL, NULL);
    expect(v, n, "s6", "LATEST", NULL, NULL);
    expect(v, n, "s7", "LATEST", NULL, NULL);
    expect(v, n, "s2", "LATEST", NULL, NULL);
    const kcl_lease *l = find(v, n, "s6");
    if (l) {
        CHECK_EQ_STR(l->starting_hash_key, "100");
        CHECK_EQ_STR(l->ending_hash_key, "149");
    }
    kcl_shard_sync_leases_free(v, n);

    /* TRIM_HORIZON: everything; roots at TRIM_HORIZON, the rest waiting on parents. */
    plan(NULL, 0, KCL_POS_TRIM_HORIZON, &v, &n);
    CHECK_EQ_INT(n, 8);
    expect(v, n, "s0", "TRIM_HORIZON", NULL, NULL);
    expect(v, n, "s1", "TRIM_HORIZON", NULL, NULL);
    expect(v, n, "s2", "TRIM_HORIZON", NULL, NULL);
    expect(v, n, "s3", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s4", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    expect(v, n, "s6", "TRIM_HORIZON", "s1", NULL);
    expect(v, n, "s7", "TRIM_HORIZON", "s1", NULL);
    l = find(v, n, "s5");
    if (l) {
        CHECK_EQ_STR(l->starting_hash_key, "0");
        CHECK_EQ_STR(l->ending_hash_key, "99");
    }
    kcl_shard_sync_leases_free(v, n);

    /* AT_TIMESTAMP: everything too, roots at AT_TIMESTAMP. */
    plan(NULL, 0, KCL_POS_AT_TIMESTAMP, &v, &n);
    CHECK_EQ_INT(n, 8);
    expect(v, n, "s0", "AT_TIMESTAMP", NULL, NULL);
    expect(v, n, "s1", "AT_TIMESTAMP", NULL, NULL);
    expect(v, n, "s2", "AT_TIMESTAMP", NULL, NULL);
    expect(v, n, "s3", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    expect(v, n, "s7", "TRIM_HORIZON", "s1", NULL);
    kcl_shard_sync_leases_free(v, n);

    /* No shards at all: nothing, no array. */
    kcl_error err;
    CHECK_EQ_INT(kcl_shard_sync_plan(NULL, 0, NULL, 0, KCL_POS_LATEST, &v, &n, &err), 0);
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);
}

static void partial_table(void)
{
    kcl_lease *v;
    size_t n;

    /* s0 is being consumed (LATEST app, before the reshard): its whole
     * descendance is created waiting on it; s1's closed subtree is not. */
    kcl_lease rows[4];
    rows[0] = row("s0", "49590338271490256608559692538361571095921575989136588802", NULL, NULL);
    rows[1] = row("s2", "LATEST", NULL, NULL);
    plan(rows, 2, KCL_POS_LATEST, &v, &n);
    CHECK_EQ_INT(n, 5);
    CHECK(find(v, n, "s0") == NULL);
    CHECK(find(v, n, "s2") == NULL);
    CHECK(find(v, n, "s1") == NULL);
    expect(v, n, "s3", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s4", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    expect(v, n, "s6", "LATEST", NULL, NULL);
    expect(v, n, "s7", "LATEST", NULL, NULL);
    kcl_shard_sync_leases_free(v, n);

    /* Everything leased: nothing to do, whatever the position. */
    kcl_lease all[8];
    for (size_t i = 0; i < NS; i++) all[i] = row(S[i].shard_id, "TRIM_HORIZON", NULL, NULL);
    plan(all, NS, KCL_POS_TRIM_HORIZON, &v, &n);
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);
    plan(all, NS, KCL_POS_LATEST, &v, &n);
    CHECK_EQ_INT(n, 0);

    /* One merge parent leased, the other one not: s4 is created (its parent
     * s0 is leased), and s5 waits on both. */
    rows[0] = row("s0", "SHARD_END", NULL, NULL);
    rows[1] = row("s3", "TRIM_HORIZON", "s0", NULL);
    plan(rows, 2, KCL_POS_LATEST, &v, &n);
    expect(v, n, "s4", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    CHECK(find(v, n, "s3") == NULL && find(v, n, "s0") == NULL);
    kcl_shard_sync_leases_free(v, n);

    /* A parent leased but not in ListShards any more (trimmed): it still
     * counts as a parent. */
    rows[0] = row("s-old", "SHARD_END", NULL, NULL);
    kcl_kinesis_shard one = mk("s9", "s-old", NULL, "0", "9", 0);
    kcl_error err;
    CHECK_EQ_INT(kcl_shard_sync_plan(&one, 1, rows, 1, KCL_POS_LATEST, &v, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    expect(v, n, "s9", "TRIM_HORIZON", "s-old", NULL);
    kcl_shard_sync_leases_free(v, n);
}

/* A shard whose child (or any descendant) has a lease is never recreated. */
static void children_already_leased(void)
{
    kcl_lease *v;
    size_t n;
    kcl_lease rows[4];

    /* s0 finished and was cleaned up; s3 and s4 are leased. */
    rows[0] = row("s3", "49590338271490256608559692538361571095921575989136588802", "s0", NULL);
    rows[1] = row("s4", "SHARD_END", "s0", NULL);
    plan(rows, 2, KCL_POS_TRIM_HORIZON, &v, &n);
    CHECK(find(v, n, "s0") == NULL);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    expect(v, n, "s1", "TRIM_HORIZON", NULL, NULL);
    expect(v, n, "s6", "TRIM_HORIZON", "s1", NULL);
    CHECK_EQ_INT(n, 5);   /* s5, s1, s6, s7, s2 */
    kcl_shard_sync_leases_free(v, n);

    /* Two generations cleaned up: only s5 is left; neither s3/s4 nor the
     * grandparent s0 come back. */
    rows[0] = row("s5", "49590338271490256608559692538361571095921575989136588802", "s3", "s4");
    plan(rows, 1, KCL_POS_TRIM_HORIZON, &v, &n);
    CHECK(find(v, n, "s0") == NULL);
    CHECK(find(v, n, "s3") == NULL);
    CHECK(find(v, n, "s4") == NULL);
    CHECK_EQ_INT(n, 4);   /* s1, s6, s7, s2 */
    kcl_shard_sync_leases_free(v, n);

    /* The child is known only from a lease row (its shard is gone from the
     * listing): the parent is still not recreated. */
    rows[0] = row("s-gone", "SHARD_END", "s1", NULL);
    plan(rows, 1, KCL_POS_TRIM_HORIZON, &v, &n);
    CHECK(find(v, n, "s1") == NULL);
    /* s6/s7 lost their parent's lease: they start at the initial position. */
    expect(v, n, "s6", "TRIM_HORIZON", NULL, NULL);
    kcl_shard_sync_leases_free(v, n);

    /* One child of a split leased, the other not: the parent stays gone, the
     * missing sibling starts at the initial position. */
    rows[0] = row("s6", "SHARD_END", "s1", NULL);
    plan(rows, 1, KCL_POS_LATEST, &v, &n);
    CHECK(find(v, n, "s1") == NULL);
    expect(v, n, "s7", "LATEST", NULL, NULL);
    kcl_shard_sync_leases_free(v, n);
}

static void hostile(void)
{
    kcl_lease *v;
    size_t n;
    kcl_error err;

    /* A cycle, a self-parent, a repeated id, an empty id. */
    kcl_kinesis_shard h[6];
    h[0] = mk("a", "b", NULL, "0", "1", 0);
    h[1] = mk("b", "a", NULL, "2", "3", 0);
    h[2] = mk("c", "c", "c", "4", "5", 0);
    h[3] = mk("a", NULL, NULL, "6", "7", 1);
    h[4] = mk("", "a", NULL, "8", "9", 0);
    h[5] = mk("d", "a", "b", "10", "11", 1);
    CHECK_EQ_INT(kcl_shard_sync_plan(h, 6, NULL, 0, KCL_POS_TRIM_HORIZON, &v, &n, &err), 0);
    check_well_formed(v, n);
    CHECK_EQ_INT(n, 4);   /* a, b, c, d once each */
    expect(v, n, "c", "TRIM_HORIZON", NULL, NULL);
    expect(v, n, "d", "TRIM_HORIZON", "a", "b");
    kcl_shard_sync_leases_free(v, n);

    /* A long chain (no recursion, no quadratic blow-up), listed youngest first. */
    enum { N = 5000 };
    kcl_kinesis_shard *chain = calloc(N, sizeof *chain);
    char id[32], parent[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "shardId-%06d", i);
        snprintf(parent, sizeof parent, "shardId-%06d", i - 1);
        chain[N - 1 - i] = mk(id, i ? parent : NULL, NULL, "0", "9", i < N - 1);
    }
    CHECK_EQ_INT(kcl_shard_sync_plan(chain, N, NULL, 0, KCL_POS_TRIM_HORIZON, &v, &n, &err), 0);
    CHECK_EQ_INT(n, N);
    if (n == N) {
        CHECK_EQ_STR(v[0].key, "shardId-000000");
        CHECK_EQ_STR(v[N - 1].key, "shardId-004999");
        CHECK_EQ_STR(v[N - 1].parents[0], "shardId-004998");
    }
    kcl_shard_sync_leases_free(v, n);
    /* LATEST: only the open leaf. */
    CHECK_EQ_INT(kcl_shard_sync_plan(chain, N, NULL, 0, KCL_POS_LATEST, &v, &n, &err), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_STR(v[0].checkpoint, "LATEST");
    kcl_shard_sync_leases_free(v, n);
    free(chain);
}

static void parents_done(void)
{
    kcl_lease merge = row("m", "TRIM_HORIZON", "p1", "p2");
    kcl_lease rows[3];

    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, NULL, 0), 1);            /* both absent */
    rows[0] = row("p1", "TRIM_HORIZON", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, rows, 1), 0);            /* p1 not started */
    rows[0] = row("p1", "12345", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, rows, 1), 0);            /* p1 in progress */
    rows[0] = row("p1", "SHARD_END", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, rows, 1), 1);            /* p1 done, p2 absent */
    rows[1] = row("p2", "12345", NULL, NULL);
    rows[2] = row("m", "TRIM_HORIZON", "p1", "p2");
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, rows, 3), 0);            /* p2 in progress */
    rows[1] = row("p2", "SHARD_END", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&merge, rows, 3), 1);            /* both finished */
    kcl_lease root = row("r", "LATEST", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&root, rows, 3), 1);             /* no parents */
    kcl_lease split = row("c", "TRIM_HORIZON", "p2", NULL);
    rows[1] = row("p2", "", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_parents_done(&split, rows, 3), 0);            /* no checkpoint yet */
}

static int has_key(char **keys, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) if (strcmp(keys[i], key) == 0) return 1;
    return 0;
}

static void cleanup(void)
{
    char **keys;
    size_t n;
    kcl_lease rows[6];
    const char *seq = "49590338271490256608559692538361571095921575989136588802";

    /* Children named by childShardIds, both started (one even finished). */
    rows[0] = row("p", "SHARD_END", NULL, NULL);
    set_children(&rows[0], "c1", "c2");
    rows[1] = row("c1", seq, "p", NULL);
    rows[2] = row("c2", "SHARD_END", "p", NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 3, &keys, &n), 0);
    CHECK_EQ_INT(n, 1);
    if (n == 1) CHECK_EQ_STR(keys[0], "p");
    kcl_shard_sync_keys_free(keys, n);

    /* One child not started yet: keep the parent. */
    rows[2] = row("c2", "TRIM_HORIZON", "p", NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 3, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK(keys == NULL);

    /* A child named in childShardIds without a row: keep. */
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 2, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);

    /* No childShardIds, children known from their parentShardId only. */
    rows[0] = row("p", "SHARD_END", NULL, NULL);
    rows[2] = row("c2", "777", "p", NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 3, &keys, &n), 0);
    CHECK_EQ_INT(n, 1);
    kcl_shard_sync_keys_free(keys, n);
    rows[2] = row("c2", "TRIM_HORIZON", "p", NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 3, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);

    /* Finished but no child known at all: keep (its children are not leased yet). */
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 1, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);

    /* Not finished: never, however far the children are. */
    rows[0] = row("p", seq, NULL, NULL);
    rows[2] = row("c2", seq, "p", NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 3, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);

    /* A merge: both parents go once the merge child has started; a chain
     * p -> c (finished) -> g (started): both p and c go. */
    rows[0] = row("p1", "SHARD_END", NULL, NULL);
    rows[1] = row("p2", "SHARD_END", NULL, NULL);
    set_children(&rows[1], "m", NULL);
    rows[2] = row("m", "SHARD_END", "p1", "p2");
    rows[3] = row("g", seq, "m", NULL);
    rows[4] = row("other", "LATEST", NULL, NULL);
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 5, &keys, &n), 0);
    CHECK_EQ_INT(n, 3);
    CHECK(has_key(keys, n, "p1") && has_key(keys, n, "p2") && has_key(keys, n, "m"));
    kcl_shard_sync_keys_free(keys, n);
    rows[2] = row("m", "AT_TIMESTAMP", "p1", "p2");
    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(rows, 5, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);

    CHECK_EQ_INT(kcl_shard_sync_cleanup_plan(NULL, 0, &keys, &n), 0);
    CHECK_EQ_INT(n, 0);
}

static void children(void)
{
    kcl_lease *v;
    size_t n;

    /* From GetRecords' ChildShards: a split... */
    kcl_kinesis_child_shard cs[4];
    memset(cs, 0, sizeof cs);
    cs[0].shard_id = "c1";
    cs[0].parent_shards[0] = "p";
    cs[0].parent_count = 1;
    cs[0].has_hash_range = 1;
    snprintf(cs[0].hash_range.starting, sizeof cs[0].hash_range.starting, "0");
    snprintf(cs[0].hash_range.ending, sizeof cs[0].hash_range.ending, "49");
    cs[1].shard_id = "c2";
    cs[1].parent_shards[0] = "p";
    cs[1].parent_count = 1;
    cs[2].shard_id = NULL;            /* garbage: skipped */
    cs[3].shard_id = "c1";            /* repeated: once */
    CHECK_EQ_INT(kcl_shard_sync_children_leases("p", cs, 4, &v, &n), 0);
    CHECK_EQ_INT(n, 2);
    check_well_formed(v, n);
    expect(v, n, "c1", "TRIM_HORIZON", "p", NULL);
    expect(v, n, "c2", "TRIM_HORIZON", "p", NULL);
    if (n == 2) {
        CHECK_EQ_STR(v[0].starting_hash_key, "0");
        CHECK_EQ_STR(v[0].ending_hash_key, "49");
        CHECK_EQ_STR(v[1].starting_hash_key, "");
    }
    kcl_shard_sync_leases_free(v, n);

    /* ...a merge child names both parents, whichever of them ended... */
    memset(cs, 0, sizeof cs);
    cs[0].shard_id = "m";
    cs[0].parent_shards[0] = "p1";
    cs[0].parent_shards[1] = "p2";
    cs[0].parent_count = 2;
    CHECK_EQ_INT(kcl_shard_sync_children_leases("p2", cs, 1, &v, &n), 0);
    CHECK_EQ_INT(n, 1);
    expect(v, n, "m", "TRIM_HORIZON", "p1", "p2");
    kcl_shard_sync_leases_free(v, n);

    /* ...and a child listing no parents gets the shard that ended. */
    cs[0].parent_count = 0;
    CHECK_EQ_INT(kcl_shard_sync_children_leases("p2", cs, 1, &v, &n), 0);
    expect(v, n, "m", "TRIM_HORIZON", "p2", NULL);
    kcl_shard_sync_leases_free(v, n);
    CHECK_EQ_INT(kcl_shard_sync_children_leases("p2", NULL, 0, &v, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);

    /* From a ListShards result. */
    CHECK_EQ_INT(kcl_shard_sync_children_from_shards("s0", S, NS, &v, &n), 0);
    CHECK_EQ_INT(n, 2);
    expect(v, n, "s3", "TRIM_HORIZON", "s0", NULL);
    expect(v, n, "s4", "TRIM_HORIZON", "s0", NULL);
    const kcl_lease *l = find(v, n, "s4");
    if (l) {
        CHECK_EQ_STR(l->starting_hash_key, "50");
        CHECK_EQ_STR(l->ending_hash_key, "99");
    }
    kcl_shard_sync_leases_free(v, n);
    CHECK_EQ_INT(kcl_shard_sync_children_from_shards("s4", S, NS, &v, &n), 0);   /* adjacent parent */
    CHECK_EQ_INT(n, 1);
    expect(v, n, "s5", "TRIM_HORIZON", "s3", "s4");
    kcl_shard_sync_leases_free(v, n);
    CHECK_EQ_INT(kcl_shard_sync_children_from_shards("s2", S, NS, &v, &n), 0);   /* open: none */
    CHECK_EQ_INT(n, 0);
    CHECK(v == NULL);
    CHECK_EQ_INT(kcl_shard_sync_children_from_shards("", S, NS, &v, &n), 0);
    CHECK_EQ_INT(n, 0);
}

static void sentinels(void)
{
    CHECK_EQ_STR(kcl_shard_sync_sentinel(KCL_POS_LATEST), "LATEST");
    CHECK_EQ_STR(kcl_shard_sync_sentinel(KCL_POS_TRIM_HORIZON), "TRIM_HORIZON");
    CHECK_EQ_STR(kcl_shard_sync_sentinel(KCL_POS_AT_TIMESTAMP), "AT_TIMESTAMP");
}

int main(void)
{
    build_stream();
    /* Twice: no state survives between runs. */
    for (int round = 0; round < 2; round++) {
        empty_table();
        partial_table();
        children_already_leased();
        hostile();
        parents_done();
        cleanup();
        children();
        sentinels();
    }
    return TEST_END();
}
