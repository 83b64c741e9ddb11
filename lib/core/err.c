#include "config.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

static ps_log_fn *log_fn;
static void *log_ud;
static int log_max = PS_LOG_INFO;

static void
fit(char *buf, size_t size, int n)
{
    /* vsnprintf truncated: say so rather than losing it silently. */
    if (n >= 0 && (size_t)n >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

int
ps_err_set(struct ps_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    fit(err->msg, sizeof(err->msg), n);
    return code;
}

int
ps_err_prefix(struct ps_err *err, const char *fmt, ...)
{
    char prefix[sizeof(err->msg)], old[sizeof(err->msg)];
    va_list ap;
    int n;

    if (err == NULL)
        return PS_EINVAL;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    n = snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    fit(err->msg, sizeof(err->msg), n);
    return err->code;
}

const char *
ps_err_str(int code)
{
    switch (code) {
    case PS_OK: return "ok";
    case PS_EINVAL: return "invalid input";
    case PS_ENOMEM: return "out of memory";
    case PS_EDB: return "database error";
    case PS_ETOOLONG: return "input too long";
    case PS_ENOENT: return "not found";
    case PS_EIO: return "I/O error";
    case PS_EBUSY: return "database locked";
    default: return "unknown error";
    }
}

void
ps_log_set(ps_log_fn *fn, void *ud, int max_level)
{
    log_fn = fn;
    log_ud = ud;
    log_max = max_level;
}

void
ps_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    if (log_fn == NULL || level > log_max)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fit(buf, sizeof(buf), n);
    log_fn(level, buf, log_ud);
}
