/*
 * pinsplice_log.h: the log library, for `pinsplice logscan`.
 *
 * access.log formats and records, reading (plain or gzip), counting per name, the finder of
 * names that pinning breaks, and the text, CSV and JSON reports. Built on the core
 * (pinsplice.h); links zlib, which the core never loads.
 */
#ifndef PINSPLICE_LOG_H
#define PINSPLICE_LOG_H

#include "pinsplice.h"
#include "../log/logformat.h"
#include "../log/logline.h"
#include "../log/logscan.h"
#include "../log/logread.h"
#include "../log/logfind.h"
#include "../log/logreport.h"

#endif
