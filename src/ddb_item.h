/* ddb_item — DynamoDB items and attribute values: building, reading, and the
 * JSON codec of the DynamoDB JSON 1.0 protocol ({"name": {"S": "..."}, ...}).
 * Pure: no ev, no curl, so the lease store can build items and the fuzzer can
 * hammer the decoders.
 *
 * Data model. An item is an ordered list of named attributes; a name occurs
 * at most once (adding a name that exists replaces its value). Each attribute
 * has one type and its values as byte strings:
 *
 *   type      values (kcl_ddb_val, each NUL-terminated, owned by the item)
 *   S         1: the UTF-8 string
 *   N         1: the decimal number exactly as sent ("12", "-0.5e3")
 *   B         1: the raw bytes (base64 only on the wire; may contain NULs)
 *   SS/NS/BS  n: the set's elements, in wire order
 *   BOOL      0: the value is in `boolean`
 *   NULL      0
 *   M / L     1: the JSON text of the map object / list array, kept raw (not
 *                understood), so attributes written by other programs (the
 *                Java KCL adds some) survive a read-modify-write unchanged.
 *
 * A zeroed kcl_ddb_item (KCL_DDB_ITEM_INIT) is a valid empty item. Functions
 * returning int return 0, or -1 on bad input or when memory runs out (the
 * item is then unchanged). Decoders fail with err->kind = KCL_ERR_MALFORMED
 * and never crash on hostile input. */
#ifndef KCL_DDB_ITEM_H
#define KCL_DDB_ITEM_H

#include "buf.h"
#include "error.h"
#include "json.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    KCL_DDB_NONE = 0,
    KCL_DDB_S,
    KCL_DDB_N,
    KCL_DDB_B,
    KCL_DDB_SS,
    KCL_DDB_NS,
    KCL_DDB_BS,
    KCL_DDB_BOOL,
    KCL_DDB_NULL,
    KCL_DDB_M,
    KCL_DDB_L
} kcl_ddb_type;

typedef struct kcl_ddb_val {
    char  *data;       /* always NUL-terminated (the NUL is not counted) */
    size_t len;
} kcl_ddb_val;

typedef struct kcl_ddb_attr {
    char        *name;
    kcl_ddb_type type;
    int          boolean;  /* BOOL only */
    size_t       n;        /* number of values (see the table above) */
    kcl_ddb_val *v;
} kcl_ddb_attr;

typedef struct kcl_ddb_item {
    kcl_ddb_attr *attrs;
    size_t n, cap;
} kcl_ddb_item;

#define KCL_DDB_ITEM_INIT {NULL, 0, 0}

/* A list of items (Scan results). Zeroed is empty; owns its items. */
typedef struct kcl_ddb_items {
    kcl_ddb_item *v;
    size_t n, cap;
} kcl_ddb_items;

/* "S", "N", ... for a type; KCL_DDB_NONE gives "?". */
const char *kcl_ddb_type_name(kcl_ddb_type t);
/* The type for a wire descriptor ("S", "BOOL", ...), KCL_DDB_NONE if unknown. */
kcl_ddb_type kcl_ddb_type_parse(const char *s, size_t len);
/* Whether `s` is a DynamoDB number: [+-]digits[.digits][e[+-]digits], at least
 * one digit before the exponent, at most 64 bytes. */
int kcl_ddb_number_valid(const char *s, size_t len);

/* ---- lifetime --------------------------------------------------------------- */

/* Release everything the item owns; it is left empty and reusable. */
void kcl_ddb_item_free(kcl_ddb_item *it);
/* Free `dst`'s contents, move `src`'s into it, leave `src` empty. */
void kcl_ddb_item_move(kcl_ddb_item *dst, kcl_ddb_item *src);
/* Deep copy of `src` replacing `dst`'s contents. -1 on OOM (dst unchanged). */
int kcl_ddb_item_copy(kcl_ddb_item *dst, const kcl_ddb_item *src);
/* Remove attribute `name`. 0 if it was there, -1 if absent. */
int kcl_ddb_item_remove(kcl_ddb_item *it, const char *name);

void kcl_ddb_items_free(kcl_ddb_items *list);
/* Append `it` by moving it (it is left empty). -1 on OOM (it unchanged). */
int kcl_ddb_items_push(kcl_ddb_items *list, kcl_ddb_item *it);

/* ---- building: every value is copied ------------------------------------------ */

int kcl_ddb_item_add_s(kcl_ddb_item *it, const char *name, const char *s);
int kcl_ddb_item_add_s_len(kcl_ddb_item *it, const char *name, const char *s, size_t len);
/* `decimal` must pass kcl_ddb_number_valid. */
int kcl_ddb_item_add_n(kcl_ddb_item *it, const char *name, const char *decimal);
int kcl_ddb_item_add_n_int64(kcl_ddb_item *it, const char *name, int64_t v);
int kcl_ddb_item_add_b(kcl_ddb_item *it, const char *name, const void *data, size_t len);
/* Sets need at least one element (DynamoDB has no empty sets). */
int kcl_ddb_item_add_ss(kcl_ddb_item *it, const char *name, const char *const *v, size_t n);
int kcl_ddb_item_add_ns(kcl_ddb_item *it, const char *name, const char *const *v, size_t n);
int kcl_ddb_item_add_bs(kcl_ddb_item *it, const char *name, const void *const *v,
                        const size_t *lens, size_t n);
int kcl_ddb_item_add_bool(kcl_ddb_item *it, const char *name, int v);
int kcl_ddb_item_add_null(kcl_ddb_item *it, const char *name);
/* M / L from JSON text: the value of "M" (an object of attribute values) or of
 * "L" (an array of attribute values). The text must be a JSON object / array;
 * it is stored as given. */
int kcl_ddb_item_add_m_json(kcl_ddb_item *it, const char *name, const char *json, size_t len);
int kcl_ddb_item_add_l_json(kcl_ddb_item *it, const char *name, const char *json, size_t len);
/* Add a copy of attribute `a` (under a->name). */
int kcl_ddb_item_add_attr(kcl_ddb_item *it, const kcl_ddb_attr *a);

/* ---- reading: returned pointers are owned by the item, valid until it changes -- */

/* The attribute named `name`, or NULL. */
const kcl_ddb_attr *kcl_ddb_item_get(const kcl_ddb_item *it, const char *name);
/* The attribute if present with type `t`, else NULL. */
const kcl_ddb_attr *kcl_ddb_item_get_typed(const kcl_ddb_item *it, const char *name, kcl_ddb_type t);
/* Typed getters: 0, or -1 when absent or of another type (out untouched). */
int kcl_ddb_item_get_s(const kcl_ddb_item *it, const char *name, const char **out);
int kcl_ddb_item_get_n(const kcl_ddb_item *it, const char *name, const char **out);
/* An N that is an exact integer within int64 (no fraction, no exponent). */
int kcl_ddb_item_get_int64(const kcl_ddb_item *it, const char *name, int64_t *out);
int kcl_ddb_item_get_b(const kcl_ddb_item *it, const char *name, const void **data, size_t *len);
int kcl_ddb_item_get_bool(const kcl_ddb_item *it, const char *name, int *out);
/* SS / NS / BS (t says which): the elements and their count. */
int kcl_ddb_item_get_set(const kcl_ddb_item *it, const char *name, kcl_ddb_type t,
                         const kcl_ddb_val **vals, size_t *n);
/* M / L (t says which): the raw JSON text. */
int kcl_ddb_item_get_json(const kcl_ddb_item *it, const char *name, kcl_ddb_type t,
                          const char **json, size_t *len);

/* ---- encoding --------------------------------------------------------------- */

/* Write one attribute value, e.g. {"S":"x"} or {"M":{...}}. */
void kcl_ddb_attr_write(kcl_jw *w, const kcl_ddb_attr *a);
/* Write an item as an attribute map: {"name":{"S":"x"},...}. */
void kcl_ddb_item_write(kcl_jw *w, const kcl_ddb_item *it);
/* Write any JSON value of a parsed document through `w` (used for M / L). */
void kcl_ddb_json_copy(kcl_jw *w, const kcl_json *doc, kcl_jv v);

/* ---- decoding --------------------------------------------------------------- */

/* Decode one attribute value ({"S":"x"}) into `out` (zeroed by the caller;
 * out->name is left NULL). 0, or -1 with KCL_ERR_MALFORMED. */
int kcl_ddb_attr_decode(const kcl_json *doc, kcl_jv v, kcl_ddb_attr *out, kcl_error *err);
void kcl_ddb_attr_free(kcl_ddb_attr *a);
/* Decode an attribute map into `out` (replacing its contents). */
int kcl_ddb_item_decode(const kcl_json *doc, kcl_jv obj, kcl_ddb_item *out, kcl_error *err);

/* Decode a GetItem ("Item") or Put/Update/DeleteItem ("Attributes") response
 * body: `member` names the attribute map. *found says whether the member was
 * there (an absent member is not an error: GetItem of a missing key, or
 * ReturnValues NONE). `out` is replaced either way. */
int kcl_ddb_decode_item_body(const char *body, size_t len, const char *member,
                             kcl_ddb_item *out, int *found, kcl_error *err);
/* Decode one Scan/Query page: its "Items" are appended to `items`; `last_key`
 * gets LastEvaluatedKey (emptied when absent: the last page). On failure
 * nothing is appended. */
int kcl_ddb_decode_scan_page(const char *body, size_t len, kcl_ddb_items *items,
                             kcl_ddb_item *last_key, kcl_error *err);

#endif
