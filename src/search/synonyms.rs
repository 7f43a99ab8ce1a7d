//! `content/synonyms.yaml`: groups of phrases that mean the same thing to a reader.
//!
//! ```yaml
//! - [no sound, muted, can't hear, 没声音, 听不到]
//! - [laggy, frozen, choppy, 卡顿, 很卡]
//! ```
//!
//! A query containing one phrase of a group also searches for the others, with less weight than
//! the words the reader typed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::content::{read_data_file, yaml_error};
use crate::diagnostic::Diagnostic;

/// The file's name in the content folder.
pub(crate) const FILE: &str = "synonyms.yaml";

/// Synonym groups, as written (trimmed, empty phrases dropped).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Synonyms {
    /// Each group lists phrases that mean the same thing.
    pub groups: Vec<Vec<String>>,
}

impl Synonyms {
    /// Reads `synonyms.yaml` (or `.yml`) from the content folder; a missing file means none.
    pub fn load(src_dir: &Path, display: &str) -> Result<Synonyms, Diagnostic> {
        for name in [FILE, "synonyms.yml"] {
            let shown = match display.trim_end_matches('/') {
                "" => name.to_string(),
                folder => format!("{folder}/{name}"),
            };
            if let Some(text) = read_data_file(&src_dir.join(name), &shown)? {
                return Synonyms::parse(&text).map_err(|d| d.in_file(&shown));
            }
        }
        Ok(Synonyms::default())
    }

    /// Parses the YAML text: a list of lists of phrases.
    pub fn parse(text: &str) -> Result<Synonyms, Diagnostic> {
        if text.trim().is_empty() {
            return Ok(Synonyms::default());
        }
        let raw: Option<Vec<Vec<String>>> = serde_saphyr::from_str(text).map_err(|e| {
            yaml_error(&e, "synonyms", 1)
                .help("write one group per line, e.g. `- [no sound, muted, 没声音]`")
        })?;
        let groups = raw
            .unwrap_or_default()
            .into_iter()
            .map(|g| {
                let mut g: Vec<String> = g
                    .into_iter()
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect();
                // A phrase listed twice in a group is one phrase, wherever the repeat is.
                let mut seen = std::collections::HashSet::new();
                g.retain(|p| seen.insert(p.clone()));
                g
            })
            .filter(|g| g.len() > 1)
            .collect();
        Ok(Synonyms { groups })
    }

    /// Every Chinese phrase, for the segmenter's word list (short ones only: a long phrase kept
    /// whole would hide the words inside it).
    pub(crate) fn chinese_words(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|p| {
                let n = p.chars().count();
                (2..=6).contains(&n) && p.chars().all(super::analyzer::is_cjk)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups() {
        let s = Synonyms::parse(
            "# c\n- [no sound, muted, 没声音]\n- [lag, ' laggy ', lag]\n- [same, same]\n",
        )
        .unwrap();
        assert_eq!(s.groups.len(), 2, "a group of one phrase is dropped");
        assert_eq!(s.groups[1], ["lag", "laggy"]);
        assert_eq!(s.chinese_words().collect::<Vec<_>>(), ["没声音"]);
    }

    #[test]
    fn error_points_at_the_line() {
        let e = Synonyms::parse("- [a, b]\n- {x: 1}\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }
}
