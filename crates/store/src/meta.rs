//! A small key/value table for facts about the database itself (e.g. that it holds the
//! demo, and which version of it).

use crate::db::Sql;
use crate::{Result, Store};

/// The key/value table.
#[derive(Debug, Clone, Copy)]
pub struct MetaStore<'a>(pub(crate) &'a Store);

impl MetaStore<'_> {
    pub async fn get(self, key: &str) -> Result<Option<String>> {
        Sql::new("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .scalar_optional(&mut self.0.db())
            .await
    }

    pub async fn set(self, key: &str, value: &str) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }
}
