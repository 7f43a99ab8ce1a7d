//! `TestSite`: a site in a temporary folder, built with the library or the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use helpbook::{BuildOptions, BuildReport, build};

pub(crate) struct TestSite {
    dir: tempfile::TempDir,
}

impl TestSite {
    pub(crate) fn new() -> Self {
        TestSite {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A copy of `tests/fixtures/<name>`.
    pub(crate) fn fixture(name: &str) -> Self {
        let site = TestSite::new();
        copy_dir(&fixtures_dir().join(name), site.root());
        site
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the site root.
    pub(crate) fn file(self, rel: &str, text: impl AsRef<[u8]>) -> Self {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Writes a page under `content/`.
    pub(crate) fn page(self, rel: &str, text: &str) -> Self {
        self.file(&format!("content/{rel}"), text)
    }

    /// Builds with the library, without environment overrides.
    pub(crate) fn build(&self) -> BuildReport {
        build(&BuildOptions {
            root: self.root().to_path_buf(),
            out_dir: None,
            env: Vec::new(),
            ..Default::default()
        })
    }

    /// Builds and asserts success.
    pub(crate) fn build_ok(&self) -> BuildReport {
        let report = self.build();
        assert!(!report.failed(), "build failed:\n{}", messages(&report));
        report
    }

    /// Runs the binary with `args` in the site root.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_helpbook"))
            .args(args)
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .output()
            .expect("run helpbook")
    }

    /// A file of the output (`public/`).
    pub(crate) fn output(&self, rel: &str) -> String {
        let path = self.root().join("public").join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub(crate) fn output_exists(&self, rel: &str) -> bool {
        self.root().join("public").join(rel).exists()
    }
}

pub(crate) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// All diagnostics as `location: severity: message` lines.
pub(crate) fn messages(report: &BuildReport) -> String {
    report
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `<div class="content">` of a page.
pub(crate) fn content_of(html: &str) -> &str {
    let start = html.find("<div class=\"content\">").expect("content div");
    let end = html[start..]
        .find("\n  </div>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}
