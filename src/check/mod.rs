//! `helpbook check`: content quality a writer can trust, without writing anything.
//!
//! A help center rots quietly: links break, pages end up where no reader can reach them, guides
//! go stale, and fix guides for teachers fill up with words a teacher in a live class cannot act
//! on. `check` runs everything `build` validates (configuration, theme, front matter, links,
//! includes, trees, templates), then the rules of this module, and reports every finding in one
//! run with its file, line and a suggested fix.
//!
//! Each rule has a name (`orphan-page`, `jargon`…) and a level set in `[check.rules]` of
//! book.toml: `error` fails the check, `warn` reports, `off` skips the rule. Rules find
//! problems as errors; [`apply_levels`] lowers them to what the site asked for.

mod external;
mod plain;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::config::{CheckRules, Config, Rule, RuleLevel};
use crate::content::{self, Date, Glossary, Page, Site, Target};
use crate::diagnostic::{Diagnostic, Severity, display_path, line_col};
use crate::i18n::Locale;
use crate::render::{self, Theme};
use crate::search::{self, IndexBuilder, SearchIndex};

use external::{ExternalLink, ExternalOptions};

/// Where `--external` keeps the answers of other sites between runs, under the site root.
pub const LINK_CACHE: &str = ".helpbook/link-cache.json";

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The site root (holding `book.toml`).
    pub root: PathBuf,
    /// Environment variables for `HELPBOOK_<SECTION>__<KEY>` overrides.
    pub env: Vec<(String, String)>,
    /// Also request every link to another site.
    pub external: bool,
    /// The date stale pages are measured from (default: today).
    pub today: Option<Date>,
}

impl CheckOptions {
    /// Checking the site at `root` with the process environment.
    pub fn new(root: impl AsRef<Path>) -> Self {
        CheckOptions {
            root: root.as_ref().to_path_buf(),
            env: std::env::vars().collect(),
            external: false,
            today: None,
        }
    }
}

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every finding, sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
    /// Pages checked.
    pub pages: usize,
    /// Search tests (passed, run), when the site has some.
    pub search_tests: Option<(usize, usize)>,
    /// External links, with `--external`.
    pub external: Option<ExternalSummary>,
    /// Wall time.
    pub elapsed: Duration,
}

/// What `--external` did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ExternalSummary {
    /// Distinct addresses.
    pub urls: usize,
    /// Requested in this run.
    pub requested: usize,
    /// Answered from the cache of earlier runs.
    pub from_cache: usize,
    /// Found broken.
    pub broken: usize,
}

impl CheckReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        crate::diagnostic::count(&self.diagnostics, Severity::Error)
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        crate::diagnostic::count(&self.diagnostics, Severity::Warning)
    }

    /// Whether the check fails: errors, or with `strict` warnings too.
    pub fn failed(&self, strict: bool) -> bool {
        self.errors() > 0 || (strict && self.warnings() > 0)
    }

    /// The report as JSON, for CI: counts and every finding with its place, rule and fix.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Finding<'a> {
            severity: &'static str,
            rule: Option<&'static str>,
            file: Option<String>,
            line: usize,
            column: usize,
            message: &'a str,
            help: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Json<'a> {
            errors: usize,
            warnings: usize,
            pages: usize,
            #[serde(skip_serializing_if = "Option::is_none")]
            search_tests: Option<SearchTests>,
            #[serde(skip_serializing_if = "Option::is_none")]
            external: Option<ExternalSummary>,
            findings: Vec<Finding<'a>>,
        }
        #[derive(Serialize)]
        struct SearchTests {
            passed: usize,
            run: usize,
        }
        let findings = self
            .diagnostics
            .iter()
            .filter(|d| d.severity != Severity::Note)
            .map(|d| Finding {
                severity: if d.is_error() { "error" } else { "warning" },
                rule: d.rule.map(Rule::name),
                file: d.path.as_deref().map(display_path),
                line: d.line,
                column: d.column,
                message: &d.message,
                help: d.help.as_deref(),
            })
            .collect();
        let json = Json {
            errors: self.errors(),
            warnings: self.warnings(),
            pages: self.pages,
            search_tests: self
                .search_tests
                .map(|(passed, run)| SearchTests { passed, run }),
            external: self.external,
            findings,
        };
        serde_json::to_string_pretty(&json).expect("the report serialises")
    }
}

/// Checks the site at `options.root`. Nothing is written but the cache of `--external`.
pub fn check(options: &CheckOptions) -> CheckReport {
    let start = Instant::now();
    let mut report = CheckReport::default();
    let finish = |mut report: CheckReport| {
        report.diagnostics.sort_by(|a, b| {
            (a.path.as_ref(), a.line, a.column).cmp(&(b.path.as_ref(), b.line, b.column))
        });
        report.elapsed = start.elapsed();
        report
    };
    let (config, notes) = match Config::load(&options.root, options.env.iter().cloned()) {
        Ok(c) => c,
        Err(errors) => {
            report.diagnostics = errors;
            return finish(report);
        }
    };
    report.diagnostics.extend(notes);
    let rules = config.check.rules.clone();
    let on = |rule: Rule| rules.level(rule) != RuleLevel::Off;

    let theme = Theme::load(&config.theme_dir);
    // The search tests need an index: one is built alongside the pages, in a folder of its own
    // that is removed afterwards, so the site's output is never touched.
    let scratch = Scratch::new();
    let indexer = if on(Rule::SearchTest)
        && config.search.enable
        && search::has_search_tests(&config.src_dir)
    {
        IndexBuilder::for_site(&config, &scratch.0)
            .map_err(|d| report.diagnostics.push(d))
            .ok()
    } else {
        None
    };
    let (site, loaded) = content::load_with(config, &|key, page| {
        if let Some(indexer) = &indexer {
            indexer.add_page(key, page);
        }
    });
    report.diagnostics.extend(loaded);
    report.pages = site.pages.iter().filter(|p| p.triage.is_none()).count();
    match &theme {
        Ok(theme) if !report.diagnostics.iter().any(Diagnostic::is_error) => {
            report
                .diagnostics
                .extend(render::render_check(&site, theme));
        }
        Ok(_) => {}
        Err(errors) => report.diagnostics.extend(errors.iter().cloned()),
    }

    let today = options.today.unwrap_or_else(Date::today);
    let mut found = Vec::new();
    found.extend(orphans(&site));
    found.extend(
        site.pages
            .iter()
            .filter_map(|p| missing_description(&site, p)),
    );
    found.extend(duplicate_titles(&site));
    found.extend(site.pages.iter().flat_map(|p| images_without_alt(&site, p)));
    found.extend(site.pages.iter().filter_map(|p| stale(&site, p, today)));
    found.extend(plain_language(&site));

    if let Some(indexer) = indexer {
        if report.diagnostics.iter().any(Diagnostic::is_error) {
            drop(indexer);
        } else {
            match indexer.finish().and_then(|stats| {
                SearchIndex::open(&stats.dir).map_err(|e| Diagnostic::error(e.to_string()))
            }) {
                Ok(index) => {
                    if let Some(tests) = search::run_search_tests(&site, &index) {
                        report.search_tests = Some((tests.passed(), tests.outcomes.len()));
                        found.extend(
                            tests
                                .diagnostics
                                .into_iter()
                                .map(|d| d.rule(Rule::SearchTest)),
                        );
                    }
                }
                Err(d) => report.diagnostics.push(d),
            }
        }
    }
    drop(scratch);

    if options.external && on(Rule::ExternalLink) {
        let (summary, diags) = external_links(&site);
        report.external = Some(summary);
        found.extend(diags);
    }
    report.diagnostics.extend(apply_levels(found, &rules));
    finish(report)
}

/// Sets each finding's severity to its rule's level, dropping those of rules turned off. A rule
/// at `error` keeps what it reported (some findings are only ever warnings).
pub fn apply_levels(found: Vec<Diagnostic>, rules: &CheckRules) -> Vec<Diagnostic> {
    found
        .into_iter()
        .filter_map(|d| match d.rule.map(|r| rules.level(r)) {
            Some(RuleLevel::Off) => None,
            Some(RuleLevel::Warn) if d.severity == Severity::Error => Some(d.downgrade()),
            _ => Some(d),
        })
        .collect()
}

/// A folder under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Scratch(std::env::temp_dir().join(format!("helpbook-check-{}-{nanos}", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A page the writer wrote (not a folder's generated page, the glossary or a tree step).
fn written(page: &Page) -> bool {
    !page.generated && page.triage.is_none()
}

fn shown(site: &Site, page: &Page) -> String {
    content::src_display(&site.config, &page.source)
}

/// A finding of `rule` in `page`, at `line` (with the page's text for the snippet).
fn finding(site: &Site, page: &Page, rule: Rule, message: String) -> Diagnostic {
    Diagnostic::error(message)
        .in_file(shown(site, page))
        .with_source(page.text.clone())
        .rule(rule)
}

/// Line of a front-matter key of `page`, when it is written there.
fn key_line(page: &Page, key: &str) -> Option<usize> {
    let split = content::split_front_matter(&page.text).ok()?;
    content::key_line(&split, key)
}

/// Pages no reader can reach: not in navigation and not linked from any other page. With a
/// `SUMMARY.md` that is also a file it does not list, which is then not built at all.
fn orphans(site: &Site) -> Vec<Diagnostic> {
    let mut reached: HashSet<&str> = HashSet::new();
    let mut linked_urls: HashSet<&str> = HashSet::new();
    for page in &site.pages {
        for link in &page.links {
            match &link.target {
                Target::Page { source, .. } if *source != page.source => {
                    reached.insert(source);
                }
                Target::Output { url, .. } => {
                    linked_urls.insert(url.as_str());
                }
                _ => {}
            }
        }
        if let Some(fix) = page.triage.as_ref().and_then(|t| t.fix.as_ref())
            && let Some(url) = fix.url.as_deref()
        {
            let url = url.split('#').next().unwrap_or(url);
            // Relative to the step's page, which lies under triage/<tree>/….
            let depth = page.url.matches('/').count();
            let mut target = url;
            for _ in 0..depth {
                target = target.strip_prefix("../").unwrap_or(target);
            }
            linked_urls.insert(target);
        }
    }
    let in_nav: HashSet<usize> = site.nav.items.iter().filter_map(|i| i.page).collect();
    let included: HashSet<&Path> = site
        .pages
        .iter()
        .chain(&site.left_out)
        .flat_map(|p| p.includes.iter().map(PathBuf::as_path))
        .collect();
    let mut found = Vec::new();
    for page in site.pages.iter().filter(|p| written(p)) {
        let home = page.url == "index.html";
        let folder = page.url.strip_suffix("index.html");
        let linked = reached.contains(page.source.as_str())
            || linked_urls.contains(page.url.as_str())
            || folder.is_some_and(|f| linked_urls.contains(f));
        if home || in_nav.contains(&page.id) || linked {
            continue;
        }
        found.push(
            finding(
                site,
                page,
                Rule::OrphanPage,
                "page is neither in the navigation nor linked from another page, so readers can only find it by searching".into(),
            )
            .at(1, 1)
            .help("link to it from a related page, or add it to the navigation"),
        );
    }
    for rel in &site.unlisted {
        let path = site.config.src_dir.join(rel);
        let canonical = path.canonicalize().unwrap_or(path.clone());
        if included.contains(canonical.as_path()) || reached.contains(rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let draft = content::split_front_matter(&text)
            .ok()
            .and_then(|split| content::parse_front_matter(&split).ok())
            .is_some_and(|front| front.draft);
        if draft {
            continue;
        }
        found.push(
            Diagnostic::error(
                "page is not listed in SUMMARY.md and nothing links to it or includes it, so it is not built and readers can never reach it",
            )
            .in_file(content::src_display(&site.config, rel))
            .at(1, 1)
            .with_source(Arc::from(text))
            .rule(Rule::OrphanPage)
            .help(format!(
                "add it to SUMMARY.md (`- [Title]({rel})`), or mark it `draft: true` if it is a fragment for {{{{#include}}}}"
            )),
        );
    }
    found
}

/// A page without a `description`: search results and link previews show its first paragraph,
/// which rarely says what the page is for.
fn missing_description(site: &Site, page: &Page) -> Option<Diagnostic> {
    if !written(page) || page.front.description.is_some() {
        return None;
    }
    let line = key_line(page, "title").unwrap_or(1);
    let example = page
        .description
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or("One sentence saying what the page helps with.");
    let help = if page.text.starts_with("---") {
        format!(
            "add a sentence saying what the page helps with to its front matter (search results and link previews show it), e.g. `description: {example}`"
        )
    } else {
        format!(
            "start the file with front matter saying what the page helps with (search results and link previews show it):\n---\ndescription: {example}\n---"
        )
    };
    Some(
        finding(
            site,
            page,
            Rule::MissingDescription,
            "page has no `description`".into(),
        )
        .at(line, 1)
        .help(help),
    )
}

/// Pages with the same title (in one language): a reader choosing among search results or
/// sidebar entries cannot tell them apart.
fn duplicate_titles(site: &Site) -> Vec<Diagnostic> {
    let mut by_title: HashMap<(Locale, String), Vec<&Page>> = HashMap::new();
    for page in site.pages.iter().filter(|p| written(p)) {
        let key = (page.locale, page.title.trim().to_lowercase());
        by_title.entry(key).or_default().push(page);
    }
    let mut found = Vec::new();
    for pages in by_title.values().filter(|p| p.len() > 1) {
        for page in pages {
            let others: Vec<String> = pages
                .iter()
                .filter(|o| o.id != page.id)
                .map(|o| format!("`{}`", shown(site, o)))
                .collect();
            let line = key_line(page, "title")
                .or_else(|| {
                    page.h1_id.as_ref().and_then(|id| {
                        page.headings
                            .iter()
                            .find(|h| &h.id == id)
                            .map(|h| h.line as usize)
                    })
                })
                .unwrap_or(1);
            found.push(
                finding(
                    site,
                    page,
                    Rule::DuplicateTitle,
                    format!(
                        "the title “{}” is also the title of {}",
                        page.title,
                        others.join(" and ")
                    ),
                )
                .at(line, 1)
                .help("give each page a title that says how it differs, e.g. the symptom it fixes or who it is for"),
            );
        }
    }
    found
}

/// Images a screen reader cannot describe.
fn images_without_alt(site: &Site, page: &Page) -> Vec<Diagnostic> {
    page.images
        .iter()
        .filter(|image| match (&image.alt, image.html) {
            // `alt=""` in HTML marks a decorative image on purpose.
            (Some(_), true) => false,
            (Some(alt), false) => alt.trim().is_empty(),
            (None, _) => true,
        })
        .map(|image| {
            let column = content::column_of(&page.text, image.line, &image.dest);
            let help = if image.html {
                "add alt=\"…\" describing what the image shows; alt=\"\" marks a purely decorative image"
            } else {
                "describe what the image shows between the brackets: ![The toolbar, with the microphone button on the left](toolbar.png)"
            };
            finding(
                site,
                page,
                Rule::ImageAlt,
                format!("image `{}` has no alternative text", image.dest),
            )
            .at(image.line as usize, column)
            .help(help)
        })
        .collect()
}

/// A page whose `updated` date is older than `stale-after-days`.
fn stale(site: &Site, page: &Page, today: Date) -> Option<Diagnostic> {
    let updated = page.front.updated?;
    if !written(page) {
        return None;
    }
    let limit = site.config.check.stale_after_days;
    let age = today.days_since_epoch() - updated.days_since_epoch();
    if age <= i64::from(limit) {
        return None;
    }
    let line = key_line(page, "updated").unwrap_or(1);
    Some(
        finding(
            site,
            page,
            Rule::StalePage,
            format!(
                "last updated {} ({age} days ago; pages older than {limit} days are stale)",
                String::from(updated)
            ),
        )
        .at(line, 1)
        .help(format!(
            "check the page still matches the product, then set `updated: {}`; change the limit with `stale-after-days` under [check] in book.toml",
            String::from(today)
        )),
    )
}

/// The plain-language rules, on the pages of the audiences `[check] plain-language` names.
fn plain_language(site: &Site) -> Vec<Diagnostic> {
    let audiences = &site.config.check.plain_language;
    let plain_pages = site.pages.iter().filter(|p| {
        written(p)
            && p.front
                .audience
                .is_some_and(|a| audiences.iter().any(|n| n.eq_ignore_ascii_case(a.as_str())))
    });
    let mut found = Vec::new();
    for page in plain_pages {
        found.extend(plain_page(site, &site.glossary, page));
    }
    found
}

/// Whether the term ending at `end` of `text` (starting at `start`) is explained where it
/// stands: followed by a parenthesis, a dash or a colon, or itself in parentheses after the
/// explanation ("a relay server (TURN server)").
fn explained(text: &str, start: usize, end: usize) -> bool {
    let after = text[end..].trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '”' | '’' | '*' | '_')
    });
    let before = text[..start].trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '“' | '‘' | '*' | '_')
    });
    after.starts_with(['(', '（', '—', '–', ':', '：'])
        || after.starts_with("- ")
        || before.ends_with(['(', '（'])
}

fn plain_page(site: &Site, glossary: &Glossary, page: &Page) -> Vec<Diagnostic> {
    let Ok(split) = content::split_front_matter(&page.text) else {
        return Vec::new();
    };
    let body_start = page.text.len() - split.body.len();
    let place = |offset: usize| line_col(&page.text, body_start + offset);
    let check = &site.config.check;
    let chinese_page = content::is_chinese(&page.lang);
    let terms = glossary.terms(&page.lang);
    let mut met: HashSet<usize> = HashSet::new();
    let mut found = Vec::new();
    for block in plain::blocks(split.body) {
        if block.kind == plain::BlockKind::Heading {
            continue;
        }
        for range in plain::sentences(&block.text) {
            let length = plain::length(&block.text[range.clone()]);
            let (size, limit, unit) = if chinese_page {
                (
                    length.chinese + length.words,
                    check.sentence_chars,
                    "characters",
                )
            } else {
                (length.words, check.sentence_words, "words")
            };
            if size > limit {
                let (line, column) = place(block.source_offset(range.start));
                let help = if chinese_page {
                    "拆成几个短句：一句只说一件事（split it: one instruction or fact per sentence）"
                } else {
                    "split it: one instruction or fact per sentence"
                };
                found.push(
                    finding(
                        site,
                        page,
                        Rule::LongSentence,
                        format!(
                            "sentence of {size} {unit} (at most {limit} in plain-language pages)"
                        ),
                    )
                    .at(line, column)
                    .help(help),
                );
            }
        }
        for term in terms.find(&block.text) {
            if !met.insert(term.entry) {
                continue;
            }
            if explained(&block.text, term.range.start, term.range.end) {
                continue;
            }
            let entry = &glossary.entries[term.entry];
            let wording = entry.wording(&page.lang);
            let written_as = &block.text[term.range.clone()];
            let (line, column) = place(block.source_offset(term.range.start));
            let open = if chinese_page { "（" } else { " (" };
            let close = if chinese_page { "）" } else { ")" };
            let explain = format!(
                "“{written_as}{open}{}{close}”",
                lowercase_first(&wording.plain)
            );
            let help = match &wording.instead {
                Some(instead) => format!(
                    "say “{instead}” instead, or explain it where it is first used: {explain}"
                ),
                None => format!("explain it where it is first used: {explain}"),
            };
            found.push(
                finding(
                    site,
                    page,
                    Rule::Jargon,
                    format!("“{written_as}” is a technical term, used without explanation"),
                )
                .at(line, column)
                .help(help),
            );
        }
        if block.kind == plain::BlockKind::Step
            && let Some(passive) = plain::passive_step(&block.text)
        {
            let (line, column) = place(block.source_offset(passive.range.start));
            let words = &block.text[passive.range.clone()];
            let help = match &passive.rewrite {
                Some(rewrite) => format!("start with what to do: “{rewrite}”"),
                None if chinese_page => "直接说要做什么，例如“打开麦克风”，不要用“被”字句".into(),
                None => "start the step with what to do (“Select …”, “Turn on …”), not with the thing it is done to".into(),
            };
            found.push(
                finding(
                    site,
                    page,
                    Rule::PassiveStep,
                    format!("step written in the passive voice (“{words}”)"),
                )
                .at(line, column)
                .help(help),
            );
        }
    }
    found
}

/// "How much data" from "How much data": explanations read on after a term in a sentence.
fn lowercase_first(text: &str) -> String {
    let first_sentence = plain::sentences(text)
        .into_iter()
        .next()
        .map_or(text, |r| &text[r])
        .trim_end_matches(['.', '。']);
    let mut chars = first_sentence.chars();
    match chars.next() {
        // Keep acronyms ("VPN is…") and names as written.
        Some(c) if c.is_uppercase() && !chars.clone().next().is_some_and(char::is_uppercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        Some(c) => std::iter::once(c).chain(chars).collect(),
        None => String::new(),
    }
}

/// Requests every link to another site.
fn external_links(site: &Site) -> (ExternalSummary, Vec<Diagnostic>) {
    let check = &site.config.check;
    let links: Vec<ExternalLink> = site
        .pages
        .iter()
        .flat_map(|page| {
            page.web_links.iter().map(move |link| ExternalLink {
                url: link.url.clone(),
                file: shown(site, page),
                line: link.line as usize,
                column: content::column_of(&page.text, link.line, &link.url),
                source: Some(page.text.clone()),
            })
        })
        .collect();
    let options = ExternalOptions {
        concurrency: check.external_concurrency,
        host_delay: Duration::from_millis(check.external_host_delay),
        timeout: Duration::from_secs(check.external_timeout),
        cache_file: Some(site.config.root.join(LINK_CACHE)),
        cache_ttl: Duration::from_secs(check.external_cache_hours * 3600),
        skip: check.external_skip.clone(),
    };
    let report = external::check_external(&links, &options);
    let summary = ExternalSummary {
        urls: report.urls,
        requested: report.requested,
        from_cache: report.from_cache,
        broken: report.broken,
    };
    (summary, report.diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_followed_or_preceded_by_its_explanation_is_explained() {
        let t = "Lower the bitrate (how much data is sent) now.";
        let s = t.find("bitrate").unwrap();
        assert!(explained(t, s, s + 7));
        let t = "Use a relay server (TURN server) here.";
        let s = t.find("TURN").unwrap();
        assert!(explained(t, s, s + 11));
        let t = "Lower the bitrate now.";
        let s = t.find("bitrate").unwrap();
        assert!(!explained(t, s, s + 7));
        let t = "降低码率（每秒发送的数据量）。";
        let s = t.find("码率").unwrap();
        assert!(explained(t, s, s + "码率".len()));
    }

    #[test]
    fn explanations_read_on_in_a_sentence() {
        assert_eq!(
            lowercase_first("How much data is sent. More text."),
            "how much data is sent"
        );
        assert_eq!(
            lowercase_first("VPN software hides…"),
            "VPN software hides…"
        );
        assert_eq!(
            lowercase_first("每秒发送的数据量。更多"),
            "每秒发送的数据量"
        );
    }
}
