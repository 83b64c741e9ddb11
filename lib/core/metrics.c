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
