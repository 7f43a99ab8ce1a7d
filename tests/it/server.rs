//! `helpbook serve --production`: a real server on a loopback port, a real SQLite file, and the
//! PostgreSQL of `HELPBOOK_TEST_POSTGRES` (CI starts one; see `.ci/run`).

use std::path::Path;

use helpbook::analytics::EventStore;

use crate::support::{Reply, Server, TestSite, http, runtime, stored};

pub(crate) fn site() -> TestSite {
    let site = TestSite::new()
        .page(
            "audio.md",
            "---\ntitle: Students can't hear me\nkind: troubleshooting\nseverity: urgent\n---\n\nUnmute the microphone.\n",
        )
        .page("video.md", "# Video is frozen\n\nClose other apps.\n");
    site.build_ok();
    site
}

/// The production server for `site`, its events in `events` (a file or a postgres URL).
pub(crate) fn production(site: &TestSite, events: &str, env: &[(&str, &str)]) -> Server {
    let mut all = vec![("HELPBOOK_SERVER__EVENTS", events)];
    all.extend_from_slice(env);
    Server::start_with(site.root(), &["--production"], &all)
}

pub(crate) fn post(server: &Server, path: &str, body: &str) -> Reply {
    http(&server.addr, "POST", path, &[], body.as_bytes())
}

pub(crate) fn get(server: &Server, path: &str) -> Reply {
    http(&server.addr, "GET", path, &[], b"")
}

pub(crate) fn sqlite(site: &TestSite) -> String {
    site.root()
        .join(".helpbook/events.sqlite")
        .to_string_lossy()
        .into_owned()
}

/// A fresh schema in the test PostgreSQL, or `None` (said aloud) when there is none here.
/// With `HELPBOOK_REQUIRE_POSTGRES` set (CI), a missing database fails the test.
pub(crate) fn postgres(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("HELPBOOK_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("HELPBOOK_REQUIRE_POSTGRES").is_none(),
            "HELPBOOK_TEST_POSTGRES is not set, but HELPBOOK_REQUIRE_POSTGRES is: CI must test PostgreSQL"
        );
        eprintln!("SKIPPED {name}: set HELPBOOK_TEST_POSTGRES=postgres://… to run it");
        return None;
    };
    let schema = format!(
        "t_{name}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            % 1_000_000_000
    );
    runtime().block_on(async {
        use sqlx::Executor;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&base)
            .await
            .expect("connect to the test PostgreSQL");
        pool.execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .expect("create schema");
        pool.close().await;
    });
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// Searches, clicks and feedback from one tab end up in the store; the keystrokes of one
/// search-as-you-type session are one search, with the final query.
fn events_round_trip(location: &str) {
    let site = site();
    let server = production(&site, location, &[]);
    for q in ["stu", "students", "students cant", "students cant hear"] {
        let r = get(
            &server,
            &format!(
                "/api/search?q={}&session=tab-0000aaaa&search_id=typing-0001",
                q.replace(' ', "+")
            ),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // A search without a session is answered but not recorded.
    assert_eq!(get(&server, "/api/search?q=frozen").status, 200);
    let r = post(
        &server,
        "/api/events",
        r#"[{"type":"click","session":"tab-0000aaaa","search_id":"typing-0001","url":"/audio.html","rank":1},
            {"type":"click","session":"tab-0000aaaa","search_id":"typing-0001","url":"/video.html","rank":2},
            {"type":"view","session":"tab-0000aaaa","url":"/audio.html"},
            {"type":"feedback","session":"tab-0000aaaa","url":"/audio.html","helpful":false,"reason":"didnt_fix","comment":"my number is 0123 456 789"}]"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], 4);
    // Searches are written in the background; a graceful stop writes them before exiting.
    assert!(server.stop().success());
    let searches = runtime().block_on(async {
        let store = EventStore::open(location).await.unwrap();
        let s = store.searches("tab-0000aaaa").await.unwrap();
        store.close().await;
        s
    });
    assert_eq!(searches.len(), 1, "keystrokes are one search: {searches:?}");
    let (id, query, normalized, results) = &searches[0];
    assert_eq!(id, "typing-0001");
    assert_eq!(query, "students cant hear");
    assert_eq!(normalized, "cant hear student");
    assert!(*results >= 1);
    // Two results opened from one search are two clicks.
    assert_eq!(stored(location, "tab-0000aaaa", "click"), 2);
    assert_eq!(stored(location, "tab-0000aaaa", "feedback"), 1);
}

#[test]
fn sqlite_events_round_trip() {
    let site = TestSite::new();
    let location = sqlite(&site);
    events_round_trip(&location);
    assert!(Path::new(&location).is_file());
}

#[test]
fn postgres_events_round_trip() {
    if let Some(url) = postgres("round_trip") {
        events_round_trip(&url);
    }
}

/// Every event the server acknowledged is in the database: many clients at once, in batches.
fn no_acknowledged_event_is_lost(location: &str) {
    let site = site();
    let server = production(&site, location, &[("HELPBOOK_SERVER__RATE_LIMIT", "0")]);
    let threads = 8;
    let batches = 25;
    let per_batch = 10;
    let acked: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let addr = server.addr.clone();
                scope.spawn(move || {
                    let session = format!("load-{t:04}-session");
                    let mut acked = 0;
                    for b in 0..batches {
                        let events: Vec<String> = (0..per_batch)
                            .map(|i| {
                                format!(
                                    r#"{{"type":"view","session":"{session}","url":"/page-{b}-{i}.html"}}"#
                                )
                            })
                            .collect();
                        let body = format!("[{}]", events.join(","));
                        let r = http(&addr, "POST", "/api/events", &[], body.as_bytes());
                        if r.status == 200 {
                            acked += per_batch;
                        }
                    }
                    acked
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    drop(server);
    let total: usize = acked.iter().sum();
    assert_eq!(
        total,
        threads * batches * per_batch,
        "every batch was acknowledged"
    );
    for (t, n) in acked.iter().enumerate() {
        assert_eq!(
            stored(location, &format!("load-{t:04}-session"), "view"),
            *n as i64,
            "client {t}"
        );
    }
}

#[test]
fn sqlite_keeps_every_acknowledged_event_under_load() {
    let site = TestSite::new();
    no_acknowledged_event_is_lost(&sqlite(&site));
}

#[test]
fn postgres_keeps_every_acknowledged_event_under_load() {
    if let Some(url) = postgres("load") {
        no_acknowledged_event_is_lost(&url);
    }
}

/// Killed without warning in the middle of a load, the server has lost nothing it acknowledged:
/// after a restart on the same file, every acknowledged event is there.
#[test]
fn hard_kill_mid_load_loses_no_acknowledged_event() {
    let site = site();
    let location = sqlite(&site);
    let server = production(&site, &location, &[("HELPBOOK_SERVER__RATE_LIMIT", "0")]);
    let addr = server.addr.clone();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let acked: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let addr = addr.clone();
                let stop = &stop;
                scope.spawn(move || {
                    let mut acked = 0;
                    // Bounded: at most 400 requests per client.
                    for i in 0..400 {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            break;
                        }
                        let body = format!(
                            r#"{{"type":"view","session":"kill-{t:04}-session","url":"/p{i}.html"}}"#
                        );
                        let r = std::panic::catch_unwind(|| {
                            http(&addr, "POST", "/api/events", &[], body.as_bytes())
                        });
                        match r {
                            Ok(r) if r.status == 200 => acked += 1,
                            _ => break,
                        }
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(700));
        server.kill_hard();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        acked.iter().sum::<usize>() > 0,
        "some events were acknowledged before the kill"
    );
    // The restarted server opens the same file (recovering its WAL) and serves again.
    let server = production(&site, &location, &[]);
    assert_eq!(get(&server, "/healthz").status, 200);
    drop(server);
    for (t, n) in acked.iter().enumerate() {
        let have = stored(&location, &format!("kill-{t:04}-session"), "view");
        assert!(
            have >= *n as i64,
            "client {t}: {n} acknowledged, {have} stored"
        );
    }
}

/// Anything a client sends gets a 4xx with a JSON reason, never a 500.
#[test]
fn bad_requests_get_a_json_reason() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            post(&server, "/api/events", "not json"),
            400,
            "not valid JSON",
        ),
        (
            http(
                &server.addr,
                "POST",
                "/api/events",
                &[],
                b"{\"type\":\"view\",\"session\":\"\xff\xfe\"}",
            ),
            400,
            "UTF-8",
        ),
        (
            post(&server, "/api/events", r#"{"type":"view"}"#),
            400,
            "session",
        ),
        (
            post(
                &server,
                "/api/events",
                r#"{"type":"view","session":"tab-12345678","url":"/a.html","extra":1}"#,
            ),
            400,
            "unknown field",
        ),
        (
            post(
                &server,
                "/api/events",
                r#"{"type":"view","session":"x","url":"/a.html"}"#,
            ),
            400,
            "session must be",
        ),
        (
            post(
                &server,
                "/api/events",
                r#"[{"type":"view","session":"tab-12345678","url":"/a.html"},{"type":"click","session":"tab-12345678","search_id":"s-12345678","url":"/a.html","rank":0}]"#,
            ),
            400,
            "event 2: rank",
        ),
        (post(&server, "/api/events", "[]"), 400, "from 1 to 100"),
        (
            post(&server, "/api/events", &"x".repeat(9 * 1024)),
            413,
            "8 KB",
        ),
        (
            get(&server, &format!("/api/search?q={}", "a".repeat(201))),
            400,
            "200 characters",
        ),
        (get(&server, "/api/search?q=%FF%FE"), 400, "UTF-8"),
        (get(&server, "/api/search?q=x&kind=nonsense"), 400, "kind"),
        (
            get(&server, "/api/nothing-here"),
            404,
            "no such API endpoint",
        ),
    ];
    for (reply, status, fragment) in cases {
        assert_eq!(reply.status, status, "{}", reply.text());
        let json = reply.json();
        let message = json["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(fragment),
            "expected `{fragment}` in `{message}`"
        );
    }
    assert_eq!(get(&server, "/no-such-page.html").status, 404);
    assert_eq!(get(&server, "/.helpbook/events.sqlite").status, 404);
}

#[test]
fn production_headers_compression_and_caching() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    let page = http(
        &server.addr,
        "GET",
        "/audio.html",
        &[("Accept-Encoding", "gzip")],
        b"",
    );
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-encoding"), Some("gzip"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.header("last-modified").is_some());
    let css = get(&server, "/_helpbook/style.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("cache-control"), Some("public, max-age=86400"));
    let api = get(&server, "/api/search?q=frozen");
    assert_eq!(api.header("cache-control"), Some("no-store"));
    assert!(api.text().contains("/video.html"));
}

#[test]
fn api_rate_limit_answers_429_with_retry_after() {
    let site = site();
    // 20 a minute: a burst of 5, then one every 3 s.
    let server = production(
        &site,
        &sqlite(&site),
        &[("HELPBOOK_SERVER__RATE_LIMIT", "20")],
    );
    let replies: Vec<Reply> = (0..12)
        .map(|_| get(&server, "/api/search?q=frozen"))
        .collect();
    assert_eq!(replies[0].status, 200);
    let limited = replies
        .iter()
        .find(|r| r.status == 429)
        .expect("a client over its rate is refused");
    assert!(limited.header("retry-after").is_some());
    assert!(
        limited.json()["error"]
            .as_str()
            .unwrap()
            .contains("too many requests")
    );
    // Pages are not rate limited.
    assert_eq!(get(&server, "/audio.html").status, 200);
}

/// An API reference under `api/` is part of the site: its pages are served, in production and
/// in the preview, while a path under /api/ that is neither an endpoint nor a page gets the
/// API's JSON 404.
#[test]
fn pages_under_api_are_served() {
    let site = TestSite::new().page(
        "api/rooms.md",
        "---\ntitle: Rooms API\nkind: reference\n---\n\n`GET /v1/rooms` lists the rooms.\n",
    );
    site.build_ok();
    for server in [
        production(&site, &sqlite(&site), &[]),
        Server::start(site.root()),
    ] {
        let page = get(&server, "/api/rooms.html");
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(page.text().contains("lists the rooms"));
        assert_eq!(get(&server, "/api/").status, 200, "the section's index");
        let missing = get(&server, "/api/rooms-v2.html");
        assert_eq!(missing.status, 404);
        assert!(
            missing.json()["error"]
                .as_str()
                .unwrap()
                .contains("API endpoint")
        );
        assert_eq!(post(&server, "/api/rooms.html", "{}").status, 404);
    }
}
