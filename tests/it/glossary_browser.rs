//! Glossary terms in a real browser (headless Chromium, the driver of `browser.rs`), on the
//! sample site: the first use of a term on a teacher page is a link to its glossary entry, with
//! the plain explanation as a tooltip that shows on keyboard focus (even without JavaScript) and
//! on hover, that Escape hides, that screen readers get as the link's description, and that is
//! readable in light and dark mode.

use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::{Browser, UI_WAIT};
use crate::support::{Server, sample_site};

/// A teacher page of the sample site that uses glossary terms.
const PAGE: &str = "/troubleshooting/video-frozen-or-laggy.html";
/// The first term marked on [`PAGE`], its id in the glossary, and its plain explanation.
const TERM: &str = "Mbps";
const TERM_ID: &str = "mbps";
const PLAIN: &str =
    "Megabits per second, the unit for internet speed. A bigger number means a faster connection.";

/// The first term link of the page.
const LINK: &str = "document.querySelector('.term-link')";

/// At most this many Tab presses to reach the first term link (the page has a few dozen
/// focusable elements before it).
const MAX_TABS: usize = 200;

/// The first term on screen, for assertions and failure messages: is its definition shown
/// (displayed, taking room, and on top where it is drawn), and what is focused and hovered.
const TERM_STATE: &str = "(() => {
  const link = document.querySelector('.term-link');
  const term = link.closest('.term');
  const def = link.nextElementSibling;
  const style = getComputedStyle(def);
  const box = def.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const top = box.width && box.height ? document.elementFromPoint(x, y) : null;
  return {
    display: style.display,
    width: box.width,
    height: box.height,
    onTop: !!top && def.contains(top),
    drawnAtCentre: top && top.nodeName + (top.id ? '#' + top.id : '') + (top.className ? '.' + top.className : ''),
    box: [box.left, box.top, box.right, box.bottom].map(Math.round),
    viewport: [document.documentElement.clientWidth, innerHeight],
    inViewport: box.left >= 0 && box.right <= document.documentElement.clientWidth
      && box.top >= 0 && box.bottom <= innerHeight,
    shown: style.display !== 'none' && style.visibility !== 'hidden' && box.width > 0 && box.height > 0,
    classes: term.className,
    focused: document.activeElement === link,
    hovered: term.matches(':hover'),
    defClass: def.className,
    shownDefs: Array.from(document.querySelectorAll('.term-def'))
      .filter(d => getComputedStyle(d).display !== 'none').length,
  };
})()";

/// Time for the page to react to an input event, before checking that something has *not*
/// changed (a few frames).
const SETTLE: Duration = Duration::from_millis(200);

/// Presses and releases a key that types nothing (Tab, Escape), as a real keyboard does.
fn press(browser: &mut Browser, key: &str, key_code: u32) {
    for kind in ["rawKeyDown", "keyUp"] {
        browser.call(
            "Input.dispatchKeyEvent",
            json!({
                "type": kind,
                "key": key,
                "code": key,
                "windowsVirtualKeyCode": key_code,
                "nativeVirtualKeyCode": key_code,
            }),
        );
    }
}

/// Moves the mouse pointer to `(x, y)` in the viewport.
fn move_mouse(browser: &mut Browser, x: f64, y: f64) {
    browser.call(
        "Input.dispatchMouseEvent",
        json!({ "type": "mouseMoved", "x": x, "y": y }),
    );
}

/// Scrolls the first term link to the middle of the screen and returns its centre and bottom.
fn link_position(browser: &mut Browser) -> (f64, f64, f64) {
    let at = browser.eval(&format!(
        "(() => {{
  const link = {LINK};
  link.scrollIntoView({{ block: 'center', behavior: 'instant' }});
  const box = link.getBoundingClientRect();
  return [box.left + box.width / 2, box.top + box.height / 2, box.bottom];
}})()"
    ));
    match (at[0].as_f64(), at[1].as_f64(), at[2].as_f64()) {
        (Some(x), Some(y), Some(bottom)) => (x, y, bottom),
        _ => panic!("the first term link takes no room on {PAGE}: {at}"),
    }
}

/// Opens [`PAGE`] and checks that its first term is the one these tests expect.
fn open_page(browser: &mut Browser, base: &str) {
    browser.open(&format!("{base}{PAGE}"));
    let first = browser.eval(&format!(
        "(() => {{ const link = {LINK}; return link && [link.textContent, link.getAttribute('href')]; }})()"
    ));
    assert_eq!(
        first,
        json!([TERM, format!("../glossary.html#{TERM_ID}")]),
        "the first term on {PAGE} must be {TERM:?}, linked to its glossary entry"
    );
}

/// Waits until helpbook.js has run on the page (it marks `<html class="js">`).
fn wait_for_script(browser: &mut Browser) {
    browser.wait_until(
        "helpbook.js has run (it marks <html class=\"js\">)",
        "document.documentElement.classList.contains('js') && document.readyState === 'complete'",
        UI_WAIT,
    );
}

/// Waits until the first term's definition is shown (`true`: displayed, on top of the page
/// where it is drawn, inside the window, after any smooth scrolling) or hidden (`false`).
fn wait_for_definition(browser: &mut Browser, what: &str, shown: bool) -> Value {
    let done = if shown {
        "s.shown && s.onTop && s.inViewport"
    } else {
        "!s.shown"
    };
    browser.wait_until(
        what,
        &format!("(() => {{ const s = {TERM_STATE}; return {done} && s; }})()"),
        UI_WAIT,
    )
}

/// WCAG 2 contrast ratio of the first term's definition: its text colour over its background
/// (composited over the page's background when not opaque).
const DEFINITION_CONTRAST: &str = "(() => {
  const def = document.querySelector('.term-link').nextElementSibling;
  const canvas = document.createElement('canvas').getContext('2d');
  const rgba = (css) => {
    canvas.clearRect(0, 0, 1, 1);
    canvas.fillStyle = '#000';
    canvas.fillStyle = css;
    canvas.fillRect(0, 0, 1, 1);
    const d = canvas.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3]));
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map(c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let page = rgba(getComputedStyle(document.body).backgroundColor);
  if (page[3] < 1) page = over(page, over(rgba(getComputedStyle(document.documentElement).backgroundColor), [255, 255, 255]));
  const style = getComputedStyle(def);
  const background = over(rgba(style.backgroundColor), page);
  const text = over(rgba(style.color), background);
  const [l1, l2] = [luminance(text), luminance(background)].sort((a, b) => b - a);
  return {
    ratio: (l1 + 0.05) / (l2 + 0.05),
    color: style.color,
    background: style.backgroundColor,
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
  };
})()";

/// Tabs through the page, as a keyboard user does, until the first term link has focus.
fn tab_to_term(browser: &mut Browser) {
    let mut walked = Vec::new();
    let mut reached = false;
    for _ in 0..MAX_TABS {
        press(browser, "Tab", 9);
        let focused = browser.eval(&format!(
            "(() => {{
  const e = document.activeElement;
  return [e === {LINK}, e ? e.nodeName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') : null];
}})()"
        ));
        walked.push(focused[1].to_string());
        if focused[0] == json!(true) {
            reached = true;
            break;
        }
    }
    assert!(
        reached,
        "{MAX_TABS} Tab presses never focused the first term link {TERM:?}; focus went through: {}",
        walked.join(" → ")
    );
}

/// Keyboard only, no JavaScript: Tab to the first term and its definition shows under it.
#[test]
fn a_term_definition_shows_on_keyboard_focus_without_javascript() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    browser.call(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    open_page(&mut browser, &base);
    assert_eq!(
        browser.eval("document.documentElement.classList.contains('js')"),
        json!(false),
        "JavaScript must be off for this test (helpbook.js marks <html class=\"js\">)"
    );

    let before = browser.eval(TERM_STATE);
    assert_eq!(
        (&before["display"], &before["shown"], &before["shownDefs"]),
        (&json!("none"), &json!(false), &json!(0)),
        "before any focus, no term definition may show: {before:#}"
    );

    tab_to_term(&mut browser);

    let state = wait_for_definition(
        &mut browser,
        "on keyboard focus, without JavaScript, the term's definition shows (displayed, taking \
         room, not covered, inside the window)",
        true,
    );
    assert_eq!(
        state["shownDefs"],
        json!(1),
        "only the focused term's definition shows: {state:#}"
    );
    let text = browser.eval(&format!("{LINK}.nextElementSibling.innerText.trim()"));
    assert_eq!(
        text,
        json!(PLAIN),
        "the shown definition reads as the glossary's plain explanation"
    );

    // Tab on: the definition goes with the focus.
    press(&mut browser, "Tab", 9);
    wait_for_definition(
        &mut browser,
        "when focus moves on, the first term's definition hides again",
        false,
    );
}

/// The accessibility tree, as a screen reader gets it: the link is named by the term and
/// described by the plain explanation.
#[test]
fn a_term_is_described_to_screen_readers() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    open_page(&mut browser, &base);
    wait_for_script(&mut browser);
    browser.call("Accessibility.enable", json!({}));

    let link = browser.call("Runtime.evaluate", json!({ "expression": LINK }));
    let object_id = link["result"]["objectId"]
        .as_str()
        .unwrap_or_else(|| panic!("no object for the first term link: {link}"))
        .to_owned();
    let tree = browser.call(
        "Accessibility.getPartialAXTree",
        json!({ "objectId": object_id, "fetchRelatives": false }),
    );
    let nodes = tree["nodes"].as_array().expect("AX nodes");
    let node = nodes
        .iter()
        .find(|n| n["ignored"] != json!(true) && n["role"]["value"] == json!("link"))
        .unwrap_or_else(|| panic!("the first term is no link in the accessibility tree: {tree:#}"));
    assert_eq!(
        node["name"]["value"],
        json!(TERM),
        "the term link's accessible name must be the term: {node:#}"
    );
    let description = node["description"]["value"].as_str().unwrap_or_default();
    assert_eq!(
        description.split_whitespace().collect::<Vec<_>>().join(" "),
        PLAIN,
        "the term link's accessible description must be the plain explanation: {node:#}"
    );

    // The description is the tooltip next to the link.
    let tooltip = browser.eval(&format!(
        "(() => {{
  const link = {LINK};
  const def = document.getElementById(link.getAttribute('aria-describedby'));
  return def && {{ role: def.getAttribute('role'), next: def === link.nextElementSibling,
                   text: def.textContent }};
}})()"
    ));
    assert_eq!(
        tooltip,
        json!({ "role": "tooltip", "next": true, "text": PLAIN }),
        "aria-describedby must name the tooltip next to the link"
    );
}

/// The mouse: hovering shows the definition, the pointer can move onto it, Escape hides it,
/// and it shows again when the pointer comes back.
#[test]
fn escape_hides_a_term_definition_and_hover_shows_it() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    open_page(&mut browser, &base);
    wait_for_script(&mut browser);
    let (x, y, bottom) = link_position(&mut browser);
    // Away from any term: the top left corner of the window (the header).
    move_mouse(&mut browser, 2.0, 2.0);
    wait_for_definition(
        &mut browser,
        "before the pointer is on the term, its definition is hidden",
        false,
    );

    // 1. Hover shows it.
    move_mouse(&mut browser, x, y);
    let shown = wait_for_definition(
        &mut browser,
        "step 1: hovering the term shows its definition (not covered, inside the window)",
        true,
    );

    // 2. The pointer can go down onto the definition (over the small gap) without it closing.
    let def_top = shown["box"][1].as_f64().expect("the definition's top");
    assert!(
        bottom + 2.0 < def_top,
        "step 2 needs a gap between the term ({bottom}) and its definition: {shown:#}"
    );
    move_mouse(&mut browser, x, bottom + 2.0);
    std::thread::sleep(SETTLE);
    let over_gap = browser.eval(&format!(
        "(() => {{ const s = {TERM_STATE};
  const at = document.elementFromPoint({x}, {gap});
  s.gapCovered = !!at && at.closest('.term') === {LINK}.closest('.term');
  return s; }})()",
        gap = bottom + 2.0
    ));
    assert_eq!(
        (&over_gap["shown"], &over_gap["gapCovered"]),
        (&json!(true), &json!(true)),
        "step 2: moving the pointer from the term towards its definition must not close it: {over_gap:#}"
    );
    let def_centre = browser.eval(&format!(
        "(() => {{ const b = {LINK}.nextElementSibling.getBoundingClientRect();
                  return [b.left + b.width / 2, b.top + b.height / 2]; }})()"
    ));
    let (dx, dy) = (
        def_centre[0].as_f64().expect("x"),
        def_centre[1].as_f64().expect("y"),
    );
    move_mouse(&mut browser, dx, dy);
    std::thread::sleep(SETTLE);
    let over_def = browser.eval(TERM_STATE);
    assert_eq!(
        over_def["shown"],
        json!(true),
        "step 2: the definition stays while the pointer is over it: {over_def:#}"
    );
    move_mouse(&mut browser, x, y);

    // 3. Escape hides it, though the pointer is still on the term.
    press(&mut browser, "Escape", 27);
    let hidden = wait_for_definition(
        &mut browser,
        "step 3: Escape hides the hovered term's definition",
        false,
    );
    assert_eq!(
        hidden["hovered"],
        json!(true),
        "step 3: the pointer is still on the term: {hidden:#}"
    );

    // 4. Away and back: it shows again.
    move_mouse(&mut browser, 2.0, 2.0);
    wait_for_definition(
        &mut browser,
        "step 4: with the pointer away, the definition stays hidden",
        false,
    );
    move_mouse(&mut browser, x, y);
    wait_for_definition(
        &mut browser,
        "step 4: hovering the term again shows its definition again",
        true,
    );
}

/// A click on a term (desktop, with JavaScript) opens its entry in the glossary.
#[test]
fn a_term_link_leads_to_its_glossary_entry() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);
    open_page(&mut browser, &base);
    wait_for_script(&mut browser);

    browser.mark_page();
    browser.click(".term-link");
    browser.wait_for_new_page("clicking the term opens another page");
    let entry_state = format!(
        "(() => {{
  const h = document.getElementById({id});
  const box = h && h.getBoundingClientRect();
  const drawn = box && document.elementFromPoint(box.left + Math.min(box.width, 40) / 2, box.top + box.height / 2);
  return {{
    path: location.pathname,
    hash: location.hash,
    tag: h && h.nodeName,
    text: h && h.textContent,
    box: box && [box.top, box.bottom].map(Math.round),
    viewport: innerHeight,
    inView: !!box && box.top >= 0 && box.bottom <= innerHeight && !!drawn && h.contains(drawn),
  }};
}})()",
        id = json!(TERM_ID)
    );
    // The glossary scrolls smoothly to the entry: wait for the scroll to arrive.
    browser.wait_until(
        "the glossary opens scrolled to the term's entry, its heading in view and not covered",
        &format!("(() => {{ const s = {entry_state}; return s.inView && s; }})()"),
        UI_WAIT,
    );
    let entry = browser.eval(&entry_state);
    assert_eq!(
        (&entry["path"], &entry["hash"]),
        (&json!("/glossary.html"), &json!(format!("#{TERM_ID}"))),
        "the term link must lead to its entry in the glossary: {entry:#}"
    );
    assert_eq!(
        entry["tag"],
        json!("H2"),
        "the glossary entry is an <h2 id={TERM_ID:?}>: {entry:#}"
    );
    let heading = entry["text"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        heading.contains(&TERM.to_lowercase()),
        "the glossary entry's heading must name the term {TERM:?}: {entry:#}"
    );

    // From the keyboard, Enter on the term follows the link at once (only a tap on a touch
    // screen shows the definition first).
    open_page(&mut browser, &base);
    wait_for_script(&mut browser);
    tab_to_term(&mut browser);
    browser.mark_page();
    press(&mut browser, "Enter", 13);
    browser.wait_for_new_page("Enter on the term opens the glossary");
    let entry = browser.wait_until(
        "Enter on the term opens its glossary entry",
        &format!("(() => {{ const s = {entry_state}; return s.hash && s; }})()"),
        UI_WAIT,
    );
    assert_eq!(
        (&entry["path"], &entry["hash"]),
        (&json!("/glossary.html"), &json!(format!("#{TERM_ID}"))),
        "{entry:#}"
    );
}

/// In light and in dark mode, the shown definition is readable: WCAG AA contrast (4.5:1).
#[test]
fn a_term_definition_is_readable_in_light_and_dark_mode() {
    let mut browser = Browser::launch();
    let site = sample_site();
    let server = Server::start(site.root());
    let base = format!("http://{}", server.addr);

    for scheme in ["light", "dark"] {
        browser.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        );
        open_page(&mut browser, &base);
        wait_for_script(&mut browser);
        let (x, y, _) = link_position(&mut browser);
        move_mouse(&mut browser, 2.0, 2.0);
        move_mouse(&mut browser, x, y);
        wait_for_definition(
            &mut browser,
            &format!("{scheme} mode: hovering the term shows its definition"),
            true,
        );
        let contrast = browser.eval(DEFINITION_CONTRAST);
        assert_eq!(
            contrast["dark"],
            json!(scheme == "dark"),
            "{scheme} mode must be emulated: {contrast:#}"
        );
        let ratio = contrast["ratio"].as_f64().expect("contrast ratio");
        assert!(
            ratio >= 4.5,
            "{scheme} mode: the definition's text must have a contrast of at least 4.5:1 with \
             its background, not {ratio:.2}: {contrast:#}"
        );
    }
}
