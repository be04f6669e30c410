//! The canonical content hash of a scan and the hash chain over all scans.
//!
//! Auditors must be able to check that a stored scan is the one that was committed. Each
//! scan gets a SHA-256 over a canonical, unambiguous encoding of its content (independent of
//! how the store lays out rows, of serde field order and of JSON formatting), and a chain
//! hash that also covers the previous scan's chain hash. Changing, deleting or reordering
//! any committed row changes a recomputed hash, and the first mismatch names the scan.
//!
//! Encoding (version [`HASH_VERSION`]): every value is written length-prefixed, so no two
//! different contents encode to the same bytes.
//!
//! * string: `u64` little-endian byte length, then the UTF-8 bytes;
//! * optional value: byte `0` for absent, byte `1` followed by the value;
//! * list: `u64` count, then each item; map: `u64` count, then key/value pairs in key order;
//! * timestamp: the string `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (RFC 3339, UTC, `Z`, fraction
//!   only as long as needed);
//! * enums: their kebab-case name as a string.
//!
//! The content hash is `SHA-256("cloudcensus-scan-v2" ‖ meta ‖ S ‖ G ‖ R ‖ C ‖ O)` where `meta`
//! is the encoded [`ScanMeta`] without its id, and `S`, `G`, `R`, `C` are each a `u64` record
//! count followed by the 32-byte SHA-256 of the concatenated encoded scopes, groups,
//! resources and coverage entries in the order they were added, and `O` the same for the
//! creator records (who created an unregistered resource, from the audit logs). Sections
//! are hashed separately so a scan can be streamed in with its record kinds interleaved.
//! Scans committed before creators were recorded carry hash version 1: the prefix
//! `cloudcensus-scan-v1` and no `O`; `verify` recomputes each scan in its own version.
//!
//! The chain hash is `SHA-256("cloudcensus-chain-v1" ‖ prev ‖ id ‖ content)` with `prev` the
//! previous scan's chain hash in hex (64 zeros for the first scan), `id` the scan id and
//! `content` the content hash in hex. Because the chain only needs the content hash, a
//! pruned scan's link stays verifiable after its rows are gone.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use cloudcensus_core::Creator;
use cloudcensus_core::model::{Coverage, Resource, ResourceGroup, Scope};
use cloudcensus_core::scan::ScanMeta;
use sha2::{Digest, Sha256};

/// The encoding version stored with every scan; a future encoding gets a new number and
/// old scans keep verifying under theirs.
pub const HASH_VERSION: i64 = 2;

/// The `prev` of the first scan in a store.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex of a digest.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// The canonical timestamp spelling used in hashes and in the store.
pub fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A byte sink with the canonical primitive encodings.
struct Enc<'a>(&'a mut Sha256);

impl Enc<'_> {
    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.update(s.as_bytes());
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            None => self.0.update([0u8]),
            Some(s) => {
                self.0.update([1u8]);
                self.str(s);
            }
        }
    }
    fn list(&mut self, items: &[String]) {
        self.len(items.len());
        for i in items {
            self.str(i);
        }
    }
    fn map(&mut self, m: &BTreeMap<String, String>) {
        self.len(m.len());
        for (k, v) in m {
            self.str(k);
            self.str(v);
        }
    }
}

fn scope_kind(s: &Scope) -> &'static str {
    use cloudcensus_core::model::ScopeKind;
    match s.kind {
        ScopeKind::AwsAccount => "aws-account",
        ScopeKind::AzureSubscription => "azure-subscription",
        ScopeKind::GcpProject => "gcp-project",
    }
}

/// Running hash of one section (scopes, groups, resources or coverage).
#[derive(Clone, Default)]
pub struct SectionHasher {
    hasher: Sha256,
    count: u64,
}

impl SectionHasher {
    /// Number of records hashed so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    fn finish(self) -> (u64, [u8; 32]) {
        (self.count, self.hasher.finalize().into())
    }
}

/// Streaming hasher of a scan's content: feed records as they are written (or read back),
/// then [`ContentHasher::finish`] with the metadata.
#[derive(Clone, Default)]
pub struct ContentHasher {
    scopes: SectionHasher,
    groups: SectionHasher,
    resources: SectionHasher,
    coverage: SectionHasher,
    creators: SectionHasher,
}

impl ContentHasher {
    /// A hasher with nothing added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one scope.
    pub fn scope(&mut self, s: &Scope) {
        let sec = &mut self.scopes;
        sec.count += 1;
        let mut e = Enc(&mut sec.hasher);
        e.str(s.provider.as_str());
        e.str(scope_kind(s));
        e.str(&s.id);
        e.opt(s.name.as_deref());
        e.list(&s.parents);
        e.map(&s.tags);
    }

    /// Adds one resource group.
    pub fn group(&mut self, g: &ResourceGroup) {
        let sec = &mut self.groups;
        sec.count += 1;
        let mut e = Enc(&mut sec.hasher);
        e.str(g.provider.as_str());
        e.str(&g.scope_id);
        e.str(&g.name);
        e.opt(g.location.as_deref());
        e.map(&g.tags);
    }

    /// Adds one resource.
    pub fn resource(&mut self, r: &Resource) {
        let sec = &mut self.resources;
        sec.count += 1;
        let mut e = Enc(&mut sec.hasher);
        e.str(r.provider.as_str());
        e.str(&r.scope_id);
        e.str(&r.id);
        e.str(&r.resource_type);
        e.str(r.category.as_str());
        e.str(&r.name);
        e.opt(r.location.as_deref());
        e.list(&r.replica_locations);
        e.opt(r.resource_group.as_deref());
        e.map(&r.tags);
        e.opt(r.created_at.as_ref().map(timestamp).as_deref());
    }

    /// Adds one coverage entry.
    pub fn coverage(&mut self, c: &Coverage) {
        let sec = &mut self.coverage;
        sec.count += 1;
        let mut e = Enc(&mut sec.hasher);
        e.str(c.provider.as_str());
        e.str(&c.scope_id);
        e.str(&c.region);
        e.str(&c.service);
        e.str(c.status.as_str());
        e.opt(c.message.as_deref());
    }

    /// Adds one creator record (hash version 2 on).
    pub fn creator(&mut self, c: &Creator) {
        let sec = &mut self.creators;
        sec.count += 1;
        let mut e = Enc(&mut sec.hasher);
        e.str(c.provider.as_str());
        e.str(&c.resource_id);
        e.str(c.status.as_str());
        e.opt(c.principal.as_deref());
        e.opt(c.event_time.as_ref().map(timestamp).as_deref());
        e.str(&c.source);
        e.opt(c.detail.as_deref());
    }

    /// Number of resources added so far.
    pub fn resource_count(&self) -> u64 {
        self.resources.count()
    }

    /// The content hash (hex) over `meta` (its id is not part of it) and every record, in
    /// the current encoding ([`HASH_VERSION`]).
    pub fn finish(self, meta: &ScanMeta) -> String {
        self.finish_version(meta, HASH_VERSION)
    }

    /// The content hash in encoding `version`: 1 has no creator section (scans written
    /// before creators were recorded), 2 appends it.
    pub fn finish_version(self, meta: &ScanMeta, version: i64) -> String {
        let mut h = Sha256::new();
        h.update(if version >= 2 {
            b"cloudcensus-scan-v2"
        } else {
            b"cloudcensus-scan-v1"
        });
        {
            let mut e = Enc(&mut h);
            e.str(&meta.organisation);
            e.str(&meta.period);
            e.str(&timestamp(&meta.started_at));
            e.str(&timestamp(&meta.finished_at));
            e.str(&meta.tool_version);
            e.list(&meta.identities);
            e.str(&meta.config_digest);
        }
        let mut sections = vec![self.scopes, self.groups, self.resources, self.coverage];
        if version >= 2 {
            sections.push(self.creators);
        }
        for sec in sections {
            let (n, digest) = sec.finish();
            h.update(n.to_le_bytes());
            h.update(digest);
        }
        to_hex(&h.finalize())
    }
}

/// The chain hash (hex) of a scan given the previous chain hash, its id and content hash.
pub fn chain_hash(prev: &str, id: &str, content_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"cloudcensus-chain-v1");
    let mut e = Enc(&mut h);
    e.str(prev);
    e.str(id);
    e.str(content_hash);
    to_hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Synth;

    fn hasher_of(data: &cloudcensus_core::ScanData) -> ContentHasher {
        let mut h = ContentHasher::new();
        data.scopes.iter().for_each(|s| h.scope(s));
        data.groups.iter().for_each(|g| h.group(g));
        data.resources.iter().for_each(|r| h.resource(r));
        data.coverage.iter().for_each(|c| h.coverage(c));
        data.creators.iter().for_each(|c| h.creator(c));
        h
    }

    fn hash_of(data: &cloudcensus_core::ScanData) -> String {
        hasher_of(data).finish(&data.meta)
    }

    #[test]
    fn creators_are_content_in_version_2_and_a_version_1_scan_keeps_its_hash() {
        use cloudcensus_core::{Creator, Provider};
        let a = Synth::new(3).scan_data(20);
        let v1 = hasher_of(&a).finish_version(&a.meta, 1);
        assert_ne!(
            v1,
            hash_of(&a),
            "the versions differ in prefix and sections"
        );
        let mut b = a.clone();
        b.creators.push(Creator::older_than(
            Provider::Aws,
            "arn:aws:s3:::x",
            "cloudtrail",
            90,
        ));
        assert_ne!(hash_of(&a), hash_of(&b));
        let mut c = b.clone();
        c.creators[0].detail = Some("older than 91 days".into());
        assert_ne!(hash_of(&b), hash_of(&c));
    }

    #[test]
    fn content_hash_ignores_the_scan_id_but_not_the_content() {
        let a = Synth::new(7).scan_data(50);
        let mut b = a.clone();
        b.meta.id = "2099-01-0001".into();
        assert_eq!(hash_of(&a), hash_of(&b));
        b.resources[10].name.push('x');
        assert_ne!(hash_of(&a), hash_of(&b));
    }

    #[test]
    fn moving_a_value_between_fields_changes_the_hash() {
        let mut a = Synth::new(1).scan_data(1);
        a.resources[0].name = "ab".into();
        a.resources[0].resource_group = Some("c".into());
        let mut b = a.clone();
        b.resources[0].name = "a".into();
        b.resources[0].resource_group = Some("bc".into());
        assert_ne!(hash_of(&a), hash_of(&b));
    }

    #[test]
    fn record_order_within_a_section_is_part_of_the_content() {
        let a = Synth::new(3).scan_data(20);
        let mut b = a.clone();
        b.resources.swap(0, 1);
        assert_ne!(hash_of(&a), hash_of(&b));
    }

    #[test]
    fn chain_hash_depends_on_previous_id_and_content() {
        let base = chain_hash(GENESIS, "2026-01-0001", "ab");
        assert_ne!(base, chain_hash("1", "2026-01-0001", "ab"));
        assert_ne!(base, chain_hash(GENESIS, "2026-01-0002", "ab"));
        assert_ne!(base, chain_hash(GENESIS, "2026-01-0001", "ac"));
        assert_eq!(base.len(), 64);
    }
}
