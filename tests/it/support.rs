//! `TestSite`: a site in a temporary folder, built with the library or the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use helpbook::{BuildOptions, BuildReport, build};

pub(crate) struct TestSite {
    dir: tempfile::TempDir,
}

impl TestSite {
    pub(crate) fn new() -> Self {
        TestSite {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A copy of `tests/fixtures/<name>`.
    pub(crate) fn fixture(name: &str) -> Self {
        let site = TestSite::new();
        copy_dir(&fixtures_dir().join(name), site.root());
        site
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the site root.
    pub(crate) fn file(self, rel: &str, text: impl AsRef<[u8]>) -> Self {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Writes a page under `content/`.
    pub(crate) fn page(self, rel: &str, text: &str) -> Self {
        self.file(&format!("content/{rel}"), text)
    }

    /// Builds with the library, without environment overrides.
    pub(crate) fn build(&self) -> BuildReport {
        build(&BuildOptions {
            root: self.root().to_path_buf(),
            out_dir: None,
            env: Vec::new(),
            ..Default::default()
        })
    }

    /// Builds and asserts success.
    pub(crate) fn build_ok(&self) -> BuildReport {
        let report = self.build();
        assert!(!report.failed(), "build failed:\n{}", messages(&report));
        report
    }

    /// Runs the binary with `args` in the site root.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_helpbook"))
            .args(args)
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .output()
            .expect("run helpbook")
    }

    /// A file of the output (`public/`).
    pub(crate) fn output(&self, rel: &str) -> String {
        let path = self.root().join("public").join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub(crate) fn output_exists(&self, rel: &str) -> bool {
        self.root().join("public").join(rel).exists()
    }
}

/// One site of a group of fixture sites (`tests/fixtures/<group>/<name>/`), copied, with the
/// text of its `expected.txt` (removed from the copy).
pub(crate) struct FixtureCase {
    pub(crate) name: String,
    pub(crate) site: TestSite,
    pub(crate) expected: String,
}

/// Every site of `tests/fixtures/<group>/`, sorted by name; at least `min` of them.
pub(crate) fn fixture_cases(group: &str, min: usize) -> Vec<FixtureCase> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir().join(group))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(
        names.len() >= min,
        "expected at least {min} fixtures in {group}/, found {}",
        names.len()
    );
    names
        .into_iter()
        .map(|name| {
            let site = TestSite::fixture(&format!("{group}/{name}"));
            let expected_file = site.root().join("expected.txt");
            let expected = std::fs::read_to_string(&expected_file).unwrap();
            std::fs::remove_file(expected_file).unwrap();
            FixtureCase {
                name,
                site,
                expected,
            }
        })
        .collect()
}

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// All diagnostics as `location: severity: message` lines.
pub(crate) fn messages(report: &BuildReport) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `<div class="content">` of a page.
pub(crate) fn content_of(html: &str) -> &str {
    let start = html.find("<div class=\"content\">").expect("content div");
    let end = html[start..]
        .find("\n  </div>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// The repository root (the sample site lives there).
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the sample knowledge base at the repository root (without its `public/`).
pub(crate) fn sample_site() -> TestSite {
    let site = TestSite::new().file(
        "book.toml",
        std::fs::read(repo_root().join("book.toml")).expect("read book.toml"),
    );
    copy_dir(&repo_root().join("content"), &site.root().join("content"));
    site
}

/// A runtime for the library's async calls (the event store) from a test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Rows of `kind` stored for `session` in the event store at `location`.
pub(crate) fn stored(location: &str, session: &str, kind: &str) -> i64 {
    runtime().block_on(async {
        let store = helpbook::analytics::EventStore::open(location)
            .await
            .expect("store opens");
        let n = store.count(session, kind).await.expect("count");
        store.close().await;
        n
    })
}

/// `helpbook serve` running on an ephemeral loopback port; killed when dropped.
pub(crate) struct Server {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: String,
}

impl Server {
    /// Starts `helpbook serve DIR --port 0` and waits (bounded) for its "Serving" line.
    pub(crate) fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[], &[])
    }

    /// Starts `helpbook serve DIR --port 0 ARGS…` with extra environment variables.
    pub(crate) fn start_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_helpbook"))
            .arg("serve")
            .arg(dir)
            .args(["--port", "0"])
            .args(args)
            .envs(env.iter().copied())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start helpbook serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.split("http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or("").to_string());
                }
            }
        });
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(addr) => Server { child, addr },
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("wait");
                panic!(
                    "helpbook serve did not start:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    /// `GET path`: (status, content type, body).
    pub(crate) fn get(&self, path: &str) -> (u16, String, String) {
        http_get(&self.addr, path)
    }

    /// The server's process id (for tests/soak.rs, which shares this file).
    #[allow(dead_code)]
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks the server to stop (SIGINT, as Ctrl+C) and waits, bounded, for it to exit.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        self.signal("INT");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not stop within 30 s of SIGINT");
    }

    /// Kills the server at once (SIGKILL): nothing gets to flush.
    pub(crate) fn kill_hard(mut self) {
        self.signal("KILL");
        let _ = self.child.wait();
    }

    fn signal(&mut self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }
}

/// A response: status, headers (names lowercased) and body bytes.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// A minimal HTTP/1.1 request on loopback with `Connection: close`.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    send(addr, &request(addr, method, path, headers, body))
}

/// The bytes of an HTTP/1.1 request with `Content-Length` and `Connection: close`.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends `request` exactly as given (nothing normalises its path or re-encodes its query) and
/// reads the answer until the server closes the connection.
pub(crate) fn send(addr: &str, request: &[u8]) -> Reply {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    // A server may answer (413) before reading all of a large request.
    let _ = stream.write_all(request);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let rest = raw.get(split + 4..).unwrap_or(&[]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    Reply {
        status,
        headers,
        body: if chunked {
            dechunk(rest)
        } else {
            rest.to_vec()
        },
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET on loopback (no client library needed): status, content type, body.
pub(crate) fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    let reply = http(addr, "GET", path, &[], b"");
    (
        reply.status,
        reply.header("content-type").unwrap_or_default().to_string(),
        String::from_utf8(reply.body).expect("UTF-8 body"),
    )
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]);
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or(&[]);
    }
    out
}
