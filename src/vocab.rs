//! The `vocab` stage: count terms over a corpus in parallel, then choose the vocabulary.
//!
//! Counting runs over contiguous chunks of quotes, each with chunk-local term ids and counts (a partial
//! result). As each chunk finishes, its term statistics are folded into one shared table (sums of
//! integers: the order of folding does not matter) and it keeps only its rows; the merge then gives
//! every term its column in sorted term order (Unicode code point order, as scikit-learn), so the output
//! never depends on the thread count or on how quotes were chunked.
//! Pruning follows scikit-learn's `CountVectorizer`: `min_df`/`max_df` (a count or a proportion,
//! compared unrounded), then `max_features` (by corpus frequency; ties broken by term, which
//! scikit-learn leaves unspecified). [`VocabParams::min_studies`] is themata's own: keep only terms used
//! in at least that many studies, so that one prolific study's jargon cannot dominate.

use rayon::prelude::*;

use crate::corpus::StrList;
use crate::tokenize::{BatchInterner, Scratch, Tokenizer};

/// Marks a chunk-local term that no quote of the chunk emitted.
const UNUSED: u32 = u32::MAX;

/// A sparse matrix in compressed sparse row form; column indices within a row are increasing.
#[derive(Clone, Debug, PartialEq)]
pub struct Csr<T> {
    /// Number of columns.
    pub n_cols: usize,
    /// Row `i` holds entries `indptr[i]..indptr[i + 1]`; `indptr.len()` is the number of rows plus one.
    pub indptr: Vec<usize>,
    /// Column of each entry.
    pub indices: Vec<u32>,
    /// Value of each entry.
    pub data: Vec<T>,
}

impl<T> Csr<T> {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// The columns and values of row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.data[range])
    }

    /// The transpose, as a CSR matrix (a counting sort of the entries by column): its rows are this
    /// matrix's columns, each with its entries in increasing row order.
    pub fn transpose(&self) -> Csr<T>
    where
        T: Copy + Default,
    {
        let mut counts = vec![0usize; self.n_cols + 1];
        for &c in &self.indices {
            counts[c as usize + 1] += 1;
        }
        for i in 0..self.n_cols {
            counts[i + 1] += counts[i];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0u32; self.nnz()];
        let mut data = vec![T::default(); self.nnz()];
        for row in 0..self.n_rows() {
            let (cols, values) = self.row(row);
            for (&c, &v) in cols.iter().zip(values) {
                let at = next[c as usize];
                indices[at] = row as u32;
                data[at] = v;
                next[c as usize] += 1;
            }
        }
        Csr { n_cols: self.n_rows(), indptr, indices, data }
    }
}

/// Term statistics and per-quote counts over a whole corpus, before pruning.
#[derive(Clone, Debug, PartialEq)]
pub struct TermCounts {
    /// Documents counted (every quote given, even one with no terms).
    pub n_docs: usize,
    /// Every term seen, sorted by code point.
    pub terms: Vec<String>,
    /// Document frequency of each term.
    pub df: Vec<u64>,
    /// Corpus frequency (total count) of each term.
    pub tf: Vec<u64>,
    /// Number of distinct studies each term occurs in, when studies were given.
    pub n_studies: Option<Vec<u32>>,
    /// Count of each term in each quote; columns follow `terms`.
    pub counts: Csr<u32>,
}

/// What one chunk of quotes contributes: a partial result with chunk-local term ids.
struct ChunkCounts {
    /// Local term texts, back to back; term `i` ends at `term_ends[i]`.
    term_text: String,
    term_ends: Vec<usize>,
    /// Document and corpus frequency of each local term (its in-quote count is 0 by now).
    counts: Vec<LocalCounts>,
    /// Rows in quote order, each entry packed as `local term << 32 | count` (see [`pack_entry`]).
    indptr: Vec<usize>,
    entries: Vec<u64>,
    /// Sorted, deduplicated (local term, study) pairs, when studies were given.
    term_studies: Vec<(u32, u32)>,
}

impl ChunkCounts {
    fn term(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.term_ends[i - 1] };
        &self.term_text[start..self.term_ends[i]]
    }

    /// Folds the chunk's term statistics into `folded` (briefly locked) and keeps its rows only, with
    /// the map from its terms to folded ids. Chunks wait in memory until the merge; their own term tables
    /// had been as large as their counts (the 1000 MB tier held 1.7 GB of chunks for 0.8 GB of counts).
    fn fold_into(self, folded: &std::sync::Mutex<FoldedTerms>, with_studies: bool) -> ChunkRows {
        // A scratch also knows terms it never emitted (stop words before n-grams): skip them.
        let used: Vec<u32> = (0..self.term_ends.len() as u32).filter(|&i| self.counts[i as usize].df != 0).collect();
        let used_terms: Vec<&str> = used.iter().map(|&i| self.term(i as usize)).collect();
        let mut to_folded = vec![UNUSED; self.term_ends.len()];
        {
            let mut folded = folded.lock().expect("no chunk panicked");
            let folded = &mut *folded;
            folded.terms.intern_all(&used_terms, |at, id, new| {
                to_folded[used[at] as usize] = id;
                if new {
                    folded.freqs.push(Freqs::default());
                }
            });
            // Each term's frequencies are a cache miss in a table of every term: with the ids known,
            // fetch them 16 terms ahead (added inside the lookups, they were 40% of the fold).
            const AHEAD: usize = 16;
            for (i, &local) in used.iter().enumerate() {
                if let Some(&ahead) = used.get(i + AHEAD) {
                    crate::tokenize::prefetch(&folded.freqs[to_folded[ahead as usize] as usize]);
                }
                let (counts, freqs) =
                    (self.counts[local as usize], &mut folded.freqs[to_folded[local as usize] as usize]);
                freqs.df += u64::from(counts.df);
                freqs.tf += u64::from(counts.tf);
            }
            if with_studies {
                folded.study_pairs.extend(self.term_studies.iter().map(|&(t, s)| (to_folded[t as usize], s)));
            }
        }
        ChunkRows { indptr: self.indptr, entries: self.entries, to_folded }
    }
}

/// Every chunk's term statistics folded together, term ids in order of folding (chunks fold in whatever
/// order threads finish them: the merge sorts the terms, so no output depends on that order).
#[derive(Default)]
struct FoldedTerms {
    terms: BatchInterner,
    freqs: Vec<Freqs>,
    /// (folded term, study) pairs of every chunk, deduplicated at the merge.
    study_pairs: Vec<(u32, u32)>,
}

/// A folded term's document and corpus frequency, side by side: one cache miss a term when a chunk adds
/// its counts, not two (the table of every term is large).
#[derive(Clone, Copy, Default)]
struct Freqs {
    df: u64,
    tf: u64,
}

/// A chunk's rows once its terms are folded: entries still name the chunk's own terms (the merge maps
/// them to columns through `to_folded`, one pass over the entries rather than two), in the chunk's term
/// order.
struct ChunkRows {
    indptr: Vec<usize>,
    entries: Vec<u64>,
    /// [`FoldedTerms`] id of each chunk term.
    to_folded: Vec<u32>,
}

/// A row entry as one integer, column in the high half: one push per entry while counting, and sorting
/// the integers sorts a row by column.
fn pack_entry(column: u32, count: u32) -> u64 {
    (u64::from(column) << 32) | u64::from(count)
}

fn unpack_entry(entry: u64) -> (u32, u32) {
    ((entry >> 32) as u32, entry as u32)
}

/// Text that may wait to be counted while [`TermCounter::add_stream`] reads on: about two batches of the
/// `vectorize` command (4 MB of text each), so that a gigabyte corpus is never in memory at once.
pub const MAX_WAITING_TEXT: usize = 8 << 20;

/// Quotes read for [`TermCounter::add_stream`]: their texts end to end in one buffer (one allocation a
/// batch, freed at once, rather than one per quote freed by whichever thread counted it last), each with
/// a study index (`u32::MAX` for none; ignored when counting without studies).
#[derive(Debug, Default)]
pub struct TextBatch {
    texts: StrList,
    studies: Vec<u32>,
}

impl TextBatch {
    /// Appends a quote's text and study index.
    pub fn push(&mut self, text: &str, study: u32) {
        self.texts.push(text);
        self.studies.push(study);
    }

    /// Number of quotes.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Bytes of text held.
    pub fn text_bytes(&self) -> usize {
        self.texts.text_len()
    }

    /// Removes every quote, keeping the allocations.
    pub fn clear(&mut self) {
        self.texts.clear();
        self.studies.clear();
    }

    /// True when the batch holds no quote.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The texts of quotes `range`, in order.
    fn texts(&self, range: std::ops::Range<usize>) -> Vec<&str> {
        self.texts.range(range).collect()
    }
}

/// A batch being counted; it goes back to `spare`, emptied, when its last chunk is done with it.
struct Recycled<'a> {
    batch: TextBatch,
    spare: &'a std::sync::Mutex<Vec<TextBatch>>,
}

impl std::ops::Deref for Recycled<'_> {
    type Target = TextBatch;

    fn deref(&self) -> &TextBatch {
        &self.batch
    }
}

impl Drop for Recycled<'_> {
    fn drop(&mut self) {
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        self.spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(batch);
    }
}

/// Counts the terms of every quote on `threads` threads (`0` = all cores).
///
/// `studies`, if given, holds a study index for each quote (`u32::MAX` for none) and enables
/// [`TermCounts::n_studies`].
pub fn count_terms(tokenizer: &Tokenizer, texts: &[&str], studies: Option<&[u32]>, threads: usize) -> TermCounts {
    let mut counter = TermCounter::new(tokenizer, studies.is_some(), threads);
    counter.add(texts, studies);
    counter.finish()
}

/// Counts terms batch by batch, so that a corpus need not be in memory at once: each batch of quotes is
/// counted (in parallel chunks) and can then be dropped; only the per-chunk partial results are kept
/// until [`TermCounter::finish`] merges them. The result equals [`count_terms`] on all quotes.
pub struct TermCounter<'t> {
    tokenizer: &'t Tokenizer,
    with_studies: bool,
    pool: Option<rayon::ThreadPool>,
    folded: std::sync::Mutex<FoldedTerms>,
    chunks: Vec<ChunkRows>,
    n_docs: usize,
    /// [`MAX_WAITING_TEXT`], smaller in tests.
    max_waiting_text: usize,
}

impl<'t> TermCounter<'t> {
    /// A counter on `threads` threads (`0` = all cores); `with_studies` says whether batches come with
    /// study indices.
    pub fn new(tokenizer: &'t Tokenizer, with_studies: bool, threads: usize) -> Self {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(crate::parallel::resolve_threads(threads)).build().ok();
        TermCounter {
            tokenizer,
            with_studies,
            pool,
            folded: Default::default(),
            chunks: Vec::new(),
            n_docs: 0,
            max_waiting_text: MAX_WAITING_TEXT,
        }
    }

    /// Counts the next quotes, in corpus order.
    pub fn add(&mut self, texts: &[&str], studies: Option<&[u32]>) {
        assert_eq!(studies.is_some(), self.with_studies, "study indices for every batch or none");
        if let Some(studies) = studies {
            assert_eq!(studies.len(), texts.len(), "one study index per quote");
        }
        let (tokenizer, folded, with_studies) = (self.tokenizer, &self.folded, self.with_studies);
        let work = || -> Vec<ChunkRows> {
            crate::parallel::doc_chunks(texts)
                .into_par_iter()
                .map_init(
                    || tokenizer.scratch(),
                    |scratch, range| {
                        let chunk_studies = studies.map(|s| &s[range.clone()]);
                        count_chunk(tokenizer, &texts[range], chunk_studies, scratch).fold_into(folded, with_studies)
                    },
                )
                .collect()
        };
        let counted = on_pool(&self.pool, work);
        self.chunks.extend(counted);
        self.n_docs += texts.len();
    }

    /// Counts batches as `next_batch` reads them into the empty batch it is given, until it returns
    /// `Ok(false)` or leaves the batch empty (or returns an error, returned after the chunks already
    /// started have finished). Equals [`TermCounter::add`] on the same batches. Batches are reused once
    /// their chunks are counted: a new 8 MB buffer for each batch had been a fifth of the command's page
    /// faults.
    ///
    /// The reading is one of the pool's tasks, not a thread of its own: the thread that read a batch goes
    /// on reading while the others count its chunks, and counts chunks itself whenever
    /// [`MAX_WAITING_TEXT`] bytes of text wait. So no more threads run than the pool has, and no thread
    /// waits at the end of a batch for the slowest chunk. A reading thread beside the pool did both
    /// (three busy threads on two cores, a barrier per batch): the 100 MB tier counted in 1.8-1.9 s,
    /// slower than reading it all and then counting (0.5 + 1.0 s).
    pub fn add_stream<E: Send>(
        &mut self,
        mut next_batch: impl FnMut(&mut TextBatch) -> Result<bool, E> + Send,
    ) -> Result<(), E> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};

        let (tokenizer, with_studies, max_waiting_text) = (self.tokenizer, self.with_studies, self.max_waiting_text);
        let folded = &self.folded;
        // One slot per chunk, in corpus order, filled in whatever order the chunks finish.
        let slots: Mutex<Vec<Option<ChunkRows>>> = Mutex::new(Vec::new());
        let spare: Mutex<Vec<TextBatch>> = Mutex::new(Vec::new());
        let waiting_text = AtomicUsize::new(0);
        let mut n_docs = 0;
        let work = || {
            rayon::scope(|scope| -> Result<(), E> {
                loop {
                    while waiting_text.load(Ordering::Acquire) > max_waiting_text {
                        // Enough text waits that chunks are queued (each holds at most CHUNK_BYTES).
                        if rayon::yield_now() != Some(rayon::Yield::Executed) {
                            std::thread::yield_now();
                        }
                    }
                    let mut batch = spare.lock().expect("no chunk panicked").pop().unwrap_or_default();
                    if !next_batch(&mut batch)? || batch.is_empty() {
                        return Ok(());
                    }
                    n_docs += batch.len();
                    let batch = Arc::new(Recycled { batch, spare: &spare });
                    let texts = batch.texts(0..batch.len());
                    for range in crate::parallel::doc_chunks(&texts) {
                        let bytes: usize = texts[range.clone()].iter().map(|t| t.len()).sum();
                        let slot = {
                            let mut slots = slots.lock().expect("no chunk panicked");
                            slots.push(None);
                            slots.len() - 1
                        };
                        waiting_text.fetch_add(bytes, Ordering::AcqRel);
                        let (batch, slots, waiting_text) = (Arc::clone(&batch), &slots, &waiting_text);
                        scope.spawn(move |_| {
                            let texts = batch.texts(range.clone());
                            let studies = with_studies.then(|| &batch.studies[range]);
                            let counts = count_chunk(tokenizer, &texts, studies, &mut tokenizer.scratch())
                                .fold_into(folded, with_studies);
                            slots.lock().expect("no chunk panicked")[slot] = Some(counts);
                            waiting_text.fetch_sub(bytes, Ordering::AcqRel);
                        });
                    }
                }
            })
        };
        let read = on_pool(&self.pool, work);
        let counted = slots.into_inner().expect("no chunk panicked");
        self.chunks.extend(counted.into_iter().map(|c| c.expect("every chunk counted before the scope ended")));
        self.n_docs += n_docs;
        read
    }

    /// Merges every batch: columns in sorted term order, rows in quote order.
    pub fn finish(self) -> TermCounts {
        let TermCounter { pool, folded, chunks, n_docs, with_studies, .. } = self;
        let folded = folded.into_inner().expect("no chunk panicked");
        on_pool(&pool, || merge_chunks(chunks, folded, n_docs, with_studies))
    }
}

/// Runs `work` on the counter's pool, or on the calling thread if the OS refused the pool's threads.
fn on_pool<R: Send>(pool: &Option<rayon::ThreadPool>, work: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// A chunk-local term's counts side by side: all three are read and written for every term a quote
/// touches, from one cache line rather than three arrays.
#[derive(Clone, Copy, Default)]
struct LocalCounts {
    /// In the current quote.
    in_doc: u32,
    df: u32,
    tf: u32,
}

fn count_chunk(tokenizer: &Tokenizer, texts: &[&str], studies: Option<&[u32]>, scratch: &mut Scratch) -> ChunkCounts {
    scratch.reset_terms();
    let mut local: Vec<LocalCounts> = Vec::new();
    let mut touched: Vec<u32> = Vec::new();
    let mut indptr = Vec::with_capacity(texts.len() + 1);
    indptr.push(0);
    let mut entries: Vec<u64> = Vec::new();
    let mut term_studies = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        tokenizer.for_each_term_id(text, scratch, |id, _| {
            let id = id as usize;
            if id >= local.len() {
                local.resize(id + 1, LocalCounts::default());
            }
            if local[id].in_doc == 0 {
                touched.push(id as u32);
            }
            local[id].in_doc += 1;
        });
        let study = studies.map(|s| s[i]).filter(|&s| s != u32::MAX);
        for &id in &touched {
            let counts = &mut local[id as usize];
            let count = std::mem::take(&mut counts.in_doc);
            counts.df += 1;
            counts.tf += count;
            entries.push(pack_entry(id, count));
            if let Some(study) = study {
                term_studies.push((id, study));
            }
        }
        touched.clear();
        indptr.push(entries.len());
    }
    term_studies.sort_unstable();
    term_studies.dedup();
    let mut term_text = String::new();
    let mut term_ends = Vec::with_capacity(scratch.n_terms());
    for id in 0..scratch.n_terms() as u32 {
        scratch.write_term(id, &mut term_text);
        term_ends.push(term_text.len());
    }
    local.resize(term_ends.len(), LocalCounts::default());
    ChunkCounts { term_text, term_ends, counts: local, indptr, entries, term_studies }
}

/// The first 8 bytes of `bytes` as a big-endian integer, zero-padded: if two keys differ, they order as
/// the byte strings do.
fn prefix_key(bytes: &[u8]) -> u64 {
    let mut key = [0u8; 8];
    let n = bytes.len().min(8);
    key[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(key)
}

/// Merges chunk results: global columns in sorted term order, rows in quote order.
fn merge_chunks(chunks: Vec<ChunkRows>, folded: FoldedTerms, n_docs: usize, with_studies: bool) -> TermCounts {
    let FoldedTerms { terms: folded_terms, freqs, mut study_pairs } = folded;
    // Byte order of UTF-8 is code point order, and skips re-validating UTF-8 in every comparison. Each
    // term carries its first 8 bytes as a big-endian integer (zero-padded), which orders terms the same
    // way whenever it differs, so most comparisons touch no string.
    let bytes = |id: u32| folded_terms.resolve_bytes(id);
    let mut keyed: Vec<(u64, u32)> = (0..folded_terms.len() as u32).map(|id| (prefix_key(bytes(id)), id)).collect();
    keyed.par_sort_unstable_by(|&(ka, a), &(kb, b)| ka.cmp(&kb).then_with(|| bytes(a).cmp(bytes(b))));
    // Folded ids in sorted term order, and each folded id's column.
    let order: Vec<u32> = keyed.into_iter().map(|(_, id)| id).collect();
    let mut column = vec![0u32; order.len()];
    for (sorted, &id) in order.iter().enumerate() {
        column[id as usize] = sorted as u32;
    }
    let terms: Vec<String> = order.par_iter().map(|&id| folded_terms.resolve(id).to_string()).collect();
    let n_terms = terms.len();
    let df: Vec<u64> = order.iter().map(|&id| freqs[id as usize].df).collect();
    let tf: Vec<u64> = order.iter().map(|&id| freqs[id as usize].tf).collect();
    let n_studies = with_studies.then(|| {
        study_pairs.par_sort_unstable();
        study_pairs.dedup();
        let mut n = vec![0u32; n_terms];
        for (term, _) in study_pairs {
            n[column[term as usize] as usize] += 1;
        }
        n
    });

    // Rows: each chunk writes its own part of the final arrays, in parallel, with global columns in
    // increasing order within each row; a chunk's counts are freed as soon as they are written, so the
    // counts exist about once in memory (the final arrays are zeroed pages until written).
    let nnz: usize = chunks.iter().map(|c| c.entries.len()).sum();
    let mut indptr = vec![0usize; n_docs + 1];
    let (mut indices, mut data) = (vec![0u32; nnz], vec![0u32; nnz]);
    let bases: Vec<usize> = chunks
        .iter()
        .scan(0, |next, c| {
            let base = *next;
            *next += c.entries.len();
            Some(base)
        })
        .collect();
    let parts = split_by_lengths(&mut indptr[1..], chunks.iter().map(|c| c.indptr.len() - 1))
        .into_iter()
        .zip(split_by_lengths(&mut indices, chunks.iter().map(|c| c.entries.len())))
        .zip(split_by_lengths(&mut data, chunks.iter().map(|c| c.entries.len())))
        .zip(bases)
        .collect::<Vec<_>>();
    chunks.into_par_iter().zip(parts).for_each(|(mut chunk, part)| {
        let (((part_indptr, part_indices), part_data), base) = part;
        // Each row sorted by global column, in place: entries are packed column first, so sorting the
        // integers sorts the row. Rows hold a few dozen entries; this beat a transpose of the chunk and
        // back (100 MB: merge 0.39-0.45 s -> 0.34-0.36 s). The chunk's own map to columns is small enough
        // to stay in cache, unlike `column`.
        let to_column: Vec<u32> =
            chunk.to_folded.iter().map(|&id| if id == UNUSED { UNUSED } else { column[id as usize] }).collect();
        for (r, out) in part_indptr.iter_mut().enumerate() {
            let (start, end) = (chunk.indptr[r], chunk.indptr[r + 1]);
            let row = &mut chunk.entries[start..end];
            for entry in row.iter_mut() {
                let (local, count) = unpack_entry(*entry);
                *entry = pack_entry(to_column[local as usize], count);
            }
            row.sort_unstable();
            for ((&entry, index), value) in
                row.iter().zip(&mut part_indices[start..end]).zip(&mut part_data[start..end])
            {
                (*index, *value) = unpack_entry(entry);
            }
            *out = base + end;
        }
    });
    TermCounts { n_docs, terms, df, tf, n_studies, counts: Csr { n_cols: n_terms, indptr, indices, data } }
}

/// `slice` cut into consecutive pieces of the given lengths (which must not exceed it).
fn split_by_lengths<T>(mut slice: &mut [T], lengths: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    lengths
        .map(|n| {
            let (piece, rest) = std::mem::take(&mut slice).split_at_mut(n);
            slice = rest;
            piece
        })
        .collect()
}

/// A document-frequency bound: an absolute count or a proportion of the documents.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocFreq {
    /// At least / at most this many documents (scikit-learn: an `int`).
    Count(u64),
    /// This proportion of the documents, in [0, 1], compared unrounded (scikit-learn: a `float`).
    Proportion(f64),
}

impl DocFreq {
    /// The bound in documents, unrounded: `min_df=0.3` with 5 documents is 1.5 (so df >= 2).
    pub fn threshold(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(n) => n as f64,
            DocFreq::Proportion(p) => p * n_docs as f64,
        }
    }
}

impl std::str::FromStr for DocFreq {
    type Err = String;

    /// `"2"` is a count; `"0.3"`, `"1.0"` or `"1e-2"` is a proportion (as scikit-learn's int vs float).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(n) = s.parse::<u64>() {
            return Ok(DocFreq::Count(n));
        }
        match s.parse::<f64>() {
            Ok(p) if (0.0..=1.0).contains(&p) => Ok(DocFreq::Proportion(p)),
            _ => Err(format!(
                "expected a whole number of documents (such as 2) or a proportion between 0.0 and 1.0 (such as 0.5); got {s:?}"
            )),
        }
    }
}

impl std::fmt::Display for DocFreq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocFreq::Count(n) => write!(f, "{n}"),
            DocFreq::Proportion(p) => write!(f, "{p:?}"),
        }
    }
}

/// How to choose the vocabulary from the counts.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VocabParams {
    /// Drop terms in fewer documents. Default: `Count(1)` (scikit-learn's `min_df=1`).
    pub min_df: DocFreq,
    /// Drop terms in more documents. Default: `Proportion(1.0)` (scikit-learn's `max_df=1.0`).
    pub max_df: DocFreq,
    /// Keep only this many terms, the most frequent in the corpus. Default: `None` (all).
    pub max_features: Option<usize>,
    /// Drop terms used in fewer studies (only with a study column). Default: 1 (no effect).
    pub min_studies: u32,
    /// Rank terms for `max_features` by document frequency instead of total count, as scikit-learn does
    /// with `binary=True` (its counts become 0/1 before pruning). Default: `false`.
    pub binary: bool,
}

impl Default for VocabParams {
    fn default() -> Self {
        VocabParams {
            min_df: DocFreq::Count(1),
            max_df: DocFreq::Proportion(1.0),
            max_features: None,
            min_studies: 1,
            binary: false,
        }
    }
}

/// Why no vocabulary could be chosen.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VocabError {
    /// `max_df` allows fewer documents than `min_df` requires.
    #[error("--max-df {max_df} allows at most {max_docs} documents but --min-df {min_df} requires at least {min_docs}")]
    Bounds {
        /// The `min_df` given.
        min_df: DocFreq,
        /// The `max_df` given.
        max_df: DocFreq,
        /// `min_df` in documents.
        min_docs: f64,
        /// `max_df` in documents.
        max_docs: f64,
    },
    /// `--min-studies` without study information.
    #[error("--min-studies {0} needs a study column, but the quotes have no study")]
    NoStudies(u32),
    /// Nothing left.
    #[error(
        "no term is left after pruning ({n_terms} terms in {n_docs} quotes; --min-df {min_df}, --max-df {max_df}{}); loosen the limits",
        if *min_studies > 1 { format!(", --min-studies {min_studies}") } else { String::new() }
    )]
    Empty {
        /// Terms before pruning.
        n_terms: usize,
        /// Quotes.
        n_docs: usize,
        /// The `min_df` given.
        min_df: DocFreq,
        /// The `max_df` given.
        max_df: DocFreq,
        /// The `min_studies` given.
        min_studies: u32,
    },
}

/// The chosen terms, in column order, with their statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocabulary {
    /// Documents the vocabulary was fitted on.
    pub n_docs: usize,
    /// Terms, sorted by code point; a term's index is its column.
    pub terms: Vec<String>,
    /// Document frequency of each term.
    pub df: Vec<u64>,
    /// Corpus frequency of each term.
    pub tf: Vec<u64>,
    /// Studies each term occurs in, when known.
    pub n_studies: Option<Vec<u32>>,
}

impl Vocabulary {
    /// The vocabulary restricted to the terms `keep` accepts, with `counts` restricted to their columns
    /// (columns stay in term order). Document frequencies are unchanged: they never depended on other terms.
    pub fn select(&self, counts: &Csr<u32>, keep: impl Fn(&str) -> bool) -> (Vocabulary, Csr<u32>) {
        let mut new_column = vec![UNUSED; self.terms.len()];
        let mut kept = Vec::new();
        for (i, term) in self.terms.iter().enumerate() {
            if keep(term) {
                new_column[i] = kept.len() as u32;
                kept.push(i);
            }
        }
        let pick = |v: &[u64]| kept.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let vocabulary = Vocabulary {
            n_docs: self.n_docs,
            terms: kept.iter().map(|&i| self.terms[i].clone()).collect(),
            df: pick(&self.df),
            tf: pick(&self.tf),
            n_studies: self.n_studies.as_ref().map(|s| kept.iter().map(|&i| s[i]).collect()),
        };
        let matrix = select_columns(counts, &new_column, kept.len());
        (vocabulary, matrix)
    }
}

impl VocabParams {
    /// Chooses the vocabulary and returns it with the count matrix restricted to its columns.
    pub fn prune(&self, counts: TermCounts) -> Result<(Vocabulary, Csr<u32>), VocabError> {
        let n_docs = counts.n_docs;
        let (min_docs, max_docs) = (self.min_df.threshold(n_docs), self.max_df.threshold(n_docs));
        if max_docs < min_docs {
            return Err(VocabError::Bounds { min_df: self.min_df, max_df: self.max_df, min_docs, max_docs });
        }
        if self.min_studies > 1 && counts.n_studies.is_none() {
            return Err(VocabError::NoStudies(self.min_studies));
        }
        let mut keep: Vec<usize> = (0..counts.terms.len())
            .filter(|&t| {
                let df = counts.df[t] as f64;
                df >= min_docs && df <= max_docs && counts.n_studies.as_ref().is_none_or(|n| n[t] >= self.min_studies)
            })
            .collect();
        if let Some(limit) = self.max_features
            && keep.len() > limit
        {
            // Most frequent first; ties by term (columns are in term order already).
            let frequency = if self.binary { &counts.df } else { &counts.tf };
            keep.sort_by(|&a, &b| frequency[b].cmp(&frequency[a]).then(a.cmp(&b)));
            keep.truncate(limit);
            keep.sort_unstable();
        }
        if keep.is_empty() {
            return Err(VocabError::Empty {
                n_terms: counts.terms.len(),
                n_docs,
                min_df: self.min_df,
                max_df: self.max_df,
                min_studies: self.min_studies,
            });
        }
        if keep.len() == counts.terms.len() {
            // Nothing pruned (the default): the counts are the matrix, no copy.
            let TermCounts { terms, df, tf, n_studies, counts, .. } = counts;
            return Ok((Vocabulary { n_docs, terms, df, tf, n_studies }, counts));
        }
        let mut new_col = vec![UNUSED; counts.terms.len()];
        for (col, &t) in keep.iter().enumerate() {
            new_col[t] = col as u32;
        }
        let matrix = select_columns(&counts.counts, &new_col, keep.len());
        let vocabulary = Vocabulary {
            n_docs,
            terms: keep.iter().map(|&t| counts.terms[t].clone()).collect(),
            df: keep.iter().map(|&t| counts.df[t]).collect(),
            tf: keep.iter().map(|&t| counts.tf[t]).collect(),
            n_studies: counts.n_studies.as_ref().map(|n| keep.iter().map(|&t| n[t]).collect()),
        };
        Ok((vocabulary, matrix))
    }
}

/// Keeps the columns with a new index (`UNUSED`: dropped); increasing order is preserved.
fn select_columns(matrix: &Csr<u32>, new_col: &[u32], n_cols: usize) -> Csr<u32> {
    let mut indptr = Vec::with_capacity(matrix.indptr.len());
    indptr.push(0);
    let (mut indices, mut data) = (Vec::with_capacity(matrix.nnz()), Vec::with_capacity(matrix.nnz()));
    for row in 0..matrix.n_rows() {
        let (cols, values) = matrix.row(row);
        for (&col, &value) in cols.iter().zip(values) {
            let new = new_col[col as usize];
            if new != UNUSED {
                indices.push(new);
                data.push(value);
            }
        }
        indptr.push(indices.len());
    }
    Csr { n_cols, indptr, indices, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn prefix_keys_order_as_the_strings_when_they_differ(a in proptest::collection::vec(0u8..4, 0..12),
                                                              b in proptest::collection::vec(0u8..4, 0..12)) {
            let (ka, kb) = (prefix_key(&a), prefix_key(&b));
            if ka != kb {
                proptest::prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            }
        }
    }
    use crate::tokenize::{Compat, TokenizerParams};
    use std::collections::BTreeMap;

    use crate::test_fixtures::PARITY_QUOTES as FIXTURE;

    fn sklearn() -> Tokenizer {
        TokenizerParams::for_compat(Compat::Sklearn).build().unwrap()
    }

    /// The naive oracle: a map per document, summed in one thread.
    fn naive(tokenizer: &Tokenizer, texts: &[&str]) -> (Vec<String>, Vec<u64>, Vec<BTreeMap<String, u32>>) {
        let mut df: BTreeMap<String, u64> = BTreeMap::new();
        let rows: Vec<BTreeMap<String, u32>> = texts
            .iter()
            .map(|t| {
                let mut row = BTreeMap::new();
                for token in tokenizer.tokenize(t) {
                    *row.entry(token.term).or_insert(0) += 1;
                }
                for term in row.keys() {
                    *df.entry(term.clone()).or_insert(0) += 1;
                }
                row
            })
            .collect();
        (df.keys().cloned().collect(), df.values().copied().collect(), rows)
    }

    #[test]
    fn selecting_words_keeps_their_counts_and_statistics() {
        let tokenizer =
            TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::for_compat(Compat::Sklearn) }.build().unwrap();
        let counts = count_terms(&tokenizer, &FIXTURE, None, 2);
        let (all, matrix) = VocabParams::default().prune(counts).unwrap();
        let (words, word_matrix) = all.select(&matrix, |t| !t.contains(' '));
        assert!(words.terms.len() < all.terms.len() && words.terms.iter().all(|t| !t.contains(' ')));
        assert_eq!(word_matrix.n_cols, words.terms.len());
        for (w, term) in words.terms.iter().enumerate() {
            let i = all.terms.iter().position(|t| t == term).unwrap();
            assert_eq!((words.df[w], words.tf[w]), (all.df[i], all.tf[i]), "{term}");
            for r in 0..matrix.n_rows() {
                let get = |m: &Csr<u32>, c: usize| {
                    let (cols, values) = m.row(r);
                    cols.iter().position(|&x| x as usize == c).map(|p| values[p])
                };
                assert_eq!(get(&word_matrix, w), get(&matrix, i), "{term} in quote {r}");
            }
        }
    }

    #[test]
    fn fixture_vocabulary_and_document_frequencies() {
        let counts = count_terms(&sklearn(), &FIXTURE, None, 2);
        assert_eq!(counts.terms.len(), 32);
        let df = |term: &str| counts.df[counts.terms.iter().position(|t| t == term).unwrap()];
        for term in ["and", "helped", "peer"] {
            assert_eq!(df(term), 3, "{term}");
        }
        for term in ["low", "me", "my", "others", "pay", "the"] {
            assert_eq!(df(term), 2, "{term}");
        }
        let params = VocabParams { min_df: DocFreq::Proportion(0.3), ..VocabParams::default() };
        let (vocab, _) = params.prune(counts).unwrap();
        assert_eq!(vocab.terms, ["and", "helped", "low", "me", "my", "others", "pay", "peer", "the"]);
    }

    #[test]
    fn fixture_with_stop_words_bigrams_and_min_df() {
        let tokenizer = TokenizerParams {
            stop_words: crate::tokenize::StopList::English,
            ngram_range: (1, 2),
            ..TokenizerParams::for_compat(Compat::Sklearn)
        }
        .build()
        .unwrap();
        let counts = count_terms(&tokenizer, &FIXTURE, None, 1);
        let (vocab, _) = VocabParams { min_df: DocFreq::Count(2), ..VocabParams::default() }.prune(counts).unwrap();
        assert_eq!(vocab.terms, ["helped", "low", "pay", "peer"]);
    }

    #[test]
    fn parallel_counts_equal_the_naive_oracle_for_any_thread_count() {
        let texts: Vec<String> = (0..5000)
            .map(|i| format!("{} {} peer {} study{} word{}", FIXTURE[i % 5], i % 7, i % 13, i % 34, i % 1000))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let tokenizer = TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::default() }.build().unwrap();
        let (terms, df, rows) = naive(&tokenizer, &refs);
        let one = count_terms(&tokenizer, &refs, None, 1);
        let missing: Vec<&String> = terms.iter().filter(|t| !one.terms.contains(t)).take(5).collect();
        let extra: Vec<&String> = one.terms.iter().filter(|t| !terms.contains(t)).take(5).collect();
        assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, extra {extra:?}");
        assert_eq!(one.terms, terms);
        assert_eq!(one.df, df);
        let mut tf: BTreeMap<&str, u64> = BTreeMap::new();
        for (term, &count) in rows.iter().flatten() {
            *tf.entry(term.as_str()).or_default() += u64::from(count);
        }
        assert_eq!(one.tf, terms.iter().map(|t| tf[t.as_str()]).collect::<Vec<_>>());
        for (i, row) in rows.iter().enumerate() {
            let (cols, values) = one.counts.row(i);
            let got: BTreeMap<String, u32> =
                cols.iter().zip(values).map(|(&c, &v)| (one.terms[c as usize].clone(), v)).collect();
            assert_eq!(&got, row, "row {i}");
        }
        // The same tokenizer: these runs get scratches with warm stem memos from its pool.
        assert_eq!(one, count_terms(&tokenizer, &refs, None, 2));
        assert_eq!(one, count_terms(&tokenizer, &refs, None, 5));
    }

    /// 3,000 quotes in 7 studies, and a tokenizer with bigrams, for the batch tests.
    fn quotes_in_studies() -> (Vec<String>, Vec<u32>, Tokenizer) {
        let texts = (0..3000).map(|i| format!("{} study{} {}", FIXTURE[i % 5], i % 7, i % 97)).collect();
        let studies = (0..3000).map(|i| (i % 7) as u32).collect();
        let tokenizer = TokenizerParams { ngram_range: (1, 2), ..TokenizerParams::default() }.build().unwrap();
        (texts, studies, tokenizer)
    }

    #[test]
    fn batches_count_like_the_whole_corpus() {
        let (texts, studies, tokenizer) = quotes_in_studies();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let whole = count_terms(&tokenizer, &refs, Some(&studies), 2);
        let mut counter = TermCounter::new(&tokenizer, true, 2);
        for (batch, batch_studies) in refs.chunks(700).zip(studies.chunks(700)) {
            counter.add(batch, Some(batch_studies));
        }
        assert_eq!(counter.finish(), whole);
    }

    #[test]
    fn streamed_batches_count_like_the_whole_corpus_and_stop_at_an_error() {
        let (texts, studies, tokenizer) = quotes_in_studies();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let whole = count_terms(&tokenizer, &refs, Some(&studies), 1);
        let batches = || {
            let mut next = texts.chunks(700).zip(studies.chunks(700));
            move |batch: &mut TextBatch| -> Result<bool, String> {
                assert!(batch.is_empty(), "batches come empty");
                Ok(next
                    .next()
                    .map(|(texts, studies)| {
                        texts.iter().zip(studies).for_each(|(text, &study)| batch.push(text, study));
                    })
                    .is_some())
            }
        };
        for threads in [1, 2, 3] {
            let mut counter = TermCounter::new(&tokenizer, true, threads);
            // A limit far below one batch: the reading thread must count queued chunks before reading on.
            counter.max_waiting_text = 1000;
            counter.add_stream(batches()).unwrap();
            assert_eq!(counter.finish(), whole, "{threads} threads");
        }
        let mut counter = TermCounter::new(&tokenizer, true, 2);
        let mut next = batches();
        let mut read = 0;
        let failing = |batch: &mut TextBatch| {
            read += 1;
            if read == 3 { Err(format!("bad row in batch {read}")) } else { next(batch) }
        };
        assert_eq!(counter.add_stream(failing), Err("bad row in batch 3".to_string()));
    }

    #[test]
    fn pruning_follows_sklearn() {
        let counts = count_terms(&sklearn(), &FIXTURE, None, 1);
        let prune = |min_df, max_df, max_features| {
            VocabParams { min_df, max_df, max_features, ..VocabParams::default() }.prune(counts.clone())
        };
        // max_df as a count and as a proportion: df 3 of 5 is 0.6.
        let (v, _) = prune(DocFreq::Count(1), DocFreq::Count(2), None).unwrap();
        assert!(!v.terms.contains(&"helped".to_string()) && v.terms.contains(&"low".to_string()));
        let (v, _) = prune(DocFreq::Count(1), DocFreq::Proportion(0.6), None).unwrap();
        assert!(v.terms.contains(&"helped".to_string()));
        // max_features by corpus frequency, ties by term: helped (4), then and, peer (3 each).
        let (v, m) = prune(DocFreq::Count(1), DocFreq::Proportion(1.0), Some(3)).unwrap();
        assert_eq!(v.terms, ["and", "helped", "peer"]);
        assert_eq!(m.n_cols, 3);
        assert!(matches!(prune(DocFreq::Count(3), DocFreq::Count(2), None), Err(VocabError::Bounds { .. })));
        assert!(matches!(prune(DocFreq::Count(6), DocFreq::Count(10), None), Err(VocabError::Empty { .. })));
    }

    #[test]
    fn min_studies_drops_one_study_jargon() {
        let texts = ["sputum dots clinic", "sputum dots peer", "clinic peer", "peer work"];
        let studies = [0, 0, 1, 2];
        let counts = count_terms(&sklearn(), &texts, Some(&studies), 2);
        let params = VocabParams { min_studies: 2, ..VocabParams::default() };
        let (v, _) = params.prune(counts.clone()).unwrap();
        assert_eq!(v.terms, ["clinic", "peer"]);
        assert_eq!(v.n_studies, Some(vec![2, 3]));
        let no_studies = count_terms(&sklearn(), &texts, None, 1);
        assert_eq!(params.prune(no_studies).unwrap_err(), VocabError::NoStudies(2));
    }

    #[test]
    fn doc_freq_parses_like_sklearn_int_and_float() {
        assert_eq!("2".parse::<DocFreq>(), Ok(DocFreq::Count(2)));
        assert_eq!("1.0".parse::<DocFreq>(), Ok(DocFreq::Proportion(1.0)));
        assert_eq!("0.3".parse::<DocFreq>(), Ok(DocFreq::Proportion(0.3)));
        assert!("1.5".parse::<DocFreq>().is_err() && "-1".parse::<DocFreq>().is_err());
        assert_eq!(DocFreq::Proportion(0.3).threshold(5), 1.5);
    }
}
