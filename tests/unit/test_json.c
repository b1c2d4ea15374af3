#include "json.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>

static kcl_json doc;   /* reused across parses, as callers do */

static int parse(const char *s)
{
    kcl_error err = {0};
    int rc = kcl_json_parse(&doc, s, strlen(s), 0, &err);
    if (rc != 0 && err.kind != KCL_ERR_MALFORMED) return -2;
    return rc;
}

static void test_objects_and_arrays(void)
{
    const char *s = " {\"a\": 1, \"b\": [true, false, null, \"x\", {\"c\": [[]]}, -2.5e3],"
                    " \"e\": {}, \"s\": \"str\"} \n";
    CHECK_EQ_INT(parse(s), 0);
    kcl_jv root = kcl_json_root(&doc);
    CHECK_EQ_INT(root, 0);
    CHECK_EQ_INT(kcl_json_type_of(&doc, root), KCL_JSON_OBJECT);
    CHECK_EQ_INT(kcl_json_count(&doc, root), 4);
    int64_t i = 0;
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_get(&doc, root, "a"), &i), 0);
    CHECK_EQ_INT(i, 1);
    kcl_jv b = kcl_json_get(&doc, root, "b");
    CHECK_EQ_INT(kcl_json_type_of(&doc, b), KCL_JSON_ARRAY);
    CHECK_EQ_INT(kcl_json_count(&doc, b), 6);
    kcl_json_type want[] = {KCL_JSON_TRUE, KCL_JSON_FALSE, KCL_JSON_NULL, KCL_JSON_STRING,
                            KCL_JSON_OBJECT, KCL_JSON_NUMBER};
    int n = 0;
    for (kcl_jv e = kcl_json_first(&doc, b); e >= 0; e = kcl_json_next(&doc, e), n++) {
        CHECK_EQ_INT(kcl_json_type_of(&doc, e), want[n]);
        CHECK_EQ_INT(kcl_json_key_of(&doc, e), KCL_JV_NONE);   /* array elements have no key */
    }
    CHECK_EQ_INT(n, 6);
    /* the nested object is skipped as a whole by next() */
    kcl_jv inner = kcl_json_next(&doc, kcl_json_next(&doc, kcl_json_next(&doc, kcl_json_next(&doc, kcl_json_first(&doc, b)))));
    CHECK_EQ_INT(kcl_json_type_of(&doc, inner), KCL_JSON_OBJECT);
    kcl_jv c = kcl_json_get(&doc, inner, "c");
    CHECK_EQ_INT(kcl_json_count(&doc, c), 1);
    CHECK_EQ_INT(kcl_json_count(&doc, kcl_json_first(&doc, c)), 0);
    CHECK_EQ_INT(kcl_json_first(&doc, kcl_json_first(&doc, c)), KCL_JV_NONE);
    double d = 0;
    CHECK_EQ_INT(kcl_json_double(&doc, kcl_json_next(&doc, inner), &d), 0);
    CHECK(d == -2500.0);
    int bv = -1;
    CHECK_EQ_INT(kcl_json_bool(&doc, kcl_json_first(&doc, b), &bv), 0);
    CHECK_EQ_INT(bv, 1);
    CHECK_EQ_INT(kcl_json_bool(&doc, kcl_json_next(&doc, kcl_json_first(&doc, b)), &bv), 0);
    CHECK_EQ_INT(bv, 0);
    kcl_jv e = kcl_json_get(&doc, root, "e");
    CHECK_EQ_INT(kcl_json_type_of(&doc, e), KCL_JSON_OBJECT);
    CHECK_EQ_INT(kcl_json_count(&doc, e), 0);
    CHECK_EQ_INT(kcl_json_first(&doc, e), KCL_JV_NONE);

    /* object iteration: values in order, with their keys */
    const char *keys[] = {"a", "b", "e", "s"};
    n = 0;
    for (kcl_jv v = kcl_json_first(&doc, root); v >= 0; v = kcl_json_next(&doc, v), n++) {
        kcl_jv k = kcl_json_key_of(&doc, v);
        CHECK(n < 4 && kcl_json_str_eq(&doc, k, keys[n]));
    }
    CHECK_EQ_INT(n, 4);
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, root, "s"), "str"));
    CHECK(!kcl_json_str_eq(&doc, kcl_json_get(&doc, root, "s"), "st"));
    CHECK(!kcl_json_str_eq(&doc, kcl_json_get(&doc, root, "s"), "strs"));

    /* absent keys and wrong types answer "absent", never crash */
    CHECK_EQ_INT(kcl_json_get(&doc, root, "zz"), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_get(&doc, root, "c"), KCL_JV_NONE);    /* only a nested key */
    CHECK_EQ_INT(kcl_json_get(&doc, root, ""), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_get(&doc, root, NULL), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_get(&doc, b, "a"), KCL_JV_NONE);       /* not an object */
    CHECK_EQ_INT(kcl_json_get(&doc, KCL_JV_NONE, "a"), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_get(&doc, 9999, "a"), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_type_of(&doc, KCL_JV_NONE), KCL_JSON_ABSENT);
    CHECK_EQ_INT(kcl_json_type_of(&doc, 9999), KCL_JSON_ABSENT);
    CHECK_EQ_INT(kcl_json_count(&doc, kcl_json_get(&doc, root, "a")), 0);
    CHECK_EQ_INT(kcl_json_first(&doc, kcl_json_get(&doc, root, "a")), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_next(&doc, KCL_JV_NONE), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_next(&doc, root), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_key_of(&doc, root), KCL_JV_NONE);
    i = 77;
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_get(&doc, root, "s"), &i), -1);
    CHECK_EQ_INT(i, 77);
    CHECK_EQ_INT(kcl_json_double(&doc, b, &d), -1);
    CHECK_EQ_INT(kcl_json_bool(&doc, kcl_json_get(&doc, root, "a"), &bv), -1);
    CHECK_EQ_INT(kcl_json_int64(&doc, KCL_JV_NONE, &i), -1);
    kcl_buf out = KCL_BUF_INIT;
    CHECK_EQ_INT(kcl_json_str(&doc, kcl_json_get(&doc, root, "a"), &out), -1);
    CHECK_EQ_INT(kcl_json_str(&doc, KCL_JV_NONE, &out), -1);
    CHECK(kcl_json_raw(&doc, root, NULL, NULL) == NULL);
    CHECK(kcl_json_strdup(&doc, kcl_json_get(&doc, root, "a")) == NULL);
    char small[8] = "zz";
    CHECK_EQ_INT(kcl_json_str_copy(&doc, kcl_json_get(&doc, root, "zz"), small, sizeof small), -1);
    CHECK_EQ_STR(small, "");
    CHECK(!kcl_json_str_eq(&doc, KCL_JV_NONE, "x"));
    kcl_buf_free(&out);

    /* accessors on a NULL or empty document */
    kcl_json empty = {0};
    CHECK_EQ_INT(kcl_json_root(&empty), KCL_JV_NONE);
    CHECK_EQ_INT(kcl_json_type_of(NULL, 0), KCL_JSON_ABSENT);
    CHECK_EQ_INT(kcl_json_get(&empty, 0, "a"), KCL_JV_NONE);
}

static void test_duplicate_and_escaped_keys(void)
{
    CHECK_EQ_INT(parse("{\"k\\u0065y\": 1, \"key\": 2, \"a\\\"b\": 3}"), 0);
    int64_t i = 0;
    /* the first matching member wins, escaped keys are compared unescaped */
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_get(&doc, 0, "key"), &i), 0);
    CHECK_EQ_INT(i, 1);
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_get(&doc, 0, "a\"b"), &i), 0);
    CHECK_EQ_INT(i, 3);
}

static void test_strings(void)
{
    kcl_buf out = KCL_BUF_INIT;
    CHECK_EQ_INT(parse("[\"plain\", \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\", \"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\","
                       " \"\\ud800x\", \"\\udc00\", \"a\\u0000b\", \"\xc3\xa9 raw\", \"\", \"\\uD83D\\uDE00\"]"), 0);
    kcl_jv v = kcl_json_first(&doc, 0);
    size_t len = 0;
    int esc = -1;
    const char *raw = kcl_json_raw(&doc, v, &len, &esc);
    CHECK(raw && len == 5 && memcmp(raw, "plain", 5) == 0 && esc == 0);
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "plain");

    v = kcl_json_next(&doc, v);
    raw = kcl_json_raw(&doc, v, &len, &esc);
    CHECK(raw && esc == 1);
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "q\" b\\ s/ \b\f\n\r\t");
    CHECK(kcl_json_str_eq(&doc, v, "q\" b\\ s/ \b\f\n\r\t"));

    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");   /* A é € 😀 */

    v = kcl_json_next(&doc, v);   /* lone high surrogate -> U+FFFD */
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "\xef\xbf\xbdx");
    v = kcl_json_next(&doc, v);   /* lone low surrogate -> U+FFFD */
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "\xef\xbf\xbd");

    v = kcl_json_next(&doc, v);   /* embedded NUL: kept by str, refused by C-string accessors */
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK(out.len == 3 && memcmp(out.data, "a\0b", 3) == 0);
    CHECK(kcl_json_strdup(&doc, v) == NULL);
    char cbuf[16];
    CHECK_EQ_INT(kcl_json_str_copy(&doc, v, cbuf, sizeof cbuf), -1);
    CHECK(!kcl_json_str_eq(&doc, v, "a"));

    v = kcl_json_next(&doc, v);   /* raw UTF-8 passes through */
    char *dup = kcl_json_strdup(&doc, v);
    CHECK_EQ_STR(dup, "\xc3\xa9 raw");
    free(dup);
    CHECK_EQ_INT(kcl_json_str_copy(&doc, v, cbuf, sizeof cbuf), 0);
    CHECK_EQ_STR(cbuf, "\xc3\xa9 raw");
    CHECK_EQ_INT(kcl_json_str_copy(&doc, v, cbuf, 4), -1);   /* does not fit: truncated */
    CHECK_EQ_STR(cbuf, "\xc3\xa9 ");

    v = kcl_json_next(&doc, v);   /* empty string */
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_STR(out.data, "");
    CHECK(kcl_json_str_eq(&doc, v, ""));
    dup = kcl_json_strdup(&doc, v);
    CHECK_EQ_STR(dup, "");
    free(dup);

    v = kcl_json_next(&doc, v);   /* upper-case hex surrogate pair */
    CHECK_EQ_INT(kcl_json_str(&doc, v, &out), 0);
    CHECK_EQ_STR(out.data, "\xf0\x9f\x98\x80");
    CHECK_EQ_INT(kcl_json_next(&doc, v), KCL_JV_NONE);
    kcl_buf_free(&out);
}

/* Raw control bytes are refused and escapes noticed at every position of a
 * long string (the scan goes eight bytes at a time). */
static void test_string_scan(void)
{
    char s[64];
    int ok_ctl = 1, ok_esc = 1, ok_hi = 1;
    for (int pos = 0; pos < 40; pos++) {
        memset(s, 'A', sizeof s);
        s[0] = '"';
        s[41] = '"';
        s[42] = 0;
        for (int c = 0; c < 0x20; c++) {
            s[1 + pos] = (char)c;
            if (c == 0) continue;   /* parse() stops at NUL: tested elsewhere */
            ok_ctl &= parse(s) == -1;
        }
        s[1 + pos] = (char)0xe9;     /* bytes >= 0x80 pass */
        ok_hi &= parse(s) == 0;
        memset(s + 1, 'A', 40);
        if (pos < 39) {
            s[1 + pos] = '\\';
            s[2 + pos] = 'n';
            int esc = 0;
            size_t len = 0;
            ok_esc &= parse(s) == 0 && kcl_json_raw(&doc, 0, &len, &esc) && esc == 1 && len == 40;
        }
    }
    CHECK(ok_ctl);
    CHECK(ok_esc);
    CHECK(ok_hi);
    CHECK_EQ_INT(parse("\"\x7f\xff\xc3\xa9 and DEL\""), 0);
}

static void test_numbers(void)
{
    CHECK_EQ_INT(parse("[0, -0, 9223372036854775807, -9223372036854775808, 9223372036854775808,"
                       " -9223372036854775809, 1.0, 1e3, 1.7e9, 1.5, -0.25, 1E-2, 1e400,"
                       " 123456789012345678901234567890, 4.9e-324]"), 0);
    kcl_jv v = kcl_json_first(&doc, 0);
    int64_t i = 0;
    double d = 0;
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), 0); CHECK_EQ_INT(i, 0);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), 0); CHECK_EQ_INT(i, 0);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), 0); CHECK(i == INT64_MAX);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), 0); CHECK(i == INT64_MIN);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), -1);          /* INT64_MAX + 1 */
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 9223372036854775808.0);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), -1);          /* INT64_MIN - 1 */
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), -1);          /* 1.0 is not an exact integer token */
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 1.0);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), -1);          /* 1e3 */
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 1000.0);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 1.7e9);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 1.5);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == -0.25);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d == 0.01);
    v = kcl_json_next(&doc, v);
    d = 5;
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), -1);         /* overflows to infinity */
    CHECK(d == 5);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_int64(&doc, v, &i), -1);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d > 1.2e29 && d < 1.3e29);
    v = kcl_json_next(&doc, v);
    CHECK_EQ_INT(kcl_json_double(&doc, v, &d), 0); CHECK(d > 0 && d < 1e-323);

    /* a number longer than the stack copy */
    char big[300] = "0.";
    memset(big + 2, '1', 280);
    big[282] = 0;
    CHECK_EQ_INT(parse(big), 0);
    CHECK_EQ_INT(kcl_json_double(&doc, 0, &d), 0);
    CHECK(fabs(d - 0.111111111111111) < 1e-12);

    /* top-level literals */
    CHECK_EQ_INT(parse("42"), 0);
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_root(&doc), &i), 0); CHECK_EQ_INT(i, 42);
    CHECK_EQ_INT(parse(" -7 \n"), 0);
    CHECK_EQ_INT(kcl_json_int64(&doc, 0, &i), 0); CHECK_EQ_INT(i, -7);
    CHECK_EQ_INT(parse("true"), 0);
    CHECK_EQ_INT(kcl_json_type_of(&doc, 0), KCL_JSON_TRUE);
    CHECK_EQ_INT(parse("null"), 0);
    CHECK_EQ_INT(kcl_json_type_of(&doc, 0), KCL_JSON_NULL);
    CHECK_EQ_INT(parse("\"top\""), 0);
    CHECK(kcl_json_str_eq(&doc, 0, "top"));
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "", "   ", "{", "[", "}", "]", "[}", "{]", "[1,", "{\"a\":", "{\"a\"", "{\"a\":1",
        "[1,]", "{\"a\":1,}", "[,1]", "[1,,2]", "{,\"a\":1}", "[1 2]", "{\"a\" 1}",
        "{\"a\"::1}", "{\"a\":1 \"b\":2}", "{\"a\"}", "{\"a\",\"b\"}", "[\"a\":1]", "{1:2}",
        "{[]:1}", "{{}:1}", "{\"a\":1:2}",
        "tru", "nul", "True", "NULL", "[truex]", "[t]", "undefined", "abc", "[abc]", "{\"a\":abc}",
        "'single'", "[\"unterminated]", "\"abc", "[\"bad \\x escape\"]", "[\"\\u12\"]",
        "[\"\\u12g4\"]", "[\"tab\there\"]", "[\"nl\nhere\"]",
        "01", "-", "+1", "1.", ".5", "1e", "1e+", "--1", "0x10", "1.5.2", "[01]", "[1.e3]", "NaN",
        "Infinity", "[-Infinity]", "[1]]", "[1][2]", "{}{}", "{} x", "1 2", "\"a\" \"b\"",
        "[1] ,", "{}\x01", "[1]\xef\xbb\xbf",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int rc = parse(bad[k]);
        CHECK_MSG(rc == -1, "accepted or wrong error (%d) for: %s", rc, bad[k]);
        CHECK_MSG(kcl_json_root(&doc) == KCL_JV_NONE, "root left after failure: %s", bad[k]);
    }
    /* a NUL byte inside or after a value */
    kcl_error err;
    CHECK_EQ_INT(kcl_json_parse(&doc, "{}\0", 3, 0, &err), -1);
    CHECK_EQ_INT(kcl_json_parse(&doc, "[\"a\0b\"]", 7, 0, &err), -1);
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1\0]", 4, 0, &err), -1);
    CHECK_EQ_INT(kcl_json_parse(&doc, "1\0", 2, 0, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_MALFORMED);
    /* length bounds the text: no NUL needed, bytes after len ignored */
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1]garbage", 3, 0, &err), 0);
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1]garbage", 2, 0, &err), -1);
    CHECK_EQ_INT(kcl_json_parse(&doc, "12345", 2, 0, &err), 0);
    int64_t i = 0;
    CHECK_EQ_INT(kcl_json_int64(&doc, 0, &i), 0);
    CHECK_EQ_INT(i, 12);
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1]", 3, 0, NULL), 0);         /* err may be NULL */
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1", 2, 0, NULL), -1);
    /* valid edge cases that must still pass */
    static const char *good[] = {
        "[]", "{}", " [ ] ", "[[],{}]", "{\"\":0}", "[-0.0e+0]", "[0E0]", "\t\r\n[1]\t\r\n",
        "{\"a\":[],\"b\":{}}", "[\"\\/\"]", "[1e-7,2E+8,0.5]",
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
        CHECK_MSG(parse(good[k]) == 0, "rejected: %s", good[k]);
}

static void test_depth_and_limits(void)
{
    char deep[200];
    int k;
    for (k = 0; k < 64; k++) deep[k] = '[';
    for (; k < 128; k++) deep[k] = ']';
    deep[k] = 0;
    CHECK_EQ_INT(parse(deep), 0);                  /* exactly 64 levels */
    for (k = 0; k < 65; k++) deep[k] = '[';
    for (; k < 130; k++) deep[k] = ']';
    deep[k] = 0;
    CHECK_EQ_INT(parse(deep), -1);                 /* 65 levels */
    /* objects count toward depth too */
    kcl_buf b = KCL_BUF_INIT;
    for (k = 0; k < 65; k++) kcl_buf_append_str(&b, "{\"a\":");
    kcl_buf_append_str(&b, "1");
    for (k = 0; k < 65; k++) kcl_buf_append_char(&b, '}');
    CHECK_EQ_INT(parse(b.data), -1);
    /* very deep input fails cleanly (no recursion anywhere) */
    kcl_buf_reset(&b);
    for (k = 0; k < 100000; k++) kcl_buf_append_char(&b, '[');
    CHECK_EQ_INT(parse(b.data), -1);
    for (k = 0; k < 100000; k++) kcl_buf_append_char(&b, ']');
    CHECK_EQ_INT(parse(b.data), -1);

    /* max_tokens: 1 array + 3 numbers = 4 tokens; keys count as tokens */
    kcl_error err;
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1,2,3]", 7, 4, &err), 0);
    CHECK_EQ_INT(kcl_json_parse(&doc, "[1,2,3]", 7, 3, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_MALFORMED);
    CHECK_EQ_INT(kcl_json_parse(&doc, "{\"a\":1}", 7, 3, &err), 0);
    CHECK_EQ_INT(kcl_json_parse(&doc, "{\"a\":1}", 7, 2, &err), -1);

    /* a large document forces the token array to grow (and then be reused) */
    kcl_buf_reset(&b);
    kcl_buf_append_char(&b, '[');
    for (k = 0; k < 50000; k++) kcl_buf_printf(&b, "%s[%d,{\"k\":\"v\"}]", k ? "," : "", k);
    kcl_buf_append_char(&b, ']');
    CHECK_EQ_INT(parse(b.data), 0);
    CHECK_EQ_INT(kcl_json_count(&doc, 0), 50000);
    int n = 0, ok = 1;
    for (kcl_jv e = kcl_json_first(&doc, 0); e >= 0; e = kcl_json_next(&doc, e), n++) {
        int64_t x = -1;
        ok &= kcl_json_int64(&doc, kcl_json_first(&doc, e), &x) == 0 && x == n;
    }
    CHECK_EQ_INT(n, 50000);
    CHECK(ok);
    kcl_buf_free(&b);
}

static void test_writer(void)
{
    kcl_buf out = KCL_BUF_INIT;
    kcl_jw w;
    kcl_jw_init(&w, &out);
    kcl_jw_obj_begin(&w);
    kcl_jw_kstr(&w, "StreamName", "s");
    kcl_jw_kint(&w, "Limit", 10000);
    kcl_jw_key(&w, "list");
    kcl_jw_arr_begin(&w);
    kcl_jw_int(&w, INT64_MIN);
    kcl_jw_int(&w, INT64_MAX);
    kcl_jw_double(&w, 0.1);
    kcl_jw_double(&w, NAN);
    kcl_jw_double(&w, INFINITY);
    kcl_jw_bool(&w, 1);
    kcl_jw_bool(&w, 0);
    kcl_jw_null(&w);
    kcl_jw_str(&w, NULL);
    kcl_jw_arr_begin(&w);
    kcl_jw_arr_end(&w);
    kcl_jw_obj_begin(&w);
    kcl_jw_obj_end(&w);
    kcl_jw_arr_end(&w);
    kcl_jw_key(&w, "we\"ird\n");
    kcl_jw_str(&w, "q\" b\\ \x01\x1f\x7f / \b\f\n\r\t \xc3\xa9");
    kcl_jw_key(&w, "bin");
    kcl_jw_base64(&w, "\x00\xff\x10", 3);
    kcl_jw_key(&w, "nul");
    kcl_jw_strn(&w, "a\0b", 3);
    kcl_jw_obj_end(&w);
    CHECK_EQ_INT(w.failed, 0);
    CHECK_EQ_INT(w.depth, 0);
    CHECK_EQ_STR(out.data,
                 "{\"StreamName\":\"s\",\"Limit\":10000,\"list\":[-9223372036854775808,9223372036854775807,"
                 "0.10000000000000001,null,null,true,false,null,null,[],{}],"
                 "\"we\\\"ird\\n\":\"q\\\" b\\\\ \\u0001\\u001f\x7f / \\b\\f\\n\\r\\t \xc3\xa9\","
                 "\"bin\":\"AP8Q\",\"nul\":\"a\\u0000b\"}");

    /* round trip through the reader */
    CHECK_EQ_INT(parse(out.data), 0);
    kcl_buf s = KCL_BUF_INIT;
    CHECK_EQ_INT(kcl_json_str(&doc, kcl_json_get(&doc, 0, "we\"ird\n"), &s), 0);
    CHECK_EQ_STR(s.data, "q\" b\\ \x01\x1f\x7f / \b\f\n\r\t \xc3\xa9");
    CHECK_EQ_INT(kcl_json_str(&doc, kcl_json_get(&doc, 0, "nul"), &s), 0);
    CHECK(s.len == 3 && memcmp(s.data, "a\0b", 3) == 0);
    kcl_jv list = kcl_json_get(&doc, 0, "list");
    CHECK_EQ_INT(kcl_json_count(&doc, list), 11);
    int64_t i = 0;
    CHECK_EQ_INT(kcl_json_int64(&doc, kcl_json_first(&doc, list), &i), 0);
    CHECK(i == INT64_MIN);
    double d = 0;
    CHECK_EQ_INT(kcl_json_double(&doc, kcl_json_next(&doc, kcl_json_next(&doc, kcl_json_first(&doc, list))), &d), 0);
    CHECK(d == 0.1);   /* %.17g round-trips exactly */
    CHECK(kcl_json_str_eq(&doc, kcl_json_get(&doc, 0, "bin"), "AP8Q"));

    /* doubles: exact round trip of awkward values */
    double vals[] = {1.7e9, 1700000000.123, -0.0, 5e-324, 1.7976931348623157e308, 3.0};
    kcl_buf_reset(&out);
    kcl_jw_init(&w, &out);
    kcl_jw_arr_begin(&w);
    for (size_t k = 0; k < 6; k++) kcl_jw_double(&w, vals[k]);
    kcl_jw_arr_end(&w);
    CHECK_EQ_INT(parse(out.data), 0);
    size_t k = 0;
    for (kcl_jv e = kcl_json_first(&doc, 0); e >= 0; e = kcl_json_next(&doc, e), k++) {
        CHECK_EQ_INT(kcl_json_double(&doc, e, &d), 0);
        CHECK_MSG(d == vals[k], "%.17g != %.17g", d, vals[k]);
    }
    CHECK_EQ_INT(k, 6);

    /* nesting past 64 levels is reported */
    kcl_buf_reset(&out);
    kcl_jw_init(&w, &out);
    for (int n = 0; n < 64; n++) kcl_jw_arr_begin(&w);
    CHECK_EQ_INT(w.failed, 0);
    kcl_jw_arr_begin(&w);
    CHECK_EQ_INT(w.failed, 1);
    kcl_buf_free(&s);
    kcl_buf_free(&out);
}

int main(void)
{
    for (int round = 0; round < 2; round++) {   /* twice: no state leaks between parses */
        test_objects_and_arrays();
        test_duplicate_and_escaped_keys();
        test_strings();
        test_string_scan();
        test_numbers();
        test_malformed();
        test_depth_and_limits();
        test_writer();
    }
    kcl_json_free(&doc);
    CHECK(doc.toks == NULL && doc.ntoks == 0);
    return TEST_END();
}
