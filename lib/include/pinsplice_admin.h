/*
 * pinsplice_admin.h: the admin library, for the `pinsplice` command.
 *
 * Rules DB creation and upgrade (init, update and merge of the vendor data, publish), the
 * category map and its import, feeds, and the rules linter. Built on the core (pinsplice.h);
 * links libpsl and jansson, which the core never loads.
 */
#ifndef PINSPLICE_ADMIN_H
#define PINSPLICE_ADMIN_H

#include "pinsplice.h"
#include "../admin/admin.h"
#include "../admin/catimport.h"
#include "../admin/feed.h"
#include "../admin/lint.h"

#endif
