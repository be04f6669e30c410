//! One module per command. Each exposes `run(cli, args, out) -> Result<ExitCode>`.

pub mod config;
pub mod diff;
pub mod export;
pub mod import;
pub mod locate;
pub mod prune;
pub mod regions;
pub mod register;
pub mod rules;
pub mod scan;
pub mod scans;
pub mod store_args;
pub mod verify;
