#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "err.h"
#include "logline.h"
#include "logread.h"
#include "logscan.h"

#define BUF_SIZE (1u << 20) /* 16 lines of PS_LOGLINE_MAX: one read rarely splits many lines */
#define ZBUF_SIZE (1u << 17)

static gzFile
open_input(const char *path, int *sys_errno)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    gzFile gz;

    if (fd < 0) {
        *sys_errno = errno;
        return NULL;
    }
    if ((gz = gzdopen(fd, "rb")) == NULL) {
        *sys_errno = errno != 0 ? errno : ENOMEM;
        close(fd);
        return NULL;
    }
    gzbuffer(gz, ZBUF_SIZE);
    return gz;
}

/* Hand every complete line of buf[0..have) to the scanner; returns where the rest starts. */
static int
lines(struct ps_logscan *ls, char *buf, size_t have, bool *skipping, size_t *rest,
      struct ps_err *err)
{
    size_t start = 0;
    char *nl;
    int rc;

    while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
        size_t len = (size_t)(nl - (buf + start));
        if (*skipping)
            *skipping = false; /* the end of an over-long line */
        else if ((rc = ps_logscan_line(ls, buf + start, len, err)) < 0)
            return rc;
        start = (size_t)(nl + 1 - buf);
    }
    *rest = start;
    return 0;
}

static int
read_all(struct ps_logscan *ls, gzFile gz, char *buf, struct ps_err *err)
{
    size_t have = 0, rest;
    bool skipping = false;
    int n, rc;

    for (;;) {
        n = gzread(gz, buf + have, (unsigned)(BUF_SIZE - have));
        if (n <= 0)
            break;
        have += (size_t)n;
        if ((rc = lines(ls, buf, have, &skipping, &rest, err)) < 0)
            return rc;
        have -= rest;
        if (skipping) {
            have = 0; /* still inside an over-long line: drop what we have of it */
        } else if (have > PS_LOGLINE_MAX) {
            ps_logscan_skip(ls, buf + rest, have, "line too long (over 65536 bytes)");
            skipping = true;
            have = 0;
        } else {
            memmove(buf, buf + rest, have);
        }
    }
    if (n == 0 && have > 0 && !skipping)
        return ps_logscan_line(ls, buf, have, err);
    return n < 0 ? PS_EIO : 0;
}

int
ps_logread_file(struct ps_logscan *ls, const char *path, struct ps_err *err)
{
    char *buf = NULL;
    gzFile gz = NULL;
    const char *zmsg;
    int rc, sys_errno = 0, zerr = Z_OK;

    if ((rc = ps_logscan_begin(ls, path, err)) < 0)
        return rc;
    if ((buf = malloc(BUF_SIZE + 1)) == NULL) {
        rc = ps_err_set(err, PS_ENOMEM, "out of memory");
        goto done;
    }
    if ((gz = open_input(path, &sys_errno)) == NULL) {
        rc = ps_err_set(err, sys_errno == ENOENT ? PS_ENOENT : PS_EIO, "%s: %s", path,
                        strerror(sys_errno));
        ps_logscan_input_error(ls, err != NULL ? err->msg : strerror(sys_errno));
        goto done;
    }
    rc = read_all(ls, gz, buf, err);
    if (rc == PS_ENOMEM)
        goto done;
    zmsg = gzerror(gz, &zerr);
    if (rc == PS_EIO || (zerr != Z_OK && zerr != Z_STREAM_END)) {
        rc = ps_err_set(err, PS_EIO, "%s: %s", path,
                        zerr == Z_ERRNO ? strerror(errno)
                        : zmsg != NULL  ? zmsg
                                        : "read error");
        ps_logscan_input_error(ls, err != NULL ? err->msg : "read error");
    }
done:
    if (gz != NULL)
        gzclose(gz);
    free(buf);
    return rc;
}
