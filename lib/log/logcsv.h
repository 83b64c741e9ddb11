#ifndef PS_LIB_LOGCSV_H
#define PS_LIB_LOGCSV_H

#include <stddef.h>
#include <stdio.h>

struct ps_logfind_item;
struct ps_logreport_opts;
struct ps_logscan;

/*
 * One table of the report as CSV (`pinsplice logscan --csv=TABLE`, o->table): names, clients or
 * rules with their counters, or the findings (suspects only unless o->all). Fields are escaped
 * as in the text report and quoted when they hold a comma, quote or space. Returns 0 or
 * PS_ENOMEM; the caller checks the stream for write errors.
 */
int ps_logcsv_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                    size_t n, const struct ps_logreport_opts *o);

#endif /* PS_LIB_LOGCSV_H */
