#ifndef PS_LIB_FEED_H
#define PS_LIB_FEED_H

#include <stdbool.h>
#include <stddef.h>

struct ps_err;

/*
 * `pinsplice feed import`: read a vendor's endpoint list (a JSON file) and map it to catalogue
 * apps. This file parses and maps only (jansson; no SQLite): lib/admin/admin_feed.c writes the
 * result.
 *
 * Formats (README "Vendor feeds" and pinsplice(1) FEED FORMATS document both):
 *   PS_FEED_M365  Microsoft's endpoints web service: an array of endpoint sets {id, serviceArea,
 *                 serviceAreaDisplayName?, urls?, ips?, tcpPorts?, udpPorts?, category, required,
 *                 notes?}. One app per (serviceArea, category) for category Optimize and Allow,
 *                 named "FEED: DISPLAYNAME (CATEGORY)"; Default sets are counted, not imported
 *                 (Microsoft says they may be inspected); a set with no tcpPorts (UDP only:
 *                 Squid never sees it) is counted and skipped.
 *   PS_FEED_JSON  our own: {"pinsplice_feed": 1, "name", "source"?, "version"?, "apps": [{"name",
 *                 "note"?, "reason"?, "domains"?, "destinations"?, "programs"?}]}; a program is
 *                 "name.exe" or {"os": "windows", "program": "name.exe"}.
 *
 * Names: "host.example" is an exact entry (that name only); "*.example.com" a subtree entry
 * (example.com and every name below it: the apex is covered too, the one name the wildcard does not
 * name). Any other '*' ("*-admin.example.com", "autodiscover.*.example.com", "*") cannot be
 * expressed without covering names the feed does not list: it is skipped and reported, never
 * widened. A subtree entry on a public suffix (ps_lint_public_suffix, what `db check` refuses) is
 * an error. Names are normalised as the matcher does (lower case, trailing dot, IDN to punycode).
 * Destinations are canonical "addr/len" (host bits set is an error).
 */

enum ps_feed_format {
    PS_FEED_M365 = 1,
    PS_FEED_JSON = 2,
};

struct ps_feed_domain {
    char *domain; /* stored normal form */
    bool exact;
    char *note; /* "from *.example.com", or NULL */
};

struct ps_feed_program {
    const char *os; /* static: "windows", "macos", "linux", "any" */
    char *program;
};

struct ps_feed_app {
    char *name;
    char *reason; /* NULL: the schema's default */
    char *note;   /* what the feed said about it (without provenance) */
    struct ps_feed_domain *domains;
    size_t n_domains;
    char **dests; /* canonical addr/len */
    size_t n_dests;
    struct ps_feed_program *programs;
    size_t n_programs;
};

/* Something not imported, for the report: where ("entry 3 (id 12)"), the value and why. */
struct ps_feed_skip {
    char *where, *value, *why;
};

struct ps_feed {
    enum ps_feed_format format;
    char *name;    /* the feed's name (apps.feed, feeds.name) */
    char *source;  /* where it came from (URL or file), never NULL */
    char *version; /* the feed's version or date, never NULL */
    struct ps_feed_app *apps;
    size_t n_apps;
    struct ps_feed_skip *skips;
    size_t n_skips;
    size_t n_entries;  /* entries (m365 endpoint sets, json apps) read */
    size_t n_default;  /* m365 Default sets not imported */
    size_t n_udp_only; /* m365 sets without tcpPorts */
};

/* Options of a parse. name, source, version: NULL = from the file (json) or the defaults
 * ("Microsoft 365", the file's path, "file dated YYYY-MM-DD" for m365). */
struct ps_feed_opts {
    enum ps_feed_format format;
    const char *name, *source, *version;
};

/* "m365" / "json" -> the format; 0 for anything else. */
enum ps_feed_format ps_feed_format_parse(const char *s);
const char *ps_feed_format_str(enum ps_feed_format f);

/*
 * Parse the JSON text (len bytes, NUL bytes refused) read from label (the file's name, for
 * messages) and map it. Returns 0 and *out (free with ps_feed_free), or PS_EINVAL / PS_ETOOLONG
 * with err naming label and the entry ("feed.json: entry 3 (id 12): \"urls\"[1] \"*.com\": a
 * public suffix ..."; malformed JSON: "feed.json:4:7: ..." as jansson reports it), PS_ENOMEM.
 * On error *out is unchanged. Nothing is imported from a file with any error.
 */
int ps_feed_parse(const char *text, size_t len, const char *label, const struct ps_feed_opts *o,
                  struct ps_feed **out, struct ps_err *err);

/* The same on a file (at most PS_FEED_FILE_MAX bytes). PS_ENOENT / PS_EIO name the path. */
#define PS_FEED_FILE_MAX (64 * 1024 * 1024)
int ps_feed_load(const char *path, const struct ps_feed_opts *o, struct ps_feed **out,
                 struct ps_err *err);

/* NULL is a no-op. */
void ps_feed_free(struct ps_feed *f);

#endif /* PS_LIB_FEED_H */
