//! The writer preview: `helpbook serve` on a loopback port, its live-reload stream read over a
//! plain TCP connection, and the files edited, created, renamed and deleted underneath it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Server, TestSite, http};

/// From a file write to the message about it (debounce, rebuild, a loaded machine).
const REBUILD_WAIT: Duration = Duration::from_secs(30);

/// The preview's live-reload stream, read on a thread of its own.
pub(crate) struct LiveEvents {
    messages: mpsc::Receiver<Value>,
    /// Every message seen, for failure messages.
    seen: Vec<Value>,
}

impl LiveEvents {
    /// Connects to `/_helpbook/live` of the server at `addr` and waits for the first message
    /// (the state as it is).
    pub(crate) fn connect(addr: &str) -> (LiveEvents, Value) {
        let mut stream = TcpStream::connect(addr).expect("connect to the preview");
        write!(
            stream,
            "GET /_helpbook/live HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .expect("send the request");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(stream);
            for line in reader.lines().map_while(Result::ok) {
                // Chunked encoding puts sizes on lines of their own; data lines are whole.
                if let Some(data) = line.strip_prefix("data: ")
                    && let Ok(v) = serde_json::from_str::<Value>(data)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        let mut events = LiveEvents {
            messages: rx,
            seen: Vec::new(),
        };
        let first = events.next("the first message");
        (events, first)
    }

    fn next(&mut self, what: &str) -> Value {
        match self.messages.recv_timeout(REBUILD_WAIT) {
            Ok(v) => {
                self.seen.push(v.clone());
                v
            }
            Err(_) => panic!(
                "{what}: no message within {REBUILD_WAIT:?}; seen: {:#?}",
                self.seen
            ),
        }
    }

    /// The next message that `matches`, skipping others (an editor's save can make two).
    pub(crate) fn wait_for(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + REBUILD_WAIT;
        while Instant::now() < deadline {
            let v = self.next(what);
            if matches(&v) {
                return v;
            }
        }
        panic!("{what}: no such message; seen: {:#?}", self.seen)
    }
}

/// Whether a message says `url` was rewritten.
fn rewrote(message: &Value, url: &str) -> bool {
    message["type"] == "reload"
        && (message["all"] == true
            || message["pages"]
                .as_array()
                .is_some_and(|p| p.iter().any(|u| u == url)))
}

/// The errors a message reports, as `file:line: message`.
fn errors_of(message: &Value) -> Vec<String> {
    message["problems"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["severity"] == "error")
                .map(|p| {
                    format!(
                        "{}:{}: {}",
                        p["file"].as_str().unwrap_or(""),
                        p["line"],
                        p["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Polls the search API until `query` finds (or, with `found` false, no longer finds) `url`.
fn wait_for_search(server: &Server, query: &str, url: &str, found: bool) {
    let deadline = Instant::now() + REBUILD_WAIT;
    let path = format!("/api/search?q={}", query.replace(' ', "+"));
    loop {
        let (status, _, body) = server.get(&path);
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("JSON");
        let has = v["results"].as_array().is_some_and(|r| {
            r.iter()
                .any(|h| h["url"].as_str().unwrap_or("").starts_with(url))
        });
        if has == found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "search for {query:?}: expected {url} found={found}; got {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write(site: &TestSite, rel: &str, text: &str) {
    let path = site.root().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).expect("create the folder");
    std::fs::write(path, text).expect("write");
}

/// `guide/alpha.md` with `title` and a paragraph `text` after its first (its description).
fn alpha(title: &str, text: &str) -> String {
    format!("---\ntitle: {title}\n---\n\nAlpha opens here.\n\n{text}\n\n## Setup\n\nSteps.\n")
}

fn small_site() -> TestSite {
    TestSite::new()
        .file("book.toml", "[book]\ntitle = \"Preview test\"\n")
        .page("index.md", "# Home\n\nWelcome.\n")
        .page(
            "guide/alpha.md",
            &alpha("Alpha guide", "The first version mentions marmalade."),
        )
        .page(
            "guide/beta.md",
            "---\ntitle: Beta guide\n---\n\nSee [alpha](alpha.md#setup).\n",
        )
        .page("other/gamma.md", "# Gamma\n\nElsewhere.\n")
}

/// Edits, an editor's save by rename, a new page, a deleted page: each reaches the open pages
/// as a message naming the pages rewritten, the files served change, and search follows.
#[test]
fn serve_rebuilds_what_changed_and_tells_the_open_pages() {
    let site = small_site();
    let server = Server::start(site.root());
    let (mut live, first) = LiveEvents::connect(&server.addr);
    assert!(first["version"].as_u64().is_some(), "{first:#}");
    assert!(errors_of(&first).is_empty(), "{first:#}");

    // Every HTML page carries the live-reload script, compressed or not; other files do not.
    let reply = http(
        &server.addr,
        "GET",
        "/guide/alpha.html",
        &[("Accept-Encoding", "gzip, br")],
        b"",
    );
    assert_eq!(reply.status, 200);
    assert!(
        reply.text().contains("/_helpbook/live.js"),
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let (status, kind, script) = server.get("/_helpbook/live.js");
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/javascript; charset=utf-8")
    );
    assert!(script.contains("EventSource"));
    let (_, _, css) = server.get("/_helpbook/style.css");
    assert!(!css.contains("live.js"));
    // The built files themselves are a production build's: no script in them.
    let on_disk = std::fs::read_to_string(site.root().join("public/guide/alpha.html")).unwrap();
    assert!(!on_disk.contains("live.js"));

    // 1. An edit of the body: that page, and only it, is rewritten.
    write(
        &site,
        "content/guide/alpha.md",
        &alpha("Alpha guide", "The second version mentions quince."),
    );
    let m = live.wait_for("edit alpha", |m| rewrote(m, "guide/alpha.html"));
    assert_eq!(m["pages"], serde_json::json!(["guide/alpha.html"]), "{m:#}");
    let (_, _, page) = server.get("/guide/alpha.html");
    assert!(
        page.contains("quince") && !page.contains("marmalade"),
        "{page}"
    );
    wait_for_search(&server, "quince", "/guide/alpha.html", true);
    wait_for_search(&server, "marmalade", "/guide/alpha.html", false);

    // 2. A title change reaches the pages that show it: its neighbour and its section.
    write(
        &site,
        "content/guide/alpha.md",
        &alpha("Apricot guide", "The second version mentions quince."),
    );
    let m = live.wait_for("retitle alpha", |m| rewrote(m, "guide/alpha.html"));
    assert!(rewrote(&m, "guide/beta.html"), "{m:#}");
    assert!(rewrote(&m, "guide/index.html"), "{m:#}");
    let (_, _, beta) = server.get("/guide/beta.html");
    assert!(beta.contains("Apricot guide"), "{beta}");

    // 3. Saved the way vim and JetBrains save: written elsewhere, renamed over the page.
    let tmp = site.root().join("content/guide/alpha.md.tmp");
    std::fs::write(
        &tmp,
        alpha("Apricot guide", "The third version mentions kumquat."),
    )
    .unwrap();
    std::fs::rename(&tmp, site.root().join("content/guide/alpha.md")).unwrap();
    live.wait_for("save by rename", |m| rewrote(m, "guide/alpha.html"));
    let (_, _, page) = server.get("/guide/alpha.html");
    assert!(page.contains("kumquat"), "{page}");
    wait_for_search(&server, "kumquat", "/guide/alpha.html", true);

    // 4. A new page: served, listed by its section, found by search.
    write(
        &site,
        "content/guide/delta.md",
        "---\ntitle: Delta guide\n---\n\nA brand new page about persimmon.\n",
    );
    let m = live.wait_for("create delta", |m| rewrote(m, "guide/delta.html"));
    assert!(rewrote(&m, "guide/index.html"), "{m:#}");
    let (status, _, page) = server.get("/guide/delta.html");
    assert_eq!(status, 200);
    assert!(page.contains("persimmon"));
    let (_, _, section) = server.get("/guide/index.html");
    assert!(section.contains("Delta guide"), "{section}");
    wait_for_search(&server, "persimmon", "/guide/delta.html", true);

    // 5. Deleted: gone from the site, its section and the search.
    std::fs::remove_file(site.root().join("content/guide/delta.md")).unwrap();
    let m = live.wait_for("delete delta", |m| {
        m["removed"]
            .as_array()
            .is_some_and(|r| r.iter().any(|u| u == "guide/delta.html"))
    });
    assert!(errors_of(&m).is_empty(), "{m:#}");
    let (status, _, _) = server.get("/guide/delta.html");
    assert_eq!(status, 404);
    let (_, _, section) = server.get("/guide/index.html");
    assert!(!section.contains("Delta guide"), "{section}");
    wait_for_search(&server, "persimmon", "/guide/delta.html", false);

    // 6. A page renamed: the old URL is gone, the new one served.
    std::fs::rename(
        site.root().join("content/other/gamma.md"),
        site.root().join("content/other/gamma-ray.md"),
    )
    .unwrap();
    let m = live.wait_for("rename gamma", |m| rewrote(m, "other/gamma-ray.html"));
    assert!(
        m["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "other/gamma.html"),
        "{m:#}"
    );
    assert_eq!(server.get("/other/gamma.html").0, 404);
    assert_eq!(server.get("/other/gamma-ray.html").0, 200);

    // 7. A file a page includes: the page is rebuilt with it.
    write(&site, "content/snippets/note.md", "Included fig text.\n");
    write(
        &site,
        "content/other/gamma-ray.md",
        "# Gamma\n\n{{#include ../snippets/note.md}}\n",
    );
    live.wait_for("include", |m| rewrote(m, "other/gamma-ray.html"));
    write(&site, "content/snippets/note.md", "Included date text.\n");
    live.wait_for("included file changed", |m| {
        rewrote(m, "other/gamma-ray.html")
    });
    assert!(
        server
            .get("/other/gamma-ray.html")
            .2
            .contains("Included date text.")
    );

    // 8. A new image is published; a deleted one is gone.
    write(&site, "content/guide/pic.png", "not really a PNG");
    live.wait_for("new asset", |m| {
        m["type"] == "reload" && m["pages"] == serde_json::json!([])
    });
    assert_eq!(server.get("/guide/pic.png").0, 200);
    std::fs::remove_file(site.root().join("content/guide/pic.png")).unwrap();
    live.wait_for("asset deleted", |m| {
        m["type"] == "reload" && m["pages"] == serde_json::json!([])
    });
    assert_eq!(server.get("/guide/pic.png").0, 404);

    // 9. A folder renamed: its pages move with it.
    std::fs::rename(
        site.root().join("content/other"),
        site.root().join("content/misc"),
    )
    .unwrap();
    let m = live.wait_for("rename a folder", |m| rewrote(m, "misc/gamma-ray.html"));
    assert!(
        m["removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "other/gamma-ray.html"),
        "{m:#}"
    );
    assert_eq!(server.get("/other/gamma-ray.html").0, 404);
    assert!(
        server
            .get("/misc/gamma-ray.html")
            .2
            .contains("Included date text.")
    );

    // 10. book.toml: everything is rebuilt.
    write(&site, "book.toml", "[book]\ntitle = \"Renamed help\"\n");
    let m = live.wait_for("book.toml", |m| m["all"] == true);
    assert!(errors_of(&m).is_empty(), "{m:#}");
    assert!(server.get("/guide/beta.html").2.contains("Renamed help"));
    wait_for_search(&server, "kumquat", "/guide/alpha.html", true);

    // 11. glossary.yaml: every page may use a term, so everything is rebuilt with the
    // definition, and a broken glossary is reported at its line.
    write(
        &site,
        "content/glossary.yaml",
        "- term: kumquat\n  plain: A small orange you eat whole.\n",
    );
    let m = live.wait_for("glossary", |m| m["all"] == true);
    assert!(errors_of(&m).is_empty(), "{m:#}");
    let alpha_page = server.get("/guide/alpha.html").2;
    assert!(
        alpha_page.contains("href=\"../glossary.html#kumquat\"")
            && alpha_page.contains("A small orange you eat whole."),
        "{alpha_page}"
    );
    assert!(
        server
            .get("/glossary.html")
            .2
            .contains("A small orange you eat whole.")
    );
    write(
        &site,
        "content/glossary.yaml",
        "- term: kumquat\n  plian: oops\n",
    );
    let m = live.wait_for("broken glossary", |m| !errors_of(m).is_empty());
    assert!(
        errors_of(&m)
            .iter()
            .any(|e| e.starts_with("content/glossary.yaml:2")),
        "{m:#}"
    );
    server.stop();
}

/// A site with errors is served all the same: the first message reports them.
#[test]
fn serve_starts_on_a_site_with_errors() {
    let site = small_site().page("guide/broken.md", "# Broken\n\nSee [gone](gone.md).\n");
    let server = Server::start(site.root());
    let (_, first) = LiveEvents::connect(&server.addr);
    let errors = errors_of(&first);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("content/guide/broken.md:3") && e.contains("gone.md")),
        "{first:#}"
    );
    assert_eq!(server.get("/guide/alpha.html").0, 200);
    server.stop();
}

/// Broken front matter, a broken link and an invalid tree: each is reported with its file and
/// line to the open pages (and the terminal), the last good page stays served, the server keeps
/// running, and fixing the file clears the report.
#[test]
fn mistakes_show_where_they_are_and_the_last_good_page_stays() {
    let site = small_site();
    let server = Server::start(site.root());
    let (mut live, _) = LiveEvents::connect(&server.addr);

    // Broken YAML in the front matter.
    write(
        &site,
        "content/guide/alpha.md",
        "---\ntitle: [unclosed\n---\n\nBroken version with rhubarb.\n",
    );
    let m = live.wait_for("broken front matter", |m| !errors_of(m).is_empty());
    let errors = errors_of(&m);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("content/guide/alpha.md:2")),
        "{errors:?}"
    );
    assert!(
        m["problems"][0]["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("title: [unclosed")),
        "{m:#}"
    );
    let (status, _, page) = server.get("/guide/alpha.html");
    assert_eq!(status, 200);
    assert!(
        page.contains("marmalade") && !page.contains("rhubarb"),
        "{page}"
    );
    // A page opened now hears about the problem first thing.
    let (_, now) = LiveEvents::connect(&server.addr);
    assert!(!errors_of(&now).is_empty(), "{now:#}");

    // Fixed: the report clears and the new text is served.
    write(
        &site,
        "content/guide/alpha.md",
        &alpha("Alpha guide", "Fixed version with rhubarb."),
    );
    let m = live.wait_for("front matter fixed", |m| rewrote(m, "guide/alpha.html"));
    assert!(errors_of(&m).is_empty(), "{m:#}");
    assert!(server.get("/guide/alpha.html").2.contains("rhubarb"));

    // A broken link, reported at its line; the page keeps its last good output.
    write(
        &site,
        "content/guide/beta.md",
        "---\ntitle: Beta guide\n---\n\nNew text with turnip.\n\nSee [nothing](missing.md).\n",
    );
    let m = live.wait_for("broken link", |m| !errors_of(m).is_empty());
    let errors = errors_of(&m);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("content/guide/beta.md:7") && e.contains("missing.md")),
        "{errors:?}"
    );
    assert!(!server.get("/guide/beta.html").2.contains("turnip"));

    // A heading removed that another page links to: that page's link is reported.
    write(
        &site,
        "content/guide/beta.md",
        "---\ntitle: Beta guide\n---\n\nSee [alpha](alpha.md#setup).\n",
    );
    live.wait_for("link fixed", |m| errors_of(m).is_empty());
    write(
        &site,
        "content/guide/alpha.md",
        "---\ntitle: Alpha guide\n---\n\nNo more setup section.\n",
    );
    let m = live.wait_for("anchor gone", |m| !errors_of(m).is_empty());
    assert!(
        errors_of(&m)
            .iter()
            .any(|e| e.starts_with("content/guide/beta.md:5") && e.contains("#setup")),
        "{m:#}"
    );

    // An invalid tree.
    std::fs::create_dir_all(site.root().join("content/triage")).unwrap();
    write(
        &site,
        "content/triage/sound.yaml",
        "id: sound\ntitle: No sound\ndescription: Sound problems.\naudience: teacher\nstart: who\nnodes:\n  who:\n    question: Who cannot hear?\n    options:\n      - { label: Everyone, next: nobody }\n",
    );
    let m = live.wait_for("invalid tree", |m| {
        errors_of(m)
            .iter()
            .any(|e| e.starts_with("content/triage/sound.yaml:10"))
    });
    assert!(errors_of(&m).iter().any(|e| e.contains("nobody")), "{m:#}");
    // Fixed: its pages are served.
    write(
        &site,
        "content/triage/sound.yaml",
        "id: sound\ntitle: No sound\ndescription: Sound problems.\naudience: teacher\nstart: who\nnodes:\n  who:\n    question: Who cannot hear?\n    options:\n      - { label: Everyone, answer: Unmute yourself. }\n",
    );
    let m = live.wait_for("tree fixed", |m| rewrote(m, "triage/sound/index.html"));
    // The heading beta links to is still missing; the tree is fine.
    assert!(
        !errors_of(&m).iter().any(|e| e.contains("sound.yaml")),
        "{m:#}"
    );
    assert!(
        server
            .get("/triage/sound/index.html")
            .2
            .contains("Who cannot hear?")
    );
    // Still serving.
    assert_eq!(server.get("/index.html").0, 200);
    let status = server.stop();
    assert!(status.success(), "{status:?}");
}

/// A stylesheet change swaps stylesheets without reloading pages; a template change rebuilds
/// every page; a broken template is reported and the pages stay as they were.
#[test]
fn theme_changes_rebuild_everything_and_css_only_swaps() {
    let site = small_site()
        .file("theme/static/extra.css", "body { color: black; }\n")
        .file(
            "book.toml",
            "[book]\ntitle = \"Preview test\"\n[output.html]\nadditional-css = [\"custom.css\"]\n",
        )
        .file("custom.css", "main { margin: 0; }\n");
    let server = Server::start(site.root());
    let (mut live, _) = LiveEvents::connect(&server.addr);

    write(&site, "custom.css", "main { margin: 1rem; }\n");
    let m = live.wait_for("css", |m| m["type"] == "css");
    assert_eq!(m["pages"], serde_json::json!([]), "{m:#}");
    assert!(server.get("/custom.css").2.contains("1rem"));

    std::fs::create_dir_all(site.root().join("theme/templates")).unwrap();
    let base =
        std::fs::read_to_string(crate::support::repo_root().join("theme/templates/page.html"))
            .unwrap();
    write(
        &site,
        "theme/templates/page.html",
        &base.replace(
            "{% block main %}",
            "{% block main %}<p>FROM THE NEW TEMPLATE</p>",
        ),
    );
    let m = live.wait_for("template", |m| m["type"] == "reload");
    assert_eq!(m["all"], true, "{m:#}");
    assert!(
        server
            .get("/guide/alpha.html")
            .2
            .contains("FROM THE NEW TEMPLATE")
    );

    write(
        &site,
        "theme/templates/page.html",
        "{% block main %}{% endblock",
    );
    let m = live.wait_for("broken template", |m| !errors_of(m).is_empty());
    assert!(
        errors_of(&m).iter().any(|e| e.contains("template")),
        "{m:#}"
    );
    assert!(
        server
            .get("/guide/alpha.html")
            .2
            .contains("FROM THE NEW TEMPLATE")
    );
    server.stop();
}
