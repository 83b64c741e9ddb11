#ifndef PS_LIB_LOGFIGURES_H
#define PS_LIB_LOGFIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * logfigures.h: what the access.log scanner counts (per action, failure kind, name, client,
 * rule, monitor rule, input file), the figures logcount.c fills and logscan.h hands out. Its own
 * header so that the counter and the scanner each include it, and not each other.
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

#endif
