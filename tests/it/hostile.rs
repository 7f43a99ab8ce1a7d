//! Hostile HTTP input against a real server on loopback: oversized bodies and headers, very long
//! queries, bytes that are not UTF-8, broken JSON, path traversal (plain, encoded, double
//! encoded, with backslashes), wrong methods and malformed requests. Each gets the right 4xx,
//! never a 500, and nothing outside the built site is ever served. Injected markup in queries
//! and feedback comes back escaped on the results page and the admin page (the browser side of
//! that is in `a11y_browser.rs`).
//!
//! The requests are written byte for byte on the socket, so nothing normalises a path or
//! re-encodes a query before the server sees it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::server::{get, post, production, site, sqlite};
use crate::support::{Server, TestSite, http, request, send};

const ADMIN_TOKEN: &str = "hostile-admin-token-0123456789";

/// Status and body of the answer to `request`, sent as is.
fn raw(addr: &str, request: &[u8]) -> (u16, String) {
    let reply = send(addr, request);
    (reply.status, reply.text())
}

/// The production server on `site` with an admin token and no rate limit.
fn hostile_server(site: &TestSite) -> Server {
    production(
        site,
        &sqlite(site),
        &[
            ("HELPBOOK_SERVER__ADMIN_TOKEN", ADMIN_TOKEN),
            ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
        ],
    )
}

/// Paths that try to leave the site's folder. The site's own `book.toml` sits one level above
/// the built site, `/etc/passwd` further up.
const TRAVERSALS: &[&str] = &[
    "/../book.toml",
    "/../../../../../../etc/passwd",
    "/%2e%2e/book.toml",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/%2e%2e%2fbook.toml",
    "/..%2fbook.toml",
    "/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/%252e%252e/book.toml",
    "/%252e%252e%252fbook.toml",
    "/..%5cbook.toml",
    "/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
    "/%c0%ae%c0%ae/book.toml",
    "/....//book.toml",
    "/./../book.toml",
    "/x/../../book.toml",
    "/api/../../book.toml",
    "/api/%2e%2e/%2e%2e/book.toml",
    "/api/..%2f..%2fbook.toml",
    "/_helpbook/../../book.toml",
    "/_helpbook/%2e%2e/%2e%2e/book.toml",
    "/admin/../../book.toml",
    "/search/../../book.toml",
    "/index.html%00.toml",
    "/%00/../book.toml",
    "//etc/passwd",
    "/\\..\\book.toml",
    "/..\\..\\..\\..\\etc\\passwd",
];

/// Nothing outside the built site comes back, and the answer is a 4xx.
fn no_traversal(server: &Server) {
    for path in TRAVERSALS {
        let (status, body) = raw(&server.addr, &request(&server.addr, "GET", path, &[], b""));
        assert!(
            (400..500).contains(&status),
            "{path}: {status} (a 4xx expected)\n{body}"
        );
        assert!(
            !body.contains("root:") && !body.contains("[book]") && !body.contains("title ="),
            "{path} served a file outside the site:\n{body}"
        );
    }
}

#[test]
fn traversal_never_leaves_the_site_in_production() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    no_traversal(&server);
    // A page is still served, so the 404s above are not a server that serves nothing.
    assert_eq!(get(&server, "/audio.html").status, 200);
}

#[test]
fn traversal_never_leaves_the_site_in_the_preview() {
    let site = TestSite::new().page("a.md", "# A\n\nText.\n");
    let server = Server::start(site.root());
    no_traversal(&server);
    assert_eq!(get(&server, "/a.html").status, 200);
}

/// Every case: the status wanted, or (for the HTTP layer's own answers) any of a few.
struct Case {
    what: &'static str,
    request: Vec<u8>,
    statuses: &'static [u16],
}

fn case(what: &'static str, request: Vec<u8>, statuses: &'static [u16]) -> Case {
    Case {
        what,
        request,
        statuses,
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

#[test]
fn hostile_requests_get_the_right_4xx_never_a_500() {
    let site = site();
    let server = hostile_server(&site);
    let a = server.addr.as_str();
    let big = vec![b'x'; 1 << 20];
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let long_url = format!("/search?q={}", "a".repeat(200_000));
    let mut chunked = format!(
        "POST /api/events HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..64 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 1024, "y".repeat(1024)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let names: Vec<String> = (0..10_000).map(|i| format!("X-H{i}")).collect();
    let bad_path =
        b"GET /caf\xe9-\xff.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec();
    let cases = vec![
        // Oversized.
        case("events: 1 MB body", request(a, "POST", "/api/events", &[JSON], &big), &[413]),
        case(
            "events: a Content-Length of 10 GB",
            format!(
                "POST /api/events HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n[]"
            )
            .into_bytes(),
            &[413],
        ),
        case("events: 64 KB chunked, no length", chunked, &[413]),
        case("tickets: 1 MB body", request(a, "POST", "/api/tickets", &[JSON], &big), &[413]),
        case("tickets: 1 MB form", request(a, "POST", "/api/tickets", &[FORM], &big), &[413]),
        case("triage: 1 MB form", request(a, "POST", "/api/triage", &[FORM], &big), &[413]),
        case(
            "a 200 KB URL",
            request(a, "GET", &long_url, &[], b""),
            &[400, 414, 431],
        ),
        case(
            "a 200 KB header",
            request(a, "GET", "/", &[("X-Padding", &"p".repeat(200_000))], b""),
            &[431, 400],
        ),
        case(
            "10,000 headers",
            request(
                a,
                "GET",
                "/",
                &names.iter().map(|n| (n.as_str(), "v")).collect::<Vec<_>>(),
                b"",
            ),
            &[431, 400],
        ),
        // Long queries.
        case(
            "search API: a 5,000-character query",
            request(a, "GET", &format!("/api/search?q={}", "word+".repeat(1000)), &[], b""),
            &[400],
        ),
        case(
            "results page: a 5,000-character query",
            request(a, "GET", &format!("/search?q={}", "word+".repeat(1000)), &[], b""),
            &[400],
        ),
        case(
            "search API: limit out of range",
            request(a, "GET", "/api/search?q=mic&limit=100000000000000000000", &[], b""),
            &[400],
        ),
        // Not UTF-8.
        case("search API: %FF in q", request(a, "GET", "/api/search?q=%FF%FE", &[], b""), &[400]),
        case("results page: %FF in q", request(a, "GET", "/search?q=caf%E9", &[], b""), &[400]),
        case("a page: %FF in the path", request(a, "GET", "/caf%E9.html", &[], b""), &[404]),
        case("raw bytes in the path", bad_path, &[400, 404]),
        case(
            "events: Latin-1 body",
            request(a, "POST", "/api/events", &[JSON], b"{\"type\":\"view\",\"session\":\"caf\xe9-session\",\"url\":\"/\"}"),
            &[400],
        ),
        case(
            "tickets: Latin-1 body",
            request(a, "POST", "/api/tickets", &[JSON], b"{\"description\":\"caf\xe9\"}"),
            &[400],
        ),
        case(
            "tickets: Latin-1 form",
            request(a, "POST", "/api/tickets", &[FORM], b"description=caf%E9&contact=x"),
            &[400],
        ),
        case(
            "triage: Latin-1 form",
            request(a, "POST", "/api/triage", &[FORM], b"tree=caf%E9"),
            &[400],
        ),
        // Not JSON, or JSON of the wrong shape.
        case("events: truncated JSON", request(a, "POST", "/api/events", &[JSON], b"{\"type\":"), &[400]),
        case("events: JSON nested 100,000 deep", request(a, "POST", "/api/events", &[JSON], deep.as_bytes()), &[400, 413]),
        case("events: a number", request(a, "POST", "/api/events", &[JSON], b"42"), &[400]),
        case("events: a null", request(a, "POST", "/api/events", &[JSON], b"null"), &[400]),
        case(
            "events: a huge rank",
            request(
                a,
                "POST",
                "/api/events",
                &[JSON],
                br#"{"type":"click","session":"tab-12345678","search_id":"s-12345678","url":"/a.html","rank":1e400}"#,
            ),
            &[400],
        ),
        case("tickets: truncated JSON", request(a, "POST", "/api/tickets", &[JSON], b"{\"description\":"), &[400]),
        case("tickets: an array", request(a, "POST", "/api/tickets", &[JSON], b"[]"), &[400]),
        case("triage: empty form", request(a, "POST", "/api/triage", &[FORM], b""), &[400]),
        // Wrong method, wrong place.
        case("GET /api/events", request(a, "GET", "/api/events", &[], b""), &[405]),
        case("DELETE /api/events", request(a, "DELETE", "/api/events", &[], b""), &[405]),
        case("PUT a page", request(a, "PUT", "/audio.html", &[], b"x"), &[405]),
        case("no such endpoint", request(a, "GET", "/api/../api/nothing", &[], b""), &[404]),
        // Admin without the token, or with a wrong one.
        case("admin: no token", request(a, "GET", "/admin", &[], b""), &[401]),
        case("admin: wrong token", request(a, "GET", "/admin", &[("Authorization", "Bearer wrong-token-wrong-token")], b""), &[401]),
        case("admin: broken Basic", request(a, "GET", "/admin", &[("Authorization", "Basic %%%not-base64")], b""), &[401]),
        // Not HTTP.
        case("garbage", b"HELLO THERE\r\n\r\n".to_vec(), &[400]),
        case("HTTP/9", format!("GET / HTTP/9.9\r\nHost: {a}\r\n\r\n").into_bytes(), &[400, 505]),
    ];
    for c in cases {
        let (status, body) = raw(a, &c.request);
        assert!(
            c.statuses.contains(&status),
            "{}: {status}, expected one of {:?}\n{}",
            c.what,
            c.statuses,
            &body[..body.len().min(500)]
        );
    }
    // The server is fine after all that.
    assert_eq!(get(&server, "/healthz").status, 200);
    assert_eq!(
        post(
            &server,
            "/api/events",
            r#"{"type":"view","session":"tab-12345678","url":"/audio.html"}"#
        )
        .status,
        200
    );
}

/// A non-UTF-8 admin token in the Authorization header is refused like a wrong one.
#[test]
fn a_non_utf8_admin_token_is_refused() {
    let site = site();
    let server = hostile_server(&site);
    let mut request = format!(
        "GET /admin HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer ",
        server.addr
    )
    .into_bytes();
    request.extend_from_slice(b"\xff\xfe\xfd-token-token-token\r\n\r\n");
    let (status, _) = raw(&server.addr, &request);
    assert_eq!(status, 401);
}

/// Markup in a query and in a feedback comment comes back as text on the results page and the
/// admin page.
#[test]
fn injected_markup_is_escaped_on_the_results_and_admin_pages() {
    let site = site();
    let server = hostile_server(&site);
    let script = "<script>alert(1)</script>";
    let q = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let results = get(&server, &format!("/search?q={q}"));
    assert_eq!(results.status, 200);
    let page = results.text();
    assert!(!page.contains(script), "the query is escaped:\n{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );

    // The same query recorded as a search that found nothing, and a comment with markup.
    let searched = get(
        &server,
        &format!("/api/search?q={q}&session=tab-xss-00000001&search_id=s-xss-00000001"),
    );
    assert_eq!(searched.status, 200);
    let comment = r#"<img src=x onerror=alert(2)> <script>alert(3)</script>"#;
    let feedback = serde_json::json!({
        "type": "feedback",
        "session": "tab-xss-00000001",
        "url": "/audio.html",
        "helpful": false,
        "reason": "unclear",
        "comment": comment,
    });
    assert_eq!(
        post(&server, "/api/events", &feedback.to_string()).status,
        200
    );
    let admin = http(
        &server.addr,
        "GET",
        "/admin",
        &[("Authorization", &format!("Bearer {ADMIN_TOKEN}"))],
        b"",
    );
    assert_eq!(admin.status, 200, "{}", admin.text());
    let page = admin.text();
    assert!(page.contains("alert(1)"), "the search is listed:\n{page}");
    assert!(page.contains("alert(2)"), "the comment is listed:\n{page}");
    for raw in [script, "<img src=x", "<script>alert(3)"] {
        assert!(!page.contains(raw), "`{raw}` is escaped on /admin");
    }
}

/// A client that sends half a request header and then nothing is cut off (after 30 s) instead
/// of holding its connection open for ever; the server goes on answering others meanwhile.
#[test]
fn a_half_sent_header_does_not_hold_a_connection() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    stream
        .write_all(b"GET /audio.html HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(get(&server, "/audio.html").status, 200, "others are served");
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(
        read.is_ok() && waited < Duration::from_secs(45),
        "the connection was closed after {waited:?} ({read:?}, {})",
        String::from_utf8_lossy(&answer)
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
}
