/* Resolving a name within a server check's deadline (verify 'always' and a CONNECT by name):
 * getaddrinfo_a, waited for no longer than the check may take. See verify_int.h. */
#define _GNU_SOURCE 1 /* getaddrinfo_a */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "verify_int.h"

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

int
ps_verify_resolve(const char *name, long deadline_ms, struct addrinfo **out)
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

