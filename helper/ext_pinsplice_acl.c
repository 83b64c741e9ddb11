/*
 * ext_pinsplice_acl: Squid external_acl_type helper. Reads request lines on stdin, answers each
 * with one OK/ERR line on stdout. All protocol logic is in lib/core/proto.c and every decision in
 * lib/core/decide.c; this file only moves bytes, holds the reloading rules and maps failures to ERR.
 * See ext_pinsplice_acl(8).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pinsplice.h"

#define PROG "ext_pinsplice_acl"
#define READ_CHUNK 65536
#define OUT_MAX (256 * 1024)
#define MAX_PENDING 1024 /* requests waiting for a server check; more are bumped (verify-busy) */
#define WARN_EVERY_S 10 /* at most one malformed-request warning per this many seconds */

/* A request answered when its server check ends (see answer_line). Filled by the main thread,
 * handed to the verifier, put on h.done by the callback, answered by the main thread. */
struct pending {
    struct pending *next;
    bool has_id;
    char id[PS_PROTO_ID_MAX + 1];
    enum ps_action asked;
    struct ps_decision d;     /* its pointers point into snap */
    struct ps_snapshot *snap; /* a reference, released when answered */
    char target[PS_VERIFY_TARGET_ADDR + 300]; /* "ADDR:PORT NAME", for the log */
    enum ps_verify_verdict verdict;
    char detail[160];
    uint64_t started_ns; /* for the latency metric */
};

struct helper {
    struct ps_reload *reload;
    struct ps_proto proto;
    bool fail_open;
    bool debug;       /* --debug: log every request and reply */
    bool poll_inline; /* the reload thread could not start: poll from the main loop */
    /* input: at most one partial line of <= PS_PROTO_LINE_MAX bytes is kept between reads */
    char in[PS_PROTO_LINE_MAX + 1 + READ_CHUNK];
    size_t in_len;
    bool draining; /* discarding the rest of an over-long line */
    bool drain_has_id;
    char drain_id[PS_PROTO_ID_MAX + 1];
    char out[OUT_MAX];
    size_t out_len;
    time_t warned_at;
    unsigned long unwarned;
    struct ps_snapshot *snap; /* the rules for the lines of one read (NULL: none loaded) */
    struct ps_proto_request req;
    /* server checks (lib/core/verify.h) */
    struct ps_verifier *verifier; /* NULL: could not start; such splices are bumped */
    int wake[2];                  /* the callback writes a byte to wake[1] */
    pthread_mutex_t done_mu;
    struct pending *done;         /* finished checks, newest first (under done_mu) */
    unsigned outstanding;         /* requests queued and not answered yet (main thread only) */
    bool serial_wait;             /* a line without channel-ID waits: answer in order */
    bool eof;
    struct ps_metrics *metrics;   /* --metrics (NULL: off) */
    uint64_t read_ns;             /* when the lines being answered were read (metrics only) */
    unsigned long unflushed;      /* replies to those lines in out[], for the latency metric */
};

static struct helper h; /* large buffers: static, not on the stack */

static void
log_stderr(int level, const char *msg, void *ud)
{
    const char *tag = level <= PS_LOG_ERROR ? "ERROR: " : level == PS_LOG_WARN ? "WARNING: " : "";

    fprintf(stderr, PROG ": %s%s\n", tag, msg);
}

static void
usage(FILE *f)
{
    fprintf(f, "Usage: " PROG " [--db PATH] [--reload-interval MS] [--fail-open] [--debug]\n"
               "       [--concurrency | --no-concurrency] [--metrics PATH [--metrics-interval S]]\n"
               "Squid external ACL helper: answers whether pinsplice's decision for a TLS\n"
               "connection equals the acl's argument (splice, bump or terminate).\n"
               "Input:  [CHANNEL-ID] SNI CONNECT-HOST CLIENT-IP USER PROGRAM ACTION\n"
               "Output: [CHANNEL-ID] OK|ERR pinsplice_action_=A pinsplice_rule_=R message=M\n"
               "  --db PATH             rules database (default $PINSPLICE_DB, else\n"
               "                        %s)\n"
               "  --reload-interval MS  also check the DB every MS ms (default 1000; inotify first)\n"
               "  --fail-open           splice when no rules could be loaded (default: bump)\n"
               "  --concurrency         every line starts with a channel-ID\n"
               "  --no-concurrency      no line starts with a channel-ID\n"
               "                        (default: detected per line: 7 fields = channel-ID)\n"
               "  --debug               log every request and reply to stderr\n"
               "  --metrics PATH        write Prometheus metrics to PATH (%%p: this process's\n"
               "                        PID), node_exporter textfile style (default: off)\n"
               "  --metrics-interval S  rewrite the metrics file every S seconds (default 5)\n"
               "  --help, --version\n",
            ps_default_db_path());
}

static void __attribute__((noreturn, format(printf, 1, 2))) fatal(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": FATAL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    exit(1);
}

/* Wait until fd is ready for events (a non-blocking pipe said EAGAIN). */
static void
wait_fd(int fd, short events)
{
    struct pollfd pfd = {.fd = fd, .events = events};

    while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
        ;
}

/* Write every pending reply. Returns 0, or PS_EIO when stdout is gone. */
static int
flush_out(void)
{
    size_t off = 0;
    ssize_t n;

    while (off < h.out_len) {
        n = write(STDOUT_FILENO, h.out + off, h.out_len - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_fd(STDOUT_FILENO, POLLOUT);
        } else {
            ps_log(PS_LOG_ERROR, "stdout: %s", n < 0 ? strerror(errno) : "write returned 0");
            return PS_EIO;
        }
    }
    h.out_len = 0;
    /* The replies to the lines of one read leave now, together: one latency for all of them. */
    ps_metrics_latency(h.metrics, h.read_ns, h.unflushed);
    h.unflushed = 0;
    return 0;
}

/* Room for one more reply in the output buffer (flushing first when it is full). */
static char *
reply_slot(void)
{
    if (h.out_len + PS_PROTO_REPLY_MAX > sizeof(h.out) && flush_out() < 0)
        return NULL;
    return h.out + h.out_len;
}

/* A client can provoke malformed lines (Squid does not escape '%'): warn, but not per line. */
static void
warn_bad_line(const char *msg)
{
    time_t now = time(NULL);

    ps_log(PS_LOG_DEBUG, "malformed request: %s", msg);
    if (h.warned_at != 0 && now - h.warned_at < WARN_EVERY_S) {
        h.unwarned++;
        return;
    }
    if (h.unwarned > 0)
        ps_log(PS_LOG_WARN,
               "malformed request answered ERR: %s (and %lu more since the last "
               "warning)",
               msg, h.unwarned);
    else
        ps_log(PS_LOG_WARN, "malformed request answered ERR: %s", msg);
    h.warned_at = now;
    h.unwarned = 0;
}

static int
answer_error(bool has_id, const char *id, const char *msg)
{
    char *slot = reply_slot();

    if (slot == NULL)
        return PS_EIO;
    warn_bad_line(msg);
    h.out_len += ps_proto_reply_error(has_id ? id : NULL, msg, slot, PS_PROTO_REPLY_MAX);
    ps_metrics_malformed(h.metrics, 0);
    h.unflushed++;
    return 0;
}

static void
on_checked(void *ud, const struct ps_verify_result *r)
{
    struct pending *p = ud;
    char b = 1;

    p->verdict = r->verdict;
    snprintf(p->detail, sizeof(p->detail), "%s", r->detail);
    pthread_mutex_lock(&h.done_mu);
    p->next = h.done;
    h.done = p;
    pthread_mutex_unlock(&h.done_mu);
    /* The pipe is non-blocking: when it is full the main loop is woken already. */
    while (write(h.wake[1], &b, 1) < 0 && errno == EINTR)
        ;
}

/*
 * A splice that needs its server checked first (lib/core/decide.h). Returns true when the request was
 * queued (it is answered by answer_checked); false when *d is final now: no check needed, or
 * answered from the verifier's cache, or refused (busy: bump).
 */
static bool
queue_for_check(struct ps_decision *d)
{
    struct ps_verify_target t;
    struct ps_verify_result r;
    struct pending *p;

    enum ps_verify_verdict cached;

    if (!ps_decide_verify_target(h.snap, &h.req.query, d, &t))
        return false;
    if (h.verifier != NULL && t.trust != NULL &&
        ps_verifier_cached(h.verifier, t.addr, t.port, t.sni, t.trust, &cached)) {
        ps_decide_verified(d, cached);
        return false;
    }
    if (h.verifier == NULL || t.trust == NULL || h.outstanding >= MAX_PENDING ||
        (p = calloc(1, sizeof(*p))) == NULL) {
        ps_decide_verified(d, h.verifier == NULL || t.trust == NULL ? PS_VERIFY_ERROR
                                                                     : PS_VERIFY_BUSY);
        return false;
    }
    p->has_id = h.req.has_id;
    memcpy(p->id, h.req.id, sizeof(p->id));
    p->asked = h.req.action;
    p->started_ns = h.read_ns;
    p->d = *d;
    p->snap = ps_snapshot_ref(h.snap);
    snprintf(p->target, sizeof(p->target), "%s%s%s:%u %s", strchr(t.addr, ':') ? "[" : "",
             t.addr, strchr(t.addr, ':') ? "]" : "", t.port, t.sni);
    p->d.server_name[sizeof(p->d.server_name) - 1] = '\0';
    switch (ps_verifier_submit(h.verifier, t.addr, t.port, p->d.server_name, t.trust,
                               t.timeout_ms, on_checked, p, &r)) {
    case PS_VERIFY_QUEUED:
        h.outstanding++;
        if (!p->has_id)
            h.serial_wait = true; /* no channel-ID: the next answer must wait for this one */
        return true;
    case PS_VERIFY_CACHED:
    case PS_VERIFY_REFUSED:
    default:
        ps_decide_verified(d, r.verdict);
        ps_snapshot_release(p->snap);
        free(p);
        return false;
    }
}

/* Answer every request whose check has ended. Returns 0, or PS_EIO when stdout is gone. */
static int
answer_checked(void)
{
    struct pending *list, *rev = NULL, *p;
    char buf[64], *slot;
    size_t n;
    int rc = 0;

    while (read(h.wake[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&h.done_mu);
    list = h.done;
    h.done = NULL;
    pthread_mutex_unlock(&h.done_mu);
    while (list != NULL) { /* oldest first */
        p = list;
        list = p->next;
        p->next = rev;
        rev = p;
    }
    while ((p = rev) != NULL) {
        rev = p->next;
        ps_decide_verified(&p->d, p->verdict);
        ps_log(p->verdict == PS_VERIFY_OK ? PS_LOG_DEBUG : PS_LOG_INFO, "server check %s: %s (%s)",
               p->target, ps_verify_reason(p->verdict), p->detail);
        slot = rc == 0 ? reply_slot() : NULL;
        if (slot != NULL) {
            n = ps_proto_reply_to(p->has_id ? p->id : NULL, p->asked, &p->d, NULL, slot,
                                  PS_PROTO_REPLY_MAX);
            if (h.debug)
                ps_log(PS_LOG_DEBUG, "checked -> %.*s", (int)n - 1, slot);
            h.out_len += n;
            ps_metrics_answer(h.metrics, &p->d, p->started_ns);
        } else {
            rc = PS_EIO;
        }
        if (!p->has_id)
            h.serial_wait = false;
        h.outstanding--;
        ps_snapshot_release(p->snap);
        free(p);
    }
    return rc;
}

/* Answer one complete line (newline removed) with the rules in h.snap. Returns 0, or PS_EIO when
 * stdout is gone. */
static int
answer_line(const char *line, size_t len)
{
    struct ps_err err = {0, ""};
    struct ps_decision d;
    const char *msg = NULL;
    char *slot;
    size_t n;

    if (ps_proto_parse(&h.proto, line, len, &h.req, &err) < 0)
        return answer_error(h.req.has_id, h.req.id, err.msg);
    slot = reply_slot();
    if (slot == NULL)
        return PS_EIO;
    ps_decide(h.snap, &h.req.query, &d);
    msg = ps_decide_fail_open(&d, h.fail_open); /* the core's policy, the module's too */
    if (msg == NULL && queue_for_check(&d))
        return 0; /* answered when the check ends */
    n = ps_proto_reply_decision(&h.req, &d, msg, slot, PS_PROTO_REPLY_MAX);
    if (h.debug)
        ps_log(PS_LOG_DEBUG, "'%.*s' -> %.*s", len > 600 ? 600 : (int)len, line, (int)n - 1, slot);
    h.out_len += n;
    ps_metrics_answer(h.metrics, &d, 0);
    h.unflushed++;
    return 0;
}

/* Answer every complete line in the input buffer; keep a partial one, or start draining it when
 * it is already over the limit. At eof a last line without newline is answered too. The lines of
 * one read arrived together: they are decided with one reference to the current rules, taken here
 * and released once they are answered (a reload takes effect from the next read on). */
static int
process_input(bool eof)
{
    size_t start = 0, len, rest;
    const char *nl;
    int rc = 0;

    h.snap = ps_reload_acquire(h.reload);
    while (rc == 0 && !h.serial_wait &&
           (nl = memchr(h.in + start, '\n', h.in_len - start)) != NULL) {
        len = (size_t)(nl - (h.in + start));
        if (h.draining) {
            h.draining = false;
            rc = answer_error(h.drain_has_id, h.drain_id, PS_PROTO_TOOLONG_MSG);
        } else {
            rc = answer_line(h.in + start, len);
        }
        start += len + 1;
    }
    if (rc < 0)
        goto done;
    rest = h.in_len - start;
    if (h.serial_wait) { /* complete lines wait for the answer before them */
        memmove(h.in, h.in + start, rest);
        h.in_len = rest;
        goto done;
    }
    if (!h.draining && rest > PS_PROTO_LINE_MAX) {
        h.drain_has_id = ps_proto_guess_id(&h.proto, h.in + start, rest, h.drain_id);
        h.draining = true;
    }
    if (h.draining) {
        h.in_len = 0;
    } else {
        memmove(h.in, h.in + start, rest);
        h.in_len = rest;
    }
    if (eof && h.draining) {
        h.draining = false;
        rc = answer_error(h.drain_has_id, h.drain_id, PS_PROTO_TOOLONG_MSG);
    } else if (eof && h.in_len > 0) {
        rc = answer_line(h.in, h.in_len);
        h.in_len = 0;
    }
done:
    ps_snapshot_release(h.snap);
    h.snap = NULL;
    return rc;
}

/* Serve stdin until EOF and every queued request is answered. Returns the exit status. */
static int
serve(void)
{
    struct ps_err err;
    struct pollfd pfd[2];
    ssize_t n;
    bool want_in;

    for (;;) {
        if (h.eof && h.outstanding == 0 && !h.serial_wait)
            return 0;
        /* While a line without channel-ID waits for its check, read nothing more. */
        want_in = !h.eof && !h.serial_wait;
        pfd[0].fd = want_in ? STDIN_FILENO : -1;
        pfd[0].events = POLLIN;
        pfd[1].fd = h.verifier != NULL ? h.wake[0] : -1;
        pfd[1].events = POLLIN;
        pfd[0].revents = pfd[1].revents = 0;
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            ps_log(PS_LOG_ERROR, "poll: %s", strerror(errno));
            return 1;
        }
        if (pfd[1].revents != 0) {
            if (answer_checked() < 0)
                return 1;
            /* lines that waited behind a serial check */
            if (!h.serial_wait && h.in_len > 0 && process_input(h.eof) < 0)
                return 1;
            if (flush_out() < 0)
                return 1;
        }
        if (pfd[0].revents == 0)
            continue;
        n = read(STDIN_FILENO, h.in + h.in_len, sizeof(h.in) - h.in_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0) {
            ps_log(PS_LOG_ERROR, "stdin: %s", strerror(errno));
            return 1;
        }
        h.in_len += (size_t)n;
        h.eof = n == 0;
        if (h.metrics != NULL)
            h.read_ns = ps_metrics_now_ns();
        /* answer everything complete, then write it all before reading again */
        if (process_input(h.eof) < 0 || flush_out() < 0)
            return 1;
        if (h.poll_inline && ps_reload_poll(h.reload, false, &err) < 0)
            ps_log(PS_LOG_DEBUG, "%s", err.msg);
    }
}

static void
log_loaded(const char *db)
{
    struct ps_snapshot_stats st;
    struct ps_snapshot *snap = ps_reload_acquire(h.reload);

    ps_snapshot_stats(snap, &st);
    ps_snapshot_release(snap);
    ps_log(PS_LOG_INFO, "%s: loaded %zu rules, %zu domains", db, st.rules, st.domains);
}

struct metrics_opts {
    const char *path;
    unsigned long interval_s;
};

static void
parse_args(int argc, char **argv, const char **db, unsigned long *interval, int *log_level,
           struct metrics_opts *mo)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"reload-interval", required_argument, NULL, 'r'},
        {"fail-open", no_argument, NULL, 'f'},
        {"debug", no_argument, NULL, 'D'},
        {"concurrency", no_argument, NULL, 'c'},
        {"no-concurrency", no_argument, NULL, 'n'},
        {"metrics", required_argument, NULL, 'm'},
        {"metrics-interval", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    enum ps_proto_mode mode = PS_PROTO_AUTO;
    struct ps_err err;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (optarg[0] == '\0')
                fatal("--db: empty path");
            *db = optarg;
            break;
        case 'r':
            if (ps_proto_parse_ulong("--reload-interval", optarg, 10, 3600000, interval, &err) < 0)
                fatal("%s", err.msg);
            break;
        case 'f':
            h.fail_open = true;
            break;
        case 'D':
            *log_level = PS_LOG_DEBUG;
            h.debug = true;
            break;
        case 'c':
            mode = PS_PROTO_CONCURRENT;
            break;
        case 'n':
            mode = PS_PROTO_SERIAL;
            break;
        case 'm':
            if (ps_metrics_path_check(optarg, &err) < 0)
                fatal("--metrics: %s", err.msg);
            mo->path = optarg;
            break;
        case 'M':
            if (ps_proto_parse_ulong("--metrics-interval", optarg, 1, 3600, &mo->interval_s,
                                     &err) < 0)
                fatal("%s", err.msg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf(PROG " (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
            exit(0);
        case ':':
            fatal("%s: missing argument (see --help)", argv[optind - 1]);
        default:
            fatal("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        fatal("unexpected argument '%s' (see --help)", argv[optind]);
    if (mo->path == NULL && mo->interval_s != 0)
        fatal("--metrics-interval without --metrics");
    ps_proto_init(&h.proto, mode);
}

int
main(int argc, char **argv)
{
    const char *db = getenv("PINSPLICE_DB");
    unsigned long interval = 1000;
    int log_level = PS_LOG_INFO, rc;
    struct ps_err err = {0, ""};
    struct metrics_opts mo = {NULL, 0};

    if (db == NULL || db[0] == '\0')
        db = ps_default_db_path();
    parse_args(argc, argv, &db, &interval, &log_level, &mo);
    signal(SIGPIPE, SIG_IGN);
    ps_log_set(log_stderr, NULL, log_level);

    h.reload = ps_reload_new(db, (unsigned)interval);
    if (h.reload == NULL)
        fatal("out of memory");
    /* A missing or broken DB is not fatal: answer ERR "rules unavailable" until it loads. */
    if (ps_reload_poll(h.reload, true, &err) < 0)
        ps_log(PS_LOG_ERROR, "%s (rules unavailable: %s until it loads)", err.msg,
               h.fail_open ? "splicing everything (--fail-open)" : "bumping everything");
    else
        log_loaded(db);
    if (ps_reload_start(h.reload) < 0) {
        ps_log(PS_LOG_ERROR, "cannot start the reload thread: checking %s between requests", db);
        h.poll_inline = true;
    }
    /* Server checks run on the verifier's threads; their answers come back through h.wake. */
    pthread_mutex_init(&h.done_mu, NULL);
    if (pipe(h.wake) < 0 || fcntl(h.wake[0], F_SETFL, O_NONBLOCK) < 0 ||
        fcntl(h.wake[1], F_SETFL, O_NONBLOCK) < 0)
        ps_log(PS_LOG_ERROR, "cannot start server checks (pipe: %s): splices that need one "
               "are bumped", strerror(errno));
    else if ((h.verifier = ps_verifier_new(NULL, &err)) == NULL)
        ps_log(PS_LOG_ERROR, "cannot start server checks (%s): splices that need one are bumped",
               err.msg);
    /* Counted from here on; the file is written by the metrics thread, never by serve(). */
    if (mo.path != NULL) {
        h.metrics = ps_metrics_new(mo.path, PROG, &err);
        if (h.metrics == NULL) {
            ps_log(PS_LOG_ERROR, "%s: no metrics", err.msg);
        } else {
            ps_metrics_single_writer(h.metrics); /* only this thread answers */
            ps_metrics_set_reload(h.metrics, h.reload);
            ps_metrics_set_verifier(h.metrics, h.verifier);
            if (ps_metrics_start(h.metrics, mo.interval_s != 0 ? (unsigned)mo.interval_s : 5) < 0)
                ps_log(PS_LOG_ERROR, "cannot start the metrics thread: %s is not written",
                       ps_metrics_path(h.metrics));
        }
    }
    rc = serve();
    ps_metrics_free(h.metrics);
    ps_verifier_free(h.verifier);
    ps_reload_free(h.reload);
    return rc;
}
