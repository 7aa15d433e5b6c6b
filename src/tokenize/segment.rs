//! Word segmentation: where the words of a text start and end.
//!
//! Two segmenters, both returning byte ranges into the original text:
//! - [`unicode_words`]: UAX #29 words (as `unicode-segmentation`'s `unicode_word_indices`), with an ASCII
//!   fast path per whitespace-separated run that gives exactly the same ranges (tested against the
//!   reference on arbitrary strings).
//! - [`python_words`]: maximal runs of Python `re` word characters, as scikit-learn's default token
//!   pattern `(?u)\b\w\w+\b` sees them, judged on each character's normalised form.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::python_word::PYTHON_WORD_RANGES;

/// Appends the UAX #29 words of `text` to `out`, as byte ranges, in order.
///
/// A word is a UAX #29 segment holding at least one alphanumeric character (`unicode_word_indices`).
/// Text is cut at ASCII whitespace first (UAX #29 always breaks there); each run that is pure ASCII goes
/// through a hand-written scanner of the ASCII subset of the rules, the rest through the reference.
pub fn unicode_words(text: &str, out: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    if text.is_ascii() {
        ascii_unicode_words(text, |word| out.push(word));
        return;
    }
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_ascii_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        let mut ascii = true;
        while i < bytes.len() && !is_ascii_space(bytes[i]) {
            ascii &= bytes[i] < 0x80;
            i += 1;
        }
        if start == i {
            break;
        }
        if ascii {
            ascii_words(bytes, start, i, |word| out.push(word));
        } else {
            // A combining mark right after spaces joins them (WB3d, WB4), so the reference must see
            // the horizontal spaces (WSegSpace, ASCII or not) before a run; it never joins across a
            // newline (WB3a-b) or anything else.
            let mut from = start;
            while let Some(c) = text[..from].chars().next_back().filter(|&c| is_wseg_space(c)) {
                from -= c.len_utf8();
            }
            let run = &text[from..i];
            out.extend(run.unicode_word_indices().map(|(at, w)| from + at..from + at + w.len()));
        }
    }
}

/// [`unicode_words`] of a text the caller knows to be ASCII (it has checked already), each word given
/// to `each` as it is found.
pub fn ascii_unicode_words(text: &str, each: impl FnMut(Range<usize>)) {
    debug_assert!(text.is_ascii());
    // ASCII whitespace is "Other" to the scanner, so one pass over the whole text is exact.
    ascii_words(text.as_bytes(), 0, text.len(), each);
}

/// UAX #29 WSegSpace: the space separators (Zs) other than no-break spaces.
fn is_wseg_space(c: char) -> bool {
    matches!(c, ' ' | '\u{1680}' | '\u{2000}'..='\u{2006}' | '\u{2008}'..='\u{200A}' | '\u{205F}' | '\u{3000}')
}

/// ASCII whitespace that is a UAX #29 break on both sides: space (WSegSpace), CR, LF, VT, FF (Newline).
/// Tab is not here: it is "Other", and a combining mark after it would join it (WB4).
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | 0x0B | 0x0C)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    Underscore,
    /// `:` (MidLetter): joins letters.
    MidLetter,
    /// `.` and `'` (MidNumLet, Single_Quote): join letters, and digits.
    MidNumLet,
    /// `,` and `;` (MidNum): join digits.
    MidNum,
    Other,
}

/// Word-break class of every byte value (non-ASCII bytes never reach the scanner).
static CLASSES: [Class; 256] = {
    let mut table = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = class_of(b as u8);
        b += 1;
    }
    table
};

#[inline]
fn class(b: u8) -> Class {
    CLASSES[b as usize]
}

const fn class_of(b: u8) -> Class {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
        b'0'..=b'9' => Class::Digit,
        b'_' => Class::Underscore,
        b':' => Class::MidLetter,
        b'.' | b'\'' => Class::MidNumLet,
        b',' | b';' => Class::MidNum,
        _ => Class::Other,
    }
}

/// UAX #29 on ASCII: letters, digits and `_` join (WB5, WB8-10, WB13a-b); a single middle character joins
/// letter to letter (WB6-7: `:`, `.`, `'`) or digit to digit (WB11-12: `,`, `;`, `.`, `'`).
///
/// The inner loop runs over word bytes with one table lookup each; the middle-character rules are looked
/// at only where a run of word bytes ends.
#[inline(always)]
fn ascii_words(bytes: &[u8], start: usize, end: usize, mut each: impl FnMut(Range<usize>)) {
    let mut runs = WordRuns::new(&bytes[..end]);
    let mut skip = |from: usize, word: bool| runs.end(from, word);
    let mut i = start;
    while i < end {
        i = skip(i, false);
        if i >= end {
            break;
        }
        let word_start = i;
        loop {
            i = skip(i, true);
            // At a non-word byte (or the end): it joins only between a letter and a letter, or a digit
            // and a digit; the byte after it is then part of the word too.
            if i + 1 >= end {
                break;
            }
            let joins = matches!(
                (class(bytes[i - 1]), class(bytes[i]), class(bytes[i + 1])),
                (Class::Letter, Class::MidLetter | Class::MidNumLet, Class::Letter)
                    | (Class::Digit, Class::MidNum | Class::MidNumLet, Class::Digit)
            );
            if !joins {
                break;
            }
            i += 2;
        }
        // A word needs a letter or digit: only runs of `_` are left out.
        if bytes[word_start] != b'_' || bytes[word_start..i].iter().any(|&b| b != b'_') {
            each(word_start..i);
        }
    }
}

/// The end of the run of word bytes (`word`) or of other bytes (`!word`) that starts at `from`, before
/// `end`, one byte at a time: the reference for [`WordRuns`].
#[cfg(test)]
fn run_end(bytes: &[u8], from: usize, end: usize, word: bool) -> usize {
    from + bytes[from..end].iter().position(|&b| IS_WORD[b as usize] != word).unwrap_or(end - from)
}

/// Where runs of word bytes ([`IS_WORD`]) start and end, found 64 bytes at a time: each block becomes a
/// 64-bit mask (SSE2 compares on x86-64), and a run's end is the mask's next set or clear bit. A loop
/// over bytes mispredicts its exit at every word boundary: on real text it took 17-25 ns a word in a
/// probe, more than looking the word up; with the masks, tokenizing went from 35.9 to 29.9 ns a word.
struct WordRuns<'a> {
    bytes: &'a [u8],
    /// Start of the block whose mask is cached (`usize::MAX`: none yet).
    block: usize,
    mask: u64,
}

impl<'a> WordRuns<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        WordRuns { bytes, block: usize::MAX, mask: 0 }
    }

    /// The end of the run of word bytes (`word`) or of other bytes (`!word`) that starts at `from`.
    #[inline(always)]
    fn end(&mut self, from: usize, word: bool) -> usize {
        let n = self.bytes.len();
        let mut at = from;
        while at < n {
            let block = at & !63;
            if block != self.block {
                self.block = block;
                self.mask = word_mask(&self.bytes[block..n.min(block + 64)]);
            }
            // Bytes past the end are 0 in the mask (not word bytes), so a word run stops at the end.
            let different = if word { !self.mask } else { self.mask };
            let ahead = different & (!0u64 << (at - block));
            if ahead != 0 {
                return n.min(block + ahead.trailing_zeros() as usize);
            }
            at = block + 64;
        }
        n
    }
}

/// Bit `i` set when `block[i]` is a word byte ([`IS_WORD`]); `block` holds at most 64 bytes.
#[inline(always)]
fn word_mask(block: &[u8]) -> u64 {
    debug_assert!(block.len() <= 64);
    #[cfg(target_arch = "x86_64")]
    {
        let mut padded = [0u8; 64];
        let full: &[u8; 64] = match block.try_into() {
            Ok(full) => full,
            Err(_) => {
                padded[..block.len()].copy_from_slice(block);
                &padded
            }
        };
        sse2_word_mask(full)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block.iter().enumerate().fold(0u64, |mask, (i, &b)| mask | (u64::from(IS_WORD[b as usize]) << i))
    }
}

/// [`word_mask`] of 64 bytes with SSE2 (part of every x86-64 CPU): `[A-Za-z0-9_]` by unsigned range
/// compares, 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_word_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes inside `block`.
    unsafe {
        // x in [lo, lo + len) as unsigned bytes: (x - lo) == min(x - lo, len - 1).
        let in_range = |x: __m128i, lo: u8, len: u8| {
            let shifted = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
            _mm_cmpeq_epi8(_mm_min_epu8(shifted, _mm_set1_epi8((len - 1) as i8)), shifted)
        };
        let mut mask = 0u64;
        for i in 0..4 {
            let x = _mm_loadu_si128(block.as_ptr().add(16 * i).cast());
            let letter = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', 26);
            let digit = in_range(x, b'0', 10);
            let underscore = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'_' as i8));
            let word = _mm_or_si128(_mm_or_si128(letter, digit), underscore);
            mask |= u64::from(_mm_movemask_epi8(word) as u16) << (16 * i);
        }
        mask
    }
}

/// Letters, digits and `_`: the bytes that always join (non-ASCII bytes never reach the scanner), and
/// the bytes of Python's `\w` in ASCII. The definition [`word_mask`] computes (tested against it).
#[cfg(any(test, not(target_arch = "x86_64")))]
static IS_WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(class_of(b as u8), Class::Letter | Class::Digit | Class::Underscore);
        b += 1;
    }
    table
};

/// scikit-learn's `(?u)\b\w\w+\b` on ASCII text: maximal runs of `[A-Za-z0-9_]` of length 2 or more.
#[inline(always)]
pub fn ascii_python_words(bytes: &[u8], mut each: impl FnMut(Range<usize>)) {
    let mut runs = WordRuns::new(bytes);
    let mut i = 0;
    while i < bytes.len() {
        let start = runs.end(i, false);
        i = runs.end(start, true);
        if i - start >= 2 {
            each(start..i);
        }
    }
}

/// True for the characters Python's `re` matches with `\w` (str patterns; Python 3.11, Unicode 14).
pub fn is_python_word_char(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    PYTHON_WORD_RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// scikit-learn's `(?u)\b\w\w+\b` on a normalised text, mapped back to the original text.
///
/// `normalise(text, at, c, buf)` appends the normalised form of the original character `c` at byte `at` (for scikit-learn: its
/// lowercase, then, with `strip_accents`, its NFKD form without combining marks). Tokens are maximal runs
/// of at least two Python word characters of the normalised text; each comes back as the term (the
/// normalised characters) and the byte range of the original characters that produced them.
pub fn python_words(
    text: &str,
    mut normalise: impl FnMut(&str, usize, char, &mut String),
    mut emit: impl FnMut(&str, Range<usize>),
) {
    let mut term = String::new();
    let mut n_chars = 0usize;
    let mut range = 0..0;
    let mut expansion = String::new();
    for (at, c) in text.char_indices() {
        expansion.clear();
        normalise(text, at, c, &mut expansion);
        for nc in expansion.chars() {
            if is_python_word_char(nc) {
                if n_chars == 0 {
                    range.start = at;
                }
                term.push(nc);
                n_chars += 1;
                range.end = at + c.len_utf8();
            } else {
                if n_chars >= 2 {
                    emit(&term, range.clone());
                }
                term.clear();
                n_chars = 0;
            }
        }
    }
    if n_chars >= 2 {
        emit(&term, range);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn word_runs_agree_with_a_byte_loop(text in "[a-zA-Z0-9_ .,'\\x00\\x7f@`\\[{/:]{0,200}", from in 0usize..200) {
            let bytes = text.as_bytes();
            let from = from.min(bytes.len());
            let mut runs = WordRuns::new(bytes);
            for word in [false, true, true, false] {
                prop_assert_eq!(runs.end(from, word), run_end(bytes, from, bytes.len(), word));
            }
            // And walking the whole text, as the scanners do.
            let (mut i, mut word) = (0, false);
            while i < bytes.len() {
                let next = runs.end(i, word);
                prop_assert_eq!(next, run_end(bytes, i, bytes.len(), word));
                (i, word) = (next, !word);
            }
        }
    }

    #[test]
    fn word_mask_of_every_byte() {
        let all: Vec<u8> = (0..=255u8).collect();
        for block in all.chunks(64) {
            let expected = block.iter().enumerate().fold(0u64, |m, (i, &b)| m | (u64::from(IS_WORD[b as usize]) << i));
            assert_eq!(word_mask(block), expected);
            assert_eq!(word_mask(&block[..37]), expected & ((1 << 37) - 1));
        }
    }

    fn words(text: &str) -> Vec<&str> {
        let mut ranges = Vec::new();
        unicode_words(text, &mut ranges);
        ranges.into_iter().map(|r| &text[r]).collect()
    }

    fn reference(text: &str) -> Vec<Range<usize>> {
        text.unicode_word_indices().map(|(at, w)| at..at + w.len()).collect()
    }

    #[test]
    fn ascii_cases() {
        let cases: &[(&str, &[&str])] = &[
            ("I can't stop: 3.5 days, 1,000 steps", &["I", "can't", "stop", "3.5", "days", "1,000", "steps"]),
            ("e.g. a:b a..b 1.a a.1 x_y __ _a_", &["e.g", "a:b", "a", "b", "1", "a", "a", "1", "x_y", "_a_"]),
            ("peers' 'quoted' it's", &["peers", "quoted", "it's"]),
            ("a1.2 1;2 1'2 1:2", &["a1.2", "1;2", "1'2", "1", "2"]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), *expected, "{text:?}");
            assert_eq!(words(text).len(), reference(text).len(), "{text:?}");
        }
    }

    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::sample::select(vec![
                'a', 'Z', '0', '9', '_', ':', '.', '\'', ',', ';', ' ', '\t', '\n', '\r', '-', '"', '!',
            ]),
            1 => prop::sample::select(vec![
                '\u{0301}', '\u{200D}', '\u{00A0}', '\u{2019}', 'é', 'ß', 'λ', 'Ж', 'م', '日', '本', 'カ',
                '\u{1F600}', '\u{1F3FD}', '٣', '\u{00AD}', '\u{FE0F}', '\u{0915}', '\u{093F}',
            ]),
            1 => any::<char>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn fast_path_equals_reference_on_tricky_strings(chars in prop::collection::vec(tricky_char(), 0..40)) {
            let text: String = chars.into_iter().collect();
            let mut ranges = Vec::new();
            unicode_words(&text, &mut ranges);
            prop_assert_eq!(ranges, reference(&text));
        }

        #[test]
        fn fast_path_equals_reference_on_ascii_strings(text in "[aZ09_:.',; \t\n\r\"!-]{0,40}") {
            // Pure ASCII takes the whole-text scanner, with tabs and newlines inside.
            let mut ranges = Vec::new();
            unicode_words(&text, &mut ranges);
            prop_assert_eq!(ranges, reference(&text));
        }

        #[test]
        fn fast_path_equals_reference_on_any_string(text in any::<String>()) {
            let mut ranges = Vec::new();
            unicode_words(&text, &mut ranges);
            prop_assert_eq!(ranges, reference(&text));
        }
    }

    /// Found by the property test below: a non-ASCII space before an ASCII space, then a combining
    /// mark, is one segment (WB3d keeps spaces together, WB4 attaches the mark).
    #[test]
    fn mark_after_mixed_spaces_joins_them() {
        for text in ["\u{2000} \u{09CB}", "a\u{3000}  \u{0301}b", "x\u{2007} \u{09CB}"] {
            let mut ranges = Vec::new();
            unicode_words(text, &mut ranges);
            assert_eq!(ranges, reference(text), "{text:?}");
        }
    }

    #[test]
    fn python_word_chars_differ_from_rust_where_expected() {
        assert!(is_python_word_char('_'));
        assert!(!is_python_word_char('\u{0301}'), "combining acute is not \\w in Python");
        assert!('\u{0945}'.is_alphabetic() && !is_python_word_char('\u{0945}'), "Devanagari vowel sign");
        assert!(is_python_word_char('٣'), "Arabic-Indic digit");
        assert!(is_python_word_char('²') && is_python_word_char('½'), "No numbers are \\w");
        assert!(!is_python_word_char('\''));
    }
}
