//! What only tests need of the store: compiled for the store's own tests and for crates
//! that enable the `testing` feature in their dev-dependencies, never shipped.

use crate::db::Sql;
use crate::{Backend, Pool, Result, Store};
use serde::Serialize;

/// One column of one table, as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Column {
    pub table: String,
    pub column: String,
    pub nullable: bool,
}

/// Every column of every application table (migration bookkeeping excluded), sorted, for
/// the test that keeps both backends' schemas alike.
pub async fn schema_columns(store: &Store) -> Result<Vec<Column>> {
    let db = &mut store.db();
    let mut cols: Vec<Column> = match &store.pool {
        Pool::Sqlite(_) => Sql::new(
            "SELECT m.name AS t, c.name AS c, c.\"notnull\" AS nn, c.pk AS pk FROM sqlite_master m \
             JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        )
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            Ok(Column {
                table: r.get("t")?,
                column: r.get("c")?,
                nullable: r.get::<i64>("nn")? == 0 && r.get::<i64>("pk")? == 0,
            })
        })
        .collect::<Result<_>>()?,
        Pool::Postgres(_) => Sql::new(
            "SELECT table_name::text AS t, column_name::text AS c, is_nullable::text AS n \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
        )
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            Ok(Column {
                table: r.get("t")?,
                column: r.get("c")?,
                nullable: r.get::<String>("n")? == "YES",
            })
        })
        .collect::<Result<_>>()?,
    };
    cols.sort();
    Ok(cols)
}

/// SQLite's journal mode (`wal` in normal operation); `None` on PostgreSQL.
pub async fn journal_mode(store: &Store) -> Result<Option<String>> {
    match store.backend() {
        Backend::Sqlite => Ok(Some(
            Sql::new("PRAGMA journal_mode")
                .scalar(&mut store.db())
                .await?,
        )),
        Backend::Postgres => Ok(None),
    }
}

/// Tries to rewrite history; the audit log's triggers must refuse.
pub async fn tamper_with_audit_log(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    Sql::new("UPDATE audit_log SET action = 'nothing'")
        .execute(&mut tx)
        .await?;
    tx.commit().await
}
