//! Doorstep's web face: the staff web app (server-rendered, Chinese first), the JSON API
//! under `/api/v1` with its OpenAPI document, and the plumbing they share (sessions,
//! CSRF, security headers, error rendering, translations).

pub mod api;
mod assets;
pub mod attachments;
pub mod auth;
pub mod catalogue;
pub mod circle;
mod error;
pub mod figures;
pub mod i18n;
mod intake_queue;
pub mod jobs;
pub mod open311;
mod pages;
mod render;
mod security;
mod views;

pub use error::AppError;

use axum::Router;
use doorstep_domain::Clock;
use doorstep_store::Store;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings of the web layer (the binary fills them from its configuration).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub session_absolute: Duration,
    /// Failed sign-ins of one user name within `lockout_window` that lock it.
    pub lockout_failures: i64,
    pub lockout_window: Duration,
    /// How long a locked user name stays locked after its last failure.
    pub lockout_duration: Duration,
    /// Sign-in and setup attempts allowed per client address within `ip_window`.
    pub ip_attempts: usize,
    pub ip_window: Duration,
    /// Mark cookies `Secure` (set when the public URL is https).
    pub secure_cookies: bool,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Origins allowed to post cross-origin (e.g. the public URL behind a proxy).
    pub trusted_origins: Vec<String>,
    /// Walking speed for the 15-minute circle, metres per second.
    pub walk_speed_mps: f64,
    /// Requests one client address may send in an hour through the resident web page
    /// and Open311 (no account, so the address is what is limited).
    pub resident_reports_per_hour: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            lockout_failures: 5,
            lockout_window: Duration::from_secs(15 * 60),
            lockout_duration: Duration::from_secs(15 * 60),
            ip_attempts: 30,
            ip_window: Duration::from_secs(15 * 60),
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
            trusted_origins: Vec::new(),
            walk_speed_mps: 1.2,
            resident_reports_per_hour: 10,
        }
    }
}

/// The window of the per-address limit on resident reports.
pub const REPORT_WINDOW: Duration = Duration::from_secs(3600);
/// The window of the per-address limit on tracking-code lookups (60 in it).
pub const LOOKUP_WINDOW: Duration = Duration::from_secs(60);
pub const LOOKUPS_PER_WINDOW: usize = 60;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub clock: Arc<dyn Clock>,
    pub(crate) i18n: Arc<i18n::I18n>,
    pub(crate) templates: Arc<minijinja::Environment<'static>>,
    /// The one-time setup token, while the database has no account.
    pub(crate) setup_token: Arc<Mutex<Option<String>>>,
    pub(crate) throttle: Arc<auth::Throttle>,
    /// Resident reports (web page, Open311) per client address.
    pub(crate) report_throttle: Arc<auth::Throttle>,
    /// Tracking-code lookups per client address.
    pub(crate) lookup_throttle: Arc<auth::Throttle>,
    /// The 15-minute-circle analyses, per subdistrict and data version.
    pub(crate) circle: Arc<circle::CircleCache>,
    /// The service catalogue's search indexes, per subdistrict and catalogue version.
    pub(crate) catalogue: Arc<catalogue::CatalogueCache>,
    /// Working days for deadlines.
    pub(crate) calendar: Arc<doorstep_domain::calendar::WorkCalendar>,
    /// Group commit of intakes (SQLite).
    pub(crate) intake_queue: Arc<intake_queue::IntakeQueue>,
    /// Whether the database holds the demo (shown as a banner on every page).
    pub(crate) demo: bool,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig, clock: Arc<dyn Clock>, demo: bool) -> Self {
        Self {
            store,
            config: Arc::new(config),
            clock,
            i18n: Arc::new(i18n::I18n::load()),
            templates: Arc::new(render::environment()),
            setup_token: Arc::new(Mutex::new(None)),
            throttle: Arc::new(auth::Throttle::default()),
            report_throttle: Arc::new(auth::Throttle::default()),
            lookup_throttle: Arc::new(auth::Throttle::default()),
            circle: Arc::new(circle::CircleCache::default()),
            catalogue: Arc::new(catalogue::CatalogueCache::default()),
            calendar: Arc::new(doorstep_domain::calendar::WorkCalendar::china()),
            intake_queue: Arc::default(),
            demo,
        }
    }

    /// The pending setup token, if setup is open.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token.lock().ok().and_then(|t| t.clone())
    }

    /// Offers the one-time setup (for an empty database); returns the token to print.
    pub fn enable_setup(&self) -> String {
        let token = auth::random_token(24);
        *self.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
        token
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
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::render_errors,
        ))
        .layer(csrf)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes.
pub async fn serve<F>(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: F,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let app = router(state.clone());
    // Background work: expired sessions go, overdue requests are escalated.
    let janitor = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick: u64 = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                tick += 1;
                if let Err(e) = jobs::escalate_overdue(&state).await {
                    tracing::warn!(error = %e, "deadline job failed; it runs again in a minute");
                }
                if tick.is_multiple_of(5) {
                    auth::purge_expired_sessions(&state).await;
                    state.throttle.forget_old(state.config.ip_window);
                    state.report_throttle.forget_old(REPORT_WINDOW);
                    state.lookup_throttle.forget_old(LOOKUP_WINDOW);
                }
            }
        })
    };
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    janitor.abort();
    result
}
