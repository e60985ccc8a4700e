//! Doorstep's web face: adapters over the services — the staff web app and the
//! residents' pages (server-rendered, Chinese first), the JSON API under `/api/v1` with
//! its OpenAPI document, and Open311 — and the plumbing they share (sessions, CSRF,
//! security headers, error rendering, translations, query parsing, view models).
//!
//! An adapter parses its input, calls a service function and renders the answer; none
//! imports another adapter, and none reaches the store (the architecture test checks).

pub mod api;
mod assets;
mod background;
pub mod client;
mod error;
mod forms;
pub mod i18n;
mod metrics;
mod open311;
mod pages;
mod params;
mod render;
mod security;
pub mod session;
mod throttle;
mod views;

pub use error::AppError;

use axum::Router;
use doorstep_services::Services;
use doorstep_services::limits::Bucket;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings of the web layer (the binary fills them from its configuration, which holds
/// the one set of defaults).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Sign-in and setup attempts allowed per client address within `ip_window`.
    pub ip_attempts: usize,
    pub ip_window: Duration,
    /// Mark cookies `Secure` (set when the public URL is https).
    pub secure_cookies: bool,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Origins allowed to post cross-origin (e.g. the public URL behind a proxy).
    pub trusted_origins: Vec<String>,
    /// Requests one client address may send in an hour through the resident web page
    /// and Open311 (no account, so the address is what is limited).
    pub resident_reports_per_hour: usize,
    /// Requests one Open311 key may file per hour (its own limit, not its address's).
    pub open311_reports_per_hour: usize,
    /// Proxies whose `X-Forwarded-For` names the client (none: the header is ignored).
    pub trusted_proxies: Vec<client::Net>,
    /// Addresses that may read `/metrics` without a token.
    pub metrics_from: Vec<client::Net>,
}

/// The window of the per-address limit on resident reports.
pub const REPORT_WINDOW: Duration = Duration::from_secs(3600);
/// The window of the per-address limit on tracking-code lookups (60 in it).
pub const LOOKUP_WINDOW: Duration = Duration::from_secs(60);
pub const LOOKUPS_PER_WINDOW: usize = 60;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub config: Arc<WebConfig>,
    pub(crate) i18n: Arc<i18n::I18n>,
    pub(crate) templates: Arc<minijinja::Environment<'static>>,
    /// The one-time setup token, while the database has no account.
    pub(crate) setup_token: Arc<Mutex<Option<String>>>,
    /// Sign-in and setup attempts per client address.
    pub(crate) throttle: throttle::Throttle,
    /// Resident reports (web page, Open311) per client address.
    pub(crate) report_throttle: throttle::Throttle,
    /// Tracking-code lookups per client address.
    pub(crate) lookup_throttle: throttle::Throttle,
    /// Whether the database holds the demo (shown as a banner on every page).
    pub(crate) demo: bool,
    /// This server's counters for `/metrics`.
    pub(crate) metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(services: Services, config: WebConfig, demo: bool) -> Self {
        Self {
            services,
            config: Arc::new(config),
            i18n: Arc::new(i18n::I18n::load()),
            templates: Arc::new(render::environment()),
            setup_token: Arc::new(Mutex::new(None)),
            throttle: throttle::Throttle::new(Bucket::SignIn),
            report_throttle: throttle::Throttle::new(Bucket::Report),
            lookup_throttle: throttle::Throttle::new(Bucket::Lookup),
            demo,
            metrics: Arc::default(),
        }
    }

    /// The pending setup token, if setup is open.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token.lock().ok().and_then(|t| t.clone())
    }

    /// Offers the one-time setup (for an empty database); returns the token to print.
    pub fn enable_setup(&self) -> String {
        let token = doorstep_services::signin::random_token(24);
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        token
    }

    /// Closes the one-time setup.
    pub(crate) fn close_setup(&self) {
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The whole application as a router, so tests can drive it without a socket.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let csrf = security::csrf_layer(&state.config.trusted_origins);
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(open311::routes())
        .merge(assets::routes())
        .route("/metrics", axum::routing::get(metrics::serve))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ))
        .layer(csrf)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(state.config.trusted_proxies.clone()),
            client::identify,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes, with the background
/// jobs running beside it.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let app = router(state.clone());
    let jobs = tokio::spawn(background::run(state));
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    jobs.abort();
    result
}
