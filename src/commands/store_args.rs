//! The `--store PATH` option shared by every command that reads or writes the scan store.

use std::path::PathBuf;

use anyhow::Result;

use crate::store::{self, DEFAULT_STORE, Store};

/// Where the scan store is.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The scan store (SQLite file). The config file's `store` setting will default it;
    /// until then the default is `cloudcensus.db` in the current directory.
    #[arg(long, value_name = "PATH", env = "CLOUDCENSUS_STORE", default_value = DEFAULT_STORE)]
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
