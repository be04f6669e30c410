//! From a [`Grid`] of cells to a validated [`Register`], collecting every problem.
//!
//! The validator never stops at the first mistake: a ministry gets the whole list of what
//! to fix in one run (missing columns, duplicate ids, bad dates, unknown values, scopes
//! claimed twice, empty rows in the middle, ids that cannot be a Google label). Gaps that
//! are not format errors (personal data without a pre-scan DPIA date) are warnings: the
//! register loads and the rules turn them into findings.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::columns::{COLUMNS, Field, column, fold, match_header_ranked};
use super::model::{
    Activity, ActivityStatus, Fact, LegalBasis, Register, SpecialCategory, YesNoNa, normalise_id,
};
use super::problem::{ColumnRef, Problem, Severity, column_letter};
use super::read::{Cell, Grid, Row};
use super::scope::ScopeMapping;
use super::values::{
    CellValue, is_none_marker, is_unknown_marker, is_workflow_state, parse_basisregistratie,
    parse_date, parse_legal_bases, parse_yes_no, split_code_list, split_text_list,
};

/// The longest id that still fits a Google Cloud label value.
pub const MAX_ID_LEN: usize = 63;

/// What validation produced: the register (meaningful only without errors), the errors and
/// the warnings.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The parsed register.
    pub register: Register,
    /// Errors: loading fails when there is any.
    pub errors: Vec<Problem>,
    /// Warnings: loading succeeds.
    pub warnings: Vec<Problem>,
    /// The fields the file has a column for (the annex fills only these).
    pub fields: Vec<Field>,
}

/// A register's own column names for fields (`[register_columns]` in the configuration):
/// header as written → field. They win over the built-in names.
pub type ColumnMapping = BTreeMap<String, Field>;

/// How to read a grid.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The register's own column names.
    pub columns: ColumnMapping,
    /// The grid is a cloud annex: only the id is required, and the register's own facts
    /// (personal data, bases) are not expected in it.
    pub annex: bool,
}

struct Sink<'a> {
    file: &'a str,
    sheet: Option<&'a str>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Sink<'_> {
    fn push(
        &mut self,
        severity: Severity,
        row: Option<usize>,
        column: Option<ColumnRef>,
        value: Option<String>,
        message: impl Into<String>,
    ) {
        let p = Problem {
            severity,
            file: self.file.to_string(),
            sheet: self.sheet.map(str::to_string),
            row,
            column,
            value: value.filter(|v| !v.is_empty()),
            message: message.into(),
        };
        match severity {
            Severity::Error => self.errors.push(p),
            Severity::Warning => self.warnings.push(p),
        }
    }
}

/// Where each field's column is: index and header as written.
type Layout = BTreeMap<Field, (usize, String)>;

/// Validates `grid` read from `file`.
pub fn validate(grid: &Grid, file: &str) -> Outcome {
    validate_with(grid, file, &Options::default())
}

/// [`validate`] with options (own column names, annex mode).
pub fn validate_with(grid: &Grid, file: &str, opts: &Options) -> Outcome {
    let mut sink = Sink {
        file,
        sheet: grid.sheet.as_deref(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut register = Register {
        source: file.to_string(),
        activities: Vec::new(),
    };
    let Some(header_at) = find_header(grid) else {
        sink.push(
            Severity::Error,
            None,
            None,
            None,
            "the register is empty: expected a header row with at least 'Nummer verwerking' \
             (run `cloudcensus register template` for a blank register)",
        );
        return finish(register, sink);
    };
    let header = &grid.rows[header_at];
    let layout = read_header(header, opts, &mut sink);
    let workflow_status = status_is_workflow(grid, header_at, &layout);
    if workflow_status {
        sink.push(
            Severity::Warning,
            Some(header.number),
            Some(colref_of(&layout, Field::Status)),
            None,
            "this Status column holds a workflow state (Vastgesteld, InBewerking, ...), not the \
             lifecycle (gepland / in gebruik / beëindigd): it is not read as the lifecycle; \
             records in state Vervallen are skipped",
        );
    }
    let categories_in_pd = personal_data_holds_categories(grid, header_at, &layout);
    if categories_in_pd {
        sink.push(
            Severity::Warning,
            Some(header.number),
            Some(colref_of(&layout, Field::PersonalData)),
            None,
            "this Persoonsgegevens column names categories of data, not ja/nee: it is read as \
             the categories, and every activity with categories processes personal data",
        );
    }
    if !opts.annex && !layout.contains_key(&Field::PersonalData) {
        sink.push(
            Severity::Warning,
            Some(header.number),
            None,
            None,
            "no personal-data column: this is read as an art. 30 register, so every activity \
             processes personal data (add 'Persoonsgegevens' with ja/nee to say otherwise)",
        );
    }

    let data = &grid.rows[header_at + 1..];
    let last = data.iter().rposition(|r| !r.is_blank());
    let data = match last {
        Some(l) => &data[..=l],
        None => &data[..0],
    };
    for row in data {
        if row.is_blank() {
            sink.push(
                Severity::Error,
                Some(row.number),
                None,
                None,
                "empty row between activities; delete it (rows after it would otherwise look \
                 like a separate table)",
            );
            continue;
        }
        // Values right of the header's last column would be dropped without a word: in a
        // `;`-separated file that is nearly always a `;` inside a value without quotes.
        let width = header
            .cells
            .iter()
            .rposition(|c| !c.is_blank())
            .map_or(0, |i| i + 1);
        if let Some(extra) = row.cells.iter().skip(width).position(|c| !c.is_blank()) {
            let i = width + extra;
            sink.push(
                Severity::Error,
                Some(row.number),
                Some(ColumnRef {
                    header: "(no header)".into(),
                    letter: Some(column_letter(i)),
                }),
                Some(row.cells[i].text()),
                format!(
                    "a value right of the last header column ({}): the row has more cells than the \
                     header; a value that holds the separator needs quotes (\"a; b\")",
                    column_letter(width.saturating_sub(1))
                ),
            );
            continue;
        }
        let mut rc = RowCtx {
            row,
            layout: &layout,
            sink: &mut sink,
            workflow_status,
            categories_in_pd,
        };
        if workflow_status && fold(&rc.text(Field::Status)) == "vervallen" {
            let id = rc.text(Field::Id);
            rc.problem(
                Severity::Warning,
                Field::Status,
                Some("Vervallen".into()),
                format!("activity {id} is Vervallen (withdrawn) and is skipped"),
            );
            continue;
        }
        let a = rc.activity();
        // An annex row holds only cloud facts: the register's own checks run on the register.
        if !opts.annex {
            rc.row_checks(&a);
        }
        register.activities.push(a);
    }

    if register.activities.is_empty() && sink.errors.is_empty() {
        sink.push(
            Severity::Warning,
            None,
            None,
            None,
            "the register has no activities",
        );
    }
    cross_checks(&register, &layout, &mut sink);
    let mut out = finish(register, sink);
    out.fields = layout.keys().copied().collect();
    out
}

fn colref_of(layout: &Layout, field: Field) -> ColumnRef {
    match layout.get(&field) {
        Some((i, h)) => ColumnRef {
            header: h.clone(),
            letter: Some(column_letter(*i)),
        },
        None => ColumnRef {
            header: column(field).header.to_string(),
            letter: None,
        },
    }
}

/// The non-blank cells of one column below the header.
fn column_values(grid: &Grid, header_at: usize, layout: &Layout, field: Field) -> Vec<String> {
    let Some((i, _)) = layout.get(&field) else {
        return Vec::new();
    };
    grid.rows[header_at + 1..]
        .iter()
        .map(|r| r.cell(*i).text())
        .filter(|t| !t.trim().is_empty())
        .collect()
}

/// Whether the `Status` column holds workflow states rather than the lifecycle.
fn status_is_workflow(grid: &Grid, header_at: usize, layout: &Layout) -> bool {
    let v = column_values(grid, header_at, layout, Field::Status);
    !v.is_empty() && v.iter().all(|t| is_workflow_state(t))
}

/// Whether the personal-data column holds categories of data rather than ja/nee.
fn personal_data_holds_categories(grid: &Grid, header_at: usize, layout: &Layout) -> bool {
    let v = column_values(grid, header_at, layout, Field::PersonalData);
    let not_yes_no = v
        .iter()
        .filter(|t| parse_yes_no(t).is_err() && !is_unknown_marker(t) && !is_none_marker(t))
        .count();
    not_yes_no > 0 && not_yes_no * 2 >= v.len()
}

fn finish(register: Register, mut sink: Sink<'_>) -> Outcome {
    // File order: by row, then column (file-level problems first).
    let key = |p: &Problem| {
        let letter = p
            .column
            .as_ref()
            .and_then(|c| c.letter.clone())
            .unwrap_or_default();
        (p.row.unwrap_or(0), letter.len(), letter)
    };
    sink.errors.sort_by_key(key);
    sink.warnings.sort_by_key(key);
    Outcome {
        register,
        errors: sink.errors,
        warnings: sink.warnings,
        fields: Vec::new(),
    }
}

/// The header row: the first of the first 20 non-blank rows that names the id column
/// (so a title above the table is allowed), else the first non-blank row.
fn find_header(grid: &Grid) -> Option<usize> {
    let id = column(Field::Id);
    let candidates: Vec<usize> = grid
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_blank())
        .map(|(i, _)| i)
        .take(20)
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&i| {
            grid.rows[i]
                .cells
                .iter()
                .any(|c| matches!(c, Cell::Text(t) if id.matches(t)))
        })
        .or_else(|| candidates.first().copied())
}

fn read_header(header: &Row, opts: &Options, sink: &mut Sink<'_>) -> Layout {
    let mapping = &opts.columns;
    let mut layout = Layout::new();
    let mut ranks: BTreeMap<Field, usize> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mapped: BTreeMap<String, Field> = mapping.iter().map(|(h, f)| (fold(h), *f)).collect();
    let mut mapped_seen: Vec<String> = Vec::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        let here = ColumnRef {
            header: text.clone(),
            letter: Some(column_letter(i)),
        };
        let found = match mapped.get(&fold(&text)) {
            Some(f) => {
                mapped_seen.push(fold(&text));
                Some((*f, 0usize))
            }
            None => match_header_ranked(&text).map(|(c, r)| {
                // A plain `Grondslag` beside `Rechtmatige grondslag` is the specific law.
                let r = if c.field == Field::LegalBasis && r == 0 {
                    100
                } else {
                    r
                };
                (c.field, r + 1)
            }),
        };
        let Some((field, rank)) = found else {
            unknown.push(format!("{} '{}'", column_letter(i), text));
            continue;
        };
        match layout.get(&field).cloned() {
            None => {
                layout.insert(field, (i, text));
                ranks.insert(field, rank);
            }
            // Two columns both named by the format's own header or English alias (or the
            // same custom name) are ambiguous; a looser name yields to a better one.
            Some((prev, prev_text))
                if ranks.get(&field) == Some(&rank) || (rank <= 2 && ranks[&field] <= 2) =>
            {
                sink.push(
                    Severity::Error,
                    Some(header.number),
                    Some(here),
                    None,
                    format!(
                        "column '{}' appears twice (also column {} '{prev_text}'); keep one",
                        column(field).header,
                        column_letter(prev)
                    ),
                );
            }
            Some((prev, prev_text)) => {
                let (win, lose, lose_text) = if rank < ranks[&field] {
                    ((i, text.clone()), prev, prev_text)
                } else {
                    ((prev, prev_text), i, text.clone())
                };
                if rank < ranks[&field] {
                    ranks.insert(field, rank);
                }
                layout.insert(field, win.clone());
                if field == Field::LegalBasis && !layout.contains_key(&Field::LegalBasisNote) {
                    layout.insert(Field::LegalBasisNote, (lose, lose_text));
                } else {
                    sink.push(
                        Severity::Warning,
                        Some(header.number),
                        Some(ColumnRef {
                            header: lose_text.clone(),
                            letter: Some(column_letter(lose)),
                        }),
                        None,
                        format!(
                            "columns '{}' and '{lose_text}' both name '{}'; '{}' (column {}) is used, \
                             '{lose_text}' is ignored (map it in [register_columns] to say otherwise)",
                            win.1,
                            column(field).header,
                            win.1,
                            column_letter(win.0)
                        ),
                    );
                }
            }
        }
    }
    for (h, f) in mapping {
        if !mapped_seen.contains(&fold(h)) {
            sink.push(
                Severity::Warning,
                Some(header.number),
                None,
                None,
                format!(
                    "[register_columns] maps '{h}' to {} but the header row has no such column",
                    f.key()
                ),
            );
        }
    }
    if !unknown.is_empty() {
        sink.push(
            Severity::Warning,
            Some(header.number),
            None,
            None,
            format!(
                "columns not part of the register format are ignored: {} (map them in \
                 [register_columns] if they hold one of its fields)",
                unknown.join(", ")
            ),
        );
    }
    let mut optional_missing = Vec::new();
    for col in COLUMNS.iter().filter(|c| !layout.contains_key(&c.field)) {
        let required = col.required && (!opts.annex || col.field == Field::Id);
        if required {
            sink.push(
                Severity::Error,
                Some(header.number),
                Some(ColumnRef {
                    header: col.header.to_string(),
                    letter: None,
                }),
                None,
                format!(
                    "required column '{}' (English: '{}') is missing; add it to the header row \
                     or name your column for it in [register_columns] (\"Your header\" = \"{}\")",
                    col.header,
                    col.alias,
                    col.field.key()
                ),
            );
        } else {
            optional_missing.push(col.header);
        }
    }
    if !optional_missing.is_empty() && !opts.annex {
        sink.push(
            Severity::Warning,
            Some(header.number),
            None,
            None,
            format!(
                "optional columns missing, their values count as empty: {}",
                optional_missing.join(", ")
            ),
        );
    }
    layout
}

struct RowCtx<'a, 'b> {
    row: &'a Row,
    layout: &'a Layout,
    sink: &'a mut Sink<'b>,
    /// The Status column is a workflow state: not read as the lifecycle.
    workflow_status: bool,
    /// The personal-data column names categories of data.
    categories_in_pd: bool,
}

impl RowCtx<'_, '_> {
    fn colref(&self, field: Field) -> ColumnRef {
        match self.layout.get(&field) {
            Some((i, h)) => ColumnRef {
                header: h.clone(),
                letter: Some(column_letter(*i)),
            },
            None => ColumnRef {
                header: column(field).header.to_string(),
                letter: None,
            },
        }
    }

    fn problem(
        &mut self,
        sev: Severity,
        field: Field,
        value: Option<String>,
        msg: impl Into<String>,
    ) {
        let col = self.colref(field);
        self.sink
            .push(sev, Some(self.row.number), Some(col), value, msg);
    }

    fn error(&mut self, field: Field, value: &str, msg: impl Into<String>) {
        self.problem(Severity::Error, field, Some(value.to_string()), msg);
    }

    /// A warning, unless the cell already has an error (one message per mistake).
    fn warn(&mut self, field: Field, msg: impl Into<String>) {
        if !self.has_error_in(field) {
            self.problem(Severity::Warning, field, None, msg);
        }
    }

    /// The cell of a field; an Excel error value is reported and read as empty.
    fn cell(&mut self, field: Field) -> Cell {
        let Some((i, _)) = self.layout.get(&field) else {
            return Cell::Empty;
        };
        match self.row.cell(*i).clone() {
            Cell::Error(e) => {
                self.error(
                    field,
                    &e,
                    "the cell holds an Excel error value; fix the formula or type the value",
                );
                Cell::Empty
            }
            c => c,
        }
    }

    fn text(&mut self, field: Field) -> String {
        self.cell(field).text()
    }

    fn required_text(&mut self, field: Field) -> String {
        let t = self.text(field);
        if t.is_empty() && self.layout.contains_key(&field) {
            self.error(
                field,
                "",
                format!("'{}' is required; fill it in", column(field).header),
            );
        }
        t
    }

    /// Free text where `-`, `geen`, `n.v.t.` mean empty.
    fn optional_text(&mut self, field: Field) -> String {
        let t = self.text(field);
        if is_none_marker(&t) { String::new() } else { t }
    }

    fn yes_no(&mut self, field: Field) -> Option<bool> {
        match self.cell(field) {
            Cell::Bool(b) => Some(b),
            c if c.is_blank() => None,
            c => {
                let t = c.text();
                if is_unknown_marker(&t) {
                    return None;
                }
                match parse_yes_no(&t) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        self.error(field, &t, e);
                        None
                    }
                }
            }
        }
    }

    fn choice<T: CellValue>(&mut self, field: Field) -> Option<T> {
        let c = self.cell(field);
        if c.is_blank() {
            return None;
        }
        let t = c.text();
        if is_unknown_marker(&t) {
            return None;
        }
        match T::parse_cell(&t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(field, &t, e);
                None
            }
        }
    }

    fn date(&mut self, field: Field) -> Option<NaiveDate> {
        match self.cell(field) {
            Cell::Date(d) => Some(d),
            c if c.is_blank() => None,
            Cell::Number(n) => {
                self.error(
                    field,
                    &Cell::Number(n).text(),
                    "a number, not a date; format the cell as a date or write jjjj-mm-dd",
                );
                None
            }
            c => {
                let t = c.text();
                match parse_date(&t) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        self.error(field, &t, e);
                        None
                    }
                }
            }
        }
    }

    fn activity(&mut self) -> Activity {
        use Field as F;
        let id = self.required_text(F::Id);
        if !id.is_empty() {
            self.check_id(&id);
        }
        let name = self.required_text(F::Name);
        let unit = self.text(F::Unit);
        let controller = self.text(F::Controller);
        let purpose = self.text(F::Purpose);
        let mut unfilled: Vec<Fact> = Vec::new();
        let (legal_bases, mut legal_basis_note) = self.legal_bases();
        if legal_bases.is_empty() {
            unfilled.push(Fact::LegalBasis);
        }
        let note = self.optional_text(F::LegalBasisNote);
        if !note.is_empty() {
            legal_basis_note = if legal_basis_note.is_empty() {
                note
            } else {
                format!("{note}; {legal_basis_note}")
            };
        }
        let mut data_categories = self.text_list(F::DataCategories);
        // Fail safe: an art. 30 register (no column), a blank or `unknown` cell all mean
        // personal data.
        let personal_data = if self.categories_in_pd {
            let t = self.text(F::PersonalData);
            match parse_yes_no(&t) {
                Ok(b) => b,
                Err(_) if is_none_marker(&t) => false,
                Err(_) if t.trim().is_empty() || is_unknown_marker(&t) => {
                    unfilled.push(Fact::PersonalData);
                    true
                }
                Err(_) => {
                    for c in split_text_list(&t) {
                        if !data_categories.contains(&c) {
                            data_categories.push(c);
                        }
                    }
                    true
                }
            }
        } else {
            match self.yes_no(F::PersonalData) {
                Some(b) => b,
                None => {
                    // No column at all: an art. 30 register, personal data by definition.
                    if self.layout.contains_key(&F::PersonalData)
                        && !self.has_error_in(F::PersonalData)
                    {
                        unfilled.push(Fact::PersonalData);
                    }
                    true
                }
            }
        };
        let special_categories = self.special_categories();
        let criminal_or_bsn = self.yes_no(F::CriminalOrBsn).unwrap_or(false);
        let basisregistraties = self.basisregistraties();
        let classification = self.choice(F::Classification);
        if classification.is_none() && !self.has_error_in(F::Classification) {
            unfilled.push(Fact::Classification);
        }
        // Fail safe: an unknown material-use fact counts as material.
        let material = match self.yes_no(F::Material) {
            Some(b) => b,
            None => {
                if !self.has_error_in(F::Material) {
                    unfilled.push(Fact::Material);
                }
                true
            }
        };
        let material_reason = self.text(F::MaterialReason);
        // A blank is "not filled in"; only `geen`, `-`, `n.v.t.` mean none.
        for (field, fact) in [
            (F::Providers, Fact::Providers),
            (F::SubProcessors, Fact::SubProcessors),
            (F::ServiceModel, Fact::ServiceModel),
            (F::CloudType, Fact::CloudType),
            (F::DeclaredLocations, Fact::DeclaredLocations),
        ] {
            let t = self.text(field);
            if t.trim().is_empty() || is_unknown_marker(&t) {
                unfilled.push(fact);
            }
        }
        let providers = self.text_list(F::Providers);
        let sub_processors = self.text_list(F::SubProcessors);
        let service_model = self.choice(F::ServiceModel);
        let cloud_type = self.choice(F::CloudType);
        let declared_locations = self.code_list(F::DeclaredLocations);
        let transfer_basis = self.choice(F::TransferBasis);
        let transfer_instrument = self.optional_text(F::TransferInstrument);
        let prescan_dpia = self.date(F::PrescanDpia);
        let (formal_dpia, formal_dpia_date) = self.formal_dpia();
        let high_risk = self.yes_no(F::HighRisk).unwrap_or(false);
        let dpia_sent_to_cio = self.date(F::DpiaSentToCio);
        let explain_reference = self.optional_text(F::ExplainReference);
        let cio_advice_date = self.date(F::CioAdviceDate);
        let exit_strategy = self.yes_no(F::ExitStrategy);
        let right_to_audit = self.choice(F::RightToAudit);
        let c2000_check = self.choice(F::C2000Check);
        let woo_publication = self.woo();
        let decision_body = self.optional_text(F::DecisionBody);
        let decision_date = self.date(F::DecisionDate);
        let status: Option<ActivityStatus> = if self.workflow_status {
            None
        } else {
            self.choice(F::Status)
        };
        let scope_mappings = self.scopes();
        let data_subjects = self.text_list(F::DataSubjects);
        let retention = self.optional_text(F::Retention);
        let recipients = self.text_list(F::Recipients);
        unfilled.sort();
        unfilled.dedup();

        Activity {
            id,
            name,
            unit,
            controller,
            purpose,
            legal_bases,
            legal_basis_note,
            personal_data,
            special_categories,
            criminal_or_bsn,
            basisregistraties,
            classification,
            material,
            material_reason,
            providers,
            sub_processors,
            service_model,
            cloud_type,
            declared_locations,
            transfer_basis,
            transfer_instrument,
            prescan_dpia,
            formal_dpia,
            formal_dpia_date,
            high_risk,
            dpia_sent_to_cio,
            explain_reference,
            cio_advice_date,
            exit_strategy,
            right_to_audit,
            c2000_check,
            woo_publication,
            decision_body,
            decision_date,
            status,
            data_subjects,
            data_categories,
            retention,
            recipients,
            unfilled,
            scope_mappings,
            row: self.row.number,
        }
    }

    fn check_id(&mut self, id: &str) {
        let tag = normalise_id(id);
        if tag != id.to_ascii_lowercase() {
            self.error(
                Field::Id,
                id,
                format!(
                    "an id can only hold letters, digits, '-' and '_' to be a tag/label value \
                     on AWS, Azure and Google Cloud; it would be matched as '{tag}' — write it \
                     that way"
                ),
            );
        } else if tag.len() > MAX_ID_LEN {
            self.error(
                Field::Id,
                id,
                format!(
                    "an id is at most {MAX_ID_LEN} characters (a Google Cloud label value); \
                     this one has {}",
                    tag.len()
                ),
            );
        }
    }

    fn text_list(&mut self, field: Field) -> Vec<String> {
        let t = self.text(field);
        if is_none_marker(&t) {
            return Vec::new();
        }
        split_text_list(&t)
    }

    fn code_list(&mut self, field: Field) -> Vec<String> {
        let t = self.text(field);
        if is_none_marker(&t) {
            return Vec::new();
        }
        split_code_list(&t)
    }

    fn categories_from(&mut self, field: Field, t: &str) -> Vec<SpecialCategory> {
        let mut out = Vec::new();
        for part in split_code_list(t) {
            match SpecialCategory::parse_cell(&part) {
                Ok(c) if !out.contains(&c) => out.push(c),
                Ok(_) => {}
                Err(e) => self.error(field, &part, e),
            }
        }
        out
    }

    /// `Bijzondere persoonsgegevens` (ja/nee, or the kinds themselves) together with
    /// `Soorten bijzondere persoonsgegevens` (which).
    fn special_categories(&mut self) -> Vec<SpecialCategory> {
        let yn_cell = self.cell(Field::SpecialCategories);
        let yn_text = yn_cell.text();
        let kinds_text = self.text(Field::SpecialCategoryKinds);
        let yn = match yn_cell {
            Cell::Bool(b) => Some(b),
            c if c.is_blank() => None,
            _ => match parse_yes_no(&yn_text) {
                Ok(b) => Some(b),
                Err(_) => {
                    // The kinds written straight into the yes/no column.
                    let mut cats = self.categories_from(Field::SpecialCategories, &yn_text);
                    if !is_none_marker(&kinds_text) {
                        for c in self.categories_from(Field::SpecialCategoryKinds, &kinds_text) {
                            if !cats.contains(&c) {
                                cats.push(c);
                            }
                        }
                    }
                    return cats;
                }
            },
        };
        let kinds = if is_none_marker(&kinds_text) {
            Vec::new()
        } else {
            self.categories_from(Field::SpecialCategoryKinds, &kinds_text)
        };
        match yn {
            Some(true) if kinds.is_empty() && !self.has_error_in(Field::SpecialCategoryKinds) => {
                self.error(
                    Field::SpecialCategoryKinds,
                    "",
                    format!(
                        "special categories = ja, but which is not said; name them (e.g. {})",
                        SpecialCategory::Health.label()
                    ),
                );
                Vec::new()
            }
            Some(false) if !kinds.is_empty() => {
                self.error(
                    Field::SpecialCategories,
                    &yn_text,
                    format!(
                        "special categories = nee, but column '{}' names {}; make them agree",
                        self.colref(Field::SpecialCategoryKinds).header,
                        kinds
                            .iter()
                            .map(|k| k.label())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                kinds
            }
            _ => kinds,
        }
    }

    /// Every lawful basis in the basis column (`;` or new lines between them, each
    /// possibly `"<basis>: <toelichting>"`), and the notes.
    fn legal_bases(&mut self) -> (Vec<LegalBasis>, String) {
        let t = self.text(Field::LegalBasis);
        if t.trim().is_empty() || is_unknown_marker(&t) {
            return (Vec::new(), String::new());
        }
        let (bases, note, unknown) = parse_legal_bases(&t);
        if !unknown.is_empty() {
            self.problem(
                Severity::Warning,
                Field::LegalBasis,
                Some(unknown.join("; ")),
                format!(
                    "not one of the six lawful bases of art. 6 AVG ({}); kept as a note, the \
                     basis counts as not filled in",
                    LegalBasis::ALL
                        .iter()
                        .map(|b| b.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        (bases, note)
    }

    fn has_error_in(&self, field: Field) -> bool {
        let col = self.colref(field);
        self.sink
            .errors
            .iter()
            .any(|p| p.row == Some(self.row.number) && p.column.as_ref() == Some(&col))
    }

    fn basisregistraties(&mut self) -> Vec<String> {
        let t = self.text(Field::Basisregistraties);
        if is_none_marker(&t) {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for part in split_code_list(&t) {
            match parse_basisregistratie(&part) {
                Ok(code) if !out.iter().any(|c| c == code) => out.push(code.to_string()),
                Ok(_) => {}
                Err(e) => self.error(Field::Basisregistraties, &part, e),
            }
        }
        out
    }

    fn formal_dpia(&mut self) -> (Option<YesNoNa>, Option<NaiveDate>) {
        let date = self.date(Field::FormalDpiaDate);
        match self.cell(Field::FormalDpia) {
            // A date in the yes/no column: a formal DPIA was done on that date.
            Cell::Date(d) => (Some(YesNoNa::Yes), date.or(Some(d))),
            Cell::Bool(b) => (Some(if b { YesNoNa::Yes } else { YesNoNa::No }), date),
            c if c.is_blank() => (None, date),
            c => {
                let t = c.text();
                if let Ok(d) = parse_date(&t) {
                    return (Some(YesNoNa::Yes), date.or(Some(d)));
                }
                (self.choice(Field::FormalDpia), date)
            }
        }
    }

    /// Woo publication: a date (stored ISO), a link or reference, or nothing (`nee`, empty).
    fn woo(&mut self) -> String {
        match self.cell(Field::WooPublication) {
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            c => {
                let t = c.text();
                if is_none_marker(&t) {
                    return String::new();
                }
                if let Ok(d) = parse_date(&t) {
                    return d.format("%Y-%m-%d").to_string();
                }
                if parse_yes_no(&t) == Ok(true) {
                    self.warn(
                        Field::WooPublication,
                        "published, but without date or link; write the publication date or link",
                    );
                }
                t
            }
        }
    }

    fn scopes(&mut self) -> Vec<String> {
        let t = self.text(Field::ScopeMappings);
        if is_none_marker(&t) {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for part in split_text_list(&t) {
            match part.parse::<ScopeMapping>() {
                Ok(s) => {
                    let canon = s.to_string();
                    if out.iter().any(|o| o.eq_ignore_ascii_case(&canon)) {
                        self.problem(
                            Severity::Warning,
                            Field::ScopeMappings,
                            Some(part.clone()),
                            "scope listed twice for this activity; the duplicate is ignored",
                        );
                    } else {
                        out.push(canon);
                    }
                }
                Err(e) => self.error(Field::ScopeMappings, &part, e),
            }
        }
        out
    }

    /// Consistency within one row: errors for contradictions, warnings for gaps the rules
    /// will report.
    fn row_checks(&mut self, a: &Activity) {
        use Field as F;
        // Checks that build on a value that did not parse would only repeat the error.
        if self.has_error_in(F::PersonalData) || self.has_error_in(F::Material) {
            return;
        }
        if !a.personal_data && a.has_special_categories() {
            let v = self.text(F::PersonalData);
            self.error(
                F::PersonalData,
                &v,
                "special categories are personal data: set personal data to ja",
            );
        }
        if a.personal_data && a.prescan_dpia.is_none() {
            self.warn(
                F::PrescanDpia,
                "personal data = ja but no pre-scan DPIA date",
            );
        }
        if a.high_risk && a.formal_dpia != Some(YesNoNa::Yes) {
            self.warn(F::FormalDpia, "high risk = ja but no formal DPIA recorded");
        }
        if a.formal_dpia == Some(YesNoNa::Yes) && a.formal_dpia_date.is_none() {
            self.warn(F::FormalDpiaDate, "formal DPIA = ja but no date");
        }
        if a.transfer_basis == Some(super::model::TransferBasis::Safeguards)
            && a.transfer_instrument.is_empty()
        {
            self.warn(
                F::TransferInstrument,
                "transfer basis 9c but no instrument (SCC, BCR, ...)",
            );
        }
        if !a.material && a.material_reason.is_empty() {
            self.warn(F::MaterialReason, "material use = nee but no reason given");
        }
    }
}

/// Checks across rows: duplicate ids, scopes claimed by two activities.
fn cross_checks(register: &Register, layout: &Layout, sink: &mut Sink<'_>) {
    let colref = |f: Field| match layout.get(&f) {
        Some((i, h)) => ColumnRef {
            header: h.clone(),
            letter: Some(column_letter(*i)),
        },
        None => ColumnRef {
            header: column(f).header.to_string(),
            letter: None,
        },
    };
    let mut ids: HashMap<String, &Activity> = HashMap::new();
    for a in register.activities.iter().filter(|a| !a.id.is_empty()) {
        let key = normalise_id(&a.id);
        if let Some(first) = ids.get(&key) {
            let same = if first.id == a.id {
                String::new()
            } else {
                format!(
                    " ('{}' and '{}' are the same tag value '{key}')",
                    first.id, a.id
                )
            };
            sink.push(
                Severity::Error,
                Some(a.row),
                Some(colref(Field::Id)),
                Some(a.id.clone()),
                format!(
                    "duplicate id: row {} has it too{same}; give each activity its own id \
                     (one activity over several cloud services: one row, several providers)",
                    first.row
                ),
            );
        } else {
            ids.insert(key, a);
        }
    }
    let mut scopes: HashMap<String, &Activity> = HashMap::new();
    for a in &register.activities {
        for s in &a.scope_mappings {
            let key = s.to_ascii_lowercase();
            match scopes.get(&key) {
                Some(first) if first.row != a.row => sink.push(
                    Severity::Error,
                    Some(a.row),
                    Some(colref(Field::ScopeMappings)),
                    Some(s.clone()),
                    format!(
                        "scope already mapped to {} (row {}); a scope can belong to one \
                         activity — map resource groups or tag the resources instead",
                        first.id, first.row
                    ),
                ),
                Some(_) => {}
                None => {
                    scopes.insert(key, a);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::register::{Format, Loaded, RegisterError, SpecialCategory, load_bytes};

    const HEAD: &str = "Nummer verwerking;Naam verwerking;Organisatieonderdeel;Verwerkingsverantwoordelijke;Doel;Grondslag;Persoonsgegevens;Rubricering;Materieel cloudgebruik";

    fn load(rows: &[&str]) -> Result<Loaded, RegisterError> {
        load_bytes("t.csv", rows.join("\n").into_bytes(), Format::Csv, None)
    }

    #[test]
    fn gaps_are_warnings_and_the_register_still_loads() {
        let l = load(&[HEAD, "VA-1;Een;DG;M;Doel;e;ja;intern;ja"]).unwrap();
        assert_eq!(l.register.activities.len(), 1);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("pre-scan DPIA"))
        );
    }

    #[test]
    fn a_title_above_the_header_row_is_skipped() {
        let l = load(&[
            "Register MinVZ 2026",
            ";;",
            HEAD,
            "VA-1;Een;DG;M;Doel;e;nee;intern;ja",
        ])
        .unwrap();
        assert_eq!(l.register.activities[0].row, 4);
    }

    #[test]
    fn kinds_in_the_yes_no_column_are_read_as_the_kinds() {
        let head = format!("{HEAD};Bijzondere persoonsgegevens");
        let l = load(&[
            &head,
            "VA-1;Een;DG;M;Doel;e;ja;intern;ja;gezondheid, biometrie",
        ])
        .unwrap();
        assert_eq!(
            l.register.activities[0].special_categories,
            [SpecialCategory::Health, SpecialCategory::Biometric]
        );
    }

    #[test]
    fn contradictions_about_special_categories_are_errors() {
        let head =
            format!("{HEAD};Bijzondere persoonsgegevens;Soorten bijzondere persoonsgegevens");
        let err = load(&[
            &head,
            "VA-1;Een;DG;M;Doel;e;ja;intern;ja;ja;",
            "VA-2;Twee;DG;M;Doel;e;ja;intern;ja;nee;gezondheid",
            "VA-3;Drie;DG;M;Doel;e;nee;intern;ja;ja;gezondheid",
        ])
        .unwrap_err();
        let rows: Vec<usize> = err.problems.iter().filter_map(|p| p.row).collect();
        assert_eq!(rows, [2, 3, 4], "{err}");
    }

    #[test]
    fn a_row_longer_than_the_header_is_an_error_not_a_silent_drop() {
        let err = load(&[
            HEAD,
            "VA-1;Een;DG;M;Doel;e;nee;intern;ja;burgers; aanvragers",
        ])
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("row 2, column J") && text.contains("needs quotes"),
            "{text}"
        );
        // Quoted, the same value is one cell and loads.
        let head = format!("{HEAD};Ontvangers");
        let l = load(&[
            &head,
            "VA-1;Een;DG;M;Doel;e;nee;intern;ja;\"burgers; aanvragers\"",
        ])
        .unwrap();
        assert_eq!(
            l.register.activities[0].recipients,
            ["burgers", "aanvragers"]
        );
    }

    #[test]
    fn a_column_given_twice_is_an_error() {
        let head = format!("{HEAD};Activity id");
        let err = load(&[&head, "VA-1;Een;DG;M;Doel;e;nee;intern;ja;VA-1"]).unwrap_err();
        assert!(
            err.to_string().contains("appears twice (also column A"),
            "{err}"
        );
    }

    #[test]
    fn a_sandbox_row_keeps_reason_and_scope() {
        let head = format!("{HEAD};Reden materieel;Scopekoppeling");
        let l = load(&[
            &head,
            "VA-9;Sandbox;Lab;M;Experimenten;e;nee;intern;nee;sandbox/experimenten;\"aws:444455556666\naws:444455556666\"",
        ])
        .unwrap();
        let a = &l.register.activities[0];
        assert!(!a.material);
        assert_eq!(a.material_reason, "sandbox/experimenten");
        assert_eq!(a.scope_mappings, ["aws:444455556666"]);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.message.contains("listed twice"))
        );
    }
}
