-- pinsplice default rules and categories (loaded after schema.sql and vendor.sql).
--
-- Source: ../shared/seed/000_1db2b16ed9c1c3c3.txt, section "Default Bypass Rules": 16 rules,
-- carried over in the document's order as ids 1..16, positions 10, 20, ..., 160, all with action
-- 'splice' (the document's rules are bypass rules) and origin 'vendor'. Names are exactly as
-- written there. Status "Enabled" -> enabled 1, "Disabled" -> enabled 0 (only "Bypass sensitive
-- traffic - Pre-configured").
--
-- Shifted column: the document's table has the header "Rule Name | Status | Source | Programs |
-- Domains | Categories", but every row puts its value in the third cell, under "Source", and leaves
-- Programs, Domains and Categories empty. The values are plainly not sources (no CIDR, no user):
-- they are the four category names for "Bypass sensitive traffic" and domain names for every
-- other rule, and are stored as such (rule_categories / rule_domains). No rule has a source,
-- program or other entry.
--
-- Each rule carries exactly what the document gives it, nothing more. Most rules carry one name
-- of the matching app of the catalogue (vendor.sql); the gap is written in each rule's comment so
-- an admin can widen a rule by copying from app_domains / app_programs, e.g.
--   INSERT INTO rule_domains (rule_id, domain)
--     SELECT 2, domain FROM app_domains WHERE app_id = 16 AND domain <> 'login.live.com';
--
-- Domain entries use exact = 0: each covers its name and every name below it.

-- ---- categories ----------------------------------------------------------------------------------
-- The four categories of "Bypass sensitive traffic - Pre-configured". The document gives no domain
-- list for them: category_domains stays empty until an admin imports lists (e.g. a squidGuard or
-- UT1 blacklist category), so the rule would match nothing even if enabled.
INSERT INTO categories (name, comment) VALUES
('Financial Services', 'vendor default category; no domains until an admin imports a list into category_domains'),
('Government', 'vendor default category; no domains until an admin imports a list into category_domains'),
('Health and Medicine', 'vendor default category; no domains until an admin imports a list into category_domains'),
('Legal', 'vendor default category; no domains until an admin imports a list into category_domains');

-- ---- rules ---------------------------------------------------------------------------------------
INSERT INTO rules (id, name, action, enabled, position, origin, comment) VALUES
-- 1: the only disabled rule; its "Source" cell holds four categories. No app in the catalogue.
(1, 'Bypass sensitive traffic - Pre-configured', 'splice', 0, 10, 'vendor',
 'Vendor default rule (Disabled in the source). The source table lists "Financial Services, Government, Health and Medicine, Legal" under its Source column (shifted column): stored as categories. The categories hold no domains until an admin imports lists, so enabling this rule alone changes nothing.'),
-- 2: app 16 Microsoft Updates lists 8 domains; the rule carries only login.live.com (which is also
-- in app 14 Microsoft OneDrive). The 7 update hosts (update.microsoft.com, ...) are not in it.
(2, 'Bypass Microsoft updates - Pre-configured', 'splice', 1, 20, 'vendor',
 'Vendor default rule; domain login.live.com (given under the Source column). Only 1 of the 8 domains of the app "Microsoft Updates"; the update hosts themselves (update.microsoft.com, delivery.mp.microsoft.com, ...) are not in the rule.'),
-- 3: app 1 Adobe Suite has no domains ("Fill in these domain lists"); the rule uses adobe.com.
(3, 'Bypass Adobe updates - Pre-configured', 'splice', 1, 30, 'vendor',
 'Vendor default rule; domain adobe.com (given under the Source column). The app "Adobe Suite" lists no domains (the vendor left "Fill in these domain lists").'),
-- 4: app 9 Java Updates has sjremetrics.java.com and javadl-esd-secure.oracle.com; the rule carries
-- only the first (spelled right here; the app table had the typo ".comm").
(4, 'Bypass Java updates - Pre-configured', 'splice', 1, 40, 'vendor',
 'Vendor default rule; domain sjremetrics.java.com (given under the Source column). The app "Java Updates" also lists javadl-esd-secure.oracle.com (the download host), not in the rule.'),
-- 5: no Mozilla app in the catalogue.
(5, 'Bypass Mozilla Firefox updates - Pre-configured', 'splice', 1, 50, 'vendor',
 'Vendor default rule; domain download-installer.cdn.mozilla.net (given under the Source column). No matching app in the catalogue.'),
-- 6: app 3 AWS Console lists 9 domains; the rule carries only console.aws.amazon.com (not the
-- sign-in and asset hosts).
(6, 'Bypass AWS console - Pre-configured', 'splice', 1, 60, 'vendor',
 'Vendor default rule; domain console.aws.amazon.com (given under the Source column). Only 1 of the 9 domains of the app "AWS Console" (signin.aws.amazon.com and the asset hosts are not in the rule).'),
-- 7: app 5 Dropbox has programs only (no domains); the rule uses dropbox.com and no program.
(7, 'Bypass Dropbox - Pre-configured', 'splice', 1, 70, 'vendor',
 'Vendor default rule; domain dropbox.com (given under the Source column). The app "Dropbox" lists programs only, no domains; its programs are not in the rule.'),
-- 8: app 8 Google Services lists 17 domains; the rule carries only accounts.google.com.
(8, 'Bypass Google services - Pre-configured', 'splice', 1, 80, 'vendor',
 'Vendor default rule; domain accounts.google.com (given under the Source column). Only 1 of the 17 domains of the app "Google Services".'),
-- 9: app 14 Microsoft OneDrive lists 13 domains; the rule carries only cdn.funcaptcha.com, a
-- third-party captcha host (not onedrive.com).
(9, 'Bypass OneDrive - Pre-configured', 'splice', 1, 90, 'vendor',
 'Vendor default rule; domain cdn.funcaptcha.com (given under the Source column). Only 1 of the 13 domains of the app "Microsoft OneDrive", and a third-party captcha host: onedrive.com, login.live.com etc. are not in the rule.'),
-- 10: app 10 LogMeIn has the program logmein.exe and no domains; the rule uses cdngetgo.com.
(10, 'Bypass LogMeIn - Pre-configured', 'splice', 1, 100, 'vendor',
 'Vendor default rule; domain cdngetgo.com (given under the Source column). The app "LogMeIn" lists no domains ("Fill in this domain list") and the program logmein.exe, which is not in the rule.'),
-- 11: app 12 Microsoft Lync and Skype lists 3 domains; the rule carries only lync.com.
(11, 'Bypass Microsoft Lync and Skype - Pre-configured', 'splice', 1, 110, 'vendor',
 'Vendor default rule; domain lync.com (given under the Source column). Only 1 of the 3 domains of the app "Microsoft Lync and Skype" (az801095.vo.msecnd.net and i.s-microsoft.com are not in the rule).'),
-- 12: the document gives 14 names: the 13 domains of app 2 (Apple) plus music.apple.com, which
-- the app table does not list (kept: the document gives it for this rule). Corrected: two of the
-- 14 are not carried into the rule (they stay in the catalogue, app 2, with a note), so that the
-- shipped database passes `pinsplice db check`:
--   * akadns.net: on the Public Suffix List (Akamai's private section) and a CNAME target, never
--     an SNI a client sends (apple.com.akadns.net is what DNS answers, the TLS name stays
--     apple.com): it bypasses nothing the app needs and would splice every name under Akamai's
--     DNS zone, any Akamai customer's.
--   * p24-keyvalueservice.icloud.com: already covered by icloud.com in the same rule (a duplicate
--     that changes nothing).
(12, 'Bypass Apple services - Pre-configured', 'splice', 1, 120, 'vendor',
 'Vendor default rule; 12 domains (given space-separated under the Source column, 14 there): the app "Apple''s iMessages, iTunes, App Store, Mail" minus two, plus music.apple.com, which the app table does not list (kept). Not carried over: akadns.net (a public suffix, Akamai''s DNS zone, a CNAME target no client sends as SNI: it would splice every Akamai-DNS name) and p24-keyvalueservice.icloud.com (already covered by icloud.com); both stay in the catalogue.'),
-- 13: app 4 Bitdefender lists 7 domains; the rule carries only cdn.bitdefender.net.
(13, 'Bypass Bitdefender services - Pre-configured', 'splice', 1, 130, 'vendor',
 'Vendor default rule; domain cdn.bitdefender.net (given under the Source column). Only 1 of the 7 domains of the app "Bitdefender".'),
-- 14: app 20 Zoom: same domain zoom.us; the app's programs (zoom.exe, us.zoom.xos) are not in it.
(14, 'Bypass Zoom - Pre-configured', 'splice', 1, 140, 'vendor',
 'Vendor default rule; domain zoom.us (given under the Source column), the domain of the app "Zoom"; the app''s programs are not in the rule.'),
-- 15: app 19 Webex: same domain webex.com; the app's 4 programs are not in it.
(15, 'Bypass Webex - Pre-configured', 'splice', 1, 150, 'vendor',
 'Vendor default rule; domain webex.com (given under the Source column), the domain of the app "Webex"; the app''s 4 programs are not in the rule.'),
-- 16: app 18 Spotify: same domain spotify.com (which the app table had in its Program column).
(16, 'Bypass Spotify - Pre-configured', 'splice', 1, 160, 'vendor',
 'Vendor default rule; domain spotify.com (given under the Source column), the one domain of the app "Spotify".');

-- ---- rule entries --------------------------------------------------------------------------------
INSERT INTO rule_categories (rule_id, category) VALUES
(1, 'Financial Services'),
(1, 'Government'),
(1, 'Health and Medicine'),
(1, 'Legal');

INSERT INTO rule_domains (rule_id, domain, exact, comment) VALUES
(2, 'login.live.com', 0, NULL),
(3, 'adobe.com', 0, NULL),
(4, 'sjremetrics.java.com', 0, NULL),
(5, 'download-installer.cdn.mozilla.net', 0, NULL),
(6, 'console.aws.amazon.com', 0, NULL),
(7, 'dropbox.com', 0, NULL),
(8, 'accounts.google.com', 0, NULL),
(9, 'cdn.funcaptcha.com', 0, NULL),
(10, 'cdngetgo.com', 0, NULL),
(11, 'lync.com', 0, NULL),
(12, 'apps.apple.com', 0, NULL),
(12, 'itunes.apple.com', 0, NULL),
(12, 'mzstatic.com', 0, NULL),
(12, 'gs-loc.apple.com', 0, NULL),
(12, 'gsa.apple.com', 0, NULL),
(12, 'securemetrics.apple.com', 0, NULL),
(12, 'swscan.apple.com', 0, NULL),
(12, 'xp.apple.com', 0, NULL),
(12, 'icloud.com', 0, NULL),
(12, 'ppq.apple.com', 0, NULL),
(12, 'mail.me.com', 0, NULL),
(12, 'music.apple.com', 0, 'in the default rule only: the app table does not list it'),
(13, 'cdn.bitdefender.net', 0, NULL),
(14, 'zoom.us', 0, NULL),
(15, 'webex.com', 0, NULL),
(16, 'spotify.com', 0, NULL);
