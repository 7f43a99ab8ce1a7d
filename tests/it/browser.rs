//! The search UI in a real browser: headless Chromium, driven over the DevTools protocol
//! (one websocket, `tungstenite`), against `helpbook serve` on the sample site.
//!
//! Keys are real input events (`Input.dispatchKeyEvent`, `Input.insertText`), so the test sees
//! what a reader sees: the "/" shortcut, the debounced combobox popup, arrow keys, Enter,
//! Escape, and the server-rendered results page with and without JavaScript.
//!
//! Chromium is required: CI installs it (`apt-get install chromium`). Without it the test fails
//! rather than skipping, so a missing browser never passes for a working search UI.
//!
//! Against `helpbook serve --production`, the same browser checks what the reader's side records:
//! views, one search per typing session, clicks, "Did this help?" and "Still stuck?" tickets,
//! read back from the event store the server writes.

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use helpbook::analytics::{EventStore, StoredTicket};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::server::production;
use crate::support::{Server, TestSite, runtime, sample_site};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's start, up to its "DevTools listening" line (a cold start on a loaded machine).
const LAUNCH_WAIT: Duration = Duration::from_secs(60);
/// A page load.
const LOAD_WAIT: Duration = Duration::from_secs(30);
/// Anything the search UI does in response to a key (debounce, fetch, render).
pub(crate) const UI_WAIT: Duration = Duration::from_secs(10);
/// The answer to one DevTools command.
const CALL_WAIT: Duration = Duration::from_secs(30);
/// Between two looks at the page while polling.
const POLL: Duration = Duration::from_millis(40);
/// The server's writer to commit what the page sent (it writes in batches, in the background).
const STORE_WAIT: Duration = Duration::from_secs(10);

/// Installed before every document's own scripts: records any call a successful injection of
/// `<script>alert(1)</script>` (or a variant) would make, instead of opening a dialog.
const XSS_TRAP: &str = "window.__xss = [];
['alert', 'confirm', 'prompt'].forEach(function (name) {
  window[name] = function () { window.__xss.push(name + '(' + Array.from(arguments).join(',') + ')'); };
});";

/// The state of the header search box, for failure messages.
const SEARCH_BOX_STATE: &str = "(() => {
  const input = document.getElementById('site-search');
  const popup = document.querySelector('form.site-search .search-popup');
  const options = Array.from(document.querySelectorAll('#site-search-listbox [role=option]'));
  return {
    location: location.href,
    readyState: document.readyState,
    focused: document.activeElement && (document.activeElement.id || document.activeElement.nodeName),
    value: input && input.value,
    ariaExpanded: input && input.getAttribute('aria-expanded'),
    activeDescendant: input && input.getAttribute('aria-activedescendant'),
    popupHidden: popup ? popup.hidden : 'no popup',
    note: popup ? popup.querySelector('.search-popup-note').textContent : null,
    options: options.map(o => [o.id, o.getAttribute('aria-selected'), o.href]),
  };
})()";

/// The results shown in the popup for `query`, once it shows them: `null` while the popup is
/// closed, still loading, or showing the answer to an earlier (shorter) query. The popup's last
/// option, "See all results", carries the query it answers in its link.
fn popup_results_js(query: &str) -> String {
    format!(
        "(() => {{
  const input = document.getElementById('site-search');
  const list = document.getElementById('site-search-listbox');
  const all = list && list.querySelector('.search-option-all');
  if (!all || list.closest('.search-popup').hidden) return null;
  if (new URL(all.href).searchParams.get('q') !== {query}) return null;
  const options = Array.from(list.querySelectorAll('[role=option]:not(.search-option-all)'));
  return {{
    expanded: input.getAttribute('aria-expanded'),
    role: input.getAttribute('role'),
    controls: input.getAttribute('aria-controls'),
    options: options.map(o => {{
      const url = new URL(o.href);
      return {{ id: o.id, href: o.href, path: url.pathname, selected: o.getAttribute('aria-selected') }};
    }}),
  }};
}})()",
        query = json!(query)
    )
}

/// The header search box, from "/" to Enter, the Chinese query and Escape; then the full results
/// page: an injected query stays text, and without JavaScript the server's results are there.
#[test]
fn search_ui_works_in_a_real_browser() {
    // The browser first: without Chromium the test fails at once, with how to install it.
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    // 1. On a guide page, the "/" key focuses the header search box (and is not typed into it).
    browser.open(&format!("{base}/troubleshooting/echo-or-feedback.html"));
    browser.wait_until(
        "helpbook.js has made the header box a combobox",
        "document.getElementById('site-search').getAttribute('role') === 'combobox'",
        UI_WAIT,
    );
    assert_ne!(
        browser.eval("document.activeElement.id"),
        json!("site-search"),
        "step 1: the search box must not have focus before '/' is pressed"
    );
    browser.type_keys("/");
    browser.wait_until(
        "step 1: pressing '/' on a guide page focuses the header search box #site-search",
        "document.activeElement === document.getElementById('site-search')",
        UI_WAIT,
    );
    assert_eq!(
        browser.eval("document.getElementById('site-search').value"),
        json!(""),
        "step 1: the '/' that focused the box must not be typed into it"
    );

    // 2. Typing opens the popup with results; the first is the "Students can't hear me" page.
    let query = "students cant hear";
    browser.type_keys(query);
    let shown = browser.wait_until(
        &format!("step 2: typing {query:?} lists results for it in the popup"),
        &popup_results_js(query),
        UI_WAIT,
    );
    let first = &shown["options"][0];
    assert_eq!(
        first["path"],
        json!("/troubleshooting/students-cant-hear-me.html"),
        "step 2: the first result for {query:?} must link to the students-can't-hear-me page; popup: {shown:#}"
    );
    assert_eq!(
        shown["expanded"],
        json!("true"),
        "step 2: the combobox must say aria-expanded=\"true\" while the popup lists results; popup: {shown:#}"
    );
    assert_eq!(
        (&shown["role"], &shown["controls"]),
        (&json!("combobox"), &json!("site-search-listbox")),
        "step 2: the input must be a combobox controlling the listbox; popup: {shown:#}"
    );

    // 3. ArrowDown makes the first option active; Enter goes to it.
    let first_id = first["id"].as_str().expect("option id").to_owned();
    let first_href = first["href"].as_str().expect("option href").to_owned();
    browser.press(Key::ARROW_DOWN);
    browser.wait_until(
        &format!("step 3: ArrowDown sets aria-activedescendant to the first option #{first_id}"),
        &format!(
            "document.getElementById('site-search').getAttribute('aria-activedescendant') === {}",
            json!(first_id)
        ),
        UI_WAIT,
    );
    assert_eq!(
        browser.eval(&format!(
            "document.getElementById({}).getAttribute('aria-selected')",
            json!(first_id)
        )),
        json!("true"),
        "step 3: the active option must be marked aria-selected=\"true\""
    );
    let selected = browser
        .eval("document.querySelectorAll('#site-search-listbox [aria-selected=true]').length");
    assert_eq!(
        selected,
        json!(1),
        "step 3: exactly one option may be aria-selected"
    );
    browser.mark_page();
    browser.press(Key::ENTER);
    browser.wait_for_new_page("step 3: Enter on the active option navigates to it");
    assert_eq!(
        browser.eval("location.href"),
        json!(first_href),
        "step 3: Enter must navigate to the active option's URL"
    );
    assert_eq!(
        browser.eval("location.pathname"),
        json!("/troubleshooting/students-cant-hear-me.html"),
        "step 3: Enter must land on the students-can't-hear-me page"
    );

    // 4. A Chinese query, inserted as text the way an IME commits it, finds the Chinese page.
    browser.type_keys("/");
    browser.wait_until(
        "step 4: '/' focuses the search box on the page Enter led to",
        "document.activeElement === document.getElementById('site-search')",
        UI_WAIT,
    );
    let chinese = "视频很卡";
    browser.insert_text(chinese);
    let shown = browser.wait_until(
        &format!("step 4: inserting {chinese:?} lists results for it in the popup"),
        &popup_results_js(chinese),
        UI_WAIT,
    );
    let paths: Vec<&Value> = shown["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| &o["path"])
        .collect();
    assert!(
        paths.contains(&&json!("/zh/video-frozen-or-laggy.html")),
        "step 4: the popup for {chinese:?} must list zh/video-frozen-or-laggy.html; it lists {paths:?}"
    );
    assert_eq!(
        shown["expanded"],
        json!("true"),
        "step 4: aria-expanded=\"true\" while the popup lists results"
    );

    // 5. Escape closes the popup and keeps the query.
    browser.press(Key::ESCAPE);
    browser.wait_until(
        "step 5: Escape closes the popup (aria-expanded=\"false\", popup hidden)",
        "(() => {
           const input = document.getElementById('site-search');
           return input.getAttribute('aria-expanded') === 'false'
             && document.querySelector('form.site-search .search-popup').hidden;
         })()",
        UI_WAIT,
    );
    assert_eq!(
        browser.eval("document.getElementById('site-search').value"),
        json!(chinese),
        "step 5: the first Escape only closes the popup; the query stays in the box"
    );

    // 6. A query that is markup is shown as text on the results page; nothing of it runs.
    let attack = "<script>alert(1)</script>";
    browser.open(&format!(
        "{base}/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    ));
    assert_eq!(
        browser.eval("window.__xss"),
        json!([]),
        "step 6: the query on /search must not run as script (calls caught by the trap)"
    );
    assert_eq!(
        browser.eval(
            "Array.from(document.querySelectorAll('script'))
               .filter(s => s.textContent.includes('alert(1)')).length"
        ),
        json!(0),
        "step 6: the query must not become a <script> element in the results page"
    );
    assert_eq!(
        browser.eval("document.querySelector('#search-query').value"),
        json!(attack),
        "step 6: the query box #search-query must hold the query as literal text"
    );
    assert_eq!(
        browser.eval(
            "(document.querySelector('#search-results .search-summary strong') || {}).textContent"
        ),
        json!(attack),
        "step 6: the results summary must show the query as literal text"
    );

    // 7. Without JavaScript, /search?q=echo shows the server-rendered results.
    browser.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    browser.open(&format!("{base}/search?q=echo"));
    assert_eq!(
        browser.eval("document.documentElement.classList.contains('js')"),
        json!(false),
        "step 7: JavaScript must be off for the no-JS check (helpbook.js marks <html class=\"js\">)"
    );
    let results = browser.eval(
        "Array.from(document.querySelectorAll('#search-results li.search-result a.search-result-link'))
           .map(a => new URL(a.href).pathname)",
    );
    let results = results.as_array().expect("result paths");
    assert!(
        results.contains(&json!("/troubleshooting/echo-or-feedback.html")),
        "step 7: without JavaScript, /search?q=echo must list the echo page in #search-results; \
         it lists {results:?}"
    );
}

/// A tab on `serve --production`: the page view, the typed search (one row, the final query),
/// the result opened with the keyboard, "Did this help?" → No, and a "Still stuck?" ticket that
/// carries the search and the urgent page's priority. Then a click on the results page, and a
/// ticket filed with JavaScript off.
#[test]
fn production_events_and_tickets_from_a_real_browser() {
    let mut browser = Browser::launch();
    let site = TestSite::new()
        .page(
            "audio.md",
            "---\ntitle: Students can't hear me\nkind: troubleshooting\nseverity: urgent\n---\n\n\
             Unmute the microphone in the class toolbar.\n",
        )
        .page("video.md", "# Video is frozen\n\nClose other apps.\n");
    site.build_ok();
    let events = Events::new(site.root().join("events.sqlite"));
    let server = production(&site, &events.path, &[("HELPBOOK_SERVER__RATE_LIMIT", "0")]);
    let base = format!("http://{}", server.addr);

    // 1. A page load is one view, under the tab's random session id.
    browser.open(&format!("{base}/video.html"));
    let session = browser.wait_until(
        "step 1: helpbook.js keeps the tab's session id in sessionStorage['helpbook-session']",
        "sessionStorage.getItem('helpbook-session')",
        UI_WAIT,
    );
    let session = session.as_str().expect("session id").to_owned();
    assert!(
        (8..=64).contains(&session.len())
            && session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "step 1: the session id must be 8-64 of [A-Za-z0-9_-], not {session:?}"
    );
    let views = events.wait_for(
        "step 1: the page load is stored as a view",
        async |s| s.count(&session, "view").await.expect("count views"),
        |n| *n >= 1,
    );
    assert_eq!(views, 1, "step 1: one page load is one view");

    // 2. Typed key by key, the search is one row with the final query. The popup answers the
    //    first word before the rest is typed, so the server sees two requests of one search.
    browser.type_keys("/");
    browser.wait_until(
        "step 2: '/' focuses the header search box",
        "document.activeElement === document.getElementById('site-search')",
        UI_WAIT,
    );
    let query = "students cant hear";
    let (first_word, rest) = query.split_at(query.find(' ').expect("two words"));
    browser.type_keys(first_word);
    browser.wait_until(
        &format!("step 2: typing {first_word:?} lists results for it in the popup"),
        &popup_results_js(first_word),
        UI_WAIT,
    );
    browser.type_keys(rest);
    let shown = browser.wait_until(
        &format!("step 2: typing {query:?} lists results for it in the popup"),
        &popup_results_js(query),
        UI_WAIT,
    );
    assert_eq!(
        shown["options"][0]["path"],
        json!("/audio.html"),
        "step 2: the first result must be the audio page; popup: {shown:#}"
    );
    let searches = events.wait_for(
        &format!("step 2: the search for {query:?} is stored"),
        async |s| s.searches(&session).await.expect("searches"),
        |rows| rows.iter().any(|row| row.1 == query),
    );
    assert_eq!(
        searches.len(),
        1,
        "step 2: the keystrokes of one typing session must be one search row: {searches:?}"
    );
    let search_id = searches[0].0.clone();

    // 3. The first result, opened with the keyboard, is a click of that search with rank 1.
    browser.press(Key::ARROW_DOWN);
    browser.wait_until(
        "step 3: ArrowDown makes the first option active",
        "!!document.getElementById('site-search').getAttribute('aria-activedescendant')",
        UI_WAIT,
    );
    browser.mark_page();
    browser.press(Key::ENTER);
    browser.wait_for_new_page("step 3: Enter on the active option opens it");
    assert_eq!(browser.eval("location.pathname"), json!("/audio.html"));
    assert_eq!(
        browser.eval("sessionStorage.getItem('helpbook-session')"),
        json!(session),
        "step 3: the tab keeps its session id across pages"
    );
    let clicks = events.wait_for(
        "step 3: the opened result is stored as a click",
        async |_| events.clicks(&session).await,
        |rows| !rows.is_empty(),
    );
    assert_eq!(clicks.len(), 1, "step 3: one result opened: {clicks:?}");
    let (click_search, click_url, rank) = &clicks[0];
    assert_eq!(
        (click_search, rank),
        (&search_id, &1),
        "step 3: the click must name the typed search and rank 1: {clicks:?}"
    );
    assert!(
        click_url.starts_with("/audio.html"),
        "step 3: the click's url must be the result's site path, not {click_url:?}"
    );
    events.wait_for(
        "step 3: the result's page load is the tab's second view",
        async |s| s.count(&session, "view").await.expect("count views"),
        |n| *n == 2,
    );

    // 4. "Did this help?" → No → a reason and a comment → Send: stored, and thanks shown.
    browser.wait_until(
        "step 4: helpbook.js reveals the \"Did this help?\" widget",
        "!document.querySelector('section.feedback').hidden",
        UI_WAIT,
    );
    browser.click("section.feedback .feedback-no");
    browser.wait_until(
        "step 4: No reveals the reasons and moves focus to their fieldset",
        "(() => {
           const reasons = document.querySelector('.feedback-reasons');
           return !reasons.closest('form').hidden && document.activeElement === reasons
             && document.querySelector('.feedback-no').getAttribute('aria-expanded') === 'true';
         })()",
        UI_WAIT,
    );
    browser.click(".feedback-reasons input[value=didnt_fix]");
    browser.wait_until(
        "step 4: clicking a reason selects it",
        "document.querySelector('.feedback-reasons input[value=didnt_fix]').checked",
        UI_WAIT,
    );
    browser.click("#hb-feedback-comment");
    browser.insert_text("Unmuting did not help.");
    browser.click(".feedback-form button[type=submit]");
    let thanks = browser.wait_until(
        "step 4: after sending, the thanks message shows and has focus",
        "(() => {
           const thanks = document.querySelector('.feedback-thanks');
           return !thanks.hidden && document.activeElement === thanks && thanks.textContent.trim();
         })()",
        UI_WAIT,
    );
    assert_eq!(thanks, json!("Thank you. This helps us improve the page."));
    assert_eq!(
        browser.eval("document.querySelector('section.feedback [role=alert]').textContent"),
        json!(""),
        "step 4: no error may show after a stored answer"
    );
    let feedback = events.wait_for(
        "step 4: the answer is stored as feedback",
        async |s| s.count(&session, "feedback").await.expect("count feedback"),
        |n| *n >= 1,
    );
    assert_eq!(feedback, 1, "step 4: one answer is one feedback row");

    // 5. "Still stuck?" files a ticket: its number shows, and it carries what the tab did.
    browser.click("details.stuck > summary");
    browser.wait_until(
        "step 5: the summary opens \"Still stuck?\"",
        "document.querySelector('details.stuck').open",
        UI_WAIT,
    );
    browser.click("#hb-stuck-contact");
    browser.insert_text("ann@school.example");
    browser.click("#hb-stuck-description");
    browser.insert_text("The class still cannot hear me after unmuting.");
    browser.click("form.stuck-form button[type=submit]");
    let shown_id = browser.wait_until(
        "step 5: the ticket number replaces the form and the message has focus",
        "(() => {
           const sent = document.querySelector('.stuck-sent');
           const id = sent.querySelector('.ticket-id');
           return id && document.querySelector('form.stuck-form').hidden
             && document.activeElement === sent && id.textContent;
         })()",
        UI_WAIT,
    );
    let shown_id = shown_id.as_str().expect("ticket id").to_owned();
    assert!(
        shown_id.starts_with("HB-"),
        "step 5: the ticket number must start with HB-, not {shown_id:?}"
    );
    let tickets = events.tickets();
    assert_eq!(tickets.len(), 1, "step 5: one ticket stored");
    let ticket = &tickets[0].ticket;
    assert_eq!(
        ticket.id, shown_id,
        "step 5: the page shows the stored ticket's number"
    );
    assert_eq!(
        ticket.session, session,
        "step 5: the ticket names the tab's session"
    );
    assert_eq!(
        ticket.priority.as_str(),
        "urgent",
        "step 5: a ticket from an urgent page is urgent"
    );
    assert_eq!(
        ticket.page.as_ref().map(|p| p.url.as_str()),
        Some("/audio.html")
    );
    assert_eq!(ticket.contact, "ann@school.example");
    let tried = &ticket.tried;
    assert_eq!(
        tried.searches.first().map(|s| s.query.as_str()),
        Some(query),
        "step 5: the ticket carries the typed search: {tried:?}"
    );
    assert!(
        tried.searches[0]
            .opened
            .iter()
            .any(|u| u.starts_with("/audio.html")),
        "step 5: and the result opened from it: {tried:?}"
    );
    assert_eq!(
        tried
            .feedback
            .first()
            .map(|f| (f.helpful, f.reason.as_deref())),
        Some((false, Some("didnt_fix"))),
        "step 5: and the feedback given: {tried:?}"
    );

    // 6. The results page records its search; a result opened there is a click of it.
    browser.open(&format!("{base}/search?q=video+frozen"));
    let searches = events.wait_for(
        "step 6: the results page's search is stored",
        async |s| s.searches(&session).await.expect("searches"),
        |rows| rows.iter().any(|row| row.1 == "video frozen"),
    );
    let page_search = searches
        .iter()
        .find(|row| row.1 == "video frozen")
        .map(|row| row.0.clone())
        .expect("the results page's search");
    browser.mark_page();
    browser.click("#search-results a.search-result-link");
    browser.wait_for_new_page("step 6: clicking the first result opens it");
    assert_eq!(browser.eval("location.pathname"), json!("/video.html"));
    let clicks = events.wait_for(
        "step 6: the result opened from the results page is stored as a click",
        async |_| events.clicks(&session).await,
        |rows| rows.len() >= 2,
    );
    assert_eq!(
        (&clicks[1].0, clicks[1].2),
        (&page_search, 1),
        "step 6: the click names the results page's search and rank 1: {clicks:?}"
    );

    // 7. Without JavaScript the widget stays hidden and the form still files a ticket.
    browser.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    browser.open(&format!("{base}/video.html"));
    assert_eq!(
        browser.eval(
            "[document.documentElement.classList.contains('js'),
              document.querySelector('section.feedback').hidden]"
        ),
        json!([false, true]),
        "step 7: with JavaScript off, \"Did this help?\" (it needs JavaScript) stays hidden"
    );
    browser.click("details.stuck > summary");
    browser.click("#hb-stuck-contact");
    browser.insert_text("bo@school.example");
    browser.click("#hb-stuck-description");
    browser.insert_text("The video freezes every minute.");
    browser.mark_page();
    browser.click("form.stuck-form button[type=submit]");
    browser.wait_for_new_page("step 7: the form posts without JavaScript");
    let answered = browser.eval("(document.querySelector('.ticket-id') || {}).textContent");
    let answered = answered.as_str().unwrap_or_default().to_owned();
    assert!(
        answered.starts_with("HB-"),
        "step 7: the server's answer page shows the ticket number; it says {:?}",
        browser.eval("document.body.innerText")
    );
    let tickets = events.tickets();
    let ticket = &tickets[0].ticket;
    assert_eq!(
        (
            ticket.id.as_str(),
            ticket.priority.as_str(),
            ticket.page.as_ref().map(|p| p.url.as_str())
        ),
        (answered.as_str(), "normal", Some("/video.html")),
        "step 7: the plain form names the page it was on (no JavaScript filled that in)"
    );
}

/// The event store of a production server under test, read afresh at every look (the server
/// keeps writing to it).
pub(crate) struct Events {
    pub(crate) path: String,
    runtime: tokio::runtime::Runtime,
}

impl Events {
    pub(crate) fn new(path: std::path::PathBuf) -> Events {
        Events {
            path: path.to_string_lossy().into_owned(),
            runtime: runtime(),
        }
    }

    /// `look` at the store.
    fn read<T>(&self, look: impl AsyncFnOnce(&EventStore) -> T) -> T {
        self.runtime.block_on(async {
            let store = EventStore::open(&self.path)
                .await
                .unwrap_or_else(|e| panic!("cannot open the event store: {e}"));
            let value = look(&store).await;
            store.close().await;
            value
        })
    }

    /// Polls `look` until `done` holds and returns that value; after [`STORE_WAIT`], panics
    /// with `what` and the last value.
    pub(crate) fn wait_for<T: std::fmt::Debug>(
        &self,
        what: &str,
        look: impl AsyncFn(&EventStore) -> T,
        done: impl Fn(&T) -> bool,
    ) -> T {
        let deadline = Instant::now() + STORE_WAIT;
        loop {
            let value = self.read(&look);
            if done(&value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not so after {STORE_WAIT:?}; last: {value:?}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// The clicks of `session`, oldest first: (search id, url, rank). The store's API has no
    /// reader for ranks, so this asks the SQLite file itself.
    async fn clicks(&self, session: &str) -> Vec<(String, String, i64)> {
        use sqlx::Row;
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", self.path))
            .await
            .expect("open the SQLite event store");
        let rows = sqlx::query(
            "SELECT search_id, url, rank FROM events
             WHERE session = $1 AND kind = 'click' ORDER BY at, id",
        )
        .bind(session)
        .fetch_all(&pool)
        .await
        .expect("read clicks");
        pool.close().await;
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    /// The stored tickets, newest first.
    fn tickets(&self) -> Vec<StoredTicket> {
        self.read(async |s| s.recent_tickets(10).await.expect("recent tickets"))
    }
}

/// A key as `Input.dispatchKeyEvent` wants it.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    key: &'static str,
    code: &'static str,
    /// Windows virtual key code: what `event.keyCode` reports.
    key_code: u32,
    /// The character the key types, if any (Enter types "\r", as in a real browser).
    text: Option<&'static str>,
}

impl Key {
    pub(crate) const ARROW_DOWN: Key = Key {
        key: "ArrowDown",
        code: "ArrowDown",
        key_code: 40,
        text: None,
    };
    pub(crate) const ENTER: Key = Key {
        key: "Enter",
        code: "Enter",
        key_code: 13,
        text: Some("\r"),
    };
    pub(crate) const ESCAPE: Key = Key {
        key: "Escape",
        code: "Escape",
        key_code: 27,
        text: None,
    };
    pub(crate) const TAB: Key = Key {
        key: "Tab",
        code: "Tab",
        key_code: 9,
        text: None,
    };
    pub(crate) const SPACE: Key = Key {
        key: " ",
        code: "Space",
        key_code: 32,
        text: Some(" "),
    };
}

/// Headless Chromium with one page, attached over the DevTools protocol; closed when dropped.
pub(crate) struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    /// The DevTools session of our page (flat mode: one websocket for browser and page).
    session: String,
    next_id: u64,
    /// Chromium's stderr so far, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
    /// The fresh profile; removed after Chromium has exited (fields drop after `drop`).
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium on an ephemeral DevTools port and opens one blank page.
    pub(crate) fn launch() -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: the browser test of the search UI needs Chromium. \
             Install it with `apt-get install chromium` (CI does)."
        );
        let profile = tempfile::tempdir().expect("temp dir for the Chromium profile");
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));

        // Chromium prints the websocket address on stderr. The thread keeps draining stderr
        // afterwards, or a full pipe would stall the browser.
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
                let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                if lines.len() < 500 {
                    lines.push(line);
                }
            }
        });
        let url = match rx.recv_timeout(LAUNCH_WAIT) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "Chromium printed no \"DevTools listening on ws://…\" line within {LAUNCH_WAIT:?}; \
                     its stderr:\n{}",
                    log.lock().unwrap_or_else(|e| e.into_inner()).join("\n")
                );
            }
        };

        // ws://127.0.0.1:PORT/devtools/browser/ID
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected DevTools address {url:?}"));
        let stream = TcpStream::connect(host)
            .unwrap_or_else(|e| panic!("cannot connect to Chromium's DevTools at {host}: {e}"));
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(CALL_WAIT))
            .expect("read timeout");
        let (ws, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools websocket handshake with {url} failed: {e}"));
        // From now on reads return every so often, so every wait checks its own deadline.
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(250)))
            .expect("read timeout");

        let mut browser = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            log,
            _profile: profile,
        };
        let target = browser.call_on(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].clone();
        let attached = browser.call_on(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        browser.call("Page.enable", json!({}));
        // Headless windows are never "focused"; without this, focus events may not fire.
        browser.call(
            "Emulation.setFocusEmulationEnabled",
            json!({ "enabled": true }),
        );
        browser.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": XSS_TRAP }),
        );
        browser
    }

    /// Sends a command to our page and returns its result; panics on a protocol error.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call_on(Some(&session), method, params)
    }

    fn call_on(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.try_call(session, method, params)
            .unwrap_or_else(|e| panic!("DevTools {method} failed: {e}"))
    }

    /// Sends a command and reads until its answer, skipping events: `Err` is the protocol's
    /// error. A dead connection or no answer within [`CALL_WAIT`] panics.
    fn try_call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        if let Err(e) = self.ws.send(Message::text(message.to_string())) {
            panic!(
                "sending {method} to Chromium failed: {e}{}",
                self.stderr_tail()
            );
        }
        let deadline = Instant::now() + CALL_WAIT;
        loop {
            match self.ws.read() {
                Ok(Message::Text(text)) => {
                    let answer: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("DevTools sent bad JSON ({e}): {text}"));
                    if answer["id"] == json!(id) {
                        return match answer.get("error") {
                            Some(error) => Err(error.to_string()),
                            None => Ok(answer["result"].clone()),
                        };
                    }
                    // An event, or the late answer to something else: not ours.
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!(
                    "the DevTools connection broke while waiting for {method}: {e}{}",
                    self.stderr_tail()
                ),
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not answer {method} within {CALL_WAIT:?}{}",
                self.stderr_tail()
            );
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value as JSON;
    /// `Err` for an exception or when the page has no context right now (mid-navigation).
    fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let session = self.session.clone();
        let result = self.try_call(
            Some(&session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(exception) = result.get("exceptionDetails") {
            let text = exception["exception"]["description"]
                .as_str()
                .or(exception["text"].as_str())
                .unwrap_or("exception");
            return Err(text.to_owned());
        }
        Ok(result["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Evaluates `expression` in the page; panics if it throws.
    pub(crate) fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|e| panic!("evaluating `{expression}` failed: {e}"))
    }

    /// Polls `expression` until it is truthy and returns that value; after `limit`, panics
    /// with `what`, the last value and the state of the search box.
    pub(crate) fn wait_until(&mut self, what: &str, expression: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let last = self.try_eval(expression);
            if let Ok(value) = &last
                && truthy(value)
            {
                return value.clone();
            }
            if Instant::now() >= deadline {
                let state = self.try_eval(SEARCH_BOX_STATE).unwrap_or_else(|e| json!(e));
                panic!("{what}: not so after {limit:?}.\nlast result: {last:?}\npage: {state:#}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Marks the current document, so that [`Browser::wait_for_new_page`] can tell the next one.
    pub(crate) fn mark_page(&mut self) {
        self.eval("window.__helpbookOldPage = true");
    }

    /// Waits until a document other than the marked one has loaded completely.
    pub(crate) fn wait_for_new_page(&mut self, what: &str) {
        self.wait_until(
            what,
            "!window.__helpbookOldPage && document.readyState === 'complete'",
            LOAD_WAIT,
        );
    }

    /// Loads `url` and waits until it has loaded completely.
    pub(crate) fn open(&mut self, url: &str) {
        self.mark_page();
        let answer = self.call("Page.navigate", json!({ "url": url }));
        if let Some(error) = answer.get("errorText") {
            panic!("loading {url} failed: {error}");
        }
        self.wait_for_new_page(&format!("loading {url}"));
    }

    /// Presses and releases `key`.
    pub(crate) fn press(&mut self, key: Key) {
        let mut down = json!({
            "type": if key.text.is_some() { "keyDown" } else { "rawKeyDown" },
            "key": key.key,
            "code": key.code,
            "windowsVirtualKeyCode": key.key_code,
            "nativeVirtualKeyCode": key.key_code,
        });
        if let Some(text) = key.text {
            down["text"] = json!(text);
            down["unmodifiedText"] = json!(text);
        }
        self.call("Input.dispatchKeyEvent", down);
        self.call(
            "Input.dispatchKeyEvent",
            json!({
                "type": "keyUp",
                "key": key.key,
                "code": key.code,
                "windowsVirtualKeyCode": key.key_code,
                "nativeVirtualKeyCode": key.key_code,
            }),
        );
    }

    /// Types `text` key by key, as on a US keyboard: lowercase letters, digits, space and "/".
    pub(crate) fn type_keys(&mut self, text: &str) {
        for c in text.chars() {
            let (code, key_code) = match c {
                'a'..='z' => (
                    format!("Key{}", c.to_ascii_uppercase()),
                    c.to_ascii_uppercase() as u32,
                ),
                '0'..='9' => (format!("Digit{c}"), c as u32),
                ' ' => ("Space".to_owned(), 32),
                '/' => ("Slash".to_owned(), 191),
                _ => panic!("type_keys cannot type {c:?}; use insert_text"),
            };
            let key = c.to_string();
            let down = json!({
                "type": "keyDown",
                "key": key,
                "code": code,
                "text": key,
                "unmodifiedText": key,
                "windowsVirtualKeyCode": key_code,
                "nativeVirtualKeyCode": key_code,
            });
            self.call("Input.dispatchKeyEvent", down);
            self.call(
                "Input.dispatchKeyEvent",
                json!({
                    "type": "keyUp",
                    "key": key,
                    "code": code,
                    "windowsVirtualKeyCode": key_code,
                    "nativeVirtualKeyCode": key_code,
                }),
            );
        }
    }

    /// Clicks the middle of the first element matching `selector` with the mouse, after
    /// scrolling it into view; panics if there is none or it takes no room.
    pub(crate) fn click(&mut self, selector: &str) {
        let at = self.eval(&format!(
            "(() => {{
  const element = document.querySelector({selector});
  if (!element) return null;
  element.scrollIntoView({{ block: 'center', behavior: 'instant' }});
  const box = element.getBoundingClientRect();
  if (!box.width || !box.height) return null;
  return [box.left + box.width / 2, box.top + box.height / 2];
}})()",
            selector = json!(selector)
        ));
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            panic!("cannot click {selector}: no such element is shown");
        };
        self.call(
            "Input.dispatchMouseEvent",
            json!({ "type": "mouseMoved", "x": x, "y": y }),
        );
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Inserts `text` at the caret in one go, as an input method commits it.
    pub(crate) fn insert_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// The end of Chromium's stderr, for failure messages.
    fn stderr_tail(&self) -> String {
        let lines = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let tail = &lines[lines.len().saturating_sub(20)..];
        format!("\nChromium's stderr (last lines):\n{}", tail.join("\n"))
    }
}

impl Drop for Browser {
    /// Asks Chromium to close (it then ends its helper processes itself), kills it if it has
    /// not exited within a few seconds, and reaps it.
    fn drop(&mut self) {
        let close = json!({ "id": self.next_id + 1, "method": "Browser.close", "params": {} });
        let _ = self.ws.send(Message::text(close.to_string()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
