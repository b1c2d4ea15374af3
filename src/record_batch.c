#include "record_batch.h"

#include "buf.h"
#include "deagg.h"
#include "lease.h"

#include <stdlib.h>
#include <string.h>

/* While building, sub-record keys live in a growing buffer; their offsets are
 * turned into pointers once the buffer stops moving. */
typedef struct build {
    kcl_record_batch *b;
    const kcl_batch_opts *o;
    const kcl_kinesis_record *raw;
    size_t cap;
    size_t *pk_off, *ehk_off;        /* per record: offset+1 into strings, 0 = none */
    kcl_buf strings;
    int oom;
} build;

/* Room for `cap` records in the three per-record arrays (kept on failure). */
static int grow(build *s, size_t cap)
{
    kcl_record_batch *b = s->b;
    kcl_record *nr = realloc(b->records, cap * sizeof *nr);
    if (nr) b->records = nr;
    size_t *np = nr ? realloc(s->pk_off, cap * sizeof *np) : NULL;
    if (np) s->pk_off = np;
    size_t *ne = np ? realloc(s->ehk_off, cap * sizeof *ne) : NULL;
    if (!nr || !np || !ne) { s->oom = 1; return -1; }
    s->ehk_off = ne;
    s->cap = cap;
    return 0;
}

static int push(build *s, const kcl_record *r, size_t pk_off, size_t ehk_off)
{
    kcl_record_batch *b = s->b;
    if (b->count == s->cap && grow(s, s->cap ? s->cap * 2 : 64) != 0) return -1;
    s->pk_off[b->count] = pk_off;
    s->ehk_off[b->count] = ehk_off;
    b->records[b->count++] = *r;
    return 0;
}

static int skipped(const build *s, const char *seq, int64_t sub)
{
    return s->o->skip_seq && kcl_extseq_cmp(seq, sub, s->o->skip_seq, s->o->skip_sub) <= 0;
}

static size_t add_string(build *s, const char *p, size_t len)
{
    size_t off = s->strings.len + 1;
    if (kcl_buf_append(&s->strings, p, len) != 0 || kcl_buf_append_char(&s->strings, '\0') != 0) {
        s->oom = 1;
        return 0;
    }
    return off;
}

static int on_sub(const kcl_user_record *u, void *ud)
{
    build *s = ud;
    kcl_record_batch *b = s->b;
    int64_t sub = (int64_t)u->sub_sequence_number;
    b->last_seq = s->raw->sequence_number;
    b->last_sub = sub;
    if (skipped(s, s->raw->sequence_number, sub)) return 0;
    if (s->o->range_start && s->o->range_end && kcl_deagg_in_range(u, s->o->range_start, s->o->range_end) == 0) {
        b->out_of_range++;
        if (s->o->filter_out_of_range) { b->filtered++; return 0; }
    }
    kcl_record r = {
        .data = u->data, .len = u->len,
        .sequence_number = s->raw->sequence_number,
        .sub_sequence_number = sub,
        .arrival_ms = s->raw->arrival_ms,
    };
    size_t pk = add_string(s, u->partition_key, u->pk_len);
    size_t ehk = u->explicit_hash_key ? add_string(s, u->explicit_hash_key, u->ehk_len) : 0;
    if (s->oom) return -1;
    return push(s, &r, pk, ehk);
}

int kcl_record_batch_build(kcl_record_batch *b, kcl_kinesis_records *raw,
                           const kcl_batch_opts *opts, kcl_error *err)
{
    static const kcl_batch_opts none = {0};
    memset(b, 0, sizeof *b);
    b->raw = raw;
    b->millis_behind_latest = raw->millis_behind_latest;
    build s = {.b = b, .o = opts ? opts : &none, .strings = KCL_BUF_INIT};
    /* Without aggregates there are at most raw->count user records: allocate
     * them at once rather than by doubling. */
    size_t nagg = 0;
    for (size_t i = 0; i < raw->count && !nagg; i++)
        nagg = kcl_deagg_is_aggregated(raw->records[i].data, raw->records[i].data_len);
    if (raw->count && !nagg) grow(&s, raw->count);
    for (size_t i = 0; i < raw->count && !s.oom; i++) {
        const kcl_kinesis_record *r = &raw->records[i];
        s.raw = r;
        if (kcl_deagg_is_aggregated(r->data, r->data_len)) {
            int n = kcl_deagg_parse(r->data, r->data_len, on_sub, &s);
            if (n == 0) {                /* a valid aggregate of nothing: seen all the same */
                b->last_seq = r->sequence_number;
                b->last_sub = -1;
            }
            if (n >= 0) { b->aggregated++; continue; }
            if (s.oom) break;
            /* not a valid aggregate: delivered as it is */
        }
        b->last_seq = r->sequence_number;
        b->last_sub = -1;
        if (skipped(&s, r->sequence_number, -1)) continue;
        kcl_record one = {
            .data = r->data, .len = r->data_len,
            .partition_key = r->partition_key,
            .sequence_number = r->sequence_number,
            .sub_sequence_number = -1,
            .arrival_ms = r->arrival_ms,
        };
        push(&s, &one, 0, 0);
    }
    if (s.oom) {
        free(s.pk_off);
        free(s.ehk_off);
        kcl_buf_free(&s.strings);
        kcl_record_batch_free(b);
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory building a batch");
        return -1;
    }
    b->strings = s.strings.data;       /* stops moving now */
    for (size_t i = 0; i < b->count; i++) {
        if (s.pk_off[i]) b->records[i].partition_key = b->strings + s.pk_off[i] - 1;
        if (s.ehk_off[i]) b->records[i].explicit_hash_key = b->strings + s.ehk_off[i] - 1;
    }
    free(s.pk_off);
    free(s.ehk_off);
    return 0;
}

void kcl_record_batch_free(kcl_record_batch *b)
{
    if (!b) return;
    kcl_kinesis_records_free(b->raw);
    free(b->records);
    free(b->strings);
    memset(b, 0, sizeof *b);
}
