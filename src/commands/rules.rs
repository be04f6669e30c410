//! `cloudcensus rules`: the codes of a rule pack with severity, clause and explanation.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{Cli, RulesArgs, RulesFormat};
use crate::output::{Tabular, write_rows};
use crate::rules::{Lang, RulePack};

#[derive(Debug, Serialize)]
struct RuleRow {
    code: String,
    severity: String,
    clause: String,
    title: String,
    explanation: String,
    action: String,
    /// The templates of its finding messages, by key.
    messages: std::collections::BTreeMap<String, String>,
}

impl Tabular for RuleRow {
    fn headers() -> &'static [&'static str] {
        &["code", "severity", "clause", "title"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.code.clone(),
            self.severity.clone(),
            self.clause.clone(),
            self.title.clone(),
        ]
    }
}

/// Runs the command.
pub fn run(_cli: &Cli, args: &RulesArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let pack = RulePack::builtin(&args.pack)?;
    let lang = args.lang;
    let rows: Vec<RuleRow> = pack
        .rules
        .iter()
        .map(|r| RuleRow {
            code: r.code.clone(),
            severity: r.severity.to_string(),
            clause: r.clause.clone(),
            title: r.title(lang).to_string(),
            explanation: r.explanation(lang).to_string(),
            action: r.action(lang).to_string(),
            messages: r
                .messages
                .iter()
                .map(|(k, m)| (k.clone(), m.text(lang).to_string()))
                .collect(),
        })
        .collect();
    match args.format {
        RulesFormat::Table => write_rows(out, crate::output::OutputFormat::Table, &rows)?,
        RulesFormat::Json => write_rows(out, crate::output::OutputFormat::Json, &rows)?,
        RulesFormat::Markdown => {
            writeln!(out, "# {} ({})\n", pack.title, pack.name)?;
            writeln!(out, "Source: {}\n", pack.source)?;
            for r in &rows {
                writeln!(out, "## {} — {}\n", r.code, r.title)?;
                writeln!(out, "* severity: **{}**", r.severity)?;
                writeln!(out, "* clause: {}\n", r.clause)?;
                writeln!(out, "{}\n", r.explanation)?;
                let label = if lang == Lang::Nl { "Actie" } else { "Action" };
                writeln!(out, "**{label}:** {}\n", r.action)?;
                let heading = if lang == Lang::Nl {
                    "Meldingen"
                } else {
                    "Messages"
                };
                writeln!(out, "**{heading}:**\n")?;
                for (key, text) in &r.messages {
                    writeln!(out, "* `{key}`: {text}")?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
