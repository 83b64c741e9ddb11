#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "metrics.h"
#include "metrics_int.h"
#include "reload.h"
#include "snapshot.h"
#include "text.h"
#include "verify.h"

/*
 * No Prometheus client library in C is packaged by Debian (12 or 13): there is prometheus-cpp
 * (C++, and it would bring an HTTP server we do not want) and clients for Go, Python, Perl and
 * Ruby. The text format is small, so it is written here (about 150 lines of formatting).
 */

/* ---- the exposition ----------------------------------------------------------------------- */

size_t
ps_metrics_escape_label(const char *value, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)value, *end = p + strlen(value);
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
        } else if (*p < 0x80 || (k = ps_utf8_len(p, (size_t)(end - p))) > 0) {
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
        snprintf(labels, sizeof(labels), ",le=\"%s\"", i < NBUCKETS ? ps_metrics_bucket_le[i] : "+Inf");
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
            (s = ps_metrics_slot(m, rule->id, rule->name, true)) != NULL)
            s->in_snap = true;
    }
    ps_snapshot_release(snap);
}

struct named {
    const char *name;
    size_t idx;
};

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
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
    struct named *v = malloc(RULE_SLOTS * sizeof(*v));
    size_t n = 0, i, j, f;

    if (v == NULL) {
        b->oom = true;
        return;
    }
    mark_rules(m);
    for (i = 0; i < RULE_SLOTS; i++) {
        if (__atomic_load_n(&m->slots[i].state, __ATOMIC_ACQUIRE) == SLOT_READY) {
            v[n].name = m->names[i];
            v[n++].idx = i;
        }
    }
    qsort(v, n, sizeof(v[0]), by_name);
    for (f = 0; f < 2; f++) {
        head(b, fam[f], "counter", help[f]);
        for (i = 0; i < n; i = j) {
            unsigned long long c = 0, any = 0;
            bool shown = false;
            /* one series per name: slots of the same name (a rule re-created, a race) add up;
             * a rule is in both families once it is loaded or counted in either */
            for (j = i; j < n && strcmp(v[j].name, v[i].name) == 0; j++) {
                const struct rule_slot *s = &m->slots[v[j].idx];
                c += f == 0 ? GET(&s->matches) : GET(&s->monitor);
                any += GET(&s->matches) + GET(&s->monitor);
                shown = shown || s->in_snap;
            }
            if (!shown && any == 0)
                continue;
            ps_metrics_escape_label(v[i].name, esc, sizeof(esc));
            snprintf(labels, sizeof(labels), ",rule=\"%s\"", esc);
            series(b, m, fam[f], labels, c);
        }
    }
    free(v);
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
