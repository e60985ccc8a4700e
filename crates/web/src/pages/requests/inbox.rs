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
use doorstep_services::records::RequestOrder;
use doorstep_services::requests::{self as svc, InboxQuery};
use minijinja::context;

/// The box and the board's filters (state, kind, catalogue category); a value that is
/// none of its codes is ignored, as board links may be stale.
pub(super) struct BoardParams {
    inbox: Inbox,
    state: Option<RState>,
    kind: Option<Kind>,
    category: Option<Category>,
    q: Option<String>,
    by_deadline: bool,
    /// Admins: one neighbourhood's requests (from the home page's queues).
    neighbourhood_id: Option<doorstep_domain::NeighbourhoodId>,
    page: Option<i64>,
}

impl FromParams for BoardParams {
    fn from_params(p: &mut Params) -> Self {
        BoardParams {
            inbox: p.code_or_none("box").unwrap_or(Inbox::Open),
            state: p.code_or_none("state"),
            kind: p.code_or_none("kind"),
            category: p.code_or_none("category"),
            q: p.text("q").filter(|q| !q.trim().is_empty()),
            by_deadline: p.text("sort").as_deref() == Some("deadline"),
            neighbourhood_id: p.code_or_none("neighbourhood_id"),
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
        text: p.q.clone(),
        neighbourhood_id: p.neighbourhood_id,
        order: if p.by_deadline {
            RequestOrder::Deadline
        } else {
            RequestOrder::Newest
        },
        limit,
        offset,
        ..InboxQuery::new(p.inbox)
    };
    let page_data = svc::inbox(&state.services, &user.caller(), &q).await?;
    let rows: Vec<serde_json::Value> = page_data
        .items
        .iter()
        .map(|r| card(&state, lang, r, now))
        .collect();
    let tabs = tabs(&state, lang, &p);
    let chosen = [
        ("state", p.state.map(|x| x.code())),
        ("kind", p.kind.map(|x| x.code())),
        ("category", p.category.map(|x| x.code())),
    ];
    let query = board_query(&p, &chosen);
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
        "box": p.inbox.code(), "q": p.q.clone().unwrap_or_default(),
        "sort": if p.by_deadline { "deadline" } else { "newest" },
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

/// A request as a card of a list (the inbox, the home page).
pub(crate) fn card(
    state: &AppState,
    lang: crate::i18n::Lang,
    r: &doorstep_services::records::RequestRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let tr = |k: &str| state.i18n.t(lang, k);
    let desc: String = r.description.chars().take(80).collect();
    let open = r.workflow.state.is_open();
    serde_json::json!({
        "href": format!("/requests/{}", r.id), "code": r.tracking_code, "desc": desc,
        "kind": tr(&format!("choice.kind.{}", r.kind)),
        "channel": tr(&format!("choice.channel.{}", r.channel)),
        "received": views::local_time(r.created_at),
        "state": tr(&format!("request.state.{}", r.workflow.state)),
        "deadline": views::local_deadline(r.deadline_at),
        "overdue": open && r.deadline_at < now,
        "due_soon": open && r.deadline_at >= now && r.deadline_at < now + chrono::Duration::hours(24),
        "escalated": r.workflow.escalated,
    })
}

/// The query that keeps the box, search, order and filters across pages.
fn board_query(p: &BoardParams, chosen: &[(&str, Option<&str>)]) -> String {
    let mut query = format!("box={}", p.inbox);
    if let Some(text) = &p.q {
        query.push_str(&format!("&q={}", views::url_encode(text)));
    }
    if p.by_deadline {
        query.push_str("&sort=deadline");
    }
    if let Some(n) = p.neighbourhood_id {
        query.push_str(&format!("&neighbourhood_id={n}"));
    }
    for (k, v) in chosen {
        if let Some(v) = v {
            query.push_str(&format!("&{k}={v}"));
        }
    }
    query
}

/// The boxes as tabs; they keep the neighbourhood and the search, so switching box does
/// not lose them.
fn tabs(state: &AppState, lang: crate::i18n::Lang, p: &BoardParams) -> Vec<serde_json::Value> {
    Inbox::ALL
        .iter()
        .map(|b| {
            let mut href = format!("/requests?box={b}");
            if let Some(n) = p.neighbourhood_id {
                href.push_str(&format!("&neighbourhood_id={n}"));
            }
            if let Some(text) = &p.q {
                href.push_str(&format!("&q={}", views::url_encode(text)));
            }
            let label = state.i18n.t(lang, &format!("request.box.{b}"));
            serde_json::json!({"href": href, "label": label, "current": *b == p.inbox})
        })
        .collect()
}
