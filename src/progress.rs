//! Progress of the long stages, reported to whoever listens. The library never draws anything: the
//! `themata` binary turns these calls into progress bars on a terminal, or one line per stage with
//! `--verbose`. Reporting progress never changes a result.

/// Receives progress reports. Every method has a do-nothing default.
pub trait Progress: Sync {
    /// A stage starts, with its number of steps when known.
    fn start(&self, _stage: &str, _steps: Option<u64>) {}
    /// `n` more steps of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// The current stage is over; `summary` says in a few words what it did.
    fn finish(&self, _summary: &str) {}
}

/// Reports nowhere.
pub struct Silent;

impl Progress for Silent {}
