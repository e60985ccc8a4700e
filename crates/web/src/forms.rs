//! A submitted web form.

use crate::AppError;
use axum::Form;
use axum::extract::{FromRequest, Request};
use std::collections::BTreeMap;

/// A submitted web form as a JSON object (all values strings), for the shared validator.
/// A body that is not a form is a 400.
pub struct FormData(pub serde_json::Map<String, serde_json::Value>);

impl FormData {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.as_str())
    }

    /// What was typed, to show again after an error.
    pub fn raw(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect()
    }

    /// The fields without the form's own (`_csrf`).
    pub fn input(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = self.0.clone();
        m.retain(|k, _| !k.starts_with('_'));
        m
    }

    /// The version the form was based on, if it says.
    pub fn version(&self) -> Result<Option<i64>, AppError> {
        match self.get("version").filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| AppError::BadRequest("version".into())),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?;
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            map.insert(k, serde_json::Value::String(v));
        }
        Ok(FormData(map))
    }
}
