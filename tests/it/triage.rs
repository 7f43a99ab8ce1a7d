//! Triage trees: the pages a tree becomes (followed by plain HTTP from the first question to
//! every fix, as a reader with JavaScript off would), the events a tree records, tickets filed
//! from it, its report, the outage banner, and search finding it.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::{Duration, Instant};

use helpbook::analytics::{EventStore, Period};
use serde_json::Value;

use crate::server::{get, post, postgres, production, sqlite};
use crate::support::{Server, TestSite, http, runtime, sample_site};

const TOKEN: &str = "test-admin-token-0123456789";

const TREE: &str = "\
id: class
title: Something is wrong in my class
description: Find the fix in two questions.
audience: teacher
symptoms: [class broken]
start: who
nodes:
  who:
    question: Who has the problem?
    help: |
      Ask the class in **Chat**. See [the audio guide](audio.md#quick-fix).
    options:
      - label: Everyone, in every class
        id: everyone
        answer: ClassLive itself is down. Wait five minutes, then reload.
        severity: urgent
        outage: true
      - label: Only me
        id: me
        next: what
  what:
    question: Sound or picture?
    options:
      - label: Students can't hear me
        id: sound
        page: audio.md#quick-fix
      - label: My video is frozen
        id: video
        page: video.md
        severity: high
      - label: Something else
        id: else
        answer: Reload the class tab.
";

fn tree_site() -> TestSite {
    let site = TestSite::new()
        .page(
            "audio.md",
            "---\ntitle: Students can't hear me\ndescription: The class hears nothing.\nkind: troubleshooting\nseverity: urgent\n---\n\n\
             ## Quick fix {#quick-fix}\n\n1. Click **Mic** (see [mic settings](#mic)).\n2. Pick the right microphone.\n\n\
             ## Mic settings {#mic}\n\nOpen **Settings → Audio**.\n",
        )
        .page(
            "video.md",
            "# Video is frozen\n\nTry these:\n\n1. Turn the camera off.\n2. Close other apps.\n",
        )
        .page("help.md", "# Quick help\n\nAnswer one question:\n\n{{#triage class}}\n\nMore text.\n")
        .page("index.md", "# Help\n\nWelcome.\n")
        .file("content/triage/class.yaml", TREE);
    site.build_ok();
    site
}

/// `href="…"` values of `<a class="…triage-option…">` links in `html`.
fn option_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in html.split("<a ").skip(1) {
        let tag = piece.split('>').next().unwrap_or("");
        if !tag.contains("triage-option") {
            continue;
        }
        if let Some(href) = tag
            .split("href=\"")
            .nth(1)
            .and_then(|h| h.split('"').next())
        {
            out.push(href.to_string());
        }
    }
    out
}

/// Resolves `href` against the page at `path` (both site paths).
fn resolve(path: &str, href: &str) -> String {
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in href.split('#').next().unwrap_or("").split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[test]
fn every_question_and_fix_is_a_page_with_plain_links() {
    let site = tree_site();
    for page in [
        "triage/class/index.html",
        "triage/class/what.html",
        "triage/class/who/everyone.html",
        "triage/class/what/sound.html",
        "triage/class/what/video.html",
        "triage/class/what/else.html",
    ] {
        assert!(site.output_exists(page), "{page} was not written");
    }
    let start = site.output("triage/class/index.html");
    assert!(
        start.contains(
            "<h1 class=\"triage-title triage-question\" tabindex=\"-1\">Who has the problem?</h1>"
        ),
        "{start}"
    );
    // Help is Markdown; its links are relative to the content folder, rebased for the page.
    assert!(
        start.contains("Ask the class in <strong>Chat</strong>"),
        "{start}"
    );
    assert!(
        start.contains("href=\"../../audio.html#quick-fix\""),
        "{start}"
    );
    assert_eq!(
        option_links(&start),
        [
            "../../triage/class/who/everyone.html",
            "../../triage/class/what.html"
        ]
    );

    let what = site.output("triage/class/what.html");
    assert!(
        what.contains("triage-trail"),
        "a later question shows the answers so far"
    );
    assert!(what.contains("<span class=\"triage-trail-answer\">Only me</span>"));
    assert!(what.contains("class=\"triage-back\" href=\"../../triage/class/index.html\""));

    // A fix from a guide: its description, its first steps (links rebased), the guide's link,
    // "Did this fix it?", the next fixes of the same question, the form pre-filled.
    let sound = site.output("triage/class/what/sound.html");
    assert!(
        sound
            .contains("<h1 class=\"triage-title\" tabindex=\"-1\">Students can&#39;t hear me</h1>"),
        "{sound}"
    );
    assert!(sound.contains("The class hears nothing."));
    assert!(sound.contains("Click <strong>Mic</strong>"));
    assert!(
        sound.contains("href=\"../../../audio.html#mic\""),
        "same-page anchors lead to the guide: {sound}"
    );
    assert!(
        !sound.contains("Open <strong>Settings"),
        "only the anchored section is shown"
    );
    assert!(
        sound.contains("href=\"../../../audio.html#quick-fix\""),
        "the guide at its anchor"
    );
    assert!(sound.contains("Did this fix it?"));
    assert!(sound.contains(
        "<form class=\"triage-outcome-form\" action=\"../../../api/triage\" method=\"post\">"
    ));
    assert!(sound.contains("name=\"path\" value=\"who/me,what/sound\""));
    assert!(sound.contains("name=\"triage_path\" value=\"who/me,what/sound\""));
    assert!(sound.contains("My answers:\nWho has the problem? Only me\nSound or picture? Students can&#39;t hear me"), "{sound}");
    assert_eq!(
        option_links(&sound),
        [
            "../../../triage/class/what/video.html",
            "../../../triage/class/what/else.html"
        ],
        "the next fixes, most likely first"
    );
    let video = site.output("triage/class/what/video.html");
    assert!(
        video.contains("Turn the camera off."),
        "a guide without an anchor shows its first list"
    );
    assert!(video.contains("data-severity=\"high\""));
    let everyone = site.output("triage/class/who/everyone.html");
    assert!(
        everyone.contains("ClassLive itself is down."),
        "an answer is shown in place"
    );
    assert!(everyone.contains("data-severity=\"urgent\""));

    // The front door leads with the tree; a page embeds its first question.
    let home = site.output("index.html");
    assert!(
        home.contains("Something wrong in your live class? Start here"),
        "{home}"
    );
    assert!(home.contains("href=\"triage/class/index.html\">Something is wrong in my class</a>"));
    let help = site.output("help.html");
    assert!(help.contains("class=\"triage-embed\""), "{help}");
    assert_eq!(
        option_links(&help),
        ["triage/class/who/everyone.html", "triage/class/what.html"]
    );
    assert!(!help.contains("{{#triage"));

    // What the server reads, and the sitemap.
    let meta: Value = serde_json::from_str(&site.output(".helpbook/triage.json")).unwrap();
    assert_eq!(meta[0]["id"], "class");
    assert_eq!(meta[0]["steps"]["who/everyone"]["outage"], true);
    assert_eq!(meta[0]["steps"]["who/me"]["next"], "what");
    assert!(
        site.output("sitemap.xml")
            .contains("triage/class/what/sound.html")
    );
}

#[test]
fn a_broken_tree_fails_the_build_and_check_like_a_broken_link() {
    let site = TestSite::new().page("audio.md", "# Audio\n").file(
        "content/triage/class.yaml",
        TREE.replace("next: what", "next: wat")
            .replace("page: video.md", "page: video.md\n        answer: x"),
    );
    let out = site.run(&["build"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "content/triage/class.yaml:20:15",
        "option `Only me` of node `who` leads to node `wat`, which does not exist",
        "content/triage/class.yaml:21:3",
        "node `what` cannot be reached from the start node `who`",
        "content/triage/class.yaml:27:16",
        "option `My video is frozen` of node `what` has both `page` and `answer`",
        "nothing was written",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!site.root().join("public").exists());

    let latin1 = TestSite::new().page("index.md", "# Home\n").file(
        "content/triage/t.yaml",
        b"id: t\ntitle: Caf\xe9\n".as_slice(),
    );
    let out = latin1.run(&["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/triage/t.yaml:2:11") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
}

/// Follows every answer from each tree's first question, as a browser without JavaScript
/// would; returns the fix pages reached. Every page must answer 200 and offer its answers.
fn walk(server: &Server, meta: &Value) -> BTreeSet<String> {
    let mut fixes = BTreeSet::new();
    for tree in meta.as_array().expect("trees") {
        let id = tree["id"].as_str().unwrap();
        let start = format!("/triage/{id}/index.html");
        let mut queue = VecDeque::from([start.clone()]);
        let mut seen = HashSet::from([start]);
        while let Some(path) = queue.pop_front() {
            let (status, _, html) = server.get(&path);
            assert_eq!(status, 200, "{path}");
            let links = option_links(&html);
            if html.contains("triage-outcome-form") {
                assert!(
                    html.contains("Did this fix it?") || html.contains("问题解决了吗？"),
                    "{path}"
                );
                fixes.insert(path.clone());
            } else {
                assert!(!links.is_empty(), "{path}: a question without answers");
            }
            for href in links {
                let next = resolve(&path, &href);
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
        // Every fix the tree has was reached from its first question.
        let expected: BTreeSet<String> = tree["steps"]
            .as_object()
            .unwrap()
            .values()
            .filter(|s| s["fix"] == true)
            .map(|s| s["url"].as_str().unwrap().to_string())
            .collect();
        let reached: BTreeSet<String> = fixes
            .iter()
            .filter(|f| f.starts_with(&format!("/triage/{id}/")))
            .cloned()
            .collect();
        assert_eq!(reached, expected, "tree {id}: fixes reached by plain links");
    }
    fixes
}

#[test]
fn plain_http_reaches_every_fix_of_every_tree() {
    let site = tree_site();
    let server = Server::start(site.root());
    let meta: Value = serde_json::from_str(&site.output(".helpbook/triage.json")).unwrap();
    assert_eq!(walk(&server, &meta).len(), 4);

    // The sample knowledge base: every tree, English and Chinese.
    let sample = sample_site();
    sample.build_ok();
    let meta: Value = serde_json::from_str(&sample.output(".helpbook/triage.json")).unwrap();
    let ids: Vec<&str> = meta
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for id in [
        "live-class",
        "audio",
        "join",
        "zh-live-class",
        "zh-audio",
        "zh-join",
    ] {
        assert!(
            ids.contains(&id),
            "the sample site has the tree `{id}`: {ids:?}"
        );
    }
    let server = Server::start(sample.root());
    let fixes = walk(&server, &meta);
    assert!(fixes.len() >= 20, "{fixes:?}");
}

fn event(server: &Server, body: &str) -> u16 {
    let r = post(server, "/api/events", body);
    if r.status != 200 {
        eprintln!("{body} -> {} {}", r.status, r.text());
    }
    r.status
}

fn triage(session: &str, step: &str, path: &str, outcome: Option<&str>) -> String {
    let outcome = outcome.map_or(String::new(), |o| format!(",\"outcome\":\"{o}\""));
    format!(
        r#"{{"type":"triage","session":"{session}","tree":"class","step":"{step}","path":"{path}"{outcome}}}"#
    )
}

fn form(server: &Server, path: &str, body: &str) -> crate::support::Reply {
    http(
        &server.addr,
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

#[test]
fn steps_outcomes_and_tickets_are_recorded_and_reported() {
    let site = tree_site();
    let events = sqlite(&site);
    record_and_check(&site, &events);
    let out = site.run(&["gaps", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_report(&report["trees"][0]);
    let text = String::from_utf8_lossy(&site.run(&["gaps"]).stdout).into_owned();
    assert!(text.contains("Triage trees"), "{text}");
    assert!(
        text.contains("Something is wrong in my class (class): 5 readers"),
        "{text}"
    );
    assert!(text.contains("Fixes that fail most"), "{text}");
    assert!(
        text.contains("Sound or picture? → Students can't hear me"),
        "{text}"
    );
}

#[test]
fn steps_outcomes_and_tickets_on_postgresql() {
    let Some(url) = postgres("triage") else {
        return;
    };
    let site = tree_site();
    record_and_check(&site, &url);
    let meta: Vec<helpbook::triage::TreeMeta> =
        serde_json::from_str(&site.output(".helpbook/triage.json")).unwrap();
    let report = runtime().block_on(async {
        let store = EventStore::open(&url).await.unwrap();
        let period = Period::parse("1d", helpbook::analytics::now_ms()).unwrap();
        let r = store.tree_report(period, &meta).await.unwrap();
        store.close().await;
        r
    });
    check_report(&serde_json::to_value(&report[0]).unwrap());
}

/// Four readers walk the tree (one fails a fix then succeeds, one leaves, one files a ticket
/// after an outage answer), two answer through the form without JavaScript; refused events
/// say why. The events go to `events` (a SQLite file or a PostgreSQL URL).
fn record_and_check(site: &TestSite, events: &str) {
    let server = production(
        site,
        events,
        &[
            ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
            ("HELPBOOK_SERVER__ADMIN_TOKEN", TOKEN),
        ],
    );

    // A: a fix that did not help, then the next one that did.
    for body in [
        triage("sess-aaaaaaaa", "who", "", None),
        triage("sess-aaaaaaaa", "what", "who/me", None),
        triage("sess-aaaaaaaa", "what/sound", "who/me,what/sound", None),
        triage(
            "sess-aaaaaaaa",
            "what/sound",
            "who/me,what/sound",
            Some("not_resolved"),
        ),
        triage("sess-aaaaaaaa", "what/video", "who/me,what/video", None),
        triage(
            "sess-aaaaaaaa",
            "what/video",
            "who/me,what/video",
            Some("resolved"),
        ),
        // B: left at the second question.
        triage("sess-bbbbbbbb", "who", "", None),
        triage("sess-bbbbbbbb", "what", "who/me", None),
        // C: everyone is hit; files a ticket.
        triage("sess-cccccccc", "who", "", None),
        triage("sess-cccccccc", "who/everyone", "who/everyone", None),
    ] {
        assert_eq!(event(&server, &body), 200, "{body}");
    }

    // What the server refuses, with the reason.
    for (body, reason) in [
        (
            triage("sess-dddddddd", "what", "who/everyone", None),
            "path does not lead to step `what`",
        ),
        (
            triage("sess-dddddddd", "what", "who/me", Some("resolved")),
            "is a question, not a fix",
        ),
        (
            triage(
                "sess-dddddddd",
                "what/sound",
                "who/me,what/sound",
                Some("escalated"),
            ),
            "recorded by the server",
        ),
        (
            triage("sess-dddddddd", "nope", "", None),
            "step `nope` is not part of tree `class`",
        ),
        (
            triage("sess-dddddddd", "what/sound", "what/sound", None),
            "does not answer question `who`",
        ),
        (
            r#"{"type":"triage","session":"sess-dddddddd","tree":"other","step":"who"}"#
                .to_string(),
            "tree `other` is not a tree of this site",
        ),
    ] {
        let r = post(&server, "/api/events", &body);
        assert_eq!(r.status, 400, "{body}");
        assert!(r.text().contains(reason), "{body}: {}", r.text());
    }

    // A ticket from a fix page carries the answers, and the most severe answer sets its
    // priority (the page itself has none).
    let r = post(
        &server,
        "/api/tickets",
        r#"{"session":"sess-cccccccc","contact":"ann@school.edu","description":"Nobody can join.","url":"/triage/class/who/everyone.html","triage_tree":"class","triage_path":"who/everyone"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["priority"], "urgent");
    let r = post(
        &server,
        "/api/tickets",
        r#"{"contact":"a@b.c","description":"x","triage_tree":"class","triage_path":"who/me,what/nope"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text()
            .contains("`what/nope` is not an answer of tree `class`"),
        "{}",
        r.text()
    );

    // Without JavaScript: "Yes" is a short page, "No" goes back to the fix's next steps.
    let r = form(
        &server,
        "/api/triage",
        "tree=class&step=what%2Felse&path=who%2Fme%2Cwhat%2Felse&session=sess-eeeeeeee&outcome=resolved",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("glad it works again"), "{}", r.text());
    let r = form(
        &server,
        "/api/triage",
        "tree=class&step=what%2Fsound&path=who%2Fme%2Cwhat%2Fsound&session=&outcome=not_resolved",
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/triage/class/what/sound.html#not-fixed")
    );
    let r = form(
        &server,
        "/api/triage",
        "tree=class&step=who&path=&outcome=resolved",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("only a fix has an outcome"),
        "{}",
        r.text()
    );

    assert_eq!(server.stop().code(), Some(0));

    let ticket = runtime().block_on(async {
        let store = EventStore::open(events).await.unwrap();
        let t = store.recent_tickets(5).await.unwrap();
        store.close().await;
        t
    });
    let payload = serde_json::to_value(&ticket[0].ticket).unwrap();
    assert_eq!(payload["triage"]["tree"], "class");
    assert_eq!(
        payload["triage"]["answers"][0]["question"],
        "Who has the problem?"
    );
    assert_eq!(
        payload["triage"]["answers"][0]["answer"],
        "Everyone, in every class"
    );
}

/// The report of [`record_and_check`]'s readers: outcomes, where they left, the fixes that fail.
fn check_report(tree: &Value) {
    assert_eq!(tree["tree"], "class");
    // A, B, C, E (the form's "yes") and the anonymous "no" of the form.
    assert_eq!(tree["readers"], 5, "{tree:#}");
    assert_eq!(tree["resolved"], 2, "{tree:#}");
    assert_eq!(tree["not_resolved"], 1, "{tree:#}");
    assert_eq!(tree["escalated"], 1, "{tree:#}");
    assert_eq!(tree["abandoned"], 1, "{tree:#}");
    let what = tree["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "what")
        .unwrap();
    assert_eq!(
        what["dropped"], 1,
        "B left at the second question: {tree:#}"
    );
    assert_eq!(what["text"], "Sound or picture?");
    let first_fix = &tree["fixes"][0];
    assert_eq!(
        first_fix["step"], "what/sound",
        "the fix that failed most: {tree:#}"
    );
    assert_eq!(first_fix["not_resolved"], 2);
}

#[test]
fn many_outage_answers_raise_the_known_problem_banner() {
    let site = tree_site();
    let events = sqlite(&site);
    let server = production(
        &site,
        &events,
        &[
            ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
            ("HELPBOOK_SERVER__OUTAGE_THRESHOLD", "2"),
            ("HELPBOOK_SERVER__ADMIN_TOKEN", TOKEN),
        ],
    );
    let banner = "class=\"outage-banner\"";
    assert!(
        !get(&server, "/triage/class/index.html")
            .text()
            .contains(banner)
    );
    // One reader is not an outage; repeats of one reader still count once.
    for _ in 0..3 {
        assert_eq!(
            event(
                &server,
                &triage("sess-aaaaaaaa", "who/everyone", "who/everyone", None)
            ),
            200
        );
    }
    // Answers that do not signal an outage do not count.
    assert_eq!(
        event(&server, &triage("sess-bbbbbbbb", "what", "who/me", None)),
        200
    );
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        !get(&server, "/triage/class/index.html")
            .text()
            .contains(banner)
    );

    assert_eq!(
        event(
            &server,
            &triage("sess-cccccccc", "who/everyone", "who/everyone", None)
        ),
        200
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = get(&server, "/triage/class/what.html");
        if page.text().contains(banner) {
            assert_eq!(page.header("cache-control"), Some("no-store"));
            assert!(page.text().contains("It is probably not your fault"));
            assert!(
                page.text()
                    .contains("<p class=\"outage-detail\">Something is wrong in my class</p>")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no banner 30 s after the second outage answer"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // The home page too, even for a browser holding a copy from before.
    let home = http(
        &server.addr,
        "GET",
        "/",
        &[("If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT")],
        b"",
    );
    assert_eq!(home.status, 200);
    assert!(home.text().contains(banner), "{}", home.text());
    // Not on other pages.
    assert!(!get(&server, "/audio.html").text().contains(banner));
    // And /admin flags it.
    let admin = http(
        &server.addr,
        "GET",
        "/admin/",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        b"",
    );
    assert_eq!(admin.status, 200, "{}", admin.text());
    assert!(
        admin.text().contains("Outage signal on"),
        "{}",
        admin.text()
    );
    assert!(
        admin.text().contains("2 readers in the last 15 minutes"),
        "{}",
        admin.text()
    );
    assert!(admin.text().contains("Triage trees"));
    // Three readers were shown the tree and none answered "Did this fix it?".
    assert!(
        admin
            .text()
            .contains("<p>3 readers · fixed 0 (0 %) · not fixed 0 · ticket 0 · left 3</p>"),
        "{}",
        admin.text()
    );
}

#[test]
fn search_finds_trees_by_their_questions_and_answers() {
    let site = tree_site();
    let out = site.run(&["search", "sound or picture"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("triage/class/index.html"), "{text}");
    let out = site.run(&["search", "--kind", "triage", "video frozen"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("triage/class/index.html"), "{text}");
}
