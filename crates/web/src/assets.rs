//! Static assets, compiled into the binary (no CDN, nothing fetched at build time).

use crate::{AppError, AppState};
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
];

/// The assets' version, for their addresses (`?v=`) and the service worker's cache: the
/// crate's version and a hash of the files, so that a changed file is fetched anew even
/// when the version number stayed.
pub(crate) fn version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        // FNV-1a: stable across builds and platforms (std's hasher promises neither).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, _, body) in FILES {
            for b in body.iter().chain(SERVICE_WORKER.as_bytes()) {
                h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{}-{:08x}", env!("CARGO_PKG_VERSION"), h as u32)
    })
}

const SERVICE_WORKER: &str = include_str!("../assets/sw.js");

/// `GET /sw.js`: the service worker, at the root so that its scope is the whole app;
/// revalidated on every visit (`no-cache`) so that a new release takes over.
async fn service_worker() -> Response {
    let body = SERVICE_WORKER.replace("__VERSION__", version());
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

pub fn routes() -> Router<AppState> {
    let docs: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(utoipa_swagger_ui::Config::new(["/api/openapi.json"]))
        .into();
    Router::new()
        .route("/static/{file}", get(asset))
        .route("/sw.js", get(service_worker))
        .merge(docs)
}

async fn asset(Path(file): Path<String>) -> Result<Response, AppError> {
    let (_, mime, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == file)
        .ok_or(AppError::NotFound)?;
    let mut res = body.to_vec().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(res)
}
