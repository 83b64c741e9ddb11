#ifndef PS_LIB_SNAPSHOT_H
#define PS_LIB_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "action.h"

struct ps_err;
struct ps_addr;
struct ps_snapshot;
struct ps_builder;
struct ps_verify_trust;

/* settings.no_sni_action: a connection without SNI. */
enum ps_no_sni {
    PS_NO_SNI_HOST = 0,     /* the default: decide on the CONNECT host */
    PS_NO_SNI_BUMP = 1,
    PS_NO_SNI_TERMINATE = 2
};
/* settings.ip_sni_action: an SNI that is an IP literal (RFC 6066 forbids it). */
enum ps_ip_sni {
    PS_IP_SNI_IGNORE = 0,   /* the default: it names nothing (domain rules cannot match) */
    PS_IP_SNI_HOST = 1,     /* as if there were no SNI: decide on the CONNECT host */
    PS_IP_SNI_BUMP = 2,
    PS_IP_SNI_TERMINATE = 3
};

/* settings.splice_verify: whether a splice that only the client's name justifies waits for a
 * check of the server (lib/core/verify.h). */
enum ps_splice_verify {
    PS_SPLICE_VERIFY_IP = 0, /* the default: when the CONNECT destination is an IP literal */
    PS_SPLICE_VERIFY_OFF = 1, /* trust the names (spoofable; see README) */
    PS_SPLICE_VERIFY_ALWAYS = 2 /* name CONNECTs too (the name resolved, every address tried) */
};

/*
 * The rule snapshot: an immutable, reference-counted, in-memory copy of the enabled rules. Built
 * with a ps_builder (store.c feeds it from SQLite; tests feed it directly), published once, then
 * only read. Readers may share one snapshot across threads without locks.
 */

/* A new empty builder, or NULL on allocation failure. */
struct ps_builder *ps_builder_new(void);
/* Free a builder that was not finished (NULL is a no-op). */
void ps_builder_free(struct ps_builder *b);

/* settings: "default_action" (splice|bump|terminate), "program_trusted_sources" (CIDRs separated
 * by commas and/or spaces; empty = nobody), "splice_verify" (ip|always|off), "verify_ca_file" (an
 * absolute path, or empty for the system store: read when the snapshot is finished),
 * "verify_timeout_ms" (100..30000, default 3000), "no_sni_action" (host|bump|terminate),
 * "ip_sni_action" (ignore|host|bump|terminate). Unknown keys are ignored (they belong to tools).
 * Returns 0 or PS_EINVAL naming key and value. */
int ps_builder_setting(struct ps_builder *b, const char *key, const char *value, struct ps_err *err);

/* One enabled rule. expires_at: Unix time after which the rule no longer matches, 0 = never.
 * Rules may be added in any order; they are evaluated by (position, id). id must be unique. */
int ps_builder_rule(struct ps_builder *b, int64_t id, const char *name, enum ps_action action,
                    int64_t position, int64_t expires_at, struct ps_err *err);

/* rules.verify: the rule's own server-check mode. */
enum ps_rule_verify {
    PS_RULE_VERIFY_INHERIT = 0, /* settings.splice_verify */
    PS_RULE_VERIFY_OFF = 1,
    PS_RULE_VERIFY_IP = 2,
    PS_RULE_VERIFY_ALWAYS = 3 /* name CONNECTs too (resolved as Squid would) */
};

/* The options of the rule added last with this id: mode (monitor: the rule never decides, a
 * match is reported beside the decision), verify ("inherit", "off", "ip" or "always") and
 * verify_ca_file (NULL or "": the global trust; else an absolute path, read when the snapshot is
 * finished). Returns 0 or PS_EINVAL naming the rule and the value. */
int ps_builder_rule_opts(struct ps_builder *b, int64_t id, bool monitor, const char *verify,
                         const char *verify_ca_file, struct ps_err *err);

/* Entries of a rule added earlier (an unknown rule_id is ignored: its rule is disabled). Each value
 * is validated; errors name the rule and the value. */
int ps_builder_domain(struct ps_builder *b, int64_t rule_id, const char *domain, bool exact,
                      struct ps_err *err);
int ps_builder_program(struct ps_builder *b, int64_t rule_id, const char *program,
                       struct ps_err *err);
int ps_builder_category(struct ps_builder *b, int64_t rule_id, const char *category,
                        struct ps_err *err);
/* source: "ADDR[/BITS]" or "user:NAME". */
int ps_builder_source(struct ps_builder *b, int64_t rule_id, const char *source,
                      struct ps_err *err);
/* destination: "ADDR/BITS" (or a bare address), matched against an IP-literal CONNECT host. */
int ps_builder_destination(struct ps_builder *b, int64_t rule_id, const char *cidr,
                           struct ps_err *err);
/* An SPKI pin of a rule: base64 of a SHA-256, 44 characters (with or without "sha256//"). */
int ps_builder_pin(struct ps_builder *b, int64_t rule_id, const char *spki_sha256,
                   struct ps_err *err);
/* A domain of a category (the whole subtree belongs to it). */
int ps_builder_category_domain(struct ps_builder *b, const char *category, const char *domain,
                               struct ps_err *err);

/* Build the lookup tables and hand over a snapshot holding one reference. The builder is consumed
 * (freed) whatever the result. Returns 0, or PS_ENOMEM; on error *out is unchanged. */
int ps_builder_finish(struct ps_builder *b, struct ps_snapshot **out, struct ps_err *err);

/* Reference counting (atomic). ps_snapshot_release(NULL) is a no-op. */
struct ps_snapshot *ps_snapshot_ref(struct ps_snapshot *s);
void ps_snapshot_release(struct ps_snapshot *s);

/* Figures for tools and benchmarks. */
struct ps_snapshot_stats {
    size_t rules, domains, programs, categories, category_domains, sources, destinations, pins;
    size_t bytes; /* heap bytes held by the snapshot */
};
void ps_snapshot_stats(const struct ps_snapshot *s, struct ps_snapshot_stats *out);

/* ---- read side, for decide.c ------------------------------------------------------------- */

/* A rule as evaluated: index = its evaluation order. */
struct ps_rule {
    int64_t id;
    const char *name;
    int64_t expires_at;
    enum ps_action action;
    uint8_t dims; /* PS_DIM_* bits: which dimensions have entries */
    bool monitor; /* rules.mode = 'monitor' */
    enum ps_rule_verify verify;
    bool own_trust;               /* verify_ca_file or pins: trust below is the rule's own */
    struct ps_verify_trust *trust; /* own_trust: the rule's (NULL when it could not be built:
                                    * its checks fail, verify-error) */
};
#define PS_DIM_DOMAIN 0x1
#define PS_DIM_PROGRAM 0x2
#define PS_DIM_CATEGORY 0x4
#define PS_DIM_SOURCE 0x8
#define PS_DIM_DEST 0x10

/* A posting list: rule (or category) indexes, ascending, with a per-entry flag bit 0 = exact. The
 * value is (index << 1) | exact. The key is the entry's text (stable in the snapshot). */
struct ps_postings {
    const uint32_t *v;
    uint32_t n;
    const char *key;
};

size_t ps_snapshot_nrules(const struct ps_snapshot *s);
const struct ps_rule *ps_snapshot_rule(const struct ps_snapshot *s, size_t idx);
enum ps_action ps_snapshot_default_action(const struct ps_snapshot *s);
/* The server-check settings: the mode, the trust (NULL when OFF, or when the bundle could not be
 * read: then every check fails) and the timeout. */
enum ps_no_sni ps_snapshot_no_sni(const struct ps_snapshot *s);
enum ps_ip_sni ps_snapshot_ip_sni(const struct ps_snapshot *s);
enum ps_splice_verify ps_snapshot_verify(const struct ps_snapshot *s,
                                         struct ps_verify_trust **trust, unsigned *timeout_ms);
/* Which dimensions any rule uses (lets decide.c skip whole lookups). */
uint8_t ps_snapshot_dims(const struct ps_snapshot *s);
const char *ps_snapshot_category_name(const struct ps_snapshot *s, uint32_t cat);
/* True when the rule index has category cat among its categories. */
bool ps_snapshot_rule_has_category(const struct ps_snapshot *s, uint32_t rule, uint32_t cat);

/* Exact lookups of one (already normalised) key; return false when absent. */
bool ps_snapshot_domain(const struct ps_snapshot *s, const char *name, size_t len,
                        struct ps_postings *out);
bool ps_snapshot_category_domain(const struct ps_snapshot *s, const char *name, size_t len,
                                 struct ps_postings *out);
bool ps_snapshot_program(const struct ps_snapshot *s, const char *basename, size_t len,
                         struct ps_postings *out);

/* The rules that have category cat, as a posting list (rule << 1, ascending). */
void ps_snapshot_category_rules(const struct ps_snapshot *s, uint32_t cat, struct ps_postings *out);
/* The rules whose only dimensions are sources and destinations (reachable through no name). */
void ps_snapshot_source_only_rules(const struct ps_snapshot *s, struct ps_postings *out);

/* The hashes of every suffix of a normalised name at a label boundary, the whole name first
 * (off[0] == 0), the TLD last. One pass over the name. */
#define PS_SUFFIX_MAX 128
struct ps_suffixes {
    size_t n;
    uint8_t off[PS_SUFFIX_MAX];
    uint64_t h[PS_SUFFIX_MAX];
};
void ps_snapshot_suffixes(const char *name, size_t len, struct ps_suffixes *out);
/* Lookups with a hash from ps_snapshot_suffixes (the key must be that suffix). */
bool ps_snapshot_domain_h(const struct ps_snapshot *s, const char *name, size_t len, uint64_t h,
                          struct ps_postings *out);
bool ps_snapshot_category_domain_h(const struct ps_snapshot *s, const char *name, size_t len,
                                   uint64_t h, struct ps_postings *out);
/* Start fetching the slot a domain hash probes first (the lookups of one name overlap). */
void ps_snapshot_prefetch_domain(const struct ps_snapshot *s, uint64_t h);

/* Is the client address trusted to name its program? */
bool ps_snapshot_program_trusted(const struct ps_snapshot *s, const struct ps_addr *client);

/* Source entries of rule idx that match the client (address and/or user); returns the matching
 * entry's text or NULL. */
const char *ps_snapshot_source_match(const struct ps_snapshot *s, uint32_t rule,
                                     const struct ps_addr *client, const char *user);

/* Destination entries of rule idx that contain dest; returns the matching entry's text or NULL. */
const char *ps_snapshot_destination_match(const struct ps_snapshot *s, uint32_t rule,
                                          const struct ps_addr *dest);

/* The server-check mode and trust for a decision by rule r (NULL: no rule): the rule's verify
 * unless inherit, then the setting; the rule's own trust, else the global one. */
enum ps_rule_verify ps_snapshot_rule_verify(const struct ps_snapshot *s, const struct ps_rule *r,
                                            struct ps_verify_trust **trust, unsigned *timeout_ms);

#endif /* PS_LIB_SNAPSHOT_H */
