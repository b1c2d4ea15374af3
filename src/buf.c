#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kcl_buf_reserve(kcl_buf *b, size_t extra)
{
    if (extra > ((size_t)-1) / 2 - b->len) return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int kcl_buf_append(kcl_buf *b, const void *data, size_t len)
{
    if (kcl_buf_reserve(b, len) != 0) return -1;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int kcl_buf_append_str(kcl_buf *b, const char *s)
{
    return kcl_buf_append(b, s, strlen(s));
}

int kcl_buf_append_char(kcl_buf *b, char c)
{
    return kcl_buf_append(b, &c, 1);
}

int kcl_buf_vprintf(kcl_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return kcl_buf_append(b, small, (size_t)n);
    if (kcl_buf_reserve(b, (size_t)n) != 0) return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int kcl_buf_printf(kcl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kcl_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void kcl_buf_reset(kcl_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void kcl_buf_free(kcl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *kcl_buf_steal(kcl_buf *b)
{
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *kcl_buf_cstr(const kcl_buf *b)
{
    return b->data ? b->data : "";
}
