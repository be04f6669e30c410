//! The `--store PATH` option shared by every command that reads or writes the scan store.

use std::path::PathBuf;

use anyhow::Result;

use crate::store::{self, DEFAULT_STORE, Store};

/// Where the scan store is.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The scan store: a SQLite file, or a PostgreSQL database
    /// `postgresql://USER@HOST:PORT/DB[?sslmode=verify-full]` (password from PGPASSWORD or
    /// ~/.pgpass, never in the URL). The default is `cloudcensus.db` in the current directory.
    #[arg(long, value_name = "PATH|URL", env = "CLOUDCENSUS_STORE", default_value = DEFAULT_STORE)]
    pub store: PathBuf,
}

impl StoreArgs {
    /// Opens an existing store (never creates one).
    pub fn open(&self) -> Result<Box<dyn Store>> {
        Ok(store::open(&self.store)?)
    }

    /// Opens the store, creating it when missing (commands that write a scan).
    pub fn open_or_create(&self) -> Result<Box<dyn Store>> {
        Ok(store::open_or_create(&self.store)?)
    }
}
