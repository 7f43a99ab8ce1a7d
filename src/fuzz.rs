//! Entry points for the fuzz targets in `fuzz/` and for the tests that replay what they found
//! (`tests/it/fuzz_regressions.rs`). Not part of the library's API.
//!
//! Each function takes the raw bytes of one input and sends them down the path a real input
//! takes: a page or a tree is written to a file of a small site and read back (so bytes that are
//! not UTF-8 meet the same error a writer's file does), a search arrives as the query string of
//! `/api/search`. Every problem found is rendered as the CLI prints it, since rendering a
//! diagnostic (line, column, snippet) is where odd input could go wrong too. Whatever the input,
//! these functions must return: no panic, no hang, no unbounded memory. (The one deliberate
//! panic is a broken promise between the build and the server: see [`Fixture::triage_tree`].)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::config::Config;
use crate::content::{self, Page, Sources};
use crate::diagnostic::Diagnostic;
use crate::search::{SearchIndex, SearchResults};
use crate::triage::TreeMeta;

/// Where [`Fixture::markdown`] writes its input, under the content folder: next to other pages,
/// so relative links and includes have somewhere to go.
pub const MARKDOWN_PAGE: &str = "guides/fuzz.md";

/// Where [`Fixture::triage_tree`] writes its input, under the content folder.
pub const TREE_FILE: &str = "triage/fuzz.yaml";

/// The small site every input is tried against: pages in English and Chinese with headings,
/// code, alerts and includes, files to include (one with anchors, one that includes itself), a
/// glossary, synonyms and a triage tree embedded in the home page.
const SITE: &[(&str, &str)] = &[
    (
        "book.toml",
        "[book]\ntitle = \"Fuzz fixture\"\nlanguage = \"en\"\nsrc = \"content\"\n\n[build]\nbuild-dir = \"public\"\nbroken-links = \"error\"\n",
    ),
    (
        "content/index.md",
        "---\ntitle: Help\ndescription: The home page.\n---\n# Help\n\nStart with [setting up](guides/setup.md#install), or answer a few questions:\n\n{{#triage live-class}}\n\n![The toolbar](images/toolbar.svg)\n",
    ),
    (
        "content/guides/setup.md",
        "---\ntitle: Set up your class\nkind: guide\naudience: teacher\ntags: [setup, audio]\nsymptoms: [first class]\nupdated: 2026-11-01\nweight: 1\naliases: [old/setup.html]\n---\n# Set up your class\n\nCheck your bitrate before class. See [no sound](../troubleshooting/no-sound.md#check-the-microphone).\n\n## Install\n\n```toml\n[server]\nbind = \"127.0.0.1:3000\"\n```\n\n## Configure {#config}\n\n> [!NOTE]\n> Keep the token secret.\n\n{{#include ../snippets/auth.md}}\n\n```rust\n{{#include ../snippets/code.rs:main}}\n```\n\n| Key | Value |\n|-----|-------|\n| a   | b     |\n\n- [ ] a task\n\nA footnote[^1].\n\n[^1]: The note.\n",
    ),
    (
        "content/troubleshooting/no-sound.md",
        "---\ntitle: Students can't hear me\nkind: troubleshooting\nseverity: urgent\nsymptoms: [no sound, 学生听不到, muted]\n---\nThe class sees you but hears nothing.\n\n## Check the microphone\n\n1. Click **Mic**.\n2. Say something.\n\n:::tip\nUse headphones.\n:::\n",
    ),
    (
        "content/zh/video.md",
        "---\ntitle: 视频卡顿\nlang: zh\nsymptoms: [卡顿, 画面不动]\n---\n# 视频卡顿\n\n学生看到的画面卡住了。先检查网络，再降低码率。\n\n## 检查网络\n\n关闭其他下载。\n",
    ),
    (
        "content/snippets/auth.md",
        "---\ntitle: Auth (snippet)\ndraft: true\n---\nSend the token in the `Authorization` header. See [setup](../guides/setup.md#install).\n",
    ),
    (
        "content/snippets/code.rs",
        "// ANCHOR: main\nfn main() {\n    println!(\"hello\");\n}\n// ANCHOR_END: main\n",
    ),
    (
        "content/snippets/loop.txt",
        "before {{#include loop.txt}} after\n",
    ),
    (
        "content/images/toolbar.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n",
    ),
    (
        "content/triage/live-class.yaml",
        "id: live-class\ntitle: Something is wrong in my live class\ndescription: Answer two questions.\naudience: teacher\nsymptoms: [class problem]\nstart: who\nnodes:\n  who:\n    question: Is it only you, or the whole class?\n    help: |\n      Ask one student.\n    options:\n      - label: Only me\n        next: what\n      - label: Everyone\n        page: troubleshooting/no-sound.md#check-the-microphone\n        severity: urgent\n        outage: true\n  what:\n    question: Sound or picture?\n    options:\n      - { label: Sound, answer: \"Unmute yourself. See [setup](guides/setup.md#install).\" }\n      - { label: Picture, id: pic, page: zh/video.md }\n",
    ),
    (
        "content/glossary.yaml",
        "- term: bitrate\n  aliases: [bit rate]\n  plain: How much data is sent every second.\n  instead: video quality\n  zh:\n    term: 码率\n    plain: 每秒发送的数据量。\n",
    ),
    (
        "content/synonyms.yaml",
        "- [no sound, can't hear, 没声音, 听不到]\n- [laggy, frozen, 卡顿]\n",
    ),
];

/// How a diagnostic's file is shown for inputs that are not in a site.
const SHOWN: &str = "content/fuzz.md";

/// Front matter as a page's file holds it: decoded like a file read from disk, split off the
/// body and parsed. Returns the problems, rendered.
pub fn front_matter(data: &[u8]) -> Vec<String> {
    let text: Arc<str> = match content::decode_text(data.to_vec()) {
        Ok(text) => Arc::from(text),
        Err(d) => return vec![d.in_file(SHOWN).render(false)],
    };
    let place = |d: Diagnostic| d.in_file(SHOWN).with_source(text.clone());
    let split = match content::split_front_matter(&text) {
        Ok(split) => split,
        Err(d) => return vec![place(d).render(false)],
    };
    match content::parse_front_matter(&split) {
        Ok(front) => {
            // What the content stage and pages.json go on to read.
            let _ = content::key_line(&split, "kind");
            let _ = content::key_line(&split, "severity");
            let _ = front.updated.map(|d| d.days_since_epoch());
            serde_json::to_string(&front).map_or_else(|e| vec![e.to_string()], |_| Vec::new())
        }
        Err(d) => vec![place(d).render(false)],
    }
}

/// The small site, built once (with its search index) in a folder of its own; removed when
/// dropped.
pub struct Fixture {
    root: PathBuf,
    config: Config,
    sources: Sources,
    /// The site's Markdown pages, as read by the build.
    pages: Vec<Page>,
    index: SearchIndex,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// Writes the site to a new folder under the system's temporary folder and builds it.
    /// Fails when the site does not build cleanly (which would be a bug of the build).
    pub fn new() -> Result<Fixture, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "helpbook-fuzz-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let fixture = Fixture::build(&root);
        if fixture.is_err() {
            let _ = std::fs::remove_dir_all(&root);
        }
        fixture
    }

    fn build(root: &Path) -> Result<Fixture, String> {
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("fuzz fixture: {what}: {e}");
        for (rel, text) in SITE {
            let path = root.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| fail(rel, &e))?;
            }
            std::fs::write(&path, text).map_err(|e| fail(rel, &e))?;
        }
        let report = crate::build(&crate::BuildOptions {
            root: root.to_path_buf(),
            out_dir: None,
            env: Vec::new(),
            check_search: false,
        });
        if report.failed() || report.warnings() > 0 {
            let messages: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
            return Err(fail("the site does not build", &messages.join("\n")));
        }
        let out_dir = report.out_dir.clone().unwrap_or_default();
        let site = report.site.ok_or_else(|| fail("build", &"no site"))?;
        let (config, pages) = site.into_parts();
        let (sources, diags) = Sources::discover(&config);
        if let Some(d) = diags.first() {
            return Err(fail("discovery", d));
        }
        let index = SearchIndex::open_output(&out_dir).map_err(|e| fail("search index", &e))?;
        Ok(Fixture {
            root: root.to_path_buf(),
            config,
            sources,
            pages,
            index,
        })
    }

    /// A page of the site: written to [`MARKDOWN_PAGE`], read and rendered as the build reads
    /// every page (front matter, includes, containers, highlighting, glossary terms, links),
    /// then put together with the other pages: links and anchors checked, aliases, navigation,
    /// tree embeds. Returns the problems, rendered.
    pub fn markdown(&self, data: &[u8]) -> Vec<String> {
        if let Err(e) = std::fs::write(self.config.src_dir.join(MARKDOWN_PAGE), data) {
            return vec![format!("cannot write the page: {e}")];
        }
        let (page, mut diags) =
            content::read_page(&self.config, &self.sources.glossary, MARKDOWN_PAGE);
        if let Some(page) = page {
            let mut pages = self.pages.clone();
            pages.push(page);
            let (_site, more) =
                content::assemble(self.config.clone(), &self.sources, pages, &|_, _| {});
            diags.extend(more);
        }
        render_all(&diags)
    }

    /// A triage tree of the site: written to [`TREE_FILE`] and read with the site's pages as the
    /// build reads trees (checked, made into pages, embedded, described for the server); then
    /// each of its answer paths is checked as the server checks a reader's. Returns the
    /// problems, rendered.
    ///
    /// Panics, on purpose, when the site builds without errors but the server would refuse the
    /// path of answers that leads to one of the tree's pages: the two must agree.
    pub fn triage_tree(&self, data: &[u8]) -> Vec<String> {
        if let Err(e) = std::fs::write(self.config.src_dir.join(TREE_FILE), data) {
            return vec![format!("cannot write the tree: {e}")];
        }
        let mut sources = self.sources.clone();
        sources.trees.push(TREE_FILE.to_string());
        let (site, diags) = content::assemble(
            self.config.clone(),
            &sources,
            self.pages.clone(),
            &|_, _| {},
        );
        let mut out = render_all(&diags);
        // The server reads the trees from triage.json and checks each reader's path of answers.
        let json = match serde_json::to_string(&site.triage) {
            Ok(json) => json,
            Err(e) => return vec![e.to_string()],
        };
        let metas: Vec<TreeMeta> = match serde_json::from_str(&json) {
            Ok(metas) => metas,
            Err(e) => return vec![e.to_string()],
        };
        // Two trees with one id are an error already; their paths cannot be told apart.
        let mut by_id: HashMap<&str, Option<&TreeMeta>> = HashMap::new();
        for meta in &metas {
            by_id
                .entry(meta.id.as_str())
                .and_modify(|m| *m = None)
                .or_insert(Some(meta));
        }
        let built = !diags.iter().any(Diagnostic::is_error);
        for step in site.pages.iter().filter_map(|p| p.triage.as_deref()) {
            let Some(Some(meta)) = by_id.get(step.tree.as_str()) else {
                continue;
            };
            let path: Vec<&str> = step.path.split(',').filter(|s| !s.is_empty()).collect();
            if let Err(e) = meta.check_path(&path) {
                // A page of a site that builds must lead readers along paths the server takes.
                assert!(
                    !built,
                    "the server refuses the path of step `{}`: {e}",
                    step.step
                );
                out.push(format!("path of `{}`: {e}", step.step));
            }
        }
        out
    }

    /// A search as the server gets it: the query string of `/api/search` (`q`, `limit`, `kind`,
    /// `audience`), decoded, run against the site's index and serialised. `Err` when the server
    /// would answer 400 before searching.
    pub fn search_query(&self, data: &[u8]) -> Result<SearchResults, String> {
        // The server's own checks: bytes that are not UTF-8, then the parameters.
        let query = crate::server::form_text(data)
            .ok_or_else(|| "the query string is not valid UTF-8 form data".to_string())?;
        let params: HashMap<String, String> =
            serde_urlencoded::from_str(query).map_err(|e| e.to_string())?;
        let request = crate::server::request_from(&params, 10)?;
        let results = self.index.search(&request);
        // Gaps group unresolved searches by this form.
        let _ = self.index.normalize(&request.query);
        serde_json::to_vec(&results).map_err(|e| e.to_string())?;
        Ok(results)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn render_all(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.render(false)).collect()
}
