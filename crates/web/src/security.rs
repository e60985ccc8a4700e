//! Security headers and cross-site request protection.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::csrf::CsrfLayer;

/// Content-Security-Policy of the app: no inline script, nothing from elsewhere.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The API browser (Swagger UI) styles some elements inline; still no inline script.
pub const CSP_API_DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Rejects state-changing requests from other sites (Fetch Metadata and Origin checks, as
/// in Go 1.25's CrossOriginProtection). Forms additionally carry a per-session token.
pub fn csrf_layer(trusted_origins: &[String]) -> CsrfLayer {
    let mut layer = CsrfLayer::new();
    for o in trusted_origins {
        match layer.clone().add_trusted_origin(o) {
            Ok(l) => layer = l,
            Err(e) => tracing::warn!(origin = %o, error = ?e, "ignoring invalid trusted origin"),
        }
    }
    layer
}

/// Adds the security headers every response carries. Behind a TLS-terminating proxy
/// (`X-Forwarded-Proto: https`) cookies are marked `Secure` too.
pub async fn headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let behind_tls = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if behind_tls {
        let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
        h.remove(header::SET_COOKIE);
        for c in cookies {
            let secured = match c.to_str() {
                Ok(s) if !s.contains("; Secure") => {
                    HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c)
                }
                _ => c,
            };
            h.append(header::SET_COOKIE, secured);
        }
    }
    let csp = if docs { CSP_API_DOCS } else { CSP };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
