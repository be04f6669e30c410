//! Which scan store a command uses — the one answer for every command that reads or
//! writes one (`scan`, `scans`, `verify`, `diff`, `export`, `import`, `prune`,
//! `findings`, `unregistered`, `report`):
//!
//! 1. `--store PATH|URL`, else the environment variable `CLOUDCENSUS_STORE`;
//! 2. else the configuration file's `store` (relative to that file), when a configuration
//!    is given (`--config` / `CLOUDCENSUS_CONFIG`) or `./cloudcensus.toml` exists;
//! 3. else `cloudcensus.db` in the current directory.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::Cli;
use crate::config::{Config, DEFAULT_PATH};
use crate::store::{self, DEFAULT_STORE, Store};

/// Where the scan store is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StoreArgs {
    /// The scan store: a SQLite file, or a PostgreSQL database
    /// `postgresql://USER@HOST:PORT/DB[?sslmode=verify-full]` (password from PGPASSWORD or
    /// ~/.pgpass, never in the URL). Default: the config file's `store` (relative to the
    /// config file), else `cloudcensus.db` in the current directory.
    #[arg(long, value_name = "PATH|URL", env = "CLOUDCENSUS_STORE")]
    pub store: Option<PathBuf>,
}

impl StoreArgs {
    /// The store location for this command (see the module docs), loading the
    /// configuration file when `--store` / `CLOUDCENSUS_STORE` do not say.
    pub fn location(&self, cli: &Cli) -> Result<PathBuf> {
        if let Some(p) = &self.store {
            return Ok(p.clone());
        }
        let config = config_if_any(cli)?;
        Ok(resolve(None, config.as_ref()))
    }

    /// Opens an existing store (never creates one).
    pub fn open(&self, cli: &Cli) -> Result<Box<dyn Store>> {
        Ok(store::open(&self.location(cli)?)?)
    }

    /// Opens the store, creating it when missing (commands that write a scan).
    pub fn open_or_create(&self, cli: &Cli) -> Result<Box<dyn Store>> {
        Ok(store::open_or_create(&self.location(cli)?)?)
    }
}

/// The one rule: the explicit location (`--store` or `CLOUDCENSUS_STORE`), else the
/// configuration's `store` (already relative to the config file), else `cloudcensus.db`.
pub fn resolve(explicit: Option<&Path>, config: Option<&Config>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| config.map(|c| c.store.clone()))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE))
}

/// The configuration named by `--config` / `CLOUDCENSUS_CONFIG` (an error when it does
/// not load), else `./cloudcensus.toml` when it exists, else none.
fn config_if_any(cli: &Cli) -> Result<Option<Config>> {
    let path = match &cli.config {
        Some(p) => p.clone(),
        None if Path::new(DEFAULT_PATH).exists() => PathBuf::from(DEFAULT_PATH),
        None => return Ok(None),
    };
    Ok(Some(Config::load(&path)?))
}
