//! Markdown -> HTML, plus what later stages need from a page.
//!
//! One pass over pulldown-cmark's events gives the HTML and, on the side, the heading list (for
//! the table of contents and the link check), the plain text of each section (for search) and
//! every link (rewritten through the caller's resolver, which also records it for the link
//! check). Line numbers are carried through a [`MappedText`] so an error in an included file or
//! after a `:::note` container still points at the line the writer sees.
//!
//! The module knows nothing about files or sites: the caller resolves links and includes.

mod containers;
mod highlight;
mod render;
mod slug;

pub use containers::expand_containers;
pub use highlight::{Highlighter, highlight_css};
pub use render::{Heading, Image, LinkKind, RenderOptions, Rendered, Section, TermMarker, render};
pub use slug::slugify;

/// Ids the theme's templates use; headings never take them, and links to them are valid.
pub const RESERVED_IDS: &[&str] = &[
    "content",
    "sidebar",
    "top",
    "toc-title",
    "children-title",
    "symptoms-title",
    "triage-home-title",
    "triage-outcome-title",
    "triage-not-fixed-title",
    "not-fixed",
];

/// Markdown text with, for each of its lines, the line of the original file it came from.
///
/// Includes and containers add or replace lines; the map keeps errors pointing at the right line
/// of the file the writer edits.
#[derive(Debug, Clone, Default)]
pub struct MappedText {
    /// The text to parse.
    pub text: String,
    /// `origin[i]` is the 1-based line in the source file of line `i` (0-based) of `text`.
    pub origin: Vec<u32>,
}

impl MappedText {
    /// `text` whose first line is line `first_line` of its file.
    pub fn new(text: String, first_line: u32) -> Self {
        let count = text.split('\n').count();
        let origin = (0..count as u32).map(|i| first_line + i).collect();
        MappedText { text, origin }
    }

    /// Appends one line (without its newline) that came from line `origin`.
    pub fn push_line(&mut self, line: &str, origin: u32) {
        self.text.push_str(line);
        self.text.push('\n');
        self.origin.push(origin);
    }

    /// The original line of the byte `offset` in [`MappedText::text`].
    pub fn line_of(&self, line_starts: &[usize], offset: usize) -> u32 {
        let idx = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        self.origin
            .get(idx)
            .or(self.origin.last())
            .copied()
            .unwrap_or(1)
    }

    /// Byte offsets where each line of the text starts.
    pub fn line_starts(&self) -> Vec<usize> {
        std::iter::once(0)
            .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    }
}

/// Whether `c` is written without spaces between words (Chinese, Japanese, Korean):
/// reading time counts each as a word, and search segments runs of them with jieba.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // Extensions B-F and compatibility supplement
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped for HTML text and attribute values.
pub fn push_escaped(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}
