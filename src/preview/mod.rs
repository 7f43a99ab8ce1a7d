//! The writer preview (`helpbook serve`): the site is kept in memory and rebuilt file by file
//! as the writer saves.
//!
//! A saved page is read again (the expensive part: Markdown, highlighting), then the site is
//! put together again from the pages in memory ([`content::assemble`]: trees, navigation, the
//! link check), which is cheap. Only the pages whose output can have changed are rendered and
//! written: the page itself, and, when what others show of it changed (its title in their
//! navigation, previous/next, breadcrumbs or section lists), the pages that show it. Its search
//! documents are replaced in the index on disk. A theme or configuration change rebuilds
//! everything; a stylesheet change only rewrites the stylesheet.
//!
//! Mistakes never stop the loop. A page whose own file has errors keeps its last good output
//! (and, when it cannot be read at all or its front matter is broken, its last good version in
//! the site, so other pages' links to it and navigation are not disturbed); every problem is
//! reported until it is fixed.

mod watch;

pub use watch::{Reporter, ServeOptions, serve};

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::build::BuildOptions;
use crate::config::Config;
use crate::content::{self, FileKind, Kind, Page, Site, Sources, Urgency, src_display};
use crate::diagnostic::{Diagnostic, Severity, display_path};
use crate::render::{self, Theme};
use crate::search::{IndexBuilder, IndexUpdater};

/// A site being previewed.
pub struct Preview {
    options: BuildOptions,
    theme: Theme,
    sources: Sources,
    site: Site,
    index: Option<IndexUpdater>,
    /// Search key of every indexed page, by URL.
    keys: HashMap<String, u64>,
    next_key: u64,
    /// Index changes waiting for [`Preview::finish`]: (key, page id or none).
    pending: Vec<(u64, Option<usize>)>,
    /// What each page shows of the others, as of the last rebuild.
    nav: NavView,
    /// Fingerprints of the triage pages, as of the last rebuild.
    tree_prints: HashMap<String, u64>,
    /// Whether the files describing the whole site (sitemap, page list) are out of date.
    extras_due: bool,
    problems: Problems,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview")
            .field("root", &self.options.root)
            .field("pages", &self.site.pages.len())
            .finish_non_exhaustive()
    }
}

/// Every problem the preview knows of, by where it came from.
#[derive(Debug, Default)]
struct Problems {
    /// book.toml and the theme.
    setup: Vec<Diagnostic>,
    /// Writing the last rebuild's files and indexing them.
    write: Vec<Diagnostic>,
    /// Walking the content folder and SUMMARY.md.
    discover: Vec<Diagnostic>,
    /// Reading each page, by the page's file as shown.
    files: HashMap<String, Vec<Diagnostic>>,
    /// Putting the site together: trees, duplicate URLs, aliases.
    site: Vec<Diagnostic>,
    /// Broken links, by the file of the page that has them.
    links: HashMap<String, Vec<Diagnostic>>,
}

impl Problems {
    /// Takes the link problems of `checked` pages' files (`files`), replacing what was known.
    fn set_links(&mut self, files: impl IntoIterator<Item = String>, found: Vec<Diagnostic>) {
        for file in files {
            self.links.remove(&file);
        }
        for d in found {
            let file = d.path.as_deref().map(display_path).unwrap_or_default();
            self.links.entry(file).or_default().push(d);
        }
    }

    fn all(&self) -> Vec<Diagnostic> {
        let mut all: Vec<Diagnostic> = self
            .setup
            .iter()
            .chain(&self.write)
            .chain(&self.discover)
            .chain(self.files.values().flatten())
            .chain(&self.site)
            .chain(self.links.values().flatten())
            .cloned()
            .collect();
        // Errors first, then by place.
        all.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (a.path.as_ref(), a.line, a.column).cmp(&(b.path.as_ref(), b.line, b.column))
            })
        });
        all
    }

    /// Of the pages `ids` of `site`, those to write, in order: a page whose own file has errors
    /// keeps its last good output (unless it has none yet).
    fn writable(&self, site: &Site, mut ids: Vec<usize>) -> Vec<usize> {
        let broken: HashSet<String> = self
            .files
            .values()
            .flatten()
            .chain(&self.site)
            .chain(self.links.values().flatten())
            .filter(|d| d.is_error())
            .filter_map(|d| d.path.as_deref().map(display_path))
            .collect();
        ids.retain(|&id| {
            let page = &site.pages[id];
            page.generated
                || !broken.contains(&src_display(&site.config, &page.source))
                || !site.config.out_dir.join(&page.url).exists()
        });
        ids.sort_unstable();
        ids
    }
}

/// What a rebuild did.
#[derive(Debug, Default)]
pub struct Update {
    /// The files that changed, as shown (`content/guide/setup.md`).
    pub changed: Vec<String>,
    /// Pages rewritten, by output path (`guide/setup.html`).
    pub rewritten: Vec<String>,
    /// Whether every page was rewritten.
    pub all: bool,
    /// Whether only stylesheets changed (pages can swap them without reloading).
    pub css: bool,
    /// Pages that no longer exist, by output path.
    pub removed: Vec<String>,
    /// Files copied as they are (images) that were published or removed, by output path.
    pub assets: Vec<String>,
    /// Every problem of the site as it is now, errors first.
    pub problems: Vec<Diagnostic>,
    /// Time from the start of the rebuild until the pages were written.
    pub elapsed: Duration,
    /// How the server's search must take in the change.
    pub search: SearchChange,
}

/// What a rebuild did to the search index.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum SearchChange {
    /// Nothing.
    #[default]
    None,
    /// Documents were replaced: readers reload.
    Updated,
    /// A new index was written: readers open it again.
    Reopen,
}

impl Update {
    /// Whether anything was rebuilt.
    pub fn wrote(&self) -> bool {
        self.all
            || self.css
            || !self.rewritten.is_empty()
            || !self.removed.is_empty()
            || !self.assets.is_empty()
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|d| d.is_error()).count()
    }

    /// The message for the open pages (see `src/server/livereload.js`): `reload` names the
    /// pages rewritten, `css` swaps stylesheets, `status` only reports the problems.
    pub fn message(&self, version: u64) -> String {
        let kind = if self.css && !self.all && self.rewritten.is_empty() {
            "css"
        } else if self.wrote() {
            "reload"
        } else {
            "status"
        };
        let problems: Vec<serde_json::Value> = self
            .problems
            .iter()
            .filter(|d| d.severity != Severity::Note)
            .take(50)
            .map(|d| {
                serde_json::json!({
                    "severity": match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                        Severity::Note => "note",
                    },
                    "file": d.path.as_deref().map(display_path),
                    "line": d.line,
                    "column": d.column,
                    "message": d.message,
                    "help": d.help,
                    "snippet": snippet(d),
                })
            })
            .collect();
        serde_json::json!({
            "type": kind,
            "version": version,
            "all": self.all,
            "pages": if self.all { &[][..] } else { &self.rewritten[..] },
            "removed": self.removed,
            "problems": problems,
        })
        .to_string()
    }
}

/// The lines around a problem, numbered, with a caret under its column.
fn snippet(d: &Diagnostic) -> Option<String> {
    let source = d.source.as_deref()?;
    if d.line == 0 {
        return None;
    }
    // The line before, the line, the line after.
    let first = d.line.saturating_sub(1).max(1);
    let width = (d.line + 1).to_string().len();
    let mut out = String::new();
    for (i, text) in source
        .lines()
        .enumerate()
        .skip(first - 1)
        .take(d.line + 1 - first + 1)
    {
        let n = i + 1;
        out.push_str(&format!("{n:>width$} | {text}\n"));
        if n == d.line && d.column > 0 {
            let pad: String = text
                .chars()
                .take(d.column - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("{:>width$} | {pad}^\n", ""));
        }
    }
    Some(out)
}

/// What a page shows of another (for navigation) and what others show of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NavEntry {
    /// URL of the parent entry's page; `None` at the top level, under an entry with no page,
    /// and for an entry with no page itself (any change to those rebuilds every page).
    parent: Option<String>,
    item_title: String,
    number: Option<String>,
    prev: Option<String>,
    next: Option<String>,
    title: String,
    description: Option<String>,
    kind: Kind,
    severity: Option<Urgency>,
    is_index: bool,
}

/// [`NavEntry`] of every page in navigation, by URL.
type NavView = HashMap<String, NavEntry>;

fn nav_view(site: &Site) -> NavView {
    let nav = &site.nav;
    let url = |i: usize| site.pages[i].url.clone();
    nav.items
        .iter()
        .map(|item| {
            let parent = item.parent.and_then(|p| nav.items[p].page).map(url);
            let Some(id) = item.page else {
                // A part title, a separator or a draft chapter of SUMMARY.md: known by its
                // title under its parent.
                let key = format!(
                    "\u{0}{:?}\u{0}{}\u{0}{}",
                    item.kind,
                    item.title,
                    parent.as_deref().unwrap_or("")
                );
                let entry = NavEntry {
                    parent: None,
                    item_title: item.title.clone(),
                    number: item.number.clone(),
                    prev: None,
                    next: None,
                    title: String::new(),
                    description: None,
                    kind: Kind::Guide,
                    severity: None,
                    is_index: false,
                };
                return (key, entry);
            };
            let page = &site.pages[id];
            let (prev, next) = nav.neighbours(id).unwrap_or((None, None));
            (
                page.url.clone(),
                NavEntry {
                    parent,
                    item_title: item.title.clone(),
                    number: item.number.clone(),
                    prev: prev.map(url),
                    next: next.map(url),
                    title: page.title.clone(),
                    description: page.description.clone(),
                    kind: page.kind,
                    severity: page.front.severity,
                    is_index: page.is_index,
                },
            )
        })
        .collect()
}

/// Fingerprint of a triage page's content.
fn tree_print(page: &Page) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    page.title.hash(&mut h);
    page.html.hash(&mut h);
    serde_json::to_string(&page.triage)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

fn tree_prints(site: &Site) -> HashMap<String, u64> {
    site.pages
        .iter()
        .filter(|p| p.triage.is_some())
        .map(|p| (p.url.clone(), tree_print(p)))
        .collect()
}

/// A page read again: the page, if it could be read at all, and its problems.
type Reread = (Option<Page>, Vec<Diagnostic>);

/// What changed in the content folder.
#[derive(Debug, Default)]
struct ContentChanges {
    /// Markdown pages to read again (changed, created, deleted, or including a changed file).
    pages: BTreeSet<String>,
    /// Whether a tree file changed.
    trees: bool,
    /// Assets changed, created or deleted.
    assets: BTreeSet<String>,
    /// Whether files appeared or disappeared (the folder is walked again).
    rescan: bool,
    /// Whether SUMMARY.md changed.
    summary: bool,
}

impl ContentChanges {
    fn is_empty(&self) -> bool {
        self.pages.is_empty() && !self.trees && self.assets.is_empty() && !self.rescan
    }
}

impl Preview {
    /// Builds the site at `options.root` (writing every page, even one with errors, since there
    /// is no earlier version to keep) and the search index. Fails only when `book.toml` or the
    /// theme cannot be used; content problems are in the update's `problems`.
    pub fn start(mut options: BuildOptions) -> Result<(Preview, Update), Vec<Diagnostic>> {
        let start = Instant::now();
        // File events name absolute paths: so does everything the preview compares them with.
        if let Ok(root) = std::fs::canonicalize(&options.root) {
            options.root = root;
        }
        let (mut config, notes) = Config::load(&options.root, options.env.iter().cloned())?;
        if let Some(out) = &options.out_dir {
            config.set_out_dir(out);
        }
        let theme = Theme::load(&config.theme_dir)?;
        let mut problems = Problems {
            setup: notes,
            ..Problems::default()
        };
        let indexer = if config.search.enable {
            IndexBuilder::for_site(&config, &config.out_dir)
                .map_err(|d| problems.setup.push(d))
                .ok()
        } else {
            None
        };
        let (sources, found) = Sources::discover(&config);
        problems.discover = found;
        let keys = std::sync::Mutex::new(Vec::new());
        let record = |key: usize, page: &Page| {
            if let Some(indexer) = &indexer {
                indexer.add_page(key, page);
            }
            keys.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((key as u64, page.url.clone()));
        };
        let (pages, read) =
            content::parse_pages(&config, &sources.glossary, &sources.pages, &|i, page| {
                if !content::left_out(&config, page) {
                    record(i, page);
                }
            });
        for d in read {
            let file = d.path.as_deref().map(display_path).unwrap_or_default();
            problems.files.entry(file).or_default().push(d);
        }
        let base = sources.pages.len();
        let (site, assembled) =
            content::assemble_unchecked(config, &sources, pages, &|i, page| record(base + i, page));
        problems.site = assembled;
        problems.set_links([], content::check_links(&site, None));

        let (written, indexed) = std::thread::scope(|scope| {
            let finisher = indexer.map(|indexer| scope.spawn(move || indexer.finish()));
            let written = render::write_site(&site, &theme);
            let indexed = finisher.map(|h| h.join().expect("the indexer does not panic"));
            (written, indexed)
        });
        if let Err(errors) = written {
            problems.write.extend(errors);
        }
        let index = match indexed {
            Some(Ok(stats)) => IndexUpdater::open(&stats.dir)
                .map_err(|d| problems.setup.push(d))
                .ok(),
            Some(Err(d)) => {
                problems.setup.push(d);
                None
            }
            None => None,
        };
        let keys: HashMap<String, u64> = keys
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|(k, url)| (url, k))
            .collect();
        let next_key = keys.values().max().map_or(0, |k| k + 1);
        let preview = Preview {
            nav: nav_view(&site),
            tree_prints: tree_prints(&site),
            options,
            theme,
            sources,
            site,
            index,
            keys,
            next_key,
            pending: Vec::new(),
            extras_due: false,
            problems,
        };
        let update = Update {
            all: true,
            problems: preview.problems.all(),
            elapsed: start.elapsed(),
            search: SearchChange::Reopen,
            ..Update::default()
        };
        Ok((preview, update))
    }

    /// The site as it is now.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Every problem the site has now, errors first.
    pub fn problems(&self) -> Vec<Diagnostic> {
        self.problems.all()
    }

    /// What to watch: the content folder, the theme folder and the site's root (for
    /// `book.toml`, watched without its subfolders).
    pub fn watched(&self) -> Vec<(PathBuf, bool)> {
        let config = &self.site.config;
        let mut dirs = vec![(config.root.clone(), false)];
        for (dir, recursive) in [(&config.src_dir, true), (&config.theme_dir, true)] {
            if dir.is_dir() && !dirs.iter().any(|(d, r)| *r && dir.starts_with(d)) {
                dirs.push((dir.clone(), recursive));
            }
        }
        dirs
    }

    /// Rebuilds what the changes to `paths` (created, changed, deleted or renamed files and
    /// folders) affect. The search index is brought up to date by [`Preview::finish`],
    /// so the pages can be reloaded first.
    pub fn update(&mut self, paths: &[PathBuf]) -> Update {
        let start = Instant::now();
        let config = &self.site.config;
        let root = &config.root;
        let mut shown: BTreeSet<String> = BTreeSet::new();
        let mut restart = false;
        let mut theme = false;
        let mut css = false;
        let mut content = ContentChanges::default();
        let extra_css: Vec<PathBuf> = config
            .html
            .additional_css
            .iter()
            .map(|p| root.join(p))
            .collect();
        let extra_js: Vec<PathBuf> = config
            .html
            .additional_js
            .iter()
            .map(|p| root.join(p))
            .collect();
        for path in paths {
            let path = if path.is_absolute() {
                path.clone()
            } else {
                root.join(path)
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if content::is_hidden_or_temp(&name) {
                continue;
            }
            let rel_root = display_path(path.strip_prefix(root).unwrap_or(&path));
            if path == root.join(crate::config::CONFIG_FILE) {
                restart = true;
            } else if extra_css.contains(&path) {
                css = true;
            } else if extra_js.contains(&path) {
                theme = true;
            } else if let Ok(rel) = path.strip_prefix(&config.theme_dir) {
                let rel = display_path(rel);
                if rel.starts_with("static/") && rel.ends_with(".css") {
                    css = true;
                } else {
                    theme = true;
                }
            } else if let Ok(rel) = path.strip_prefix(&config.src_dir) {
                let rel = display_path(rel);
                if rel.split('/').any(content::is_hidden_or_temp) {
                    continue;
                }
                // Pages that include the file are read again, whatever the file is.
                let canonical = std::fs::canonicalize(&path).ok().or_else(|| {
                    let parent = std::fs::canonicalize(path.parent()?).ok()?;
                    Some(parent.join(path.file_name()?))
                });
                if let Some(canonical) = canonical {
                    for page in self.site.pages.iter().chain(&self.site.left_out) {
                        if page.includes.contains(&canonical) {
                            content.pages.insert(page.source.clone());
                        }
                    }
                }
                let is_file = path.is_file();
                if path.is_dir() || (!path.exists() && !rel.contains('.')) {
                    // A folder created, deleted or renamed: whatever was in it.
                    content.rescan = true;
                    let prefix = format!("{rel}/");
                    content.pages.extend(
                        self.sources
                            .pages
                            .iter()
                            .filter(|p| p.starts_with(&prefix))
                            .cloned(),
                    );
                } else {
                    match content::kind_of(&rel) {
                        FileKind::Summary => {
                            content.summary = true;
                            content.rescan = true;
                        }
                        // Every page may use a term: the whole site is built again.
                        FileKind::Synonyms | FileKind::Glossary => restart = true,
                        FileKind::Page => {
                            if !(is_file && self.sources.pages.contains(&rel)) {
                                content.rescan = true;
                            }
                            content.pages.insert(rel);
                        }
                        FileKind::Tree => {
                            content.trees = true;
                            if !(is_file && self.sources.trees.contains(&rel)) {
                                content.rescan = true;
                            }
                        }
                        // Read by other commands; nothing in the preview depends on them.
                        FileKind::Data => continue,
                        FileKind::Asset => {
                            if !(is_file && self.sources.assets.contains(&rel)) {
                                content.rescan = true;
                            }
                            content.assets.insert(rel);
                        }
                    }
                }
            } else {
                continue;
            }
            shown.insert(rel_root);
        }
        let changed: Vec<String> = shown.into_iter().collect();
        let mut update = if restart {
            self.restart()
        } else if theme {
            self.reload_theme(true)
        } else if css && content.is_empty() {
            self.reload_theme(false)
        } else if !content.is_empty() {
            let mut update = self.update_content(content);
            if css {
                let css_update = self.reload_theme(false);
                update.css = css_update.css;
            }
            update
        } else {
            Update::default()
        };
        update.changed = changed;
        update.problems = self.problems.all();
        update.elapsed = start.elapsed();
        update
    }

    /// Finishes the last [`Preview::update`] after the pages were reloaded: writes the files
    /// that describe the whole site and brings the search index up to date. Returns whether the
    /// index changed.
    pub fn finish(&mut self) -> bool {
        if std::mem::take(&mut self.extras_due) {
            let (_, errors) = render::write_extras(&self.site, &self.theme);
            self.problems.write.extend(errors);
        }
        if self.pending.is_empty() {
            return false;
        }
        let Some(index) = &mut self.index else {
            self.pending.clear();
            return false;
        };
        let mut result = Ok(());
        for (key, page) in self.pending.drain(..) {
            let page = page.map(|id| &self.site.pages[id]);
            result = result.and_then(|()| index.replace(key, page));
        }
        match result.and_then(|()| index.commit()) {
            Ok(()) => true,
            Err(d) => {
                self.problems.write.push(d);
                false
            }
        }
    }

    /// Search key of the page at `url`, a new one for a new page.
    fn key_for(&mut self, url: &str) -> u64 {
        if let Some(&key) = self.keys.get(url) {
            return key;
        }
        let key = self.next_key;
        self.next_key += 1;
        self.keys.insert(url.to_string(), key);
        key
    }

    /// The common edit, done without putting the site together again: pages whose text
    /// changed but not what other pages show of them (title, description, kind, severity,
    /// URL), not drafts, not embedding or referenced by a tree. `None` when the edit is not
    /// that simple.
    fn update_in_place(&mut self, changes: &ContentChanges) -> Option<Update> {
        if changes.rescan || changes.trees || changes.summary || !changes.assets.is_empty() {
            return None;
        }
        let site = &self.site;
        let ids: Vec<usize> = changes
            .pages
            .iter()
            .map(|source| {
                site.pages
                    .iter()
                    .position(|p| &p.source == source && !p.generated && p.triage.is_none())
            })
            .collect::<Option<_>>()?;
        // A tree's fix page shows the first steps of the guide it leads to.
        let referenced = |page: &Page| {
            site.pages.iter().any(|p| {
                p.triage
                    .as_ref()
                    .and_then(|t| t.fix.as_ref())
                    .and_then(|f| f.url.as_deref())
                    .is_some_and(|u| u.split('#').next().unwrap_or(u).ends_with(&page.url))
            })
        };
        if ids.iter().any(|&id| referenced(&site.pages[id])) {
            return None;
        }
        let read: Vec<Reread> = ids
            .par_iter()
            .map(|&id| {
                content::read_page(&site.config, &self.sources.glossary, &site.pages[id].source)
            })
            .collect();
        let same_shape = |old: &Page, new: &Page| {
            old.url == new.url
                && old.title == new.title
                && old.description == new.description
                && old.kind == new.kind
                && old.lang == new.lang
                && old.front.severity == new.front.severity
                && old.front.draft == new.front.draft
                && old.front.weight == new.front.weight
                && old.front.aliases == new.front.aliases
                && old.unexpanded.is_none()
                && new.unexpanded.is_none()
        };
        let simple = read.iter().zip(&ids).all(|((page, diags), &id)| {
            let broken = diags.iter().any(Diagnostic::is_error);
            broken
                || page
                    .as_ref()
                    .is_some_and(|p| same_shape(&site.pages[id], p))
        });
        if !simple {
            return None;
        }

        let mut replaced = Vec::new();
        let mut recheck: BTreeSet<usize> = BTreeSet::new();
        for ((page, diags), id) in read.into_iter().zip(ids) {
            let file = src_display(&self.site.config, &self.site.pages[id].source);
            let broken = diags.iter().any(Diagnostic::is_error);
            self.problems.files.insert(file, diags);
            // A page that reads with errors keeps its last good version.
            let Some(mut page) = page.filter(|_| !broken) else {
                continue;
            };
            page.id = id;
            let old = std::mem::replace(&mut self.site.pages[id], page);
            recheck.insert(id);
            let new = &self.site.pages[id];
            let ids_of = |p: &Page| p.headings.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
            if ids_of(&old) != ids_of(new) {
                // Links into the page may have lost (or found) their anchor.
                for other in &self.site.pages {
                    let links_here = other.links.iter().any(|l| match &l.target {
                        content::Target::Page { source, .. } => *source == new.source,
                        content::Target::Output { url, .. } => *url == new.url,
                        _ => false,
                    });
                    if links_here {
                        recheck.insert(other.id);
                    }
                }
            }
            replaced.push(id);
        }
        let site = &self.site;
        let recheck: Vec<usize> = recheck.into_iter().collect();
        let files: Vec<String> = recheck
            .iter()
            .map(|&id| src_display(&site.config, &site.pages[id].source))
            .collect();
        self.problems
            .set_links(files, content::check_links(site, Some(&recheck)));
        let ids = self.problems.writable(site, replaced.clone());
        self.problems.write = render::write_pages(site, &self.theme, &ids)
            .err()
            .unwrap_or_default();
        let mut update = Update {
            rewritten: ids.iter().map(|&id| site.pages[id].url.clone()).collect(),
            ..Update::default()
        };
        for id in replaced {
            let url = self.site.pages[id].url.clone();
            let key = self.key_for(&url);
            self.pending.push((key, Some(id)));
            update.search = SearchChange::Updated;
            self.extras_due = true;
        }
        Some(update)
    }

    /// `book.toml` (or the synonyms) changed: everything is built again, the index too.
    fn restart(&mut self) -> Update {
        // The index writer's lock must go before a new index is written in its place.
        self.index = None;
        self.pending.clear();
        match Preview::start(self.options.clone()) {
            Ok((preview, update)) => {
                *self = preview;
                update
            }
            Err(errors) => {
                self.problems.setup = errors;
                if let Some(dir) = self.index_dir() {
                    self.index = IndexUpdater::open(&dir).ok();
                }
                Update::default()
            }
        }
    }

    fn index_dir(&self) -> Option<PathBuf> {
        self.site
            .config
            .search
            .enable
            .then(|| self.site.config.out_dir.join(crate::search::INDEX_DIR))
    }

    /// The theme changed: templates (`pages`: every page is rendered again) or only static
    /// files (stylesheets are swapped in the open pages).
    fn reload_theme(&mut self, pages: bool) -> Update {
        self.problems.setup.clear();
        let theme = match Theme::load(&self.site.config.theme_dir) {
            Ok(t) => t,
            Err(errors) => {
                self.problems.setup = errors;
                return Update::default();
            }
        };
        self.theme = theme;
        let mut errors = render::write_static(&self.site, &self.theme);
        if !pages {
            self.problems.write = errors;
            return Update {
                css: true,
                ..Update::default()
            };
        }
        let all: Vec<usize> = (0..self.site.pages.len()).collect();
        if let Err(e) = render::write_pages(&self.site, &self.theme, &all) {
            errors.extend(e);
        }
        errors.extend(render::write_extras(&self.site, &self.theme).1);
        self.problems.write = errors;
        Update {
            all: true,
            ..Update::default()
        }
    }

    /// Pages, trees or assets changed.
    fn update_content(&mut self, mut changes: ContentChanges) -> Update {
        if let Some(update) = self.update_in_place(&changes) {
            return update;
        }
        let mut update = Update::default();
        let t0 = Instant::now();
        let trace = std::env::var_os("HELPBOOK_TRACE_PREVIEW").is_some();
        let mark = |what: &str| {
            if trace {
                eprintln!("  {what}: {:.1} ms", t0.elapsed().as_secs_f64() * 1000.0);
            }
        };
        if changes.rescan {
            let (sources, found) = Sources::discover(&self.site.config);
            self.problems.discover = found;
            let before: HashSet<&str> = self.sources.pages.iter().map(String::as_str).collect();
            let now: HashSet<&str> = sources.pages.iter().map(String::as_str).collect();
            // A Markdown file that is not built (not in SUMMARY.md) changes nothing.
            changes
                .pages
                .retain(|p| before.contains(p.as_str()) || now.contains(p.as_str()));
            let added: Vec<String> = sources
                .pages
                .iter()
                .filter(|p| !before.contains(p.as_str()))
                .cloned()
                .collect();
            let removed = before.len() + added.len() != now.len();
            changes.pages.extend(added);
            let unchanged = changes.pages.is_empty()
                && !removed
                && !changes.trees
                && !changes.summary
                && changes.assets.is_empty()
                && sources.trees == self.sources.trees;
            self.sources = sources;
            if unchanged {
                return Update::default();
            }
        }
        // The site is taken apart and put together again around the pages read again.
        let placeholder = Site::empty(self.site.config.clone());
        let mut old = std::mem::replace(&mut self.site, placeholder);
        let old_urls = std::mem::take(&mut old.by_url);
        let old_redirects = std::mem::take(&mut old.redirects);
        let old_assets: HashSet<String> = std::mem::take(&mut old.assets).into_iter().collect();
        let (config, pages) = old.into_parts();

        let current: HashSet<&str> = self.sources.pages.iter().map(String::as_str).collect();
        let (olds, mut keep): (Vec<Page>, Vec<Page>) = pages.into_iter().partition(|p| {
            changes.pages.contains(&p.source) || !current.contains(p.source.as_str())
        });
        let mut olds: HashMap<String, Page> =
            olds.into_iter().map(|p| (p.source.clone(), p)).collect();
        for gone in olds.keys().filter(|s| !current.contains(s.as_str())) {
            self.problems.files.remove(&src_display(&config, gone));
        }
        let to_read: Vec<&String> = changes
            .pages
            .iter()
            .filter(|p| current.contains(p.as_str()))
            .collect();
        let glossary = self.sources.glossary.clone();
        let read: Vec<(&String, Reread)> = to_read
            .par_iter()
            .map(|source| (*source, content::read_page(&config, &glossary, source)))
            .collect();
        let mut accepted: HashSet<String> = HashSet::new();
        for (source, (page, diags)) in read {
            let broken = diags.iter().any(Diagnostic::is_error);
            self.problems
                .files
                .insert(src_display(&config, source), diags);
            let old = olds.remove(source.as_str());
            match (page, old) {
                // A page that reads with errors keeps its last good version in the site.
                (Some(_), Some(old)) if broken => keep.push(old),
                (Some(page), _) => {
                    accepted.insert(page.source.clone());
                    keep.push(page);
                }
                (None, Some(old)) => keep.push(old),
                (None, None) => {}
            }
        }
        mark("read");

        let (site, assembled) =
            content::assemble_unchecked(config, &self.sources, keep, &|_, _| {});
        self.problems.site = assembled;
        self.problems.links.clear();
        self.problems
            .set_links([], content::check_links(&site, None));
        self.site = site;
        mark("assemble");
        let site = &self.site;
        let out = &site.config.out_dir;

        // Which pages to render.
        let nav = nav_view(site);
        let mut all = false;
        let mut parents: HashSet<&str> = HashSet::new();
        let mut dirty: HashSet<usize> = HashSet::new();
        let moved = nav
            .iter()
            .filter(|(url, entry)| self.nav.get(*url) != Some(entry))
            .map(|(url, entry)| (url, Some(entry), self.nav.get(url)))
            .chain(
                self.nav
                    .iter()
                    .filter(|(url, _)| !nav.contains_key(*url))
                    .map(|(url, entry)| (url, None, Some(entry))),
            );
        for (url, new, old) in moved {
            if let Some(&id) = site.by_url.get(url) {
                dirty.insert(id);
            }
            for entry in new.into_iter().chain(old) {
                match &entry.parent {
                    Some(parent) => {
                        parents.insert(parent);
                    }
                    None => all = true,
                }
                // Previous and next show this page's title.
                for n in entry.prev.iter().chain(&entry.next) {
                    if let Some(&id) = site.by_url.get(n) {
                        dirty.insert(id);
                    }
                }
            }
        }
        let nav_changed = all || !parents.is_empty();
        if !parents.is_empty() && !all {
            // The sidebar of every page under a changed entry's parent lists it, and so do the
            // parent's section page and the breadcrumbs below it.
            for page in &site.pages {
                let Some(&item) = site.nav.page_item.get(&page.id) else {
                    continue;
                };
                let under = site.nav.ancestry(item).iter().any(|&i| {
                    site.nav.items[i]
                        .page
                        .is_some_and(|p| parents.contains(site.pages[p].url.as_str()))
                });
                if under {
                    dirty.insert(page.id);
                }
            }
        }
        for page in &site.pages {
            if accepted.contains(&page.source) && !page.generated && page.triage.is_none() {
                dirty.insert(page.id);
            }
        }
        let prints = tree_prints(site);
        let trees_changed = prints.len() != self.tree_prints.len()
            || prints
                .iter()
                .any(|(url, print)| self.tree_prints.get(url) != Some(print));
        if trees_changed || changes.trees {
            for page in &site.pages {
                let tree_page_changed = page.triage.is_some()
                    && self.tree_prints.get(&page.url) != prints.get(&page.url);
                let lang_home = page.is_index
                    && (page.url == "index.html"
                        || (page.dir == page.lang && !page.dir.contains('/')));
                if tree_page_changed || page.unexpanded.is_some() || lang_home {
                    dirty.insert(page.id);
                }
            }
        }
        // Pages showing a changed image reload to show it.
        for page in &site.pages {
            let shows = page.links.iter().any(
                |l| matches!(&l.target, content::Target::Asset(a) if changes.assets.contains(a)),
            );
            if shows {
                dirty.insert(page.id);
            }
        }
        let ids: Vec<usize> = if all {
            (0..site.pages.len()).collect()
        } else {
            dirty.into_iter().collect()
        };
        let ids = self.problems.writable(site, ids);
        mark("dirty");
        let mut errors = Vec::new();
        if let Err(e) = render::write_pages(site, &self.theme, &ids) {
            errors.extend(e);
        }
        mark("write pages");

        // Pages that are gone, and what describes the whole site.
        let removed: Vec<String> = old_urls
            .keys()
            .filter(|u| !site.by_url.contains_key(*u) && !site.redirects.contains_key(*u))
            .cloned()
            .collect();
        for url in &removed {
            let _ = std::fs::remove_file(out.join(url));
        }
        for from in old_redirects.keys() {
            if !site.redirects.contains_key(from) && !site.by_url.contains_key(from) {
                let _ = std::fs::remove_file(out.join(from));
            }
        }
        let metadata_changed = site
            .pages
            .iter()
            .any(|p| accepted.contains(&p.source) && !p.generated);
        self.extras_due = nav_changed
            || !removed.is_empty()
            || trees_changed
            || metadata_changed
            || old_redirects != site.redirects;
        for asset in &changes.assets {
            if site.assets.contains(asset) {
                if let Err(d) = render::copy_asset(site, asset) {
                    errors.push(d);
                }
            } else if old_assets.contains(asset) {
                let _ = std::fs::remove_file(out.join(asset));
            }
        }
        self.problems.write = errors;
        mark("extras");

        // The search documents of what changed, for `finish`.
        let starts: HashSet<&str> = site.trees.iter().map(|t| t.url.as_str()).collect();
        let reindex: Vec<(String, usize)> = site
            .pages
            .iter()
            .filter(|page| {
                let changed_page = accepted.contains(&page.source) && page.triage.is_none();
                let changed_start = starts.contains(page.url.as_str())
                    && self.tree_prints.get(&page.url) != prints.get(&page.url);
                (changed_page && !page.generated) || changed_start
            })
            .map(|page| (page.url.clone(), page.id))
            .collect();
        for (url, id) in reindex {
            let key = self.key_for(&url);
            self.pending.push((key, Some(id)));
        }
        let site = &self.site;
        // Pages that are gone (deleted, renamed, now drafts) leave the index.
        let indexed: Vec<String> = self
            .keys
            .keys()
            .filter(|url| {
                site.by_url
                    .get(*url)
                    .is_none_or(|&id| site.pages[id].is_made_up_section())
            })
            .cloned()
            .collect();
        for url in indexed {
            if let Some(key) = self.keys.remove(&url) {
                self.pending.push((key, None));
            }
        }
        if !self.pending.is_empty() {
            update.search = SearchChange::Updated;
        }

        update.assets = changes.assets.iter().cloned().collect();
        update.all = all;
        update.rewritten = ids.iter().map(|&i| site.pages[i].url.clone()).collect();
        update.removed = removed;
        self.nav = nav;
        self.tree_prints = prints;
        update
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_shows_its_lines_with_a_caret() {
        let d = Diagnostic::error("bad")
            .at(3, 8)
            .with_source(std::sync::Arc::from("one\ntwo\ntitle: [x\nfour\nfive\n"));
        assert_eq!(
            snippet(&d).unwrap(),
            "2 | two\n3 | title: [x\n  |        ^\n4 | four\n"
        );
        assert_eq!(snippet(&Diagnostic::error("no place")), None);
    }

    #[test]
    fn messages_say_what_the_open_pages_do() {
        let kind = |u: &Update| -> String {
            let v: serde_json::Value = serde_json::from_str(&u.message(7)).unwrap();
            assert_eq!(v["version"], 7);
            v["type"].as_str().unwrap().to_string()
        };
        let mut u = Update {
            rewritten: vec!["a.html".into()],
            ..Update::default()
        };
        assert_eq!(kind(&u), "reload");
        u.rewritten.clear();
        assert_eq!(kind(&u), "status");
        u.css = true;
        assert_eq!(kind(&u), "css");
        u.all = true;
        assert_eq!(kind(&u), "reload");
        let v: serde_json::Value = serde_json::from_str(&u.message(1)).unwrap();
        assert_eq!(v["pages"], serde_json::json!([]), "every page: no list");
    }
}
