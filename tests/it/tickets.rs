//! Escalation: `POST /api/tickets` on a real production server, with the session's history
//! attached, and delivery to a webhook receiver on loopback that is down, then up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use helpbook::analytics::{Delivery, EventStore};

use crate::server::{get, post, postgres, production, site, sqlite};
use crate::support::{Server, http, runtime};

/// Waits (bounded) for one HTTP request on `listener`, answers `status`, and returns the
/// request's headers (lowercased names) and body.
fn receive(listener: &TcpListener, status: u16) -> (Vec<(String, String)>, String) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("the webhook was not called within 30 s: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("POST /hook "), "request line: {line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("a content length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    (headers, String::from_utf8(body).unwrap())
}

/// Tickets stored in `location`, newest first.
fn tickets(location: &str) -> Vec<helpbook::analytics::StoredTicket> {
    runtime().block_on(async {
        let store = EventStore::open(location).await.unwrap();
        let t = store.recent_tickets(10).await.unwrap();
        store.close().await;
        t
    })
}

fn undelivered(location: &str) -> i64 {
    runtime().block_on(async {
        let store = EventStore::open(location).await.unwrap();
        let n = store.undelivered().await.unwrap().0;
        store.close().await;
        n
    })
}

/// A reader searches, opens a result, says it did not help and files a ticket while the
/// webhook is down. The ticket carries all of that and the page's version; once the receiver
/// comes up it gets the ticket, and nothing was lost in between.
fn ticket_reaches_a_webhook_that_was_down(location: &str) {
    let site = site();
    // A port with nobody listening: the receiver is down.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let server = production(&site, location, &[("HELPBOOK_SERVER__WEBHOOK", &hook)]);
    let session = "tab-stuck-0001";
    // A NUL character (PostgreSQL refuses it in text) must not cost anyone their events.
    assert_eq!(
        get(
            &server,
            &format!("/api/search?q=%00echo&session={session}&search_id=typing-0006")
        )
        .status,
        200
    );
    for q in ["students", "students cant hear"] {
        let r = get(
            &server,
            &format!(
                "/api/search?q={}&session={session}&search_id=typing-0007",
                q.replace(' ', "+")
            ),
        );
        assert_eq!(r.status, 200);
    }
    let r = post(
        &server,
        "/api/events",
        &format!(
            r#"[{{"type":"click","session":"{session}","search_id":"typing-0007","url":"/audio.html","rank":1}},
                {{"type":"view","session":"{session}","url":"/audio.html"}},
                {{"type":"feedback","session":"{session}","url":"/audio.html","helpful":false,"reason":"didnt_fix"}}]"#
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post(
        &server,
        "/api/tickets",
        &format!(
            r#"{{"session":"{session}","contact":"ann.lee@school.edu","description":"Half the class hears nothing\u0000 since 9:00.","url":"/audio.html#steps"}}"#
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.json();
    let id = answer["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("HB-"), "{answer}");
    // The page is `severity: urgent`, so the ticket is.
    assert_eq!(answer["priority"], "urgent");
    assert!(answer["message"].as_str().unwrap().contains(&id));

    // The first attempts fail (connection refused) and are kept for retrying.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = tickets(location);
        if let Delivery::Pending { attempts, .. } = &t[0].delivery
            && *attempts >= 1
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failed attempt recorded: {t:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(undelivered(location), 1);

    // The receiver comes up on the same port; the retry reaches it.
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
    let (headers, body) = receive(&listener, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-helpbook-ticket"), Some(id.as_str()));
    let ticket: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ticket["id"], id.as_str());
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["contact"], "ann.lee@school.edu");
    assert_eq!(ticket["page"]["url"], "/audio.html");
    assert_eq!(ticket["page"]["title"], "Students can't hear me");
    assert_eq!(ticket["page"]["severity"], "urgent");
    assert_eq!(ticket["page"]["version"].as_str().unwrap().len(), 12);
    assert_eq!(
        ticket["description"],
        "Half the class hears nothing since 9:00."
    );
    let searches = ticket["tried"]["searches"].as_array().unwrap();
    assert_eq!(searches.len(), 2, "keystrokes are one search: {ticket}");
    assert_eq!(searches[0]["query"], "echo");
    assert_eq!(searches[1]["query"], "students cant hear");
    assert_eq!(searches[1]["opened"][0], "/audio.html");
    assert_eq!(ticket["tried"]["views"][0]["url"], "/audio.html");
    assert_eq!(ticket["tried"]["feedback"][0]["helpful"], false);
    assert_eq!(ticket["tried"]["feedback"][0]["reason"], "didnt_fix");

    let deadline = Instant::now() + Duration::from_secs(20);
    while undelivered(location) > 0 {
        assert!(Instant::now() < deadline, "delivery was not recorded");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(matches!(
        tickets(location)[0].delivery,
        Delivery::Delivered { .. }
    ));
    assert!(server.stop().success());
}

#[test]
fn sqlite_ticket_reaches_a_webhook_that_was_down() {
    let site = site();
    ticket_reaches_a_webhook_that_was_down(&sqlite(&site));
}

#[test]
fn postgres_ticket_reaches_a_webhook_that_was_down() {
    if let Some(url) = postgres("tickets") {
        ticket_reaches_a_webhook_that_was_down(&url);
    }
}

/// Without JavaScript the form posts fields and gets a page with the ticket number; bad
/// tickets get a reason; the preview server takes no tickets.
#[test]
fn ticket_form_without_javascript_and_bad_tickets() {
    let site = site();
    let location = sqlite(&site);
    let server = production(&site, &location, &[("HELPBOOK_SERVER__RATE_LIMIT", "0")]);
    let r = http(
        &server.addr,
        "POST",
        "/api/tickets",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"contact=ann%40school.edu&description=Video+frozen+for+everyone&url=%2Fvideo.html&send=1",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let html = r.text();
    assert!(html.contains("class=\"ticket-id\">HB-"), "{html}");
    assert!(html.contains("href=\"/video.html\""), "{html}");
    let stored = tickets(&location);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].ticket.priority.as_str(), "normal");
    assert_eq!(stored[0].delivery, Delivery::NotSent);

    for (body, field) in [
        (r#"{"contact":"","description":"x"}"#, "contact"),
        (r#"{"contact":"a@b.c","description":"  "}"#, "description"),
        (
            r#"{"contact":"a@b.c","description":"x","url":"http://evil/"}"#,
            "url",
        ),
        (
            r#"{"contact":"a@b.c","description":"x","session":"no"}"#,
            "session",
        ),
        (
            r#"{"contact":"a@b.c","description":"x","admin":true}"#,
            "unknown field",
        ),
        (r#"{"contact":"a@b.c""#, "JSON"),
    ] {
        let r = post(&server, "/api/tickets", body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let reason = r.json()["error"].as_str().unwrap().to_string();
        assert!(reason.contains(field), "{body}: {reason}");
    }
    let long = format!(
        r#"{{"contact":"a@b.c","description":"{}"}}"#,
        "x".repeat(9000)
    );
    assert_eq!(post(&server, "/api/tickets", &long).status, 413);
    let r = http(
        &server.addr,
        "POST",
        "/api/tickets",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"contact=&description=x",
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("role=\"alert\""), "{}", r.text());
    assert!(server.stop().success());

    let preview = Server::start(site.root());
    let r = post(
        &preview,
        "/api/tickets",
        r#"{"contact":"a@b.c","description":"x"}"#,
    );
    assert_eq!(r.status, 404);
}

/// Filing tickets has a limit of its own, stricter than the API's: each may reach a help desk.
#[test]
fn tickets_are_limited_per_client() {
    let site = site();
    let server = production(&site, &sqlite(&site), &[]);
    let ticket = r#"{"contact":"a@b.c","description":"x"}"#;
    for i in 0..5 {
        let r = post(&server, "/api/tickets", ticket);
        assert_eq!(r.status, 201, "ticket {i}: {}", r.text());
    }
    let r = post(&server, "/api/tickets", ticket);
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
    // Other endpoints are not held back by it.
    assert_eq!(get(&server, "/api/search?q=sound").status, 200);
}
