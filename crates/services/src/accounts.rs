//! Staff accounts: admins manage them, secretaries see their neighbourhood's, everyone
//! sees and changes their own password and API tokens.

use crate::signin::{hash_password, random_token, sha256_hex, verify_password};
use crate::{Caller, Error, Result, Services, allowed};
use doorstep_domain::accounts::{ACCOUNT_FIELDS, check_account, check_password};
use doorstep_domain::{AccountId, FieldErrors, NeighbourhoodId, Role, TokenId, Value, Values};
use doorstep_store::{Account, AccountFilter, AccountPatch, ApiToken, NewAccount, Page, WriteCtx};

/// The longest name of an API token.
pub const TOKEN_NAME_MAX: usize = 60;

/// An account's editable values, as forms show them.
pub fn values(a: &Account) -> Values {
    let text = |s: &Option<String>| s.clone().map(Value::Text).unwrap_or(Value::Null);
    let mut v = Values::new();
    v.insert("username", Value::Text(a.username.clone()));
    v.insert("display_name", Value::Text(a.display_name.clone()));
    v.insert("role", Value::Text(a.role.code().into()));
    v.insert(
        "neighbourhood_id",
        a.neighbourhood_id
            .map(|n| Value::Int(n.get()))
            .unwrap_or(Value::Null),
    );
    v.insert("partner_unit", text(&a.partner_unit));
    v.insert("phone", text(&a.phone));
    v.insert("locale", Value::Text(a.locale.clone()));
    v.insert("disabled", Value::Bool(a.disabled));
    v
}

/// Validates account input (new, or merged over `current`).
fn validate(
    input: &serde_json::Map<String, serde_json::Value>,
    current: Option<&Values>,
) -> Result<Values, FieldErrors> {
    let v = doorstep_domain::validate(ACCOUNT_FIELDS, input, current, &["password", "version"])?;
    check_account(&v)?;
    Ok(v)
}

/// Validated account values → the store's patch.
fn patch(v: &Values) -> AccountPatch {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    AccountPatch {
        display_name: text("display_name").unwrap_or_default(),
        role: text("role")
            .as_deref()
            .and_then(Role::parse)
            .unwrap_or(Role::Volunteer),
        neighbourhood_id: v
            .get("neighbourhood_id")
            .and_then(Value::as_i64)
            .map(NeighbourhoodId),
        partner_unit: text("partner_unit"),
        phone: text("phone"),
        locale: text("locale").unwrap_or_else(|| "zh-CN".into()),
        disabled: v.get("disabled").is_some_and(Value::as_bool),
    }
}

/// Which accounts to list: filters of the list page and the API.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub role: Option<Role>,
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Accounts the caller may list: admins any of the subdistrict's, secretaries their own
/// neighbourhood's.
pub async fn list(sv: &Services, who: &Caller, q: &AccountQuery) -> Result<Page<Account>> {
    let a = &who.actor;
    let nb = match a.role {
        Role::Admin => q.neighbourhood_id,
        Role::Secretary => {
            if q.neighbourhood_id
                .is_some_and(|n| Some(n) != a.neighbourhood_id)
            {
                return Err(Error::Forbidden);
            }
            a.neighbourhood_id
        }
        _ => return Err(Error::Forbidden),
    };
    let f = AccountFilter {
        neighbourhood_id: nb,
        role: q.role,
        q: q.q.clone(),
        limit: q.limit,
        offset: q.offset,
        ..AccountFilter::of(a.subdistrict_id)
    };
    Ok(sv.store.accounts().list(&f).await?)
}

/// The active workers and secretaries of a neighbourhood (to assign requests to).
pub async fn handlers(sv: &Services, who: &Caller, nb: NeighbourhoodId) -> Result<Vec<Account>> {
    let f = AccountFilter {
        neighbourhood_id: Some(nb),
        role: Some(Role::Worker),
        ..AccountFilter::of(who.actor.subdistrict_id)
    };
    let page = sv.store.accounts().list(&f).await?;
    Ok(page.items.into_iter().filter(|a| !a.disabled).collect())
}

/// An account the caller may read.
pub async fn get(sv: &Services, who: &Caller, id: AccountId) -> Result<Account> {
    let a = sv.store.accounts().get(id).await?;
    allowed(
        who.actor
            .may_read_account(a.subdistrict_id, a.neighbourhood_id, a.id),
    )?;
    Ok(a)
}

/// Creates an account (admins only), with a password or without one (it cannot sign in
/// until an admin sets one).
pub async fn create(
    sv: &Services,
    who: &Caller,
    input: &serde_json::Map<String, serde_json::Value>,
    password: Option<&str>,
) -> Result<Account> {
    if !who.actor.may_manage_accounts() {
        return Err(Error::Forbidden);
    }
    let v = validate(input, None)?;
    let username = v
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let hash = match password.filter(|p| !p.is_empty()) {
        Some(pw) => {
            if let Some(code) = check_password(pw, &username) {
                return Err(Error::validation("password", code));
            }
            Some(hash_password(pw.to_string()).await?)
        }
        None => None,
    };
    let p = patch(&v);
    let new = NewAccount {
        username,
        display_name: p.display_name,
        role: p.role,
        neighbourhood_id: p.neighbourhood_id,
        partner_unit: p.partner_unit,
        phone: p.phone,
        locale: p.locale,
        password_hash: hash,
    };
    Ok(sv
        .store
        .accounts()
        .create(who.actor.subdistrict_id, &new, &sv.ctx(who))
        .await?)
}

/// Changes an account (admins only); nobody changes their own role or disables
/// themselves.
pub async fn update(
    sv: &Services,
    who: &Caller,
    id: AccountId,
    version: Option<i64>,
    input: &serde_json::Map<String, serde_json::Value>,
) -> Result<Account> {
    get(sv, who, id).await?;
    if !who.actor.may_manage_accounts() {
        return Err(Error::Forbidden);
    }
    let own = id == who.actor.account_id;
    if own && (input.contains_key("role") || input.contains_key("disabled")) {
        return Err(Error::conflict("cannot_change_own_role"));
    }
    let version = version.ok_or(Error::VersionRequired)?;
    Ok(sv
        .store
        .accounts()
        .update(id, Some(version), &sv.ctx(who), |cur| {
            Ok(patch(&validate(input, Some(&values(cur)))?))
        })
        .await?)
}

/// Sets an account's password (admins only); its sessions end.
pub async fn set_password(
    sv: &Services,
    who: &Caller,
    id: AccountId,
    password: &str,
) -> Result<()> {
    let a = get(sv, who, id).await?;
    if !who.actor.may_manage_accounts() {
        return Err(Error::Forbidden);
    }
    if let Some(code) = check_password(password, &a.username) {
        return Err(Error::validation("password", code));
    }
    let hash = hash_password(password.to_string()).await?;
    sv.store
        .accounts()
        .set_password(id, &hash, &sv.ctx(who))
        .await?;
    Ok(())
}

/// Changes the caller's own password, given the current one; every session of the
/// account ends, this one too.
pub async fn change_own_password(
    sv: &Services,
    who: &Caller,
    current: &str,
    new: &str,
) -> Result<()> {
    let (account, hash) = sv
        .store
        .accounts()
        .find_login(&who.actor.username)
        .await?
        .ok_or(Error::NotFound)?;
    let mut errors = FieldErrors::new();
    if !verify_password(hash, current.to_string()).await {
        errors.add("current_password", "wrong_password");
    }
    if let Some(code) = check_password(new, &account.username) {
        errors.add("new_password", code);
    }
    errors.into_result(())?;
    let hash = hash_password(new.to_string()).await?;
    sv.store
        .accounts()
        .set_password(account.id, &hash, &sv.ctx(who))
        .await?;
    Ok(())
}

/// The caller's API tokens, newest first.
pub async fn tokens(sv: &Services, who: &Caller) -> Result<Vec<ApiToken>> {
    Ok(sv.store.tokens().list(who.actor.account_id).await?)
}

/// Makes an API token for `account` (its own account on /me, any on the command line):
/// returns the secret, shown once; the database keeps its hash, and the audit log the
/// making under `ctx`. The one way tokens are made.
pub async fn mint_token(
    sv: &Services,
    account: &Account,
    name: &str,
    ctx: &WriteCtx,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::validation("token_name", "required"));
    }
    let mut e = FieldErrors::new();
    doorstep_domain::fields::check_text(&mut e, "token_name", name, TOKEN_NAME_MAX, false);
    e.into_result(())?;
    if account.disabled {
        return Err(Error::conflict("account_disabled"));
    }
    let secret = format!("ds_{}", random_token(32));
    sv.store
        .tokens()
        .create(account.id, name, &sha256_hex(&secret), ctx)
        .await?;
    Ok(secret)
}

/// Makes an API token for the caller's own account.
pub async fn mint_own_token(sv: &Services, who: &Caller, name: &str) -> Result<String> {
    let account = sv.store.accounts().get(who.actor.account_id).await?;
    mint_token(sv, &account, name, &sv.ctx(who)).await
}

/// Revokes one of the caller's tokens.
pub async fn revoke_token(sv: &Services, who: &Caller, id: TokenId) -> Result<()> {
    sv.store
        .tokens()
        .revoke(who.actor.account_id, id, &sv.ctx(who))
        .await?;
    Ok(())
}
