//! API tokens: the secret is shown once, at creation; the table keeps its hash.

use crate::accounts::{Account, find_in};
use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Sql};
use crate::{Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::{AccountId, TokenId};
use serde::Serialize;

/// An API token (without its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub account_id: AccountId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn read(row: &DbRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.id("id")?,
        account_id: row.id("account_id")?,
        name: row.get("name")?,
        created_at: row.get("created_at")?,
        last_used_at: row.get("last_used_at")?,
        revoked_at: row.get("revoked_at")?,
    })
}

/// API tokens.
#[derive(Debug, Clone, Copy)]
pub struct TokenStore<'a>(pub(crate) &'a Store);

impl TokenStore<'_> {
    pub async fn create(
        self,
        account_id: AccountId,
        name: &str,
        token_hash: &str,
        ctx: &WriteCtx,
    ) -> Result<ApiToken> {
        let mut tx = self.0.begin().await?;
        let row = Sql::new(
            "INSERT INTO api_tokens (account_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(account_id)
        .bind(name)
        .bind(token_hash)
        .bind(ctx.at)
        .fetch_one(&mut tx)
        .await?;
        let token = read(&row)?;
        let what = serde_json::json!({"name": name, "account_id": account_id});
        let entry = AuditEntry::write(AuditAction::Create, AuditEntity::ApiToken, token.id, what);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The live token with this hash and its account.
    pub async fn find(self, token_hash: &str) -> Result<Option<(ApiToken, Account)>> {
        let db = &mut self.0.db();
        let Some(row) =
            Sql::new("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                .bind(token_hash)
                .fetch_optional(db)
                .await?
        else {
            return Ok(None);
        };
        let t = read(&row)?;
        Ok(find_in(db, t.account_id).await?.map(|a| (t, a)))
    }

    pub async fn mark_used(self, id: TokenId, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    pub async fn list(self, account_id: AccountId) -> Result<Vec<ApiToken>> {
        Sql::new("SELECT * FROM api_tokens WHERE account_id = $1 ORDER BY id DESC")
            .bind(account_id)
            .fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read)
            .collect()
    }

    pub async fn revoke(self, account_id: AccountId, id: TokenId, ctx: &WriteCtx) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
        )
        .bind(ctx.at)
        .bind(id)
        .bind(account_id)
        .execute(&mut tx)
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::write(
            AuditAction::Revoke,
            AuditEntity::ApiToken,
            id,
            serde_json::Value::Null,
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }
}
