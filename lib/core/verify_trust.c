/* The trust a server check verifies against: a CA bundle (or the system store) and SPKI pins,
 * and the cache of the last trusts built. See verify.h. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "verify.h"
#include "verify_int.h"

static int
parse_pin(const char *tok, size_t len, unsigned char out[32])
{
    char buf[128];
    if (len >= sizeof buf)
        return -1;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    if (len == 64) {
        for (size_t i = 0; i < 32; i++) {
            unsigned v;
            if (sscanf(buf + 2 * i, "%2x", &v) != 1 ||
                !strchr("0123456789abcdefABCDEF", buf[2 * i]) ||
                !strchr("0123456789abcdefABCDEF", buf[2 * i + 1]))
                return -1;
            out[i] = (unsigned char)v;
        }
        return 0;
    }
    if (strncmp(buf, "sha256//", 8) != 0)
        return -1;
    /* base64 of 32 bytes: 44 characters ending in one '='. */
    const char *b = buf + 8;
    if (strlen(b) != 44 || b[43] != '=' || b[42] == '=')
        return -1;
    unsigned char dec[33];
    if (EVP_DecodeBlock(dec, (const unsigned char *)b, 44) != 33)
        return -1;
    memcpy(out, dec, 32);
    return 0;
}

struct ps_verify_trust *
ps_verify_trust_new(const char *ca_file, const char *pins, struct ps_err *err)
{
    unsigned char pinv[PS_VERIFY_MAX_PINS][32];
    size_t npins = 0;
    if (ca_file && !*ca_file)
        ca_file = NULL;
    for (const char *p = pins ? pins : ""; *p;) {
        size_t sep = strspn(p, ",; \t");
        p += sep;
        size_t len = strcspn(p, ",; \t");
        if (!len)
            break;
        if (npins == PS_VERIFY_MAX_PINS) {
            ps_err_set(err, PS_ETOOLONG, "more than %d pins", PS_VERIFY_MAX_PINS);
            return NULL;
        }
        if (parse_pin(p, len, pinv[npins]) != 0) {
            ps_err_set(err, PS_EINVAL,
                       "bad pin '%.*s': want sha256//BASE64 (44 characters) or 64 hex digits",
                       (int)(len > 80 ? 80 : len), p);
            return NULL;
        }
        npins++;
        p += len;
    }
    size_t klen = strlen(ca_file ? ca_file : "") + 16 + npins * 65;
    struct ps_verify_trust *t = calloc(1, sizeof *t + klen);
    if (!t) {
        ps_err_set(err, PS_ENOMEM, "out of memory");
        return NULL;
    }
    int n = snprintf(t->key, klen, "ca=%s;pins=", ca_file ? ca_file : "");
    for (size_t i = 0; i < npins; i++) {
        for (size_t j = 0; j < 32; j++)
            n += snprintf(t->key + n, klen - (size_t)n, "%02x", pinv[i][j]);
        if (i + 1 < npins)
            n += snprintf(t->key + n, klen - (size_t)n, ",");
    }
    memcpy(t->pins, pinv, sizeof pinv);
    t->npins = npins;
    t->refs = 1;
    pthread_mutex_init(&t->mu, NULL);
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        ps_err_set(err, PS_ENOMEM, "SSL_CTX_new failed");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* the verdict is read after the handshake */
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
    if (ca_file) {
        FILE *f = fopen(ca_file, "r");
        if (f == NULL) {
            ps_err_set(err, PS_ENOENT, "'%s': %s", ca_file, strerror(errno));
            goto fail;
        }
        fclose(f);
        if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
            unsigned long e = ERR_get_error();
            const char *why = e ? ERR_reason_error_string(e) : NULL;
            ps_err_set(err, PS_EINVAL, "'%s': no usable PEM certificate (%s)", ca_file,
                       why ? why : "OpenSSL could not load it");
            ERR_clear_error();
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        ps_err_set(err, PS_EINVAL, "the system trust store cannot be loaded");
        ERR_clear_error();
        goto fail;
    }
    return t;
fail:
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return NULL;
}

void
ps_verify_trust_ref(struct ps_verify_trust *t)
{
    pthread_mutex_lock(&t->mu);
    t->refs++;
    pthread_mutex_unlock(&t->mu);
}

void
ps_verify_trust_unref(struct ps_verify_trust *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    unsigned left = --t->refs;
    pthread_mutex_unlock(&t->mu);
    if (left)
        return;
    SSL_CTX_free(t->ctx);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The last trusts built, shared by the snapshots of one process: a reload with unchanged
 * settings and an unchanged bundle reuses the trust instead of parsing the bundle again. */
#define TRUST_CACHE 8
static struct {
    struct ps_verify_trust *t;
    char *ca, *pins;
    struct stat st;
} trust_cache[TRUST_CACHE];
static unsigned trust_cache_next;
static pthread_mutex_t trust_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

struct ps_verify_trust *
ps_verify_trust_get(const char *ca_file, const char *pins, struct ps_err *err)
{
    struct stat st;
    const char *ca = ca_file && *ca_file ? ca_file : "";
    const char *pn = pins ? pins : "";
    /* the file the bundle is read from (the system store's file when there is none) */
    if (stat(*ca ? ca : X509_get_default_cert_file(), &st) != 0)
        memset(&st, 0, sizeof st);
    pthread_mutex_lock(&trust_cache_mu);
    for (unsigned i = 0; i < TRUST_CACHE; i++)
        if (trust_cache[i].t && strcmp(trust_cache[i].ca, ca) == 0 &&
            strcmp(trust_cache[i].pins, pn) == 0 && same_file(&trust_cache[i].st, &st)) {
            struct ps_verify_trust *t = trust_cache[i].t;
            ps_verify_trust_ref(t);
            pthread_mutex_unlock(&trust_cache_mu);
            return t;
        }
    pthread_mutex_unlock(&trust_cache_mu);
    struct ps_verify_trust *t = ps_verify_trust_new(ca_file, pins, err);
    char *cs = strdup(ca), *ps = strdup(pn);
    if (!t || !cs || !ps) {
        free(cs);
        free(ps);
        return t; /* not cached, still usable */
    }
    pthread_mutex_lock(&trust_cache_mu);
    unsigned i = trust_cache_next++ % TRUST_CACHE;
    ps_verify_trust_unref(trust_cache[i].t);
    free(trust_cache[i].ca);
    free(trust_cache[i].pins);
    ps_verify_trust_ref(t);
    trust_cache[i].t = t;
    trust_cache[i].ca = cs;
    trust_cache[i].pins = ps;
    trust_cache[i].st = st;
    pthread_mutex_unlock(&trust_cache_mu);
    return t;
}

const char *
ps_verify_trust_key(const struct ps_verify_trust *t)
{
    return t->key;
}
