//! Issue 9, items 7 and 8: the API answers what its OpenAPI document says, and every
//! refusal is the documented JSON.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::Value;

backend_tests!(every_refusal_is_the_documented_json);

fn api() -> reqwest::Client {
    reqwest::Client::new()
}

/// The framework's refusals too: a path id that is not a number, a repeated query
/// parameter, another subdistrict's neighbourhood.
async fn every_refusal_is_the_documented_json(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let admin2 = app.token("admin2").await;
    for (who, path, status) in [
        (&admin, "/api/v1/accounts/abc".to_string(), 400),
        (&admin, "/api/v1/requests?limit=1&limit=2".to_string(), 422),
        (
            &admin2,
            format!("/api/v1/figures?neighbourhood_id={}", app.fx.nb1),
            404,
        ),
    ] {
        let r = api()
            .get(app.url(&path))
            .bearer_auth(who)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        let json = r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json");
        let e: Value = r.json().await.unwrap();
        assert!(
            json && e["error"].is_string() && e["message"].is_string(),
            "{path}: {e}"
        );
    }
    app.stop().await;
}
