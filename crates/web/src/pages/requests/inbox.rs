//! The inbox: the boxes of requests the viewer works, with the board's filters.

use crate::params::{FromParams, PageQuery, Params};
use crate::render::page;
use crate::session::CurrentUser;
use crate::views;
use crate::{AppError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use doorstep_domain::catalogue::Category;
use doorstep_domain::requests::{Inbox, Kind, State as RState};
use doorstep_services::requests::{self as svc, InboxQuery};
use minijinja::context;

/// The box and the board's filters (state, kind, catalogue category); a value that is
/// none of its codes is ignored, as board links may be stale.
pub(super) struct BoardParams {
    inbox: Inbox,
    state: Option<RState>,
    kind: Option<Kind>,
    category: Option<Category>,
    page: Option<i64>,
}

impl FromParams for BoardParams {
    fn from_params(p: &mut Params) -> Self {
        BoardParams {
            inbox: p.code_or_none("box").unwrap_or(Inbox::Open),
            state: p.code_or_none("state"),
            kind: p.code_or_none("kind"),
            category: p.code_or_none("category"),
            page: p.code_or_none("page"),
        }
    }
}

pub(super) async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    PageQuery(p): PageQuery<BoardParams>,
) -> Result<Response, AppError> {
    let lang = user.lang;
    let tr = |k: &str| state.i18n.t(lang, k);
    let now = state.services.now();
    let (limit, offset) = views::paging(p.page, None);
    let q = InboxQuery {
        state: p.state,
        kind: p.kind,
        category: p.category,
        limit,
        offset,
        ..InboxQuery::new(p.inbox)
    };
    let page_data = svc::inbox(&state.services, &user.caller(), &q).await?;
    let rows: Vec<serde_json::Value> = page_data
        .items
        .iter()
        .map(|r| {
            let desc: String = r.description.chars().take(40).collect();
            let open = r.workflow.state.is_open();
            serde_json::json!({
                "href": format!("/requests/{}", r.id), "code": r.tracking_code, "desc": desc,
                "kind": tr(&format!("choice.kind.{}", r.kind)),
                "state": tr(&format!("request.state.{}", r.workflow.state)),
                "deadline": views::local_deadline(r.deadline_at),
                "overdue": open && r.deadline_at < now,
                "due_soon": open && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
                "escalated": r.workflow.escalated,
            })
        })
        .collect();
    let tabs: Vec<serde_json::Value> = Inbox::ALL
        .iter()
        .map(|b| serde_json::json!({"href": format!("/requests?box={b}"), "label": tr(&format!("request.box.{b}")), "current": *b == p.inbox}))
        .collect();
    let mut query = format!("box={}", p.inbox);
    let chosen = [
        ("state", p.state.map(|x| x.code())),
        ("kind", p.kind.map(|x| x.code())),
        ("category", p.category.map(|x| x.code())),
    ];
    for (k, v) in chosen {
        if let Some(v) = v {
            query.push_str(&format!("&{k}={v}"));
        }
    }
    let pager = views::Pager::new(
        page_data.total,
        limit,
        offset,
        page_data.items.len(),
        "/requests",
        &query,
    );
    let opts =
        |codes: &[&str], prefix: &str| views::choice_options(&state.i18n, lang, codes, prefix);
    let filters = serde_json::json!({
        "box": p.inbox.code(),
        "state": chosen[0].1.unwrap_or(""), "kind": chosen[1].1.unwrap_or(""), "category": chosen[2].1.unwrap_or(""),
        "states": opts(RState::CODES, "request.state."),
        "kinds": opts(Kind::CODES, "choice.kind."),
        "categories": opts(Category::CODES, "choice.category."),
    });
    let title = tr("request.inbox");
    let extra = context! { title => title.clone(), rows, tabs, pager, filters };
    Ok(page(
        &state,
        lang,
        Some(&user),
        "requests/index.html",
        &title,
        extra,
    )?
    .into_response())
}
