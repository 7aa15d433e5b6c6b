//! The one parallelism abstraction: contiguous chunks of documents, a local accumulator per chunk, then
//! an ordered merge. The library builds its own rayon pool with an explicit thread count, so results
//! never depend on the global pool or on the machine.

/// How many documents one parallel task takes. Large enough to amortise per-chunk set-up (a stem
/// memo, scratch buffers), small enough to balance two to dozens of cores.
pub const CHUNK_DOCS: usize = 512;

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
