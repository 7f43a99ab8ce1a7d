//! Soak and fault tests of `helpbook serve --production`, on loopback with a real SQLite file:
//!
//! - a minute of mixed searches, page loads and events from 128 keep-alive connections: no
//!   request fails, the server's memory stays flat, and after a hard kill in the middle of the
//!   load and a restart, every acknowledged event is stored;
//! - a full disk (a small tmpfs, filled) and a read-only database file: events are refused with
//!   503 and the reason, pages and search go on, and writing resumes by itself once the disk
//!   has room or the file is writable again.
//!
//! Its own test binary, so that cargo runs it after the others and alone: its load would starve
//! the browser tests' waits on a 2-core machine. `HELPBOOK_SOAK_SECONDS` shortens the soak for a
//! quick local run (CI uses the full 60 s).
//!
//! The full-disk test mounts a tmpfs, which needs root. Without root it says `SKIPPED`, unless
//! `HELPBOOK_REQUIRE_FAULTS` is set (CI sets it), in which case it fails.

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Reply, Server, TestSite, http};

/// Keep-alive connections, each its own client thread.
const CONNECTIONS: usize = 128;
/// How long the load runs before the hard kill.
const SOAK: Duration = Duration::from_secs(60);
/// The first part of the soak, while caches fill, which the memory check leaves out.
const WARM_UP: Duration = Duration::from_secs(15);
/// Growth of the server's resident memory allowed from the end of the warm-up to the end of
/// the soak: the search cache and SQLite's page cache are bounded, so a steady climb past this
/// is a leak.
const MEMORY_SLACK: f64 = 1.25;
/// One request's answer.
const REQUEST_WAIT: Duration = Duration::from_secs(30);

/// Words the searches are made of: with a number drawn from a large range added, most
/// searches miss the server's answer cache and run the search for real.
const WORDS: &[&str] = &[
    "microphone",
    "camera",
    "students can't hear me",
    "screen share",
    "recording",
    "breakout rooms",
    "echo",
    "frozen video",
    "api token",
    "webhook",
    "rate limit",
    "join link",
    "学生听不到",
    "摄像头",
    "录制",
    "bitrate",
    "firewall",
    "captions",
];

/// A copy of the sample knowledge base at the repository root, built.
fn built_sample_site() -> TestSite {
    let site = support::sample_site();
    site.build_ok();
    site
}

/// `helpbook serve --production` on `site`, its events in `events`.
fn production(site: &TestSite, events: &Path) -> Server {
    Server::start_with(
        site.root(),
        &["--production"],
        &[
            (
                "HELPBOOK_SERVER__EVENTS",
                events.to_str().expect("UTF-8 path"),
            ),
            ("HELPBOOK_SERVER__RATE_LIMIT", "0"),
            // Small enough to be full by the end of the warm-up (the searches rarely repeat),
            // so what grows after it is not the cache filling.
            ("HELPBOOK_SERVER__SEARCH_CACHE", "256"),
        ],
    )
}

/// Stored events of `kind` in `session`.
fn stored(events: &Path, session: &str, kind: &str) -> i64 {
    support::stored(events.to_str().expect("UTF-8 path"), session, kind)
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A small xorshift generator: the load is varied but the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one client thread saw.
#[derive(Default)]
struct Tally {
    requests: usize,
    /// Events the server acknowledged (200), by kind.
    views: i64,
    feedback: i64,
    /// Events sent, acknowledged or not.
    sent_views: i64,
    sent_feedback: i64,
    latencies: Vec<Duration>,
}

/// Failures seen before the kill: the first few in full, and how many in all.
#[derive(Default)]
struct Failures {
    count: AtomicUsize,
    first: Mutex<Vec<String>>,
}

impl Failures {
    fn add(&self, what: String) {
        if self.count.fetch_add(1, Ordering::Relaxed) < 20 {
            self.first.lock().unwrap().push(what);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One client: a keep-alive connection sending a mix of requests until `killed`.
fn client(
    base: &str,
    t: usize,
    pages: &[String],
    killed: &AtomicBool,
    failures: &Failures,
) -> Tally {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_WAIT))
        .max_idle_connections_per_host(1)
        .build()
        .into();
    let session = format!("soak-{t:04}-session");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t as u64 + 1) * 0x1000_0000_01B3));
    let mut tally = Tally::default();
    let mut search = 0;
    while !killed.load(Ordering::Relaxed) {
        let started = Instant::now();
        let roll = rng.below(10);
        let mut events = (0, 0);
        let (what, answer) = if roll < 5 {
            // A search as typed: a new search id every few keystrokes.
            if rng.below(4) == 0 {
                search += 1;
            }
            let q = format!("{} {}", WORDS[rng.below(WORDS.len())], rng.below(100_000));
            let path = format!(
                "/api/search?q={}&session={session}&search_id=s-{t:04}-{search:06}",
                encode(&q)
            );
            (path.clone(), agent.get(&format!("{base}{path}")).call())
        } else if roll < 8 {
            // A batch of views and "Did this help?" answers, one with a comment.
            let mut batch = Vec::new();
            for _ in 0..=rng.below(4) {
                let page = &pages[rng.below(pages.len())];
                if rng.below(3) == 0 {
                    events.1 += 1;
                    batch.push(format!(
                        r#"{{"type":"feedback","session":"{session}","url":"{page}","helpful":false,"reason":"unclear","comment":"step {} did not work"}}"#,
                        rng.below(10)
                    ));
                } else {
                    events.0 += 1;
                    batch.push(format!(
                        r#"{{"type":"view","session":"{session}","url":"{page}"}}"#
                    ));
                }
            }
            tally.sent_views += events.0;
            tally.sent_feedback += events.1;
            (
                "POST /api/events".to_string(),
                agent
                    .post(&format!("{base}/api/events"))
                    .header("content-type", "application/json")
                    .send(format!("[{}]", batch.join(","))),
            )
        } else if roll < 9 {
            let page = pages[rng.below(pages.len())].clone();
            (page.clone(), agent.get(&format!("{base}{page}")).call())
        } else {
            let path = format!("/search?q={}", encode(WORDS[rng.below(WORDS.len())]));
            (path.clone(), agent.get(&format!("{base}{path}")).call())
        };
        let outcome = match answer {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // The whole body is read, so the connection can carry the next request.
                match response.body_mut().read_to_vec() {
                    Ok(_) if status == 200 => Ok(()),
                    Ok(body) => Err(format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    )),
                    Err(e) => Err(format!("reading the body: {e}")),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => {
                tally.requests += 1;
                tally.views += events.0;
                tally.feedback += events.1;
                tally.latencies.push(started.elapsed());
            }
            // After the kill, failing is expected: this client is done.
            Err(_) if killed.load(Ordering::Relaxed) => break,
            Err(e) => {
                failures.add(format!("client {t}: {what}: {e}"));
                // Don't spin on a dead server; the test fails on the count anyway.
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    tally
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The pages of the built site, as URL paths.
fn page_paths(site: &TestSite) -> Vec<String> {
    let public = site.root().join("public");
    let mut pages: Vec<String> = walkdir::WalkDir::new(&public)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| {
            let rel = e.path().strip_prefix(&public).unwrap();
            format!("/{}", rel.to_string_lossy())
        })
        .filter(|p| !p.contains("/.") && !p.starts_with("/_"))
        .collect();
    pages.sort();
    assert!(pages.len() > 20, "the sample site has pages: {pages:?}");
    pages
}

/// A minute of mixed load at 128 connections: no failures, flat memory; then a hard kill in
/// the middle of the load, and after a restart every acknowledged event is in the database.
#[test]
fn a_minute_of_load_at_128_connections_then_a_hard_kill_loses_nothing() {
    let soak = std::env::var("HELPBOOK_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(SOAK, Duration::from_secs);
    let site = built_sample_site();
    let events = site.root().join(".helpbook/soak.sqlite");
    let pages = page_paths(&site);
    let server = production(&site, &events);
    let pid = server.pid();
    let base = format!("http://{}", server.addr);
    let killed = AtomicBool::new(false);
    let failures = Failures::default();
    let started = Instant::now();
    let (tallies, memory) = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|t| {
                let (base, pages, killed, failures) = (&base, &pages, &killed, &failures);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || client(base, t, pages, killed, failures))
                    .expect("spawn a client")
            })
            .collect();
        // The server's memory, once a second, until the kill.
        let mut memory: Vec<(Duration, u64)> = Vec::new();
        while started.elapsed() < soak {
            std::thread::sleep(Duration::from_secs(1));
            if let Some(kib) = rss_kib(pid) {
                memory.push((started.elapsed(), kib));
            }
        }
        // Mid-load: every client is still sending.
        killed.store(true, Ordering::Relaxed);
        server.kill_hard();
        let tallies: Vec<Tally> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        (tallies, memory)
    });
    let elapsed = started.elapsed();

    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    latencies.sort();
    let requests: usize = tallies.iter().map(|t| t.requests).sum();
    let acked: i64 = tallies.iter().map(|t| t.views + t.feedback).sum();
    eprintln!(
        "soak: {requests} requests in {:.1} s ({:.0}/s) from {CONNECTIONS} connections, \
         {acked} events acknowledged; latency p50 {:?}, p99 {:?}, max {:?}",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default(),
    );
    eprintln!(
        "soak: server memory (s, MiB): {}",
        memory
            .iter()
            .map(|(t, kib)| format!("{}:{:.0}", t.as_secs(), *kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let failed = failures.count.load(Ordering::Relaxed);
    assert_eq!(
        failed,
        0,
        "{failed} requests failed before the kill; the first:\n{}",
        failures.first.lock().unwrap().join("\n")
    );
    assert!(
        requests > CONNECTIONS * 10,
        "the load ran: {requests} requests"
    );

    // Memory: the most after the warm-up against the most by its end.
    let warm = |from: Duration, to: Duration| {
        memory
            .iter()
            .filter(|(t, _)| *t >= from && *t <= to)
            .map(|(_, kib)| *kib)
            .max()
    };
    if soak >= WARM_UP * 2 {
        let settled = warm(WARM_UP, WARM_UP + Duration::from_secs(5)).expect("samples");
        let last = warm(soak - Duration::from_secs(10), soak).expect("samples");
        assert!(
            (last as f64) <= settled as f64 * MEMORY_SLACK,
            "the server's memory grew from {} MiB after the warm-up to {} MiB at the end",
            settled / 1024,
            last / 1024
        );
    }

    // The restarted server recovers the file (its WAL) and serves.
    let server = production(&site, &events);
    assert_eq!(http(&server.addr, "GET", "/healthz", &[], b"").status, 200);
    server.stop();
    for (t, tally) in tallies.iter().enumerate() {
        let session = format!("soak-{t:04}-session");
        for (kind, acked, sent) in [
            ("view", tally.views, tally.sent_views),
            ("feedback", tally.feedback, tally.sent_feedback),
        ] {
            let have = stored(&events, &session, kind);
            // A batch committed just before the kill may not have been answered: stored can
            // be more than acknowledged, never less, and never more than was sent.
            assert!(
                (acked..=sent).contains(&have),
                "client {t}: {acked} {kind} events acknowledged, {sent} sent, {have} stored"
            );
        }
    }
}

/// POSTs one batch of `n` view events for `session`; the reply.
fn post_views(server: &Server, session: &str, n: usize, pad: usize) -> Reply {
    let url = format!("/{}.html", "p".repeat(pad));
    let batch: Vec<String> = (0..n)
        .map(|_| format!(r#"{{"type":"view","session":"{session}","url":"{url}"}}"#))
        .collect();
    http(
        &server.addr,
        "POST",
        "/api/events",
        &[("content-type", "application/json")],
        format!("[{}]", batch.join(",")).as_bytes(),
    )
}

/// The reason a refused request (503) gives.
fn refusal(reply: &Reply) -> String {
    assert_eq!(reply.status, 503, "{}", reply.text());
    reply.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Pages and search answer while the events are refused.
fn still_serving(server: &Server) {
    let page = http(&server.addr, "GET", "/index.html", &[], b"");
    assert_eq!(page.status, 200, "the home page is served");
    let search = http(&server.addr, "GET", "/api/search?q=microphone", &[], b"");
    assert_eq!(search.status, 200, "search answers: {}", search.text());
}

/// Whether this process may mount file systems (root).
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's own user.
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Says `SKIPPED` and returns false when the test cannot run here, or fails when CI asked for it.
fn can_mount() -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var_os("HELPBOOK_REQUIRE_FAULTS").is_none(),
        "HELPBOOK_REQUIRE_FAULTS is set but this test needs root to mount a small tmpfs"
    );
    eprintln!("SKIPPED: mounting a small tmpfs for the full-disk test needs root");
    false
}

/// A small tmpfs, unmounted when dropped (after whatever uses it is dropped first).
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: PathBuf, size: &str) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs on {}", dir.display());
        SmallDisk { dir }
    }

    /// Writes a file as large as the free space: the disk is then full.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            if file.write_all(&block).is_err() {
                break;
            }
        }
        // The last few bytes too.
        while file.write_all(&[0u8; 512]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

/// The event store's disk fills up: events are refused with 503 and "the disk is full", pages
/// and search are served, and once space is freed events are stored again, without a restart.
/// Nothing acknowledged is lost.
#[test]
fn a_full_disk_answers_503_with_the_reason_and_recovers() {
    if !can_mount() {
        return;
    }
    let site = built_sample_site();
    let disk = SmallDisk::mount(site.root().join("small-disk"), "4m");
    let events = disk.dir.join("events.sqlite");
    let server = production(&site, &events);
    let session = "full-disk-session";
    let mut acked = 0;
    for _ in 0..5 {
        let reply = post_views(&server, session, 10, 10);
        assert_eq!(reply.status, 200, "{}", reply.text());
        acked += 10;
    }

    let filler = disk.fill();
    // SQLite may still have free pages; bounded: the disk is only a few MiB.
    let mut refused = None;
    for _ in 0..500 {
        let reply = post_views(&server, session, 50, 100);
        match reply.status {
            200 => acked += 50,
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let refused = refused.expect("a full disk refuses events");
    let reason = refusal(&refused);
    assert!(
        reason.contains("disk is full"),
        "the reason is given: {reason}"
    );
    assert_eq!(refused.header("retry-after"), Some("30"));
    // A ticket too is refused with the reason.
    let ticket = http(
        &server.addr,
        "POST",
        "/api/tickets",
        &[("content-type", "application/json")],
        br#"{"session":"full-disk-session","contact":"ann.lee@school.edu","description":"Half the class hears nothing.","url":"/index.html"}"#,
    );
    let reason = refusal(&ticket);
    assert!(
        reason.contains("disk is full"),
        "the ticket's reason: {reason}"
    );
    still_serving(&server);
    // Still full: still refused, still with the reason.
    let again = post_views(&server, session, 1, 1);
    assert_eq!(again.status, 503, "{}", again.text());

    std::fs::remove_file(filler).unwrap();
    let recovered = post_views(&server, session, 10, 10);
    assert_eq!(recovered.status, 200, "stored again: {}", recovered.text());
    acked += 10;
    server.stop();
    assert_eq!(
        stored(&events, session, "view"),
        acked,
        "acknowledged events"
    );
    drop(disk);
}

/// Makes `file` read-only, or writable again: `chattr +i` as root (for whom permissions are no
/// obstacle), the permission bits otherwise.
fn read_only(file: &Path, on: bool) {
    if is_root() {
        let status = Command::new("chattr")
            .arg(if on { "+i" } else { "-i" })
            .arg(file)
            .status()
            .expect("run chattr");
        assert!(status.success(), "chattr on {}", file.display());
    } else {
        let mut permissions = std::fs::metadata(file).unwrap().permissions();
        permissions.set_readonly(on);
        std::fs::set_permissions(file, permissions).unwrap();
    }
}

/// Undoes `read_only` even when the test fails, so the temporary folder can be removed.
struct Writable<'a>(&'a Path);

impl Drop for Writable<'_> {
    fn drop(&mut self) {
        read_only(self.0, false);
    }
}

/// The server starts on a database file it may not write: it serves pages and search, refuses
/// events with 503 and "read-only", and stores them again once the file is writable, without a
/// restart.
#[test]
fn a_read_only_database_answers_503_with_the_reason_and_recovers() {
    let site = built_sample_site();
    let events = site.root().join(".helpbook/events.sqlite");
    // The database exists, with an event in it; then it is made read-only.
    let server = production(&site, &events);
    assert_eq!(post_views(&server, "read-only-session", 1, 1).status, 200);
    server.stop();
    read_only(&events, true);
    let writable = Writable(&events);

    let server = production(&site, &events);
    let refused = post_views(&server, "read-only-session", 3, 1);
    let reason = refusal(&refused);
    assert!(
        reason.contains("read-only"),
        "the reason is given: {reason}"
    );
    still_serving(&server);

    drop(writable);
    let recovered = post_views(&server, "read-only-session", 2, 1);
    assert_eq!(recovered.status, 200, "stored again: {}", recovered.text());
    server.stop();
    assert_eq!(stored(&events, "read-only-session", "view"), 3);
}
