#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "reload.h"
#include "snapshot.h"
#include "store.h"

/* How long one load waits for a writer's lock before giving up (the last good rules stay). */
#define BUSY_MS 200

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
    pthread_mutex_t poll_mu;
    struct ps_store_fp seen; /* state of the files at the last attempt */
    bool attempted, retry;   /* retry: the last attempt failed for a reason that may pass */
    unsigned long long last_check_ms;
    pthread_mutex_t mu;      /* guards stop, for the thread */
    pthread_cond_t cv;       /* wakes the thread to stop */
    bool stop, thread_started;
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
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    return r;
}

void
ps_reload_free(struct ps_reload *r)
{
    if (r == NULL)
        return;
    if (r->thread_started) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    ps_snapshot_release(r->cur);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
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
    } else {
        r->failures++;
    }
    pthread_mutex_unlock(&r->snap_mu);
    ps_snapshot_release(old);
}

int
ps_reload_poll(struct ps_reload *r, bool force, struct ps_err *err)
{
    struct ps_store_fp fp;
    struct ps_snapshot *fresh = NULL;
    struct ps_err lerr;
    unsigned long long t = now_ms();
    int rc;

    /* A check already running will see what this caller would: do not queue behind it. */
    if (pthread_mutex_trylock(&r->poll_mu) != 0)
        return 0;
    if (!force && r->attempted && t - r->last_check_ms < r->interval_ms) {
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

static void *
reload_main(void *arg)
{
    struct ps_reload *r = arg;
    char reported[256] = "";

    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts;
        struct ps_err err;
        int rc;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += r->interval_ms / 1000;
        ts.tv_nsec += (long)(r->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        memset(&err, 0, sizeof(err));
        rc = ps_reload_poll(r, false, &err);
        if (rc < 0 && strcmp(err.msg, reported) != 0) {
            /* Reported once per distinct failure: a DB that stays broken does not flood the log. */
            ps_log(PS_LOG_ERROR, "%s (keeping the last good rules)", err.msg);
            memcpy(reported, err.msg, sizeof(reported));
        } else if (rc == 1) {
            struct ps_snapshot_stats st;
            struct ps_snapshot *s = ps_reload_acquire(r);
            ps_snapshot_stats(s, &st);
            ps_snapshot_release(s);
            ps_log(PS_LOG_INFO, "%s: loaded %zu rules, %zu domains", r->path, st.rules,
                   st.domains);
            reported[0] = '\0';
        }
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int
ps_reload_start(struct ps_reload *r)
{
    if (r->thread_started)
        return 0;
    if (pthread_create(&r->thread, NULL, reload_main, r) != 0)
        return PS_ENOMEM;
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
    pthread_mutex_unlock(&r->snap_mu);
}
