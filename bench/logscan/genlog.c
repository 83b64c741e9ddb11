/*
 * genlog: a deterministic synthetic Squid access.log for benchmarking `pinsplice logscan`.
 *
 *     genlog squid|pinsplice LINES [SEED] > access.log
 *
 * The same SEED gives the same bytes. The traffic mix imitates a bumping proxy with pinsplice:
 * per connection, 62% bumped with 1-4 requests, 20% spliced (CONNECT + tunnel record), 2% a
 * client rejecting the bumped certificate (alert 48), 2% no request after the handshake, 1% reset,
 * 8% plain HTTP, 4% denied, and 1% to one of 5 "pinning apps" (api.pinned-appN.example) whose
 * bumped connections always fail (alert 48 or no request). 20000 server names (skewed: a few are
 * very popular), 2000 clients, about 1000 records per second of log time. The records are shaped exactly as Squid 5.7 writes
 * them (tests/fixtures/access-*.log).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES 20000
#define CLIENTS 2000

static uint64_t rng_state;

static uint64_t
rnd(void)
{
    /* xorshift64*: fast, and the same sequence on every machine */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned
below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct ctx {
    bool pinsplice;
    unsigned long long left; /* lines still to write */
    uint64_t t_ms;
};

static void
name_of(unsigned i, char *buf, size_t size)
{
    static const char *const tld[] = {"com", "net", "org", "io", "de", "co.uk"};
    static const char *const sub[] = {"www", "api", "cdn", "static", "login", "img", "m", "edge"};

    snprintf(buf, size, "%s.site%u.%s", sub[i % 8], i / 8, tld[(i / 8) % 6]);
}

/* One record; shape per format. rule: NULL = "-". */
static void
record(struct ctx *c, const char *client, unsigned port, const char *result, unsigned bytes,
       unsigned bytes_in, const char *method, const char *url, const char *hier,
       const char *bump, const char *sni, const char *err, const char *tls, const char *action,
       const char *rule)
{
    if (c->left == 0)
        return;
    c->left--;
    c->t_ms += below(3);
    if (c->pinsplice)
        printf("%llu.%03u %u %s:%u %s %u %u %s %s - %s %s %s %s %s %s %s\n",
               (unsigned long long)(c->t_ms / 1000), (unsigned)(c->t_ms % 1000), below(400),
               client, port, result, bytes, bytes_in, method, url, bump, sni, sni, err, tls, action,
               rule != NULL ? rule : "-");
    else
        printf("%llu.%03u %6u %s %s %u %s %s - %s %s\n", (unsigned long long)(c->t_ms / 1000),
               (unsigned)(c->t_ms % 1000), below(400), client, result, bytes, method, url, hier,
               strcmp(method, "CONNECT") == 0 ? "-" : "text/html");
}

static void
connection(struct ctx *c)
{
    char name[64], client[32], url[256], hostport[80];
    /* skewed popularity: the cube of a uniform draw favours small indexes */
    double u = (double)below(1000000) / 1000000.0;
    unsigned ni = (unsigned)(u * u * u * NAMES), ci = below(CLIENTS), port = 1024 + below(64000);
    unsigned kind = below(100), k, n;

    name_of(ni, name, sizeof(name));
    snprintf(client, sizeof(client), "10.%u.%u.%u", 1 + ci / 250, ci % 250, 1 + ci % 7);
    snprintf(hostport, sizeof(hostport), "%s:443", name);
    if (kind < 62) { /* bumped, with requests */
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_DIRECT/192.0.2.1",
               "bump", name, "-/-", "TLS/1.3", "bump", NULL);
        for (k = 0, n = 1 + below(4); k < n; k++) {
            snprintf(url, sizeof(url), "https://%s/assets/%08x/%u.js?v=%u", name,
                     (unsigned)rnd(), below(100000), below(100));
            record(c, client, port, below(10) ? "TCP_MISS/200" : "TCP_MISS/304", below(200000),
                   300 + below(900), "GET", url, "HIER_DIRECT/192.0.2.1", "bump", name, "-/-",
                   "TLS/1.3", "-", NULL);
        }
    } else if (kind < 82) { /* spliced by a rule */
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_NONE/-",
               "splice", name, "-/-", "-", "splice", "Bypass%20Pinned%20Apps");
        record(c, client, port, "TCP_TUNNEL/200", below(2000000), below(50000), "CONNECT",
               hostport, "HIER_DIRECT/192.0.2.1", "splice", name, "-/-", "-", "-", NULL);
    } else if (kind < 84) { /* the client rejects the bumped certificate */
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_DIRECT/192.0.2.1",
               "bump", name,
               "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1", "-",
               "bump", NULL);
    } else if (kind < 86) { /* pin checked after the handshake: no request */
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_DIRECT/192.0.2.1",
               "bump", name, "-/-", "TLS/1.3", "bump", NULL);
    } else if (kind < 87) { /* reset during the handshake */
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_DIRECT/192.0.2.1",
               "bump", name, "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_IO_ERR=5+errno=104",
               "-", "bump", NULL);
    } else if (kind < 95) { /* plain HTTP */
        snprintf(url, sizeof(url), "http://%s/index.html?q=%u", name, below(1000000));
        record(c, client, port, "TCP_MISS/200", below(100000), 400, "GET", url,
               "HIER_DIRECT/192.0.2.1", "-", "-", "-/-", "-", "-", NULL);
    } else if (kind < 96) { /* a pinning app: always fails under bumping */
        snprintf(name, sizeof(name), "api.pinned-app%u.example", below(5));
        snprintf(hostport, sizeof(hostport), "%s:443", name);
        record(c, client, port, "NONE_NONE/200", 0, 517, "CONNECT", hostport, "HIER_DIRECT/192.0.2.1",
               "bump", name,
               below(2) ? "ERR_SECURE_ACCEPT_FAIL/SQUID_TLS_ERR_ACCEPT+TLS_LIB_ERR=A000418+TLS_IO_ERR=1"
                        : "-/-",
               "TLS/1.3", "bump", NULL);
    } else { /* denied */
        snprintf(hostport, sizeof(hostport), "%s:25", name);
        record(c, client, port, "TCP_DENIED/403", 3500, 120, "CONNECT", hostport, "HIER_NONE/-",
               "-", "-", "ERR_ACCESS_DENIED/-", "-", "-", NULL);
    }
}

int
main(int argc, char **argv)
{
    struct ctx c;
    char *end = NULL;

    if (argc < 3 || argc > 4 || (strcmp(argv[1], "squid") != 0 && strcmp(argv[1], "pinsplice"))) {
        fprintf(stderr, "usage: genlog squid|pinsplice LINES [SEED]\n");
        return 2;
    }
    memset(&c, 0, sizeof(c));
    c.pinsplice = strcmp(argv[1], "pinsplice") == 0;
    c.left = strtoull(argv[2], &end, 10);
    if (*end != '\0' || c.left == 0) {
        fprintf(stderr, "genlog: bad LINES '%s'\n", argv[2]);
        return 2;
    }
    rng_state = argc == 4 ? strtoull(argv[3], NULL, 10) : 20261126;
    if (rng_state == 0)
        rng_state = 1;
    c.t_ms = 1795600000000ULL;
    while (c.left > 0)
        connection(&c);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
