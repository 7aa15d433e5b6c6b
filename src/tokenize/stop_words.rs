//! Built-in stop word lists.

/// Snowball's English stop word list (snowballstem.org, `algorithms/english/stop.txt`, BSD licence):
/// 174 words, including contractions such as `don't`, which UAX #29 keeps whole.
pub const SNOWBALL_ENGLISH: &str = include_str!("stop_words/snowball_english.txt");

/// scikit-learn's `ENGLISH_STOP_WORDS` (318 words), generated from scikit-learn 1.9.1 by
/// `scripts/gen_python_tables.py`.
pub const SKLEARN_ENGLISH: &str = include_str!("stop_words/sklearn_english.txt");

/// Parses a word list: words separated by whitespace; `#` starts a comment to the end of the line.
pub fn parse_word_list(list: &str) -> Vec<String> {
    list.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_lists_have_their_documented_sizes() {
        assert_eq!(parse_word_list(SNOWBALL_ENGLISH).len(), 174);
        assert_eq!(parse_word_list(SKLEARN_ENGLISH).len(), 318);
        assert_eq!(parse_word_list("a b # c\n\n d"), ["a", "b", "d"]);
    }
}
