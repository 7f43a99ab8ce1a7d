//! Checks that the http and https links in the pages still answer.
//!
//! Internal links are checked against the site itself; external ones need the network, which is
//! slow, flaky and belongs to other people. So this module promises to be a polite and bounded
//! client: every distinct URL is requested once however many pages link it, at most one request
//! is in flight per host with a minimum gap between two starts, the total number of requests in
//! flight is capped, and every request has a deadline. Good answers are remembered in a cache
//! file for a while so repeated runs stay fast; broken ones are always checked again so a fixed
//! link clears at once. Every problem comes back as a [`Diagnostic`] at each place the link is
//! written; nothing here panics on odd input or a misbehaving server.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{fs, io, thread};

use serde::{Deserialize, Serialize};
use ureq::Agent;
use ureq::http::StatusCode;

use crate::diagnostic::{Diagnostic, Rule, display_path};

/// Sent with every request, so site owners can tell who is knocking and why.
const USER_AGENT: &str = "helpbook-linkcheck/0.1 (+https://github.com/helpbook)";

/// How to fix a broken link, or stop it being checked.
const BROKEN_HELP: &str = "fix or remove the link; if the site refuses automated checks, add \
                           its address to `external-skip` under [check] in book.toml";

/// Cache entries older than this are dropped when the cache is written, good or broken.
const CACHE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// One external (http/https) link found in a page.
#[derive(Debug, Clone)]
pub(crate) struct ExternalLink {
    /// The address as written in the page.
    pub(crate) url: String,
    /// The page as shown to the writer, e.g. `content/guides/a.md`.
    pub(crate) file: String,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column, 0 when unknown.
    pub(crate) column: usize,
    /// The page's text, shown under the diagnostic.
    pub(crate) source: Option<Arc<str>>,
}

/// How hard, and how politely, to check.
#[derive(Debug, Clone)]
pub(crate) struct ExternalOptions {
    /// Requests in flight in total (at least 1 is used).
    pub(crate) concurrency: usize,
    /// Minimum gap between the starts of two requests to the same host.
    pub(crate) host_delay: Duration,
    /// Deadline for one whole request, redirects included.
    pub(crate) timeout: Duration,
    /// JSON file that keeps results between runs; `None`: no cache.
    pub(crate) cache_file: Option<PathBuf>,
    /// How long a good result is trusted without asking again.
    pub(crate) cache_ttl: Duration,
    /// URL prefixes that are never requested nor reported.
    pub(crate) skip: Vec<String>,
}

/// What a check found.
#[derive(Debug, Default)]
pub(crate) struct ExternalReport {
    /// One per occurrence of a broken or unchecked link, sorted by file, line and column.
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Distinct URLs checked or taken from the cache (skipped ones are not counted).
    pub(crate) urls: usize,
    /// Distinct URLs requested in this run.
    pub(crate) requested: usize,
    /// Distinct URLs answered from the cache.
    pub(crate) from_cache: usize,
    /// Distinct URLs found broken.
    pub(crate) broken: usize,
}

/// The verdict on one distinct URL.
#[derive(Debug)]
enum Outcome {
    /// Answered with this status (2xx or 3xx).
    Good(u16),
    /// Unreachable or an error status (0 when there was no HTTP answer), and why.
    Broken(u16, String),
    /// Could not be judged this time; a warning, and never cached.
    Unchecked(String),
}

/// One URL waiting for its turn: the key it is reported and cached under, and what to request.
struct Job<'a> {
    url: &'a str,
    request: String,
}

/// The pending URLs of one host (host:port), which is served by one worker at a time.
struct HostQueue<'a> {
    jobs: Vec<Job<'a>>,
    busy: bool,
    next_start: Instant,
}

/// What the workers share: the queues and the verdicts so far.
struct Work<'a> {
    hosts: Vec<HostQueue<'a>>,
    results: Vec<(&'a str, Outcome)>,
}

/// The cache file's layout.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: BTreeMap<String, CacheEntry>,
}

/// A remembered result, keyed by the URL without its fragment.
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    status: u16,
    ok: bool,
    checked: u64,
    #[serde(default)]
    reason: String,
}

/// Checks every http(s) link in `links` and reports the broken ones at each place they appear.
pub(crate) fn check_external(links: &[ExternalLink], opts: &ExternalOptions) -> ExternalReport {
    let mut uses: BTreeMap<&str, Vec<&ExternalLink>> = BTreeMap::new();
    for link in links {
        let url = link.url.trim();
        let url = url.split_once('#').map_or(url, |(before, _)| before);
        let skipped = opts
            .skip
            .iter()
            .any(|prefix| !prefix.is_empty() && url.starts_with(prefix.as_str()));
        if is_http(url) && !skipped {
            uses.entry(url).or_default().push(link);
        }
    }

    let now = unix_now();
    let mut cache = opts
        .cache_file
        .as_deref()
        .map(load_cache)
        .unwrap_or_default();
    let mut report = ExternalReport {
        urls: uses.len(),
        ..ExternalReport::default()
    };
    let mut outcomes = Vec::new();
    let mut by_host: HashMap<String, Vec<Job<'_>>> = HashMap::new();
    for &url in uses.keys() {
        if let Some(entry) = cache.get(url)
            && entry.ok
            && Duration::from_secs(now.saturating_sub(entry.checked)) < opts.cache_ttl
        {
            report.from_cache += 1;
            continue;
        }
        match target(url) {
            Ok((request, host)) => by_host.entry(host).or_default().push(Job { url, request }),
            Err(outcome) => outcomes.push((url, outcome)),
        }
    }
    report.requested = by_host.values().map(Vec::len).sum();
    outcomes.extend(run_queue(by_host.into_values().collect(), opts));

    for (url, outcome) in outcomes {
        let (ok, status, reason) = match outcome {
            Outcome::Good(status) => (true, status, String::new()),
            Outcome::Broken(status, reason) => (false, status, reason),
            Outcome::Unchecked(reason) => {
                for link in &uses[url] {
                    let message = format!("external link `{}`: {reason}", link.url);
                    report
                        .diagnostics
                        .push(place(Diagnostic::warning(message), link));
                }
                continue;
            }
        };
        if !ok {
            report.broken += 1;
            for link in &uses[url] {
                let message = format!("external link `{}` is broken: {reason}", link.url);
                let d = Diagnostic::error(message).help(BROKEN_HELP);
                report.diagnostics.push(place(d, link));
            }
        }
        cache.insert(
            url.to_string(),
            CacheEntry {
                status,
                ok,
                checked: now,
                reason,
            },
        );
    }

    if let Some(path) = &opts.cache_file {
        cache.retain(|_, e| Duration::from_secs(now.saturating_sub(e.checked)) < CACHE_MAX_AGE);
        if let Err(err) = save_cache(path, cache) {
            report.diagnostics.push(
                Diagnostic::warning(format!(
                    "could not save the link-check cache `{}`: {err}",
                    display_path(path)
                ))
                .help("this run's results are not kept; check that the folder is writable"),
            );
        }
    }
    report
        .diagnostics
        .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    report
}

/// Puts a diagnostic at the link's place in its page.
fn place(diagnostic: Diagnostic, link: &ExternalLink) -> Diagnostic {
    let d = diagnostic
        .in_file(&link.file)
        .at(link.line, link.column)
        .rule(Rule::ExternalLink);
    match &link.source {
        Some(source) => d.with_source(Arc::clone(source)),
        None => d,
    }
}

/// True for `http://` and `https://` addresses, in any letter case.
fn is_http(url: &str) -> bool {
    let starts = |prefix: &str| {
        url.get(..prefix.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(prefix))
    };
    starts("http://") || starts("https://")
}

/// The address to request (with the characters HTTP forbids percent-encoded, as browsers do)
/// and the `host:port` it counts against, or the verdict when it cannot be requested at all.
fn target(url: &str) -> Result<(String, String), Outcome> {
    let invalid = |why: String| Outcome::Broken(0, format!("not a valid URL: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("no `://` after the scheme".into()))?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (address, after) = v6
                .split_once(']')
                .ok_or_else(|| invalid("the `[` around the host is not closed".into()))?;
            (&host_port[..address.len() + 2], after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err(invalid("there is no host name".into()));
    }
    if !host.is_ascii() {
        return Err(Outcome::Unchecked(
            "cannot check a host name with non-ASCII letters; write it in its `xn--` form".into(),
        ));
    }
    let port = match port {
        None | Some("") if scheme == "https" => 443,
        None | Some("") => 80,
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| invalid(format!("`{port}` is not a port number")))?,
    };
    let mut request = format!("{scheme}://{authority}");
    for c in tail.chars() {
        if c.is_ascii_graphic() && !r#""<>\^`{|}"#.contains(c) {
            request.push(c);
        } else {
            for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                // Writing to a String cannot fail.
                let _ = write!(request, "%{byte:02X}");
            }
        }
    }
    Ok((request, format!("{}:{port}", host.to_ascii_lowercase())))
}

/// Runs every host's queue on at most `concurrency` threads and returns the verdicts.
fn run_queue<'a>(queues: Vec<Vec<Job<'a>>>, opts: &ExternalOptions) -> Vec<(&'a str, Outcome)> {
    let agent = Agent::config_builder()
        .timeout_global(Some(opts.timeout))
        .http_status_as_error(false)
        .max_redirects(10)
        .user_agent(USER_AGENT)
        .build()
        .new_agent();
    // A host is served by one worker at a time, so more workers than hosts would only idle.
    let workers = opts.concurrency.max(1).min(queues.len());
    let start = Instant::now();
    let hosts = queues
        .into_iter()
        .map(|jobs| HostQueue {
            jobs,
            busy: false,
            next_start: start,
        })
        .collect();
    let work = Mutex::new(Work {
        hosts,
        results: Vec::new(),
    });
    let wake = Condvar::new();
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| worker(&work, &wake, &agent, opts));
        }
    });
    work.into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .results
}

/// Takes the next URL of a host that is idle and past its politeness gap, preferring the host
/// with most left (it sets the run's length), until no URL is left.
fn worker(work: &Mutex<Work<'_>>, wake: &Condvar, agent: &Agent, opts: &ExternalOptions) {
    let lock = || work.lock().unwrap_or_else(PoisonError::into_inner);
    let mut guard = lock();
    loop {
        let now = Instant::now();
        let mut pending = false;
        let mut soonest: Option<Instant> = None;
        let mut pick: Option<usize> = None;
        for (i, host) in guard.hosts.iter().enumerate() {
            if host.jobs.is_empty() {
                continue;
            }
            pending = true;
            if host.busy {
                continue;
            }
            if host.next_start > now {
                soonest = Some(soonest.map_or(host.next_start, |s| s.min(host.next_start)));
            } else if pick.is_none_or(|p| guard.hosts[p].jobs.len() < host.jobs.len()) {
                pick = Some(i);
            }
        }
        let Some(i) = pick else {
            if !pending {
                return;
            }
            guard = match soonest {
                Some(at) => wake
                    .wait_timeout(guard, at - now)
                    .map_or_else(|e| e.into_inner().0, |(g, _)| g),
                None => wake.wait(guard).unwrap_or_else(PoisonError::into_inner),
            };
            continue;
        };
        let Some(job) = guard.hosts[i].jobs.pop() else {
            continue;
        };
        guard.hosts[i].busy = true;
        drop(guard);
        let (outcome, last_start) = probe(agent, &job.request, opts);
        guard = lock();
        let host = &mut guard.hosts[i];
        host.busy = false;
        // An absurd delay that overflows the clock must not panic; it then just means no gap.
        host.next_start = last_start
            .checked_add(opts.host_delay)
            .unwrap_or(last_start);
        guard.results.push((job.url, outcome));
        wake.notify_all();
    }
}

/// Asks for `url`, HEAD first and GET when the server does not do HEAD properly. Also returns
/// when the last request started, for the host's politeness gap.
fn probe(agent: &Agent, url: &str, opts: &ExternalOptions) -> (Outcome, Instant) {
    let mut started = Instant::now();
    let mut answer = agent.head(url).call();
    let retry = match &answer {
        Ok(response) => matches!(response.status().as_u16(), 403 | 405 | 501),
        Err(ureq::Error::Protocol(_)) => true,
        Err(ureq::Error::Io(e)) => is_hang_up(e),
        Err(_) => false,
    };
    if retry {
        thread::sleep(opts.host_delay.saturating_sub(started.elapsed()));
        started = Instant::now();
        // Only the status matters: the body is dropped unread, which closes the connection.
        answer = agent.get(url).call();
    }
    let outcome = match answer {
        Ok(response) => judge(response.status()),
        Err(err) => failure(err, opts.timeout),
    };
    (outcome, started)
}

/// The verdict on an HTTP status, redirects already followed.
fn judge(status: StatusCode) -> Outcome {
    let code = status.as_u16();
    let named = match status.canonical_reason() {
        Some(name) => format!("{code} {name}"),
        None => code.to_string(),
    };
    match code {
        429 => Outcome::Unchecked(format!(
            "the server asked to slow down ({named}); not checked this time"
        )),
        ..400 => Outcome::Good(code),
        _ => Outcome::Broken(code, format!("returns {named}")),
    }
}

/// The verdict when no HTTP answer came back.
fn failure(err: ureq::Error, timeout: Duration) -> Outcome {
    let reason = match err {
        ureq::Error::Timeout(_) => format!("no answer within {} s", timeout.as_secs_f64()),
        ureq::Error::Io(e) if is_hang_up(&e) => {
            "the server closed the connection without answering".into()
        }
        ureq::Error::Io(e) => format!("cannot connect: {e}"),
        ureq::Error::HostNotFound => "cannot connect: host not found".into(),
        ureq::Error::ConnectionFailed => "cannot connect: connection failed".into(),
        ureq::Error::TooManyRedirects => "more than 10 redirects".into(),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => format!("not a valid URL ({err})"),
        ureq::Error::Protocol(e) => format!("the answer is not valid HTTP ({e})"),
        other => other.to_string(),
    };
    Outcome::Broken(0, reason)
}

/// The server hung up mid-exchange, which some do on HEAD.
fn is_hang_up(e: &io::Error) -> bool {
    use io::ErrorKind::{ConnectionAborted, ConnectionReset, UnexpectedEof};
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | ConnectionAborted
    )
}

/// Seconds since 1970; 0 if the clock is before it, which only makes cached entries look old.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cached entries; a missing, damaged or foreign file just means starting empty.
fn load_cache(path: &Path) -> BTreeMap<String, CacheEntry> {
    fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<CacheFile>(&text).ok())
        .filter(|file| file.version == 1)
        .map(|file| file.entries)
        .unwrap_or_default()
}

/// Writes the cache next to its final place and renames it, so a reader never sees half a file.
fn save_cache(path: &Path, entries: BTreeMap<String, CacheEntry>) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(&CacheFile {
        version: 1,
        entries,
    })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    fs::write(&tmp, json)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// What the test servers saw: every request, and how many connections were open at once.
    #[derive(Default)]
    struct Seen {
        log: Mutex<Vec<String>>,
        open: AtomicUsize,
        max_open: AtomicUsize,
    }

    impl Seen {
        fn count(&self, request: &str) -> usize {
            let log = self.log.lock().unwrap();
            log.iter().filter(|r| *r == request).count()
        }
    }

    /// Starts an HTTP/1.1 server on a free local port; returns its base URL.
    fn serve(seen: &Arc<Seen>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::clone(seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let open = seen.open.fetch_add(1, Ordering::SeqCst) + 1;
                seen.max_open.fetch_max(open, Ordering::SeqCst);
                let seen = Arc::clone(&seen);
                thread::spawn(move || answer(stream, &seen));
            }
        });
        base
    }

    fn answer(mut stream: TcpStream, seen: &Seen) {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut request = Vec::new();
        let mut buf = [0; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&request);
        let mut words = text.split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        seen.log.lock().unwrap().push(format!("{method} {target}"));
        let path = target.split('?').next().unwrap_or("");
        let (status, extra) = match (method, path) {
            ("HEAD", "/nohead") => ("405 Method Not Allowed", ""),
            (_, "/missing") => ("404 Not Found", ""),
            (_, "/moved") => ("301 Moved Permanently", "Location: /ok\r\n"),
            (_, "/busy") => ("429 Too Many Requests", ""),
            (_, "/slow" | "/pause") => {
                let pause = if path == "/slow" { 1500 } else { 200 };
                thread::sleep(Duration::from_millis(pause));
                ("200 OK", "")
            }
            _ => ("200 OK", ""),
        };
        // Closed before answering, so the client's next request can never overlap it here.
        seen.open.fetch_sub(1, Ordering::SeqCst);
        let body = if method == "HEAD" { "" } else { "hello" };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\n{extra}Content-Length: 5\r\nConnection: close\r\n\r\n{body}"
        );
    }

    fn link(url: &str, file: &str, line: usize, column: usize) -> ExternalLink {
        ExternalLink {
            url: url.to_string(),
            file: file.to_string(),
            line,
            column,
            source: Some(Arc::from("text\n")),
        }
    }

    fn options() -> ExternalOptions {
        ExternalOptions {
            concurrency: 4,
            host_delay: Duration::ZERO,
            timeout: Duration::from_millis(500),
            cache_file: None,
            cache_ttl: Duration::from_secs(3600),
            skip: Vec::new(),
        }
    }

    fn check(urls: &[String], opts: &ExternalOptions) -> ExternalReport {
        let links: Vec<_> = urls.iter().map(|u| link(u, "a.md", 1, 1)).collect();
        check_external(&links, opts)
    }

    fn messages(report: &ExternalReport) -> Vec<String> {
        report.diagnostics.iter().map(ToString::to_string).collect()
    }

    fn temp_cache(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("helpbook-ext-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let file = dir.join("cache").join("links.json");
        (dir, file)
    }

    #[test]
    fn broken_links_are_reported_at_every_place_and_requested_once() {
        let seen = Arc::default();
        let base = serve(&seen);
        let links = [
            link(&format!("{base}/ok"), "content/a.md", 3, 5),
            link(&format!("{base}/missing"), "content/b.md", 9, 2),
            link(&format!("{base}/missing"), "content/a.md", 4, 1),
            link(&format!("{base}/missing#part"), "content/b.md", 2, 7),
        ];
        let report = check_external(&links, &options());
        let places: Vec<_> = report.diagnostics.iter().map(|d| d.location()).collect();
        assert_eq!(
            places,
            ["content/a.md:4:1", "content/b.md:2:7", "content/b.md:9:2"]
        );
        let first = &report.diagnostics[0];
        assert!(first.is_error() && first.source.is_some() && first.help.is_some());
        assert_eq!(first.rule, Some(Rule::ExternalLink));
        assert!(first.message.contains("returns 404 Not Found"));
        assert!(report.diagnostics[1].message.contains("/missing#part"));
        assert_eq!((report.urls, report.requested, report.broken), (2, 2, 1));
        assert_eq!(seen.count("HEAD /missing"), 1);
        assert_eq!(seen.count("HEAD /ok"), 1);
    }

    #[test]
    fn a_slow_server_times_out() {
        let base = serve(&Arc::default());
        let started = Instant::now();
        let report = check(&[format!("{base}/slow")], &options());
        assert!(started.elapsed() < Duration::from_millis(1400));
        assert!(messages(&report)[0].contains("no answer within 0.5 s"));
    }

    #[test]
    fn head_refused_falls_back_to_get_and_redirects_are_followed() {
        let seen = Arc::default();
        let base = serve(&seen);
        let urls = [format!("{base}/nohead"), format!("{base}/moved")];
        let report = check(&urls, &options());
        assert!(report.diagnostics.is_empty(), "{:?}", messages(&report));
        assert_eq!(seen.count("GET /nohead"), 1);
        assert_eq!(seen.count("HEAD /ok"), 1);
    }

    #[test]
    fn a_closed_port_cannot_connect() {
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr();
        let report = check(&[format!("http://{}/", closed.unwrap())], &options());
        assert!(messages(&report)[0].contains("cannot connect"));
        assert_eq!(report.broken, 1);
    }

    #[test]
    fn the_cache_answers_good_links_and_rechecks_broken_ones() {
        let seen = Arc::default();
        let base = serve(&seen);
        let (dir, file) = temp_cache("cache");
        let opts = ExternalOptions {
            cache_file: Some(file.clone()),
            ..options()
        };
        let urls = [format!("{base}/ok"), format!("{base}/missing")];
        let first = check(&urls, &opts);
        assert_eq!((first.requested, first.from_cache, first.broken), (2, 0, 1));
        let second = check(&urls, &opts);
        let counts = (second.requested, second.from_cache, second.broken);
        assert_eq!(counts, (1, 1, 1));
        assert_eq!(seen.count("HEAD /ok"), 1);
        assert_eq!(seen.count("HEAD /missing"), 2);

        fs::write(&file, "{ not json").unwrap();
        let damaged = check(&urls, &opts);
        assert_eq!((damaged.requested, damaged.from_cache), (2, 0));
        assert_eq!(damaged.diagnostics.len(), 1, "{:?}", messages(&damaged));
        assert!(
            fs::read_to_string(&file)
                .unwrap()
                .contains("\"version\": 1")
        );
        let unwritable = file.join("links.json");
        let opts = ExternalOptions {
            cache_file: Some(unwritable),
            ..opts
        };
        let warning = &check(&urls, &opts).diagnostics[0];
        assert_eq!(warning.severity, Severity::Warning);
        assert!(
            warning.message.contains("links.json/links.json"),
            "{}",
            warning.message
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn one_request_at_a_time_per_host_with_a_gap() {
        let seen: Arc<Seen> = Arc::default();
        let base = serve(&seen);
        let urls: Vec<_> = (0..6).map(|n| format!("{base}/ok?n={n}")).collect();
        let opts = ExternalOptions {
            host_delay: Duration::from_millis(100),
            ..options()
        };
        let started = Instant::now();
        let report = check(&urls, &opts);
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert_eq!(report.requested, 6);
        assert_eq!(seen.max_open.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn different_hosts_are_checked_in_parallel() {
        let seen: Arc<Seen> = Arc::default();
        let (one, two) = (serve(&seen), serve(&seen));
        let urls = [
            format!("{one}/pause?1"),
            format!("{one}/pause?2"),
            format!("{two}/pause?1"),
            format!("{two}/pause?2"),
        ];
        let report = check(&urls, &options());
        assert!(report.diagnostics.is_empty(), "{:?}", messages(&report));
        assert!(seen.max_open.load(Ordering::SeqCst) >= 2);
    }

    #[test]
    fn skipped_prefixes_are_never_requested() {
        let seen = Arc::default();
        let base = serve(&seen);
        let opts = ExternalOptions {
            skip: vec![format!("{base}/private")],
            ..options()
        };
        let urls = [format!("{base}/private/missing"), format!("{base}/ok")];
        let report = check(&urls, &opts);
        assert_eq!((report.urls, report.requested), (1, 1));
        assert_eq!(seen.log.lock().unwrap().as_slice(), ["HEAD /ok"]);
    }

    #[test]
    fn too_many_requests_is_a_warning_and_not_cached() {
        let seen = Arc::default();
        let base = serve(&seen);
        let (dir, file) = temp_cache("busy");
        let opts = ExternalOptions {
            cache_file: Some(file),
            ..options()
        };
        for _ in 0..2 {
            let report = check(&[format!("{base}/busy")], &opts);
            let d = &report.diagnostics[0];
            assert_eq!(d.severity, Severity::Warning);
            assert!(d.message.contains("429 Too Many Requests"), "{}", d.message);
            assert_eq!((report.broken, report.from_cache), (0, 0));
        }
        assert_eq!(seen.count("HEAD /busy"), 2);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn odd_urls_are_reported_without_panicking() {
        let base = serve(&Arc::default());
        let urls = [
            "http://".to_string(),
            "https://exa mple.com/".to_string(),
            "http://[::1/x".to_string(),
            "http://host:99999/".to_string(),
            "http://bücher.example/".to_string(),
            format!("HTTP://{}/ok", base.trim_start_matches("http://")),
            format!("{base}/ok/ä ö|x"),
            "mailto:someone@example.com".to_string(),
        ];
        let report = check(&urls, &options());
        let all = messages(&report);
        assert_eq!(report.broken, 4, "{all:?}");
        assert_eq!(report.diagnostics.len(), 5, "{all:?}");
        let invalid = all.iter().filter(|m| m.contains("not a valid URL"));
        assert_eq!(invalid.count(), 4, "{all:?}");
        assert!(
            all.iter()
                .any(|m| m.contains("warning") && m.contains("xn--"))
        );
    }
}
