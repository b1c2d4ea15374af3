/* buf — a growable byte buffer, always NUL-terminated (the NUL is not counted
 * in len), so it can hold binary data and still be used as a C string.
 *
 * A zeroed kcl_buf is a valid empty buffer. Every append returns 0, or -1 when
 * memory runs out (the buffer is then unchanged). The buffer owns its bytes;
 * kcl_buf_free releases them and leaves an empty buffer behind. */
#ifndef KCL_BUF_H
#define KCL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct kcl_buf {
    char  *data;   /* NULL while empty and never grown */
    size_t len;
    size_t cap;
} kcl_buf;

#define KCL_BUF_INIT {NULL, 0, 0}

/* Make room for at least `extra` more bytes (plus the NUL). */
int  kcl_buf_reserve(kcl_buf *b, size_t extra);
int  kcl_buf_append(kcl_buf *b, const void *data, size_t len);
int  kcl_buf_append_str(kcl_buf *b, const char *s);
int  kcl_buf_append_char(kcl_buf *b, char c);
int  kcl_buf_printf(kcl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  kcl_buf_vprintf(kcl_buf *b, const char *fmt, va_list ap);
/* Forget the contents, keep the memory. */
void kcl_buf_reset(kcl_buf *b);
void kcl_buf_free(kcl_buf *b);
/* Hand the bytes to the caller (who frees them with free()); the buffer is
 * left empty. Returns an empty malloc'd string for an empty buffer, NULL on OOM. */
char *kcl_buf_steal(kcl_buf *b);
/* The contents as a C string; "" for a never-grown buffer. */
const char *kcl_buf_cstr(const kcl_buf *b);

#endif
