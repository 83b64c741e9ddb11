/* One server check before a splice (ps_verify_run): connect, TLS handshake with the SNI, verify
 * the chain and the name, or match a pin. Blocking up to its timeout. See verify.h. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "verify.h"
#include "verify_int.h"

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

long
ps_verify_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ps_verify_verdict
ps_verify_set(struct ps_verify_result *out, enum ps_verify_verdict v, const char *fmt, ...)
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
        long left = deadline - ps_verify_now_ms();
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
        return ps_verify_set(out, PS_VERIFY_FAILED, "the server sent no certificate");
    describe_leaf(leaf, out);
    long vr = SSL_get_verify_result(ssl);
    if (t->npins) {
        if (X509_check_host(leaf, sni, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1)
            return ps_verify_set(out, PS_VERIFY_NAME, "the certificate does not name %s", sni);
        if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0 ||
            X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
            return ps_verify_set(out, PS_VERIFY_FAILED, "the certificate is outside its validity");
        if (!pin_matches(t, SSL_get_peer_cert_chain(ssl)))
            return ps_verify_set(out, PS_VERIFY_PIN, "no certificate of the chain matches the pins");
        return ps_verify_set(out, PS_VERIFY_OK, "a pin matched");
    }
    if (vr == X509_V_ERR_HOSTNAME_MISMATCH)
        return ps_verify_set(out, PS_VERIFY_NAME, "the certificate does not name %s", sni);
    if (vr != X509_V_OK)
        return ps_verify_set(out, PS_VERIFY_FAILED, "%s", X509_verify_cert_error_string(vr));
    return ps_verify_set(out, PS_VERIFY_OK, "chain and name verified");
}

bool
ps_verify_valid_sni(const char *sni)
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


enum ps_verify_verdict
ps_verify_run(const char *addr, unsigned port, const char *sni, struct ps_verify_trust *t,
              unsigned timeout_ms, struct ps_verify_result *out)
{
    memset(out, 0, sizeof *out);
    long start = ps_verify_now_ms(), deadline = start + (long)timeout_ms;
    enum ps_verify_verdict v;
    /* where to connect: one address for a literal, up to 8 a name resolves to */
    struct sockaddr_storage cand[8];
    socklen_t clen[8];
    size_t nc = 0;
    memset(cand, 0, sizeof cand);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&cand[0];
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cand[0];
    if (!sni || !ps_verify_valid_sni(sni))
        return ps_verify_set(out, PS_VERIFY_ERROR, "bad name to verify");
    if (!port || port > 65535)
        return ps_verify_set(out, PS_VERIFY_ERROR, "bad port %u", port);
    if (addr && inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        clen[nc++] = sizeof *s4;
    } else if (addr && inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        clen[nc++] = sizeof *s6;
    } else if (addr && ps_verify_valid_sni(addr)) {
        /* A name (verify 'always' and a CONNECT by name): resolved here, on the checking
         * thread, within the check's deadline (ps_verify_resolve()); its addresses are tried in
         * the resolver's order until one accepts the TCP connection, as Squid tries them. */
        struct addrinfo *ai = NULL, *p;
        int gr = ps_verify_resolve(addr, deadline, &ai);
        if (gr == EAI_AGAIN && ps_verify_now_ms() >= deadline)
            return ps_verify_set(out, PS_VERIFY_TIMEOUT, "resolving %.64s took over %u ms", addr, timeout_ms);
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
            return ps_verify_set(out, PS_VERIFY_CONNECT, "cannot resolve %.64s: %s", addr,
                       gr ? gai_strerror(gr) : "no address");
        if (ps_verify_now_ms() >= deadline)
            return ps_verify_set(out, PS_VERIFY_TIMEOUT, "resolving %.64s took over %u ms", addr, timeout_ms);
    } else {
        return ps_verify_set(out, PS_VERIFY_ERROR, "'%.64s' is not an IP address or a host name",
                   addr ? addr : "");
    }

    int fd = -1;
    SSL *ssl = NULL;
    v = PS_VERIFY_CONNECT;
    for (size_t i = 0; i < nc; i++) {
        fd = socket(cand[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            v = ps_verify_set(out, PS_VERIFY_ERROR, "socket: %s", strerror(errno));
            goto done;
        }
        if (connect(fd, (struct sockaddr *)&cand[i], clen[i]) == 0)
            break;
        if (errno != EINPROGRESS) {
            v = ps_verify_set(out, PS_VERIFY_CONNECT, "connect: %s", strerror(errno));
            close(fd);
            fd = -1;
            continue;
        }
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w == 0) {
            v = ps_verify_set(out, PS_VERIFY_TIMEOUT, "no TCP connection within %u ms", timeout_ms);
            goto done;
        }
        int soerr = 0;
        socklen_t l = sizeof soerr;
        if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l) != 0 || soerr) {
            v = ps_verify_set(out, PS_VERIFY_CONNECT, "connect: %s", strerror(soerr ? soerr : errno));
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
        v = ps_verify_set(out, PS_VERIFY_ERROR, "OpenSSL set-up failed");
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
            v = ps_verify_set(out, PS_VERIFY_HANDSHAKE, "TLS handshake failed: %s",
                    le ? ERR_reason_error_string(le)
                       : (e == SSL_ERROR_SYSCALL ? "connection closed" : "protocol error"));
            goto done;
        }
        if (w == 0) {
            v = ps_verify_set(out, PS_VERIFY_TIMEOUT, "no TLS handshake within %u ms", timeout_ms);
            goto done;
        }
        if (w < 0) {
            v = ps_verify_set(out, PS_VERIFY_HANDSHAKE, "poll: %s", strerror(errno));
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
    out->elapsed_ms = ps_verify_now_ms() - start;
    return v;
}

