//! Field descriptions and validation.
//!
//! Each kind of record describes its fields once ([`FieldSpec`]); the same description
//! validates web forms and JSON bodies, renders forms and tables, and documents the API.

use serde::Serialize;
use std::collections::BTreeMap;

/// The type and limits of one field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    /// Free text up to `max` characters (not bytes).
    Text { max: usize, multiline: bool },
    /// A whole number within the inclusive range.
    Int { min: i64, max: i64 },
    /// A decimal number within the inclusive range.
    Float { min: f64, max: f64 },
    /// Yes or no.
    Bool,
    /// One of a fixed list of codes.
    Choice(&'static [&'static str]),
    /// The id of a record in the named table; the store checks that it exists in scope.
    Ref(&'static str),
    /// A telephone number as people write them: digits, spaces, `+`, `-`.
    Phone,
}

/// One field of a record.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The name in forms, JSON, the database and translation keys (`field.NAME`).
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// Shown as a column of list tables.
    pub listed: bool,
    /// Can be changed after creation (parents cannot: moving a building to another
    /// neighbourhood is a different operation).
    pub editable: bool,
}

impl FieldSpec {
    pub const fn new(name: &'static str, kind: FieldKind) -> Self {
        Self {
            name,
            kind,
            required: false,
            listed: false,
            editable: true,
        }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn listed(mut self) -> Self {
        self.listed = true;
        self
    }
    pub const fn fixed(mut self) -> Self {
        self.editable = false;
        self
    }
    pub const fn text(name: &'static str, max: usize) -> Self {
        Self::new(
            name,
            FieldKind::Text {
                max,
                multiline: false,
            },
        )
    }
    pub const fn long_text(name: &'static str, max: usize) -> Self {
        Self::new(
            name,
            FieldKind::Text {
                max,
                multiline: true,
            },
        )
    }
    pub const fn int(name: &'static str, min: i64, max: i64) -> Self {
        Self::new(name, FieldKind::Int { min, max })
    }
    pub const fn float(name: &'static str, min: f64, max: f64) -> Self {
        Self::new(name, FieldKind::Float { min, max })
    }
}

/// A stored value of a field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The value as a form shows it.
    pub fn to_form_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Validated values by field name.
pub type Values = BTreeMap<&'static str, Value>;

/// A telephone number that can be dialled in mainland China: a mobile (`1[3-9]` and
/// nine digits), a landline with its area code (`0` + 2–3 digits + 7–8 digits), or a
/// local 7–8 digit number not starting with 0 or 1. Spaces, hyphens and brackets are
/// allowed; so is a `+86`/`0086` prefix.
/// [`is_cn_phone`] as a regular expression (ECMA-262 and Rust alike), for the OpenAPI
/// document: digits with spaces, `(`, `)` or `-` anywhere between them; a mobile number
/// (1, then 3–9, 11 digits), a landline with its area code (0, then 10–12 digits) or
/// without (7–8 digits, not starting 0 or 1); from abroad `+86` or `0086` and the number
/// without the area code's 0. At most 24 characters.
pub const CN_PHONE_PATTERN: &str = concat!(
    r"^[ ()-]*(?:",
    r"(?:\+ *86|0[ ()-]*0[ ()-]*8[ ()-]*6)[ ()-]*",
    r"(?:1[ ()-]*[3-9](?:[ ()-]*[0-9]){9}|[2-9](?:[ ()-]*[0-9]){8,10})",
    r"|1[ ()-]*[3-9](?:[ ()-]*[0-9]){9}",
    r"|0[ ()-]*[1-9](?:[ ()-]*[0-9]){8,10}",
    r"|[2-9](?:[ ()-]*[0-9]){6,7}",
    r")[ ()-]*$"
);

pub fn is_cn_phone(text: &str) -> bool {
    if text.len() > 24
        || !text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
        || text.chars().skip(1).any(|c| c == '+')
    {
        return false;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let (national, international) = if let Some(rest) = text.trim_start().strip_prefix('+') {
        match rest.trim_start().strip_prefix("86") {
            Some(_) => (&digits[2..], true),
            None => return false,
        }
    } else if let Some(rest) = digits.strip_prefix("0086") {
        (rest, true)
    } else {
        (digits.as_str(), false)
    };
    let b = national.as_bytes();
    match (b.first(), international) {
        (Some(b'1'), _) => b.len() == 11 && (b'3'..=b'9').contains(&b[1]),
        // From abroad the area code drops its 0: 2–3 digits + 7–8 digits.
        (Some(b'0'), true) | (None, _) => false,
        (Some(_), true) => (9..=11).contains(&b.len()),
        (Some(b'0'), false) => (10..=12).contains(&b.len()) && b[1] != b'0',
        (Some(_), false) => (7..=8).contains(&b.len()),
    }
}

/// Why a field was refused. The code is stable; the UI translates it (`error.CODE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    /// Numbers the message needs (a maximum length, a range), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
}

/// Every field error of one submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn single(field: &str, code: &'static str) -> Self {
        let mut e = Self::new();
        e.add(field, code);
        e
    }
    pub fn add(&mut self, field: &str, code: &'static str) {
        self.add_with(field, code, Vec::new());
    }
    pub fn add_with(&mut self, field: &str, code: &'static str, params: Vec<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            code,
            params,
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|e| e.field == field)
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(ok) } else { Err(self) }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.code))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

impl std::error::Error for FieldErrors {}

/// Validates `input` (a JSON object, or a web form turned into one) against `specs`.
///
/// Empty strings count as "no value". Keys starting with `_` (form plumbing such as
/// `_csrf`) and the names in `ignore` are skipped; any other unknown key is an error, so a
/// misspelt API field is not silently dropped.
pub fn validate(
    specs: &[FieldSpec],
    input: &serde_json::Map<String, serde_json::Value>,
    current: Option<&Values>,
    ignore: &[&str],
) -> Result<Values, FieldErrors> {
    let mut errors = FieldErrors::new();
    for key in input.keys() {
        if !key.starts_with('_')
            && !ignore.contains(&key.as_str())
            && !specs.iter().any(|s| s.name == key)
        {
            errors.add(key, "unknown_field");
        }
    }
    let mut out = Values::new();
    for spec in specs {
        let parsed = match input.get(spec.name) {
            Some(raw) => parse_value(spec, raw),
            None => match current.and_then(|c| c.get(spec.name)) {
                Some(v) => Ok(v.clone()),
                None => Ok(Value::Null),
            },
        };
        match parsed {
            Ok(v) => {
                if let (Some(cur), false) = (current, spec.editable)
                    && let Some(old) = cur.get(spec.name)
                    && *old != v
                {
                    errors.add(spec.name, "not_editable");
                    continue;
                }
                if spec.required && v.is_null() {
                    errors.add(spec.name, "required");
                } else {
                    out.insert(spec.name, v);
                }
            }
            Err((code, params)) => errors.add_with(spec.name, code, params),
        }
    }
    errors.into_result(out)
}

type ParseError = (&'static str, Vec<String>);

/// What is wrong with a free text, if anything: control characters (NUL included, which
/// PostgreSQL cannot store) are `invalid_characters`, except line breaks and tabs where
/// the text may span lines; more than `max` characters is `too_long`. Every text the
/// system stores is checked by this, whatever route it comes by.
pub fn text_problem(text: &str, max: usize, multiline: bool) -> Option<ParseError> {
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        Some(("invalid_characters", vec![]))
    } else if text.chars().count() > max {
        Some(("too_long", vec![max.to_string()]))
    } else {
        None
    }
}

/// [`text_problem`], recorded on `field`.
pub fn check_text(errors: &mut FieldErrors, field: &str, text: &str, max: usize, multiline: bool) {
    if let Some((code, params)) = text_problem(text, max, multiline) {
        errors.add_with(field, code, params);
    }
}

fn parse_value(spec: &FieldSpec, raw: &serde_json::Value) -> Result<Value, ParseError> {
    use serde_json::Value as J;
    let text = match raw {
        J::Null => return Ok(Value::Null),
        J::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(match spec.kind {
                    // An unticked checkbox sends nothing; an empty one means no.
                    FieldKind::Bool => Value::Bool(false),
                    _ => Value::Null,
                });
            }
            t.to_string()
        }
        J::Bool(b) => {
            return match spec.kind {
                FieldKind::Bool => Ok(Value::Bool(*b)),
                _ => Err(("invalid", vec![])),
            };
        }
        // A number is a number: a text field sent one is refused, not turned into text
        // (a client that sends `"name": 0` has a bug worth hearing about).
        J::Number(n) => match spec.kind {
            FieldKind::Text { .. } | FieldKind::Phone | FieldKind::Choice(_) => {
                return Err(("not_text", vec![]));
            }
            _ => n.to_string(),
        },
        J::Array(_) | J::Object(_) => return Err(("invalid", vec![])),
    };
    match spec.kind {
        FieldKind::Text { max, multiline } => match text_problem(&text, max, multiline) {
            Some(p) => Err(p),
            None => Ok(Value::Text(text)),
        },
        FieldKind::Phone => {
            if is_cn_phone(&text) {
                Ok(Value::Text(text))
            } else {
                Err(("invalid_phone", vec![]))
            }
        }
        FieldKind::Int { min, max } => match text.parse::<i64>() {
            Ok(i) if i >= min && i <= max => Ok(Value::Int(i)),
            Ok(_) => Err(("out_of_range", vec![min.to_string(), max.to_string()])),
            Err(_) => Err(("not_integer", vec![])),
        },
        FieldKind::Ref(_) => match text.parse::<i64>() {
            Ok(i) if i > 0 => Ok(Value::Int(i)),
            _ => Err(("invalid_reference", vec![])),
        },
        FieldKind::Float { min, max } => match text.parse::<f64>() {
            Ok(f) if f.is_finite() && f >= min && f <= max => Ok(Value::Float(f)),
            Ok(_) => Err(("out_of_range", vec![min.to_string(), max.to_string()])),
            Err(_) => Err(("not_number", vec![])),
        },
        FieldKind::Bool => match text.as_str() {
            "true" | "on" | "1" | "yes" => Ok(Value::Bool(true)),
            "false" | "off" | "0" | "no" => Ok(Value::Bool(false)),
            _ => Err(("invalid", vec![])),
        },
        FieldKind::Choice(options) => {
            if options.contains(&text.as_str()) {
                Ok(Value::Text(text))
            } else {
                Err(("invalid_choice", vec![]))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chinese_phone_numbers() {
        use super::is_cn_phone;
        for ok in [
            "13912345678",
            "139 1234 5678",
            "+86 139-1234-5678",
            "008613912345678",
            "021-58881234",
            "(021) 5888 1234",
            "0755-12345678",
            "58881234",
            "+86 21 5888 1234",
        ] {
            assert!(is_cn_phone(ok), "{ok}");
        }
        for bad in [
            "12345",
            "1234567890123",
            "12912345678",
            "call me",
            "+1 415 555 0100",
            "0012345678",
            "021-5888-1234-9999",
            "139+12345678",
            "",
            "+86 021 5888 1234",
        ] {
            assert!(!is_cn_phone(bad), "{bad}");
        }
    }

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const SPECS: &[FieldSpec] = &[
        FieldSpec::text("name", 10).required(),
        FieldSpec::int("floors", 1, 99),
        FieldSpec::float("area", 0.0, 1000.0),
        FieldSpec::new("office", FieldKind::Bool),
        FieldSpec::new("kind", FieldKind::Choice(&["a", "b"])),
        FieldSpec::text("code", 5).fixed(),
    ];

    fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn accepts_good_input_from_json_and_forms() {
        let v = validate(
            SPECS,
            &obj(json!({"name": " 牡丹七 ", "floors": 6, "area": "12.5", "office": "on", "kind": "a", "_csrf": "x"})),
            None,
            &[],
        )
        .unwrap();
        assert_eq!(v["name"], Value::Text("牡丹七".into()));
        assert_eq!(v["floors"], Value::Int(6));
        assert_eq!(v["area"], Value::Float(12.5));
        assert_eq!(v["office"], Value::Bool(true));
        assert_eq!(v["code"], Value::Null);
    }

    proptest::proptest! {
        /// The OpenAPI document's phone pattern accepts exactly what the server does.
        #[test]
        fn the_phone_pattern_is_the_phone_check(
            prefix in proptest::sample::select(vec!["", "+86", "+86 ", "0086", "00 86-", " ", "("]),
            body in "[0-9 ()+-]{0,22}",
            mobile in "1[3-9][0-9]{9}",
            pick in 0usize..3,
        ) {
            let re = regex::Regex::new(CN_PHONE_PATTERN).unwrap();
            let text = match pick {
                0 => format!("{prefix}{body}"),
                1 => format!("{prefix}{mobile}"),
                _ => format!("{prefix}{}-{}", &mobile[..3], &mobile[3..]),
            };
            proptest::prop_assert_eq!(re.is_match(&text) && text.len() <= 24, is_cn_phone(&text), "{:?}", text);
        }
    }

    #[test]
    fn text_is_text_without_control_characters() {
        const NOTES: &[FieldSpec] = &[
            FieldSpec::text("name", 10),
            FieldSpec::long_text("notes", 100),
        ];
        let code = |v: serde_json::Value, field: &str| {
            validate(NOTES, &obj(v), None, &[])
                .err()
                .and_then(|e| e.0.into_iter().find(|x| x.field == field))
                .map(|x| x.code)
        };
        assert_eq!(code(json!({"name": 0}), "name"), Some("not_text"));
        assert_eq!(
            code(json!({"name": "a\u{0}b"}), "name"),
            Some("invalid_characters")
        );
        assert_eq!(
            code(json!({"name": "一行\n两行"}), "name"),
            Some("invalid_characters")
        );
        assert_eq!(code(json!({"notes": "一行\r\n两行\t缩进"}), "notes"), None);
        assert_eq!(
            code(json!({"notes": "响铃\u{7}"}), "notes"),
            Some("invalid_characters")
        );
        assert_eq!(
            code(json!({"notes": "x".repeat(101)}), "notes"),
            Some("too_long")
        );
    }

    #[test]
    fn reports_every_bad_field_with_a_code() {
        let e = validate(
            SPECS,
            &obj(json!({"floors": "x", "area": -1, "kind": "z", "extra": 1, "office": [1]})),
            None,
            &[],
        )
        .unwrap_err();
        let codes: Vec<(&str, &str)> = e.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(codes.contains(&("name", "required")));
        assert!(codes.contains(&("floors", "not_integer")));
        assert!(codes.contains(&("area", "out_of_range")));
        assert!(codes.contains(&("kind", "invalid_choice")));
        assert!(codes.contains(&("extra", "unknown_field")));
        assert!(codes.contains(&("office", "invalid")));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(
            validate(
                SPECS,
                &obj(json!({"name": "花木街道花木街道花木"})),
                None,
                &[]
            )
            .is_ok()
        );
        let e = validate(
            SPECS,
            &obj(json!({"name": "花木街道花木街道花木街"})),
            None,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, "too_long");
        assert_eq!(e.0[0].params, vec!["10".to_string()]);
    }

    #[test]
    fn updates_merge_over_current_and_keep_fixed_fields() {
        let current = validate(SPECS, &obj(json!({"name": "a", "code": "X1"})), None, &[]).unwrap();
        let v = validate(SPECS, &obj(json!({"floors": 3})), Some(&current), &[]).unwrap();
        assert_eq!(v["name"], Value::Text("a".into()));
        assert_eq!(v["floors"], Value::Int(3));
        let e = validate(SPECS, &obj(json!({"code": "Y"})), Some(&current), &[]).unwrap_err();
        assert_eq!(e.0[0].code, "not_editable");
        // Clearing a required field is refused.
        let e = validate(SPECS, &obj(json!({"name": ""})), Some(&current), &[]).unwrap_err();
        assert_eq!(e.0[0].code, "required");
    }

    proptest! {
        /// The phone check never panics, and every mobile number passes however it is
        /// spaced or prefixed.
        #[test]
        fn phone_check_is_total_and_accepts_every_mobile(junk in "\\PC{0,30}", second in 3u8..10, rest in "[0-9]{9}", sep in "[ -]?", plus in any::<bool>()) {
            let _ = super::is_cn_phone(&junk);
            let n = format!("1{second}{}{sep}{}", &rest[..4], &rest[4..]);
            let n = if plus { format!("+86 {n}") } else { n };
            prop_assert!(super::is_cn_phone(&n), "{}", n);
        }

        #[test]
        fn never_panics_and_ints_stay_in_range(s in ".{0,40}", n in any::<i64>()) {
            let r = validate(SPECS, &obj(json!({"name": s, "floors": n})), None, &[]);
            if let Ok(v) = r {
                let f = v["floors"].as_i64().unwrap();
                prop_assert!((1..=99).contains(&f));
                prop_assert!(v["name"].as_str().unwrap().chars().count() <= 10);
            }
        }

        #[test]
        fn valid_ints_round_trip_through_form_strings(n in 1i64..=99) {
            let v = validate(SPECS, &obj(json!({"name": "x", "floors": n.to_string()})), None, &[]).unwrap();
            prop_assert_eq!(v["floors"].to_form_string(), n.to_string());
        }
    }
}
