//! Staff accounts.

use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Exec, Sql, like_pattern, page};
use crate::{Page, Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::{AccountId, Entity, FieldErrors, NeighbourhoodId, Role, SubdistrictId};
use serde::Serialize;
use std::collections::HashMap;

/// A staff account (without its password hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: Option<NeighbourhoodId>,
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
    pub neighbourhood_id: Option<NeighbourhoodId>,
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
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub partner_unit: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub disabled: bool,
}

/// Which accounts to list.
#[derive(Debug, Clone)]
pub struct AccountFilter {
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub role: Option<Role>,
    /// Part of the user name or display name.
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl AccountFilter {
    /// Every account of a subdistrict (narrow it with the fields).
    pub fn of(subdistrict_id: SubdistrictId) -> Self {
        AccountFilter {
            subdistrict_id,
            neighbourhood_id: None,
            role: None,
            q: None,
            limit: 200,
            offset: 0,
        }
    }
}

pub(crate) fn read(row: &DbRow) -> Result<Account> {
    let hash: Option<String> = row.get("password_hash")?;
    Ok(Account {
        id: row.id("id")?,
        subdistrict_id: row.id("subdistrict_id")?,
        neighbourhood_id: row.opt_id("neighbourhood_id")?,
        username: row.get("username")?,
        display_name: row.get("display_name")?,
        role: row.code("role")?,
        partner_unit: row.get("partner_unit")?,
        phone: row.get("phone")?,
        locale: row.get("locale")?,
        disabled: row.get("disabled")?,
        has_password: hash.is_some(),
        is_demo: row.get("is_demo")?,
        version: row.get("version")?,
        last_login_at: row.get("last_login_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// An account by id, read on `db` (the pool, or a transaction in progress).
pub(crate) async fn find_in(db: &mut impl Exec, id: AccountId) -> Result<Option<Account>> {
    match Sql::new("SELECT * FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
    {
        Some(r) => Ok(Some(read(&r)?)),
        None => Ok(None),
    }
}

fn insert(sd: SubdistrictId, a: &NewAccount, role: Role, ctx: &WriteCtx) -> Sql {
    Sql::new(
        "INSERT INTO accounts (subdistrict_id, neighbourhood_id, username, display_name, role, \
         partner_unit, phone, password_hash, locale, disabled, is_demo, version, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10, 1, $11, $11) \
         RETURNING id",
    )
    .bind(sd)
    .bind(a.neighbourhood_id)
    .bind(&a.username)
    .bind(&a.display_name)
    .bind(role)
    .bind(&a.partner_unit)
    .bind(&a.phone)
    .bind(&a.password_hash)
    .bind(&a.locale)
    .bind(ctx.demo)
    .bind(ctx.at)
}

fn detail(a: &NewAccount) -> serde_json::Value {
    serde_json::json!({
        "username": a.username,
        "display_name": a.display_name,
        "role": a.role,
        "neighbourhood_id": a.neighbourhood_id,
        "partner_unit": a.partner_unit,
    })
}

/// Checks on `db` that a neighbourhood exists in the subdistrict and is active.
async fn check_neighbourhood(
    db: &mut impl Exec,
    sd: SubdistrictId,
    nb: Option<NeighbourhoodId>,
) -> Result<()> {
    let Some(nb) = nb else { return Ok(()) };
    match crate::places::find_in(db, Entity::Neighbourhood, nb.get()).await? {
        Some(r) if r.subdistrict_id == sd && r.is_active() => Ok(()),
        _ => Err(FieldErrors::single("neighbourhood_id", "invalid_reference").into()),
    }
}

/// Staff accounts.
#[derive(Debug, Clone, Copy)]
pub struct AccountStore<'a>(pub(crate) &'a Store);

impl AccountStore<'_> {
    pub async fn count(self) -> Result<i64> {
        Sql::new("SELECT COUNT(*) FROM accounts")
            .scalar(&mut self.0.db())
            .await
    }

    pub async fn create(
        self,
        sd: SubdistrictId,
        a: &NewAccount,
        ctx: &WriteCtx,
    ) -> Result<Account> {
        let mut tx = self.0.begin().await?;
        check_neighbourhood(&mut tx, sd, a.neighbourhood_id).await?;
        let id: AccountId = insert(sd, a, a.role, ctx)
            .scalar::<i64>(&mut tx)
            .await
            .map_err(|e| e.on_key(&["username"]))?
            .into();
        let entry = AuditEntry::write(AuditAction::Create, AuditEntity::Account, id, detail(a));
        audit::insert(&mut tx, ctx, entry).await?;
        let account = find_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(account)
    }

    /// Creates the subdistrict (unless one exists) and its first admin, on an empty
    /// database only.
    pub async fn setup_first_admin(
        self,
        subdistrict_name: &str,
        subdistrict_code: Option<&str>,
        admin: &NewAccount,
        ctx: &WriteCtx,
    ) -> Result<Account> {
        let mut tx = self.0.begin().await?;
        let n: i64 = Sql::new("SELECT COUNT(*) FROM accounts")
            .scalar(&mut tx)
            .await?;
        if n > 0 {
            return Err(StoreError::Conflict("already_set_up"));
        }
        let existing: Option<i64> = Sql::new("SELECT id FROM subdistricts ORDER BY id LIMIT 1")
            .scalar_optional(&mut tx)
            .await?;
        let sd = match existing {
            Some(sd) => SubdistrictId(sd),
            None => {
                let sd = SubdistrictId(
                    Sql::new(
                        "INSERT INTO subdistricts (name, code, is_demo, version, created_at, updated_at) \
                         VALUES ($1, $2, FALSE, 1, $3, $3) RETURNING id",
                    )
                    .bind(subdistrict_name)
                    .bind(subdistrict_code)
                    .bind(ctx.at)
                    .scalar(&mut tx)
                    .await?,
                );
                let ctx = WriteCtx {
                    subdistrict_id: Some(sd),
                    ..ctx.clone()
                };
                let what = serde_json::json!({"name": subdistrict_name, "code": subdistrict_code});
                let entry = AuditEntry::write(AuditAction::Create, Entity::Subdistrict, sd, what);
                audit::insert(&mut tx, &ctx, entry).await?;
                sd
            }
        };
        let admin = NewAccount {
            neighbourhood_id: None,
            partner_unit: None,
            ..admin.clone()
        };
        let id: AccountId = insert(sd, &admin, Role::Admin, ctx)
            .scalar::<i64>(&mut tx)
            .await
            .map_err(|e| e.on_key(&["username"]))?
            .into();
        let ctx = WriteCtx {
            subdistrict_id: Some(sd),
            ..ctx.clone()
        };
        let entry = AuditEntry::write(AuditAction::Setup, AuditEntity::Account, id, detail(&admin));
        audit::insert(&mut tx, &ctx, entry).await?;
        let account = find_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn find(self, id: AccountId) -> Result<Option<Account>> {
        find_in(&mut self.0.db(), id).await
    }

    pub async fn get(self, id: AccountId) -> Result<Account> {
        self.find(id).await?.ok_or(StoreError::NotFound)
    }

    /// The account and its password hash, by user name (case-insensitive).
    pub async fn find_login(self, username: &str) -> Result<Option<(Account, Option<String>)>> {
        let username = username.trim().to_lowercase();
        match Sql::new("SELECT * FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut self.0.db())
            .await?
        {
            Some(r) => Ok(Some((read(&r)?, r.get("password_hash")?))),
            None => Ok(None),
        }
    }

    pub async fn list(self, f: &AccountFilter) -> Result<Page<Account>> {
        let filtered = |head: &str| {
            let mut q = Sql::new(head);
            q.push(" WHERE subdistrict_id = ")
                .push_bind(f.subdistrict_id);
            if let Some(nb) = f.neighbourhood_id {
                q.push(" AND neighbourhood_id = ").push_bind(nb);
            }
            if let Some(r) = f.role {
                q.push(" AND role = ").push_bind(r);
            }
            if let Some(text) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
                let p = like_pattern(&text.trim().to_lowercase());
                q.push(" AND (LOWER(username) LIKE ")
                    .push_bind(p.clone())
                    .push(" ESCAPE '\\' OR LOWER(display_name) LIKE ")
                    .push_bind(p)
                    .push(" ESCAPE '\\')");
            }
            q
        };
        let db = &mut self.0.db();
        page(db, "accounts", filtered, "id", (f.limit, f.offset), read).await
    }

    /// Display names by id (for showing who did what).
    pub async fn names(self, ids: &[AccountId]) -> Result<HashMap<AccountId, String>> {
        let raw: Vec<i64> = ids.iter().map(|a| a.get()).collect();
        Ok(
            crate::places::titles(self.0, "accounts", "display_name", &raw)
                .await?
                .into_iter()
                .map(|(k, v)| (AccountId(k), v))
                .collect(),
        )
    }

    /// Changes an account; disabling one ends its sessions. `change` sees the account as
    /// read under the write lock. When nothing changes, nothing is written.
    pub async fn update<F>(
        self,
        id: AccountId,
        expected_version: Option<i64>,
        ctx: &WriteCtx,
        change: F,
    ) -> Result<Account>
    where
        F: FnOnce(&Account) -> Result<AccountPatch>,
    {
        let mut tx = self.0.begin().await?;
        let select = format!(
            "SELECT * FROM accounts WHERE id = $1{}",
            crate::db::Exec::for_update(&tx)
        );
        let row = Sql::new(select)
            .bind(id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let current = read(&row)?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(StoreError::VersionConflict {
                current: current.version,
            });
        }
        let patch = change(&current)?;
        // Nothing changes: nothing is written, and the version stays.
        let unchanged = patch.display_name == current.display_name
            && patch.role == current.role
            && patch.neighbourhood_id == current.neighbourhood_id
            && patch.partner_unit == current.partner_unit
            && patch.phone == current.phone
            && patch.locale == current.locale
            && patch.disabled == current.disabled;
        if unchanged {
            tx.commit().await?;
            return Ok(current);
        }
        check_neighbourhood(&mut tx, current.subdistrict_id, patch.neighbourhood_id).await?;
        Sql::new(
            "UPDATE accounts SET display_name = $1, role = $2, neighbourhood_id = $3, \
             partner_unit = $4, phone = $5, locale = $6, disabled = $7, \
             version = version + 1, updated_at = $8 WHERE id = $9",
        )
        .bind(&patch.display_name)
        .bind(patch.role)
        .bind(patch.neighbourhood_id)
        .bind(&patch.partner_unit)
        .bind(&patch.phone)
        .bind(&patch.locale)
        .bind(patch.disabled)
        .bind(ctx.at)
        .bind(id)
        .execute(&mut tx)
        .await?;
        if patch.disabled {
            crate::sessions::end_all(&mut tx, id).await?;
        }
        let what = serde_json::to_value(&patch).unwrap_or_default();
        let entry = AuditEntry::write(AuditAction::Update, AuditEntity::Account, id, what);
        audit::insert(&mut tx, ctx, entry).await?;
        let account = find_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(account)
    }

    /// Sets a new password hash and ends every session of the account.
    pub async fn set_password(self, id: AccountId, hash: &str, ctx: &WriteCtx) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new(
            "UPDATE accounts SET password_hash = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(ctx.at)
        .bind(id)
        .execute(&mut tx)
        .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        crate::sessions::end_all(&mut tx, id).await?;
        let entry = AuditEntry::write(
            AuditAction::SetPassword,
            AuditEntity::Account,
            id,
            serde_json::Value::Null,
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// Who receives requests that arrive without a worker (web page, Open311): the
    /// neighbourhood's secretary, else its first worker, else the subdistrict's first admin.
    pub async fn receiver_for(self, sd: SubdistrictId, nb: NeighbourhoodId) -> Result<AccountId> {
        Sql::new(
            "SELECT id FROM accounts WHERE subdistrict_id = $1 AND disabled = FALSE AND \
             ((neighbourhood_id = $2 AND role IN ('secretary', 'worker')) OR role = 'admin') \
             ORDER BY CASE WHEN role = 'secretary' AND neighbourhood_id = $2 THEN 0 \
             WHEN role = 'worker' AND neighbourhood_id = $2 THEN 1 ELSE 2 END, id LIMIT 1",
        )
        .bind(sd)
        .bind(nb)
        .scalar_optional::<i64>(&mut self.0.db())
        .await?
        .map(AccountId)
        .ok_or(StoreError::NotFound)
    }
}
