#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "tmpfile.h"

int
ps_tmpfile_create(const char *path, const char *tag, char *out, size_t size, struct ps_err *err)
{
    int fd;

    if (size > 0)
        out[0] = '\0';
    if (path == NULL || tag == NULL || size == 0 ||
        (size_t)snprintf(out, size, "%s.%s-XXXXXX", path, tag) >= size) {
        if (size > 0)
            out[0] = '\0';
        return ps_err_set(err, PS_ETOOLONG, "%s: path too long", path ? path : "");
    }
    if ((fd = mkstemp(out)) < 0) {
        int e = errno;
        out[0] = '\0';
        return ps_err_set(err, PS_EIO, "%s: cannot create a temporary file beside it: %s", path,
                          strerror(e));
    }
    close(fd);
    return 0;
}
