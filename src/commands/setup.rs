//! What the evaluating commands (`findings`, `unregistered`, `report`) share: the config
//! file, the register it names, the catalog, the rule pack, and the store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use cloudcensus_core::Catalog;

use crate::cli::{Cli, load_catalog};
use crate::commands::store_args::{self, StoreArgs};
use crate::config::{Config, DEFAULT_PATH};
use crate::register::{self, Register};
use crate::rules::{Context, Lang, RulePack, SeenRange};
use crate::store::{self, Store};

/// Config, register, catalog and rule pack, loaded once per command.
pub struct Setup {
    /// The configuration.
    pub config: Config,
    /// The register of processing activities.
    pub register: Register,
    /// The location catalog (with the config's or `--catalog` override).
    pub catalog: Catalog,
    /// The rule pack.
    pub pack: RulePack,
}

impl Setup {
    /// Loads `--config` (default `./cloudcensus.toml`) and everything it names.
    pub fn load(cli: &Cli) -> Result<Setup> {
        let path = cli
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
        let config = Config::load(&path)?;
        Setup::from_config(config, &path, cli.catalog.as_deref())
    }

    /// Loads what an already read `config` (from `path`) names: its register, the catalog
    /// (`catalog_override`, else the config's `catalog`) and the rule pack.
    pub fn from_config(
        config: Config,
        path: &Path,
        catalog_override: Option<&Path>,
    ) -> Result<Setup> {
        let Some(reg_path) = config.register.clone() else {
            bail!(
                "{} has no `register = \"...\"`: name the register of processing activities (xlsx or csv)",
                path.display()
            );
        };
        let loaded = register::load_source(&reg_path, &config.register_source())
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("cannot load the register {}", reg_path.display()))?;
        for w in &loaded.warnings {
            // The rules turn register warnings into findings; show them with -v.
            tracing::info!("{w}");
        }
        let catalog_path = catalog_override
            .map(Path::to_path_buf)
            .or_else(|| config.catalog.clone());
        let catalog = load_catalog(catalog_path.as_deref())?;
        let pack = RulePack::builtin(&config.rule_pack)?;
        Ok(Setup {
            config,
            register: loaded.register,
            catalog,
            pack,
        })
    }

    /// The evaluation context in `lang` (default: the config's language).
    pub fn context(&self, lang: Option<Lang>) -> Context<'_> {
        Context {
            organisation: &self.config.organisation,
            register: &self.register,
            catalog: &self.catalog,
            pack: &self.pack,
            rules: &self.config.rules,
            matching: &self.config.matching,
            lang: lang.unwrap_or(self.config.lang),
        }
    }

    /// Opens the store: `--store` / `CLOUDCENSUS_STORE` if given, else the config's
    /// `store` ([`store_args::resolve`]).
    pub fn open_store(&self, args: &StoreArgs) -> Result<Box<dyn Store>> {
        Ok(store::open(&store_args::resolve(
            args.store.as_deref(),
            Some(&self.config),
        ))?)
    }
}

/// First and last seen per resource id over the whole store.
pub fn seen_map(store: &dyn Store) -> Result<BTreeMap<String, SeenRange>> {
    Ok(store
        .resource_history()?
        .into_iter()
        .map(|h| {
            (
                h.resource_id,
                SeenRange {
                    first: h.first_seen.date_naive(),
                    last: h.last_seen.date_naive(),
                },
            )
        })
        .collect())
}
