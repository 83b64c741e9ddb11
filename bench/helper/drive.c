/*
 * drive: a load driver for Squid helpers, for bench/helper/run.sh. Spawns a helper command with
 * pipes and sends it request lines as Squid does:
 *   - lock-step (-k 0, Squid's default for a helper without concurrency=): write one line, read
 *     one reply, repeat;
 *   - K in flight (-k K, Squid's concurrency=K): every line starts with a channel-ID taken from a
 *     counter (1, 2, 3, ... as Squid numbers them), K requests are kept outstanding, replies are
 *     read as they come, in any order, and matched to their request by ID.
 * The first request is written right after the spawn and alone: the time to its reply is the
 * "first answer" figure (startup and rule loading included). The rate is counted from that reply
 * on (steady state) until the last reply.
 *
 * A failed answer is one whose channel-ID is missing or not outstanding (wrong or repeated), a
 * reply that is not OK or ERR, an answer not received because the helper died or stalled for
 * -T seconds; with -E, also a verdict (OK/ERR) other than the expected one for that query.
 *
 * Usage: drive -q QUERIES [-k K] [-n N | -d SECS] [-S FILE] [-E VERDICTS] [-W VERDICTS]
 *              [-L LOG] [-T SECS] [-l LABEL] -- COMMAND [ARG...]
 *   -q FILE   request lines without channel-ID, one per line; sent in order, cycled
 *   -k K      requests in flight with channel-IDs (1..1024); 0 = lock-step, no IDs (default)
 *   -n N      stop after N requests (the first included)
 *   -d SECS   stop sending SECS seconds after the first answer (default 5 when -n is not given)
 *   -S FILE   also stop sending as soon as FILE exists (checked every 0.1 s)
 *   -W FILE   write each query line's verdict (O = OK, E = ERR, ? = not seen) to FILE
 *   -E FILE   expect those verdicts ('?' entries are not checked)
 *   -L FILE   the helper's stderr (default: /dev/null)
 *   -T SECS   a helper that answers nothing for SECS seconds has stalled (default 30)
 *   -l LABEL  printed first in the result line
 * Output: one line of key=value pairs on stdout; max_gap_ms is the longest wait for a reply while
 * requests were outstanding, after the first answer (a stall, e.g. while rules are swapped). Exit:
 * 0 when no answer failed, 1 when one did, 2 on a usage or setup error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define K_MAX 1024
#define SLOTS 65536 /* channel-ID table: id & (SLOTS - 1); a power of two, far above K_MAX */
#define IN_MAX (256 * 1024)
#define OUT_MAX (1024 * 1024)
#define REPLY_LINE_MAX 65536
#define QUERY_MAX 65536 /* longest query line accepted (bytes) */

struct query {
    const char *s;
    size_t len;
};

struct slot {
    uint64_t id; /* 0 = free */
    size_t q;    /* the query line it carries */
};

struct drive {
    /* options */
    const char *label, *qfile, *want_file, *write_file, *log_file, *stop_file;
    unsigned long k, n, stall_s;
    double secs;
    char **argv;
    /* queries and verdicts */
    char *qbuf;
    struct query *q;
    size_t nq;
    char *want, *seen; /* one verdict character per query, or NULL */
    /* helper */
    pid_t pid;
    int to, from;
    /* state */
    uint64_t next_id; /* last channel-ID sent */
    size_t next_q;    /* next query line to send */
    unsigned long sent, answered, outstanding;
    size_t lock_q;      /* lock-step: the query in flight */
    struct slot *slots; /* -k: outstanding requests by channel-ID */
    char in[IN_MAX];
    size_t in_len;
    bool skipping; /* discarding an over-long reply line */
    char out[OUT_MAX];
    size_t out_len, out_off;
    /* results */
    unsigned long ok, err, failed, wrong, bad_id, bad_reply, lost;
    double t_spawn, t_first, t_last, max_gap, stop_checked;
    bool stop_seen;
    unsigned long long ticks_first, ticks_last;
    struct rusage self_first, self_last;
    bool stalled, died;
};

static struct drive D;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...);

static void
die(const char *fmt, ...)
{
    va_list ap;

    fputs("drive: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (D.pid > 0)
        kill(D.pid, SIGKILL);
    exit(2);
}

static unsigned long
parse_ulong(const char *what, const char *s, unsigned long lo, unsigned long hi)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        die("%s: '%s' is not a number in %lu..%lu", what, s, lo, hi);
    return v;
}

/* Read a whole file into a NUL-terminated heap buffer. */
static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("%s: cannot size it", path);
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size)
        die("%s: cannot read it", path);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static void
load_queries(void)
{
    size_t len, i, start = 0, cap = 0;

    D.qbuf = slurp(D.qfile, &len);
    for (i = 0; i < len; i++)
        cap += D.qbuf[i] == '\n';
    D.q = calloc(cap + 1, sizeof(*D.q));
    if (D.q == NULL)
        die("out of memory");
    for (i = 0; i < len; i++) {
        if (D.qbuf[i] != '\n')
            continue;
        if (i - start > QUERY_MAX)
            die("%s: line %zu is over %d bytes", D.qfile, D.nq + 1, QUERY_MAX);
        /* the line is sent with its newline */
        D.q[D.nq].s = D.qbuf + start;
        D.q[D.nq].len = i - start + 1;
        D.nq++;
        start = i + 1;
    }
    if (D.nq == 0)
        die("%s: no complete line", D.qfile);
    D.seen = malloc(D.nq + 1);
    if (D.seen == NULL)
        die("out of memory");
    memset(D.seen, '?', D.nq);
    D.seen[D.nq] = '\0';
    if (D.want_file != NULL) {
        D.want = slurp(D.want_file, &len);
        if (len > 0 && D.want[len - 1] == '\n')
            D.want[--len] = '\0';
        if (len != D.nq)
            die("%s: %zu verdicts for %zu queries", D.want_file, len, D.nq);
    }
}

static void
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));
}

static void
spawn(void)
{
    int in_p[2], out_p[2], log_fd;

    if (pipe(in_p) < 0 || pipe(out_p) < 0)
        die("pipe: %s", strerror(errno));
    log_fd = open(D.log_file ? D.log_file : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_fd < 0)
        die("%s: %s", D.log_file, strerror(errno));
    D.t_spawn = now_s();
    D.pid = fork();
    if (D.pid < 0)
        die("fork: %s", strerror(errno));
    if (D.pid == 0) {
        if (dup2(in_p[0], STDIN_FILENO) < 0 || dup2(out_p[1], STDOUT_FILENO) < 0 ||
            dup2(log_fd, STDERR_FILENO) < 0)
            _exit(127);
        close(in_p[0]);
        close(in_p[1]);
        close(out_p[0]);
        close(out_p[1]);
        close(log_fd);
        execvp(D.argv[0], D.argv);
        dprintf(STDERR_FILENO, "drive: %s: %s\n", D.argv[0], strerror(errno));
        _exit(127);
    }
    close(in_p[0]);
    close(out_p[1]);
    close(log_fd);
    D.to = in_p[1];
    D.from = out_p[0];
    set_nonblock(D.to);
    set_nonblock(D.from);
}

/* The helper's user + system CPU so far, in clock ticks (0 when it cannot be read). */
static unsigned long long
helper_ticks(void)
{
    char path[64], buf[1024], *p, *end;
    unsigned long long t = 0, v;
    size_t len;
    FILE *f;
    int field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)D.pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces; fields 3.. follow it */
    if (p == NULL)
        return 0;
    p++;
    for (field = 3; field <= 15; field++) {
        while (*p == ' ')
            p++;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (field >= 14 && (errno != 0 || end == p))
            return 0;
        if (field >= 14)
            t += v;
        p = strchr(p, ' ');
        if (p == NULL && field < 15)
            return 0;
    }
    return t;
}

/* Append one request (channel-ID, when -k, then the query line) to the output buffer. */
static void
queue_request(void)
{
    const struct query *q = &D.q[D.next_q];
    char idbuf[24], *p = idbuf + sizeof(idbuf);
    uint64_t id;
    size_t idlen = 0;
    struct slot *s;

    if (D.k > 0) {
        id = ++D.next_id;
        s = &D.slots[id & (SLOTS - 1)];
        if (s->id != 0) {
            /* SLOTS requests later and still unanswered: count it lost, reuse the slot */
            D.lost++;
            D.outstanding--;
        }
        s->id = id;
        s->q = D.next_q;
        *--p = ' ';
        do {
            *--p = (char)('0' + id % 10);
            id /= 10;
        } while (id > 0);
        idlen = (size_t)(idbuf + sizeof(idbuf) - p);
        memcpy(D.out + D.out_len, p, idlen);
        D.out_len += idlen;
    } else {
        D.lock_q = D.next_q;
    }
    memcpy(D.out + D.out_len, q->s, q->len);
    D.out_len += q->len;
    D.next_q = D.next_q + 1 == D.nq ? 0 : D.next_q + 1;
    D.sent++;
    D.outstanding++;
}

static bool
sending_allowed(double now)
{
    if (D.n > 0 && D.sent >= D.n)
        return false;
    if (D.n == 0 && D.t_first > 0 && now - D.t_first >= D.secs)
        return false;
    if (D.stop_file != NULL && !D.stop_seen && now - D.stop_checked >= 0.1) {
        struct stat st;

        D.stop_checked = now;
        D.stop_seen = stat(D.stop_file, &st) == 0;
    }
    return !D.stop_seen;
}

/* Queue requests up to the in-flight limit (only the first one until it is answered). */
static void
fill(double now)
{
    unsigned long limit = D.k > 0 ? D.k : 1;

    if (D.t_first == 0)
        limit = 1;
    while (D.outstanding < limit && D.out_len + D.q[D.next_q].len + 24 <= sizeof(D.out) &&
           sending_allowed(now))
        queue_request();
}

/* Write what is queued without blocking. Returns false when the helper's stdin is gone. */
static bool
flush_out(void)
{
    ssize_t n;

    while (D.out_off < D.out_len) {
        n = write(D.to, D.out + D.out_off, D.out_len - D.out_off);
        if (n > 0)
            D.out_off += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        else
            return false;
    }
    D.out_off = D.out_len = 0;
    return true;
}

/* Parse "OK" / "ERR" (then a space, CR or end) at s. Returns 'O', 'E' or 0. */
static char
verdict(const char *s, size_t len)
{
    if (len >= 2 && memcmp(s, "OK", 2) == 0 && (len == 2 || s[2] == ' ' || s[2] == '\r'))
        return 'O';
    if (len >= 3 && memcmp(s, "ERR", 3) == 0 && (len == 3 || s[3] == ' ' || s[3] == '\r'))
        return 'E';
    return 0;
}

/* Account one reply line (without its newline). */
static void
take_reply(const char *s, size_t len, double now)
{
    size_t d = 0, qi;
    uint64_t id = 0;
    struct slot *sl;
    char v;

    if (D.k > 0) {
        while (d < len && d < 20 && s[d] >= '0' && s[d] <= '9')
            id = id * 10 + (uint64_t)(s[d++] - '0');
        sl = &D.slots[id & (SLOTS - 1)];
        if (d == 0 || d >= len || s[d] != ' ' || id == 0 || sl->id != id) {
            D.bad_id++; /* no ID, or not one that is outstanding: Squid cannot use it */
            return;
        }
        sl->id = 0;
        qi = sl->q;
        s += d + 1;
        len -= d + 1;
    } else {
        if (D.outstanding == 0) {
            D.bad_reply++; /* a reply nobody asked for */
            return;
        }
        qi = D.lock_q;
    }
    D.outstanding--;
    D.answered++;
    if (D.t_first == 0) {
        D.t_first = now;
        D.ticks_first = helper_ticks();
        getrusage(RUSAGE_SELF, &D.self_first);
    }
    if (now - D.t_last > D.max_gap && D.t_last > 0)
        D.max_gap = now - D.t_last;
    D.t_last = now;
    v = verdict(s, len);
    if (v == 0) {
        D.bad_reply++;
        return;
    }
    if (v == 'O')
        D.ok++;
    else
        D.err++;
    if (D.want != NULL && D.want[qi] != '?' && D.want[qi] != v)
        D.wrong++;
    D.seen[qi] = v;
}

/* Read what the helper wrote and account every complete line. Returns false at end of file. */
static bool
read_replies(void)
{
    size_t start = 0, len;
    const char *nl;
    double now;
    ssize_t n;

    n = read(D.from, D.in + D.in_len, sizeof(D.in) - D.in_len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
    if (n <= 0)
        return false;
    now = now_s();
    D.in_len += (size_t)n;
    while ((nl = memchr(D.in + start, '\n', D.in_len - start)) != NULL) {
        len = (size_t)(nl - (D.in + start));
        if (D.skipping)
            D.skipping = false;
        else
            take_reply(D.in + start, len, now);
        start += len + 1;
    }
    if (D.in_len - start > REPLY_LINE_MAX) {
        if (!D.skipping)
            D.bad_reply++;
        D.skipping = true;
        start = D.in_len;
    }
    memmove(D.in, D.in + start, D.in_len - start);
    D.in_len -= start;
    return true;
}

static void
run(void)
{
    struct pollfd pfd[2];
    double now = now_s(), progress = now;
    unsigned long before;
    int nfds;

    for (;;) {
        fill(now);
        if (!flush_out()) {
            D.died = true;
            break;
        }
        if (D.outstanding == 0 && !sending_allowed(now))
            break;
        pfd[0] = (struct pollfd){.fd = D.from, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = D.to, .events = POLLOUT};
        nfds = D.out_off < D.out_len ? 2 : 1;
        if (poll(pfd, (nfds_t)nfds, 1000) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        before = D.answered + D.bad_id + D.bad_reply;
        if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && !read_replies()) {
            D.died = true;
            break;
        }
        now = now_s();
        if (D.answered + D.bad_id + D.bad_reply != before)
            progress = now;
        else if (now - progress > (double)D.stall_s) {
            D.stalled = true;
            break;
        }
    }
    D.ticks_last = helper_ticks();
    getrusage(RUSAGE_SELF, &D.self_last);
    D.lost += D.outstanding;
}

/* Close the helper's stdin and reap it (killing it when it does not exit within 5 s). */
static int
reap(void)
{
    int status = 0, i;

    close(D.to);
    for (i = 0; i < 500; i++) {
        if (waitpid(D.pid, &status, WNOHANG) == D.pid)
            goto done;
        usleep(10000);
    }
    kill(D.pid, SIGKILL);
    waitpid(D.pid, &status, 0);
done:
    D.pid = 0;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static double
tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void
report(int helper_status)
{
    unsigned long steady = D.answered > 0 ? D.answered - 1 : 0;
    double secs = D.t_last - D.t_first, hz = (double)sysconf(_SC_CLK_TCK);
    double self_cpu = tv_s(&D.self_last.ru_utime) + tv_s(&D.self_last.ru_stime) -
                      tv_s(&D.self_first.ru_utime) - tv_s(&D.self_first.ru_stime);
    double helper_cpu = (double)(D.ticks_last - D.ticks_first) / hz;

    D.failed = D.bad_id + D.bad_reply + D.lost + D.wrong;
    printf("%s%s%smode=%s k=%lu requests=%lu secs=%.3f rate=%.0f first_answer_ms=%.1f ok=%lu "
           "err=%lu failed=%lu bad_id=%lu bad_reply=%lu lost=%lu wrong=%lu "
           "max_gap_ms=%.1f helper_cpu_us=%.2f driver_cpu_us=%.2f helper_exit=%d%s%s\n",
           D.label ? "label=" : "", D.label ? D.label : "", D.label ? " " : "",
           D.k > 0 ? "inflight" : "lockstep", D.k, steady, secs,
           secs > 0 ? (double)steady / secs : 0.0,
           D.t_first > 0 ? (D.t_first - D.t_spawn) * 1e3 : -1.0, D.ok, D.err, D.failed, D.bad_id,
           D.bad_reply, D.lost, D.wrong, D.max_gap * 1e3,
           steady > 0 ? helper_cpu * 1e6 / (double)steady : 0.0,
           steady > 0 ? self_cpu * 1e6 / (double)steady : 0.0, helper_status,
           D.stalled ? " stalled=1" : "", D.died ? " died=1" : "");
}

static void
write_verdicts(void)
{
    FILE *f = fopen(D.write_file, "w");

    if (f == NULL || fprintf(f, "%s\n", D.seen) < 0 || fclose(f) != 0)
        die("%s: cannot write it", D.write_file);
}

static void
parse_args(int argc, char **argv)
{
    int c;

    D.stall_s = 30;
    while ((c = getopt(argc, argv, "q:k:n:d:S:E:W:L:T:l:")) != -1) {
        switch (c) {
        case 'q':
            D.qfile = optarg;
            break;
        case 'k':
            D.k = parse_ulong("-k", optarg, 0, K_MAX);
            break;
        case 'n':
            D.n = parse_ulong("-n", optarg, 1, 4000000000UL);
            break;
        case 'd':
            D.secs = (double)parse_ulong("-d", optarg, 1, 3600);
            break;
        case 'S':
            D.stop_file = optarg;
            break;
        case 'E':
            D.want_file = optarg;
            break;
        case 'W':
            D.write_file = optarg;
            break;
        case 'L':
            D.log_file = optarg;
            break;
        case 'T':
            D.stall_s = parse_ulong("-T", optarg, 1, 3600);
            break;
        case 'l':
            D.label = optarg;
            break;
        default:
            die("usage: drive -q QUERIES [-k K] [-n N | -d SECS] [-S FILE] [-E FILE] [-W FILE] "
                "[-L LOG] [-T SECS] [-l LABEL] -- COMMAND [ARG...]");
        }
    }
    if (D.qfile == NULL || optind >= argc)
        die("need -q QUERIES and a COMMAND (see the comment at the top of drive.c)");
    if (D.n == 0 && D.secs == 0)
        D.secs = 5;
    D.argv = argv + optind;
}

int
main(int argc, char **argv)
{
    int status;

    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    load_queries();
    if (D.k > 0 && (D.slots = calloc(SLOTS, sizeof(*D.slots))) == NULL)
        die("out of memory");
    spawn();
    run();
    status = reap();
    report(status);
    if (D.write_file != NULL)
        write_verdicts();
    return D.failed > 0 ? 1 : 0;
}
