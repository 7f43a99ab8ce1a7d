//! Search tests for writers: `content/search-tests.yaml` lists what readers type and the page
//! each query must find. A page that drops out of the top results after an edit fails the check
//! at the test's line, like a broken link.
//!
//! ```yaml
//! - query: students can't hear me
//!   expect: troubleshooting/students-cant-hear-me.md
//! - query: 视频很卡怎么办
//!   expect: zh/video-frozen-or-laggy.md
//!   top: 5
//! ```

use std::path::Path;

use serde::Deserialize;

use super::{SearchIndex, SearchRequest};
use crate::content::{Site, read_data_file, yaml_error};
use crate::diagnostic::Diagnostic;

/// The file's name in the content folder.
pub(crate) const FILE: &str = "search-tests.yaml";
/// Default rank a page must reach.
const DEFAULT_TOP: usize = 3;

/// One test as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchTest {
    /// What a reader types.
    pub query: String,
    /// The page it must find: its path under the content folder (`faq.md`).
    pub expect: String,
    /// Within the first `top` results (default 3).
    #[serde(default)]
    pub top: Option<usize>,
}

impl SearchTest {
    /// How many results the page may be among: `top`, 3 by default, at least 1.
    pub fn within(&self) -> usize {
        self.top.unwrap_or(DEFAULT_TOP).max(1)
    }
}

/// How one test went.
#[derive(Debug, Clone)]
pub struct SearchTestOutcome {
    /// The test.
    pub test: SearchTest,
    /// Its line in the file.
    pub line: usize,
    /// 1-based rank of the expected page among the results, if it is in the first 10 (or `top`).
    pub rank: Option<usize>,
    /// Number of pages the query found.
    pub total: usize,
    /// Titles of the first results, for the report.
    pub first: Vec<String>,
}

impl SearchTestOutcome {
    /// Whether the page was within `top`.
    pub fn passed(&self) -> bool {
        self.rank.is_some_and(|r| r <= self.test.within())
    }
}

/// All tests of a site, with the quality measures over them.
#[derive(Debug, Clone, Default)]
pub struct SearchTestReport {
    /// One per test, in file order.
    pub outcomes: Vec<SearchTestOutcome>,
    /// Problems: failed tests and tests naming missing pages, at their line.
    pub diagnostics: Vec<Diagnostic>,
}

impl SearchTestReport {
    /// Mean reciprocal rank of the expected pages within the first 10 results.
    pub fn mrr_at_10(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .outcomes
            .iter()
            .map(|o| o.rank.filter(|r| *r <= 10).map_or(0.0, |r| 1.0 / r as f64))
            .sum();
        sum / self.outcomes.len() as f64
    }

    /// Share of queries that found nothing at all.
    pub fn zero_result_rate(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        let zero = self.outcomes.iter().filter(|o| o.total == 0).count();
        zero as f64 / self.outcomes.len() as f64
    }

    /// Number of tests that passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed()).count()
    }
}

/// Tests with the line each starts on.
type Loaded = (Vec<SearchTest>, Vec<usize>);

/// Reads `search-tests.yaml` from the content folder (`Ok(None)` when there is none).
fn load(src_dir: &Path, shown: &str) -> Result<Option<Loaded>, Diagnostic> {
    let Some(text) = read_data_file(&src_dir.join(FILE), shown)? else {
        return Ok(None);
    };
    if text.trim().is_empty() {
        return Ok(Some((Vec::new(), Vec::new())));
    }
    let tests: Option<Vec<SearchTest>> = serde_saphyr::from_str(&text).map_err(|e| {
        yaml_error(&e, "search tests", 1)
            .in_file(shown)
            .help("each test is `- query: …` then `expect: page.md` (and optionally `top: N`)")
    })?;
    let tests = tests.unwrap_or_default();
    // Lines of the `query:` keys, in order: serde does not keep positions.
    let mut lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim_start();
            let l = l.strip_prefix('-').map_or(l, str::trim_start);
            l.starts_with("query:")
        })
        .map(|(i, _)| i + 1)
        .collect();
    if lines.len() != tests.len() {
        lines = vec![1; tests.len()];
    }
    Ok(Some((tests, lines)))
}

/// Whether the content folder `src_dir` has search tests.
pub fn has_search_tests(src_dir: &Path) -> bool {
    src_dir.join(FILE).is_file()
}

/// Runs the site's search tests against its index. `None` when the site has no tests.
pub fn run_search_tests(site: &Site, index: &SearchIndex) -> Option<SearchTestReport> {
    let shown = crate::content::src_display(&site.config, FILE);
    let mut report = SearchTestReport::default();
    let (tests, lines) = match load(&site.config.src_dir, &shown) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(d) => {
            report.diagnostics.push(d);
            return Some(report);
        }
    };
    for (test, line) in tests.into_iter().zip(lines) {
        let expect = test.expect.trim().trim_start_matches('/');
        let expect = expect.split('#').next().unwrap_or(expect);
        let page = site
            .pages
            .iter()
            .find(|p| p.source == expect || p.url == expect);
        let Some(page) = page else {
            report.diagnostics.push(
                Diagnostic::error(format!(
                    "search test for `{}` expects `{expect}`, which is not a page of the site",
                    test.query
                ))
                .in_file(&shown)
                .at(line, 1)
                .help("write the page's path under the content folder, e.g. `troubleshooting/echo.md`"),
            );
            continue;
        };
        let top = test.within();
        let results = index.search(&SearchRequest {
            query: test.query.clone(),
            limit: top.max(10),
            ..SearchRequest::default()
        });
        let want = format!("/{}", page.url);
        let rank = results
            .results
            .iter()
            .position(|h| h.url.split('#').next() == Some(want.as_str()))
            .map(|i| i + 1);
        let outcome = SearchTestOutcome {
            first: results
                .results
                .iter()
                .take(top.max(3))
                .map(|h| h.title.clone())
                .collect(),
            total: results.total,
            test,
            line,
            rank,
        };
        if !outcome.passed() {
            let place = match rank {
                Some(r) => format!("it is result {r}"),
                None if results.total == 0 => "the query finds nothing".to_string(),
                None => "it is not in the first 10 results".to_string(),
            };
            let first = outcome
                .first
                .iter()
                .map(|t| format!("“{t}”"))
                .collect::<Vec<_>>()
                .join(", ");
            report.diagnostics.push(
                Diagnostic::error(format!(
                    "search test failed: “{}” should find “{}” ({}) in the top {top}, but {place}{}",
                    outcome.test.query,
                    page.title,
                    page.source,
                    if first.is_empty() { String::new() } else { format!("; first results: {first}") }
                ))
                .in_file(&shown)
                .at(line, 1)
                .help(format!(
                    "add the reader's words to the `symptoms` of {}, or a synonym to synonyms.yaml; raise `top` only if the pages above are better answers",
                    page.source
                )),
            );
        }
        report.outcomes.push(outcome);
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_zero_means_the_first_result() {
        let outcome = |top, rank| SearchTestOutcome {
            test: SearchTest {
                query: "no sound".into(),
                expect: "audio.md".into(),
                top,
            },
            line: 1,
            rank,
            total: 1,
            first: Vec::new(),
        };
        assert!(outcome(Some(0), Some(1)).passed());
        assert!(!outcome(Some(0), Some(2)).passed());
        assert!(outcome(None, Some(3)).passed());
        assert!(!outcome(None, Some(4)).passed());
    }
}
