#ifndef PS_LIB_TMPFILE_H
#define PS_LIB_TMPFILE_H

#include <stddef.h>

struct ps_err;

/*
 * Create a new, empty temporary file beside path for a build-aside-then-rename write:
 * "PATH.TAG-XXXXXX" made by mkstemp(3) (O_CREAT|O_EXCL, mode 0600), so its name cannot be guessed
 * and a file or symlink planted there beforehand is never opened or followed. The file is closed;
 * SQLite accepts an empty file as a new database (and VACUUM INTO an empty target).
 * Returns 0 with the name in out (size bytes), PS_ETOOLONG when it does not fit, or PS_EIO naming
 * path. On error out is "" and nothing is left behind.
 */
int ps_tmpfile_create(const char *path, const char *tag, char *out, size_t size,
                      struct ps_err *err);

#endif
