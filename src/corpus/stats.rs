//! Descriptive statistics of a corpus, gathered in one streaming pass.
//!
//! [`CorpusStats`] is a partial result: two of them built over disjoint parts of a corpus merge into the
//! same value as one built over the whole (the merge is associative and order-independent), so shards
//! can be described separately.

use std::collections::BTreeMap;

use unicode_segmentation::UnicodeSegmentation;

use super::Quote;

/// Counts that describe a corpus; add quotes one by one, merge partial results freely.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorpusStats {
    /// Quotes counted.
    pub n_quotes: u64,
    /// Bytes of quote text.
    pub text_bytes: u64,
    /// Quotes per study (quotes without a study are not in it).
    pub quotes_per_study: BTreeMap<String, u64>,
    /// Quotes with no study value (or no study column).
    pub n_without_study: u64,
    /// How many quotes carry each code.
    pub code_counts: BTreeMap<String, u64>,
    /// Quotes with at least one code.
    pub n_coded: u64,
    /// Quotes with two codes or more.
    pub n_multi_coded: u64,
    /// Histogram of text length in characters (Unicode scalar values).
    pub char_lengths: BTreeMap<u64, u64>,
    /// Histogram of text length in words (UAX #29 words).
    pub word_lengths: BTreeMap<u64, u64>,
}

impl CorpusStats {
    /// Counts one quote.
    pub fn add(&mut self, quote: &Quote) {
        self.n_quotes += 1;
        self.text_bytes += quote.text.len() as u64;
        match quote.study.as_deref().map(str::trim) {
            Some(study) if !study.is_empty() => *self.quotes_per_study.entry(study.to_string()).or_default() += 1,
            _ => self.n_without_study += 1,
        }
        for code in &quote.codes {
            *self.code_counts.entry(code.clone()).or_default() += 1;
        }
        self.n_coded += u64::from(!quote.codes.is_empty());
        self.n_multi_coded += u64::from(quote.codes.len() > 1);
        *self.char_lengths.entry(quote.text.chars().count() as u64).or_default() += 1;
        *self.word_lengths.entry(quote.text.unicode_words().count() as u64).or_default() += 1;
    }

    /// Adds another partial result into this one.
    pub fn merge(&mut self, other: CorpusStats) {
        self.n_quotes += other.n_quotes;
        self.text_bytes += other.text_bytes;
        merge_counts(&mut self.quotes_per_study, other.quotes_per_study);
        self.n_without_study += other.n_without_study;
        merge_counts(&mut self.code_counts, other.code_counts);
        self.n_coded += other.n_coded;
        self.n_multi_coded += other.n_multi_coded;
        merge_counts(&mut self.char_lengths, other.char_lengths);
        merge_counts(&mut self.word_lengths, other.word_lengths);
    }

    /// The distribution of quotes per study.
    pub fn study_sizes(&self) -> Option<Distribution> {
        let mut histogram = BTreeMap::new();
        for &n in self.quotes_per_study.values() {
            *histogram.entry(n).or_insert(0u64) += 1;
        }
        Distribution::from_histogram(&histogram)
    }
}

fn merge_counts<K: Ord>(into: &mut BTreeMap<K, u64>, from: BTreeMap<K, u64>) {
    for (key, n) in from {
        *into.entry(key).or_default() += n;
    }
}

/// Minimum, median, mean and maximum of a set of whole numbers.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Distribution {
    /// Smallest value.
    pub min: u64,
    /// Median; the mean of the two middle values when the count is even (as numpy's `median`).
    pub median: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Largest value.
    pub max: u64,
}

impl Distribution {
    /// Summarises a histogram (value -> count); `None` when it is empty.
    pub fn from_histogram(histogram: &BTreeMap<u64, u64>) -> Option<Distribution> {
        let n: u64 = histogram.values().sum();
        if n == 0 {
            return None;
        }
        let nth = |rank: u64| -> u64 {
            let mut seen = 0;
            for (&value, &count) in histogram {
                seen += count;
                if seen > rank {
                    return value;
                }
            }
            unreachable!("rank below the total count")
        };
        let median = if n % 2 == 1 { nth(n / 2) as f64 } else { (nth(n / 2 - 1) + nth(n / 2)) as f64 / 2.0 };
        let total: f64 = histogram.iter().map(|(&v, &c)| v as f64 * c as f64).sum();
        Some(Distribution {
            min: *histogram.keys().next().expect("non-empty"),
            median,
            mean: total / n as f64,
            max: *histogram.keys().next_back().expect("non-empty"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Position;

    fn quote(study: &str, text: &str, codes: &[&str]) -> Quote {
        Quote {
            id: text.to_string(),
            study: Some(study.to_string()),
            text: text.to_string(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            metadata: vec![],
            position: Position::default(),
        }
    }

    #[test]
    fn distribution_matches_numpy_median() {
        let h: BTreeMap<u64, u64> = [(1, 1), (2, 1), (10, 2)].into();
        let d = Distribution::from_histogram(&h).unwrap();
        assert_eq!((d.min, d.median, d.mean, d.max), (1, 6.0, 5.75, 10));
        let h: BTreeMap<u64, u64> = [(3, 3)].into();
        assert_eq!(Distribution::from_histogram(&h).unwrap().median, 3.0);
        assert!(Distribution::from_histogram(&BTreeMap::new()).is_none());
    }

    #[test]
    fn merge_equals_whole_in_any_order() {
        let quotes = [
            quote("S1", "I was a patient, now a worker.", &["A1"]),
            quote("S2", "Helping others helps me", &["A2", "B2"]),
            quote("S1", "It's hard when they relapse.", &["B3"]),
            quote("S3", "We went to the clinic together.", &[]),
        ];
        let mut whole = CorpusStats::default();
        quotes.iter().for_each(|q| whole.add(q));
        let (mut left, mut right) = (CorpusStats::default(), CorpusStats::default());
        quotes[..1].iter().for_each(|q| left.add(q));
        quotes[1..].iter().for_each(|q| right.add(q));
        let mut right_then_left = right.clone();
        right_then_left.merge(left.clone());
        left.merge(right);
        assert_eq!(left, whole);
        assert_eq!(right_then_left, whole);
        assert_eq!(whole.n_multi_coded, 1);
        assert_eq!(whole.quotes_per_study["S1"], 2);
        assert_eq!(whole.word_lengths[&5], 1, "UAX #29 keeps \"It's\" whole");
    }
}
