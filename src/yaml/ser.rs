//! `Serialize` values to the writer's tree, keeping field and key order as given.

use super::YamlError;
use serde::ser::{self, Serialize};
use std::fmt;

/// What the writer writes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Out>),
    Map(Vec<(Out, Out)>),
}

/// A value that cannot be written.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

impl From<Error> for YamlError {
    fn from(e: Error) -> YamlError {
        YamlError {
            message: e.0,
            location: None,
        }
    }
}

/// The tree of `value`.
pub(crate) fn to_tree<T: Serialize + ?Sized>(value: &T) -> Result<Out, Error> {
    value.serialize(Serializer)
}

struct Serializer;

/// Collects a sequence (or a tuple, or a variant's fields wrapped in a one-key mapping).
pub(crate) struct SeqOut {
    items: Vec<Out>,
    variant: Option<&'static str>,
}

/// Collects a mapping (or a struct, or a struct variant).
pub(crate) struct MapOut {
    pairs: Vec<(Out, Out)>,
    key: Option<Out>,
    variant: Option<&'static str>,
}

fn wrap(variant: Option<&'static str>, value: Out) -> Out {
    match variant {
        Some(v) => Out::Map(vec![(Out::Str(v.to_string()), value)]),
        None => value,
    }
}

impl ser::Serializer for Serializer {
    type Ok = Out;
    type Error = Error;
    type SerializeSeq = SeqOut;
    type SerializeTuple = SeqOut;
    type SerializeTupleStruct = SeqOut;
    type SerializeTupleVariant = SeqOut;
    type SerializeMap = MapOut;
    type SerializeStruct = MapOut;
    type SerializeStructVariant = MapOut;

    fn serialize_bool(self, v: bool) -> Result<Out, Error> {
        Ok(Out::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Out, Error> {
        Ok(Out::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Out, Error> {
        Ok(Out::Int(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Out, Error> {
        i128::try_from(v)
            .map(Out::Int)
            .map_err(|_| Error(format!("integer {v} is too large to write")))
    }
    fn serialize_f32(self, v: f32) -> Result<Out, Error> {
        Ok(Out::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Out, Error> {
        Ok(Out::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Out, Error> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Out, Error> {
        Ok(Out::Str(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Out, Error> {
        Ok(Out::Seq(v.iter().map(|b| Out::Int((*b).into())).collect()))
    }
    fn serialize_none(self) -> Result<Out, Error> {
        Ok(Out::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Out, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Out, Error> {
        Ok(Out::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Out, Error> {
        Ok(Out::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Out, Error> {
        Ok(Out::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Out, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Out, Error> {
        Ok(wrap(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqOut, Error> {
        Ok(SeqOut {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqOut, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqOut, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqOut, Error> {
        Ok(SeqOut {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapOut, Error> {
        Ok(MapOut {
            pairs: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapOut, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapOut, Error> {
        Ok(MapOut {
            pairs: Vec::with_capacity(len),
            key: None,
            variant: Some(variant),
        })
    }
}

impl SeqOut {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.items.push(value.serialize(Serializer)?);
        Ok(())
    }
    fn done(self) -> Out {
        wrap(self.variant, Out::Seq(self.items))
    }
}

/// serde's sequence-like traits all collect elements the same way.
macro_rules! sequence_like {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for SeqOut {
            type Ok = Out;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Out, Error> {
                Ok(self.done())
            }
        }
    )*};
}

sequence_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl MapOut {
    fn done(self) -> Out {
        wrap(self.variant, Out::Map(self.pairs))
    }
}

impl ser::SerializeMap for MapOut {
    type Ok = Out;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(Serializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a mapping value came without its key".into()))?;
        self.pairs.push((key, value.serialize(Serializer)?));
        Ok(())
    }
    fn end(self) -> Result<Out, Error> {
        Ok(self.done())
    }
}

impl ser::SerializeStruct for MapOut {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.pairs
            .push((Out::Str(key.to_string()), value.serialize(Serializer)?));
        Ok(())
    }
    fn end(self) -> Result<Out, Error> {
        Ok(self.done())
    }
}

impl ser::SerializeStructVariant for MapOut {
    type Ok = Out;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.pairs
            .push((Out::Str(key.to_string()), value.serialize(Serializer)?));
        Ok(())
    }
    fn end(self) -> Result<Out, Error> {
        Ok(self.done())
    }
}
