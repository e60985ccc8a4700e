//! Open311's answers: JSON or XML (`name.json` / `name.xml`), and its error format.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Xml,
}

/// `name.json` / `name.xml` → (name, format).
pub(super) fn split(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    let f = match ext {
        "json" => Format::Json,
        "xml" => Format::Xml,
        _ => return None,
    };
    Some((name, f))
}

/// An answer in the spec's error format: `[{code, description}]` / `<errors>`.
pub(super) struct Failure {
    pub status: StatusCode,
    pub description: String,
    /// Seconds until a limited client may try again (a 429's `Retry-After`).
    pub retry_after: Option<u64>,
}

pub(super) fn fail(status: StatusCode, description: impl Into<String>) -> Failure {
    Failure {
        status,
        description: description.into(),
        retry_after: None,
    }
}

impl Failure {
    pub(super) fn respond(self, f: Format) -> Response {
        let body = json!([{"code": self.status.as_u16(), "description": self.description}]);
        let mut res = answer(f, self.status, "errors", "error", &body);
        if let Some(v) = self
            .retry_after
            .and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<doorstep_services::Error> for Failure {
    fn from(e: doorstep_services::Error) -> Self {
        use doorstep_services::Error as E;
        match e {
            E::NotFound => fail(StatusCode::NOT_FOUND, "not found"),
            E::Unavailable => fail(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
            E::Forbidden => fail(StatusCode::FORBIDDEN, "forbidden"),
            E::TooManyRequests => fail(StatusCode::TOO_MANY_REQUESTS, "too many requests"),
            other => fail(StatusCode::INTERNAL_SERVER_ERROR, other.code()),
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The singular of a list element's name (`endpoints` → `endpoint`).
fn singular(name: &str) -> &str {
    name.strip_suffix('s').unwrap_or(name)
}

fn xml_value(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in m {
                xml_value(out, k, x);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(xs) => {
            out.push_str(&format!("<{name}>"));
            for x in xs {
                xml_value(out, singular(name), x);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// The body in the asked format: JSON as is; XML as `<root><item>…</item></root>` for a
/// list, or `<root>…</root>` for an object.
pub(super) fn answer(
    f: Format,
    status: StatusCode,
    root: &str,
    item: &str,
    body: &Value,
) -> Response {
    match f {
        Format::Json => (status, axum::Json(body.clone())).into_response(),
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
            match body {
                Value::Array(xs) => {
                    out.push_str(&format!("<{root}>"));
                    for x in xs {
                        xml_value(&mut out, item, x);
                    }
                    out.push_str(&format!("</{root}>"));
                }
                other => xml_value(&mut out, root, other),
            }
            (
                status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

pub(super) fn respond(f: Format, root: &str, item: &str, r: Result<Value, Failure>) -> Response {
    match r {
        Ok(v) => answer(f, StatusCode::OK, root, item, &v),
        Err(e) => e.respond(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_name_and_format() {
        assert_eq!(split("services.json"), Some(("services", Format::Json)));
        assert_eq!(split("12.xml"), Some(("12", Format::Xml)));
        assert_eq!(split("services"), None);
        assert_eq!(split("services.csv"), None);
    }

    #[test]
    fn xml_nests_lists_and_escapes_text() {
        let mut out = String::new();
        xml_value(
            &mut out,
            "discovery",
            &json!({"endpoints": [{"formats": ["text/xml"]}], "note": "a<b&\"c\"\u{1}"}),
        );
        assert_eq!(
            out,
            "<discovery><endpoints><endpoint><formats><format>text/xml</format></formats></endpoint></endpoints>\
             <note>a&lt;b&amp;&quot;c&quot;</note></discovery>"
        );
    }
}
