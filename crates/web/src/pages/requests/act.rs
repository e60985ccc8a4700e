//! What the request page's forms send: moves, photos, and the reveal of the resident's
//! phone; each answered with the page again (with what went wrong) or a redirect.

use super::show::{Notice, render_show};
use crate::forms::FormData;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::audit::RevealReason;
use doorstep_domain::requests::{FollowUpChannel, Handler, Move, ReturnReason, Satisfaction};
use doorstep_domain::{AccountId, RequestId};
use doorstep_services::requests::{self as svc, attachments};
use doorstep_services::reveal::{Secret, reveal as reveal_secret};

/// A move from the page's forms.
fn move_from(form: &FormData) -> Result<Move, AppError> {
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let choice = |k: &str| AppError::validation(k, "invalid_choice");
    // Ratings are chosen, never preset: an empty one is a missing answer.
    let sat = |k: &str| match get(k).as_str() {
        "" => Err(AppError::validation(k, "required")),
        v => Satisfaction::parse(v).ok_or_else(|| choice(k)),
    };
    let number = |k: &str, e: &'static str| {
        get(k)
            .parse::<i64>()
            .map_err(|_| AppError::validation(k, e))
    };
    Ok(match get("move").as_str() {
        "resolve_on_spot" => Move::ResolveOnSpot {
            reply: get("reply"),
        },
        "assign" => Move::Assign {
            to: Handler::Worker(AccountId(number("to", "invalid_reference")?)),
        },
        "accept" => Move::Accept,
        "return" => Move::Return {
            reason: ReturnReason::parse(&get("reason")).ok_or_else(|| choice("reason"))?,
            note: get("note"),
        },
        "start" => Move::Start,
        "resolve" => Move::Resolve {
            reply: get("reply"),
        },
        "follow_up" => Move::FollowUp {
            efficiency: sat("efficiency")?,
            attitude: sat("attitude")?,
            result: sat("result")?,
            channel: match get("channel").as_str() {
                "" => return Err(AppError::validation("channel", "required")),
                c => FollowUpChannel::parse(c)
                    .filter(|c| *c != FollowUpChannel::Web)
                    .ok_or_else(|| choice("channel"))?,
            },
        },
        "close" => Move::Close,
        "request_extension" => Move::RequestExtension {
            days: get("days")
                .parse()
                .map_err(|_| AppError::validation("days", "not_integer"))?,
            reason: get("reason_text"),
        },
        "decide_extension" => Move::DecideExtension {
            approve: get("approve") == "true",
        },
        "escalate" => Move::Escalate,
        "merge" => Move::Merge {
            into: RequestId(number("into", "invalid_reference")?),
        },
        _ => return Err(AppError::validation("move", "invalid_choice")),
    })
}

pub(super) async fn make_move(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let version = form
        .version()?
        .ok_or_else(|| AppError::validation("version", "required"))?;
    let result = match move_from(&form) {
        Ok(mv) => svc::apply_move(&state.services, &user.caller(), id, version, &mv)
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let msg = match &e {
                AppError::Validation(fe) => super::super::field_messages(&state, user.lang, fe),
                AppError::Conflict { .. } => what_changed(&state, &user, id).await?,
                other => state.i18n.t(user.lang, &format!("error.{}", other.code())),
            };
            let notice = Notice {
                error: Some(msg),
                ..Notice::default()
            };
            render_show(&state, &user, id, notice, e.status()).await
        }
        Err(e) => Err(e),
    }
}

/// An image added from the request page (multipart, with the form's CSRF token).
pub(super) async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut csrf = None;
    let mut photo = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("_csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("photo") => photo = field.bytes().await.map_err(bad)?.to_vec(),
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref())?;
    match attachments::attach(&state.services, &user.caller(), id, "photo", &photo).await {
        Ok(_) => Ok(Redirect::to(&format!("/requests/{id}")).into_response()),
        Err(doorstep_services::Error::Validation(fe)) => {
            let msg = super::super::field_messages(&state, user.lang, &fe);
            let notice = Notice {
                error: Some(msg),
                ..Notice::default()
            };
            render_show(&state, &user, id, notice, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// For a move sent from a page that was out of date: what the request is now and the
/// last thing done to it, so the worker sees why before deciding again.
async fn what_changed(
    state: &AppState,
    user: &CurrentUser,
    id: RequestId,
) -> Result<String, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let (r, timeline) = svc::with_timeline(&state.services, &user.caller(), id).await?;
    let last = timeline.last().map(|e| {
        let what = tr(&format!(
            "request.move.{}",
            e.mv.as_ref().map_or("receive", Move::code)
        ));
        format!(
            "{} {} · {}",
            e.actor_name,
            what,
            crate::views::local_time(e.at)
        )
    });
    Ok(state.i18n.t_args(
        lang,
        "request.stale",
        &[
            tr(&format!("request.state.{}", r.workflow.state)),
            last.unwrap_or_default(),
        ],
    ))
}

/// `POST /requests/{id}/reveal`: the resident's phone, for this answer only, with the
/// reason recorded in the audit log.
pub(super) async fn reveal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    form: FormData,
) -> Result<Response, AppError> {
    user.check_csrf(form.get("_csrf"))?;
    let Some(reason) = form.get("reason").and_then(RevealReason::parse) else {
        let msg = state.i18n.t(user.lang, "reveal.reason_required");
        let notice = Notice {
            error: Some(msg),
            ..Notice::default()
        };
        return render_show(&state, &user, id, notice, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let phone = reveal_secret(
        &state.services,
        &user.caller(),
        Secret::RequestPhone(id),
        reason,
    )
    .await?;
    let notice = Notice {
        phone: Some(phone),
        ..Notice::default()
    };
    render_show(&state, &user, id, notice, StatusCode::OK).await
}
