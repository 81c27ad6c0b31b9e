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

/// The longest line an error message keeps whole (room for the list of keys a table takes):
/// longer lines (a TOML snippet of a 64 MiB line, a value of a million characters) keep their
/// start and end around a count of what was left out, so that no message echoes a whole input
/// (issue 38, item 12).
pub const MAX_MESSAGE_LINE: usize = 1_000;

/// `message` with every line longer than [`MAX_MESSAGE_LINE`] characters clipped.
///
/// # Examples
///
/// ```
/// use fiscalrisk::source::clip;
/// let long = format!("name: {:?} is too long", "x".repeat(100_000));
/// let short = clip(&long);
/// assert!(short.len() < 1_100 && short.contains("…[99,104 characters]…") && short.ends_with("is too long"));
/// assert_eq!(clip("a\nb"), "a\nb");
/// ```
pub fn clip(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4 * MAX_MESSAGE_LINE));
    for (i, line) in message.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let chars = line.chars().count();
        if chars <= MAX_MESSAGE_LINE {
            out.push_str(line);
        } else {
            let head: String = line.chars().take(MAX_MESSAGE_LINE * 2 / 3).collect();
            let tail: String = line.chars().skip(chars - MAX_MESSAGE_LINE / 4).collect();
            let left = chars - MAX_MESSAGE_LINE * 2 / 3 - MAX_MESSAGE_LINE / 4;
            out.push_str(&format!("{head}…[{} characters]…{tail}", thousands(left)));
        }
    }
    out
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A TOML syntax error (no key path: the text could not be parsed), its last line in the
/// user's words and every line clipped.
pub fn parse_error(message: &str) -> String {
    let (snippet, last) = match message.trim_end().rsplit_once('\n') {
        Some((head, last)) => (format!("{head}\n"), last.to_string()),
        None => (String::new(), message.trim_end().to_string()),
    };
    clip(&format!("{snippet}{}", plain(".", &last)))
}

/// A deserialisation error with its key path in front (`savings[12].rag: ...`), or alone when
/// it is about the whole input: the one form every reader's errors take.
pub fn with_path<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    let inner = e.into_inner().to_string();
    // A TOML error is a located snippet ending in the deserialiser's message: keep the snippet,
    // say the message in the user's words.
    let (snippet, last) = match inner.trim_end().rsplit_once('\n') {
        Some((head, last)) => (format!("{head}\n"), last.to_string()),
        None => (String::new(), inner.trim_end().to_string()),
    };
    let message = format!("{snippet}{}", plain(&path, &last));
    clip(&if path == "." {
        message
    } else {
        format!("{path}: {message}")
    })
}

/// The forms a distribution is written in.
pub const DISTRIBUTION_FORMS: &str = "{ dist = \"fixed\", value = ... }, { dist = \"uniform\", low = ..., high = ... }, \
{ dist = \"triangular\", low = ..., mode = ..., high = ... }, { dist = \"pert\", low = ..., mode = ..., high = ... }, \
{ dist = \"normal\", mean = ..., sd = ... }, { dist = \"lognormal\", p50 = ..., p90 = ... }, \
{ dist = \"discrete\", values = [...], weights = [...] }, { dist = \"empirical\", samples = [...] }";

/// The forms of the general fund's minimum.
pub const MINIMUM_FORMS: &str = "{ amount = ... }, { percent_of_budget = ... }, { risk_assessed = 0.95 }, \
{ risk_matrix = [{ up_to = ..., factor = ... }, ...] }";

/// The form of a savings delivery model.
pub const DELIVERY_FORM: &str =
    "{ p_full = ..., partial = { dist = \"uniform\", low = ..., high = ... }, p_slip = ... }";

/// The deserialiser's message (serde's words: `expected internally tagged enum`, `wanted string
/// or table`, `expected f64`) in the user's words: what was found and the forms accepted.
///
/// # Examples
///
/// ```
/// use fiscalrisk::source::plain;
/// assert_eq!(
///     plain("risks[0].probability", "invalid type: string \"half\", expected f64"),
///     "\"half\" is not a number"
/// );
/// assert!(plain("policy.minimum_general_fund", "wanted string or table")
///     .starts_with("expected one of { amount = ... }, { percent_of_budget = ... }"));
/// // A JSON message keeps its place.
/// assert_eq!(
///     plain(".", "invalid type: string \"plan\", expected struct ScenarioSpec at line 1 column 6"),
///     "\"plan\" is not a table { key = value, ... } at line 1 column 6"
/// );
/// ```
pub fn plain(path: &str, message: &str) -> String {
    // serde_json ends its messages with the place (`... at line 3 column 7`): keep it.
    if let Some(at) = message.rfind(" at line ") {
        let (head, place) = message.split_at(at);
        if place[" at line ".len()..]
            .split(" column ")
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            return format!("{}{place}", plain(path, head));
        }
    }
    let minimum = path.ends_with("minimum_general_fund")
        || (path.contains("minimum_general_fund") && message.ends_with(" variant"));
    if minimum
        && (message.starts_with("wanted")
            || message.starts_with("unknown variant")
            || message.starts_with("invalid type"))
    {
        let found = message
            .strip_prefix("unknown variant ")
            .and_then(|m| m.split(',').next())
            .map(|v| format!(" (found {v})"))
            .unwrap_or_default();
        return format!("expected one of {MINIMUM_FORMS}{found}");
    }
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.split_once(", expected "))
    {
        let found = found
            .trim_start_matches("floating point ")
            .trim_start_matches("integer ")
            .trim_start_matches("string ")
            .trim_start_matches("boolean ")
            .replace('`', "");
        return match expected {
            "internally tagged enum DistributionSpec" => {
                format!("{found} is not a distribution; write one of {DISTRIBUTION_FORMS}")
            }
            "struct DeliverySpec" => {
                format!("{found} is not a delivery model; write {DELIVERY_FORM}")
            }
            "f64" | "u64" | "usize" | "u32" | "i64" => format!("{found} is not a number"),
            "a boolean" => format!("{found} is not true or false"),
            // TOML reads a bare date (2019-04-01) as a table.
            "a string" if found == "map" => {
                "a table or a TOML date is not text (write it in quotes: a year is \"2019/20\")"
                    .to_string()
            }
            "a string" => format!("{found} is not text (write it in quotes)"),
            // A form given where another belongs (a choice written as text, say).
            e if e.ends_with(" variant") => {
                format!("this is not one of the forms this key takes (found {found}, expected {e})")
            }
            e if e.starts_with("a sequence") => format!("{found} is not a list [..., ...]"),
            e if e.starts_with("struct ") || e.starts_with("a map") => {
                format!("{found} is not a table {{ key = value, ... }}")
            }
            other => format!("{found} is not {}", other.trim_start_matches("an ")),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        return if field == "dist" {
            format!("the key `dist` is missing: write one of {DISTRIBUTION_FORMS}")
        } else {
            format!("the key `{field}` is missing")
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once("`, expected ") {
            let expected = expected
                .trim_start_matches("one of ")
                .replace("` or `", ", ")
                .replace('`', "");
            // Top-level keys written under a table (TOML puts a key in the table above it).
            let hint = if matches!(field, "correlations" | "unidentified" | "opening_overspend") {
                "; it is a top-level key: move it above the first [table]"
            } else {
                ""
            };
            return format!("`{field}` is not a key here; the keys are {expected}{hint}");
        }
        if let Some((field, _)) = rest.split_once("`, there are no fields") {
            return format!("`{field}` is not a key here; this table takes no keys");
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((variant, expected)) = rest.split_once("`, expected ")
    {
        let expected = expected
            .trim_start_matches("one of ")
            .replace("` or `", ", ")
            .replace('`', "");
        let what = if path.ends_with("dist") {
            "distribution"
        } else {
            "choice"
        };
        return format!("{variant:?} is not a {what} fiscalrisk knows; expected one of {expected}");
    }
    if message.starts_with("wanted exactly 1 element") {
        return "give exactly one form, not several".to_string();
    }
    if message.starts_with("data did not match any variant of untagged enum Base") {
        return "expected an amount (Band D equivalents, at most 1e15) or a table of them by year { \"2024/25\" = ... }".to_string();
    }
    if message.starts_with("data did not match any variant of untagged enum") {
        return format!("this is not one of the forms this key takes ({message})");
    }
    if let Some(rest) = message.strip_prefix("invalid value: integer `")
        && let Some((n, expected)) = rest.split_once("`, expected ")
    {
        let most = match expected {
            "u32" => u32::MAX.to_string(),
            "i32" => i32::MAX.to_string(),
            "u8" => u8::MAX.to_string(),
            "u16" => u16::MAX.to_string(),
            _ => return format!("{n} is out of range"),
        };
        return format!("{n} is out of range (at most {most})");
    }
    if message.contains("recursion limit") || message.contains("max recursion depth") {
        return format!("nested too deeply ({message})");
    }
    message.to_string()
}

/// The key path an error message starts with (the text before its first `": "`), without the
/// labels [`item`] writes: `risks[3] ("equal_pay").probability: ...` gives
/// `risks[3].probability`.
pub fn message_path(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    loop {
        let label = rest.find(" (\"");
        let colon = rest.find(": ");
        match (label, colon) {
            (Some(l), c) if c.is_none_or(|c| l < c) => {
                out.push_str(&rest[..l]);
                // Skip the quoted label, escapes included.
                let mut chars = rest[l + 3..].char_indices();
                let mut end = None;
                while let Some((i, ch)) = chars.next() {
                    match ch {
                        '\\' => {
                            chars.next();
                        }
                        '"' => {
                            end = Some(l + 3 + i + 1);
                            break;
                        }
                        _ => {}
                    }
                }
                match end.and_then(|e| rest[e..].strip_prefix(')').map(|r| (e, r))) {
                    Some((_, r)) => rest = r,
                    None => return out,
                }
            }
            (_, Some(c)) => {
                out.push_str(&rest[..c]);
                return out;
            }
            (_, None) => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// An item of a list as errors name it: its position and, when it has one, its id or name,
/// e.g. `risks[3] ("equal_pay")`, so a user finds it without counting.
///
/// ```
/// use fiscalrisk::source::{item, message_path};
/// let message = format!("{}.probability: 1.5 is outside [0, 1]", item("risks", 3, "equal_pay"));
/// assert_eq!(message, "risks[3] (\"equal_pay\").probability: 1.5 is outside [0, 1]");
/// assert_eq!(message_path(&message), "risks[3].probability");
/// assert_eq!(item("risks", 0, ""), "risks[0]");
/// ```
pub fn item(list: &str, index: usize, label: &str) -> String {
    if label.is_empty() {
        format!("{list}[{index}]")
    } else {
        format!("{list}[{index}] ({label:?})")
    }
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
