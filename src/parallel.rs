//! The one parallelism abstraction: contiguous chunks of documents, a local accumulator per chunk, then
//! an ordered merge. The library builds its own rayon pool with an explicit thread count, so results
//! never depend on the global pool or on the machine.

use std::ops::Range;

/// At most this many documents in one parallel task: large enough to amortise per-chunk set-up (term
/// tables, scratch buffers).
pub const CHUNK_DOCS: usize = 4096;

/// A parallel task also closes once it holds this much text, so that tasks cost about the same.
pub const CHUNK_BYTES: usize = 512 << 10;

/// Contiguous ranges of documents, one per parallel task, in order: each closes at [`CHUNK_DOCS`]
/// documents or [`CHUNK_BYTES`] of text, whichever comes first. Counting documents alone left the
/// threads unbalanced on mixed corpora (4,096 documents were 0.2 MB of text in one task and 8 MB in
/// another, and one thread waited for the other). The ranges depend on the texts only, never on the
/// number of threads.
pub fn doc_chunks(texts: &[&str]) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, text) in texts.iter().enumerate() {
        bytes += text.len();
        if i + 1 - start >= CHUNK_DOCS || bytes >= CHUNK_BYTES {
            chunks.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < texts.len() {
        chunks.push(start..texts.len());
    }
    chunks
}

/// The number of threads `threads` means: `0` is every core the machine offers.
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads }
}

/// Runs `work` inside a rayon pool of `threads` threads (`0` = all cores).
pub fn with_threads<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new().num_threads(resolve_threads(threads)).build() {
        Ok(pool) => pool.install(work),
        // Only fails if the OS refuses threads; the work is still correct on the calling thread.
        Err(_) => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_document_in_order_and_close_on_count_or_bytes() {
        let long = "x".repeat(CHUNK_BYTES / 2);
        let mut texts: Vec<&str> = vec!["a"; CHUNK_DOCS + 10];
        texts.extend([long.as_str(); 5]);
        let chunks = doc_chunks(&texts);
        assert_eq!(chunks[0], 0..CHUNK_DOCS);
        assert_eq!(chunks[1], CHUNK_DOCS..CHUNK_DOCS + 12); // 10 short ones, then two halves
        assert_eq!(chunks[2], CHUNK_DOCS + 12..CHUNK_DOCS + 14);
        assert_eq!(chunks[3], CHUNK_DOCS + 14..CHUNK_DOCS + 15);
        assert!(doc_chunks(&[]).is_empty());
    }
}
