/* fuzz_dynamodb — every DynamoDB response decoder over arbitrary bytes:
 * GetItem ("Item"), Put/Update/DeleteItem ("Attributes", e.g. ALL_NEW),
 * a Scan page, DescribeTable ("Table") and Create/DeleteTable
 * ("TableDescription"), and error bodies (aws.c's typing). Each must either
 * succeed or fail with KCL_ERR_MALFORMED, never crash or leak; and a decoded
 * item must survive encode -> decode unchanged (checked, aborts if not). */
#include "aws.h"
#include "ddb_item.h"
#include "dynamodb.h"
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int item_equal(const kcl_ddb_item *a, const kcl_ddb_item *b)
{
    if (a->n != b->n) return 0;
    for (size_t i = 0; i < a->n; i++) {
        const kcl_ddb_attr *x = &a->attrs[i], *y = &b->attrs[i];
        if (strcmp(x->name, y->name) != 0 || x->type != y->type || x->n != y->n || x->boolean != y->boolean)
            return 0;
        for (size_t k = 0; k < x->n; k++) {
            if (x->v[k].len != y->v[k].len || memcmp(x->v[k].data, y->v[k].data, x->v[k].len) != 0) return 0;
        }
    }
    return 1;
}

/* Encode the item and decode it again: the same item must come back. */
static void round_trip(const kcl_ddb_item *it)
{
    kcl_buf out = KCL_BUF_INIT;
    kcl_jw w;
    kcl_jw_init(&w, &out);
    kcl_ddb_item_write(&w, it);
    if (!w.failed) {
        kcl_json doc = {0};
        kcl_ddb_item back = KCL_DDB_ITEM_INIT;
        kcl_error err;
        if (kcl_json_parse(&doc, kcl_buf_cstr(&out), out.len, 0, &err) != 0) abort();
        if (kcl_ddb_item_decode(&doc, kcl_json_root(&doc), &back, &err) != 0) abort();
        if (!item_equal(it, &back)) abort();
        kcl_ddb_item_free(&back);
        kcl_json_free(&doc);
    }
    kcl_buf_free(&out);
}

static void check_kind(int rc, const kcl_error *err)
{
    if (rc != 0 && err->kind != KCL_ERR_MALFORMED) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    kcl_error err;
    kcl_ddb_item it = KCL_DDB_ITEM_INIT;
    int found = 0;

    static const char *const members[] = {"Item", "Attributes"};
    for (int m = 0; m < 2; m++) {
        kcl_error_clear(&err);
        int rc = kcl_ddb_decode_item_body(body, size, members[m], &it, &found, &err);
        check_kind(rc, &err);
        if (rc == 0 && found) round_trip(&it);
        kcl_ddb_item_free(&it);
    }

    kcl_ddb_items items = {0};
    kcl_ddb_item lek = KCL_DDB_ITEM_INIT;
    kcl_error_clear(&err);
    int rc = kcl_ddb_decode_scan_page(body, size, &items, &lek, &err);
    check_kind(rc, &err);
    if (rc != 0 && items.n != 0) abort();
    for (size_t i = 0; i < items.n; i++) round_trip(&items.v[i]);
    if (lek.n) round_trip(&lek);
    kcl_ddb_items_free(&items);
    kcl_ddb_item_free(&lek);

    static const char *const tmembers[] = {"Table", "TableDescription"};
    for (int m = 0; m < 2; m++) {
        kcl_ddb_table t;
        kcl_error_clear(&err);
        rc = kcl_ddb_decode_table(body, size, tmembers[m], &t, &err);
        check_kind(rc, &err);
        if (rc == 0 && (!t.name[0] || strnlen(t.name, sizeof t.name) == sizeof t.name)) abort();
    }

    kcl_error_clear(&err);
    kcl_aws_parse_error(400, body, size, &err);
    if (err.kind == KCL_ERR_NONE) abort();
    return 0;
}
