/*
 * lib/core/verify.c against real TLS servers on 127.0.0.1: certificates made by the openssl command
 * (a genuine CA and an attacker's CA, both naming www.zoom.us), servers run by OpenSSL in a thread
 * of this test that count their handshakes, a port that accepts and never answers, a closed port.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "err.h"
#include "verify.h"

static char dir[] = "/tmp/test_verify.XXXXXX";

/* ---- certificates ---------------------------------------------------------------------------- */

static void
sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_verify: failed: %s\n", cmd);
        exit(1);
    }
}

/* A CA named ca, and a leaf for name signed by it: dir/ca.pem, dir/leaf.pem, dir/leaf.key. */
static void
make_pki(const char *ca, const char *leaf, const char *name)
{
    sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
       "-subj '/CN=%s' -keyout %s.key -out %s.pem "
       "-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign "
       ">/dev/null 2>&1",
       dir, ca, ca, ca);
    sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=%s' "
       "-keyout %s.key -out %s.csr >/dev/null 2>&1 && printf 'subjectAltName=DNS:%s\\n' >%s.ext && "
       "openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 1 "
       "-extfile %s.ext -out %s.pem >/dev/null 2>&1",
       dir, name, leaf, leaf, name, leaf, leaf, ca, ca, leaf, leaf);
}

/* sha256//BASE64 of a certificate's SubjectPublicKeyInfo, as curl's --pinnedpubkey takes it. */
static void
spki_pin(const char *leaf, char *out, size_t len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && openssl x509 -in %s.pem -pubkey -noout | openssl pkey -pubin -outform der "
             "| openssl dgst -sha256 -binary | openssl base64",
             dir, leaf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    strcpy(out, "sha256//");
    assert_non_null(fgets(out + 8, (int)(len - 8), p));
    out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* ---- servers --------------------------------------------------------------------------------- */

struct server {
    int lfd;
    unsigned port;
    SSL_CTX *ctx; /* NULL: accept and never answer */
    pthread_t th;
    pthread_mutex_t mu;
    int handshakes, accepted;
    int held[64];
    int nheld;
    volatile int stop;
    volatile int paused; /* accept nothing meanwhile (the kernel still completes TCP) */
};

static void *
serve(void *arg)
{
    struct server *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (s->paused || poll(&p, 1, s->paused ? 0 : 50) <= 0) {
            if (s->paused)
                usleep(5000);
            continue;
        }
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->accepted++;
        pthread_mutex_unlock(&s->mu);
        if (!s->ctx) {
            if (s->nheld < 64)
                s->held[s->nheld++] = fd;
            else
                close(fd);
            continue;
        }
        SSL *ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            pthread_mutex_lock(&s->mu);
            s->handshakes++;
            pthread_mutex_unlock(&s->mu);
            char buf[256];
            while (SSL_read(ssl, buf, sizeof buf) > 0) /* until the client's close_notify */
                ;
        }
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
    }
    return NULL;
}

static int
listen_any(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void
server_start(struct server *s, const char *leaf)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->lfd = listen_any(&s->port);
    if (leaf) {
        char crt[512], key[512];
        snprintf(crt, sizeof crt, "%s/%s.pem", dir, leaf);
        snprintf(key, sizeof key, "%s/%s.key", dir, leaf);
        s->ctx = SSL_CTX_new(TLS_server_method());
        assert_int_equal(SSL_CTX_use_certificate_file(s->ctx, crt, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM), 1);
    }
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void
server_stop(struct server *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->nheld; i++)
        close(s->held[i]);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
}

static int
handshakes(struct server *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->handshakes;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The count once it reaches at least n (the server counts after its SSL_accept, which may return
 * after the client's check has already ended), waiting at most 2 s. */
static int
handshakes_at_least(struct server *s, int n)
{
    int c = handshakes(s);
    for (int i = 0; c < n && i < 200; i++) {
        usleep(10 * 1000);
        c = handshakes(s);
    }
    return c;
}

static struct server genuine, attacker, silent;
static unsigned closed_port;

static int
setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    make_pki("ca", "leaf", "www.zoom.us");
    make_pki("evilca", "evil", "www.zoom.us");
    server_start(&genuine, "leaf");
    server_start(&attacker, "evil");
    server_start(&silent, NULL);
    int fd = listen_any(&closed_port); /* a port that was free a moment ago, now closed */
    close(fd);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    server_stop(&genuine);
    server_stop(&attacker);
    server_stop(&silent);
    sh("rm -rf %s", dir);
    return 0;
}

static struct ps_verify_trust *
trust(const char *ca, const char *pins)
{
    char path[512];
    struct ps_err err = {0};
    if (ca)
        snprintf(path, sizeof path, "%s/%s.pem", dir, ca);
    struct ps_verify_trust *t = ps_verify_trust_new(ca ? path : NULL, pins, &err);
    if (!t)
        fail_msg("trust: %s", err.msg);
    return t;
}

/* ---- one check ------------------------------------------------------------------------------- */

static void
run_genuine_verified(void **state)
{
    (void)state;
    struct ps_verify_trust *t = trust("ca", NULL);
    struct ps_verify_result r;
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_OK);
    assert_string_equal(ps_verify_reason(r.verdict), "verified");
    assert_string_equal(r.san, "www.zoom.us");
    assert_non_null(strstr(r.subject, "CN=www.zoom.us"));
    assert_non_null(strstr(r.issuer, "CN=ca"));
    assert_true(r.not_after > time(NULL) && r.not_after < time(NULL) + 2 * 86400);
    /* a name (verify 'always'): resolved, its addresses tried until one connects ("localhost"
     * may give ::1 first, where nothing listens) */
    assert_int_equal(ps_verify_run("localhost", genuine.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_OK);
    ps_verify_trust_unref(t);
}

static void
run_attacker_failed(void **state)
{
    (void)state;
    struct ps_verify_trust *t = trust("ca", NULL);
    struct ps_verify_result r;
    assert_int_equal(ps_verify_run("127.0.0.1", attacker.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_FAILED);
    assert_string_equal(ps_verify_reason(r.verdict), "verify-failed");
    assert_non_null(strstr(r.issuer, "CN=evilca"));
    /* the system store does not know either test CA */
    ps_verify_trust_unref(t);
    t = trust(NULL, NULL);
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_FAILED);
    ps_verify_trust_unref(t);
}

static void
run_name_mismatch(void **state)
{
    (void)state;
    struct ps_verify_trust *t = trust("ca", NULL);
    struct ps_verify_result r;
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "zoom.us", t, 3000, &r),
                     PS_VERIFY_NAME);
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "x.www.zoom.us", t, 3000, &r),
                     PS_VERIFY_NAME);
    assert_string_equal(ps_verify_reason(r.verdict), "verify-name");
    ps_verify_trust_unref(t);
}

static void
run_timeout_and_connect(void **state)
{
    (void)state;
    struct ps_verify_trust *t = trust("ca", NULL);
    struct ps_verify_result r;
    assert_int_equal(ps_verify_run("127.0.0.1", silent.port, "www.zoom.us", t, 300, &r),
                     PS_VERIFY_TIMEOUT);
    assert_true(r.elapsed_ms >= 290 && r.elapsed_ms < 1500);
    assert_int_equal(ps_verify_run("127.0.0.1", closed_port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_CONNECT);
    assert_non_null(strstr(r.detail, "refused"));
    ps_verify_trust_unref(t);
}

static void
run_bad_input(void **state)
{
    (void)state;
    struct ps_verify_trust *t = trust("ca", NULL);
    struct ps_verify_result r;
    /* neither an IP literal nor a host name (a name is resolved: verify 'always') */
    assert_int_equal(ps_verify_run("www zoom us", 443, "www.zoom.us", t, 100, &r), PS_VERIFY_ERROR);
    assert_int_equal(ps_verify_run("WWW.ZOOM.US", 443, "www.zoom.us", t, 100, &r), PS_VERIFY_ERROR);
    assert_int_equal(ps_verify_run("127.0.0.1", 0, "www.zoom.us", t, 100, &r), PS_VERIFY_ERROR);
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "WWW.ZOOM.US", t, 100, &r),
                     PS_VERIFY_ERROR);
    assert_int_equal(ps_verify_run("127.0.0.1", genuine.port, "", t, 100, &r), PS_VERIFY_ERROR);
    ps_verify_trust_unref(t);
}

static void
pins(void **state)
{
    (void)state;
    char pin[128], other[128];
    spki_pin("evil", pin, sizeof pin);
    spki_pin("leaf", other, sizeof other);
    struct ps_verify_result r;
    /* the attacker's own key pinned: a private-CA app trusted by its pin */
    struct ps_verify_trust *t = trust(NULL, pin);
    assert_int_equal(ps_verify_run("127.0.0.1", attacker.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_OK);
    /* a pin is not a name: the name still has to match */
    assert_int_equal(ps_verify_run("127.0.0.1", attacker.port, "zoom.us", t, 3000, &r),
                     PS_VERIFY_NAME);
    ps_verify_trust_unref(t);
    t = trust(NULL, other);
    assert_int_equal(ps_verify_run("127.0.0.1", attacker.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_PIN);
    ps_verify_trust_unref(t);
    /* pins in hex as well, and several */
    t = trust(NULL, "0000000000000000000000000000000000000000000000000000000000000000, sha256//"
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_int_equal(ps_verify_run("127.0.0.1", attacker.port, "www.zoom.us", t, 3000, &r),
                     PS_VERIFY_PIN);
    ps_verify_trust_unref(t);
}

static void
trust_errors(void **state)
{
    (void)state;
    struct ps_err err = {0};
    assert_null(ps_verify_trust_new("/nonexistent/ca.pem", NULL, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));
    assert_null(ps_verify_trust_new(NULL, "sha256//tooshort=", &err));
    assert_non_null(strstr(err.msg, "bad pin 'sha256//tooshort='"));
    assert_null(ps_verify_trust_new(
        NULL, "zz00000000000000000000000000000000000000000000000000000000000000", &err));
    assert_non_null(strstr(err.msg, "bad pin"));
    /* the key names the content, so a reload with the same settings shares cached results */
    struct ps_verify_trust *a = trust("ca", NULL), *b = trust("ca", NULL), *c = trust(NULL, NULL);
    assert_string_equal(ps_verify_trust_key(a), ps_verify_trust_key(b));
    assert_string_not_equal(ps_verify_trust_key(a), ps_verify_trust_key(c));
    ps_verify_trust_unref(a);
    ps_verify_trust_unref(b);
    ps_verify_trust_unref(c);
}

/* ---- the verifier ---------------------------------------------------------------------------- */

struct sink {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    enum ps_verify_verdict last;
};

static void
on_done(void *ud, const struct ps_verify_result *r)
{
    struct sink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    s->last = r->verdict;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void
sink_init(struct sink *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
}

/* Wait (at most 5 s) until the sink has had n calls. */
static int
sink_wait(struct sink *s, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&s->mu);
    while (s->calls < n)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
            break;
    int c = s->calls;
    pthread_mutex_unlock(&s->mu);
    return c;
}

static void
verifier_shares_and_caches(void **state)
{
    (void)state;
    struct ps_verifier_conf conf = {.threads = 2, .timeout_ms = 2000};
    struct ps_err err = {0};
    struct ps_verifier *v = ps_verifier_new(&conf, &err);
    assert_non_null(v);
    struct ps_verify_trust *t = trust("ca", NULL);
    struct sink s;
    sink_init(&s);
    struct ps_verify_result r;
    int before = handshakes(&genuine);
    /* three requests for the same (address, port, name, trust) while the first check is in
     * flight (the server holds its handshake until all three are in): one check */
    genuine.paused = 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            ps_verifier_submit(v, "127.0.0.1", genuine.port, "www.zoom.us", t, 0, on_done, &s, &r),
            PS_VERIFY_QUEUED);
    genuine.paused = 0;
    assert_int_equal(sink_wait(&s, 3), 3);
    assert_int_equal(s.last, PS_VERIFY_OK);
    /* within the cache time: answered at once, no new handshake */
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", genuine.port, "www.zoom.us", t, 0, on_done, &s, &r),
        PS_VERIFY_CACHED);
    assert_int_equal(r.verdict, PS_VERIFY_OK);
    assert_int_equal(handshakes_at_least(&genuine, before + 1) - before, 1);
    /* another name is another check */
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", genuine.port, "zoom.us", t, 0, on_done, &s, &r),
        PS_VERIFY_QUEUED);
    assert_int_equal(sink_wait(&s, 4), 4);
    assert_int_equal(s.last, PS_VERIFY_NAME);
    struct ps_verifier_stats st;
    ps_verifier_stats(v, &st);
    assert_int_equal(st.checks, 2);
    assert_int_equal(st.shared, 2);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.by_verdict[PS_VERIFY_OK], 1);
    assert_int_equal(st.by_verdict[PS_VERIFY_NAME], 1);
    assert_int_equal(st.entries, 2);
    ps_verify_trust_unref(t); /* the verifier's entries hold no reference once finished */
    ps_verifier_free(v);
}

static void
verifier_failures_expire(void **state)
{
    (void)state;
    struct ps_verifier_conf conf = {.threads = 1, .fail_ttl_s = 1};
    struct ps_verifier *v = ps_verifier_new(&conf, NULL);
    struct ps_verify_trust *t = trust("ca", NULL);
    struct sink s;
    sink_init(&s);
    struct ps_verify_result r;
    int before = handshakes(&attacker);
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", attacker.port, "www.zoom.us", t, 0, on_done, &s, &r),
        PS_VERIFY_QUEUED);
    assert_int_equal(sink_wait(&s, 1), 1);
    assert_int_equal(s.last, PS_VERIFY_FAILED);
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", attacker.port, "www.zoom.us", t, 0, on_done, &s, &r),
        PS_VERIFY_CACHED);
    assert_int_equal(r.verdict, PS_VERIFY_FAILED);
    usleep(1100 * 1000);
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", attacker.port, "www.zoom.us", t, 0, on_done, &s, &r),
        PS_VERIFY_QUEUED);
    assert_int_equal(sink_wait(&s, 2), 2);
    assert_int_equal(handshakes_at_least(&attacker, before + 2) - before, 2);
    ps_verify_trust_unref(t);
    ps_verifier_free(v);
}

/* A check that hangs does not hold up others: the submit path answers at once (the helper
 * writes those answers out of order), and past the bound requests are refused as busy. */
static void
verifier_bounds_and_never_waits(void **state)
{
    (void)state;
    struct ps_verifier_conf conf = {
        .threads = 2, .max_inflight = 2, .timeout_ms = 600, .max_entries = 2};
    struct ps_verifier *v = ps_verifier_new(&conf, NULL);
    struct ps_verify_trust *t = trust("ca", NULL);
    struct sink hung, quick;
    sink_init(&hung);
    sink_init(&quick);
    struct ps_verify_result r;
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", silent.port, "www.zoom.us", t, 0, on_done, &hung, &r),
        PS_VERIFY_QUEUED);
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", genuine.port, "www.zoom.us", t, 0, on_done, &quick, &r),
        PS_VERIFY_QUEUED);
    /* the good check ends while the hung one still waits */
    assert_int_equal(sink_wait(&quick, 1), 1);
    assert_int_equal(quick.last, PS_VERIFY_OK);
    pthread_mutex_lock(&hung.mu);
    assert_int_equal(hung.calls, 0);
    pthread_mutex_unlock(&hung.mu);
    /* one slot left (the hung check holds the other): a third and a fourth key */
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", silent.port, "a.zoom.us", t, 0, on_done, &hung, &r),
        PS_VERIFY_QUEUED);
    assert_int_equal(
        ps_verifier_submit(v, "127.0.0.1", silent.port, "b.zoom.us", t, 0, on_done, &hung, &r),
        PS_VERIFY_REFUSED);
    assert_int_equal(r.verdict, PS_VERIFY_BUSY);
    assert_string_equal(ps_verify_reason(r.verdict), "verify-busy");
    assert_int_equal(sink_wait(&hung, 2), 2);
    assert_int_equal(hung.last, PS_VERIFY_TIMEOUT);
    struct ps_verifier_stats st;
    ps_verifier_stats(v, &st);
    assert_int_equal(st.busy, 1);
    assert_true(st.entries <= 2); /* the bound: the oldest result went */
    assert_true(st.evicted >= 1);
    assert_int_equal(st.inflight, 0);
    /* bad requests are refused, never queued */
    assert_int_equal(
        ps_verifier_submit(v, "www zoom us", 443, "www.zoom.us", t, 0, on_done, &hung, &r),
        PS_VERIFY_REFUSED);
    assert_int_equal(r.verdict, PS_VERIFY_ERROR);
    assert_int_equal(ps_verifier_submit(v, "127.0.0.1", 443, "Bad Name", t, 0, on_done, &hung, &r),
                     PS_VERIFY_REFUSED);
    assert_int_equal(r.verdict, PS_VERIFY_ERROR);
    ps_verify_trust_unref(t);
    ps_verifier_free(v);
}

int
main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the test's servers and ps_verify_run() write to closed peers */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_genuine_verified),
        cmocka_unit_test(run_attacker_failed),
        cmocka_unit_test(run_name_mismatch),
        cmocka_unit_test(run_timeout_and_connect),
        cmocka_unit_test(run_bad_input),
        cmocka_unit_test(pins),
        cmocka_unit_test(trust_errors),
        cmocka_unit_test(verifier_shares_and_caches),
        cmocka_unit_test(verifier_failures_expire),
        cmocka_unit_test(verifier_bounds_and_never_waits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
