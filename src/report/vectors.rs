//! What `themata vectorize` writes: the TF-IDF matrix and its row and column labels.

use std::io::{self, Write};

use crate::tfidf::FittedTfidf;
use crate::vocab::Csr;

/// Writes a sparse matrix in Matrix Market coordinate format (`real general`), readable by
/// `scipy.io.mmread` and R's `Matrix::readMM`. Indices are 1-based, entries in row-major order, values
/// in shortest round-trip notation (so they parse back to the same `f64`).
///
/// Formatting the numbers is most of the work: blocks of rows are formatted in parallel (on the caller's
/// rayon pool) and written in order, a bounded wave of blocks at a time, so the bytes are the same for any
/// thread count and memory holds one wave, not the whole file.
pub fn write_matrix_market(out: &mut dyn Write, matrix: &Csr<f64>, comment: &str) -> io::Result<()> {
    use rayon::prelude::*;
    const BLOCK_ROWS: usize = 2048;
    const WAVE_BLOCKS: usize = 8;
    writeln!(out, "%%MatrixMarket matrix coordinate real general")?;
    for line in comment.lines() {
        writeln!(out, "% {line}")?;
    }
    writeln!(out, "{} {} {}", matrix.n_rows(), matrix.n_cols, matrix.nnz())?;
    // itoa and zmij (dtolnay's integer and shortest round-trip float printers, already in the tree
    // through serde_json) instead of `write!`: formatting was most of the whole command's time.
    let format_rows = |first: usize| -> Vec<u8> {
        let (mut int, mut float) = (itoa::Buffer::new(), zmij::Buffer::new());
        let mut text = Vec::new();
        for row in first..(first + BLOCK_ROWS).min(matrix.n_rows()) {
            let (cols, values) = matrix.row(row);
            let row_label = int.format(row + 1).as_bytes().to_vec();
            for (&col, &value) in cols.iter().zip(values) {
                text.extend_from_slice(&row_label);
                text.push(b' ');
                text.extend_from_slice(int.format(col + 1).as_bytes());
                text.push(b' ');
                text.extend_from_slice(float.format(value).as_bytes());
                text.push(b'\n');
            }
        }
        text
    };
    let starts: Vec<usize> = (0..matrix.n_rows()).step_by(BLOCK_ROWS).collect();
    for wave in starts.chunks(WAVE_BLOCKS) {
        let blocks: Vec<Vec<u8>> = wave.par_iter().map(|&first| format_rows(first)).collect();
        for block in blocks {
            out.write_all(&block)?;
        }
    }
    Ok(())
}

/// Writes `vocab.tsv`: a header `term, df, idf`, then one row per column of the matrix, in order.
pub fn write_vocab_tsv(out: &mut dyn Write, model: &FittedTfidf) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().delimiter(b'\t').from_writer(out);
    let vocab = model.vocabulary();
    let mut header = vec!["term", "df", "idf"];
    if vocab.n_studies.is_some() {
        header.push("studies");
    }
    writer.write_record(&header)?;
    for (col, term) in vocab.terms.iter().enumerate() {
        let mut record = vec![term.clone(), vocab.df[col].to_string(), format!("{:?}", model.idf()[col])];
        if let Some(n) = &vocab.n_studies {
            record.push(n[col].to_string());
        }
        writer.write_record(&record)?;
    }
    writer.flush()
}

/// Writes `docs.tsv`: a header `row, id`, then each matrix row (1-based, as in `matrix.mtx`) with its
/// quote id.
pub fn write_docs_tsv<'a>(out: &mut dyn Write, ids: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().delimiter(b'\t').from_writer(out);
    writer.write_record(["row", "id"])?;
    for (row, id) in ids.into_iter().enumerate() {
        writer.write_record([(row + 1).to_string().as_str(), id])?;
    }
    writer.flush()
}
