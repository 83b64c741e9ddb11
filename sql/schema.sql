-- pinsplice rule database, schema version 3 (older databases are migrated by
-- `pinsplice db update`: lib/admin/admin_update.c, steps 1 -> 2 -> 3, add the v2 and v3 parts below).
--
-- This file is the admin's interface: rules are managed with the sqlite3 CLI. Every constraint
-- here rejects something the matcher could never use, so a bad edit fails at once, names the
-- value, and leaves the database as it was (one statement = one transaction).
--
-- Foreign keys are enforced by triggers, not by PRAGMA foreign_keys (the sqlite3 CLI leaves that
-- pragma off unless told): deleting a rule deletes its entries, and an entry for a rule, app or
-- category that does not exist is refused.
--
-- Names (domain columns) are stored normalised: ASCII lower case, no trailing dot, IDNs as
-- punycode A-labels (xn--...). `pinsplice` converts Unicode names for you.

PRAGMA user_version = 3;

-- Global settings.
--   default_action           what to do with a connection no rule matches: bump (default),
--                            splice or terminate.
--   program_trusted_sources  CIDRs (comma or space separated) whose program name (the
--                            X-Client-Process header an endpoint agent adds) is believed. Empty:
--                            program entries never match, because any client can send any name.
CREATE TABLE settings (
    key     TEXT PRIMARY KEY NOT NULL,
    value   TEXT NOT NULL,
    comment TEXT,
    CHECK (key <> 'default_action' OR value IN ('splice', 'bump', 'terminate')),
    CHECK (key <> 'program_trusted_sources' OR NOT value GLOB '*[^0-9a-fA-F.:/, ]*')
);

-- Rules, tried in ascending position (then id); the first enabled rule whose every non-empty
-- dimension matches decides. A rule with no entries matches nothing.
CREATE TABLE rules (
    id         INTEGER PRIMARY KEY,
    -- at most 200 characters and 800 bytes (lib/core/proto.h PS_RULE_NAME_*: a reply carries it whole)
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200 AND
                                           length(CAST(name AS BLOB)) <= 800 AND name = trim(name)),
    action     TEXT NOT NULL DEFAULT 'splice' CHECK (action IN ('splice', 'bump', 'terminate')),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    position   INTEGER,                 -- NULL on insert: placed last (see trigger below)
    expires_at TEXT CHECK (expires_at IS NULL OR julianday(expires_at) IS NOT NULL),
                                        -- UTC, ISO 8601 ('2026-12-31 18:00:00'); after it the
                                        -- rule stops matching by itself
    origin     TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('vendor', 'local')),
    comment    TEXT,
    -- v2. mode: enforce (the rule decides) or monitor (it never changes an answer: a match is
    -- reported beside the decision, and evaluation goes on).
    mode       TEXT NOT NULL DEFAULT 'enforce' CHECK (mode IN ('enforce', 'monitor')),
    -- v2. verify: this rule's server check before a splice, overriding settings.splice_verify:
    -- inherit (the setting), off, ip (IP-literal CONNECTs), always (name CONNECTs too).
    verify     TEXT NOT NULL DEFAULT 'inherit' CHECK (verify IN ('inherit', 'off', 'ip', 'always')),
    -- v2. A PEM bundle trusted for this rule's servers instead of settings.verify_ca_file
    -- (NULL: the global trust). An absolute path.
    verify_ca_file TEXT CHECK (verify_ca_file IS NULL OR (typeof(verify_ca_file) = 'text' AND
                               verify_ca_file GLOB '/?*' AND length(verify_ca_file) <= 4095))
);

CREATE TRIGGER rules_position_last AFTER INSERT ON rules
WHEN NEW.position IS NULL
BEGIN
    UPDATE rules SET position = (SELECT coalesce(max(position), 0) + 10 FROM rules)
    WHERE id = NEW.id;
END;

CREATE TABLE rule_domains (
    id      INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL,
    domain  TEXT NOT NULL 
        CONSTRAINT "rule_domains.domain: empty or over 253 characters" CHECK (length(domain) BETWEEN 1 AND 253)
        CONSTRAINT "rule_domains.domain: upper case (store lower case)" CHECK (domain = lower(domain))
        CONSTRAINT "rule_domains.domain: space, non-ASCII or other character (store IDNs as punycode xn--)"
            CHECK (NOT domain GLOB '*[^a-z0-9._-]*')
        CONSTRAINT "rule_domains.domain: leading or trailing dot" CHECK (NOT domain GLOB '.*' AND NOT domain GLOB '*.')
        CONSTRAINT "rule_domains.domain: empty label" CHECK (NOT domain GLOB '*..*')
        CONSTRAINT "rule_domains.domain: label starts or ends with '-'"
            CHECK (NOT domain GLOB '-*' AND NOT domain GLOB '*-' AND NOT domain GLOB '*.-*' AND NOT domain GLOB '*-.*')
        CONSTRAINT "rule_domains.domain: label over 63 characters" CHECK (NOT domain GLOB '*[^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.]*')
        CONSTRAINT "rule_domains.domain: numeric last label (an IP address, not a name)"
            CHECK (substr(domain, length(rtrim(domain, replace(domain, '.', ''))) + 1) GLOB '*[^0-9]*'),
    exact   INTEGER NOT NULL DEFAULT 0 CHECK (exact IN (0, 1)),  -- 1: the name only, not below it
    comment TEXT,
    UNIQUE (rule_id, domain)
);

-- Program names as the endpoint agent reports them; compared case-insensitively on the basename.
-- os is informational (Squid does not know the client's OS): windows | macos | linux | any.
CREATE TABLE rule_programs (
    id      INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL,
    os      TEXT NOT NULL DEFAULT 'any' CHECK (os IN ('windows', 'macos', 'linux', 'any')),
    program TEXT NOT NULL CHECK (length(program) BETWEEN 1 AND 255 AND program = trim(program)
                                 AND NOT program GLOB '*[/\]*'
                                 AND NOT program GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*')),
    comment TEXT,
    UNIQUE (rule_id, os, program)
);

CREATE TABLE rule_categories (
    id       INTEGER PRIMARY KEY,
    rule_id  INTEGER NOT NULL,
    category TEXT NOT NULL,
    UNIQUE (rule_id, category)
);

-- 'ADDR', 'ADDR/BITS' (IPv4 or IPv6; host bits must be zero) or 'user:NAME' (exact match on the
-- proxy user name).
CREATE TABLE rule_sources (
    id      INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL,
    source  TEXT NOT NULL CHECK ((source GLOB 'user:?*' AND source = trim(source))
                                 OR (length(source) BETWEEN 2 AND 43
                                     AND NOT source GLOB '*[^0-9a-fA-F.:/]*')),
    comment TEXT,
    UNIQUE (rule_id, source)
);

-- v2. Destination addresses: 'ADDR/BITS' (IPv4 or IPv6, host bits zero; a single address is
-- ADDR/32 or ADDR/128). Matches the CONNECT destination only when the client connected to an IP
-- literal: never a name CONNECT (Squid resolves names itself; a client must not steer that).
CREATE TABLE rule_destinations (
    rule_id INTEGER NOT NULL,
    cidr    TEXT NOT NULL CHECK (length(cidr) BETWEEN 4 AND 43 AND cidr GLOB '*?/[0-9]*'
                                 AND NOT cidr GLOB '*[^0-9a-f.:/]*'),
    comment TEXT,
    PRIMARY KEY (rule_id, cidr)
);

-- v2. SPKI pins: base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo (as curl
-- --pinnedpubkey 'sha256//...' takes it). A rule with pins accepts a server whose chain holds a
-- certificate with one of these keys, instead of a chain to the trusted CAs (an app's private CA).
CREATE TABLE rule_pins (
    rule_id     INTEGER NOT NULL,
    spki_sha256 TEXT NOT NULL CHECK (length(spki_sha256) = 44 AND spki_sha256 GLOB '*[^=]='
                                     AND NOT spki_sha256 GLOB '*[^A-Za-z0-9+/=]*'
                                     AND NOT substr(spki_sha256, 1, 43) GLOB '*=*'),
    comment     TEXT,
    PRIMARY KEY (rule_id, spki_sha256)
);

-- The vendor catalogue of apps known to pin certificates. Not matched by itself: a rule refers to
-- what it needs (see the default rules).
CREATE TABLE apps (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200 AND name = trim(name)),
    reason TEXT NOT NULL DEFAULT 'pinned certificate',
    note   TEXT,          -- what the vendor data said, and every correction made to it
    origin TEXT NOT NULL DEFAULT 'vendor' CHECK (origin IN ('vendor', 'local')),
    -- v3. The feed (feeds.name) `pinsplice feed import` wrote this app from; NULL: not from a
    -- feed. Feed apps have origin 'local', so `db update` never touches them.
    feed   TEXT
);

CREATE TABLE app_domains (
    id     INTEGER PRIMARY KEY,
    app_id INTEGER NOT NULL,
    domain TEXT NOT NULL 
        CONSTRAINT "app_domains.domain: empty or over 253 characters" CHECK (length(domain) BETWEEN 1 AND 253)
        CONSTRAINT "app_domains.domain: upper case (store lower case)" CHECK (domain = lower(domain))
        CONSTRAINT "app_domains.domain: space, non-ASCII or other character (store IDNs as punycode xn--)"
            CHECK (NOT domain GLOB '*[^a-z0-9._-]*')
        CONSTRAINT "app_domains.domain: leading or trailing dot" CHECK (NOT domain GLOB '.*' AND NOT domain GLOB '*.')
        CONSTRAINT "app_domains.domain: empty label" CHECK (NOT domain GLOB '*..*')
        CONSTRAINT "app_domains.domain: label starts or ends with '-'"
            CHECK (NOT domain GLOB '-*' AND NOT domain GLOB '*-' AND NOT domain GLOB '*.-*' AND NOT domain GLOB '*-.*')
        CONSTRAINT "app_domains.domain: label over 63 characters" CHECK (NOT domain GLOB '*[^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.]*')
        CONSTRAINT "app_domains.domain: numeric last label (an IP address, not a name)"
            CHECK (substr(domain, length(rtrim(domain, replace(domain, '.', ''))) + 1) GLOB '*[^0-9]*'),
    note   TEXT,
    -- v3. 1: the name only, not below it (a feed's "host.example"; "*.example" is exact = 0).
    -- enable_app copies it into the rule's domain.
    exact  INTEGER NOT NULL DEFAULT 0 CHECK (exact IN (0, 1)),
    UNIQUE (app_id, domain)
);

CREATE TABLE app_programs (
    id      INTEGER PRIMARY KEY,
    app_id  INTEGER NOT NULL,
    os      TEXT NOT NULL DEFAULT 'any' CHECK (os IN ('windows', 'macos', 'linux', 'any')),
    program TEXT NOT NULL CHECK (length(program) BETWEEN 1 AND 255 AND program = trim(program)
                                 AND NOT program GLOB '*[/\]*'
                                 AND NOT program GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*')),
    note    TEXT,
    UNIQUE (app_id, os, program)
);

-- v2. An app's destination ranges ('ADDR/BITS', as rule_destinations).
CREATE TABLE app_destinations (
    app_id INTEGER NOT NULL,
    cidr   TEXT NOT NULL CHECK (length(cidr) BETWEEN 4 AND 43 AND cidr GLOB '*?/[0-9]*'
                                AND NOT cidr GLOB '*[^0-9a-f.:/]*'),
    note   TEXT,
    PRIMARY KEY (app_id, cidr)
);


-- v3. Vendor feeds imported by `pinsplice feed import`: one row per feed, its provenance as of the
-- last import (the audit holds every import). Deleting a feed deletes its apps.
CREATE TABLE feeds (
    name        TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = trim(name)),
    format      TEXT NOT NULL CHECK (format IN ('m365', 'json')),
    source      TEXT NOT NULL,
    version     TEXT NOT NULL,
    imported_at TEXT NOT NULL  -- UTC, ISO 8601
);

-- v3. What the last import of each feed said, flattened (kind, owner, item, value), so that a
-- re-import tells the admin's edits from the feed's changes (lib/admin/admin_feed.c). Do not edit.
CREATE TABLE feed_base (
    feed  TEXT NOT NULL,
    kind  TEXT NOT NULL,
    owner TEXT NOT NULL,
    item  TEXT NOT NULL,
    value,
    PRIMARY KEY (feed, kind, owner, item)
) WITHOUT ROWID;

CREATE TABLE categories (
    name    TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND name = trim(name)),
    comment TEXT
);

-- A domain of a category covers the whole subtree, as a rule's domain does. list: where the entry
-- came from (e.g. the imported list's name), for re-imports.
CREATE TABLE category_domains (
    category TEXT NOT NULL,
    domain   TEXT NOT NULL 
        CONSTRAINT "category_domains.domain: empty or over 253 characters" CHECK (length(domain) BETWEEN 1 AND 253)
        CONSTRAINT "category_domains.domain: upper case (store lower case)" CHECK (domain = lower(domain))
        CONSTRAINT "category_domains.domain: space, non-ASCII or other character (store IDNs as punycode xn--)"
            CHECK (NOT domain GLOB '*[^a-z0-9._-]*')
        CONSTRAINT "category_domains.domain: leading or trailing dot" CHECK (NOT domain GLOB '.*' AND NOT domain GLOB '*.')
        CONSTRAINT "category_domains.domain: empty label" CHECK (NOT domain GLOB '*..*')
        CONSTRAINT "category_domains.domain: label starts or ends with '-'"
            CHECK (NOT domain GLOB '-*' AND NOT domain GLOB '*-' AND NOT domain GLOB '*.-*' AND NOT domain GLOB '*-.*')
        CONSTRAINT "category_domains.domain: label over 63 characters" CHECK (NOT domain GLOB '*[^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.][^.]*')
        CONSTRAINT "category_domains.domain: numeric last label (an IP address, not a name)"
            CHECK (substr(domain, length(rtrim(domain, replace(domain, '.', ''))) + 1) GLOB '*[^0-9]*'),
    list     TEXT,
    PRIMARY KEY (category, domain)
) WITHOUT ROWID;

CREATE INDEX rule_domains_domain ON rule_domains (domain);
CREATE INDEX category_domains_list ON category_domains (list);

-- Referential integrity by trigger (works whatever PRAGMA foreign_keys says).
CREATE TRIGGER rule_domains_rule BEFORE INSERT ON rule_domains
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_domains: no rule with this rule_id'); END;
CREATE TRIGGER rule_programs_rule BEFORE INSERT ON rule_programs
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_programs: no rule with this rule_id'); END;
CREATE TRIGGER rule_sources_rule BEFORE INSERT ON rule_sources
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_sources: no rule with this rule_id'); END;
CREATE TRIGGER rule_categories_rule BEFORE INSERT ON rule_categories
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_categories: no rule with this rule_id'); END;
CREATE TRIGGER rule_categories_category BEFORE INSERT ON rule_categories
WHEN NOT EXISTS (SELECT 1 FROM categories WHERE name = NEW.category)
BEGIN SELECT raise(ABORT, 'rule_categories: unknown category (add it to categories first)'); END;
CREATE TRIGGER category_domains_category BEFORE INSERT ON category_domains
WHEN NOT EXISTS (SELECT 1 FROM categories WHERE name = NEW.category)
BEGIN SELECT raise(ABORT, 'category_domains: unknown category (add it to categories first)'); END;
CREATE TRIGGER app_domains_app BEFORE INSERT ON app_domains
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)
BEGIN SELECT raise(ABORT, 'app_domains: no app with this app_id'); END;
CREATE TRIGGER app_programs_app BEFORE INSERT ON app_programs
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)
BEGIN SELECT raise(ABORT, 'app_programs: no app with this app_id'); END;

CREATE TRIGGER rule_destinations_rule BEFORE INSERT ON rule_destinations
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_destinations: no rule with this rule_id'); END;
CREATE TRIGGER rule_pins_rule BEFORE INSERT ON rule_pins
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_pins: no rule with this rule_id'); END;
CREATE TRIGGER app_destinations_app BEFORE INSERT ON app_destinations
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)
BEGIN SELECT raise(ABORT, 'app_destinations: no app with this app_id'); END;

-- v3
CREATE INDEX apps_feed ON apps (feed);
CREATE TRIGGER apps_feed_insert BEFORE INSERT ON apps
WHEN NEW.feed IS NOT NULL AND NOT EXISTS (SELECT 1 FROM feeds WHERE name = NEW.feed)
BEGIN SELECT raise(ABORT, 'apps: no feed with this name (see feeds.name)'); END;
CREATE TRIGGER apps_feed_update BEFORE UPDATE OF feed ON apps
WHEN NEW.feed IS NOT NULL AND NOT EXISTS (SELECT 1 FROM feeds WHERE name = NEW.feed)
BEGIN SELECT raise(ABORT, 'apps: no feed with this name (see feeds.name)'); END;
CREATE TRIGGER feeds_name_update BEFORE UPDATE OF name ON feeds
BEGIN SELECT raise(ABORT, 'feeds: name cannot change (apps.feed refers to it)'); END;
CREATE TRIGGER feeds_delete AFTER DELETE ON feeds
BEGIN
    DELETE FROM apps WHERE feed = OLD.name;
    DELETE FROM feed_base WHERE feed = OLD.name;
END;

CREATE TRIGGER rules_delete AFTER DELETE ON rules
BEGIN
    DELETE FROM rule_domains WHERE rule_id = OLD.id;
    DELETE FROM rule_programs WHERE rule_id = OLD.id;
    DELETE FROM rule_categories WHERE rule_id = OLD.id;
    DELETE FROM rule_sources WHERE rule_id = OLD.id;
    DELETE FROM rule_destinations WHERE rule_id = OLD.id;
    DELETE FROM rule_pins WHERE rule_id = OLD.id;
END;
CREATE TRIGGER apps_delete AFTER DELETE ON apps
BEGIN
    DELETE FROM app_domains WHERE app_id = OLD.id;
    DELETE FROM app_programs WHERE app_id = OLD.id;
    DELETE FROM app_destinations WHERE app_id = OLD.id;
END;
CREATE TRIGGER categories_delete BEFORE DELETE ON categories
WHEN EXISTS (SELECT 1 FROM rule_categories WHERE category = OLD.name)
BEGIN SELECT raise(ABORT, 'categories: still used by a rule (remove it from rule_categories first)'); END;
CREATE TRIGGER categories_delete_domains AFTER DELETE ON categories
BEGIN DELETE FROM category_domains WHERE category = OLD.name; END;
CREATE TRIGGER rules_id_update BEFORE UPDATE OF id ON rules
BEGIN SELECT raise(ABORT, 'rules: id cannot change (entries refer to it)'); END;

INSERT INTO settings (key, value, comment) VALUES
    ('default_action', 'bump', 'action for connections no rule matches: bump | splice | terminate'),
    ('program_trusted_sources', '', 'CIDRs whose X-Client-Process header is believed; empty = none');
