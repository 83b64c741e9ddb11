/*
 * bench_decide: the matcher's cost, measured on this machine.
 *
 *   bench_decide gen N DB      write a deterministic rules DB with N domain entries
 *   bench_decide run DB [Q]    load it (time, memory) and time Q decisions (median ns)
 *
 * The generator makes names of 2..4 labels from a fixed PRNG seed, spread over 16 rules (so
 * posting lists stay short, as in a real DB) under a handful of TLDs. Queries mix exact hits,
 * names below an entry (the label walk goes further), and misses, in equal thirds, so the median
 * is not a best case. Results are printed as "key value" lines for bench/run.sh to tabulate.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sqlite3.h>

#include "decide.h"
#include "err.h"
#include "snapshot.h"
#include "store.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void
make_label(char *out, size_t min, size_t max)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = min + next() % (max - min + 1), i;

    for (i = 0; i < n; i++)
        out[i] = alpha[next() % (i == 0 ? 26 : 36)];
    out[n] = '\0';
}

static void
make_domain(uint64_t i, char *out, size_t size)
{
    static const char *const tld[] = {"com", "net", "org", "io", "de", "co.uk", "us", "example"};
    char a[16], b[16];

    rng = 0x9e3779b97f4a7c15ULL ^ (i * 0x2545f4914f6cdd1dULL);
    next();
    make_label(a, 4, 12);
    make_label(b, 3, 8);
    if (next() % 3 == 0)
        snprintf(out, size, "%s.%s.%s", b, a, tld[next() % 8]);
    else
        snprintf(out, size, "%s%llu.%s", a, (unsigned long long)(i % 1000), tld[next() % 8]);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * 4;
}

static int
gen(long n, const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char name[128], sql[256];
    long i;
    FILE *f = fopen(getenv("PS_SQLDIR") ? getenv("PS_SQLDIR") : "sql/schema.sql", "r");
    char *schema;
    long len;

    if (f == NULL) {
        fprintf(stderr, "bench_decide: set PS_SQLDIR to the path of sql/schema.sql\n");
        return 2;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    schema = malloc((size_t)len + 1);
    if (schema == NULL || fread(schema, 1, (size_t)len, f) != (size_t)len)
        return 2;
    schema[len] = '\0';
    fclose(f);
    remove(path);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", 0, 0, 0) ||
        sqlite3_exec(db, schema, 0, 0, 0) || sqlite3_exec(db, "BEGIN", 0, 0, 0)) {
        fprintf(stderr, "bench_decide: %s: %s\n", path, sqlite3_errmsg(db));
        return 2;
    }
    for (i = 1; i <= 16; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO rules(id, name, position) VALUES (%ld, 'bench %ld', %ld)",
                 i, i, i * 10);
        sqlite3_exec(db, sql, 0, 0, 0);
    }
    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO rule_domains(rule_id, domain) VALUES (?, ?)", -1,
                       &st, NULL);
    for (i = 0; i < n; i++) {
        make_domain((uint64_t)i, name, sizeof(name));
        sqlite3_bind_int64(st, 1, 1 + i % 16);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_decide: insert '%s': %s\n", name, sqlite3_errmsg(db));
            return 2;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", 0, 0, 0);
    sqlite3_close(db);
    free(schema);
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int
run(const char *path, long nq)
{
    struct ps_snapshot *s = NULL;
    struct ps_snapshot_stats st;
    struct ps_err err = {0, ""};
    long rss0 = rss_kb(), i, j, nbatch = 50, per, splices = 0, domains;
    double t0, t1, *batch;
    char (*q)[160];
    int rc;

    t0 = now_s();
    rc = ps_store_load(path, 1000, &s, &err);
    t1 = now_s();
    if (rc < 0) {
        fprintf(stderr, "bench_decide: %s\n", err.msg);
        return 2;
    }
    ps_snapshot_stats(s, &st);
    domains = (long)st.domains;
    printf("domains %zu\nload_s %.3f\nsnapshot_bytes %zu\nbytes_per_domain %.1f\nrss_delta_kb %ld\n",
           st.domains, t1 - t0, st.bytes, st.domains ? (double)st.bytes / st.domains : 0.0,
           rss_kb() - rss0);
    /* queries: a third exact hits, a third one label below a hit, a third misses */
    per = 4096;
    q = malloc((size_t)per * sizeof(*q));
    batch = malloc((size_t)nbatch * sizeof(double));
    if (q == NULL || batch == NULL)
        return 2;
    for (i = 0; i < per; i++) {
        char d[128];
        uint64_t pick = (uint64_t)(i * 7919) % (uint64_t)(domains ? domains : 1);
        make_domain(pick, d, sizeof(d));
        if (i % 3 == 0)
            snprintf(q[i], sizeof(q[i]), "%s", d);
        else if (i % 3 == 1)
            snprintf(q[i], sizeof(q[i]), "www.%s", d);
        else
            snprintf(q[i], sizeof(q[i]), "nx%ld.%s", i, d + 1);
    }
    for (j = 0; j < nbatch; j++) {
        long n = nq / nbatch;
        double b0 = now_s();
        for (i = 0; i < n; i++) {
            struct ps_query qq = {q[i % per], NULL, "10.0.0.1", NULL, NULL, 1, false};
            struct ps_decision d;
            ps_decide(s, &qq, &d);
            splices += d.action == PS_ACTION_SPLICE;
        }
        batch[j] = (now_s() - b0) * 1e9 / (double)n;
    }
    qsort(batch, (size_t)nbatch, sizeof(double), cmp_double);
    printf("decisions %ld\nsplice_ratio %.3f\nmedian_ns %.1f\np90_ns %.1f\n", nq,
           (double)splices / (double)nq, batch[nbatch / 2], batch[nbatch * 9 / 10]);
    free(q);
    free(batch);
    ps_snapshot_release(s);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "gen") == 0)
        return gen(strtol(argv[2], NULL, 10), argv[3]);
    if (argc >= 3 && strcmp(argv[1], "run") == 0)
        return run(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 2000000);
    fprintf(stderr, "usage: bench_decide gen N DB | run DB [QUERIES]\n");
    return 2;
}
