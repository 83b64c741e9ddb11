/* text.c: the shared text helpers (text.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"
#include "text.h"

#ifndef PS_LOCALSTATEDIR
#define PS_LOCALSTATEDIR "/var"
#endif

bool
ps_num_parse(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0, d;
    size_t i;

    if (s == NULL || n == 0)
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool
ps_num_parse_str(const char *s, uint64_t max, uint64_t *out)
{
    return s != NULL && ps_num_parse(s, strlen(s), max, out);
}

void
ps_ascii_lower_copy(char *dst, const char *src, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        dst[i] = ps_ascii_lower(src[i]);
}

size_t
ps_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c, lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return len;
}

bool
ps_utc_format(int64_t t, const char *fmt, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (size == 0)
        return false;
    out[0] = '\0';
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL) {
        out[0] = '\0';
        return false;
    }
    /* fmt is the caller's literal, checked where it is written (text.h's format attribute). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (strftime(out, size, fmt, &tm) == 0) {
#pragma GCC diagnostic pop
        out[0] = '\0';
        return false;
    }
    return true;
}

int
ps_file_read(const char *path, size_t max, char **out, size_t *len, struct ps_err *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    size_t n;

    if (f == NULL)
        return ps_err_set(err, errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                          strerror(errno));
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ps_err_set(err, PS_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return ps_err_set(err, PS_EIO, "%s: larger than %zu bytes", path, max);
    }
    n = (size_t)st.st_size;
    if ((buf = malloc(n + 1)) == NULL) {
        fclose(f);
        return ps_err_set(err, PS_ENOMEM, "%s: out of memory", path);
    }
    if (fread(buf, 1, n, f) != n || ferror(f)) {
        fclose(f);
        free(buf);
        return ps_err_set(err, PS_EIO, "%s: cannot read", path);
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    if (len != NULL)
        *len = n;
    return 0;
}

const char *
ps_default_db_path(void)
{
    return PS_LOCALSTATEDIR "/lib/pinsplice/rules.db";
}
