//! The event pass: pulldown-cmark events in, HTML and page facts out.

use std::collections::HashMap;

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};

use super::{Highlighter, MappedText, escape_html, is_cjk, push_escaped, slugify};

/// A heading of a page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// The `id` attribute (explicit `{#id}` or a slug of the text), unique in the page.
    pub id: String,
    /// Plain text of the heading.
    pub text: String,
    /// Line in the source file.
    pub line: u32,
    /// Step number, for numbered troubleshooting steps.
    pub step: Option<u32>,
}

/// The plain text under one heading: what search indexes, so a result opens at its anchor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// Anchor of the heading; `None` for the text before the first heading.
    pub anchor: Option<String>,
    /// Heading text ("" before the first heading).
    pub heading: String,
    /// Prose.
    pub text: String,
    /// Code, kept apart so it can weigh less than prose.
    pub code: String,
}

/// Whether a destination came from a link or an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `[text](dest)`.
    Link,
    /// `![alt](dest)`.
    Image,
}

/// An image of a page, for the alternative-text check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Line in the source file.
    pub line: u32,
    /// The source as written.
    pub dest: String,
    /// Its alternative text: `None` for an HTML `<img>` with no `alt` attribute at all,
    /// `Some("")` for an empty one.
    pub alt: Option<String>,
    /// Written in HTML: an empty `alt=""` there marks a decorative image on purpose.
    pub html: bool,
}

/// Finds glossary terms in text and writes their inline definitions.
pub trait TermMarker {
    /// Each term in `text`: its byte range and an id for [`TermMarker::mark`].
    fn find(&self, text: &str) -> Vec<(std::ops::Range<usize>, usize)>;
    /// Writes the HTML of term `entry`, written `text` on the page.
    fn mark(&self, entry: usize, text: &str, out: &mut String);
}

/// What rendering a page produced.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The page body as HTML.
    pub html: String,
    /// All headings, in order.
    pub headings: Vec<Heading>,
    /// Plain text by section.
    pub sections: Vec<Section>,
    /// The text of the first block when it is a level-1 heading (a page's own title). It is
    /// left out of [`Rendered::html`] (the template shows the title) but kept in
    /// [`Rendered::headings`], first, so its id still works as an anchor.
    pub leading_h1: Option<String>,
    /// Plain text of the first paragraph, for a description when front matter has none.
    pub first_paragraph: String,
    /// Number of words (CJK characters count one each).
    pub words: usize,
    /// Every image, Markdown and HTML.
    pub images: Vec<Image>,
}

/// Localised strings and switches for one page.
pub struct RenderOptions<'a> {
    /// Title of an alert or container kind (`note`, `tip`, …).
    pub alert_title: &'a dyn Fn(&str) -> String,
    /// "Step N" label; numbering is on when this is set.
    pub step_label: Option<&'a dyn Fn(u32) -> String>,
    /// Text of the copy button.
    pub copy_label: &'a str,
    /// What the copy button says once it copied.
    pub copied_label: &'a str,
    /// Accessible name of a scrollable table; `{n}` is its number on the page.
    pub table_label: &'a str,
    /// Accessible label of the heading self-links.
    pub anchor_label: &'a str,
    /// Glossary terms to define where the page first uses them.
    pub terms: Option<&'a dyn TermMarker>,
}

/// Headings that are not steps even in a numbered troubleshooting page.
fn is_step_heading(text: &str, classes: &[CowStr<'_>]) -> bool {
    if classes.iter().any(|c| c.as_ref() == "step") {
        return true;
    }
    if classes.iter().any(|c| c.as_ref() == "no-step") {
        return false;
    }
    // Already numbered by the writer ("1. Check the cable", "Step 2: …", "第 3 步"): no pill.
    let digits = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .count();
    if digits > 0 && text.trim_start()[digits..].starts_with(['.', ')', '、']) {
        return false;
    }
    let t = text.trim().to_lowercase();
    const NOT_STEPS: &[&str] = &[
        "quick fix",
        "step ",
        "第",
        "before you start",
        "before you begin",
        "still not working",
        "still stuck",
        "related",
        "see also",
        "why this happens",
        "what you'll need",
        "快速解决",
        "快速修复",
        "开始之前",
        "仍未解决",
        "还是不行",
        "相关",
        "为什么",
    ];
    !NOT_STEPS.iter().any(|p| t.starts_with(p))
}

/// Parser options: everything an author migrating from GitHub, mdBook or Docusaurus expects.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_DEFINITION_LIST
}

/// Renders `input`. `resolve(dest, kind, line)` sees every link and image destination and may
/// return a replacement (e.g. `page.md#a` -> `page.html#a`).
pub fn render(
    input: &MappedText,
    opts: &RenderOptions<'_>,
    highlighter: &Highlighter,
    resolve: &mut dyn FnMut(&str, LinkKind, u32) -> Option<String>,
) -> Rendered {
    let line_starts = input.line_starts();
    let line_at = |offset: usize| input.line_of(&line_starts, offset);

    let mut out = Rendered {
        sections: vec![Section::default()],
        ..Rendered::default()
    };
    let mut events: Vec<Event<'_>> = Vec::with_capacity(input.text.len() / 16);
    // The theme's own ids are taken: a heading "Content" becomes `content-1`.
    let mut ids: HashMap<String, u32> = super::RESERVED_IDS
        .iter()
        .map(|id| (id.to_string(), 0))
        .collect();
    let mut step = 0u32;
    let mut seen_block = false;
    let mut in_first_paragraph = false;
    let mut first_paragraph_done = false;

    // Buffered state of an open heading or code block.
    struct OpenHeading<'e> {
        level: HeadingLevel,
        id: Option<CowStr<'e>>,
        classes: Vec<CowStr<'e>>,
        line: u32,
        text: String,
        start: usize,
        first_block: bool,
    }
    let mut heading: Option<OpenHeading<'_>> = None;
    let mut code: Option<(String, String)> = None; // (lang, text)
    // Inside a link or an image (no term links in there), and the terms already defined.
    let mut no_terms = 0usize;
    // Tables are numbered in their scrolling regions' labels: landmarks need names of their own.
    let mut tables = 0usize;
    let mut defined: Vec<usize> = Vec::new();
    let mut image_alt: Option<String> = None;
    let mut html_block: Option<(String, u32)> = None;

    let parser = Parser::new_ext(&input.text, options()).into_offset_iter();
    for (event, range) in parser {
        if let Some((_, text)) = code.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let (lang, text) = code.take().expect("open code block");
                    let section = out.sections.last_mut().expect("one section");
                    section.code.push_str(&text);
                    section.code.push('\n');
                    let mut html = String::with_capacity(text.len() * 3);
                    html.push_str("<div class=\"code-block\"><pre><code");
                    if !lang.is_empty() {
                        html.push_str(" class=\"language-");
                        push_escaped(&mut html, &lang);
                        html.push('"');
                    }
                    html.push('>');
                    highlighter.highlight_into(&mut html, &text, &lang);
                    html.push_str(
                        "</code></pre><button class=\"copy-code\" type=\"button\" data-copied=\"",
                    );
                    push_escaped(&mut html, opts.copied_label);
                    html.push_str("\" hidden>");
                    push_escaped(&mut html, opts.copy_label);
                    html.push_str("</button></div>\n");
                    events.push(Event::Html(html.into()));
                }
                _ => {}
            }
            continue;
        }

        if let Some(h) = heading.as_mut() {
            match &event {
                Event::Text(t) | Event::Code(t) => h.text.push_str(t),
                Event::End(TagEnd::Heading(_)) => {
                    let h = heading.take().expect("open heading");
                    let text = h.text.trim().to_string();
                    let base = match &h.id {
                        Some(id) => id.to_string(),
                        None => {
                            let s = slugify(&text);
                            if s.is_empty() {
                                "section".to_string()
                            } else {
                                s
                            }
                        }
                    };
                    let id = unique_id(&mut ids, base);
                    let level = h.level as u8;
                    let step_no = match opts.step_label {
                        Some(_) if level == 2 && is_step_heading(&text, &h.classes) => {
                            step += 1;
                            Some(step)
                        }
                        _ => None,
                    };
                    let mut open = format!("<h{level} id=\"");
                    push_escaped(&mut open, &id);
                    open.push('"');
                    if !h.classes.is_empty() {
                        open.push_str(" class=\"");
                        let classes: Vec<&str> = h.classes.iter().map(|c| c.as_ref()).collect();
                        push_escaped(&mut open, &classes.join(" "));
                        open.push('"');
                    }
                    open.push('>');
                    if let (Some(n), Some(label)) = (step_no, opts.step_label) {
                        open.push_str("<span class=\"step-number\">");
                        push_escaped(&mut open, &label(n));
                        open.push_str("</span> ");
                    }
                    let inner: Vec<Event<'_>> = events.drain(h.start..).collect();
                    let leading = h.first_block && level == 1;
                    if leading {
                        // The page's own title: the template shows it (with this id), so it is
                        // left out of the body.
                        out.leading_h1 = Some(text.clone());
                        out.headings.push(Heading {
                            level,
                            id,
                            text,
                            line: h.line,
                            step: None,
                        });
                        continue;
                    }
                    events.push(Event::Html(open.into()));
                    events.extend(inner);
                    let mut close = String::from(" <a class=\"anchor\" href=\"#");
                    push_escaped(&mut close, &id);
                    close.push_str("\" aria-label=\"");
                    push_escaped(&mut close, &format!("{}: {}", opts.anchor_label, text));
                    close.push_str(&format!("\">#</a></h{level}>\n"));
                    events.push(Event::Html(close.into()));

                    out.sections.push(Section {
                        anchor: Some(id.clone()),
                        heading: text.clone(),
                        ..Section::default()
                    });
                    out.headings.push(Heading {
                        level,
                        id,
                        text,
                        line: h.line,
                        step: step_no,
                    });
                    continue;
                }
                _ => {}
            }
            // Inner events of the heading are kept, links inside included.
        }

        let is_block_start = matches!(
            &event,
            Event::Start(
                Tag::Paragraph
                    | Tag::Heading { .. }
                    | Tag::BlockQuote(_)
                    | Tag::CodeBlock(_)
                    | Tag::List(_)
                    | Tag::Table(_)
                    | Tag::HtmlBlock
                    | Tag::DefinitionList
                    | Tag::FootnoteDefinition(_)
            ) | Event::Rule
        );
        let first_block = is_block_start && !seen_block;
        if is_block_start && heading.is_none() {
            seen_block = true;
        }

        match event {
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs: _,
            }) => {
                heading = Some(OpenHeading {
                    level,
                    id,
                    classes,
                    line: line_at(range.start),
                    text: String::new(),
                    start: events.len(),
                    first_block,
                });
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',' || c == '{')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                no_terms += 1;
                let resolved = if link_type == pulldown_cmark::LinkType::Email {
                    None
                } else {
                    resolve(&dest_url, LinkKind::Link, line_at(range.start))
                };
                let dest_url = match resolved {
                    Some(new) => CowStr::from(new),
                    None => dest_url,
                };
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                no_terms += 1;
                image_alt = Some(String::new());
                out.images.push(Image {
                    line: line_at(range.start),
                    dest: dest_url.to_string(),
                    alt: None,
                    html: false,
                });
                let dest_url = match resolve(&dest_url, LinkKind::Image, line_at(range.start)) {
                    Some(new) => CowStr::from(new),
                    None => dest_url,
                };
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::BlockQuote(Some(kind))) => {
                let class = alert_class(kind);
                events.push(Event::Html(
                    format!(
                        "<div class=\"admonition {class}\" role=\"note\"><p class=\"admonition-title\">{}</p>\n",
                        escape_html(&(opts.alert_title)(class))
                    )
                    .into(),
                ));
            }
            Event::End(TagEnd::BlockQuote(Some(_))) => {
                events.push(Event::Html("</div>\n".into()));
            }
            Event::Start(Tag::Table(align)) => {
                // A definition would be clipped by the table's scrolling box.
                no_terms += 1;
                tables += 1;
                events.push(Event::Html(
                    format!(
                        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\">",
                        escape_html(&opts.table_label.replace("{n}", &tables.to_string()))
                    )
                    .into(),
                ));
                events.push(Event::Start(Tag::Table(align)));
            }
            Event::End(TagEnd::Table) => {
                no_terms = no_terms.saturating_sub(1);
                events.push(Event::End(TagEnd::Table));
                events.push(Event::Html("</div>\n".into()));
            }
            Event::Start(Tag::Paragraph) => {
                if !first_paragraph_done && heading.is_none() {
                    in_first_paragraph = true;
                }
                events.push(Event::Start(Tag::Paragraph));
            }
            Event::End(TagEnd::Paragraph) => {
                if in_first_paragraph {
                    in_first_paragraph = false;
                    first_paragraph_done = true;
                }
                out.sections
                    .last_mut()
                    .expect("one section")
                    .text
                    .push('\n');
                events.push(Event::End(TagEnd::Paragraph));
            }
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
                no_terms = no_terms.saturating_sub(1);
                if end == TagEnd::Image
                    && let (Some(alt), Some(image)) = (image_alt.take(), out.images.last_mut())
                {
                    image.alt = Some(alt);
                }
                events.push(Event::End(end));
            }
            Event::Text(t) => {
                add_text(&mut out, &t, in_first_paragraph, heading.is_some());
                if let Some(alt) = image_alt.as_mut() {
                    alt.push_str(&t);
                }
                match opts.terms {
                    Some(terms) if heading.is_none() && no_terms == 0 => {
                        mark_terms(&mut events, t, terms, &mut defined);
                    }
                    _ => events.push(Event::Text(t)),
                }
            }
            Event::Start(Tag::HtmlBlock) => {
                html_block = Some((String::new(), line_at(range.start)));
                events.push(Event::Start(Tag::HtmlBlock));
            }
            Event::End(TagEnd::HtmlBlock) => {
                if let Some((html, line)) = html_block.take() {
                    images_in_html(&html, line, &mut out.images);
                }
                events.push(Event::End(TagEnd::HtmlBlock));
            }
            Event::Html(ref html) | Event::InlineHtml(ref html) => {
                // A block's lines come one event each: its tags are read whole at its end.
                match html_block.as_mut() {
                    Some((block, _)) => block.push_str(html),
                    None => images_in_html(html, line_at(range.start), &mut out.images),
                }
                no_terms = no_terms.saturating_add_signed(no_terms_change(html));
                events.push(event);
            }
            Event::Code(t) => {
                add_text(&mut out, &t, in_first_paragraph, heading.is_some());
                events.push(Event::Code(t));
            }
            Event::SoftBreak | Event::HardBreak => {
                add_text(&mut out, " ", in_first_paragraph, heading.is_some());
                events.push(event);
            }
            Event::End(TagEnd::Item | TagEnd::TableCell | TagEnd::DefinitionListTitle) => {
                out.sections.last_mut().expect("one section").text.push(' ');
                events.push(event);
            }
            other => events.push(other),
        }
    }
    if let Some(h) = heading {
        // An unterminated heading cannot happen with pulldown-cmark, but never lose text.
        out.sections
            .last_mut()
            .expect("one section")
            .text
            .push_str(&h.text);
    }

    out.html.reserve(input.text.len() * 2);
    pulldown_cmark::html::push_html(&mut out.html, events.into_iter());
    if out.sections.len() > 1
        && out.sections[0].text.trim().is_empty()
        && out.sections[0].code.is_empty()
    {
        out.sections.remove(0);
    }
    out
}

/// Pushes `text`, with the first use of each term not yet defined on the page marked.
fn mark_terms<'e>(
    events: &mut Vec<Event<'e>>,
    text: CowStr<'e>,
    terms: &dyn TermMarker,
    defined: &mut Vec<usize>,
) {
    let mut found = terms.find(&text);
    found.retain(|(_, entry)| {
        if defined.contains(entry) {
            false
        } else {
            defined.push(*entry);
            true
        }
    });
    if found.is_empty() {
        events.push(Event::Text(text));
        return;
    }
    let mut at = 0;
    for (range, entry) in found {
        if range.start > at {
            events.push(Event::Text(text[at..range.start].to_string().into()));
        }
        let mut html = String::new();
        terms.mark(entry, &text[range.clone()], &mut html);
        events.push(Event::InlineHtml(html.into()));
        at = range.end;
    }
    if at < text.len() {
        events.push(Event::Text(text[at..].to_string().into()));
    }
}

/// Records the `<img>` tags of a piece of raw HTML, with their `alt` when they have one.
fn images_in_html(html: &str, line: u32, images: &mut Vec<Image>) {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<img") {
        let start = from + i + "<img".len();
        if !lower[start..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            from = start;
            continue;
        }
        let (attrs, end) = attributes(&html[start..]);
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
        };
        images.push(Image {
            line,
            dest: get("src").unwrap_or_default(),
            alt: get("alt"),
            html: true,
        });
        from = start + end;
    }
}

/// The attributes of a tag whose name was just read (`tag` starts after it), and where the tag
/// ends. Quoted values may hold `>`; a bare attribute has an empty value.
fn attributes(tag: &str) -> (Vec<(&str, &str)>, usize) {
    let mut attrs = Vec::new();
    let bytes = tag.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => return (attrs, i + 1),
            b if b.is_ascii_whitespace() || b == b'/' => i += 1,
            _ => {
                let name_start = i;
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !matches!(bytes[i], b'=' | b'>' | b'/')
                {
                    i += 1;
                }
                let name = &tag[name_start..i];
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && bytes[i] == b'=' {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    let value = match bytes.get(i) {
                        Some(&q @ (b'"' | b'\'')) => {
                            let value_start = i + 1;
                            let len = tag[value_start..]
                                .bytes()
                                .position(|b| b == q)
                                .unwrap_or(tag.len() - value_start);
                            i = (value_start + len + 1).min(tag.len());
                            &tag[value_start..value_start + len]
                        }
                        _ => {
                            let value_start = i;
                            while i < bytes.len()
                                && !bytes[i].is_ascii_whitespace()
                                && bytes[i] != b'>'
                            {
                                i += 1;
                            }
                            &tag[value_start..i]
                        }
                    };
                    attrs.push((name, value));
                } else {
                    attrs.push((name, ""));
                }
            }
        }
    }
    (attrs, tag.len())
}

/// Raw HTML elements whose text gets no term link: links and controls cannot hold one, and code
/// is meant literally.
const NO_TERMS_IN: &[&str] = &[
    "a", "button", "summary", "label", "select", "textarea", "code", "kbd", "pre",
];

/// How many of [`NO_TERMS_IN`] a piece of raw HTML opens, minus those it closes.
fn no_terms_change(html: &str) -> isize {
    let lower = html.to_ascii_lowercase();
    let mut change = 0;
    for (i, _) in lower.match_indices('<') {
        let rest = &lower[i + 1..];
        let (closing, rest) = match rest.strip_prefix('/') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !NO_TERMS_IN.contains(&name.as_str()) {
            continue;
        }
        let self_closing = rest.split('>').next().is_some_and(|t| t.ends_with('/'));
        if closing {
            change -= 1;
        } else if !self_closing {
            change += 1;
        }
    }
    change
}

fn add_text(out: &mut Rendered, text: &str, first_paragraph: bool, in_heading: bool) {
    if first_paragraph {
        out.first_paragraph.push_str(text);
    }
    out.words += count_words(text);
    if !in_heading {
        out.sections
            .last_mut()
            .expect("one section")
            .text
            .push_str(text);
    }
}

/// Words for reading time: whitespace-separated runs, and each CJK character on its own.
fn count_words(text: &str) -> usize {
    let mut words = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_cjk(c) {
            words += 1;
            in_word = false;
        } else if c.is_whitespace() {
            in_word = false;
        } else if !in_word {
            words += 1;
            in_word = true;
        }
    }
    words
}

fn alert_class(kind: BlockQuoteKind) -> &'static str {
    match kind {
        BlockQuoteKind::Note => "note",
        BlockQuoteKind::Tip => "tip",
        BlockQuoteKind::Important => "important",
        BlockQuoteKind::Warning => "warning",
        BlockQuoteKind::Caution => "caution",
    }
}

/// `base`, or `base-1`, `base-2`… when already used on the page (GitHub's scheme).
fn unique_id(ids: &mut HashMap<String, u32>, base: String) -> String {
    let Some(&used) = ids.get(&base) else {
        ids.insert(base.clone(), 0);
        return base;
    };
    let mut n = used;
    loop {
        n += 1;
        let candidate = format!("{base}-{n}");
        if !ids.contains_key(&candidate) {
            ids.insert(base, n);
            ids.insert(candidate.clone(), 0);
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts_render(md: &str, steps: bool) -> Rendered {
        let title = |k: &str| format!("T:{k}");
        let step = |n: u32| format!("Step {n}");
        let opts = RenderOptions {
            alert_title: &title,
            step_label: if steps { Some(&step) } else { None },
            copy_label: "Copy",
            copied_label: "Copied",
            table_label: "Table {n}",
            anchor_label: "Link to this section",
            terms: None,
        };
        render(
            &MappedText::new(md.to_string(), 1),
            &opts,
            Highlighter::global(),
            &mut |dest, _, _| dest.strip_suffix(".md").map(|s| format!("{s}.html")),
        )
    }

    #[test]
    fn duplicate_headings_get_unique_ids() {
        let r = opts_render("## Setup\n\n## Setup\n\n## Setup-1\n", false);
        let ids: Vec<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["setup", "setup-1", "setup-1-1"]);
    }

    #[test]
    fn explicit_ids_and_leading_h1() {
        let r = opts_render("# Title\n\n## Check the mic {#mic}\n\ntext", false);
        assert_eq!(r.leading_h1.as_deref(), Some("Title"));
        assert_eq!(r.headings[0].id, "title");
        assert_eq!(r.headings[1].id, "mic");
        assert!(r.html.contains("<h2 id=\"mic\">"));
        assert!(!r.html.contains("<h1"), "{}", r.html);
    }

    #[test]
    fn links_go_through_the_resolver() {
        let r = opts_render("[a](page.md) ![i](x.png)", false);
        assert!(r.html.contains("href=\"page.html\""), "{}", r.html);
        assert!(r.html.contains("src=\"x.png\""), "{}", r.html);
    }

    #[test]
    fn steps_are_numbered_except_quick_fix() {
        let r = opts_render(
            "## Quick fix\n\n## Unmute\n\n## Pick the mic\n\n## Still not working?\n",
            true,
        );
        let steps: Vec<Option<u32>> = r.headings.iter().map(|h| h.step).collect();
        assert_eq!(steps, [None, Some(1), Some(2), None]);
        assert!(r.html.contains("<span class=\"step-number\">Step 2</span>"));
    }

    #[test]
    fn sections_split_text_and_code() {
        let r = opts_render(
            "Intro words.\n\n## Install\n\nRun this:\n\n```bash\nmake install\n```\n",
            false,
        );
        assert_eq!(r.sections.len(), 2);
        assert_eq!(r.sections[0].anchor, None);
        assert!(r.sections[0].text.contains("Intro words."));
        assert_eq!(r.sections[1].anchor.as_deref(), Some("install"));
        assert!(r.sections[1].text.contains("Run this:"));
        assert!(r.sections[1].code.contains("make install"));
        assert!(!r.sections[1].text.contains("make install"));
        assert_eq!(r.first_paragraph, "Intro words.");
    }

    #[test]
    fn words_count_cjk_characters() {
        assert_eq!(count_words("hello world"), 2);
        assert_eq!(count_words("学生听不到 ok"), 6);
    }
}
