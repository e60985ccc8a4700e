//! A request's page: what it is, its timeline, its images, likely duplicates, and the
//! moves the viewer may make; and the forms those moves are sent from.

use crate::forms::FormData;
use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use doorstep_domain::mask::{mask_name, mask_phone};
use doorstep_domain::requests::{Handler, Move, ReturnReason, Satisfaction};
use doorstep_domain::{AccountId, RequestId};
use doorstep_services::requests::view::{RequestPage, page as request_page};
use doorstep_services::requests::{self as svc, attachments};
use minijinja::context;

/// The timeline as the page lists it.
fn events(state: &AppState, lang: crate::i18n::Lang, p: &RequestPage) -> Vec<serde_json::Value> {
    let tr = |k: &str| state.i18n.t(lang, k);
    p.timeline
        .iter()
        .map(|e| {
            let what = tr(&format!(
                "request.move.{}",
                e.mv.as_ref().map_or("receive", Move::code)
            ));
            let detail = match &e.mv {
                Some(Move::Resolve { reply } | Move::ResolveOnSpot { reply }) => reply.clone(),
                Some(Move::Return { note, .. }) => note.clone(),
                Some(Move::RequestExtension { days, reason }) => format!("+{days} · {reason}"),
                Some(Move::Merge { into }) => format!("→ #{into}"),
                Some(Move::Absorb { from }) => format!("← #{from}"),
                _ => String::new(),
            };
            serde_json::json!({"at": views::local_time(e.at), "who": e.actor_name, "what": what, "detail": detail,
                "state": tr(&format!("request.state.{}", e.state_after))})
        })
        .collect()
}

/// The request's particulars, the resident's name and phone masked.
fn particulars(
    state: &AppState,
    lang: crate::i18n::Lang,
    p: &RequestPage,
) -> Vec<serde_json::Value> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let r = &p.record;
    let none = || "—".to_string();
    let row = |label: &str, value: String| serde_json::json!({"label": tr(label), "value": value});
    let mut fields = vec![
        row("request.tracking_code", r.tracking_code.clone()),
        row("field.kind", tr(&format!("choice.kind.{}", r.kind))),
        row(
            "field.channel",
            tr(&format!("choice.channel.{}", r.channel)),
        ),
        row(
            "request.state_label",
            tr(&format!("request.state.{}", r.workflow.state)),
        ),
        row("request.deadline", views::local_deadline(r.deadline_at)),
        row("request.owner", p.owner_name.clone()),
        row(
            "field.resident_name",
            r.resident_name
                .as_deref()
                .map(mask_name)
                .unwrap_or_else(none),
        ),
        row(
            "field.resident_phone",
            r.resident_phone
                .as_deref()
                .map(mask_phone)
                .unwrap_or_else(none),
        ),
    ];
    if let Some(a) = &r.address {
        fields.push(row("field.address", a.clone()));
    }
    fields
}

fn duplicates(
    state: &AppState,
    lang: crate::i18n::Lang,
    p: &RequestPage,
) -> Vec<serde_json::Value> {
    p.duplicates
        .iter()
        .map(|(c, score)| {
            let desc: String = c.description.chars().take(60).collect();
            serde_json::json!({"id": c.id, "href": format!("/requests/{}", c.id), "code": c.tracking_code,
                "desc": desc, "state": state.i18n.t(lang, &format!("request.state.{}", c.state)),
                "received": views::local_time(c.created_at), "score": format!("{:.0}%", score.min(1.0) * 100.0)})
        })
        .collect()
}

async fn render_show(
    state: &AppState,
    user: &CurrentUser,
    id: RequestId,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let p = request_page(&state.services, &user.caller(), id).await?;
    let r = &p.record;
    let now = state.services.now();
    let moves: Vec<serde_json::Value> = p
        .moves
        .iter()
        .map(|name| serde_json::json!({"name": name, "label": tr(&format!("request.move.{name}"))}))
        .collect();
    let workers: Vec<SelectOption> = p
        .handlers
        .iter()
        .map(|a| SelectOption {
            value: a.id.to_string(),
            label: a.display_name.clone(),
        })
        .collect();
    let attachments: Vec<String> = p
        .attachments
        .iter()
        .map(|a| format!("/api/v1/requests/{}/attachments/{}", r.id, a.id))
        .collect();
    let merged_into = p
        .merged_into
        .as_ref()
        .map(|(id, code)| serde_json::json!({"href": format!("/requests/{id}"), "code": code}));
    let open = r.workflow.state.is_open();
    let options =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let title = format!("{} {}", tr("entity.request"), r.tracking_code);
    let extra = context! {
        title => title.clone(), description => r.description, fields => particulars(state, lang, &p),
        events => events(state, lang, &p), moves, workers, attachments,
        dups => duplicates(state, lang, &p), may_merge => p.may_merge, merged_into, may_attach => open,
        upload_action => format!("/requests/{}/attachments", r.id),
        version => r.version, action => format!("/requests/{}/moves", r.id), error,
        overdue => open && r.deadline_at < now, escalated => r.workflow.escalated,
        due_soon => open && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
        rating_fields => [("efficiency", "request.rating_efficiency"), ("attitude", "request.rating_attitude"), ("result", "request.rating_result")]
            .iter()
            .map(|(v, k)| SelectOption { value: v.to_string(), label: tr(k) })
            .collect::<Vec<_>>(),
        reasons => options(ReturnReason::CODES, "request.reason."),
        ratings => options(&["satisfied", "basic", "unsatisfied"], "request.rating."),
    };
    Ok((
        status,
        page(state, lang, Some(user), "requests/show.html", &title, extra)?,
    )
        .into_response())
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
) -> Result<Response, AppError> {
    render_show(&state, &user, id, None, StatusCode::OK).await
}

/// A move from the page's forms.
fn move_from(form: &FormData) -> Result<Move, AppError> {
    let get = |k: &str| form.get(k).unwrap_or("").trim().to_string();
    let choice = |k: &str| AppError::validation(k, "invalid_choice");
    let sat = |k: &str| Satisfaction::parse(&get(k)).ok_or_else(|| choice(k));
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
                other => state.i18n.t(user.lang, &format!("error.{}", other.code())),
            };
            render_show(&state, &user, id, Some(msg), e.status()).await
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
            render_show(
                &state,
                &user,
                id,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
