//! themata: suggest candidate themes from qualitative interview quotes, and compare them with the
//! analysts' manual synthesis.
//!
//! The library is the product; the `themata` binary is thin glue over it. Each pipeline stage is one
//! module, and dependencies point one way:
//!
//! 1. [`corpus`]: read quotes (CSV, TSV, JSON Lines) with positioned errors. The only stage that reads files.
//! 2. [`tokenize`]: turn each quote into normalised terms with byte offsets, in parallel.
//! 3. [`report`]: render results for people and scripts, and write files atomically. The only stage that
//!    writes files.
//!
//! See `ARCHITECTURE.md` for the whole pipeline and its invariants.

pub mod cluster;
pub mod corpus;
pub mod parallel;
pub mod report;
pub mod tfidf;
pub mod themes;
pub mod tokenize;
pub mod vocab;
