//! The gap report: which searches went unresolved and why, which pages did not help, the
//! self-service score; on `/admin` behind the token, and from `helpbook gaps`.

use crate::server::{get, post, postgres, production, site, sqlite};
use crate::support::{Reply, Server, TestSite, http};

const TOKEN: &str = "test-admin-token-0123456789";

fn search(server: &Server, session: &str, id: &str, q: &str) {
    let r = get(
        server,
        &format!(
            "/api/search?q={}&session={session}&search_id={id}",
            q.replace(' ', "+")
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

fn events(server: &Server, body: &str) {
    let r = post(server, "/api/events", body);
    assert_eq!(r.status, 200, "{body}: {}", r.text());
}

/// Five readers, one outcome each: nothing found; found but not opened; opened and "did not
/// help"; opened and then a ticket; opened and it helped.
fn five_readers(server: &Server) {
    search(server, "sess-aaaaaaaa", "s-a-000001", "zoom breakout rooms");
    search(server, "sess-bbbbbbbb", "s-b-000001", "students cant hear");
    search(
        server,
        "sess-cccccccc",
        "s-c-000001",
        "Students can't hear!",
    );
    events(
        server,
        r#"[{"type":"click","session":"sess-cccccccc","search_id":"s-c-000001","url":"/audio.html","rank":1},
            {"type":"view","session":"sess-cccccccc","url":"/audio.html"},
            {"type":"feedback","session":"sess-cccccccc","url":"/audio.html","helpful":false,"reason":"outdated","comment":"The menu moved in version 5"}]"#,
    );
    search(server, "sess-dddddddd", "s-d-000001", "video frozen");
    events(
        server,
        r#"[{"type":"click","session":"sess-dddddddd","search_id":"s-d-000001","url":"/video.html","rank":1},
            {"type":"view","session":"sess-dddddddd","url":"/video.html"}]"#,
    );
    let r = post(
        server,
        "/api/tickets",
        r#"{"session":"sess-dddddddd","contact":"dan@school.edu","description":"Still frozen","url":"/video.html"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    search(server, "sess-eeeeeeee", "s-e-000001", "video frozen");
    events(
        server,
        r#"[{"type":"click","session":"sess-eeeeeeee","search_id":"s-e-000001","url":"/video.html#fix","rank":1},
            {"type":"view","session":"sess-eeeeeeee","url":"/video.html"},
            {"type":"feedback","session":"sess-eeeeeeee","url":"/video.html","helpful":true}]"#,
    );
}

/// The production server with the admin token set and no rate limit.
fn admin_server(site: &TestSite, location: &str) -> Server {
    production(
        site,
        location,
        &[
            ("HELPBOOK_SERVER__ADMIN_TOKEN", TOKEN),
            ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
        ],
    )
}

fn admin(server: &Server, path: &str, auth: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    http(&server.addr, "GET", path, &headers, b"")
}

fn check_report(report: &serde_json::Value) {
    assert_eq!(report["searches"], 5, "{report:#}");
    assert_eq!(report["unresolved"], 4, "{report:#}");
    assert_eq!(report["tickets"], 1);
    // Sessions: a, b, e resolved (c said "did not help"), d escalated.
    assert_eq!(report["site"]["resolved"], 3);
    assert_eq!(report["site"]["escalated"], 1);
    assert_eq!(report["site"]["score"], 0.75);
    let queries = report["queries"].as_array().unwrap();
    let first = &queries[0];
    assert_eq!(first["normalized"], "cant hear student", "{report:#}");
    // Two wordings typed once each: the latest stands for the group.
    assert_eq!(first["example"], "Students can't hear!");
    assert_eq!(first["unresolved"], 2);
    assert_eq!(first["sessions"], 2);
    assert_eq!(
        first["reasons"],
        serde_json::json!([["not_opened", 1], ["unhelpful", 1]])
    );
    assert_eq!(first["closest"]["url"], "/audio.html");
    let find = |example: &str| {
        queries
            .iter()
            .find(|q| q["example"] == example)
            .unwrap_or_else(|| panic!("{example} missing: {report:#}"))
    };
    let zoom = find("zoom breakout rooms");
    assert_eq!(zoom["reasons"], serde_json::json!([["no_results", 1]]));
    assert!(zoom["closest"].is_null());
    let video = find("video frozen");
    assert_eq!(video["unresolved"], 1);
    assert_eq!(video["searches"], 2);
    assert_eq!(video["reasons"], serde_json::json!([["escalated", 1]]));
    assert_eq!(
        video["trend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        1
    );

    let pages = report["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["url"], "/audio.html");
    assert_eq!(pages[0]["title"], "Students can't hear me");
    assert_eq!(pages[0]["reasons"], serde_json::json!([["outdated", 1]]));
    assert_eq!(pages[0]["comments"][0], "The menu moved in version 5");

    let scores = report["page_scores"].as_array().unwrap();
    let video = scores.iter().find(|p| p["url"] == "/video.html").unwrap();
    assert_eq!(video["visits"], 2);
    assert_eq!(video["escalated"], 1);
    assert_eq!(video["score"], 0.5);
}

#[test]
fn admin_page_shows_the_gaps_behind_the_token() {
    let site = site();
    let location = sqlite(&site);
    let server = admin_server(&site, &location);
    five_readers(&server);

    // No token, a wrong one, a token of the wrong length: 401 with a prompt for the browser.
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789x"),
        Some("Bearer test"),
    ] {
        let r = admin(&server, "/admin", auth);
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
        assert!(r.json()["error"].as_str().unwrap().contains("token"));
        assert_eq!(admin(&server, "/admin/gaps.json", auth).status, 401);
    }
    let bearer = format!("Bearer {TOKEN}");
    let r = admin(&server, "/admin/gaps.json?since=7d", Some(&bearer));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    check_report(&r.json());

    // The browser's Basic prompt: any user name, the token as password.
    let basic = format!("Basic {}", base64(format!("support:{TOKEN}").as_bytes()));
    let r = admin(&server, "/admin", Some(&basic));
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    for expected in [
        "Content gaps",
        "Students can&#39;t hear!",
        "cant hear student",
        "<svg class=\"sparkline\"",
        "no result opened 1",
        "Students can&#39;t hear me",
        "The menu moved in version 5",
        "75 %",
        "dan@school.edu",
        "Still frozen",
    ] {
        assert!(html.contains(expected), "{expected} missing:\n{html}");
    }
    assert!(r.header("content-security-policy").is_some());
    let r = admin(&server, "/admin/gaps.csv?since=30d", Some(&bearer));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let csv = r.text();
    assert!(csv.starts_with("normalized,example,unresolved,sessions,searches,"));
    assert!(
        csv.contains("\r\ncant hear student,Students can't hear!,2,2,2,0,1,0,1,"),
        "{csv}"
    );
    let r = admin(&server, "/admin/gaps.json?since=soon", Some(&bearer));
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("30d"));
    assert!(server.stop().success());

    // `helpbook gaps` reads the same store.
    let env = [("HELPBOOK_SERVER__EVENTS", location.as_str())];
    let gaps = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_helpbook"))
            .arg("gaps")
            .arg(site.root())
            .args(args)
            .envs(env)
            .output()
            .unwrap()
    };
    let out = gaps(&["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&serde_json::from_slice(&out.stdout).unwrap());
    let out = gaps(&["--since", "2w"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for expected in [
        "Unresolved queries",
        "Students can't hear!",
        "no results 1",
        "Students can't hear me (/audio.html)",
        "self-service score 75 %",
        "Pages that did not help",
    ] {
        assert!(table.contains(expected), "{expected} missing:\n{table}");
    }
    let out = gaps(&["--format", "csv", "--pages"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("url,title,unhelpful,helpful"));
    let out = gaps(&["--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("30d"));
}

/// The same report from PostgreSQL: the SQL is shared, so it must mean the same there.
#[test]
fn postgres_gap_report_matches() {
    let Some(location) = postgres("gaps") else {
        return;
    };
    let site = site();
    let server = admin_server(&site, &location);
    five_readers(&server);
    let r = admin(
        &server,
        "/admin/gaps.json",
        Some(&format!("Bearer {TOKEN}")),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    check_report(&r.json());
    let r = admin(&server, "/admin", Some(&format!("Bearer {TOKEN}")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(server.stop().success());
}

#[test]
fn admin_is_closed_without_a_token_and_gaps_needs_events() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    let r = admin(&server, "/admin", Some("Bearer anything-at-all-123"));
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("ADMIN_TOKEN"));
    drop(server);

    let empty = TestSite::new().page("a.md", "# A\n");
    empty.build_ok();
    let out = empty.run(&["gaps"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no events recorded yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A short token is refused before the server starts.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_helpbook"))
        .args(["serve", "--production", "--port", "0"])
        .arg(site.root())
        .env("HELPBOOK_SERVER__ADMIN_TOKEN", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("admin-token"));
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
