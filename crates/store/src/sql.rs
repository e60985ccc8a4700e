//! Backend-generic helpers: binding field values and reading them back.

use doorstep_domain::{FieldKind, FieldSpec, Value, Values};
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type};

pub(crate) type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// Binds one field value with the SQL type its kind needs (a NULL keeps its type, which
/// PostgreSQL insists on).
pub(crate) fn bind_value<'q, DB>(q: Query<'q, DB>, kind: FieldKind, v: &Value) -> Query<'q, DB>
where
    DB: Database,
    for<'t> Option<i64>: Encode<'t, DB>,
    for<'t> Option<f64>: Encode<'t, DB>,
    for<'t> Option<bool>: Encode<'t, DB>,
    for<'t> Option<String>: Encode<'t, DB>,
    i64: Type<DB>,
    f64: Type<DB>,
    bool: Type<DB>,
    String: Type<DB>,
{
    match kind {
        FieldKind::Int { .. } | FieldKind::Ref(_) => q.bind(v.as_i64()),
        FieldKind::Float { .. } => q.bind(v.as_f64()),
        FieldKind::Bool => q.bind(match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }),
        FieldKind::Text { .. } | FieldKind::Choice(_) | FieldKind::Phone => {
            q.bind(v.as_str().map(str::to_string))
        }
    }
}

/// Reads the fields of `specs` from a row by column name.
pub(crate) fn read_values<'r, R>(row: &'r R, specs: &[FieldSpec]) -> Result<Values, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Option<i64>: Decode<'r, R::Database>,
    Option<f64>: Decode<'r, R::Database>,
    Option<bool>: Decode<'r, R::Database>,
    Option<String>: Decode<'r, R::Database>,
    i64: Type<R::Database>,
    f64: Type<R::Database>,
    bool: Type<R::Database>,
    String: Type<R::Database>,
{
    let mut out = Values::new();
    for spec in specs {
        let name = spec.name;
        let v = match spec.kind {
            FieldKind::Int { .. } | FieldKind::Ref(_) => {
                row.try_get::<Option<i64>, _>(name)?.map(Value::Int)
            }
            FieldKind::Float { .. } => row.try_get::<Option<f64>, _>(name)?.map(Value::Float),
            FieldKind::Bool => Some(Value::Bool(
                row.try_get::<Option<bool>, _>(name)?.unwrap_or(false),
            )),
            FieldKind::Text { .. } | FieldKind::Choice(_) | FieldKind::Phone => {
                row.try_get::<Option<String>, _>(name)?.map(Value::Text)
            }
        };
        out.insert(name, v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// `$1, $2, …` from `start`.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::with_capacity(q.len() + 2);
    s.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}
