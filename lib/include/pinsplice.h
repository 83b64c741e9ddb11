/*
 * pinsplice.h: the decision core, the one header the helper and the module include.
 *
 * Names and addresses, the rule snapshot (built from SQLite, read lock-free), the decision,
 * hot reload, the server check, the Squid line protocol, the ICAP request facts and the live
 * metrics. It links SQLite, libidn2, OpenSSL and pthreads, and nothing of the admin or log
 * libraries (doc/ARCHITECTURE.md).
 */
#ifndef PINSPLICE_H
#define PINSPLICE_H

#include "../core/err.h"
#include "../core/name.h"
#include "../core/addr.h"
#include "../core/snapshot.h"
#include "../core/decide.h"
#include "../core/store.h"
#include "../core/reload.h"
#include "../core/verify.h"
#include "../core/proto.h"
#include "../core/icapreq.h"
#include "../core/metrics.h"
#include "../core/text.h"
#include "../core/tmpfile.h"

#endif
