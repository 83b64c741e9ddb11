/*
 * builder_int.h: a rule snapshot builder's state, shared by builder.c (which collects and
 * checks the rows) and builder_finish.c (which turns them into a snapshot). Internal to lib/core.
 */
#ifndef PS_LIB_BUILDER_INT_H
#define PS_LIB_BUILDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "snapshot.h"

struct ps_err;

struct ps_brule {
    int64_t id, position, expires_at;
    uint32_t name_off;
    uint32_t ca_off; /* verify_ca_file in the arena, or UINT32_MAX */
    enum ps_action action;
    bool monitor;
    enum ps_rule_verify verify;
};

struct ps_brow {
    int64_t rule_id; /* or category index for category domains */
    uint32_t off;    /* string in arena */
    uint32_t flag;   /* exact for domains; is_user for sources */
    struct ps_cidr cidr;
};

struct ps_bvec {
    void *p;
    size_t n, cap, size;
};

struct ps_builder {
    char *arena;
    size_t arena_len, arena_cap;
    struct ps_bvec rules, domains, programs, rcats, sources, catdomains, catnames, trusted, dests, pins;
    enum ps_action default_action;
    enum ps_splice_verify verify_mode;
    enum ps_no_sni no_sni;
    enum ps_ip_sni ip_sni;
    unsigned verify_timeout_ms;
    char *verify_ca_file; /* NULL: the system store */
    bool failed;
};

#endif /* PS_LIB_BUILDER_INT_H */
