//! mdBook's `{{#include file}}`, so an existing mdBook builds unchanged.
//!
//! Supported forms, as in mdBook: `{{#include file}}`, `{{#include file:10}}` (one line),
//! `{{#include file:2:10}}`, `{{#include file:2:}}`, `{{#include file::10}}` (1-based, inclusive),
//! and `{{#include file:name}}` (the lines between `ANCHOR: name` and `ANCHOR_END: name`; lines
//! holding anchor markers are dropped). `{{#rustdoc_include}}` and `{{#playground}}` include the
//! file the same way. Includes nest (paths are relative to the including file) up to a depth of
//! ten; `\{{#include}}` stays literal. Included lines map to the line of the directive. A whole
//! Markdown file is included without its front matter, so a snippet can be a `draft: true` page.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::markdown::MappedText;

const MAX_DEPTH: usize = 10;

/// Most text one page may pull in through includes (bounds memory on a runaway include).
const MAX_INCLUDED_BYTES: usize = 16 << 20;

/// Most include directives one page may expand, nested ones included: an include of an empty
/// file or a cycle costs no bytes, so the byte budget alone does not bound the files read and
/// errors reported when files include each other many times over.
const MAX_INCLUDES: usize = 1000;

/// State of one page's expansion: the chain of files being included (to report cycles) and
/// the bytes and directives still allowed.
struct Expansion {
    /// The page's own file (canonical): including it is a cycle too.
    page: Option<PathBuf>,
    stack: Vec<PathBuf>,
    budget: usize,
    /// Include directives met so far.
    includes: usize,
    errors: Vec<Diagnostic>,
    /// Every file included, canonical, once.
    included: Vec<PathBuf>,
}

/// A page's text with its includes expanded.
pub(crate) struct Expanded {
    /// The text, mapped to the page's lines.
    pub text: MappedText,
    /// Problems, without a file: the caller attaches the page.
    pub errors: Vec<Diagnostic>,
    /// The files included (canonical paths): the page must be read again when one changes.
    pub included: Vec<PathBuf>,
}

/// Expands include directives in `text` (whose first line is line `first_line` of `file`).
pub(crate) fn expand_includes(text: &str, first_line: u32, file: &Path) -> Expanded {
    if !text.contains("{{#") {
        return Expanded {
            text: MappedText::new(text.to_string(), first_line),
            errors: Vec::new(),
            included: Vec::new(),
        };
    }
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut state = Expansion {
        page: std::fs::canonicalize(file).ok(),
        stack: Vec::new(),
        budget: MAX_INCLUDED_BYTES,
        includes: 0,
        errors: Vec::new(),
        included: Vec::new(),
    };
    let mut out = MappedText::default();
    for (i, line) in text.split('\n').enumerate() {
        let origin = first_line + i as u32;
        let mut expanded = String::new();
        expand_line(line, dir, origin, &mut expanded, &mut state);
        for l in expanded.split('\n') {
            out.push_line(l, origin);
        }
    }
    // `split('\n')` + `push_line` added a newline the input did not end with.
    if !text.ends_with('\n') && out.text.ends_with('\n') {
        out.text.pop();
    }
    Expanded {
        text: out,
        errors: state.errors,
        included: state.included,
    }
}

fn expand_line(line: &str, dir: &Path, origin: u32, out: &mut String, state: &mut Expansion) {
    let mut rest = line;
    while let Some(start) = rest.find("{{#") {
        // `\{{#include}}` is literal: drop the backslash.
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            out.push_str(&rest[..start - 1]);
            let end = rest[start..]
                .find("}}")
                .map_or(rest.len(), |e| start + e + 2);
            out.push_str(&rest[start..end]);
            rest = &rest[end..];
            continue;
        }
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 3..start + len].trim();
        let (name, arg) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
        // Columns count characters; inside a nested include, point at the outer directive.
        let column = if state.stack.is_empty() {
            line[..line.len() - rest.len() + start].chars().count() + 1
        } else {
            1
        };
        let place = |d: Diagnostic, state: &Expansion| match state.stack.last() {
            Some(file) => {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                Diagnostic {
                    message: format!("{} (in included file `{name}`)", d.message),
                    ..d
                }
                .at(origin as usize, column)
            }
            None => d.at(origin as usize, column),
        };
        match name {
            "include" | "rustdoc_include" | "playground" => {
                out.push_str(&rest[..start]);
                state.includes += 1;
                if state.includes > MAX_INCLUDES {
                    if state.includes == MAX_INCLUDES + 1 {
                        let d = Diagnostic::error(format!(
                            "more than {MAX_INCLUDES} includes in one page; the rest are left out"
                        ))
                        .help("split the page, or check for files that include each other");
                        let d = place(d, state);
                        state.errors.push(d);
                    }
                    rest = &rest[start + len + 2..];
                    continue;
                }
                match include(arg.trim(), dir, state.budget) {
                    Ok(found)
                        if state.stack.contains(&found.canonical)
                            || state.page.as_ref() == Some(&found.canonical) =>
                    {
                        let d = Diagnostic::error(format!("`{}` includes itself", arg.trim()))
                            .help("remove the include that leads back to this file");
                        let d = place(d, state);
                        state.errors.push(d);
                    }
                    Ok(_) if state.stack.len() + 1 >= MAX_DEPTH => {
                        let d = Diagnostic::error(format!(
                            "includes nested more than {MAX_DEPTH} deep at `{}`",
                            arg.trim()
                        ));
                        let d = place(d, state);
                        state.errors.push(d);
                    }
                    Ok(found) => {
                        state.budget = state.budget.saturating_sub(found.text.len());
                        if !state.included.contains(&found.canonical) {
                            state.included.push(found.canonical.clone());
                        }
                        state.stack.push(found.canonical);
                        let content = found.text.strip_suffix('\n').unwrap_or(&found.text);
                        for (i, l) in content.split('\n').enumerate() {
                            if i > 0 {
                                out.push('\n');
                            }
                            expand_line(l, &found.dir, origin, out, state);
                        }
                        state.stack.pop();
                    }
                    Err(message) => {
                        let d = Diagnostic::error(message)
                            .help("paths are relative to the file that holds the include");
                        let d = place(d, state);
                        state.errors.push(d);
                    }
                }
            }
            "title" => out.push_str(&rest[..start]),
            // A triage tree's first question, filled in once the trees are read. Blank lines
            // around it make it a block of its own, never part of a paragraph.
            "triage" => {
                out.push_str(&rest[..start]);
                out.push_str("\n\n");
                out.push_str(&super::trees::placeholder(arg.trim()));
                out.push_str("\n\n");
            }
            _ => out.push_str(&rest[..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
}

/// A file named by an include.
struct Included {
    /// The selected text.
    text: String,
    /// The file's folder (nested includes are relative to it).
    dir: PathBuf,
    /// The file's canonical path, to detect cycles.
    canonical: PathBuf,
}

/// Reads the part of a file an include names. Returns the text and the file's folder.
fn include(arg: &str, dir: &Path, budget: usize) -> Result<Included, String> {
    use std::io::Read;
    if arg.is_empty() {
        return Err("include names no file".into());
    }
    let (file, range) = match arg.split_once(':') {
        Some((f, r)) => (f, Some(r)),
        None => (arg, None),
    };
    let path = dir.join(file);
    let meta = std::fs::metadata(&path)
        .map_err(|e| format!("cannot include `{file}`: {}", io_reason(&e)))?;
    if !meta.is_file() {
        return Err(format!("cannot include `{file}`: it is not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(budget as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot include `{file}`: {}", io_reason(&e)))?;
    if bytes.len() > budget {
        return Err(format!(
            "cannot include `{file}`: the page would include more than {} MB",
            MAX_INCLUDED_BYTES >> 20
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("cannot include `{file}`: it is not valid UTF-8"))?;
    let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let file_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // A whole Markdown file is included without its front matter.
    let text = match (
        range,
        file.ends_with(".md"),
        super::front_matter::split(&text),
    ) {
        (None, true, Ok(split)) => split.body.to_string(),
        _ => text,
    };
    let lines: Vec<&str> = text.lines().collect();
    let selected: Vec<&str> = match range {
        None => lines
            .iter()
            .copied()
            .filter(|l| !is_anchor_marker(l))
            .collect(),
        Some(r) => {
            if let Some(range) = parse_range(r) {
                let (from, to) = range;
                let from = from.unwrap_or(1).max(1);
                let to = to.unwrap_or(lines.len()).min(lines.len());
                if from > lines.len() {
                    return Err(format!(
                        "cannot include `{file}` from line {from}: it has {} lines",
                        lines.len()
                    ));
                }
                lines[from - 1..to.max(from - 1)].to_vec()
            } else {
                let anchor = r.trim();
                let start = lines
                    .iter()
                    .position(|l| marker(l, "ANCHOR:") == Some(anchor))
                    .ok_or_else(|| format!("`{file}` has no `ANCHOR: {anchor}`"))?;
                let end = lines[start + 1..]
                    .iter()
                    .position(|l| marker(l, "ANCHOR_END:") == Some(anchor))
                    .map_or(lines.len(), |e| start + 1 + e);
                lines[start + 1..end]
                    .iter()
                    .copied()
                    .filter(|l| !is_anchor_marker(l))
                    .collect()
            }
        }
    };
    Ok(Included {
        text: selected.join("\n"),
        dir: file_dir,
        canonical,
    })
}

/// `10` -> (10, 10); `2:10`; `2:`; `:10`. `None` when not a range (then it is an anchor).
fn parse_range(r: &str) -> Option<(Option<usize>, Option<usize>)> {
    let num = |s: &str| -> Option<Option<usize>> {
        let s = s.trim();
        if s.is_empty() {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    match r.split_once(':') {
        None => {
            let n: usize = r.trim().parse().ok()?;
            Some((Some(n), Some(n)))
        }
        Some((a, b)) => Some((num(a)?, num(b)?)),
    }
}

fn marker<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let i = line.find(tag)?;
    let name = line[i + tag.len()..].trim();
    // Markers live in comments: strip a trailing comment closer.
    let name = name.trim_end_matches("-->").trim_end_matches("*/").trim();
    name.split_whitespace().next()
}

fn is_anchor_marker(line: &str) -> bool {
    marker(line, "ANCHOR:").is_some() || marker(line, "ANCHOR_END:").is_some()
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expands `text` as the page `page.md` in `dir`.
    fn expand(text: &str, first_line: u32, dir: &Path) -> (MappedText, Vec<Diagnostic>) {
        let e = expand_includes(text, first_line, &dir.join("page.md"));
        (e.text, e.errors)
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn whole_file_and_ranges() {
        let dir = dir_with(&[("x.rs", "l1\nl2\nl3\nl4\n")]);
        let (out, errors) = expand(
            "a\n{{#include x.rs}}\n{{#include x.rs:2}}\n{{#include x.rs:2:3}}\n{{#include x.rs::1}}\n{{#include x.rs:4:}}\nz",
            1,
            dir.path(),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.text, "a\nl1\nl2\nl3\nl4\nl2\nl2\nl3\nl1\nl4\nz");
        // Included lines map to the directive's line.
        assert_eq!(out.origin[3], 2);
        assert_eq!(out.origin[10], 7);
    }

    #[test]
    fn anchors_select_and_markers_vanish() {
        let dir = dir_with(&[(
            "code.rs",
            "// ANCHOR: all\n// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\nfn other() {}\n// ANCHOR_END: all\n",
        )]);
        let (out, _) = expand("{{#include code.rs:main}}", 1, dir.path());
        assert_eq!(out.text, "fn main() {}");
        let (out, _) = expand("{{#include code.rs:all}}", 1, dir.path());
        assert_eq!(out.text, "fn main() {}\nfn other() {}");
    }

    #[test]
    fn missing_file_is_an_error_at_its_line() {
        let dir = dir_with(&[]);
        let (_, errors) = expand("one\ntwo {{#include nope.md}}", 5, dir.path());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 6);
        assert_eq!(errors[0].column, 5);
        assert!(errors[0].message.contains("nope.md"));
    }

    #[test]
    fn nested_includes_are_relative_to_their_file() {
        let dir = dir_with(&[("a/b.md", "B {{#include c.md}}"), ("a/c.md", "C")]);
        let (out, errors) = expand("{{#include a/b.md}}", 1, dir.path());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out.text, "B C");
        // Both files are dependencies of the page: a change to either must rebuild it.
        let included =
            expand_includes("{{#include a/b.md}}", 1, &dir.path().join("page.md")).included;
        let names: Vec<_> = included.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["b.md", "c.md"]);
    }

    #[test]
    fn include_cycles_are_reported_once_and_stop() {
        let dir = dir_with(&[
            (
                "self.md",
                "{{#include self.md}}{{#include self.md}}{{#include self.md}}",
            ),
            ("a.md", "A {{#include b.md}}"),
            ("b.md", "B {{#include a.md}}"),
        ]);
        let (_, errors) = expand("{{#include self.md}}", 1, dir.path());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].message.contains("includes itself"), "{errors:?}");
        assert!(errors[0].message.contains("self.md"), "{errors:?}");
        let (out, errors) = expand("{{#include a.md}}", 1, dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(out.text, "A B ");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_folders_are_not_included() {
        let dir = dir_with(&[("sub/x.md", "x")]);
        let (_, errors) = expand("{{#include /dev/zero}}\n{{#include sub}}", 1, dir.path());
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|e| e.message.contains("not a regular file"))
        );
    }

    #[test]
    fn a_page_that_includes_itself_is_one_error_per_directive() {
        // Once each self-include expanded the page, whose own includes then each failed: a
        // page of n such lines read itself n² times and reported n² errors.
        let text = "{{#include page.md}}\n".repeat(300);
        let dir = dir_with(&[("page.md", &text)]);
        let (out, errors) = expand(&text, 1, dir.path());
        assert_eq!(errors.len(), 300);
        assert!(
            errors
                .iter()
                .all(|e| e.message == "`page.md` includes itself")
        );
        assert_eq!(errors[299].line, 300);
        assert!(out.text.trim().is_empty(), "{:?}", out.text);
    }

    #[test]
    fn includes_are_bounded_in_number() {
        // Empty files cost no bytes: only a count stops files that include each other many
        // times over.
        let many = "{{#include empty.md}}\n".repeat(600);
        let dir = dir_with(&[("empty.md", ""), ("many.md", &many)]);
        let (_, errors) = expand("{{#include many.md}}\n{{#include many.md}}", 1, dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .starts_with("more than 1000 includes in one page"),
            "{errors:?}"
        );
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn error_columns_count_characters() {
        let dir = dir_with(&[]);
        let (_, errors) = expand("中文 {{#include nope.md}}", 1, dir.path());
        assert_eq!(errors[0].column, 4);
    }

    #[test]
    fn escaped_include_stays_literal() {
        let dir = dir_with(&[]);
        let (out, errors) = expand("\\{{#include x.md}}", 1, dir.path());
        assert!(errors.is_empty());
        assert_eq!(out.text, "{{#include x.md}}");
    }
}
