//! Introspection of the live schema, for the test that keeps both backends alike.

use crate::{Result, Store};
use serde::Serialize;

/// One column of one table, as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Column {
    pub table: String,
    pub column: String,
    pub nullable: bool,
}

impl Store {
    /// Every column of every application table (migration bookkeeping excluded), sorted.
    pub async fn schema_columns(&self) -> Result<Vec<Column>> {
        let mut cols: Vec<Column> = match &self.pool {
            crate::Pool::Sqlite(p) => {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT m.name, c.name, c.\"notnull\", c.pk FROM sqlite_master m \
                     JOIN pragma_table_info(m.name) c \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
                )
                .fetch_all(p)
                .await?;
                rows.into_iter()
                    .map(|(t, c, notnull, pk)| Column {
                        table: t,
                        column: c,
                        nullable: notnull == 0 && pk == 0,
                    })
                    .collect()
            }
            crate::Pool::Postgres(p) => {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT table_name::text, column_name::text, is_nullable::text \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(p)
                .await?;
                rows.into_iter()
                    .map(|(t, c, n)| Column {
                        table: t,
                        column: c,
                        nullable: n == "YES",
                    })
                    .collect()
            }
        };
        cols.sort();
        Ok(cols)
    }
}
