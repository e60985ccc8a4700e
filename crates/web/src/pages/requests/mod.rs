//! Request pages: the inbox, the desk intake form, and a request with its timeline and
//! the moves the viewer may make.

mod act;
mod desk;
pub(crate) mod inbox;
mod show;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};
use doorstep_domain::requests::MAX_ATTACHMENT_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(inbox::index).post(desk::create))
        .route("/requests/new", get(desk::new_form))
        .route("/requests/{id}", get(show::show))
        .route("/requests/{id}/moves", post(act::make_move))
        .route(
            "/requests/{id}/reveal",
            post(act::reveal).get(
                |axum::extract::Path(id): axum::extract::Path<i64>| async move {
                    // A reload or a bookmark of the reveal's answer: back to the masked page.
                    axum::response::Redirect::to(&format!("/requests/{id}"))
                },
            ),
        )
        .route(
            "/requests/{id}/attachments",
            post(act::upload).layer(axum::extract::DefaultBodyLimit::max(
                MAX_ATTACHMENT_BYTES + 64 * 1024,
            )),
        )
}
