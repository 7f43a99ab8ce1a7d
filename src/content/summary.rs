//! mdBook's `SUMMARY.md`: the table of contents of an existing book.
//!
//! The format: an optional `# Summary` title; prefix chapters (plain links) before the first list;
//! numbered chapters as nested list items; `# Part title` headings; `---` separators; suffix
//! chapters after the list; draft chapters written `[Title]()` (shown, not linked).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::nav::{NavItem, NavKind};

/// One entry as written, before paths are matched to pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Chapter, part title or separator.
    pub kind: NavKind,
    /// Link text or part title.
    pub title: String,
    /// Link target, relative to the content folder; `None` for drafts, parts and separators.
    pub path: Option<String>,
    /// `1.2.` for numbered chapters.
    pub number: Option<String>,
    /// Parent entry.
    pub parent: Option<usize>,
    /// Line in SUMMARY.md.
    pub line: u32,
}

/// Parses `SUMMARY.md` into entries in reading order (parents before children).
pub(crate) fn parse(text: &str) -> Vec<Entry> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| match line_starts.binary_search(&offset) {
        Ok(i) => i as u32 + 1,
        Err(i) => i as u32,
    };
    let mut entries: Vec<Entry> = Vec::new();
    // Stack of open list items (entry index, child counter).
    let mut stack: Vec<(Option<usize>, u32)> = Vec::new();
    let mut top_counter = 0u32;
    let mut list_depth = 0usize;
    let mut seen_any = false;
    let mut in_heading = false;
    let mut heading_text = String::new();
    let mut link: Option<(String, String, u32)> = None; // (dest, text, line)
    let mut item_text = String::new();

    for (event, range) in Parser::new_ext(text, Options::empty()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                in_heading = true;
                heading_text.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                in_heading = false;
                if seen_any {
                    entries.push(Entry {
                        kind: NavKind::Part,
                        title: heading_text.trim().to_string(),
                        path: None,
                        number: None,
                        parent: None,
                        line: line_of(range.start),
                    });
                }
                seen_any = true;
            }
            Event::Rule if list_depth == 0 => {
                seen_any = true;
                entries.push(Entry {
                    kind: NavKind::Separator,
                    title: String::new(),
                    path: None,
                    number: None,
                    parent: None,
                    line: line_of(range.start),
                });
            }
            Event::Start(Tag::List(_)) => {
                list_depth += 1;
                seen_any = true;
            }
            Event::End(TagEnd::List(_)) => list_depth -= 1,
            Event::Start(Tag::Item) => {
                item_text.clear();
                stack.push((None, 0));
            }
            Event::End(TagEnd::Item) => {
                let (idx, _) = stack.pop().unwrap_or((None, 0));
                if idx.is_none() && !item_text.trim().is_empty() {
                    // A list item without a link: mdBook treats it as a draft chapter.
                    let parent = stack.last().and_then(|(i, _)| *i);
                    let number = next_number(&entries, &mut stack, &mut top_counter, parent);
                    entries.push(Entry {
                        kind: NavKind::Chapter,
                        title: item_text.trim().to_string(),
                        path: None,
                        number: Some(number),
                        parent,
                        line: line_of(range.start),
                    });
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                link = Some((dest_url.to_string(), String::new(), line_of(range.start)));
            }
            Event::End(TagEnd::Link) => {
                let Some((dest, title, line)) = link.take() else {
                    continue;
                };
                seen_any = true;
                let path = (!dest.trim().is_empty()).then(|| normalize(dest.trim()));
                let title = title.trim().to_string();
                if list_depth == 0 {
                    entries.push(Entry {
                        kind: NavKind::Chapter,
                        title,
                        path,
                        number: None,
                        parent: None,
                        line,
                    });
                } else if let Some(slot) = stack.len().checked_sub(1) {
                    if stack[slot].0.is_some() {
                        continue; // a second link in one item is plain text
                    }
                    let parent = slot.checked_sub(1).and_then(|p| stack[p].0);
                    let number =
                        next_number(&entries, &mut stack[..slot], &mut top_counter, parent);
                    stack[slot].0 = Some(entries.len());
                    entries.push(Entry {
                        kind: NavKind::Chapter,
                        title,
                        path,
                        number: Some(number),
                        parent,
                        line,
                    });
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading {
                    heading_text.push_str(&t);
                } else if let Some((_, title, _)) = link.as_mut() {
                    title.push_str(&t);
                } else if !stack.is_empty() {
                    item_text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    entries
}

/// The next section number under `parent` ("3." at the top, "3.2." below).
fn next_number(
    entries: &[Entry],
    stack: &mut [(Option<usize>, u32)],
    top_counter: &mut u32,
    parent: Option<usize>,
) -> String {
    match (parent, stack.last_mut()) {
        (Some(p), Some((_, counter))) => {
            *counter += 1;
            let base = entries[p].number.clone().unwrap_or_default();
            format!("{base}{counter}.")
        }
        _ => {
            *top_counter += 1;
            format!("{top_counter}.")
        }
    }
}

/// `./a/../b.md` -> `b.md`; percent-encoded spaces decoded.
fn normalize(dest: &str) -> String {
    let dest = dest.split('#').next().unwrap_or("").replace("%20", " ");
    let mut parts: Vec<&str> = Vec::new();
    for part in dest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Turns parsed entries into nav items (page ids filled in by the caller).
pub(crate) fn to_items(entries: &[Entry]) -> Vec<NavItem> {
    let mut items: Vec<NavItem> = entries
        .iter()
        .map(|e| NavItem {
            kind: e.kind,
            title: e.title.clone(),
            page: None,
            number: e.number.clone(),
            parent: e.parent,
            children: Vec::new(),
        })
        .collect();
    for (i, e) in entries.iter().enumerate() {
        if let Some(p) = e.parent {
            items[p].children.push(i);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "# Summary

[Introduction](README.md)

# User Guide

- [Installation](guide/installation.md)
    - [From source](guide/source.md)
    - [Draft chapter]()
- [Reading](./guide/reading.md)

---

# Reference

- [CLI](cli/README.md)
  - [build](cli/build.md)

[Contributors](misc/contributors.md)
";

    #[test]
    fn parses_every_mdbook_construct() {
        let entries = parse(SUMMARY);
        let shown: Vec<(NavKind, &str, Option<&str>, Option<&str>)> = entries
            .iter()
            .map(|e| {
                (
                    e.kind,
                    e.title.as_str(),
                    e.path.as_deref(),
                    e.number.as_deref(),
                )
            })
            .collect();
        use NavKind::*;
        assert_eq!(
            shown,
            [
                (Chapter, "Introduction", Some("README.md"), None),
                (Part, "User Guide", None, None),
                (
                    Chapter,
                    "Installation",
                    Some("guide/installation.md"),
                    Some("1.")
                ),
                (
                    Chapter,
                    "From source",
                    Some("guide/source.md"),
                    Some("1.1.")
                ),
                (Chapter, "Draft chapter", None, Some("1.2.")),
                (Chapter, "Reading", Some("guide/reading.md"), Some("2.")),
                (Separator, "", None, None),
                (Part, "Reference", None, None),
                (Chapter, "CLI", Some("cli/README.md"), Some("3.")),
                (Chapter, "build", Some("cli/build.md"), Some("3.1.")),
                (Chapter, "Contributors", Some("misc/contributors.md"), None),
            ]
        );
        assert_eq!(entries[3].parent, Some(2));
        assert_eq!(entries[9].parent, Some(8));
        assert_eq!(entries[2].line, 7);
    }
}
