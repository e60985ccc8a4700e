//! The one way the store talks to its database.
//!
//! A statement is an [`Sql`]: text with `$n` placeholders (which SQLite and PostgreSQL both
//! read) and its bound [`Arg`]s, built in one piece or clause by clause with
//! [`Sql::push`] and [`Sql::push_bind`]. It runs on anything that is [`Exec`]: the pool
//! (for reads) or a write transaction [`Tx`] (begun by [`crate::Store::begin`], committed
//! by [`Tx::commit`], rolled back when dropped, so that `?` anywhere leaves nothing
//! half-written). Rows come back as [`DbRow`]s read by column name with native types on
//! each backend.
//!
//! Values are never formatted into the text: text comes from literals and from the
//! domain's own table and column names; everything else is bound.

mod exec;

pub(crate) use exec::{Exec, PoolExec, Tx};

use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use exec::{Want, run};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Postgres, Row, Sqlite, Type};

/// A page of results and the total that matched.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One page of a listing: `filtered(head)` is the statement `head` (`SELECT … FROM table`)
/// with the listing's conditions; it gives the total, and the rows in `order` from
/// `offset`, read by `read`.
pub(crate) async fn page<T>(
    db: &mut impl Exec,
    table: &str,
    filtered: impl Fn(&str) -> Sql,
    order: &str,
    (limit, offset): (i64, i64),
    read: impl Fn(&DbRow) -> Result<T>,
) -> Result<Page<T>> {
    let total: i64 = filtered(&format!("SELECT COUNT(*) FROM {table}"))
        .scalar(db)
        .await?;
    let mut q = filtered(&format!("SELECT * FROM {table}"));
    q.push(" ORDER BY ")
        .push(order)
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let items = q
        .fetch_all(db)
        .await?
        .iter()
        .map(read)
        .collect::<Result<_>>()?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// One bound value. `None` binds a typed NULL (PostgreSQL insists on the type).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Float(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Json(Option<serde_json::Value>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($($t:ty => $variant:ident($conv:expr)),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(($conv)(v))
            }
        }
    )*};
}

arg_from! {
    i64 => Int(Some),
    Option<i64> => Int(|v| v),
    f64 => Float(Some),
    Option<f64> => Float(|v| v),
    bool => Bool(Some),
    Option<bool> => Bool(|v| v),
    String => Text(Some),
    Option<String> => Text(|v| v),
    &str => Text(|v: &str| Some(v.to_string())),
    &String => Text(|v: &String| Some(v.clone())),
    Option<&str> => Text(|v: Option<&str>| v.map(str::to_string)),
    &Option<String> => Text(|v: &Option<String>| v.clone()),
    DateTime<Utc> => Time(Some),
    Option<DateTime<Utc>> => Time(|v| v),
    serde_json::Value => Json(Some),
    Option<serde_json::Value> => Json(|v| v),
    Vec<u8> => Bytes(Some),
    &[u8] => Bytes(|v: &[u8]| Some(v.to_vec())),
}

/// Ids bind as integers.
macro_rules! arg_from_ids {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::Int(Some(v.get()))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Arg {
                Arg::Int(v.map(|x| x.get()))
            }
        }
    )*};
}

arg_from_ids!(
    doorstep_domain::SubdistrictId,
    doorstep_domain::NeighbourhoodId,
    doorstep_domain::AccountId,
    doorstep_domain::RequestId,
    doorstep_domain::AttachmentId,
    doorstep_domain::ServiceItemId,
    doorstep_domain::BuildingId,
    doorstep_domain::TokenId,
    doorstep_domain::HouseholdId,
    doorstep_domain::ResidentId,
    doorstep_domain::CareTagId,
    doorstep_domain::VisitId
);

/// Coded enums bind as their codes.
macro_rules! arg_from_codes {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Arg {
                Arg::Text(Some(v.code().to_string()))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Arg {
                Arg::Text(v.map(|x| x.code().to_string()))
            }
        }
    )*};
}

arg_from_codes!(
    doorstep_domain::Role,
    doorstep_domain::Entity,
    doorstep_domain::catalogue::Category,
    doorstep_domain::requests::Kind,
    doorstep_domain::requests::Channel,
    doorstep_domain::requests::State,
    doorstep_domain::requests::Relation,
    doorstep_domain::requests::Satisfaction,
    doorstep_domain::audit::AuditAction,
    doorstep_domain::audit::AuditEntity,
    doorstep_domain::people::Sex,
    doorstep_domain::people::Residency,
    doorstep_domain::people::VisitKind,
    doorstep_domain::bookings::BookingState
);

/// A statement and its arguments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// A statement whose placeholders `$1…` are bound in order with [`Sql::bind`].
    pub fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, v: impl Into<Arg>) -> Sql {
        self.args.push(v.into());
        self
    }

    /// Appends trusted text: SQL, or a table or column name from the domain's tables.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `v` (`$n`, numbered after those already bound).
    pub fn push_bind(&mut self, v: impl Into<Arg>) -> &mut Sql {
        self.args.push(v.into());
        let n = self.args.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }

    /// Appends `$a, $b, …` for each value (an `IN (…)` list).
    pub fn push_binds<T: Into<Arg>>(&mut self, vs: impl IntoIterator<Item = T>) -> &mut Sql {
        for (i, v) in vs.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.push_bind(v);
        }
        self
    }

    /// Appends `(…), (…)`: one parenthesised tuple per item (a multi-row `VALUES`).
    pub fn push_tuples<I>(&mut self, items: I, mut f: impl FnMut(&mut Tuple<'_>, I::Item))
    where
        I: IntoIterator,
    {
        for (i, item) in items.into_iter().enumerate() {
            self.text.push_str(if i == 0 { "(" } else { ", (" });
            let mut t = Tuple {
                sql: self,
                first: true,
            };
            f(&mut t, item);
            self.text.push(')');
        }
    }

    /// Puts trusted text before the statement (a `SELECT … FROM t` in front of shared
    /// conditions); the placeholders already numbered stay as they are.
    pub fn prepend(&mut self, text: &str) -> &mut Sql {
        self.text.insert_str(0, text);
        self
    }

    pub async fn execute(self, db: &mut impl Exec) -> Result<u64> {
        run(self, db.target(), Want::Execute)
            .await
            .map(|r| r.affected)
    }

    pub async fn fetch_all(self, db: &mut impl Exec) -> Result<Vec<DbRow>> {
        run(self, db.target(), Want::All).await.map(|r| r.rows)
    }

    pub async fn fetch_optional(self, db: &mut impl Exec) -> Result<Option<DbRow>> {
        run(self, db.target(), Want::One)
            .await
            .map(|r| r.rows.into_iter().next())
    }

    /// The one row; [`StoreError::NotFound`] when there is none.
    pub async fn fetch_one(self, db: &mut impl Exec) -> Result<DbRow> {
        self.fetch_optional(db).await?.ok_or(StoreError::NotFound)
    }

    /// The first column of the one row.
    pub async fn scalar<T: Column>(self, db: &mut impl Exec) -> Result<T> {
        self.fetch_one(db).await?.get_at(0)
    }

    /// The first column of the first row, if there is a row.
    pub async fn scalar_optional<T: Column>(self, db: &mut impl Exec) -> Result<Option<T>> {
        match self.fetch_optional(db).await? {
            Some(r) => r.get_at(0).map(Some),
            None => Ok(None),
        }
    }

    /// The first column of every row.
    pub async fn scalars<T: Column>(self, db: &mut impl Exec) -> Result<Vec<T>> {
        self.fetch_all(db)
            .await?
            .iter()
            .map(|r| r.get_at(0))
            .collect()
    }
}

/// The values of one tuple of [`Sql::push_tuples`], separated by commas.
pub(crate) struct Tuple<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl Tuple<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.sql.text.push_str(", ");
        }
        self.first = false;
    }

    pub fn bind(&mut self, v: impl Into<Arg>) -> &mut Self {
        self.sep();
        self.sql.push_bind(v);
        self
    }

    /// Trusted text as a value (a literal such as `NULL`).
    pub fn raw(&mut self, text: &str) -> &mut Self {
        self.sep();
        self.sql.push(text);
        self
    }
}

/// A row of either backend, read by column name.
pub(crate) enum DbRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

/// A Rust type both backends decode natively.
pub(crate) trait Column:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Column for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl DbRow {
    pub fn get<T: Column>(&self, column: &str) -> Result<T> {
        match self {
            DbRow::Sqlite(r) => r.try_get(column),
            DbRow::Postgres(r) => r.try_get(column),
        }
        .map_err(StoreError::from)
    }

    pub fn get_at<T: Column>(&self, index: usize) -> Result<T> {
        match self {
            DbRow::Sqlite(r) => r.try_get(index),
            DbRow::Postgres(r) => r.try_get(index),
        }
        .map_err(StoreError::from)
    }

    /// An id column.
    pub fn id<T: From<i64>>(&self, column: &str) -> Result<T> {
        self.get::<i64>(column).map(T::from)
    }

    /// A nullable id column.
    pub fn opt_id<T: From<i64>>(&self, column: &str) -> Result<Option<T>> {
        Ok(self.get::<Option<i64>>(column)?.map(T::from))
    }

    /// A JSON column (JSONB on PostgreSQL, TEXT on SQLite) as a value; NULL is `Null`.
    pub fn json(&self, column: &str) -> Result<serde_json::Value> {
        Ok(self
            .get::<Option<sqlx::types::Json<serde_json::Value>>>(column)?
            .map(|j| j.0)
            .unwrap_or(serde_json::Value::Null))
    }

    /// A JSON column decoded into `T`.
    pub fn json_as<T: serde::de::DeserializeOwned>(&self, column: &str) -> Result<T> {
        serde_json::from_value(self.json(column)?)
            .map_err(|e| StoreError::Database(format!("column {column}: {e}")))
    }

    /// A text column holding one of a coded enum's codes.
    pub fn code<T: std::str::FromStr>(&self, column: &str) -> Result<T> {
        let s: String = self.get(column)?;
        s.parse()
            .map_err(|_| StoreError::Database(format!("column {column}: unknown code {s}")))
    }

    /// A nullable text column holding a code.
    pub fn opt_code<T: std::str::FromStr>(&self, column: &str) -> Result<Option<T>> {
        match self.get::<Option<String>>(column)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Database(format!("column {column}: unknown code {s}"))),
        }
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern matching `q` anywhere.
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

#[cfg(test)]
mod tests;
