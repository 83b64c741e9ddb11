#ifndef PS_LIB_METRICS_H
#define PS_LIB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"

struct ps_decision;

struct ps_err;
struct ps_reload;
struct ps_verifier;
struct ps_metrics;

/*
 * Live metrics in the Prometheus text exposition format (version 0.0.4), written the
 * way node_exporter's textfile collector wants them: the whole file is built aside in a temporary
 * file of the same directory and renamed over the target, every interval, by a thread of its own.
 *
 * One file per process: the path's "%p" is replaced by the process ID, and every series carries
 * a pid="N" label, so several helper processes and c-icap children never overwrite each other and
 * the collector, which merges all *.prom files of its directory and refuses a series seen twice,
 * sees distinct series. A process removes its file when it stops (ps_metrics_free), and every
 * interval each process removes the files of the same pattern whose process is gone (kill(pid,
 * 0) says no such process): a crashed helper's counters leave the collector's output within an
 * interval of the next write by any process of the pattern.
 *
 * Counting (ps_metrics_answer, ps_metrics_monitor, ps_metrics_malformed) is for the answering
 * path: relaxed atomic additions to memory allocated up front, no lock, no allocation, no I/O;
 * NULL metrics (metrics off) is a no-op. Everything else (reading the reload and verifier
 * statistics, formatting, the file system) happens on the writer thread, which reports its first
 * failure with ps_log and then stays quiet until a write succeeds again: a full disk or a
 * directory that cannot be written never changes an answer.
 */

/* Check a --metrics / MetricsFile path: exactly one "%p", in the file name (after the last '/'),
 * no other '%', at most PATH_MAX - 32 bytes. Returns 0 or PS_EINVAL (err names the path and says
 * why). */
int ps_metrics_path_check(const char *pattern, struct ps_err *err);

/* Expand pattern's "%p" to pid into out. Returns 0, PS_EINVAL (a bad pattern) or PS_ETOOLONG. */
int ps_metrics_path_expand(const char *pattern, long pid, char *out, size_t size,
                           struct ps_err *err);

/*
 * A registry for this process. program names the writer ("ext_pinsplice_acl", "srv_pinsplice")
 * in pinsplice_info. Counts from now on; writes nothing until ps_metrics_start. Returns NULL
 * and sets err on a bad pattern or no memory.
 */
struct ps_metrics *ps_metrics_new(const char *pattern, const char *program, struct ps_err *err);

/* Where the gauges come from (may be NULL; may be set before start only). Borrowed: they must
 * outlive the metrics' thread (ps_metrics_free stops it). */
void ps_metrics_set_reload(struct ps_metrics *m, struct ps_reload *r);
void ps_metrics_set_verifier(struct ps_metrics *m, struct ps_verifier *v);

/* Start the writer thread: at once, then every interval_s seconds (>= 1), it removes dead
 * processes' files and writes this one. Call after fork(). Returns 0, or PS_ENOMEM when the
 * thread cannot start (then counting still works and nothing is written). A failed write is not
 * an error here: it is reported by ps_log once and retried every interval. */
int ps_metrics_start(struct ps_metrics *m, unsigned interval_s);

/* Stop the thread and remove the file. NULL is a no-op. */
void ps_metrics_free(struct ps_metrics *m);

/* A monotonic timestamp in ns, for the start of an answer's latency. */
uint64_t ps_metrics_now_ns(void);

/* Only one thread will ever call the counting functions below (the helper): they then add with
 * a plain load and store instead of an atomic addition. Call before counting starts. */
void ps_metrics_single_writer(struct ps_metrics *m);

/* n answers that arrived at started_ns and left together now (a helper's replies to the lines of
 * one read go out in one write): n latency observations of now - started_ns, one clock read. For
 * answers counted with started_ns 0. */
void ps_metrics_latency(struct ps_metrics *m, uint64_t started_ns, unsigned long n);

/*
 * One answered decision: d as sent (after fail-open and the server check), answered the action
 * d->action; started_ns from ps_metrics_now_ns when the request arrived (0: no latency
 * observation). Counts the answer, the decision by action and reason, the rule's match when a
 * rule decided. d's strings need to live only for the call. Hot path: see above.
 */
void ps_metrics_answer(struct ps_metrics *m, const struct ps_decision *d, uint64_t started_ns);

/* A request answered without a decision (a malformed helper line): counts the answer, the
 * malformed request and the latency. */
void ps_metrics_malformed(struct ps_metrics *m, uint64_t started_ns);

/* A request answered without deciding anything (a REQMOD that is not a CONNECT): counts the
 * answer and the latency only. */
void ps_metrics_answered(struct ps_metrics *m, uint64_t started_ns);

/*
 * A monitor rule that would have decided (rules.mode = 'monitor'; the decision carries it, see
 * plan19's pinsplice_monitor_rule_ annotation): counts pinsplice_monitor_matches_total for that
 * rule. Hot path. rule_name NULL is ignored.
 */
void ps_metrics_monitor(struct ps_metrics *m, int64_t rule_id, const char *rule_name);

/*
 * The exposition as it would be written now, for tests and `--metrics` debugging: appends to a
 * malloc'd buffer *out (set to NULL first; the caller frees it) of *len bytes. Returns 0 or
 * PS_ENOMEM. Thread-safe against the counting functions; not against another call of itself
 * (the writer thread makes the calls when started).
 */
int ps_metrics_format(struct ps_metrics *m, char **out, size_t *len);

/* Write the file once now (what the thread does each interval). Returns 0, or PS_EIO with err
 * naming the path (nothing is left behind: the temporary file is removed). */
int ps_metrics_write(struct ps_metrics *m, struct ps_err *err);

/* The file this process writes (the pattern expanded with getpid() at ps_metrics_new). */
const char *ps_metrics_path(const struct ps_metrics *m);

/*
 * Append value to out as a label value of the exposition format: '\\' '"' and newline escaped,
 * invalid UTF-8 replaced by U+FFFD (Prometheus refuses a file holding one). Returns the bytes
 * written, or 0 and writes nothing when out (size bytes, NUL added) is too small.
 */
size_t ps_metrics_escape_label(const char *value, char *out, size_t size);

#endif /* PS_LIB_METRICS_H */
