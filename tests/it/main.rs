//! The one integration test binary: runs the real `themata` binary on files in temporary folders.

mod bad_input;
mod commands;
mod compare;
mod corpus;
mod metrics;
mod parity;
mod report;
mod suggest;
mod util;
