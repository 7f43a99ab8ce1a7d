//! Finding a site's files: Markdown pages, `SUMMARY.md`, and assets to copy.
//!
//! Hidden files and folders (`.git`, `.DS_Store`, editor swap files) are skipped, symbolic links
//! are followed but a link that loops back is reported and skipped, and data files that other
//! stages read (`triage/*.yaml`, `glossary.yaml`, `synonyms.yaml`,
//! `search-tests.yaml`) are not copied as assets.

use std::path::Path;

use walkdir::WalkDir;

use crate::diagnostic::{Diagnostic, display_path};

/// What is under the content folder.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Markdown files, relative to the content folder with `/` separators, sorted.
    pub pages: Vec<String>,
    /// Everything else that is copied as it is (images, downloads).
    pub assets: Vec<String>,
    /// Triage trees (`triage/**/*.yaml`), sorted.
    pub trees: Vec<String>,
    /// Whether `SUMMARY.md` exists at the top of the content folder.
    pub summary: bool,
    /// Unreadable entries and symlink loops.
    pub problems: Vec<Diagnostic>,
}

/// What a file under the content folder is, by its path (relative, with `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// `SUMMARY.md` at the top.
    Summary,
    /// A Markdown page.
    Page,
    /// A triage tree (`triage/**/*.yaml`).
    Tree,
    /// `synonyms.yaml`: read into the search index.
    Synonyms,
    /// `glossary.yaml`: terms defined on every page, and the glossary page.
    Glossary,
    /// `search-tests.yaml`: read by other commands, never copied.
    Data,
    /// Anything else: copied as it is.
    Asset,
}

/// Classifies a file of the content folder.
pub(crate) fn kind_of(rel: &str) -> FileKind {
    let yaml = |name: &str| {
        rel.strip_suffix(".yaml")
            .or_else(|| rel.strip_suffix(".yml"))
            == Some(name)
    };
    if rel == "SUMMARY.md" {
        FileKind::Summary
    } else if rel.ends_with(".md") || rel.ends_with(".markdown") {
        FileKind::Page
    } else if rel.starts_with("triage/") && (rel.ends_with(".yaml") || rel.ends_with(".yml")) {
        FileKind::Tree
    } else if yaml("synonyms") {
        FileKind::Synonyms
    } else if yaml("glossary") {
        FileKind::Glossary
    } else if yaml("search-tests") {
        FileKind::Data
    } else {
        FileKind::Asset
    }
}

/// Hidden files and the temporary files editors write while saving (vim's swap files and its
/// `4913` probe, JetBrains' `___jb_tmp___`, Emacs' `#file#`, backups ending in `~`): never part of
/// the site, and changes to them are not the writer's.
pub(crate) fn is_hidden_or_temp(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || name == "4913"
        || (name.starts_with('#') && name.ends_with('#'))
}

/// Walks `src` (a missing folder is an error the caller reports).
pub(crate) fn discover(src: &Path) -> Discovered {
    let mut found = Discovered::default();
    let walker = WalkDir::new(src)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden_or_temp(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.strip_prefix(src).unwrap_or(p).to_path_buf())
                    .unwrap_or_default();
                let d = if let Some(ancestor) = e.loop_ancestor() {
                    Diagnostic::warning(format!(
                        "symbolic link loops back to `{}`; skipped",
                        display_path(ancestor.strip_prefix(src).unwrap_or(ancestor))
                    ))
                    .in_file(path)
                    .help("point the link somewhere outside its own folder, or remove it")
                } else {
                    Diagnostic::error(format!("cannot read: {e}")).in_file(path)
                };
                found.problems.push(d);
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(src).unwrap_or(entry.path());
        let Some(rel_str) = rel.to_str() else {
            found.problems.push(
                Diagnostic::error("file name is not valid UTF-8")
                    .in_file(rel)
                    .help("rename the file using UTF-8 characters"),
            );
            continue;
        };
        let rel_str = rel_str.replace('\\', "/");
        match kind_of(&rel_str) {
            FileKind::Summary => found.summary = true,
            FileKind::Page => found.pages.push(rel_str),
            FileKind::Tree => found.trees.push(rel_str),
            FileKind::Asset => found.assets.push(rel_str),
            FileKind::Synonyms | FileKind::Glossary | FileKind::Data => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_files_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "index.md",
            "SUMMARY.md",
            "a/b.md",
            "a/pic.png",
            ".git/config",
            "a/.hidden.md",
            "a/notes.md~",
            "triage/tree.yaml",
            "glossary.yaml",
            "files/sample.yaml",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let found = discover(root);
        assert_eq!(found.pages, ["a/b.md", "index.md"]);
        assert_eq!(found.assets, ["a/pic.png", "files/sample.yaml"]);
        assert_eq!(found.trees, ["triage/tree.yaml"]);
        assert!(found.summary);
        assert!(found.problems.is_empty());
    }

    #[test]
    fn editors_temporary_files_are_not_part_of_the_site() {
        for name in [
            ".alpha.md.swp",
            "alpha.md~",
            "4913",
            "alpha.md___jb_tmp___",
            "#alpha.md#",
        ] {
            assert!(is_hidden_or_temp(name), "{name}");
        }
        assert!(!is_hidden_or_temp("alpha.md"));
        assert!(!is_hidden_or_temp("2024.md"));
    }

    #[test]
    fn files_are_classified_by_path() {
        assert_eq!(kind_of("SUMMARY.md"), FileKind::Summary);
        assert_eq!(kind_of("a/SUMMARY.md"), FileKind::Page);
        assert_eq!(kind_of("triage/sound.yml"), FileKind::Tree);
        assert_eq!(kind_of("synonyms.yaml"), FileKind::Synonyms);
        assert_eq!(kind_of("glossary.yml"), FileKind::Glossary);
        assert_eq!(kind_of("search-tests.yaml"), FileKind::Data);
        assert_eq!(kind_of("files/glossary.yaml"), FileKind::Asset);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/page.md"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("a/loop")).unwrap();
        let found = discover(root);
        assert_eq!(found.pages, ["a/page.md"]);
        assert_eq!(found.problems.len(), 1);
        assert!(found.problems[0].message.contains("loops"));
    }
}
