/* fuzz_json — parse arbitrary bytes; on success walk every value, unescape
 * every string (checking the documented invariants), convert every number,
 * base64-decode every string, and write the document back out with kcl_jw,
 * which must parse again to the same shape. */
#include "base64.h"
#include "json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "fuzz_json: %s\n", #c); abort(); } } while (0)

static void rewrite(const kcl_json *d, kcl_jv v, kcl_jw *w, kcl_buf *tmp)
{
    switch (kcl_json_type_of(d, v)) {
    case KCL_JSON_OBJECT:
        kcl_jw_obj_begin(w);
        for (kcl_jv e = kcl_json_first(d, v); e >= 0; e = kcl_json_next(d, e)) {
            REQUIRE(kcl_json_str(d, kcl_json_key_of(d, e), tmp) == 0);
            kcl_jw_keyn(w, tmp->data, tmp->len);
            rewrite(d, e, w, tmp);
        }
        kcl_jw_obj_end(w);
        break;
    case KCL_JSON_ARRAY:
        kcl_jw_arr_begin(w);
        for (kcl_jv e = kcl_json_first(d, v); e >= 0; e = kcl_json_next(d, e)) rewrite(d, e, w, tmp);
        kcl_jw_arr_end(w);
        break;
    case KCL_JSON_STRING:
        REQUIRE(kcl_json_str(d, v, tmp) == 0);
        kcl_jw_strn(w, tmp->data, tmp->len);
        break;
    case KCL_JSON_NUMBER: {
        int64_t i;
        double x;
        if (kcl_json_int64(d, v, &i) == 0) kcl_jw_int(w, i);
        else if (kcl_json_double(d, v, &x) == 0) kcl_jw_double(w, x);
        else kcl_jw_null(w);
        break;
    }
    case KCL_JSON_TRUE: kcl_jw_bool(w, 1); break;
    case KCL_JSON_FALSE: kcl_jw_bool(w, 0); break;
    case KCL_JSON_NULL: kcl_jw_null(w); break;
    case KCL_JSON_ABSENT: REQUIRE(0);
    }
}

/* Walk every value; returns the number of values seen. */
static int walk(const kcl_json *d, kcl_jv v, kcl_buf *tmp, int depth)
{
    REQUIRE(depth <= 64);
    int seen = 1;
    kcl_json_type t = kcl_json_type_of(d, v);
    REQUIRE(t != KCL_JSON_ABSENT);
    if (t == KCL_JSON_OBJECT || t == KCL_JSON_ARRAY) {
        int n = 0;
        for (kcl_jv e = kcl_json_first(d, v); e >= 0; e = kcl_json_next(d, e), n++) {
            REQUIRE(e > v);
            kcl_jv k = kcl_json_key_of(d, e);
            if (t == KCL_JSON_OBJECT) {
                REQUIRE(k == e - 1 && kcl_json_type_of(d, k) == KCL_JSON_STRING);
                REQUIRE(kcl_json_str(d, k, tmp) == 0);
                /* get() finds this member or an earlier one with the same key */
                if (!memchr(tmp->data, 0, tmp->len)) {
                    kcl_jv g = kcl_json_get(d, v, tmp->data);
                    REQUIRE(g >= 0 && g <= e);
                }
            } else {
                REQUIRE(k == KCL_JV_NONE);
            }
            seen += walk(d, e, tmp, depth + 1);
        }
        REQUIRE(n == kcl_json_count(d, v));
    } else if (t == KCL_JSON_STRING) {
        size_t rawlen;
        int esc;
        const char *raw = kcl_json_raw(d, v, &rawlen, &esc);
        REQUIRE(raw != NULL);
        REQUIRE(kcl_json_str(d, v, tmp) == 0);
        REQUIRE(tmp->len <= rawlen);
        if (!esc) REQUIRE(tmp->len == rawlen && memcmp(tmp->data, raw, rawlen) == 0);
        int has_nul = memchr(tmp->data, 0, tmp->len) != NULL;
        char *dup = kcl_json_strdup(d, v);
        REQUIRE(has_nul ? dup == NULL : (dup && strlen(dup) == tmp->len));
        if (dup) REQUIRE(kcl_json_str_eq(d, v, dup));
        free(dup);
        char small[8];
        int rc = kcl_json_str_copy(d, v, small, sizeof small);
        REQUIRE(rc == ((has_nul || tmp->len >= sizeof small) ? -1 : 0));
        uint8_t *bin = malloc(kcl_base64_decoded_max(tmp->len));
        long n = kcl_base64_decode(tmp->data, tmp->len, bin);
        if (n >= 0) {
            /* canonical decoding: re-encoding gives the same text */
            char *again = malloc(kcl_base64_encoded_len((size_t)n) + 1);
            size_t e = kcl_base64_encode(bin, (size_t)n, again);
            REQUIRE(e == tmp->len && memcmp(again, tmp->data, e) == 0);
            free(again);
        }
        free(bin);
    } else if (t == KCL_JSON_NUMBER) {
        int64_t i;
        double x;
        int ri = kcl_json_int64(d, v, &i);
        int rd = kcl_json_double(d, v, &x);
        if (ri == 0) REQUIRE(rd == 0);
    } else {
        int b;
        REQUIRE(kcl_json_bool(d, v, &b) == ((t == KCL_JSON_TRUE || t == KCL_JSON_FALSE) ? 0 : -1));
    }
    return seen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kcl_json doc = {0}, again = {0};
    kcl_error err;
    kcl_buf tmp = KCL_BUF_INIT, out = KCL_BUF_INIT;
    if (kcl_json_parse(&doc, (const char *)data, size, 0, &err) == 0) {
        int values = walk(&doc, kcl_json_root(&doc), &tmp, 1);
        REQUIRE(values <= doc.ntoks);
        kcl_jw w;
        kcl_jw_init(&w, &out);
        rewrite(&doc, kcl_json_root(&doc), &w, &tmp);
        REQUIRE(!w.failed && w.depth == 0);
        REQUIRE(kcl_json_parse(&again, out.data, out.len, 0, &err) == 0);
        REQUIRE(walk(&again, kcl_json_root(&again), &tmp, 1) == values);
    } else {
        REQUIRE(kcl_json_root(&doc) == KCL_JV_NONE);
    }
    /* the raw input as base64, too */
    uint8_t *bin = malloc(kcl_base64_decoded_max(size));
    kcl_base64_decode((const char *)data, size, bin);
    free(bin);
    kcl_json_free(&doc);
    kcl_json_free(&again);
    kcl_buf_free(&tmp);
    kcl_buf_free(&out);
    return 0;
}
