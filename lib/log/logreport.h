#ifndef PS_LIB_LOGREPORT_H
#define PS_LIB_LOGREPORT_H

#include <stddef.h>
#include <stdio.h>

#include "logmodel.h" /* the options (struct ps_logreport_opts) callers fill in */

struct ps_err;
struct ps_logfind_item;
struct ps_logscan;

/*
 * Rendering of a finished scan and its findings: a text report (tables for people), JSON (the
 * whole report), CSV (one table) and SQL (lib/log/logfind.c: the statements that would add bypass
 * rules). Text output escapes control bytes from the log so a crafted SNI cannot drive the
 * terminal; JSON is valid UTF-8 whatever the log held.
 */

/* Defaults: text, names table, top 10, suspects only, no DB. */
void ps_logreport_opts_init(struct ps_logreport_opts *o);

/*
 * Write the report of ls (finished) with its findings items[0..n) (from ps_logfind_run) to out.
 * Returns 0, PS_ENOMEM, or PS_EIO when writing failed.
 */
int ps_logreport_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                       size_t n, const struct ps_logreport_opts *o, struct ps_err *err);

#endif /* PS_LIB_LOGREPORT_H */
