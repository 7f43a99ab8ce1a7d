//! Turning what a reader typed into a tantivy query, and running it.
//!
//! We never hand the reader's text to tantivy's `QueryParser`: its syntax (`AND`, quotes,
//! `field:`) is not what readers mean, and it turns a run of Chinese characters into one phrase
//! that must match exactly. Instead the query is analysed with the index's own analyser and
//! built from its tokens:
//!
//! - every word is a clause over the fields, weighted by [`FIELD_BOOSTS`]; the words are OR-ed,
//!   and a document that has *all* of them gets a bonus, as does one with the words in order;
//! - a word the index does not know gets typo tolerance (edit distance 1 from 4 letters,
//!   2 from 8), and the last word also matches as a prefix while the reader is still typing;
//! - Chinese also matches through character bigrams, so a segmentation that differs between
//!   query and page costs ranking, never the result;
//! - a phrase from `synonyms.yaml` brings in the other phrases of its group, weighted lower;
//! - a search that finds nothing exactly is retried with typo tolerance on every word.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use super::analyzer::{self, Analyzers, Word};
use super::index::Fields;
use super::snippet::within_distance;
use crate::content::{Audience, Kind};

/// How much a match in each field counts, relative to the body text. Title beats symptoms
/// (the reader's own words, from front matter) beats headings and tags beats prose beats code.
pub const FIELD_BOOSTS: [(&str, f32); 6] = [
    ("title", 6.0),
    ("symptoms", 4.5),
    ("heading", 3.0),
    ("tags", 2.5),
    ("body", 1.0),
    ("code", 0.3),
];
/// Weight of the Chinese bigram field (a safety net under jieba's words).
const GRAMS_BOOST: f32 = 0.6;
/// A typo-tolerant match counts this much of an exact one.
const FUZZY_FACTOR: f32 = 0.6;
/// A prefix match of the last word (search as you type).
const PREFIX_FACTOR: f32 = 0.7;
/// A phrase from the same synonym group as one the reader typed.
const SYNONYM_FACTOR: f32 = 0.6;
/// Extra weight of a document matching every word.
const ALL_WORDS_BONUS: f32 = 1.0;
/// Extra weight of the words in the order typed.
const PHRASE_BONUS: f32 = 1.5;
/// Longest query analysed, in characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most words analysed.
const MAX_TERMS: usize = 24;

/// Words so common in questions that they say nothing about the answer. They still count in
/// phrases, and a query of nothing else keeps them.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "not", "no", "is", "are", "was", "were", "be", "been", "to",
    "of", "in", "on", "at", "for", "with", "my", "me", "i", "im", "it", "its", "this", "that",
    "how", "do", "does", "did", "what", "why", "when", "where", "which", "who", "you", "your",
    "from", "by", "as", "so", "if", "then", "there", "into", "can", "should", "would", "will",
    "we", "our", "us", "they", "them", "their", "he", "she", "his", "her", "am", "has", "have",
    "had", "any", "some", "get", "gets", "got", "please", "help",
];
const STOP_WORDS_ZH: &[&str] = &[
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "嘛",
    "怎么",
    "怎么办",
    "怎么样",
    "怎样",
    "如何",
    "为什么",
    "为何",
    "什么",
    "是",
    "在",
    "我",
    "我的",
    "你",
    "你的",
    "他",
    "她",
    "它",
    "们",
    "我们",
    "他们",
    "很",
    "也",
    "都",
    "就",
    "还",
    "又",
    "和",
    "与",
    "或",
    "一下",
    "请问",
    "老是",
    "总是",
    "一直",
    "可以",
    "能",
    "会",
    "要",
    "这",
    "那",
    "这个",
    "那个",
    "有",
    "该",
    "办",
];

fn is_stop(word: &Word<'_>) -> bool {
    if word.cjk {
        STOP_WORDS_ZH.contains(&word.text)
    } else {
        STOP_WORDS.contains(&word.text)
    }
}

/// A search as asked.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What the reader typed.
    pub query: String,
    /// Most results (pages) to return.
    pub limit: usize,
    /// Only pages of this kind.
    pub kind: Option<Kind>,
    /// Only pages for this audience (pages for everyone always qualify).
    pub audience: Option<Audience>,
}

/// One analysed word of the query.
#[derive(Debug, Clone)]
pub(crate) struct QueryWord {
    /// As typed, lowercased.
    pub raw: String,
    /// Index form (stemmed).
    pub stem: String,
    pub cjk: bool,
    pub stop: bool,
    /// Position in the query, for phrases.
    pub position: usize,
    /// Byte range in the query.
    pub start: usize,
    pub end: usize,
}

/// The analysed query, kept for highlighting.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Words that take part in matching (stop words dropped unless nothing else is left).
    pub words: Vec<QueryWord>,
    /// Every word, in order, for phrases and synonyms.
    pub all: Vec<QueryWord>,
    /// Stems of synonyms brought in (for highlighting).
    pub synonym_stems: Vec<String>,
    /// Chinese phrases brought in by synonyms (for highlighting).
    pub synonym_cjk: Vec<String>,
    /// Whether some word was widened for a typo.
    pub fuzzy: bool,
    /// Index words that typos and the prefix of the last word were widened to.
    pub expanded: Vec<String>,
    /// The last word, matched as a prefix too.
    pub prefix: Option<String>,
}

/// Analyses `text` (already cut to [`MAX_QUERY_CHARS`]).
pub(crate) fn analyse(analyzers: &Analyzers, text: &str) -> Plan {
    let mut all = Vec::new();
    analyzer::words(&analyzers.jieba, text, |w| {
        if all.len() >= MAX_TERMS * 2 {
            return;
        }
        let stem = if w.cjk {
            w.text.to_string()
        } else {
            match analyzer::stem_word(w.text) {
                Some(s) => s,
                None => return, // too long to be indexed
            }
        };
        all.push(QueryWord {
            stop: is_stop(&w),
            raw: w.text.to_string(),
            stem,
            cjk: w.cjk,
            position: all.len(),
            start: w.start,
            end: w.end,
        });
    });
    let mut words: Vec<QueryWord> = Vec::new();
    let keep_stops = all.iter().all(|w| w.stop);
    for w in &all {
        if (keep_stops || !w.stop) && !words.iter().any(|x| x.stem == w.stem) {
            words.push(w.clone());
        }
    }
    words.truncate(MAX_TERMS);
    Plan {
        words,
        all,
        ..Plan::default()
    }
}

/// Compiled synonym groups: each phrase as its words' stems, and its Chinese text.
#[derive(Debug, Clone, Default)]
pub(crate) struct SynonymTable {
    groups: Vec<Vec<Phrase>>,
}

#[derive(Debug, Clone)]
struct Phrase {
    /// Every word's stem, in order, to find the phrase in a query.
    stems: Vec<String>,
    /// The stems a page must have to match the phrase: stop words left out, as in a query.
    required: Vec<String>,
    /// The phrase itself, when it is Chinese (matched as a substring of the query).
    cjk: Option<String>,
}

impl SynonymTable {
    pub(crate) fn new(analyzers: &Analyzers, groups: &[Vec<String>]) -> SynonymTable {
        let groups = groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|p| {
                        let plan = analyse(analyzers, p);
                        Phrase {
                            stems: plan.all.iter().map(|w| w.stem.clone()).collect(),
                            required: plan.words.iter().map(|w| w.stem.clone()).collect(),
                            cjk: p.chars().any(analyzer::is_cjk).then(|| p.to_lowercase()),
                        }
                    })
                    .filter(|p| !p.stems.is_empty())
                    .collect()
            })
            .collect();
        SynonymTable { groups }
    }
}

/// A match of a synonym phrase in the query: the query words it covers and the other phrases.
struct Concept<'a> {
    covers: Vec<usize>,
    others: Vec<&'a Phrase>,
}

fn find_concepts<'a>(table: &'a SynonymTable, plan: &Plan, query: &str) -> Vec<Concept<'a>> {
    let lower = query.to_lowercase();
    let stems: Vec<&str> = plan.all.iter().map(|w| w.stem.as_str()).collect();
    let mut out = Vec::new();
    for group in &table.groups {
        let mut best: Option<(usize, Vec<usize>)> = None;
        for (i, phrase) in group.iter().enumerate() {
            let n = phrase.stems.len();
            let mut covered: Option<Vec<usize>> = None;
            if let Some(at) = stems
                .windows(n)
                .position(|w| w.iter().zip(&phrase.stems).all(|(a, b)| *a == b.as_str()))
            {
                covered = Some((at..at + n).collect());
            } else if let Some(cjk) = &phrase.cjk
                && let Some(byte) = lower.find(cjk.as_str())
            {
                // Chinese: the phrase is in the query even when jieba cut it differently.
                let end = byte + cjk.len();
                let within: Vec<usize> = plan
                    .all
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.start >= byte && w.end <= end)
                    .map(|(i, _)| i)
                    .collect();
                covered = Some(within);
            }
            if let Some(c) = covered
                && best.as_ref().is_none_or(|(_, b)| c.len() > b.len())
            {
                best = Some((i, c));
            }
        }
        if let Some((matched, covers)) = best {
            let covers = covers
                .into_iter()
                .filter_map(|i| {
                    let stem = &plan.all[i].stem;
                    plan.words.iter().position(|w| &w.stem == stem)
                })
                .collect();
            out.push(Concept {
                covers,
                others: group
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != matched)
                    .map(|(_, p)| p)
                    .collect(),
            });
        }
    }
    out
}

/// What the query builder needs from the index.
pub(crate) struct Context<'a> {
    pub searcher: &'a Searcher,
    pub fields: &'a Fields,
    pub synonyms: &'a SynonymTable,
}

impl Context<'_> {
    /// The text fields with their boosts, strongest first; the first five are prose.
    fn text_fields(&self) -> [(Field, f32); 6] {
        let f = self.fields;
        [
            (f.title, boost_of("title")),
            (f.symptoms, boost_of("symptoms")),
            (f.heading, boost_of("heading")),
            (f.tags, boost_of("tags")),
            (f.body, boost_of("body")),
            (f.code, boost_of("code")),
        ]
    }

    /// Whether any text field has `stem`.
    fn known(&self, stem: &str) -> bool {
        self.text_fields().iter().any(|(field, _)| {
            self.searcher
                .doc_freq(&Term::from_field_text(*field, stem))
                .is_ok_and(|n| n > 0)
        })
    }
}

/// How a word the reader typed is widened to words of the index.
#[derive(Debug, Clone, Copy)]
enum Expand {
    /// Words starting with it (the word being typed).
    Prefix,
    /// Words within this many edits (a typo).
    Typo(u8),
}

/// Most index words one typed word expands to.
const MAX_EXPANSIONS: usize = 8;
/// Most dictionary entries read per field for a prefix (bounds the cost of `re`).
const MAX_SCANNED: usize = 512;

impl Context<'_> {
    /// Index words that `word` may have meant, most frequent first (closest first for typos).
    /// Looked up once in the dictionaries of the title, symptoms and body fields, then searched
    /// as plain terms in every field: far cheaper than an automaton query per field.
    fn expand(&self, word: &str, how: Expand) -> Vec<String> {
        let mut found: HashMap<String, u64> = HashMap::new();
        let mut add = |key: &[u8], doc_freq: u32| {
            if let Ok(k) = std::str::from_utf8(key) {
                *found.entry(k.to_string()).or_default() += u64::from(doc_freq);
            }
        };
        let f = self.fields;
        // The edit-distance automaton depends on the word only: built once for all fields.
        let dfa = match how {
            Expand::Typo(d) => {
                let term = Term::from_field_text(f.body, word);
                match FuzzyTermQuery::new(term, d, true).automaton() {
                    Ok(dfa) => Some(dfa),
                    Err(_) => return Vec::new(),
                }
            }
            Expand::Prefix => None,
        };
        for segment in self.searcher.segment_readers() {
            for field in [f.title, f.symptoms, f.body] {
                let Ok(inverted) = segment.inverted_index(field) else {
                    continue;
                };
                let dict = inverted.terms();
                match how {
                    Expand::Prefix => {
                        let Ok(mut stream) = dict.range().ge(word.as_bytes()).into_stream() else {
                            continue;
                        };
                        let mut scanned = 0;
                        while stream.advance() && scanned < MAX_SCANNED {
                            if !stream.key().starts_with(word.as_bytes()) {
                                break;
                            }
                            add(stream.key(), stream.value().doc_freq);
                            scanned += 1;
                        }
                    }
                    Expand::Typo(_) => {
                        let Some(dfa) = &dfa else { continue };
                        let Ok(mut stream) = dict.search(dfa).into_stream() else {
                            continue;
                        };
                        while stream.advance() {
                            add(stream.key(), stream.value().doc_freq);
                        }
                    }
                }
            }
        }
        found.remove(word);
        let mut words: Vec<(String, u64)> = found.into_iter().collect();
        let closeness = |w: &str| match how {
            Expand::Typo(_) => usize::from(!within_distance(word, w, 1)),
            Expand::Prefix => 0,
        };
        words.sort_by(|a, b| {
            closeness(&a.0)
                .cmp(&closeness(&b.0))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        words.truncate(MAX_EXPANSIONS);
        words.into_iter().map(|(w, _)| w).collect()
    }
}

fn boost_of(name: &str) -> f32 {
    FIELD_BOOSTS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(1.0, |(_, b)| *b)
}

fn boxed(q: impl Query + 'static) -> Box<dyn Query> {
    Box::new(q)
}

fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    if (by - 1.0).abs() < f32::EPSILON {
        q
    } else {
        boxed(BoostQuery::new(q, by))
    }
}

fn dismax(mut qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if qs.len() == 1 {
        qs.pop().expect("one query")
    } else {
        boxed(DisjunctionMaxQuery::with_tie_breaker(qs, 0.1))
    }
}

fn edit_distance_for(raw: &str) -> Option<u8> {
    match raw.chars().count() {
        0..=3 => None,
        4..=7 => Some(1),
        _ => Some(2),
    }
}

/// Builds the query. `fuzzy_all` turns typo tolerance on for every word (the fallback).
pub(crate) fn build(
    cx: &Context<'_>,
    plan: &mut Plan,
    query: &str,
    request: &SearchRequest,
    fuzzy_all: bool,
) -> Box<dyn Query> {
    let fields = cx.text_fields();
    let typing = !query.ends_with(char::is_whitespace);
    let last = plan.words.len().saturating_sub(1);
    plan.fuzzy = false;
    plan.prefix = None;
    plan.expanded.clear();
    plan.synonym_stems.clear();
    plan.synonym_cjk.clear();

    // One clause per word.
    let mut word_clauses: Vec<Box<dyn Query>> = Vec::new();
    for (i, w) in plan.words.iter().enumerate() {
        let mut alts: Vec<Box<dyn Query>> = field_terms(&fields, &w.stem, 1.0).collect();
        if !w.cjk {
            let prose = &fields[..5];
            let mut widen = |words: Vec<String>, factor: f32, alts: &mut Vec<Box<dyn Query>>| {
                for word in &words {
                    alts.extend(field_terms(prose, word, factor));
                }
                plan.expanded.extend(words);
            };
            let completing = i == last && typing && w.raw.chars().count() >= 2;
            let completions = if completing {
                plan.prefix = Some(w.raw.clone());
                cx.expand(&w.raw, Expand::Prefix)
            } else {
                Vec::new()
            };
            // A word still being typed that some word starts with is not a typo.
            if let Some(d) = edit_distance_for(&w.raw)
                && (fuzzy_all || (!cx.known(&w.stem) && completions.is_empty()))
            {
                let typos = cx.expand(&w.stem, Expand::Typo(d));
                if !typos.is_empty() {
                    plan.fuzzy = true;
                    widen(typos, FUZZY_FACTOR, &mut alts);
                }
            }
            widen(completions, PREFIX_FACTOR, &mut alts);
        }
        word_clauses.push(dismax(alts));
    }

    let mut should: Vec<(Occur, Box<dyn Query>)> = word_clauses
        .iter()
        .map(|q| (Occur::Should, q.box_clone()))
        .collect();

    // Synonyms: other phrases of a group whose phrase the reader typed.
    let concepts = find_concepts(cx.synonyms, plan, query);
    let mut units: Vec<Box<dyn Query>> = Vec::new();
    let mut covered = vec![false; plan.words.len()];
    for concept in &concepts {
        let mut alts: Vec<Box<dyn Query>> = Vec::new();
        for phrase in &concept.others {
            if let Some(q) = phrase_clause(cx, phrase) {
                alts.push(boost(q, SYNONYM_FACTOR));
            }
            plan.synonym_stems.extend(phrase.stems.iter().cloned());
            plan.synonym_cjk.extend(phrase.cjk.iter().cloned());
        }
        if alts.is_empty() {
            continue;
        }
        let alternatives = dismax(alts);
        should.push((Occur::Should, alternatives.box_clone()));
        if !concept.covers.is_empty() {
            let own: Vec<(Occur, Box<dyn Query>)> = concept
                .covers
                .iter()
                .map(|&i| (Occur::Must, word_clauses[i].box_clone()))
                .collect();
            for &i in &concept.covers {
                covered[i] = true;
            }
            units.push(dismax(vec![boxed(BooleanQuery::new(own)), alternatives]));
        } else {
            units.push(alternatives);
        }
    }
    for (i, q) in word_clauses.iter().enumerate() {
        if !covered[i] {
            units.push(q.box_clone());
        }
    }

    // Bonus for matching every word (or its synonym).
    if units.len() > 1 {
        let all: Vec<(Occur, Box<dyn Query>)> =
            units.into_iter().map(|q| (Occur::Must, q)).collect();
        should.push((
            Occur::Should,
            boost(boxed(BooleanQuery::new(all)), ALL_WORDS_BONUS),
        ));
    }

    // Bonus for the words in the order typed (spaced scripts), stop words included.
    let latin: Vec<&QueryWord> = plan.all.iter().filter(|w| !w.cjk).collect();
    for run in latin.chunk_by(|a, b| b.position == a.position + 1) {
        if run.len() >= 2 && run.iter().any(|w| !w.stop) {
            // Title, symptoms, heading and body: a phrase in tags or code says little.
            let phrases: Vec<Box<dyn Query>> = fields[..5]
                .iter()
                .filter(|(field, _)| *field != cx.fields.tags)
                .map(|(field, b)| {
                    let terms: Vec<(usize, Term)> = run
                        .iter()
                        .map(|w| {
                            (
                                w.position - run[0].position,
                                Term::from_field_text(*field, &w.stem),
                            )
                        })
                        .collect();
                    boost(
                        boxed(PhraseQuery::new_with_offset_and_slop(terms, 1)),
                        b * PHRASE_BONUS,
                    )
                })
                .collect();
            should.push((Occur::Should, dismax(phrases)));
        }
    }

    // Chinese bigrams: every bigram outside stop words, and the whole run as a phrase.
    let stop_spans: Vec<(usize, usize)> = plan
        .all
        .iter()
        .filter(|w| w.cjk && w.stop)
        .map(|w| (w.start, w.end))
        .collect();
    let mut grams: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut run: Vec<(usize, Term)> = Vec::new();
    let mut runs: Vec<Vec<(usize, Term)>> = Vec::new();
    let mut last_pos = None;
    analyzer::bigrams(query, |gram, start, end, position| {
        let term = Term::from_field_text(cx.fields.grams, gram);
        if last_pos.is_some_and(|p| position != p + 1) {
            runs.push(std::mem::take(&mut run));
        }
        last_pos = Some(position);
        run.push((position, term.clone()));
        let in_stop = stop_spans.iter().any(|(s, e)| start >= *s && end <= *e);
        if !in_stop {
            grams.push((
                Occur::Should,
                boxed(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            ));
        }
    });
    runs.push(run);
    if !grams.is_empty() {
        should.push((
            Occur::Should,
            boost(boxed(BooleanQuery::new(grams)), GRAMS_BOOST),
        ));
    }
    for run in runs.into_iter().filter(|r| r.len() >= 2) {
        let base = run[0].0;
        let terms = run.into_iter().map(|(p, t)| (p - base, t)).collect();
        should.push((
            Occur::Should,
            boost(boxed(PhraseQuery::new_with_offset(terms)), PHRASE_BONUS),
        ));
    }

    let matching = boxed(BooleanQuery::new(should));
    let mut filters: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matching)];
    if let Some(kind) = request.kind {
        filters.push((Occur::Must, string_filter(cx.fields.kind, &[kind.as_str()])));
    }
    if let Some(audience) = request.audience {
        filters.push((
            Occur::Must,
            string_filter(cx.fields.audience, &[audience.as_str(), "everyone"]),
        ));
    }
    if filters.len() == 1 {
        filters.pop().expect("one").1
    } else {
        boxed(BooleanQuery::new(filters))
    }
}

/// `word` in each of `fields`, boosted by the field's weight times `factor`.
fn field_terms<'a>(
    fields: &'a [(Field, f32)],
    word: &'a str,
    factor: f32,
) -> impl Iterator<Item = Box<dyn Query>> + 'a {
    fields.iter().map(move |(field, b)| {
        boost(
            boxed(TermQuery::new(
                Term::from_field_text(*field, word),
                IndexRecordOption::WithFreqs,
            )),
            b * factor,
        )
    })
}

/// A synonym phrase as a clause: all its words (exactly), or its Chinese text as a bigram
/// phrase.
fn phrase_clause(cx: &Context<'_>, phrase: &Phrase) -> Option<Box<dyn Query>> {
    let fields = cx.text_fields();
    let words: Vec<(Occur, Box<dyn Query>)> = phrase
        .required
        .iter()
        .map(|s| (Occur::Must, dismax(field_terms(&fields, s, 1.0).collect())))
        .collect();
    let mut alts = Vec::new();
    if !words.is_empty() {
        alts.push(boxed(BooleanQuery::new(words)));
    }
    if let Some(cjk) = &phrase.cjk {
        let mut terms = Vec::new();
        analyzer::bigrams(cjk, |g, _, _, p| {
            terms.push((p, Term::from_field_text(cx.fields.grams, g)))
        });
        match terms.len() {
            0 => {}
            1 => alts.push(boxed(TermQuery::new(
                terms.pop().expect("one").1,
                IndexRecordOption::WithFreqs,
            ))),
            _ => alts.push(boxed(PhraseQuery::new_with_offset(terms))),
        }
    }
    (!alts.is_empty()).then(|| dismax(alts))
}

fn string_filter(field: Field, values: &[&str]) -> Box<dyn Query> {
    let any: Vec<(Occur, Box<dyn Query>)> = values
        .iter()
        .map(|v| {
            (
                Occur::Should,
                boxed(TermQuery::new(
                    Term::from_field_text(field, v),
                    IndexRecordOption::Basic,
                )),
            )
        })
        .collect();
    boxed(ConstScoreQuery::new(boxed(BooleanQuery::new(any)), 0.0))
}

/// Collects the best-scoring section of every matching page, so one long page cannot fill the
/// result list with its sections, and the total counts pages. Pages in the script the reader
/// typed in (Chinese or not) get [`SAME_SCRIPT_FACTOR`] times their score.
pub(crate) struct BestPerPage<'a> {
    /// Whether the query is Chinese.
    pub zh: bool,
    /// Page of every document, by segment (see [`PageMap`]).
    pub pages: &'a PageMap,
}

/// The page id of every document of every segment, with [`ZH_BIT`] set for Chinese pages: read
/// once when the index is opened, so collecting a match is an array lookup.
pub(crate) type PageMap = Vec<SegmentPages>;

/// The pages of one segment's documents.
#[derive(Clone)]
pub(crate) struct SegmentPages {
    /// Page id of every document, with [`ZH_BIT`] for a Chinese page.
    pages: Arc<[u32]>,
    /// One more than the largest page id.
    slots: usize,
}
/// Marks a Chinese page in a [`PageMap`] entry.
pub(crate) const ZH_BIT: u32 = 1 << 31;

/// Reads the page map of the segments of `searcher`.
pub(crate) fn page_map(searcher: &Searcher) -> tantivy::Result<PageMap> {
    searcher
        .segment_readers()
        .iter()
        .map(|reader| {
            let pages = reader.fast_fields().u64("page")?;
            let zh = reader.fast_fields().u64("zh")?;
            let pages: Arc<[u32]> = (0..reader.max_doc())
                .map(|doc| {
                    // Every document the build writes has a page id below ZH_BIT.
                    let page = pages
                        .first(doc)
                        .filter(|&p| p < u64::from(ZH_BIT))
                        .ok_or_else(|| {
                            tantivy::TantivyError::InternalError(format!(
                                "document {doc} has no valid page id"
                            ))
                        })? as u32;
                    Ok(if zh.first(doc) == Some(1) {
                        page | ZH_BIT
                    } else {
                        page
                    })
                })
                .collect::<tantivy::Result<_>>()?;
            // Page ids are dense (the build numbers pages from 0), so a vector beats a hash map.
            let slots = pages
                .iter()
                .map(|p| (p & !ZH_BIT) as usize + 1)
                .max()
                .unwrap_or(0);
            Ok(SegmentPages { pages, slots })
        })
        .collect()
}

/// Score factor of a page in the query's script: a Chinese question prefers the Chinese page,
/// without hiding an English page that matches much better.
const SAME_SCRIPT_FACTOR: f32 = 1.3;

/// The best section of one page: (page, score, document).
pub(crate) type PageHit = (u64, Score, DocAddress);

impl Collector for BestPerPage<'_> {
    type Fruit = Vec<PageHit>;
    type Child = BestPerPageSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<BestPerPageSegment> {
        let SegmentPages { pages, slots } =
            self.pages.get(segment as usize).cloned().ok_or_else(|| {
                tantivy::TantivyError::InternalError("segment missing from the page map".into())
            })?;
        Ok(BestPerPageSegment {
            segment,
            pages,
            prefer: self.zh,
            best: vec![(Score::NEG_INFINITY, 0); slots],
            touched: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, mut fruits: Vec<Vec<PageHit>>) -> tantivy::Result<Vec<PageHit>> {
        if fruits.len() == 1 {
            return Ok(fruits.pop().expect("one"));
        }
        let mut best: HashMap<u64, (Score, DocAddress)> = HashMap::new();
        for (page, score, doc) in fruits.into_iter().flatten() {
            let e = best.entry(page).or_insert((score, doc));
            if score > e.0 {
                *e = (score, doc);
            }
        }
        Ok(best.into_iter().map(|(p, (s, d))| (p, s, d)).collect())
    }
}

/// Orders hits best first, sorting only the first `limit` (the rest keep their count).
pub(crate) fn rank(hits: &mut [PageHit], limit: usize) {
    let order = |a: &PageHit, b: &PageHit| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if hits.len() > limit && limit > 0 {
        hits.select_nth_unstable_by(limit - 1, order);
        hits[..limit].sort_unstable_by(order);
    } else {
        hits.sort_unstable_by(order);
    }
}

/// [`BestPerPage`] within one segment.
pub(crate) struct BestPerPageSegment {
    segment: SegmentOrdinal,
    pages: Arc<[u32]>,
    prefer: bool,
    /// Best (score, doc) by page id.
    best: Vec<(Score, DocId)>,
    /// Page ids seen, in first-seen order.
    touched: Vec<u32>,
}

impl SegmentCollector for BestPerPageSegment {
    type Fruit = Vec<PageHit>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(&entry) = self.pages.get(doc as usize) else {
            return;
        };
        let page = entry & !ZH_BIT;
        let score = if (entry & ZH_BIT != 0) == self.prefer {
            score * SAME_SCRIPT_FACTOR
        } else {
            score
        };
        // `best` has a slot for every page id of the segment (see `page_map`).
        let e = &mut self.best[page as usize];
        if e.0 == Score::NEG_INFINITY {
            self.touched.push(page);
        }
        if score > e.0 {
            *e = (score, doc);
        }
    }

    fn harvest(self) -> Vec<PageHit> {
        let segment = self.segment;
        self.touched
            .iter()
            .map(|&p| {
                let (s, d) = self.best[p as usize];
                (u64::from(p), s, DocAddress::new(segment, d))
            })
            .collect()
    }
}
