//! `cloudcensus config check` and `cloudcensus config example`.
//!
//! `check` is what an operator runs after editing `cloudcensus.toml` (and what a
//! scheduler can run before the monthly scan): every problem at once, including those of
//! the register it names, then a summary of the sources. It contacts no cloud.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::cli::Cli;
use crate::config::{self, Config};
use crate::register;

/// Arguments of `cloudcensus config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration (--config) and the register it names; print the
    /// sources. Exit 0 when both load, 1 otherwise. Contacts no cloud.
    Check,
    /// Print a commented example configuration.
    Example,
}

/// Runs the command.
pub fn run(cli: &Cli, args: &ConfigArgs, out: &mut dyn Write) -> Result<ExitCode> {
    match args.command {
        ConfigCommand::Example => {
            out.write_all(config::EXAMPLE.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check => check(cli, out),
    }
}

fn check(cli: &Cli, out: &mut dyn Write) -> Result<ExitCode> {
    let cfg = match Config::load(&cli.config_path()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut ok = true;
    writeln!(out, "{}: valid", cfg.path.display())?;
    writeln!(out, "organisation: {}", cfg.organisation)?;
    writeln!(out, "store:        {}", cfg.store.display())?;
    writeln!(
        out,
        "rule pack:    {} (language {:?})",
        cfg.rule_pack, cfg.lang
    )?;
    writeln!(out, "concurrency:  {}", cfg.max_concurrency)?;
    match &cfg.register {
        Some(path) => match register::load_source(path, &cfg.register_source()) {
            Ok(loaded) => writeln!(
                out,
                "register:     {} ({} activities, {} warning(s); `cloudcensus register check` lists them)",
                path.display(),
                loaded.register.activities.len(),
                loaded.warnings.len()
            )?,
            Err(e) => {
                ok = false;
                eprintln!("{e}");
                writeln!(out, "register:     {} does not load", path.display())?;
            }
        },
        None => writeln!(
            out,
            "register:     none configured (scans run; unregistered use cannot be judged)"
        )?,
    }
    let sources = cfg.source_summaries();
    if sources.is_empty() {
        writeln!(
            out,
            "sources:      none — add [[aws]], [[azure]] or [[gcp]] tables before `cloudcensus scan`"
        )?;
    } else {
        writeln!(out, "sources:      {}", sources.len())?;
        for s in sources {
            writeln!(out, "  {:<6} {:<24} {}", s.provider, s.name, s.detail)?;
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
