//! Render: the [`Site`] model -> files in the output folder.
//!
//! Every page is rendered through the theme's templates in parallel and written once. The
//! sidebar of a page shows the top level plus the branch the page sits on, never the whole tree,
//! so output size and time grow linearly with the number of pages. Also written: `404.html`,
//! `sitemap.xml`, redirect pages for `aliases` and mdBook redirects, assets, and the theme's
//! static files under `_helpbook/`.

mod theme;

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use tera::Context;

pub use theme::Theme;

use crate::content::{Kind, NavKind, Page, Site, encode_href, root_prefix};
use crate::diagnostic::{Diagnostic, display_path};
use crate::i18n::Locale;
use crate::markdown::{highlight_css, push_escaped};

/// Where the theme's static files are published, under the output folder.
pub const STATIC_DIR: &str = "_helpbook";

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    /// HTML pages (not counting redirects and 404).
    pub pages: usize,
    /// Redirect pages.
    pub redirects: usize,
    /// Assets copied.
    pub assets: usize,
}

#[derive(Serialize)]
struct SiteCtx<'a> {
    title: &'a str,
    description: Option<&'a str>,
    language: &'a str,
    repository_url: Option<&'a str>,
    has_summary: bool,
}

#[derive(Serialize)]
struct PageCtx<'a> {
    title: &'a str,
    description: Option<&'a str>,
    kind: &'static str,
    audience: Option<&'static str>,
    severity: Option<&'static str>,
    symptoms: &'a [String],
    tags: &'a [String],
    updated: Option<String>,
    url: &'a str,
    source: &'a str,
    lang: &'a str,
    html_lang: &'static str,
    content: &'a str,
    toc: Vec<TocEntry<'a>>,
    h1_id: Option<&'a str>,
    is_index: bool,
    is_home: bool,
    draft: bool,
    edit_url: Option<String>,
    reading_minutes: usize,
    triage: Option<&'a crate::content::TriageStep>,
}

/// A triage tree as the home page lists it.
#[derive(Serialize)]
struct TreeCardCtx<'a> {
    id: &'a str,
    title: &'a str,
    description: Option<&'a str>,
    question: &'a str,
    url: String,
}

#[derive(Serialize)]
struct TocEntry<'a> {
    level: u8,
    id: &'a str,
    text: &'a str,
    step: Option<u32>,
}

#[derive(Serialize)]
struct LinkCtx<'a> {
    title: &'a str,
    url: String,
}

#[derive(Serialize)]
struct ChildCtx<'a> {
    title: &'a str,
    url: String,
    description: Option<&'a str>,
    kind: &'static str,
    severity: Option<&'static str>,
    is_section: bool,
}

fn audience_name(a: crate::content::Audience) -> &'static str {
    use crate::content::Audience::*;
    match a {
        Teacher => "teacher",
        Student => "student",
        Developer => "developer",
        Admin => "admin",
        Support => "support",
        Everyone => "everyone",
    }
}

/// Renders and writes the whole site. Errors are template problems and I/O failures.
pub fn write_site(site: &Site, theme: &Theme) -> Result<Written, Vec<Diagnostic>> {
    let out = &site.config.out_dir;
    prepare_out_dir(site)?;
    let all: Vec<usize> = (0..site.pages.len()).collect();
    write_pages(site, theme, &all)?;

    let mut errors = Vec::new();
    let asset_errors: Vec<Diagnostic> = site
        .assets
        .par_iter()
        .filter_map(|rel| copy_asset(site, rel).err())
        .collect();
    errors.extend(asset_errors);
    errors.extend(write_static(site, theme));
    let (redirects, extra_errors) = write_extras(site, theme);
    errors.extend(extra_errors);

    if errors.is_empty() {
        let mut keep: HashSet<PathBuf> = HashSet::new();
        keep.extend(site.pages.iter().map(|p| out.join(&p.url)));
        keep.extend(site.assets.iter().map(|a| out.join(a)));
        keep.extend(site.redirects.keys().map(|r| out.join(r)));
        keep.extend(theme.files.keys().map(|f| out.join(STATIC_DIR).join(f)));
        keep.extend(
            site.config
                .html
                .additional_css
                .iter()
                .chain(&site.config.html.additional_js)
                .map(|p| out.join(p)),
        );
        for name in ["404.html", "search.html", "sitemap.xml"] {
            keep.insert(out.join(name));
        }
        keep.insert(out.join(STATIC_DIR).join("highlight.css"));
        prune(out, &keep, &mut errors);
    }
    if errors.is_empty() {
        Ok(Written {
            pages: site.pages.len(),
            redirects,
            assets: site.assets.len(),
        })
    } else {
        Err(errors)
    }
}

/// Renders the pages `ids` of `site` (on every core) and writes those whose output changed.
pub fn write_pages(site: &Site, theme: &Theme, ids: &[usize]) -> Result<(), Vec<Diagnostic>> {
    let out = &site.config.out_dir;
    // Create every folder first, then write files in parallel without races.
    let dirs: BTreeSet<PathBuf> = ids
        .iter()
        .filter_map(|&i| Path::new(&site.pages[i].url).parent().map(|p| out.join(p)))
        .collect();
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(|e| vec![io_error(dir, &e)])?;
    }
    let shared = Shared::new(site);
    // Pages are rendered on every core but written by one thread: file systems serialise file
    // creation within a folder, and on ext4 two writers are several times slower than one
    // (measured: 10,000 files in 0.45 s from one thread, 2.2–6 s from two).
    let (to_disk, pending) = std::sync::mpsc::sync_channel::<(PathBuf, String)>(256);
    let (mut page_errors, write_errors) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            pending
                .into_iter()
                .filter_map(|(path, html)| {
                    write_if_changed(&path, html.as_bytes())
                        .err()
                        .map(|e| io_error(&path, &e))
                })
                .collect::<Vec<_>>()
        });
        let page_errors: Vec<Diagnostic> = ids
            .par_iter()
            .filter_map(|&i| {
                let page = &site.pages[i];
                match render_page(site, theme, &shared, page) {
                    Ok(html) => {
                        // The writer only stops early by panicking, which the join reports.
                        let _ = to_disk.send((out.join(&page.url), html));
                        None
                    }
                    Err(d) => Some(d),
                }
            })
            .collect();
        drop(to_disk);
        (
            page_errors,
            writer.join().expect("the page writer does not panic"),
        )
    });
    page_errors.extend(write_errors);
    if page_errors.is_empty() {
        Ok(())
    } else {
        Err(page_errors)
    }
}

/// Renders every page and the special pages in memory, writing nothing: the template errors a
/// build would meet (`helpbook check`).
pub fn render_check(site: &Site, theme: &Theme) -> Vec<Diagnostic> {
    let shared = Shared::new(site);
    let mut errors: Vec<Diagnostic> = site
        .pages
        .par_iter()
        .filter_map(|page| render_page(site, theme, &shared, page).err())
        .collect();
    errors.extend(render_404(site, theme, &shared).err());
    errors.extend(render_search(site, theme, &shared).err());
    // One error per template is enough: the same mistake fails every page using it.
    let mut seen = HashSet::new();
    errors.retain(|d| seen.insert(d.message.clone()));
    errors
}

/// Copies one asset (`rel`, under the content folder) to the output.
pub fn copy_asset(site: &Site, rel: &str) -> Result<(), Diagnostic> {
    let to = site.config.out_dir.join(rel);
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
    }
    copy_file(&site.config.src_dir.join(rel), &to).map_err(|e| io_error(&to, &e))
}

/// Writes the theme's static files, the highlighting stylesheet and the site's additional CSS
/// and JavaScript.
pub fn write_static(site: &Site, theme: &Theme) -> Vec<Diagnostic> {
    let out = &site.config.out_dir;
    let mut errors = Vec::new();
    let write = |rel: &str, bytes: &[u8], errors: &mut Vec<Diagnostic>| {
        if let Err(d) = write_file(out, rel, bytes) {
            errors.push(d);
        }
    };
    for (name, bytes) in &theme.files {
        write(&format!("{STATIC_DIR}/{name}"), bytes, &mut errors);
    }
    write(
        &format!("{STATIC_DIR}/highlight.css"),
        highlight_css().as_bytes(),
        &mut errors,
    );
    for extra in site
        .config
        .html
        .additional_css
        .iter()
        .chain(&site.config.html.additional_js)
    {
        match std::fs::read(site.config.root.join(extra)) {
            Ok(bytes) => write(&display_path(extra), &bytes, &mut errors),
            Err(e) => errors.push(
                Diagnostic::error(format!("cannot read `{}`: {e}", display_path(extra)))
                    .in_file("book.toml")
                    .help("output.html.additional-css/js paths are relative to the folder of book.toml"),
            ),
        }
    }
    errors
}

/// Writes what is made from the whole site rather than one page: `404.html`, `search.html`,
/// `sitemap.xml`, the server's page and tree descriptions, and the redirect pages. Returns
/// the number of redirect pages.
pub fn write_extras(site: &Site, theme: &Theme) -> (usize, Vec<Diagnostic>) {
    let out = &site.config.out_dir;
    let shared = Shared::new(site);
    let mut errors = Vec::new();
    let write = |rel: &str, bytes: &[u8], errors: &mut Vec<Diagnostic>| {
        if let Err(d) = write_file(out, rel, bytes) {
            errors.push(d);
        }
    };
    match render_404(site, theme, &shared) {
        Ok(html) => write("404.html", html.as_bytes(), &mut errors),
        Err(d) => errors.push(d),
    }
    match render_search(site, theme, &shared) {
        Ok(html) => write("search.html", html.as_bytes(), &mut errors),
        Err(d) => errors.push(d),
    }
    write("sitemap.xml", sitemap(site).as_bytes(), &mut errors);
    // For the production server: titles, severities and versions of the pages tickets name,
    // and the trees' questions and answers.
    write(
        crate::content::PAGES_FILE,
        crate::content::pages_json(site).as_bytes(),
        &mut errors,
    );
    write(
        crate::triage::TRIAGE_FILE,
        serde_json::to_string_pretty(&site.triage)
            .expect("tree metadata serialises")
            .as_bytes(),
        &mut errors,
    );

    let mut redirects = 0;
    for (from, to) in &site.redirects {
        let target = if to.contains("://") || to.starts_with('/') {
            to.clone()
        } else if site.by_url.contains_key(to) {
            // A page URL: relative to the root.
            format!("{}{}", root_prefix(from), encode_href(to))
        } else {
            to.clone()
        };
        let mut ctx = Context::new();
        ctx.insert("target", &target);
        ctx.insert(
            "t",
            &shared.strings(Locale::from_tag(&site.config.book.language)),
        );
        match theme.tera.render("redirect.html", &ctx) {
            Ok(html) => {
                write(from, html.as_bytes(), &mut errors);
                redirects += 1;
            }
            Err(e) => errors.push(template_error("redirect.html", &e)),
        }
    }
    (redirects, errors)
}

/// Creates the output folder, refusing folders where pruning could touch the writer's files.
fn prepare_out_dir(site: &Site) -> Result<(), Vec<Diagnostic>> {
    let out = &site.config.out_dir;
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let out_c = canon(out);
    let root_c = canon(&site.config.root);
    let src_c = canon(&site.config.src_dir);
    if out_c == root_c || src_c.starts_with(&out_c) || out_c.starts_with(&src_c) {
        return Err(vec![
            Diagnostic::error(format!(
                "refusing to use `{}` as the output folder: it holds the site's sources",
                display_path(out)
            ))
            .in_file("book.toml")
            .help("set build-dir under [build] to a folder of its own, such as \"public\""),
        ]);
    }
    std::fs::create_dir_all(out).map_err(|e| vec![io_error(out, &e)])
}

/// Removes what an earlier build wrote and this one did not (renamed or deleted pages), and the
/// folders left empty. Files are overwritten in place rather than deleted first: rewriting is
/// cheaper for the file system than creating, and a server reading the folder never sees a gap.
/// Folders whose names start with `.` (`.git` of a deploy checkout) are left alone.
fn prune(out: &Path, keep: &HashSet<PathBuf>, errors: &mut Vec<Diagnostic>) {
    let mut dirs = Vec::new();
    let walker = walkdir::WalkDir::new(out)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker.flatten() {
        let path = entry.path();
        if entry.file_type().is_dir() {
            if entry.depth() > 0 {
                dirs.push((entry.depth(), path.to_path_buf()));
            }
        } else if !keep.contains(path)
            && let Err(e) = std::fs::remove_file(path)
        {
            errors.push(io_error(path, &e));
        }
    }
    // Deepest first; removing a folder that still has files fails harmlessly.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    for (_, dir) in dirs {
        let _ = std::fs::remove_dir(dir);
    }
}

fn write_file(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
    let path = out.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
    }
    write_if_changed(&path, bytes).map_err(|e| io_error(&path, &e))
}

/// Writes `bytes` to `path` unless the file already holds exactly them. A rebuild then rewrites
/// only what changed: unchanged files keep their modification time (deploy tools upload less,
/// HTTP caches revalidate less) and the file system does less work.
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let same = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes);
    if same {
        return Ok(());
    }
    std::fs::write(path, bytes)
}

fn copy_file(from: &Path, to: &Path) -> std::io::Result<()> {
    // A copy, not a hard link: a deploy step that edits the output must not edit the sources.
    // The old file is removed first: were it a hard link to the source (`cp -al`, rsync
    // --link-dest), copying over it would truncate the source itself.
    match std::fs::remove_file(to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::copy(from, to).map(|_| ())
}

fn io_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::error(format!("cannot write: {e}")).in_file(path)
}

fn template_error(name: &str, e: &tera::Error) -> Diagnostic {
    Diagnostic::error(format!("template {name}: {}", theme::error_chain(e))).help(
        "check the theme's template (theme/templates/) against the context documented in README.md",
    )
}

/// Data computed once per build and shared by every page.
struct Shared {
    strings_en: std::collections::BTreeMap<&'static str, &'static str>,
    strings_zh: std::collections::BTreeMap<&'static str, &'static str>,
    extra_css: Vec<String>,
    extra_js: Vec<String>,
}

impl Shared {
    fn new(site: &Site) -> Shared {
        Shared {
            strings_en: Locale::En.strings(),
            strings_zh: Locale::Zh.strings(),
            extra_css: site
                .config
                .html
                .additional_css
                .iter()
                .map(|p| display_path(p))
                .collect(),
            extra_js: site
                .config
                .html
                .additional_js
                .iter()
                .map(|p| display_path(p))
                .collect(),
        }
    }

    fn strings(&self, locale: Locale) -> &std::collections::BTreeMap<&'static str, &'static str> {
        match locale {
            Locale::En => &self.strings_en,
            Locale::Zh => &self.strings_zh,
        }
    }
}

fn site_ctx(site: &Site) -> SiteCtx<'_> {
    SiteCtx {
        title: site.config.title(),
        description: site.config.book.description.as_deref(),
        language: &site.config.book.language,
        repository_url: site.config.html.git_repository_url.as_deref(),
        has_summary: site.has_summary,
    }
}

fn template_for(page: &Page) -> &'static str {
    if page.is_index {
        return "section.html";
    }
    match page.kind {
        Kind::Guide => "page.html",
        Kind::Troubleshooting => "troubleshooting.html",
        Kind::Reference => "reference.html",
        Kind::Playbook => "playbook.html",
        Kind::Faq => "faq.html",
        Kind::Triage => "triage.html",
    }
}

fn render_page<'a>(
    site: &'a Site,
    theme: &Theme,
    shared: &Shared,
    page: &Page,
) -> Result<String, Diagnostic> {
    let prefix = root_prefix(&page.url);
    let link = |p: &'a Page| link_to(p, &prefix);
    let nav = &site.nav;
    let item = nav.page_item.get(&page.id).copied();

    let (prev, next) = match nav.neighbours(page.id) {
        Some((prev, next)) => (prev.map(|i| &site.pages[i]), next.map(|i| &site.pages[i])),
        // The home page of a folder site is outside the tree: it leads to the first page.
        None => (
            None,
            nav.order
                .first()
                .map(|i| &site.pages[*i])
                .filter(|_| page.url == "index.html"),
        ),
    };

    let mut breadcrumbs = Vec::new();
    if let Some(item) = item {
        for i in nav.ancestry(item) {
            if i == item {
                continue;
            }
            if let Some(p) = nav.items[i].page {
                breadcrumbs.push(link(&site.pages[p]));
            }
        }
    }

    let child_items: Vec<usize> = match item {
        Some(i) if page.is_index => nav.items[i].children.clone(),
        None if page.url == "index.html" => nav.roots.clone(),
        _ => Vec::new(),
    };
    // Children the body already links to are not listed again.
    let linked: std::collections::HashSet<&str> = page
        .links
        .iter()
        .filter_map(|l| match &l.target {
            crate::content::Target::Page { source, .. } => Some(source.as_str()),
            _ => None,
        })
        .collect();
    let children: Vec<ChildCtx<'_>> = child_items
        .iter()
        .filter_map(|i| nav.items[*i].page)
        .filter(|p| !linked.contains(site.pages[*p].source.as_str()))
        .map(|p| {
            let p = &site.pages[p];
            ChildCtx {
                title: &p.title,
                url: format!("{prefix}{}", encode_href(&p.url)),
                description: p.description.as_deref(),
                kind: p.kind.as_str(),
                severity: p.front.severity.map(|s| s.as_str()),
                is_section: p.is_index,
            }
        })
        .collect();

    let edit_url = match (&site.config.html.edit_url_template, page.generated) {
        (Some(t), false) => {
            let path = crate::content::src_display(&site.config, &page.source);
            Some(t.replace("{path}", &path))
        }
        _ => None,
    };
    let ctx_page = PageCtx {
        title: &page.title,
        description: page.description.as_deref(),
        kind: page.kind.as_str(),
        audience: page.front.audience.map(audience_name),
        severity: page.front.severity.map(|s| s.as_str()),
        symptoms: &page.front.symptoms,
        tags: &page.front.tags,
        updated: page.front.updated.map(String::from),
        url: &page.url,
        source: &page.source,
        lang: &page.lang,
        html_lang: page.locale.html_lang(),
        content: &page.html,
        toc: page
            .headings
            .iter()
            .filter(|h| h.level == 2 || h.level == 3)
            .map(|h| TocEntry {
                level: h.level,
                id: &h.id,
                text: &h.text,
                step: h.step,
            })
            .collect(),
        h1_id: page.h1_id.as_deref(),
        is_index: page.is_index,
        is_home: page.url == "index.html",
        draft: page.front.draft,
        edit_url,
        reading_minutes: page.words.div_ceil(200).max(1),
        triage: page.triage.as_deref(),
    };
    // The home page (and the home page of each language) leads with the trees in its language.
    let lang_home = page.is_index
        && (page.url == "index.html" || (page.dir == page.lang && !page.dir.contains('/')));
    let tree_cards: Vec<TreeCardCtx<'_>> = if lang_home {
        site.trees
            .iter()
            .filter(|t| crate::i18n::Locale::from_tag(&t.lang) == page.locale)
            .map(|t| TreeCardCtx {
                id: &t.id,
                title: &t.title,
                description: t.description.as_deref(),
                question: &t.question,
                url: format!("{prefix}{}", encode_href(&t.url)),
            })
            .collect()
    } else {
        Vec::new()
    };

    let mut ctx = Context::new();
    ctx.insert("site", &site_ctx(site));
    ctx.insert("page", &ctx_page);
    ctx.insert("root", &prefix);
    ctx.insert("static", &format!("{prefix}{STATIC_DIR}/"));
    ctx.insert("sidebar", &sidebar(site, page, &prefix));
    ctx.insert("breadcrumbs", &breadcrumbs);
    ctx.insert("prev", &prev.map(link));
    ctx.insert("next", &next.map(link));
    ctx.insert("children", &children);
    ctx.insert("triage_trees", &tree_cards);
    ctx.insert("t", shared.strings(page.locale));
    ctx.insert(
        "extra_css",
        &shared
            .extra_css
            .iter()
            .map(|c| format!("{prefix}{c}"))
            .collect::<Vec<_>>(),
    );
    ctx.insert(
        "extra_js",
        &shared
            .extra_js
            .iter()
            .map(|c| format!("{prefix}{c}"))
            .collect::<Vec<_>>(),
    );
    let name = template_for(page);
    theme.tera.render(name, &ctx).map_err(|e| {
        template_error(name, &e).in_file(crate::content::src_display(&site.config, &page.source))
    })
}

fn link_to<'a>(page: &'a Page, prefix: &str) -> LinkCtx<'a> {
    LinkCtx {
        title: &page.title,
        url: format!("{prefix}{}", encode_href(&page.url)),
    }
}

/// The 404 page: links are rooted at the site's base path, since it is served at any depth.
fn render_404(site: &Site, theme: &Theme, shared: &Shared) -> Result<String, Diagnostic> {
    let base = site
        .config
        .build
        .base_url
        .as_deref()
        .and_then(|u| u.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/".to_string());
    let base = if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    };
    let ctx = special_ctx(site, shared, &base, "not_found_title", "404.html");
    theme
        .tera
        .render("404.html", &ctx)
        .map_err(|e| template_error("404.html", &e))
}

/// The context of a page that is not made from Markdown (404, search), enough for `base.html`:
/// site-wide parts, a `page` titled by the interface string `title_key`, links rooted at
/// `root`, in the book's language.
fn special_ctx(site: &Site, shared: &Shared, root: &str, title_key: &str, url: &str) -> Context {
    let locale = Locale::from_tag(&site.config.book.language);
    let mut ctx = Context::new();
    ctx.insert(
        "page",
        &serde_json::json!({
            "title": locale.get(title_key),
            "html_lang": locale.html_lang(),
            "is_home": false,
            "url": url,
        }),
    );
    ctx.insert("breadcrumbs", &Vec::<()>::new());
    ctx.insert("prev", &());
    ctx.insert("next", &());
    ctx.insert("site", &site_ctx(site));
    ctx.insert("root", root);
    ctx.insert("static", &format!("{root}{STATIC_DIR}/"));
    ctx.insert("t", shared.strings(locale));
    ctx.insert("sidebar", &sidebar_for(site, None, "", root, locale));
    let rooted = |files: &[String]| {
        files
            .iter()
            .map(|c| format!("{root}{c}"))
            .collect::<Vec<_>>()
    };
    ctx.insert("extra_css", &rooted(&shared.extra_css));
    ctx.insert("extra_js", &rooted(&shared.extra_js));
    ctx
}

/// The search page shell at the site root. The server fills in the query and the results at
/// the markers the template carries (see `theme/templates/search.html`); served as a static
/// file, the theme's script fills them from the search API.
fn render_search(site: &Site, theme: &Theme, shared: &Shared) -> Result<String, Diagnostic> {
    let ctx = special_ctx(site, shared, "", "search", "search.html");
    theme
        .tera
        .render("search.html", &ctx)
        .map_err(|e| template_error("search.html", &e))
}

/// Children shown around the current page in a long section; the rest are reached through the
/// section page, which lists them all. Keeps every page's sidebar small on huge sites.
const SIDEBAR_WINDOW: usize = 12;

/// The sidebar of one page: top-level entries, and the children of every entry on the way from
/// the top to the page (so the page's siblings and its own children show). Links are relative
/// to the page.
fn sidebar(site: &Site, page: &Page, prefix: &str) -> String {
    let from_dir = page.url.rfind('/').map_or("", |i| &page.url[..=i]);
    sidebar_for(site, Some(page.id), from_dir, prefix, page.locale)
}

/// The sidebar as seen from `current` (none for the 404 page) in folder `from_dir` of the
/// output; `prefix` leads back to the root. With `from_dir` empty and `prefix` absolute, every
/// link is absolute (the 404 page is served at any depth).
fn sidebar_for(
    site: &Site,
    current: Option<usize>,
    from_dir: &str,
    prefix: &str,
    locale: Locale,
) -> String {
    let nav = &site.nav;
    let open: Vec<usize> = current
        .and_then(|p| nav.page_item.get(&p))
        .map(|i| nav.ancestry(*i))
        .unwrap_or_default();
    let ctx = SidebarCtx {
        site,
        open: &open,
        current,
        prefix,
        from_dir,
        absolute: prefix.starts_with('/'),
        more_label: locale.get("more_pages"),
    };
    let mut html = String::with_capacity(4096);
    html.push_str("<ul class=\"nav-tree\">");
    sidebar_list(&ctx, &nav.roots, None, &mut html);
    html.push_str("</ul>");
    html
}

/// Items of one level; a long level shows a window around the open item and links to the
/// section (`more_target`) for the rest.
fn sidebar_list(
    ctx: &SidebarCtx<'_>,
    items: &[usize],
    more_target: Option<usize>,
    html: &mut String,
) {
    let (from, to) = if items.len() <= 2 * SIDEBAR_WINDOW + 1 {
        (0, items.len())
    } else {
        let at = items.iter().position(|c| ctx.open.contains(c)).unwrap_or(0);
        let from = at.saturating_sub(SIDEBAR_WINDOW);
        let to = (from + 2 * SIDEBAR_WINDOW + 1).min(items.len());
        (to.saturating_sub(2 * SIDEBAR_WINDOW + 1), to)
    };
    let more = |html: &mut String, count: usize| {
        if count == 0 {
            return;
        }
        let url = match more_target {
            Some(section) => ctx.site.pages[section].url.as_str(),
            None => "index.html",
        };
        html.push_str("<li class=\"nav-more\"><a href=\"");
        ctx.href(html, url);
        let _ = write!(
            html,
            "\">{}</a></li>",
            ctx.more_label.replace("{n}", &count.to_string())
        );
    };
    more(html, from);
    for &item in &items[from..to] {
        sidebar_item(ctx, item, html);
    }
    more(html, items.len() - to);
}

struct SidebarCtx<'a> {
    site: &'a Site,
    open: &'a [usize],
    current: Option<usize>,
    prefix: &'a str,
    from_dir: &'a str,
    absolute: bool,
    more_label: &'a str,
}

impl SidebarCtx<'_> {
    /// `href` of a page from the current one: just the file name within the same folder.
    fn href(&self, html: &mut String, url: &str) {
        match url.strip_prefix(self.from_dir) {
            Some(rest) if !self.absolute && (!self.from_dir.is_empty() || !url.contains('/')) => {
                push_escaped(html, &encode_href(rest));
            }
            _ => {
                push_escaped(html, self.prefix);
                push_escaped(html, &encode_href(url));
            }
        }
    }
}

fn sidebar_item(ctx: &SidebarCtx<'_>, i: usize, html: &mut String) {
    let item = &ctx.site.nav.items[i];
    match item.kind {
        NavKind::Separator => {
            html.push_str("<li class=\"nav-separator\" role=\"separator\"></li>");
            return;
        }
        NavKind::Part => {
            html.push_str("<li class=\"nav-part\">");
            push_escaped(html, &item.title);
            html.push_str("</li>");
            return;
        }
        NavKind::Chapter => {}
    }
    let is_open = ctx.open.contains(&i);
    let has_children = !item.children.is_empty();
    html.push_str(match (has_children, is_open) {
        (true, true) => "<li class=\"has-children open\">",
        (true, false) => "<li class=\"has-children\">",
        _ => "<li>",
    });
    let number = item
        .number
        .as_deref()
        .map(|n| format!("<span class=\"nav-number\">{n}</span> "));
    match item.page {
        Some(p) => {
            let target = &ctx.site.pages[p];
            html.push_str("<a href=\"");
            ctx.href(html, &target.url);
            html.push('"');
            if Some(p) == ctx.current {
                html.push_str(" aria-current=\"page\"");
            }
            html.push('>');
            if let Some(n) = &number {
                html.push_str(n);
            }
            push_escaped(html, &item.title);
            if target.kind == Kind::Troubleshooting
                && target.front.severity == Some(crate::content::Urgency::Urgent)
            {
                html.push_str(" <span class=\"badge badge-urgent\"><span aria-hidden=\"true\">!</span><span class=\"visually-hidden\">(");
                push_escaped(html, target.locale.get("severity_urgent"));
                html.push_str(")</span></span>");
            }
            html.push_str("</a>");
        }
        None => {
            html.push_str("<span class=\"nav-draft\">");
            if let Some(n) = &number {
                html.push_str(n);
            }
            push_escaped(html, &item.title);
            html.push_str("</span>");
        }
    }
    if has_children && is_open {
        html.push_str("<ul>");
        sidebar_list(ctx, &item.children, item.page, html);
        html.push_str("</ul>");
    }
    html.push_str("</li>");
}

/// `sitemap.xml`: absolute URLs when `build.base-url` is set, root-relative paths otherwise.
fn sitemap(site: &Site) -> String {
    let base = site
        .config
        .build
        .base_url
        .as_deref()
        .map(|b| {
            if b.ends_with('/') {
                b.to_string()
            } else {
                format!("{b}/")
            }
        })
        .unwrap_or_else(|| "/".to_string());
    let mut xml = String::with_capacity(site.pages.len() * 96 + 128);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let mut pages: Vec<&Page> = site.pages.iter().filter(|p| !p.front.draft).collect();
    pages.sort_by(|a, b| a.url.cmp(&b.url));
    for page in pages {
        xml.push_str("  <url><loc>");
        push_escaped(&mut xml, &base);
        push_escaped(&mut xml, &encode_href(&page.url));
        xml.push_str("</loc>");
        if let Some(d) = page.front.updated {
            let _ = write!(xml, "<lastmod>{}</lastmod>", String::from(d));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}
