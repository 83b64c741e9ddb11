#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logcount.h"
#include "logkey.h"
#include "logfigures.h"
#include "logline.h"
#include "logtab.h"
#include "tlsalert.h"

#define PEER_MAX 63 /* longest "address:port" tracked for correlation */

/* A bumped connection whose handshake completed, waiting for its first request. */
struct pending {
    struct pending *prev, *next; /* FIFO in arrival order, for expiry */
    struct ps_ls_name *name;
    struct ps_ls_client *client;
    struct ps_ls_monitor *mon; /* the monitor rule that matched it, or NULL */
    int64_t t_ms;
    size_t addr_len; /* the address part of the key ("address:port") */
};

struct ps_logcount {
    int64_t window_ms;
    size_t max_pending;
    struct ps_ls_input *in; /* the scanner's input figures, for the counters kept here */
    struct ps_logtab *names, *clients, *rules, *monitors, *pending, *splices;
    struct pending fifo; /* sentinel */
    struct ps_ls_counts total;
    int64_t now_ms; /* latest record time seen */
    size_t n_failinfo;
};

struct ps_logcount *
ps_logcount_new(int64_t window_ms, size_t max_pending, struct ps_ls_input *in)
{
    struct ps_logcount *lc = calloc(1, sizeof(*lc));

    if (lc == NULL)
        return NULL;
    lc->window_ms = window_ms;
    lc->max_pending = max_pending > 0 ? max_pending : 1;
    lc->in = in;
    lc->fifo.prev = lc->fifo.next = &lc->fifo;
    lc->names = ps_logtab_new(sizeof(struct ps_ls_name));
    lc->clients = ps_logtab_new(sizeof(struct ps_ls_client));
    lc->rules = ps_logtab_new(sizeof(struct ps_ls_rule));
    lc->monitors = ps_logtab_new(sizeof(struct ps_ls_monitor));
    lc->pending = ps_logtab_new(sizeof(struct pending));
    lc->splices = ps_logtab_new(sizeof(int64_t));
    if (lc->names == NULL || lc->clients == NULL || lc->rules == NULL || lc->monitors == NULL ||
        lc->pending == NULL || lc->splices == NULL) {
        ps_logcount_free(lc);
        return NULL;
    }
    return lc;
}

void
ps_logcount_free(struct ps_logcount *lc)
{
    struct ps_ls_name *nm;
    size_t pos = 0;

    if (lc == NULL)
        return;
    if (lc->names != NULL) {
        while ((nm = ps_logtab_next(lc->names, &pos)) != NULL)
            free(nm->fail);
    }
    ps_logtab_free(lc->names);
    ps_logtab_free(lc->clients);
    ps_logtab_free(lc->rules);
    ps_logtab_free(lc->monitors);
    ps_logtab_free(lc->pending);
    ps_logtab_free(lc->splices);
    free(lc);
}

/* ---- counting ------------------------------------------------------------------------------- */

static void
seen(struct ps_ls_counts *c, int64_t t)
{
    if (c->first_ms == 0 || t < c->first_ms)
        c->first_ms = t;
    if (t > c->last_ms)
        c->last_ms = t;
}

/* Add to the three counter sets (total, name, client) at once. */
#define EACH(cs, stmt)                                                                             \
    do {                                                                                           \
        for (int k_ = 0; k_ < 3; k_++) {                                                           \
            struct ps_ls_counts *c = (cs)[k_];                                                     \
            stmt;                                                                                  \
        }                                                                                          \
    } while (0)

static void
add_bytes(struct ps_ls_counts *cs[3], enum ps_ls_action a, const struct ps_logline *l)
{
    uint64_t out = l->bytes_out > 0 ? (uint64_t)l->bytes_out : 0;
    uint64_t in = l->bytes_in > 0 ? (uint64_t)l->bytes_in : 0;

    EACH(cs, c->bytes_out[a] += out; c->bytes_in[a] += in; seen(c, l->time_ms));
}

static struct ps_ls_failinfo *
failinfo(struct ps_logcount *lc, struct ps_ls_name *nm)
{
    if (nm->fail == NULL && (nm->fail = calloc(1, sizeof(*nm->fail))) != NULL)
        lc->n_failinfo++;
    return nm->fail;
}

static void
fail_client(struct ps_ls_failinfo *fi, const char *addr, size_t len)
{
    uint64_t h = ps_logtab_hash(addr, len);
    uint32_t i, n = fi->n_clients < PS_LS_CLIENTS_TRACK ? fi->n_clients : PS_LS_CLIENTS_TRACK;

    for (i = 0; i < n; i++) {
        if (fi->client_hash[i] == h)
            return;
    }
    if (n == PS_LS_CLIENTS_TRACK) {
        fi->clients_capped = true;
        return;
    }
    fi->client_hash[fi->n_clients++] = h;
    if (fi->n_examples < PS_LS_EXAMPLES && len < PS_LS_ADDR_MAX) {
        memcpy(fi->example[fi->n_examples], addr, len);
        fi->example[fi->n_examples++][len] = '\0';
    }
}

static void
fail_alert(struct ps_ls_failinfo *fi, int alert)
{
    uint8_t i;

    for (i = 0; i < fi->n_alerts; i++) {
        if (fi->alert[i] == alert) {
            fi->alert_count[i]++;
            return;
        }
    }
    if (fi->n_alerts < PS_LS_ALERTS) {
        fi->alert[fi->n_alerts] = (uint8_t)alert;
        fi->alert_count[fi->n_alerts++] = 1;
    }
}

/* A bumped connection the client abandoned. The counts are made first, so they hold even when
 * the name's failure details cannot be allocated. Returns 0 or PS_ENOMEM (details lost). */
static int
fail(struct ps_logcount *lc, struct ps_ls_name *nm, struct ps_ls_client *cl,
     struct ps_ls_monitor *mon, enum ps_ls_fail kind, const char *addr, size_t addr_len, int64_t t,
     int alert)
{
    struct ps_ls_failinfo *fi;

    if (mon != NULL)
        mon->abandoned++;
    lc->total.fails[kind]++;
    nm->c.fails[kind]++;
    cl->c.fails[kind]++;
    if ((fi = failinfo(lc, nm)) == NULL)
        return PS_ENOMEM;
    if (fi->first_ms == 0 || t < fi->first_ms)
        fi->first_ms = t;
    if (t > fi->last_ms)
        fi->last_ms = t;
    fail_client(fi, addr, addr_len);
    if (kind == PS_LS_FAIL_ALERT)
        fail_alert(fi, alert);
    return 0;
}

/* ---- connections waiting for their first request ----------------------------------------------
 */

/* Judge a waiting connection: ok (a request came) or "no request"; unlink and forget it. */
static int
judge(struct ps_logcount *lc, struct pending *p, bool ok)
{
    char key[PEER_MAX + 1];
    size_t len;
    const char *k = ps_logtab_key(lc->pending, p, &len);
    int rc = 0;

    memcpy(key, k, len);
    if (ok) {
        lc->total.bump_ok++;
        p->name->c.bump_ok++;
        p->client->c.bump_ok++;
        if (p->mon != NULL)
            p->mon->carried++;
    } else {
        rc = fail(lc, p->name, p->client, p->mon, PS_LS_FAIL_NOREQ, key, p->addr_len, p->t_ms, -1);
    }
    p->prev->next = p->next;
    p->next->prev = p->prev;
    ps_logtab_remove(lc->pending, key, len);
    return rc;
}

static int
expire(struct ps_logcount *lc)
{
    int rc;

    while (lc->fifo.next != &lc->fifo && lc->fifo.next->t_ms + lc->window_ms < lc->now_ms) {
        if ((rc = judge(lc, lc->fifo.next, false)) < 0)
            return rc;
    }
    return 0;
}

static int
wait_request(struct ps_logcount *lc, const struct ps_logline *l, struct ps_ls_name *nm,
             struct ps_ls_client *cl, struct ps_ls_monitor *mon)
{
    struct pending *p;
    bool created;
    int rc;

    if (l->peer.n > PEER_MAX) {
        lc->in->bump_unknown++;
        return 0;
    }
    /* The same ip:port again: the earlier connection has ended without a request. */
    if ((p = ps_logtab_find(lc->pending, l->peer.s, l->peer.n)) != NULL &&
        (rc = judge(lc, p, false)) < 0)
        return rc;
    if (ps_logtab_count(lc->pending) >= lc->max_pending) {
        lc->in->pending_early++;
        if ((rc = judge(lc, lc->fifo.next, false)) < 0)
            return rc;
    }
    if ((p = ps_logtab_get(lc->pending, l->peer.s, l->peer.n, &created)) == NULL)
        return PS_ENOMEM;
    *p = (struct pending){lc->fifo.prev, &lc->fifo, nm, cl, mon, l->time_ms, l->client.n};
    lc->fifo.prev->next = p;
    lc->fifo.prev = p;
    if (ps_logtab_count(lc->pending) > lc->in->pending_peak)
        lc->in->pending_peak = ps_logtab_count(lc->pending);
    return 0;
}

/* ---- records -------------------------------------------------------------------------------- */

static int
count_rule(struct ps_logcount *lc, const struct ps_logline *l, enum ps_ls_action a)
{
    struct ps_logstr key = ps_logkey_rule(l);
    struct ps_ls_rule *r;
    bool created;

    if ((r = ps_logtab_get(lc->rules, key.s, key.n, &created)) == NULL)
        return PS_ENOMEM;
    r->conns[a]++;
    if (r->first_ms == 0 || l->time_ms < r->first_ms)
        r->first_ms = l->time_ms;
    if (l->time_ms > r->last_ms)
        r->last_ms = l->time_ms;
    if (l->verify.n > 0) {
        int v = ps_logkey_verify(l->verify);

        if (v < 0) {
            lc->in->verify_other++;
        } else {
            lc->in->verify[v]++;
            r->verify[v]++;
        }
    }
    return 0;
}

/* The monitor rule a connection's record names, counted; NULL when none (or out of memory:
 * *rc then says so). */
static struct ps_ls_monitor *
count_monitor(struct ps_logcount *lc, const struct ps_logline *l, enum ps_ls_action a, int *rc)
{
    struct ps_ls_monitor *m;
    bool created;

    *rc = 0;
    if (l->monitor.n == 0 || l->monitor_rule.n == 0)
        return NULL;
    if ((m = ps_logtab_get(lc->monitors, l->monitor_rule.s, l->monitor_rule.n, &created)) == NULL) {
        *rc = PS_ENOMEM;
        return NULL;
    }
    m->would[ps_logkey_action(l->monitor)]++;
    m->conns[a]++;
    if (m->first_ms == 0 || l->time_ms < m->first_ms)
        m->first_ms = l->time_ms;
    if (l->time_ms > m->last_ms)
        m->last_ms = l->time_ms;
    return m;
}

static int
connection(struct ps_logcount *lc, const struct ps_logline *l, const struct ps_logformat *f,
           struct ps_ls_counts *cs[3], struct ps_ls_name *nm, struct ps_ls_client *cl)
{
    bool native = !(f->has & (1u << PS_LF_BUMP_MODE));
    enum ps_ls_action a =
        native ? (ps_logstr_starts(l->result, "TCP_DENIED") ? PS_LS_OTHER : PS_LS_BUMP)
               : ps_logkey_record_action(l);
    struct ps_tlsfail tf;
    struct ps_ls_monitor *mon;
    int64_t *t;
    bool created;
    int rc;

    if (native && ps_logstr_starts(l->hier, "HIER_NONE") && a == PS_LS_BUMP) {
        lc->in->native_connect_nohier++;
        return 0;
    }
    EACH(cs, c->conns[a]++);
    add_bytes(cs, a, l);
    if (l->err_code.n > 0)
        EACH(cs, c->errors++);
    if ((f->has & (1u << PS_LF_ACTION)) && count_rule(lc, l, a) < 0)
        return PS_ENOMEM;
    if ((mon = count_monitor(lc, l, a, &rc)) == NULL && rc < 0)
        return rc;
    if (a == PS_LS_SPLICE && l->sni.n == 0 && l->peer.n > 0 &&
        ps_logtab_count(lc->splices) < lc->max_pending) {
        if ((t = ps_logtab_get(lc->splices, l->peer.s, l->peer.n, &created)) == NULL)
            return PS_ENOMEM;
        *t = l->time_ms;
    }
    if (a != PS_LS_BUMP)
        return 0;
    if (native || !(f->has & (1u << PS_LF_ERR))) {
        lc->in->bump_unknown++;
        return 0;
    }
    if (ps_logstr_eq(l->err_code, "ERR_SECURE_ACCEPT_FAIL")) {
        ps_tlsalert_parse(l->err_detail.s, l->err_detail.n, &tf);
        if (tf.kind == PS_TLSFAIL_ALERT || tf.kind == PS_TLSFAIL_RESET ||
            tf.kind == PS_TLSFAIL_CLOSED)
            return fail(lc, nm, cl, mon,
                        tf.kind == PS_TLSFAIL_ALERT   ? PS_LS_FAIL_ALERT
                        : tf.kind == PS_TLSFAIL_RESET ? PS_LS_FAIL_RESET
                                                      : PS_LS_FAIL_CLOSED,
                        l->client.s, l->client.n, l->time_ms, tf.alert);
        EACH(cs, c->tls_other++);
        return 0;
    }
    if (l->err_code.n > 0)
        return 0; /* Squid's own or the server's error: not the client's doing */
    if (l->tls.n > 0 && l->peer.n > 0)
        return wait_request(lc, l, nm, cl, mon);
    lc->in->bump_unknown++;
    return 0;
}

static int
tunnel(struct ps_logcount *lc, const struct ps_logline *l, const struct ps_logformat *f,
       struct ps_ls_counts *cs[3])
{
    bool native = !(f->has & (1u << PS_LF_BUMP_MODE));
    enum ps_ls_action a =
        native || ps_logstr_eq(l->bump_mode, "splice") ? PS_LS_SPLICE : PS_LS_OTHER;
    int rc;

    lc->in->tunnels++;
    /* The tunnel of a connection counted at its CONNECT record (it has the SNI, or was waiting in
     * splices) only adds bytes; otherwise (native, or a splice at step 1) it is the connection. */
    if (!native &&
        (l->sni.n > 0 || (l->peer.n > 0 && ps_logtab_remove(lc->splices, l->peer.s, l->peer.n)))) {
        add_bytes(cs, a, l);
        return 0;
    }
    EACH(cs, c->conns[a]++);
    add_bytes(cs, a, l);
    if (l->err_code.n > 0)
        EACH(cs, c->errors++);
    if ((f->has & (1u << PS_LF_ACTION)) && count_rule(lc, l, a) < 0)
        return PS_ENOMEM;
    count_monitor(lc, l, a, &rc);
    return rc;
}

static int
request(struct ps_logcount *lc, const struct ps_logline *l, struct ps_ls_counts *cs[3])
{
    enum ps_ls_action a = ps_logstr_starts(l->url, "https://") ? PS_LS_BUMP : PS_LS_OTHER;
    struct pending *p;
    int rc;

    if (l->peer.n > 0 && (p = ps_logtab_find(lc->pending, l->peer.s, l->peer.n)) != NULL &&
        (rc = judge(lc, p, true)) < 0)
        return rc;
    EACH(cs, c->requests[a]++);
    add_bytes(cs, a, l);
    return 0;
}

int
ps_logcount_record(struct ps_logcount *lc, const struct ps_logline *l, const struct ps_logformat *f)
{
    struct ps_logstr key, ckey = l->client.n ? l->client : (struct ps_logstr){"-", 1};
    char buf[PS_LOGKEY_NAME_MAX + 1];
    struct ps_ls_name *nm;
    struct ps_ls_client *cl;
    struct ps_ls_counts *cs[3];
    bool created;
    int rc;

    if (l->time_ms > lc->now_ms) {
        lc->now_ms = l->time_ms;
        if ((rc = expire(lc)) < 0)
            return rc;
    }
    if (l->method.n == 0) {
        lc->in->other_records++;
        return 0;
    }
    key = ps_logkey_name(l, buf);
    if ((nm = ps_logtab_get(lc->names, key.s, key.n, &created)) == NULL ||
        (cl = ps_logtab_get(lc->clients, ckey.s, ckey.n, &created)) == NULL)
        return PS_ENOMEM;
    cs[0] = &lc->total;
    cs[1] = &nm->c;
    cs[2] = &cl->c;
    if (!ps_logstr_eq(l->method, "CONNECT"))
        return request(lc, l, cs);
    if (ps_logstr_starts(l->result, "TCP_TUNNEL"))
        return tunnel(lc, l, f, cs);
    return connection(lc, l, f, cs, nm, cl);
}

int
ps_logcount_finish(struct ps_logcount *lc)
{
    int rc = 0, r;

    while (lc->fifo.next != &lc->fifo) {
        lc->in->pending_end++;
        if ((r = judge(lc, lc->fifo.next, false)) < 0)
            rc = r;
    }
    return rc;
}

const struct ps_ls_counts *
ps_logcount_totals(const struct ps_logcount *lc)
{
    return &lc->total;
}

const struct ps_logtab *
ps_logcount_names(const struct ps_logcount *lc)
{
    return lc->names;
}

const struct ps_logtab *
ps_logcount_clients(const struct ps_logcount *lc)
{
    return lc->clients;
}

const struct ps_logtab *
ps_logcount_rules(const struct ps_logcount *lc)
{
    return lc->rules;
}

const struct ps_logtab *
ps_logcount_monitors(const struct ps_logcount *lc)
{
    return lc->monitors;
}

size_t
ps_logcount_bytes(const struct ps_logcount *lc)
{
    return ps_logtab_bytes(lc->names) + ps_logtab_bytes(lc->clients) + ps_logtab_bytes(lc->rules) +
           ps_logtab_bytes(lc->monitors) + ps_logtab_bytes(lc->pending) +
           ps_logtab_bytes(lc->splices) + lc->n_failinfo * (sizeof(struct ps_ls_failinfo) + 16);
}
