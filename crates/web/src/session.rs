//! Who is calling: the session cookie or the API token of a request, as the extractors
//! [`CurrentUser`] (signed in, else 401) and [`MaybeUser`]; the session cookie itself;
//! the client's address. The checks behind them are `doorstep_services::signin`'s.

use crate::i18n::Lang;
use crate::{AppError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use doorstep_domain::Actor;
use doorstep_services::records::Account;
use doorstep_services::{Caller, signin};
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "doorstep_sid";

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

/// The client's address, when the server knows it.
/// The browser's own description, kept with a session so a user can recognise it.
pub fn user_agent(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The client's address (see [`crate::client`]); from the connection when the request
/// did not pass the middleware (tests that drive the router directly).
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    match parts.extensions.get::<crate::client::ClientIp>() {
        Some(c) => c.0,
        None => parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip()),
    }
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
    /// The caller the services act for.
    pub fn caller(&self) -> Caller {
        Caller {
            actor: self.actor.clone(),
            ip: self.ip,
        }
    }

    /// Checks the CSRF token a form sent back.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), AppError> {
        match sent {
            Some(s)
                if !self.csrf.is_empty()
                    && doorstep_domain::secret::constant_time_eq(
                        s.as_bytes(),
                        self.csrf.as_bytes(),
                    ) =>
            {
                Ok(())
            }
            _ => Err(AppError::Forbidden),
        }
    }
}

fn user(
    account: Account,
    csrf: String,
    session_hash: Option<String>,
    lang: Option<Lang>,
    ip: Option<IpAddr>,
) -> CurrentUser {
    let lang = lang
        .or_else(|| Lang::parse(&account.locale))
        .unwrap_or_default();
    CurrentUser {
        actor: account.actor(),
        account,
        csrf,
        session_hash,
        lang,
        ip,
    }
}

/// Loads the user of a request, if any; a bearer token that is not valid is a 401.
pub async fn load_user(state: &AppState, parts: &Parts) -> Result<Option<CurrentUser>, AppError> {
    let sv = &state.services;
    let ip = client_ip(parts);
    let cookie_lang = cookie(&parts.headers, "lang").and_then(|l| Lang::parse(&l));
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer {
        let account = signin::bearer(sv, token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        return Ok(Some(user(account, String::new(), None, cookie_lang, ip)));
    }
    let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(signin::session(sv, &secret)
        .await?
        .map(|s| user(s.account, s.csrf_token, Some(s.id_hash), cookie_lang, ip)))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = load_user(state, parts)
            .await?
            .ok_or(AppError::Unauthorized)?;
        // A cookie session writing to the JSON API proves the page is ours with its CSRF
        // token in `X-CSRF-Token` (forms send it as `_csrf`); a bearer token carries no
        // cookie and needs none.
        if parts.uri.path().starts_with("/api/") && !parts.method.is_safe() && !user.csrf.is_empty()
        {
            user.check_csrf(
                parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok()),
            )?;
        }
        Ok(user)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
