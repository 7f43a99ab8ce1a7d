//! One build: config -> content -> render, with every problem collected.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::content::{self, Site};
use crate::diagnostic::{Diagnostic, Severity};
use crate::render::{self, Theme, Written};
use crate::search::{self, IndexBuilder, IndexStats, SearchIndex, SearchTestReport};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The site root (holding `book.toml`).
    pub root: PathBuf,
    /// Output folder overriding `build.build-dir`.
    pub out_dir: Option<PathBuf>,
    /// Environment variables for `HELPBOOK_<SECTION>__<KEY>` overrides.
    pub env: Vec<(String, String)>,
    /// Run the search tests of `search-tests.yaml` after indexing; failures are errors.
    pub check_search: bool,
}

impl BuildOptions {
    /// Building the site at `root` with the process environment.
    pub fn new(root: impl AsRef<Path>) -> Self {
        BuildOptions {
            root: root.as_ref().to_path_buf(),
            out_dir: None,
            env: std::env::vars().collect(),
            check_search: false,
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
    /// The search index written (none when `[search] enable = false` or the build failed).
    pub index: Option<IndexStats>,
    /// Time from the start of indexing until the index was in place (in parallel with loading
    /// and writing).
    pub index_time: Duration,
    /// Results of the search tests, when they were asked for and the site has some.
    pub search_tests: Option<SearchTestReport>,
    /// Wall time of the whole build.
    pub elapsed: Duration,
    /// The site model, for callers that go on (search indexing, the preview server).
    pub site: Option<Site>,
}

impl BuildReport {
    /// Number of errors.
    pub fn errors(&self) -> usize {
        crate::diagnostic::count(&self.diagnostics, Severity::Error)
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        crate::diagnostic::count(&self.diagnostics, Severity::Warning)
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
    // The search index is written while the pages load, so analysis shares the cores with
    // Markdown rendering; a failed build drops it unfinished, which leaves nothing behind.
    let index_start = Instant::now();
    let indexer = if config.search.enable {
        IndexBuilder::for_site(&config, &config.out_dir)
            .map_err(|d| report.diagnostics.push(d))
            .ok()
    } else {
        None
    };
    let (site, diags) = content::load_with(config, &|key, page| {
        if let Some(indexer) = &indexer {
            indexer.add_page(key, page);
        }
    });
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
    // Pages are written (on every core) while the index is committed on a thread of its own.
    let (written, indexed) = std::thread::scope(|scope| {
        let finisher = indexer.map(|indexer| {
            scope.spawn(move || {
                let stats = indexer.finish();
                (stats, index_start.elapsed())
            })
        });
        let written = render::write_site(&site, &theme);
        let indexed = finisher.map(|h| h.join().expect("the indexer does not panic"));
        (written, indexed)
    });
    match written {
        Ok(written) => report.written = Some(written),
        Err(errors) => report.diagnostics.extend(errors),
    }
    if let Some((stats, time)) = indexed {
        report.index_time = time;
        match stats {
            Ok(stats) => report.index = Some(stats),
            Err(d) => report.diagnostics.push(d),
        }
    }
    if options.check_search
        && let Some(stats) = &report.index
    {
        match SearchIndex::open(&stats.dir) {
            Ok(index) => {
                if let Some(tests) = search::run_search_tests(&site, &index) {
                    report.diagnostics.extend(tests.diagnostics.iter().cloned());
                    report.search_tests = Some(tests);
                }
            }
            Err(e) => report
                .diagnostics
                .push(Diagnostic::error(e.to_string()).in_file(&stats.dir)),
        }
    }
    report.write_time = write_start.elapsed();
    report.site = Some(site);
    finish(report)
}

/// Opens the search index of the site at `root`, building the site first when there is no index
/// or the content, `book.toml` or the theme changed since it was written.
pub fn open_or_build_index(root: &Path) -> Result<SearchIndex, Vec<Diagnostic>> {
    let options = BuildOptions::new(root);
    let (config, _) = Config::load(root, options.env.iter().cloned())?;
    let dir = config.out_dir.join(search::INDEX_DIR);
    let built = std::fs::metadata(dir.join("helpbook.json")).and_then(|m| m.modified());
    let fresh = built.is_ok_and(|built| {
        let newer = |path: &Path| {
            walkdir::WalkDir::new(path)
                .into_iter()
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .any(|m| m.modified().is_ok_and(|t| t > built))
        };
        !newer(&config.src_dir) && !newer(&config.theme_dir) && !newer(&root.join("book.toml"))
    });
    if fresh && let Ok(index) = SearchIndex::open(&dir) {
        return Ok(index);
    }
    if !config.search.enable {
        return Err(vec![
            Diagnostic::error("search is turned off for this site")
                .in_file("book.toml")
                .help("remove `enable = false` from [search]"),
        ]);
    }
    let report = build(&options);
    if report.failed() {
        return Err(report.diagnostics);
    }
    SearchIndex::open(&dir).map_err(|e| vec![Diagnostic::error(e.to_string())])
}
