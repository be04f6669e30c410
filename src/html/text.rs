//! The page's texts in Dutch and English (`text.toml`), embedded at build time.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::rules::Lang;

const TEXT_TOML: &str = include_str!("text.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pair {
    nl: String,
    en: String,
}

fn table() -> &'static BTreeMap<String, Pair> {
    static TABLE: OnceLock<BTreeMap<String, Pair>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // A test parses the file; a broken file cannot reach a release.
        toml::from_str(TEXT_TOML).expect("src/html/text.toml is valid")
    })
}

/// The texts in one language.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    lang: Lang,
}

impl Texts {
    /// The built-in texts in `lang`.
    pub fn builtin(lang: Lang) -> Texts {
        Texts { lang }
    }

    /// The text of `key`; a visible marker when there is none (a test makes sure every
    /// key the page uses exists).
    pub fn get(&self, key: &str) -> &'static str {
        match table().get(key) {
            Some(p) => match self.lang {
                Lang::Nl => &p.nl,
                Lang::En => &p.en,
            },
            None => "[missing text]",
        }
    }

    /// Every key with its text, for the page's script.
    pub fn all(&self) -> BTreeMap<&'static str, &'static str> {
        table()
            .iter()
            .map(|(k, p)| {
                (
                    k.as_str(),
                    match self.lang {
                        Lang::Nl => p.nl.as_str(),
                        Lang::En => p.en.as_str(),
                    },
                )
            })
            .collect()
    }

    /// Every key (for the tests).
    pub fn keys() -> impl Iterator<Item = &'static str> {
        table().keys().map(String::as_str)
    }

    /// Keys whose Dutch or English text is blank (for the tests).
    pub fn blank() -> Vec<&'static str> {
        table()
            .iter()
            .filter(|(_, p)| p.nl.trim().is_empty() || p.en.trim().is_empty())
            .map(|(k, _)| k.as_str())
            .collect()
    }
}
