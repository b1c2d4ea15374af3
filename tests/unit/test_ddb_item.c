/* ddb_item: building items, encoding them (checked by parsing back with
 * json.h), decoding canned DynamoDB bodies of every type, and malformed
 * bodies that must each fail with KCL_ERR_MALFORMED and change nothing. */
#include "ddb_item.h"
#include "json.h"
#include "testlib.h"

#include <stdlib.h>

static int item_equal(const kcl_ddb_item *a, const kcl_ddb_item *b)
{
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const kcl_ddb_attr *x = &a->attrs[i];
        const kcl_ddb_attr *y = kcl_ddb_item_get(b, x->name);
        if (!y || x->type != y->type || x->n != y->n || x->boolean != y->boolean) return 0;
        for (size_t k = 0; k < x->n; k++) {
            if (x->v[k].len != y->v[k].len || memcmp(x->v[k].data, y->v[k].data, x->v[k].len) != 0) return 0;
        }
    }
    return 1;
}

static void encode(const kcl_ddb_item *it, kcl_buf *out)
{
    kcl_jw w;
    kcl_buf_reset(out);
    kcl_jw_init(&w, out);
    kcl_ddb_item_write(&w, it);
}

static void build_and_encode(void)
{
    kcl_ddb_item it = KCL_DDB_ITEM_INIT;
    const char *ss[] = {"shardId-000", "shardId-001"};
    const char *ns[] = {"1", "-2.5e3"};
    const void *bs[] = {"\x00\x01", "zz"};
    const size_t bl[] = {2, 2};
    CHECK_EQ_INT(kcl_ddb_item_add_s(&it, "leaseKey", "shardId-000000000001"), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_s(&it, "quote", "a\"b\\c\n\xc3\xa9"), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_n_int64(&it, "leaseCounter", 42), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_n(&it, "big", "123456789012345678901234567890.5"), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_b(&it, "bin", "a\0b\0", 4), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_ss(&it, "parentShardId", ss, 2), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_ns(&it, "nums", ns, 2), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_bs(&it, "bins", bs, bl, 2), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_bool(&it, "flag", 7), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_null(&it, "nothing"), 0);
    const char *m = "{\"x\":{\"N\":\"1\"},\"y\":{\"L\":[{\"S\":\"q\"}]}}";
    const char *l = "[{\"S\":\"a\"},{\"BOOL\":false}]";
    CHECK_EQ_INT(kcl_ddb_item_add_m_json(&it, "map", m, strlen(m)), 0);
    CHECK_EQ_INT(kcl_ddb_item_add_l_json(&it, "list", l, strlen(l)), 0);
    CHECK_EQ_INT(it.n, 12);

    /* Invalid input is refused and leaves the item alone. */
    CHECK_EQ_INT(kcl_ddb_item_add_n(&it, "bad", "12a"), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_n(&it, "bad", ""), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_n(&it, "bad", "1e"), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_ss(&it, "bad", ss, 0), -1);
    const char *badns[] = {"1", "x"};
    CHECK_EQ_INT(kcl_ddb_item_add_ns(&it, "bad", badns, 2), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_m_json(&it, "bad", "[]", 2), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_l_json(&it, "bad", "{}", 2), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_m_json(&it, "bad", "{", 1), -1);
    CHECK_EQ_INT(kcl_ddb_item_add_s(&it, "", "x"), -1);
    CHECK_EQ_INT(it.n, 12);
    CHECK(kcl_ddb_item_get(&it, "bad") == NULL);

    /* Typed getters. */
    const char *s = NULL;
    int64_t i64 = 0;
    const void *bp = NULL;
    size_t blen = 0;
    int bv = -1;
    CHECK_EQ_INT(kcl_ddb_item_get_s(&it, "leaseKey", &s), 0);
    CHECK_EQ_STR(s, "shardId-000000000001");
    CHECK_EQ_INT(kcl_ddb_item_get_s(&it, "leaseCounter", &s), -1);   /* wrong type */
    CHECK_EQ_INT(kcl_ddb_item_get_s(&it, "missing", &s), -1);
    CHECK_EQ_INT(kcl_ddb_item_get_int64(&it, "leaseCounter", &i64), 0);
    CHECK_EQ_INT(i64, 42);
    CHECK_EQ_INT(kcl_ddb_item_get_int64(&it, "big", &i64), -1);       /* fraction / too big */
    CHECK_EQ_INT(kcl_ddb_item_get_int64(&it, "leaseKey", &i64), -1);
    CHECK_EQ_INT(kcl_ddb_item_get_b(&it, "bin", &bp, &blen), 0);
    CHECK_EQ_INT(blen, 4);
    CHECK(memcmp(bp, "a\0b\0", 4) == 0);
    CHECK_EQ_INT(kcl_ddb_item_get_bool(&it, "flag", &bv), 0);
    CHECK_EQ_INT(bv, 1);
    CHECK_EQ_INT(kcl_ddb_item_get_bool(&it, "nothing", &bv), -1);
    CHECK(kcl_ddb_item_get_typed(&it, "nothing", KCL_DDB_NULL) != NULL);
    const kcl_ddb_val *vals = NULL;
    size_t nv = 0;
    CHECK_EQ_INT(kcl_ddb_item_get_set(&it, "parentShardId", KCL_DDB_SS, &vals, &nv), 0);
    CHECK_EQ_INT(nv, 2);
    CHECK_EQ_STR(vals[1].data, "shardId-001");
    CHECK_EQ_INT(kcl_ddb_item_get_set(&it, "parentShardId", KCL_DDB_NS, &vals, &nv), -1);
    const char *js = NULL;
    size_t jl = 0;
    CHECK_EQ_INT(kcl_ddb_item_get_json(&it, "map", KCL_DDB_M, &js, &jl), 0);
    CHECK_EQ_STR(js, m);
    CHECK_EQ_INT(kcl_ddb_item_get_json(&it, "map", KCL_DDB_L, &js, &jl), -1);

    /* Encode, then read it back with json.h. */
    kcl_buf out = KCL_BUF_INIT;
    encode(&it, &out);
    kcl_json doc = {0};
    kcl_error err;
    CHECK_EQ_INT(kcl_json_parse(&doc, out.data, out.len, 0, &err), 0);
    kcl_jv root = kcl_json_root(&doc);
    CHECK_EQ_INT(kcl_json_count(&doc, root), 12);
    kcl_buf tmp = KCL_BUF_INIT;
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "leaseKey"), "S"), "shardId-000000000001"));
    CHECK_EQ_INT(kcl_json_str(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "quote"), "S"), &tmp), 0);
    CHECK_EQ_STR(tmp.data, "a\"b\\c\n\xc3\xa9");
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "leaseCounter"), "N"), "42"));
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "bin"), "B"), "YQBiAA=="));
    kcl_jv ssv = kcl_json_get(&doc, kcl_json_get(&doc, root, "parentShardId"), "SS");
    CHECK_EQ_INT(kcl_json_count(&doc, ssv), 2);
    CHECK(kcl_json_str_eq(&doc, kcl_json_first(&doc, ssv), "shardId-000"));
    kcl_jv bsv = kcl_json_get(&doc, kcl_json_get(&doc, root, "bins"), "BS");
    CHECK(kcl_json_str_eq(&doc, kcl_json_first(&doc, bsv), "AAE="));
    CHECK_EQ_INT(kcl_json_type_of(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "flag"), "BOOL")), KCL_JSON_TRUE);
    CHECK_EQ_INT(kcl_json_type_of(&doc, kcl_json_get(&doc, kcl_json_get(&doc, root, "nothing"), "NULL")), KCL_JSON_TRUE);
    kcl_jv mv = kcl_json_get(&doc, kcl_json_get(&doc, root, "map"), "M");
    CHECK_EQ_INT(kcl_json_type_of(&doc, mv), KCL_JSON_OBJECT);
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, kcl_json_get(&doc, mv, "x"), "N"), "1"));
    kcl_jv lv = kcl_json_get(&doc, kcl_json_get(&doc, root, "list"), "L");
    CHECK_EQ_INT(kcl_json_count(&doc, lv), 2);

    /* And decode it back: the same item. */
    kcl_ddb_item back = KCL_DDB_ITEM_INIT;
    CHECK_EQ_INT(kcl_ddb_item_decode(&doc, root, &back, &err), 0);
    CHECK(item_equal(&it, &back));
    CHECK(item_equal(&back, &it));

    /* Copy, replace, remove. */
    kcl_ddb_item cp = KCL_DDB_ITEM_INIT;
    CHECK_EQ_INT(kcl_ddb_item_copy(&cp, &it), 0);
    CHECK(item_equal(&cp, &it));
    CHECK_EQ_INT(kcl_ddb_item_add_s(&cp, "leaseCounter", "now a string"), 0);
    CHECK_EQ_INT(cp.n, 12);
    CHECK_EQ_INT(kcl_ddb_item_get_s(&cp, "leaseCounter", &s), 0);
    CHECK_EQ_INT(kcl_ddb_item_remove(&cp, "leaseKey"), 0);
    CHECK_EQ_INT(kcl_ddb_item_remove(&cp, "leaseKey"), -1);
    CHECK_EQ_INT(cp.n, 11);
    CHECK(kcl_ddb_item_get(&cp, "list") != NULL);
    CHECK_EQ_INT(kcl_ddb_item_add_attr(&cp, kcl_ddb_item_get(&it, "leaseKey")), 0);
    CHECK_EQ_INT(kcl_ddb_item_get_s(&cp, "leaseKey", &s), 0);
    CHECK_EQ_STR(s, "shardId-000000000001");
    kcl_ddb_item_move(&back, &cp);
    CHECK_EQ_INT(cp.n, 0);
    CHECK_EQ_INT(back.n, 12);

    kcl_ddb_item_free(&back);
    kcl_ddb_item_free(&cp);
    kcl_json_free(&doc);
    kcl_buf_free(&tmp);
    kcl_buf_free(&out);
    kcl_ddb_item_free(&it);
}

static void decode_every_type(void)
{
    const char *body =
        "{\"Item\":{"
        "\"s\":{\"S\":\"a\\\"b\\u00e9\\u0000z\"},"
        "\"n\":{\"N\":\"-17\"},"
        "\"b\":{\"B\":\"AGEAYg==\"},"
        "\"slash\":{\"B\":\"\\/\\/\\/\\/\"},"
        "\"ss\":{\"SS\":[\"x\",\"y\",\"z\"]},"
        "\"ns\":{\"NS\":[\"1.5\",\"2\"]},"
        "\"bs\":{\"BS\":[\"AA==\",\"AAA=\"]},"
        "\"t\":{\"BOOL\":true},\"f\":{\"BOOL\":false},"
        "\"nul\":{\"NULL\":true},"
        "\"m\":{\"M\":{\"inner\":{\"S\":\"v\"},\"deep\":{\"M\":{\"k\":{\"N\":\"3\"}}}}},"
        "\"l\":{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"},{\"NULL\":true}]},"
        "\"checkpointOwner\":{\"S\":\"java-worker\"}"
        "}}";
    kcl_ddb_item it = KCL_DDB_ITEM_INIT;
    kcl_error err;
    int found = -1;
    CHECK_EQ_INT(kcl_ddb_decode_item_body(body, strlen(body), "Item", &it, &found, &err), 0);
    CHECK_EQ_INT(found, 1);
    CHECK_EQ_INT(it.n, 13);
    const kcl_ddb_attr *a = kcl_ddb_item_get_typed(&it, "s", KCL_DDB_S);
    CHECK(a && a->v[0].len == 7 && memcmp(a->v[0].data, "a\"b\xc3\xa9\0z", 7) == 0);
    const char *s;
    CHECK_EQ_INT(kcl_ddb_item_get_n(&it, "n", &s), 0);
    CHECK_EQ_STR(s, "-17");
    const void *bp;
    size_t bl;
    CHECK_EQ_INT(kcl_ddb_item_get_b(&it, "b", &bp, &bl), 0);
    CHECK(bl == 4 && memcmp(bp, "\0a\0b", 4) == 0);
    CHECK_EQ_INT(kcl_ddb_item_get_b(&it, "slash", &bp, &bl), 0);
    CHECK(bl == 3 && memcmp(bp, "\xff\xff\xff", 3) == 0);
    const kcl_ddb_val *v;
    size_t n;
    CHECK_EQ_INT(kcl_ddb_item_get_set(&it, "ss", KCL_DDB_SS, &v, &n), 0);
    CHECK(n == 3 && strcmp(v[2].data, "z") == 0);
    CHECK_EQ_INT(kcl_ddb_item_get_set(&it, "ns", KCL_DDB_NS, &v, &n), 0);
    CHECK(n == 2 && strcmp(v[0].data, "1.5") == 0);
    CHECK_EQ_INT(kcl_ddb_item_get_set(&it, "bs", KCL_DDB_BS, &v, &n), 0);
    CHECK(n == 2 && v[0].len == 1 && v[1].len == 2 && v[1].data[1] == 0);
    int b = -1;
    CHECK(kcl_ddb_item_get_bool(&it, "t", &b) == 0 && b == 1);
    CHECK(kcl_ddb_item_get_bool(&it, "f", &b) == 0 && b == 0);
    CHECK(kcl_ddb_item_get_typed(&it, "nul", KCL_DDB_NULL) != NULL);
    const char *js;
    size_t jl;
    CHECK_EQ_INT(kcl_ddb_item_get_json(&it, "m", KCL_DDB_M, &js, &jl), 0);
    CHECK_EQ_STR(js, "{\"inner\":{\"S\":\"v\"},\"deep\":{\"M\":{\"k\":{\"N\":\"3\"}}}}");
    CHECK_EQ_INT(kcl_ddb_item_get_json(&it, "l", KCL_DDB_L, &js, &jl), 0);
    CHECK_EQ_STR(js, "[{\"S\":\"a\"},{\"N\":\"1\"},{\"NULL\":true}]");

    /* Re-encoding keeps the unknown attributes (M, L, the foreign one). */
    kcl_buf out = KCL_BUF_INIT;
    encode(&it, &out);
    CHECK(strstr(out.data, "\"m\":{\"M\":{\"inner\":{\"S\":\"v\"}") != NULL);
    CHECK(strstr(out.data, "\"s\":{\"S\":\"a\\\"b\xc3\xa9\\u0000z\"}") != NULL);
    CHECK(strstr(out.data, "\"checkpointOwner\":{\"S\":\"java-worker\"}") != NULL);
    kcl_buf_free(&out);

    /* No Item (GetItem of a missing key; ReturnValues NONE): found = 0. */
    CHECK_EQ_INT(kcl_ddb_decode_item_body("{}", 2, "Item", &it, &found, &err), 0);
    CHECK_EQ_INT(found, 0);
    CHECK_EQ_INT(it.n, 0);
    const char *attrs = "{\"Attributes\":{\"leaseCounter\":{\"N\":\"8\"}}}";
    CHECK_EQ_INT(kcl_ddb_decode_item_body(attrs, strlen(attrs), "Attributes", &it, &found, &err), 0);
    CHECK_EQ_INT(found, 1);
    int64_t c = 0;
    CHECK(kcl_ddb_item_get_int64(&it, "leaseCounter", &c) == 0 && c == 8);
    kcl_ddb_item_free(&it);
}

static void scan_pages(void)
{
    kcl_ddb_items items = {0};
    kcl_ddb_item lek = KCL_DDB_ITEM_INIT;
    kcl_error err;
    const char *p1 = "{\"Count\":2,\"ScannedCount\":2,\"Items\":[{\"k\":{\"S\":\"a\"}},{\"k\":{\"S\":\"b\"},\"x\":{\"N\":\"1\"}}],"
                     "\"LastEvaluatedKey\":{\"k\":{\"S\":\"b\"}}}";
    const char *p2 = "{\"Count\":1,\"Items\":[{\"k\":{\"S\":\"c\"}}]}";
    CHECK_EQ_INT(kcl_ddb_decode_scan_page(p1, strlen(p1), &items, &lek, &err), 0);
    CHECK_EQ_INT(items.n, 2);
    const char *s;
    CHECK(kcl_ddb_item_get_s(&lek, "k", &s) == 0 && strcmp(s, "b") == 0);
    CHECK_EQ_INT(kcl_ddb_decode_scan_page(p2, strlen(p2), &items, &lek, &err), 0);
    CHECK_EQ_INT(items.n, 3);
    CHECK_EQ_INT(lek.n, 0);
    CHECK(kcl_ddb_item_get_s(&items.v[2], "k", &s) == 0 && strcmp(s, "c") == 0);
    CHECK(kcl_ddb_item_get_s(&items.v[1], "k", &s) == 0 && strcmp(s, "b") == 0);
    /* Many items: the list grows. */
    kcl_buf big = KCL_BUF_INIT;
    kcl_buf_append_str(&big, "{\"Items\":[");
    for (int i = 0; i < 100; i++) kcl_buf_printf(&big, "%s{\"k\":{\"N\":\"%d\"}}", i ? "," : "", i);
    kcl_buf_append_str(&big, "]}");
    CHECK_EQ_INT(kcl_ddb_decode_scan_page(big.data, big.len, &items, &lek, &err), 0);
    CHECK_EQ_INT(items.n, 103);
    int64_t v = 0;
    CHECK(kcl_ddb_item_get_int64(&items.v[102], "k", &v) == 0 && v == 99);
    kcl_buf_free(&big);
    kcl_ddb_items_free(&items);
    kcl_ddb_item_free(&lek);
}

static void malformed_bodies(void)
{
    static const char *const item_bodies[] = {
        "", "null", "[]", "\"Item\"", "{\"Item\":5}", "{\"Item\":[]}", "{\"Item\":{\"a\":{}}}",
        "{\"Item\":{\"a\":{\"S\":\"x\",\"N\":\"1\"}}}", "{\"Item\":{\"a\":{\"Q\":\"x\"}}}",
        "{\"Item\":{\"a\":{\"S\":5}}}", "{\"Item\":{\"a\":{\"N\":\"abc\"}}}", "{\"Item\":{\"a\":{\"N\":\"\"}}}",
        "{\"Item\":{\"a\":{\"B\":\"!!!!\"}}}", "{\"Item\":{\"a\":{\"B\":\"AAA\"}}}", "{\"Item\":{\"a\":{\"B\":null}}}",
        "{\"Item\":{\"a\":{\"SS\":[]}}}", "{\"Item\":{\"a\":{\"SS\":[\"a\",1]}}}", "{\"Item\":{\"a\":{\"SS\":\"a\"}}}",
        "{\"Item\":{\"a\":{\"NS\":[\"1\",\"x\"]}}}", "{\"Item\":{\"a\":{\"BS\":[\"AA==\",\"*\"]}}}",
        "{\"Item\":{\"a\":{\"BOOL\":\"true\"}}}", "{\"Item\":{\"a\":{\"NULL\":false}}}",
        "{\"Item\":{\"a\":{\"M\":[]}}}", "{\"Item\":{\"a\":{\"L\":{}}}}", "{\"Item\":{\"\":{\"S\":\"x\"}}}",
        "{\"Item\":{\"a\\u0000b\":{\"S\":\"x\"}}}", "{\"Item\":{\"a\":{\"S\":\"x\"}}",
        "{\"Item\":{\"a\":{\"S\":\"x\"}}}garbage", "{\"Item\":{\"a\":{\"SSSSSSSSSSSS\":\"x\"}}}",
        "<html>502 Bad Gateway</html>",
    };
    kcl_ddb_item keep = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_s(&keep, "sentinel", "unchanged");
    for (size_t i = 0; i < sizeof item_bodies / sizeof *item_bodies; i++) {
        kcl_error err;
        kcl_error_clear(&err);
        int found = -1;
        int rc = kcl_ddb_decode_item_body(item_bodies[i], strlen(item_bodies[i]), "Item", &keep, &found, &err);
        CHECK_MSG(rc == -1 && err.kind == KCL_ERR_MALFORMED, "body %zu: %s", i, item_bodies[i]);
        CHECK_MSG(kcl_ddb_item_get(&keep, "sentinel") != NULL && keep.n == 1, "body %zu changed the item", i);
        CHECK_EQ_INT(found, 0);
    }
    static const char *const scan_bodies[] = {
        "{}", "{\"Count\":0}", "{\"Items\":5}", "{\"Items\":[5]}", "{\"Items\":[{\"k\":{\"S\":1}}]}",
        "{\"Items\":[{\"k\":{\"S\":\"a\"}},{\"k\":{\"X\":\"1\"}}]}",
        "{\"Items\":[],\"LastEvaluatedKey\":{}}", "{\"Items\":[],\"LastEvaluatedKey\":{\"k\":{\"X\":\"1\"}}}",
        "{\"Items\":[],\"LastEvaluatedKey\":7}", "{\"Items\":[{\"k\":{\"S\":\"a\"}}],", "\x01\x02\xff",
    };
    kcl_ddb_items items = {0};
    kcl_ddb_item lek = KCL_DDB_ITEM_INIT;
    for (size_t i = 0; i < sizeof scan_bodies / sizeof *scan_bodies; i++) {
        kcl_error err;
        kcl_error_clear(&err);
        int rc = kcl_ddb_decode_scan_page(scan_bodies[i], strlen(scan_bodies[i]), &items, &lek, &err);
        CHECK_MSG(rc == -1 && err.kind == KCL_ERR_MALFORMED, "scan body %zu: %s", i, scan_bodies[i]);
        CHECK_EQ_INT(items.n, 0);
    }
    /* Nesting beyond the parser's limit inside an M is refused, not a crash. */
    kcl_buf deep = KCL_BUF_INIT;
    kcl_buf_append_str(&deep, "{\"Item\":{\"a\":");
    for (int i = 0; i < 200; i++) kcl_buf_append_str(&deep, "{\"M\":{\"b\":");
    kcl_buf_append_str(&deep, "{\"S\":\"x\"}");
    for (int i = 0; i < 200; i++) kcl_buf_append_str(&deep, "}}");
    kcl_buf_append_str(&deep, "}}");
    int found;
    kcl_error err;
    CHECK_EQ_INT(kcl_ddb_decode_item_body(deep.data, deep.len, "Item", &keep, &found, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_MALFORMED);
    kcl_buf_free(&deep);
    kcl_ddb_items_free(&items);
    kcl_ddb_item_free(&lek);
    kcl_ddb_item_free(&keep);
}

int main(void)
{
    build_and_encode();
    decode_every_type();
    scan_pages();
    malformed_bodies();
    return TEST_END();
}
