#ifndef PS_LIB_LOGCOUNT_H
#define PS_LIB_LOGCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct ps_logcount;
struct ps_logformat;
struct ps_logline;
struct ps_logtab;
struct ps_ls_counts;
struct ps_ls_input;

/*
 * What one parsed access.log record means, for lib/log/logscan.c: the counters by action, the
 * per-name, per-client and per-rule tables, and the bumped connections waiting for their first
 * request (see logscan.h, "What counts as what"). Records must come in log order (the time of
 * the latest record drives the --window expiry).
 */

/*
 * A new counter set. A bumped connection waits window_ms for its first request; at most
 * max_pending wait at once (the oldest is judged first). in receives the figures counted here
 * (tunnels, other_records, native_connect_nohier, bump_unknown, pending_*) and must outlive the
 * set. Returns NULL when out of memory.
 */
struct ps_logcount *ps_logcount_new(int64_t window_ms, size_t max_pending, struct ps_ls_input *in);
void ps_logcount_free(struct ps_logcount *lc);

/* Count one record l of format f. Returns 0 or PS_ENOMEM (the set is then unusable). */
int ps_logcount_record(struct ps_logcount *lc, const struct ps_logline *l,
                       const struct ps_logformat *f);

/* End of input: the connections still waiting are judged "no request", every one of them.
 * Returns 0, or PS_ENOMEM when some failure details could not be kept (the counts are whole). */
int ps_logcount_finish(struct ps_logcount *lc);

const struct ps_ls_counts *ps_logcount_totals(const struct ps_logcount *lc);
/* Tables of struct ps_ls_name, ps_ls_client, ps_ls_rule (see logscan.h). */
const struct ps_logtab *ps_logcount_names(const struct ps_logcount *lc);
const struct ps_logtab *ps_logcount_clients(const struct ps_logcount *lc);
const struct ps_logtab *ps_logcount_rules(const struct ps_logcount *lc);
const struct ps_logtab *ps_logcount_monitors(const struct ps_logcount *lc);
/* Heap bytes held. */
size_t ps_logcount_bytes(const struct ps_logcount *lc);

#endif /* PS_LIB_LOGCOUNT_H */
