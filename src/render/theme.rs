//! The theme: tera templates and static files, built in and overridable file by file.
//!
//! The built-in theme (this repository's `theme/`) is embedded in the binary, so a bare content
//! folder builds. A site's own `theme/templates/<name>.html` replaces the built-in template of
//! that name, and `theme/static/<file>` the built-in static file; anything else under
//! `theme/static/` is copied too.

use std::collections::BTreeMap;
use std::path::Path;

use tera::Tera;

use crate::diagnostic::{Diagnostic, display_path};

/// Built-in templates: (name, text).
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../theme/templates/base.html")),
    ("page.html", include_str!("../../theme/templates/page.html")),
    (
        "search.html",
        include_str!("../../theme/templates/search.html"),
    ),
    (
        "section.html",
        include_str!("../../theme/templates/section.html"),
    ),
    (
        "troubleshooting.html",
        include_str!("../../theme/templates/troubleshooting.html"),
    ),
    (
        "reference.html",
        include_str!("../../theme/templates/reference.html"),
    ),
    (
        "playbook.html",
        include_str!("../../theme/templates/playbook.html"),
    ),
    ("faq.html", include_str!("../../theme/templates/faq.html")),
    (
        "triage.html",
        include_str!("../../theme/templates/triage.html"),
    ),
    ("404.html", include_str!("../../theme/templates/404.html")),
    (
        "redirect.html",
        include_str!("../../theme/templates/redirect.html"),
    ),
];

/// Built-in static files: (name, bytes).
const STATIC: &[(&str, &[u8])] = &[
    ("style.css", include_bytes!("../../theme/static/style.css")),
    (
        "helpbook.js",
        include_bytes!("../../theme/static/helpbook.js"),
    ),
];

/// Compiled templates and the static files to publish.
pub struct Theme {
    /// The template engine with every template loaded.
    pub tera: Tera,
    /// Static files by name (published under `_helpbook/`).
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Theme {
    /// The built-in theme overridden by the files in `dir` (which may not exist).
    pub fn load(dir: &Path) -> Result<Theme, Vec<Diagnostic>> {
        let mut templates: BTreeMap<String, (String, Option<String>)> = TEMPLATES
            .iter()
            .map(|(name, text)| (name.to_string(), (text.to_string(), None)))
            .collect();
        let mut files: BTreeMap<String, Vec<u8>> = STATIC
            .iter()
            .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
            .collect();
        let mut errors = Vec::new();

        let template_dir = dir.join("templates");
        if let Ok(entries) = std::fs::read_dir(&template_dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !name.ends_with(".html") && !name.ends_with(".xml") {
                    continue;
                }
                match std::fs::read(&path).map(String::from_utf8) {
                    Ok(Ok(text)) => {
                        templates.insert(name.to_string(), (text, Some(display_path(&path))));
                    }
                    _ => errors.push(
                        Diagnostic::error("cannot read template (is it UTF-8?)").in_file(&path),
                    ),
                }
            }
        }
        let static_dir = dir.join("static");
        if static_dir.is_dir() {
            for entry in walkdir::WalkDir::new(&static_dir).into_iter().flatten() {
                if !entry.file_type().is_file() {
                    continue;
                }
                let rel = entry
                    .path()
                    .strip_prefix(&static_dir)
                    .unwrap_or(entry.path());
                match std::fs::read(entry.path()) {
                    Ok(bytes) => {
                        files.insert(display_path(rel), bytes);
                    }
                    Err(e) => errors
                        .push(Diagnostic::error(format!("cannot read: {e}")).in_file(entry.path())),
                }
            }
        }

        let mut tera = Tera::new();
        tera.autoescape_on(vec![".html", ".xml"]);
        let batch: Vec<(&str, &str)> = templates
            .iter()
            .map(|(name, (text, _))| (name.as_str(), text.as_str()))
            .collect();
        if let Err(e) = tera.add_raw_templates(batch) {
            let overridden: Vec<&str> = templates
                .values()
                .filter_map(|(_, origin)| origin.as_deref())
                .collect();
            let mut d = Diagnostic::error(format!("template error: {}", error_chain(&e)));
            if !overridden.is_empty() {
                d = d.help(format!("the site overrides: {}", overridden.join(", ")));
            }
            errors.push(d);
        }
        if errors.is_empty() {
            Ok(Theme { tera, files })
        } else {
            Err(errors)
        }
    }
}

/// The message of an error and its causes, on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
