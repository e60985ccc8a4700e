//! One error type for every handler. Handlers return it with `?`; the `render_errors`
//! middleware turns it into a JSON body (API) or a page (web app) in the caller's language.

use crate::AppState;
use crate::i18n::Lang;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::FieldErrors;
use std::sync::Arc;

/// Why a request failed. Codes are stable snake_case; the UI translates them.
#[derive(Debug, Clone)]
pub enum AppError {
    /// 400: the body or query could not be read at all.
    BadRequest(String),
    /// A body over the configured limit (`max_body_bytes`).
    PayloadTooLarge,
    /// 401: not signed in (pages redirect to the sign-in page).
    Unauthorized,
    /// 403: signed in, but outside one's role or scope.
    Forbidden,
    /// 404: no such thing (or one whose existence must not leak).
    NotFound,
    /// 409: a duplicate, a stale version, or a record still in use.
    Conflict {
        code: &'static str,
        fields: Vec<String>,
        current_version: Option<i64>,
    },
    /// 428: a change sent without the version it was based on.
    VersionRequired,
    /// 409: the room is booked then; the booking in the way.
    Overlap(Box<doorstep_services::records::Booking>),
    /// 422: fields that failed validation.
    Validation(FieldErrors),
    /// 429: too many attempts from this address.
    /// Over a per-address limit: try again in `retry_after` seconds.
    TooManyRequests { retry_after: u64 },
    /// 503: the database is unreachable.
    Unavailable,
    /// 500: a bug or an unexpected failure; the cause is logged, never sent.
    Internal,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::VersionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::Overlap(_) => StatusCode::CONFLICT,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::VersionRequired => "version_required",
            AppError::Overlap(_) => "booking_overlap",
            AppError::Validation(_) => "validation_failed",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable => "unavailable",
            AppError::Internal => "internal",
        }
    }

    pub fn validation(field: &str, code: &'static str) -> Self {
        AppError::Validation(FieldErrors::single(field, code))
    }

    pub fn conflict(code: &'static str) -> Self {
        AppError::Conflict {
            code,
            fields: Vec::new(),
            current_version: None,
        }
    }

    /// The body of an API error, in `lang`.
    pub fn to_json(&self, i18n: &crate::i18n::I18n, lang: Lang) -> serde_json::Value {
        let mut message = i18n.t(lang, &format!("error.{}", self.code()));
        if let AppError::BadRequest(detail) = self
            && !detail.is_empty()
        {
            message = format!("{message}: {detail}");
        }
        if let AppError::Overlap(b) = self {
            let local = |t: chrono::DateTime<chrono::Utc>| {
                t.with_timezone(&chrono_tz::Asia::Shanghai)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            };
            let when = format!("{}–{}", local(b.starts_at), &local(b.ends_at)[11..]);
            message = i18n.t_args(lang, "error.booking_overlap", &[when, b.purpose.clone()]);
        }
        let mut body = serde_json::json!({ "error": self.code(), "message": message });
        if let AppError::Overlap(b) = self {
            body["conflict"] = serde_json::json!({
                "id": b.id, "room_id": b.room_id, "starts_at": b.starts_at, "ends_at": b.ends_at,
                "purpose": b.purpose, "state": b.state,
            });
        }
        match self {
            AppError::Validation(errors) => {
                let fields: serde_json::Map<String, serde_json::Value> = errors
                    .0
                    .iter()
                    .map(|e| {
                        (
                            e.field.clone(),
                            serde_json::json!({"code": e.code, "message": i18n.field_error(lang, e)}),
                        )
                    })
                    .collect();
                body["fields"] = serde_json::Value::Object(fields);
            }
            AppError::Conflict {
                fields,
                current_version,
                ..
            } => {
                if !fields.is_empty() {
                    let dup = i18n.t(lang, "field_error.duplicate");
                    body["fields"] = fields
                        .iter()
                        .map(|f| {
                            (
                                f.clone(),
                                serde_json::json!({"code": "duplicate", "message": dup}),
                            )
                        })
                        .collect::<serde_json::Map<_, _>>()
                        .into();
                }
                if let Some(v) = current_version {
                    body["current_version"] = (*v).into();
                }
            }
            _ => {}
        }
        body
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl From<doorstep_services::Error> for AppError {
    fn from(e: doorstep_services::Error) -> Self {
        use doorstep_services::Error as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::Forbidden => AppError::Forbidden,
            E::Validation(f) => AppError::Validation(f),
            E::Conflict {
                code,
                fields,
                current_version,
            } => AppError::Conflict {
                code,
                fields,
                current_version,
            },
            E::VersionRequired => AppError::VersionRequired,
            E::Overlap(b) => AppError::Overlap(b),
            E::TooManyRequests => AppError::TooManyRequests { retry_after: 60 },
            E::Unavailable => AppError::Unavailable,
            E::Internal => AppError::Internal,
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), self.code().to_string()).into_response();
        res.extensions_mut().insert(Arc::new(self));
        res
    }
}

/// Whether a path belongs to a machine interface (JSON errors) rather than the web app.
pub(crate) fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz"
}

/// A plain-text refusal from the framework itself (a path segment that is not a number,
/// a method not allowed), as one of ours, so it is answered in the user's language.
fn framework_error(res: &Response) -> Option<Arc<AppError>> {
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !plain {
        return None;
    }
    let err = match res.status() {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => AppError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            AppError::BadRequest(String::new())
        }
        _ => return None,
    };
    Some(Arc::new(err))
}

/// Renders an [`AppError`] left in a response's extensions.
pub(crate) async fn render_errors(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let api = is_api_path(&path);
    let lang = crate::i18n::negotiate(req.headers(), api);
    // The signed-in user's headers, kept to show the menu on an error page.
    let mut probe = Request::new(axum::body::Body::empty());
    *probe.headers_mut() = req.headers().clone();
    let res = next.run(req).await;
    let Some(err) = res
        .extensions()
        .get::<Arc<AppError>>()
        .cloned()
        .or_else(|| framework_error(&res))
    else {
        return res;
    };
    let retry_after = match *err {
        AppError::TooManyRequests { retry_after } => {
            HeaderValue::from_str(&retry_after.to_string()).ok()
        }
        _ => None,
    };
    let mut out = if api {
        let mut out = (err.status(), axum::Json(err.to_json(&state.i18n, lang))).into_response();
        if matches!(*err, AppError::Unauthorized) {
            out.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"doorstep\""),
            );
        }
        out
    } else if matches!(*err, AppError::Unauthorized) {
        let next = match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let target = format!("/login?next={}", crate::views::url_encode(&next));
        return Redirect::to(&target).into_response();
    } else {
        let (parts, _) = probe.into_parts();
        // A database that is down cannot say who is signed in: the page goes without menu.
        let user = match *err {
            AppError::Unavailable => None,
            _ => crate::session::load_user(&state, &parts)
                .await
                .ok()
                .flatten(),
        };
        let lang = user.as_ref().map_or(lang, |u| u.lang);
        let page = crate::render::error_page(&state, lang, user.as_ref(), &err);
        (err.status(), page).into_response()
    };
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}
