//! Triage trees as pages: every question and every fix of a tree becomes a real page with plain
//! links, so a tree works with JavaScript off and every step can be bookmarked.
//!
//! URLs: the first question at `triage/<tree>/index.html`, the others at
//! `triage/<tree>/<node>.html`, and the fix an answer leads to at
//! `triage/<tree>/<node>/<option>.html`. A fix page shows the fix itself (the answer, or the
//! guide's summary and first steps with a link to the whole guide), asks "Did this fix it?" and
//! offers the next most likely fix and the escalation form.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::{FrontMatter, Kind, Link, Page, Site, encode_href, resolve_link, root_prefix};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::i18n::Locale;
use crate::markdown::{self, Highlighter, MappedText, Section, escape_html};
use crate::triage::{self, Goal, Tree, fix_url, node_url};

/// What a triage page shows, with every link relative to the page.
#[derive(Debug, Clone, Serialize)]
pub struct TriageStep {
    /// The tree's id.
    pub tree: String,
    /// The tree's title.
    pub tree_title: String,
    /// This step: a node id, or `node/option` for a fix.
    pub step: String,
    /// The first question's page.
    pub start_url: String,
    /// The question (question pages).
    pub question: Option<String>,
    /// Its help, as HTML.
    pub help: Option<String>,
    /// The answers (question pages).
    pub options: Vec<OptionView>,
    /// The answers given to get here, first first.
    pub trail: Vec<TrailView>,
    /// The previous question's page.
    pub back_url: Option<String>,
    /// The fix (fix pages).
    pub fix: Option<FixView>,
    /// Other fixes for the same answer, most likely first (fix pages).
    pub next_fixes: Vec<OptionView>,
    /// The answers as step ids (`who/only-me,what/sound`), for events and tickets.
    pub path: String,
    /// The answers as text, one `question: answer` per line, to pre-fill a ticket.
    pub path_text: String,
    /// The highest severity among the answers, if any.
    pub severity: Option<&'static str>,
}

/// An answer, as a link.
#[derive(Debug, Clone, Serialize)]
pub struct OptionView {
    /// The answer as the reader reads it.
    pub label: String,
    /// Where it leads.
    pub url: String,
    /// `node/option`.
    pub step: String,
    /// Whether it leads to a fix rather than another question.
    pub fix: bool,
    /// Its severity.
    pub severity: Option<&'static str>,
}

/// One answer given on the way to a page.
#[derive(Debug, Clone, Serialize)]
pub struct TrailView {
    /// The question.
    pub question: String,
    /// The answer given.
    pub answer: String,
    /// The question's page.
    pub url: String,
}

/// The fix a fix page shows.
#[derive(Debug, Clone, Serialize)]
pub struct FixView {
    /// Heading of the fix: the guide's title, or the answer's label.
    pub title: String,
    /// The guide's description.
    pub description: Option<String>,
    /// The answer, or the guide's first steps, as HTML.
    pub html: String,
    /// The guide (at its anchor), for a `page` fix.
    pub url: Option<String>,
    /// The guide's title, for a `page` fix.
    pub page_title: Option<String>,
}

/// A tree as the home page and the server list it.
#[derive(Debug, Clone, Serialize)]
pub struct TreeSummary {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// Its language tag.
    pub lang: String,
    /// Its first question's page, relative to the site root.
    pub url: String,
    /// Its first question.
    pub question: String,
    /// Order on the home page.
    pub weight: i64,
}

/// Reads every tree file. Trees that could not be read are left out; their errors are returned.
pub(crate) fn load(config: &Config, files: &[String]) -> (Vec<Tree>, Vec<Diagnostic>) {
    let mut trees = Vec::new();
    let mut diags = Vec::new();
    for rel in files {
        let shown = super::src_display(config, rel);
        let text = match super::read_text(&config.src_dir.join(rel)) {
            Ok(t) => t,
            Err(d) => {
                diags.push(d.in_file(&shown));
                continue;
            }
        };
        let (tree, problems) = triage::parse(Arc::from(text), rel, &shown);
        diags.extend(problems);
        trees.extend(tree);
    }
    (trees, diags)
}

/// The site's Markdown pages by source path: what trees lead to.
pub(crate) type BySource<'a> = HashMap<&'a str, &'a Page>;

/// Pages and headings of the site, for [`triage::check_targets`].
struct SitePages<'a, 'b>(&'b BySource<'a>);

impl triage::Pages for SitePages<'_, '_> {
    fn headings(&self, source: &str) -> Option<Vec<String>> {
        self.0
            .get(source)
            .map(|p| p.headings.iter().map(|h| h.id.clone()).collect())
    }

    fn suggest(&self, source: &str) -> String {
        super::suggest_page(source, self.0, "")
    }
}

/// Checks the trees against the site's pages.
pub(crate) fn check(config: &Config, trees: &[Tree], pages: &BySource<'_>) -> Vec<Diagnostic> {
    triage::check_targets(trees, &SitePages(pages), &|s| super::src_display(config, s))
}

/// The start page of a tree (listed in navigation and indexed by search), and the pages of its
/// other questions and of its fixes; no start page when the start node does not exist (an
/// error already). `pages` are the site's Markdown pages.
pub(crate) fn pages(
    config: &Config,
    tree: &Tree,
    pages: &BySource<'_>,
) -> (Option<Page>, Vec<Page>) {
    let lang = tree
        .lang
        .clone()
        .unwrap_or_else(|| config.book.language.clone());
    let parents = tree.parents();
    let maker = Maker {
        tree,
        lang: &lang,
        locale: Locale::from_tag(&lang),
        by_source: pages,
    };

    let mut start = None;
    let mut rest = Vec::new();
    for node in &tree.nodes {
        // Unreachable nodes are errors already; they get no page.
        if !parents.contains_key(node.id.as_str()) {
            continue;
        }
        let url = node_url(tree, &node.id);
        let prefix = root_prefix(&url);
        let trail = tree.trail_in(&parents, &node.id);
        let mut links = Vec::new();
        let mut step = maker.step(node.id.clone(), &trail, &prefix);
        step.question = Some(node.question.clone());
        step.help = node
            .help
            .as_ref()
            .map(|h| maker.markdown(h, &prefix, &mut links));
        step.options = node
            .options
            .iter()
            .map(|c| maker.option_view(&node.id, c, &prefix))
            .collect();
        let mut page = maker.page(&url, node.question.clone(), step, links);
        if node.id == tree.start {
            // Lists and search results name the tree; the page's heading is its question.
            page.title = tree.title.clone();
            page.description = tree.description.clone();
            page.sections = search_sections(tree);
            page.front.symptoms = tree.symptoms.clone();
            page.words = page
                .sections
                .iter()
                .map(|s| s.text.split_whitespace().count())
                .sum();
            start = Some(page);
        } else {
            rest.push(page);
        }

        // The fixes this question's answers lead to.
        for (i, choice) in node.options.iter().enumerate() {
            let url = fix_url(tree, &node.id, &choice.id);
            let prefix = root_prefix(&url);
            let mut links = Vec::new();
            let fix = match &choice.goal {
                Goal::Answer(answer) => FixView {
                    title: choice.label.clone(),
                    description: None,
                    html: maker.markdown(answer, &prefix, &mut links),
                    url: None,
                    page_title: None,
                },
                Goal::Page { source, anchor, .. } => match pages.get(source.as_str()) {
                    Some(target) => {
                        let mut href = format!("{prefix}{}", encode_href(&target.url));
                        if let Some(a) = anchor {
                            href.push('#');
                            href.push_str(a);
                        }
                        FixView {
                            title: target.title.clone(),
                            description: target.description.clone(),
                            html: first_steps(target, anchor.as_deref(), &url),
                            url: Some(href),
                            page_title: Some(target.title.clone()),
                        }
                    }
                    // Reported by the target check.
                    None => continue,
                },
                Goal::Next { .. } => continue,
            };
            let mut trail = trail.clone();
            trail.push((node, i));
            let mut step = maker.step(format!("{}/{}", node.id, choice.id), &trail, &prefix);
            // The other fixes of the question, in the writer's order from this one on.
            step.next_fixes = node
                .options
                .iter()
                .skip(i + 1)
                .chain(node.options.iter().take(i))
                .filter(|c| c.goal.is_fix())
                .map(|c| maker.option_view(&node.id, c, &prefix))
                .collect();
            let (title, description) = (fix.title.clone(), fix.description.clone());
            step.fix = Some(fix);
            let mut page = maker.page(&url, title, step, links);
            page.description = description;
            rest.push(page);
        }
    }
    (start, rest)
}

/// Builds the pages of one tree.
struct Maker<'a> {
    tree: &'a Tree,
    lang: &'a str,
    locale: Locale,
    by_source: &'a BySource<'a>,
}

impl Maker<'_> {
    fn page(&self, url: &str, title: String, step: TriageStep, links: Vec<Link>) -> Page {
        let front = FrontMatter {
            audience: self.tree.audience,
            lang: self.tree.lang.clone(),
            ..FrontMatter::default()
        };
        Page {
            id: 0,
            source: self.tree.source.clone(),
            url: url.to_string(),
            dir: triage::TREE_DIR.to_string(),
            is_index: false,
            generated: false,
            front,
            title,
            description: None,
            kind: Kind::Triage,
            lang: self.lang.to_string(),
            locale: self.locale,
            html: String::new(),
            headings: Vec::new(),
            sections: Vec::new(),
            h1_id: None,
            words: 0,
            links,
            text: self.tree.text.clone(),
            triage: Some(Box::new(step)),
            unexpanded: None,
            includes: Vec::new(),
            images: Vec::new(),
            web_links: Vec::new(),
        }
    }

    /// What every step shows: the tree, the way back, the answers given to get there (`trail`),
    /// with links relative to `prefix`.
    fn step(&self, id: String, trail: &[(&triage::Node, usize)], prefix: &str) -> TriageStep {
        let tree = self.tree;
        let href = |node: &str| format!("{prefix}{}", encode_href(&node_url(tree, node)));
        TriageStep {
            tree: tree.id.clone(),
            tree_title: tree.title.clone(),
            step: id,
            start_url: href(&tree.start),
            question: None,
            help: None,
            options: Vec::new(),
            back_url: trail.last().map(|(n, _)| href(&n.id)),
            trail: trail
                .iter()
                .map(|(node, i)| TrailView {
                    question: node.question.clone(),
                    answer: node.options[*i].label.clone(),
                    url: href(&node.id),
                })
                .collect(),
            fix: None,
            next_fixes: Vec::new(),
            path: path_ids(trail),
            path_text: path_text(trail),
            severity: max_severity(trail),
        }
    }

    /// Markdown of a tree (help, answer) as HTML for a page at `prefix` from the root, its
    /// links added to `links`. Links are relative to the content folder, like `page:`.
    fn markdown(&self, text: &triage::Located, prefix: &str, links: &mut Vec<Link>) -> String {
        let locale = self.locale;
        let alert_title = |k: &str| locale.alert_title(k);
        let opts = super::render_options(locale, &alert_title);
        let mapped = MappedText::new(text.text.clone(), text.line as u32);
        let rendered = markdown::render(
            &mapped,
            &opts,
            Highlighter::global(),
            &mut |dest, kind, line| {
                let (target, href) = resolve_link(dest, kind, "", prefix)?;
                links.push(Link {
                    line,
                    dest: dest.to_string(),
                    target,
                });
                href
            },
        );
        rendered.html
    }

    fn option_view(&self, node: &str, choice: &triage::Choice, prefix: &str) -> OptionView {
        let url = self.tree.option_url(node, choice);
        let severity = choice.severity.or_else(|| match &choice.goal {
            Goal::Page { source, .. } => self
                .by_source
                .get(source.as_str())
                .and_then(|p| p.front.severity),
            _ => None,
        });
        OptionView {
            label: choice.label.clone(),
            url: format!("{prefix}{}", encode_href(&url)),
            step: format!("{node}/{}", choice.id),
            fix: choice.goal.is_fix(),
            severity: severity.map(|s| s.as_str()),
        }
    }
}

fn path_ids(trail: &[(&triage::Node, usize)]) -> String {
    trail
        .iter()
        .map(|(n, i)| format!("{}/{}", n.id, n.options[*i].id))
        .collect::<Vec<_>>()
        .join(",")
}

fn path_text(trail: &[(&triage::Node, usize)]) -> String {
    trail
        .iter()
        .map(|(n, i)| format!("{} {}", n.question, n.options[*i].label))
        .collect::<Vec<_>>()
        .join("\n")
}

fn max_severity(trail: &[(&triage::Node, usize)]) -> Option<&'static str> {
    trail
        .iter()
        .filter_map(|(n, i)| n.options[*i].severity)
        .min()
        .map(|s| s.as_str())
}

/// What search finds a tree by: its questions, their help and their answers, all on the start
/// page (a search for "no sound" lands on the tree's first question, not in its middle). The
/// first question is the title the index gives the tree, so its section has no heading.
fn search_sections(tree: &Tree) -> Vec<Section> {
    tree.nodes
        .iter()
        .map(|node| {
            let mut text = String::new();
            if let Some(help) = &node.help {
                text.push_str(&plain(&help.text));
                text.push('\n');
            }
            let labels: Vec<&str> = node.options.iter().map(|c| c.label.as_str()).collect();
            text.push_str(&labels.join(" · "));
            text.push('\n');
            for choice in &node.options {
                if let Goal::Answer(a) = &choice.goal {
                    text.push_str(&plain(&a.text));
                    text.push('\n');
                }
            }
            Section {
                anchor: None,
                heading: if node.id == tree.start {
                    String::new()
                } else {
                    node.question.clone()
                },
                text,
                code: String::new(),
            }
        })
        .collect()
}

/// Markdown as the words a reader sees: emphasis and code marks dropped, a link as its text.
fn plain(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i]);
        rest = &rest[i + 2..];
        rest = rest.find(')').map_or("", |e| &rest[e + 1..]);
    }
    out.push_str(rest);
    out.replace(['*', '`', '['], "").replace("\n", " ")
}

/// The first steps of a guide for a fix page at `to_url`: the section at `anchor` (up to the
/// next heading of its level), or the page's first numbered list. Links in it are rewritten to
/// work from the fix page.
pub(crate) fn first_steps(page: &Page, anchor: Option<&str>, to_url: &str) -> String {
    let html = &page.html;
    let part = match anchor {
        Some(a) => {
            let marker = format!("id=\"{a}\"");
            html.find(&marker).and_then(|at| {
                let open = html[..at].rfind("<h")?;
                let level = html.as_bytes().get(open + 2).copied()?;
                let close = format!("</h{}>", level as char);
                let body = at + html[at..].find(&close)? + close.len();
                let end = (b'1'..=level)
                    .filter_map(|l| html[body..].find(&format!("<h{}", l as char)))
                    .min()
                    .map_or(html.len(), |e| body + e);
                Some(&html[body..end])
            })
        }
        None => html.find("<ol").and_then(|start| {
            let end = matching_close(&html[start..], "ol")?;
            Some(&html[start..start + end])
        }),
    };
    match part {
        Some(part) => rebase_links(part.trim(), &page.url, to_url),
        None => String::new(),
    }
}

/// Length of `html` up to and including the tag closing its first `<tag`, counting nesting.
fn matching_close(html: &str, tag: &str) -> Option<usize> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut depth = 0usize;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if rest.starts_with(&close) {
            depth = depth.checked_sub(1)?;
            i += close.len();
            if depth == 0 {
                return Some(i);
            }
        } else if rest.starts_with(&open) {
            depth += 1;
            i += open.len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// Rewrites the relative `href` and `src` values of HTML written for the page at `from_url` so
/// they work on the page at `to_url` (both relative to the site root).
fn rebase_links(html: &str, from_url: &str, to_url: &str) -> String {
    let from_dir = from_url.rfind('/').map_or("", |i| &from_url[..i]);
    let to_prefix = root_prefix(to_url);
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    loop {
        let next = ["href=\"", "src=\""]
            .iter()
            .filter_map(|a| rest.find(a).map(|i| (i, a.len())))
            .min();
        let Some((at, len)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        let end = rest.find('"').unwrap_or(rest.len());
        let value = &rest[..end];
        if let Some(anchor) = value.strip_prefix('#') {
            out.push_str(&to_prefix);
            out.push_str(&encode_href(from_url));
            out.push('#');
            out.push_str(anchor);
        } else if value.starts_with('/') || super::has_scheme(value) || value.is_empty() {
            out.push_str(value);
        } else {
            let joined = if from_dir.is_empty() {
                value.to_string()
            } else {
                format!("{from_dir}/{value}")
            };
            match super::normalize_path(&joined) {
                Some(path) => {
                    out.push_str(&to_prefix);
                    out.push_str(&path);
                }
                None => out.push_str(value),
            }
        }
        rest = &rest[end..];
    }
    out
}

/// The box a page embeds with `{{#triage id}}`: the tree's first question and its answers,
/// linked to the tree's pages, for a page at `page_url`.
pub(crate) fn embed_html(tree: &Tree, page_url: &str, locale: Locale) -> String {
    let prefix = root_prefix(page_url);
    let node = tree.start_node();
    let mut html = String::new();
    html.push_str(&format!(
        "<section class=\"triage-embed\" aria-labelledby=\"triage-embed-{id}\">\n<p class=\"triage-embed-tree\"><a href=\"{prefix}{url}\">{title}</a></p>\n<h2 class=\"triage-question\" id=\"triage-embed-{id}\">{question}</h2>\n<ul class=\"triage-options\">\n",
        id = escape_html(&tree.id),
        url = encode_href(&node_url(tree, &tree.start)),
        title = escape_html(&tree.title),
        question = escape_html(&node.question),
    ));
    for choice in &node.options {
        let url = tree.option_url(&node.id, choice);
        html.push_str(&format!(
            "<li><a class=\"triage-option\" href=\"{prefix}{}\" data-step=\"{}/{}\">{}</a></li>\n",
            encode_href(&url),
            escape_html(&node.id),
            escape_html(&choice.id),
            escape_html(&choice.label)
        ));
    }
    html.push_str(&format!(
        "</ul>\n<p class=\"triage-embed-note\">{}</p>\n</section>\n",
        escape_html(locale.get("triage_embed_note"))
    ));
    html
}

/// How the placeholder of an embedded tree starts.
pub(crate) const EMBED_MARK: &str = "<!--helpbook:triage ";

/// The placeholder `{{#triage id}}` leaves in a page's HTML until the trees are read.
pub(crate) fn placeholder(id: &str) -> String {
    format!("{EMBED_MARK}{id}-->")
}

/// Replaces the embed placeholders of every page with the tree's box; an unknown tree is an
/// error at the line of the directive.
pub(crate) fn expand_embeds(site: &mut Site, trees: &[Tree]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let by_id: HashMap<&str, &Tree> = trees.iter().map(|t| (t.id.as_str(), t)).collect();
    let config = &site.config;
    for page in &mut site.pages {
        let Some(unexpanded) = page
            .unexpanded
            .as_deref()
            .filter(|_| page.kind != Kind::Triage)
        else {
            continue;
        };
        let mut html = String::with_capacity(unexpanded.len() + 1024);
        let mut rest = unexpanded;
        while let Some(at) = rest.find(EMBED_MARK) {
            html.push_str(&rest[..at]);
            let after = &rest[at + EMBED_MARK.len()..];
            let Some(end) = after.find("-->") else {
                rest = &rest[at..];
                break;
            };
            let id = after[..end].trim();
            match by_id.get(id) {
                Some(tree) => html.push_str(&embed_html(tree, &page.url, page.locale)),
                None => {
                    let (line, column) = page
                        .text
                        .lines()
                        .enumerate()
                        .find_map(|(i, l)| {
                            l.find("{{#triage")
                                .filter(|_| l.contains(id))
                                .map(|c| (i + 1, l[..c].chars().count() + 1))
                        })
                        .unwrap_or((1, 1));
                    let mut known: Vec<&str> = by_id.keys().copied().collect();
                    known.sort_unstable();
                    diags.push(
                        Diagnostic::error(format!(
                            "`{{{{#triage {id}}}}}`: no tree has the id `{id}`"
                        ))
                        .in_file(super::src_display(config, &page.source))
                        .at(line, column)
                        .with_source(page.text.clone())
                        .help(if known.is_empty() {
                            "the site has no trees: add one under content/triage/".to_string()
                        } else {
                            format!("trees of this site: {}", known.join(", "))
                        }),
                    );
                }
            }
            rest = &after[end + 3..];
        }
        html.push_str(rest);
        page.html = html;
    }
    diags
}

/// The trees, for the home page, in home-page order.
pub(crate) fn summaries(config: &Config, trees: &[Tree]) -> Vec<TreeSummary> {
    let mut out: Vec<TreeSummary> = trees
        .iter()
        .map(|t| TreeSummary {
            id: t.id.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            lang: t
                .lang
                .clone()
                .unwrap_or_else(|| config.book.language.clone()),
            url: node_url(t, &t.start),
            question: t.start_node().question.clone(),
            weight: t.weight,
        })
        .collect();
    out.sort_by(|a, b| (a.weight, &a.title).cmp(&(b.weight, &b.title)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rebased_to_the_fix_page() {
        let html = r##"<ol><li>See <a href="other.html#x">x</a>, <a href="#mic">mic</a>, <a href="../api/rooms.html">rooms</a>, <a href="https://a.example/">a</a> <img src="img/p.png"></li></ol>"##;
        let out = rebase_links(html, "troubleshooting/audio.html", "triage/t/who/me.html");
        assert_eq!(
            out,
            r##"<ol><li>See <a href="../../../troubleshooting/other.html#x">x</a>, <a href="../../../troubleshooting/audio.html#mic">mic</a>, <a href="../../../api/rooms.html">rooms</a>, <a href="https://a.example/">a</a> <img src="../../../troubleshooting/img/p.png"></li></ol>"##
        );
    }

    #[test]
    fn search_text_is_what_a_reader_sees() {
        assert_eq!(
            plain("Click **Mic**, see [the guide](a.md#x) or `F5`.\nThen go."),
            "Click Mic, see the guide or F5. Then go."
        );
    }

    #[test]
    fn matching_close_counts_nesting() {
        let html = "<ol><li>a<ol><li>b</li></ol></li></ol><p>after</p>";
        assert_eq!(matching_close(html, "ol"), Some(html.find("<p>").unwrap()));
    }
}
