//! Text analysis shared by indexing, querying and snippets, so the three always agree on what a
//! word is.
//!
//! One tokenizer handles mixed text: runs of Latin letters and digits become lowercase words
//! (apostrophes dropped, full-width forms folded: `Can't` -> `cant`, `ＡＰＩ` -> `api`) and are
//! stemmed afterwards; runs of Chinese characters go to jieba in search mode, with a project word
//! list on top of its dictionary. A second tokenizer emits overlapping Chinese character bigrams
//! for a lower-weighted field, so a phrase jieba segments differently from the page is still found.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::sync::{Arc, LazyLock, Mutex};

use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy_jieba::jieba_rs::Jieba;

/// Name of the mixed-text analyzer in the tantivy index.
pub(crate) const TEXT: &str = "hb_text";
/// Name of the Chinese bigram analyzer.
pub(crate) const GRAMS: &str = "hb_grams";

/// Words longer than this (bytes) are not indexed: base64 blobs and hashes only add noise.
const MAX_WORD: usize = 48;

const BUILTIN_WORDS: &str = include_str!("words.txt");

pub(crate) use crate::markdown::is_cjk;

/// Whether `c` belongs to a Latin-script (or other spaced-script) word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Full-width ASCII (`ＡＰＩ`, `１２３`) folded to ASCII, as Chinese input methods type it.
fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// The words of `text` before stemming, with byte offsets into `text`: the common ground of the
/// index tokenizer and the query parser.
///
/// ASCII, the bulk of any page, takes a byte-level path; other characters are decoded one by one.
pub(crate) fn words(jieba: &Jieba, text: &str, mut emit: impl FnMut(Word<'_>)) {
    let bytes = text.as_bytes();
    let char_at = |i: usize| text[i..].chars().next().expect("i is a char boundary");
    // Whether a word character starts at `i` (after an apostrophe: `can't`, not `'quoted'`).
    let word_char_at = |i: usize| match bytes.get(i) {
        Some(b) if b.is_ascii() => b.is_ascii_alphanumeric(),
        Some(_) => is_word_char(fold_width(char_at(i))),
        None => false,
    };
    let mut word = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() && !b.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let c = if b.is_ascii() {
            b as char
        } else {
            fold_width(char_at(i))
        };
        if is_cjk(c) {
            let start = i;
            i += c.len_utf8();
            while i < bytes.len() && !bytes[i].is_ascii() {
                let n = char_at(i);
                if !is_cjk(n) {
                    break;
                }
                i += n.len_utf8();
            }
            let run = &text[start..i];
            for t in jieba.cut_for_search(run, true) {
                emit(Word {
                    text: t.word,
                    start: start + t.byte_start,
                    end: start + t.byte_end,
                    cjk: true,
                });
            }
        } else if is_word_char(c) {
            let start = i;
            word.clear();
            while i < bytes.len() {
                let b = bytes[i];
                if b.is_ascii_alphanumeric() {
                    word.push(b.to_ascii_lowercase() as char);
                    i += 1;
                    continue;
                }
                let n = if b.is_ascii() { b as char } else { char_at(i) };
                let folded = fold_width(n);
                if is_word_char(folded) {
                    word.extend(folded.to_lowercase());
                } else if !(is_apostrophe(n) && word_char_at(i + n.len_utf8())) {
                    break;
                }
                // An apostrophe inside a word is dropped: `can't` -> `cant`.
                i += n.len_utf8();
            }
            emit(Word {
                text: &word,
                start,
                end: i,
                cjk: false,
            });
        } else {
            i += char_at(i).len_utf8();
        }
    }
}

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word<'a> {
    /// Lowercased, apostrophes removed (not stemmed).
    pub text: &'a str,
    /// Byte range in the analysed text.
    pub start: usize,
    pub end: usize,
    /// Chinese (segmented by jieba) rather than a spaced-script word.
    pub cjk: bool,
}

/// The mixed-script tokenizer registered as [`TEXT`]: words as [`words`] finds them, English
/// ones stemmed, overlong ones dropped.
///
/// Indexing tokenizes millions of words, most of them repeats, so stems are memoised and tokens
/// reused across calls ([`TokenBuffer`]): this halves the cost of analysis on a large site.
#[derive(Clone)]
pub(crate) struct MixedTokenizer {
    jieba: Arc<Jieba>,
    /// Lowercased word -> index of its stem in `forms`.
    stems: FxHashMap<Box<str>, u32>,
    forms: Vec<Box<str>>,
    tokens: TokenBuffer,
}

/// Tokens reused from call to call, strings and all: the indexer tokenizes millions of words.
#[derive(Clone, Default)]
struct TokenBuffer {
    tokens: Vec<Token>,
    len: usize,
}

impl TokenBuffer {
    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, text: &str, from: usize, to: usize, position: usize) {
        if self.len == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let t = &mut self.tokens[self.len];
        t.offset_from = from;
        t.offset_to = to;
        t.position = position;
        t.position_length = 1;
        t.text.clear();
        t.text.push_str(text);
        self.len += 1;
    }

    fn stream(&mut self) -> VecTokenStream<'_> {
        VecTokenStream::new(&mut self.tokens[..self.len])
    }
}

/// Memo entries kept before the memo starts over (bounds memory on odd input).
const MAX_MEMO: usize = 200_000;

thread_local! {
    static STEMMER: frostem::Stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
}

/// The index form of one lowercased spaced-script word (English stemming), as the tokenizer
/// writes it; `None` for a word too long to be indexed.
pub(crate) fn stem_word(word: &str) -> Option<String> {
    (word.len() <= MAX_WORD).then(|| stem(word).into_owned())
}

fn stem(word: &str) -> std::borrow::Cow<'_, str> {
    STEMMER.with(|s| s.stem(word))
}

impl MixedTokenizer {
    pub(crate) fn new(jieba: Arc<Jieba>) -> Self {
        MixedTokenizer {
            jieba,
            stems: FxHashMap::default(),
            forms: Vec::new(),
            tokens: TokenBuffer::default(),
        }
    }

    /// The index form of a lowercased word.
    fn stem<'s>(
        stems: &mut FxHashMap<Box<str>, u32>,
        forms: &'s mut Vec<Box<str>>,
        word: &str,
    ) -> &'s str {
        if let Some(&i) = stems.get(word) {
            return &forms[i as usize];
        }
        if forms.len() >= MAX_MEMO {
            stems.clear();
            forms.clear();
        }
        stems.insert(word.into(), forms.len() as u32);
        forms.push(stem(word).into());
        forms.last().expect("just pushed")
    }
}

impl Tokenizer for MixedTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        let MixedTokenizer {
            jieba,
            stems,
            forms,
            tokens,
        } = self;
        tokens.clear();
        words(jieba, text, |w| {
            if w.text.len() > MAX_WORD {
                return;
            }
            let form = if w.cjk {
                w.text
            } else {
                MixedTokenizer::stem(stems, forms, w.text)
            };
            let position = tokens.len;
            tokens.push(form, w.start, w.end, position);
        });
        tokens.stream()
    }
}

/// Overlapping bigrams of every Chinese run (a lone character is emitted on its own). Latin text
/// is skipped but still advances positions, so a phrase never spans two runs.
#[derive(Clone, Default)]
pub(crate) struct BigramTokenizer {
    tokens: TokenBuffer,
}

/// Calls `emit(bigram, start, end, position)` for each Chinese bigram of `text`.
pub(crate) fn bigrams(text: &str, mut emit: impl FnMut(&str, usize, usize, usize)) {
    let mut position = 0;
    let mut run: Vec<(usize, char)> = Vec::new();
    let mut flush = |run: &mut Vec<(usize, char)>, position: &mut usize| {
        match run.len() {
            0 => {}
            1 => {
                let (s, c) = run[0];
                emit(&text[s..s + c.len_utf8()], s, s + c.len_utf8(), *position);
                *position += 1;
            }
            _ => {
                for pair in run.windows(2) {
                    let (s, _) = pair[0];
                    let (e, c) = pair[1];
                    emit(&text[s..e + c.len_utf8()], s, e + c.len_utf8(), *position);
                    *position += 1;
                }
            }
        }
        if !run.is_empty() {
            // A gap so that phrase queries never join two runs.
            *position += 2;
        }
        run.clear();
    };
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            run.push((i, c));
        } else {
            flush(&mut run, &mut position);
        }
    }
    flush(&mut run, &mut position);
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream<'a> {
        let tokens = &mut self.tokens;
        tokens.clear();
        bigrams(text, |gram, start, end, position| {
            tokens.push(gram, start, end, position)
        });
        tokens.stream()
    }
}

/// A token stream over tokens computed up front.
pub(crate) struct VecTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl<'a> VecTokenStream<'a> {
    fn new(tokens: &'a mut [Token]) -> Self {
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The analysers of one index: the mixed-text one (stemmed) and the bigram one.
#[derive(Clone)]
pub(crate) struct Analyzers {
    pub jieba: Arc<Jieba>,
    pub text: TextAnalyzer,
    pub grams: TextAnalyzer,
}

impl Analyzers {
    /// Analysers whose segmenter also knows `extra` words.
    pub(crate) fn new(extra: &[String]) -> Analyzers {
        let jieba = jieba_with(extra);
        let text = TextAnalyzer::builder(MixedTokenizer::new(jieba.clone())).build();
        let grams = TextAnalyzer::builder(BigramTokenizer::default()).build();
        Analyzers { jieba, text, grams }
    }

    /// Stemmed tokens of `text` with their byte ranges.
    #[cfg(test)]
    pub(crate) fn tokens(&self, text: &str) -> Vec<(String, usize, usize)> {
        let mut analyzer = self.text.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to));
        }
        out
    }
}

/// The words of the built-in list.
pub(crate) fn builtin_words() -> impl Iterator<Item = &'static str> {
    BUILTIN_WORDS
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// Frequency given to project words. jieba's own suggestion only keeps a word whole on its own;
/// inside a sentence a neighbouring dictionary word can still win (`视频卡` + `顿` over
/// `视频` + `卡顿`), so project words get the weight of a common word.
const WORD_FREQ: usize = 20_000;

fn add_word(jieba: &mut Jieba, word: &str) {
    let freq = jieba.suggest_freq(word).max(WORD_FREQ);
    jieba.add_word(word, Some(freq), None);
}

/// jieba with its dictionary, the built-in list, and `extra`. Loading the dictionary takes a
/// while, so the base instance is made once per process and each distinct word list once.
fn jieba_with(extra: &[String]) -> Arc<Jieba> {
    static BASE: LazyLock<Arc<Jieba>> = LazyLock::new(|| {
        let mut jieba = Jieba::new();
        for w in builtin_words() {
            add_word(&mut jieba, w);
        }
        Arc::new(jieba)
    });
    static WITH_EXTRA: LazyLock<Mutex<HashMap<Vec<String>, Arc<Jieba>>>> =
        LazyLock::new(Default::default);
    let mut extra: Vec<String> = extra
        .iter()
        .map(|w| w.trim().to_string())
        .filter(|w| w.chars().any(is_cjk) && !BASE.has_word(w))
        .collect();
    extra.sort();
    extra.dedup();
    if extra.is_empty() {
        return BASE.clone();
    }
    let mut cache = WITH_EXTRA.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(j) = cache.get(&extra) {
        return j.clone();
    }
    let mut jieba = Jieba::clone(&BASE);
    for w in &extra {
        add_word(&mut jieba, w);
    }
    let jieba = Arc::new(jieba);
    if cache.len() > 16 {
        cache.clear();
    }
    cache.insert(extra, jieba.clone());
    jieba
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stemmed(text: &str) -> Vec<String> {
        Analyzers::new(&[])
            .tokens(text)
            .into_iter()
            .map(|t| t.0)
            .collect()
    }

    #[test]
    fn english_is_lowercased_stemmed_and_keeps_contractions() {
        assert_eq!(
            stemmed("Students can't hear RECORDINGS"),
            ["student", "cant", "hear", "record"]
        );
    }

    #[test]
    fn words_are_split_at_the_right_places() {
        let jieba = jieba_with(&[]);
        let text = "Café naïve Wi‑Fi 'quoted' rock’n’roll ＡＰＩ２ x86_64 Ünïcode—ok。下一步";
        let mut got = Vec::new();
        words(&jieba, text, |w| {
            got.push((w.text.to_string(), &text[w.start..w.end]))
        });
        let expected = [
            ("café", "Café"),
            ("naïve", "naïve"),
            ("wi", "Wi"),
            ("fi", "Fi"),
            ("quoted", "quoted"),
            ("rocknroll", "rock’n’roll"),
            ("api2", "ＡＰＩ２"),
            ("x86", "x86"),
            ("64", "64"),
            ("ünïcode", "Ünïcode"),
            ("ok", "ok"),
            ("下一步", "下一步"),
        ];
        let got: Vec<(&str, &str)> = got.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        assert_eq!(got[..expected.len() - 1], expected[..expected.len() - 1]);
        assert!(got.iter().any(|(w, _)| w.starts_with('下')), "{got:?}");
    }

    #[test]
    fn full_width_letters_fold_to_ascii() {
        assert_eq!(stemmed("ＡＰＩ 密钥"), ["api", "密钥"]);
    }

    #[test]
    fn domain_words_stay_whole() {
        let t = stemmed("视频卡顿怎么办");
        assert!(t.contains(&"卡顿".to_string()), "{t:?}");
        assert!(!t.contains(&"视频卡".to_string()), "{t:?}");
    }

    #[test]
    fn extra_words_are_honoured() {
        let a = Analyzers::new(&["课中断流".to_string()]);
        let t: Vec<String> = a.tokens("课中断流了").into_iter().map(|t| t.0).collect();
        assert!(t.contains(&"课中断流".to_string()), "{t:?}");
    }

    #[test]
    fn mixed_scripts_split_at_script_changes() {
        assert_eq!(stemmed("Rc和Arc区别"), ["rc", "和", "arc", "区别"]);
    }

    #[test]
    fn bigrams_cover_runs_and_lone_characters() {
        let mut out = Vec::new();
        bigrams("视频很卡 ok 卡", |g, _, _, p| {
            out.push((g.to_string(), p))
        });
        let grams: Vec<&str> = out.iter().map(|(g, _)| g.as_str()).collect();
        assert_eq!(grams, ["视频", "频很", "很卡", "卡"]);
        assert_eq!(out[1].1, out[0].1 + 1);
        assert!(out[3].1 > out[2].1 + 1, "runs are separated: {out:?}");
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Wi‑Fi 很卡";
        let tokens = Analyzers::new(&[]).tokens(text);
        assert!(tokens.len() >= 3, "{tokens:?}");
        for (_, s, e) in tokens {
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
}
