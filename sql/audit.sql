-- pinsplice audit trail (loaded by `pinsplice db init` right after schema.sql, before manage.sql,
-- vendor.sql and defaults.sql, and by every loader of manage.sql just before it): the audit table,
-- the audit_import view, and the per-row audit triggers on every rule and catalogue table. It
-- changes no table the matcher reads.
--
-- Who. audit.who is the OS user of the session that made the change, or NULL (unknown): never a
-- name left over from an earlier session. SQLite has no session variable a trigger in main can
-- read (a trigger in main cannot see temp objects), so the name is added by the session itself:
-- `pinsplice sql` (the sqlite3 CLI on the DB, sql in its -cmd) and every `pinsplice` command that
-- writes create, on their own connection only,
--     CREATE TEMP TABLE pinsplice_session (who TEXT NOT NULL);    -- one row: the OS user
--     CREATE TEMP TRIGGER pinsplice_session_who BEFORE INSERT ON main.audit ...
-- which writes each audit row this connection adds with that name instead (lib/admin/admin.c
-- ps_admin_session_sql has the text). TEMP objects live in the connection's memory and vanish
-- with it: two sessions at once each record their own user, and a raw sqlite3 session records
-- NULL. This is attribution, not authentication: whoever can write the file can write anything.
-- The persistent setting 'audit_who' of earlier versions (inherited by whoever came next) is
-- removed below and refused; the audit triggers still read it, which now always gives NULL.
-- Changes to it were never audited.

-- Bulk lists. category_domains rows that carry a list name (what `pinsplice categories import`
-- writes, up to millions of rows, replaced whole on re-import) are not audited row by row: that
-- would double the import's work and the database's size for rows nobody reviews one by one.
-- The importer writes one summary row instead (INSERT INTO audit_import ...). Rows added by hand
-- (list IS NULL) are audited like everything else.
--
--
-- Re-running this file on an existing database is safe (triggers are dropped and recreated, the
-- audit table and its rows are kept), so an update can re-apply it.

-- ---- audit ---------------------------------------------------------------------------------------
-- op: INSERT, UPDATE, DELETE (one row changed; old/new hold the whole row as JSON, plus the rule's
-- or app's name for entries) or IMPORT (a bulk import summary, see audit_import). row_id: the
-- row's id (rowid for categories and settings; NULL for category_domains, which has none).
-- at: UTC, ISO 8601 with milliseconds; it sorts as text.
CREATE TABLE IF NOT EXISTS audit (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    tbl    TEXT NOT NULL,
    op     TEXT NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'IMPORT')),
    row_id INTEGER,
    old    TEXT,
    new    TEXT,
    who    TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_row ON audit (tbl, row_id);

-- History is not rewritten: rows can be deleted (pruning), never changed.
DROP TRIGGER IF EXISTS audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT raise(ABORT, 'audit: rows cannot be changed (DELETE old rows to prune)'); END;

-- The retired persistent 'who' (see "Who" above): gone, and not to come back.
DELETE FROM settings WHERE key = 'audit_who';
DROP TRIGGER IF EXISTS settings_audit_who_insert;
CREATE TRIGGER settings_audit_who_insert BEFORE INSERT ON settings
WHEN NEW.key = 'audit_who'
BEGIN
    SELECT raise(ABORT, 'settings.audit_who: retired (a later session inherited it): audit.who is the OS user of the session; use `pinsplice sql`, which records it');
END;

-- One summary row per bulk import into category_domains. The importer runs, in its transaction:
--   INSERT INTO audit_import (list, category, removed, added) VALUES ('bank', 'Financial Services', 0, 1200);
-- SELECT * FROM audit_import lists past imports.
DROP VIEW IF EXISTS audit_import;
CREATE VIEW audit_import (at, who, list, category, removed, added) AS
    SELECT at, who, new ->> 'list', new ->> 'category', old ->> 'rows', new ->> 'rows'
    FROM audit WHERE op = 'IMPORT' AND tbl = 'category_domains' ORDER BY id;
CREATE TRIGGER audit_import_insert INSTEAD OF INSERT ON audit_import
BEGIN
    SELECT raise(ABORT, 'audit_import: list, category, removed and added are required')
    WHERE NEW.list IS NULL OR NEW.category IS NULL OR NEW.removed IS NULL OR NEW.added IS NULL;
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('category_domains', 'IMPORT', NULL,
            json_object('list', NEW.list, 'rows', NEW.removed),
            json_object('list', NEW.list, 'category', NEW.category, 'rows', NEW.added),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- Per-row audit triggers: AFTER INSERT / UPDATE / DELETE on every rule and catalogue table.
-- An UPDATE that changes nothing writes nothing. The insert of a rule with no position is one
-- INSERT row carrying the position schema.sql's rules_position_last gives it (that trigger's own
-- UPDATE is not written again).
-- rules
DROP TRIGGER IF EXISTS audit_rules_insert;
CREATE TRIGGER audit_rules_insert AFTER INSERT ON rules
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rules', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'name', NEW.name, 'action', NEW.action,
                        'enabled', NEW.enabled,
                        'position', coalesce(NEW.position,
                            (SELECT position FROM rules WHERE id = NEW.id),
                            (SELECT coalesce(max(position), 0) + 10 FROM rules)),
                        'expires_at', NEW.expires_at, 'origin', NEW.origin, 'comment', NEW.comment,
                        'mode', NEW.mode, 'verify', NEW.verify,
                        'verify_ca_file', NEW.verify_ca_file),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rules_update;
CREATE TRIGGER audit_rules_update AFTER UPDATE ON rules
WHEN (OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name OR OLD.action IS NOT NEW.action OR
      OLD.enabled IS NOT NEW.enabled OR OLD.position IS NOT NEW.position OR
      OLD.expires_at IS NOT NEW.expires_at OR OLD.origin IS NOT NEW.origin OR
      OLD.comment IS NOT NEW.comment OR OLD.mode IS NOT NEW.mode OR
      OLD.verify IS NOT NEW.verify OR OLD.verify_ca_file IS NOT NEW.verify_ca_file)
 AND NOT (OLD.position IS NULL AND NEW.position IS NOT NULL AND OLD.id IS NEW.id AND
          OLD.name IS NEW.name AND OLD.action IS NEW.action AND OLD.enabled IS NEW.enabled AND
          OLD.expires_at IS NEW.expires_at AND OLD.origin IS NEW.origin AND
          OLD.comment IS NEW.comment AND OLD.mode IS NEW.mode AND OLD.verify IS NEW.verify AND
          OLD.verify_ca_file IS NEW.verify_ca_file AND
          EXISTS (SELECT 1 FROM audit WHERE id = (SELECT max(id) FROM audit) AND tbl = 'rules' AND
          op = 'INSERT' AND row_id = NEW.id))
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rules', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'name', OLD.name, 'action', OLD.action,
                        'enabled', OLD.enabled, 'position', OLD.position,
                        'expires_at', OLD.expires_at, 'origin', OLD.origin, 'comment', OLD.comment,
                        'mode', OLD.mode, 'verify', OLD.verify,
                        'verify_ca_file', OLD.verify_ca_file),
            json_object('id', NEW.id, 'name', NEW.name, 'action', NEW.action,
                        'enabled', NEW.enabled, 'position', NEW.position,
                        'expires_at', NEW.expires_at, 'origin', NEW.origin, 'comment', NEW.comment,
                        'mode', NEW.mode, 'verify', NEW.verify,
                        'verify_ca_file', NEW.verify_ca_file),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rules_delete;
CREATE TRIGGER audit_rules_delete AFTER DELETE ON rules
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rules', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'name', OLD.name, 'action', OLD.action,
                        'enabled', OLD.enabled, 'position', OLD.position,
                        'expires_at', OLD.expires_at, 'origin', OLD.origin, 'comment', OLD.comment,
                        'mode', OLD.mode, 'verify', OLD.verify,
                        'verify_ca_file', OLD.verify_ca_file),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_domains
DROP TRIGGER IF EXISTS audit_rule_domains_insert;
CREATE TRIGGER audit_rule_domains_insert AFTER INSERT ON rule_domains
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_domains', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'domain', NEW.domain,
                        'exact', NEW.exact, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_domains_update;
CREATE TRIGGER audit_rule_domains_update AFTER UPDATE ON rule_domains
WHEN (OLD.id IS NOT NEW.id OR OLD.rule_id IS NOT NEW.rule_id OR OLD.domain IS NOT NEW.domain OR
      OLD.exact IS NOT NEW.exact OR OLD.comment IS NOT NEW.comment)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_domains', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'domain', OLD.domain,
                        'exact', OLD.exact, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'domain', NEW.domain,
                        'exact', NEW.exact, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_domains_delete;
CREATE TRIGGER audit_rule_domains_delete AFTER DELETE ON rule_domains
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_domains', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'domain', OLD.domain,
                        'exact', OLD.exact, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_programs
DROP TRIGGER IF EXISTS audit_rule_programs_insert;
CREATE TRIGGER audit_rule_programs_insert AFTER INSERT ON rule_programs
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_programs', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'os', NEW.os, 'program', NEW.program,
                        'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_programs_update;
CREATE TRIGGER audit_rule_programs_update AFTER UPDATE ON rule_programs
WHEN (OLD.id IS NOT NEW.id OR OLD.rule_id IS NOT NEW.rule_id OR OLD.os IS NOT NEW.os OR
      OLD.program IS NOT NEW.program OR OLD.comment IS NOT NEW.comment)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_programs', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'os', OLD.os, 'program', OLD.program,
                        'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'os', NEW.os, 'program', NEW.program,
                        'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_programs_delete;
CREATE TRIGGER audit_rule_programs_delete AFTER DELETE ON rule_programs
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_programs', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'os', OLD.os, 'program', OLD.program,
                        'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_categories
DROP TRIGGER IF EXISTS audit_rule_categories_insert;
CREATE TRIGGER audit_rule_categories_insert AFTER INSERT ON rule_categories
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_categories', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'category', NEW.category,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_categories_update;
CREATE TRIGGER audit_rule_categories_update AFTER UPDATE ON rule_categories
WHEN (OLD.id IS NOT NEW.id OR OLD.rule_id IS NOT NEW.rule_id OR OLD.category IS NOT NEW.category)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_categories', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'category', OLD.category,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'category', NEW.category,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_categories_delete;
CREATE TRIGGER audit_rule_categories_delete AFTER DELETE ON rule_categories
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_categories', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'category', OLD.category,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_sources
DROP TRIGGER IF EXISTS audit_rule_sources_insert;
CREATE TRIGGER audit_rule_sources_insert AFTER INSERT ON rule_sources
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_sources', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'source', NEW.source,
                        'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_sources_update;
CREATE TRIGGER audit_rule_sources_update AFTER UPDATE ON rule_sources
WHEN (OLD.id IS NOT NEW.id OR OLD.rule_id IS NOT NEW.rule_id OR OLD.source IS NOT NEW.source OR
      OLD.comment IS NOT NEW.comment)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_sources', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'source', OLD.source,
                        'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('id', NEW.id, 'rule_id', NEW.rule_id, 'source', NEW.source,
                        'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_sources_delete;
CREATE TRIGGER audit_rule_sources_delete AFTER DELETE ON rule_sources
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_sources', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'rule_id', OLD.rule_id, 'source', OLD.source,
                        'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_destinations (v2; row_id is the rowid: the key is (rule_id, cidr))
DROP TRIGGER IF EXISTS audit_rule_destinations_insert;
CREATE TRIGGER audit_rule_destinations_insert AFTER INSERT ON rule_destinations
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_destinations', 'INSERT', NEW.rowid, NULL,
            json_object('rule_id', NEW.rule_id, 'cidr', NEW.cidr, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_destinations_update;
CREATE TRIGGER audit_rule_destinations_update AFTER UPDATE ON rule_destinations
WHEN OLD.rule_id IS NOT NEW.rule_id OR OLD.cidr IS NOT NEW.cidr OR OLD.comment IS NOT NEW.comment
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_destinations', 'UPDATE', NEW.rowid,
            json_object('rule_id', OLD.rule_id, 'cidr', OLD.cidr, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('rule_id', NEW.rule_id, 'cidr', NEW.cidr, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_destinations_delete;
CREATE TRIGGER audit_rule_destinations_delete AFTER DELETE ON rule_destinations
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_destinations', 'DELETE', OLD.rowid,
            json_object('rule_id', OLD.rule_id, 'cidr', OLD.cidr, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- rule_pins (v2; row_id is the rowid: the key is (rule_id, spki_sha256))
DROP TRIGGER IF EXISTS audit_rule_pins_insert;
CREATE TRIGGER audit_rule_pins_insert AFTER INSERT ON rule_pins
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_pins', 'INSERT', NEW.rowid, NULL,
            json_object('rule_id', NEW.rule_id, 'spki_sha256', NEW.spki_sha256, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_pins_update;
CREATE TRIGGER audit_rule_pins_update AFTER UPDATE ON rule_pins
WHEN OLD.rule_id IS NOT NEW.rule_id OR OLD.spki_sha256 IS NOT NEW.spki_sha256 OR OLD.comment IS NOT NEW.comment
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_pins', 'UPDATE', NEW.rowid,
            json_object('rule_id', OLD.rule_id, 'spki_sha256', OLD.spki_sha256, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            json_object('rule_id', NEW.rule_id, 'spki_sha256', NEW.spki_sha256, 'comment', NEW.comment,
                        'rule', (SELECT name FROM rules WHERE id = NEW.rule_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_rule_pins_delete;
CREATE TRIGGER audit_rule_pins_delete AFTER DELETE ON rule_pins
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('rule_pins', 'DELETE', OLD.rowid,
            json_object('rule_id', OLD.rule_id, 'spki_sha256', OLD.spki_sha256, 'comment', OLD.comment,
                        'rule', (SELECT name FROM rules WHERE id = OLD.rule_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- app_destinations (v2; row_id is the rowid: the key is (app_id, cidr))
DROP TRIGGER IF EXISTS audit_app_destinations_insert;
CREATE TRIGGER audit_app_destinations_insert AFTER INSERT ON app_destinations
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_destinations', 'INSERT', NEW.rowid, NULL,
            json_object('app_id', NEW.app_id, 'cidr', NEW.cidr, 'note', NEW.note,
                        'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_destinations_update;
CREATE TRIGGER audit_app_destinations_update AFTER UPDATE ON app_destinations
WHEN OLD.app_id IS NOT NEW.app_id OR OLD.cidr IS NOT NEW.cidr OR OLD.note IS NOT NEW.note
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_destinations', 'UPDATE', NEW.rowid,
            json_object('app_id', OLD.app_id, 'cidr', OLD.cidr, 'note', OLD.note,
                        'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            json_object('app_id', NEW.app_id, 'cidr', NEW.cidr, 'note', NEW.note,
                        'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_destinations_delete;
CREATE TRIGGER audit_app_destinations_delete AFTER DELETE ON app_destinations
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_destinations', 'DELETE', OLD.rowid,
            json_object('app_id', OLD.app_id, 'cidr', OLD.cidr, 'note', OLD.note,
                        'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- apps
DROP TRIGGER IF EXISTS audit_apps_insert;
CREATE TRIGGER audit_apps_insert AFTER INSERT ON apps
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('apps', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'name', NEW.name, 'reason', NEW.reason, 'note', NEW.note,
                        'origin', NEW.origin, 'feed', NEW.feed),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_apps_update;
CREATE TRIGGER audit_apps_update AFTER UPDATE ON apps
WHEN (OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name OR OLD.reason IS NOT NEW.reason OR
      OLD.note IS NOT NEW.note OR OLD.origin IS NOT NEW.origin OR OLD.feed IS NOT NEW.feed)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('apps', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'name', OLD.name, 'reason', OLD.reason, 'note', OLD.note,
                        'origin', OLD.origin, 'feed', OLD.feed),
            json_object('id', NEW.id, 'name', NEW.name, 'reason', NEW.reason, 'note', NEW.note,
                        'origin', NEW.origin, 'feed', NEW.feed),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_apps_delete;
CREATE TRIGGER audit_apps_delete AFTER DELETE ON apps
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('apps', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'name', OLD.name, 'reason', OLD.reason, 'note', OLD.note,
                        'origin', OLD.origin, 'feed', OLD.feed),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- app_domains
DROP TRIGGER IF EXISTS audit_app_domains_insert;
CREATE TRIGGER audit_app_domains_insert AFTER INSERT ON app_domains
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_domains', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'app_id', NEW.app_id, 'domain', NEW.domain, 'note', NEW.note,
                        'exact', NEW.exact,
                        'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_domains_update;
CREATE TRIGGER audit_app_domains_update AFTER UPDATE ON app_domains
WHEN (OLD.id IS NOT NEW.id OR OLD.app_id IS NOT NEW.app_id OR OLD.domain IS NOT NEW.domain OR
      OLD.note IS NOT NEW.note OR OLD.exact IS NOT NEW.exact)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_domains', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'app_id', OLD.app_id, 'domain', OLD.domain, 'note', OLD.note,
                        'exact', OLD.exact,
                        'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            json_object('id', NEW.id, 'app_id', NEW.app_id, 'domain', NEW.domain, 'note', NEW.note,
                        'exact', NEW.exact,
                        'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_domains_delete;
CREATE TRIGGER audit_app_domains_delete AFTER DELETE ON app_domains
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_domains', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'app_id', OLD.app_id, 'domain', OLD.domain, 'note', OLD.note,
                        'exact', OLD.exact,
                        'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- app_programs
DROP TRIGGER IF EXISTS audit_app_programs_insert;
CREATE TRIGGER audit_app_programs_insert AFTER INSERT ON app_programs
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_programs', 'INSERT', NEW.id,
            NULL,
            json_object('id', NEW.id, 'app_id', NEW.app_id, 'os', NEW.os, 'program', NEW.program,
                        'note', NEW.note, 'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_programs_update;
CREATE TRIGGER audit_app_programs_update AFTER UPDATE ON app_programs
WHEN (OLD.id IS NOT NEW.id OR OLD.app_id IS NOT NEW.app_id OR OLD.os IS NOT NEW.os OR
      OLD.program IS NOT NEW.program OR OLD.note IS NOT NEW.note)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_programs', 'UPDATE', NEW.id,
            json_object('id', OLD.id, 'app_id', OLD.app_id, 'os', OLD.os, 'program', OLD.program,
                        'note', OLD.note, 'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            json_object('id', NEW.id, 'app_id', NEW.app_id, 'os', NEW.os, 'program', NEW.program,
                        'note', NEW.note, 'app', (SELECT name FROM apps WHERE id = NEW.app_id)),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_app_programs_delete;
CREATE TRIGGER audit_app_programs_delete AFTER DELETE ON app_programs
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('app_programs', 'DELETE', OLD.id,
            json_object('id', OLD.id, 'app_id', OLD.app_id, 'os', OLD.os, 'program', OLD.program,
                        'note', OLD.note, 'app', (SELECT name FROM apps WHERE id = OLD.app_id)),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- categories
DROP TRIGGER IF EXISTS audit_categories_insert;
CREATE TRIGGER audit_categories_insert AFTER INSERT ON categories
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('categories', 'INSERT', NEW.rowid,
            NULL,
            json_object('name', NEW.name, 'comment', NEW.comment),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_categories_update;
CREATE TRIGGER audit_categories_update AFTER UPDATE ON categories
WHEN (OLD.name IS NOT NEW.name OR OLD.comment IS NOT NEW.comment)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('categories', 'UPDATE', NEW.rowid,
            json_object('name', OLD.name, 'comment', OLD.comment),
            json_object('name', NEW.name, 'comment', NEW.comment),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_categories_delete;
CREATE TRIGGER audit_categories_delete AFTER DELETE ON categories
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('categories', 'DELETE', OLD.rowid,
            json_object('name', OLD.name, 'comment', OLD.comment),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- category_domains
DROP TRIGGER IF EXISTS audit_category_domains_insert;
CREATE TRIGGER audit_category_domains_insert AFTER INSERT ON category_domains
WHEN NEW.list IS NULL
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('category_domains', 'INSERT', NULL,
            NULL,
            json_object('category', NEW.category, 'domain', NEW.domain, 'list', NEW.list),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_category_domains_update;
CREATE TRIGGER audit_category_domains_update AFTER UPDATE ON category_domains
WHEN (OLD.list IS NULL OR NEW.list IS NULL)
 AND (OLD.category IS NOT NEW.category OR OLD.domain IS NOT NEW.domain OR OLD.list IS NOT NEW.list)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('category_domains', 'UPDATE', NULL,
            json_object('category', OLD.category, 'domain', OLD.domain, 'list', OLD.list),
            json_object('category', NEW.category, 'domain', NEW.domain, 'list', NEW.list),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_category_domains_delete;
CREATE TRIGGER audit_category_domains_delete AFTER DELETE ON category_domains
WHEN OLD.list IS NULL
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('category_domains', 'DELETE', NULL,
            json_object('category', OLD.category, 'domain', OLD.domain, 'list', OLD.list),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;

-- settings
DROP TRIGGER IF EXISTS audit_settings_insert;
CREATE TRIGGER audit_settings_insert AFTER INSERT ON settings
WHEN NEW.key <> 'audit_who'
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('settings', 'INSERT', NEW.rowid,
            NULL,
            json_object('key', NEW.key, 'value', NEW.value, 'comment', NEW.comment),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_settings_update;
CREATE TRIGGER audit_settings_update AFTER UPDATE ON settings
WHEN (OLD.key <> 'audit_who' OR NEW.key <> 'audit_who')
 AND (OLD.key IS NOT NEW.key OR OLD.value IS NOT NEW.value OR OLD.comment IS NOT NEW.comment)
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('settings', 'UPDATE', NEW.rowid,
            json_object('key', OLD.key, 'value', OLD.value, 'comment', OLD.comment),
            json_object('key', NEW.key, 'value', NEW.value, 'comment', NEW.comment),
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
DROP TRIGGER IF EXISTS audit_settings_delete;
CREATE TRIGGER audit_settings_delete AFTER DELETE ON settings
WHEN OLD.key <> 'audit_who'
BEGIN
    INSERT INTO audit (tbl, op, row_id, old, new, who)
    VALUES ('settings', 'DELETE', OLD.rowid,
            json_object('key', OLD.key, 'value', OLD.value, 'comment', OLD.comment),
            NULL,
            (SELECT nullif(value, '') FROM settings WHERE key = 'audit_who'));
END;
