//! Docusaurus-style containers: `:::note`, `:::tip Title`, … `:::`.
//!
//! pulldown-cmark has no syntax for them, so they are turned into HTML blocks before parsing:
//! the opening line becomes `<div class="admonition KIND">` with its title, followed by a blank
//! line so the inside is parsed as Markdown, and the closing `:::` becomes `</div>`. Fenced code
//! is left alone, containers nest, and an unclosed container is closed at the end of the page.

use super::{MappedText, escape_html};

/// The container kinds Docusaurus knows, and the alert kind each is shown as.
const KINDS: &[(&str, &str)] = &[
    ("note", "note"),
    ("info", "note"),
    ("tip", "tip"),
    ("important", "important"),
    ("warning", "warning"),
    ("caution", "caution"),
    ("danger", "caution"),
];

/// Replaces `:::kind [title]` … `:::` containers with HTML blocks. `title_for(kind)` gives the
/// localised default title.
pub fn expand_containers(input: MappedText, title_for: impl Fn(&str) -> String) -> MappedText {
    if !input.text.contains(":::") {
        return input;
    }
    let mut out = MappedText {
        text: String::with_capacity(input.text.len() + 256),
        origin: Vec::with_capacity(input.origin.len() + 8),
    };
    let mut fence: Option<(char, usize)> = None;
    let mut depth = 0usize;
    let mut last_origin = 1;
    for (i, line) in input.text.lines().enumerate() {
        let origin = input.origin.get(i).copied().unwrap_or(last_origin);
        last_origin = origin;
        let trimmed = line.trim_start();
        if let Some((c, n)) = fence {
            let run = trimmed.chars().take_while(|x| *x == c).count();
            if run >= n && trimmed[run * c.len_utf8()..].trim().is_empty() {
                fence = None;
            }
            out.push_line(line, origin);
            continue;
        }
        if let Some(c) = ['`', '~'].into_iter().find(|c| trimmed.starts_with(*c)) {
            let run = trimmed.chars().take_while(|x| *x == c).count();
            if run >= 3 {
                fence = Some((c, run));
                out.push_line(line, origin);
                continue;
            }
        }
        if let Some(rest) = trimmed.strip_prefix(":::") {
            let rest = rest.trim();
            if rest.is_empty() && depth > 0 {
                depth -= 1;
                out.push_line("", origin);
                out.push_line("</div>", origin);
                out.push_line("", origin);
                continue;
            }
            let (word, title) = match rest.split_once(char::is_whitespace) {
                Some((w, t)) => (w, t.trim()),
                None => (rest, ""),
            };
            // Docusaurus also accepts `:::tip[Title]`.
            let (word, title) = match word.split_once('[') {
                Some((w, t)) => (w, t.trim_end_matches(']')),
                None => (word, title),
            };
            let word = word.to_ascii_lowercase();
            if let Some((_, class)) = KINDS.iter().find(|(k, _)| *k == word) {
                depth += 1;
                let title = if title.is_empty() {
                    title_for(class)
                } else {
                    title.to_string()
                };
                out.push_line("", origin);
                out.push_line(
                    &format!(
                        "<div class=\"admonition {class}\" role=\"note\"><p class=\"admonition-title\">{}</p>",
                        escape_html(&title)
                    ),
                    origin,
                );
                out.push_line("", origin);
                continue;
            }
        }
        out.push_line(line, origin);
    }
    for _ in 0..depth {
        out.push_line("", last_origin);
        out.push_line("</div>", last_origin);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str) -> MappedText {
        expand_containers(MappedText::new(text.to_string(), 1), |k| format!("T-{k}"))
    }

    #[test]
    fn container_becomes_a_div_with_its_title() {
        let out = expand(":::tip Quick fix\nUnmute **first**.\n:::\n");
        assert!(out.text.contains("<div class=\"admonition tip\""));
        assert!(out.text.contains(">Quick fix</p>"));
        assert!(out.text.contains("\n\nUnmute **first**."));
        assert!(out.text.contains("</div>"));
        // Lines still map to the original ones.
        let idx = out
            .text
            .lines()
            .position(|l| l.starts_with("Unmute"))
            .unwrap();
        assert_eq!(out.origin[idx], 2);
    }

    #[test]
    fn default_title_and_danger_alias() {
        let out = expand(":::danger\nx\n:::");
        assert!(out.text.contains("admonition caution"));
        assert!(out.text.contains("T-caution"));
    }

    #[test]
    fn fenced_code_is_untouched() {
        let text = "```\n:::note\n```\n";
        assert_eq!(expand(text).text, text);
    }

    #[test]
    fn unknown_kinds_are_left_as_text() {
        let out = expand(":::spoiler\nx\n:::\n");
        assert!(!out.text.contains("<div"));
    }

    #[test]
    fn unclosed_container_is_closed_at_the_end() {
        let out = expand(":::note\nx\n");
        assert!(out.text.trim_end().ends_with("</div>"));
    }
}
