//! Accounts, sign-in attempts, sessions and API tokens.

use crate::audit::{AuditEntry, insert_audit};
use crate::{Page, PlaceRecord, Result, Store, StoreError, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use doorstep_domain::{Entity, Role};
use serde::Serialize;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// A staff account (without its password hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Account {
    pub id: i64,
    pub subdistrict_id: i64,
    pub neighbourhood_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub partner_unit: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub disabled: bool,
    /// False for accounts that cannot sign in until an admin sets a password.
    pub has_password: bool,
    pub is_demo: bool,
    pub version: i64,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    pub fn actor(&self) -> doorstep_domain::Actor {
        doorstep_domain::Actor {
            account_id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            subdistrict_id: self.subdistrict_id,
            neighbourhood_id: self.neighbourhood_id,
        }
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub neighbourhood_id: Option<i64>,
    pub partner_unit: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub password_hash: Option<String>,
}

/// The editable part of an account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountPatch {
    pub display_name: String,
    pub role: Role,
    pub neighbourhood_id: Option<i64>,
    pub partner_unit: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub disabled: bool,
}

/// A server-side session. The cookie holds the secret; the table holds its hash.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id_hash: String,
    pub account_id: i64,
    pub csrf_token: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// An API token (the secret itself is shown once, at creation, and never stored).
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Recent failed sign-ins of one user name.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoginAttempts {
    pub failures: i64,
    pub last_failure: Option<DateTime<Utc>>,
}

fn read_account<'r, R>(row: &'r R) -> Result<Account, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    let hash: Option<String> = row.try_get("password_hash")?;
    Ok(Account {
        id: row.try_get("id")?,
        subdistrict_id: row.try_get("subdistrict_id")?,
        neighbourhood_id: row.try_get("neighbourhood_id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role}").into()))?,
        partner_unit: row.try_get("partner_unit")?,
        phone: row.try_get("phone")?,
        locale: row.try_get("locale")?,
        disabled: row.try_get("disabled")?,
        has_password: hash.is_some(),
        is_demo: row.try_get("is_demo")?,
        version: row.try_get("version")?,
        last_login_at: row.try_get("last_login_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn read_token<'r, R>(row: &'r R) -> Result<ApiToken, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ApiToken {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const INSERT_ACCOUNT: &str = "INSERT INTO accounts (subdistrict_id, neighbourhood_id, username, \
    display_name, role, partner_unit, phone, password_hash, locale, disabled, is_demo, version, \
    created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, 1, $11, $11) \
    RETURNING id";

fn account_detail(a: &NewAccount) -> serde_json::Value {
    serde_json::json!({
        "username": a.username,
        "display_name": a.display_name,
        "role": a.role,
        "neighbourhood_id": a.neighbourhood_id,
        "partner_unit": a.partner_unit,
    })
}

fn map_dup_username(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Duplicate(_) => StoreError::Duplicate(vec!["username".into()]),
        other => other,
    }
}

impl Store {
    pub async fn count_accounts(&self) -> Result<i64> {
        Ok(with_pool!(self, |p| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM accounts")
                .fetch_one(p)
                .await?
        }))
    }

    /// Checks that a neighbourhood exists in the subdistrict and is active.
    async fn check_neighbourhood(&self, subdistrict_id: i64, nb: Option<i64>) -> Result<()> {
        if let Some(nb) = nb {
            match self.find_place(Entity::Neighbourhood, nb).await? {
                Some(r) if r.subdistrict_id == subdistrict_id && r.archived_at.is_none() => {}
                _ => {
                    return Err(doorstep_domain::FieldErrors::single(
                        "neighbourhood_id",
                        "invalid_reference",
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    pub async fn create_account(
        &self,
        subdistrict_id: i64,
        a: &NewAccount,
        ctx: &WriteCtx,
    ) -> Result<Account> {
        self.check_neighbourhood(subdistrict_id, a.neighbourhood_id)
            .await?;
        let id = with_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(INSERT_ACCOUNT)
                .bind(subdistrict_id)
                .bind(a.neighbourhood_id)
                .bind(&a.username)
                .bind(&a.display_name)
                .bind(a.role.as_str())
                .bind(&a.partner_unit)
                .bind(&a.phone)
                .bind(&a.password_hash)
                .bind(&a.locale)
                .bind(ctx.demo)
                .bind(ctx.at)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_dup_username)?;
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write("create", "account", id, account_detail(a))
            );
            id
        });
        self.get_account(id).await
    }

    /// Creates the subdistrict (unless one exists) and its first admin, on an empty
    /// database only.
    pub async fn setup_first_admin(
        &self,
        subdistrict_name: &str,
        subdistrict_code: Option<&str>,
        admin: &NewAccount,
        ctx: &WriteCtx,
    ) -> Result<Account> {
        let id = with_tx!(self, |tx| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
                .fetch_one(&mut *tx)
                .await?;
            if n > 0 {
                return Err(StoreError::Conflict("already_set_up"));
            }
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM subdistricts ORDER BY id LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            let sd = match existing {
                Some(sd) => sd,
                None => {
                    let sd: i64 = sqlx::query_scalar(
                        "INSERT INTO subdistricts (name, code, is_demo, version, created_at, updated_at) \
                         VALUES ($1, $2, FALSE, 1, $3, $3) RETURNING id",
                    )
                    .bind(subdistrict_name)
                    .bind(subdistrict_code)
                    .bind(ctx.at)
                    .fetch_one(&mut *tx)
                    .await?;
                    let ctx = WriteCtx {
                        subdistrict_id: Some(sd),
                        ..ctx.clone()
                    };
                    insert_audit!(
                        &mut *tx,
                        &ctx,
                        AuditEntry::write(
                            "create",
                            "subdistrict",
                            sd,
                            serde_json::json!({"name": subdistrict_name, "code": subdistrict_code})
                        )
                    );
                    sd
                }
            };
            let id: i64 = sqlx::query_scalar(INSERT_ACCOUNT)
                .bind(sd)
                .bind(None::<i64>)
                .bind(&admin.username)
                .bind(&admin.display_name)
                .bind(Role::Admin.as_str())
                .bind(None::<String>)
                .bind(&admin.phone)
                .bind(&admin.password_hash)
                .bind(&admin.locale)
                .bind(ctx.demo)
                .bind(ctx.at)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_dup_username)?;
            let ctx = WriteCtx {
                subdistrict_id: Some(sd),
                ..ctx.clone()
            };
            insert_audit!(
                &mut *tx,
                &ctx,
                AuditEntry::write("setup", "account", id, account_detail(admin))
            );
            id
        });
        self.get_account(id).await
    }

    pub async fn find_account(&self, id: i64) -> Result<Option<Account>> {
        Ok(with_pool!(self, |p| {
            match sqlx::query("SELECT * FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
            {
                Some(r) => Some(read_account(&r)?),
                None => None,
            }
        }))
    }

    pub async fn get_account(&self, id: i64) -> Result<Account> {
        self.find_account(id).await?.ok_or(StoreError::NotFound)
    }

    /// The account and its password hash, by user name (case-insensitive).
    pub async fn find_login(&self, username: &str) -> Result<Option<(Account, Option<String>)>> {
        let username = username.trim().to_lowercase();
        Ok(with_pool!(self, |p| {
            match sqlx::query("SELECT * FROM accounts WHERE username = $1")
                .bind(&username)
                .fetch_optional(p)
                .await?
            {
                Some(r) => Some((
                    read_account(&r)?,
                    r.try_get::<Option<String>, _>("password_hash")?,
                )),
                None => None,
            }
        }))
    }

    pub async fn list_accounts(
        &self,
        subdistrict_id: i64,
        neighbourhood_id: Option<i64>,
        role: Option<Role>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Account>> {
        let pattern = q
            .filter(|q| !q.trim().is_empty())
            .map(|q| crate::sql::like_pattern(&q.trim().to_lowercase()));
        let where_ = "subdistrict_id = $1 \
            AND ($2 IS NULL OR neighbourhood_id = $2) \
            AND ($3 IS NULL OR role = $3) \
            AND ($4 IS NULL OR LOWER(username) LIKE $4 ESCAPE '\\' OR LOWER(display_name) LIKE $4 ESCAPE '\\')";
        let count_sql = format!("SELECT COUNT(*) FROM accounts WHERE {where_}");
        let list_sql =
            format!("SELECT * FROM accounts WHERE {where_} ORDER BY id LIMIT $5 OFFSET $6");
        let role = role.map(|r| r.as_str());
        let (items, total) = with_pool!(self, |p| {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
                .bind(subdistrict_id)
                .bind(neighbourhood_id)
                .bind(role)
                .bind(&pattern)
                .fetch_one(p)
                .await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(list_sql))
                .bind(subdistrict_id)
                .bind(neighbourhood_id)
                .bind(role)
                .bind(&pattern)
                .bind(limit)
                .bind(offset)
                .fetch_all(p)
                .await?;
            let items = rows
                .iter()
                .map(read_account)
                .collect::<Result<Vec<_>, _>>()?;
            (items, total)
        });
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    /// Changes an account; disabling one ends its sessions.
    pub async fn update_account<F>(
        &self,
        id: i64,
        expected_version: Option<i64>,
        ctx: &WriteCtx,
        change: F,
    ) -> Result<Account>
    where
        F: FnOnce(&Account) -> Result<AccountPatch>,
    {
        let current = self.get_account(id).await?;
        if let Some(v) = expected_version
            && v != current.version
        {
            return Err(StoreError::VersionConflict {
                current: current.version,
            });
        }
        let patch = change(&current)?;
        self.check_neighbourhood(current.subdistrict_id, patch.neighbourhood_id)
            .await?;
        let detail = serde_json::to_value(&patch).unwrap_or_default();
        with_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE accounts SET display_name = $1, role = $2, neighbourhood_id = $3, \
                 partner_unit = $4, phone = $5, locale = $6, disabled = $7, \
                 version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10",
            )
            .bind(&patch.display_name)
            .bind(patch.role.as_str())
            .bind(patch.neighbourhood_id)
            .bind(&patch.partner_unit)
            .bind(&patch.phone)
            .bind(&patch.locale)
            .bind(patch.disabled)
            .bind(ctx.at)
            .bind(id)
            .bind(current.version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::VersionConflict {
                    current: current.version + 1,
                });
            }
            if patch.disabled {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write("update", "account", id, detail)
            );
        });
        self.get_account(id).await
    }

    /// Sets a new password hash and ends every session of the account.
    pub async fn set_password(&self, id: i64, hash: &str, ctx: &WriteCtx) -> Result<()> {
        with_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE accounts SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3",
            )
            .bind(hash)
            .bind(ctx.at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write("set_password", "account", id, serde_json::Value::Null)
            );
        });
        Ok(())
    }

    /// Failed sign-ins of `username` since `since` and since its last success.
    pub async fn login_attempts(
        &self,
        username: &str,
        since: DateTime<Utc>,
    ) -> Result<LoginAttempts> {
        let username = username.trim().to_lowercase();
        // Failures count from the later of `since` and the last success.
        let last_success: Option<DateTime<Utc>> = with_pool!(self, |p| {
            sqlx::query_scalar(
                "SELECT MAX(at) FROM login_attempts WHERE username = $1 AND succeeded AND at >= $2",
            )
            .bind(&username)
            .bind(since)
            .fetch_one(p)
            .await?
        });
        Ok(with_pool!(self, |p| {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
                 WHERE username = $1 AND NOT succeeded AND at >= $2 AND ($3 IS NULL OR at > $3)",
            )
            .bind(&username)
            .bind(since)
            .bind(last_success)
            .fetch_one(p)
            .await?;
            LoginAttempts {
                failures: row.try_get("n")?,
                last_failure: row.try_get("last")?,
            }
        }))
    }

    /// Records a sign-in attempt and its audit entry; a success also stamps the account.
    pub async fn record_login(
        &self,
        username: &str,
        account: Option<&Account>,
        succeeded: bool,
        reason: &'static str,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let username = username.trim().to_lowercase();
        let detail = serde_json::json!({ "username": username, "reason": reason });
        with_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO login_attempts (username, ip, succeeded, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&username)
            .bind(&ctx.ip)
            .bind(succeeded)
            .bind(ctx.at)
            .execute(&mut *tx)
            .await?;
            if let (true, Some(a)) = (succeeded, account) {
                sqlx::query("UPDATE accounts SET last_login_at = $1 WHERE id = $2")
                    .bind(ctx.at)
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?;
            }
            let action = if succeeded { "login" } else { "login_failed" };
            let mut entry = AuditEntry::event(action, detail);
            if let Some(a) = account {
                entry.entity = Some("account");
                entry.entity_id = Some(a.id);
            }
            insert_audit!(&mut *tx, ctx, entry);
        });
        Ok(())
    }

    pub async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query(
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
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The session and its account, if both are live (the caller checks the timeouts).
    pub async fn find_session(&self, id_hash: &str) -> Result<Option<(SessionRecord, Account)>> {
        let found = with_pool!(self, |p| {
            match sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .fetch_optional(p)
                .await?
            {
                Some(r) => Some(SessionRecord {
                    id_hash: r.try_get("id_hash")?,
                    account_id: r.try_get("account_id")?,
                    csrf_token: r.try_get("csrf_token")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                }),
                None => None,
            }
        });
        match found {
            Some(s) => Ok(self.find_account(s.account_id).await?.map(|a| (s, a))),
            None => Ok(None),
        }
    }

    pub async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(at)
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Removes sessions idle since before `idle_before` or created before `created_before`.
    pub async fn purge_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64> {
        Ok(with_tx!(self, |tx| {
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(created_before)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        }))
    }

    pub async fn create_api_token(
        &self,
        account_id: i64,
        name: &str,
        token_hash: &str,
        ctx: &WriteCtx,
    ) -> Result<ApiToken> {
        let id = with_tx!(self, |tx| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (account_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(account_id)
            .bind(name)
            .bind(token_hash)
            .bind(ctx.at)
            .fetch_one(&mut *tx)
            .await?;
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write(
                    "create",
                    "api_token",
                    id,
                    serde_json::json!({"name": name, "account_id": account_id})
                )
            );
            id
        });
        Ok(with_pool!(self, |p| {
            read_token(
                &sqlx::query("SELECT * FROM api_tokens WHERE id = $1")
                    .bind(id)
                    .fetch_one(p)
                    .await?,
            )?
        }))
    }

    /// The live token with this hash and its account.
    pub async fn find_api_token(&self, token_hash: &str) -> Result<Option<(ApiToken, Account)>> {
        let token = with_pool!(self, |p| {
            match sqlx::query(
                "SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            )
            .bind(token_hash)
            .fetch_optional(p)
            .await?
            {
                Some(r) => Some(read_token(&r)?),
                None => None,
            }
        });
        match token {
            Some(t) => Ok(self.find_account(t.account_id).await?.map(|a| (t, a))),
            None => Ok(None),
        }
    }

    pub async fn mark_api_token_used(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    pub async fn list_api_tokens(&self, account_id: i64) -> Result<Vec<ApiToken>> {
        Ok(with_pool!(self, |p| {
            let rows =
                sqlx::query("SELECT * FROM api_tokens WHERE account_id = $1 ORDER BY id DESC")
                    .bind(account_id)
                    .fetch_all(p)
                    .await?;
            rows.iter().map(read_token).collect::<Result<Vec<_>, _>>()?
        }))
    }

    pub async fn revoke_api_token(&self, account_id: i64, id: i64, ctx: &WriteCtx) -> Result<()> {
        with_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
            )
            .bind(ctx.at)
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound);
            }
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write("revoke", "api_token", id, serde_json::Value::Null)
            );
        });
        Ok(())
    }

    /// The first subdistrict (single-subdistrict deployments, the demo).
    pub async fn first_subdistrict(&self) -> Result<Option<PlaceRecord>> {
        let id: Option<i64> = with_pool!(self, |p| {
            sqlx::query_scalar("SELECT id FROM subdistricts ORDER BY id LIMIT 1")
                .fetch_optional(p)
                .await?
        });
        match id {
            Some(id) => self.find_place(Entity::Subdistrict, id).await,
            None => Ok(None),
        }
    }
}
