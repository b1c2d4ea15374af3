#include "ddb_item.h"

#include "base64.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [KCL_DDB_NONE] = "?",  [KCL_DDB_S] = "S",       [KCL_DDB_N] = "N",       [KCL_DDB_B] = "B",
    [KCL_DDB_SS] = "SS",   [KCL_DDB_NS] = "NS",     [KCL_DDB_BS] = "BS",     [KCL_DDB_BOOL] = "BOOL",
    [KCL_DDB_NULL] = "NULL", [KCL_DDB_M] = "M",     [KCL_DDB_L] = "L",
};

const char *kcl_ddb_type_name(kcl_ddb_type t)
{
    return (unsigned)t <= KCL_DDB_L ? type_names[t] : "?";
}

kcl_ddb_type kcl_ddb_type_parse(const char *s, size_t len)
{
    for (int t = KCL_DDB_S; t <= KCL_DDB_L; t++) {
        if (strlen(type_names[t]) == len && memcmp(type_names[t], s, len) == 0) return (kcl_ddb_type)t;
    }
    return KCL_DDB_NONE;
}

int kcl_ddb_number_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > 64) return 0;
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-') i++;
    while (i < len && s[i] >= '0' && s[i] <= '9') { i++; digits++; }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') { i++; digits++; }
    }
    if (digits == 0) return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) i++;
        size_t ed = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') { i++; ed++; }
        if (ed == 0) return 0;
    }
    return i == len;
}

/* ---- lifetime --------------------------------------------------------------- */

static int val_set(kcl_ddb_val *v, const void *data, size_t len)
{
    char *p = malloc(len + 1);
    if (!p) return -1;
    if (len) memcpy(p, data, len);
    p[len] = '\0';
    v->data = p;
    v->len = len;
    return 0;
}

void kcl_ddb_attr_free(kcl_ddb_attr *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) free(a->v[i].data);
    free(a->v);
    free(a->name);
    memset(a, 0, sizeof *a);
}

void kcl_ddb_item_free(kcl_ddb_item *it)
{
    if (!it) return;
    for (size_t i = 0; i < it->n; i++) kcl_ddb_attr_free(&it->attrs[i]);
    free(it->attrs);
    memset(it, 0, sizeof *it);
}

void kcl_ddb_item_move(kcl_ddb_item *dst, kcl_ddb_item *src)
{
    if (dst == src) return;
    kcl_ddb_item_free(dst);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static int attr_copy(kcl_ddb_attr *dst, const kcl_ddb_attr *src)
{
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->boolean = src->boolean;
    if (src->name && !(dst->name = strdup(src->name))) return -1;
    if (src->n) {
        dst->v = calloc(src->n, sizeof *dst->v);
        if (!dst->v) { kcl_ddb_attr_free(dst); return -1; }
        for (size_t i = 0; i < src->n; i++) {
            if (val_set(&dst->v[i], src->v[i].data, src->v[i].len) != 0) { kcl_ddb_attr_free(dst); return -1; }
            dst->n = i + 1;
        }
    }
    return 0;
}

int kcl_ddb_item_copy(kcl_ddb_item *dst, const kcl_ddb_item *src)
{
    kcl_ddb_item tmp = KCL_DDB_ITEM_INIT;
    if (src->n) {
        tmp.attrs = calloc(src->n, sizeof *tmp.attrs);
        if (!tmp.attrs) return -1;
        tmp.cap = src->n;
        for (size_t i = 0; i < src->n; i++) {
            if (attr_copy(&tmp.attrs[i], &src->attrs[i]) != 0) { kcl_ddb_item_free(&tmp); return -1; }
            tmp.n = i + 1;
        }
    }
    kcl_ddb_item_move(dst, &tmp);
    return 0;
}

static long find(const kcl_ddb_item *it, const char *name)
{
    if (!it || !name) return -1;
    for (size_t i = 0; i < it->n; i++) {
        if (strcmp(it->attrs[i].name, name) == 0) return (long)i;
    }
    return -1;
}

int kcl_ddb_item_remove(kcl_ddb_item *it, const char *name)
{
    long i = find(it, name);
    if (i < 0) return -1;
    kcl_ddb_attr_free(&it->attrs[i]);
    memmove(&it->attrs[i], &it->attrs[i + 1], (it->n - (size_t)i - 1) * sizeof *it->attrs);
    it->n--;
    return 0;
}

void kcl_ddb_items_free(kcl_ddb_items *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->n; i++) kcl_ddb_item_free(&list->v[i]);
    free(list->v);
    memset(list, 0, sizeof *list);
}

int kcl_ddb_items_push(kcl_ddb_items *list, kcl_ddb_item *it)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        kcl_ddb_item *p = realloc(list->v, cap * sizeof *p);
        if (!p) return -1;
        list->v = p;
        list->cap = cap;
    }
    list->v[list->n] = *it;
    memset(it, 0, sizeof *it);
    list->n++;
    return 0;
}

/* ---- building --------------------------------------------------------------- */

/* Store `a` (values set, name unset) under `name`, replacing any attribute of
 * that name. Consumes `a` whatever happens. */
static int item_put(kcl_ddb_item *it, const char *name, kcl_ddb_attr *a)
{
    if (!name || !*name) { kcl_ddb_attr_free(a); return -1; }
    free(a->name);
    a->name = strdup(name);
    if (!a->name) { kcl_ddb_attr_free(a); return -1; }
    long i = find(it, name);
    if (i >= 0) {
        kcl_ddb_attr_free(&it->attrs[i]);
        it->attrs[i] = *a;
        memset(a, 0, sizeof *a);
        return 0;
    }
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 8;
        kcl_ddb_attr *p = realloc(it->attrs, cap * sizeof *p);
        if (!p) { kcl_ddb_attr_free(a); return -1; }
        it->attrs = p;
        it->cap = cap;
    }
    it->attrs[it->n++] = *a;
    memset(a, 0, sizeof *a);
    return 0;
}

/* An attribute of type t with n values from (data[i], lens[i]). */
static int add_values(kcl_ddb_item *it, const char *name, kcl_ddb_type t,
                      const void *const *data, const size_t *lens, size_t n)
{
    kcl_ddb_attr a = {NULL, t, 0, 0, NULL};
    if (n) {
        a.v = calloc(n, sizeof *a.v);
        if (!a.v) return -1;
        for (size_t i = 0; i < n; i++) {
            if (!data[i] && lens[i]) { kcl_ddb_attr_free(&a); return -1; }
            if (val_set(&a.v[i], data[i], lens[i]) != 0) { kcl_ddb_attr_free(&a); return -1; }
            a.n = i + 1;
        }
    }
    return item_put(it, name, &a);
}

static int add_one(kcl_ddb_item *it, const char *name, kcl_ddb_type t, const void *data, size_t len)
{
    return add_values(it, name, t, &data, &len, 1);
}

int kcl_ddb_item_add_s_len(kcl_ddb_item *it, const char *name, const char *s, size_t len)
{
    if (!s) return -1;
    return add_one(it, name, KCL_DDB_S, s, len);
}

int kcl_ddb_item_add_s(kcl_ddb_item *it, const char *name, const char *s)
{
    return s ? add_one(it, name, KCL_DDB_S, s, strlen(s)) : -1;
}

int kcl_ddb_item_add_n(kcl_ddb_item *it, const char *name, const char *decimal)
{
    if (!decimal || !kcl_ddb_number_valid(decimal, strlen(decimal))) return -1;
    return add_one(it, name, KCL_DDB_N, decimal, strlen(decimal));
}

int kcl_ddb_item_add_n_int64(kcl_ddb_item *it, const char *name, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    return add_one(it, name, KCL_DDB_N, tmp, (size_t)n);
}

int kcl_ddb_item_add_b(kcl_ddb_item *it, const char *name, const void *data, size_t len)
{
    if (!data && len) return -1;
    return add_one(it, name, KCL_DDB_B, data ? data : "", len);
}

static int add_str_set(kcl_ddb_item *it, const char *name, kcl_ddb_type t, const char *const *v, size_t n)
{
    if (!v || n == 0) return -1;
    size_t *lens = calloc(n, sizeof *lens);
    if (!lens) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!v[i]) rc = -1;
        else {
            lens[i] = strlen(v[i]);
            if (t == KCL_DDB_NS && !kcl_ddb_number_valid(v[i], lens[i])) rc = -1;
        }
    }
    if (rc == 0) rc = add_values(it, name, t, (const void *const *)v, lens, n);
    free(lens);
    return rc;
}

int kcl_ddb_item_add_ss(kcl_ddb_item *it, const char *name, const char *const *v, size_t n)
{
    return add_str_set(it, name, KCL_DDB_SS, v, n);
}

int kcl_ddb_item_add_ns(kcl_ddb_item *it, const char *name, const char *const *v, size_t n)
{
    return add_str_set(it, name, KCL_DDB_NS, v, n);
}

int kcl_ddb_item_add_bs(kcl_ddb_item *it, const char *name, const void *const *v,
                        const size_t *lens, size_t n)
{
    if (!v || !lens || n == 0) return -1;
    return add_values(it, name, KCL_DDB_BS, v, lens, n);
}

int kcl_ddb_item_add_bool(kcl_ddb_item *it, const char *name, int v)
{
    kcl_ddb_attr a = {NULL, KCL_DDB_BOOL, v ? 1 : 0, 0, NULL};
    return item_put(it, name, &a);
}

int kcl_ddb_item_add_null(kcl_ddb_item *it, const char *name)
{
    kcl_ddb_attr a = {NULL, KCL_DDB_NULL, 0, 0, NULL};
    return item_put(it, name, &a);
}

static int add_json(kcl_ddb_item *it, const char *name, kcl_ddb_type t, const char *json, size_t len)
{
    if (!json) return -1;
    kcl_json doc = {0};
    kcl_error err;
    int ok = kcl_json_parse(&doc, json, len, 0, &err) == 0 &&
             kcl_json_type_of(&doc, kcl_json_root(&doc)) == (t == KCL_DDB_M ? KCL_JSON_OBJECT : KCL_JSON_ARRAY);
    kcl_json_free(&doc);
    if (!ok) return -1;
    return add_one(it, name, t, json, len);
}

int kcl_ddb_item_add_m_json(kcl_ddb_item *it, const char *name, const char *json, size_t len)
{
    return add_json(it, name, KCL_DDB_M, json, len);
}

int kcl_ddb_item_add_l_json(kcl_ddb_item *it, const char *name, const char *json, size_t len)
{
    return add_json(it, name, KCL_DDB_L, json, len);
}

int kcl_ddb_item_add_attr(kcl_ddb_item *it, const kcl_ddb_attr *a)
{
    if (!a || !a->name) return -1;
    kcl_ddb_attr c;
    if (attr_copy(&c, a) != 0) return -1;
    return item_put(it, a->name, &c);
}

/* ---- reading ---------------------------------------------------------------- */

const kcl_ddb_attr *kcl_ddb_item_get(const kcl_ddb_item *it, const char *name)
{
    long i = find(it, name);
    return i < 0 ? NULL : &it->attrs[i];
}

const kcl_ddb_attr *kcl_ddb_item_get_typed(const kcl_ddb_item *it, const char *name, kcl_ddb_type t)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get(it, name);
    return a && a->type == t ? a : NULL;
}

static int get_one(const kcl_ddb_item *it, const char *name, kcl_ddb_type t, const kcl_ddb_val **out)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get_typed(it, name, t);
    if (!a || a->n != 1) return -1;
    *out = &a->v[0];
    return 0;
}

int kcl_ddb_item_get_s(const kcl_ddb_item *it, const char *name, const char **out)
{
    const kcl_ddb_val *v;
    if (get_one(it, name, KCL_DDB_S, &v) != 0) return -1;
    *out = v->data;
    return 0;
}

int kcl_ddb_item_get_n(const kcl_ddb_item *it, const char *name, const char **out)
{
    const kcl_ddb_val *v;
    if (get_one(it, name, KCL_DDB_N, &v) != 0) return -1;
    *out = v->data;
    return 0;
}

int kcl_ddb_item_get_int64(const kcl_ddb_item *it, const char *name, int64_t *out)
{
    const kcl_ddb_val *v;
    if (get_one(it, name, KCL_DDB_N, &v) != 0) return -1;
    const char *s = v->data;
    size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    if (i == v->len) return -1;
    for (size_t k = i; k < v->len; k++) {
        if (s[k] < '0' || s[k] > '9') return -1;
    }
    errno = 0;
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end != s + v->len) return -1;
    *out = (int64_t)x;
    return 0;
}

int kcl_ddb_item_get_b(const kcl_ddb_item *it, const char *name, const void **data, size_t *len)
{
    const kcl_ddb_val *v;
    if (get_one(it, name, KCL_DDB_B, &v) != 0) return -1;
    *data = v->data;
    *len = v->len;
    return 0;
}

int kcl_ddb_item_get_bool(const kcl_ddb_item *it, const char *name, int *out)
{
    const kcl_ddb_attr *a = kcl_ddb_item_get_typed(it, name, KCL_DDB_BOOL);
    if (!a) return -1;
    *out = a->boolean;
    return 0;
}

int kcl_ddb_item_get_set(const kcl_ddb_item *it, const char *name, kcl_ddb_type t,
                         const kcl_ddb_val **vals, size_t *n)
{
    if (t != KCL_DDB_SS && t != KCL_DDB_NS && t != KCL_DDB_BS) return -1;
    const kcl_ddb_attr *a = kcl_ddb_item_get_typed(it, name, t);
    if (!a) return -1;
    *vals = a->v;
    *n = a->n;
    return 0;
}

int kcl_ddb_item_get_json(const kcl_ddb_item *it, const char *name, kcl_ddb_type t,
                          const char **json, size_t *len)
{
    if (t != KCL_DDB_M && t != KCL_DDB_L) return -1;
    const kcl_ddb_val *v;
    if (get_one(it, name, t, &v) != 0) return -1;
    *json = v->data;
    *len = v->len;
    return 0;
}

/* ---- encoding --------------------------------------------------------------- */

static void json_copy(kcl_jw *w, const kcl_json *doc, kcl_jv v, kcl_buf *scratch)
{
    switch (kcl_json_type_of(doc, v)) {
    case KCL_JSON_OBJECT:
        kcl_jw_obj_begin(w);
        for (kcl_jv e = kcl_json_first(doc, v); e >= 0; e = kcl_json_next(doc, e)) {
            if (kcl_json_str(doc, kcl_json_key_of(doc, e), scratch) != 0) kcl_buf_reset(scratch);
            kcl_jw_key(w, kcl_buf_cstr(scratch));
            json_copy(w, doc, e, scratch);
        }
        kcl_jw_obj_end(w);
        break;
    case KCL_JSON_ARRAY:
        kcl_jw_arr_begin(w);
        for (kcl_jv e = kcl_json_first(doc, v); e >= 0; e = kcl_json_next(doc, e)) json_copy(w, doc, e, scratch);
        kcl_jw_arr_end(w);
        break;
    case KCL_JSON_STRING:
        if (kcl_json_str(doc, v, scratch) != 0) kcl_buf_reset(scratch);
        kcl_jw_strn(w, kcl_buf_cstr(scratch), scratch->len);
        break;
    case KCL_JSON_NUMBER: {
        int64_t i;
        double d;
        if (kcl_json_int64(doc, v, &i) == 0) kcl_jw_int(w, i);
        else if (kcl_json_double(doc, v, &d) == 0) kcl_jw_double(w, d);
        else kcl_jw_null(w);
        break;
    }
    case KCL_JSON_TRUE: kcl_jw_bool(w, 1); break;
    case KCL_JSON_FALSE: kcl_jw_bool(w, 0); break;
    default: kcl_jw_null(w); break;
    }
}

void kcl_ddb_json_copy(kcl_jw *w, const kcl_json *doc, kcl_jv v)
{
    kcl_buf scratch = KCL_BUF_INIT;
    json_copy(w, doc, v, &scratch);
    kcl_buf_free(&scratch);
}

/* M / L text was validated when stored; fall back to an empty container if
 * it somehow does not parse, so the writer's output stays JSON. */
static void write_raw(kcl_jw *w, const kcl_ddb_attr *a)
{
    kcl_json doc = {0};
    kcl_error err;
    if (a->n == 1 && kcl_json_parse(&doc, a->v[0].data, a->v[0].len, 0, &err) == 0) {
        kcl_ddb_json_copy(w, &doc, kcl_json_root(&doc));
    } else if (a->type == KCL_DDB_M) {
        kcl_jw_obj_begin(w);
        kcl_jw_obj_end(w);
    } else {
        kcl_jw_arr_begin(w);
        kcl_jw_arr_end(w);
    }
    kcl_json_free(&doc);
}

void kcl_ddb_attr_write(kcl_jw *w, const kcl_ddb_attr *a)
{
    kcl_jw_obj_begin(w);
    kcl_jw_key(w, kcl_ddb_type_name(a->type));
    switch (a->type) {
    case KCL_DDB_S:
    case KCL_DDB_N:
        if (a->n == 1) kcl_jw_strn(w, a->v[0].data, a->v[0].len);
        else kcl_jw_str(w, "");
        break;
    case KCL_DDB_B:
        if (a->n == 1) kcl_jw_base64(w, a->v[0].data, a->v[0].len);
        else kcl_jw_str(w, "");
        break;
    case KCL_DDB_SS:
    case KCL_DDB_NS:
    case KCL_DDB_BS:
        kcl_jw_arr_begin(w);
        for (size_t i = 0; i < a->n; i++) {
            if (a->type == KCL_DDB_BS) kcl_jw_base64(w, a->v[i].data, a->v[i].len);
            else kcl_jw_strn(w, a->v[i].data, a->v[i].len);
        }
        kcl_jw_arr_end(w);
        break;
    case KCL_DDB_BOOL: kcl_jw_bool(w, a->boolean); break;
    case KCL_DDB_NULL: kcl_jw_bool(w, 1); break;
    case KCL_DDB_M:
    case KCL_DDB_L: write_raw(w, a); break;
    default: kcl_jw_null(w); break;
    }
    kcl_jw_obj_end(w);
}

void kcl_ddb_item_write(kcl_jw *w, const kcl_ddb_item *it)
{
    kcl_jw_obj_begin(w);
    for (size_t i = 0; it && i < it->n; i++) {
        kcl_jw_key(w, it->attrs[i].name);
        kcl_ddb_attr_write(w, &it->attrs[i]);
    }
    kcl_jw_obj_end(w);
}

/* ---- decoding --------------------------------------------------------------- */

static int malformed(kcl_error *err, const char *what)
{
    kcl_error_set(err, KCL_ERR_MALFORMED, 0, "MalformedResponse", "DynamoDB response: %s", what);
    return -1;
}

/* A string value (S, N, SS/NS element) into v. */
static int decode_str(const kcl_json *doc, kcl_jv s, kcl_ddb_val *v, kcl_buf *scratch)
{
    if (kcl_json_type_of(doc, s) != KCL_JSON_STRING || kcl_json_str(doc, s, scratch) != 0) return -1;
    return val_set(v, kcl_buf_cstr(scratch), scratch->len);
}

/* A base64 string (B, BS element) into v as bytes. */
static int decode_b64(const kcl_json *doc, kcl_jv s, kcl_ddb_val *v, kcl_buf *scratch)
{
    if (kcl_json_type_of(doc, s) != KCL_JSON_STRING) return -1;
    size_t n = 0;
    int esc = 0;
    const char *raw = kcl_json_raw(doc, s, &n, &esc);
    if (!raw) return -1;
    if (esc) {
        if (kcl_json_str(doc, s, scratch) != 0) return -1;
        raw = kcl_buf_cstr(scratch);
        n = scratch->len;
    }
    uint8_t *out = malloc(kcl_base64_decoded_max(n) + 1);
    if (!out) return -1;
    long got = kcl_base64_decode(raw, n, out);
    if (got < 0) { free(out); return -1; }
    out[got] = '\0';
    v->data = (char *)out;
    v->len = (size_t)got;
    return 0;
}

static int decode_value(const kcl_json *doc, kcl_jv tv, kcl_ddb_attr *a, kcl_buf *scratch, const char **why)
{
    switch (a->type) {
    case KCL_DDB_S:
    case KCL_DDB_N:
    case KCL_DDB_B:
    case KCL_DDB_M:
    case KCL_DDB_L:
        if (!(a->v = calloc(1, sizeof *a->v))) return -1;
        if (a->type == KCL_DDB_B) {
            if (decode_b64(doc, tv, &a->v[0], scratch) != 0) { *why = "bad B value"; return -1; }
        } else if (a->type == KCL_DDB_M || a->type == KCL_DDB_L) {
            kcl_json_type want = a->type == KCL_DDB_M ? KCL_JSON_OBJECT : KCL_JSON_ARRAY;
            if (kcl_json_type_of(doc, tv) != want) { *why = "bad M/L value"; return -1; }
            kcl_buf text = KCL_BUF_INIT;
            kcl_jw w;
            kcl_jw_init(&w, &text);
            json_copy(&w, doc, tv, scratch);
            size_t tlen = text.len;
            a->v[0].data = kcl_buf_steal(&text);
            if (!a->v[0].data) return -1;
            a->v[0].len = tlen;
        } else {
            if (decode_str(doc, tv, &a->v[0], scratch) != 0) { *why = "bad S/N value"; return -1; }
            if (a->type == KCL_DDB_N && !kcl_ddb_number_valid(a->v[0].data, a->v[0].len)) {
                a->n = 1;
                *why = "bad N value";
                return -1;
            }
        }
        a->n = 1;
        return 0;
    case KCL_DDB_SS:
    case KCL_DDB_NS:
    case KCL_DDB_BS: {
        int count = kcl_json_count(doc, tv);
        if (kcl_json_type_of(doc, tv) != KCL_JSON_ARRAY || count <= 0) { *why = "bad set"; return -1; }
        if (!(a->v = calloc((size_t)count, sizeof *a->v))) return -1;
        for (kcl_jv e = kcl_json_first(doc, tv); e >= 0 && a->n < (size_t)count; e = kcl_json_next(doc, e)) {
            int rc = a->type == KCL_DDB_BS ? decode_b64(doc, e, &a->v[a->n], scratch)
                                           : decode_str(doc, e, &a->v[a->n], scratch);
            if (rc != 0) { *why = "bad set element"; return -1; }
            a->n++;
            if (a->type == KCL_DDB_NS && !kcl_ddb_number_valid(a->v[a->n - 1].data, a->v[a->n - 1].len)) {
                *why = "bad NS element";
                return -1;
            }
        }
        if (a->n != (size_t)count) { *why = "bad set"; return -1; }
        return 0;
    }
    case KCL_DDB_BOOL:
        if (kcl_json_bool(doc, tv, &a->boolean) != 0) { *why = "bad BOOL value"; return -1; }
        return 0;
    case KCL_DDB_NULL: {
        int b = 0;
        if (kcl_json_bool(doc, tv, &b) != 0 || !b) { *why = "bad NULL value"; return -1; }
        return 0;
    }
    default:
        *why = "unknown type";
        return -1;
    }
}

static int attr_decode(const kcl_json *doc, kcl_jv v, kcl_ddb_attr *out, kcl_buf *scratch, kcl_error *err)
{
    if (kcl_json_type_of(doc, v) != KCL_JSON_OBJECT || kcl_json_count(doc, v) != 1)
        return malformed(err, "attribute value is not a one-member object");
    kcl_jv tv = kcl_json_first(doc, v);
    char tname[8];
    if (tv < 0 || kcl_json_str_copy(doc, kcl_json_key_of(doc, tv), tname, sizeof tname) != 0)
        return malformed(err, "bad attribute type");
    memset(out, 0, sizeof *out);
    out->type = kcl_ddb_type_parse(tname, strlen(tname));
    const char *why = out->type == KCL_DDB_NONE ? "unknown attribute type" : "out of memory";
    if (out->type == KCL_DDB_NONE || decode_value(doc, tv, out, scratch, &why) != 0) {
        kcl_ddb_attr_free(out);
        return malformed(err, why);
    }
    return 0;
}

int kcl_ddb_attr_decode(const kcl_json *doc, kcl_jv v, kcl_ddb_attr *out, kcl_error *err)
{
    kcl_buf scratch = KCL_BUF_INIT;
    int rc = attr_decode(doc, v, out, &scratch, err);
    kcl_buf_free(&scratch);
    return rc;
}

static int item_decode(const kcl_json *doc, kcl_jv obj, kcl_ddb_item *out, kcl_buf *scratch, kcl_error *err)
{
    if (kcl_json_type_of(doc, obj) != KCL_JSON_OBJECT) return malformed(err, "item is not an object");
    kcl_ddb_item tmp = KCL_DDB_ITEM_INIT;
    for (kcl_jv e = kcl_json_first(doc, obj); e >= 0; e = kcl_json_next(doc, e)) {
        char *name = NULL;
        kcl_ddb_attr a;
        if (kcl_json_str(doc, kcl_json_key_of(doc, e), scratch) != 0 || scratch->len == 0 ||
            strlen(kcl_buf_cstr(scratch)) != scratch->len || !(name = strdup(kcl_buf_cstr(scratch)))) {
            kcl_ddb_item_free(&tmp);
            return malformed(err, "bad attribute name");
        }
        if (attr_decode(doc, e, &a, scratch, err) != 0) {
            free(name);
            kcl_ddb_item_free(&tmp);
            return -1;
        }
        int rc = item_put(&tmp, name, &a);
        free(name);
        if (rc != 0) {
            kcl_ddb_item_free(&tmp);
            return malformed(err, "out of memory");
        }
    }
    kcl_ddb_item_move(out, &tmp);
    return 0;
}

int kcl_ddb_item_decode(const kcl_json *doc, kcl_jv obj, kcl_ddb_item *out, kcl_error *err)
{
    kcl_buf scratch = KCL_BUF_INIT;
    int rc = item_decode(doc, obj, out, &scratch, err);
    kcl_buf_free(&scratch);
    return rc;
}

static int parse_body(kcl_json *doc, const char *body, size_t len, kcl_error *err)
{
    if (!body || kcl_json_parse(doc, body, len, 0, err) != 0) return malformed(err, "not JSON");
    if (kcl_json_type_of(doc, kcl_json_root(doc)) != KCL_JSON_OBJECT) return malformed(err, "not a JSON object");
    return 0;
}

int kcl_ddb_decode_item_body(const char *body, size_t len, const char *member,
                             kcl_ddb_item *out, int *found, kcl_error *err)
{
    kcl_json doc = {0};
    int rc = -1;
    *found = 0;
    if (parse_body(&doc, body, len, err) == 0) {
        kcl_jv m = kcl_json_get(&doc, kcl_json_root(&doc), member);
        kcl_json_type t = kcl_json_type_of(&doc, m);
        if (t == KCL_JSON_ABSENT || t == KCL_JSON_NULL) {
            kcl_ddb_item_free(out);
            rc = 0;
        } else if ((rc = kcl_ddb_item_decode(&doc, m, out, err)) == 0) {
            *found = 1;
        }
    }
    kcl_json_free(&doc);
    return rc;
}

int kcl_ddb_decode_scan_page(const char *body, size_t len, kcl_ddb_items *items,
                             kcl_ddb_item *last_key, kcl_error *err)
{
    kcl_json doc = {0};
    kcl_ddb_items page = {0};
    kcl_ddb_item lek = KCL_DDB_ITEM_INIT, one = KCL_DDB_ITEM_INIT;
    kcl_buf scratch = KCL_BUF_INIT;
    int rc = parse_body(&doc, body, len, err);
    if (rc == 0) {
        kcl_jv root = kcl_json_root(&doc);
        kcl_jv arr = kcl_json_get(&doc, root, "Items");
        if (kcl_json_type_of(&doc, arr) != KCL_JSON_ARRAY) rc = malformed(err, "Items is not an array");
        for (kcl_jv e = kcl_json_first(&doc, arr); rc == 0 && e >= 0; e = kcl_json_next(&doc, e)) {
            rc = item_decode(&doc, e, &one, &scratch, err);
            if (rc == 0 && kcl_ddb_items_push(&page, &one) != 0) rc = malformed(err, "out of memory");
        }
        kcl_jv k = kcl_json_get(&doc, root, "LastEvaluatedKey");
        kcl_json_type kt = kcl_json_type_of(&doc, k);
        if (rc == 0 && kt != KCL_JSON_ABSENT && kt != KCL_JSON_NULL) {
            rc = item_decode(&doc, k, &lek, &scratch, err);
            if (rc == 0 && lek.n == 0) rc = malformed(err, "empty LastEvaluatedKey");
        }
    }
    /* Move the page's items over only when everything decoded. */
    if (rc == 0 && items->cap - items->n < page.n) {
        size_t cap = items->cap ? items->cap : 16;
        while (cap - items->n < page.n) cap *= 2;
        kcl_ddb_item *p = realloc(items->v, cap * sizeof *p);
        if (!p) rc = malformed(err, "out of memory");
        else { items->v = p; items->cap = cap; }
    }
    if (rc == 0) {
        for (size_t i = 0; i < page.n; i++) kcl_ddb_items_push(items, &page.v[i]);
        page.n = 0;
        kcl_ddb_item_move(last_key, &lek);
    }
    kcl_ddb_item_free(&one);
    kcl_ddb_item_free(&lek);
    kcl_ddb_items_free(&page);
    kcl_buf_free(&scratch);
    kcl_json_free(&doc);
    return rc;
}
