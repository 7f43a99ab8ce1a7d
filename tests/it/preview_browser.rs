//! The writer preview in headless Chromium: a save reloads the open page where the reader
//! was, a broken save shows the overlay over the last good page, fixing it clears the overlay,
//! and a stylesheet change applies without a reload.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::support::{Server, TestSite};

/// From a save to the page showing it (watch, rebuild, reload, on a loaded machine).
const SAVE_WAIT: Duration = Duration::from_secs(30);

fn long_page(marker: &str) -> String {
    let mut text = format!("---\ntitle: Long guide\n---\n\nThe start of the guide, {marker}.\n\n");
    for i in 1..=60 {
        text.push_str(&format!(
            "## Part {i}\n\nA paragraph of the guide that takes some room on the screen, number {i}.\n\n"
        ));
    }
    text.push_str(&format!("The end of the guide, {marker}.\n"));
    text
}

#[test]
fn a_save_reloads_the_open_page_in_a_real_browser() {
    let mut browser = Browser::launch();
    let site = TestSite::new()
        .file(
            "book.toml",
            "[book]\ntitle = \"Preview\"\n[output.html]\nadditional-css = [\"custom.css\"]\n",
        )
        .file("custom.css", ":root { --preview-test: 1px; }\n")
        .page("index.md", "# Home\n\nWelcome.\n")
        .page("guide/long.md", &long_page("version one"));
    let server = Server::start(site.root());
    let url = format!("http://{}/guide/long.html", server.addr);
    let file = site.root().join("content/guide/long.md");

    browser.open(&url);
    browser.wait_until(
        "the page hears from the preview",
        "document.documentElement.hasAttribute('data-preview-version')",
        SAVE_WAIT,
    );
    browser.eval("window.scrollTo(0, 900)");
    let before = browser.eval("window.scrollY").as_f64().unwrap();
    assert!(
        before > 800.0,
        "the page is long enough to scroll: {before}"
    );

    // 1. A save reloads the page, at the same place.
    browser.mark_page();
    std::fs::write(&file, long_page("version two")).unwrap();
    browser.wait_until(
        "the saved text shows after a reload",
        "!window.__helpbookOldPage && document.readyState === 'complete' \
         && document.body.innerText.includes('version two')",
        SAVE_WAIT,
    );
    let after = browser.wait_until(
        "the scroll position is kept",
        &format!("Math.abs(window.scrollY - {before}) < 5 && window.scrollY"),
        SAVE_WAIT,
    );
    assert!(after.as_f64().unwrap() > 800.0, "{after}");

    // 2. A broken save: the overlay names the file and line; the page is not reloaded.
    browser.mark_page();
    std::fs::write(&file, "---\ntitle: [broken\n---\n\nversion three\n").unwrap();
    let overlay = browser.wait_until(
        "the overlay shows the error",
        "(() => { const o = document.getElementById('helpbook-overlay');
                  return o && o.innerText; })()",
        SAVE_WAIT,
    );
    let text = overlay.as_str().unwrap();
    assert!(text.contains("content/guide/long.md:2"), "{text}");
    assert!(text.contains("title: [broken"), "the snippet: {text}");
    let state = browser.eval(
        "({ same: !!window.__helpbookOldPage, text: document.body.innerText.includes('version two'),
            dialog: document.getElementById('helpbook-overlay').getAttribute('role') })",
    );
    assert_eq!(
        state,
        json!({ "same": true, "text": true, "dialog": "alertdialog" }),
        "the last good page stays"
    );
    // A page opened now shows the overlay at once.
    browser.open(&format!("http://{}/", server.addr));
    browser.wait_until(
        "a page opened while broken shows the overlay",
        "!!document.getElementById('helpbook-overlay')",
        SAVE_WAIT,
    );
    browser.open(&url);

    // 3. Fixed: the overlay goes and the page shows the fix.
    browser.mark_page();
    std::fs::write(&file, long_page("version four")).unwrap();
    browser.wait_until(
        "the fix clears the overlay and reloads",
        "!window.__helpbookOldPage && document.readyState === 'complete' \
         && document.body.innerText.includes('version four') \
         && !document.getElementById('helpbook-overlay')",
        SAVE_WAIT,
    );

    // 4. A stylesheet change applies without reloading the page.
    browser.eval("window.__stillHere = true");
    std::fs::write(
        site.root().join("custom.css"),
        ":root { --preview-test: 37px; }\n",
    )
    .unwrap();
    browser.wait_until(
        "the new stylesheet applies in place",
        "getComputedStyle(document.documentElement).getPropertyValue('--preview-test').trim() === '37px'",
        SAVE_WAIT,
    );
    assert_eq!(
        browser.eval("window.__stillHere === true"),
        json!(true),
        "no reload"
    );
    server.stop();
}
