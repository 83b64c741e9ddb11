#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "err.h"
#include "metrics.h"
#include "metrics_int.h"
#include "reload.h"
#include "snapshot.h"
#include "text.h"
#include "tmpfile.h"
#include "verify.h"

/* Latency buckets, in ns (upper bounds), and the same as the exposition's le values. */
const uint64_t ps_metrics_bucket_ns[NBUCKETS] = {
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
    100000000, 1000000000, 5000000000ULL};
const char *const ps_metrics_bucket_le[NBUCKETS] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001",
    "0.0025", "0.005", "0.01", "0.1", "1", "5"};

/* ---- paths -------------------------------------------------------------------------------- */

int
ps_metrics_path_check(const char *pattern, struct ps_err *err)
{
    const char *p, *slash, *pct;

    if (pattern == NULL || pattern[0] == '\0')
        return ps_err_set(err, PS_EINVAL, "metrics path: empty");
    if (strlen(pattern) > PATH_MAX - 32)
        return ps_err_set(err, PS_EINVAL, "metrics path '%.60s...': over %d bytes", pattern,
                          PATH_MAX - 32);
    pct = strstr(pattern, "%p");
    if (pct == NULL)
        return ps_err_set(err, PS_EINVAL,
                          "metrics path '%s': no %%p (each process writes its own file: "
                          "e.g. /var/lib/prometheus/node-exporter/pinsplice-%%p.prom)",
                          pattern);
    for (p = pattern; *p != '\0'; p++)
        if (*p == '%' && p != pct)
            return ps_err_set(err, PS_EINVAL, "metrics path '%s': only one %%p and no other %%",
                              pattern);
    slash = strrchr(pattern, '/');
    if (slash != NULL && slash > pct)
        return ps_err_set(err, PS_EINVAL, "metrics path '%s': %%p must be in the file name",
                          pattern);
    if (strlen(slash != NULL ? slash + 1 : pattern) > NAME_MAX - 24)
        return ps_err_set(err, PS_EINVAL, "metrics path '%s': file name too long", pattern);
    return 0;
}

int
ps_metrics_path_expand(const char *pattern, long pid, char *out, size_t size, struct ps_err *err)
{
    const char *pct;
    int n;

    if (ps_metrics_path_check(pattern, err) < 0)
        return PS_EINVAL;
    pct = strstr(pattern, "%p");
    n = snprintf(out, size, "%.*s%ld%s", (int)(pct - pattern), pattern, pid, pct + 2);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return ps_err_set(err, PS_ETOOLONG, "metrics path '%s': too long", pattern);
    }
    return 0;
}

/* ---- life cycle --------------------------------------------------------------------------- */

struct ps_metrics *
ps_metrics_new(const char *pattern, const char *program, struct ps_err *err)
{
    struct ps_metrics *m = NULL;
    const char *slash, *base, *pct;

    if (ps_metrics_path_check(pattern, err) < 0)
        return NULL;
    m = calloc(1, sizeof(*m));
    /* calloc of a large block maps zero pages: only the slots used are ever touched */
    if (m == NULL || (m->slots = calloc(RULE_SLOTS, sizeof(*m->slots))) == NULL ||
        (m->names = calloc(RULE_SLOTS, sizeof(*m->names))) == NULL) {
        if (m != NULL)
            free(m->slots);
        free(m);
        ps_err_set(err, PS_ENOMEM, "metrics: out of memory");
        return NULL;
    }
    m->pid = (long)getpid();
    m->started = time(NULL);
    m->stop_pipe[0] = m->stop_pipe[1] = -1;
    snprintf(m->program, sizeof(m->program), "%s", program != NULL ? program : "pinsplice");
    if (ps_metrics_path_expand(pattern, m->pid, m->path, sizeof(m->path), err) < 0) {
        free(m->names);
        free(m->slots);
        free(m);
        return NULL;
    }
    slash = strrchr(pattern, '/');
    base = slash != NULL ? slash + 1 : pattern;
    if (slash == NULL)
        snprintf(m->dir, sizeof(m->dir), ".");
    else if (slash == pattern)
        snprintf(m->dir, sizeof(m->dir), "/");
    else
        snprintf(m->dir, sizeof(m->dir), "%.*s", (int)(slash - pattern), pattern);
    pct = strstr(base, "%p");
    snprintf(m->prefix, sizeof(m->prefix), "%.*s", (int)(pct - base), base);
    snprintf(m->suffix, sizeof(m->suffix), "%s", pct + 2);
    return m;
}

void
ps_metrics_set_reload(struct ps_metrics *m, struct ps_reload *r)
{
    if (m != NULL)
        m->reload = r;
}

void
ps_metrics_set_verifier(struct ps_metrics *m, struct ps_verifier *v)
{
    if (m != NULL)
        m->verifier = v;
}

const char *
ps_metrics_path(const struct ps_metrics *m)
{
    return m->path;
}

/* Is name one of our pattern's files (or its temporary files) of another, dead process? */
static bool
dead_file(const struct ps_metrics *m, const char *name)
{
    size_t pl = strlen(m->prefix), sl = strlen(m->suffix), nd;
    const char *p = name + pl;
    uint64_t v;
    long pid;

    if (strncmp(name, m->prefix, pl) != 0)
        return false;
    nd = strspn(p, "0123456789");
    if (nd > 10)
        nd = 10; /* a longer run is no pid: the suffix check below refuses it */
    if (!ps_num_parse(p, nd, UINT64_MAX, &v))
        return false;
    pid = (long)v;
    p += nd;
    if (strncmp(p, m->suffix, sl) != 0)
        return false;
    p += sl;
    if (*p != '\0' && strncmp(p, ".tmp-", 5) != 0)
        return false;
    if (pid == m->pid || pid <= 0)
        return false;
    /* EPERM: alive, another user's. Only "no such process" is dead. */
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static void
sweep(struct ps_metrics *m)
{
    char full[PATH_MAX + NAME_MAX + 2];
    struct dirent *e;
    DIR *d = opendir(m->dir);

    if (d == NULL)
        return; /* the write reports the directory */
    while ((e = readdir(d)) != NULL) {
        if (!dead_file(m, e->d_name))
            continue;
        snprintf(full, sizeof(full), "%s/%s", m->dir, e->d_name);
        if (unlink(full) == 0)
            ps_log(PS_LOG_INFO, "metrics: removed %s (its process is gone)", full);
    }
    closedir(d);
}

static void
write_and_report(struct ps_metrics *m)
{
    struct ps_err err;

    memset(&err, 0, sizeof(err));
    if (ps_metrics_write(m, &err) < 0) {
        ADD(&m->write_failures, 1);
        if (!m->failing)
            ps_log(PS_LOG_ERROR,
                   "metrics: %s (answers are not affected; retried every %u s, reported once)",
                   err.msg, m->interval_s);
        m->failing = true;
    } else if (m->failing) {
        ps_log(PS_LOG_INFO, "metrics: writing %s again", m->path);
        m->failing = false;
    }
}

static void *
writer_main(void *arg)
{
    struct ps_metrics *m = arg;
    struct pollfd pfd = {m->stop_pipe[0], POLLIN, 0};
    int n;

    for (;;) {
        /* Every time, not only at start: a process that was dying when this one started, or
         * that dies later without removing its file, is gone at the next interval. */
        sweep(m);
        write_and_report(m);
        n = poll(&pfd, 1, (int)(m->interval_s * 1000U));
        if (n > 0 || (n < 0 && errno != EINTR))
            break;
    }
    return NULL;
}

int
ps_metrics_start(struct ps_metrics *m, unsigned interval_s)
{
    sigset_t all, old;
    int rc;

    if (m->thread_started)
        return 0;
    m->interval_s = interval_s > 0 ? interval_s : 1;
    if (pipe(m->stop_pipe) < 0)
        return PS_ENOMEM;
    fcntl(m->stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(m->stop_pipe[1], F_SETFD, FD_CLOEXEC);
    /* The thread takes no signal: the host's handlers stay on its own threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&m->thread, NULL, writer_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
        m->stop_pipe[0] = m->stop_pipe[1] = -1;
        return PS_ENOMEM;
    }
    m->thread_started = true;
    return 0;
}

void
ps_metrics_free(struct ps_metrics *m)
{
    if (m == NULL)
        return;
    if (m->thread_started) {
        while (write(m->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(m->thread, NULL);
        /* A stopped process's counters are not kept by the collector. */
        unlink(m->path);
    }
    if (m->stop_pipe[0] >= 0) {
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
    }
    free(m->names);
    free(m->slots);
    free(m);
}

/* ---- counting (the answering path) ------------------------------------------------------- */

uint64_t
ps_metrics_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
ps_metrics_single_writer(struct ps_metrics *m)
{
    if (m != NULL)
        m->single = true;
}

void
ps_metrics_latency(struct ps_metrics *m, uint64_t started_ns, unsigned long n)
{
    uint64_t ns;
    size_t i;

    if (m == NULL || started_ns == 0 || n == 0)
        return;
    ns = ps_metrics_now_ns() - started_ns;
    for (i = 0; i < NBUCKETS && ns > ps_metrics_bucket_ns[i]; i++)
        ;
    ADD(&m->buckets[i], n);
    ADD(&m->lat_sum_ns, ns * n);
}

static void
observe(struct ps_metrics *m, uint64_t started_ns)
{
    ADD(&m->answers, 1);
    if (started_ns != 0)
        ps_metrics_latency(m, started_ns, 1);
}

/*
 * The slot for (id, name) (lib/core/metrics_int.h). Probes start at the id's hash; a slot being
 * claimed by another thread is passed over (that may give one rule two slots, which the writer
 * adds up).
 */
struct rule_slot *
ps_metrics_slot(struct ps_metrics *m, int64_t id, const char *name, bool create)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    struct rule_slot *s;
    size_t i, idx, len;
    int st;

    for (i = 0; i < RULE_SLOTS; i++) {
        idx = (size_t)((h >> 54) + i) % RULE_SLOTS;
        s = &m->slots[idx];
        st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        if (st == SLOT_EMPTY) {
            int expect = SLOT_EMPTY;
            if (!create || (len = strlen(name)) > PS_RULE_NAME_BYTES)
                return NULL;
            if (!__atomic_compare_exchange_n(&s->state, &expect, SLOT_CLAIMING, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue; /* another thread took it: look further */
            s->id = id;
            memcpy(m->names[idx], name, len + 1);
            __atomic_store_n(&s->state, SLOT_READY, __ATOMIC_RELEASE);
            return s;
        }
        if (st == SLOT_READY && s->id == id && strcmp(m->names[idx], name) == 0)
            return s;
    }
    return NULL;
}

void
ps_metrics_answer(struct ps_metrics *m, const struct ps_decision *d, uint64_t started_ns)
{
    struct rule_slot *s;

    if (m == NULL || d == NULL)
        return;
    observe(m, started_ns);
    if ((unsigned)d->action < NACTIONS && (unsigned)d->reason < NREASONS)
        ADD(&m->decisions[d->action][d->reason], 1);
    if (d->reason == PS_REASON_RULE && d->rule_name != NULL) {
        s = ps_metrics_slot(m, d->rule_id, d->rule_name, true);
        ADD(s != NULL ? &s->matches : &m->untracked, 1);
    }
    /* Monitor mode (schema v2): the first monitor rule that matched, counted here so that both
     * hosts get it without another call. */
    if (d->monitor_rule != NULL)
        ps_metrics_monitor(m, d->monitor_rule_id, d->monitor_rule);
}

void
ps_metrics_malformed(struct ps_metrics *m, uint64_t started_ns)
{
    if (m == NULL)
        return;
    observe(m, started_ns);
    ADD(&m->malformed, 1);
}

void
ps_metrics_answered(struct ps_metrics *m, uint64_t started_ns)
{
    if (m != NULL)
        observe(m, started_ns);
}

void
ps_metrics_monitor(struct ps_metrics *m, int64_t rule_id, const char *rule_name)
{
    struct rule_slot *s;

    if (m == NULL || rule_name == NULL)
        return;
    s = ps_metrics_slot(m, rule_id, rule_name, true);
    ADD(s != NULL ? &s->monitor : &m->untracked_monitor, 1);
}

/* Write all of buf to fd. Returns 0 or -1 with errno set. */
static int
write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int
ps_metrics_write(struct ps_metrics *m, struct ps_err *err)
{
    char tmp[PATH_MAX + 32], *text = NULL;
    size_t len = 0;
    int fd = -1, rc = PS_EIO;

    tmp[0] = '\0';
    if (ps_metrics_format(m, &text, &len) < 0)
        return ps_err_set(err, PS_EIO, "%s: out of memory", m->path);
    if (ps_tmpfile_create(m->path, "tmp", tmp, sizeof(tmp), err) < 0)
        goto done;
    fd = open(tmp, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    /* mkstemp made it 0600: the collector (node_exporter runs as another user) must read it */
    if (fchmod(fd, 0644) < 0 || write_all(fd, text, len) < 0) {
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    if (close(fd) < 0) {
        fd = -1;
        ps_err_set(err, PS_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, m->path) < 0) {
        ps_err_set(err, PS_EIO, "%s: rename: %s", m->path, strerror(errno));
        goto done;
    }
    tmp[0] = '\0';
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (tmp[0] != '\0')
        unlink(tmp);
    free(text);
    return rc;
}
