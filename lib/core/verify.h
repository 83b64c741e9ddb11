#ifndef PS_LIB_VERIFY_H
#define PS_LIB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct ps_err;

/*
 * Server verification before a splice. A peeking Squid cannot see the server's
 * certificate of a TLS 1.3 connection, so before pinsplice answers splice for a connection that
 * was only named by the client (an IP-literal CONNECT with a covered SNI), it opens its own TLS
 * connection to that address and port with that SNI, verifies the chain against a trust store
 * and checks the name (X509_check_host, through SSL_set1_host). It sends a ClientHello and the
 * handshake, nothing else, and closes.
 *
 * Two layers:
 *   - ps_verify_run(): one check, blocking up to its timeout. For `pinsplice check --verify`
 *     and for the verifier's worker threads; never on an answering thread.
 *   - struct ps_verifier: worker threads, a bounded cache of results, one check shared by all
 *     requests for the same (address, port, name, trust), a bound on checks in flight.
 *     ps_verifier_submit() never waits on the network: it answers from the cache, queues, or
 *     refuses (busy).
 */

/* What a check found. Every value but PS_VERIFY_OK means bump. */
enum ps_verify_verdict {
    PS_VERIFY_OK = 0,    /* "verified": chain and name good (or a pin matched) */
    PS_VERIFY_FAILED,    /* "verify-failed": the chain does not verify against the trust */
    PS_VERIFY_NAME,      /* "verify-name": the certificate does not name the SNI */
    PS_VERIFY_PIN,       /* "verify-pin": no certificate of the chain matches the pins */
    PS_VERIFY_TIMEOUT,   /* "verify-timeout": no complete handshake within the timeout */
    PS_VERIFY_CONNECT,   /* "verify-connect": the TCP connection failed */
    PS_VERIFY_HANDSHAKE, /* "verify-handshake": the TLS handshake failed */
    PS_VERIFY_BUSY,      /* "verify-busy": too many checks in flight; not checked */
    PS_VERIFY_ERROR,     /* "verify-error": bad input, memory, OpenSSL set-up */
};
#define PS_VERIFY_NVERDICTS (PS_VERIFY_ERROR + 1)

/* The reason code of a verdict as logged ("verified", "verify-failed", ...). Never NULL. */
const char *ps_verify_reason(enum ps_verify_verdict v);

/* The outcome of one check. The texts are for people (check --verify, logs), not for matching. */
struct ps_verify_result {
    enum ps_verify_verdict verdict;
    time_t not_after;  /* the leaf's notAfter (0 when no certificate was seen) */
    char detail[160];  /* why, in words ("certificate has expired", "timed out after 3000 ms") */
    char subject[256]; /* leaf subject, OpenSSL one-line form ("/CN=..."), or "" */
    char issuer[256];  /* leaf issuer, or "" */
    char san[512];     /* leaf DNS SANs, comma-separated, or "" */
    long elapsed_ms;   /* the check's duration */
};

/*
 * What to trust for a check: a PEM bundle (NULL or "": the system store) and optional SPKI
 * SHA-256 pins. With pins, a chain is accepted when one of its certificates' SubjectPublicKeyInfo
 * hashes to a pin, the leaf names the SNI and is within its validity; the chain need not lead to
 * the bundle (an app's private CA). Built once (it reads the bundle) and shared; reference
 * counted, so checks in flight keep it alive across a reload.
 */
struct ps_verify_trust;

/*
 * pins: NULL or a list of "sha256/BASE64" or 64 hex digits, separated by ',' or ';' or spaces
 * (the forms of curl's --pinnedpubkey and of HPKP). Reads ca_file now (a bad file is an error
 * naming it). Returns NULL and sets err on failure.
 */
struct ps_verify_trust *ps_verify_trust_new(const char *ca_file, const char *pins,
                                            struct ps_err *err);
/* The same, shared: a trust built earlier in this process for the same settings is returned
 * (with a reference) while the bundle's file is unchanged (device, inode, size, mtime). */
struct ps_verify_trust *ps_verify_trust_get(const char *ca_file, const char *pins,
                                            struct ps_err *err);
void ps_verify_trust_ref(struct ps_verify_trust *t);
void ps_verify_trust_unref(struct ps_verify_trust *t); /* NULL is a no-op */
/* A stable text identifying the trust's content (bundle path and pins), for cache keys. */
const char *ps_verify_trust_key(const struct ps_verify_trust *t);

/*
 * One check: connect to addr (an IPv4 or IPv6 literal; or a host name, for a rule with verify
 * 'always': resolved with getaddrinfo_a, its addresses tried in order until one connects) :
 * port with SNI sni, handshake, verify, close; at most timeout_ms in all, the resolution
 * included (a resolver that does not answer in time gives verify-timeout; its lookup is left to
 * finish and free itself). Fills *out and returns its verdict.
 * The calling thread must ignore or block SIGPIPE (the verifier's threads block it).
 */
enum ps_verify_verdict ps_verify_run(const char *addr, unsigned port, const char *sni,
                                     struct ps_verify_trust *t, unsigned timeout_ms,
                                     struct ps_verify_result *out);

/* ---- the verifier: threads, cache, sharing, bounds ----------------------------------------- */

struct ps_verifier_conf {
    unsigned threads;      /* worker threads (default 4) */
    unsigned max_inflight; /* checks queued or running at once (default 64); more: busy */
    unsigned timeout_ms;   /* per check (default 3000) */
    unsigned ok_ttl_s;     /* a good result is reused this long, never past notAfter (300) */
    unsigned fail_ttl_s;   /* a failed one this long (30) */
    unsigned max_entries;  /* results kept (default 4096); the least recently used go first */
};

struct ps_verifier;

/* Called once per queued request when its check ends, from a worker thread, with no lock held. */
typedef void ps_verify_done_fn(void *ud, const struct ps_verify_result *r);

/* conf NULL or zero fields: the defaults above. Starts the threads (call after fork()). */
struct ps_verifier *ps_verifier_new(const struct ps_verifier_conf *conf, struct ps_err *err);
/* Stops the threads; queued requests are answered PS_VERIFY_ERROR first. NULL is a no-op. */
void ps_verifier_free(struct ps_verifier *v);

enum ps_verify_submit {
    PS_VERIFY_CACHED = 0, /* *out holds a result from the cache; done is not called */
    PS_VERIFY_QUEUED = 1, /* done(ud, result) will be called exactly once */
    PS_VERIFY_REFUSED = 2 /* *out holds PS_VERIFY_BUSY or PS_VERIFY_ERROR; done is not called */
};

/* Never waits on the network or the file system; holds the verifier's lock only briefly. */
enum ps_verify_submit ps_verifier_submit(struct ps_verifier *v, const char *addr, unsigned port,
                                         const char *sni, struct ps_verify_trust *t,
                                         unsigned timeout_ms, /* 0: the conf's */
                                         ps_verify_done_fn *done, void *ud,
                                         struct ps_verify_result *out);

/* The cheap path for a request whose result may be cached: true and *verdict when a fresh result
 * is in the cache (counted as a cache hit); false otherwise (then call ps_verifier_submit). No
 * allocation; the lock is held for one table lookup. */
bool ps_verifier_cached(struct ps_verifier *v, const char *addr, unsigned port, const char *sni,
                        struct ps_verify_trust *t, enum ps_verify_verdict *verdict);

struct ps_verifier_stats {
    unsigned long checks;                          /* handshakes started */
    unsigned long cache_hits;                      /* requests answered from the cache */
    unsigned long shared;                          /* requests that joined a check in flight */
    unsigned long busy;                            /* requests refused for the in-flight bound */
    unsigned long evicted;                         /* results dropped for the entry bound */
    unsigned long by_verdict[PS_VERIFY_NVERDICTS]; /* finished checks */
    unsigned entries, inflight;
};
void ps_verifier_stats(struct ps_verifier *v, struct ps_verifier_stats *out);

#endif /* PS_LIB_VERIFY_H */
