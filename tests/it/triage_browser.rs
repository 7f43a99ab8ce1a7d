//! Triage trees in a real browser (headless Chromium, the driver of `browser.rs`): steps open in
//! place (fetched, swapped into `<main>`, pushed to the history), focus follows the new
//! question, back and forward restore the right step, the trail and the ticket carry the
//! answers actually given (not the shortest way the pages were built with), "No, still not
//! working" opens the next fixes, and without JavaScript every step is still a plain page.
//!
//! The sample site's `live-class` tree has a shared question: "What is wrong?" is reached by
//! "The whole class…" (the shortest way, shown by the built pages) and by "Only me", which is
//! the way these tests walk.
//!
//! `triage_events_from_a_real_browser` checks what `serve --production` stores of that walk:
//! one `triage` event per step shown with the path walked, the answer to "Did this fix it?",
//! and a ticket filed from the fix page.

use serde_json::{Value, json};

use crate::browser::{Browser, Events, UI_WAIT};
use crate::server::production;
use crate::support::{Server, TestSite, repo_root, sample_site};

const START: &str = "/triage/live-class/index.html";
const WHAT: &str = "/triage/live-class/what.html";
const NO_SOUND_OUT: &str = "/triage/live-class/what/no-sound-out.html";
const NO_SOUND_IN: &str = "/triage/live-class/what/no-sound-in.html";

/// The answers walked: "Only me", then "Students can't hear me".
const PATH_WALKED: &str = "who/only-me,what/no-sound-out";

/// The step on screen, for assertions and failure messages.
const STEP_STATE: &str = "(() => {
  const article = document.querySelector('article.triage');
  const h1 = document.querySelector('main h1');
  const notFixed = document.getElementById('not-fixed');
  const field = (form, name) => {
    const f = document.querySelector(form);
    const input = f && f.elements.namedItem(name);
    return input ? input.value : null;
  };
  return {
    path: location.pathname,
    marker: window.__triageMarker || null,
    title: document.title,
    h1: h1 && h1.textContent.trim(),
    focusedH1: !!h1 && document.activeElement === h1,
    focused: document.activeElement && (document.activeElement.id || document.activeElement.nodeName),
    step: article && article.dataset.step,
    dataPath: article && article.dataset.path,
    trail: Array.from(document.querySelectorAll('.triage-trail li')).map(li => [
      li.querySelector('.triage-trail-question').textContent.trim(),
      li.querySelector('.triage-trail-answer').textContent.trim(),
      new URL(li.querySelector('a').href).pathname,
    ]),
    back: (() => { const a = document.querySelector('a.triage-back'); return a && new URL(a.href).pathname; })(),
    notFixedShown: !!notFixed && !notFixed.hidden && notFixed.getClientRects().length > 0,
    outcomePath: field('form.triage-outcome-form', 'path'),
    ticketPath: field('form.triage-stuck-form', 'triage_path'),
    ticketText: field('form.triage-stuck-form', 'description'),
    history: history.length,
  };
})()";

/// Waits until the step at `path` with the heading `h1` is on screen (in place or loaded).
fn wait_for_step(browser: &mut Browser, what: &str, path: &str, h1: &str) -> Value {
    browser.wait_until(
        what,
        &format!(
            "(() => {{
  const h1 = document.querySelector('main h1');
  return location.pathname === {path} && document.readyState === 'complete'
    && !document.getElementById('content').hasAttribute('aria-busy')
    && !!h1 && h1.textContent.trim() === {h1} && {STEP_STATE};
}})()",
            path = json!(path),
            h1 = json!(h1),
        ),
        UI_WAIT,
    )
}

/// Waits until helpbook.js has taken over the triage page on screen.
fn wait_for_script(browser: &mut Browser, what: &str) {
    browser.wait_until(
        what,
        "!!history.state && history.state.helpbook === 'triage'",
        UI_WAIT,
    );
}

/// The walk on the preview server: in place, focus, back and forward, the exact trail, "No",
/// the next fix, a reload, "Yes"; then the same pages without JavaScript.
#[test]
fn triage_steps_open_in_place_in_a_real_browser() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    // 1. The first question, loaded as a page.
    browser.open(&format!("{base}{START}"));
    wait_for_script(
        &mut browser,
        "step 1: helpbook.js takes over the first question",
    );
    let first = wait_for_step(
        &mut browser,
        "step 1: the first question shows",
        START,
        "Who has the problem?",
    );
    assert_eq!(
        (&first["dataPath"], &first["trail"]),
        (&json!(""), &json!([])),
        "step 1: no answers yet: {first:#}"
    );
    // Survives an in-place step, not a page load.
    browser.eval("window.__triageMarker = 'first load'");
    // A click with Ctrl (new tab) or another modifier stays the browser's: not taken over.
    let taken = browser.eval(
        "(() => {
           const link = document.querySelector('a.triage-option[data-step=\"who/only-me\"]');
           const seen = [];
           const look = e => { seen.push(e.defaultPrevented); e.preventDefault(); };
           window.addEventListener('click', look);
           for (const key of ['ctrlKey', 'metaKey', 'shiftKey']) {
             link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, [key]: true }));
           }
           link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, button: 1 }));
           window.removeEventListener('click', look);
           return seen;
         })()",
    );
    assert_eq!(
        taken,
        json!([false, false, false, false]),
        "step 1: Ctrl/Cmd/Shift/middle clicks must be left to the browser"
    );

    // 2. "Only me" opens "What is wrong?" in place: new address, same document, focus on it.
    browser.click("a.triage-option[data-step=\"who/only-me\"]");
    let what = wait_for_step(
        &mut browser,
        "step 2: clicking \"Only me\" shows \"What is wrong?\" at what.html",
        WHAT,
        "What is wrong?",
    );
    assert_eq!(
        what["marker"],
        json!("first load"),
        "step 2: the step must open in place (pushState), not by loading a page: {what:#}"
    );
    assert_eq!(
        what["focusedH1"],
        json!(true),
        "step 2: focus must move to the new question's h1: {what:#}"
    );
    assert!(
        what["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("What is wrong?")),
        "step 2: the document title must follow the step: {what:#}"
    );
    // The built page shows the shortest way ("The whole class…"); the trail shows the answer
    // given.
    assert_eq!(
        (&what["dataPath"], &what["trail"]),
        (
            &json!("who/only-me"),
            &json!([["Who has the problem?", "Only me", START]])
        ),
        "step 2: the trail must show the answer actually given, not the shortest way: {what:#}"
    );
    assert_eq!(
        what["back"],
        json!(START),
        "step 2: back leads to the first question: {what:#}"
    );
    let answers = std::fs::read_to_string(repo_root().join("content/triage/live-class.yaml"))
        .unwrap()
        .split("\n  what:\n")
        .nth(1)
        .expect("the sample tree has the question `what`")
        .split("\n  student-what:")
        .next()
        .unwrap()
        .matches("- label:")
        .count();
    assert_eq!(
        browser.eval("document.querySelectorAll('main .triage-option').length"),
        json!(answers),
        "step 2: every answer of the new question is there"
    );

    // 3. The browser's back button shows the first question again, still in place.
    browser.eval("history.back()");
    let back = wait_for_step(
        &mut browser,
        "step 3: history.back() shows the first question again",
        START,
        "Who has the problem?",
    );
    assert_eq!(
        back["marker"],
        json!("first load"),
        "step 3: back must not reload the page: {back:#}"
    );
    assert_eq!(back["dataPath"], json!(""), "step 3: no answers: {back:#}");

    // 4. Forward restores "What is wrong?" with the answer given, from the history entry.
    browser.eval("history.forward()");
    let forward = wait_for_step(
        &mut browser,
        "step 4: history.forward() shows \"What is wrong?\" again",
        WHAT,
        "What is wrong?",
    );
    assert_eq!(
        (&forward["marker"], &forward["dataPath"]),
        (&json!("first load"), &json!("who/only-me")),
        "step 4: forward restores the step in place, with the answer given: {forward:#}"
    );

    // 5. An answer leading to a fix: "Still not working?" waits for "No".
    browser.click("a.triage-option[data-step=\"what/no-sound-out\"]");
    let fix = wait_for_step(
        &mut browser,
        "step 5: clicking \"Students can't hear me\" shows its fix",
        NO_SOUND_OUT,
        "Students can't hear me",
    );
    assert_eq!(
        fix["marker"],
        json!("first load"),
        "step 5: in place: {fix:#}"
    );
    assert_eq!(fix["focusedH1"], json!(true), "step 5: focus: {fix:#}");
    assert_eq!(
        fix["notFixedShown"],
        json!(false),
        "step 5: with JavaScript, #not-fixed waits for \"No\": {fix:#}"
    );
    assert_eq!(
        (&fix["dataPath"], &fix["outcomePath"], &fix["ticketPath"]),
        (
            &json!(PATH_WALKED),
            &json!(PATH_WALKED),
            &json!(PATH_WALKED)
        ),
        "step 5: the page, the outcome form and the ticket carry the answers given: {fix:#}"
    );
    assert_eq!(
        fix["back"],
        json!(WHAT),
        "step 5: back leads to \"What is wrong?\": {fix:#}"
    );
    let text = fix["ticketText"].as_str().unwrap_or_default();
    assert!(
        text.contains("Who has the problem? Only me\nWhat is wrong? Students can't hear me")
            && !text.contains("The whole class"),
        "step 5: the ticket's pre-filled answers are the ones given: {fix:#}"
    );

    // 6. "No, still not working" opens "Still not working?" and moves focus into it.
    browser.click("form.triage-outcome-form button[value=not_resolved]");
    let no = browser.wait_until(
        "step 6: \"No\" shows #not-fixed and focuses it",
        &format!(
            "(() => {{
  const notFixed = document.getElementById('not-fixed');
  return !notFixed.hidden && notFixed.getClientRects().length > 0
    && notFixed.contains(document.activeElement) && {STEP_STATE};
}})()"
        ),
        UI_WAIT,
    );
    assert_eq!(
        (&no["path"], &no["marker"]),
        (&json!(NO_SOUND_OUT), &json!("first load")),
        "step 6: \"No\" stays on the page (no form post): {no:#}"
    );
    assert_eq!(
        no["ticketPath"],
        json!(PATH_WALKED),
        "step 6: the \"Still not working?\" ticket form's triage_path is the path walked: {no:#}"
    );
    assert_eq!(
        browser.eval("document.querySelector('.triage-no').getAttribute('aria-expanded')"),
        json!("true"),
        "step 6: \"No\" says it expanded #not-fixed"
    );

    // 7. The next most likely fix replaces the last answer.
    browser.click(".triage-next-fixes a.triage-option[data-step=\"what/no-sound-in\"]");
    let next = wait_for_step(
        &mut browser,
        "step 7: the next fix \"I can't hear my students\" opens",
        NO_SOUND_IN,
        "I can't hear my students",
    );
    assert_eq!(
        (&next["marker"], &next["dataPath"], &next["ticketPath"]),
        (
            &json!("first load"),
            &json!("who/only-me,what/no-sound-in"),
            &json!("who/only-me,what/no-sound-in")
        ),
        "step 7: in place, the other answer to \"What is wrong?\" replaces the first: {next:#}"
    );

    // 8. A reload keeps the answers given (they live in history.state).
    browser.mark_page();
    browser.call("Page.reload", json!({}));
    browser.wait_for_new_page("step 8: the fix page reloads");
    wait_for_script(
        &mut browser,
        "step 8: helpbook.js takes over the reloaded page",
    );
    let reloaded = wait_for_step(
        &mut browser,
        "step 8: the reloaded fix page shows",
        NO_SOUND_IN,
        "I can't hear my students",
    );
    assert_eq!(
        (
            &reloaded["dataPath"],
            &reloaded["ticketPath"],
            &reloaded["trail"][0][1]
        ),
        (
            &json!("who/only-me,what/no-sound-in"),
            &json!("who/only-me,what/no-sound-in"),
            &json!("Only me")
        ),
        "step 8: after a reload the page still shows the answers given: {reloaded:#}"
    );

    // 9. "Yes, it is fixed": thanks, focused, and the buttons gone.
    browser.click("form.triage-outcome-form button[value=resolved]");
    browser.wait_until(
        "step 9: \"Yes\" shows the thanks, focused, and hides the buttons",
        "(() => {
           const thanks = document.querySelector('.triage-thanks');
           return !thanks.hidden && document.activeElement === thanks
             && document.querySelector('form.triage-outcome-form').hidden
             && location.pathname.endsWith('/no-sound-in.html');
         })()",
        UI_WAIT,
    );

    // 10. Without JavaScript: plain pages, plain links, "Still not working?" shown.
    browser.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    browser.open(&format!("{base}{START}"));
    browser.mark_page();
    browser.click("a.triage-option[data-step=\"who/only-me\"]");
    browser.wait_for_new_page("step 10: without JavaScript an answer is a plain link");
    assert_eq!(browser.eval("location.pathname"), json!(WHAT));
    browser.open(&format!("{base}{NO_SOUND_OUT}"));
    let plain = browser.eval(STEP_STATE);
    assert_eq!(
        (&plain["notFixedShown"], &plain["dataPath"]),
        (&json!(true), &json!("who/whole-class,what/no-sound-out")),
        "step 10: without JavaScript #not-fixed shows and the page keeps its built path: {plain:#}"
    );
}

/// The triage events and ticket of a walk, stored by `serve --production`.
#[test]
fn triage_events_from_a_real_browser() {
    let mut browser = Browser::launch();
    let site = sample_site();
    site.build_ok();
    let events = Events::new(site.root().join("events.sqlite"));
    let server = production(&site, &events.path, &[("HELPBOOK_SERVER__RATE_LIMIT", "0")]);
    let base = format!("http://{}", server.addr);

    // 1. The walk: the first question, "Only me", "Students can't hear me", "No".
    browser.open(&format!("{base}{START}"));
    wait_for_script(
        &mut browser,
        "step 1: helpbook.js takes over the first question",
    );
    let session = browser.wait_until(
        "step 1: the tab has a session id",
        "sessionStorage.getItem('helpbook-session')",
        UI_WAIT,
    );
    let session = session.as_str().expect("session id").to_owned();
    browser.click("a.triage-option[data-step=\"who/only-me\"]");
    wait_for_step(
        &mut browser,
        "step 1: \"Only me\" opens",
        WHAT,
        "What is wrong?",
    );
    browser.click("a.triage-option[data-step=\"what/no-sound-out\"]");
    wait_for_step(
        &mut browser,
        "step 1: the fix opens",
        NO_SOUND_OUT,
        "Students can't hear me",
    );
    browser.click("form.triage-outcome-form button[value=not_resolved]");
    browser.wait_until(
        "step 1: \"No\" shows #not-fixed",
        "!document.getElementById('not-fixed').hidden",
        UI_WAIT,
    );

    // 2. One triage event per step shown, with the path walked, then the answer.
    let expected = vec![
        ("who".to_owned(), String::new(), None),
        ("what".to_owned(), "who/only-me".to_owned(), None),
        ("what/no-sound-out".to_owned(), PATH_WALKED.to_owned(), None),
        (
            "what/no-sound-out".to_owned(),
            PATH_WALKED.to_owned(),
            Some("not_resolved".to_owned()),
        ),
    ];
    let stored = events.wait_for(
        "step 2: the steps shown and the answer are stored as triage events",
        async |_| triage_rows(&events.path, &session).await,
        |rows| rows.len() >= expected.len(),
    );
    assert_eq!(
        stored, expected,
        "step 2: (step, path, outcome) of the triage events, oldest first"
    );
    let views = events.wait_for(
        "step 2: each step shown is also a view",
        async |s| s.count(&session, "view").await.expect("count views"),
        |n| *n >= 3,
    );
    assert_eq!(views, 3, "step 2: three pages shown, three views");

    // 3. A ticket from "Still not working?" (JSON, with the tree and the path walked).
    browser.click("#hb-stuck-contact");
    browser.insert_text("ann@school.example");
    browser.click("form.triage-stuck-form button[type=submit]");
    let shown = browser.wait_until(
        "step 3: the ticket number shows in place",
        "(() => {
           const id = document.querySelector('#not-fixed .stuck-sent .ticket-id');
           const error = document.querySelector('#not-fixed .form-error');
           return (id && id.textContent) || (error && error.textContent && 'error: ' + error.textContent);
         })()",
        UI_WAIT,
    );
    let shown = shown.as_str().unwrap_or_default().to_owned();
    assert!(
        shown.starts_with("HB-"),
        "step 3: the ticket must be filed (JSON with triage_tree and triage_path): {shown}"
    );
    let stored = events.wait_for(
        "step 3: the ticket is stored as the walk's escalation",
        async |_| triage_rows(&events.path, &session).await,
        |rows| rows.len() > expected.len(),
    );
    assert_eq!(
        stored.last(),
        Some(&(
            "what/no-sound-out".to_owned(),
            PATH_WALKED.to_owned(),
            Some("escalated".to_owned())
        )),
        "step 3: the ticket ends the walk as escalated: {stored:?}"
    );
}

/// The triage events of `session`, oldest first: (step, path, outcome).
async fn triage_rows(store: &str, session: &str) -> Vec<(String, String, Option<String>)> {
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&format!("sqlite://{store}"))
        .await
        .expect("open the SQLite event store");
    let rows = sqlx::query(
        "SELECT step, path, outcome FROM events
         WHERE session = $1 AND kind = 'triage' ORDER BY at, id",
    )
    .bind(session)
    .fetch_all(&pool)
    .await
    .expect("read triage events");
    pool.close().await;
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// A tree embedded in a guide (`{{#triage …}}`): its answers open the tree in place, the links
/// outside `<main>` still lead to the right pages from the new address (the guide sits at
/// another folder depth), and back brings the guide again with its own behaviour ("Did this
/// help?").
#[test]
fn triage_embed_opens_in_place_in_a_real_browser() {
    let mut browser = Browser::launch();
    let site = TestSite::new()
        .page(
            "triage/sound.yaml",
            "id: sound\ntitle: Sound problems\nstart: who\nnodes:\n  who:\n    question: Who cannot hear?\n    options:\n      - label: My students\n        id: students\n        next: when\n      - label: Only me\n        id: me\n        answer: Turn up your speakers.\n  when:\n    question: Since when?\n    options:\n      - label: Since today\n        id: today\n        answer: Restart the class.\n      - label: Always\n        id: always\n        answer: Check the microphone.\n",
        )
        .page(
            "guide/audio.md",
            "# No sound\n\nTry the questions below.\n\n{{#triage sound}}\n\nMore about sound.\n",
        );
    site.build_ok();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    // 1. The guide, with the tree's first question in a box.
    browser.open(&format!("{base}/guide/audio.html"));
    wait_for_script(
        &mut browser,
        "step 1: helpbook.js takes over the embedded tree",
    );
    browser.wait_until(
        "step 1: the guide shows \"Did this help?\"",
        "!document.querySelector('section.feedback').hidden",
        UI_WAIT,
    );
    browser.eval("window.__triageMarker = 'guide'");

    // 2. An answer in the box opens the tree's next question in place, with that answer.
    browser.click(".triage-embed a.triage-option[data-step=\"who/students\"]");
    let when = wait_for_step(
        &mut browser,
        "step 2: \"My students\" in the box opens \"Since when?\"",
        "/triage/sound/when.html",
        "Since when?",
    );
    assert_eq!(
        (&when["marker"], &when["focusedH1"], &when["dataPath"]),
        (&json!("guide"), &json!(true), &json!("who/students")),
        "step 2: in place, focused, with the answer given: {when:#}"
    );
    assert_eq!(
        when["trail"],
        json!([[
            "Who cannot hear?",
            "My students",
            "/triage/sound/index.html"
        ]]),
        "step 2: the trail: {when:#}"
    );

    // 3. The header, sidebar and footer links work from the new address.
    let links = browser.eval(
        "(async () => {
           const links = Array.from(document.querySelectorAll('.site-header a[href], #sidebar a[href], .site-footer a[href]'))
             .filter(a => a.getAttribute('href').charAt(0) !== '#');
           const statuses = await Promise.all(links.map(a => fetch(a.href).then(r => r.status)));
           return {
             title: new URL(document.querySelector('.site-title').href).pathname,
             search: new URL(document.querySelector('form.site-search').action).pathname,
             broken: links.filter((a, i) => statuses[i] !== 200).map(a => a.href),
             count: links.length,
           };
         })()",
    );
    assert_eq!(
        (&links["title"], &links["search"], &links["broken"]),
        (&json!("/index.html"), &json!("/search"), &json!([])),
        "step 3: links outside <main> must still lead to the right pages: {links:#}"
    );

    // 4. Back: the guide again, in place, with "Did this help?" working again.
    browser.eval("history.back()");
    let guide = wait_for_step(
        &mut browser,
        "step 4: history.back() shows the guide again",
        "/guide/audio.html",
        "No sound",
    );
    assert_eq!(
        guide["marker"],
        json!("guide"),
        "step 4: in place: {guide:#}"
    );
    browser.wait_until(
        "step 4: the restored guide's \"Did this help?\" is set up again",
        "!document.querySelector('section.feedback').hidden && !!document.querySelector('.triage-embed')",
        UI_WAIT,
    );

    // 5. The other answer leads straight to a fix.
    browser.click(".triage-embed a.triage-option[data-step=\"who/me\"]");
    let fix = wait_for_step(
        &mut browser,
        "step 5: \"Only me\" in the box opens its fix",
        "/triage/sound/who/me.html",
        "Only me",
    );
    assert_eq!(
        (&fix["marker"], &fix["dataPath"], &fix["ticketPath"]),
        (&json!("guide"), &json!("who/me"), &json!("who/me")),
        "step 5: in place, with the answer given: {fix:#}"
    );
}
