/* fuzz_catimport: one line of a category domains file (lib/admin/catimport.c), as `pinsplice
 * categories import` reads blocklist files from the network. Invariants: a name it accepts is in
 * the stored normal form (ps_name_check_stored) with at least two labels, and reading that name
 * again as a line gives the same name (idempotent); a refused line has a message. */
#include "config.h"

#include <string.h>

#include "catimport.h"
#include "err.h"
#include "fuzz.h"
#include "name.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[PS_NAME_MAX + 1], again[PS_NAME_MAX + 1];
    struct ps_err err = {0};
    int rc;

    rc = ps_catimport_line((const char *)data, size, out, &err);
    if (rc < 0) {
        fuzz_check(rc == PS_EINVAL || rc == PS_ETOOLONG, "returned %d", rc);
        fuzz_check(err.msg[0] != '\0', "a refused line without a message");
        return 0;
    }
    fuzz_check(rc == 0 || rc == 1, "returned %d", rc);
    if (rc == 0)
        return 0;
    fuzz_check(ps_name_check_stored(out, &err) == 0, "'%s' is not in stored form: %s", out,
               err.msg);
    fuzz_check(strchr(out, '.') != NULL, "single label '%s' accepted", out);
    rc = ps_catimport_line(out, strlen(out), again, &err);
    fuzz_check(rc == 1 && strcmp(out, again) == 0, "'%s' read again gives %d '%s'", out, rc,
               rc == 1 ? again : err.msg);
    return 0;
}
