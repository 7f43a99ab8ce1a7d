//! Writing the index: one tantivy document per page section, so a result opens at its heading.
//!
//! The index lives in `<output>/.helpbook/search/` (hidden, so the output pruning and the server's
//! static files leave it alone) next to `helpbook.json`, which records what a reader of the index
//! needs to analyse queries the same way: the segmenter's extra words and the synonyms. A build
//! writes a fresh index beside the old one and swaps it in, so a running server never opens a
//! half-written index.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::analyzer::{self, Analyzers};
use super::synonyms::Synonyms;
use crate::config::Config;
use crate::content::Page;
use crate::diagnostic::Diagnostic;
use crate::i18n::Locale;

/// Where the index goes, relative to the output folder.
pub const INDEX_DIR: &str = ".helpbook/search";
const META_FILE: &str = "helpbook.json";
/// Bumped when the schema or the analysis changes, so an old index is rebuilt, not misread.
const FORMAT: u32 = 5;

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub title: Field,
    pub symptoms: Field,
    pub tags: Field,
    pub heading: Field,
    pub body: Field,
    pub code: Field,
    pub grams: Field,
    pub kind: Field,
    pub audience: Field,
    pub lang: Field,
    pub page: Field,
    /// 1 for a Chinese page, 0 otherwise: results in the reader's script rank a little higher.
    pub zh: Field,
    pub url: Field,
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let text = |stored: bool, analyzer: &str, record: IndexRecordOption| {
            let o = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer)
                    .set_index_option(record),
            );
            if stored { o.set_stored() } else { o }
        };
        let positions = IndexRecordOption::WithFreqsAndPositions;
        let fields = Fields {
            title: b.add_text_field("title", text(true, analyzer::TEXT, positions)),
            symptoms: b.add_text_field("symptoms", text(false, analyzer::TEXT, positions)),
            tags: b.add_text_field("tags", text(false, analyzer::TEXT, positions)),
            heading: b.add_text_field("heading", text(true, analyzer::TEXT, positions)),
            body: b.add_text_field("body", text(true, analyzer::TEXT, positions)),
            // Code is never matched as a phrase, so it keeps no positions.
            code: b.add_text_field(
                "code",
                text(false, analyzer::TEXT, IndexRecordOption::WithFreqs),
            ),
            grams: b.add_text_field("grams", text(false, analyzer::GRAMS, positions)),
            kind: b.add_text_field("kind", STRING | STORED),
            audience: b.add_text_field("audience", STRING),
            lang: b.add_text_field("lang", STRING),
            // Indexed too, so a preview can replace one page's documents.
            page: b.add_u64_field("page", FAST | INDEXED),
            zh: b.add_u64_field("zh", FAST),
            url: b.add_text_field("url", STORED),
        };
        (b.build(), fields)
    }

    /// Looks the fields up in an opened index.
    pub(crate) fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            title: f("title")?,
            symptoms: f("symptoms")?,
            tags: f("tags")?,
            heading: f("heading")?,
            body: f("body")?,
            code: f("code")?,
            grams: f("grams")?,
            kind: f("kind")?,
            audience: f("audience")?,
            lang: f("lang")?,
            page: f("page")?,
            zh: f("zh")?,
            url: f("url")?,
        })
    }
}

/// What a reader of the index needs besides tantivy's files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub format: u32,
    /// `book.language`: the language of messages about a search.
    pub language: String,
    /// Words added to the segmenter's dictionary.
    pub words: Vec<String>,
    pub synonyms: Synonyms,
    pub pages: usize,
    pub sections: usize,
}

/// What indexing wrote.
#[derive(Debug, Clone)]
pub struct IndexStats {
    /// The index folder.
    pub dir: PathBuf,
    /// Pages indexed.
    pub pages: usize,
    /// Documents (page sections) indexed.
    pub sections: usize,
    /// Size of the index on disk, in bytes.
    pub bytes: u64,
}

/// The segmenter's extra words for a site: `[search] extra-words` and the Chinese phrases of
/// the synonyms.
fn site_words(config: &Config, synonyms: &Synonyms) -> Vec<String> {
    let mut words: Vec<String> = config.search.extra_words.clone();
    words.extend(synonyms.chinese_words().map(str::to_string));
    words.sort();
    words.dedup();
    words
}

/// An index being written. Pages are added from any thread while the site loads, so analysis
/// runs alongside Markdown rendering; [`IndexBuilder::finish`] commits the index and swaps it in
/// place of the old one. Dropped without `finish` (the build failed), it leaves nothing behind.
pub struct IndexBuilder {
    index: Index,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    meta: Meta,
    /// Where the index goes when finished.
    final_dir: PathBuf,
    /// The folder being written, removed if the builder is dropped unfinished.
    scratch: Scratch,
    pages: AtomicUsize,
    sections: AtomicUsize,
    /// The first error of adding a document (reported by `finish`).
    error: Mutex<Option<String>>,
}

/// The new index's folder and the folders made for it: removed unless the index was finished.
#[derive(Debug)]
struct Scratch {
    tmp: PathBuf,
    /// Folders created for the index (the output folder, `.helpbook`), outermost first.
    created: Vec<PathBuf>,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.tmp);
            for dir in self.created.iter().rev() {
                // Only when empty: a folder someone else wrote to meanwhile stays.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

impl std::fmt::Debug for IndexBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexBuilder")
            .field("dir", &self.final_dir)
            .finish_non_exhaustive()
    }
}

/// Memory for the indexing thread: enough for 10,000 pages in one segment.
const WRITER_MEMORY: usize = 64 << 20;

impl IndexBuilder {
    /// Starts the index of the site configured by `config` with its `synonyms.yaml`, written to
    /// `out_dir/.helpbook/search` when finished.
    pub fn for_site(config: &Config, out_dir: &Path) -> Result<IndexBuilder, Diagnostic> {
        let shown = crate::content::src_display(config, "");
        let synonyms = Synonyms::load(&config.src_dir, &shown)?;
        IndexBuilder::start(config, &synonyms, out_dir)
    }

    /// Starts a new index for the site configured by `config`, written to
    /// `out_dir/.helpbook/search` when finished.
    pub fn start(
        config: &Config,
        synonyms: &Synonyms,
        out_dir: &Path,
    ) -> Result<IndexBuilder, Diagnostic> {
        let words = site_words(config, synonyms);
        let analyzers = Analyzers::new(&words);
        let final_dir = out_dir.join(INDEX_DIR);
        let fail = |what: &str, e: &dyn std::fmt::Display| index_error(&final_dir, what, e);
        let parent = final_dir.parent().expect("INDEX_DIR has a parent");
        let mut created = Vec::new();
        for dir in [out_dir, parent] {
            if !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the folder", &e))?;
                created.push(dir.to_path_buf());
            }
        }
        let tmp = parent.join(format!("search.new-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| fail("cannot create the folder", &e))?;
        let (schema, fields) = Fields::schema();
        let index = Index::create_in_dir(&tmp, schema).map_err(|e| fail("cannot create", &e))?;
        register(&index, &analyzers);
        // One indexing thread: the pages are analysed while the other cores render Markdown, and
        // a site of up to about 10,000 pages ends up in a single segment, which queries best
        // (measured: p50 1.0 ms with one segment against 1.7 ms with two), with no merge.
        let writer = index
            .writer_with_num_threads::<TantivyDocument>(1, WRITER_MEMORY)
            .map_err(|e| fail("cannot open a writer", &e))?;
        Ok(IndexBuilder {
            index,
            writer,
            fields,
            meta: Meta {
                format: FORMAT,
                language: config.book.language.clone(),
                words,
                synonyms: synonyms.clone(),
                pages: 0,
                sections: 0,
            },
            final_dir,
            scratch: Scratch {
                tmp,
                created,
                keep: false,
            },
            pages: AtomicUsize::new(0),
            sections: AtomicUsize::new(0),
            error: Mutex::new(None),
        })
    }

    /// Adds one document per section of `page`; `key` tells pages apart (one result per page).
    /// Generated pages are not indexed.
    pub fn add_page(&self, key: usize, page: &Page) {
        if page.is_made_up_section() {
            return;
        }
        let docs = page_documents(&self.fields, key as u64, page);
        self.pages.fetch_add(1, Ordering::Relaxed);
        for doc in docs {
            match self.writer.add_document(doc) {
                Ok(_) => {
                    self.sections.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
                    error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }

    /// Commits the index and puts it in place of the previous one.
    pub fn finish(self) -> Result<IndexStats, Diagnostic> {
        let IndexBuilder {
            index,
            mut writer,
            meta,
            final_dir,
            mut scratch,
            pages,
            sections,
            error,
            ..
        } = self;
        let fail = |what: &str, e: &dyn std::fmt::Display| index_error(&final_dir, what, e);
        if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(fail("cannot add a document", &e));
        }
        writer.commit().map_err(|e| fail("cannot commit", &e))?;
        // A very large site can fill the writer's memory more than once: one segment queries
        // best, so the segments are merged.
        let segments = index
            .searchable_segment_ids()
            .map_err(|e| fail("cannot list segments", &e))?;
        if segments.len() > 1 {
            writer
                .merge(&segments)
                .wait()
                .map_err(|e| fail("cannot merge", &e))?;
        }
        let meta = Meta {
            pages: pages.into_inner(),
            sections: sections.into_inner(),
            ..meta
        };
        let json = serde_json::to_vec_pretty(&meta).expect("meta serialises");
        std::fs::write(scratch.tmp.join(META_FILE), json)
            .map_err(|e| fail("cannot write helpbook.json", &e))?;
        // The writer's threads must be gone before its folder is moved.
        writer
            .wait_merging_threads()
            .map_err(|e| fail("cannot finish merging", &e))?;

        // Swap: the old index is moved aside first, so the final name always holds a whole index.
        let parent = final_dir.parent().expect("INDEX_DIR has a parent");
        let old = parent.join(format!("search.old-{}", std::process::id()));
        if final_dir.exists() {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&final_dir, &old).map_err(|e| fail("cannot replace", &e))?;
        }
        std::fs::rename(&scratch.tmp, &final_dir).map_err(|e| fail("cannot replace", &e))?;
        scratch.keep = true;
        let _ = std::fs::remove_dir_all(&old);
        Ok(IndexStats {
            bytes: dir_size(&final_dir),
            dir: final_dir,
            pages: meta.pages,
            sections: meta.sections,
        })
    }
}

/// The documents of one page: one per section. None for a folder's made-up section page.
fn page_documents(f: &Fields, key: u64, page: &Page) -> Vec<TantivyDocument> {
    if page.is_made_up_section() {
        return Vec::new();
    }
    let audience = page.front.audience.map_or("everyone", |a| a.as_str());
    let description = page
        .front
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty());
    // A tree is found under its first question, the heading of the page a result opens: the
    // tree's title names every problem it covers, and weighed as a title it would outrank
    // the guides that fix each one (measured with the sample site's search tests).
    let title = page
        .triage
        .as_ref()
        .and_then(|t| t.question.as_deref())
        .unwrap_or(&page.title);
    let chinese_title = title.chars().any(analyzer::is_cjk);
    let mut docs = Vec::with_capacity(page.sections.len());
    for (i, section) in page.sections.iter().enumerate() {
        let body: std::borrow::Cow<'_, str> = match (i == 0, description) {
            (true, Some(d)) if section.text.trim().is_empty() => d.into(),
            (true, Some(d)) => format!("{d}\n{}", section.text).into(),
            _ => section.text.as_str().into(),
        };
        if body.trim().is_empty()
            && section.code.trim().is_empty()
            && section.heading.trim().is_empty()
        {
            continue;
        }
        let url = match &section.anchor {
            Some(a) => format!("/{}#{a}", page.url),
            None => format!("/{}", page.url),
        };
        let mut doc = TantivyDocument::default();
        doc.add_text(f.title, title);
        doc.add_text(f.heading, &section.heading);
        doc.add_text(f.body, &body);
        if !section.code.is_empty() {
            doc.add_text(f.code, &section.code);
        }
        for s in &page.front.symptoms {
            doc.add_text(f.symptoms, s);
        }
        for t in &page.front.tags {
            doc.add_text(f.tags, t);
        }
        if chinese_title || body.chars().any(analyzer::is_cjk) {
            doc.add_text(f.grams, title);
            for s in &page.front.symptoms {
                doc.add_text(f.grams, s);
            }
            doc.add_text(f.grams, &section.heading);
            doc.add_text(f.grams, &body);
        }
        doc.add_text(f.kind, page.kind.as_str());
        doc.add_text(f.audience, audience);
        doc.add_text(f.lang, &page.lang);
        doc.add_u64(f.page, key);
        doc.add_u64(f.zh, u64::from(page.locale == Locale::Zh));
        doc.add_text(f.url, &url);
        docs.push(doc);
    }
    docs
}

/// An index already in place, changed page by page (the writer preview's edits). Readers see a
/// change once it is committed and they reload.
pub struct IndexUpdater {
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    dir: PathBuf,
}

impl std::fmt::Debug for IndexUpdater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexUpdater")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Memory for the preview's writer: a few pages at a time.
const UPDATER_MEMORY: usize = 16 << 20;

impl IndexUpdater {
    /// Opens the index in `dir` (`<output>/.helpbook/search`) for writing.
    pub fn open(dir: &Path) -> Result<IndexUpdater, Diagnostic> {
        let fail = |what: &str, e: &dyn std::fmt::Display| index_error(dir, what, e);
        let meta = read_meta(dir).map_err(|e| fail("cannot open", &e))?;
        let index = Index::open_in_dir(dir).map_err(|e| fail("cannot open", &e))?;
        let fields = Fields::from_schema(&index.schema()).map_err(|e| fail("cannot open", &e))?;
        register(&index, &Analyzers::new(&meta.words));
        let writer = index
            .writer_with_num_threads::<TantivyDocument>(1, UPDATER_MEMORY)
            .map_err(|e| fail("cannot open a writer", &e))?;
        Ok(IndexUpdater {
            writer,
            fields,
            dir: dir.to_path_buf(),
        })
    }

    /// Replaces the documents of page `key` with those of `page` (none: the page is gone).
    pub fn replace(&mut self, key: u64, page: Option<&Page>) -> Result<(), Diagnostic> {
        self.writer
            .delete_term(tantivy::Term::from_field_u64(self.fields.page, key));
        for doc in page
            .map(|p| page_documents(&self.fields, key, p))
            .unwrap_or_default()
        {
            self.writer
                .add_document(doc)
                .map_err(|e| index_error(&self.dir, "cannot add a document", &e))?;
        }
        Ok(())
    }

    /// Makes the changes since the last commit visible to readers that reload.
    pub fn commit(&mut self) -> Result<(), Diagnostic> {
        self.writer
            .commit()
            .map(|_| ())
            .map_err(|e| index_error(&self.dir, "cannot commit", &e))
    }
}

fn index_error(dir: &Path, what: &str, e: &dyn std::fmt::Display) -> Diagnostic {
    Diagnostic::error(format!("search index: {what}: {e}"))
        .in_file(dir)
        .help("check that the output folder is writable and the disk is not full")
}

/// Registers the analysers under the names the schema uses.
pub(crate) fn register(index: &Index, analyzers: &Analyzers) {
    let m = index.tokenizers();
    m.register(analyzer::TEXT, analyzers.text.clone());
    m.register(analyzer::GRAMS, analyzers.grams.clone());
}

/// Reads `meta.json` of an index folder.
pub(crate) fn read_meta(dir: &Path) -> Result<Meta, String> {
    let path = dir.join(META_FILE);
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta: Meta = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    if meta.format != FORMAT {
        return Err(format!(
            "the index was written by another version of helpbook (format {}, expected {FORMAT})",
            meta.format
        ));
    }
    Ok(meta)
}

fn dir_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}
