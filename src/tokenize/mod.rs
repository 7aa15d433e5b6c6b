//! The `tokenize` stage: turns each quote into normalised terms, each with the byte range of the
//! original text it came from (`&text[start..end]` is its surface form). Pure: no I/O.
//!
//! Steps, per quote, in this order (scikit-learn's order where it has one):
//! 1. segment into words: UAX #29 words ([`Compat::Themata`]) or scikit-learn's `(?u)\b\w\w+\b`
//!    ([`Compat::Sklearn`]);
//! 2. normalise each word: fold typographic apostrophes to `'`, lowercase (full Unicode), strip accents
//!    (NFKD, then drop characters of non-zero canonical combining class, as scikit-learn's
//!    `strip_accents='unicode'`);
//! 3. drop words shorter than `min_len` characters; apply the numbers policy;
//! 4. mark stop words (after normalisation, before stemming); stem the others (memoised);
//! 5. form word n-grams, joined by one space, never across quotes: by default from the words left after
//!    removing stop words (as scikit-learn); with [`StopWordsTiming::AfterNgrams`] from all words, then
//!    dropping only the n-grams made entirely of stop words, so that `not valued` survives.
//!
//! ```
//! use themata::tokenize::TokenizerParams;
//! let tokenizer = TokenizerParams::default().build().unwrap();
//! let terms: Vec<String> = tokenizer.tokenize("Helping others helped me stay well.")
//!     .into_iter().map(|t| t.term).collect();
//! assert_eq!(terms, ["help", "other", "help", "stay", "well"]);
//! ```

mod intern;
mod python_word;
mod segment;
mod stop_words;

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use unicode_normalization::UnicodeNormalization;

pub use segment::{is_python_word_char, unicode_words};
pub use stop_words::{SKLEARN_ENGLISH, SNOWBALL_ENGLISH, parse_word_list};

pub(crate) use intern::prefetch;
pub use intern::{BatchInterner, Interner, KeyInterner, StrInterner, hash_slice};

use crate::parallel::{doc_chunks, with_threads};

/// The term that replaces a number under [`NumberPolicy::Replace`].
pub const NUMBER_PLACEHOLDER: &str = "<num>";

/// Which tool's conventions the tokenizer follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// themata's defaults: UAX #29 words (`can't` and `3.5` stay whole), apostrophes folded, Snowball
    /// English stop words and stemming, words of at least 2 characters.
    #[default]
    Themata,
    /// scikit-learn's `TfidfVectorizer` defaults: tokens are `(?u)\b\w\w+\b` on the lowercased text
    /// (Python's `\w`), no apostrophe folding, no stop words, no stemming; `english` stop words mean
    /// scikit-learn's 318-word list.
    Sklearn,
}

/// What to do with tokens that hold no letter, such as `2015`, `3.5` or `1,000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NumberPolicy {
    /// Keep them as they are.
    #[default]
    Keep,
    /// Drop them.
    Drop,
    /// Replace each by the term `<num>`.
    Replace,
}

/// When stop words are removed relative to n-gram formation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopWordsTiming {
    /// Remove stop words, then form n-grams from the words left (scikit-learn's behaviour).
    #[default]
    BeforeNgrams,
    /// Form n-grams from all words, then drop the n-grams made only of stop words.
    AfterNgrams,
}

/// A stop word list.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StopList {
    /// No stop words.
    #[default]
    None,
    /// The compatibility mode's English list: Snowball's 174 words under [`Compat::Themata`],
    /// scikit-learn's 318 under [`Compat::Sklearn`] (as `TfidfVectorizer(stop_words='english')`).
    English,
    /// Snowball's English list (174 words), whatever the mode.
    Snowball,
    /// scikit-learn's `ENGLISH_STOP_WORDS` (318 words), whatever the mode.
    Sklearn,
    /// Words given by the user (normalised like tokens before use).
    Words(Vec<String>),
}

/// The Snowball stemmers that rust-stemmers offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Language {
    Arabic,
    Danish,
    Dutch,
    English,
    Finnish,
    French,
    German,
    Greek,
    Hungarian,
    Italian,
    Norwegian,
    Portuguese,
    Romanian,
    Russian,
    Spanish,
    Swedish,
    Tamil,
    Turkish,
}

impl Language {
    fn algorithm(self) -> rust_stemmers::Algorithm {
        use rust_stemmers::Algorithm as A;
        match self {
            Language::Arabic => A::Arabic,
            Language::Danish => A::Danish,
            Language::Dutch => A::Dutch,
            Language::English => A::English,
            Language::Finnish => A::Finnish,
            Language::French => A::French,
            Language::German => A::German,
            Language::Greek => A::Greek,
            Language::Hungarian => A::Hungarian,
            Language::Italian => A::Italian,
            Language::Norwegian => A::Norwegian,
            Language::Portuguese => A::Portuguese,
            Language::Romanian => A::Romanian,
            Language::Russian => A::Russian,
            Language::Spanish => A::Spanish,
            Language::Swedish => A::Swedish,
            Language::Tamil => A::Tamil,
            Language::Turkish => A::Turkish,
        }
    }
}

/// How to tokenize. Plain values with documented defaults; [`TokenizerParams::build`] validates them once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TokenizerParams {
    /// Conventions to follow (token pattern, meaning of `english`). Default: [`Compat::Themata`].
    pub compat: Compat,
    /// Full Unicode lowercasing. Default: `true` (scikit-learn: `lowercase=True`).
    pub lowercase: bool,
    /// NFKD, then drop combining characters. Default: `false` (scikit-learn: `strip_accents=None`).
    pub strip_accents: bool,
    /// Fold `’ ‘ ʼ ＇` to `'`. Default: `true`; `false` under [`Compat::Sklearn`].
    pub fold_apostrophes: bool,
    /// Tokens without letters. Default: [`NumberPolicy::Keep`].
    pub numbers: NumberPolicy,
    /// Minimum characters in a word. Default: 2 (scikit-learn's pattern needs 2).
    pub min_len: usize,
    /// Stop words. Default: [`StopList::English`]; [`StopList::None`] under [`Compat::Sklearn`].
    pub stop_words: StopList,
    /// Words added to the stop list. Default: none.
    pub extra_stop_words: Vec<String>,
    /// Words never treated as stop words, such as `not`, `no`, `never`. Default: none.
    pub keep_words: Vec<String>,
    /// When stop words are removed. Default: [`StopWordsTiming::BeforeNgrams`] (scikit-learn's).
    pub stop_words_timing: StopWordsTiming,
    /// Snowball stemming language, or `None` for no stemming. Default: `Some(English)`; `None` under
    /// [`Compat::Sklearn`].
    pub stem: Option<Language>,
    /// Smallest and largest n-gram length. Default: `(1, 1)` (scikit-learn's `ngram_range`).
    pub ngram_range: (usize, usize),
}

impl Default for TokenizerParams {
    fn default() -> Self {
        TokenizerParams::for_compat(Compat::Themata)
    }
}

impl TokenizerParams {
    /// The defaults of a compatibility mode.
    pub fn for_compat(compat: Compat) -> Self {
        let themata = compat == Compat::Themata;
        TokenizerParams {
            compat,
            lowercase: true,
            strip_accents: false,
            fold_apostrophes: themata,
            numbers: NumberPolicy::Keep,
            min_len: 2,
            stop_words: if themata { StopList::English } else { StopList::None },
            extra_stop_words: Vec::new(),
            keep_words: Vec::new(),
            stop_words_timing: StopWordsTiming::BeforeNgrams,
            stem: if themata { Some(Language::English) } else { None },
            ngram_range: (1, 1),
        }
    }

    /// Checks the params and builds the tokenizer.
    pub fn build(&self) -> Result<Tokenizer, TokenizeError> {
        let (min_n, max_n) = self.ngram_range;
        if min_n == 0 || min_n > max_n {
            return Err(TokenizeError::NgramRange { min_n, max_n });
        }
        if self.min_len == 0 {
            return Err(TokenizeError::MinLen);
        }
        let base: Vec<String> = match &self.stop_words {
            StopList::None => Vec::new(),
            StopList::English if self.compat == Compat::Sklearn => words_of(SKLEARN_ENGLISH),
            StopList::English | StopList::Snowball => words_of(SNOWBALL_ENGLISH),
            StopList::Sklearn => words_of(SKLEARN_ENGLISH),
            StopList::Words(words) => words.clone(),
        };
        let mut tokenizer = Tokenizer {
            params: self.clone(),
            stop_words: FxHashSet::default(),
            stemmer: self.stem.map(|l| rust_stemmers::Stemmer::create(l.algorithm())),
            idle_scratches: Mutex::new(Vec::new()),
        };
        let keep: FxHashSet<String> = self.keep_words.iter().map(|w| tokenizer.normalise_word(w)).collect();
        tokenizer.stop_words = base
            .iter()
            .chain(&self.extra_stop_words)
            .map(|w| tokenizer.normalise_word(w))
            .filter(|w| !w.is_empty() && !keep.contains(w))
            .collect();
        Ok(tokenizer)
    }
}

fn words_of(list: &str) -> Vec<String> {
    stop_words::parse_word_list(list)
}

/// Invalid tokenizer params.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenizeError {
    /// The n-gram range is empty or starts at 0.
    #[error("invalid n-gram range {min_n},{max_n}: expected MIN,MAX with 1 <= MIN <= MAX")]
    NgramRange {
        /// Smallest n.
        min_n: usize,
        /// Largest n.
        max_n: usize,
    },
    /// A minimum length of 0.
    #[error("invalid minimum token length 0: expected 1 or more")]
    MinLen,
}

/// One term of a quote, with the byte range of the original text it came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Token {
    /// The normalised term (for an n-gram, its words joined by one space).
    pub term: String,
    /// Byte offset where its surface form starts in the original text.
    pub start: usize,
    /// Byte offset where its surface form ends (exclusive).
    pub end: usize,
}

/// A validated tokenizer; cheap to share between threads.
pub struct Tokenizer {
    params: TokenizerParams,
    stop_words: FxHashSet<String>,
    stemmer: Option<rust_stemmers::Stemmer>,
    /// Scratches returned by [`PooledScratch`], their word memos warm for this tokenizer's settings.
    idle_scratches: Mutex<Vec<Scratch>>,
}

/// A [`Scratch`] lent by a tokenizer ([`Tokenizer::scratch`]), given back when dropped.
///
/// rayon's `map_init` makes a new state for every job split (17 on two threads for 226 chunks,
/// measured), and a new scratch stems and checks every word again; a scratch lent from the pool keeps
/// what earlier jobs and batches learnt. Which scratch a chunk gets never changes its output: term ids
/// restart per chunk ([`Scratch::reset_terms`]) and the memo caches a pure function of the word.
pub struct PooledScratch<'t> {
    tokenizer: &'t Tokenizer,
    scratch: Option<Scratch>,
}

impl std::ops::Deref for PooledScratch<'_> {
    type Target = Scratch;
    fn deref(&self) -> &Scratch {
        self.scratch.as_ref().expect("present until dropped")
    }
}

impl std::ops::DerefMut for PooledScratch<'_> {
    fn deref_mut(&mut self) -> &mut Scratch {
        self.scratch.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledScratch<'_> {
    fn drop(&mut self) {
        if let Some(scratch) = self.scratch.take() {
            self.tokenizer.idle_scratches.lock().unwrap_or_else(PoisonError::into_inner).push(scratch);
        }
    }
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("params", &self.params).field("stop_words", &self.stop_words.len()).finish()
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").field("words", &self.words.len()).field("terms", &self.terms.len()).finish()
    }
}

/// Reusable buffers and interned words and terms of one thread or chunk. Reusing one across quotes
/// avoids allocation and repeated work in the hot loop: each distinct word is normalised, checked
/// against the stop list and stemmed once, after which a token costs one hash lookup. Ids are local to
/// the scratch; they are dense and in order of first appearance.
#[derive(Default)]
pub struct Scratch {
    ranges: Vec<Range<usize>>,
    word: String,
    gram: String,
    /// Normalised words seen, with what each becomes.
    words: StrInterner,
    word_fates: Vec<WordFate>,
    /// Unigram terms (words or stems), each with its term id.
    unigrams: StrInterner,
    unigram_terms: Vec<u32>,
    /// N-grams of 2 to 4 words, packed from their words' term ids (one table per n), with term ids.
    short_grams: [KeyInterner; 3],
    short_gram_terms: [Vec<u32>; 3],
    /// Longer n-grams, with term ids.
    long_grams: Interner<u32>,
    long_gram_terms: Vec<u32>,
    /// What each term id stands for: the ids that [`Tokenizer::for_each_term_id`] emits.
    terms: Vec<TermKind>,
    gram_ids: Vec<u32>,
    /// What each distinct word becomes, for the scratch's whole life (survives
    /// [`Scratch::reset_terms`]): stop-word checks and stemming run once per word per thread.
    memo_words: StrInterner,
    memo_fates: Vec<MemoFate>,
    /// Texts of the terms in `memo_fates`.
    memo_terms: StrInterner,
    units: Vec<Unit>,
    emitted: Vec<(u32, Range<usize>)>,
}

impl Scratch {
    /// Forgets the interned words and terms (ids restart from 0), keeping the word memo and the
    /// allocations. Call it per chunk of quotes: small tables stay in cache, which is faster than one
    /// table of every word in a corpus.
    pub fn reset_terms(&mut self) {
        self.words.clear();
        self.word_fates.clear();
        self.unigrams.clear();
        self.unigram_terms.clear();
        for (grams, terms) in self.short_grams.iter_mut().zip(&mut self.short_gram_terms) {
            grams.clear();
            terms.clear();
        }
        self.long_grams = Interner::default();
        self.long_gram_terms.clear();
        self.terms.clear();
    }

    /// The text of a single-word term (a word or a stem), stored as it is; `None` for an n-gram, whose
    /// text is its words joined.
    fn stored_text(&self, id: u32) -> Option<&str> {
        match self.terms[id as usize] {
            TermKind::Unigram(u) => Some(self.unigrams.resolve(u)),
            TermKind::Word(w) => Some(self.words.resolve(w)),
            TermKind::ShortGram(..) | TermKind::LongGram(_) => None,
        }
    }

    /// The term behind an id emitted by [`Tokenizer::for_each_term_id`] with this scratch.
    pub fn term(&self, id: u32) -> std::borrow::Cow<'_, str> {
        match self.stored_text(id) {
            Some(text) => text.into(),
            None => {
                let mut out = String::new();
                self.write_term(id, &mut out);
                out.into()
            }
        }
    }

    /// Appends the term behind `id` to `out` (n-grams: their words joined by single spaces), without
    /// allocating.
    pub fn write_term(&self, id: u32, out: &mut String) {
        match self.terms[id as usize] {
            TermKind::Unigram(_) | TermKind::Word(_) => out.push_str(self.stored_text(id).expect("a single word")),
            TermKind::ShortGram(n, g) => {
                let key = self.short_grams[n as usize - 2].resolve(g);
                self.write_words((0..n as u32).map(|i| (key >> (32 * i)) as u32), out);
            }
            TermKind::LongGram(g) => self.write_words(self.long_grams.resolve(g).iter().copied(), out),
        }
    }

    /// Appends the terms behind `ids`, separated by single spaces (an n-gram's words).
    fn write_words(&self, ids: impl Iterator<Item = u32>, out: &mut String) {
        for (i, word) in ids.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            self.write_term(word, out);
        }
    }

    /// Number of distinct terms this scratch has seen.
    pub fn n_terms(&self) -> usize {
        self.terms.len()
    }

    fn new_term(&mut self, kind: TermKind) -> u32 {
        self.terms.push(kind);
        (self.terms.len() - 1) as u32
    }

    /// The term id of an n-gram (n >= 2) of units.
    fn gram_term(&mut self, window: &[Unit]) -> u32 {
        let n = window.len();
        if n <= 4 {
            let key = window.iter().enumerate().fold(0u128, |key, (i, u)| key | (u128::from(u.term) << (32 * i)));
            let (gram, new) = self.short_grams[n - 2].intern(key);
            if new {
                let term = self.new_term(TermKind::ShortGram(n as u8, gram));
                self.short_gram_terms[n - 2].push(term);
            }
            self.short_gram_terms[n - 2][gram as usize]
        } else {
            self.gram_ids.clear();
            self.gram_ids.extend(window.iter().map(|u| u.term));
            let (gram, new) = self.long_grams.intern(&self.gram_ids);
            if new {
                let term = self.new_term(TermKind::LongGram(gram));
                self.long_gram_terms.push(term);
            }
            self.long_gram_terms[gram as usize]
        }
    }
}

/// What a term id stands for.
#[derive(Clone, Copy, Debug)]
enum TermKind {
    /// A word or stem: its id in `unigrams`.
    Unigram(u32),
    /// A word that is its own term (no stemming, stop words or number placeholder): its id in `words`.
    Word(u32),
    /// An n-gram of 2 to 4 words: n, and its id in `short_grams[n - 2]`.
    ShortGram(u8, u32),
    /// A longer n-gram: its id in `long_grams`.
    LongGram(u32),
}

/// What a distinct normalised word becomes, independent of any chunk.
#[derive(Clone, Copy, Debug)]
enum MemoFate {
    Dropped,
    /// Its term's text (id in `memo_terms`), and whether it is a stop word.
    Term {
        text: u32,
        stop: bool,
    },
}

/// What a distinct normalised word becomes.
#[derive(Clone, Copy, Debug)]
enum WordFate {
    /// Too short, or a number under [`NumberPolicy::Drop`].
    Dropped,
    /// A term (its id), and whether it is a stop word.
    Term { term: u32, stop: bool },
}

/// One word of the current quote.
#[derive(Clone, Debug)]
struct Unit {
    source: Range<usize>,
    term: u32,
    stop: bool,
}

impl Tokenizer {
    /// A scratch for this tokenizer, from its pool of idle ones (a new one when none is idle); it goes
    /// back to the pool when dropped. Use it as the state of parallel jobs.
    pub fn scratch(&self) -> PooledScratch<'_> {
        let idle = self.idle_scratches.lock().unwrap_or_else(PoisonError::into_inner).pop();
        PooledScratch { tokenizer: self, scratch: Some(idle.unwrap_or_default()) }
    }

    /// The params it was built from.
    pub fn params(&self) -> &TokenizerParams {
        &self.params
    }

    /// The effective stop words (normalised, keep words removed), sorted.
    pub fn stop_words(&self) -> Vec<&str> {
        let mut words: Vec<&str> = self.stop_words.iter().map(String::as_str).collect();
        words.sort_unstable();
        words
    }

    /// Tokenizes one quote.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        let mut scratch = Scratch::default();
        self.tokenize_with(text, &mut scratch)
    }

    /// Tokenizes one quote, reusing `scratch`.
    pub fn tokenize_with(&self, text: &str, scratch: &mut Scratch) -> Vec<Token> {
        let mut tokens = Vec::new();
        self.for_each_term(text, scratch, |term, range| {
            tokens.push(Token { term: term.to_string(), start: range.start, end: range.end })
        });
        tokens
    }

    /// Tokenizes many quotes in parallel on `threads` threads (`0` = all cores). The result is the same
    /// for every thread count: chunks are tokenized independently and concatenated in order.
    pub fn tokenize_all(&self, texts: &[&str], threads: usize) -> Vec<Vec<Token>> {
        with_threads(threads, || {
            doc_chunks(texts)
                .into_par_iter()
                // Scratches from the pool (their memos stay warm), term tables reset per chunk.
                .map_init(
                    || self.scratch(),
                    |scratch, range| {
                        scratch.reset_terms();
                        texts[range].iter().map(|text| self.tokenize_with(text, scratch)).collect::<Vec<_>>()
                    },
                )
                .collect::<Vec<_>>()
                .concat()
        })
    }

    /// Calls `emit(term, source_range)` for every term of `text`, in scikit-learn's order: all
    /// unigrams in text order, then all bigrams, and so on. Allocates nothing once `scratch` is warm.
    pub fn for_each_term(&self, text: &str, scratch: &mut Scratch, mut emit: impl FnMut(&str, Range<usize>)) {
        let mut emitted = std::mem::take(&mut scratch.emitted);
        let mut gram = std::mem::take(&mut scratch.gram);
        emitted.clear();
        self.for_each_term_id(text, scratch, |id, range| emitted.push((id, range)));
        for (id, range) in emitted.drain(..) {
            match scratch.stored_text(id) {
                Some(text) => emit(text, range),
                None => {
                    gram.clear();
                    scratch.write_term(id, &mut gram);
                    emit(&gram, range);
                }
            }
        }
        scratch.emitted = emitted;
        scratch.gram = gram;
    }

    /// Like [`Tokenizer::for_each_term`], but emits each term's id in `scratch` (see [`Scratch::term`]):
    /// the fast path for counting, with no string handling per token.
    pub fn for_each_term_id(&self, text: &str, scratch: &mut Scratch, mut emit: impl FnMut(u32, Range<usize>)) {
        let (min_n, max_n) = self.params.ngram_range;
        if (min_n, max_n) == (1, 1) {
            // Single words: every word that is not a stop word is a term, emitted as it is found (a stop
            // word on its own is dropped whichever the stop-word timing).
            self.words(text, scratch, |unit| {
                if !unit.stop {
                    emit(unit.term, unit.source);
                }
            });
            return;
        }
        let mut units = std::mem::take(&mut scratch.units);
        units.clear();
        self.words(text, scratch, |unit| units.push(unit));
        let after = self.params.stop_words_timing == StopWordsTiming::AfterNgrams;
        if !after {
            units.retain(|u| !u.stop);
        }
        for n in min_n..=max_n.min(units.len()) {
            for window in units.windows(n) {
                if after && window.iter().all(|u| u.stop) {
                    continue;
                }
                let source = window[0].source.start..window[n - 1].source.end;
                let term = if n == 1 { window[0].term } else { scratch.gram_term(window) };
                emit(term, source);
            }
        }
        scratch.units = units;
    }

    /// Segments, normalises, filters, marks stop words and stems: hands each word that stays to `sink`,
    /// in text order.
    fn words(&self, text: &str, scratch: &mut Scratch, mut sink: impl FnMut(Unit)) {
        match self.params.compat {
            Compat::Themata | Compat::Sklearn if text.is_ascii() => {
                // Lowercase the whole quote once; each word is then a slice of it, handed on as the
                // scanner finds it.
                let mut lowered = std::mem::take(&mut scratch.word);
                lowered.clear();
                lowered.push_str(text);
                if self.params.lowercase {
                    lowered.make_ascii_lowercase();
                }
                let push = |range: Range<usize>| self.push_word(&lowered[range.clone()], range, scratch, &mut sink);
                if self.params.compat == Compat::Themata {
                    segment::ascii_unicode_words(text, push);
                } else {
                    segment::ascii_python_words(text.as_bytes(), push);
                }
                scratch.word = lowered;
            }
            Compat::Themata => {
                let mut ranges = std::mem::take(&mut scratch.ranges);
                ranges.clear();
                unicode_words(text, &mut ranges);
                for range in &ranges {
                    let mut word = std::mem::take(&mut scratch.word);
                    self.normalise_into(&text[range.clone()], &mut word);
                    self.push_word(&word, range.clone(), scratch, &mut sink);
                    scratch.word = word;
                }
                scratch.ranges = ranges;
            }
            Compat::Sklearn => {
                let strip = self.params.strip_accents;
                segment::python_words(
                    text,
                    |text, at, c, out| self.normalise_char(text, at, c, strip, out),
                    |term, range| self.push_word(term, range, scratch, &mut sink),
                );
            }
        }
    }

    /// Applies length, numbers, stop words and stemming to one normalised word, once per distinct word.
    #[inline(always)]
    fn push_word(&self, word: &str, source: Range<usize>, scratch: &mut Scratch, sink: &mut impl FnMut(Unit)) {
        let (id, new) = scratch.words.intern(word);
        if new {
            let fate = self.fate(word, id, scratch);
            scratch.word_fates.push(fate);
        }
        if let WordFate::Term { term, stop } = scratch.word_fates[id as usize] {
            sink(Unit { source, term, stop });
        }
    }

    fn fate(&self, word: &str, word_id: u32, scratch: &mut Scratch) -> WordFate {
        let (unigram, new, stop) = if self.stemmer.is_none() && self.stop_words.is_empty() {
            // Nothing worth remembering across chunks: decide on the spot.
            let Some((text, _)) = self.length_and_numbers(word) else { return WordFate::Dropped };
            if self.params.numbers != NumberPolicy::Replace {
                // The word is its term, and no other word is: no second table of the same strings. A
                // quarter of the words of real text are new to their chunk, so this runs often.
                return WordFate::Term { term: scratch.new_term(TermKind::Word(word_id)), stop: false };
            }
            let (unigram, new) = scratch.unigrams.intern(text);
            (unigram, new, false)
        } else {
            let (memo, new) = scratch.memo_words.intern(word);
            if new {
                let fate = self.memo_fate(word, &mut scratch.memo_terms);
                scratch.memo_fates.push(fate);
            }
            let MemoFate::Term { text, stop } = scratch.memo_fates[memo as usize] else {
                return WordFate::Dropped;
            };
            let (unigram, new) = scratch.unigrams.intern(scratch.memo_terms.resolve(text));
            (unigram, new, stop)
        };
        if new {
            let term = scratch.new_term(TermKind::Unigram(unigram));
            scratch.unigram_terms.push(term);
        }
        WordFate::Term { term: scratch.unigram_terms[unigram as usize], stop }
    }

    /// The minimum length and the numbers policy: the word to use and whether it is a number, or
    /// `None` when the word is dropped.
    fn length_and_numbers<'a>(&self, word: &'a str) -> Option<(&'a str, bool)> {
        let (n_chars, is_number) = if word.is_ascii() {
            (word.len(), !word.bytes().any(|b| b.is_ascii_alphabetic()))
        } else {
            (word.chars().count(), !word.chars().any(char::is_alphabetic))
        };
        if n_chars < self.params.min_len {
            return None;
        }
        match (is_number, self.params.numbers) {
            (true, NumberPolicy::Drop) => None,
            (true, NumberPolicy::Replace) => Some((NUMBER_PLACEHOLDER, true)),
            _ => Some((word, is_number)),
        }
    }

    /// Length, numbers policy, stop words and stemming, for a word never seen by this scratch.
    fn memo_fate(&self, word: &str, memo_terms: &mut StrInterner) -> MemoFate {
        let Some((word, is_number)) = self.length_and_numbers(word) else { return MemoFate::Dropped };
        let stop = self.stop_words.contains(word);
        let stem = match &self.stemmer {
            Some(stemmer) if !stop && !is_number => stem_safely(stemmer, word),
            _ => None,
        };
        let (text, _) = memo_terms.intern(stem.as_deref().unwrap_or(word));
        MemoFate::Term { text, stop }
    }

    /// Normalises one UAX #29 word: fold apostrophes, lowercase, strip accents.
    fn normalise_into(&self, word: &str, out: &mut String) {
        out.clear();
        let p = &self.params;
        if word.is_ascii() {
            out.push_str(word);
            if p.lowercase {
                out.make_ascii_lowercase();
            }
            return;
        }
        let folded: std::borrow::Cow<str> = if p.fold_apostrophes && word.contains(is_typographic_apostrophe) {
            word.chars().map(|c| if is_typographic_apostrophe(c) { '\'' } else { c }).collect::<String>().into()
        } else {
            word.into()
        };
        // Whole-word lowercasing, so that a final sigma becomes ς as in Python's str.lower.
        let lowered: std::borrow::Cow<str> = if p.lowercase { folded.to_lowercase().into() } else { folded };
        if p.strip_accents {
            out.extend(lowered.nfkd().filter(|&c| unicode_normalization::char::canonical_combining_class(c) == 0));
        } else {
            out.push_str(&lowered);
        }
    }

    /// A word from a list (stop or keep words), normalised as tokens are.
    fn normalise_word(&self, word: &str) -> String {
        let mut out = String::new();
        self.normalise_into(word.trim(), &mut out);
        out
    }

    /// scikit-learn mode: the normalised form of the original character `c` at byte `at` of `text`.
    fn normalise_char(&self, text: &str, at: usize, c: char, strip: bool, out: &mut String) {
        if c.is_ascii() {
            // Most characters of a non-ASCII quote: no apostrophe to fold, no accent to strip.
            out.push(if self.params.lowercase { c.to_ascii_lowercase() } else { c });
            return;
        }
        let c = if self.params.fold_apostrophes && is_typographic_apostrophe(c) { '\'' } else { c };
        let mut push = |c: char| {
            if strip {
                out.extend(c.nfkd().filter(|&d| unicode_normalization::char::canonical_combining_class(d) == 0));
            } else {
                out.push(c);
            }
        };
        if self.params.lowercase && c == 'Σ' {
            push(lowercase_sigma_in_context(text, at));
        } else if self.params.lowercase {
            c.to_lowercase().for_each(&mut push);
        } else {
            push(c);
        }
    }
}

/// Python's `str.lower` (as Rust's) turns a word-final capital sigma into `ς`, which depends on the
/// neighbours; lowercase a window around it with the real function and read the result.
fn lowercase_sigma_in_context(text: &str, at: usize) -> char {
    const CONTEXT_CHARS: usize = 64;
    let before = text[..at].char_indices().rev().nth(CONTEXT_CHARS - 1).map_or(0, |(i, _)| i);
    let after = text[at..].char_indices().nth(CONTEXT_CHARS).map_or(text.len(), |(i, _)| at + i);
    let offset = text[before..at].to_lowercase().len();
    text[before..after].to_lowercase()[offset..].chars().next().unwrap_or('σ')
}

fn is_typographic_apostrophe(c: char) -> bool {
    matches!(c, '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{FF07}')
}

/// Stems a word; `None` if the stemmer panicked (rust-stemmers is reported to on some input), so that
/// no panic escapes the library: the word then stands for itself.
fn stem_safely(stemmer: &rust_stemmers::Stemmer, word: &str) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stemmer.stem(word).into_owned())).ok()
}

#[cfg(test)]
mod tests;
