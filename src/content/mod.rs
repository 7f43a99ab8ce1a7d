//! Content: from a content folder to the [`Site`] model every later stage reads.
//!
//! Discovery (walkdir) finds the files, each page is read, split into front matter and body,
//! its includes expanded and its Markdown rendered (in parallel), then navigation is built and
//! every internal link checked. Problems are collected, never thrown one at a time.
//!
//! URLs are stable and follow mdBook's: `guide/setup.md` is served at `guide/setup.html`, and a
//! folder's `index.md`, `README.md` or `_index.md` at `guide/index.html`.

mod discover;
mod front_matter;
mod glossary;
mod include;
mod meta;
mod nav;
mod summary;
mod trees;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

pub(crate) use discover::{FileKind, is_hidden_or_temp, kind_of};
pub use front_matter::{Audience, Date, FrontMatter, Kind, Urgency};
pub(crate) use front_matter::{
    civil_from_days, key_line, parse as parse_front_matter, split as split_front_matter, yaml_error,
};
pub(crate) use glossary::is_chinese;
pub use glossary::{Entry as GlossaryEntry, Found, GLOSSARY_URL, Glossary, Terms, Wording};
pub use meta::{PAGES_FILE, PageMeta, pages_json, read_pages};
pub use nav::{Nav, NavItem, NavKind};
pub use trees::{FixView, OptionView, TrailView, TreeSummary, TriageStep};

use crate::config::{Config, LinkPolicy};
use crate::diagnostic::{Diagnostic, line_col};
use crate::i18n::Locale;
use crate::markdown::{self, Heading, Highlighter, Image, LinkKind, RenderOptions, Section};

/// One page of the site.
#[derive(Debug, Clone)]
pub struct Page {
    /// Index in [`Site::pages`].
    pub id: usize,
    /// Path under the content folder (`troubleshooting/echo.md`); for a generated section page,
    /// its folder followed by `/`.
    pub source: String,
    /// Output path, relative to the site root (`troubleshooting/echo.html`).
    pub url: String,
    /// Folder of the page under the content folder; for a section page, the folder it introduces.
    pub dir: String,
    /// Whether this is a folder's section page.
    pub is_index: bool,
    /// Whether helpbook made it up (a folder without an index page).
    pub generated: bool,
    /// Front matter as written.
    pub front: FrontMatter,
    /// Title (front matter, first heading, or file name).
    pub title: String,
    /// Description (front matter, or the first paragraph).
    pub description: Option<String>,
    /// Page kind (default guide).
    pub kind: Kind,
    /// Language tag of the page.
    pub lang: String,
    /// Interface strings for the page.
    pub locale: Locale,
    /// Rendered body.
    pub html: String,
    /// Headings, for the table of contents and anchor checks.
    pub headings: Vec<Heading>,
    /// Plain text by section, for search.
    pub sections: Vec<Section>,
    /// Id of the body's own leading `#` heading (removed from the body; the template's title
    /// carries the id so links to it still work).
    pub h1_id: Option<String>,
    /// Word count, for reading time.
    pub words: usize,
    /// Internal links, for the link check.
    pub links: Vec<Link>,
    /// The file's text, for error snippets.
    pub text: Arc<str>,
    /// For a page of a triage tree: the question or fix it shows.
    pub triage: Option<Box<TriageStep>>,
    /// For a page that embeds trees (`{{#triage id}}`): its body before the trees went in, so
    /// the embeds can be made again when a tree changes.
    pub unexpanded: Option<String>,
    /// Files its includes pulled in (canonical paths): it must be read again when one changes.
    pub includes: Vec<std::path::PathBuf>,
    /// Its images, for the alternative-text check.
    pub images: Vec<Image>,
    /// Its links to other sites, for `helpbook check --external`.
    pub web_links: Vec<WebLink>,
}

impl Page {
    /// A section page made up for a folder without an index page: it has nothing of its own to
    /// find in search.
    pub fn is_made_up_section(&self) -> bool {
        self.generated && self.is_index
    }
}

/// A link from a page to another site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLink {
    /// Line in the page's file.
    pub line: u32,
    /// The address as written.
    pub url: String,
}

/// An internal link found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Line in the page's file.
    pub line: u32,
    /// The destination as written.
    pub dest: String,
    /// What it points at.
    pub target: Target,
}

/// What an internal link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Markdown page (path under the content folder), maybe an anchor in it.
    Page {
        /// Path under the content folder.
        source: String,
        /// Heading id.
        anchor: Option<String>,
    },
    /// An anchor on the same page.
    Anchor(String),
    /// A file copied as it is (image, download).
    Asset(String),
    /// A relative path that climbs out of the content folder.
    Outside,
    /// An output URL written directly (`other.html`, `folder/`), as mdBook books do.
    Output {
        /// Output path relative to the site root.
        url: String,
        /// Heading id.
        anchor: Option<String>,
    },
}

/// The whole site, ready to render.
#[derive(Debug)]
pub struct Site {
    /// Configuration.
    pub config: Config,
    /// Every page, generated section pages included.
    pub pages: Vec<Page>,
    /// Files copied as they are, relative to the content folder.
    pub assets: Vec<String>,
    /// Navigation tree.
    pub nav: Nav,
    /// Old path -> page URL, from `aliases` and `[output.html.redirect]`.
    pub redirects: BTreeMap<String, String>,
    /// Page id by output URL.
    pub by_url: HashMap<String, usize>,
    /// Whether navigation came from SUMMARY.md.
    pub has_summary: bool,
    /// The triage trees, in home-page order.
    pub trees: Vec<TreeSummary>,
    /// What the server needs to know about the trees (`.helpbook/triage.json`).
    pub triage: Vec<crate::triage::TreeMeta>,
    /// Pages read but not built: drafts (when drafts are not built) and a second page for a URL
    /// already taken. Kept so a link to a draft says so, and so a rebuild can reuse them.
    pub left_out: Vec<Page>,
    /// Markdown files not built because `SUMMARY.md` does not list them.
    pub unlisted: Vec<String>,
    /// The glossary (empty when the site has none).
    pub glossary: Arc<Glossary>,
}

impl Site {
    /// A site with no pages.
    pub fn empty(config: Config) -> Site {
        Site {
            config,
            pages: Vec::new(),
            assets: Vec::new(),
            nav: Nav::default(),
            redirects: BTreeMap::new(),
            by_url: HashMap::new(),
            has_summary: false,
            unlisted: Vec::new(),
            glossary: Arc::default(),
            trees: Vec::new(),
            triage: Vec::new(),
            left_out: Vec::new(),
        }
    }

    /// The home page (`index.html`), if the site has one.
    pub fn home(&self) -> Option<&Page> {
        self.by_url.get("index.html").map(|i| &self.pages[*i])
    }
}

pub use crate::markdown::RESERVED_IDS;

/// Output URL of a Markdown file under the content folder.
pub fn url_for(source: &str) -> String {
    let stem = source
        .strip_suffix(".md")
        .or_else(|| source.strip_suffix(".markdown"))
        .unwrap_or(source);
    let (dir, name) = match stem.rfind('/') {
        Some(i) => (&stem[..=i], &stem[i + 1..]),
        None => ("", stem),
    };
    if is_index_name(name) {
        format!("{dir}index.html")
    } else {
        format!("{dir}{name}.html")
    }
}

fn is_index_name(stem: &str) -> bool {
    matches!(stem, "index" | "README" | "readme" | "_index")
}

/// `../../` for `a/b/page.html`: the way from a page back to the site root.
pub fn root_prefix(url: &str) -> String {
    "../".repeat(url.matches('/').count())
}

/// Loads every page of the site described by `config`.
pub fn load(config: Config) -> (Site, Vec<Diagnostic>) {
    load_with(config, &|_, _| {})
}

/// Loads every page like [`load`], handing each page to `on_page` as soon as it is read, on the
/// thread that read it, with a number unique to the page (the search index is built this way,
/// alongside the rendering). Drafts left out of the build are not handed over; duplicate URLs
/// are sorted out later, so a caller must discard its work if loading reports errors.
pub fn load_with(
    config: Config,
    on_page: &(dyn Fn(usize, &Page) + Sync),
) -> (Site, Vec<Diagnostic>) {
    let (sources, mut diags) = Sources::discover(&config);
    let (pages, page_diags) =
        parse_pages(&config, &sources.glossary, &sources.pages, &|i, page| {
            if !left_out(&config, page) {
                on_page(i, page);
            }
        });
    diags.extend(page_diags);
    let base = sources.pages.len();
    let (site, site_diags) = assemble(config, &sources, pages, &|i, page| on_page(base + i, page));
    diags.extend(site_diags);
    (site, diags)
}

/// What is in the content folder, and which of its pages are built.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// The Markdown pages to build, relative to the content folder, sorted.
    pub pages: Vec<String>,
    /// Files copied as they are.
    pub assets: Vec<String>,
    /// Triage trees (`triage/**/*.yaml`).
    pub trees: Vec<String>,
    /// Whether the folder has a `SUMMARY.md` (which then decides what is built).
    pub has_summary: bool,
    /// Markdown files not built because `SUMMARY.md` does not list them.
    pub unlisted: Vec<String>,
    /// The glossary (empty when the site has none).
    pub glossary: Arc<Glossary>,
    /// `SUMMARY.md`, parsed, with its text.
    summary: Option<(Vec<summary::Entry>, Arc<str>)>,
}

impl Sources {
    /// Walks the content folder of `config` and reads `SUMMARY.md`. Problems (a missing
    /// folder, unreadable files, a summary listing a missing page) are returned beside.
    pub fn discover(config: &Config) -> (Sources, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let src = &config.src_dir;
        if !src.is_dir() {
            let rel = src.strip_prefix(&config.root).unwrap_or(src);
            diags.push(
                Diagnostic::error(format!(
                    "the content folder `{}` does not exist",
                    crate::diagnostic::display_path(rel)
                ))
                .help("create it, run `helpbook init`, or set `src` under [book] in book.toml"),
            );
            return (Sources::default(), diags);
        }
        let mut found = discover::discover(src);
        diags.extend(std::mem::take(&mut found.problems));
        let glossary = match Glossary::load(src, &src_display(config, "")) {
            Ok(g) => g,
            Err(errors) => {
                diags.extend(errors);
                Glossary::default()
            }
        };
        // With a SUMMARY.md only what it lists is built (plus the home page), as in mdBook:
        // other Markdown files are often fragments meant for includes.
        let summary = if found.summary {
            let path = src.join("SUMMARY.md");
            match read_text(&path) {
                Ok(text) => Some((summary::parse(&text), Arc::<str>::from(text))),
                Err(d) => {
                    diags.push(d.in_file(rel_display(config, &path)));
                    None
                }
            }
        } else {
            None
        };
        let mut unlisted = Vec::new();
        let pages: Vec<String> = match &summary {
            Some((entries, text)) => {
                let listed: HashSet<&str> =
                    entries.iter().filter_map(|e| e.path.as_deref()).collect();
                let existing: HashSet<&str> = found.pages.iter().map(String::as_str).collect();
                for e in entries {
                    if let Some(p) = &e.path
                        && !existing.contains(p.as_str())
                    {
                        diags.push(
                            Diagnostic::error(format!("SUMMARY.md lists `{p}`, which does not exist"))
                                .in_file(rel_display(config, &src.join("SUMMARY.md")))
                                .at(e.line as usize, 1)
                                .with_source(text.clone())
                                .help("create the file, fix the path, or make it a draft chapter with `[Title]()`"),
                        );
                    }
                }
                let (built, rest): (Vec<String>, Vec<String>) = found
                    .pages
                    .into_iter()
                    .partition(|p| listed.contains(p.as_str()) || url_for(p) == "index.html");
                unlisted = rest;
                built
            }
            None => found.pages,
        };
        let sources = Sources {
            pages,
            unlisted,
            glossary: Arc::new(glossary),
            assets: found.assets,
            trees: found.trees,
            has_summary: found.summary,
            summary,
        };
        (sources, diags)
    }
}

/// Reads and renders the pages `sources` in parallel, handing each to `on_page` with its index
/// in `sources` as soon as it is read.
pub fn parse_pages(
    config: &Config,
    glossary: &Glossary,
    sources: &[String],
    on_page: &(dyn Fn(usize, &Page) + Sync),
) -> (Vec<Page>, Vec<Diagnostic>) {
    let results: Vec<(Option<Page>, Vec<Diagnostic>)> = sources
        .par_iter()
        .enumerate()
        .map(|(i, rel)| {
            let (page, diags) = read_page(config, glossary, rel);
            if let Some(page) = &page {
                on_page(i, page);
            }
            (page, diags)
        })
        .collect();
    let mut pages = Vec::with_capacity(results.len());
    let mut diags = Vec::new();
    for (page, page_diags) in results {
        diags.extend(page_diags);
        pages.extend(page);
    }
    (pages, diags)
}

/// Makes the site like [`assemble`], but without checking links: the caller checks them with
/// [`check_links`] (the preview keeps link problems page by page).
pub fn assemble_unchecked(
    config: Config,
    sources: &Sources,
    pages: Vec<Page>,
    on_tree_page: &(dyn Fn(usize, &Page) + Sync),
) -> (Site, Vec<Diagnostic>) {
    assemble_with(config, sources, pages, on_tree_page, false)
}

/// Makes the site from pages already read: leaves drafts out, reads and checks the triage
/// trees and makes their pages (handing each tree's first page to `on_tree_page` with the
/// tree's number), builds navigation, and checks every link. Reading a page is the expensive
/// part; this is cheap enough to run again on every edit of a preview.
pub fn assemble(
    config: Config,
    sources: &Sources,
    pages: Vec<Page>,
    on_tree_page: &(dyn Fn(usize, &Page) + Sync),
) -> (Site, Vec<Diagnostic>) {
    assemble_with(config, sources, pages, on_tree_page, true)
}

fn assemble_with(
    config: Config,
    sources: &Sources,
    pages: Vec<Page>,
    on_tree_page: &(dyn Fn(usize, &Page) + Sync),
    links: bool,
) -> (Site, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut site = Site {
        pages,
        assets: sources.assets.clone(),
        has_summary: sources.has_summary,
        unlisted: sources.unlisted.clone(),
        glossary: sources.glossary.clone(),
        ..Site::empty(config)
    };
    // Drafts: left out, but remembered so a link to one says so.
    let (drafts, built): (Vec<Page>, Vec<Page>) = std::mem::take(&mut site.pages)
        .into_iter()
        .partition(|p| left_out(&site.config, p));
    site.left_out = drafts;

    // Two sources for one URL (README.md and index.md in one folder).
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut keep = Vec::with_capacity(built.len());
    for page in built {
        if let Some(first) = seen.get(&page.url) {
            diags.push(
                Diagnostic::error(format!(
                    "`{}` and `{first}` would both be written to `{}`",
                    page.source, page.url
                ))
                .in_file(src_display(&site.config, &page.source))
                .help("keep one index page per folder (index.md, README.md or _index.md)"),
            );
            site.left_out.push(page);
            continue;
        }
        seen.insert(page.url.clone(), page.source.clone());
        keep.push(page);
    }
    site.pages = keep;

    // Triage trees: checked against the pages, then made into pages. The first question of
    // each is listed in navigation and indexed; the other steps are reached through it.
    let (trees, tree_diags) = trees::load(&site.config, &sources.trees);
    diags.extend(tree_diags);
    let tree_pages: Vec<_> = {
        let by_source: trees::BySource<'_> =
            site.pages.iter().map(|p| (p.source.as_str(), p)).collect();
        diags.extend(trees::check(&site.config, &trees, &by_source));
        trees
            .iter()
            .map(|tree| trees::pages(&site.config, tree, &by_source))
            .collect()
    };
    let mut tree_steps = Vec::new();
    for (i, (tree, (start, rest))) in trees.iter().zip(tree_pages).enumerate() {
        let Some(start) = start else { continue };
        if let Some(first) = std::iter::once(&start)
            .chain(&rest)
            .find_map(|p| seen.get(&p.url))
        {
            diags.push(
                Diagnostic::error(format!(
                    "the pages of tree `{}` would be written over `{first}`",
                    tree.id
                ))
                .in_file(src_display(&site.config, &tree.source))
                .help("a tree's pages live under triage/<tree id>/: move that page, or change the tree's id"),
            );
            continue;
        }
        on_tree_page(i, &start);
        site.pages.push(start);
        tree_steps.extend(rest);
    }
    if !sources.glossary.is_empty() {
        let shown = sources.glossary.source.clone().unwrap_or_default();
        match seen.get(GLOSSARY_URL) {
            Some(first) => diags.push(
                Diagnostic::error(format!(
                    "the glossary page would be written over `{first}`"
                ))
                .in_file(shown)
                .help(format!("the glossary is published at {GLOSSARY_URL}: rename `{first}`, or remove the glossary")),
            ),
            None => {
                let page = glossary_page(&site.config, &sources.glossary);
                on_tree_page(trees.len(), &page);
                site.pages.push(page);
            }
        }
    }
    site.trees = trees::summaries(&site.config, &trees);
    site.triage = trees
        .iter()
        .map(|t| crate::triage::TreeMeta::of(t, &site.config.book.language))
        .collect();

    match &sources.summary {
        Some((entries, _)) => build_summary_nav(&mut site, entries),
        None => build_folder_nav(&mut site),
    }
    site.pages.extend(tree_steps);
    for (i, page) in site.pages.iter_mut().enumerate() {
        page.id = i;
    }
    diags.extend(trees::expand_embeds(&mut site, &trees));
    site.by_url = site.pages.iter().map(|p| (p.url.clone(), p.id)).collect();
    if site.has_summary
        && !site.by_url.contains_key("index.html")
        && let Some(first) = site.nav.order.first()
    {
        site.redirects
            .insert("index.html".into(), site.pages[*first].url.clone());
    }

    collect_redirects(&mut site, &mut diags);
    if links {
        diags.extend(check_links(&site, None));
    }
    (site, diags)
}

impl Site {
    /// Takes the site apart for [`assemble`] to make it again: its configuration, and the pages
    /// read from Markdown files (built or left out), without the pages made from trees and
    /// folders.
    pub fn into_parts(self) -> (Config, Vec<Page>) {
        let pages: Vec<Page> = self
            .pages
            .into_iter()
            .filter(|p| !p.generated && p.triage.is_none())
            .chain(self.left_out)
            .collect();
        (self.config, pages)
    }
}

/// A draft, when drafts are not built (`build.drafts`).
pub(crate) fn left_out(config: &Config, page: &Page) -> bool {
    page.front.draft && !config.build.drafts
}

fn rel_display(config: &Config, path: &Path) -> String {
    crate::diagnostic::display_path(path.strip_prefix(&config.root).unwrap_or(path))
}

/// How a page's path is shown in messages: relative to the site root (`content/a.md`).
pub fn src_display(config: &Config, source: &str) -> String {
    rel_display(config, &config.src_dir.join(source))
}

/// Reads an optional data file of the content folder (`synonyms.yaml`, `search-tests.yaml`):
/// `Ok(None)` when it does not exist; errors are in file `shown`.
pub(crate) fn read_data_file(path: &Path, shown: &str) -> Result<Option<String>, Diagnostic> {
    if !path.exists() {
        return Ok(None);
    }
    read_text(path).map(Some).map_err(|d| d.in_file(shown))
}

/// Reads a file as UTF-8, naming the first invalid byte's place when it is not.
fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::error(format!("cannot read: {e}")))?;
    decode_text(bytes)
}

/// A file's bytes as UTF-8 text without a byte-order mark, or an error at the first invalid
/// byte.
pub(crate) fn decode_text(bytes: Vec<u8>) -> Result<String, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(text)
        }
        Err(e) => {
            let bytes = e.as_bytes();
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&bytes[..valid]);
            let (line, col) = line_col(&prefix, prefix.len());
            Err(Diagnostic::error(format!(
                "not valid UTF-8 (byte 0x{:02x} at offset {valid})",
                bytes[valid]
            ))
            .at(line, col)
            .help("re-save the file with UTF-8 encoding (it may be Latin-1, Windows-1252 or GBK)"))
        }
    }
}

/// Rendering in `locale`'s words (`alert_title` gives the titles of alerts): no step numbers,
/// no glossary terms.
pub(crate) fn render_options<'a>(
    locale: Locale,
    alert_title: &'a dyn Fn(&str) -> String,
) -> RenderOptions<'a> {
    RenderOptions {
        alert_title,
        step_label: None,
        copy_label: locale.get("copy"),
        copied_label: locale.get("copied"),
        table_label: locale.get("table"),
        anchor_label: locale.get("anchor_link"),
        terms: None,
    }
}

/// Reads and renders one page of the content folder: the page (if it could be read at all)
/// and its problems.
pub fn read_page(
    config: &Config,
    glossary: &Glossary,
    rel: &str,
) -> (Option<Page>, Vec<Diagnostic>) {
    let shown = src_display(config, rel);
    let path = config.src_dir.join(rel);
    // One copy of the text: parsed from here, and kept for error snippets.
    let source: Arc<str> = match read_text(&path) {
        Ok(t) => Arc::from(t),
        Err(d) => return (None, vec![d.in_file(&shown)]),
    };
    let text: &str = &source;
    let mut diags = Vec::new();
    let place = |d: Diagnostic| d.in_file(&shown).with_source(source.clone());

    let split = match front_matter::split(text) {
        Ok(s) => s,
        Err(d) => return (None, vec![place(d)]),
    };
    let front = match front_matter::parse(&split) {
        Ok(fm) => fm,
        Err(d) => {
            diags.push(place(d));
            FrontMatter::default()
        }
    };
    let kind = front.kind.unwrap_or_default();
    if kind == Kind::Triage {
        let line = front_matter::key_line(&split, "kind").unwrap_or(1);
        diags.push(place(
            Diagnostic::error("front matter: `kind: triage` is for the pages of triage trees")
                .at(line, 1)
                .help("write the tree as YAML under content/triage/ (see README.md, \"Triage trees\"), and use `kind: troubleshooting` for a fix page"),
        ));
    }
    if front.severity.is_some() && kind != Kind::Troubleshooting {
        let line = front_matter::key_line(&split, "severity").unwrap_or(1);
        diags.push(place(
            Diagnostic::error("front matter: `severity` is only for troubleshooting pages")
                .at(line, 1)
                .help("add `kind: troubleshooting`, or remove `severity`"),
        ));
    }
    let lang = front
        .lang
        .clone()
        .unwrap_or_else(|| config.book.language.clone());
    let locale = Locale::from_tag(&lang);

    let mut expanded = include::expand_includes(split.body, split.body_line, &path);
    diags.extend(std::mem::take(&mut expanded.errors).into_iter().map(place));
    let mapped = markdown::expand_containers(std::mem::take(&mut expanded.text), |k| {
        locale.alert_title(k)
    });

    let url = url_for(rel);
    let page_dir = rel.rfind('/').map_or("", |i| &rel[..i]).to_string();
    let mut links = Vec::new();
    let mut web_links = Vec::new();
    let prefix = root_prefix(&url);
    let marker = glossary.marker(&lang, &prefix);
    let alert_title = |k: &str| locale.alert_title(k);
    let step_label = |n: u32| locale.step_label(n);
    let opts = RenderOptions {
        step_label: (kind == Kind::Troubleshooting)
            .then_some(&step_label as &dyn Fn(u32) -> String),
        terms: (!glossary.is_empty()).then_some(&marker as &dyn markdown::TermMarker),
        ..render_options(locale, &alert_title)
    };
    let rendered = markdown::render(
        &mapped,
        &opts,
        Highlighter::global(),
        &mut |dest, kind, line| {
            let trimmed = dest.trim();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                web_links.push(WebLink {
                    line,
                    url: trimmed.to_string(),
                });
            }
            let (target, href) = resolve_link(dest, kind, &page_dir, &prefix)?;
            links.push(Link {
                line,
                dest: dest.to_string(),
                target,
            });
            href
        },
    );

    let file = rel.rsplit('/').next().unwrap_or(rel);
    let stem = file
        .strip_suffix(".md")
        .or_else(|| file.strip_suffix(".markdown"))
        .unwrap_or(file);
    let title = front
        .title
        .clone()
        .or_else(|| rendered.leading_h1.clone())
        .unwrap_or_else(|| {
            if is_index_name(stem) && !page_dir.is_empty() {
                prettify(page_dir.rsplit('/').next().unwrap_or(&page_dir))
            } else if is_index_name(stem) {
                config.title().to_string()
            } else {
                prettify(stem)
            }
        });
    let description = front.description.clone().or_else(|| {
        let p = rendered.first_paragraph.trim();
        (!p.is_empty()).then(|| truncate(p, 180))
    });
    let is_index = is_index_name(stem);
    let unexpanded = rendered
        .html
        .contains(trees::EMBED_MARK)
        .then(|| rendered.html.clone());
    let page = Page {
        id: 0,
        source: rel.to_string(),
        url,
        dir: page_dir,
        is_index,
        generated: false,
        title,
        description,
        kind,
        lang,
        locale,
        h1_id: rendered
            .leading_h1
            .as_ref()
            .and_then(|_| rendered.headings.first().map(|h| h.id.clone())),
        html: rendered.html,
        headings: rendered.headings,
        sections: rendered.sections,
        words: rendered.words,
        links,
        text: source,
        front,
        triage: None,
        unexpanded,
        includes: expanded.included,
        images: rendered.images,
        web_links,
    };
    (Some(page), diags)
}

/// Classifies a link destination and computes its output href. `None`: not internal.
fn resolve_link(
    dest: &str,
    kind: LinkKind,
    page_dir: &str,
    root_prefix: &str,
) -> Option<(Target, Option<String>)> {
    let dest = dest.trim();
    if dest.is_empty() {
        return None;
    }
    if let Some(anchor) = dest.strip_prefix('#') {
        // `#` alone (and the template's own landmarks) always exist.
        if anchor.is_empty() || RESERVED_IDS.contains(&anchor) {
            return None;
        }
        return Some((Target::Anchor(percent_decode(anchor)), None));
    }
    if dest.starts_with("//") || has_scheme(dest) {
        return None;
    }
    let (path_part, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    if path_part.is_empty() {
        return None;
    }
    let decoded = percent_decode(path_part);
    let joined = if let Some(abs) = decoded.strip_prefix('/') {
        abs.to_string()
    } else if page_dir.is_empty() {
        decoded.clone()
    } else {
        format!("{page_dir}/{decoded}")
    };
    let Some(normalized) = normalize_path(&joined) else {
        return Some((Target::Outside, None));
    };
    let anchor = fragment.filter(|f| !f.is_empty()).map(percent_decode);
    let is_md = normalized.ends_with(".md") || normalized.ends_with(".markdown");
    if is_md && kind == LinkKind::Link {
        let url = url_for(&normalized);
        let mut href = format!("{root_prefix}{}", encode_href(&url));
        if let Some(f) = fragment.filter(|f| !f.is_empty()) {
            href.push('#');
            href.push_str(f);
        }
        return Some((
            Target::Page {
                source: normalized,
                anchor,
            },
            Some(href),
        ));
    }
    let absolute_href = decoded.starts_with('/').then(|| {
        format!("{root_prefix}{}", encode_href(&normalized))
            + &fragment.map(|f| format!("#{f}")).unwrap_or_default()
    });
    if normalized.ends_with(".html") || decoded.ends_with('/') || normalized.is_empty() {
        let url = if normalized.ends_with(".html") {
            normalized
        } else if normalized.is_empty() {
            "index.html".to_string()
        } else {
            format!("{normalized}/index.html")
        };
        return Some((Target::Output { url, anchor }, absolute_href));
    }
    Some((Target::Asset(normalized), absolute_href))
}

fn has_scheme(dest: &str) -> bool {
    match dest.find(':') {
        Some(i) => {
            let scheme = &dest[..i];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Resolves `.` and `..`; `None` when the path climbs out of the content folder.
fn normalize_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Decodes `%XX` escapes (a stray `%` stays as it is; if the result is not UTF-8, `s` is
/// returned unchanged).
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    String::from_utf8(percent_decode_bytes(s)).unwrap_or_else(|_| s.to_string())
}

/// The bytes `%XX` escapes stand for, whether or not they are UTF-8; a `%` not followed by two
/// hex digits stays as it is.
pub(crate) fn percent_decode_bytes(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Encodes the characters of a path that would break an `href` (spaces, `#`, `?`, `%`).
pub fn encode_href(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            '"' => out.push_str("%22"),
            c => out.push(c),
        }
    }
    out
}

/// `students-cant-hear-me` -> `Students cant hear me`.
fn prettify(stem: &str) -> String {
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max_chars / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

/// A section page for a folder the writer gave no index page.
fn generated_section(config: &Config, dir: &str) -> Page {
    let title = if dir.is_empty() {
        config.title().to_string()
    } else {
        prettify(dir.rsplit('/').next().unwrap_or(dir))
    };
    let lang = config.book.language.clone();
    Page {
        id: 0,
        source: format!("{dir}/"),
        url: if dir.is_empty() {
            "index.html".into()
        } else {
            format!("{dir}/index.html")
        },
        dir: dir.to_string(),
        is_index: true,
        generated: true,
        front: FrontMatter::default(),
        title,
        description: if dir.is_empty() {
            config.book.description.clone()
        } else {
            None
        },
        kind: Kind::Guide,
        locale: Locale::from_tag(&lang),
        lang,
        html: String::new(),
        headings: Vec::new(),
        sections: Vec::new(),
        h1_id: None,
        words: 0,
        links: Vec::new(),
        text: Arc::from(""),
        triage: None,
        unexpanded: None,
        includes: Vec::new(),
        images: Vec::new(),
        web_links: Vec::new(),
    }
}

fn build_folder_nav(site: &mut Site) {
    // Every folder holding a page needs a section page, up to the root.
    let mut have: HashSet<String> = site
        .pages
        .iter()
        .filter(|p| p.is_index)
        .map(|p| p.dir.clone())
        .collect();
    let mut needed: Vec<String> = Vec::new();
    for page in &site.pages {
        let mut dir = if page.is_index {
            nav::parent_dir(&page.dir).to_string()
        } else {
            page.dir.clone()
        };
        if page.is_index && page.dir.is_empty() {
            continue;
        }
        loop {
            if have.insert(dir.clone()) {
                needed.push(dir.clone());
            }
            if dir.is_empty() {
                break;
            }
            dir = nav::parent_dir(&dir).to_string();
        }
    }
    if site.pages.is_empty() {
        needed.push(String::new());
    }
    for dir in needed {
        let page = generated_section(&site.config, &dir);
        site.pages.push(page);
    }
    for (i, page) in site.pages.iter_mut().enumerate() {
        page.id = i;
    }
    let entries: Vec<nav::FolderEntry> = site
        .pages
        .iter()
        .map(|p| nav::FolderEntry {
            page: p.id,
            dir: p.dir.clone(),
            is_index: p.is_index,
            title: p.title.clone(),
            weight: p.front.weight,
            urgency: match (p.kind, p.front.severity) {
                // The glossary comes after every other top-level page.
                _ if p.generated && p.url == GLOSSARY_URL => 4,
                (Kind::Troubleshooting, Some(Urgency::Urgent)) => 0,
                (Kind::Troubleshooting, Some(Urgency::High)) => 1,
                (Kind::Troubleshooting, _) => 2,
                _ => 3,
            },
        })
        .collect();
    site.nav = Nav::from_items(nav::from_folders(&entries));
}

/// The glossary page: every term with its explanations, in the site's language first.
fn glossary_page(config: &Config, glossary: &Glossary) -> Page {
    let lang = config.book.language.clone();
    let locale = Locale::from_tag(&lang);
    let markdown_text = glossary.page_markdown(&lang);
    let alert_title = |k: &str| locale.alert_title(k);
    let opts = render_options(locale, &alert_title);
    let mapped = markdown::MappedText::new(markdown_text.clone(), 1);
    let rendered = markdown::render(&mapped, &opts, Highlighter::global(), &mut |_, _, _| None);
    let source = glossary.source.clone().unwrap_or_default();
    let source = source
        .strip_prefix(&src_display(config, ""))
        .map(|s| s.trim_start_matches('/').to_string())
        .unwrap_or(source);
    Page {
        id: 0,
        source,
        url: GLOSSARY_URL.to_string(),
        dir: String::new(),
        is_index: false,
        generated: true,
        front: FrontMatter::default(),
        title: locale.get("glossary").to_string(),
        description: Some(locale.get("glossary_description").to_string()),
        kind: Kind::Guide,
        locale,
        lang,
        html: rendered.html,
        headings: rendered.headings,
        sections: rendered.sections,
        h1_id: None,
        words: rendered.words,
        links: Vec::new(),
        text: Arc::from(markdown_text),
        triage: None,
        unexpanded: None,
        includes: Vec::new(),
        images: Vec::new(),
        web_links: Vec::new(),
    }
}

fn build_summary_nav(site: &mut Site, entries: &[summary::Entry]) {
    for (i, page) in site.pages.iter_mut().enumerate() {
        page.id = i;
    }
    let by_source: HashMap<&str, usize> = site
        .pages
        .iter()
        .map(|p| (p.source.as_str(), p.id))
        .collect();
    let mut items = summary::to_items(entries);
    for (item, entry) in items.iter_mut().zip(entries) {
        item.page = entry
            .path
            .as_deref()
            .and_then(|p| by_source.get(p).copied());
    }
    // The glossary is not a file SUMMARY.md can list: it comes last, like mdBook's suffix
    // chapters.
    if let Some(page) = site
        .pages
        .iter()
        .find(|p| p.generated && p.url == GLOSSARY_URL)
    {
        items.push(NavItem {
            kind: NavKind::Chapter,
            title: page.title.clone(),
            page: Some(page.id),
            number: None,
            parent: None,
            children: Vec::new(),
        });
    }
    site.nav = Nav::from_items(items);
}

/// Checks the internal links and anchors of the pages `only` (every page: `None`). Broken ones
/// are errors, or warnings when `build.broken-links = "warn"`.
pub fn check_links(site: &Site, only: Option<&[usize]>) -> Vec<Diagnostic> {
    let drafts: HashSet<&str> = site
        .left_out
        .iter()
        .filter(|p| left_out(&site.config, p))
        .map(|p| p.source.as_str())
        .collect();
    let by_source: HashMap<&str, &Page> =
        site.pages.iter().map(|p| (p.source.as_str(), p)).collect();
    let assets: HashSet<&str> = site.assets.iter().map(String::as_str).collect();
    let policy = site.config.build.broken_links;
    let has_anchor = |page: &Page, anchor: &str| {
        page.headings.iter().any(|h| h.id == anchor)
            || page.html.contains(&format!("id=\"{anchor}\""))
    };
    let anchor_help = |page: &Page, anchor: &str| {
        let mut ids: Vec<&str> = page.headings.iter().map(|h| h.id.as_str()).collect();
        ids.sort_by_cached_key(|id| edit_distance(id, anchor));
        if ids.is_empty() {
            "the page has no headings".to_string()
        } else {
            let list: Vec<String> = ids.iter().take(4).map(|i| format!("#{i}")).collect();
            format!("headings there: {}", list.join(", "))
        }
    };
    let check_page = |page: &Page| -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for link in &page.links {
            let problem: Option<(String, String)> = match &link.target {
                Target::Page { source, anchor } => match by_source.get(source.as_str()) {
                    None if drafts.contains(source.as_str()) => Some((
                        format!("link to `{}`, which is a draft and is not built", link.dest),
                        "remove `draft: true` from that page, or remove the link".into(),
                    )),
                    None if site.has_summary && site.config.src_dir.join(source).is_file() => Some((
                        format!("link to `{}`, which is not listed in SUMMARY.md and so is not built", link.dest),
                        "add the page to SUMMARY.md, or remove the link".into(),
                    )),
                    None => Some((
                        format!("link to `{}`, which does not exist", link.dest),
                        suggest_page(source, &by_source, &page.dir),
                    )),
                    Some(target) => match anchor {
                        Some(a) if !has_anchor(target, a) => Some((
                            format!("link to `{}`: `{}` has no heading `#{a}`", link.dest, target.source),
                            anchor_help(target, a),
                        )),
                        _ => None,
                    },
                },
                Target::Outside => Some((
                    format!("link to `{}` leaves the content folder", link.dest),
                    "link to pages and files inside the content folder (paths are relative to the page)".into(),
                )),
                Target::Anchor(a) => (!has_anchor(page, a)).then(|| {
                    (
                        format!("link to `#{a}`, which is not a heading on this page"),
                        anchor_help(page, a),
                    )
                }),
                Target::Asset(path) => (!assets.contains(path.as_str())).then(|| {
                    (
                        format!("link to `{}`, which does not exist", link.dest),
                        "put the file under the content folder, or fix the path (paths are relative to the page)".into(),
                    )
                }),
                Target::Output { url, anchor } => match site.by_url.get(url) {
                    None if assets.contains(url.as_str()) || site.redirects.contains_key(url) => None,
                    None => Some((
                        format!("link to `{}`, which is not a page of this site", link.dest),
                        "link to the Markdown file instead (`page.md`): helpbook turns it into the right URL".into(),
                    )),
                    Some(id) => match anchor {
                        Some(a) if !has_anchor(&site.pages[*id], a) => Some((
                            format!("link to `{}`: no heading `#{a}` there", link.dest),
                            anchor_help(&site.pages[*id], a),
                        )),
                        _ => None,
                    },
                },
            };
            if let Some((message, help)) = problem {
                let mut d = Diagnostic::error(message)
                    .in_file(src_display(&site.config, &page.source))
                    .at(
                        link.line as usize,
                        column_of(&page.text, link.line, &link.dest),
                    )
                    .with_source(page.text.clone())
                    .help(help);
                if policy == LinkPolicy::Warn {
                    d = d.downgrade();
                }
                out.push(d);
            }
        }
        out
    };
    match only {
        Some(ids) => ids
            .par_iter()
            .flat_map_iter(|&id| check_page(&site.pages[id]))
            .collect(),
        None => site.pages.par_iter().flat_map_iter(check_page).collect(),
    }
}

/// Column of `dest` on `line` (1 when it cannot be found, e.g. inside an include).
pub(crate) fn column_of(text: &str, line: u32, dest: &str) -> usize {
    text.lines()
        .nth(line.saturating_sub(1) as usize)
        .and_then(|l| l.find(dest).map(|i| l[..i].chars().count() + 1))
        .unwrap_or(1)
}

fn suggest_page(missing: &str, by_source: &HashMap<&str, &Page>, from_dir: &str) -> String {
    let name = missing.rsplit('/').next().unwrap_or(missing);
    let best = by_source
        .keys()
        .filter(|s| !s.ends_with('/'))
        .min_by_key(|s| {
            let other = s.rsplit('/').next().unwrap_or(s);
            (edit_distance(other, name), edit_distance(s, missing))
        });
    match best {
        Some(best)
            if edit_distance(best.rsplit('/').next().unwrap_or(best), name) <= name.len() / 2 =>
        {
            format!("did you mean `{}`?", relative_source(from_dir, best))
        }
        _ => "check the path: links are relative to the page's folder".into(),
    }
}

/// The relative path from a folder to a source file, as a writer would type it.
fn relative_source(from_dir: &str, to: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from.len() - common);
    out.push_str(&to_parts[common..].join("/"));
    out
}

/// Levenshtein distance over characters (small inputs: names and anchors).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn collect_redirects(site: &mut Site, diags: &mut Vec<Diagnostic>) {
    let assets: HashSet<&str> = site.assets.iter().map(String::as_str).collect();
    // Where a redirect may be written: inside the output, not over a page, an asset or the
    // theme's files, and not claimed twice.
    let check =
        |from: &str, site: &Site, taken: &BTreeMap<String, String>| -> Result<String, String> {
            let trimmed = from.trim_start_matches('/');
            let path = if trimmed.is_empty() || trimmed.ends_with('/') {
                format!("{trimmed}index.html")
            } else {
                trimmed.to_string()
            };
            let path = normalize_path(&path)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| format!("`{from}` leaves the output folder"))?;
            if site.by_url.contains_key(&path) {
                return Err(format!("`{from}` is the URL of an existing page"));
            }
            if assets.contains(path.as_str())
                || path.starts_with("_helpbook/")
                || path == "404.html"
                || path == "sitemap.xml"
            {
                return Err(format!("`{from}` would overwrite a file of the site"));
            }
            if taken.contains_key(&path) {
                return Err(format!("`{from}` is already redirected elsewhere"));
            }
            Ok(path)
        };
    let mut redirects = std::mem::take(&mut site.redirects);
    for page in &site.pages {
        for alias in &page.front.aliases {
            match check(alias, site, &redirects) {
                Ok(path) => {
                    redirects.insert(path, page.url.clone());
                }
                Err(message) => {
                    let line = page
                        .text
                        .lines()
                        .position(|l| l.trim_start().starts_with("aliases"))
                        .map_or(1, |i| i + 1);
                    diags.push(
                        Diagnostic::error(format!("alias {message}"))
                            .in_file(src_display(&site.config, &page.source))
                            .at(line, 1)
                            .with_source(page.text.clone())
                            .help("aliases are old URLs relative to the site root, such as `old/page.html`"),
                    );
                }
            }
        }
    }
    for (from, to) in site.config.html.redirect.clone() {
        match check(&from, site, &redirects) {
            // mdBook redirect targets are relative to the old page; kept as written.
            Ok(path) => {
                redirects.insert(path, to);
            }
            Err(message) => diags.push(
                Diagnostic::error(format!("output.html.redirect {message}"))
                    .in_file(crate::config::CONFIG_FILE),
            ),
        }
    }
    site.redirects = redirects;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_mdbook() {
        assert_eq!(url_for("a/b.md"), "a/b.html");
        assert_eq!(url_for("a/README.md"), "a/index.html");
        assert_eq!(url_for("a/_index.md"), "a/index.html");
        assert_eq!(url_for("index.md"), "index.html");
        assert_eq!(root_prefix("a/b/c.html"), "../../");
        assert_eq!(root_prefix("index.html"), "");
    }

    #[test]
    fn links_resolve_relative_to_the_page() {
        let (t, href) =
            resolve_link("../api/rooms.md#create", LinkKind::Link, "guides", "../").unwrap();
        assert_eq!(
            t,
            Target::Page {
                source: "api/rooms.md".into(),
                anchor: Some("create".into())
            }
        );
        assert_eq!(href.as_deref(), Some("../api/rooms.html#create"));
        assert!(resolve_link("https://example.com/a.md", LinkKind::Link, "", "").is_none());
        assert!(resolve_link("mailto:a@b.c", LinkKind::Link, "", "").is_none());
        let (t, _) = resolve_link("img/x%20y.png", LinkKind::Image, "a", "../").unwrap();
        assert_eq!(t, Target::Asset("a/img/x y.png".into()));
        let (t, _) = resolve_link("other.html#x", LinkKind::Link, "", "").unwrap();
        assert_eq!(
            t,
            Target::Output {
                url: "other.html".into(),
                anchor: Some("x".into())
            }
        );
    }

    #[test]
    fn percent_decoding_never_splits_characters() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%E6%A3%80"), "检");
        assert_eq!(percent_decode("%é%"), "%é%");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn suggestions_and_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(relative_source("a/b", "a/c/d.md"), "../c/d.md");
        assert_eq!(prettify("students-cant-hear-me"), "Students cant hear me");
        assert_eq!(truncate("one two three", 7), "one two…");
        assert_eq!(truncate("alpha beta gamma", 12), "alpha beta…");
    }
}
