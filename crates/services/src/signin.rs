//! Sign-in: passwords (Argon2id), lockout, server-side sessions, API tokens as bearer
//! credentials, and the one-time setup of an empty database.
//!
//! A session's secret travels in the cookie; the database keeps its SHA-256, so a copy
//! of the database yields no live session. A new secret is made at every sign-in; idle
//! and absolute timeouts are checked on every request.

use crate::{Caller, Error, Result, Services};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine;
use doorstep_domain::accounts::{check_password, valid_username};
use doorstep_domain::audit::AuditAction;
use doorstep_domain::{FieldErrors, Role};
use doorstep_store::{Account, AuditEntry, NewAccount, SessionRecord, WriteCtx};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::OnceLock;

/// A random URL-safe secret of `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A duration of the configuration as one of chrono's.
pub(crate) fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Hashes a password with Argon2id (on a blocking thread: it is meant to be slow).
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(Error::internal)?
    .map_err(|e| Error::internal(format!("password hashing: {e}")))
}

/// A hash that no password matches, verified for unknown users so that they take as long
/// as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        Argon2::default()
            .hash_password(random_token(16).as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `hash` (always false without a hash, after the same work).
pub async fn verify_password(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| decoy_hash().to_string());
        let ok = PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// Why a sign-in failed (shown to the user only as one of two messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Wrong name or password (the same answer for unknown names).
    BadCredentials,
    /// Too many failures for this name: locked for a while (known or not).
    Locked,
}

/// Checks a user name and password, with lockout, and records the attempt.
pub async fn authenticate(
    sv: &Services,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<Result<Account, LoginFailure>> {
    let now = sv.now();
    let s = sv.settings();
    let username = username.trim().to_lowercase();
    // No account has a name like this (a page of text, a NUL, which PostgreSQL cannot
    // store): a wrong sign-in, counted against the address by the caller, and nothing
    // of it stored. (Passwords are only hashed.)
    let unstorable =
        |t: &str, max: usize| t.chars().count() > max || t.chars().any(char::is_control);
    if unstorable(&username, 64) || password.chars().count() > 1024 {
        return Ok(Err(LoginFailure::BadCredentials));
    }
    let attempts = sv
        .store
        .sessions()
        .login_attempts(&username, now - duration(s.lockout_window))
        .await?;
    let locked = attempts.failures >= s.lockout_failures
        && attempts
            .last_failure
            .is_some_and(|t| now - t < duration(s.lockout_duration));
    let (account, hash) = match sv.store.accounts().find_login(&username).await? {
        Some((a, h)) => (Some(a), h),
        None => (None, None),
    };
    let ctx = WriteCtx {
        actor_id: account.as_ref().map(|a| a.id),
        subdistrict_id: account.as_ref().map(|a| a.subdistrict_id),
        ..sv.system_ctx(&username, None, ip)
    };
    // Verify even when locked or unknown, so timing tells nothing.
    let ok = verify_password(hash, password.to_string()).await;
    let record = |ok: bool, reason: &'static str| {
        let (ctx, username, account) = (&ctx, &username, account.as_ref());
        async move {
            sv.store
                .sessions()
                .record_login(username, account, ok, reason, ctx)
                .await
        }
    };
    if locked {
        record(false, "locked").await?;
        return Ok(Err(LoginFailure::Locked));
    }
    match &account {
        Some(a) if ok && !a.disabled => {
            record(true, "ok").await?;
            Ok(Ok(a.clone()))
        }
        a => {
            let reason = match a {
                None => "unknown_user",
                Some(a) if a.disabled => "disabled",
                Some(_) => "bad_password",
            };
            record(false, reason).await?;
            // This failure may be the one that locks the name.
            if attempts.failures + 1 >= s.lockout_failures {
                return Ok(Err(LoginFailure::Locked));
            }
            Ok(Err(LoginFailure::BadCredentials))
        }
    }
}

/// Starts a session for `account`, ending `old_secret`'s; returns the new secret (for
/// the cookie).
pub async fn start_session(
    sv: &Services,
    account: &Account,
    ip: Option<IpAddr>,
    user_agent: Option<&str>,
    old_secret: Option<&str>,
) -> Result<String> {
    if let Some(old) = old_secret {
        sv.store.sessions().delete(&sha256_hex(old)).await?;
    }
    let secret = random_token(32);
    let now = sv.now();
    sv.store
        .sessions()
        .create(&SessionRecord {
            id_hash: sha256_hex(&secret),
            account_id: account.id,
            csrf_token: random_token(24),
            ip: ip.map(|i| i.to_string()),
            user_agent: user_agent.map(|u| u.chars().take(300).collect()),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    Ok(secret)
}

/// A live session: its account and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf_token: String,
    pub id_hash: String,
}

/// The session a cookie's secret names, if it is live; a session past its timeouts (or
/// of a disabled account) ends here.
pub async fn session(sv: &Services, secret: &str) -> Result<Option<Session>> {
    let now = sv.now();
    let hash = sha256_hex(secret);
    let Some((session, account)) = sv.store.sessions().find(&hash).await? else {
        return Ok(None);
    };
    let s = sv.settings();
    let idle = now - session.last_seen_at > duration(s.session_idle);
    let expired = now - session.created_at > duration(s.session_absolute);
    if idle || expired || account.disabled {
        sv.store.sessions().delete(&hash).await?;
        return Ok(None);
    }
    // Touch at most once a minute: every request would be a write.
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        sv.store.sessions().touch(&hash, now).await?;
    }
    Ok(Some(Session {
        account,
        csrf_token: session.csrf_token,
        id_hash: hash,
    }))
}

/// Ends the caller's session, if it signed in with one (signing out), audited.
pub async fn end_session(sv: &Services, caller: &Caller, id_hash: Option<&str>) -> Result<()> {
    if let Some(h) = id_hash {
        sv.store.sessions().delete(h).await?;
    }
    let entry = AuditEntry::event(AuditAction::Logout, serde_json::Value::Null);
    sv.store.audit().record(&sv.ctx(caller), entry).await?;
    Ok(())
}

/// The account an API token (a bearer credential) belongs to, if the token is live and
/// the account enabled.
pub async fn bearer(sv: &Services, token: &str) -> Result<Option<Account>> {
    let now = sv.now();
    let Some((tok, account)) = sv.store.tokens().find(&sha256_hex(token)).await? else {
        return Ok(None);
    };
    if account.disabled {
        return Ok(None);
    }
    // Note the use at most once a minute.
    if tok
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        sv.store.tokens().mark_used(tok.id, now).await?;
    }
    Ok(Some(account))
}

/// Whether the database has no account yet (the one-time setup is due).
pub async fn needs_setup(sv: &Services) -> Result<bool> {
    Ok(sv.store.accounts().count().await? == 0)
}

/// What the setup form asks for.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub subdistrict_name: String,
    pub subdistrict_code: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub locale: String,
}

/// Checks the setup form's fields.
pub fn check_setup(s: &Setup) -> Result<()> {
    let mut errors = FieldErrors::new();
    let username = s.username.trim().to_lowercase();
    if !valid_username(&username) {
        errors.add("username", "invalid_username");
    }
    if s.subdistrict_name.trim().is_empty() {
        errors.add("subdistrict_name", "required");
    }
    if s.display_name.trim().is_empty() {
        errors.add("display_name", "required");
    }
    if let Some(code) = check_password(&s.password, &username) {
        errors.add("password", code);
    }
    Ok(errors.into_result(())?)
}

/// Creates the subdistrict and its first admin on an empty database.
pub async fn setup(sv: &Services, s: &Setup, ip: Option<IpAddr>) -> Result<Account> {
    check_setup(s)?;
    let username = s.username.trim().to_lowercase();
    let admin = NewAccount {
        username: username.clone(),
        display_name: s.display_name.trim().to_string(),
        role: Role::Admin,
        neighbourhood_id: None,
        partner_unit: None,
        phone: None,
        locale: s.locale.clone(),
        password_hash: Some(hash_password(s.password.clone()).await?),
    };
    let code = s.subdistrict_code.trim();
    let ctx = sv.system_ctx(&username, None, ip);
    Ok(sv
        .store
        .accounts()
        .setup_first_admin(
            s.subdistrict_name.trim(),
            (!code.is_empty()).then_some(code),
            &admin,
            &ctx,
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let h = hash_password("玉兰路218号花木".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(h.clone()), "玉兰路218号花木".into()).await);
        assert!(!verify_password(Some(h), "wrong password".into()).await);
        assert!(!verify_password(None, "anything".into()).await);
    }

    #[test]
    fn tokens_are_random_and_hashes_hex() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(32).len(), 43);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
