/*
 * icap_load: a small ICAP REQMOD load driver for bench/icap/run.sh.
 *
 * Sends CONNECT requests shaped like Squid 5.7's (Preview: 0, Allow: 204, X-Client-IP,
 * Encapsulated: req-hdr=0, null-body=N) over C persistent connections (one thread each, one
 * request in flight per connection, as Squid does) for D seconds, and prints the rate, the ICAP
 * status counts and latency percentiles.
 *
 * -S PCT: the share of requests (0..100, default 25, spread evenly) that go to host names the
 * shipped default rules splice; the others go to names they bump. Each request says which it
 * is in an ICAP header, "X-Bench-Expect: splice|bump": srv_floor answers by it (200 with a header
 * for splice, 204 for bump), every other service ignores it. When a reply carries
 * "X-Pinsplice-Action", it is checked against that expectation: a mismatch counts as "wrong" (a
 * fast but wrong answer is no result).
 *
 * Usage: icap_load [-p PORT] [-s SERVICE] [-c CONNECTIONS] [-d SECONDS] [-w WARMUP_SECONDS]
 *                  [-S SPLICE_PERCENT]
 * Loopback only (127.0.0.1). Output: one line of key=value pairs; exit 1 on any error, wrong
 * decision or ICAP status other than 200/204.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 256
#define MAX_LAT 200000 /* latency samples kept per thread, at most */
#define BUF 16384

/* Spliced by sql/defaults.sql (or a subdomain of a name it splices). */
static const char *const spliced[] = {
    "zoom.us:443",     "www.zoom.us:443",    "webex.com:443",        "www.spotify.com:443",
    "dropbox.com:443", "www.icloud.com:443", "itunes.apple.com:443", "login.live.com:443",
};
/* No default rule: bumped. */
static const char *const bumped[] = {
    "evilzoom.us:443",         "www.example.com:443",
    "teams.microsoft.com:443", "login.microsoftonline.com:443",
    "news.example.org:443",    "api.bank.example:443",
    "zoom.us.example.net:443", "cdn.example.org:443",
};
#define N_SPLICED (sizeof(spliced) / sizeof(spliced[0]))
#define N_BUMPED (sizeof(bumped) / sizeof(bumped[0]))

static int port = 1344, conns = 8, duration = 5, warmup = 1, splice_pct = 25;
static const char *service = "pinsplice";
static atomic_int running = 1, measuring = 0;

struct worker {
    pthread_t th;
    int id;
    unsigned long ok200, ok204, other, errors, count, wrong, announced;
    double *lat;
    size_t nlat;
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int
connect_icap(void)
{
    struct sockaddr_in sa;
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read one ICAP response: the ICAP header block, then the encapsulated header block whose
 * length the Encapsulated header gives (null-body=N). Returns the status or -1; *action is 's'
 * or 'b' when the ICAP headers say "X-Pinsplice-Action: splice|bump", 't' for terminate, 0 when
 * absent. Bytes beyond the response stay in buf (*have). */
static int
read_response(int fd, char *buf, size_t *have, char *action)
{
    static const char xa[] = "\r\nX-Pinsplice-Action: ";
    size_t need = 0;
    char *eoh = NULL;
    int status = -1;

    for (;;) {
        if (eoh == NULL) {
            buf[*have] = '\0';
            eoh = strstr(buf, "\r\n\r\n");
            if (eoh != NULL) {
                const char *nb = strstr(buf, "null-body=");
                const char *a = strstr(buf, xa);
                size_t hlen = (size_t)(eoh + 4 - buf);
                if (strncmp(buf, "ICAP/1.0 ", 9) != 0)
                    return -1;
                status = (int)strtol(buf + 9, NULL, 10);
                *action = a != NULL && a < eoh ? a[sizeof(xa) - 1] : 0;
                need = hlen;
                if (nb != NULL && nb < eoh)
                    need += (size_t)strtoul(nb + 10, NULL, 10);
            }
        }
        if (eoh != NULL && *have >= need) {
            memmove(buf, buf + need, *have - need);
            *have -= need;
            return status;
        }
        if (*have >= BUF - 1)
            return -1;
        ssize_t r = read(fd, buf + *have, BUF - 1 - *have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        *have += (size_t)r;
    }
}

static int
build_request(char *out, size_t size, const char *target, bool splice, int client)
{
    char http[512];
    int hl;

    hl = snprintf(http, sizeof(http),
                  "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
                  "Proxy-Connection: Keep-Alive\r\n\r\n",
                  target, target);
    return snprintf(
        out, size,
        "REQMOD icap://127.0.0.1:%d/%s ICAP/1.0\r\nHost: 127.0.0.1:%d\r\n"
        "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\nEncapsulated: req-hdr=0, null-body=%d\r\n"
        "Preview: 0\r\nAllow: 204, trailers\r\nX-Client-IP: 10.0.%d.%d\r\n"
        "X-Bench-Expect: %s\r\n\r\n%s",
        port, service, port, hl, (client >> 8) & 0xff, client & 0xff, splice ? "splice" : "bump",
        http);
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    char req[1024], buf[BUF];
    size_t have = 0;
    unsigned i = (unsigned)w->id, k = 0, ns = (unsigned)w->id, nb = (unsigned)w->id;
    int fd = connect_icap();

    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    while (atomic_load(&running)) {
        /* k-th request of this thread: splice when floor(k * pct / 100) steps up. */
        bool splice = (k + 1) * (unsigned)splice_pct / 100 != k * (unsigned)splice_pct / 100;
        const char *target = splice ? spliced[ns++ % N_SPLICED] : bumped[nb++ % N_BUMPED];
        int n = build_request(req, sizeof(req), target, splice, (int)(i % 50000) + 1);
        double t0 = now_s();
        char action = 0;
        int st;

        i += (unsigned)conns;
        k++;
        if (write_all(fd, req, (size_t)n) < 0 ||
            (st = read_response(fd, buf, &have, &action)) < 0) {
            w->errors++;
            close(fd);
            have = 0;
            fd = connect_icap();
            if (fd < 0)
                break;
            continue;
        }
        if (!atomic_load(&measuring))
            continue;
        w->count++;
        if (st == 200)
            w->ok200++;
        else if (st == 204)
            w->ok204++;
        else
            w->other++;
        if (action != 0) {
            w->announced++;
            if (action != (splice ? 's' : 'b'))
                w->wrong++;
        }
        if (w->nlat < MAX_LAT)
            w->lat[w->nlat++] = now_s() - t0;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    static struct worker ws[MAX_CONN];
    unsigned long total = 0, c200 = 0, c204 = 0, other = 0, errors = 0, wrong = 0, announced = 0;
    size_t nlat = 0, k;
    double *all, t0, t1;
    int i, opt;

    while ((opt = getopt(argc, argv, "p:s:c:d:w:S:")) != -1) {
        int bad = 0;
        switch (opt) {
        case 'p':
            bad = parse_int(optarg, 1, 65535, &port);
            break;
        case 's':
            service = optarg;
            break;
        case 'c':
            bad = parse_int(optarg, 1, MAX_CONN, &conns);
            break;
        case 'd':
            bad = parse_int(optarg, 1, 3600, &duration);
            break;
        case 'w':
            bad = parse_int(optarg, 0, 600, &warmup);
            break;
        case 'S':
            bad = parse_int(optarg, 0, 100, &splice_pct);
            break;
        default:
            bad = -1;
        }
        if (bad < 0) {
            fprintf(stderr,
                    "usage: icap_load [-p PORT] [-s SERVICE] [-c 1..%d] [-d SECONDS] "
                    "[-w WARMUP] [-S SPLICE_PERCENT]\n",
                    MAX_CONN);
            return 2;
        }
    }
    for (i = 0; i < conns; i++) {
        ws[i].id = i;
        ws[i].lat = malloc(sizeof(double) * MAX_LAT);
        if (ws[i].lat == NULL || pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
            fprintf(stderr, "icap_load: cannot start thread %d\n", i);
            return 2;
        }
    }
    sleep((unsigned)warmup);
    atomic_store(&measuring, 1);
    t0 = now_s();
    sleep((unsigned)duration);
    atomic_store(&measuring, 0);
    t1 = now_s();
    atomic_store(&running, 0);
    for (i = 0; i < conns; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].count;
        c200 += ws[i].ok200;
        c204 += ws[i].ok204;
        other += ws[i].other;
        errors += ws[i].errors;
        wrong += ws[i].wrong;
        announced += ws[i].announced;
        nlat += ws[i].nlat;
    }
    all = malloc(sizeof(double) * (nlat ? nlat : 1));
    if (all == NULL)
        return 2;
    for (k = 0, i = 0; i < conns; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof(double));
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, nlat, sizeof(double), cmp_double);
    printf("service=%s conns=%d splice_pct=%d seconds=%.2f requests=%lu rate=%.0f icap200=%lu "
           "icap204=%lu other=%lu errors=%lu announced=%lu wrong=%lu p50_us=%.0f p99_us=%.0f\n",
           service, conns, splice_pct, t1 - t0, total, total / (t1 - t0), c200, c204, other, errors,
           announced, wrong, nlat ? all[nlat / 2] * 1e6 : 0.0,
           nlat ? all[(size_t)(nlat * 0.99)] * 1e6 : 0.0);
    free(all);
    return errors > 0 || other > 0 || wrong > 0 ? 1 : 0;
}
