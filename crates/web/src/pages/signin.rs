//! Signing in and out, and the language switch.

use crate::forms::FormData;
use crate::i18n::{Lang, negotiate};
use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::{self, CurrentUser, MaybeUser};
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use doorstep_services::limits::{self, Bucket};
use doorstep_services::signin::{self, LoginFailure};
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_lang))
}

/// Only paths of this site are followed after sign-in (no open redirect): `next` is
/// parsed as a browser would parse it (which drops tabs and line breaks and reads `\`
/// as `/`), kept only if it stays on this origin, and handed back as the parsed path and
/// query. Anything else, control characters included, goes home.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let home = || "/".to_string();
    let Some(n) = next.filter(|n| n.starts_with('/') && !n.chars().any(char::is_control)) else {
        return home();
    };
    let Ok(base) = url::Url::parse("http://doorstep.invalid/") else {
        return home();
    };
    match base.join(n) {
        Ok(u) if u.origin() == base.origin() => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        _ => home(),
    }
}

/// `?next=`: where to go after signing in.
struct Next(Option<String>);

impl FromParams for Next {
    fn from_params(p: &mut Params) -> Self {
        Next(p.text("next"))
    }
}

fn with_cookie(mut res: Response, cookie: &str) -> Result<Response, AppError> {
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(cookie).map_err(|_| AppError::Internal)?,
    );
    Ok(res)
}

async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    PageQuery(Next(next)): PageQuery<Next>,
) -> Result<Response, AppError> {
    let next = safe_next(next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let lang = negotiate(&headers, false);
    let extra = context! { next, username => "" };
    let title = state.i18n.t(lang, "login.title");
    Ok(page(&state, lang, None, "login.html", &title, extra)?.into_response())
}

async fn login(State(state): State<AppState>, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let lang = negotiate(&parts.headers, false);
    let ip = session::client_ip(&parts);
    let ua = session::user_agent(&parts);
    let old = session::cookie(&parts.headers, session::SESSION_COOKIE);
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let username = form.get("username").unwrap_or("").trim().to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let next = safe_next(form.get("next"));
    let again = |error_key: &str, status: StatusCode| -> Result<Response, AppError> {
        let extra = context! { next => next.clone(), username => username.clone(), error => state.i18n.t(lang, error_key) };
        let title = state.i18n.t(lang, "login.title");
        let html = page(&state, lang, None, "login.html", &title, extra)?;
        Ok((status, html).into_response())
    };
    let wait = |error_key: &str, secs: u64| -> Result<Response, AppError> {
        let mut res = again(error_key, StatusCode::TOO_MANY_REQUESTS)?;
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        Ok(res)
    };
    let sv = &state.services;
    // Only failed attempts count toward the address's limit: a station where ten people
    // sign in each morning behind one address is never locked out by its own successes.
    // A slot is taken before the password is tried (so attempts at the same moment
    // cannot all pass) and given back when the attempt does not count.
    let (limit, window) = (state.config.ip_attempts, state.config.ip_window);
    let slot = match ip {
        Some(ip) => match limits::reserve(sv, Bucket::SignIn, ip, limit, window).await? {
            Ok(slot) => Some(slot),
            Err(secs) => return wait("login.throttled", secs),
        },
        None => None,
    };
    let give_back = async |slot: Option<limits::Reserved>| -> Result<(), AppError> {
        if let Some(s) = slot {
            s.release(sv).await?;
        }
        Ok(())
    };
    if username.is_empty() || password.is_empty() {
        give_back(slot).await?;
        return again("login.missing", StatusCode::UNPROCESSABLE_ENTITY);
    }
    match signin::authenticate(sv, &username, &password, ip).await? {
        Ok(account) => {
            give_back(slot).await?;
            let secret =
                signin::start_session(sv, &account, ip, ua.as_deref(), old.as_deref()).await?;
            let cookie = session::session_cookie(&state, &secret, false);
            with_cookie(Redirect::to(&next).into_response(), &cookie)
        }
        Err(LoginFailure::BadCredentials) => again("login.bad_credentials", StatusCode::OK),
        Err(LoginFailure::Locked) => wait("login.locked", sv.settings().lockout_duration.as_secs()),
    }
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    signin::end_session(
        &state.services,
        &user.caller(),
        user.session_hash.as_deref(),
    )
    .await?;
    let cookie = session::session_cookie(&state, "", true);
    with_cookie(Redirect::to("/login").into_response(), &cookie)
}

/// The page a switch was pressed on, if it is on this site.
fn same_origin_back(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let u = url::Url::parse(headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
    if format!("{}{port}", u.host_str()?) != host {
        return None;
    }
    Some(match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    })
}

async fn switch_lang(Path(code): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    let back = same_origin_back(&headers);
    let cookie = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    with_cookie(
        Redirect::to(&safe_next(back.as_deref())).into_response(),
        &cookie,
    )
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_this_sites_paths_are_followed() {
        for (given, want) in [
            (Some("/requests?box=open"), "/requests?box=open"),
            (Some("/care/blocks/3"), "/care/blocks/3"),
            (None, "/"),
            (Some("https://evil.example/"), "/"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example/"), "/"),
            (Some("/\t/evil.example/"), "/"),
            (Some("/\n/evil.example/"), "/"),
            (Some("/\r\nSet-Cookie: x=1"), "/"),
            (Some("/%09/evil.example/"), "/%09/evil.example/"),
            (Some("/a/../b"), "/b"),
            (Some("/ü"), "/%C3%BC"),
        ] {
            assert_eq!(safe_next(given), want, "{given:?}");
        }
    }
}
