//! What `themata tokenize` writes: JSON Lines, one object per quote.

use std::io::{self, Write};

use crate::tokenize::Token;

#[derive(serde::Serialize)]
struct TokenLine<'a> {
    id: &'a str,
    tokens: &'a [Token],
}

/// Writes one quote's tokens as a JSON line: `{"id": ..., "tokens": [{"term", "start", "end"}, ...]}`.
/// `start` and `end` are byte offsets into the quote's UTF-8 text.
pub fn write_token_line(out: &mut dyn Write, id: &str, tokens: &[Token]) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &TokenLine { id, tokens })?;
    out.write_all(b"\n")
}
