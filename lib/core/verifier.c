/* The verifier: worker threads that run server checks (verify_check.c), a bounded cache of
 * results, one check shared by every request for the same target, a bound on checks in flight.
 * ps_verifier_submit never waits on the network. See verify.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <openssl/lhash.h>

#include "err.h"
#include "verify.h"
#include "verify_int.h"

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
    e->expires = ps_verify_now_ms() + ttl;
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
    ps_verify_set(out, vd, "%s", why);
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
    if (e && !e->pending && e->expires > ps_verify_now_ms()) {
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
        !ps_verify_valid_sni(sni) || !port || port > 65535 || !(is_ip_literal(addr) || ps_verify_valid_sni(addr)))
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
    if (e && !e->pending && e->expires <= ps_verify_now_ms()) {
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
