/* Server verification before a splice: one check (ps_verify_run) and the verifier (threads,
 * cache, sharing). See verify.h. */
#define _GNU_SOURCE 1 /* getaddrinfo_a: a name resolved within the check's deadline */
#include "config.h"

#include "verify.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/lhash.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"

#define PS_VERIFY_MAX_PINS 16
#define PS_VERIFY_MAX_NAME 253

static const char *const reasons[PS_VERIFY_NVERDICTS] = {
    [PS_VERIFY_OK] = "verified",
    [PS_VERIFY_FAILED] = "verify-failed",
    [PS_VERIFY_NAME] = "verify-name",
    [PS_VERIFY_PIN] = "verify-pin",
    [PS_VERIFY_TIMEOUT] = "verify-timeout",
    [PS_VERIFY_CONNECT] = "verify-connect",
    [PS_VERIFY_HANDSHAKE] = "verify-handshake",
    [PS_VERIFY_BUSY] = "verify-busy",
    [PS_VERIFY_ERROR] = "verify-error",
};

const char *
ps_verify_reason(enum ps_verify_verdict v)
{
    return (unsigned)v < PS_VERIFY_NVERDICTS ? reasons[v] : "verify-error";
}

/* ---- trust ----------------------------------------------------------------------------------- */

struct ps_verify_trust {
    pthread_mutex_t mu;
    unsigned refs;
    SSL_CTX *ctx;
    size_t npins;
    unsigned char pins[PS_VERIFY_MAX_PINS][32];
    char key[];
};

static int
parse_pin(const char *tok, size_t len, unsigned char out[32])
{
    char buf[128];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    if (len == 64) {
        for (size_t i = 0; i < 32; i++) {
            unsigned v;
            if (sscanf(buf + 2 * i, "%2x", &v) != 1 ||
                !strchr("0123456789abcdefABCDEF", buf[2 * i]) ||
                !strchr("0123456789abcdefABCDEF", buf[2 * i + 1]))
                return -1;
            out[i] = (unsigned char)v;
        }
        return 0;
    }
    if (strncmp(buf, "sha256//", 8) != 0)
        return -1;
    /* base64 of 32 bytes: 44 characters ending in one '='. */
    const char *b = buf + 8;
    if (strlen(b) != 44 || b[43] != '=' || b[42] == '=')
        return -1;
    unsigned char dec[33];
    if (EVP_DecodeBlock(dec, (const unsigned char *)b, 44) != 33)
        return -1;
    memcpy(out, dec, 32);
    return 0;
}

struct ps_verify_trust *
ps_verify_trust_new(const char *ca_file, const char *pins, struct ps_err *err)
{
    unsigned char pinv[PS_VERIFY_MAX_PINS][32];
    size_t npins = 0;
    if (ca_file && !*ca_file)
        ca_file = NULL;
    for (const char *p = pins ? pins : ""; *p;) {
        size_t sep = strspn(p, ",; \t");
        p += sep;
        size_t len = strcspn(p, ",; \t");
        if (!len)
            break;
        if (npins == PS_VERIFY_MAX_PINS) {
            ps_err_set(err, PS_ETOOLONG, "more than %d pins", PS_VERIFY_MAX_PINS);
            return NULL;
        }
        if (parse_pin(p, len, pinv[npins]) != 0) {
            ps_err_set(err, PS_EINVAL,
                       "bad pin '%.*s': want sha256//BASE64 (44 characters) or 64 hex digits",
                       (int)(len > 80 ? 80 : len), p);
            return NULL;
        }
        npins++;
        p += len;
    }
    size_t klen = strlen(ca_file ? ca_file : "") + 16 + npins * 65;
    struct ps_verify_trust *t = calloc(1, sizeof *t + klen);
    if (!t) {
        ps_err_set(err, PS_ENOMEM, "out of memory");
        return NULL;
    }
    int n = snprintf(t->key, klen, "ca=%s;pins=", ca_file ? ca_file : "");
    for (size_t i = 0; i < npins; i++) {
        for (size_t j = 0; j < 32; j++)
            n += snprintf(t->key + n, klen - (size_t)n, "%02x", pinv[i][j]);
        if (i + 1 < npins)
            n += snprintf(t->key + n, klen - (size_t)n, ",");
    }
    memcpy(t->pins, pinv, sizeof pinv);
    t->npins = npins;
    t->refs = 1;
    pthread_mutex_init(&t->mu, NULL);
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        ps_err_set(err, PS_ENOMEM, "SSL_CTX_new failed");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* the verdict is read after the handshake */
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    if (ca_file) {
        FILE *f = fopen(ca_file, "r");
        if (f == NULL) {
            ps_err_set(err, PS_ENOENT, "'%s': %s", ca_file, strerror(errno));
            goto fail;
        }
        fclose(f);
        if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
            unsigned long e = ERR_get_error();
            const char *why = e ? ERR_reason_error_string(e) : NULL;
            ps_err_set(err, PS_EINVAL, "'%s': no usable PEM certificate (%s)", ca_file,
                       why ? why : "OpenSSL could not load it");
            ERR_clear_error();
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        ps_err_set(err, PS_EINVAL, "the system trust store cannot be loaded");
        ERR_clear_error();
        goto fail;
    }
    return t;
fail:
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return NULL;
}

void
ps_verify_trust_ref(struct ps_verify_trust *t)
{
    pthread_mutex_lock(&t->mu);
    t->refs++;
    pthread_mutex_unlock(&t->mu);
}

void
ps_verify_trust_unref(struct ps_verify_trust *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    unsigned left = --t->refs;
    pthread_mutex_unlock(&t->mu);
    if (left)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The last trusts built, shared by the snapshots of one process: a reload with unchanged
 * settings and an unchanged bundle reuses the trust instead of parsing the bundle again. */
#define TRUST_CACHE 8
static struct {
    struct ps_verify_trust *t;
    char *ca, *pins;
    struct stat st;
} trust_cache[TRUST_CACHE];
static unsigned trust_cache_next;
static pthread_mutex_t trust_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

struct ps_verify_trust *
ps_verify_trust_get(const char *ca_file, const char *pins, struct ps_err *err)
{
    struct stat st;
    const char *ca = ca_file && *ca_file ? ca_file : "";
    const char *pn = pins ? pins : "";
    /* the file the bundle is read from (the system store's file when there is none) */
    if (stat(*ca ? ca : X509_get_default_cert_file(), &st) != 0)
        memset(&st, 0, sizeof st);
    pthread_mutex_lock(&trust_cache_mu);
    for (unsigned i = 0; i < TRUST_CACHE; i++)
        if (trust_cache[i].t && strcmp(trust_cache[i].ca, ca) == 0 &&
            strcmp(trust_cache[i].pins, pn) == 0 && same_file(&trust_cache[i].st, &st)) {
            struct ps_verify_trust *t = trust_cache[i].t;
            ps_verify_trust_ref(t);
            pthread_mutex_unlock(&trust_cache_mu);
            return t;
        }
    pthread_mutex_unlock(&trust_cache_mu);
    struct ps_verify_trust *t = ps_verify_trust_new(ca_file, pins, err);
    char *cs = strdup(ca), *ps = strdup(pn);
    if (!t || !cs || !ps) {
        free(cs);
        free(ps);
        return t; /* not cached, still usable */
    }
    pthread_mutex_lock(&trust_cache_mu);
    unsigned i = trust_cache_next++ % TRUST_CACHE;
    ps_verify_trust_unref(trust_cache[i].t);
    free(trust_cache[i].ca);
    free(trust_cache[i].pins);
    ps_verify_trust_ref(t);
    trust_cache[i].t = t;
    trust_cache[i].ca = cs;
    trust_cache[i].pins = ps;
    trust_cache[i].st = st;
    pthread_mutex_unlock(&trust_cache_mu);
    return t;
}

const char *
ps_verify_trust_key(const struct ps_verify_trust *t)
{
    return t->key;
}

/* ---- one check ------------------------------------------------------------------------------- */

static long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum ps_verify_verdict set(struct ps_verify_result *out, enum ps_verify_verdict v,
                                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum ps_verify_verdict
set(struct ps_verify_result *out, enum ps_verify_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
    out->verdict = v;
    return v;
}

/* Wait until fd is ready for ev or the deadline passes: 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short ev, long deadline)
{
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static void
describe_leaf(X509 *leaf, struct ps_verify_result *out)
{
    X509_NAME_oneline(X509_get_subject_name(leaf), out->subject, sizeof out->subject);
    X509_NAME_oneline(X509_get_issuer_name(leaf), out->issuer, sizeof out->issuer);
    const ASN1_TIME *na = X509_get0_notAfter(leaf);
    struct tm tm;
    if (na && ASN1_TIME_to_tm(na, &tm) == 1)
        out->not_after = timegm(&tm);
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    size_t off = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        int len = ASN1_STRING_length(g->d.dNSName);
        int n = snprintf(out->san + off, sizeof out->san - off, "%s%.*s", off ? "," : "", len,
                         (const char *)s);
        if (n < 0 || (size_t)n >= sizeof out->san - off) {
            out->san[off] = '\0';
            break;
        }
        off += (size_t)n;
    }
    GENERAL_NAMES_free(gens);
}

static bool
pin_matches(const struct ps_verify_trust *t, STACK_OF(X509) * chain)
{
    for (int i = 0; chain && i < sk_X509_num(chain); i++) {
        EVP_PKEY *pk = X509_get0_pubkey(sk_X509_value(chain, i));
        unsigned char *der = NULL;
        int len = pk ? i2d_PUBKEY(pk, &der) : -1;
        if (len <= 0)
            continue;
        unsigned char md[32];
        unsigned int mdlen = 0;
        int ok = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
        OPENSSL_free(der);
        for (size_t j = 0; ok && j < t->npins; j++)
            if (memcmp(md, t->pins[j], 32) == 0)
                return true;
    }
    return false;
}

/* After a complete handshake: the verdict from the chain, the name and the pins. */
static enum ps_verify_verdict
judge(SSL *ssl, const char *sni, struct ps_verify_trust *t, struct ps_verify_result *out)
{
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    if (!leaf)
        return set(out, PS_VERIFY_FAILED, "the server sent no certificate");
    describe_leaf(leaf, out);
    long vr = SSL_get_verify_result(ssl);
    if (t->npins) {
        if (X509_check_host(leaf, sni, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)
            return set(out, PS_VERIFY_NAME, "the certificate does not name %s", sni);
        if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0 ||
            X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
            return set(out, PS_VERIFY_FAILED, "the certificate is outside its validity");
        if (!pin_matches(t, SSL_get_peer_cert_chain(ssl)))
            return set(out, PS_VERIFY_PIN, "no certificate of the chain matches the pins");
        return set(out, PS_VERIFY_OK, "a pin matched");
    }
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH)
        return set(out, PS_VERIFY_NAME, "the certificate does not name %s", sni);
    if (vr != X509_V_OK)
        return set(out, PS_VERIFY_FAILED, "%s", X509_verify_cert_error_string(vr));
    return set(out, PS_VERIFY_OK, "chain and name verified");
}

static bool
valid_sni(const char *sni)
{
    size_t len = strlen(sni);
    if (!len || len > PS_VERIFY_MAX_NAME)
        return false;
    for (const char *p = sni; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
              *p == '_'))
            return false;
    return true;
}

/* ---- resolving a name within a deadline --------------------------------------------------- */

/* One lookup started with getaddrinfo_a. glibc's resolver has its own timeouts (resolv.conf:
 * 5 s per try by default), longer than a check may take, so the checking thread waits only until
 * its deadline. A lookup still running then is abandoned: its completion (on glibc's
 * notification thread) frees it, since nobody waits for it any more. */
struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, abandoned;
    char name[256];
};

static void
lookup_free(struct lookup *l)
{
    if (l->cb.ar_result != NULL)
        freeaddrinfo(l->cb.ar_result);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void
lookup_done(union sigval sv)
{
    struct lookup *l = sv.sival_ptr;
    bool abandoned;

    pthread_mutex_lock(&l->mu);
    l->done = true;
    abandoned = l->abandoned;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (abandoned)
        lookup_free(l);
}

/* Resolve name (TCP addresses, any family) by deadline_ms (now_ms() time). Returns 0 and *out
 * (free with freeaddrinfo), EAI_AGAIN when the deadline passed first, or another EAI_* code. */
static int
resolve(const char *name, long deadline_ms, struct addrinfo **out)
{
    struct lookup *l = calloc(1, sizeof(*l));
    struct gaicb *list[1];
    struct sigevent sev;
    struct timespec ts;
    long ms;
    int rc;

    *out = NULL;
    if (l == NULL)
        return EAI_MEMORY;
    snprintf(l->name, sizeof(l->name), "%s", name);
    l->hints.ai_socktype = SOCK_STREAM; /* no AI_ADDRCONFIG: it drops loopback-only hosts */
    l->cb.ar_name = l->name;
    l->cb.ar_request = &l->hints;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = lookup_done;
    sev.sigev_value.sival_ptr = l;
    list[0] = &l->cb;
    if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
        lookup_free(l);
        return rc;
    }
    ms = deadline_ms;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    pthread_mutex_lock(&l->mu);
    while (!l->done)
        if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT)
            break;
    if (!l->done) {
        l->abandoned = true; /* lookup_done frees it */
        pthread_mutex_unlock(&l->mu);
        return EAI_AGAIN;
    }
    pthread_mutex_unlock(&l->mu);
    rc = gai_error(&l->cb);
    if (rc == 0) {
        *out = l->cb.ar_result;
        l->cb.ar_result = NULL;
    }
    lookup_free(l);
    return rc;
}

enum ps_verify_verdict
ps_verify_run(const char *addr, unsigned port, const char *sni, struct ps_verify_trust *t,
              unsigned timeout_ms, struct ps_verify_result *out)
{
    memset(out, 0, sizeof *out);
    long start = now_ms(), deadline = start + (long)timeout_ms;
    enum ps_verify_verdict v;
    /* where to connect: one address for a literal, up to 8 a name resolves to */
    struct sockaddr_storage cand[8];
    socklen_t clen[8];
    size_t nc = 0;
    memset(cand, 0, sizeof cand);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&cand[0];
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cand[0];
    if (!sni || !valid_sni(sni))
        return set(out, PS_VERIFY_ERROR, "bad name to verify");
    if (!port || port > 65535)
        return set(out, PS_VERIFY_ERROR, "bad port %u", port);
    if (addr && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        clen[nc++] = sizeof *s4;
    } else if (addr && inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        clen[nc++] = sizeof *s6;
    } else if (addr && valid_sni(addr)) {
        /* A name (verify 'always' and a CONNECT by name): resolved here, on the checking
         * thread, within the check's deadline (resolve()); its addresses are tried in the
         * resolver's order until one accepts the TCP connection, as Squid tries them. */
        struct addrinfo *ai = NULL, *p;
        int gr = resolve(addr, deadline, &ai);
        if (gr == EAI_AGAIN && now_ms() >= deadline)
            return set(out, PS_VERIFY_TIMEOUT, "resolving %.64s took over %u ms", addr, timeout_ms);
        for (p = gr == 0 ? ai : NULL; p != NULL && nc < 8; p = p->ai_next) {
            if ((p->ai_family != AF_INET && p->ai_family != AF_INET6) ||
                p->ai_addrlen > sizeof cand[0])
                continue;
            memcpy(&cand[nc], p->ai_addr, p->ai_addrlen);
            if (p->ai_family == AF_INET)
                ((struct sockaddr_in *)&cand[nc])->sin_port = htons((uint16_t)port);
            else
                ((struct sockaddr_in6 *)&cand[nc])->sin6_port = htons((uint16_t)port);
            clen[nc++] = (socklen_t)p->ai_addrlen;
        }
        if (ai)
            freeaddrinfo(ai);
        if (nc == 0)
            return set(out, PS_VERIFY_CONNECT, "cannot resolve %.64s: %s", addr,
                       gr ? gai_strerror(gr) : "no address");
        if (now_ms() >= deadline)
            return set(out, PS_VERIFY_TIMEOUT, "resolving %.64s took over %u ms", addr, timeout_ms);
    } else {
        return set(out, PS_VERIFY_ERROR, "'%.64s' is not an IP address or a host name",
                   addr ? addr : "");
    }

    int fd = -1;
    SSL *ssl = NULL;
    v = PS_VERIFY_CONNECT;
    for (size_t i = 0; i < nc; i++) {
        fd = socket(cand[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            v = set(out, PS_VERIFY_ERROR, "socket: %s", strerror(errno));
            goto done;
        }
        if (connect(fd, (struct sockaddr *)&cand[i], clen[i]) == 0)
            break;
        if (errno != EINPROGRESS) {
            v = set(out, PS_VERIFY_CONNECT, "connect: %s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w == 0) {
            v = set(out, PS_VERIFY_TIMEOUT, "no TCP connection within %u ms", timeout_ms);
            goto done;
        }
        int soerr = 0;
        socklen_t l = sizeof soerr;
        if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr) {
            v = set(out, PS_VERIFY_CONNECT, "connect: %s", strerror(soerr ? soerr : errno));
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    if (fd < 0)
        goto done;
    ssl = SSL_new(t->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
        SSL_set1_host(ssl, sni) != 1) {
        v = set(out, PS_VERIFY_ERROR, "OpenSSL set-up failed");
        goto done;
    }
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        int w;
        if (e == SSL_ERROR_WANT_READ)
            w = wait_fd(fd, POLLIN, deadline);
        else if (e == SSL_ERROR_WANT_WRITE)
            w = wait_fd(fd, POLLOUT, deadline);
        else {
            unsigned long le = ERR_peek_error();
            v = set(out, PS_VERIFY_HANDSHAKE, "TLS handshake failed: %s",
                    le ? ERR_reason_error_string(le)
                       : (e == SSL_ERROR_SYSCALL ? "connection closed" : "protocol error"));
            goto done;
        }
        if (w == 0) {
            v = set(out, PS_VERIFY_TIMEOUT, "no TLS handshake within %u ms", timeout_ms);
            goto done;
        }
        if (w < 0) {
            v = set(out, PS_VERIFY_HANDSHAKE, "poll: %s", strerror(errno));
            goto done;
        }
    }
    v = judge(ssl, sni, t, out);
    SSL_shutdown(ssl); /* one close_notify, not waited for */
done:
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    out->elapsed_ms = now_ms() - start;
    return v;
}

/* ---- the verifier ---------------------------------------------------------------------------- */

struct waiter {
    struct waiter *next;
    ps_verify_done_fn *done;
    void *ud;
};

struct entry {
    char *key; /* addr \n port \n sni \n trust key */
    unsigned long hash;
    bool pending; /* a check is queued or running */
    long expires; /* monotonic ms, for a finished entry */
    struct ps_verify_result result;
    struct waiter *waiters;
    struct entry *lru_prev, *lru_next; /* finished entries only, most recent first */
    struct entry *q_next;              /* the job queue */
    /* the job */
    char addr[PS_VERIFY_MAX_NAME + 1]; /* an IP literal, or a name to resolve ('always') */
    unsigned port;
    char sni[PS_VERIFY_MAX_NAME + 1];
    unsigned timeout_ms;
    struct ps_verify_trust *trust;
};

struct ps_verifier {
    struct ps_verifier_conf conf;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    OPENSSL_LHASH *table;
    struct entry *lru_head, *lru_tail;
    struct entry *q_head, *q_tail;
    unsigned entries, inflight;
    bool stopping;
    pthread_t *threads;
    unsigned nthreads;
    struct ps_verifier_stats st;
};

static unsigned long
entry_hash(const void *p)
{
    return ((const struct entry *)p)->hash;
}

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static unsigned long
fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (unsigned long)(h ^ (h >> 32));
}

static void
lru_unlink(struct ps_verifier *v, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else if (v->lru_head == e)
        v->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else if (v->lru_tail == e)
        v->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void
lru_front(struct ps_verifier *v, struct entry *e)
{
    e->lru_next = v->lru_head;
    e->lru_prev = NULL;
    if (v->lru_head)
        v->lru_head->lru_prev = e;
    v->lru_head = e;
    if (!v->lru_tail)
        v->lru_tail = e;
}

static void
entry_free(struct entry *e)
{
    ps_verify_trust_unref(e->trust);
    free(e->key);
    free(e);
}

/* Drop a finished entry (lock held). */
static void
entry_drop(struct ps_verifier *v, struct entry *e)
{
    lru_unlink(v, e);
    OPENSSL_LH_delete(v->table, e);
    v->entries--;
    entry_free(e);
}

static void
finish(struct ps_verifier *v, struct entry *e, const struct ps_verify_result *r)
{
    pthread_mutex_lock(&v->mu);
    e->result = *r;
    e->pending = false;
    long ttl =
        (r->verdict == PS_VERIFY_OK ? (long)v->conf.ok_ttl_s : (long)v->conf.fail_ttl_s) * 1000;
    if (r->verdict == PS_VERIFY_OK) {
        long left = (long)(r->not_after - time(NULL)) * 1000;
        if (left < ttl)
            ttl = left > 0 ? left : 0;
    }
    e->expires = now_ms() + ttl;
    struct waiter *w = e->waiters;
    e->waiters = NULL;
    v->inflight--;
    v->st.by_verdict[r->verdict < PS_VERIFY_NVERDICTS ? r->verdict : PS_VERIFY_ERROR]++;
    ps_verify_trust_unref(e->trust);
    e->trust = NULL;
    lru_front(v, e);
    pthread_mutex_unlock(&v->mu);
    while (w) {
        struct waiter *next = w->next;
        w->done(w->ud, r);
        free(w);
        w = next;
    }
}

static void *
worker(void *arg)
{
    struct ps_verifier *v = arg;
    for (;;) {
        pthread_mutex_lock(&v->mu);
        while (!v->q_head && !v->stopping)
            pthread_cond_wait(&v->cv, &v->mu);
        if (v->stopping) {
            pthread_mutex_unlock(&v->mu);
            return NULL;
        }
        struct entry *e = v->q_head;
        v->q_head = e->q_next;
        if (!v->q_head)
            v->q_tail = NULL;
        e->q_next = NULL;
        v->st.checks++;
        pthread_mutex_unlock(&v->mu);
        struct ps_verify_result r;
        ps_verify_run(e->addr, e->port, e->sni, e->trust, e->timeout_ms, &r);
        finish(v, e, &r);
    }
}

struct ps_verifier *
ps_verifier_new(const struct ps_verifier_conf *conf, struct ps_err *err)
{
    struct ps_verifier *v = calloc(1, sizeof *v);
    if (!v) {
        ps_err_set(err, PS_ENOMEM, "out of memory");
        return NULL;
    }
    if (conf)
        v->conf = *conf;
    if (!v->conf.threads)
        v->conf.threads = 4;
    if (!v->conf.max_inflight)
        v->conf.max_inflight = 64;
    if (!v->conf.timeout_ms)
        v->conf.timeout_ms = 3000;
    if (!v->conf.ok_ttl_s)
        v->conf.ok_ttl_s = 300;
    if (!v->conf.fail_ttl_s)
        v->conf.fail_ttl_s = 30;
    if (!v->conf.max_entries)
        v->conf.max_entries = 4096;
    if (v->conf.max_entries < v->conf.max_inflight)
        v->conf.max_entries = v->conf.max_inflight;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    v->table = OPENSSL_LH_new(entry_hash, entry_cmp);
    v->threads = calloc(v->conf.threads, sizeof *v->threads);
    if (!v->table || !v->threads) {
        ps_err_set(err, PS_ENOMEM, "out of memory");
        ps_verifier_free(v);
        return NULL;
    }
    /* The workers write to servers that may have gone: they run with SIGPIPE blocked (the
     * threads inherit the mask), so a write to a closed connection is EPIPE, not a dead helper. */
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    int rc = 0;
    for (; v->nthreads < v->conf.threads && rc == 0; v->nthreads++)
        rc = pthread_create(&v->threads[v->nthreads], NULL, worker, v);
    if (rc != 0)
        v->nthreads--;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ps_err_set(err, PS_ENOMEM, "cannot start a verification thread");
        ps_verifier_free(v);
        return NULL;
    }
    return v;
}

void
ps_verifier_free(struct ps_verifier *v)
{
    if (!v)
        return;
    pthread_mutex_lock(&v->mu);
    v->stopping = true;
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
    for (unsigned i = 0; i < v->nthreads; i++)
        pthread_join(v->threads[i], NULL);
    /* Queued, never started: answer them, then everything is finished and in the LRU list. */
    while (v->q_head) {
        struct entry *e = v->q_head;
        v->q_head = e->q_next;
        struct ps_verify_result r = {.verdict = PS_VERIFY_ERROR};
        snprintf(r.detail, sizeof r.detail, "the verifier stopped");
        finish(v, e, &r);
    }
    while (v->lru_head)
        entry_drop(v, v->lru_head);
    OPENSSL_LH_free(v->table);
    free(v->threads);
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

static bool
is_ip_literal(const char *addr)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1;
}

static enum ps_verify_submit
refuse(struct ps_verify_result *out, enum ps_verify_verdict vd, const char *why)
{
    memset(out, 0, sizeof *out);
    set(out, vd, "%s", why);
    return PS_VERIFY_REFUSED;
}

/* "ADDR\nPORT\nSNI\nTRUST" into buf (size bytes); returns its length, or 0 when it does not fit. */
static size_t
make_key(char *buf, size_t size, const char *addr, unsigned port, const char *sni, const char *tk)
{
    size_t la = strlen(addr), ls = strlen(sni), lt = strlen(tk), n = 0;
    char pb[8], *q = pb + sizeof pb;
    int lp;

    do { /* the port in decimal, without printf: this runs for every line that needs a check */
        *--q = (char)('0' + port % 10);
        port /= 10;
    } while (port && q > pb);
    lp = (int)(pb + sizeof pb - q);
    memmove(pb, q, (size_t)lp);
    if (la + (size_t)lp + ls + lt + 4 > size)
        return 0;
    memcpy(buf, addr, la);
    n = la;
    buf[n++] = '\n';
    memcpy(buf + n, pb, (size_t)lp);
    n += (size_t)lp;
    buf[n++] = '\n';
    memcpy(buf + n, sni, ls);
    n += ls;
    buf[n++] = '\n';
    memcpy(buf + n, tk, lt + 1);
    return n + lt;
}

bool
ps_verifier_cached(struct ps_verifier *v, const char *addr, unsigned port, const char *sni,
                   struct ps_verify_trust *t, enum ps_verify_verdict *verdict)
{
    char buf[1024];
    bool hit = false;

    if (!v || !addr || !sni || !t ||
        !make_key(buf, sizeof buf, addr, port, sni, ps_verify_trust_key(t)))
        return false; /* a key this long takes ps_verifier_submit's path */
    struct entry probe = {.key = buf, .hash = fnv(buf)};
    pthread_mutex_lock(&v->mu);
    struct entry *e = OPENSSL_LH_retrieve(v->table, &probe);
    if (e && !e->pending && e->expires > now_ms()) {
        *verdict = e->result.verdict;
        lru_unlink(v, e);
        lru_front(v, e);
        v->st.cache_hits++;
        hit = true;
    }
    pthread_mutex_unlock(&v->mu);
    return hit;
}

enum ps_verify_submit
ps_verifier_submit(struct ps_verifier *v, const char *addr, unsigned port, const char *sni,
                   struct ps_verify_trust *t, unsigned timeout_ms, ps_verify_done_fn *done,
                   void *ud, struct ps_verify_result *out)
{
    if (!v || !addr || !sni || !t || !done || strlen(addr) >= sizeof((struct entry *)0)->addr ||
        !valid_sni(sni) || !port || port > 65535 || !(is_ip_literal(addr) || valid_sni(addr)))
        return refuse(out, PS_VERIFY_ERROR, "bad verification request");
    const char *tk = ps_verify_trust_key(t);
    size_t klen = strlen(addr) + 6 + strlen(sni) + strlen(tk) + 4;
    char *key = malloc(klen);
    struct waiter *w = malloc(sizeof *w);
    if (!key || !w) {
        free(key);
        free(w);
        return refuse(out, PS_VERIFY_ERROR, "out of memory");
    }
    make_key(key, klen, addr, port, sni, tk);
    w->done = done;
    w->ud = ud;
    struct entry probe = {.key = key, .hash = fnv(key)};

    pthread_mutex_lock(&v->mu);
    struct entry *e = OPENSSL_LH_retrieve(v->table, &probe);
    if (e && !e->pending && e->expires <= now_ms()) {
        entry_drop(v, e);
        e = NULL;
    }
    if (e && !e->pending) {
        *out = e->result;
        lru_unlink(v, e);
        lru_front(v, e);
        v->st.cache_hits++;
        pthread_mutex_unlock(&v->mu);
        free(key);
        free(w);
        return PS_VERIFY_CACHED;
    }
    if (e) { /* a check in flight: join it */
        w->next = e->waiters;
        e->waiters = w;
        v->st.shared++;
        pthread_mutex_unlock(&v->mu);
        free(key);
        return PS_VERIFY_QUEUED;
    }
    if (v->inflight >= v->conf.max_inflight || v->stopping) {
        v->st.busy++;
        pthread_mutex_unlock(&v->mu);
        free(key);
        free(w);
        return refuse(out, PS_VERIFY_BUSY, "too many checks in flight");
    }
    while (v->entries >= v->conf.max_entries && v->lru_tail) {
        entry_drop(v, v->lru_tail);
        v->st.evicted++;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&v->mu);
        free(key);
        free(w);
        return refuse(out, PS_VERIFY_ERROR, "out of memory");
    }
    e->key = key;
    e->hash = probe.hash;
    e->pending = true;
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    e->port = port;
    e->timeout_ms = timeout_ms ? timeout_ms : v->conf.timeout_ms;
    snprintf(e->sni, sizeof e->sni, "%s", sni);
    ps_verify_trust_ref(t);
    e->trust = t;
    w->next = NULL;
    e->waiters = w;
    OPENSSL_LH_insert(v->table, e);
    if (OPENSSL_LH_error(v->table)) {
        OPENSSL_LH_delete(v->table, e);
        pthread_mutex_unlock(&v->mu);
        free(w);
        entry_free(e);
        return refuse(out, PS_VERIFY_ERROR, "out of memory");
    }
    v->entries++;
    v->inflight++;
    if (v->q_tail)
        v->q_tail->q_next = e;
    else
        v->q_head = e;
    v->q_tail = e;
    pthread_cond_signal(&v->cv);
    pthread_mutex_unlock(&v->mu);
    return PS_VERIFY_QUEUED;
}

void
ps_verifier_stats(struct ps_verifier *v, struct ps_verifier_stats *out)
{
    pthread_mutex_lock(&v->mu);
    *out = v->st;
    out->entries = v->entries;
    out->inflight = v->inflight;
    pthread_mutex_unlock(&v->mu);
}
