//! A request's page: what it is and where, who took it and who handles it, the catalogue
//! item's guide, its timeline, its images, likely duplicates, and the moves the viewer
//! may make. The forms post to [`super::act`].

use crate::render::page;
use crate::session::CurrentUser;
use crate::views::{self, SelectOption};
use crate::{AppError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_domain::RequestId;
use doorstep_domain::audit::RevealReason;
use doorstep_domain::mask::{mask_name, mask_phone};
use doorstep_domain::requests::{FollowUpChannel, Move, ReturnReason};
use doorstep_services::requests::view::{RequestPage, page as request_page};
use minijinja::context;
use std::collections::BTreeMap;

type Lang = crate::i18n::Lang;

/// What the page says above the request, besides its data.
#[derive(Debug, Default)]
pub(super) struct Notice {
    /// Why the last form was refused.
    pub error: Option<String>,
    /// A success to confirm (the request just taken).
    pub info: Option<String>,
    /// The resident's phone, revealed for this answer only.
    pub phone: Option<String>,
}

/// The timeline as the page lists it.
fn events(state: &AppState, lang: Lang, p: &RequestPage) -> Vec<serde_json::Value> {
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
                Some(Move::FollowUp { channel, .. }) => tr(&format!("request.follow_up_via.{channel}")),
                _ => String::new(),
            };
            let who = if e.mv.as_ref().is_some_and(|m| matches!(m, Move::FollowUp { channel: FollowUpChannel::Web, .. })) {
                tr("request.the_resident")
            } else {
                e.actor_name.clone()
            };
            serde_json::json!({"at": views::local_time(e.at), "who": who, "what": what, "detail": detail,
                "state": tr(&format!("request.state.{}", e.state_after))})
        })
        .collect()
}

/// The request's particulars; the resident's name masked, the phone masked unless it was
/// just revealed.
fn particulars(
    state: &AppState,
    lang: Lang,
    p: &RequestPage,
    phone: Option<&str>,
) -> Vec<serde_json::Value> {
    let tr = |k: &str| state.i18n.t(lang, k);
    let r = &p.record;
    let none = || "—".to_string();
    let row = |label: &str, value: String| serde_json::json!({"label": tr(label), "value": value});
    let mut fields = vec![
        row("request.tracking_code", r.tracking_code.clone()),
        row("field.kind", tr(&format!("choice.kind.{}", r.kind))),
        row(
            "request.state_label",
            tr(&format!("request.state.{}", r.workflow.state)),
        ),
        row("request.deadline", views::local_deadline(r.deadline_at)),
        row(
            "request.came_in",
            format!(
                "{} · {}",
                tr(&format!("choice.channel.{}", r.channel)),
                views::local_time(r.created_at)
            ),
        ),
        row("request.owner", p.owner_name.clone()),
        row(
            "request.handler",
            p.handler_name.clone().unwrap_or_else(none),
        ),
        row(
            "field.resident_name",
            r.resident_name
                .as_deref()
                .map(mask_name)
                .unwrap_or_else(none),
        ),
    ];
    let shown = phone.map(str::to_string);
    fields.push(serde_json::json!({
        "label": tr("field.resident_phone"),
        "value": shown.clone().or_else(|| r.resident_phone.as_deref().map(mask_phone)).unwrap_or_else(none),
        "tel": shown,
    }));
    if let Some(a) = &r.address {
        fields.push(row("field.address", a.clone()));
    }
    fields
}

fn duplicates(state: &AppState, lang: Lang, p: &RequestPage) -> Vec<serde_json::Value> {
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

/// Where the request is: the building with its block and the block's worker, and a
/// small map.
fn whereabouts(state: &AppState, lang: Lang, p: &RequestPage) -> serde_json::Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let map = p.map.as_ref().map(|m| {
        let label = p
            .building
            .as_ref()
            .map(|b| b.label.clone())
            .unwrap_or_else(|| tr("request.location"));
        views::map::pin_map(m.at, &m.around, &label)
    });
    serde_json::json!({
        "building": p.building.as_ref().map(|b| serde_json::json!({
            "href": format!("/buildings/{}", b.id), "label": b.label,
            "block": b.block.as_ref().map(|(id, name)| serde_json::json!({"href": format!("/blocks/{id}"), "name": name})),
            "worker": b.block_worker,
        })),
        "map": map,
        "household": p.household.map(|h| format!("/care/households/{h}")),
    })
}

/// The catalogue item as a short guide.
fn guide(p: &RequestPage) -> Option<serde_json::Value> {
    p.item.as_ref().map(|(id, it)| {
        serde_json::json!({"href": format!("/catalogue/{id}"), "name": it.name, "materials": it.materials,
            "steps": it.steps, "post": it.post, "days": it.time_limit_days})
    })
}

/// The choices the move forms offer; nothing preset where a person must decide.
fn choices(state: &AppState, lang: Lang) -> serde_json::Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let options =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let rating_fields: Vec<SelectOption> = [
        ("efficiency", "request.rating_efficiency"),
        ("attitude", "request.rating_attitude"),
        ("result", "request.rating_result"),
    ]
    .iter()
    .map(|(v, k)| SelectOption {
        value: v.to_string(),
        label: tr(k),
    })
    .collect();
    serde_json::json!({
        "rating_fields": rating_fields,
        "reasons": options(ReturnReason::CODES, "request.reason."),
        "ratings": options(&["satisfied", "basic", "unsatisfied"], "request.rating."),
        "follow_up_channels": options(&[FollowUpChannel::Phone.code(), FollowUpChannel::Visit.code()], "request.follow_up_via."),
        "reveal_reasons": options(RevealReason::CODES, "reveal.reason."),
    })
}

pub(super) async fn render_show(
    state: &AppState,
    user: &CurrentUser,
    id: RequestId,
    notice: Notice,
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
    let title = format!("{} {}", tr("entity.request"), r.tracking_code);
    let revealed = notice.phone.is_some();
    let extra = context! {
        title => title.clone(), description => r.description, fields => particulars(state, lang, &p, notice.phone.as_deref()),
        place => whereabouts(state, lang, &p), guide => guide(&p),
        events => events(state, lang, &p), moves, workers, attachments,
        dups => duplicates(state, lang, &p), may_merge => p.may_merge, merged_into, may_attach => open,
        upload_action => format!("/requests/{}/attachments", r.id),
        reveal_action => (p.may_reveal && !revealed).then(|| format!("/requests/{}/reveal", r.id)),
        version => r.version, action => format!("/requests/{}/moves", r.id),
        error => notice.error, info => notice.info,
        // After a form's answer the address bar shows the request, so a reload re-reads it
        // (masked) instead of sending the form again.
        canonical => format!("/requests/{}", r.id),
        overdue => open && r.deadline_at < now, escalated => r.workflow.escalated,
        due_soon => open && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
        c => choices(state, lang),
    };
    let mut res = (
        status,
        page(state, lang, Some(user), "requests/show.html", &title, extra)?,
    )
        .into_response();
    if revealed {
        // A revealed number stays out of caches and the back-forward history.
        res.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(res)
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<RequestId>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let info = q
        .contains_key("taken")
        .then(|| state.i18n.t(user.lang, "request.taken_notice"));
    let notice = Notice {
        info,
        ..Notice::default()
    };
    render_show(&state, &user, id, notice, StatusCode::OK).await
}
