#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "reload.h"
#include "snapshot.h"
#include "store.h"

/* How long one load waits for a writer's lock before giving up (the last good rules stay). */
#define BUSY_MS 200
/* Debounce of file events: load once the DB files were quiet this long, and at the latest this
 * long after the first event of a burst (a 100-statement script or an import: a few loads, not one
 * per statement). */
#define QUIET_MS 100
#define BURST_MAX_MS 1000

/*
 * Two locks, so that answering never waits on the file system:
 * - snap_mu guards the snapshot pointer and the counters only. It is held for a pointer copy and a
 *   reference count, never across a call out of this file: ps_reload_acquire() takes only this one.
 * - poll_mu serialises checks (stat, open, SQLite). It is held across file-system calls and is
 *   only ever try-locked, by the checking thread or a control command, never by a reader.
 */
struct ps_reload {
    char *path;
    unsigned interval_ms;
    pthread_mutex_t snap_mu;
    struct ps_snapshot *cur;
    unsigned long loads, failures;
    unsigned long long stale_since; /* monotonic ms of the first failed load since a good one */
    time_t loaded_at;
    pthread_mutex_t poll_mu;
    struct ps_store_fp seen; /* state of the files at the last attempt */
    bool attempted, retry;   /* retry: the last attempt failed for a reason that may pass */
    unsigned long long busy_since; /* first of consecutive "database is locked" loads, or 0 */
    unsigned long long last_check_ms;
    int stop_pipe[2];        /* ps_reload_free() writes to [1] to stop the thread */
    bool thread_started;
    pthread_t thread;
};

static unsigned long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}

struct ps_reload *
ps_reload_new(const char *db_path, unsigned interval_ms)
{
    struct ps_reload *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->path = strdup(db_path);
    if (r->path == NULL) {
        free(r);
        return NULL;
    }
    r->interval_ms = interval_ms;
    pthread_mutex_init(&r->snap_mu, NULL);
    pthread_mutex_init(&r->poll_mu, NULL);
    r->stop_pipe[0] = r->stop_pipe[1] = -1;
    return r;
}

void
ps_reload_free(struct ps_reload *r)
{
    if (r == NULL)
        return;
    if (r->thread_started) {
        while (write(r->stop_pipe[1], "x", 1) < 0 && errno == EINTR)
            ;
        pthread_join(r->thread, NULL);
    }
    if (r->stop_pipe[0] >= 0) {
        close(r->stop_pipe[0]);
        close(r->stop_pipe[1]);
    }
    ps_snapshot_release(r->cur);
    pthread_mutex_destroy(&r->poll_mu);
    pthread_mutex_destroy(&r->snap_mu);
    free(r->path);
    free(r);
}

/* Publish the outcome of one load; the only place that writes the snapshot pointer. */
static void
publish(struct ps_reload *r, struct ps_snapshot *fresh, int rc)
{
    struct ps_snapshot *old = NULL;

    pthread_mutex_lock(&r->snap_mu);
    if (rc == 0) {
        old = r->cur;
        r->cur = fresh;
        r->loads++;
        r->stale_since = 0;
        r->loaded_at = time(NULL);
    } else {
        r->failures++;
        if (r->stale_since == 0)
            r->stale_since = now_ms() | 1; /* never 0: 0 means "not stale" */
    }
    pthread_mutex_unlock(&r->snap_mu);
    ps_snapshot_release(old);
}

/* One check. force: load even when nothing changed; prompt: ignore the interval (a file event
 * says something changed; the fingerprint still decides whether to load). */
static int
check(struct ps_reload *r, bool force, bool prompt, struct ps_err *err)
{
    struct ps_store_fp fp;
    struct ps_snapshot *fresh = NULL;
    struct ps_err lerr;
    unsigned long long t = now_ms();
    int rc;

    /* A check already running will see what this caller would: do not queue behind it. */
    if (pthread_mutex_trylock(&r->poll_mu) != 0)
        return 0;
    if (!force && !prompt && r->attempted && t - r->last_check_ms < r->interval_ms) {
        rc = 0;
        goto done;
    }
    r->last_check_ms = t;
    if (ps_store_fingerprint(r->path, &fp) < 0) {
        rc = ps_err_set(err, PS_ETOOLONG, "%s: path too long", r->path);
        goto done;
    }
    if (!force && r->attempted && !r->retry && memcmp(&fp, &r->seen, sizeof(fp)) == 0) {
        rc = 0;
        goto done;
    }
    memset(&lerr, 0, sizeof(lerr));
    rc = ps_store_load(r->path, BUSY_MS, &fresh, &lerr);
    r->attempted = true;
    r->seen = fp;
    /* A lock passes; a busy DB's fingerprint may not change when it does, so retry those on
     * every interval. */
    r->retry = rc == PS_EBUSY;
    publish(r, fresh, rc);
    if (rc < 0) {
        if (err != NULL)
            *err = lerr;
    } else {
        rc = 1;
    }
done:
    pthread_mutex_unlock(&r->poll_mu);
    return rc;
}

int
ps_reload_poll(struct ps_reload *r, bool force, struct ps_err *err)
{
    return check(r, force, false, err);
}

/* The thread's view of the DB's directory: an inotify watch, or -1 (polling only). */
struct watch {
    int fd;
    char dir[PATH_MAX];
    const char *base;
    size_t base_len;
};

/* (Re)create the watch; on failure fd stays -1 and the interval's polling is all there is. */
static void
watch_open(struct watch *w, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));

    w->fd = -1;
    w->base = slash ? slash + 1 : path;
    w->base_len = strlen(w->base);
    if (n >= sizeof(w->dir))
        return;
    memcpy(w->dir, slash == NULL ? "." : path, n);
    w->dir[n] = '\0';
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0)
        return;
    /* Writes, closes, renames over, creations and removals of the DB, its journal and -wal, in
     * the directory (a rename over the DB replaces the inode a file watch would follow). */
    if (inotify_add_watch(w->fd, w->dir,
                          IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                              IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
        close(w->fd);
        w->fd = -1;
    }
}

/* Is name the DB, its -journal or its -wal? */
static bool
relevant(const struct watch *w, const char *name)
{
    if (strncmp(name, w->base, w->base_len) != 0)
        return false;
    name += w->base_len;
    return *name == '\0' || strcmp(name, "-journal") == 0 || strcmp(name, "-wal") == 0;
}

/* Drain the watch. Returns true when an event concerns the DB; closes the watch (to be made
 * again) when the directory went away or events were lost (then it also returns true). */
static bool
watch_read(struct watch *w)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false, reopen = false;
    ssize_t n;

    while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
        char *p = buf;
        while (p < buf + n) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
                reopen = true;
            else if (ev->len > 0 && relevant(w, ev->name))
                hit = true;
            p += sizeof(*ev) + ev->len;
        }
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        reopen = true;
    if (reopen) {
        close(w->fd);
        w->fd = -1;
    }
    return hit || reopen;
}

#define BUSY_REPORT_MS 2000ULL

static void
check_and_log(struct ps_reload *r, bool prompt, char *reported, size_t size)
{
    struct ps_err err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = check(r, false, prompt, &err);
    /* A lock that passes is a writer committing (sqlite3, db publish, an import): retried, not
     * reported. A lock held for BUSY_REPORT_MS is reported like any other failure. */
    if (rc == PS_EBUSY) {
        unsigned long long t = now_ms();
        if (r->busy_since == 0)
            r->busy_since = t;
        if (t - r->busy_since < BUSY_REPORT_MS) {
            ps_log(PS_LOG_DEBUG, "%s (retrying)", err.msg);
            return;
        }
    } else {
        r->busy_since = 0;
    }
    if (rc < 0 && strcmp(err.msg, reported) != 0) {
        /* Reported once per distinct failure: a DB that stays broken does not flood the log. */
        ps_log(PS_LOG_ERROR, "%s (keeping the last good rules)", err.msg);
        snprintf(reported, size, "%s", err.msg);
    } else if (rc == 1) {
        struct ps_snapshot_stats st;
        struct ps_reload_stats rs;
        struct ps_snapshot *s = ps_reload_acquire(r);
        ps_snapshot_stats(s, &st);
        ps_snapshot_release(s);
        ps_reload_stats(r, &rs);
        ps_log(PS_LOG_INFO, "%s: loaded %zu rules, %zu domains (load %lu)", r->path, st.rules,
               st.domains, rs.loads);
        reported[0] = '\0';
    }
}

/*
 * The checking thread. Wakes on a file event in the DB's directory (debounced: QUIET_MS after
 * the last event, at most BURST_MAX_MS after the first of a burst), and every interval in any
 * case: polling is the fallback when inotify is unavailable, its queue overflowed or the
 * directory was replaced. Never touches the answering path: it only publishes snapshots.
 */
static void *
reload_main(void *arg)
{
    struct ps_reload *r = arg;
    struct watch w;
    char reported[256] = "";
    bool pending = false;
    unsigned long long first = 0, last = 0, polled = now_ms(), t;

    watch_open(&w, r->path);
    for (;;) {
        struct pollfd pfd[2] = {{r->stop_pipe[0], POLLIN, 0}, {w.fd, POLLIN, 0}};
        unsigned long long due;
        int timeout;

        due = pending ? (last + QUIET_MS < first + BURST_MAX_MS ? last + QUIET_MS
                                                                : first + BURST_MAX_MS)
                      : polled + r->interval_ms;
        t = now_ms();
        timeout = due > t ? (int)(due - t) : 0;
        if (poll(pfd, w.fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
            timeout = 0;
        if (pfd[0].revents != 0)
            break;
        t = now_ms();
        if (w.fd >= 0 && (pfd[1].revents & POLLIN) && watch_read(&w)) {
            if (!pending)
                first = t;
            pending = true;
            last = t;
            continue;
        }
        if (t < due)
            continue;
        check_and_log(r, pending, reported, sizeof(reported));
        pending = false;
        polled = t;
        if (w.fd < 0)
            watch_open(&w, r->path); /* the directory may be back */
    }
    if (w.fd >= 0)
        close(w.fd);
    return NULL;
}

int
ps_reload_start(struct ps_reload *r)
{
    if (r->thread_started)
        return 0;
    if (pipe(r->stop_pipe) < 0)
        return PS_ENOMEM;
    fcntl(r->stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(r->stop_pipe[1], F_SETFD, FD_CLOEXEC);
    if (pthread_create(&r->thread, NULL, reload_main, r) != 0) {
        close(r->stop_pipe[0]);
        close(r->stop_pipe[1]);
        r->stop_pipe[0] = r->stop_pipe[1] = -1;
        return PS_ENOMEM;
    }
    r->thread_started = true;
    return 0;
}

struct ps_snapshot *
ps_reload_acquire(struct ps_reload *r)
{
    struct ps_snapshot *s;

    pthread_mutex_lock(&r->snap_mu);
    s = ps_snapshot_ref(r->cur);
    pthread_mutex_unlock(&r->snap_mu);
    return s;
}

void
ps_reload_stats(struct ps_reload *r, struct ps_reload_stats *out)
{
    pthread_mutex_lock(&r->snap_mu);
    out->loads = r->loads;
    out->failures = r->failures;
    out->have_rules = r->cur != NULL;
    out->stale_ms = r->stale_since != 0 ? now_ms() - (r->stale_since & ~1ULL) : 0;
    out->loaded_at = r->loaded_at;
    pthread_mutex_unlock(&r->snap_mu);
}
