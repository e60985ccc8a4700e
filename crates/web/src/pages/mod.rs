//! The staff web app's pages and the residents' own: adapters over the services, one
//! file (or folder) per capability.

mod accounts;
mod audit;
mod bookings;
mod care;
mod catalogue;
mod circle;
mod circle_map;
mod figures;
mod home;
mod me;
mod places;
mod requests;
mod resident;
mod setup;
mod signin;

use crate::i18n::Lang;
use crate::views::{self, Table};
use crate::{AppError, AppState};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(signin::routes())
        .merge(setup::routes())
        .merge(accounts::routes())
        .merge(me::routes())
        .merge(audit::routes())
        .merge(circle::routes())
        .merge(catalogue::routes())
        .merge(care::routes())
        .merge(requests::routes())
        .merge(figures::routes())
        .merge(bookings::routes())
        .merge(resident::routes())
        .merge(places::routes())
        .fallback(not_found)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A stat tile.
#[derive(serde::Serialize)]
pub(crate) struct Stat {
    value: String,
    label: String,
}

pub(crate) fn stat(state: &AppState, lang: Lang, key: &str, value: impl ToString) -> Stat {
    Stat {
        value: value.to_string(),
        label: state.i18n.t(lang, key),
    }
}

/// A titled table on a page.
#[derive(serde::Serialize)]
pub(crate) struct Section {
    title: String,
    table: Table,
    more: Option<String>,
}

/// Office against service area, as the station pages and home show it.
pub(crate) fn area_view(
    state: &AppState,
    lang: Lang,
    office: f64,
    service: f64,
    before: Option<f64>,
) -> serde_json::Value {
    let total = office + service;
    let pct = |x: f64| {
        if total > 0.0 {
            (x / total * 1000.0).round() / 10.0
        } else {
            0.0
        }
    };
    let change = before
        .filter(|b| *b > 0.0)
        .map(|b| format!("{:+.0}%", (office - b) / b * 100.0));
    serde_json::json!({
        "office": views::format_num(office),
        "service": views::format_num(service),
        "office_pct": pct(office),
        "service_pct": pct(service),
        "before": before.map(views::format_num),
        "change": change,
        "label": state.i18n.t_args(lang, "station.area_label", &[views::format_num(office), views::format_num(service)]),
    })
}

/// Field errors as one line of text, in the reader's language.
pub(crate) fn field_messages(
    state: &AppState,
    lang: Lang,
    e: &doorstep_domain::FieldErrors,
) -> String {
    e.0.iter()
        .map(|x| state.i18n.field_error(lang, x))
        .collect::<Vec<_>>()
        .join("；")
}

/// A password field (new or current), with its hint.
pub(crate) fn password_fields(
    state: &AppState,
    lang: Lang,
    errors: &doorstep_domain::FieldErrors,
    name: &'static str,
) -> Vec<views::FormField> {
    let spec = doorstep_domain::FieldSpec::text(name, 128);
    let mut f = views::form_fields(
        &state.i18n,
        lang,
        &[spec],
        &Default::default(),
        errors,
        &Default::default(),
        false,
    );
    for x in &mut f {
        x.kind = "password";
        x.autocomplete = Some(if name == "current_password" {
            "current-password"
        } else {
            "new-password"
        });
        x.hint = Some(state.i18n.t(lang, "hint.password"));
    }
    f
}

/// Whether a page was reached after a save (`?saved=1`).
pub(crate) struct Saved(pub bool);

impl crate::params::FromParams for Saved {
    fn from_params(p: &mut crate::params::Params) -> Self {
        Saved(p.text("saved").is_some())
    }
}
