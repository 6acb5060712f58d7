//! A node tree to JSON the way sigs.k8s.io/yaml's `YAMLToJSON` does it over go-yaml v2, which is
//! how client-go reads kubeconfigs, kubeadm its config and kind its kubeadm patches: YAML 1.1
//! scalars (`yes`/`on` are booleans, `0777` is octal), keys turned into strings, merge keys
//! applied where they stand, a later duplicate key replacing an earlier one.

use super::YamlError;
use super::de::Budget;
use super::node::{Kind, Node};
use super::resolve::{self, Go, Value};
use serde_json::{Map, Number, Value as Json};

/// The JSON value of a document.
pub(crate) fn value(node: &Node, budget: &Budget) -> Result<Json, YamlError> {
    budget.spend(node)?;
    let target = node.target();
    match &target.kind {
        Kind::Scalar { value, style } => {
            let r = resolve::resolve(Go::V2, target.tag.as_deref(), *style, value)
                .map_err(|message| at(node, message))?;
            Ok(match r.value {
                Value::Null => Json::Null,
                Value::Bool(b) => Json::Bool(b),
                Value::Int(i) => match i64::try_from(i) {
                    Ok(i) => Json::from(i),
                    Err(_) => {
                        Json::from(u64::try_from(i).map_err(|_| at(node, "integer out of range"))?)
                    }
                },
                Value::Float(f) => Json::Number(Number::from_f64(f).ok_or_else(|| {
                    at(
                        node,
                        format!(
                            "{value} cannot be represented in JSON (quote it to make it a string)"
                        ),
                    )
                })?),
                Value::Timestamp => Json::String(value.clone()),
                Value::Str(s) => Json::String(s.into_owned()),
            })
        }
        Kind::Seq(items) => items
            .iter()
            .map(|item| self::value(item, budget))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        Kind::Map(pairs) => {
            let mut out = Map::new();
            for (k, v) in pairs {
                if let Kind::Scalar { value, style } = &k.kind
                    && resolve::is_merge_key(Go::V2, k.tag.as_deref(), *style, value)
                {
                    merge(&mut out, v, budget)?;
                    continue;
                }
                let key = key(k)?;
                out.insert(key, self::value(v, budget)?);
            }
            Ok(Json::Object(out))
        }
        Kind::Alias(_) => Err(at(node, "an alias that points at an alias")),
    }
}

/// go-yaml v2's merge: the named mapping(s) are decoded into the mapping being built at the
/// merge key's place (a sequence from last to first, so earlier mappings win).
fn merge(out: &mut Map<String, Json>, source: &Node, budget: &Budget) -> Result<(), YamlError> {
    let want_map = || {
        at(
            source,
            "map merge requires map or sequence of maps as the value",
        )
    };
    let target = source.target();
    let mappings: Vec<&Node> = match &target.kind {
        Kind::Map(_) => vec![target],
        Kind::Seq(items) => items
            .iter()
            .rev()
            .map(|item| match &item.target().kind {
                Kind::Map(_) => Ok(&**item),
                _ => Err(want_map()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(want_map()),
    };
    for mapping in mappings {
        if let Json::Object(map) = value(mapping, budget)? {
            out.extend(map);
        }
    }
    Ok(())
}

/// A key as sigs.k8s.io/yaml turns it into a JSON object key.
fn key(node: &Node) -> Result<String, YamlError> {
    let target = node.target();
    let Kind::Scalar { value, style } = &target.kind else {
        return Err(at(
            node,
            "a mapping key must be a scalar (a collection cannot be a JSON key)",
        ));
    };
    let r = resolve::resolve(Go::V2, target.tag.as_deref(), *style, value)
        .map_err(|message| at(node, message))?;
    Ok(match r.value {
        Value::Null => {
            return Err(at(
                node,
                "a mapping key is null, which cannot be a JSON key (quote it)",
            ));
        }
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => go_float32_g(f),
        Value::Timestamp => value.clone(),
        Value::Str(s) => s.into_owned(),
    })
}

fn at(node: &Node, message: impl Into<String>) -> YamlError {
    YamlError {
        message: message.into(),
        location: Some(node.position()),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` (how sigs.k8s.io/yaml spells a float key).
fn go_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let short = format!("{:e}", f as f32);
    let (mantissa, exp) = short.split_once('e').unwrap_or((&short, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let dp = exp + 1;
    let text = if dp <= 0 {
        format!("0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(dp as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(dp as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_are_spelled_as_go_does() {
        assert_eq!(go_float32_g(1.5), "1.5");
        assert_eq!(go_float32_g(0.1), "0.1");
        assert_eq!(go_float32_g(100000.0), "100000");
        assert_eq!(go_float32_g(1e6), "1e+06");
        assert_eq!(go_float32_g(1234567.0), "1.234567e+06");
        assert_eq!(go_float32_g(0.0001), "0.0001");
        assert_eq!(go_float32_g(0.00001), "1e-05");
        assert_eq!(go_float32_g(-2.0), "-2");
        assert_eq!(go_float32_g(0.0), "0");
    }
}
