//! Full-text search: a tantivy index of every page section, built with the site, queried from
//! the command line, the server and the writers' search tests.
//!
//! English is lowercased and stemmed; Chinese is segmented by jieba (with a project word list)
//! and also indexed as character bigrams. Queries are built from the analyser's tokens, never
//! parsed as query syntax, so whatever a reader types gets results or an empty list with a
//! reason, never an error. See [`query`] for ranking and [`FIELD_BOOSTS`] for the weights.

mod analyzer;
mod checks;
mod index;
mod query;
mod snippet;
mod synonyms;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use tantivy::schema::Value;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

pub use checks::{
    SearchTest, SearchTestOutcome, SearchTestReport, has_search_tests, run_search_tests,
};
pub use index::{INDEX_DIR, IndexBuilder, IndexStats, IndexUpdater};
pub use query::{FIELD_BOOSTS, MAX_QUERY_CHARS, SearchRequest};
pub use synonyms::Synonyms;

pub(crate) use analyzer::is_cjk;

use crate::i18n::Locale;
use analyzer::Analyzers;
use index::Fields;
use query::{BestPerPage, Context, SynonymTable};

/// Results of one search, in the shape the CLI and the API print.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// The query searched (cut to [`MAX_QUERY_CHARS`]).
    pub query: String,
    /// Number of matching pages.
    pub total: usize,
    /// Best pages first, one entry per page.
    pub results: Vec<Hit>,
    /// Whether typo tolerance found these results because the words as typed matched nothing.
    pub fuzzy: bool,
    /// Why the list is empty or approximate, for the reader.
    pub reason: Option<String>,
    /// The same as a stable code (`empty-query`, `no-words`, `no-match`, `fuzzy`).
    pub reason_code: Option<&'static str>,
}

impl SearchResults {
    /// No results yet for `query`.
    pub fn empty(query: String) -> SearchResults {
        SearchResults {
            query,
            total: 0,
            results: Vec::new(),
            fuzzy: false,
            reason: None,
            reason_code: None,
        }
    }
}

/// One result: the best-matching section of a page.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// `/path.html#anchor`, relative to the site root.
    pub url: String,
    /// Page title.
    pub title: String,
    /// Heading of the section ("" for the page's opening text).
    pub section: String,
    /// HTML: escaped text with `<mark>` around matched words.
    pub snippet: String,
    /// Page kind.
    pub kind: String,
    /// Relevance (BM25 with field boosts), for ordering only.
    pub score: f32,
}

/// Failure to open an index.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// There is no index at the path.
    #[error("no search index at {0}: build the site first (`helpbook build`)")]
    Missing(PathBuf),
    /// The index is unreadable or from another version.
    #[error("the search index at {path} cannot be used: {reason}; rebuild the site")]
    Unusable {
        /// The index folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// An opened index, ready for queries from any number of threads.
pub struct SearchIndex {
    reader: IndexReader,
    /// What searches read: replaced as a whole by [`SearchIndex::reload`].
    current: RwLock<Arc<Snapshot>>,
    fields: Fields,
    analyzers: Analyzers,
    synonyms: SynonymTable,
    locale: Locale,
    pages: usize,
    dir: PathBuf,
}

/// One state of the index: a searcher and the page of each of its documents.
struct Snapshot {
    searcher: tantivy::Searcher,
    page_map: query::PageMap,
}

impl Snapshot {
    fn of(reader: &IndexReader) -> tantivy::Result<Snapshot> {
        let searcher = reader.searcher();
        let page_map = query::page_map(&searcher)?;
        Ok(Snapshot { searcher, page_map })
    }
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .field("pages", &self.pages)
            .finish()
    }
}

impl SearchIndex {
    /// Opens the index of a built site (`out_dir` is the output folder).
    pub fn open_output(out_dir: &Path) -> Result<SearchIndex, OpenError> {
        SearchIndex::open(&out_dir.join(INDEX_DIR))
    }

    /// Opens the index in `dir`.
    pub fn open(dir: &Path) -> Result<SearchIndex, OpenError> {
        if !dir.join("helpbook.json").is_file() {
            return Err(OpenError::Missing(dir.to_path_buf()));
        }
        let unusable = |reason: String| OpenError::Unusable {
            path: dir.to_path_buf(),
            reason,
        };
        let meta = index::read_meta(dir).map_err(unusable)?;
        let index = Index::open_in_dir(dir).map_err(|e| unusable(e.to_string()))?;
        let fields = Fields::from_schema(&index.schema()).map_err(|e| unusable(e.to_string()))?;
        let analyzers = Analyzers::new(&meta.words);
        index::register(&index, &analyzers);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| unusable(e.to_string()))?;
        let synonyms = SynonymTable::new(&analyzers, &meta.synonyms.groups);
        let snapshot = Snapshot::of(&reader).map_err(|e| unusable(e.to_string()))?;
        Ok(SearchIndex {
            reader,
            current: RwLock::new(Arc::new(snapshot)),
            fields,
            synonyms,
            locale: Locale::from_tag(&meta.language),
            analyzers,
            pages: meta.pages,
            dir: dir.to_path_buf(),
        })
    }

    /// Reads the index again, after a writer committed changes (the writer preview).
    pub fn reload(&self) -> Result<(), String> {
        self.reader.reload().map_err(|e| e.to_string())?;
        let snapshot = Snapshot::of(&self.reader).map_err(|e| e.to_string())?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        Ok(())
    }

    /// Number of pages indexed.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The language of the site, for messages about a search.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The normalised form of a query, which groups the ways readers type one question: its
    /// words as the query analysis sees them (lowercased, stemmed), each once, sorted
    /// (`Students can't HEAR me` and `students cant hear me!` both give `cant hear me student`).
    pub fn normalize(&self, query: &str) -> String {
        let mut words: Vec<String> = query::analyse(&self.analyzers, query)
            .all
            .into_iter()
            .map(|w| w.stem)
            .collect();
        words.sort();
        words.dedup();
        words.join(" ")
    }

    /// Runs a search. Any input is fine: an empty or meaningless query gets an empty list with
    /// a reason.
    pub fn search(&self, request: &SearchRequest) -> SearchResults {
        let query: String = request.query.chars().take(MAX_QUERY_CHARS).collect();
        let limit = request.limit.clamp(1, 100);
        let mut results = SearchResults::empty(query.clone());
        let t = |key: &str| self.locale.get(key).to_string();
        if query.trim().is_empty() {
            results.reason = Some(t("search_empty_query"));
            results.reason_code = Some("empty-query");
            return results;
        }
        let mut plan = query::analyse(&self.analyzers, &query);
        if plan.words.is_empty() {
            results.reason = Some(t("search_no_words"));
            results.reason_code = Some("no-words");
            return results;
        }
        let snapshot = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let searcher = &snapshot.searcher;
        let cx = Context {
            searcher,
            fields: &self.fields,
            synonyms: &self.synonyms,
        };
        let collector = BestPerPage {
            zh: query.chars().any(analyzer::is_cjk),
            pages: &snapshot.page_map,
        };
        let q = query::build(&cx, &mut plan, &query, request, false);
        let mut hits = searcher.search(&*q, &collector).unwrap_or_default();
        let mut fuzzy = plan.fuzzy;
        if hits.is_empty() {
            let q = query::build(&cx, &mut plan, &query, request, true);
            if plan.fuzzy {
                hits = searcher.search(&*q, &collector).unwrap_or_default();
                fuzzy = true;
            }
        }
        query::rank(&mut hits, limit);
        results.total = hits.len();
        results.fuzzy = fuzzy && !hits.is_empty();
        if hits.is_empty() {
            results.reason = Some(t("search_no_results_tip"));
            results.reason_code = Some("no-match");
            return results;
        }
        if results.fuzzy {
            results.reason = Some(t("search_fuzzy"));
            results.reason_code = Some("fuzzy");
        }
        let mut snippets = snippet::Snippets::new(&plan, &self.analyzers);
        for (_, score, address) in hits.into_iter().take(limit) {
            let Ok(doc) = searcher.doc::<TantivyDocument>(address) else {
                continue;
            };
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let body = text(self.fields.body);
            results.results.push(Hit {
                url: text(self.fields.url),
                title: text(self.fields.title),
                section: text(self.fields.heading),
                snippet: snippets.make(&body),
                kind: text(self.fields.kind),
                score: (score * 1000.0).round() / 1000.0,
            });
        }
        results
    }
}
