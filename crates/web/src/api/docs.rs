//! The API's reference as a plain page that reads on a phone: each operation with its
//! method, path, summary and parameters, from the same OpenAPI document the API serves
//! (the interactive Swagger UI stays at `/api/docs/`). For admins, who hand out tokens.

use crate::render::page;
use crate::session::CurrentUser;
use crate::{AppError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use doorstep_domain::Role;
use minijinja::context;

/// One operation as the page lists it.
fn operation(path: &str, method: &str, op: &serde_json::Value) -> serde_json::Value {
    let params: Vec<serde_json::Value> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| serde_json::json!({"name": p["name"], "where": p["in"], "about": p["description"]}))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "method": method.to_uppercase(), "path": path, "summary": op["summary"],
        "tag": op["tags"][0], "params": params,
        "body": op["requestBody"]["content"]["application/json"]["schema"]["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", ")),
    })
}

/// `GET /api`: the reference page.
pub async fn reference(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    if user.actor.role != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let doc = super::openapi();
    let mut ops = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, methods) in paths {
            for (method, op) in methods.as_object().into_iter().flatten() {
                ops.push(operation(path, method, op));
            }
        }
    }
    let title = state.i18n.t(user.lang, "api_docs.title");
    let extra = context! { title => title.clone(), ops, version => doc["info"]["version"] };
    Ok(page(
        &state,
        user.lang,
        Some(&user),
        "api_docs.html",
        &title,
        extra,
    )?
    .into_response())
}
