//! Shared, immutable text for findings.
//!
//! A million-resource evaluation emits hundreds of thousands of findings. Most of their
//! text is the same over and over: the rule's code, clause and action, and the scope,
//! region, resource type, activity id and countries of the resources. Owning a `String`
//! per field per finding made allocation the largest cost of evaluation (issue #4), so
//! those fields are [`SharedStr`]s and [`Countries`] interned once per evaluation and
//! shared by reference count. Both serialise exactly like the `String` / `Vec<String>`
//! they replace, so JSON output is unchanged.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable string shared by reference count. Compares, hashes, prints and
/// serialises like the `str` it holds.
#[derive(Clone, Eq)]
pub struct SharedStr(Arc<str>);

impl SharedStr {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address of the shared text: equal for values interned together.
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const u8 as usize
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr(Arc::from(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(Arc::from(s))
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &Self) -> bool {
        // Interned values share their allocation: equal pointers need no comparison.
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == &*other.0
    }
}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &Self) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl Hash for SharedStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same as `str`'s hash, so a set of `SharedStr` can be searched with `&str`.
        (*self.0).hash(state)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SharedStr::from)
    }
}

/// The countries of a location (ISO codes), shared by every finding at that location.
/// Serialises as the list of codes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Countries(Option<Arc<[String]>>);

impl Countries {
    /// The codes joined with `sep` (`NL+DE`).
    pub fn join(&self, sep: &str) -> String {
        self.deref().join(sep)
    }
}

impl Deref for Countries {
    type Target = [String];

    fn deref(&self) -> &[String] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl From<Vec<String>> for Countries {
    fn from(v: Vec<String>) -> Self {
        if v.is_empty() {
            Countries(None)
        } else {
            Countries(Some(Arc::from(v)))
        }
    }
}

impl<const N: usize> PartialEq<[&str; N]> for Countries {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.deref() == other
    }
}

impl fmt::Debug for Countries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.deref(), f)
    }
}

impl Serialize for Countries {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.deref().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Countries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<String>::deserialize(d).map(Countries::from)
    }
}

/// A fast, non-cryptographic hasher for short in-process keys (location names, scope
/// ids, codes). The inputs come from our own scan and register, hash maps live for one
/// evaluation, and iteration order is never observed, so SipHash's flooding defence
/// buys nothing here while costing a large share of evaluation time.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Interns text for one evaluation: every distinct string is allocated once.
#[derive(Default)]
pub struct Interner {
    strings: HashSet<SharedStr, BuildHasherDefault<FastHasher>>,
    countries: FastMap<Vec<String>, Countries>,
}

impl Interner {
    /// The shared copy of `s`.
    pub fn str(&mut self, s: &str) -> SharedStr {
        if let Some(v) = self.strings.get(s) {
            return v.clone();
        }
        let v = SharedStr::from(s);
        self.strings.insert(v.clone());
        v
    }

    /// The shared copy of a country list.
    pub fn countries(&mut self, c: &[String]) -> Countries {
        if c.is_empty() {
            return Countries::default();
        }
        if let Some(v) = self.countries.get(c) {
            return v.clone();
        }
        let v = Countries::from(c.to_vec());
        self.countries.insert(c.to_vec(), v.clone());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_text_serialises_like_the_owned_types() {
        let s = SharedStr::from("CB-UNREG");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"CB-UNREG\"");
        let c = Countries::from(vec!["NL".to_string(), "DE".to_string()]);
        assert_eq!(serde_json::to_string(&c).unwrap(), "[\"NL\",\"DE\"]");
        assert_eq!(serde_json::to_string(&Countries::default()).unwrap(), "[]");
        let back: Countries = serde_json::from_str("[\"NL\",\"DE\"]").unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn interned_strings_share_one_allocation_and_order_like_str() {
        let mut i = Interner::default();
        let a = i.str("eu-west-1");
        let b = i.str(&String::from("eu-west-1"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(
            a.cmp(&i.str("eu-central-1")),
            "eu-west-1".cmp("eu-central-1")
        );
        assert_eq!(a, "eu-west-1");
    }

    #[test]
    fn fast_hasher_separates_short_keys() {
        let h = |s: &str| {
            let mut x = FastHasher::default();
            s.hash(&mut x);
            x.finish()
        };
        assert_ne!(h("eu-west-1"), h("eu-west-2"));
        assert_ne!(h(""), h("a"));
    }
}
