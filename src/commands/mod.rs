//! One module per command. Each exposes `run(cli, args, out) -> Result<ExitCode>`.

pub mod config;
pub mod demo;
pub mod diff;
pub mod export;
pub mod findings;
pub mod html;
pub mod import;
pub mod locate;
pub mod prune;
pub mod regions;
pub mod register;
pub mod report;
pub mod rollup;
pub mod rules;
pub mod scan;
pub mod scans;
pub mod setup;
pub mod store_args;
pub mod unregistered;
pub mod verify;
