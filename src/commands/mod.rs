//! One module per command. Each exposes `run(cli, args, out) -> Result<ExitCode>`.

pub mod locate;
pub mod regions;
pub mod register;
pub mod rules;
