//! Running statements: on the pool or in a write transaction, with each backend's own
//! types bound and read.

use super::{Arg, DbRow, Sql};
use crate::{Backend, Pool, Result};
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, Postgres, Sqlite, Type};

/// Where a statement runs.
pub(crate) enum Target<'a> {
    SqlitePool(&'a sqlx::SqlitePool),
    PgPool(&'a sqlx::PgPool),
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// Something statements run on: the pool ([`crate::Store::db`]) or a [`Tx`].
pub(crate) trait Exec: Send {
    fn target(&mut self) -> Target<'_>;
    fn backend(&self) -> Backend;

    /// ` FOR UPDATE` where the backend locks rows read in a transaction (SQLite's write
    /// transactions hold the whole database already).
    fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// The pool, for reads outside a transaction.
pub(crate) struct PoolExec<'a>(pub(crate) &'a Pool);

impl Exec for PoolExec<'_> {
    fn target(&mut self) -> Target<'_> {
        match self.0 {
            Pool::Sqlite(p) => Target::SqlitePool(p),
            Pool::Postgres(p) => Target::PgPool(p),
        }
    }
    fn backend(&self) -> Backend {
        match self.0 {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A write transaction: `BEGIN IMMEDIATE` on SQLite (holding this process's writer
/// lock, so writers queue here rather than in SQLite's busy handler), `BEGIN` on
/// PostgreSQL. Dropped without [`Tx::commit`], it rolls back.
pub(crate) struct Tx {
    inner: TxInner,
}

enum TxInner {
    // The transaction is declared first so that it is dropped (rolled back) before the
    // writer lock is released.
    Sqlite(
        sqlx::Transaction<'static, Sqlite>,
        tokio::sync::OwnedMutexGuard<()>,
    ),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) async fn begin(
        pool: &Pool,
        writer: &std::sync::Arc<tokio::sync::Mutex<()>>,
    ) -> Result<Tx> {
        let inner = match pool {
            Pool::Sqlite(p) => {
                let guard = writer.clone().lock_owned().await;
                TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, guard)
            }
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx { inner })
    }

    /// Around lookups repeated hundreds of times while a bulk load grows their tables:
    /// on PostgreSQL, plan each execution with its own values (`on`) or go back to the
    /// plan cache. A generic plan made while a table was small can turn every later
    /// lookup into a full scan (a subdistrict's roster took minutes); inserts keep
    /// their cached plans.
    pub(crate) async fn plan_each(&mut self, on: bool) -> Result<()> {
        if matches!(self.inner, TxInner::Postgres(_)) {
            let mode = if on { "force_custom_plan" } else { "auto" };
            Sql::new(format!("SET LOCAL plan_cache_mode = {mode}"))
                .execute(self)
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(tx, _writer) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Exec for Tx {
    fn target(&mut self) -> Target<'_> {
        match &mut self.inner {
            TxInner::Sqlite(tx, _) => Target::Sqlite(tx),
            TxInner::Postgres(tx) => Target::Postgres(tx),
        }
    }
    fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(..) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }
}

type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments>;

/// Binds one argument with its native type.
fn bind<'q, DB: Database>(q: Query<'q, DB>, a: Arg) -> Query<'q, DB>
where
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    Option<sqlx::types::Json<serde_json::Value>>: Encode<'q, DB> + Type<DB>,
    Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
{
    match a {
        Arg::Int(v) => q.bind(v),
        Arg::Float(v) => q.bind(v),
        Arg::Bool(v) => q.bind(v),
        Arg::Text(v) => q.bind(v),
        Arg::Time(v) => q.bind(v),
        Arg::Json(v) => q.bind(v.map(sqlx::types::Json)),
        Arg::Bytes(v) => q.bind(v),
    }
}

fn build<'q, DB: Database>(text: String, args: Vec<Arg>) -> Query<'q, DB>
where
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
    Option<sqlx::types::Json<serde_json::Value>>: Encode<'q, DB> + Type<DB>,
    Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
{
    // Safe: the text is built from literals and the domain's identifiers only (see the
    // module's notes); every value is an argument.
    let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(text));
    for a in args {
        q = bind(q, a);
    }
    q
}

#[derive(Clone, Copy)]
pub(super) enum Want {
    Execute,
    One,
    All,
}

#[derive(Default)]
pub(super) struct Outcome {
    pub affected: u64,
    pub rows: Vec<DbRow>,
}

pub(super) async fn run(sql: Sql, target: Target<'_>, want: Want) -> Result<Outcome> {
    let Sql { text, args } = sql;
    let sqlite = |r: sqlx::sqlite::SqliteQueryResult| r.rows_affected();
    let pg = |r: sqlx::postgres::PgQueryResult| r.rows_affected();
    match target {
        Target::SqlitePool(p) => {
            let text = positional(&text, args.len()).unwrap_or(text);
            perform(build(text, args), p, want, sqlite, DbRow::Sqlite).await
        }
        Target::Sqlite(c) => {
            let text = positional(&text, args.len()).unwrap_or(text);
            perform(build(text, args), c, want, sqlite, DbRow::Sqlite).await
        }
        Target::PgPool(p) => perform(build(text, args), p, want, pg, DbRow::Postgres).await,
        Target::Postgres(c) => perform(build(text, args), c, want, pg, DbRow::Postgres).await,
    }
}

/// The statement with `$1, $2, …` written as plain `?` when each is used once and in
/// order (as built by `push_bind`), else none. SQLite keeps numbered parameters in a list
/// it walks to name each one, and sqlx-sqlite names every parameter of a statement, so a
/// multi-row `VALUES` or a long `IN (…)` costs the square of its parameters; plain `?`
/// have no names and bind in order. Text with anything that could hide or add a
/// placeholder (a double-quoted name, a comment, a `?`) is left as written; so is a `$n`
/// in single quotes.
pub(super) fn positional(text: &str, args: usize) -> Option<String> {
    if ["\"", "--", "/*", "?"].iter().any(|x| text.contains(x)) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let (mut next, mut quoted) = (1usize, false);
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '$' || quoted {
            out.push(c);
            continue;
        }
        let mut n = String::new();
        while let Some((_, d)) = chars.next_if(|(_, d)| d.is_ascii_digit()) {
            n.push(d);
        }
        if n.parse::<usize>().ok()? != next {
            return None;
        }
        next += 1;
        out.push('?');
    }
    (next == args + 1 && args > 0).then_some(out)
}

/// Runs one query on one executor, for what the caller wants of it.
async fn perform<'e, 'q, DB, E>(
    q: Query<'q, DB>,
    exec: E,
    want: Want,
    affected: impl Fn(DB::QueryResult) -> u64,
    wrap: impl Fn(DB::Row) -> DbRow,
) -> Result<Outcome>
where
    DB: Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    E: sqlx::Executor<'e, Database = DB>,
    'q: 'e,
{
    let mut out = Outcome::default();
    match want {
        Want::Execute => out.affected = affected(q.execute(exec).await?),
        Want::One => out.rows.extend(q.fetch_optional(exec).await?.map(wrap)),
        Want::All => out.rows = q.fetch_all(exec).await?.into_iter().map(wrap).collect(),
    }
    Ok(out)
}
