//! One CSV per sheet: UTF-8 with BOM (so Excel opens it correctly), `,` or `;`, cells that
//! a spreadsheet would evaluate neutralised.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::ReportData;
use super::cells::{Cell, csv_safe};
use super::template::SheetSpec;

/// Writes one sheet as CSV to `path`.
pub fn write(d: &ReportData<'_>, sheet: &SheetSpec, delimiter: u8, path: &Path) -> Result<()> {
    let lang = d.ctx.lang;
    let proj = super::xlsx::projection(sheet)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    file.write_all("\u{FEFF}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(file);
    w.write_record(sheet.columns.iter().map(|c| csv_safe(c.header(lang))))?;
    super::sheets::produce(d, &sheet.key, &mut |cells| {
        let rec: Vec<String> = proj
            .iter()
            .map(|&i| match &cells[i] {
                Cell::Text(s) => csv_safe(s),
                other => other.to_plain(),
            })
            .collect();
        w.write_record(&rec)?;
        Ok(())
    })?;
    let file = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    file.into_inner()
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .sync_all()?;
    Ok(())
}
