#ifndef PS_LIB_LOGTEXT_H
#define PS_LIB_LOGTEXT_H

#include <stddef.h>
#include <stdio.h>

struct ps_logfind_item;
struct ps_logreport_opts;
struct ps_logscan;

/*
 * The text report of a finished scan and its findings (`pinsplice logscan`): the input, notes,
 * connections by action, rules, server checks, monitor rules, top names and clients, and the
 * apps that break under bumping, as tables for people. Control bytes from the log are escaped
 * (ps_logmodel_text) so a crafted SNI cannot drive the terminal. Returns 0 or PS_ENOMEM; the
 * caller checks the stream for write errors.
 */
int ps_logtext_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                     size_t n, const struct ps_logreport_opts *o);

#endif /* PS_LIB_LOGTEXT_H */
