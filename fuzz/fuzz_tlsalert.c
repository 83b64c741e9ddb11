/* fuzz_tlsalert: the %err_detail parser (lib/log/tlsalert.c) that names why a client refused a
 * bumped handshake. Invariants: the kind and the numbers agree (an alert has a number 0..255 and
 * a name; no alert has -1), TLS_IO_ERR and errno are never negative unless absent, and the name
 * of any alert number fits its buffer and is never empty. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "tlsalert.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_tlsfail f;
    char name[64];
    const char *n;

    ps_tlsalert_parse((const char *)data, size, &f);
    fuzz_check(f.kind >= PS_TLSFAIL_NONE && f.kind <= PS_TLSFAIL_OTHER, "kind %d", (int)f.kind);
    if (f.kind == PS_TLSFAIL_ALERT) {
        fuzz_check(f.alert >= 0 && f.alert <= 255, "alert %d", f.alert);
        n = ps_tlsalert_name(f.alert, name, sizeof(name));
        fuzz_check(n != NULL && n[0] != '\0' && strlen(n) < sizeof(name), "no name for alert %d",
                   f.alert);
    } else {
        fuzz_check(f.alert == -1, "kind %d with alert %d", (int)f.kind, f.alert);
    }
    fuzz_check(f.io_err >= -1, "io_err %d", f.io_err);
    fuzz_check(f.sys_errno >= 0, "errno %d", f.sys_errno);
    if (f.kind == PS_TLSFAIL_OTHER)
        fuzz_check(f.lib_err != 0 || f.io_err >= 0 || f.sys_errno != 0,
                   "OTHER with nothing in the detail");
    if (f.kind == PS_TLSFAIL_NONE)
        fuzz_check(f.lib_err == 0 && f.io_err == -1 && f.sys_errno == 0,
                   "NONE although the detail has numbers");
    if (size >= 1) {
        n = ps_tlsalert_name(data[0], name, 8);
        fuzz_check(n != NULL && strlen(n) < 8, "alert name overflows an 8-byte buffer");
    }
    return 0;
}
