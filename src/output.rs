//! Output formats for list-like command output: aligned table, CSV, JSON.
//!
//! A command builds rows of a type that is both [`Tabular`] (for table and CSV) and
//! `Serialize` (for JSON), and hands them to [`write_rows`]. Adding a format is one arm
//! here, not a change in every command.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;
use serde::Serialize;

/// How a command prints its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for a terminal.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// A row that can be printed as table or CSV.
pub trait Tabular {
    /// Column headers.
    fn headers() -> &'static [&'static str];
    /// The cells of this row, in header order.
    fn cells(&self) -> Vec<String>;
}

/// Writes `rows` in `format` to `out`.
pub fn write_rows<T: Tabular + Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    rows: &[T],
) -> Result<()> {
    match format {
        OutputFormat::Table => write_table(out, T::headers(), rows.iter().map(T::cells)),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(T::headers())?;
            // Cells may carry tag values from the cloud: neutralise formula prefixes and
            // control characters (OWASP CSV injection), as the report's CSVs do.
            for r in rows {
                w.write_record(r.cells().iter().map(|c| crate::report::cells::csv_safe(c)))?;
            }
            w.flush()?;
            Ok(())
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
            Ok(())
        }
    }
}

/// Writes an aligned table with an upper-case header line.
pub fn write_table(
    out: &mut dyn Write,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<()> {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = String>| -> String {
        let parts: Vec<String> = cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    writeln!(
        out,
        "{}",
        line(&mut headers.iter().map(|h| h.to_uppercase()))
    )?;
    for r in rows {
        writeln!(out, "{}", line(&mut r.into_iter()))?;
    }
    Ok(())
}

/// The coverage line and one visibility sentence per provider, for command footers: a
/// coverage percentage is never printed without what the listings could see.
pub fn coverage_footer(coverage: &[cloudcensus_core::Coverage], nl: bool) -> Vec<String> {
    let gaps = coverage.iter().filter(|c| c.status.is_gap()).count();
    let mut lines = vec![if nl {
        format!(
            "dekking: {:.1}% ({} van {} onderdelen zonder gat); zichtbaarheid:",
            cloudcensus_core::coverage_percent(coverage),
            coverage.len() - gaps,
            coverage.len()
        )
    } else {
        format!(
            "coverage: {:.1}% ({} of {} entries without a gap); visibility:",
            cloudcensus_core::coverage_percent(coverage),
            coverage.len() - gaps,
            coverage.len()
        )
    }];
    lines.extend(
        cloudcensus_core::visibility::visibility_lines(coverage, nl)
            .into_iter()
            .map(|l| format!("  {l}")),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        a: String,
        b: u32,
    }

    impl Tabular for Row {
        fn headers() -> &'static [&'static str] {
            &["a", "b"]
        }
        fn cells(&self) -> Vec<String> {
            vec![self.a.clone(), self.b.to_string()]
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                a: "long value".into(),
                b: 1,
            },
            Row {
                a: "x".into(),
                b: 22,
            },
        ]
    }

    #[test]
    fn table_aligns_columns() {
        let mut buf = Vec::new();
        write_rows(&mut buf, OutputFormat::Table, &rows()).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(s, "A           B\nlong value  1\nx           22\n");
    }

    #[test]
    fn csv_quotes_cells_with_commas() {
        let mut buf = Vec::new();
        let r = vec![Row {
            a: "a,b".into(),
            b: 3,
        }];
        write_rows(&mut buf, OutputFormat::Csv, &r).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "a,b\n\"a,b\",3\n");
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let mut buf = Vec::new();
        write_rows(&mut buf, OutputFormat::Json, &rows()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[1]["b"], 22);
    }
}
