-- pinsplice management interface for the sqlite3 CLI (loaded by `pinsplice db init` right after
-- schema.sql and audit.sql, before vendor.sql and defaults.sql). It changes no table the matcher
-- reads: it adds views and triggers (schema version 2: sql/schema.sql). The audit table and its
-- triggers are sql/audit.sql's, which every loader runs just before this file.
--
-- What it gives an admin (README.md, "Managing rules", has one example of each):
--   add_domain, add_program, add_source, add_category   one-statement INSERTs by rule NAME
--   rule_overview      one row per rule, entries aggregated, in evaluation order (read-only)
--   rule_entries       every entry of every rule, one row each (read-only)
--   edit_rule          INSERT INTO edit_rule(rule, field, value): enable/disable, action,
--                      position, expiry, name of the rule with that NAME
--   remove_rule, remove_entry   INSERT the rule's name (and the entry's value) to remove them
--   set_setting        INSERT INTO set_setting(key, value): change a setting by its key
--   enable_app         INSERT INTO enable_app(app, by): a catalogue app becomes a rule
--   app_overview       the catalogue, one row per app
--   audit              who changed what, when (UTC); audit_import: summaries of bulk imports
-- Every change is an INSERT into a view that names what it changes, so a name that does not
-- exist is an error naming it (an UPDATE or DELETE with a WHERE that matches nothing could only
-- succeed silently: see edit_rule below).
--
-- Errors. A refused statement changes nothing: every statement is atomic (a failing statement is
-- rolled back whole, including a rule add_domain created for it, and in an explicit transaction
-- only that statement is undone). Errors that need to show the offending value read
--     JSON path error near 'add_domain: domain "Zoom.US": upper case (...)'
-- because SQLite 3.40 only takes a fixed text in RAISE(): the views make json_extract() fail with
-- the message as its path, the one built-in way to put a computed text into an error. The text
-- between the quotes is the message; the prefix means nothing. Fixed messages use RAISE().
--
-- Who made a change, and how bulk lists are audited: see sql/audit.sql.
--
-- Re-running this file on an existing database is safe (views and triggers are dropped and
-- recreated), so an update can re-apply it.

-- ---- rule_overview -------------------------------------------------------------------------------
-- One row per rule, in the order the matcher tries them (position, then id; the loader reads a
-- position as CAST(... AS INTEGER), and so does this ORDER BY, even for a value stored before
-- rules_check_* refused non-integers). expires_at is shown
-- normalised to UTC; expired = 1 once it has passed (the rule then matches nothing, by itself).
-- state: active | disabled | expired | no entries (a rule without entries matches nothing).
-- Programs show as os:program (just the program for os 'any'); exact domains as "name (exact)".
-- v2 columns, at the end: mode (enforce | monitor), verify (inherit | off | ip | always),
-- verify_ca_file (NULL: the global trust), destinations, pins (the count of rule_pins; add_pin
-- lists and edits them). A monitor rule shows state 'monitor' where it would be 'active'.
DROP VIEW IF EXISTS rule_overview;
CREATE VIEW rule_overview AS
SELECT position, id, name, action, enabled,
       CASE WHEN enabled = 0 THEN 'disabled'
            WHEN expired = 1 THEN 'expired'
            WHEN coalesce(domains, programs, categories, sources, destinations) IS NULL
                THEN 'no entries'
            WHEN mode = 'monitor' THEN 'monitor'
            ELSE 'active' END AS state,
       expires_at, expired, domains, programs, categories, sources, origin,
       mode, verify, verify_ca_file, destinations, pins
FROM (
    SELECT r.position, r.id, r.name, r.action, r.enabled,
           datetime(r.expires_at) AS expires_at,
           (r.expires_at IS NOT NULL AND julianday(r.expires_at) <= julianday('now')) AS expired,
           (SELECT group_concat(e, ', ') FROM (
                SELECT domain || CASE exact WHEN 1 THEN ' (exact)' ELSE '' END AS e
                FROM rule_domains WHERE rule_id = r.id ORDER BY domain)) AS domains,
           (SELECT group_concat(e, ', ') FROM (
                SELECT CASE os WHEN 'any' THEN '' ELSE os || ':' END || program AS e
                FROM rule_programs WHERE rule_id = r.id ORDER BY os, program)) AS programs,
           (SELECT group_concat(e, ', ') FROM (
                SELECT category AS e FROM rule_categories WHERE rule_id = r.id
                ORDER BY category)) AS categories,
           (SELECT group_concat(e, ', ') FROM (
                SELECT source AS e FROM rule_sources WHERE rule_id = r.id
                ORDER BY source)) AS sources,
           r.origin, r.mode, r.verify, r.verify_ca_file,
           (SELECT group_concat(e, ', ') FROM (
                SELECT cidr AS e FROM rule_destinations WHERE rule_id = r.id
                ORDER BY cidr)) AS destinations,
           (SELECT count(*) FROM rule_pins WHERE rule_id = r.id) AS pins
    FROM rules r
)
ORDER BY CAST(coalesce(position, id) AS INTEGER), id;

-- rule_overview is read-only, and so is rule_entries: changes go through the INSERT views below,
-- which name the rule. An UPDATE or DELETE through a view runs its INSTEAD OF trigger once per
-- row its WHERE matched, so a misspelt name matches no row, fires nothing and succeeds silently
-- (and changes() counts no change made through such a trigger, not even a real one). An INSERT
-- runs its trigger once per row given, whatever exists: the trigger can check the name and fail
-- naming it. A view without UPDATE/DELETE triggers refuses every UPDATE and DELETE ("cannot modify
-- rule_overview because it is a view"), so a typo can no longer pass unnoticed that way either.

-- check_rule: INSERT INTO check_rule (rule, what) stores nothing and fails, naming `what` and the
-- rule, when no rule has that name (with the rule's real name when they differ only in case).
DROP VIEW IF EXISTS check_rule;
CREATE VIEW check_rule (rule, what) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_rule_insert INSTEAD OF INSERT ON check_rule
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule)
BEGIN
    SELECT json_extract('{}', printf('%s: no rule named "%s" (%sSELECT name FROM rule_overview lists them)', NEW.what, NEW.rule,
        coalesce((SELECT printf('a rule "%s" differs only in case; ', name) FROM rules
                  WHERE lower(name) = lower(NEW.rule) ORDER BY id LIMIT 1), '')));
END;

-- check_ca_file: INSERT INTO check_ca_file (path, what) stores nothing and fails naming `what`
-- and the path when it is not an absolute path the loader takes (rules.verify_ca_file).
DROP VIEW IF EXISTS check_ca_file;
CREATE VIEW check_ca_file (path, what) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_ca_file_insert INSTEAD OF INSERT ON check_ca_file
BEGIN
    SELECT json_extract('{}', printf('%s "%s": an absolute path to a PEM bundle (e.g. /etc/pinsplice/app-ca.pem), readable by the user Squid runs helpers as; NULL for the global trust', NEW.what, NEW.path))
    WHERE NEW.path IS NOT NULL
      AND (typeof(NEW.path) <> 'text' OR instr(CAST(NEW.path AS BLOB), x'00') > 0
           OR NOT NEW.path GLOB '/?*' OR length(NEW.path) > 4095
           OR NEW.path GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*'));
END;

-- ---- edit_rule -----------------------------------------------------------------------------------
-- INSERT INTO edit_rule (rule, field, value) VALUES ('Bypass Dropbox - Pre-configured', 'enabled', 0)
-- field: name | action | enabled | position | expires_at (NULL value: no expiry), and (schema
-- v2) mode (enforce | monitor), verify (inherit | off | ip | always), verify_ca_file (an absolute
-- path; NULL: the global trust). Several rows are one statement (all or nothing), applied in
-- order. SELECT * FROM edit_rule WHERE rule = ... shows the current values.
DROP VIEW IF EXISTS edit_rule;
CREATE VIEW edit_rule (rule, field, value) AS
SELECT r.name, f.field,
       CASE f.field WHEN 'name' THEN r.name WHEN 'action' THEN r.action
                    WHEN 'enabled' THEN r.enabled WHEN 'position' THEN r.position
                    WHEN 'expires_at' THEN datetime(r.expires_at) WHEN 'mode' THEN r.mode
                    WHEN 'verify' THEN r.verify WHEN 'verify_ca_file' THEN r.verify_ca_file END
FROM rules r JOIN (SELECT 1 AS o, 'name' AS field UNION ALL SELECT 2, 'action'
                   UNION ALL SELECT 3, 'enabled' UNION ALL SELECT 4, 'position'
                   UNION ALL SELECT 5, 'expires_at' UNION ALL SELECT 6, 'mode'
                   UNION ALL SELECT 7, 'verify' UNION ALL SELECT 8, 'verify_ca_file') f
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, f.o;

CREATE TRIGGER edit_rule_insert INSTEAD OF INSERT ON edit_rule
BEGIN
    INSERT INTO check_rule (rule, what) VALUES (NEW.rule, 'edit_rule');
    SELECT json_extract('{}', printf('edit_rule: rule "%s": field "%s": use name, action, enabled, position, expires_at, mode, verify or verify_ca_file (entries: add_domain, add_program, add_source, add_category, add_destination; pins: add_pin; removal: remove_entry, remove_rule)', NEW.rule, NEW.field))
    WHERE NEW.field IS NULL OR NEW.field NOT IN ('name', 'action', 'enabled', 'position', 'expires_at',
                                                 'mode', 'verify', 'verify_ca_file');
    SELECT json_extract('{}', printf('edit_rule: rule "%s": mode "%s": use enforce (the rule decides) or monitor (it only reports what it would do)', NEW.rule, NEW.value))
    WHERE NEW.field = 'mode' AND (NEW.value IS NULL OR typeof(NEW.value) <> 'text'
                                  OR NEW.value NOT IN ('enforce', 'monitor'));
    SELECT json_extract('{}', printf('edit_rule: rule "%s": verify "%s": use inherit (settings.splice_verify), off, ip or always', NEW.rule, NEW.value))
    WHERE NEW.field = 'verify' AND (NEW.value IS NULL OR typeof(NEW.value) <> 'text'
                                    OR NEW.value NOT IN ('inherit', 'off', 'ip', 'always'));
    INSERT INTO check_ca_file (path, what)
    SELECT NEW.value, printf('edit_rule: rule "%s": verify_ca_file', NEW.rule)
    WHERE NEW.field = 'verify_ca_file' AND NEW.value IS NOT NULL;
    SELECT json_extract('{}', printf('edit_rule: rule "%s": action "%s": use splice, bump or terminate', NEW.rule, NEW.value))
    WHERE NEW.field = 'action' AND (NEW.value IS NULL OR NEW.value NOT IN ('splice', 'bump', 'terminate'));
    SELECT json_extract('{}', printf('edit_rule: rule "%s": enabled "%s": use 1 (on) or 0 (off)', NEW.rule, NEW.value))
    WHERE NEW.field = 'enabled' AND (NEW.value IS NULL OR NEW.value NOT IN (0, 1, '0', '1'));
    SELECT json_extract('{}', printf('edit_rule: rule "%s": position "%s": use a whole number (rules are tried by ascending position)', NEW.rule, NEW.value))
    WHERE NEW.field = 'position'
      AND NOT (typeof(NEW.value) = 'integer'
               OR (typeof(NEW.value) = 'text' AND NEW.value = CAST(CAST(NEW.value AS INTEGER) AS TEXT)));
    SELECT json_extract('{}', printf('edit_rule: rule "%s": expires_at "%s": not a date and time (UTC, e.g. ''2026-12-31 18:00:00'' or datetime(''now'', ''+2 hours''); NULL removes the expiry)', NEW.rule, NEW.value))
    WHERE NEW.field = 'expires_at' AND NEW.value IS NOT NULL
      AND (typeof(NEW.value) <> 'text' OR datetime(NEW.value) IS NULL
           OR NOT NEW.value GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*');
    SELECT json_extract('{}', printf('edit_rule: rule "%s": new name "%s": empty, over 200 characters or 800 bytes, or spaces at an end', NEW.rule, NEW.value))
    WHERE NEW.field = 'name'
      AND (NEW.value IS NULL OR typeof(NEW.value) <> 'text' OR length(NEW.value) NOT BETWEEN 1 AND 200
           OR length(CAST(NEW.value AS BLOB)) > 800 OR NEW.value <> trim(NEW.value));
    SELECT json_extract('{}', printf('edit_rule: rule "%s": new name "%s": another rule has it', NEW.rule, NEW.value))
    WHERE NEW.field = 'name' AND NEW.value IS NOT NEW.rule
      AND EXISTS (SELECT 1 FROM rules WHERE name = NEW.value);
    UPDATE rules SET name = NEW.value WHERE NEW.field = 'name' AND name = NEW.rule;
    UPDATE rules SET action = NEW.value WHERE NEW.field = 'action' AND name = NEW.rule;
    UPDATE rules SET enabled = CAST(NEW.value AS INTEGER) WHERE NEW.field = 'enabled' AND name = NEW.rule;
    UPDATE rules SET position = CAST(NEW.value AS INTEGER) WHERE NEW.field = 'position' AND name = NEW.rule;
    UPDATE rules SET expires_at = datetime(NEW.value) WHERE NEW.field = 'expires_at' AND name = NEW.rule;
    UPDATE rules SET mode = NEW.value WHERE NEW.field = 'mode' AND name = NEW.rule;
    UPDATE rules SET verify = NEW.value WHERE NEW.field = 'verify' AND name = NEW.rule;
    UPDATE rules SET verify_ca_file = NEW.value WHERE NEW.field = 'verify_ca_file' AND name = NEW.rule;
END;

-- ---- remove_rule ---------------------------------------------------------------------------------
-- INSERT INTO remove_rule (rule) VALUES ('Block tracking'): the rule and all its entries.
DROP VIEW IF EXISTS remove_rule;
CREATE VIEW remove_rule (rule) AS SELECT NULL WHERE 0;
CREATE TRIGGER remove_rule_insert INSTEAD OF INSERT ON remove_rule
BEGIN
    INSERT INTO check_rule (rule, what) VALUES (NEW.rule, 'remove_rule');
    DELETE FROM rules WHERE name = NEW.rule;
END;

-- ---- rule_entries --------------------------------------------------------------------------------
-- Every entry of every rule, one row each: kind domain | program | category | source |
-- destination | pin. value is the domain, program, category, source, destination range or pin;
-- os only for programs, exact only for domains. (A pin is no match condition: it says which
-- server certificates the rule's server check accepts.)
-- Read-only: INSERT INTO remove_entry (below) removes an entry.
DROP VIEW IF EXISTS rule_entries;
CREATE VIEW rule_entries (rule, kind, value, os, exact, comment, rule_id, entry_id) AS
SELECT r.name, e.kind, e.value, e.os, e.exact, e.comment, r.id, e.id
FROM rules r JOIN (
    SELECT rule_id, 'domain' AS kind, domain AS value, NULL AS os, exact, comment, id
    FROM rule_domains
    UNION ALL SELECT rule_id, 'program', program, os, NULL, comment, id FROM rule_programs
    UNION ALL SELECT rule_id, 'category', category, NULL, NULL, NULL, id FROM rule_categories
    UNION ALL SELECT rule_id, 'source', source, NULL, NULL, comment, id FROM rule_sources
    UNION ALL SELECT rule_id, 'destination', cidr, NULL, NULL, comment, rowid
    FROM rule_destinations
    UNION ALL SELECT rule_id, 'pin', spki_sha256, NULL, NULL, comment, rowid FROM rule_pins
) e ON e.rule_id = r.id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, e.kind, e.value;

-- ---- remove_entry --------------------------------------------------------------------------------
-- INSERT INTO remove_entry (rule, value [, kind] [, os]) VALUES (...): removes the entry of that
-- rule whose value is `value` (a domain, program, category or source as rule_entries shows it).
-- kind (domain | program | category | source) and os (programs) are needed only when several
-- entries of the rule have that value. A rule or an entry that does not exist is an error.
DROP VIEW IF EXISTS remove_entry;
CREATE VIEW remove_entry (rule, value, kind, os) AS SELECT NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER remove_entry_insert INSTEAD OF INSERT ON remove_entry
BEGIN
    INSERT INTO check_rule (rule, what) VALUES (NEW.rule, 'remove_entry');
    SELECT json_extract('{}', printf('remove_entry: rule "%s": kind "%s": use domain, program, category, source, destination or pin', NEW.rule, NEW.kind))
    WHERE NEW.kind IS NOT NULL AND NEW.kind NOT IN ('domain', 'program', 'category', 'source', 'destination', 'pin');
    SELECT json_extract('{}', printf('remove_entry: rule "%s" has no %s "%s"%s (SELECT kind, value, os FROM rule_entries WHERE rule = ... lists them)', NEW.rule, coalesce(NEW.kind, 'entry'), NEW.value, coalesce(' for os ' || NEW.os, '')))
    WHERE NOT EXISTS (SELECT 1 FROM rule_entries WHERE rule = NEW.rule AND value = NEW.value
                      AND (NEW.kind IS NULL OR kind = NEW.kind) AND (NEW.os IS NULL OR os = NEW.os));
    SELECT json_extract('{}', printf('remove_entry: rule "%s": %d entries are "%s": say which with kind (and os for programs)', NEW.rule, n, NEW.value))
    FROM (SELECT count(*) AS n FROM rule_entries WHERE rule = NEW.rule AND value = NEW.value
          AND (NEW.kind IS NULL OR kind = NEW.kind) AND (NEW.os IS NULL OR os = NEW.os))
    WHERE n > 1;
    DELETE FROM rule_domains WHERE id IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'domain' AND coalesce(NEW.kind, kind) = kind AND NEW.os IS NULL);
    DELETE FROM rule_programs WHERE id IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'program' AND coalesce(NEW.kind, kind) = kind
          AND (NEW.os IS NULL OR os = NEW.os));
    DELETE FROM rule_categories WHERE id IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'category' AND coalesce(NEW.kind, kind) = kind AND NEW.os IS NULL);
    DELETE FROM rule_sources WHERE id IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'source' AND coalesce(NEW.kind, kind) = kind AND NEW.os IS NULL);
    DELETE FROM rule_destinations WHERE rowid IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'destination' AND coalesce(NEW.kind, kind) = kind AND NEW.os IS NULL);
    DELETE FROM rule_pins WHERE rowid IN (SELECT entry_id FROM rule_entries
        WHERE rule = NEW.rule AND value = NEW.value AND kind = 'pin' AND coalesce(NEW.kind, kind) = kind AND NEW.os IS NULL);
END;

-- ---- add_domain ----------------------------------------------------------------------------------
-- INSERT INTO add_domain (rule, domain [, exact] [, action] [, comment]) VALUES (...)
-- Adds the domain to the rule named `rule`; creates that rule when no rule has the name (enabled,
-- action `action` or splice, tried last, origin local). exact = 1: the name only, not below it.
-- `action` only matters when the rule is created; naming another action than an existing rule's
-- is refused. Adding a domain the rule already has changes nothing (or just its exact/comment).
-- Every check runs before anything is written; a statement of several rows is still all or
-- nothing (a later bad row undoes the rule an earlier row created).
-- SELECT * FROM add_domain lists the domain entries of every rule.
DROP VIEW IF EXISTS add_domain;
CREATE VIEW add_domain (rule, domain, exact, action, comment) AS
SELECT r.name, d.domain, d.exact, r.action, d.comment
FROM rule_domains d JOIN rules r ON r.id = d.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, d.domain;

CREATE TRIGGER add_domain_insert INSTEAD OF INSERT ON add_domain
BEGIN
    -- the rule
    SELECT raise(ABORT, 'add_domain: rule name missing (rule = the name of an existing or new rule)')
    WHERE NEW.rule IS NULL OR NEW.rule = '';
    SELECT json_extract('{}', printf('add_domain: rule name "%s": spaces at an end or over 200 characters or 800 bytes', NEW.rule))
    WHERE NEW.rule <> trim(NEW.rule) OR length(NEW.rule) > 200 OR length(CAST(NEW.rule AS BLOB)) > 800;
    SELECT json_extract('{}', printf('add_domain: rule "%s" does not exist, and a rule "%s" does (names differ only in case): use that name', NEW.rule, name))
    FROM rules WHERE name <> NEW.rule AND lower(name) = lower(NEW.rule)
      AND NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule);
    SELECT json_extract('{}', printf('add_domain: action "%s": use splice, bump or terminate', NEW.action))
    WHERE NEW.action IS NOT NULL AND NEW.action NOT IN ('splice', 'bump', 'terminate');
    SELECT json_extract('{}', printf('add_domain: rule "%s" exists with action %s, not %s (change it with edit_rule: field action)', NEW.rule, action, NEW.action))
    FROM rules WHERE name = NEW.rule AND NEW.action IS NOT NULL AND action <> NEW.action;
    SELECT json_extract('{}', printf('add_domain: domain "%s": exact "%s": use 0 (the name and every name below it) or 1 (the name only)', NEW.domain, NEW.exact))
    WHERE NEW.exact IS NOT NULL AND NEW.exact NOT IN (0, 1);
    -- the domain, most specific problem first
    SELECT json_extract('{}', printf('add_domain: rule "%s": domain missing', NEW.rule))
    WHERE NEW.domain IS NULL OR NEW.domain = '';
    SELECT json_extract('{}', printf('add_domain: domain "%s": a URL or path, not a host name (write just the name, e.g. "zoom.us")', NEW.domain))
    WHERE NEW.domain GLOB '*/*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": no wildcards: an entry covers the name and every name below it (write "%s")', NEW.domain, ltrim(NEW.domain, '*.')))
    WHERE NEW.domain GLOB '*[*?]*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": non-ASCII: store internationalised names as punycode (xn--...); `pinsplice` converts them', NEW.domain))
    WHERE length(CAST(NEW.domain AS BLOB)) <> length(NEW.domain);
    SELECT json_extract('{}', printf('add_domain: domain "%s": contains a space or control character', NEW.domain))
    WHERE NEW.domain GLOB ('*[ ' || char(1) || '-' || char(31) || char(127) || ']*');
    SELECT json_extract('{}', printf('add_domain: domain "%s": upper case (store names lower case: "%s")', NEW.domain, lower(NEW.domain)))
    WHERE NEW.domain <> lower(NEW.domain);
    SELECT json_extract('{}', printf('add_domain: domain "%s": leading dot (an entry already covers every name below it: write "%s")', NEW.domain, ltrim(NEW.domain, '.')))
    WHERE NEW.domain GLOB '.*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": trailing dot (write "%s")', NEW.domain, rtrim(NEW.domain, '.')))
    WHERE NEW.domain GLOB '*.';
    SELECT json_extract('{}', printf('add_domain: domain "%s": empty label ("..")', NEW.domain))
    WHERE NEW.domain GLOB '*..*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": has ":" (a port or an IPv6 address?): write the host name only', NEW.domain))
    WHERE NEW.domain GLOB '*:*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": character not allowed in a host name (a-z 0-9 - _ and dots)', NEW.domain))
    WHERE NEW.domain GLOB '*[^a-z0-9._-]*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": a label starts or ends with "-"', NEW.domain))
    WHERE NEW.domain GLOB '-*' OR NEW.domain GLOB '*-' OR NEW.domain GLOB '*.-*' OR NEW.domain GLOB '*-.*';
    SELECT json_extract('{}', printf('add_domain: domain "%s": a label is over 63 characters', NEW.domain))
    WHERE NEW.domain GLOB ('*' || replace(hex(zeroblob(64)), '00', '[^.]') || '*');
    SELECT json_extract('{}', printf('add_domain: domain "%s": over 253 characters', NEW.domain))
    WHERE length(NEW.domain) > 253;
    -- The text after the last dot (rtrim strips every character but '.' from the right).
    SELECT json_extract('{}', printf('add_domain: domain "%s": an IP address (numeric last label): IP addresses never match domain entries; for clients use add_source', NEW.domain))
    WHERE NOT substr(NEW.domain, length(rtrim(NEW.domain, replace(NEW.domain, '.', ''))) + 1)
              GLOB '*[^0-9]*';
    -- write
    INSERT INTO rules (name, action, enabled, origin)
    SELECT NEW.rule, coalesce(NEW.action, 'splice'), 1, 'local'
    WHERE NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule);
    INSERT INTO rule_domains (rule_id, domain, exact, comment)
    SELECT id, NEW.domain, coalesce(NEW.exact, 0), NEW.comment FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, domain) DO UPDATE
    SET exact = excluded.exact, comment = coalesce(excluded.comment, comment)
    WHERE exact IS NOT excluded.exact OR (excluded.comment IS NOT NULL AND comment IS NOT excluded.comment);
END;

-- ---- add_program ---------------------------------------------------------------------------------
-- INSERT INTO add_program (rule, os, program [, comment]) VALUES (...): os windows | macos | linux
-- | any (default any; informational). The rule must exist (add_domain creates rules; an entry
-- that restricts a rule must not silently land in a new one because of a typo).
-- Programs count only for clients in settings.program_trusted_sources (empty by default).
DROP VIEW IF EXISTS add_program;
CREATE VIEW add_program (rule, os, program, comment) AS
SELECT r.name, p.os, p.program, p.comment
FROM rule_programs p JOIN rules r ON r.id = p.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, p.os, p.program;

CREATE TRIGGER add_program_insert INSTEAD OF INSERT ON add_program
BEGIN
    SELECT json_extract('{}', printf('add_program: no rule named "%s" (see SELECT name FROM rule_overview; add_domain or INSERT INTO rules(name) creates one)', NEW.rule))
    WHERE NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule);
    SELECT json_extract('{}', printf('add_program: os "%s": use windows, macos, linux or any', NEW.os))
    WHERE NEW.os IS NOT NULL AND NEW.os NOT IN ('windows', 'macos', 'linux', 'any');
    SELECT json_extract('{}', printf('add_program: rule "%s": program missing', NEW.rule))
    WHERE NEW.program IS NULL OR NEW.program = '';
    SELECT json_extract('{}', printf('add_program: program "%s": a path: give the file name only (e.g. "zoom.exe"); names compare on the basename, case-insensitively', NEW.program))
    WHERE NEW.program GLOB '*[/\]*';
    SELECT json_extract('{}', printf('add_program: program "%s": spaces at an end, a control character, or over 255 characters', NEW.program))
    WHERE NEW.program <> trim(NEW.program) OR length(NEW.program) > 255
       OR NEW.program GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*');
    INSERT INTO rule_programs (rule_id, os, program, comment)
    SELECT id, coalesce(NEW.os, 'any'), NEW.program, NEW.comment FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, os, program) DO UPDATE SET comment = excluded.comment
    WHERE excluded.comment IS NOT NULL AND comment IS NOT excluded.comment;
END;

-- ---- add_source ----------------------------------------------------------------------------------
-- INSERT INTO add_source (rule, source [, comment]) VALUES (...): an IPv4 or IPv6 address or
-- network ('10.1.0.0/16', '2001:db8::/32', host bits zero) or 'user:NAME' (the proxy user). The
-- rule must exist (a source restricts a rule; on a new rule of its own it would widen it).
-- Checked here as the matcher parses it: dotted quad without leading zeros, IPv6 with at most one
-- '::' and 8 groups of 1-4 hex digits, prefix length within 32/128, host bits zero. IPv6 is stored
-- in lower case.
DROP VIEW IF EXISTS add_source;
CREATE VIEW add_source (rule, source, comment) AS
SELECT r.name, s.source, s.comment
FROM rule_sources s JOIN rules r ON r.id = s.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, s.source;

CREATE TRIGGER add_source_insert INSTEAD OF INSERT ON add_source
BEGIN
    SELECT json_extract('{}', printf('add_source: no rule named "%s" (see SELECT name FROM rule_overview; add_domain or INSERT INTO rules(name) creates one)', NEW.rule))
    WHERE NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule);
    SELECT json_extract('{}', printf('add_source: rule "%s": source missing', NEW.rule))
    WHERE NEW.source IS NULL OR NEW.source = '';
    -- The source itself is checked by rule_sources_check_insert below, for this view and for
    -- a direct INSERT INTO rule_sources alike.
    INSERT INTO rule_sources (rule_id, source, comment)
    SELECT id, CASE WHEN NEW.source GLOB 'user:*' THEN NEW.source ELSE lower(NEW.source) END,
           NEW.comment
    FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, source) DO UPDATE SET comment = excluded.comment
    WHERE excluded.comment IS NOT NULL AND comment IS NOT excluded.comment;
END;

-- The same checks on the table itself, so a direct INSERT INTO rule_sources cannot store a source
-- the loader would refuse (a refused source stops the whole DB from loading: the last good rules
-- would stay in force and every later edit would be ignored until it is fixed).
-- check_source is where those checks live: INSERT INTO check_source (source, what) stores nothing
-- and fails naming `what` and the source when the loader would refuse it (rule_sources and the
-- setting program_trusted_sources share it).
DROP VIEW IF EXISTS check_source;
CREATE VIEW check_source (source, what) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_source_insert INSTEAD OF INSERT ON check_source
BEGIN
    -- user:NAME
    SELECT json_extract('{}', printf('%s "%s": user name missing, with spaces at an end, or with a control character', NEW.what, NEW.source))
    WHERE NEW.source GLOB 'user:*'
      AND (length(NEW.source) = 5 OR NEW.source <> trim(NEW.source)
           OR substr(NEW.source, 6) <> trim(substr(NEW.source, 6))
           OR NEW.source GLOB ('*[' || char(1) || '-' || char(31) || char(127) || ']*'));
    -- addresses: the characters, then the prefix length
    SELECT json_extract('{}', printf('%s "%s": not an address, a network or user:NAME (e.g. 10.1.0.0/16, 2001:db8::/32, user:alice)', NEW.what, NEW.source))
    WHERE NEW.source NOT GLOB 'user:*' AND NEW.source GLOB '*[^0-9a-fA-F.:/]*';
    SELECT json_extract('{}', printf('%s "%s": bad prefix length after "/" (0-32 for IPv4, 0-128 for IPv6)', NEW.what, NEW.source))
    FROM (SELECT substr(NEW.source, instr(NEW.source, '/') + 1) AS p,
                 (instr(NEW.source, ':') > 0) AS v6)
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, '/') > 0
      AND (p NOT GLOB '[0-9]' AND p NOT GLOB '[0-9][0-9]' AND p NOT GLOB '[0-9][0-9][0-9]'
           OR CAST(p AS INTEGER) > CASE WHEN v6 THEN 128 ELSE 32 END);
    -- IPv4
    SELECT json_extract('{}', printf('%s "%s": not a dotted-quad IPv4 address (four numbers 0-255, no leading zeros)', NEW.what, NEW.source))
    FROM (SELECT CASE WHEN instr(NEW.source, '/') > 0
                      THEN substr(NEW.source, 1, instr(NEW.source, '/') - 1)
                      ELSE NEW.source END AS a)
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, ':') = 0
      AND CASE WHEN a GLOB '*[^0-9.]*' OR length(a) - length(replace(a, '.', '')) <> 3
                    OR a GLOB '.*' OR a GLOB '*.' OR a GLOB '*..*' OR ('.' || a) GLOB '*.0[0-9]*'
                    OR ('.' || a || '.') GLOB '*.[0-9][0-9][0-9][0-9]*' THEN 1
               -- well formed: now the numbers can be read as a JSON array
               ELSE EXISTS (SELECT 1 FROM json_each('[' || replace(a, '.', ',') || ']')
                            WHERE value > 255) END;

    SELECT json_extract('{}', printf('%s "%s": host bits set (the network is %d.%d.%d.%d/%d)', NEW.what, NEW.source, (ip & ~hostmask) >> 24 & 255, (ip & ~hostmask) >> 16 & 255, (ip & ~hostmask) >> 8 & 255, ip & ~hostmask & 255, bits))
    FROM (SELECT ip, bits, (1 << (32 - bits)) - 1 AS hostmask
          FROM (SELECT (json_extract(j, '$[0]') << 24) | (json_extract(j, '$[1]') << 16)
                       | (json_extract(j, '$[2]') << 8) | json_extract(j, '$[3]') AS ip,
                       CASE WHEN instr(NEW.source, '/') > 0
                            THEN CAST(substr(NEW.source, instr(NEW.source, '/') + 1) AS INTEGER)
                            ELSE 32 END AS bits
                FROM (SELECT '[' || replace(CASE WHEN instr(NEW.source, '/') > 0
                                             THEN substr(NEW.source, 1, instr(NEW.source, '/') - 1)
                                             ELSE NEW.source END, '.', ',') || ']' AS j)))
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, ':') = 0 AND ip & hostmask <> 0;
    -- IPv6: shape first, then expand '::' to the missing zero groups and check the host bits.
    SELECT json_extract('{}', printf('%s "%s": IPv4 inside IPv6 notation: write the IPv4 address or network (e.g. 10.0.0.0/8)', NEW.what, NEW.source))
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, ':') > 0 AND instr(NEW.source, '.') > 0;
    SELECT json_extract('{}', printf('%s "%s": not an IPv6 address (at most one "::", 8 groups of 1-4 hex digits)', NEW.what, NEW.source))
    FROM (SELECT a, x, length(x) - length(replace(x, ':', '')) AS colons
          FROM (SELECT a, CASE WHEN x0 GLOB '*::' THEN x0 || '0' ELSE x0 END AS x
                FROM (SELECT a, CASE WHEN a GLOB '::*' THEN '0' || a ELSE a END AS x0
                      FROM (SELECT lower(CASE WHEN instr(NEW.source, '/') > 0
                                              THEN substr(NEW.source, 1, instr(NEW.source, '/') - 1)
                                              ELSE NEW.source END) AS a))))
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, ':') > 0
      AND (a GLOB '*:::*' OR (length(a) - length(replace(a, '::', ''))) / 2 > 1
           OR (a GLOB ':*' AND a NOT GLOB '::*') OR (a GLOB '*:' AND a NOT GLOB '*::')
           OR CASE WHEN instr(x, '::') > 0 THEN colons > 7 ELSE colons <> 7 END
           OR (':' || x || ':') GLOB '*:[^:][^:][^:][^:][^:]*');
    SELECT json_extract('{}', printf('%s "%s": host bits set after /%d (the bits after the prefix must be zero)', NEW.what, NEW.source, bits))
    FROM (SELECT bits, replace(x, '::', ':' || substr('0:0:0:0:0:0:0:', 1, 2 * (8 - colons)))
                       AS full
          FROM (SELECT x, bits, length(x) - length(replace(x, ':', '')) AS colons
                FROM (SELECT CASE WHEN x0 GLOB '*::' THEN x0 || '0' ELSE x0 END AS x, bits
                      FROM (SELECT CASE WHEN a GLOB '::*' THEN '0' || a ELSE a END AS x0, bits
                            FROM (SELECT lower(CASE WHEN instr(NEW.source, '/') > 0
                                                    THEN substr(NEW.source, 1, instr(NEW.source, '/') - 1)
                                                    ELSE NEW.source END) AS a,
                                         CASE WHEN instr(NEW.source, '/') > 0
                                              THEN CAST(substr(NEW.source, instr(NEW.source, '/') + 1) AS INTEGER)
                                              ELSE 128 END AS bits)))))
    WHERE NEW.source NOT GLOB 'user:*' AND instr(NEW.source, ':') > 0
      AND EXISTS (
          SELECT 1 FROM (
              SELECT 16 * key AS lo,
                     (instr('0123456789abcdef', substr(g, 1, 1)) - 1) * 4096
                     + (instr('0123456789abcdef', substr(g, 2, 1)) - 1) * 256
                     + (instr('0123456789abcdef', substr(g, 3, 1)) - 1) * 16
                     + (instr('0123456789abcdef', substr(g, 4, 1)) - 1) AS v
              FROM (SELECT key, substr('000' || value, -4, 4) AS g
                    FROM json_each('["' || replace(full, ':', '","') || '"]')))
          WHERE (lo >= bits AND v <> 0)
             OR (lo < bits AND lo + 16 > bits AND v & ((1 << (lo + 16 - bits)) - 1) <> 0));
END;
DROP TRIGGER IF EXISTS rule_sources_check_insert;
CREATE TRIGGER rule_sources_check_insert BEFORE INSERT ON rule_sources
BEGIN
    SELECT json_extract('{}', printf('source "%s": not an address, a network or user:NAME (e.g. 10.1.0.0/16, 2001:db8::/32, user:alice)', NEW.source))
    WHERE typeof(NEW.source) <> 'text' OR instr(CAST(NEW.source AS BLOB), x'00') > 0;
    INSERT INTO check_source (source, what) VALUES (NEW.source, 'source');
END;

DROP TRIGGER IF EXISTS rule_sources_check_update;
CREATE TRIGGER rule_sources_check_update BEFORE UPDATE OF source ON rule_sources
WHEN NEW.source IS NOT OLD.source
BEGIN
    -- One set of checks (on INSERT) is enough: a source is changed by removing it and adding the
    -- new one, which is also what the audit trail then shows.
    SELECT raise(ABORT, 'rule_sources: a source cannot be changed in place: DELETE it and INSERT the new one (or use add_source)');
END;

-- ---- every accepted edit loads ---------------------------------------------------------------------
-- The helper refuses a whole database over one value it cannot use (and keeps its old rules), so
-- every value the tables accept must be one the loader reads, with the meaning rule_overview
-- shows. schema.sql's CHECKs only reach databases made with it; these triggers are re-applied by
-- `pinsplice db update` and `db init`, so older databases refuse the same edits. The unit test
-- tests/unit/test_agree.c drives generated values through these checks and the loader alike.

-- rules: position a whole number (the loader reads 5.5 as 5, and text sorts apart from numbers);
-- expires_at a date and time in whole seconds starting with YYYY-MM-DD (a number such as a Julian
-- day, 'now' or a bare time would mean something else than it seems).
DROP TRIGGER IF EXISTS rules_check_insert;
CREATE TRIGGER rules_check_insert BEFORE INSERT ON rules
BEGIN
    SELECT json_extract('{}', printf('rules: rule "%s": position "%s": use a whole number (rules are tried by ascending position)', NEW.name, NEW.position))
    WHERE NEW.position IS NOT NULL AND typeof(NEW.position) <> 'integer';
    SELECT json_extract('{}', printf('rules: rule "%s": expires_at "%s": not a date and time in whole seconds (UTC, e.g. ''2026-12-31 18:00:00'' or datetime(''now'', ''+2 hours''); numbers are refused)', NEW.name, NEW.expires_at))
    WHERE NEW.expires_at IS NOT NULL
      AND (typeof(NEW.expires_at) <> 'text' OR julianday(NEW.expires_at) IS NULL
           OR NOT NEW.expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
           OR NOT strftime('%f', NEW.expires_at) GLOB '*.000');
END;
DROP TRIGGER IF EXISTS rules_check_update;
CREATE TRIGGER rules_check_update BEFORE UPDATE OF position, expires_at ON rules
BEGIN
    SELECT json_extract('{}', printf('rules: rule "%s": position "%s": use a whole number (rules are tried by ascending position)', NEW.name, NEW.position))
    WHERE NEW.position IS NOT OLD.position AND NEW.position IS NOT NULL
      AND typeof(NEW.position) <> 'integer';
    SELECT json_extract('{}', printf('rules: rule "%s": expires_at "%s": not a date and time in whole seconds (UTC, e.g. ''2026-12-31 18:00:00'' or datetime(''now'', ''+2 hours''); numbers are refused)', NEW.name, NEW.expires_at))
    WHERE NEW.expires_at IS NOT OLD.expires_at AND NEW.expires_at IS NOT NULL
      AND (typeof(NEW.expires_at) <> 'text' OR julianday(NEW.expires_at) IS NULL
           OR NOT NEW.expires_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
           OR NOT strftime('%f', NEW.expires_at) GLOB '*.000');
END;

-- Programs: the loader's limit is 255 BYTES (schema.sql's length() counts characters, and a
-- non-ASCII character takes 2 to 4 bytes); a NUL byte would cut the name short. check_program
-- holds the check once (as check_source does); both tables' INSERT and UPDATE triggers use it.
DROP VIEW IF EXISTS check_program;
CREATE VIEW check_program (program, what) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_program_insert INSTEAD OF INSERT ON check_program
BEGIN
    SELECT json_extract('{}', printf('%s: program "%s": over 255 bytes (non-ASCII characters take 2-4 bytes each), a NUL byte, or not text', NEW.what, NEW.program))
    WHERE typeof(NEW.program) = 'blob' OR instr(CAST(NEW.program AS BLOB), x'00') > 0
       OR length(CAST(NEW.program AS BLOB)) > 255;
END;
DROP TRIGGER IF EXISTS rule_programs_check_insert;
CREATE TRIGGER rule_programs_check_insert BEFORE INSERT ON rule_programs
BEGIN INSERT INTO check_program (program, what) VALUES (NEW.program, 'rule_programs'); END;
DROP TRIGGER IF EXISTS rule_programs_check_update;
CREATE TRIGGER rule_programs_check_update BEFORE UPDATE OF program ON rule_programs
BEGIN INSERT INTO check_program (program, what) VALUES (NEW.program, 'rule_programs'); END;
DROP TRIGGER IF EXISTS app_programs_check_insert;
CREATE TRIGGER app_programs_check_insert BEFORE INSERT ON app_programs
BEGIN INSERT INTO check_program (program, what) VALUES (NEW.program, 'app_programs'); END;
DROP TRIGGER IF EXISTS app_programs_check_update;
CREATE TRIGGER app_programs_check_update BEFORE UPDATE OF program ON app_programs
BEGIN INSERT INTO check_program (program, what) VALUES (NEW.program, 'app_programs'); END;

-- Domains: a NUL byte would hide what follows it from the CHECKs and the loader alike.
DROP TRIGGER IF EXISTS rule_domains_check_insert;
CREATE TRIGGER rule_domains_check_insert BEFORE INSERT ON rule_domains
BEGIN
    SELECT json_extract('{}', printf('rule_domains: domain "%s": a NUL byte, or not text', NEW.domain))
    WHERE typeof(NEW.domain) = 'blob' OR instr(CAST(NEW.domain AS BLOB), x'00') > 0;
END;
DROP TRIGGER IF EXISTS rule_domains_check_update;
CREATE TRIGGER rule_domains_check_update BEFORE UPDATE OF domain ON rule_domains
BEGIN
    SELECT json_extract('{}', printf('rule_domains: domain "%s": a NUL byte, or not text', NEW.domain))
    WHERE typeof(NEW.domain) = 'blob' OR instr(CAST(NEW.domain AS BLOB), x'00') > 0;
END;
DROP TRIGGER IF EXISTS category_domains_check_insert;
CREATE TRIGGER category_domains_check_insert BEFORE INSERT ON category_domains
BEGIN
    SELECT json_extract('{}', printf('category_domains: domain "%s": a NUL byte, or not text', NEW.domain))
    WHERE typeof(NEW.domain) = 'blob' OR instr(CAST(NEW.domain AS BLOB), x'00') > 0;
END;
DROP TRIGGER IF EXISTS category_domains_check_update;
CREATE TRIGGER category_domains_check_update BEFORE UPDATE OF domain ON category_domains
BEGIN
    SELECT json_extract('{}', printf('category_domains: domain "%s": a NUL byte, or not text', NEW.domain))
    WHERE typeof(NEW.domain) = 'blob' OR instr(CAST(NEW.domain AS BLOB), x'00') > 0;
END;

-- References on UPDATE as well as on INSERT (schema.sql checks them on INSERT only): an entry
-- moved to a rule, app or category that does not exist, or a category renamed under its users.
DROP TRIGGER IF EXISTS rule_domains_rule_update;
CREATE TRIGGER rule_domains_rule_update BEFORE UPDATE OF rule_id ON rule_domains
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_domains: no rule with this rule_id'); END;
DROP TRIGGER IF EXISTS rule_programs_rule_update;
CREATE TRIGGER rule_programs_rule_update BEFORE UPDATE OF rule_id ON rule_programs
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_programs: no rule with this rule_id'); END;
DROP TRIGGER IF EXISTS rule_sources_rule_update;
CREATE TRIGGER rule_sources_rule_update BEFORE UPDATE OF rule_id ON rule_sources
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_sources: no rule with this rule_id'); END;
DROP TRIGGER IF EXISTS rule_categories_rule_update;
CREATE TRIGGER rule_categories_rule_update BEFORE UPDATE OF rule_id ON rule_categories
WHEN NOT EXISTS (SELECT 1 FROM rules WHERE id = NEW.rule_id)
BEGIN SELECT raise(ABORT, 'rule_categories: no rule with this rule_id'); END;
DROP TRIGGER IF EXISTS rule_categories_category_update;
CREATE TRIGGER rule_categories_category_update BEFORE UPDATE OF category ON rule_categories
WHEN NOT EXISTS (SELECT 1 FROM categories WHERE name = NEW.category)
BEGIN
    SELECT json_extract('{}', printf('rule_categories: unknown category "%s" (add it to categories first)', NEW.category));
END;
DROP TRIGGER IF EXISTS category_domains_category_update;
CREATE TRIGGER category_domains_category_update BEFORE UPDATE OF category ON category_domains
WHEN NOT EXISTS (SELECT 1 FROM categories WHERE name = NEW.category)
BEGIN
    SELECT json_extract('{}', printf('category_domains: unknown category "%s" (add it to categories first)', NEW.category));
END;
DROP TRIGGER IF EXISTS app_domains_app_update;
CREATE TRIGGER app_domains_app_update BEFORE UPDATE OF app_id ON app_domains
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)
BEGIN SELECT raise(ABORT, 'app_domains: no app with this app_id'); END;
DROP TRIGGER IF EXISTS app_programs_app_update;
CREATE TRIGGER app_programs_app_update BEFORE UPDATE OF app_id ON app_programs
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id)
BEGIN SELECT raise(ABORT, 'app_programs: no app with this app_id'); END;
DROP TRIGGER IF EXISTS categories_name_update;
CREATE TRIGGER categories_name_update BEFORE UPDATE OF name ON categories
WHEN NEW.name IS NOT OLD.name
 AND (EXISTS (SELECT 1 FROM rule_categories WHERE category = OLD.name)
      OR EXISTS (SELECT 1 FROM category_domains WHERE category = OLD.name))
BEGIN
    SELECT json_extract('{}', printf('categories: category "%s" is used by a rule or has domains: its name cannot change (add the new name, move the entries, then delete the old one)', OLD.name));
END;

-- settings.program_trusted_sources: every address or network in the list is checked as a source
-- is (the loader refuses the whole database over one bad entry, e.g. 10.20.0.1/16 or /99).
DROP TRIGGER IF EXISTS settings_trusted_insert;
CREATE TRIGGER settings_trusted_insert BEFORE INSERT ON settings
WHEN NEW.key = 'program_trusted_sources'
BEGIN
    SELECT json_extract('{}', printf('settings.program_trusted_sources: "%s": IPv4 or IPv6 addresses and networks separated by commas or spaces (e.g. ''10.0.0.0/8, 2001:db8::/32''), or '''' for none', NEW.value))
    WHERE typeof(NEW.value) = 'blob' OR instr(CAST(NEW.value AS BLOB), x'00') > 0
       OR NEW.value GLOB '*[^0-9a-fA-F.:/, ]*';
    INSERT INTO check_source (source, what)
    SELECT value, 'settings.program_trusted_sources: source'
    FROM json_each('["' || replace(replace(NEW.value, ',', '","'), ' ', '","') || '"]')
    WHERE value <> '';
END;
DROP TRIGGER IF EXISTS settings_trusted_update;
CREATE TRIGGER settings_trusted_update BEFORE UPDATE ON settings
WHEN NEW.key = 'program_trusted_sources'
BEGIN
    SELECT json_extract('{}', printf('settings.program_trusted_sources: "%s": IPv4 or IPv6 addresses and networks separated by commas or spaces (e.g. ''10.0.0.0/8, 2001:db8::/32''), or '''' for none', NEW.value))
    WHERE typeof(NEW.value) = 'blob' OR instr(CAST(NEW.value AS BLOB), x'00') > 0
       OR NEW.value GLOB '*[^0-9a-fA-F.:/, ]*';
    INSERT INTO check_source (source, what)
    SELECT value, 'settings.program_trusted_sources: source'
    FROM json_each('["' || replace(replace(NEW.value, ',', '","'), ' ', '","') || '"]')
    WHERE value <> '';
END;

-- ---- add_destination (v2) ------------------------------------------------------------------------
-- INSERT INTO add_destination (rule, cidr [, comment]) VALUES ('AnyDesk', '195.181.174.0/23'):
-- an IPv4 or IPv6 network or address (an address is stored as ADDR/32 or ADDR/128), host bits
-- zero, checked as add_source checks a source. The rule must exist (a misspelt name is an error
-- naming it; INSERT INTO rules (name) VALUES (...) makes an empty rule; a destination restricts a
-- rule, so a typo must not land it in a new one). A destination matches only a CONNECT to an IP literal (or an intercepted
-- connection's address), never a CONNECT by name; it is ANDed with the rule's other entries.
DROP VIEW IF EXISTS add_destination;
CREATE VIEW add_destination (rule, cidr, comment) AS
SELECT r.name, d.cidr, d.comment
FROM rule_destinations d JOIN rules r ON r.id = d.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, d.cidr;

CREATE TRIGGER add_destination_insert INSTEAD OF INSERT ON add_destination
BEGIN
    INSERT INTO check_rule (rule, what) VALUES (NEW.rule, 'add_destination');
    SELECT json_extract('{}', printf('add_destination: rule "%s": destination missing', NEW.rule))
    WHERE NEW.cidr IS NULL OR NEW.cidr = '';
    INSERT INTO rule_destinations (rule_id, cidr, comment)
    SELECT id, CASE WHEN typeof(NEW.cidr) <> 'text' OR instr(NEW.cidr, '/') > 0
                    THEN lower(NEW.cidr)
                    WHEN instr(NEW.cidr, ':') > 0 THEN lower(NEW.cidr) || '/128'
                    ELSE NEW.cidr || '/32' END,
           NEW.comment
    FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, cidr) DO UPDATE SET comment = excluded.comment
    WHERE excluded.comment IS NOT NULL AND comment IS NOT excluded.comment;
END;

-- check_destination: INSERT INTO check_destination (cidr, what) stores nothing and fails naming
-- `what` and the value when the loader would refuse it (rule_destinations, app_destinations).
DROP VIEW IF EXISTS check_destination;
CREATE VIEW check_destination (cidr, what) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_destination_insert INSTEAD OF INSERT ON check_destination
BEGIN
    SELECT json_extract('{}', printf('%s "%s": not an IPv4 or IPv6 network in lower case (ADDR/BITS, e.g. 195.181.174.0/23, 2001:db8::/32)', NEW.what, NEW.cidr))
    WHERE typeof(NEW.cidr) <> 'text' OR instr(CAST(NEW.cidr AS BLOB), x'00') > 0
       OR NEW.cidr GLOB 'user:*' OR NEW.cidr GLOB '*[^0-9a-f.:/]*';
    SELECT json_extract('{}', printf('%s "%s": no prefix length: write ADDR/BITS (ADDR/32 or ADDR/128 for one address)', NEW.what, NEW.cidr))
    WHERE instr(NEW.cidr, '/') = 0;
    INSERT INTO check_source (source, what) VALUES (NEW.cidr, NEW.what);
END;
DROP TRIGGER IF EXISTS rule_destinations_check_insert;
CREATE TRIGGER rule_destinations_check_insert BEFORE INSERT ON rule_destinations
BEGIN
    INSERT INTO check_destination (cidr, what) VALUES (NEW.cidr, 'destination');
END;
DROP TRIGGER IF EXISTS rule_destinations_check_update;
CREATE TRIGGER rule_destinations_check_update BEFORE UPDATE OF cidr, rule_id ON rule_destinations
WHEN NEW.cidr IS NOT OLD.cidr OR NEW.rule_id IS NOT OLD.rule_id
BEGIN
    SELECT raise(ABORT, 'rule_destinations: a destination cannot be changed in place: DELETE it and INSERT the new one (or use add_destination)');
END;
DROP TRIGGER IF EXISTS app_destinations_check_insert;
CREATE TRIGGER app_destinations_check_insert BEFORE INSERT ON app_destinations
BEGIN
    INSERT INTO check_destination (cidr, what) VALUES (NEW.cidr, 'app_destinations: destination');
END;
DROP TRIGGER IF EXISTS app_destinations_check_update;
CREATE TRIGGER app_destinations_check_update BEFORE UPDATE OF cidr, app_id ON app_destinations
WHEN NEW.cidr IS NOT OLD.cidr OR NEW.app_id IS NOT OLD.app_id
BEGIN
    SELECT raise(ABORT, 'app_destinations: a destination cannot be changed in place: DELETE it and INSERT the new one');
END;

-- ---- add_pin (v2) --------------------------------------------------------------------------------
-- INSERT INTO add_pin (rule, spki_sha256 [, comment]) VALUES ('Private app', 'sha256//BASE64='):
-- the base64 SHA-256 of a server certificate's public key (SubjectPublicKeyInfo), with or without
-- curl's 'sha256//' prefix; `openssl x509 -pubkey -noout -in cert.pem | openssl pkey -pubin
-- -outform der | openssl dgst -sha256 -binary | base64` prints it. With pins, the rule's server
-- check accepts a server whose chain holds a certificate with one of these keys (the chain need
-- not lead to a trusted CA: an app's private CA), whose leaf names the SNI and is valid now.
-- At most 16 pins per rule. INSERT INTO remove_entry (rule, value, kind) VALUES (..., ..., 'pin')
-- removes one.
DROP VIEW IF EXISTS add_pin;
CREATE VIEW add_pin (rule, spki_sha256, comment) AS
SELECT r.name, p.spki_sha256, p.comment
FROM rule_pins p JOIN rules r ON r.id = p.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, p.spki_sha256;

CREATE TRIGGER add_pin_insert INSTEAD OF INSERT ON add_pin
BEGIN
    INSERT INTO check_rule (rule, what) VALUES (NEW.rule, 'add_pin');
    SELECT json_extract('{}', printf('add_pin: rule "%s": pin missing', NEW.rule))
    WHERE NEW.spki_sha256 IS NULL OR NEW.spki_sha256 = '';
    INSERT INTO rule_pins (rule_id, spki_sha256, comment)
    SELECT id, CASE WHEN typeof(NEW.spki_sha256) = 'text' AND NEW.spki_sha256 GLOB 'sha256//*'
                    THEN substr(NEW.spki_sha256, 9) ELSE NEW.spki_sha256 END,
           NEW.comment
    FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, spki_sha256) DO UPDATE SET comment = excluded.comment
    WHERE excluded.comment IS NOT NULL AND comment IS NOT excluded.comment;
END;

DROP TRIGGER IF EXISTS rule_pins_check_insert;
CREATE TRIGGER rule_pins_check_insert BEFORE INSERT ON rule_pins
BEGIN
    SELECT json_extract('{}', printf('pin "%s": not the base64 of a SHA-256 (44 characters of A-Z a-z 0-9 + / ending in one "=", as curl --pinnedpubkey sha256//... takes it)', NEW.spki_sha256))
    WHERE typeof(NEW.spki_sha256) <> 'text' OR instr(CAST(NEW.spki_sha256 AS BLOB), x'00') > 0
       OR length(NEW.spki_sha256) <> 44 OR NOT NEW.spki_sha256 GLOB '*[^=]='
       OR NEW.spki_sha256 GLOB '*[^A-Za-z0-9+/=]*' OR substr(NEW.spki_sha256, 1, 43) GLOB '*=*';
    SELECT json_extract('{}', printf('pin "%s": rule "%s" has 16 pins already (the most one rule can have)', NEW.spki_sha256, (SELECT name FROM rules WHERE id = NEW.rule_id)))
    WHERE (SELECT count(*) FROM rule_pins WHERE rule_id = NEW.rule_id) >= 16
      AND NOT EXISTS (SELECT 1 FROM rule_pins WHERE rule_id = NEW.rule_id
                      AND spki_sha256 = NEW.spki_sha256);
END;
DROP TRIGGER IF EXISTS rule_pins_check_update;
CREATE TRIGGER rule_pins_check_update BEFORE UPDATE OF spki_sha256, rule_id ON rule_pins
WHEN NEW.spki_sha256 IS NOT OLD.spki_sha256 OR NEW.rule_id IS NOT OLD.rule_id
BEGIN
    SELECT raise(ABORT, 'rule_pins: a pin cannot be changed in place: DELETE it and INSERT the new one (or use add_pin)');
END;

-- ---- per-rule mode and verification (v2) ---------------------------------------------------------
-- rules.mode / rules.verify are CHECKed in schema.sql; verify_ca_file is checked here as well, so
-- that a NUL byte or a relative path is refused with its value named (INSERT INTO edit_rule (rule,
-- field, value) VALUES (..., 'verify_ca_file', '/etc/pinsplice/app-ca.pem'); NULL: the global
-- trust).
DROP TRIGGER IF EXISTS rules_check_v2_insert;
CREATE TRIGGER rules_check_v2_insert BEFORE INSERT ON rules
WHEN NEW.verify_ca_file IS NOT NULL
BEGIN
    INSERT INTO check_ca_file (path, what)
    VALUES (NEW.verify_ca_file, printf('rules: rule "%s": verify_ca_file', NEW.name));
END;
DROP TRIGGER IF EXISTS rules_check_v2_update;
CREATE TRIGGER rules_check_v2_update BEFORE UPDATE OF verify_ca_file ON rules
WHEN NEW.verify_ca_file IS NOT OLD.verify_ca_file AND NEW.verify_ca_file IS NOT NULL
BEGIN
    INSERT INTO check_ca_file (path, what)
    VALUES (NEW.verify_ca_file, printf('rules: rule "%s": verify_ca_file', NEW.name));
END;

-- ---- set_setting ---------------------------------------------------------------------------------
-- INSERT INTO set_setting (key, value) VALUES ('program_trusted_sources', '10.20.0.0/16'): a
-- misspelt key is an error naming it (UPDATE settings ... WHERE key = 'typo' changes nothing and
-- says nothing). The value is checked by the settings triggers above and schema.sql's CHECKs.
DROP VIEW IF EXISTS set_setting;
CREATE VIEW set_setting (key, value) AS SELECT key, value FROM settings ORDER BY key;
CREATE TRIGGER set_setting_insert INSTEAD OF INSERT ON set_setting
BEGIN
    SELECT json_extract('{}', printf('set_setting: no setting "%s" (SELECT key, value, comment FROM settings lists them)', NEW.key))
    WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = NEW.key);
    UPDATE settings SET value = NEW.value WHERE key = NEW.key;
END;

-- ---- add_category --------------------------------------------------------------------------------
-- INSERT INTO add_category (rule, category) VALUES (...): the category must exist in categories
-- (its names come from category_domains, e.g. from `pinsplice categories import`); the rule too.
DROP VIEW IF EXISTS add_category;
CREATE VIEW add_category (rule, category) AS
SELECT r.name, c.category
FROM rule_categories c JOIN rules r ON r.id = c.rule_id
ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id, c.category;

CREATE TRIGGER add_category_insert INSTEAD OF INSERT ON add_category
BEGIN
    SELECT json_extract('{}', printf('add_category: no rule named "%s" (see SELECT name FROM rule_overview; add_domain or INSERT INTO rules(name) creates one)', NEW.rule))
    WHERE NOT EXISTS (SELECT 1 FROM rules WHERE name = NEW.rule);
    SELECT json_extract('{}', printf('add_category: unknown category "%s" (SELECT name FROM categories lists them; INSERT INTO categories(name) adds one)', NEW.category))
    WHERE NOT EXISTS (SELECT 1 FROM categories WHERE name = NEW.category);
    INSERT INTO rule_categories (rule_id, category)
    SELECT id, NEW.category FROM rules WHERE name = NEW.rule
    ON CONFLICT (rule_id, category) DO NOTHING;
END;

-- ---- the catalogue -------------------------------------------------------------------------------
-- INSERT INTO enable_app (app, by) VALUES ('Zoom', 'domain' | 'program' | 'both')
-- Creates the rule 'App: <app>' (enabled, splice, tried last, origin local) holding the app's
-- catalogue domains (by 'domain'), programs (by 'program') or both (by 'both': the rule then
-- needs BOTH to match, i.e. the app's own program talking to the app's own domains). An app
-- without what `by` asks for is refused (an empty dimension would change what the rule means).
-- Destinations (v2): an app's destination ranges go with its domains (by 'domain' or 'both'),
-- into a rule of their own, 'App: <app> (destinations)': entries of one rule are ANDed, and a
-- destination matches only an IP-literal CONNECT, so in the domains' rule they would stop it
-- from ever matching a CONNECT by name. An app with destinations and no domains gets only that
-- rule.
-- Entries another rule already splices (app_coverage: e.g. zoom.us, which the default rule
-- "Bypass Zoom - Pre-configured" holds) are left out, and named in the new rule's comment: the
-- copy would never decide (`pinsplice db check` calls it shadowed). When nothing is left to add
-- the statement is refused, naming the rules that already cover the app.
-- SELECT * FROM enable_app lists every (app, by) pair that is accepted.

-- app_coverage: each catalogue entry that a rule already splices on that entry alone: an
-- enabled, unexpired splice rule whose only dimension is the entry's (a domain entry equal to
-- the app's domain or, when not exact, a parent of it; a program compared as the matcher compares
-- programs, case-insensitively, os being informational). A rule with a source, or with both a
-- domain and a program, splices less than the whole entry, so it does not count.
DROP VIEW IF EXISTS app_coverage;
CREATE VIEW app_coverage (app_id, kind, value, rule_id, rule) AS
WITH alone (id, name, position, dims) AS (
    SELECT r.id, r.name, r.position,
           (EXISTS (SELECT 1 FROM rule_domains WHERE rule_id = r.id))
           + 2 * (EXISTS (SELECT 1 FROM rule_programs WHERE rule_id = r.id))
           + 4 * (EXISTS (SELECT 1 FROM rule_categories WHERE rule_id = r.id))
           + 8 * (EXISTS (SELECT 1 FROM rule_sources WHERE rule_id = r.id))
           + 16 * (EXISTS (SELECT 1 FROM rule_destinations WHERE rule_id = r.id))
    FROM rules r
    WHERE r.enabled = 1 AND r.action = 'splice' AND r.mode = 'enforce'
      AND (r.expires_at IS NULL OR julianday(r.expires_at) > julianday('now')))
SELECT d.app_id, 'domain', d.domain, r.id, r.name
FROM app_domains d JOIN rule_domains rd
     ON rd.domain = d.domain
        OR (rd.exact = 0 AND substr(d.domain, -length(rd.domain) - 1) = '.' || rd.domain)
JOIN alone r ON r.id = rd.rule_id AND r.dims = 1
UNION ALL
SELECT p.app_id, 'program', p.program, r.id, r.name
FROM app_programs p JOIN rule_programs rp ON lower(rp.program) = lower(p.program)
JOIN alone r ON r.id = rp.rule_id AND r.dims = 2;
DROP VIEW IF EXISTS enable_app;
CREATE VIEW enable_app (app, by) AS
SELECT a.name, b.by
FROM apps a JOIN (SELECT 1 AS o, 'domain' AS by UNION ALL SELECT 2, 'program'
                  UNION ALL SELECT 3, 'both') b
WHERE (b.by <> 'program' AND (EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
                              OR EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id))
       OR b.by = 'program')
  AND (b.by <> 'domain' AND EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id)
       OR b.by = 'domain')
ORDER BY a.id, b.o;

CREATE TRIGGER enable_app_insert INSTEAD OF INSERT ON enable_app
BEGIN
    SELECT json_extract('{}', printf('enable_app: unknown app "%s" (SELECT app FROM app_overview lists the catalogue)', NEW.app))
    WHERE NOT EXISTS (SELECT 1 FROM apps WHERE name = NEW.app);
    SELECT json_extract('{}', printf('enable_app: app "%s": by "%s": use domain, program or both', NEW.app, NEW.by))
    WHERE NEW.by IS NULL OR NEW.by NOT IN ('domain', 'program', 'both');
    SELECT json_extract('{}', printf('enable_app: app "%s" has no domains, destinations or programs in the catalogue (see SELECT note FROM apps WHERE name = ...): nothing to make a rule from', NEW.app))
    FROM apps a WHERE a.name = NEW.app
      AND NOT EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id);
    SELECT json_extract('{}', printf('enable_app: app "%s" has no programs in the catalogue: by "%s" is refused (use by = ''domain'')', NEW.app, NEW.by))
    FROM apps a WHERE a.name = NEW.app AND NEW.by IN ('program', 'both')
      AND NOT EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id);
    SELECT json_extract('{}', printf('enable_app: app "%s" has no domains in the catalogue: by "%s" is refused (use by = ''program'')', NEW.app, NEW.by))
    FROM apps a WHERE a.name = NEW.app AND NEW.by IN ('domain', 'both')
      AND NOT EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
      AND NOT EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id);
    SELECT json_extract('{}', printf('enable_app: a rule "%s" already exists (see rule_overview; delete it first to make it again)', r.name))
    FROM rules r
    WHERE r.name = 'App: ' || NEW.app
       OR (r.name = 'App: ' || NEW.app || ' (destinations)' AND NEW.by IN ('domain', 'both'));
    -- Nothing left to add: every domain (by domain, and no destinations), every program (by
    -- program), or either all its domains (and no destinations) or all its programs (by both:
    -- those are spliced whatever the other is).
    SELECT json_extract('{}', printf('enable_app: app "%s": by "%s": nothing to add: its %s already spliced by %s (see app_overview)', NEW.app, NEW.by,
        CASE WHEN NOT uncovered_d AND NOT has_dest THEN 'domains are' ELSE 'programs are' END,
        (SELECT group_concat('"' || rule || '"', ', ') FROM (SELECT DISTINCT c.rule FROM app_coverage c
         WHERE c.app_id = a.id AND c.kind = CASE WHEN NOT uncovered_d AND NOT has_dest THEN 'domain' ELSE 'program' END))))
    FROM (SELECT a.id,
                 EXISTS (SELECT 1 FROM app_domains d WHERE d.app_id = a.id AND NOT EXISTS
                         (SELECT 1 FROM app_coverage c WHERE c.app_id = a.id AND c.kind = 'domain'
                          AND c.value = d.domain)) AS uncovered_d,
                 EXISTS (SELECT 1 FROM app_programs p WHERE p.app_id = a.id AND NOT EXISTS
                         (SELECT 1 FROM app_coverage c WHERE c.app_id = a.id AND c.kind = 'program'
                          AND c.value = p.program)) AS uncovered_p,
                 EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id) AS has_dest
          FROM apps a WHERE a.name = NEW.app) a
    WHERE (NEW.by = 'domain' AND NOT uncovered_d AND NOT has_dest)
       OR (NEW.by = 'program' AND NOT uncovered_p)
       OR (NEW.by = 'both' AND ((NOT uncovered_d AND NOT has_dest) OR NOT uncovered_p));
    -- the rule of the domains (or programs): made when it gets an entry
    INSERT INTO rules (name, action, enabled, origin, comment)
    SELECT 'App: ' || a.name, 'splice', 1, 'local',
           printf('made by enable_app from catalogue app %d "%s", by %s', a.id, a.name, NEW.by)
           || coalesce((SELECT '; left out, already spliced by another rule: '
                               || group_concat(value || ' (' || rule || ')', ', ')
                        FROM (SELECT DISTINCT c.value, c.rule FROM app_coverage c
                              WHERE c.app_id = a.id
                                AND (c.kind = 'domain' AND NEW.by IN ('domain', 'both')
                                     OR c.kind = 'program' AND NEW.by IN ('program', 'both'))
                              ORDER BY c.kind, c.value)), '')
    FROM apps a WHERE a.name = NEW.app
      AND (NEW.by = 'program'
           OR EXISTS (SELECT 1 FROM app_domains d WHERE d.app_id = a.id AND NOT EXISTS
                      (SELECT 1 FROM app_coverage c WHERE c.app_id = a.id AND c.kind = 'domain'
                       AND c.value = d.domain)));
    INSERT INTO rule_domains (rule_id, domain, exact, comment)
    SELECT r.id, d.domain, d.exact, d.note
    FROM rules r, apps a JOIN app_domains d ON d.app_id = a.id
    WHERE r.name = 'App: ' || NEW.app AND a.name = NEW.app AND NEW.by IN ('domain', 'both')
      AND NOT EXISTS (SELECT 1 FROM app_coverage c WHERE c.app_id = a.id AND c.kind = 'domain'
                      AND c.value = d.domain AND c.rule_id <> r.id);
    INSERT INTO rule_programs (rule_id, os, program, comment)
    SELECT r.id, p.os, p.program, p.note
    FROM rules r, apps a JOIN app_programs p ON p.app_id = a.id
    WHERE r.name = 'App: ' || NEW.app AND a.name = NEW.app AND NEW.by IN ('program', 'both')
      AND NOT EXISTS (SELECT 1 FROM app_coverage c WHERE c.app_id = a.id AND c.kind = 'program'
                      AND c.value = p.program AND c.rule_id <> r.id);
    -- the rule of the destinations (v2)
    INSERT INTO rules (name, action, enabled, origin, comment)
    SELECT 'App: ' || a.name || ' (destinations)', 'splice', 1, 'local',
           printf('made by enable_app from catalogue app %d "%s", by %s: its destinations', a.id,
                  a.name, NEW.by)
    FROM apps a WHERE a.name = NEW.app AND NEW.by IN ('domain', 'both')
      AND EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id);
    INSERT INTO rule_destinations (rule_id, cidr, comment)
    SELECT r.id, d.cidr, d.note
    FROM rules r, apps a JOIN app_destinations d ON d.app_id = a.id
    WHERE r.name = 'App: ' || NEW.app || ' (destinations)' AND a.name = NEW.app
      AND NEW.by IN ('domain', 'both');
    INSERT INTO rule_programs (rule_id, os, program, comment)
    SELECT r.id, p.os, p.program, p.note
    FROM rules r, apps a JOIN app_programs p ON p.app_id = a.id
    WHERE r.name = 'App: ' || NEW.app || ' (destinations)' AND a.name = NEW.app
      AND NEW.by = 'both';
END;

-- feed_overview: one row per imported vendor feed (`pinsplice feed import`), its provenance as of
-- the last import and how many catalogue apps it holds. DELETE FROM feeds WHERE name = ... removes
-- a feed and its apps (rules enable_app made from them stay: they are yours).
-- audit_feed: every import of a feed, with what it changed.
DROP VIEW IF EXISTS feed_overview;
CREATE VIEW feed_overview AS
SELECT f.name AS feed, f.format, f.source, f.version, f.imported_at,
       (SELECT count(*) FROM apps WHERE feed = f.name) AS apps
FROM feeds f ORDER BY f.name;
DROP VIEW IF EXISTS audit_feed;
CREATE VIEW audit_feed AS
SELECT at, who, new ->> 'feed' AS feed, new ->> 'format' AS format, new ->> 'source' AS source,
       new ->> 'version' AS version, old ->> 'version' AS previous_version, new ->> 'apps' AS apps,
       new ->> 'added' AS added, new ->> 'removed' AS removed, new ->> 'updated' AS updated,
       new ->> 'kept' AS kept, new ->> 'conflicts' AS conflicts, new ->> 'skipped' AS skipped
FROM audit WHERE tbl = 'feeds' AND op = 'IMPORT' ORDER BY id;

-- app_overview: one row per catalogue app, its domains and programs aggregated, the `by` values
-- enable_app accepts for it, and the rules that take its traffic: the rules made from it
-- ('App: <app>', 'App: <app> (destinations)'), then every rule that already splices some of its
-- entries (app_coverage), in evaluation order; covered: how many of its domains and programs
-- those rules splice; destinations (v2, at the end): its destination ranges.
DROP VIEW IF EXISTS app_overview;
CREATE VIEW app_overview AS
SELECT id, name AS app, enable_by, rule, covered, domains, programs, origin, destinations
FROM (
    SELECT a.id, a.name, a.origin,
           (SELECT group_concat(domain, ', ') FROM (
                SELECT domain FROM app_domains WHERE app_id = a.id ORDER BY domain)) AS domains,
           (SELECT group_concat(e, ', ') FROM (
                SELECT CASE os WHEN 'any' THEN '' ELSE os || ':' END || program AS e
                FROM app_programs WHERE app_id = a.id ORDER BY os, program)) AS programs,
           (SELECT group_concat(cidr, ', ') FROM (
                SELECT cidr FROM app_destinations WHERE app_id = a.id ORDER BY cidr))
               AS destinations,
           CASE WHEN EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
                  OR EXISTS (SELECT 1 FROM app_destinations WHERE app_id = a.id) THEN
                     CASE WHEN EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id)
                          THEN 'domain, program, both' ELSE 'domain' END
                WHEN EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id) THEN 'program'
           END AS enable_by,
           (SELECT group_concat(name, ', ') FROM (
                SELECT name FROM rules WHERE name = 'App: ' || a.name
                UNION ALL
                SELECT name FROM rules WHERE name = 'App: ' || a.name || ' (destinations)'
                UNION ALL
                SELECT name FROM (SELECT DISTINCT r.name, r.position, r.id
                                  FROM app_coverage c JOIN rules r ON r.id = c.rule_id
                                  WHERE c.app_id = a.id AND r.name <> 'App: ' || a.name
                                    AND r.name <> 'App: ' || a.name || ' (destinations)'
                                  ORDER BY CAST(coalesce(r.position, r.id) AS INTEGER), r.id))) AS rule,
           CASE WHEN EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
                  OR EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id) THEN
               trim(CASE WHEN EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
                         THEN printf('%d of %d domains',
                                     (SELECT count(DISTINCT value) FROM app_coverage
                                      WHERE app_id = a.id AND kind = 'domain'),
                                     (SELECT count(*) FROM app_domains WHERE app_id = a.id))
                         ELSE '' END
                    || CASE WHEN EXISTS (SELECT 1 FROM app_domains WHERE app_id = a.id)
                             AND EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id)
                            THEN ', ' ELSE '' END
                    || CASE WHEN EXISTS (SELECT 1 FROM app_programs WHERE app_id = a.id)
                            THEN printf('%d of %d programs',
                                        (SELECT count(DISTINCT value) FROM app_coverage
                                         WHERE app_id = a.id AND kind = 'program'),
                                        (SELECT count(*) FROM app_programs WHERE app_id = a.id))
                            ELSE '' END)
           END AS covered
    FROM apps a
)
ORDER BY id;

-- Server verification before a splice (README "What each mode protects against"):
--   splice_verify      ip (default): a splice that a rule grants for the SNI's name while the
--                      CONNECT destination is an IP literal waits until pinsplice has checked
--                      that the server at that address holds a valid certificate for the name;
--                      always: also a name CONNECT (the name resolved as the system resolver,
--                      /etc/hosts then DNS, resolves it: Squid's default hosts_file is the same);
--                      off: trust the names (any client can then reach any server uninspected).
--                      A rule's own verify (edit_rule ... 'verify') overrides it.
--   verify_ca_file     the PEM bundle those certificates must chain to ('' = the system store);
--                      an absolute path, readable by the user Squid runs helpers as.
--   verify_timeout_ms  how long a check may take (100..30000); past it, the answer is bump.
--   no_sni_action      a connection that sends no SNI: host (default: decide on the CONNECT
--                      host), bump, or terminate.
--   ip_sni_action      an SNI that is an IP literal (RFC 6066 forbids it): ignore (default: it
--                      names nothing, so no domain rule matches), host (as if there were no SNI),
--                      bump, or terminate.
-- Triggers rather than CHECKs in schema.sql, so a database made before these settings refuses a
-- bad value too (the helper would refuse to load it).
INSERT OR IGNORE INTO settings (key, value, comment) VALUES
    ('splice_verify', 'ip', 'ip: check the server before splicing an IP-literal CONNECT; always: name CONNECTs too; off: trust the name'),
    ('verify_ca_file', '', 'PEM bundle for server checks; '''' = the system store'),
    ('verify_timeout_ms', '3000', 'time a server check may take, 100..30000 ms'),
    ('no_sni_action', 'host', 'a connection without SNI: host (decide on the CONNECT host) | bump | terminate'),
    ('ip_sni_action', 'ignore', 'an IP-literal SNI: ignore (it names nothing) | host (as if absent) | bump | terminate');
-- check_setting holds the checks once; the INSERT and UPDATE triggers of settings both use it.
DROP VIEW IF EXISTS check_setting;
CREATE VIEW check_setting (key, value) AS SELECT NULL, NULL WHERE 0;
CREATE TRIGGER check_setting_insert INSTEAD OF INSERT ON check_setting
BEGIN
    SELECT CASE
        WHEN NEW.key = 'splice_verify' AND NEW.value NOT IN ('ip', 'always', 'off')
            THEN raise(ABORT, 'settings.splice_verify: ip, always or off')
        WHEN NEW.key = 'verify_ca_file' AND NEW.value <> '' AND NOT NEW.value GLOB '/*'
            THEN raise(ABORT, 'settings.verify_ca_file: an absolute path, or '''' for the system store')
        WHEN NEW.key = 'verify_timeout_ms' AND (typeof(NEW.value) <> 'text' OR NEW.value GLOB '*[^0-9]*'
                OR NEW.value GLOB '0*' OR length(NEW.value) NOT BETWEEN 3 AND 5
                OR CAST(NEW.value AS INTEGER) NOT BETWEEN 100 AND 30000)
            THEN raise(ABORT, 'settings.verify_timeout_ms: a whole number of milliseconds, 100..30000')
        WHEN NEW.key = 'no_sni_action' AND NEW.value NOT IN ('host', 'bump', 'terminate')
            THEN raise(ABORT, 'settings.no_sni_action: host, bump or terminate')
        WHEN NEW.key = 'ip_sni_action' AND NEW.value NOT IN ('ignore', 'host', 'bump', 'terminate')
            THEN raise(ABORT, 'settings.ip_sni_action: ignore, host, bump or terminate')
    END;
END;
DROP TRIGGER IF EXISTS settings_verify_insert;
CREATE TRIGGER settings_verify_insert BEFORE INSERT ON settings
WHEN NEW.key IN ('splice_verify', 'verify_ca_file', 'verify_timeout_ms', 'no_sni_action',
                  'ip_sni_action')
BEGIN
    INSERT INTO check_setting (key, value) VALUES (NEW.key, NEW.value);
END;
DROP TRIGGER IF EXISTS settings_verify_update;
CREATE TRIGGER settings_verify_update BEFORE UPDATE ON settings
WHEN NEW.key IN ('splice_verify', 'verify_ca_file', 'verify_timeout_ms', 'no_sni_action',
                  'ip_sni_action')
BEGIN
    INSERT INTO check_setting (key, value) VALUES (NEW.key, NEW.value);
END;
