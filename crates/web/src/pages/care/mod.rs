//! The care register's pages: a worker's blocks in mind (心中有数), a block's buildings and
//! households, a household with its people (ID numbers and phones masked, revealed with a
//! reason), their care tags and visits, and the visit form.

mod block;
mod edit;
mod household;
mod import;
mod settings;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/care", get(block::index))
        .route("/care/blocks/{id}", get(block::show))
        .route(
            "/care/blocks/{id}/buildings/{building}",
            get(block::building_page),
        )
        .route("/care/households/{id}", get(household::show))
        .route("/care/households/{id}/visits", post(household::visit))
        .route("/care/residents/{id}/reveal", post(household::reveal))
        .route(
            "/care/residents/{id}/edit",
            get(edit::edit_form).post(edit::edit_save),
        )
        .route("/care/residents/{id}/archive", post(edit::archive))
        .route("/care/residents/{id}/tags", post(edit::start_tag))
        .route("/care/residents/{id}/tags/{tag}/end", post(edit::end_tag))
        .route("/care/settings", get(settings::show))
        .route("/care/settings/plan", post(settings::set_plan))
        .route("/care/settings/tags", post(settings::define_tag))
        .route("/care/settings/tags/retire", post(settings::retire_tag))
        .route(
            "/care/residents/new",
            get(household::new_resident).post(household::add_resident),
        )
        .route(
            "/care/import",
            get(import::form)
                .post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024)),
        )
        .route("/care/import/template.xlsx", get(import::template_file))
        .route(
            "/care/export.xlsx",
            get(import::export_masked).post(import::export_full),
        )
}

/// The caching of the masked care pages (a block, a household): private to the phone,
/// revalidated on every visit, kept by the service worker for use offline.
pub(crate) const KEEP_ON_PHONE: &str = "private, no-cache";

/// The seed's groups in its order, for counts: 志愿者骨干, 独居老人, 重大病人, 残疾人,
/// 精神病人, 困难人群 (the order `CareTag` is declared in).
pub(crate) const SEED_ORDER: &[doorstep_domain::people::CareTag] =
    doorstep_domain::people::CareTag::ALL;
