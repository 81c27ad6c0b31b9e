//! Where in a TOML file a key path points, so that an error found after parsing (a value out of
//! range, a year outside the plan) names the file's line as a syntax error does.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::source::line_of;
//! let text = "[plan]\nyears = 3\n\n[[risks]]\nid = \"a\"\n\n[[risks]]\nid = \"b\"\nprobability = 1.5\n";
//! assert_eq!(line_of(text, "risks[1].probability"), Some(9));
//! // The deepest key the file has: a default that is not written points at its table.
//! assert_eq!(line_of(text, "risks[1].impact.high"), Some(7));
//! assert_eq!(line_of(text, "plan.years"), Some(2));
//! ```

use toml::de::{DeTable, DeValue};

/// One step of a key path: a key or an index.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The key path at the start of an error message (`reserves.earmarked[1].balance: ...`), as
/// steps; quoted keys (`planned_use."2030/31"`) keep their text.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { break };
            let Ok(i) = r[..end].parse() else { break };
            out.push(Step::Index(i));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('"') {
            let Some(end) = r.find('"') else { break };
            out.push(Step::Key(&r[..end]));
            rest = &r[end + 1..];
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            out.push(Step::Key(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// The 1-based line of the deepest key of `path` that `text` (TOML) has, or `None` when the
/// text does not parse or not even the first key is in it.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut found: Option<std::ops::Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    for step in steps(path) {
        let value = match (step, table, array) {
            (Step::Key(k), Some(t), _) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == k)
                .map(|(key, v)| (key.span(), v)),
            (Step::Index(i), _, Some(a)) => a.get(i).map(|v| (v.span(), v)),
            _ => None,
        };
        let Some((span, value)) = value else { break };
        found = Some(span);
        (table, array) = match value.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(a) => (None, Some(a.as_ref())),
            _ => (None, None),
        };
    }
    let span = found?;
    Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
}

/// A deserialisation error with its key path in front (`savings[12].rag: ...`), or alone when
/// it is about the whole input: the one form every reader's errors take.
pub fn with_path<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if path == "." {
        inner.to_string()
    } else {
        format!("{path}: {inner}")
    }
}

/// The key path an error message starts with (the text before its first `": "`).
pub fn message_path(message: &str) -> &str {
    message.split(": ").next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            steps("reserves.planned_use.\"2030/31\""),
            [
                Step::Key("reserves"),
                Step::Key("planned_use"),
                Step::Key("2030/31")
            ]
        );
        assert_eq!(
            steps("savings[12].rag"),
            [Step::Key("savings"), Step::Index(12), Step::Key("rag")]
        );
    }

    #[test]
    fn inline_tables_and_arrays_have_lines_too() {
        let text = "[reserves]\ngeneral_fund = 1\nearmarked = [\n  { name = \"A\", balance = 1, usable = true },\n  { name = \"B\", balance = -5, usable = true },\n]\n";
        assert_eq!(line_of(text, "reserves.earmarked[1].balance"), Some(5));
        assert_eq!(line_of(text, "reserves.general_fund"), Some(2));
        assert_eq!(line_of("not toml [", "a"), None);
        assert_eq!(line_of(text, "nothing.here"), None);
    }
}
