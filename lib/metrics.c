#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "metrics.h"
#include "reload.h"
#include "snapshot.h"
#include "tmpfile.h"
#include "verify.h"

/*
 * No Prometheus client library in C is packaged by Debian (12 or 13): there is prometheus-cpp
 * (C++, and it would bring an HTTP server we do not want) and clients for Go, Python, Perl and
 * Ruby. The text format is small, so it is written here (about 150 lines of formatting).
 */

#define NACTIONS 3
#define NREASONS 7
#define RULE_SLOTS 1024 /* distinct (rule id, name) pairs counted; more go to the untracked count */
#define SLOT_EMPTY 0
#define SLOT_CLAIMING 1
#define SLOT_READY 2

/* Latency buckets, in ns (upper bounds), and the same as the exposition's le values. */
static const uint64_t bucket_ns[] = {10000,   25000,   50000,    100000,    250000,
                                     500000,  1000000, 2500000,  5000000,   10000000,
                                     100000000, 1000000000, 5000000000ULL};
static const char *const bucket_le[] = {"1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025",
                                        "0.0005", "0.001",  "0.0025", "0.005", "0.01",
                                        "0.1",    "1",      "5"};
#define NBUCKETS (sizeof(bucket_ns) / sizeof(bucket_ns[0]))

/* One rule's counters. The name is copied in when the slot is claimed (once per rule, into memory
 * allocated up front), so counting never allocates and a reload that frees the rule's snapshot
 * does not matter. */
struct rule_slot {
    int state;    /* SLOT_*, atomic */
    bool in_snap; /* writer thread only: the rule is in the current snapshot */
    int64_t id;
    uint64_t matches, monitor; /* atomic */
};
/* The names apart from the slots: the slots are scanned by the writer, the names of the used
 * slots only are touched (calloc'd pages never touched stay unallocated). */
typedef char slot_name[PS_RULE_NAME_BYTES + 1];

struct ps_metrics {
    char path[PATH_MAX];
    char dir[PATH_MAX];
    char prefix[NAME_MAX + 1], suffix[NAME_MAX + 1]; /* the file name around "%p" */
    char program[64];
    long pid;
    time_t started;
    struct ps_reload *reload;
    struct ps_verifier *verifier;
    bool single; /* one answering thread */
    /* counters: relaxed atomics */
    uint64_t answers, malformed, decisions[NACTIONS][NREASONS];
    uint64_t buckets[NBUCKETS + 1], lat_sum_ns;
    uint64_t untracked, untracked_monitor, write_failures;
    struct rule_slot *slots;
    slot_name *names;
    /* writer thread */
    unsigned interval_s;
    bool failing;
    int stop_pipe[2];
    bool thread_started;
    pthread_t thread;
};

/* A counter is added to by the answering threads and read by the writer thread: relaxed atomics.
 * With one answering thread (ps_metrics_single_writer) a load and a store do, without the bus
 * lock of an atomic addition. */
#define ADD(p, n)                                                                                 \
    do {                                                                                          \
        if (m->single)                                                                            \
            __atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED); \
        else                                                                                      \
            __atomic_fetch_add((p), (n), __ATOMIC_RELAXED);                                       \
    } while (0)
#define GET(p) __atomic_load_n((p), __ATOMIC_RELAXED)

/* ---- paths -------------------------------------------------------------------------------- */

int
ps_metrics_path_check(const char *pattern, struct ps_err *err)
{
    const char *p, *slash, *pct;

    if (pattern == NULL || pattern[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "metrics path: empty");
    if (strlen(pattern) > PATH_MAX - 32)
        return ps_err_set(err, PS_EINVAL, "metrics path '%.60s...': over %d bytes", pattern,
                          PATH_MAX - 32);
    pct = strstr(pattern, "%p");
    if (pct == NULL)
        return ps_err_set(err, PS_EINVAL,
                          "metrics path '%s': no %%p (each process writes its own file: "
                          "e.g. /var/lib/prometheus/node-exporter/pinsplice-%%p.prom)",
                          pattern);
    for (p = pattern; *p != '\0'; p++)
        if (*p == '%' && p != pct)
            return ps_err_set(err, PS_EINVAL, "metrics path '%s': only one %%p and no other %%",
                              pattern);
    slash = strrchr(pattern, '/');
    if (slash != NULL && slash > pct)
        return ps_err_set(err, PS_EINVAL, "metrics path '%s': %%p must be in the file name",
                          pattern);
    if (strlen(slash != NULL ? slash + 1 : pattern) > NAME_MAX - 24)
        return ps_err_set(err, PS_EINVAL, "metrics path '%s': file name too long", pattern);
    return 0;
}

int
ps_metrics_path_expand(const char *pattern, long pid, char *out, size_t size, struct ps_err *err)
{
    const char *pct;
    int n;

    if (ps_metrics_path_check(pattern, err) < 0)
        return PS_EINVAL;
    pct = strstr(pattern, "%p");
    n = snprintf(out, size, "%.*s%ld%s", (int)(pct - pattern), pattern, pid, pct + 2);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return ps_err_set(err, PS_ETOOLONG, "metrics path '%s': too long", pattern);
    }
    return 0;
}

/* ---- life cycle --------------------------------------------------------------------------- */

struct ps_metrics *
ps_metrics_new(const char *pattern, const char *program, struct ps_err *err)
{
    struct ps_metrics *m = NULL;
    const char *slash, *base, *pct;

    if (ps_metrics_path_check(pattern, err) < 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    /* calloc of a large block maps zero pages: only the slots used are ever touched */
    if (m == NULL || (m->slots = calloc(RULE_SLOTS, sizeof(*m->slots))) == NULL ||
        (m->names = calloc(RULE_SLOTS, sizeof(*m->names))) == NULL) {
        if (m != NULL)
            free(m->slots);
        free(m);
        ps_err_set(err, PS_ENOMEM, "metrics: out of memory");
        return NULL;
    }
    m->pid = (long)getpid();
    m->started = time(NULL);
    m->stop_pipe[0] = m->stop_pipe[1] = -1;
    snprintf(m->program, sizeof(m->program), "%s", program != NULL ? program : "pinsplice");
    if (ps_metrics_path_expand(pattern, m->pid, m->path, sizeof(m->path), err) < 0) {
        free(m->names);
        free(m->slots);
        free(m);
        return NULL;
    }
    slash = strrchr(pattern, '/');
    base = slash != NULL ? slash + 1 : pattern;
    if (slash == NULL)
        snprintf(m->dir, sizeof(m->dir), ".");
    else if (slash == pattern)
        snprintf(m->dir, sizeof(m->dir), "/");
    else
        snprintf(m->dir, sizeof(m->dir), "%.*s", (int)(slash - pattern), pattern);
    pct = strstr(base, "%p");
    snprintf(m->prefix, sizeof(m->prefix), "%.*s", (int)(pct - base), base);
    snprintf(m->suffix, sizeof(m->suffix), "%s", pct + 2);
    return m;
}

void
ps_metrics_set_reload(struct ps_metrics *m, struct ps_reload *r)
{
    if (m != NULL)
        m->reload = r;
}

void
ps_metrics_set_verifier(struct ps_metrics *m, struct ps_verifier *v)
{
    if (m != NULL)
        m->verifier = v;
}

const char *
ps_metrics_path(const struct ps_metrics *m)
{
    return m->path;
}

/* Is name one of our pattern's files (or its temporary files) of another, dead process? */
static bool
dead_file(const struct ps_metrics *m, const char *name)
{
    size_t pl = strlen(m->prefix), sl = strlen(m->suffix);
    const char *p = name + pl, *digits;
    long pid = 0;

    if (strncmp(name, m->prefix, pl) != 0)
        return false;
    for (digits = p; *p >= '0' && *p <= '9' && p - digits < 10; p++)
        pid = pid * 10 + (*p - '0');
    if (p == digits || strncmp(p, m->suffix, sl) != 0)
        return false;
    p += sl;
    if (*p != '\0' && strncmp(p, ".tmp-", 5) != 0)
        return false;
    if (pid == m->pid || pid <= 0)
        return false;
    /* EPERM: alive, another user's. Only "no such process" is dead. */
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static void
sweep(struct ps_metrics *m)
{
    char full[PATH_MAX + NAME_MAX + 2];
    struct dirent *e;
    DIR *d = opendir(m->dir);

    if (d == NULL)
        return; /* the write reports the directory */
    while ((e = readdir(d)) != NULL) {
        if (!dead_file(m, e->d_name))
            continue;
        snprintf(full, sizeof(full), "%s/%s", m->dir, e->d_name);
        if (unlink(full) == 0)
            ps_log(PS_LOG_INFO, "metrics: removed %s (its process is gone)", full);
    }
    closedir(d);
}

static void
write_and_report(struct ps_metrics *m)
{
    struct ps_err err;

    memset(&err, 0, sizeof(err));
    if (ps_metrics_write(m, &err) < 0) {
        ADD(&m->write_failures, 1);
        if (!m->failing)
            ps_log(PS_LOG_ERROR,
                   "metrics: %s (answers are not affected; retried every %u s, reported once)",
                   err.msg, m->interval_s);
        m->failing = true;
    } else if (m->failing) {
        ps_log(PS_LOG_INFO, "metrics: writing %s again", m->path);
        m->failing = false;
    }
}

static void *
writer_main(void *arg)
{
    struct ps_metrics *m = arg;
    struct pollfd pfd = {m->stop_pipe[0], POLLIN, 0};
    int n;

    for (;;) {
        /* Every time, not only at start: a process that was dying when this one started, or
         * that dies later without removing its file, is gone at the next interval. */
        sweep(m);
        write_and_report(m);
        n = poll(&pfd, 1, (int)(m->interval_s * 1000U));
        if (n > 0 || (n < 0 && errno != EINTR))
            break;
    }
    return NULL;
}

int
ps_metrics_start(struct ps_metrics *m, unsigned interval_s)
{
    sigset_t all, old;
    int rc;

    if (m->thread_started)
        return 0;
    m->interval_s = interval_s > 0 ? interval_s : 1;
    if (pipe(m->stop_pipe) < 0)
        return PS_ENOMEM;
    fcntl(m->stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(m->stop_pipe[1], F_SETFD, FD_CLOEXEC);
    /* The thread takes no signal: the host's handlers stay on its own threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&m->thread, NULL, writer_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
        m->stop_pipe[0] = m->stop_pipe[1] = -1;
        return PS_ENOMEM;
    }
    m->thread_started = true;
    return 0;
}

void
ps_metrics_free(struct ps_metrics *m)
{
    if (m == NULL)
        return;
    if (m->thread_started) {
        while (write(m->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(m->thread, NULL);
        /* A stopped process's counters are not kept by the collector. */
        unlink(m->path);
    }
    if (m->stop_pipe[0] >= 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
    }
    free(m->names);
    free(m->slots);
    free(m);
}

/* ---- counting (the answering path) ------------------------------------------------------- */

uint64_t
ps_metrics_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
ps_metrics_single_writer(struct ps_metrics *m)
{
    if (m != NULL)
        m->single = true;
}

void
ps_metrics_latency(struct ps_metrics *m, uint64_t started_ns, unsigned long n)
{
    uint64_t ns;
    size_t i;

    if (m == NULL || started_ns == 0 || n == 0)
        return;
    ns = ps_metrics_now_ns() - started_ns;
    for (i = 0; i < NBUCKETS && ns > bucket_ns[i]; i++)
        ;
    ADD(&m->buckets[i], n);
    ADD(&m->lat_sum_ns, ns * n);
}

static void
observe(struct ps_metrics *m, uint64_t started_ns)
{
    ADD(&m->answers, 1);
    if (started_ns != 0)
        ps_metrics_latency(m, started_ns, 1);
}

/*
 * The slot for (id, name), claimed when absent. NULL when the table is full, the name is over
 * the schema's bound, or (count = false) it is absent and create is false. Probes start at the
 * id's hash; a slot being claimed by another thread is passed over (that may give one rule two
 * slots, which the writer adds up).
 */
static struct rule_slot *
slot_for(struct ps_metrics *m, int64_t id, const char *name, bool create)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    struct rule_slot *s;
    size_t i, idx, len;
    int st;

    for (i = 0; i < RULE_SLOTS; i++) {
        idx = (size_t)((h >> 54) + i) % RULE_SLOTS;
        s = &m->slots[idx];
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (st == SLOT_EMPTY) {
            int expect = SLOT_EMPTY;
            if (!create || (len = strlen(name)) > PS_RULE_NAME_BYTES)
                return NULL;
            if (!__atomic_compare_exchange_n(&s->state, &expect, SLOT_CLAIMING, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue; /* another thread took it: look further */
            s->id = id;
            memcpy(m->names[idx], name, len + 1);
            __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
            return s;
        }
        if (st == SLOT_READY && s->id == id && strcmp(m->names[idx], name) == 0)
            return s;
    }
    return NULL;
}

void
ps_metrics_answer(struct ps_metrics *m, const struct ps_decision *d, uint64_t started_ns)
{
    struct rule_slot *s;

    if (m == NULL || d == NULL)
        return;
    observe(m, started_ns);
    if ((unsigned)d->action < NACTIONS && (unsigned)d->reason < NREASONS)
        ADD(&m->decisions[d->action][d->reason], 1);
    if (d->reason == PS_REASON_RULE && d->rule_name != NULL) {
        s = slot_for(m, d->rule_id, d->rule_name, true);
        ADD(s != NULL ? &s->matches : &m->untracked, 1);
    }
    /* Monitor mode (schema v2): when struct ps_decision carries the first monitor rule that
     * matched, count it here, so that both hosts get it without another call:
     *     ps_metrics_monitor(m, d->monitor_rule_id, d->monitor_rule_name); */
}

void
ps_metrics_malformed(struct ps_metrics *m, uint64_t started_ns)
{
    if (m == NULL)
        return;
    observe(m, started_ns);
    ADD(&m->malformed, 1);
}

void
ps_metrics_answered(struct ps_metrics *m, uint64_t started_ns)
{
    if (m != NULL)
        observe(m, started_ns);
}

void
ps_metrics_monitor(struct ps_metrics *m, int64_t rule_id, const char *rule_name)
{
    struct rule_slot *s;

    if (m == NULL || rule_name == NULL)
        return;
    s = slot_for(m, rule_id, rule_name, true);
    ADD(s != NULL ? &s->monitor : &m->untracked_monitor, 1);
}

/* ---- the exposition ----------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 character at p (RFC 3629: no overlong form, no
 * surrogate, at most U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t len, k;

    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    for (k = 1; k < len; k++) {
        if (p[k] < (k == 1 ? lo : 0x80) || p[k] > (k == 1 ? hi : 0xBF))
            return 0;
    }
    return len;
}

size_t
ps_metrics_escape_label(const char *value, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)value;
    const char *rep;
    size_t n = 0, k, need;

    if (size == 0)
        return 0;
    while (*p != '\0') {
        k = 1;
        if (*p == '\\') {
            rep = "\\\\";
            need = 2;
        } else if (*p == '"') {
            rep = "\\\"";
            need = 2;
        } else if (*p == '\n') {
            rep = "\\n";
            need = 2;
        } else if (*p < 0x80 || (k = utf8_len(p)) > 0) {
            rep = (const char *)p; /* copied as it is */
            need = k;
        } else {
            rep = "\xEF\xBF\xBD"; /* U+FFFD for a byte that is not UTF-8 */
            need = 3;
            k = 1;
        }
        if (n + need + 1 > size) {
            out[0] = '\0';
            return 0;
        }
        memcpy(out + n, rep, need);
        n += need;
        p += k;
    }
    out[n] = '\0';
    return n;
}

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void __attribute__((format(printf, 2, 3)))
bput(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        if (b->oom)
            return;
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
    bput(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One series: name{pid="N"LABELS} VALUE. labels: "" or ",k=\"v\"...". */
static void
series(struct buf *b, const struct ps_metrics *m, const char *name, const char *labels,
       unsigned long long v)
{
    bput(b, "%s{pid=\"%ld\"%s} %llu\n", name, m->pid, labels, v);
}

static void
one(struct buf *b, const struct ps_metrics *m, const char *name, const char *type,
    const char *help, unsigned long long v)
{
    head(b, name, type, help);
    series(b, m, name, "", v);
}

static void
format_decisions(struct buf *b, struct ps_metrics *m)
{
    char labels[96];
    int a, r;

    one(b, m, "pinsplice_answers_total", "counter",
        "Requests answered (helper lines, ICAP requests), undecided and malformed ones included.",
        GET(&m->answers));
    one(b, m, "pinsplice_malformed_total", "counter",
        "Helper lines answered ERR (bump) before any decision: unparseable, over-long.",
        GET(&m->malformed));
    head(b, "pinsplice_decisions_total", "counter",
         "Decisions answered, by the action sent and the reason (rule, default, no-rules, "
         "bad-name, bad-input, unverified, policy).");
    for (a = 0; a < NACTIONS; a++) {
        for (r = 0; r < NREASONS; r++) {
            snprintf(labels, sizeof(labels), ",action=\"%s\",reason=\"%s\"",
                     ps_action_str((enum ps_action)a), ps_reason_str((enum ps_reason)r));
            series(b, m, "pinsplice_decisions_total", labels, GET(&m->decisions[a][r]));
        }
    }
}

static void
format_latency(struct buf *b, struct ps_metrics *m)
{
    unsigned long long cum = 0, sum_ns = GET(&m->lat_sum_ns);
    char labels[32];
    size_t i;

    head(b, "pinsplice_answer_duration_seconds", "histogram",
         "Time from a request's arrival to its answer (a server check included).");
    for (i = 0; i <= NBUCKETS; i++) {
        cum += GET(&m->buckets[i]);
        snprintf(labels, sizeof(labels), ",le=\"%s\"", i < NBUCKETS ? bucket_le[i] : "+Inf");
        series(b, m, "pinsplice_answer_duration_seconds_bucket", labels, cum);
    }
    bput(b, "pinsplice_answer_duration_seconds_sum{pid=\"%ld\"} %llu.%09llu\n", m->pid,
         sum_ns / 1000000000ULL, sum_ns % 1000000000ULL);
    series(b, m, "pinsplice_answer_duration_seconds_count", "", cum);
}

/* Mark the current snapshot's rules (their series exist from 0, so rate() and alerts see them
 * before the first match). */
static void
mark_rules(struct ps_metrics *m)
{
    struct ps_snapshot *snap;
    struct rule_slot *s;
    size_t i, n;

    for (i = 0; i < RULE_SLOTS; i++)
        m->slots[i].in_snap = false;
    if (m->reload == NULL || (snap = ps_reload_acquire(m->reload)) == NULL)
        return;
    n = ps_snapshot_nrules(snap);
    for (i = 0; i < n; i++) {
        const struct ps_rule *rule = ps_snapshot_rule(snap, i);
        if (rule != NULL && rule->name != NULL &&
            (s = slot_for(m, rule->id, rule->name, true)) != NULL)
            s->in_snap = true;
    }
    ps_snapshot_release(snap);
}

static const struct ps_metrics *sort_m; /* qsort's context: the writer thread only */

static int
by_name(const void *a, const void *b)
{
    return strcmp(sort_m->names[*(const size_t *)a], sort_m->names[*(const size_t *)b]);
}

static void
format_rules(struct buf *b, struct ps_metrics *m)
{
    static const char *const fam[2] = {"pinsplice_rule_matches_total",
                                       "pinsplice_monitor_matches_total"};
    static const char *const help[2] = {
        "Decisions made by a rule, by rule name.",
        "Monitor rules that would have decided (the answer was left to the rules after them)."};
    char esc[PS_RULE_NAME_BYTES * 3 + 16], labels[sizeof(esc) + 16];
    size_t idx[RULE_SLOTS], n = 0, i, j, f;

    mark_rules(m);
    for (i = 0; i < RULE_SLOTS; i++)
        if (__atomic_load_n(&m->slots[i].state, __ATOMIC_ACQUIRE) == SLOT_READY)
            idx[n++] = i;
    sort_m = m;
    qsort(idx, n, sizeof(idx[0]), by_name);
    for (f = 0; f < 2; f++) {
        head(b, fam[f], "counter", help[f]);
        for (i = 0; i < n; i = j) {
            unsigned long long v = 0, any = 0;
            bool shown = false;
            /* one series per name: slots of the same name (a rule re-created, a race) add up;
             * a rule is in both families once it is loaded or counted in either */
            for (j = i; j < n && strcmp(m->names[idx[j]], m->names[idx[i]]) == 0; j++) {
                const struct rule_slot *s = &m->slots[idx[j]];
                v += f == 0 ? GET(&s->matches) : GET(&s->monitor);
                any += GET(&s->matches) + GET(&s->monitor);
                shown = shown || s->in_snap;
            }
            if (!shown && any == 0)
                continue;
            ps_metrics_escape_label(m->names[idx[i]], esc, sizeof(esc));
            snprintf(labels, sizeof(labels), ",rule=\"%s\"", esc);
            series(b, m, fam[f], labels, v);
        }
    }
    one(b, m, "pinsplice_rule_matches_untracked_total", "counter",
        "Rule matches not counted by rule (more distinct rules than the table holds).",
        GET(&m->untracked) + GET(&m->untracked_monitor));
}

static void
format_reload(struct buf *b, struct ps_metrics *m)
{
    static const char *const kinds[] = {"domain", "program", "category", "category_domain",
                                        "source"};
    struct ps_snapshot_stats st;
    struct ps_reload_stats rs;
    struct ps_snapshot *snap;
    size_t v[5];
    char labels[48];
    int i;

    if (m->reload == NULL)
        return;
    ps_reload_stats(m->reload, &rs);
    snap = ps_reload_acquire(m->reload);
    memset(&st, 0, sizeof(st));
    if (snap != NULL)
        ps_snapshot_stats(snap, &st);
    ps_snapshot_release(snap);
    one(b, m, "pinsplice_rule_loads_total", "counter",
        "Rule snapshots loaded from the DB (the first load included).", rs.loads);
    one(b, m, "pinsplice_rule_load_failures_total", "counter",
        "Loads of the DB that failed (the last good rules stayed in force).", rs.failures);
    one(b, m, "pinsplice_rules_available", "gauge",
        "1 when rules are loaded, 0 when none could be (every answer is bump).", rs.have_rules);
    one(b, m, "pinsplice_rules_loaded", "gauge", "Rules in the snapshot in force.", st.rules);
    head(b, "pinsplice_rule_entries_loaded", "gauge",
         "Entries in the snapshot in force, by kind.");
    v[0] = st.domains;
    v[1] = st.programs;
    v[2] = st.categories;
    v[3] = st.category_domains;
    v[4] = st.sources;
    for (i = 0; i < 5; i++) {
        snprintf(labels, sizeof(labels), ",kind=\"%s\"", kinds[i]);
        series(b, m, "pinsplice_rule_entries_loaded", labels, v[i]);
    }
    head(b, "pinsplice_rules_stale_seconds", "gauge",
         "Seconds since a check found the DB changed and could not load it (0: in force).");
    bput(b, "pinsplice_rules_stale_seconds{pid=\"%ld\"} %llu.%03llu\n", m->pid,
         rs.stale_ms / 1000ULL, rs.stale_ms % 1000ULL);
    one(b, m, "pinsplice_rules_last_load_timestamp_seconds", "gauge",
        "Unix time of the last successful load (0: never).", (unsigned long long)rs.loaded_at);
}

static void
format_verify(struct buf *b, struct ps_metrics *m)
{
    struct ps_verifier_stats vs;
    char labels[48];
    int i;

    if (m->verifier == NULL)
        return;
    ps_verifier_stats(m->verifier, &vs);
    head(b, "pinsplice_verify_checks_total", "counter",
         "Server checks finished, by verdict (verified or the failure's reason code).");
    for (i = 0; i < PS_VERIFY_NVERDICTS; i++) {
        snprintf(labels, sizeof(labels), ",verdict=\"%s\"",
                 ps_verify_reason((enum ps_verify_verdict)i));
        series(b, m, "pinsplice_verify_checks_total", labels, vs.by_verdict[i]);
    }
    one(b, m, "pinsplice_verify_started_total", "counter", "Server checks started (handshakes).",
        vs.checks);
    one(b, m, "pinsplice_verify_cache_hits_total", "counter",
        "Requests answered from the server-check cache.", vs.cache_hits);
    one(b, m, "pinsplice_verify_shared_total", "counter",
        "Requests that joined a server check already in flight.", vs.shared);
    one(b, m, "pinsplice_verify_busy_total", "counter",
        "Requests refused a server check for the in-flight bound (bumped: verify-busy).",
        vs.busy);
    one(b, m, "pinsplice_verify_evicted_total", "counter",
        "Server-check results dropped for the cache's entry bound.", vs.evicted);
    one(b, m, "pinsplice_verify_cache_entries", "gauge", "Server-check results cached.",
        vs.entries);
    one(b, m, "pinsplice_verify_inflight", "gauge", "Server checks queued or running.",
        vs.inflight);
}

int
ps_metrics_format(struct ps_metrics *m, char **out, size_t *len)
{
    struct buf b = {NULL, 0, 0, false};
    char prog[sizeof(m->program) * 3 + 1];

    b.cap = 8192;
    b.p = malloc(b.cap);
    if (b.p == NULL)
        return PS_ENOMEM;
    b.p[0] = '\0';
    ps_metrics_escape_label(m->program, prog, sizeof(prog));
    head(&b, "pinsplice_info", "gauge", "The process writing this file (always 1).");
    bput(&b, "pinsplice_info{pid=\"%ld\",program=\"%s\",version=\"%s\"} 1\n", m->pid, prog,
         PACKAGE_VERSION);
    one(&b, m, "pinsplice_start_time_seconds", "gauge", "Unix time the process started counting.",
        (unsigned long long)m->started);
    format_decisions(&b, m);
    format_latency(&b, m);
    format_rules(&b, m);
    format_reload(&b, m);
    format_verify(&b, m);
    one(&b, m, "pinsplice_metrics_write_failures_total", "counter",
        "Writes of this file that failed (reported once in the log).", GET(&m->write_failures));
    if (b.oom) {
        free(b.p);
        return PS_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}

/* Write all of buf to fd. Returns 0 or -1 with errno set. */
static int
write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int
ps_metrics_write(struct ps_metrics *m, struct ps_err *err)
{
    char tmp[PATH_MAX + 32], *text = NULL;
    size_t len = 0;
    int fd = -1, rc = PS_EIO;

    tmp[0] = '\0';
    if (ps_metrics_format(m, &text, &len) < 0)
        return ps_err_set(err, PS_EIO, "%s: out of memory", m->path);
    if (ps_tmpfile_create(m->path, "tmp", tmp, sizeof(tmp), err) < 0)
        goto done;
    fd = open(tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    /* mkstemp made it 0600: the collector (node_exporter runs as another user) must read it */
    if (fchmod(fd, 0644) < 0 || write_all(fd, text, len) < 0) {
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    if (close(fd) < 0) {
        fd = -1;
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, m->path) < 0) {
        ps_err_set(err, PS_EIO, "%s: rename: %s", m->path, strerror(errno));
        goto done;
    }
    tmp[0] = '\0';
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp);
    free(text);
    return rc;
}
