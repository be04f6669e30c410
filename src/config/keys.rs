//! Every key the configuration file accepts, read from the parser itself: serde's derived
//! `Deserialize` names a struct's fields before it reads them, so a probe that walks one
//! path at a time (`rules`, then `rules.suppress`, …) collects the whole key tree without
//! a hand-kept list. The documented-keys test holds the docs to it.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::Config;

/// The fields found at the end of a probed path.
type Found = RefCell<Option<&'static [&'static str]>>;

/// Every key `cloudcensus.toml` accepts, dotted (`rules.suppress.reason`); array tables
/// (`[[aws]]`) and inline tables are named by their key (`aws.name`).
pub fn accepted_keys() -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut todo: Vec<Vec<&'static str>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let fields: Found = RefCell::new(None);
        let _ = <Config as serde::Deserialize>::deserialize(Probe {
            rest: &path,
            fields: &fields,
        });
        let Some(fields) = fields.into_inner() else {
            continue; // a leaf: a value, a map of free keys, an enum
        };
        for f in fields {
            let mut child = path.clone();
            child.push(f);
            found.insert(child.join("."));
            todo.push(child);
        }
    }
    found.into_iter().collect()
}

/// Walks `rest` down the structure; at its end, records the struct's fields.
struct Probe<'p> {
    rest: &'p [&'static str],
    fields: &'p Found,
}

fn stop<T>() -> Result<T, de::value::Error> {
    Err(de::Error::custom("probe"))
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        stop()
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.rest.split_first() {
            None => {
                *self.fields.borrow_mut() = Some(fields);
                stop()
            }
            Some((next, rest)) => visitor.visit_map(OneKey {
                key: Some(next),
                rest,
                fields: self.fields,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(OneElement(Some(self)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map enum identifier ignored_any
    }
}

/// A map with one key (the next path segment), whose value is probed further.
struct OneKey<'p> {
    key: Option<&'static str>,
    rest: &'p [&'static str],
    fields: &'p Found,
}

impl<'de> MapAccess<'de> for OneKey<'_> {
    type Error = de::value::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.key.take() {
            Some(k) => seed
                .deserialize(de::value::StrDeserializer::<Self::Error>::new(k))
                .map(Some),
            None => stop(),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(Probe {
            rest: self.rest,
            fields: self.fields,
        })
    }
}

/// A sequence of one element (an array of tables: its element's keys).
struct OneElement<'p>(Option<Probe<'p>>);

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = de::value::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.0.take() {
            Some(p) => seed.deserialize(p).map(Some),
            None => stop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_tree_is_read_from_the_parser() {
        let keys = accepted_keys();
        for k in [
            "organisation",
            "store",
            "rules",
            "rules.suppress",
            "rules.suppress.reason",
            "matching.tag_keys",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
        }
    }
}
