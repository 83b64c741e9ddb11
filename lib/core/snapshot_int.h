/*
 * snapshot_int.h: the layout of a rule snapshot, shared by the code that builds one
 * (builder_finish.c) and the code that reads one (snapshot.c). Internal to lib/core: everything
 * else goes through lib/core/snapshot.h.
 *
 * All strings live in one arena (offsets, not pointers, while building; the builder's arena is
 * handed to the snapshot unchanged). Keys are found through the hash indexes of index.h.
 */
#ifndef PS_LIB_SNAPSHOT_INT_H
#define PS_LIB_SNAPSHOT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "index.h"
#include "snapshot.h"

struct src_entry {
    uint32_t text_off;
    bool is_user;
    struct ps_cidr cidr;
};

struct dst_entry {
    uint32_t text_off;
    struct ps_cidr cidr;
};

struct ps_snapshot {
    int refs;
    char *arena;
    size_t arena_len;
    struct ps_rule *rules; /* evaluation order */
    uint32_t nrules;
    uint8_t dims;
    enum ps_action default_action;
    struct ps_index domains;     /* domain -> (rule << 1 | exact) */
    struct ps_index catdomains;  /* domain -> (category << 1) */
    struct ps_index programs;    /* basename -> (rule << 1) */
    char **cat_names;           /* category index -> name (into arena) */
    uint32_t ncats;
    uint32_t *rcat_off, *rcat;  /* rule -> its categories: rcat[rcat_off[r] .. rcat_off[r+1]) */
    uint32_t *crule_off, *crule; /* category -> its rules (rule << 1), ascending */
    uint32_t *srconly, nsrconly; /* rules whose only dimension is the source (rule << 1) */
    uint32_t *rsrc_off;         /* rule -> its sources: src[rsrc_off[r] .. rsrc_off[r+1]) */
    struct src_entry *src;
    uint32_t *rdst_off;         /* rule -> its destinations: dst[rdst_off[r] .. rdst_off[r+1]) */
    struct dst_entry *dst;
    struct ps_cidr *trusted;
    uint32_t ntrusted;
    enum ps_splice_verify verify_mode;
    enum ps_no_sni no_sni;
    enum ps_ip_sni ip_sni;
    unsigned verify_timeout_ms;
    struct ps_verify_trust *verify_trust; /* NULL when verify_mode is OFF */
    size_t counts[8];           /* rules, domains, programs, categories, catdomains, sources,
                                 * destinations, pins */
    size_t bytes;
};

/* Free s and everything it holds (NULL is a no-op), whatever its reference count. */
void ps_snapshot_destroy(struct ps_snapshot *s);

#endif /* PS_LIB_SNAPSHOT_INT_H */
