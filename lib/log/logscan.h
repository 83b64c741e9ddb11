#ifndef PS_LIB_LOGSCAN_H
#define PS_LIB_LOGSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_err;
struct ps_logformat;
struct ps_logtab;

/*
 * The access.log scanner behind `pinsplice logscan`: reads Squid access.log files (plain or gzip,
 * "-" for stdin), in the "pinsplice" logformat (full analysis) or Squid's native "squid" format
 * (what it allows), and counts what happened per action, rule, server name and client. For
 * bumped connections it tells the ones the client abandoned (rejected the bumped certificate,
 * reset or closed during the handshake, or left without a request after it: a pin checked after
 * the handshake) from the ones that carried requests; lib/log/logfind.c turns that into the list of
 * apps that break under bumping.
 *
 * Memory grows with the number of distinct names, clients and rules, and with the connections
 * still waiting for their first request (bounded by opts.window_ms and opts.max_pending), never
 * with the number of lines: no line is kept.
 *
 * What counts as what (pinsplice format):
 *   - a connection is a CONNECT record other than TCP_TUNNEL, plus a TCP_TUNNEL record that has
 *     no such record before it (a splice at step 1 logs only the tunnel); its action is the
 *     pinsplice_action_ note, else %ssl::bump_mode (splice/bump/terminate), else "other"
 *     (denied, failed before a decision, not TLS);
 *   - the TCP_TUNNEL record of a spliced connection adds its bytes;
 *   - any other record is a request: inside a bumped connection when its URL is https://, else
 *     plain HTTP (action "other");
 *   - a bumped connection failed on the client side when its CONNECT carries
 *     ERR_SECURE_ACCEPT_FAIL with a TLS alert (FAIL_ALERT), a reset (FAIL_RESET) or a close
 *     (FAIL_CLOSED), or when the handshake completed (%ssl::>negotiated_version set) but no
 *     request followed on the same client ip:port within opts.window_ms or before the end of
 *     the input (FAIL_NOREQ); it succeeded (bump_ok) when a request followed.
 * Native squid format: TCP_TUNNEL = one spliced connection; a CONNECT with a server connection
 * (hierarchy other than HIER_NONE) = one bumped connection whose outcome cannot be told; a
 * CONNECT without one (the first record of a splice, or a terminate) is only counted apart.
 */

#include "logfigures.h"

struct ps_logscan_opts {
    int64_t since_ms, until_ms; /* records outside [since, until] are skipped (INT64_MIN/MAX) */
    int64_t window_ms;          /* how long a bumped CONNECT waits for its first request */
    size_t max_pending;         /* most connections waiting at once (oldest judged first) */
    size_t keep_bad;            /* bad lines kept as examples */
    const struct ps_logformat *format; /* NULL: detect per line (pinsplice, then squid) */
};

#define PS_LOGSCAN_WINDOW_MS (600 * 1000)
#define PS_LOGSCAN_MAX_PENDING (1u << 20)

/* Defaults: no time limits, PS_LOGSCAN_WINDOW_MS, PS_LOGSCAN_MAX_PENDING, 5 bad lines, auto. */
void ps_logscan_opts_init(struct ps_logscan_opts *o);

struct ps_logscan;

/* A new scanner (the options are copied), or NULL when out of memory. */
struct ps_logscan *ps_logscan_new(const struct ps_logscan_opts *o);
void ps_logscan_free(struct ps_logscan *ls);

/*
 * Feed the scanner: start a named input (a file: lib/log/logread.c reads files), then give it its
 * lines, without the newline (a trailing CR is dropped; the buffer is modified). Lines that do
 * not parse are counted (the first opts.keep_bad kept), never an error. Returns 0 or PS_ENOMEM
 * (the scanner is then unusable).
 */
int ps_logscan_begin(struct ps_logscan *ls, const char *name, struct ps_err *err);
int ps_logscan_line(struct ps_logscan *ls, char *line, size_t len, struct ps_err *err);

/* Count a line the reader could not even hand over (longer than its buffer) as bad, keeping
 * its first bytes text[0..len) as the example. */
void ps_logscan_skip(struct ps_logscan *ls, const char *text, size_t len, const char *reason);
/* Mark the current input as failed (not opened, read error, truncated): message is kept. */
void ps_logscan_input_error(struct ps_logscan *ls, const char *message);

/* End of all input: judge the connections still waiting for a request ("no request"). Call once,
 * after the last file and before reading the results. Returns 0 or PS_ENOMEM (logcount.h). */
int ps_logscan_finish(struct ps_logscan *ls);

/* Results. The tables map keys to struct ps_ls_name / ps_ls_client / ps_ls_rule. */
const struct ps_ls_counts *ps_logscan_totals(const struct ps_logscan *ls);
const struct ps_ls_input *ps_logscan_input(const struct ps_logscan *ls);
const struct ps_logtab *ps_logscan_names(const struct ps_logscan *ls);
const struct ps_logtab *ps_logscan_clients(const struct ps_logscan *ls);
const struct ps_logtab *ps_logscan_rules(const struct ps_logscan *ls);
/* Monitor rules: struct ps_ls_monitor by rule name. */
const struct ps_logtab *ps_logscan_monitors(const struct ps_logscan *ls);
const struct ps_ls_file *ps_logscan_files(const struct ps_logscan *ls, size_t *n);
const struct ps_ls_bad *ps_logscan_bad(const struct ps_logscan *ls, size_t *n);
/* Bit (1u << i) set when records of format i (0 pinsplice, 1 squid, 2 --logformat) were read. */
unsigned ps_logscan_formats(const struct ps_logscan *ls);
/* True when some records came from a format that has what the pinning-app finder needs
 * (client port, error code, TLS version): false means the finder had nothing to look at. */
bool ps_logscan_can_find(const struct ps_logscan *ls);
/* Heap bytes held by the tables (for the benchmark's memory figures). */
size_t ps_logscan_bytes(const struct ps_logscan *ls);

#endif /* PS_LIB_LOGSCAN_H */
