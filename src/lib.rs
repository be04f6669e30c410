//! cloudcensus: scans AWS, Azure and Google Cloud read-only, holds the estate against a
//! ministry's register of processing activities, and writes the yearly report to CIO Rijk.
//!
//! The binary is a thin shell around this library so integration tests and benchmarks can
//! call the same code. Provider SDK code lives in `connectors/*` crates so changing the CLI
//! never recompiles an SDK.

/// mimalloc instead of the system allocator: evaluation and the report allocate and free
/// millions of small strings, and glibc's allocator kept freed memory (resident) across
/// the report's phases.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cli;
pub mod commands;
pub mod config;
pub mod example_estate;
pub mod html;
pub mod matching;
pub mod output;
pub mod register;
pub mod report;
pub mod rules;
pub mod scan_pipeline;
pub mod store;
/// The synthetic estate of the tests and benchmarks: not part of the shipped binary
/// (feature `test-kit`, which the crate's own dev-dependency switches on).
#[cfg(any(test, feature = "test-kit"))]
pub mod synth;

#[cfg(test)]
mod fuzz_tests;

pub use cloudcensus_core as core;
