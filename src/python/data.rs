//! Python data read strictly: every value keeps its Python type on the way to serde.
//!
//! `pythonize`'s deserializer answers a type hint by coercion: `True` for an integer or a float
//! field is 1, and any truthy object for a boolean field is `true` (the text `"false"` among
//! them). A scenario's `recurring = "false"` became a recurring pressure and `plan.years = True`
//! one year (issue 38, item 7). Here the Python object is first copied into [`Data`], which
//! keeps bool, int, float, text, list and dict apart, and serde reads that through
//! `deserialize_any`, as it reads TOML and JSON: a boolean where a number belongs, or text
//! where a boolean belongs, is a type error naming its key path.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::value::{Error, MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// How deep Python data may nest (the deepest scenario is a few levels; JSON and TOML readers
/// have limits of their own).
const MAX_DEPTH: usize = 64;

/// A Python value, its type kept.
#[derive(Debug, Clone)]
pub(crate) enum Data {
    None,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    List(Vec<Data>),
    Map(Vec<(String, Data)>),
}

impl Data {
    /// Copies `obj` (None, bool, int, float, str, list, tuple, dict with text keys).
    /// Errors name the key path (`plan.years: ...`).
    pub(crate) fn from_py(obj: &Bound<'_, PyAny>) -> Result<Data, String> {
        Data::read(obj, 0).map_err(|(path, message)| {
            let mut at = String::new();
            for p in path.iter().rev() {
                if !p.starts_with('[') && !at.is_empty() {
                    at.push('.');
                }
                at.push_str(p);
            }
            if at.is_empty() {
                message
            } else {
                format!("{at}: {message}")
            }
        })
    }

    /// The value, or the path to the bad value (innermost first) and what is wrong.
    fn read(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Data, (Vec<String>, String)> {
        let here = |m: String| (Vec::new(), m);
        let within = |key: String| {
            move |(mut path, m): (Vec<String>, String)| {
                path.push(key);
                (path, m)
            }
        };
        if depth > MAX_DEPTH {
            return Err(here(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        if obj.is_none() {
            return Ok(Data::None);
        }
        // A bool is an int in Python: ask it first.
        if let Ok(b) = obj.cast::<PyBool>() {
            return Ok(Data::Bool(b.is_true()));
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            if let Ok(v) = i.extract::<i64>() {
                return Ok(Data::Int(v));
            }
            if let Ok(v) = i.extract::<u64>() {
                return Ok(Data::UInt(v));
            }
            let digits = i.str().map(|s| s.to_cow().map(|c| c.len()).unwrap_or(0));
            return Err(here(format!(
                "an integer of {} digits is too large",
                digits.unwrap_or(0)
            )));
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return Ok(Data::Float(f.value()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return s
                .to_cow()
                .map(|s| Data::Str(s.to_string()))
                .map_err(|_| here("text that is not valid Unicode (a lone surrogate)".into()));
        }
        if let Ok(l) = obj.cast::<PyList>() {
            return l
                .iter()
                .enumerate()
                .map(|(i, v)| Data::read(&v, depth + 1).map_err(within(format!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Data::List);
        }
        if let Ok(t) = obj.cast::<PyTuple>() {
            return t
                .iter()
                .enumerate()
                .map(|(i, v)| Data::read(&v, depth + 1).map_err(within(format!("[{i}]"))))
                .collect::<Result<_, _>>()
                .map(Data::List);
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            let mut out = Vec::with_capacity(d.len());
            for (k, v) in d.iter() {
                let key = k
                    .cast::<PyString>()
                    .map_err(|_| {
                        here(format!(
                            "a key {} is not text",
                            k.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                        ))
                    })?
                    .to_cow()
                    .map_err(|_| here("a key that is not valid Unicode (a lone surrogate)".into()))?
                    .to_string();
                let value = Data::read(&v, depth + 1).map_err(within(key.clone()))?;
                out.push((key, value));
            }
            return Ok(Data::Map(out));
        }
        let kind = obj
            .get_type()
            .qualname()
            .map_or_else(|_| "unknown".to_string(), |q| q.to_string());
        Err(here(format!(
            "a {kind} is not data a scenario can hold (numbers, text, lists, dicts)"
        )))
    }
}

impl<'de> IntoDeserializer<'de, Error> for Data {
    type Deserializer = Data;
    fn into_deserializer(self) -> Data {
        self
    }
}

impl<'de> de::Deserializer<'de> for Data {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Data::None => visitor.visit_unit(),
            Data::Bool(b) => visitor.visit_bool(b),
            Data::Int(i) => visitor.visit_i64(i),
            Data::UInt(u) => visitor.visit_u64(u),
            Data::Float(f) => visitor.visit_f64(f),
            Data::Str(s) => visitor.visit_string(s),
            Data::List(l) => visitor.visit_seq(SeqDeserializer::new(l.into_iter())),
            Data::Map(m) => visitor.visit_map(MapDeserializer::new(m.into_iter())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Data::None => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Data::Str(s) => visitor.visit_enum(s.into_deserializer()),
            Data::Map(m) => visitor.visit_enum(MapAccessDeserializer::new(MapDeserializer::new(
                m.into_iter(),
            ))),
            other => other.deserialize_any(EnumExpected {
                name,
                variants,
                visitor,
            }),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Refuses a value that is neither text nor a one-key table where an enum belongs, with
/// serde's own "invalid type" message.
struct EnumExpected<V> {
    name: &'static str,
    variants: &'static [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for EnumExpected<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let _ = &self.visitor;
        write!(
            f,
            "enum {} (one of {})",
            self.name,
            self.variants.join(", ")
        )
    }
}
