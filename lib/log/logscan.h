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

enum ps_ls_action {
    PS_LS_SPLICE = 0,
    PS_LS_BUMP = 1,
    PS_LS_TERMINATE = 2,
    PS_LS_OTHER = 3, /* no TLS decision: denied, failed early, not TLS; plain HTTP requests */
    PS_LS_NACTIONS = 4
};

enum ps_ls_fail {
    PS_LS_FAIL_ALERT = 0,  /* the client sent a TLS alert during the handshake */
    PS_LS_FAIL_RESET = 1,  /* it reset the connection during the handshake */
    PS_LS_FAIL_CLOSED = 2, /* it closed the connection during the handshake */
    PS_LS_FAIL_NOREQ = 3,  /* handshake done, no request followed */
    PS_LS_NFAILS = 4
};

/* Counters kept per name, per client and in total. Times are Unix milliseconds, 0 = none. */
struct ps_ls_counts {
    uint64_t conns[PS_LS_NACTIONS];     /* connections by action */
    uint64_t requests[PS_LS_NACTIONS];  /* requests: inside bumped connections, plain (OTHER) */
    uint64_t bytes_out[PS_LS_NACTIONS]; /* bytes sent to the client, by the connection's action */
    uint64_t bytes_in[PS_LS_NACTIONS];  /* bytes received from the client */
    uint64_t errors;                    /* connections whose CONNECT carries a Squid error */
    uint64_t fails[PS_LS_NFAILS];       /* bumped connections the client abandoned, by kind */
    uint64_t bump_ok;                   /* bumped connections that carried a request */
    uint64_t tls_other;                 /* other TLS accept errors (not TLS, no cipher...) */
    int64_t first_ms, last_ms;          /* first and last connection or request */
};

#define PS_LS_CLIENTS_TRACK 16 /* distinct failing clients counted exactly per name */
#define PS_LS_EXAMPLES 3       /* example clients kept per name */
#define PS_LS_ALERTS 4         /* distinct alerts counted per name */
#define PS_LS_ADDR_MAX 48      /* longest client address kept (INET6_ADDRSTRLEN + slack) */

/* Failure details of a name, allocated on its first client-side failure. */
struct ps_ls_failinfo {
    int64_t first_ms, last_ms; /* first and last failure */
    uint64_t client_hash[PS_LS_CLIENTS_TRACK];
    uint32_t n_clients;  /* distinct failing clients, exact up to TRACK */
    bool clients_capped; /* more than PS_LS_CLIENTS_TRACK */
    uint8_t n_alerts;
    uint8_t alert[PS_LS_ALERTS];        /* alert numbers, in order of first appearance */
    uint64_t alert_count[PS_LS_ALERTS]; /* alerts past the PS_LS_ALERTS-th are only in
                                           counts.fails[PS_LS_FAIL_ALERT] */
    uint8_t n_examples;
    char example[PS_LS_EXAMPLES][PS_LS_ADDR_MAX]; /* first failing clients, NUL-terminated */
};

/* A server name (SNI, else CONNECT host, normalised to lower case without a trailing dot). */
struct ps_ls_name {
    struct ps_ls_counts c;
    struct ps_ls_failinfo *fail; /* NULL until the first failure */
};

struct ps_ls_client {
    struct ps_ls_counts c;
};

/* Server check outcomes (the pinsplice_verify_ note), in lib/core/verify.h's order: "verified",
 * "verify-failed", "verify-name", "verify-pin", "verify-timeout", "verify-connect",
 * "verify-handshake", "verify-busy", "verify-error". */
#define PS_LS_NVERIFY 9
extern const char *const ps_ls_verify_names[PS_LS_NVERIFY];

/* A pinsplice rule as logged in the pinsplice_rule_ note. */
struct ps_ls_rule {
    uint64_t conns[PS_LS_NACTIONS];
    uint64_t verify[PS_LS_NVERIFY]; /* its connections by server check outcome */
    int64_t first_ms, last_ms;
};

/* A monitor rule (the pinsplice_monitor_rule_ note): what it would have done, and what happened
 * to the same connections under the real decision. */
struct ps_ls_monitor {
    uint64_t would[PS_LS_NACTIONS]; /* connections it matched, by the action it would have taken */
    uint64_t conns[PS_LS_NACTIONS]; /* the same connections, by the real decision */
    uint64_t abandoned;             /* of those bumped: the client gave up (the rule would have
                                     * fixed them) */
    uint64_t carried;               /* of those bumped: requests went through (splicing them would
                                     * only lose inspection) */
    int64_t first_ms, last_ms;
};
/* Keys of the rule table that are not rule names. */
#define PS_LS_RULE_DEFAULT "\001default" /* a decision without a rule: the default action */
#define PS_LS_RULE_NONE "\001none"       /* no pinsplice decision logged */

struct ps_ls_file {
    char *path;
    bool error;        /* the file could not be opened or read to its end */
    char message[256]; /* why, when error */
    uint64_t lines, records, bad, filtered, blank;
    uint64_t by_format[3]; /* records in the pinsplice, squid and the --logformat format */
    int64_t first_ms, last_ms;
};

#define PS_LS_BAD_TEXT 160 /* bytes of a bad line kept for display */
struct ps_ls_bad {
    size_t file; /* index into the file list */
    uint64_t line;
    char reason[128];
    char text[PS_LS_BAD_TEXT + 1]; /* the line's start, NUL-terminated (may hold any bytes) */
    size_t text_len;
    bool cut; /* the line was longer than text */
};

/* Input figures. */
struct ps_ls_input {
    uint64_t lines, records, bad, filtered, blank;
    uint64_t by_format[3];
    uint64_t tunnels;               /* TCP_TUNNEL records */
    uint64_t other_records;         /* records without a method (clients that sent nothing) */
    uint64_t native_connect_nohier; /* native: CONNECT without a server connection */
    uint64_t bump_unknown;          /* bumped connections whose outcome the format cannot tell */
    uint64_t pending_peak;          /* most connections waiting for a first request at once */
    uint64_t pending_end;           /* judged "no request" at the end of the input */
    uint64_t pending_early;         /* judged early because max_pending was reached */
    uint64_t verify[PS_LS_NVERIFY]; /* connections by server check outcome */
    uint64_t verify_other;          /* a pinsplice_verify_ value this build does not know */
    int64_t first_ms, last_ms;
};

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
