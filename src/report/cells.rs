//! Cell values and the defences that make hostile text inert in xlsx and CSV.
//!
//! Tag values come from cloud accounts anyone with write access can tag. A value like
//! `=HYPERLINK("http://x","y")` must arrive as text, never as a formula: xlsx cells are
//! always written as strings (never formulas), CSV cells that a spreadsheet would treat as
//! a formula get a leading apostrophe (OWASP CSV injection), control characters are
//! removed, and text longer than the xlsx cell limit is cut with a visible marker.

use chrono::{DateTime, NaiveDate, Utc};

/// The xlsx limit on characters in a cell.
pub const XLSX_MAX_CHARS: usize = 32_767;

/// Marker appended to truncated text.
pub const TRUNCATED: &str = " …[afgekapt/truncated]";

/// One cell of a report row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// Integer count.
    Int(i64),
    /// Percentage (0–100).
    Percent(f64),
    /// Date.
    Date(NaiveDate),
    /// Date and time (UTC).
    DateTime(DateTime<Utc>),
}

impl Cell {
    /// Text cell from anything string-like.
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// Text or empty.
    pub fn opt_text(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    /// Date or empty.
    pub fn opt_date(d: Option<NaiveDate>) -> Cell {
        d.map_or(Cell::Empty, Cell::Date)
    }

    /// Count cell.
    pub fn int(n: usize) -> Cell {
        Cell::Int(n as i64)
    }

    /// The value as plain text (CSV, tests).
    pub fn to_plain(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Percent(p) => format!("{p:.1}"),
            Cell::Date(d) => d.to_string(),
            Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }
}

/// Removes control characters (keeping tab and newline inside text), bidi overrides, and
/// cuts text to the xlsx cell limit with a visible marker.
pub fn clean_text(s: &str) -> String {
    clean_text_cow(s).into_owned()
}

fn is_removed(c: char) -> bool {
    let control = c.is_control() && c != '\n' && c != '\t';
    let bidi = matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}'
    );
    control || bidi
}

/// [`clean_text`] without a copy when nothing needs changing (the common case: a report
/// writes millions of cells).
pub fn clean_text_cow(s: &str) -> std::borrow::Cow<'_, str> {
    // Byte length bounds the character count, so short clean text is returned as is.
    // Printable ASCII (plus tab and newline) is checked bytewise: the common case, and
    // much cheaper than decoding characters.
    let printable_ascii = s
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t');
    if s.len() <= XLSX_MAX_CHARS && (printable_ascii || !s.chars().any(is_removed)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out: String = s.chars().filter(|c| !is_removed(*c)).collect();
    if out.len() > XLSX_MAX_CHARS && out.chars().count() > XLSX_MAX_CHARS {
        let keep = XLSX_MAX_CHARS - TRUNCATED.chars().count();
        out = out.chars().take(keep).collect();
        out.push_str(TRUNCATED);
    }
    std::borrow::Cow::Owned(out)
}

/// Neutralises a CSV cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR).
pub fn csv_safe(s: &str) -> String {
    let cleaned = clean_text(s);
    match cleaned.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cleaned}"),
        _ => cleaned,
    }
}

/// Prefixes an apostrophe to a cell a spreadsheet would evaluate, and changes nothing
/// else: for machine-oriented CSV (scan exports for a SIEM) that must stay lossless apart
/// from the formula defence. Report and listing CSVs use [`csv_safe`].
pub fn csv_neutralise(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_prefixes_are_neutralised_in_csv() {
        for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(csv_safe(s).starts_with('\''), "{s}");
        }
        assert_eq!(csv_safe("plain"), "plain");
        assert_eq!(csv_neutralise("=1+1\u{0}"), "'=1+1\u{0}");
        assert_eq!(csv_neutralise("plain"), "plain");
    }

    #[test]
    fn control_and_bidi_characters_are_removed() {
        assert_eq!(clean_text("a\u{0}b\u{7}c\u{202E}d"), "abcd");
        assert_eq!(clean_text("line\nnext"), "line\nnext");
    }

    #[test]
    fn clean_text_borrows_clean_input_and_agrees_with_the_owned_version() {
        assert!(matches!(
            clean_text_cow("arn:aws:s3:::bucket"),
            std::borrow::Cow::Borrowed(_)
        ));
        for s in ["a\u{0}b", "\u{202E}x", "plain", "é\n\tü"] {
            assert_eq!(clean_text_cow(s), clean_text(s));
        }
    }

    #[test]
    fn overlong_text_is_cut_with_a_marker() {
        let s = "x".repeat(1 << 20);
        let c = clean_text(&s);
        assert_eq!(c.chars().count(), XLSX_MAX_CHARS);
        assert!(c.ends_with(TRUNCATED));
    }
}
