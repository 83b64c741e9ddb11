#include "config.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "logcsv.h"
#include "logjson.h"
#include "logreport.h"
#include "logtext.h"

void
ps_logreport_opts_init(struct ps_logreport_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->format = PS_LOGREPORT_TEXT;
    o->table = PS_LOGREPORT_NAMES;
    o->top = 10;
}

int
ps_logreport_write(FILE *out, const struct ps_logscan *ls, const struct ps_logfind_item *items,
                   size_t n, const struct ps_logreport_opts *o, struct ps_err *err)
{
    int rc;

    switch (o->format) {
    case PS_LOGREPORT_JSON:
        rc = ps_logjson_write(out, ls, items, n, o);
        break;
    case PS_LOGREPORT_CSV:
        rc = ps_logcsv_write(out, ls, items, n, o);
        break;
    default:
        rc = ps_logtext_write(out, ls, items, n, o);
        break;
    }
    if (rc < 0)
        return ps_err_set(err, rc, "report: %s", ps_err_str(rc));
    if (fflush(out) != 0 || ferror(out))
        return ps_err_set(err, PS_EIO, "report: write error");
    return 0;
}
