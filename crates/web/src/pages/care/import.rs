//! The roster import: the template, an upload checked row by row (a dry run first), and
//! the report with every error by row and column.

use crate::render::page;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_services::register::import::{COLUMNS, Mode, Report, import, read_table, template};
use minijinja::context;

fn may_import(user: &CurrentUser) -> Result<(), AppError> {
    if user.actor.may_import_roster() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    report: Option<&Report>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let columns: Vec<serde_json::Value> = COLUMNS
        .iter()
        .map(|(n, req)| serde_json::json!({"name": n, "required": req}))
        .collect();
    let report = report.map(|r| {
        let errors: Vec<serde_json::Value> = r
            .errors
            .iter()
            .map(|e| serde_json::json!({"row": e.row, "column": e.column,
                "message": state.i18n.t(lang, &format!("field_error.{}", e.code))}))
            .collect();
        serde_json::json!({"rows": r.rows, "valid": r.valid, "errors": errors, "written": r.written})
    });
    let title = state.i18n.t(lang, "roster.title");
    let extra = context! { title => title.clone(), columns, report, error };
    Ok((
        status,
        page(state, lang, Some(user), "care/import.html", &title, extra)?,
    )
        .into_response())
}

pub(super) async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    may_import(&user)?;
    render(&state, &user, None, None, StatusCode::OK).await
}

pub(super) async fn template_file(user: CurrentUser) -> Result<Response, AppError> {
    may_import(&user)?;
    Ok(crate::views::xlsx_download(
        template()?,
        "roster-template.xlsx",
    ))
}

/// `POST /care/import`: multipart with the CSRF token, the file and the mode.
pub(super) async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    may_import(&user)?;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let (mut csrf, mut file, mut name, mut mode) = (None, Vec::new(), String::new(), Mode::DryRun);
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("_csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("mode") => {
                mode = match field.text().await.map_err(bad)?.as_str() {
                    "import" => Mode::AllOrNothing,
                    "valid" => Mode::ValidRows,
                    _ => Mode::DryRun,
                }
            }
            Some("file") => {
                name = field.file_name().unwrap_or("roster.xlsx").to_string();
                file = field.bytes().await.map_err(bad)?.to_vec();
            }
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref())?;
    let outcome = async {
        let table = read_table(&name, &file)?;
        import(&state.services, &user.caller(), &table, mode).await
    }
    .await;
    match outcome {
        Ok(r) => {
            let status = if r.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(&state, &user, Some(&r), None, status).await
        }
        Err(doorstep_services::Error::Validation(fe)) => {
            let error = Some(super::super::field_messages(&state, user.lang, &fe));
            render(&state, &user, None, error, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /care/export.xlsx`: the roster, masked.
pub(super) async fn export_masked(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    export_file(&state, &user, None).await
}

/// `POST /care/export.xlsx` with `reason` (and the CSRF token): the roster in full, for a
/// secretary; a POST so that no link from elsewhere can make an audited full export.
pub(super) async fn export_full(
    State(state): State<AppState>,
    user: CurrentUser,
    form: crate::forms::FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let reason = form
        .get("reason")
        .and_then(doorstep_domain::audit::RevealReason::parse)
        .ok_or(AppError::validation("reason", "invalid_choice"))?;
    export_file(&state, &user, Some(reason)).await
}

async fn export_file(
    state: &AppState,
    user: &CurrentUser,
    full: Option<doorstep_domain::audit::RevealReason>,
) -> Result<Response, AppError> {
    let bytes =
        doorstep_services::register::export::export(&state.services, &user.caller(), full).await?;
    Ok(crate::views::xlsx_download(bytes, "roster.xlsx"))
}
