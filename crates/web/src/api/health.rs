//! `GET /healthz`: whether the server and its database answer.

use crate::{AppError, AppState};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn health(State(state): State<AppState>) -> Response {
    match state.services.health().await {
        Ok(backend) => Json(json!({"status": "ok", "backend": backend})).into_response(),
        Err(_) => AppError::Unavailable.into_response(),
    }
}
