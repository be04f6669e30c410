//! Report templates: sheets, columns, headers (nl/en), widths and formats as data.

use serde::Deserialize;

use crate::rules::Lang;

/// The built-in templates, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[(
    "cio-rijk",
    include_str!("../../report-templates/cio-rijk.toml"),
)];

/// A report template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Template name.
    pub name: String,
    /// Dutch document title.
    pub title_nl: String,
    /// English document title.
    pub title_en: String,
    /// Sheets in order.
    #[serde(rename = "sheet")]
    pub sheets: Vec<SheetSpec>,
}

/// One sheet of a template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetSpec {
    /// Which data this sheet shows (see `sheets::KEYS`).
    pub key: String,
    /// Dutch sheet name (≤ 31 characters).
    pub name_nl: String,
    /// English sheet name (≤ 31 characters).
    pub name_en: String,
    /// Lines of text every row is tall enough for (default 1, at most 20). A row whose
    /// wrapped text needs more gets its own height; one that needs fewer keeps this.
    /// Long sheets should set what most of their rows need: the workbook writer keeps
    /// every row with a height of its own in memory until it saves.
    #[serde(default = "default_row_lines")]
    pub row_lines: usize,
    /// Columns in order.
    pub columns: Vec<ColumnSpec>,
}

/// One column of a sheet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Which value (see the sheet's column keys).
    pub key: String,
    /// Dutch header.
    pub header_nl: String,
    /// English header.
    pub header_en: String,
    /// Width in characters.
    #[serde(default = "default_width")]
    pub width: f64,
    /// `text`, `int`, `date`, `datetime` or `percent`.
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_row_lines() -> usize {
    1
}

fn default_width() -> f64 {
    16.0
}

fn default_format() -> String {
    "text".into()
}

impl Template {
    /// Title in `lang`.
    pub fn title(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.title_nl,
            Lang::En => &self.title_en,
        }
    }

    /// Loads a built-in template by name, or a template file when `name` ends in `.toml`.
    pub fn load(name: &str) -> Result<Template, String> {
        let (label, text) =
            if name.ends_with(".toml") {
                let text = std::fs::read_to_string(name)
                    .map_err(|e| format!("cannot read template {name}: {e}"))?;
                (name.to_string(), text)
            } else {
                let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                format!(
                    "unknown template '{name}': built-in templates are {}; or pass a .toml file",
                    BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            })?;
                (name.to_string(), text.to_string())
            };
        let t: Template = toml::from_str(&text).map_err(|e| format!("template {label}: {e}"))?;
        t.validate(&label)?;
        Ok(t)
    }

    /// Checks sheet keys, column keys, formats and sheet-name lengths; lists every problem.
    pub fn validate(&self, label: &str) -> Result<(), String> {
        let mut problems = Vec::new();
        for s in &self.sheets {
            let Some(keys) = super::sheets::columns(&s.key) else {
                problems.push(format!(
                    "sheet '{}': unknown key; valid sheet keys: {}",
                    s.key,
                    super::sheets::KEYS.join(", ")
                ));
                continue;
            };
            for name in [&s.name_nl, &s.name_en] {
                if name.chars().count() > 31 || name.contains(['[', ']', ':', '*', '?', '/', '\\'])
                {
                    problems.push(format!(
                        "sheet '{}': name '{name}' is not a valid Excel sheet name (≤ 31 characters, none of []:*?/\\)",
                        s.key
                    ));
                }
            }
            if !(1..=20).contains(&s.row_lines) {
                problems.push(format!(
                    "sheet '{}': row_lines = {} must be between 1 and 20",
                    s.key, s.row_lines
                ));
            }
            for c in &s.columns {
                if !keys.contains(&c.key.as_str()) {
                    problems.push(format!(
                        "sheet '{}' column '{}': unknown key; valid keys: {}",
                        s.key,
                        c.key,
                        keys.join(", ")
                    ));
                }
                if !["text", "int", "date", "datetime", "percent"].contains(&c.format.as_str()) {
                    problems.push(format!(
                        "sheet '{}' column '{}': format '{}' must be text, int, date, datetime or percent",
                        s.key, c.key, c.format
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "template {label} is invalid:\n{}",
                problems.join("\n")
            ))
        }
    }
}

impl SheetSpec {
    /// Sheet name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.name_nl,
            Lang::En => &self.name_en,
        }
    }
}

impl ColumnSpec {
    /// Header in `lang`.
    pub fn header(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.header_nl,
            Lang::En => &self.header_en,
        }
    }
}
