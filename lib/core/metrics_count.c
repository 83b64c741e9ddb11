/* Counting on the answering path: the answers, the decisions by action and reason, each rule's
 * matches, the latency histogram. Atomic additions, or plain ones with a single answering thread;
 * nothing here allocates, locks or does I/O. The writer (metrics.c) reads the counters. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "metrics.h"
#include "metrics_int.h"

/* Latency buckets, in ns (upper bounds), and the same as the exposition's le values. */
const uint64_t ps_metrics_bucket_ns[NBUCKETS] = {
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
    100000000, 1000000000, 5000000000ULL};
const char *const ps_metrics_bucket_le[NBUCKETS] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
    "0.0025", "0.005", "0.01", "0.1", "1", "5"};

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
    for (i = 0; i < NBUCKETS && ns > ps_metrics_bucket_ns[i]; i++)
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
 * The slot for (id, name) (lib/core/metrics_int.h). Probes start at the id's hash; a slot being
 * claimed by another thread is passed over (that may give one rule two slots, which the writer
 * adds up).
 */
struct rule_slot *
ps_metrics_slot(struct ps_metrics *m, int64_t id, const char *name, bool create)
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
        s = ps_metrics_slot(m, d->rule_id, d->rule_name, true);
        ADD(s != NULL ? &s->matches : &m->untracked, 1);
    }
    /* Monitor mode: the first monitor rule that matched, counted here so that both hosts get
     * it without another call. */
    if (d->monitor_rule != NULL)
        ps_metrics_monitor(m, d->monitor_rule_id, d->monitor_rule);
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
    s = ps_metrics_slot(m, rule_id, rule_name, true);
    ADD(s != NULL ? &s->monitor : &m->untracked_monitor, 1);
}
