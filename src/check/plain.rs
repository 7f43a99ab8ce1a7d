//! The text that the plain-language check reads: blocks, sentences, lengths and passive steps.
//!
//! Help pages are read by teachers who are running a live online class, often while they are
//! trying to fix something. So the check wants short sentences and numbered steps that say what
//! to do ("Select the microphone"), not what should happen to something ("The microphone should
//! be selected"). This module turns a page's Markdown into prose blocks (leaving out code,
//! tables and HTML) and gives the checker the sentences, their length and any passive step.
//! Each block can map offsets in its text back to the Markdown, so the checker can report lines.
//! The rules are heuristics with small built-in word lists, so they are English and Chinese only.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::OnceLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// What a block is. This decides which checks apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// A paragraph (also inside block quotes and admonitions), a definition, or an item of an unordered list.
    Prose,
    /// The text of an item of an ordered (numbered) list: an instruction.
    Step,
    /// A heading.
    Heading,
}

/// One block of prose taken from a page.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// What the block is.
    pub(crate) kind: BlockKind,
    /// Plain text: inline markup removed (emphasis, strong, links keep their text), inline code kept as its text, soft and hard breaks become one space, images contribute nothing.
    pub(crate) text: String,
    /// Where the pieces of `text` come from, in text order.
    spans: Vec<Span>,
}

/// A piece of a block's text and where it starts in the source.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Start of the piece in the block's text.
    text: usize,
    /// Start of the piece in the source.
    source: usize,
    /// The piece is copied byte for byte, so offsets inside it map one to one. Entities and
    /// breaks are not: all their bytes map to where they start.
    verbatim: bool,
}

impl Block {
    /// Byte offset in the source `body` of byte `at` of `text` (at may equal text.len()).
    pub(crate) fn source_offset(&self, at: usize) -> usize {
        let i = self.spans.partition_point(|s| s.text <= at);
        match i.checked_sub(1).and_then(|i| self.spans.get(i)) {
            Some(s) if s.verbatim => s.source + (at - s.text),
            Some(s) => s.source,
            None => self.spans.first().map_or(0, |s| s.source),
        }
    }
}

/// The options the renderer parses pages with, so both see the same structure.
const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS)
    .union(Options::ENABLE_HEADING_ATTRIBUTES)
    .union(Options::ENABLE_GFM)
    .union(Options::ENABLE_DEFINITION_LIST);

impl Block {
    /// An empty block of `kind`, filled by [`Block::push`] while the page is parsed.
    fn new(kind: BlockKind) -> Self {
        Self {
            kind,
            text: String::new(),
            spans: Vec::new(),
        }
    }

    /// Appends `piece`, which starts at `source` in the source. Whitespace is never doubled and
    /// never leads, so the checks see words separated by single spaces.
    fn push(&mut self, piece: &str, source: usize, verbatim: bool) {
        let trimmed = if self.text.is_empty() || self.text.ends_with(char::is_whitespace) {
            piece.trim_start()
        } else {
            piece
        };
        if trimmed.is_empty() {
            return;
        }
        // A verbatim piece maps byte for byte: the trimmed whitespace moves its start along.
        let skipped = if verbatim {
            piece.len() - trimmed.len()
        } else {
            0
        };
        let piece = trimmed;
        self.spans.push(Span {
            text: self.text.len(),
            source: source + skipped,
            verbatim,
        });
        self.text.push_str(piece);
    }

    /// The finished block, or None when it has no text.
    fn finish(mut self) -> Option<Block> {
        self.text.truncate(self.text.trim_end().len());
        let len = self.text.len();
        self.spans.retain(|s| s.text < len);
        (!self.text.is_empty()).then_some(self)
    }
}

/// Blocks of Markdown `body` in document order. Left out: fenced/indented code blocks, tables, raw HTML blocks, inline HTML tags, footnote definitions' markers, container fence lines. A list item's own text (before any nested list) is one block; nested list items are their own blocks with their own kind; an item containing several paragraphs gives one block per paragraph, all of the item's kind. Task-list markers are left out. Empty blocks are dropped.
pub(crate) fn blocks(body: &str) -> Vec<Block> {
    let source = blank_container_fences(body);
    let mut out = Vec::new();
    // The innermost container decides a block's kind: a quote inside a step is a note (prose),
    // a numbered list inside a quote still gives steps.
    let mut context: Vec<BlockKind> = Vec::new();
    // For each open list, whether it is numbered.
    let mut lists: Vec<bool> = Vec::new();
    // Depth inside things whose text is not prose: code, tables, HTML blocks, images.
    let mut skip = 0usize;
    let mut current: Option<Block> = None;
    let flush = |current: &mut Option<Block>, out: &mut Vec<Block>| {
        out.extend(current.take().and_then(Block::finish));
    };
    for (event, range) in Parser::new_ext(&source, OPTIONS).into_offset_iter() {
        match event {
            Event::Start(Tag::Image { .. }) => skip += 1,
            Event::End(TagEnd::Image) => skip = skip.saturating_sub(1),
            Event::Start(
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. },
            ) => {}
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link,
            ) => {}
            // Every other start or end is a block boundary.
            Event::Start(tag) => {
                flush(&mut current, &mut out);
                match tag {
                    Tag::CodeBlock(_) | Tag::Table(_) | Tag::HtmlBlock | Tag::MetadataBlock(_) => {
                        skip += 1;
                    }
                    Tag::Heading { .. } => context.push(BlockKind::Heading),
                    Tag::List(start) => lists.push(start.is_some()),
                    Tag::Item if lists.last() == Some(&true) => context.push(BlockKind::Step),
                    Tag::Item | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_) => {
                        context.push(BlockKind::Prose);
                    }
                    _ => {}
                }
            }
            Event::End(tag) => {
                flush(&mut current, &mut out);
                match tag {
                    TagEnd::CodeBlock
                    | TagEnd::Table
                    | TagEnd::HtmlBlock
                    | TagEnd::MetadataBlock(_) => skip = skip.saturating_sub(1),
                    TagEnd::Heading(_)
                    | TagEnd::Item
                    | TagEnd::BlockQuote(_)
                    | TagEnd::FootnoteDefinition => _ = context.pop(),
                    TagEnd::List(_) => _ = lists.pop(),
                    _ => {}
                }
            }
            Event::Text(piece) | Event::Code(piece) if skip == 0 => {
                // Escapes, entities and code-span backticks make the event text differ from the
                // source; finding it inside the source range keeps the mapping exact when it can.
                let raw = source.get(range.clone()).unwrap_or("");
                let (start, verbatim) = match raw.find(&*piece) {
                    Some(at) => (range.start + at, true),
                    None => (range.start, false),
                };
                let kind = context.last().copied().unwrap_or(BlockKind::Prose);
                current
                    .get_or_insert_with(|| Block::new(kind))
                    .push(&piece, start, verbatim);
            }
            // Inline HTML tags are left out, but `<br>` still separates words.
            Event::InlineHtml(tag) if !tag.to_ascii_lowercase().starts_with("<br") => {}
            Event::SoftBreak | Event::HardBreak | Event::InlineHtml(_) if skip == 0 => {
                if let Some(b) = current.as_mut() {
                    b.push(" ", range.start, false);
                }
            }
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Replaces `:::` container fence lines with spaces: the renderer turns them into HTML, so their
/// text is never read, and keeping every byte in place keeps source offsets right.
fn blank_container_fences(body: &str) -> Cow<'_, str> {
    if !body.contains(":::") {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim_start().starts_with(":::") {
            out.extend(std::iter::repeat_n(' ', content.len()));
            out.push_str(&line[content.len()..]);
        } else {
            out.push_str(line);
        }
    }
    Cow::Owned(out)
}

/// Closing quotes and brackets that may follow the end of a sentence.
const CLOSERS: &str = "\"')]”’」』）】》";
/// Abbreviations after which a dot never ends a sentence.
const ALWAYS_ABBREVIATIONS: &str = "vs approx mr mrs ms dr prof st";
/// Abbreviations that come before a number: "No. 5", "Fig. 2".
const NUMBER_ABBREVIATIONS: &str = "no fig figs p pp vol ch ver";
/// Abbreviations that end a sentence only when the next word starts with a capital.
const LOWERCASE_ABBREVIATIONS: &str = "e.g i.e etc cf incl esp a.m p.m";

/// Sentences of `text` as byte ranges, trimmed of surrounding whitespace, empty ones dropped.
/// A sentence ends at `.`, `!`, `?` (or `...`/`…`) followed by whitespace or the end of the text (also when a closing quote, `)` or `”` comes between), and at `。`, `！`, `？` anywhere (optionally followed by closing quotes/brackets like `”`, `」`, `）`).
/// It does not end after common abbreviations (e.g., i.e., etc. when the next word starts lowercase, vs., approx., Mr., Mrs., Dr., No., Fig.), after a single capital letter initial ("J. Smith"), or inside numbers and versions (1.5, v2.0, 192.168.1.1) or file names/URLs (index.html, example.com) — those have no whitespace after the dot, so they are naturally kept.
pub(crate) fn sentences(text: &str) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let offset = |k: usize| chars.get(k).map_or(text.len(), |&(i, _)| i);
    let char_at = |k: usize| chars.get(k).map(|&(_, c)| c);
    let mut ends = Vec::new();
    let mut k = 0;
    while let Some(c) = char_at(k) {
        let chinese = matches!(c, '。' | '！' | '？');
        if !chinese && !matches!(c, '.' | '!' | '?' | '…') {
            k += 1;
            continue;
        }
        let mut e = k + 1;
        while char_at(e).is_some_and(|c| ".!?…。！？".contains(c)) {
            e += 1;
        }
        let single_dot = c == '.' && e == k + 1;
        while char_at(e).is_some_and(|c| CLOSERS.contains(c)) {
            e += 1;
        }
        // Chinese writers often use ASCII punctuation with no space after it.
        let ends_here = chinese
            || char_at(e).is_none_or(|n| n.is_whitespace() || is_cjk(n))
                && !(single_dot && is_abbreviation(&text[..offset(k)], &text[offset(e)..]));
        if ends_here {
            ends.push(offset(e));
        }
        k = e;
    }
    let mut out = Vec::new();
    let mut start = 0;
    for end in ends.into_iter().chain([text.len()]) {
        let piece = &text[start..end];
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            out.push(start + lead..start + lead + trimmed.len());
        }
        start = end;
    }
    out
}

/// Whether the dot between `before` and `after` ends an abbreviation rather than a sentence.
fn is_abbreviation(before: &str, after: &str) -> bool {
    let word = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .trim_start_matches(|c: char| "\"'(“‘「（[".contains(c));
    let lower = word.to_lowercase();
    let next = after
        .trim_start()
        .trim_start_matches(|c: char| "\"'(“‘「（[".contains(c))
        .chars()
        .next();
    let next_lower = next.is_some_and(char::is_lowercase);
    let next_digit = next.is_some_and(|c| c.is_ascii_digit());
    // Initials: "J. Smith", "J.R. Smith".
    let initials = !word.is_empty()
        && word.split('.').all(|p| {
            let mut cs = p.chars();
            cs.next().is_some_and(char::is_uppercase) && cs.next().is_none()
        });
    // Dotted lowercase letters such as "a.m", "e.g" work like "etc.".
    let dotted = word.contains('.') && word.split('.').all(|p| p.chars().count() == 1);
    initials
        || listed(ALWAYS_ABBREVIATIONS, &lower)
        || listed(NUMBER_ABBREVIATIONS, &lower) && next_digit
        || (listed(LOWERCASE_ABBREVIATIONS, &lower) || dotted) && (next_lower || next_digit)
}

/// The length of a sentence, in the units its language is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Length {
    /// Latin-script words: runs of letters/digits (apostrophes and hyphens inside a word keep it one word: "don't", "Wi-Fi", "2.5"); a URL or inline code counts as one word.
    pub(crate) words: usize,
    /// CJK ideographs (Han characters; also kana/hangul), each counts one. Punctuation never counts.
    pub(crate) chinese: usize,
}

/// Counts the words and CJK characters of `sentence`. Any punctuation other than dashes and
/// CJK punctuation joins letters into one word, so "don't", "2.5", "index.html", "--verbose"
/// and URLs count once; inline code with spaces in it counts per space-separated part, because
/// the block text no longer says which text was code.
pub(crate) fn length(sentence: &str) -> Length {
    let mut len = Length::default();
    let mut in_word = false;
    for c in sentence.chars() {
        if is_cjk(c) {
            len.chinese += 1;
            in_word = false;
        } else if c.is_whitespace() || matches!(c, '—' | '–' | '…') || is_cjk_punctuation(c) {
            in_word = false;
        } else if c.is_alphanumeric() && !in_word {
            len.words += 1;
            in_word = true;
        }
    }
    len
}

/// Han ideographs, kana and hangul: the characters counted one by one.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3005}' | '\u{3007}'
        | '\u{3040}'..='\u{309F}' | '\u{30A0}'..='\u{30FA}' | '\u{30FC}'..='\u{30FF}'
        | '\u{31F0}'..='\u{31FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}'
        | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{323AF}')
}

/// CJK and full-width punctuation, which separates words like a space.
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{30FB}' | '\u{FE30}'..='\u{FE4F}')
        || matches!(c, '\u{FF00}'..='\u{FFEF}') && !c.is_alphanumeric()
}

/// A passive numbered step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Passive {
    /// Byte range, in the step's text, of the words that make the instruction passive ("should be selected", "被关闭").
    pub(crate) range: Range<usize>,
    /// The step's first sentence rewritten as an instruction, when the verb is known: "Select the microphone in Settings."
    pub(crate) rewrite: Option<String>,
}

/// Whether the FIRST sentence of a numbered step is a passive instruction.
pub(crate) fn passive_step(text: &str) -> Option<Passive> {
    let first = sentences(text).into_iter().next()?;
    let sentence = text.get(first.clone())?;
    let found = chinese_passive(sentence).or_else(|| english_passive(sentence))?;
    let range = found.range.start + first.start..found.range.end + first.start;
    Some(Passive { range, ..found })
}

/// Characters after `被` that make it part of a word ("quilt" 被子, 被褥, …; "passive" 被动;
/// "defendant" 被告), not the passive marker.
const NOT_PASSIVE_AFTER: &str = "子褥单套罩窝面动告";

/// The first passive `被` of a Chinese sentence, with up to two Han characters after it.
fn chinese_passive(sentence: &str) -> Option<Passive> {
    sentence.match_indices('被').find_map(|(i, marker)| {
        let after = sentence.get(i + marker.len()..)?;
        if after
            .chars()
            .next()
            .is_some_and(|c| NOT_PASSIVE_AFTER.contains(c))
        {
            return None;
        }
        let verb: usize = after
            .chars()
            .take(2)
            .take_while(|&c| is_cjk(c))
            .map(char::len_utf8)
            .sum();
        let range = i..i + marker.len() + verb;
        Some(Passive {
            range,
            rewrite: None,
        })
    })
}

/// Base forms of verbs common in classroom and app instructions. A step starting with one is an
/// imperative; a passive built on one can be rewritten.
const VERBS: &str = "accept add avoid come double-click get remember right-click sit stay adjust allow answer apply approve archive ask assign attach back \
    begin block bookmark break bring browse build buy cancel change charge chat check choose clear \
    click clip close collapse collect comment complete configure confirm connect continue copy \
    create crop customize cut decline delete deny describe dial disable disconnect dismiss display \
    download drag draw drop edit email enable end ensure enter erase exit expand explain export \
    fill find finish fix flip follow forget forward give go grab grant hand hang hear hide \
    highlight hit hold import include insert install invite join keep launch leave let lift link \
    listen load lock log look lower make mark maximize meet minimize move mute navigate note open \
    paste pause pick pin place play plug point post power prepare press preview print provide put \
    raise read reboot reconnect record refresh rejoin reload remind remove rename reopen repeat \
    replace reply report request reset resize restart restore resume retry return review rotate \
    run save say scan schedule scroll search see select send set share show shut sign skip sort \
    speak specify split start stop submit swipe switch sync take tap tell test think throw toggle \
    touch try turn type undo uninstall unlock unmute unpin unplug unzip update upgrade upload use \
    verify view visit wait watch wear write zip zoom";

/// Irregular past participles and their base forms. Only bases in [`VERBS`] get a rewrite.
const IRREGULAR: &str = "begun:begin blown:blow bought:buy broken:break brought:bring \
    built:build caught:catch chosen:choose cut:cut done:do drawn:draw driven:drive eaten:eat \
    fallen:fall felt:feel flown:fly forgotten:forget found:find frozen:freeze given:give gone:go \
    got:get gotten:get grown:grow heard:hear held:hold hidden:hide hit:hit hung:hang kept:keep \
    known:know laid:lay led:lead left:leave let:let lost:lose made:make meant:mean met:meet \
    overridden:override paid:pay put:put read:read rewritten:rewrite run:run rung:ring said:say \
    seen:see sent:send set:set shaken:shake shown:show shut:shut sold:sell spent:spend split:split \
    spoken:speak stolen:steal stood:stand sung:sing taken:take taught:teach thought:think \
    thrown:throw told:tell understood:understand withdrawn:withdraw woken:wake won:win worn:wear \
    written:write";

/// Verbs that double their last consonant: "stopped", "plugged". Verbs ending in `l` also keep
/// the US spelling ("canceled").
const DOUBLING: &str = "admit cancel chat clip commit control crop dial drag drop flip grab \
    label log map omit permit pin plan plug prefer refer scan skip snap stop submit swap tag tap \
    trim unpin unplug unzip wrap zip";
/// Words ending in "-ed" that are not passive participles: nouns, adjectives describing a
/// person's state ("tired"), and naming or location ("is called Share", "is located in").
const NOT_PARTICIPLES: &str = "based beloved bleed bored breed called crowded detailed embed \
    entitled excited exceed greed speed hundred indeed interested labeled labelled limited located named \
    naked pleased proceed related sacred scared succeed supposed surprised talented tired titled \
    wicked worried";
/// Particles each phrasal verb takes, so "turned on" is one verb but "selected in" is not.
const PHRASAL: &str = "back:up check:in,out fill:in,out hang:up log:in,out look:up pick:up \
    plug:in power:on,off put:on scroll:up,down set:up shut:down sign:in,out,up switch:on,off \
    turn:on,off,up,down type:in write:down zoom:in,out";
/// First words that open a subordinate clause; the instruction is after the first comma.
const SUBORDINATORS: &str = "if when whenever once after before while until unless";
/// Words an instruction may start with before its verb ("Then click", "Please open").
const LEADING: &str = "then please now next first finally also just simply always never";
/// Forms of "be" (and "get") that make a passive.
const BE: &str = "is are was were be been being get gets got gotten isn't aren't wasn't weren't";
/// Be-forms that report what happened or is happening rather than ask for it.
const PAST: &str = "was were wasn't weren't been being got gotten";
/// One-word modals; "needs to", "has to" and the like are found through their "to".
const MODALS: &str = "should must can could will would may might shall cannot can't won't \
    shouldn't mustn't couldn't wouldn't";
/// Adverbs allowed between the parts of a passive (besides words ending in "-ly").
const ADVERBS: &str = "not then also now first always never automatically immediately";
/// Subjects that say nothing about what to act on, so no rewrite is offered.
const PRONOUNS: &str = "it this that these those they them he she you we i one everything \
    something nothing all both each which who";
/// Words that start an agent after "by" ("sent by the host"), unlike a means ("by email").
const DETERMINERS: &str = "the a an your their his her its my our this that you them him me us \
    someone somebody everyone";
/// Names that keep their capital when they become the object of a rewrite.
const PROPER: &str = "zoom teams google chrome firefox safari windows mac macos ios android \
    ipad iphone moodle canvas slack skype webex bluetooth youtube powerpoint word excel outlook \
    gmail wechat dingtalk classin settings preferences";

/// Whether `word` is in the space-separated `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// The verb lists, built once.
struct Lexicon {
    verbs: HashSet<&'static str>,
    /// Past participle -> base form, regular and irregular.
    participles: HashMap<String, &'static str>,
}

/// The lexicon shared by all checks.
fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let verbs: HashSet<&str> = VERBS.split_whitespace().collect();
        let mut participles = HashMap::new();
        let irregular: Vec<(&str, &str)> = IRREGULAR
            .split_whitespace()
            .filter_map(|p| p.split_once(':'))
            .collect();
        for &verb in &verbs {
            if irregular.iter().any(|&(_, base)| base == verb) {
                continue;
            }
            let mut forms = Vec::new();
            if listed(DOUBLING, verb) {
                forms.extend(verb.chars().last().map(|c| format!("{verb}{c}ed")));
                if verb.ends_with('l') {
                    forms.push(format!("{verb}ed"));
                }
            } else if verb.ends_with('e') {
                forms.push(format!("{verb}d"));
            } else if let Some(stem) = verb.strip_suffix('y')
                && !stem.ends_with(['a', 'e', 'o', 'u'])
            {
                forms.push(format!("{stem}ied"));
            } else {
                forms.push(format!("{verb}ed"));
            }
            participles.extend(forms.into_iter().map(|f| (f, verb)));
        }
        participles.extend(irregular.into_iter().map(|(p, b)| (p.to_string(), b)));
        Lexicon { verbs, participles }
    })
}

/// A word of an English sentence.
struct Word {
    /// Byte range in the sentence.
    range: Range<usize>,
    /// Lowercased, with typographic apostrophes made ASCII.
    lower: String,
}

/// Words of `s`: letters and digits, with apostrophes and hyphens inside a word.
fn words(s: &str) -> Vec<Word> {
    let word = |range: Range<usize>| Word {
        lower: s[range.clone()].to_lowercase().replace('’', "'"),
        range,
    };
    let mut out = Vec::new();
    let mut start = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let letter = |c: char| c.is_alphanumeric() && !is_cjk(c);
        let inside = letter(c)
            || start.is_some()
                && matches!(c, '\'' | '’' | '-')
                && chars.peek().is_some_and(|&(_, n)| letter(n));
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push(word(st..i));
                start = None;
            }
            _ => {}
        }
    }
    out.extend(start.map(|st| word(st..s.len())));
    out
}

/// Whether `w` can be the participle of a passive.
fn is_participle(w: &str) -> bool {
    !listed(NOT_PARTICIPLES, w)
        && (lexicon().participles.contains_key(w) || w.len() > 4 && w.ends_with("ed"))
}

/// Whether `w` may sit inside a passive ("should not be", "is automatically muted").
fn is_adverb(w: &str) -> bool {
    listed(ADVERBS, w) || w.len() > 3 && w.ends_with("ly")
}

/// Whether `w` makes the passive a prohibition.
fn is_negative(w: &str) -> bool {
    matches!(w, "not" | "never" | "cannot") || w.ends_with("n't")
}

/// The words of the instruction in `sentence`: after a leading subordinate clause ("If you hear
/// echo, …") and after words such as "Then" or "Please".
fn main_clause<'a>(sentence: &str, all: &'a [Word]) -> Vec<&'a Word> {
    let first = all.first().map_or("", |w| w.lower.as_str());
    let second = all.get(1).map_or("", |w| w.lower.as_str());
    let subordinate = listed(SUBORDINATORS, first)
        || matches!(
            (first, second),
            ("as", "soon" | "long") | ("in", "case") | ("even", "if")
        );
    let clause = match sentence.find([',', '，']) {
        Some(comma) if subordinate => comma + 1,
        _ => 0,
    };
    let ws = all.iter().filter(|w| w.range.start >= clause);
    ws.skip_while(|w| listed(LEADING, &w.lower)).collect()
}

/// The first passive in `ws` with a modal, else the first one: the index of its first word
/// (modal or be-form) and of its participle.
fn find_passive(ws: &[&Word]) -> Option<(usize, usize)> {
    let lower = |i: usize| ws.get(i).map_or("", |w| w.lower.as_str());
    // The modal ending just before word `i`: "should", or "needs to" and the like.
    let modal_at = |i: usize| match i.checked_sub(1).map(lower) {
        Some(m) if listed(MODALS, m) => Some(i - 1),
        Some("to")
            if matches!(
                i.checked_sub(2).map_or("", lower),
                "need" | "needs" | "has" | "have" | "had" | "ought"
            ) =>
        {
            Some(i - 2)
        }
        _ => None,
    };
    let mut found = None;
    for j in (0..ws.len()).filter(|&j| listed(BE, lower(j))) {
        let p = if is_adverb(lower(j + 1)) {
            j + 2
        } else {
            j + 1
        };
        if !is_participle(lower(p)) {
            continue;
        }
        // Walk back over "is being", "has been", then an adverb and a modal ("should not be").
        let mut start = j;
        while start > 0
            && (listed(BE, lower(start - 1))
                || lower(start) == "been" && matches!(lower(start - 1), "has" | "have" | "had"))
        {
            start -= 1;
        }
        let modal = modal_at(start).or_else(|| {
            is_adverb(lower(start.checked_sub(1)?))
                .then(|| modal_at(start - 1))
                .flatten()
        });
        found = found.or(Some((modal.unwrap_or(start), p)));
        if let Some(m) = modal {
            return Some((m, p));
        }
    }
    found
}

/// A passive found in an English sentence: range and rewrite relative to the sentence.
fn english_passive(sentence: &str) -> Option<Passive> {
    let all = words(sentence);
    let ws = main_clause(sentence, &all);
    let head = ws.first()?;
    // An imperative never has "is" or "should" right after its verb: in "Mute is on" or
    // "Zoom should be opened" the first word is a noun.
    let next = ws.get(1).map_or("", |w| w.lower.as_str());
    let lower = head.lower.as_str();
    if matches!(lower, "do" | "don't" | "dont" | "be")
        || lexicon().verbs.contains(lower) && !listed(BE, next) && !listed(MODALS, next)
    {
        return None;
    }
    let (start, p) = find_passive(&ws)?;
    let participle = ws.get(p)?;
    let lex = lexicon();
    let base = lex
        .participles
        .get(participle.lower.as_str())
        .copied()
        .filter(|b| lex.verbs.contains(b));
    // A particle belongs to the verb only if the verb takes it: "turned on", not "selected in".
    let particle = ws
        .get(p + 1)
        .filter(|w| match base {
            Some(base) => PHRASAL
                .split_whitespace()
                .filter_map(|entry| entry.split_once(':'))
                .any(|(v, ps)| v == base && ps.split(',').any(|p| p == w.lower)),
            None => matches!(w.lower.as_str(), "on" | "off" | "up" | "down" | "out"),
        })
        .filter(|w| {
            sentence[participle.range.end..w.range.start]
                .trim()
                .is_empty()
        });
    let end = particle.map_or(participle.range.end, |w| w.range.end);
    let range = ws.get(start)?.range.start..end;
    let rewrite = base.and_then(|base| {
        let inside = ws.get(start..p)?;
        let subject = sentence[head.range.start..range.start]
            .trim()
            .trim_end_matches(',');
        let rest = &sentence[end..];
        let negative = inside.iter().any(|w| is_negative(&w.lower));
        let prohibition = inside.iter().any(|w| {
            matches!(
                w.lower.as_str(),
                "should" | "shouldn't" | "must" | "mustn't"
            )
        });
        // No rewrite when it would not be an instruction to the reader: something the app does
        // on its own ("automatically"), done by someone else ("by the host"), already done or
        // under way ("has been sent", "is being tested"), a state ("isn't enabled", "cannot be
        // closed"), or a subject that names nothing ("It should be").
        let agent = rest
            .trim_start()
            .strip_prefix("by ")
            .and_then(|r| r.split_whitespace().next());
        if ws.iter().any(|w| w.lower == "automatically")
            || agent.is_some_and(|a| listed(DETERMINERS, &a.to_lowercase()))
            || negative && !prohibition
            || inside.iter().any(|w| listed(PAST, &w.lower))
            || subject.is_empty()
            || listed(PRONOUNS, &subject.to_lowercase())
        {
            return None;
        }
        // Adverbs lead ("Then select"), a prohibition starts "Do not", a particle follows.
        let adverbs = inside
            .iter()
            .filter(|w| is_adverb(&w.lower) && !is_negative(&w.lower));
        let verb: Vec<&str> = (adverbs.map(|w| w.lower.as_str()))
            .chain(negative.then_some("do not"))
            .chain([base])
            .chain(particle.map(|w| w.lower.as_str()))
            .collect();
        Some(format!(
            "{} {}{rest}",
            capitalise(&verb.join(" ")),
            object_case(subject)
        ))
    });
    Some(Passive { range, rewrite })
}

/// `s` with its first letter in upper case.
fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    cs.next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(cs).collect())
}

/// The subject as the object of an imperative: "The microphone" -> "the microphone", but names
/// and acronyms ("Zoom", "USB", "iPad") keep their capitals.
fn object_case(subject: &str) -> String {
    let first = subject.split_whitespace().next().unwrap_or("");
    let mut cs = first.chars();
    let title_case = cs.next().is_some_and(char::is_uppercase) && cs.all(char::is_lowercase);
    if !title_case || listed(PROPER, &first.to_lowercase()) {
        return subject.to_string();
    }
    let mut cs = subject.chars();
    cs.next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(cs).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks as "Kind: text" lines.
    fn outline(body: &str) -> String {
        let lines: Vec<String> = blocks(body)
            .iter()
            .map(|b| format!("{:?}: {}", b.kind, b.text))
            .collect();
        lines.join("\n")
    }

    /// Sentences joined with " | ".
    fn split(text: &str) -> String {
        let parts: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        parts.join(" | ")
    }

    #[test]
    fn blocks_have_kinds() {
        let body = "# Fix *echo* {#echo}\n\nFirst paragraph\nwraps here.\n\n1. Open [Settings](s.md).\n   - Audio tab\n     1. Nested step\n2. [x] Run `zoom --check` now.\n\n   Second paragraph.\n\n- Loose note\n\nTerm\n: Its definition.\n";
        let expected = "Heading: Fix echo\nProse: First paragraph wraps here.\nStep: Open Settings.\nProse: Audio tab\nStep: Nested step\nStep: Run zoom --check now.\nStep: Second paragraph.\nProse: Loose note\nProse: Term\nProse: Its definition.";
        assert_eq!(outline(body), expected);
    }

    #[test]
    fn quotes_and_containers_are_prose_but_fences_are_not() {
        let body =
            "> [!TIP]\n> Mute **first**.\n\n:::warning Be careful\nInside text.\n:::\nAfter.\n";
        assert_eq!(
            outline(body),
            "Prose: Mute first.\nProse: Inside text.\nProse: After."
        );
    }

    #[test]
    fn code_tables_html_and_images_are_left_out() {
        let body = "```\ncode here\n```\n\n    indented\n\n| a | b |\n|---|---|\n| c | d |\n\n<div>\nraw\n</div>\n\nPress <kbd>Ctrl</kbd>+<kbd>M</kbd> ![alt text](a.png) now[^1].<br>Done.\n\n[^1]: A note.\n";
        assert_eq!(
            outline(body),
            "Prose: Press Ctrl+M now. Done.\nProse: A note."
        );
    }

    #[test]
    fn offsets_map_back_to_the_source() {
        let body = "Intro.\n\n1. Open *the* [Audio **tab**](a.md) and \\*press\\* `Test` twice.\n\n打开**设置**，然后点击测试。\n";
        let bs = blocks(body);
        for (b, word) in [
            (&bs[1], "twice"),
            (&bs[1], "Test"),
            (&bs[1], "tab"),
            (&bs[2], "然后"),
        ] {
            let at = b.text.find(word).unwrap();
            assert!(body[b.source_offset(at)..].starts_with(word), "{word}");
        }
        assert_eq!(
            bs[1].source_offset(bs[1].text.len()),
            body.find(" twice.").unwrap() + 7
        );
        let fenced = ":::tip 提示\n麦克风 works.\n:::\n";
        let b = &blocks(fenced)[0];
        assert!(fenced[b.source_offset(b.text.find("works").unwrap())..].starts_with("works"));
    }

    #[test]
    fn english_sentences() {
        let text = "Use a headset, e.g. a USB one. Ask Dr. Lee or J. Smith! Set it to 1.5 and open example.com/index.html. Done?";
        assert_eq!(
            split(text),
            "Use a headset, e.g. a USB one. | Ask Dr. Lee or J. Smith! | Set it to 1.5 and open example.com/index.html. | Done?"
        );
        let text = "See Fig. 2 and No. 5 for v2.0 on 192.168.1.1. Cables, etc. Then \"Save.\" (Or wait...) Next";
        assert_eq!(
            split(text),
            "See Fig. 2 and No. 5 for v2.0 on 192.168.1.1. | Cables, etc. | Then \"Save.\" | (Or wait...) | Next"
        );
        assert_eq!(
            split("Mics, cables etc. are fine. At 9 a.m. class starts."),
            "Mics, cables etc. are fine. | At 9 a.m. class starts."
        );
        assert!(sentences("  ").is_empty());
        assert!(sentences("Stop. . Go. ").iter().all(|r| !r.is_empty()));
    }

    #[test]
    fn chinese_sentences() {
        assert_eq!(
            split("打开设置。点击“测试”！声音正常吗？好的"),
            "打开设置。 | 点击“测试”！ | 声音正常吗？ | 好的"
        );
        assert_eq!(
            split("打开 Zoom 的设置。Then click OK. 完成"),
            "打开 Zoom 的设置。 | Then click OK. | 完成"
        );
        assert_eq!(
            split("老师说：“开始。”然后点击 v1.5 版本!好"),
            "老师说：“开始。” | 然后点击 v1.5 版本! | 好"
        );
    }

    #[test]
    fn lengths() {
        let len = |words, chinese| Length { words, chinese };
        assert_eq!(length("Don't turn off the Wi-Fi at 2.5 GHz."), len(8, 0));
        assert_eq!(length("打开麦克风，然后说话。"), len(0, 9));
        assert_eq!(length("打开 Zoom 的设置"), len(1, 5));
        assert_eq!(
            length("Open https://example.com/a?b=c or run --no-audio now"),
            len(6, 0)
        );
        assert_eq!(
            length("Edit settings.json (see “Audio”) — then restart."),
            len(6, 0)
        );
        assert_eq!(length("... — ！"), len(0, 0));
    }

    #[test]
    fn passive_steps_are_flagged_and_rewritten() {
        // Step text | flagged words | rewrite.
        for case in [
            "The microphone should be selected in Settings. Then test it. | should be selected | Select the microphone in Settings.",
            "Your camera must be turned on before class. | must be turned on | Turn on your camera before class.",
            "The link is sent by email. | is sent | Send the link by email.",
            "If you hear echo, the speaker volume should be lowered. | should be lowered | Lower the speaker volume.",
            "Zoom should not be closed. | should not be closed | Do not close Zoom.",
            "Students need to be muted first. | need to be muted | Mute students first.",
            "Old cables are then unplugged. | are then unplugged | Then unplug old cables.",
            "Mute should be toggled. | should be toggled | Toggle mute.",
            "The file that was opened should be closed. | should be closed | Close the file that was opened.",
        ] {
            let [text, passive, rewritten] = case.split(" | ").collect::<Vec<_>>()[..] else {
                panic!("bad case {case}");
            };
            let p = passive_step(text).expect(text);
            assert_eq!(
                (&text[p.range], p.rewrite.as_deref()),
                (passive, Some(rewritten))
            );
        }
        // Flagged, but not rewritten: nothing to act on, an unknown verb, someone else acts,
        // the app acts, it already happened, or it is a state.
        for text in [
            "It should be closed.",
            "The form is shaken.",
            "Sharing should be enabled by the host.",
            "The recording is uploaded automatically.",
            "The link has been sent.",
            "Echo cancellation isn't enabled.",
        ] {
            assert_eq!(passive_step(text).map(|p| p.rewrite), Some(None), "{text}");
        }
    }

    #[test]
    fn imperatives_are_not_flagged() {
        for text in [
            "Make sure your microphone is connected.",
            "Click **Settings**.",
            "If the sound is muted, unmute it.",
            "When the class is started, share your screen.",
            "Check that echo cancellation is turned on.",
            "Close other apps.",
            "Please open the chat, which is hidden.",
            "Don't leave while you are muted.",
            "The button is called Share.",
        ] {
            let text = &blocks(text)[0].text;
            assert_eq!(passive_step(text), None, "{text}");
        }
    }

    #[test]
    fn chinese_passive_steps() {
        let text = "麦克风应该被打开。然后说话。";
        let p = passive_step(text).unwrap();
        assert_eq!((&text[p.range], p.rewrite), ("被打开", None));
        assert_eq!(passive_step("打开麦克风。"), None);
        assert_eq!(passive_step("盖好被子"), None);
        assert_eq!(passive_step("切换到被动模式。"), None);
        assert_eq!(passive_step("打开设置。声音被关闭了。"), None);
    }
}
