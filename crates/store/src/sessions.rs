//! Server-side sessions and the record of sign-in attempts (for lockout).

use crate::accounts::{Account, find_in};
use crate::audit::{self, AuditEntry};
use crate::db::{Exec, Sql};
use crate::{Result, Store, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::AccountId;
use doorstep_domain::audit::{AuditAction, AuditEntity};

/// A server-side session. The cookie holds the secret; the table holds its hash.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id_hash: String,
    pub account_id: AccountId,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Recent failed sign-ins of one user name.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginAttempts {
    pub failures: i64,
    pub last_failure: Option<DateTime<Utc>>,
}

/// Ends every session of an account, inside the caller's transaction.
pub(crate) async fn end_all(db: &mut impl Exec, account: AccountId) -> Result<()> {
    Sql::new("DELETE FROM sessions WHERE account_id = $1")
        .bind(account)
        .execute(db)
        .await?;
    Ok(())
}

/// Sessions and sign-in attempts.
#[derive(Debug, Clone, Copy)]
pub struct SessionStore<'a>(pub(crate) &'a Store);

impl SessionStore<'_> {
    pub async fn create(self, s: &SessionRecord) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new(
            "INSERT INTO sessions (id_hash, account_id, csrf_token, ip, user_agent, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id_hash)
        .bind(s.account_id)
        .bind(&s.csrf_token)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }

    /// The session and its account, if both exist (the caller checks the timeouts).
    pub async fn find(self, id_hash: &str) -> Result<Option<(SessionRecord, Account)>> {
        let db = &mut self.0.db();
        let Some(r) = Sql::new("SELECT * FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(db)
            .await?
        else {
            return Ok(None);
        };
        let s = SessionRecord {
            id_hash: r.get("id_hash")?,
            account_id: r.id("account_id")?,
            csrf_token: r.get("csrf_token")?,
            ip: r.get("ip")?,
            user_agent: r.get("user_agent")?,
            created_at: r.get("created_at")?,
            last_seen_at: r.get("last_seen_at")?,
        };
        Ok(find_in(db, s.account_id).await?.map(|a| (s, a)))
    }

    pub async fn touch(self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(at)
            .bind(id_hash)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    pub async fn delete(self, id_hash: &str) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }

    /// Removes sessions idle since before `idle_before` or created before `created_before`.
    pub async fn purge(
        self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(idle_before)
            .bind(created_before)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Failed sign-ins of `username` since `since` and since its last success.
    pub async fn login_attempts(
        self,
        username: &str,
        since: DateTime<Utc>,
    ) -> Result<LoginAttempts> {
        let username = username.trim().to_lowercase();
        let db = &mut self.0.db();
        // Failures count from the later of `since` and the last success.
        let last_success: Option<DateTime<Utc>> = Sql::new(
            "SELECT MAX(at) FROM login_attempts WHERE username = $1 AND succeeded AND at >= $2",
        )
        .bind(&username)
        .bind(since)
        .scalar(db)
        .await?;
        let mut q = Sql::new(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
             WHERE username = $1 AND NOT succeeded AND at >= $2",
        )
        .bind(&username)
        .bind(since);
        if let Some(t) = last_success {
            q.push(" AND at > ").push_bind(t);
        }
        let row = q.fetch_one(db).await?;
        Ok(LoginAttempts {
            failures: row.get("n")?,
            last_failure: row.get("last")?,
        })
    }

    /// Records a sign-in attempt and its audit entry; a success also stamps the account.
    pub async fn record_login(
        self,
        username: &str,
        account: Option<&Account>,
        succeeded: bool,
        reason: &'static str,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let username = username.trim().to_lowercase();
        let detail = serde_json::json!({ "username": username, "reason": reason });
        let mut tx = self.0.begin().await?;
        Sql::new(
            "INSERT INTO login_attempts (username, ip, succeeded, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&username)
        .bind(&ctx.ip)
        .bind(succeeded)
        .bind(ctx.at)
        .execute(&mut tx)
        .await?;
        if let (true, Some(a)) = (succeeded, account) {
            Sql::new("UPDATE accounts SET last_login_at = $1 WHERE id = $2")
                .bind(ctx.at)
                .bind(a.id)
                .execute(&mut tx)
                .await?;
        }
        let action = if succeeded {
            AuditAction::Login
        } else {
            AuditAction::LoginFailed
        };
        let mut entry = AuditEntry::event(action, detail);
        if let Some(a) = account {
            entry.entity = Some(AuditEntity::Account);
            entry.entity_id = Some(a.id.get());
        }
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }
}
