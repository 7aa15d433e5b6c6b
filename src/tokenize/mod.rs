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

mod python_word;
mod segment;
mod stop_words;

use std::ops::Range;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use unicode_normalization::UnicodeNormalization;

pub use segment::{is_python_word_char, unicode_words};
pub use stop_words::{SKLEARN_ENGLISH, SNOWBALL_ENGLISH, parse_word_list};

use crate::parallel::{CHUNK_DOCS, with_threads};

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
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer").field("params", &self.params).field("stop_words", &self.stop_words.len()).finish()
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").field("memoised_stems", &self.stems.len()).finish()
    }
}

/// Reusable buffers and the stem memo of one thread or chunk. Reusing one across quotes avoids
/// allocation in the hot loop; the memo is a pure cache, so sharing it never changes results.
#[derive(Default)]
pub struct Scratch {
    ranges: Vec<Range<usize>>,
    /// Normalised (and stemmed) words of the current quote, back to back.
    terms: String,
    units: Vec<Unit>,
    /// Stem of each distinct normalised word seen (`None`: the stem is the word itself).
    stems: FxHashMap<Box<str>, Option<Box<str>>>,
    word: String,
    gram: String,
}

/// One word of the current quote.
#[derive(Clone, Debug)]
struct Unit {
    source: Range<usize>,
    term: Range<usize>,
    stop: bool,
}

impl Tokenizer {
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
            texts
                .par_chunks(CHUNK_DOCS)
                // One scratch (and stem memo) per rayon job, not per chunk: the memo stays warm.
                .map_init(Scratch::default, |scratch, chunk| {
                    chunk.iter().map(|text| self.tokenize_with(text, scratch)).collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
                .concat()
        })
    }

    /// Calls `emit(term, source_range)` for every term of `text`, in scikit-learn's order: all
    /// unigrams in text order, then all bigrams, and so on. Allocates nothing once `scratch` is warm.
    pub fn for_each_term(&self, text: &str, scratch: &mut Scratch, mut emit: impl FnMut(&str, Range<usize>)) {
        self.words(text, scratch);
        let Scratch { units, terms, gram, .. } = scratch;
        let (min_n, max_n) = self.params.ngram_range;
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
                if n == 1 {
                    emit(&terms[window[0].term.clone()], source);
                } else {
                    gram.clear();
                    for (i, unit) in window.iter().enumerate() {
                        if i > 0 {
                            gram.push(' ');
                        }
                        gram.push_str(&terms[unit.term.clone()]);
                    }
                    emit(gram, source);
                }
            }
        }
    }

    /// Segments, normalises, filters, marks stop words and stems: fills `scratch.units`.
    fn words(&self, text: &str, scratch: &mut Scratch) {
        scratch.units.clear();
        scratch.terms.clear();
        match self.params.compat {
            Compat::Themata if text.is_ascii() => {
                // Lowercase the whole quote once; each word is then a slice of it.
                let mut ranges = std::mem::take(&mut scratch.ranges);
                let mut lowered = std::mem::take(&mut scratch.word);
                ranges.clear();
                unicode_words(text, &mut ranges);
                lowered.clear();
                lowered.push_str(text);
                if self.params.lowercase {
                    lowered.make_ascii_lowercase();
                }
                for range in &ranges {
                    self.push_word(&lowered[range.clone()], range.clone(), scratch);
                }
                scratch.word = lowered;
                scratch.ranges = ranges;
            }
            Compat::Themata => {
                let mut ranges = std::mem::take(&mut scratch.ranges);
                ranges.clear();
                unicode_words(text, &mut ranges);
                for range in &ranges {
                    let mut word = std::mem::take(&mut scratch.word);
                    self.normalise_into(&text[range.clone()], &mut word);
                    self.push_word(&word, range.clone(), scratch);
                    scratch.word = word;
                }
                scratch.ranges = ranges;
            }
            Compat::Sklearn => {
                let strip = self.params.strip_accents;
                let mut found: Vec<(String, Range<usize>)> = Vec::new();
                segment::python_words(
                    text,
                    |text, at, c, out| self.normalise_char(text, at, c, strip, out),
                    |term, range| found.push((term.to_string(), range)),
                );
                for (term, range) in found {
                    self.push_word(&term, range, scratch);
                }
            }
        }
    }

    /// Applies length, numbers, stop words and stemming to one normalised word.
    fn push_word(&self, word: &str, source: Range<usize>, scratch: &mut Scratch) {
        let (n_chars, is_number) = if word.is_ascii() {
            (word.len(), !word.bytes().any(|b| b.is_ascii_alphabetic()))
        } else {
            (word.chars().count(), !word.chars().any(char::is_alphabetic))
        };
        if n_chars < self.params.min_len {
            return;
        }
        let word = match (is_number, self.params.numbers) {
            (true, NumberPolicy::Drop) => return,
            (true, NumberPolicy::Replace) => NUMBER_PLACEHOLDER,
            _ => word,
        };
        let stop = !self.stop_words.is_empty() && self.stop_words.contains(word);
        let start = scratch.terms.len();
        match &self.stemmer {
            Some(stemmer) if !stop && !is_number => {
                let stem = match scratch.stems.get(word) {
                    Some(stem) => stem.as_deref(),
                    None => {
                        let stem = stem_safely(stemmer, word).filter(|s| s != word).map(String::into_boxed_str);
                        scratch.stems.entry(word.into()).or_insert(stem).as_deref()
                    }
                };
                scratch.terms.push_str(stem.unwrap_or(word));
            }
            _ => scratch.terms.push_str(word),
        }
        let term = start..scratch.terms.len();
        scratch.units.push(Unit { source, term, stop });
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
