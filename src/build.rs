//! One build: config -> content -> render, with every problem collected.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::content::{self, Site};
use crate::diagnostic::{Diagnostic, Severity};
use crate::render::{self, Theme, Written};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site root (holding `book.toml`).
    pub root: PathBuf,
    /// Output folder overriding `build.build-dir`.
    pub out_dir: Option<PathBuf>,
    /// Environment variables for `HELPBOOK_<SECTION>__<KEY>` overrides.
    pub env: Vec<(String, String)>,
}

impl BuildOptions {
    /// Building the site at `root` with the process environment.
    pub fn new(root: impl AsRef<Path>) -> Self {
        BuildOptions {
            root: root.as_ref().to_path_buf(),
            out_dir: None,
            env: std::env::vars().collect(),
        }
    }
}

/// The outcome of a build.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Every problem and note, sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
    /// What was written, when the build succeeded.
    pub written: Option<Written>,
    /// Where the output went.
    pub out_dir: Option<PathBuf>,
    /// Time spent reading and rendering content.
    pub load_time: Duration,
    /// Time spent rendering templates and writing files.
    pub write_time: Duration,
    /// Wall time of the whole build.
    pub elapsed: Duration,
    /// The site model, for callers that go on (search indexing, the preview server).
    pub site: Option<Site>,
}

impl BuildReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    /// Whether the build failed.
    pub fn failed(&self) -> bool {
        self.errors() > 0 || self.written.is_none()
    }
}

/// Builds a site. Nothing is written when the content has errors, so a broken site is never
/// published over a good one.
pub fn build(options: &BuildOptions) -> BuildReport {
    let start = Instant::now();
    let mut report = BuildReport::default();
    let finish = |mut report: BuildReport| {
        report.diagnostics.sort_by(|a, b| {
            (a.path.as_ref(), a.line, a.column).cmp(&(b.path.as_ref(), b.line, b.column))
        });
        report.elapsed = start.elapsed();
        report
    };

    let (mut config, notes) = match Config::load(&options.root, options.env.iter().cloned()) {
        Ok(c) => c,
        Err(errors) => {
            report.diagnostics = errors;
            return finish(report);
        }
    };
    report.diagnostics.extend(notes);
    if let Some(out) = &options.out_dir {
        config.set_out_dir(out);
    }
    report.out_dir = Some(config.out_dir.clone());

    // The theme is checked before content so a template typo is reported with content errors.
    let theme = Theme::load(&config.theme_dir);
    let (site, diags) = content::load(config);
    report.load_time = start.elapsed();
    report.diagnostics.extend(diags);
    let theme = match theme {
        Ok(t) => Some(t),
        Err(errors) => {
            report.diagnostics.extend(errors);
            None
        }
    };
    if report.errors() > 0 {
        report.site = Some(site);
        return finish(report);
    }
    let theme = theme.expect("no errors means the theme loaded");
    let write_start = Instant::now();
    match render::write_site(&site, &theme) {
        Ok(written) => report.written = Some(written),
        Err(errors) => report.diagnostics.extend(errors),
    }
    report.write_time = write_start.elapsed();
    report.site = Some(site);
    finish(report)
}
