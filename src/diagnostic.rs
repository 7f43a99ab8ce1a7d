//! Problems found in a site, with the place they were found.
//!
//! Every stage reports what is wrong with the content as [`Diagnostic`]s instead of stopping at
//! the first one: a writer fixes ten typos in one pass. A diagnostic names the file relative to
//! the site root, a 1-based line and column, what is wrong and, where we know it, how to fix it.
//! Printing (with a source snippet) lives here too, so every command reports the same way.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::config::Rule;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Information the writer should see once (e.g. an ignored mdBook setting).
    Note,
    /// Reported, but the build still succeeds.
    Warning,
    /// The build fails (non-zero exit), after all problems are reported.
    Error,
}

/// One problem in the content, configuration or theme of a site.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, relative to the site root where possible.
    pub path: Option<PathBuf>,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
    /// The text of the file, for the snippet shown under the message.
    pub source: Option<Arc<str>>,
    /// The `helpbook check` rule that found it (`orphan-page`, `jargon`…), which `[check.rules]`
    /// in book.toml can turn into an error, a warning, or off.
    pub rule: Option<Rule>,
}

impl Diagnostic {
    /// An error with no place attached yet.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: None,
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source: None,
            rule: None,
        }
    }

    /// A note with no place attached yet.
    pub fn note(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(message)
        }
    }

    /// A warning with no place attached yet.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Attaches the file.
    pub fn in_file(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Attaches a 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    /// Attaches a suggested fix.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attaches the file's text so the printed report can show the line.
    pub fn with_source(mut self, source: Arc<str>) -> Self {
        self.source = Some(source);
        self
    }

    /// Names the `helpbook check` rule that found the problem.
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rule = Some(rule);
        self
    }

    /// Turns the severity into a warning (used by `broken-links = "warn"`).
    pub fn downgrade(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col`, as much of it as is known.
    pub fn location(&self) -> String {
        let mut out = match &self.path {
            Some(p) => display_path(p),
            None => String::new(),
        };
        if self.line > 0 {
            out.push_str(&format!(":{}", self.line));
            if self.column > 0 {
                out.push_str(&format!(":{}", self.column));
            }
        }
        out
    }

    /// Renders the diagnostic for a terminal: location, message, the source line with a marker,
    /// and the suggested fix.
    pub fn render(&self, color: bool) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};

        let mut diag =
            MietteDiagnostic::new(self.message.clone()).with_severity(match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Note => miette::Severity::Advice,
            });
        if let Some(help) = &self.help {
            diag = diag.with_help(help.clone());
        }
        let location = self.location();
        if !location.is_empty() {
            diag = diag.with_code(location.clone());
        }
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_links(false);
        let mut out = String::new();
        let offset = self
            .source
            .as_deref()
            .and_then(|src| byte_offset(src, self.line, self.column));
        let result = match (&self.source, offset) {
            (Some(src), Some(offset)) => {
                let len = src[offset..]
                    .chars()
                    .take_while(|c| *c != '\n')
                    .next()
                    .map_or(0, char::len_utf8);
                let diag = diag.with_label(LabeledSpan::at(offset..offset + len, "here"));
                let name = self.path.as_deref().map(display_path).unwrap_or_default();
                let named = miette::NamedSource::new(name, src.to_string());
                let report = miette::Report::new(diag).with_source_code(named);
                handler.render_report(&mut out, report.as_ref())
            }
            _ => handler.render_report(&mut out, &diag),
        };
        if result.is_err() {
            out = self.to_string();
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let location = self.location();
        if location.is_empty() {
            write!(f, "{kind}: {}", self.message)?;
        } else {
            write!(f, "{location}: {kind}: {}", self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// How many of `diagnostics` are of `severity`.
pub fn count(diagnostics: &[Diagnostic], severity: Severity) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == severity)
        .count()
}

/// Byte offset of a 1-based line and column (in characters) in `src`.
fn byte_offset(src: &str, line: usize, column: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut start = 0;
    for _ in 1..line {
        start += src[start..].find('\n')? + 1;
    }
    let line_text = src[start..].split('\n').next().unwrap_or("");
    let col = column.max(1) - 1;
    let within = line_text
        .char_indices()
        .nth(col)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// A path as the writer typed it: forward slashes, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_formats_path_line_and_column() {
        let d = Diagnostic::error("x").in_file("content/a.md").at(3, 7);
        assert_eq!(d.location(), "content/a.md:3:7");
        assert_eq!(d.to_string(), "content/a.md:3:7: error: x");
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a\n学生听不到 x";
        let offset = text.find('x').unwrap();
        assert_eq!(line_col(text, offset), (2, 7));
    }

    #[test]
    fn render_shows_the_source_line() {
        let src: Arc<str> = Arc::from("---\ntitel: Hi\n---\n");
        let d = Diagnostic::error("unknown field `titel`")
            .in_file("a.md")
            .at(2, 1)
            .with_source(src)
            .help("did you mean `title`?");
        let out = d.render(false);
        assert!(out.contains("titel: Hi"), "{out}");
        assert!(out.contains("a.md:2:1"), "{out}");
        assert!(out.contains("did you mean"), "{out}");
    }
}
