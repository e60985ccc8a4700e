//! Sign-in, sessions, API tokens and throttling.
//!
//! Sessions live in the database: the cookie carries a random secret, the table its
//! SHA-256, so a copy of the database does not yield live sessions. A new secret is made
//! at every sign-in; idle and absolute timeouts are checked on every request.

use crate::i18n::Lang;
use crate::{AppError, AppState};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use base64::Engine;
use doorstep_domain::Actor;
use doorstep_store::{Account, SessionRecord, WriteCtx};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "doorstep_sid";

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

/// The value of a request cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Hashes a password with Argon2id (on a blocking thread: it is meant to be slow).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
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

/// Attempts per client address in a sliding window.
#[derive(Debug, Default)]
pub struct Throttle {
    hits: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Throttle {
    /// Records an attempt; false when the address is over its limit.
    pub fn allow(&self, ip: Option<IpAddr>, limit: usize, window: Duration) -> bool {
        let Some(ip) = ip else { return true };
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = hits.entry(ip).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) > window) {
            q.pop_front();
        }
        if q.len() >= limit {
            return false;
        }
        q.push_back(now);
        true
    }

    /// Whether the address is already at its limit, without counting an attempt (to turn
    /// a request away before reading its body).
    pub fn is_limited(&self, ip: Option<IpAddr>, limit: usize, window: Duration) -> bool {
        let Some(ip) = ip else { return false };
        let now = Instant::now();
        let hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.get(&ip).is_some_and(|q| {
            q.iter()
                .filter(|t| now.duration_since(**t) <= window)
                .count()
                >= limit
        })
    }

    pub fn forget_old(&self, window: Duration) {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
    }
}

/// The client's address, when the server knows it.
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip())
}

/// The signed-in user of a request (by session cookie or API token).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub actor: Actor,
    /// The session's CSRF token (empty for API tokens, which carry no cookie).
    pub csrf: String,
    pub session_hash: Option<String>,
    pub lang: Lang,
    pub ip: Option<IpAddr>,
}

impl CurrentUser {
    pub fn ctx(&self, state: &AppState) -> WriteCtx {
        WriteCtx {
            actor_id: Some(self.account.id),
            actor_name: self.account.username.clone(),
            subdistrict_id: Some(self.account.subdistrict_id),
            ip: self.ip.map(|ip| ip.to_string()),
            at: state.clock.now(),
            demo: false,
        }
    }

    /// Checks the CSRF token a form sent back.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), AppError> {
        match sent {
            Some(s)
                if !self.csrf.is_empty()
                    && constant_time_eq(s.as_bytes(), self.csrf.as_bytes()) =>
            {
                Ok(())
            }
            _ => Err(AppError::Forbidden),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Loads the user of a request, if any; ends sessions past their timeouts.
pub async fn load_user(state: &AppState, parts: &Parts) -> Result<Option<CurrentUser>, AppError> {
    let now = state.clock.now();
    let ip = client_ip(parts);
    let cookie_lang = cookie(&parts.headers, "lang").and_then(|l| Lang::parse(&l));
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    if let Some(token) = bearer {
        let Some((tok, account)) = state.store.find_api_token(&sha256_hex(&token)).await? else {
            return Err(AppError::Unauthorized);
        };
        if account.disabled {
            return Err(AppError::Unauthorized);
        }
        if tok
            .last_used_at
            .is_none_or(|t| now - t > chrono::Duration::minutes(1))
        {
            state.store.mark_api_token_used(tok.id, now).await?;
        }
        let lang = cookie_lang
            .or_else(|| Lang::parse(&account.locale))
            .unwrap_or_default();
        return Ok(Some(CurrentUser {
            actor: account.actor(),
            account,
            csrf: String::new(),
            session_hash: None,
            lang,
            ip,
        }));
    }
    let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = sha256_hex(&secret);
    let Some((session, account)) = state.store.find_session(&hash).await? else {
        return Ok(None);
    };
    let idle = now - session.last_seen_at > chrono_dur(state.config.session_idle);
    let expired = now - session.created_at > chrono_dur(state.config.session_absolute);
    if idle || expired || account.disabled {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at > chrono::Duration::seconds(60) {
        state.store.touch_session(&hash, now).await?;
    }
    let lang = cookie_lang
        .or_else(|| Lang::parse(&account.locale))
        .unwrap_or_default();
    Ok(Some(CurrentUser {
        actor: account.actor(),
        account,
        csrf: session.csrf_token,
        session_hash: Some(hash),
        lang,
        ip,
    }))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        load_user(state, parts).await?.ok_or(AppError::Unauthorized)
    }
}

/// The user if signed in; never rejects (for pages anyone may see).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match load_user(state, parts).await {
            Ok(u) => Ok(MaybeUser(u)),
            Err(AppError::Unauthorized) => Ok(MaybeUser(None)),
            Err(e) => Err(e),
        }
    }
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
    state: &AppState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<Result<Account, LoginFailure>, AppError> {
    let now = state.clock.now();
    let username = username.trim().to_lowercase();
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: username.clone(),
        subdistrict_id: None,
        ip: ip.map(|i| i.to_string()),
        at: now,
        demo: false,
    };
    let attempts = state
        .store
        .login_attempts(&username, now - chrono_dur(state.config.lockout_window))
        .await?;
    let locked = attempts.failures >= state.config.lockout_failures
        && attempts
            .last_failure
            .is_some_and(|t| now - t < chrono_dur(state.config.lockout_duration));
    let found = state.store.find_login(&username).await?;
    let (account, hash) = match found {
        Some((a, h)) => (Some(a), h),
        None => (None, None),
    };
    let ctx = WriteCtx {
        subdistrict_id: account.as_ref().map(|a| a.subdistrict_id),
        actor_id: account.as_ref().map(|a| a.id),
        ..ctx
    };
    // Verify even when locked or unknown, so timing tells nothing.
    let ok = verify_password(hash, password.to_string()).await;
    if locked {
        state
            .store
            .record_login(&username, account.as_ref(), false, "locked", &ctx)
            .await?;
        return Ok(Err(LoginFailure::Locked));
    }
    match account {
        Some(a) if ok && !a.disabled => {
            state
                .store
                .record_login(&username, Some(&a), true, "ok", &ctx)
                .await?;
            Ok(Ok(a))
        }
        a => {
            let reason = match &a {
                None => "unknown_user",
                Some(a) if a.disabled => "disabled",
                Some(_) => "bad_password",
            };
            state
                .store
                .record_login(&username, a.as_ref(), false, reason, &ctx)
                .await?;
            // This failure may be the one that locks the name.
            if attempts.failures + 1 >= state.config.lockout_failures {
                return Ok(Err(LoginFailure::Locked));
            }
            Ok(Err(LoginFailure::BadCredentials))
        }
    }
}

/// Starts a session for `account`; returns the `Set-Cookie` value.
pub async fn start_session(
    state: &AppState,
    account: &Account,
    ip: Option<IpAddr>,
    user_agent: Option<String>,
    old_secret: Option<String>,
) -> Result<String, AppError> {
    if let Some(old) = old_secret {
        state.store.delete_session(&sha256_hex(&old)).await?;
    }
    let secret = random_token(32);
    let now = state.clock.now();
    state
        .store
        .create_session(&SessionRecord {
            id_hash: sha256_hex(&secret),
            account_id: account.id,
            csrf_token: random_token(24),
            ip: ip.map(|i| i.to_string()),
            user_agent: user_agent.map(|u| u.chars().take(300).collect()),
            created_at: now,
            last_seen_at: now,
        })
        .await?;
    Ok(session_cookie(state, &secret, false))
}

/// The `Set-Cookie` value for a session secret (or its removal).
pub fn session_cookie(state: &AppState, secret: &str, remove: bool) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = if remove { "; Max-Age=0" } else { "" };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}")
}

pub async fn purge_expired_sessions(state: &AppState) {
    let now = state.clock.now();
    let res = state
        .store
        .purge_sessions(
            now - chrono_dur(state.config.session_idle),
            now - chrono_dur(state.config.session_absolute),
        )
        .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "could not purge expired sessions");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_per_address_in_a_window() {
        let t = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(t.allow(Some(ip), 3, Duration::from_secs(60)));
        }
        assert!(!t.allow(Some(ip), 3, Duration::from_secs(60)));
        assert!(t.is_limited(Some(ip), 3, Duration::from_secs(60)));
        assert!(!t.is_limited(
            Some("10.0.0.2".parse().unwrap()),
            3,
            Duration::from_secs(60)
        ));
        assert!(t.allow(Some(other), 3, Duration::from_secs(60)));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; doorstep_sid=xyz; lang=en".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "nope"), None);
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let h = hash_password("玉兰路218号花木".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(Some(h.clone()), "玉兰路218号花木".into()).await);
        assert!(!verify_password(Some(h), "wrong password".into()).await);
        assert!(!verify_password(None, "anything".into()).await);
    }
}
