#ifndef PS_LIB_METRICS_INT_H
#define PS_LIB_METRICS_INT_H

/* Internals shared by lib/core/metrics.c (counting, the file, the thread) and lib/core/metrics_fmt.c (the
 * exposition text). Not for other files. */

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "action.h"

struct ps_reload;
struct ps_verifier;

#define NACTIONS 3
#define NREASONS 7
#define RULE_SLOTS 1024 /* distinct (rule id, name) pairs counted; more go to the untracked count */
#define SLOT_EMPTY 0
#define SLOT_CLAIMING 1
#define SLOT_READY 2

/* Latency buckets: upper bounds in ns, and the same as the exposition's le values. */
#define NBUCKETS 13
extern const uint64_t ps_metrics_bucket_ns[NBUCKETS];
extern const char *const ps_metrics_bucket_le[NBUCKETS];

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

/* The slot for (id, name), claimed when absent and create is true. NULL when the table is full,
 * or the name is over the schema's bound, or it is absent and create is false (lib/core/metrics.c). */
struct rule_slot *ps_metrics_slot(struct ps_metrics *m, int64_t id, const char *name, bool create);

#endif /* PS_LIB_METRICS_INT_H */
