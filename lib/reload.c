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

struct ps_reload {
    char *path;
    unsigned interval_ms;
    pthread_mutex_t mu;     /* guards everything below */
    pthread_cond_t cv;      /* wakes the thread to stop */
    struct ps_snapshot *cur;
    struct ps_store_fp seen; /* state of the files at the last attempt */
    bool attempted, retry;  /* retry: the last attempt failed for a reason that may pass */
    bool loading, stop, thread_started;
    unsigned long long last_check_ms;
    unsigned long loads, failures;
    char last_error[256];
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
    free(r->path);
    free(r);
}

int
ps_reload_poll(struct ps_reload *r, bool force, struct ps_err *err)
{
    struct ps_store_fp fp;
    struct ps_snapshot *fresh = NULL, *old = NULL;
    struct ps_err lerr;
    unsigned long long t = now_ms();
    int rc;

    pthread_mutex_lock(&r->mu);
    if (r->loading || (!force && r->attempted && t - r->last_check_ms < r->interval_ms)) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    r->last_check_ms = t;
    if (ps_store_fingerprint(r->path, &fp) < 0) {
        pthread_mutex_unlock(&r->mu);
        return ps_err_set(err, PS_ETOOLONG, "%s: path too long", r->path);
    }
    if (!force && r->attempted && !r->retry && memcmp(&fp, &r->seen, sizeof(fp)) == 0) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    r->loading = true;
    pthread_mutex_unlock(&r->mu);

    memset(&lerr, 0, sizeof(lerr));
    rc = ps_store_load(r->path, BUSY_MS, &fresh, &lerr);

    pthread_mutex_lock(&r->mu);
    r->loading = false;
    r->attempted = true;
    r->seen = fp;
    if (rc == 0) {
        old = r->cur;
        r->cur = fresh;
        r->loads++;
        r->retry = false;
        r->last_error[0] = '\0';
    } else {
        r->failures++;
        /* A lock passes; a missing file may appear (its fingerprint changes when it does, but a
         * busy DB's may not), so retry those on every interval. */
        r->retry = rc == PS_EBUSY;
        memcpy(r->last_error, lerr.msg, sizeof(r->last_error));
    }
    pthread_mutex_unlock(&r->mu);
    ps_snapshot_release(old);
    if (rc < 0) {
        if (err != NULL)
            *err = lerr;
        return rc;
    }
    return 1;
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

    pthread_mutex_lock(&r->mu);
    s = ps_snapshot_ref(r->cur);
    pthread_mutex_unlock(&r->mu);
    return s;
}

void
ps_reload_stats(struct ps_reload *r, struct ps_reload_stats *out)
{
    pthread_mutex_lock(&r->mu);
    out->loads = r->loads;
    out->failures = r->failures;
    out->have_rules = r->cur != NULL;
    pthread_mutex_unlock(&r->mu);
}
