//! The JSON exchange format of a scan (`export --format json`, `import`), streamed.
//!
//! A scanner in one network hands its scan to the CIO office's store as a file. The file
//! is the [`ScanData`](cloudcensus_core::ScanData) serde shape (meta, scopes, groups,
//! resources, coverage), so it round-trips and other tools can read it. Both directions
//! stream: a million resources are written and read one at a time, never held in a `Vec`.
//! Reading is done twice: a first pass validates the whole file (every error names its
//! JSON path, line and column) without touching the store; only a valid file is written,
//! in one transaction.

use std::fmt;
use std::io::{Read, Write};

use cloudcensus_core::Creator;
use cloudcensus_core::model::{Coverage, Resource, ResourceGroup, Scope};
use cloudcensus_core::scan::ScanMeta;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use super::{ScanWriter, StoreError, validate_period};

/// Writes a scan as one JSON object, one resource per line.
pub fn write_json<W: Write>(
    out: &mut W,
    meta: &ScanMeta,
    scopes: &[Scope],
    groups: &[ResourceGroup],
    resources: impl Iterator<Item = Result<Resource, StoreError>>,
    coverage: &[Coverage],
    creators: &[Creator],
) -> Result<u64, ExchangeError> {
    fn list<W: Write, T: serde::Serialize>(
        out: &mut W,
        name: &str,
        items: impl Iterator<Item = Result<T, StoreError>>,
    ) -> Result<u64, ExchangeError> {
        write!(out, ",\n\"{name}\":[")?;
        let mut n = 0u64;
        for item in items {
            out.write_all(if n == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &item?)?;
            n += 1;
        }
        out.write_all(b"\n]")?;
        Ok(n)
    }
    out.write_all(b"{\"meta\":")?;
    serde_json::to_writer(&mut *out, meta)?;
    list(out, "scopes", scopes.iter().map(Ok))?;
    list(out, "groups", groups.iter().map(Ok))?;
    let n = list(out, "resources", resources)?;
    list(out, "coverage", coverage.iter().map(Ok))?;
    // Only scans that looked creators up carry the section, so older exports stay as they
    // were.
    if !creators.is_empty() {
        list(out, "creators", creators.iter().map(Ok))?;
    }
    out.write_all(b"\n}\n")?;
    out.flush()?;
    Ok(n)
}

/// Errors of export and import.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Serialising failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The file is not a valid scan export.
    #[error("at JSON path `{path}`: {message}")]
    Invalid {
        /// Where in the document (`resources[12].provider`).
        path: String,
        /// What is wrong (with line and column).
        message: String,
    },
    /// The store refused a record.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts of a validated or imported file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Scopes.
    pub scopes: u64,
    /// Resource groups.
    pub groups: u64,
    /// Resources.
    pub resources: u64,
    /// Coverage entries.
    pub coverage: u64,
    /// Creator records.
    pub creators: u64,
}

/// Validates an export without writing anything; returns its metadata and counts.
pub fn validate<R: Read>(reader: R) -> Result<(ScanMeta, Counts), ExchangeError> {
    let (meta, counts) = run(reader, None)?;
    let meta = meta.ok_or_else(|| ExchangeError::Invalid {
        path: ".".into(),
        message:
            "missing field `meta` (organisation, period, started_at, finished_at, tool_version)"
                .into(),
    })?;
    validate_period(&meta.period).map_err(|e| ExchangeError::Invalid {
        path: "meta.period".into(),
        message: e.to_string(),
    })?;
    if meta.finished_at < meta.started_at {
        return Err(ExchangeError::Invalid {
            path: "meta.finished_at".into(),
            message: "is before meta.started_at".into(),
        });
    }
    Ok((meta, counts))
}

/// Streams a (validated) export into an open scan writer.
pub fn stream_into<R: Read>(
    reader: R,
    writer: &mut dyn ScanWriter,
) -> Result<Counts, ExchangeError> {
    run(reader, Some(writer)).map(|(_, c)| c)
}

fn run<R: Read>(
    reader: R,
    writer: Option<&mut dyn ScanWriter>,
) -> Result<(Option<ScanMeta>, Counts), ExchangeError> {
    let mut json = serde_json::Deserializer::from_reader(reader);
    let mut track = serde_path_to_error::Track::new();
    let mut state = State {
        writer,
        meta: None,
        counts: Counts::default(),
        store_error: None,
    };
    let result = DocSeed(&mut state)
        .deserialize(serde_path_to_error::Deserializer::new(
            &mut json, &mut track,
        ))
        .and_then(|()| json.end());
    if let Some(e) = state.store_error.take() {
        return Err(ExchangeError::Store(e));
    }
    if let Err(e) = result {
        return Err(ExchangeError::Invalid {
            path: track.path().to_string(),
            message: e.to_string(),
        });
    }
    Ok((state.meta, state.counts))
}

struct State<'w> {
    writer: Option<&'w mut dyn ScanWriter>,
    meta: Option<ScanMeta>,
    counts: Counts,
    store_error: Option<StoreError>,
}

/// A record kind of the document.
trait Record: DeserializeOwned {
    const SECTION: &'static str;
    fn check(&self) -> Result<(), String>;
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError>;
    fn count(c: &mut Counts) -> &mut u64;
}

fn non_empty(field: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        Err(format!("`{field}` must not be empty"))
    } else {
        Ok(())
    }
}

impl Record for Scope {
    const SECTION: &'static str = "scopes";
    fn check(&self) -> Result<(), String> {
        non_empty("id", &self.id)
    }
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError> {
        w.add_scope(self)
    }
    fn count(c: &mut Counts) -> &mut u64 {
        &mut c.scopes
    }
}

impl Record for ResourceGroup {
    const SECTION: &'static str = "groups";
    fn check(&self) -> Result<(), String> {
        non_empty("name", &self.name)?;
        non_empty("scope_id", &self.scope_id)
    }
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError> {
        w.add_group(self)
    }
    fn count(c: &mut Counts) -> &mut u64 {
        &mut c.groups
    }
}

impl Record for Resource {
    const SECTION: &'static str = "resources";
    fn check(&self) -> Result<(), String> {
        non_empty("id", &self.id)?;
        non_empty("scope_id", &self.scope_id)?;
        non_empty("resource_type", &self.resource_type)
    }
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError> {
        w.add_resource(self)
    }
    fn count(c: &mut Counts) -> &mut u64 {
        &mut c.resources
    }
}

impl Record for Coverage {
    const SECTION: &'static str = "coverage";
    fn check(&self) -> Result<(), String> {
        non_empty("scope_id", &self.scope_id)?;
        non_empty("service", &self.service)
    }
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError> {
        w.add_coverage(self)
    }
    fn count(c: &mut Counts) -> &mut u64 {
        &mut c.coverage
    }
}

impl Record for Creator {
    const SECTION: &'static str = "creators";
    fn check(&self) -> Result<(), String> {
        non_empty("resource_id", &self.resource_id)?;
        non_empty("source", &self.source)
    }
    fn add(&self, w: &mut dyn ScanWriter) -> Result<(), StoreError> {
        w.add_creator(self)
    }
    fn count(c: &mut Counts) -> &mut u64 {
        &mut c.creators
    }
}

struct DocSeed<'a, 'w>(&'a mut State<'w>);

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a cloudcensus scan export: an object with meta, scopes, groups, resources, coverage (and creators)",
        )
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_meta = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "meta" => {
                    let meta: ScanMeta = map.next_value()?;
                    self.0.meta = Some(meta);
                    seen_meta = true;
                }
                "scopes" => map.next_value_seed(SectionSeed::<Scope>::new(self.0))?,
                "groups" => map.next_value_seed(SectionSeed::<ResourceGroup>::new(self.0))?,
                "resources" => map.next_value_seed(SectionSeed::<Resource>::new(self.0))?,
                "coverage" => map.next_value_seed(SectionSeed::<Coverage>::new(self.0))?,
                "creators" => map.next_value_seed(SectionSeed::<Creator>::new(self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_meta {
            return Err(de::Error::missing_field("meta"));
        }
        Ok(())
    }
}

struct SectionSeed<'a, 'w, T> {
    state: &'a mut State<'w>,
    _t: std::marker::PhantomData<T>,
}

impl<'a, 'w, T> SectionSeed<'a, 'w, T> {
    fn new(state: &'a mut State<'w>) -> Self {
        SectionSeed {
            state,
            _t: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Record> DeserializeSeed<'de> for SectionSeed<'_, '_, T> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Record> Visitor<'de> for SectionSeed<'_, '_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", T::SECTION)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0u64;
        while let Some(item) = seq.next_element::<T>()? {
            item.check()
                .map_err(|m| de::Error::custom(format!("element {i}: {m}")))?;
            if let Some(w) = self.state.writer.as_deref_mut()
                && let Err(e) = item.add(w)
            {
                self.state.store_error = Some(e);
                return Err(de::Error::custom("store write failed"));
            }
            *T::count(&mut self.state.counts) += 1;
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Synth;

    fn export_bytes(n: u64) -> Vec<u8> {
        let s = Synth::new(5);
        let mut buf = Vec::new();
        write_json(
            &mut buf,
            &s.meta("2026-02"),
            &s.scopes(),
            &s.groups(),
            s.resources(n).map(Ok),
            &s.coverage(),
            &[],
        )
        .unwrap();
        buf
    }

    #[test]
    fn exported_json_is_the_scan_data_shape() {
        let bytes = export_bytes(30);
        let data: cloudcensus_core::ScanData = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(data.resources.len(), 30);
        assert_eq!(data.resources[3], Synth::new(5).resource(3));
        let (meta, counts) = validate(&bytes[..]).unwrap();
        assert_eq!(meta.period, "2026-02");
        assert_eq!(counts.resources, 30);
        assert_eq!(counts.scopes, Synth::new(5).scopes().len() as u64);
    }

    #[test]
    fn creators_round_trip_through_an_export_and_a_bad_status_names_its_path() {
        use cloudcensus_core::{Creator, CreatorStatus, Provider};
        let s = Synth::new(5);
        let creators = vec![
            Creator::older_than(Provider::Aws, "arn:aws:s3:::a", "cloudtrail", 90),
            Creator::unknown(
                Provider::Gcp,
                "//storage.googleapis.com/projects/_/buckets/b",
                CreatorStatus::Skipped,
                "none",
                "not looked up in this scan",
            ),
        ];
        let mut buf = Vec::new();
        write_json(
            &mut buf,
            &s.meta("2026-02"),
            &s.scopes(),
            &[],
            s.resources(3).map(Ok),
            &[],
            &creators,
        )
        .unwrap();
        let data: cloudcensus_core::ScanData = serde_json::from_slice(&buf).unwrap();
        assert_eq!(data.creators, creators);
        let (_, counts) = validate(&buf[..]).unwrap();
        assert_eq!(counts.creators, 2);
        let text = String::from_utf8(buf).unwrap();
        let bad = text.replacen("\"status\":\"skipped\"", "\"status\":\"maybe\"", 1);
        let err = validate(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("creators[1].status"), "{err}");
        // An export without creators has no such section (older exports stay as they were).
        assert!(
            !String::from_utf8(export_bytes(2))
                .unwrap()
                .contains("creators")
        );
    }

    #[test]
    fn invalid_records_are_reported_with_their_json_path() {
        let text = String::from_utf8(export_bytes(5)).unwrap();
        let bad = text.replacen("\"provider\":\"gcp\"", "\"provider\":\"oracle\"", 1);
        let err = validate(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("at JSON path `scopes["), "{err}");
        assert!(
            err.contains(".provider`") && err.contains("oracle"),
            "{err}"
        );
        assert!(err.contains("line "), "{err}");
    }

    #[test]
    fn bad_period_and_missing_meta_are_reported() {
        let text = String::from_utf8(export_bytes(1)).unwrap();
        let bad = text.replace("\"period\":\"2026-02\"", "\"period\":\"feb 2026\"");
        let err = validate(bad.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("meta.period") && err.contains("YYYY-MM"),
            "{err}"
        );
        let err = validate(&b"{\"resources\":[]}"[..])
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field `meta`"), "{err}");
    }

    #[test]
    fn empty_resource_id_is_refused_with_its_index() {
        let s = Synth::new(5);
        let mut r = s.resource(0);
        r.id = " ".into();
        let mut buf = Vec::new();
        write_json(
            &mut buf,
            &s.meta("2026-02"),
            &[],
            &[],
            [Ok(s.resource(1)), Ok(r)].into_iter(),
            &[],
            &[],
        )
        .unwrap();
        let err = validate(&buf[..]).unwrap_err().to_string();
        assert!(
            err.contains("`resources`") && err.contains("element 1: `id` must not be empty"),
            "{err}"
        );
    }
}
