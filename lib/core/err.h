#ifndef PS_LIB_ERR_H
#define PS_LIB_ERR_H

#include <stdarg.h>

/* Error codes: every pinsplice function that can fail returns 0 or one of these. */
#define PS_OK 0
#define PS_EINVAL (-1)   /* bad input: a name, a line, an option */
#define PS_ENOMEM (-2)   /* allocation failed */
#define PS_EDB (-3)      /* the rules database cannot be opened or read */
#define PS_ETOOLONG (-4) /* input over a documented bound */
#define PS_ENOENT (-5)   /* a file or an object does not exist */
#define PS_EIO (-6)      /* a read or write failed */
#define PS_EBUSY (-7)    /* the database is locked */

/* A caller that wants a message passes one of these; NULL is allowed everywhere. */
struct ps_err {
    int code;
    char msg[256];
};

/*
 * Record an error: formats fmt into err->msg (truncated with "..." if longer than the buffer) and
 * sets err->code. err may be NULL. Returns code, so error paths stay one line:
 *     return ps_err_set(err, PS_EINVAL, "bad domain '%s'", d);
 */
int ps_err_set(struct ps_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message with "prefix: " (for adding context on the way up). */
int ps_err_prefix(struct ps_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short static name for a code ("invalid input", ...). Never NULL. */
const char *ps_err_str(int code);

/* Logging: one sink set by the host (helper: stderr, module: ci_debug_printf, tests: a buffer). */
enum ps_log_level { PS_LOG_ERROR = 1, PS_LOG_WARN = 2, PS_LOG_INFO = 3, PS_LOG_DEBUG = 5 };
typedef void ps_log_fn(int level, const char *msg, void *ud);

/* Set the sink (NULL: messages are dropped) and the highest level passed to it. Not thread-safe:
 * call once at start-up. */
void ps_log_set(ps_log_fn *fn, void *ud, int max_level);
void ps_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* PS_LIB_ERR_H */
