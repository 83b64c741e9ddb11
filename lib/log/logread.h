#ifndef PS_LIB_LOGREAD_H
#define PS_LIB_LOGREAD_H

struct ps_err;
struct ps_logscan;

/*
 * Read one access.log into the scanner, line by line, without keeping lines: "-" is stdin; gzip
 * (one or several members, as logrotate writes) is recognised by its content and plain text
 * passes through zlib unchanged. A line longer than PS_LOGLINE_MAX is counted as bad and skipped
 * up to its newline; a last line without a newline is still read.
 * Returns 0; PS_ENOENT (no such file) or PS_EIO (cannot open, read error, truncated gzip): the
 * message names the file, the input is marked failed in its ps_ls_file, and the lines read
 * before the failure stay counted; PS_ENOMEM (the scanner is then unusable).
 */
int ps_logread_file(struct ps_logscan *ls, const char *path, struct ps_err *err);

#endif /* PS_LIB_LOGREAD_H */
