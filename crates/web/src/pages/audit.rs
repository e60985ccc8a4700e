//! The audit log, as admins search it.

use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_services::audit::{self, AuditQuery};
use doorstep_services::records::AuditRecord;
use minijinja::context;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(index))
}

/// The search form's fields. An action or kind of record the log does not know, or a day
/// that is not one, is reported above the results with the field named (a filter that is
/// silently ignored shows everything while seeming to show a part); the other filters
/// apply.
struct Filters {
    actor: Option<String>,
    action: Option<AuditAction>,
    entity: Option<AuditEntity>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    page: Option<i64>,
    raw: Vec<(&'static str, String)>,
    errors: doorstep_domain::FieldErrors,
}

impl FromParams for Filters {
    fn from_params(p: &mut Params) -> Self {
        let raw = ["actor", "action", "entity", "from", "to"]
            .into_iter()
            .filter_map(|k| p.peek(k).map(|v| (k, v)))
            .collect();
        let mut f = Filters {
            actor: p.text("actor"),
            action: p.code("action"),
            entity: p.code("entity"),
            from: p.date("from"),
            to: p.date("to"),
            page: p.int("page"),
            raw,
            errors: Default::default(),
        };
        f.errors = p.take_errors();
        f
    }
}

/// What an entry's detail says; a reveal in words (what was shown, and why).
fn detail(state: &AppState, lang: crate::i18n::Lang, r: &AuditRecord) -> String {
    let text = |k: &str| r.detail.get(k).and_then(|v| v.as_str()).unwrap_or("");
    if r.action == doorstep_domain::audit::AuditAction::Reveal {
        return format!(
            "{} · {}",
            state.i18n.t(lang, &format!("field.{}", text("field"))),
            state
                .i18n
                .t(lang, &format!("reveal.reason.{}", text("reason")))
        );
    }
    if r.detail.is_null() {
        String::new()
    } else {
        r.detail.to_string()
    }
}

fn row(state: &AppState, lang: crate::i18n::Lang, r: &AuditRecord) -> serde_json::Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let href = match (r.entity, r.entity_id) {
        (Some(AuditEntity::Account), Some(id)) => Some(format!("/accounts/{id}")),
        (Some(AuditEntity::Request), Some(id)) => Some(format!("/requests/{id}")),
        (Some(e), Some(id)) => e.place().map(|p| format!("/{}/{id}", p.table())),
        _ => None,
    };
    let entity = r
        .entity
        .map(|e| {
            format!(
                "{} #{}",
                tr(&format!("entity.{e}")),
                r.entity_id.unwrap_or_default()
            )
        })
        .unwrap_or_default();
    serde_json::json!({
        "at": views::local_time(r.at),
        "actor": r.actor_name.clone().unwrap_or_default(),
        "action": tr(&format!("audit_action.{}", r.action)),
        "entity": entity,
        "href": href,
        "ip": r.ip.clone().unwrap_or_default(),
        "detail": detail(state, lang, r),
    })
}

async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(f): PageQuery<Filters>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let (limit, offset) = views::paging(f.page, Some(100));
    let q = AuditQuery {
        actor: f.actor.clone(),
        action: f.action,
        entity: f.entity,
        entity_id: None,
        from: f.from,
        to: f.to,
        limit,
        offset,
    };
    let found = audit::search(&state.services, &user.actor, &q).await?;
    let rows: Vec<serde_json::Value> = found.items.iter().map(|r| row(&state, lang, r)).collect();
    let base: Vec<String> = f
        .raw
        .iter()
        .map(|(k, v)| format!("{k}={}", views::url_encode(v)))
        .collect();
    let pager = views::Pager::new(
        found.total,
        limit,
        offset,
        found.items.len(),
        "/audit",
        &base.join("&"),
    );
    let actions = views::choice_options(&state.i18n, lang, AuditAction::CODES, "audit_action.");
    let entities = views::choice_options(&state.i18n, lang, AuditEntity::CODES, "entity.");
    let given = |k: &str| {
        f.raw
            .iter()
            .find(|(x, _)| *x == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = serde_json::json!({
        "actor": given("actor"), "action": given("action"), "entity": given("entity"),
        "from": given("from"), "to": given("to"),
    });
    let title = tr("nav.audit");
    let error = (!f.errors.is_empty()).then(|| super::field_messages(&state, lang, &f.errors));
    let extra =
        context! { title => title.clone(), rows, pager, actions, entities, f => form, error };
    Ok(page(&state, lang, Some(&user), "audit.html", &title, extra)?.into_response())
}
