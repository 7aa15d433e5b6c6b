//! themata: suggest candidate themes from qualitative interview quotes, and compare them with the
//! analysts' manual synthesis.
//!
//! The library is the product; the `themata` binary is thin glue over it. Each pipeline stage is one
//! module, and dependencies point one way:
//!
//! 1. [`corpus`]: read quotes (CSV, TSV, JSON Lines) with positioned errors. The only stage that reads files.
//! 2. [`tokenize`]: turn each quote into normalised terms with byte offsets, in parallel.
//! 3. [`vocab`]: count terms in parallel chunks, merge in sorted term order, prune.
//! 4. [`tfidf`]: scikit-learn-exact TF-IDF weights in a sparse matrix.
//! 5. [`cluster`]: LSA and k-means.
//! 6. [`themes`]: labels, representative quotes, study support and stability of each candidate theme.
//! 7. [`evaluate`]: compare candidate themes with the analysts' coding: agreement metrics (scikit-learn's
//!    definitions), one-to-one theme-code matching, and the quotes to re-read.
//! 8. [`report`]: render results for people and scripts, and write files atomically. The only stage that
//!    writes files.
//!
//! See `ARCHITECTURE.md` for the whole pipeline and its invariants.

pub mod cluster;
pub mod corpus;
pub mod evaluate;
pub mod parallel;
pub mod progress;
pub mod report;
pub mod tfidf;
pub mod themes;
pub mod tokenize;
pub mod vocab;

/// Data shared by the unit tests of several stages.
#[cfg(test)]
pub(crate) mod test_fixtures {
    /// The five quotes of `SKLEARN_PARITY.md`, whose scikit-learn values the tests check.
    pub const PARITY_QUOTES: [&str; 5] = [
        "Peer workers said helping others helped them stay well.",
        "Being a peer gave me purpose and helped my recovery.",
        "Staff did not value the peer role; pay was low.",
        "Low pay and unclear roles made the work stressful.",
        "Sharing my story helped others and helped me.",
    ];
}
