#ifndef PS_LIB_LOGKEY_H
#define PS_LIB_LOGKEY_H

#include "logline.h"
#include "logfigures.h"

/*
 * What one parsed record is counted under, for lib/log/logcount.c: the server name key, the
 * rule row, the action a pinsplice note or the bump mode names, and the server check outcome.
 * Nothing here allocates or fails.
 */

#define PS_LOGKEY_NAME_MAX 255 /* longer server names are counted under one key */

/*
 * The server name record l is about (its SNI, else %>rd, else the host of its URL),
 * lower-cased (ASCII) without a trailing dot, written to buf. A record without a name gives
 * the key "\001noname", one longer than PS_LOGKEY_NAME_MAX "\001toolong" (static storage).
 */
struct ps_logstr ps_logkey_name(const struct ps_logline *l, char buf[PS_LOGKEY_NAME_MAX + 1]);

/* The rule row of record l: its rule note, or PS_LS_RULE_DEFAULT for a decision without a rule
 * (the helper's "-", the ICAP path's "(default)" and the like), PS_LS_RULE_NONE without one. */
struct ps_logstr ps_logkey_rule(const struct ps_logline *l);

/* The action a note names ("splice", "bump", "terminate"; of "a,b" the first), else OTHER. */
enum ps_ls_action ps_logkey_action(struct ps_logstr s);

/* The action of record l: its action note, else (no pinsplice note) its bump mode; a denied
 * CONNECT (TCP_DENIED) without a note is OTHER. */
enum ps_ls_action ps_logkey_record_action(const struct ps_logline *l);

/* The index of a server check outcome in ps_ls_verify_names, or -1 when it is not one. */
int ps_logkey_verify(struct ps_logstr v);

#endif /* PS_LIB_LOGKEY_H */
