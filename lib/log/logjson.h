#ifndef PS_LIB_LOGJSON_H
#define PS_LIB_LOGJSON_H

#include <stddef.h>
#include <stdio.h>

struct ps_logfind_item;
struct ps_logreport_opts;
struct ps_logscan;

/*
 * The JSON form of the logscan report (`pinsplice logscan --json`): one object with "input",
 * "bad_lines", "notes", "totals", "rules", "top_spliced", "top_bumped", "top_clients" and
 * "findings"; documented in doc/pinsplice-logscan.txt. Counters are integers, times ISO 8601 UTC
 * strings (null when none). Strings from the log are emitted as valid UTF-8 (invalid bytes
 * become U+FFFD). Returns 0 or PS_ENOMEM; the caller checks the stream for write errors.
 */
int ps_logjson_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                     size_t n, const struct ps_logreport_opts *o);

/* Write s[0..n) as a JSON string literal, quotes included. */
void ps_logjson_string(FILE *out, const char *s, size_t n);

#endif /* PS_LIB_LOGJSON_H */
