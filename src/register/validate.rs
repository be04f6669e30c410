//! From a [`Grid`] of cells to a validated [`Register`], collecting every problem.
//!
//! The validator never stops at the first mistake: a ministry gets the whole list of what
//! to fix in one run (missing columns, duplicate ids, bad dates, unknown values, scopes
//! claimed twice, empty rows in the middle, ids that cannot be a Google label). Gaps that
//! are not format errors (personal data without a pre-scan DPIA date) are warnings: the
//! register loads and the rules turn them into findings.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use super::columns::{COLUMNS, Field, column, match_header};
use super::model::{Activity, Register, SpecialCategory, YesNoNa, normalise_id};
use super::problem::{ColumnRef, Problem, Severity, column_letter};
use super::read::{Cell, Grid, Row};
use super::scope::ScopeMapping;
use super::values::{
    CellValue, is_none_marker, parse_basisregistratie, parse_date, parse_yes_no, split_code_list,
    split_text_list,
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
    let layout = read_header(header, &mut sink);

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
        let mut rc = RowCtx {
            row,
            layout: &layout,
            sink: &mut sink,
        };
        register.activities.push(rc.activity());
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
    finish(register, sink)
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

fn read_header(header: &Row, sink: &mut Sink<'_>) -> Layout {
    let mut layout = Layout::new();
    let mut unknown = Vec::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        let here = ColumnRef {
            header: text.clone(),
            letter: Some(column_letter(i)),
        };
        match match_header(&text) {
            Some(col) => {
                if let Some((prev, _)) = layout.get(&col.field) {
                    sink.push(
                        Severity::Error,
                        Some(header.number),
                        Some(here),
                        None,
                        format!(
                            "column '{}' appears twice (also column {}); keep one",
                            col.header,
                            column_letter(*prev)
                        ),
                    );
                } else {
                    layout.insert(col.field, (i, text));
                }
            }
            None => unknown.push(format!("{} '{}'", column_letter(i), text)),
        }
    }
    if !unknown.is_empty() {
        sink.push(
            Severity::Warning,
            Some(header.number),
            None,
            None,
            format!(
                "columns not part of the register format are ignored: {}",
                unknown.join(", ")
            ),
        );
    }
    let mut optional_missing = Vec::new();
    for col in COLUMNS.iter().filter(|c| !layout.contains_key(&c.field)) {
        if col.required {
            sink.push(
                Severity::Error,
                Some(header.number),
                Some(ColumnRef {
                    header: col.header.to_string(),
                    letter: None,
                }),
                None,
                format!(
                    "required column '{}' (English: '{}') is missing; add it to the header row",
                    col.header, col.alias
                ),
            );
        } else {
            optional_missing.push(col.header);
        }
    }
    if !optional_missing.is_empty() {
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

    fn required_yes_no(&mut self, field: Field) -> bool {
        let v = self.yes_no(field);
        if v.is_none() && self.layout.contains_key(&field) && self.cell(field).is_blank() {
            self.error(
                field,
                "",
                format!("'{}' is required: ja or nee", column(field).header),
            );
        }
        v.unwrap_or(false)
    }

    fn choice<T: CellValue>(&mut self, field: Field) -> Option<T> {
        let c = self.cell(field);
        if c.is_blank() {
            return None;
        }
        let t = c.text();
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
        let legal_basis = self.choice(F::LegalBasis);
        let personal_data = self.required_yes_no(F::PersonalData);
        let special_categories = self.special_categories();
        let criminal_or_bsn = self.yes_no(F::CriminalOrBsn).unwrap_or(false);
        let basisregistraties = self.basisregistraties();
        let classification = self.choice(F::Classification);
        let material = self.required_yes_no(F::Material);
        let material_reason = self.text(F::MaterialReason);
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
        let status = self.choice(F::Status);
        let scope_mappings = self.scopes();

        let a = Activity {
            id,
            name,
            unit,
            controller,
            purpose,
            legal_basis,
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
            scope_mappings,
            row: self.row.number,
        };
        self.row_checks(&a);
        a
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
        if a.personal_data && a.legal_basis.is_none() {
            self.warn(
                F::LegalBasis,
                "personal data = ja but no legal basis (art. 6 AVG)",
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
        if a.classification.is_none() && self.layout.contains_key(&F::Classification) {
            self.warn(F::Classification, "no classification (rubricering)");
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
    fn a_column_given_twice_is_an_error() {
        let head = format!("{HEAD};Activity id");
        let err = load(&[&head, "VA-1;Een;DG;M;Doel;e;nee;intern;ja;VA-1"]).unwrap_err();
        assert!(
            err.to_string().contains("appears twice (also column A)"),
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
