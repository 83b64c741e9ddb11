-- pinsplice vendor catalogue: apps known to pin certificates (loaded after schema.sql).
--
-- Source: ../shared/seed/000_1db2b16ed9c1c3c3.txt ("What is Certificate Pinning?", a Harmony
-- SASE help article), the table "Application | Program | Domain", 20 rows, carried over here in
-- the document's order as app ids 1..20 (explicit ids so entries can refer to them).
--
-- The catalogue is reference data: the matcher does not use it (only rules match). The default
-- rules (defaults.sql) take a few names from it; an admin copies more into a rule when needed.
--
-- How the table was read (applies to every row; per-row decisions are noted at the row, both
-- here as a comment and in the `note` column so `SELECT name, note FROM apps` shows them):
--   * Program cell "Windows: a.exe, b.exe. macOS: x.y" -> os 'windows' for a and b, 'macos'
--     for x.y. A program given with no OS that plainly is a Windows executable (*.exe) is
--     stored as 'windows' (noted); no row needed 'any' or 'linux' (the table gives no Linux
--     program).
--   * The macOS programs the table gives are CFBundleIdentifier values (com.getdropbox.dropbox,
--     us.zoom.xos, ...), which the document itself names as one way to get the "process name"
--     on macOS. They match only if the endpoint agent reports the bundle id; the binary names
--     (e.g. "zoom.us") are not given by the vendor and are not invented here.
--   * "n/a" or an empty cell = no entry. Domains are stored lower case without a trailing dot
--     (the schema refuses anything else); a domain entry covers its whole subtree.
--   * Program names are stored as the vendor wrote them (GoogleDriveFS.exe keeps its capitals):
--     programs compare case-insensitively, so case carries no meaning.
--   * Where the vendor's list holds a name that an earlier name of the same list already covers
--     (sls.update.microsoft.com under update.microsoft.com, p24-keyvalueservice.icloud.com
--     under icloud.com) it is kept: it documents what the app uses, and apps are not matched.
--   * The same domain in two apps (login.live.com in Microsoft OneDrive and Microsoft Updates)
--     is fine: each app lists what it uses.

-- ---- 1. Adobe Suite ------------------------------------------------------------------------------
-- Vendor: Program "n/a", Domain "Fill in these domain lists: List 1, List 2" (the links were lost
-- when the page was copied). No data: the app is kept with no entries. The default rule "Bypass
-- Adobe updates - Pre-configured" uses adobe.com, which this row does not list.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(1, 'Adobe Suite (including Acrobat Reader, Creative Cloud and software updates)',
 'pinned certificate',
 'Vendor table gives no program (n/a) and no domains: its Domain cell says "Fill in these domain lists: List 1, List 2" (links lost in the source text). Kept with no entries; add domains from Adobe''s published endpoint lists. The default rule "Bypass Adobe updates - Pre-configured" uses adobe.com.',
 'vendor');

-- ---- 2. Apple ------------------------------------------------------------------------------------
-- Vendor: Program "n/a", 13 domains. Carried over as given. akadns.net is Akamai's DNS zone
-- (CNAME targets such as apple.com.akadns.net), not an Apple name, and on the Public Suffix List
-- (Akamai's private section): clients never send it as SNI (the TLS name stays apple.com), so a
-- rule using it bypasses nothing the app needs and splices every Akamai-DNS name. Kept here as the
-- vendor gives it (it documents what the app resolves through), noted; NOT in the default Apple
-- rule (defaults.sql) for that reason. p24-keyvalueservice.icloud.com is already covered by
-- icloud.com (kept here; not in the default rule either). The default Apple rule takes the other
-- 11 names and adds music.apple.com (12 names).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(2, 'Apple''s iMessages, iTunes, App Store, Mail', 'pinned certificate',
 'Vendor table: no program (n/a), 13 domains, carried over unchanged. akadns.net is Akamai''s DNS zone (CNAME targets) and a public suffix, not an Apple name: clients never send it as SNI, and a rule holding it would splice every Akamai-DNS name, so the default rule "Bypass Apple services - Pre-configured" leaves it out (and p24-keyvalueservice.icloud.com, which icloud.com covers); that rule lists the other 11 plus music.apple.com.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(2, 'p24-keyvalueservice.icloud.com', 'already under icloud.com (vendor lists both); not in the default Apple rule'),
(2, 'apps.apple.com', NULL),
(2, 'itunes.apple.com', NULL),
(2, 'mzstatic.com', NULL),
(2, 'gs-loc.apple.com', NULL),
(2, 'gsa.apple.com', NULL),
(2, 'securemetrics.apple.com', NULL),
(2, 'swscan.apple.com', NULL),
(2, 'xp.apple.com', NULL),
(2, 'icloud.com', NULL),
(2, 'ppq.apple.com', NULL),
(2, 'akadns.net', 'Akamai DNS zone (CNAME targets) and a public suffix: no client sends it as SNI; not in the default Apple rule (it would splice every Akamai-DNS name)'),
(2, 'mail.me.com', NULL);

-- ---- 3. AWS Console ------------------------------------------------------------------------------
-- Vendor: Program "n/a", 10 domain items. Corrections:
--   * signin.aws.amazon.com is listed twice: stored once (9 distinct names).
--   * "Images-na.ssl-images-amazon.com" has a capital I: stored lower case (DNS names are
--     case-insensitive; the schema stores lower case).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(3, 'AWS Console', 'pinned certificate',
 'Vendor table: no program (n/a), 10 domain items. Corrections: signin.aws.amazon.com was listed twice (stored once); "Images-na.ssl-images-amazon.com" stored lower case as images-na.ssl-images-amazon.com.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(3, 'console.aws.amazon.com', NULL),
(3, 'docs.aws.amazon.com', NULL),
(3, 'signin.aws.amazon.com', 'listed twice by the vendor; stored once'),
(3, 'fls-na.amazon.com', NULL),
(3, 'cdn.assets.as2.amazonaws.com', NULL),
(3, 'aws-signin-website-assets.s3.amazonaws.com', NULL),
(3, 'opfcaptcha-prod.s3.amazonaws.com', NULL),
(3, 'd1dgtfo2wk29o4.cloudfront.net', NULL),
(3, 'images-na.ssl-images-amazon.com', 'vendor wrote "Images-na.ssl-images-amazon.com"; lower-cased');

-- ---- 4. Bitdefender ------------------------------------------------------------------------------
-- Vendor: Program "n/a", 7 domains, carried over unchanged.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(4, 'Bitdefender', 'pinned certificate',
 'Vendor table: no program (n/a), 7 domains, carried over unchanged.', 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(4, 'cdn.bitdefender.net', NULL),
(4, 'download.bitdefender.com', NULL),
(4, 'login.bitdefender.net', NULL),
(4, 'login.bitdefender.com', NULL),
(4, 'nimbus.bitdefender.net', NULL),
(4, 'push.bitdefender.net', NULL),
(4, 'upgrade.bitdefender.com', NULL);

-- ---- 5. Dropbox ----------------------------------------------------------------------------------
-- Vendor: name "DropBox" (the company and the document's own default rule "Bypass Dropbox -
-- Pre-configured" spell it "Dropbox"): stored as "Dropbox", original noted. Programs
-- Windows: dropbox.exe, dropboxupdate.exe; macOS: com.getdropbox.dropbox (bundle id). Domain
-- "n/a": none (the default rule uses dropbox.com, which this row does not list).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(5, 'Dropbox', 'pinned certificate',
 'Vendor table spells the name "DropBox"; stored as "Dropbox" (the company''s spelling and the default rule''s). Programs carried over unchanged; no domains (n/a). The default rule "Bypass Dropbox - Pre-configured" uses dropbox.com.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(5, 'windows', 'dropbox.exe', NULL),
(5, 'windows', 'dropboxupdate.exe', NULL),
(5, 'macos', 'com.getdropbox.dropbox', 'CFBundleIdentifier, not a binary name');

-- ---- 6. Evernote ---------------------------------------------------------------------------------
-- Vendor: Program "evernote.exe" with no OS: plainly a Windows executable -> os 'windows'
-- (noted). 4 domains, carried over unchanged (cd1.evernote.com is kept as written; it is a valid
-- name and nothing shows it wrong).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(6, 'Evernote', 'pinned certificate',
 'Vendor table gives the program "evernote.exe" without an OS; stored as os windows (a Windows .exe). 4 domains carried over unchanged.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(6, 'windows', 'evernote.exe', 'vendor gave no OS; .exe -> windows');
INSERT INTO app_domains (app_id, domain, note) VALUES
(6, 'announce.evernote.com', NULL),
(6, 'cd1.evernote.com', NULL),
(6, 'evernote-a.akamaihd.net', NULL),
(6, 'www.evernote.com', NULL);

-- ---- 7. Google Drive -----------------------------------------------------------------------------
-- Vendor: Windows: googledrivesync.exe, GoogleDriveFS.exe; macOS: com.google.drivefs,
-- com.google.drivefs.finderhelper.findersync (bundle ids). Domain "n/a". Unchanged.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(7, 'Google Drive', 'pinned certificate',
 'Vendor table: 2 Windows programs, 2 macOS bundle ids, no domains (n/a); carried over unchanged.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(7, 'windows', 'googledrivesync.exe', NULL),
(7, 'windows', 'GoogleDriveFS.exe', 'case as the vendor wrote it; programs compare case-insensitively'),
(7, 'macos', 'com.google.drivefs', 'CFBundleIdentifier, not a binary name'),
(7, 'macos', 'com.google.drivefs.finderhelper.findersync', 'CFBundleIdentifier, not a binary name');

-- ---- 8. Google Services --------------------------------------------------------------------------
-- Vendor: Program "n/a", 17 domains followed by a trailing comma (an empty 18th item): the empty
-- item is dropped, nothing else lost. www.google.com is Google web search itself: a rule using it
-- would splice all web searches (kept as given, noted).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(8, 'Google Services', 'pinned certificate',
 'Vendor table: no program (n/a), 17 domains. Correction: the list ended with a trailing comma (empty item), dropped. www.google.com (web search) is broad if copied into a rule.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(8, 'accounts.google.com', NULL),
(8, 'alt2-mtalk.google.com', NULL),
(8, 'android.clients.google.com', NULL),
(8, 'www.google.com', 'Google web search itself; broad if used in a rule'),
(8, 'android.googleapis.com', NULL),
(8, 'cryptauthenrollment.googleapis.com', NULL),
(8, 'device-provisioning.googleapis.com', NULL),
(8, 'digitalassetlinks.googleapis.com', NULL),
(8, 'fcmconnection.googleapis.com', NULL),
(8, 'fcmtoken.googleapis.com', NULL),
(8, 'firebaseperusertopics-pa.googleapis.com', NULL),
(8, 'play.googleapis.com', NULL),
(8, 'semanticlocation-pa.googleapis.com', NULL),
(8, 'lh3.googleusercontent.com', NULL),
(8, 'play-lh.googleusercontent.com', NULL),
(8, 'gstatic.com', NULL),
(8, 'gvt1.com', 'last item before the vendor''s trailing comma');

-- ---- 9. Java Updates -----------------------------------------------------------------------------
-- Vendor: Program "sjremetrics.java.comm, javadl-esd-secure.oracle.com", Domain empty. Both are
-- domains in the wrong column: moved to app_domains, no program rows. "sjremetrics.java.comm" is a
-- typo (".comm" is not a top-level domain; the document's default rule spells it
-- sjremetrics.java.com): stored as sjremetrics.java.com.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(9, 'Java Updates', 'pinned certificate',
 'Vendor table put both names in the Program column (Domain empty): they are domains, moved to app_domains; no programs. Correction: "sjremetrics.java.comm" is a typo, stored as sjremetrics.java.com (the default rule "Bypass Java updates - Pre-configured" spells it so).',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(9, 'sjremetrics.java.com', 'vendor wrote "sjremetrics.java.comm" in the Program column; typo fixed, moved to domains'),
(9, 'javadl-esd-secure.oracle.com', 'vendor wrote it in the Program column; moved to domains');

-- ---- 10. LogMeIn ---------------------------------------------------------------------------------
-- Vendor: Program "logmein.exe" (no OS: a Windows .exe -> 'windows'), Domain "Fill in this domain
-- list" (no data: none stored). The default rule uses cdngetgo.com, which this row does not list.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(10, 'LogMeIn', 'pinned certificate',
 'Vendor table: program "logmein.exe" without an OS, stored as os windows (a Windows .exe). No domains: the Domain cell says "Fill in this domain list" (no data). The default rule "Bypass LogMeIn - Pre-configured" uses cdngetgo.com.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(10, 'windows', 'logmein.exe', 'vendor gave no OS; .exe -> windows');

-- ---- 11. Microsoft Defender ----------------------------------------------------------------------
-- Vendor: Program "n/a", Domain "Fill in this domain list": no data, kept with no entries. There
-- is no default rule for it.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(11, 'Microsoft Defender', 'pinned certificate',
 'Vendor table gives no program (n/a) and no domains: the Domain cell says "Fill in this domain list" (no data). Kept with no entries; add Microsoft''s published Defender endpoints if needed. No default rule refers to it.',
 'vendor');

-- ---- 12. Microsoft Lync and Skype ----------------------------------------------------------------
-- Vendor: Program "lync.com, az801095.vo.msecnd.net, i.s-microsoft.com", Domain empty: all three are
-- domains in the wrong column, moved to app_domains; no program rows.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(12, 'Microsoft Lync and Skype', 'pinned certificate',
 'Vendor table put the 3 names in the Program column (Domain empty): they are domains, moved to app_domains; no programs.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(12, 'lync.com', 'vendor wrote it in the Program column; moved to domains'),
(12, 'az801095.vo.msecnd.net', 'vendor wrote it in the Program column; moved to domains'),
(12, 'i.s-microsoft.com', 'vendor wrote it in the Program column; moved to domains');

-- ---- 13. Microsoft Office365 ---------------------------------------------------------------------
-- Vendor: Program cell "Configure within Office365 under Policy > URL & Cloud App Control >
-- Advanced Settings": an instruction for the vendor's own console, not a program: no program rows.
-- Domain cell "For Outlook, please add the following domains: office365.com, office.net,
-- office.com": the three domains are stored; the scope ("for Outlook") is noted on each. The
-- name is kept as written ("Office365").
INSERT INTO apps (id, name, reason, note, origin) VALUES
(13, 'Microsoft Office365', 'pinned certificate',
 'Vendor table: the Program cell is an instruction for the vendor''s console ("Configure within Office365 under Policy > URL & Cloud App Control > Advanced Settings"), not a program: no programs stored. The Domain cell reads "For Outlook, please add the following domains: office365.com, office.net, office.com": the 3 domains are stored, given by the vendor for Outlook.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(13, 'office365.com', 'vendor: "for Outlook"'),
(13, 'office.net', 'vendor: "for Outlook"'),
(13, 'office.com', 'vendor: "for Outlook"');

-- ---- 14. Microsoft OneDrive ----------------------------------------------------------------------
-- Vendor: Program "n/a", 13 domains, unchanged. cdn.funcaptcha.com is Arkose Labs' captcha service
-- (used by the Microsoft account sign-up), not a Microsoft name.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(14, 'Microsoft OneDrive', 'pinned certificate',
 'Vendor table: no program (n/a), 13 domains, carried over unchanged. login.live.com is also listed for Microsoft Updates.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(14, 'cdn.funcaptcha.com', 'third-party captcha service (Arkose Labs) used by Microsoft account pages'),
(14, 'fpt.live.com', NULL),
(14, 'login.live.com', 'also in Microsoft Updates'),
(14, 'odc.officeapps.live.com', NULL),
(14, 'skyapi.policies.live.net', NULL),
(14, 'signup.live.com', NULL),
(14, 'skyapi.live.net', NULL),
(14, 'pipe.aria.microsoft.com', NULL),
(14, 'data.microsoft.com', NULL),
(14, 'svc.ms', NULL),
(14, 'msauth.net', NULL),
(14, 'onedrive.com', NULL),
(14, 'cdn.onenote.net', NULL);

-- ---- 15. Microsoft Windows Store -----------------------------------------------------------------
-- Vendor: Program "n/a", 8 domain items. Correction: "eus-streaming-video-msn-com" is not a host
-- name (a single label, no dot, no TLD). It is the Akamai edge name of MSN's video streaming with
-- its ".akamaized.net" suffix lost: Akamai edge names spell the origin host with dashes
-- (eus-streaming-video-msn-com.akamaized.net for MSN's East-US streaming video), and the same
-- Windows Store list, in the same order (wns.windows.com, live.com, clientconfig.passport.net,
-- wustat.windows.com, windowsupdate.com, msftncsi.com, microsoft.com), is published by Cloudflare
-- (Gateway docs, "Hostnames incompatible with decryption") with
-- eus-streaming-video-msn-com.akamaized.net as its first item. Video URLs use that host directly,
-- so it is what the client sends as SNI. Stored as eus-streaming-video-msn-com.akamaized.net, the
-- original noted. (eus-streaming-video.msn.com was considered and rejected: no list shows it.)
-- microsoft.com covers the whole microsoft.com subtree: very broad if copied into a rule (noted).
INSERT INTO apps (id, name, reason, note, origin) VALUES
(15, 'Microsoft Windows Store', 'pinned certificate',
 'Vendor table: no program (n/a), 8 domains. Correction: "eus-streaming-video-msn-com" is not a host name; stored as eus-streaming-video-msn-com.akamaized.net (the Akamai edge name it was cut from; the same Windows Store list published by Cloudflare has that name). microsoft.com and live.com cover whole subtrees: broad if copied into a rule.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(15, 'eus-streaming-video-msn-com.akamaized.net', 'vendor wrote "eus-streaming-video-msn-com" (not a host name); .akamaized.net suffix restored'),
(15, 'wns.windows.com', NULL),
(15, 'live.com', 'whole live.com subtree; broad'),
(15, 'clientconfig.passport.net', NULL),
(15, 'wustat.windows.com', NULL),
(15, 'windowsupdate.com', NULL),
(15, 'msftncsi.com', NULL),
(15, 'microsoft.com', 'whole microsoft.com subtree; broad');

-- ---- 16. Microsoft Updates -----------------------------------------------------------------------
-- Vendor: Program "n/a", 8 domains, unchanged (sls.update.microsoft.com is already under
-- update.microsoft.com; kept). The default rule "Bypass Microsoft updates - Pre-configured" carries
-- only login.live.com.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(16, 'Microsoft Updates', 'pinned certificate',
 'Vendor table: no program (n/a), 8 domains, carried over unchanged. The default rule "Bypass Microsoft updates - Pre-configured" carries only login.live.com of these.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(16, 'login.live.com', 'also in Microsoft OneDrive'),
(16, 'settings-win.data.microsoft.com', NULL),
(16, 'vortex-win.data.microsoft.com', NULL),
(16, 'delivery.mp.microsoft.com', NULL),
(16, 'tsfe.trafficshaping.dsp.mp.microsoft.com', NULL),
(16, 'update.microsoft.com', NULL),
(16, 'sls.update.microsoft.com', 'already under update.microsoft.com (vendor lists both)'),
(16, 'login.microsoft.com', NULL);

-- ---- 17. Slack -----------------------------------------------------------------------------------
-- Vendor: Windows: slack.exe; macOS: com.tinyspeck.slackmacgap, com.tinyspeck.slackmacgap.helper
-- (bundle ids). Domain "n/a". Unchanged. No default rule.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(17, 'Slack', 'pinned certificate',
 'Vendor table: 1 Windows program, 2 macOS bundle ids, no domains (n/a); carried over unchanged. No default rule refers to it.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(17, 'windows', 'slack.exe', NULL),
(17, 'macos', 'com.tinyspeck.slackmacgap', 'CFBundleIdentifier, not a binary name'),
(17, 'macos', 'com.tinyspeck.slackmacgap.helper', 'CFBundleIdentifier, not a binary name');

-- ---- 18. Spotify ---------------------------------------------------------------------------------
-- Vendor: Program "spotify.com", Domain empty: a domain in the wrong column, moved to
-- app_domains; no program rows.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(18, 'Spotify', 'pinned certificate',
 'Vendor table put spotify.com in the Program column (Domain empty): it is a domain, moved to app_domains; no programs.',
 'vendor');
INSERT INTO app_domains (app_id, domain, note) VALUES
(18, 'spotify.com', 'vendor wrote it in the Program column; moved to domains');

-- ---- 19. Webex -----------------------------------------------------------------------------------
-- Vendor: Program "atmrg.exe, wmlhost.exe, webexmta.exe, washost.exe" with no OS: Windows
-- executables -> 'windows' (noted). Domain webex.com.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(19, 'Webex', 'pinned certificate',
 'Vendor table gives 4 programs without an OS; stored as os windows (Windows .exe files). Domain webex.com.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(19, 'windows', 'atmrg.exe', 'vendor gave no OS; .exe -> windows'),
(19, 'windows', 'wmlhost.exe', 'vendor gave no OS; .exe -> windows'),
(19, 'windows', 'webexmta.exe', 'vendor gave no OS; .exe -> windows'),
(19, 'windows', 'washost.exe', 'vendor gave no OS; .exe -> windows');
INSERT INTO app_domains (app_id, domain, note) VALUES
(19, 'webex.com', NULL);

-- ---- 20. Zoom ------------------------------------------------------------------------------------
-- Vendor: Windows: zoom.exe; macOS: us.zoom.xos (bundle id of zoom.us.app); Domain zoom.us.
-- Unchanged.
INSERT INTO apps (id, name, reason, note, origin) VALUES
(20, 'Zoom', 'pinned certificate',
 'Vendor table: Windows zoom.exe, macOS us.zoom.xos (bundle id), domain zoom.us; carried over unchanged.',
 'vendor');
INSERT INTO app_programs (app_id, os, program, note) VALUES
(20, 'windows', 'zoom.exe', NULL),
(20, 'macos', 'us.zoom.xos', 'CFBundleIdentifier of zoom.us.app, not a binary name');
INSERT INTO app_domains (app_id, domain, note) VALUES
(20, 'zoom.us', NULL);
