/*
 * ext_pinsplice_acl: Squid external_acl_type helper. Reads request lines on stdin, answers each
 * with one OK/ERR line on stdout. All protocol logic is in lib/proto.c and every decision in
 * lib/decide.c; this file only moves bytes, holds the reloading rules and maps failures to ERR.
 * See ext_pinsplice_acl(8).
 */
#include "config.h"

#include <errno.h>
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

#include "decide.h"
#include "err.h"
#include "proto.h"
#include "reload.h"
#include "snapshot.h"

#define PROG "ext_pinsplice_acl"
#define DEFAULT_DB PS_LOCALSTATEDIR "/lib/pinsplice/rules.db"
#define READ_CHUNK 65536
#define OUT_MAX (256 * 1024)
#define WARN_EVERY_S 10 /* at most one malformed-request warning per this many seconds */

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
               "       [--concurrency | --no-concurrency]\n"
               "Squid external ACL helper: answers whether pinsplice's decision for a TLS\n"
               "connection equals the acl's argument (splice, bump or terminate).\n"
               "Input:  [CHANNEL-ID] SNI CONNECT-HOST CLIENT-IP USER PROGRAM ACTION\n"
               "Output: [CHANNEL-ID] OK|ERR pinsplice_action_=A pinsplice_rule_=R message=M\n"
               "  --db PATH             rules database (default $PINSPLICE_DB, else\n"
               "                        " DEFAULT_DB ")\n"
               "  --reload-interval MS  also check the DB every MS ms (default 1000; inotify first)\n"
               "  --fail-open           splice when no rules could be loaded (default: bump)\n"
               "  --concurrency         every line starts with a channel-ID\n"
               "  --no-concurrency      no line starts with a channel-ID\n"
               "                        (default: detected per line: 7 fields = channel-ID)\n"
               "  --debug               log every request and reply to stderr\n"
               "  --help, --version\n");
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
    return 0;
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
    if (h.snap == NULL && h.fail_open) {
        d.action = PS_ACTION_SPLICE;
        msg = "rules unavailable (fail-open)";
    }
    n = ps_proto_reply_decision(&h.req, &d, msg, slot, PS_PROTO_REPLY_MAX);
    if (h.debug)
        ps_log(PS_LOG_DEBUG, "'%.*s' -> %.*s", len > 600 ? 600 : (int)len, line, (int)n - 1, slot);
    h.out_len += n;
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
    while (rc == 0 && (nl = memchr(h.in + start, '\n', h.in_len - start)) != NULL) {
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
    if (eof && h.draining)
        rc = answer_error(h.drain_has_id, h.drain_id, PS_PROTO_TOOLONG_MSG);
    else if (eof && h.in_len > 0)
        rc = answer_line(h.in, h.in_len);
done:
    ps_snapshot_release(h.snap);
    h.snap = NULL;
    return rc;
}

/* Serve stdin until EOF. Returns the exit status. */
static int
serve(void)
{
    struct ps_err err;
    ssize_t n;

    for (;;) {
        n = read(STDIN_FILENO, h.in + h.in_len, sizeof(h.in) - h.in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            wait_fd(STDIN_FILENO, POLLIN);
            continue;
        }
        if (n < 0) {
            ps_log(PS_LOG_ERROR, "stdin: %s", strerror(errno));
            return 1;
        }
        h.in_len += (size_t)n;
        /* answer everything complete, then write it all before reading again */
        if (process_input(n == 0) < 0 || flush_out() < 0)
            return 1;
        if (n == 0)
            return 0;
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

static void
parse_args(int argc, char **argv, const char **db, unsigned long *interval, int *log_level)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"reload-interval", required_argument, NULL, 'r'},
        {"fail-open", no_argument, NULL, 'f'},
        {"debug", no_argument, NULL, 'D'},
        {"concurrency", no_argument, NULL, 'c'},
        {"no-concurrency", no_argument, NULL, 'n'},
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
    ps_proto_init(&h.proto, mode);
}

int
main(int argc, char **argv)
{
    const char *db = getenv("PINSPLICE_DB");
    unsigned long interval = 1000;
    int log_level = PS_LOG_INFO, rc;
    struct ps_err err = {0, ""};

    if (db == NULL || db[0] == '\0')
        db = DEFAULT_DB;
    parse_args(argc, argv, &db, &interval, &log_level);
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
    rc = serve();
    ps_reload_free(h.reload);
    return rc;
}
