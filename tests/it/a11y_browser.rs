//! Accessibility in a real browser (headless Chromium, the driver of `browser.rs`), on the
//! sample site.
//!
//! * An automated audit: axe-core (pinned in `tests/a11y/package.json`, installed with `npm ci`
//!   when missing) runs on the home page (also with the search popup open), a troubleshooting
//!   guide (with its forms open), an API reference page, the server's search results, a triage
//!   question, a fix after "No" and `/admin`, in light and dark mode, both as the system asks
//!   (`prefers-color-scheme`) and as the reader forces it with the theme toggle. Any serious or
//!   critical violation fails; moderate and minor ones are printed.
//! * Keyboard alone, no mouse: search (Tab from the top of the page through the skip link to
//!   the search box, "/", arrows, Enter) and a triage walk (Tab to an answer, Enter, focus on
//!   the next question, Back, the fix, Space on "No"), with a visible focus ring at every stop.
//! * Markup typed by readers: a search for `<script>…` and a feedback comment with `<script>`
//!   and `<img onerror>` stay text on the results page and on `/admin`; nothing of it runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Browser, Events, Key, UI_WAIT};
use crate::server::{get, post, production};
use crate::support::{Server, TestSite, repo_root, sample_site};

/// `npm ci` of the pinned axe-core, on a cold cache and a slow network.
const NPM_WAIT: Duration = Duration::from_secs(300);
/// At most this many Tab presses to reach an element (the sidebar has a few dozen links).
const MAX_TABS: usize = 80;

/// The admin token of the audited production server.
const TOKEN: &str = "a11y-admin-token-0001";
/// The tab session of the recorded events.
const SESSION: &str = "a11y-session-0001";
/// A search for markup, as a reader might type it to try the site. On the sample site it finds
/// pages (by the "1"); nobody opens them.
const ATTACK_QUERY: &str = "<script>alert(1)</script>";
/// A search for markup that finds nothing.
const EMPTY_ATTACK_QUERY: &str = "<script>alert('gap')</script>";
/// A "Did this help? No" comment with markup in it.
const ATTACK_COMMENT: &str = "Still broken <script>alert(2)</script> <img src=x onerror=alert(3)>";
/// The page that gets the comment.
const COMMENTED: &str = "/troubleshooting/echo-or-feedback.html";

/// What is opened on the page before the audit, so that axe sees it (hidden parts are skipped).
enum Opened {
    /// The page as loaded.
    Nothing,
    /// The header search's popup, with results for "echo" (typed).
    SearchPopup,
    /// "Did this help?" → No (its reasons and comment), and "Still stuck?".
    Forms,
    /// A fix's "No, still not working": the next fixes and the ticket form.
    NotFixed,
}

/// An audited page.
struct Audited {
    name: &'static str,
    path: &'static str,
    opened: Opened,
}

const PAGES: &[Audited] = &[
    Audited {
        name: "home page",
        path: "/index.html",
        opened: Opened::Nothing,
    },
    Audited {
        name: "home page, search popup open",
        path: "/index.html",
        opened: Opened::SearchPopup,
    },
    Audited {
        name: "troubleshooting guide, forms open",
        path: "/troubleshooting/video-frozen-or-laggy.html",
        opened: Opened::Forms,
    },
    Audited {
        name: "API reference page",
        path: "/api/rooms.html",
        opened: Opened::Nothing,
    },
    Audited {
        name: "search results",
        path: "/search?q=echo",
        opened: Opened::Nothing,
    },
    Audited {
        name: "triage question",
        path: "/triage/live-class/what.html",
        opened: Opened::Nothing,
    },
    Audited {
        name: "triage fix, \"No\" pressed",
        path: "/triage/live-class/what/no-sound-out.html",
        opened: Opened::NotFixed,
    },
    Audited {
        name: "admin page",
        path: "/admin",
        opened: Opened::Nothing,
    },
];

/// Opens what `opened` names on the page on screen, with the keyboard.
fn open_parts(browser: &mut Browser, opened: &Opened) {
    match opened {
        Opened::Nothing => {}
        Opened::SearchPopup => {
            browser.type_keys("/echo");
            browser.wait_until(
                "the search popup lists results for \"echo\"",
                "!document.querySelector('form.site-search .search-popup').hidden
                   && document.querySelectorAll('#site-search-listbox [role=option]').length > 1",
                UI_WAIT,
            );
            browser.press(Key::ARROW_DOWN);
        }
        Opened::Forms => {
            browser.wait_until(
                "\"Did this help?\" shows",
                "!document.querySelector('section.feedback').hidden",
                UI_WAIT,
            );
            browser.eval("document.querySelector('.feedback-no').focus()");
            browser.press(Key::ENTER);
            browser.wait_until(
                "\"No\" opens the reasons",
                "!document.getElementById('hb-feedback-form').hidden",
                UI_WAIT,
            );
            browser.eval("document.querySelector('details.stuck').open = true");
        }
        Opened::NotFixed => {
            browser.eval("document.querySelector('.triage-no').focus()");
            browser.press(Key::ENTER);
            browser.wait_until(
                "\"No, still not working\" opens #not-fixed",
                "!document.getElementById('not-fixed').hidden",
                UI_WAIT,
            );
        }
    }
}

/// A colour mode of the audit: the system's preference, and what the theme toggle forces.
struct Mode {
    name: &'static str,
    system: &'static str,
    /// The theme the toggle is pressed to (saved in localStorage), or `None` to follow the system.
    toggled: Option<&'static str>,
}

const MODES: &[Mode] = &[
    Mode {
        name: "light",
        system: "light",
        toggled: None,
    },
    Mode {
        name: "dark",
        system: "dark",
        toggled: None,
    },
    Mode {
        name: "dark from the toggle",
        system: "light",
        toggled: Some("dark"),
    },
    Mode {
        name: "light from the toggle",
        system: "dark",
        toggled: Some("light"),
    },
];

/// Runs axe on the page and returns its violations, reduced to what a failure message needs.
const AXE_RUN: &str = "(async () => {
  const results = await axe.run(document, { resultTypes: ['violations'] });
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({ target: n.target, html: n.html, summary: n.failureSummary })),
  }));
})()";

/// The focused element and its focus indicator, for the keyboard walks.
const FOCUS_STATE: &str = "(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return { name: 'BODY', ring: null };
  const describe = el => el.nodeName + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const opaque = color => !/^rgba\\(.*,\\s*0\\)$/.test(color) && color !== 'transparent';
  const ring = el => {
    const s = getComputedStyle(el);
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1 && opaque(s.outlineColor)) {
      return 'outline ' + s.outlineWidth + ' ' + s.outlineStyle + ' ' + s.outlineColor;
    }
    if (s.boxShadow && s.boxShadow !== 'none') return 'box-shadow ' + s.boxShadow;
    return null;
  };
  // A card draws its link's ring on itself (:focus-within), around the whole card.
  let drawn = ring(e);
  if (!drawn && e.parentElement && e.parentElement.matches('.card')) {
    const on = ring(e.parentElement);
    drawn = on && 'card ' + on;
  }
  const box = e.getBoundingClientRect();
  const x = Math.min(Math.max(box.left + box.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(box.top + Math.min(box.height / 2, 8), 0), innerHeight - 1);
  const top = document.elementFromPoint(x, y);
  return {
    name: describe(e),
    text: (e.textContent || e.value || '').trim().replace(/\\s+/g, ' ').slice(0, 60),
    ring: drawn,
    focusVisible: e.matches(':focus-visible'),
    inView: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
    covered: !!top && !e.contains(top) && !top.contains(e) ? describe(top) : null,
  };
})()";

/// axe-core's script, installed from `tests/a11y/package-lock.json` with `npm ci` when it is
/// missing or not the pinned version.
fn axe_source() -> String {
    // Tests run in parallel; one of them installs.
    static INSTALL: Mutex<()> = Mutex::new(());
    let _installing = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo_root().join("tests/a11y");
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.is_file() || installed_version(&dir) != Some(pinned_version(&dir)) {
        npm_ci();
    }
    std::fs::read_to_string(&script)
        .unwrap_or_else(|e| panic!("{} after `npm ci`: {e}", script.display()))
}

/// The axe-core version `tests/a11y/package.json` pins.
fn pinned_version(dir: &Path) -> String {
    let manifest = read_json(&dir.join("package.json")).expect("tests/a11y/package.json");
    manifest["dependencies"]["axe-core"]
        .as_str()
        .expect("tests/a11y/package.json pins axe-core")
        .to_owned()
}

/// The version in `node_modules`, if any.
fn installed_version(dir: &Path) -> Option<String> {
    let manifest = read_json(&dir.join("node_modules/axe-core/package.json"))?;
    manifest["version"].as_str().map(str::to_owned)
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// `npm ci --prefix tests/a11y --no-audit --no-fund`, bounded by [`NPM_WAIT`].
fn npm_ci() {
    let args = ["ci", "--prefix", "tests/a11y", "--no-audit", "--no-fund"];
    let log = tempfile::NamedTempFile::new().expect("temp file for npm's output");
    let mut child = match Command::new("npm")
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("npm log"))
        .stderr(log.reopen().expect("npm log"))
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "npm is missing: the accessibility audit needs axe-core from npm \
             (tests/a11y/package.json). Install Node.js and npm (`apt-get install npm`; CI does), \
             or run `npm {}` yourself.",
            args.join(" ")
        ),
        Err(e) => panic!("cannot run npm: {e}"),
    };
    let deadline = Instant::now() + NPM_WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for npm") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`npm {}` did not finish within {NPM_WAIT:?}; its output:\n{}",
                args.join(" "),
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        status.success(),
        "`npm {}` failed ({status}): the accessibility audit needs axe-core from npm. Its output:\n{}",
        args.join(" "),
        std::fs::read_to_string(log.path()).unwrap_or_default()
    );
}

/// `helpbook serve --production` on the sample site, with an admin token and events recorded so
/// that every list of `/admin` has rows: searches ([`ATTACK_QUERY`], and [`EMPTY_ATTACK_QUERY`]
/// that finds nothing), views, a "No" with [`ATTACK_COMMENT`], a triage walk and a ticket.
struct AdminSite {
    // Fields drop in order: the server before the folder it serves.
    server: Server,
    events: Events,
    base: String,
    /// Kept for the server's lifetime: the folder it serves.
    _site: TestSite,
}

impl AdminSite {
    fn start() -> AdminSite {
        let site = sample_site();
        site.build_ok();
        let events = Events::new(site.root().join("events.sqlite"));
        let server = production(
            &site,
            &events.path,
            &[
                ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
                ("HELPBOOK_SERVER__ADMIN_TOKEN", TOKEN),
            ],
        );
        let base = format!("http://{}", server.addr);
        let admin = AdminSite {
            server,
            events,
            base,
            _site: site,
        };
        admin.record();
        admin
    }

    fn record(&self) {
        let searches = [
            ("a11y-search-0001", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            (
                "a11y-search-0002",
                "%3Cscript%3Ealert(%27gap%27)%3C%2Fscript%3E",
            ),
            ("a11y-search-0003", "echo"),
        ];
        for (id, q) in searches {
            let reply = get(
                &self.server,
                &format!("/api/search?q={q}&session={SESSION}&search_id={id}"),
            );
            assert_eq!(reply.status, 200, "search {q}: {}", reply.text());
        }
        let events = json!([
            { "type": "view", "session": SESSION, "url": COMMENTED },
            { "type": "view", "session": SESSION, "url": "/troubleshooting/video-frozen-or-laggy.html" },
            { "type": "feedback", "session": SESSION, "url": COMMENTED, "helpful": false,
              "reason": "didnt_fix", "comment": ATTACK_COMMENT },
            { "type": "triage", "session": SESSION, "tree": "live-class", "step": "who" },
            { "type": "triage", "session": SESSION, "tree": "live-class", "step": "what",
              "path": "who/only-me" },
            { "type": "triage", "session": SESSION, "tree": "live-class",
              "step": "what/no-sound-out", "path": "who/only-me,what/no-sound-out" },
            { "type": "triage", "session": SESSION, "tree": "live-class",
              "step": "what/no-sound-out", "path": "who/only-me,what/no-sound-out",
              "outcome": "not_resolved" },
        ]);
        let reply = post(&self.server, "/api/events", &events.to_string());
        assert_eq!(reply.status, 200, "events: {}", reply.text());
        let ticket = json!({
            "session": SESSION,
            "contact": "ann@school.example",
            "description": "The class hears an echo. <script>alert(4)</script>",
            "url": "/troubleshooting/students-cant-hear-me.html",
        });
        let reply = post(&self.server, "/api/tickets", &ticket.to_string());
        assert_eq!(reply.status, 201, "ticket: {}", reply.text());

        // Searches are written in the background.
        let searches = self.events.wait_for(
            "the searches are stored",
            async |s| s.searches(SESSION).await.expect("searches"),
            |rows| rows.len() >= 3,
        );
        let empty = searches.iter().find(|row| row.1 == EMPTY_ATTACK_QUERY);
        assert!(
            empty.is_some_and(|row| row.3 == 0),
            "the search for {EMPTY_ATTACK_QUERY:?} is stored and found nothing: {searches:?}"
        );
        self.events.wait_for(
            "the feedback is stored",
            async |s| s.count(SESSION, "feedback").await.expect("count"),
            |n| *n >= 1,
        );
    }

    /// Makes the browser send the token as a browser does: the password of HTTP Basic.
    fn sign_in(&self, browser: &mut Browser) {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("support:{TOKEN}"));
        browser.call("Network.enable", json!({}));
        browser.call(
            "Network.setExtraHTTPHeaders",
            json!({ "headers": { "Authorization": format!("Basic {basic}") } }),
        );
    }
}

/// Opens `url` and waits until the page has settled: loaded, and helpbook.js done (the admin
/// page has no script).
fn open_settled(browser: &mut Browser, url: &str) {
    browser.open(url);
    if url.starts_with("http") {
        let status = browser
            .eval("performance.getEntriesByType('navigation').map(n => n.responseStatus)[0] || 0");
        assert_eq!(status, json!(200), "{url} must load (status {status})");
    }
    if !url.contains("/admin") {
        wait_for_script(browser, url);
    }
}

fn wait_for_script(browser: &mut Browser, url: &str) {
    browser.wait_until(
        &format!("{url}: helpbook.js has run"),
        "document.documentElement.classList.contains('js') && document.readyState === 'complete'",
        UI_WAIT,
    );
}

/// Puts the page on screen in `mode`'s theme. The toggle's choice lives in the origin's
/// localStorage (`helpbook-theme`): it is cleared to follow the system, or set by pressing the
/// toggle with the keyboard, as a reader does, over the system's theme.
fn apply_theme(browser: &mut Browser, mode: &Mode, url: &str) {
    let saved = browser.eval("localStorage.getItem('helpbook-theme')");
    if saved == json!(mode.toggled) {
        return;
    }
    if !saved.is_null() {
        browser.eval("localStorage.removeItem('helpbook-theme')");
        browser.mark_page();
        browser.call("Page.reload", json!({}));
        browser.wait_for_new_page(&format!("{url} reloads without a saved theme"));
        wait_for_script(browser, url);
    }
    let Some(theme) = mode.toggled else {
        return;
    };
    browser.eval("document.querySelector('.theme-toggle').focus()");
    browser.press(Key::ENTER);
    let saved = browser.wait_until(
        &format!("{}: the theme toggle saves its choice", mode.name),
        "localStorage.getItem('helpbook-theme')",
        UI_WAIT,
    );
    assert_eq!(
        saved,
        json!(theme),
        "{}: pressing the toggle over the system's {} theme must save {theme:?}",
        mode.name,
        mode.system
    );
}

/// Whether the page is drawn dark: the luminance of the body's background.
const PAGE_IS_DARK: &str = "(() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.5;
})()";

/// A violation's nodes: each one's CSS target, HTML and what axe says to fix.
fn describe_nodes(violation: &Value) -> String {
    violation["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    let summary = n["summary"].as_str().unwrap_or_default().replace('\n', " ");
                    format!("      {} {}\n        {summary}", n["target"], n["html"])
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// axe-core on every audited page in every colour mode: no serious or critical violation.
#[test]
fn axe_finds_no_serious_violations_in_light_and_dark_mode() {
    let started = Instant::now();
    let axe = axe_source();
    let mut browser = Browser::launch();
    let admin = AdminSite::start();
    admin.sign_in(&mut browser);
    let base = admin.base.clone();

    let mut serious = Vec::new();
    let mut other = Vec::new();
    let mut audits = 0;
    for mode in MODES {
        browser.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": mode.system }] }),
        );
        for page in PAGES {
            let (name, path) = (page.name, page.path);
            // The admin page is not part of the site: it follows the system only.
            if mode.toggled.is_some() && path.starts_with("/admin") {
                continue;
            }
            let url = format!("{base}{path}");
            open_settled(&mut browser, &url);
            if !path.starts_with("/admin") {
                apply_theme(&mut browser, mode, &url);
            }
            let dark = browser.eval(PAGE_IS_DARK);
            let want_dark = mode.toggled.unwrap_or(mode.system) == "dark";
            assert_eq!(
                dark,
                json!(want_dark),
                "{} mode: the {name} ({path}) must be drawn {}",
                mode.name,
                if want_dark { "dark" } else { "light" }
            );
            open_parts(&mut browser, &page.opened);
            browser.eval(&format!("{axe}\n;typeof axe"));
            // Bounded by the browser driver's wait for an answer.
            let violations = browser.eval(AXE_RUN);
            audits += 1;
            for v in violations.as_array().expect("violations") {
                let line = format!(
                    "  [{}] {} on the {name} ({path}), {} mode: {}\n    {}\n{}",
                    v["impact"].as_str().unwrap_or("?"),
                    v["id"].as_str().unwrap_or("?"),
                    mode.name,
                    v["help"].as_str().unwrap_or_default(),
                    v["helpUrl"].as_str().unwrap_or_default(),
                    describe_nodes(v)
                );
                if matches!(v["impact"].as_str(), Some("serious" | "critical")) {
                    serious.push(line);
                } else {
                    other.push(line);
                }
            }
        }
    }
    eprintln!(
        "axe: {audits} audits in {:?}; {} serious or critical, {} moderate or minor violation(s)",
        started.elapsed(),
        serious.len(),
        other.len()
    );
    if !other.is_empty() {
        eprintln!("moderate and minor (not failing):\n{}", other.join("\n"));
    }
    assert!(
        serious.is_empty(),
        "axe found {} serious or critical violation(s):\n{}",
        serious.len(),
        serious.join("\n")
    );
}

/// The focus ring now, asserted: what has focus must show it, in view and not covered.
fn assert_focus_visible(browser: &mut Browser, what: &str) -> Value {
    let state = browser.eval(FOCUS_STATE);
    assert!(
        state["ring"].is_string() && state["inView"] == json!(true) && state["covered"].is_null(),
        "{what}: the focused element must show a focus ring (outline or box-shadow), in view \
         and not covered by anything: {state:#}"
    );
    state
}

/// Presses Tab until `target` (a JavaScript condition on `e`, the focused element) holds,
/// checking the focus ring at every stop; panics after [`MAX_TABS`] with the way focus went.
fn tab_to(browser: &mut Browser, what: &str, target: &str) -> Value {
    let mut walked = Vec::new();
    for _ in 0..MAX_TABS {
        browser.press(Key::TAB);
        let state =
            assert_focus_visible(browser, &format!("{what}, Tab stop {}", walked.len() + 1));
        walked.push(format!("{} {:?}", state["name"], state["text"]));
        let reached = browser.eval(&format!(
            "(() => {{ const e = document.activeElement; return !!e && ({target}); }})()"
        ));
        if reached == json!(true) {
            return state;
        }
    }
    panic!(
        "{what}: {MAX_TABS} Tab presses never reached `{target}`; focus went through:\n  {}",
        walked.join("\n  ")
    );
}

/// Search by keyboard: Tab from the top reaches the skip link first, the skip link leads into
/// the page, Tab reaches the search box, and the arrows and Enter open a result; "/" focuses the
/// box on the next page. The focus ring shows at every stop.
#[test]
fn search_by_keyboard_alone_with_visible_focus() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    // 1. The first Tab on a page focuses the skip link, shown on screen.
    open_settled(&mut browser, &format!("{base}/index.html"));
    browser.press(Key::TAB);
    let skip = assert_focus_visible(&mut browser, "step 1: the first Tab");
    assert_eq!(
        browser.eval("document.activeElement.classList.contains('skip-link')"),
        json!(true),
        "step 1: the first Tab must focus the skip link: {skip:#}"
    );

    // 2. Enter on it moves focus to <main>; the next Tab is inside it.
    browser.press(Key::ENTER);
    browser.wait_until(
        "step 2: Enter on the skip link moves focus to <main id=content>",
        "document.activeElement === document.getElementById('content')",
        UI_WAIT,
    );
    browser.press(Key::TAB);
    let inside = assert_focus_visible(&mut browser, "step 2: Tab after the skip link");
    assert_eq!(
        browser.eval("document.getElementById('content').contains(document.activeElement)"),
        json!(true),
        "step 2: after the skip link, Tab goes to the page's content, not the header: {inside:#}"
    );

    // 3. From the top again: Tab through the header reaches the search box.
    open_settled(&mut browser, &format!("{base}/index.html"));
    tab_to(
        &mut browser,
        "step 3: Tab from the top to the search box",
        "e.id === 'site-search'",
    );

    // 4. Typing opens the results; ArrowDown walks them, each marked while the box keeps focus.
    browser.type_keys("echo");
    browser.wait_until(
        "step 4: typing \"echo\" lists results in the popup",
        "document.querySelectorAll('#site-search-listbox [role=option]:not(.search-option-all)').length >= 2",
        UI_WAIT,
    );
    let mut chosen = String::new();
    for n in 1..=2 {
        browser.press(Key::ARROW_DOWN);
        let option = browser.wait_until(
            &format!("step 4: ArrowDown {n} makes option {n} active"),
            &format!(
                "(() => {{
  const input = document.getElementById('site-search');
  const options = Array.from(document.querySelectorAll('#site-search-listbox [role=option]'));
  const active = document.getElementById(input.getAttribute('aria-activedescendant'));
  if (active !== options[{index}]) return null;
  const s = getComputedStyle(active);
  return {{
    href: active.href,
    selected: options.filter(o => o.getAttribute('aria-selected') === 'true').map(o => o.id),
    id: active.id,
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1,
    focused: document.activeElement === input,
  }};
}})()",
                index = n - 1
            ),
            UI_WAIT,
        );
        assert_eq!(
            (&option["selected"], &option["outline"], &option["focused"]),
            (&json!([option["id"]]), &json!(true), &json!(true)),
            "step 4: after ArrowDown {n}, only the active option is selected and outlined, and \
             the box keeps focus: {option:#}"
        );
        assert_focus_visible(&mut browser, &format!("step 4: after ArrowDown {n}"));
        chosen = option["href"].as_str().expect("href").to_owned();
    }

    // 5. Enter opens the active result.
    browser.mark_page();
    browser.press(Key::ENTER);
    browser.wait_for_new_page("step 5: Enter opens the active result");
    assert_eq!(
        browser.eval("location.href"),
        json!(chosen),
        "step 5: Enter must open the second result"
    );

    // 6. "/" focuses the search box of the new page, with its ring.
    browser.wait_until(
        "step 6: helpbook.js has run on the result",
        "document.documentElement.classList.contains('js')",
        UI_WAIT,
    );
    browser.type_keys("/");
    browser.wait_until(
        "step 6: \"/\" focuses the search box",
        "document.activeElement === document.getElementById('site-search')",
        UI_WAIT,
    );
    assert_focus_visible(&mut browser, "step 6: the search box after \"/\"");
}

/// The step on screen and what has focus, once `path` shows with the heading `h1`.
fn wait_for_step(browser: &mut Browser, what: &str, path: &str, h1: &str) -> Value {
    browser.wait_until(
        what,
        &format!(
            "(() => {{
  const h1 = document.querySelector('main h1');
  return location.pathname === {path} && document.readyState === 'complete'
    && !document.getElementById('content').hasAttribute('aria-busy')
    && !!h1 && h1.textContent.trim() === {h1}
    && {{ focusedH1: document.activeElement === h1, focusVisible: h1.matches(':focus-visible') }};
}})()",
            path = json!(path),
            h1 = json!(h1),
        ),
        UI_WAIT,
    )
}

/// A triage walk by keyboard: Tab to an answer, Enter; focus lands on the next question, with
/// its ring; Back by keyboard; the fix; Space on "No" opens "Still not working?".
#[test]
fn triage_by_keyboard_alone_with_visible_focus() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);
    let start = "/triage/live-class/index.html";
    let what = "/triage/live-class/what.html";
    let fix = "/triage/live-class/what/no-sound-out.html";
    let option = |step: &str| format!("e.matches('a.triage-option[data-step=\"{step}\"]')");

    // 1. Tab from the top to the answer "Only me"; Enter chooses it.
    open_settled(&mut browser, &format!("{base}{start}"));
    browser.wait_until(
        "step 1: helpbook.js takes over the tree",
        "!!history.state && history.state.helpbook === 'triage'",
        UI_WAIT,
    );
    tab_to(
        &mut browser,
        "step 1: Tab to the answer \"Only me\"",
        &option("who/only-me"),
    );
    browser.press(Key::ENTER);

    // 2. The next question opens; focus is on its heading, with a ring (a keyboard user needs
    //    to see where they are).
    let step = wait_for_step(
        &mut browser,
        "step 2: Enter on \"Only me\" shows \"What is wrong?\"",
        what,
        "What is wrong?",
    );
    assert_eq!(
        step,
        json!({ "focusedH1": true, "focusVisible": true }),
        "step 2: focus must move to the new question's heading, visibly"
    );
    assert_focus_visible(&mut browser, "step 2: the new question's heading");

    // 3. Back, by keyboard: Tab to "Back", Enter; the first question, focused.
    tab_to(
        &mut browser,
        "step 3: Tab to \"Back\"",
        "e.matches('a.triage-back')",
    );
    browser.press(Key::ENTER);
    let step = wait_for_step(
        &mut browser,
        "step 3: Enter on \"Back\" shows the first question",
        start,
        "Who has the problem?",
    );
    assert_eq!(
        step,
        json!({ "focusedH1": true, "focusVisible": true }),
        "step 3: back at the first question, focus is on its heading, visibly"
    );

    // 4. Forward again by keyboard, then to the fix.
    tab_to(
        &mut browser,
        "step 4: Tab to \"Only me\" again",
        &option("who/only-me"),
    );
    browser.press(Key::ENTER);
    wait_for_step(
        &mut browser,
        "step 4: \"What is wrong?\" again",
        what,
        "What is wrong?",
    );
    tab_to(
        &mut browser,
        "step 4: Tab to \"Students can't hear me\"",
        &option("what/no-sound-out"),
    );
    browser.press(Key::ENTER);
    let step = wait_for_step(
        &mut browser,
        "step 4: Enter shows the fix",
        fix,
        "Students can't hear me",
    );
    assert_eq!(
        step,
        json!({ "focusedH1": true, "focusVisible": true }),
        "step 4: focus is on the fix's heading, visibly"
    );

    // 5. Tab to "No, still not working"; Space presses it; "Still not working?" opens with focus.
    tab_to(
        &mut browser,
        "step 5: Tab to \"No\"",
        "e.matches('form.triage-outcome-form button[value=not_resolved]')",
    );
    browser.press(Key::SPACE);
    browser.wait_until(
        "step 5: Space on \"No\" shows #not-fixed and moves focus into it",
        "(() => {
           const notFixed = document.getElementById('not-fixed');
           return !notFixed.hidden && notFixed.contains(document.activeElement);
         })()",
        UI_WAIT,
    );
    assert_focus_visible(&mut browser, "step 5: focus in \"Still not working?\"");
    tab_to(
        &mut browser,
        "step 5: Tab to the next fix",
        "e.matches('.triage-next-fixes a.triage-option')",
    );
}

/// A search for markup and a feedback comment with markup, on the results page and on `/admin`:
/// shown as text, no element made of them, nothing run. The page's Content-Security-Policy is
/// bypassed, so escaping alone must keep the script from running.
#[test]
fn reader_markup_stays_text_on_results_and_admin_pages() {
    let mut browser = Browser::launch();
    let admin = AdminSite::start();
    admin.sign_in(&mut browser);
    browser.call("Page.setBypassCSP", json!({ "enabled": true }));
    let base = admin.base.clone();
    // Anything an injection could make: a script with the attack's text, an <img src=x>, an
    // inline handler.
    let injected = "(() => ({
      scripts: Array.from(document.querySelectorAll('script')).filter(s => /alert/.test(s.textContent)).length,
      images: document.querySelectorAll('img[src=x]').length,
      handlers: document.querySelectorAll('[onerror], [onload]').length,
      xss: window.__xss,
    }))()";
    let clean = json!({ "scripts": 0, "images": 0, "handlers": 0, "xss": [] });

    // 1. The results page for the query.
    browser.open(&format!(
        "{base}/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    ));
    browser.wait_until(
        "step 1: helpbook.js has run on the results page",
        "document.documentElement.classList.contains('js') && document.readyState === 'complete'",
        UI_WAIT,
    );
    assert_eq!(
        browser.eval(injected),
        clean,
        "step 1: the query must not become markup or run on /search"
    );
    let shown = browser.eval(
        "[document.getElementById('search-query').value,
          (document.querySelector('#search-results .search-summary strong') || {}).textContent]",
    );
    assert_eq!(
        shown,
        json!([ATTACK_QUERY, ATTACK_QUERY]),
        "step 1: the query box and the summary show the query as literal text"
    );

    // 2. The admin page lists the query and the comment, as text.
    browser.open(&format!("{base}/admin"));
    assert_eq!(
        browser.eval("document.querySelector('h1') && document.querySelector('h1').textContent"),
        json!("Content gaps"),
        "step 2: the admin page opens with the token as the Basic password"
    );
    assert_eq!(
        browser.eval(injected),
        clean,
        "step 2: the query and the comment must not become markup or run on /admin"
    );
    let texts = browser.eval(&format!(
        "(() => {{
  const cells = Array.from(document.querySelectorAll('section[aria-labelledby=queries] tbody th'));
  const comments = Array.from(document.querySelectorAll('section[aria-labelledby=pages] td li'));
  const shown = query => cells.some(c => c.firstChild && c.firstChild.textContent === query);
  return {{
    query: shown({query}),
    empty: shown({empty}),
    comment: comments.some(li => li.textContent === {comment}),
    ticket: document.body.textContent.includes('<script>alert(4)</script>'),
  }};
}})()",
        query = json!(ATTACK_QUERY),
        empty = json!(EMPTY_ATTACK_QUERY),
        comment = json!(ATTACK_COMMENT)
    ));
    assert_eq!(
        texts,
        json!({ "query": true, "empty": true, "comment": true, "ticket": true }),
        "step 2: /admin shows the queries, the comment and the ticket's text literally"
    );
}
