/* decode_floor — the floor under luakcl's per-record cost: the very
 * GetRecords bodies the canned server sends (canned_body.c), decoded by the
 * same code the client runs (kcl_kinesis_decode_get_records: json.c over
 * jsmn, then base64 of every Data), in a tight loop: no HTTP, no Lua, no
 * batch building. Prints one line per run: "FLOOR <ns/record>".
 *
 * usage: decode_floor RECORD_SIZE RECORDS_PER_BODY RUNS [KPL] */
#include "canned_body.h"
#include "kinesis_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: decode_floor RECORD_SIZE RECORDS_PER_BODY RUNS [KPL]\n");
        return 2;
    }
    size_t size = (size_t)atol(argv[1]), n = (size_t)atol(argv[2]);
    int runs = atoi(argv[3]), kpl = argc > 4 ? atoi(argv[4]) : 0;
    canned_tmpl t;
    if (canned_tmpl_init(&t, n, size, kpl) != 0) return 1;
    kcl_buf body = KCL_BUF_INIT;
    if (canned_body(&body, &t, 3, 1000, n, 1700000000000LL, 10.0,
                    "AAAAAAAAAAEcannedbenchiterator/3/11000/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1000) != 0)
        return 1;
    /* Enough bodies per run for ~0.3 s of work, at least 3. */
    int reps = (int)(3e8 / ((double)body.len * 4.0));
    if (reps < 3) reps = 3;
    uint64_t check = 0;
    for (int r = -1; r < runs; r++) {              /* run -1 warms up */
        double t0 = cpu_s();
        for (int i = 0; i < reps; i++) {
            kcl_kinesis_records *recs = NULL;
            kcl_error err;
            if (kcl_kinesis_decode_get_records(body.data, body.len, &recs, &err) != 0) {
                fprintf(stderr, "decode failed: %s\n", err.message);
                return 1;
            }
            check += recs->count + recs->records[recs->count - 1].data_len;
            kcl_kinesis_records_free(recs);
        }
        double dt = cpu_s() - t0;
        if (r >= 0) printf("FLOOR %.1f\n", dt * 1e9 / ((double)reps * (double)n));
    }
    fprintf(stderr, "decode_floor: body %zu bytes, %zu records, %d bodies per run (check %llu)\n", body.len, n, reps,
            (unsigned long long)check);
    kcl_buf_free(&body);
    canned_tmpl_free(&t);
    return 0;
}
