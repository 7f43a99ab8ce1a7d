//! Snippets: the part of a section that best shows why it matched, with the matched words
//! wrapped in `<mark>`. Everything else is HTML-escaped, so a snippet is safe to insert as HTML.
//!
//! Matching reuses the index's analyser, so `recordings` in the text lights up for `recording`,
//! a typo-tolerant word lights up what it matched, and Chinese words light up as substrings.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use super::analyzer::Analyzers;
use super::query::Plan;
use crate::markdown::push_escaped;

/// Display width of a snippet, where a Chinese character counts two.
pub(crate) const SNIPPET_WIDTH: usize = 180;
/// Context kept before the first match.
const LEAD: usize = 40;

/// What to highlight.
pub(crate) struct Marks {
    exact: HashSet<String>,
    prefix: Option<String>,
    cjk: Vec<String>,
}

impl Marks {
    pub(crate) fn new(plan: &Plan) -> Marks {
        let mut exact: HashSet<String> = plan
            .words
            .iter()
            .filter(|w| !w.cjk)
            .map(|w| w.stem.clone())
            .collect();
        exact.extend(plan.synonym_stems.iter().cloned());
        exact.extend(plan.expanded.iter().cloned());
        let mut cjk: Vec<String> = plan
            .words
            .iter()
            .filter(|w| w.cjk && (w.raw.chars().count() > 1 || plan.words.len() == 1))
            .map(|w| w.raw.clone())
            .chain(plan.synonym_cjk.iter().cloned())
            .chain(
                plan.synonym_stems
                    .iter()
                    .filter(|s| s.chars().count() > 1 && s.chars().all(super::analyzer::is_cjk))
                    .cloned(),
            )
            .collect();
        cjk.sort_by_key(|w| std::cmp::Reverse(w.len()));
        cjk.dedup();
        Marks {
            exact,
            prefix: plan.prefix.clone().filter(|p| p.chars().count() >= 2),
            cjk,
        }
    }

    fn matches(&self, stem: &str, original: &str) -> bool {
        if self.exact.contains(stem) {
            return true;
        }
        self.prefix
            .as_ref()
            .is_some_and(|p| original.to_lowercase().starts_with(p.as_str()))
    }
}

/// The highlighted ranges of `text`, sorted and merged.
fn ranges(text: &str, marks: &Marks, analyzer: &mut TextAnalyzer) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        let (start, end) = (t.offset_from, t.offset_to);
        if !t.text.chars().any(super::analyzer::is_cjk) && marks.matches(&t.text, &text[start..end])
        {
            out.push(start..end);
        }
    }
    if !marks.cjk.is_empty() {
        for word in &marks.cjk {
            for (i, _) in text.match_indices(word.as_str()) {
                out.push(i..i + word.len());
            }
        }
    }
    out.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in out {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if super::analyzer::is_cjk(c) { 2 } else { 1 })
        .sum()
}

/// The byte index `w` display columns after `from` (or the end).
fn advance(text: &str, from: usize, w: usize) -> usize {
    let mut used = 0;
    for (i, c) in text[from..].char_indices() {
        used += if super::analyzer::is_cjk(c) { 2 } else { 1 };
        if used > w {
            return from + i;
        }
    }
    text.len()
}

/// The byte index about `w` display columns before `to`, moved forward to a word start.
fn back(text: &str, to: usize, w: usize) -> usize {
    let mut used = 0;
    let mut start = to;
    for (i, c) in text[..to].char_indices().rev() {
        used += if super::analyzer::is_cjk(c) { 2 } else { 1 };
        if used > w {
            break;
        }
        start = i;
    }
    if start == 0 {
        return 0;
    }
    // Start after a space or sentence break when there is one close by.
    match text[start..to].find(|c: char| c.is_whitespace() || "。，；！？".contains(c)) {
        Some(i) => {
            let j = start + i;
            j + text[j..].chars().next().map_or(1, char::len_utf8)
        }
        None => start,
    }
}

/// Makes the snippets of one search's results.
pub(crate) struct Snippets {
    marks: Marks,
    /// One analyser for all results, so its memo of stems carries from one to the next.
    analyzer: TextAnalyzer,
}

impl Snippets {
    pub(crate) fn new(plan: &Plan, analyzers: &Analyzers) -> Snippets {
        Snippets {
            marks: Marks::new(plan),
            analyzer: analyzers.text.clone(),
        }
    }

    /// A snippet of `text`: HTML, escaped, with `<mark>` around matches.
    pub(crate) fn make(&mut self, text: &str) -> String {
        snippet(text, &self.marks, &mut self.analyzer)
    }
}

fn snippet(text: &str, marks: &Marks, analyzer: &mut TextAnalyzer) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let ranges = ranges(text, marks, analyzer);

    // The window starting at the match that shows the most distinct matched words.
    let mut best = (0usize, 0usize, 0usize); // (distinct, total, index of first range)
    for i in 0..ranges.len() {
        let limit = advance(
            text,
            ranges[i].start,
            SNIPPET_WIDTH - LEAD.min(SNIPPET_WIDTH / 4),
        );
        let inside: Vec<&Range<usize>> =
            ranges[i..].iter().take_while(|r| r.end <= limit).collect();
        let distinct: HashSet<String> = inside
            .iter()
            .map(|r| text[r.start..r.end].to_lowercase())
            .collect();
        let score = (distinct.len(), inside.len());
        if (score.0, score.1) > (best.0, best.1) {
            best = (score.0, score.1, i);
        }
    }
    let start = match ranges.get(best.2) {
        Some(r) if width(&text[..r.start]) > LEAD => back(text, r.start, LEAD),
        _ => 0,
    };
    let mut end = advance(text, start, SNIPPET_WIDTH);
    if end < text.len() {
        // End at a word boundary (spaced scripts).
        if let Some(space) = text[start..end].rfind(char::is_whitespace)
            && space > (end - start) / 2
        {
            end = start + space;
        }
    }

    let mut html = String::with_capacity(SNIPPET_WIDTH * 2);
    if start > 0 {
        html.push_str("… ");
    }
    let mut at = start;
    for r in ranges.iter().filter(|r| r.start >= start && r.end <= end) {
        push_text(&mut html, &text[at..r.start]);
        html.push_str("<mark>");
        push_text(&mut html, &text[r.start..r.end]);
        html.push_str("</mark>");
        at = r.end;
    }
    push_text(&mut html, &text[at..end]);
    if end < text.len() {
        html.push_str(" …");
    }
    html
}

/// Escapes `s`, collapsing runs of whitespace (the text keeps the page's line breaks).
fn push_text(out: &mut String, s: &str) {
    let mut last_space = out.ends_with(' ');
    let mut buf = String::new();
    for c in s.chars() {
        if c.is_whitespace() {
            if !last_space {
                buf.push(' ');
            }
            last_space = true;
        } else {
            buf.push(c);
            last_space = false;
        }
    }
    push_escaped(out, &buf);
}

/// Whether `a` and `b` are within `d` edits (insert, delete, substitute, swap neighbours).
pub(crate) fn within_distance(a: &str, b: &str, d: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > d {
        return false;
    }
    let (n, m) = (a.len(), b.len());
    let mut prev2 = vec![0usize; m + 1];
    let mut prev: Vec<usize> = (0..=m).collect();
    let mut cur = vec![0usize; m + 1];
    for i in 1..=n {
        cur[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[m] <= d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::analyse;

    fn snip(text: &str, query: &str) -> String {
        let a = Analyzers::new(&[]);
        let plan = analyse(&a, query);
        Snippets::new(&plan, &a).make(text)
    }

    #[test]
    fn marks_stemmed_matches_and_escapes_the_rest() {
        let s = snip("Your <b>recordings</b> & notes are saved.", "recording");
        assert_eq!(
            s,
            "Your &lt;b&gt;<mark>recordings</mark>&lt;/b&gt; &amp; notes are saved."
        );
    }

    #[test]
    fn window_moves_to_the_matches() {
        let text = format!(
            "{} The microphone is muted in the browser.",
            "Filler words here. ".repeat(30)
        );
        let s = snip(&text, "microphone muted");
        assert!(s.starts_with("… "), "{s}");
        assert!(
            s.contains("<mark>microphone</mark>") && s.contains("<mark>muted</mark>"),
            "{s}"
        );
    }

    #[test]
    fn chinese_words_are_marked_as_substrings() {
        let s = snip("如果学生听不到你的声音，先检查麦克风。", "学生听不到");
        assert!(s.contains("<mark>"), "{s}");
    }

    #[test]
    fn edit_distance() {
        assert!(within_distance("recrding", "recording", 1));
        assert!(
            within_distance("recodring", "recording", 1),
            "a swap is one edit"
        );
        assert!(!within_distance("record", "recipe", 1));
        assert!(within_distance("microphne", "microphone", 1));
    }
}
