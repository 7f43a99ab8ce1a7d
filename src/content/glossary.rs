//! The glossary: `glossary.yaml` in the content folder.
//!
//! A help center for people in a hurry cannot avoid every technical word ("bitrate", "TURN
//! server"), but it can explain each one where the reader meets it. The glossary lists the terms
//! with a plain explanation in English and Chinese. From it the build marks the first use of
//! each term on a page with an inline definition (a link to the term's entry, described by the
//! explanation, so it works with a keyboard, a screen reader and without JavaScript), and writes
//! a glossary page; `helpbook check` uses it to find terms a plain-language page uses without
//! explaining them.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::front_matter::yaml_error;
use super::read_data_file;
use crate::diagnostic::Diagnostic;
use crate::i18n::Locale;
use crate::markdown::{RESERVED_IDS, TermMarker, is_cjk, push_escaped, slugify};

/// Output path of the generated glossary page.
pub const GLOSSARY_URL: &str = "glossary.html";

/// The glossary's file names under the content folder, in the order they are looked for.
const FILES: [&str; 2] = ["glossary.yaml", "glossary.yml"];

/// One term of the glossary.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Anchor of the term on the glossary page (`id`, or a slug of the term).
    pub id: String,
    /// The English wording.
    pub en: Wording,
    /// The Chinese wording, when given.
    pub zh: Option<Wording>,
    /// Line of the entry's `term:` in the file.
    pub line: usize,
}

/// A term as one language writes it.
#[derive(Debug, Clone, Default)]
pub struct Wording {
    /// The term.
    pub term: String,
    /// Other spellings that mean the same.
    pub aliases: Vec<String>,
    /// A plain explanation a reader can act on.
    pub plain: String,
    /// Plain words to use instead of the term in plain-language pages.
    pub instead: Option<String>,
}

impl Wording {
    fn new(term: &str, aliases: Vec<String>, plain: &str, instead: Option<String>) -> Wording {
        Wording {
            term: term.trim().to_string(),
            aliases: clean(aliases),
            plain: plain.trim().to_string(),
            instead: instead
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        }
    }
}

impl Entry {
    /// The wording for a page in language `lang` (Chinese when the page is and there is one).
    pub fn wording(&self, lang: &str) -> &Wording {
        match &self.zh {
            Some(zh) if is_chinese(lang) => zh,
            _ => &self.en,
        }
    }
}

/// The site's glossary, with its terms ready to be found in text.
#[derive(Debug, Default)]
pub struct Glossary {
    /// The terms, in the file's order.
    pub entries: Vec<Entry>,
    /// Where the glossary was read from, as shown to the writer (`content/glossary.yaml`).
    pub source: Option<String>,
    /// Terms of English pages.
    english: Terms,
    /// Terms of Chinese pages: the Chinese wordings and the English ones (Chinese pages often
    /// keep an English technical word).
    chinese: Terms,
}

impl Glossary {
    /// Reads the glossary of the content folder `src_dir` (an empty glossary when there is
    /// none). `display` is the content folder as shown to the writer.
    pub fn load(src_dir: &Path, display: &str) -> Result<Glossary, Vec<Diagnostic>> {
        for name in FILES {
            let shown = match display.trim_end_matches('/') {
                "" => name.to_string(),
                folder => format!("{folder}/{name}"),
            };
            if let Some(text) = read_data_file(&src_dir.join(name), &shown).map_err(|d| vec![d])? {
                let source: Arc<str> = Arc::from(text);
                let mut glossary = Glossary::parse(&source).map_err(|errors| {
                    errors
                        .into_iter()
                        .map(|d| d.in_file(&shown).with_source(source.clone()))
                        .collect::<Vec<_>>()
                })?;
                glossary.source = Some(shown);
                return Ok(glossary);
            }
        }
        Ok(Glossary::default())
    }

    /// Parses the YAML text: a list of entries.
    pub fn parse(text: &str) -> Result<Glossary, Vec<Diagnostic>> {
        if text.trim().is_empty() {
            return Ok(Glossary::default());
        }
        let raw: Option<Vec<RawEntry>> = serde_saphyr::from_str(text).map_err(|e| {
            vec![yaml_error(&e, "glossary", 1).help(
                "each entry is `- term: …` with `plain: …`, and optionally `aliases: […]`, `instead: …` and `zh: {term: …, plain: …}`",
            )]
        })?;
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        // Every spelling belongs to one entry, or a page's word would have two meanings.
        let mut spellings: HashMap<String, (String, usize)> = HashMap::new();
        for raw in raw.unwrap_or_default() {
            let line = (raw.term.referenced.line() as usize).max(1);
            let term = raw.term.value.trim().to_string();
            let mut problem = |message: String, help: &str| {
                errors.push(
                    Diagnostic::error(message)
                        .at(line, 1)
                        .help(help.to_string()),
                );
            };
            if term.is_empty() {
                problem(
                    "glossary: an entry has an empty `term`".into(),
                    "write the term as your pages spell it",
                );
                continue;
            }
            let en = Wording::new(&term, raw.aliases, &raw.plain, raw.instead);
            let zh = raw
                .zh
                .map(|z| Wording::new(&z.term, z.aliases, &z.plain, z.instead));
            for w in std::iter::once(&en).chain(&zh) {
                if w.plain.is_empty() {
                    problem(
                        format!("glossary: `{}` has no plain explanation", w.term),
                        "add `plain:` with one or two short sentences a teacher can act on",
                    );
                }
                if w.term.is_empty() {
                    problem(
                        format!("glossary: the Chinese wording of `{term}` has no `term`"),
                        "add `term:` under `zh:`",
                    );
                }
            }
            let id = match raw.id {
                Some(id) => id.trim().to_string(),
                None => slugify(&term),
            };
            let valid = !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
                && !RESERVED_IDS.contains(&id.as_str());
            if !valid {
                problem(
                    format!("glossary: `{term}` has the anchor `{id}`, which cannot be used"),
                    "give it `id:` with letters, digits and dashes only, not one of the theme's own ids (content, sidebar, top…)",
                );
                continue;
            }
            for spelling in std::iter::once(&en)
                .chain(&zh)
                .flat_map(|w| std::iter::once(&w.term).chain(&w.aliases))
                .filter(|s| !s.is_empty())
            {
                let key = spelling.to_lowercase();
                match spellings.get(&key) {
                    Some((other, other_line)) if *other != id => problem(
                        format!(
                            "glossary: `{spelling}` is listed for two terms (also for the one on line {other_line})"
                        ),
                        "keep each spelling under one term",
                    ),
                    Some(_) => {}
                    None => {
                        spellings.insert(key, (id.clone(), line));
                    }
                }
            }
            if entries.iter().any(|e: &Entry| e.id == id) {
                problem(
                    format!("glossary: two terms have the anchor `{id}`"),
                    "give one of them its own `id:`",
                );
                continue;
            }
            entries.push(Entry { id, en, zh, line });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let english = Terms::new(&entries, |e| vec![&e.en]);
        let chinese = Terms::new(&entries, |e| e.zh.iter().chain([&e.en]).collect());
        Ok(Glossary {
            entries,
            source: None,
            english,
            chinese,
        })
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The terms matched in pages of language `lang`.
    pub fn terms(&self, lang: &str) -> &Terms {
        if is_chinese(lang) {
            &self.chinese
        } else {
            &self.english
        }
    }

    /// What marks the terms of a page in language `lang` whose way back to the site root is
    /// `root` (`../` for `a/page.html`).
    pub fn marker<'a>(&'a self, lang: &'a str, root: &str) -> Marker<'a> {
        Marker {
            glossary: self,
            terms: self.terms(lang),
            lang,
            href: format!("{root}{GLOSSARY_URL}"),
        }
    }

    /// The Markdown of the glossary page, in the site language `lang`.
    pub fn page_markdown(&self, lang: &str) -> String {
        let zh_site = is_chinese(lang);
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| e.wording(lang).term.to_lowercase());
        let mut md = String::new();
        md.push_str(Locale::from_tag(lang).get("glossary_description"));
        md.push_str("\n\n");
        for e in entries {
            let (first, second) = match (&e.zh, zh_site) {
                (Some(zh), true) => (zh, Some(&e.en)),
                (Some(zh), false) => (&e.en, Some(zh)),
                (None, _) => (&e.en, None),
            };
            md.push_str(&format!("## {} {{#{}}}\n\n", escape_md(&first.term), e.id));
            md.push_str(&escape_md(&first.plain));
            md.push_str("\n\n");
            let mut notes = Vec::new();
            if !first.aliases.is_empty() {
                let label = if zh_site { "也叫" } else { "Also called" };
                notes.push(format!("{label}: {}", escape_md(&first.aliases.join(", "))));
            }
            if let Some(instead) = &first.instead {
                let label = if zh_site {
                    "写给老师时可以说"
                } else {
                    "In plain words"
                };
                notes.push(format!("{label}: “{}”", escape_md(instead)));
            }
            if !notes.is_empty() {
                md.push_str(&format!("*{}*\n\n", notes.join(". ")));
            }
            if let Some(other) = second {
                // The other language is marked as such, so a screen reader reads it in the
                // right voice.
                let (tag, sep) = if zh_site {
                    ("en", ": ")
                } else {
                    ("zh-CN", "：")
                };
                let mut html = format!("<p lang=\"{tag}\"><strong>");
                push_escaped(&mut html, &other.term);
                html.push_str("</strong>");
                html.push_str(sep);
                push_escaped(&mut html, &other.plain);
                html.push_str("</p>\n\n");
                md.push_str(&html);
            }
        }
        md
    }
}

/// The terms of one language, found in text in one pass.
#[derive(Default)]
pub struct Terms {
    automaton: Option<AhoCorasick>,
    /// For each pattern: its entry, and whether it must match case exactly.
    patterns: Vec<(usize, bool)>,
    spellings: Vec<String>,
}

impl std::fmt::Debug for Terms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terms")
            .field("spellings", &self.spellings)
            .finish()
    }
}

/// A term found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte range in the text.
    pub range: Range<usize>,
    /// The glossary entry (index into [`Glossary::entries`]).
    pub entry: usize,
}

impl Terms {
    fn new<'e>(entries: &'e [Entry], wordings: impl Fn(&'e Entry) -> Vec<&'e Wording>) -> Terms {
        let mut patterns = Vec::new();
        let mut spellings = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for w in wordings(e) {
                for s in std::iter::once(&w.term).chain(&w.aliases) {
                    if s.is_empty() {
                        continue;
                    }
                    // An acronym ("TURN server", "VPN") matches as written: "turn the server
                    // off" is not about TURN.
                    let exact = s.chars().skip(1).any(char::is_uppercase);
                    patterns.push((i, exact));
                    spellings.push(s.clone());
                }
            }
        }
        let automaton = (!spellings.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&spellings)
                .expect("glossary terms are short literal strings")
        });
        Terms {
            automaton,
            patterns,
            spellings,
        }
    }

    /// Every use of a term in `text`, in order, not overlapping: the longest at each place.
    /// Latin-script terms match whole words only.
    pub fn find(&self, text: &str) -> Vec<Found> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        // Every candidate is looked at, so a match ruled out (a case or a word boundary) does
        // not hide a shorter term at the same place.
        let word_char = |c: char| c.is_alphanumeric() && !is_cjk(c);
        let mut candidates: Vec<Found> = automaton
            .find_overlapping_iter(text)
            .filter(|m| {
                let pattern = m.pattern().as_usize();
                let matched = &text[m.range()];
                if self.patterns[pattern].1 && matched != self.spellings[pattern] {
                    return false;
                }
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                let starts_latin = matched.chars().next().is_some_and(word_char);
                let ends_latin = matched.chars().next_back().is_some_and(word_char);
                !((starts_latin && before.is_some_and(word_char))
                    || (ends_latin && after.is_some_and(word_char)))
            })
            .map(|m| Found {
                range: m.range(),
                entry: self.patterns[m.pattern().as_usize()].0,
            })
            .collect();
        candidates.sort_by(|a, b| {
            a.range
                .start
                .cmp(&b.range.start)
                .then(b.range.end.cmp(&a.range.end))
        });
        let mut found: Vec<Found> = Vec::new();
        for c in candidates {
            if found
                .last()
                .is_none_or(|last| c.range.start >= last.range.end)
            {
                found.push(c);
            }
        }
        found
    }
}

/// Marks the first use of each term on one page.
#[derive(Debug)]
pub struct Marker<'a> {
    glossary: &'a Glossary,
    /// The terms of the page's language, picked once per page, not per piece of text.
    terms: &'a Terms,
    lang: &'a str,
    href: String,
}

impl TermMarker for Marker<'_> {
    fn find(&self, text: &str) -> Vec<(Range<usize>, usize)> {
        self.terms
            .find(text)
            .into_iter()
            .map(|f| (f.range, f.entry))
            .collect()
    }

    fn mark(&self, entry: usize, text: &str, out: &mut String) {
        let e = &self.glossary.entries[entry];
        let w = e.wording(self.lang);
        out.push_str("<span class=\"term\"><a class=\"term-link\" href=\"");
        push_escaped(out, &self.href);
        out.push('#');
        push_escaped(out, &e.id);
        out.push_str("\" aria-describedby=\"glossary-def-");
        push_escaped(out, &e.id);
        out.push_str("\">");
        push_escaped(out, text);
        out.push_str("</a><span class=\"term-def\" role=\"tooltip\" id=\"glossary-def-");
        push_escaped(out, &e.id);
        out.push_str("\">");
        push_escaped(out, &w.plain);
        out.push_str("</span></span>");
    }
}

/// Whether a language tag is Chinese (`zh`, `zh-CN`, `zh-Hans`…).
pub(crate) fn is_chinese(lang: &str) -> bool {
    Locale::from_tag(lang) == Locale::Zh
}

fn clean(list: Vec<String>) -> Vec<String> {
    list.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Escapes the characters Markdown would read as markup in a line of plain text.
fn escape_md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '{' | '}' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// --- The YAML as written ---------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    term: Spanned<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    plain: String,
    #[serde(default)]
    instead: Option<String>,
    #[serde(default)]
    zh: Option<RawWording>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWording {
    term: String,
    #[serde(default)]
    aliases: Vec<String>,
    plain: String,
    #[serde(default)]
    instead: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
- term: bitrate
  aliases: [bit rate]
  plain: How much data is sent each second.
  instead: video quality
  zh:
    term: 码率
    plain: 每秒发送的数据量。
- term: TURN server
  plain: A relay that passes your video along when a network blocks direct connections.
";

    fn words(g: &Glossary, lang: &str, text: &str) -> Vec<String> {
        g.terms(lang)
            .find(text)
            .into_iter()
            .map(|f| text[f.range].to_string())
            .collect()
    }

    #[test]
    fn finds_whole_words_case_insensitively() {
        let g = Glossary::parse(SAMPLE).unwrap();
        assert_eq!(
            words(&g, "en", "Lower the Bitrate; bitrates and bit rate."),
            ["Bitrate", "bit rate"]
        );
    }

    #[test]
    fn a_match_ruled_out_does_not_hide_a_shorter_term() {
        let g = Glossary::parse(
            "- term: TURN server\n  plain: A relay.\n- term: server\n  plain: A computer.\n- term: echo\n  plain: Sound back.\n- term: echo cancellation\n  plain: A filter.\n",
        )
        .unwrap();
        assert_eq!(
            words(
                &g,
                "en",
                "Turn server settings off. Echo cancellations help with echo."
            ),
            ["server", "Echo", "echo"]
        );
    }

    #[test]
    fn an_anchor_that_cannot_be_used_is_an_error() {
        for id in ["bit rate", "content"] {
            let text = format!("- term: bitrate\n  id: {id}\n  plain: Data per second.\n");
            assert!(Glossary::parse(&text).is_err(), "{id}");
        }
    }

    #[test]
    fn acronyms_match_as_written() {
        let g = Glossary::parse(SAMPLE).unwrap();
        assert_eq!(
            words(
                &g,
                "en",
                "Turn server settings off, then ask about the TURN server."
            ),
            ["TURN server"]
        );
    }

    #[test]
    fn chinese_pages_find_chinese_and_english_terms() {
        let g = Glossary::parse(SAMPLE).unwrap();
        assert_eq!(
            words(&g, "zh-CN", "把码率调低，或者检查TURN server。"),
            ["码率", "TURN server"]
        );
        assert_eq!(g.entries[0].wording("zh").plain, "每秒发送的数据量。");
        assert_eq!(g.entries[1].wording("zh").term, "TURN server");
    }

    #[test]
    fn a_spelling_under_two_terms_is_an_error_at_its_line() {
        let errors =
            Glossary::parse("- term: latency\n  plain: Delay.\n- term: lag\n  aliases: [Latency]\n  plain: Delay.\n")
                .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].message.contains("Latency"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let errors = Glossary::parse("- term: x\n  plian: y\n").unwrap_err();
        assert_eq!(errors[0].line, 2, "{:?}", errors[0]);
    }

    #[test]
    fn marker_writes_an_accessible_definition() {
        let g = Glossary::parse(SAMPLE).unwrap();
        let marker = g.marker("en", "../");
        let mut html = String::new();
        marker.mark(0, "bitrate", &mut html);
        assert!(html.contains("href=\"../glossary.html#bitrate\""), "{html}");
        assert!(
            html.contains("aria-describedby=\"glossary-def-bitrate\""),
            "{html}"
        );
        assert!(
            html.contains("id=\"glossary-def-bitrate\">How much data"),
            "{html}"
        );
    }

    #[test]
    fn the_page_lists_every_term_with_an_anchor() {
        let g = Glossary::parse(SAMPLE).unwrap();
        let md = g.page_markdown("en");
        assert!(md.contains("## bitrate {#bitrate}"), "{md}");
        assert!(md.contains("## TURN server {#turn-server}"), "{md}");
        assert!(
            md.contains("<p lang=\"zh-CN\"><strong>码率</strong>：每秒发送的数据量。</p>"),
            "{md}"
        );
    }
}
