//! Accounts through the API: only admins manage them, within their subdistrict.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::{Value, json};

backend_tests!(accounts_are_managed_by_admins);

fn api() -> reqwest::Client {
    reqwest::Client::new()
}

async fn accounts_are_managed_by_admins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let sec1 = app.token("sec1").await;
    let body = json!({"username": "new-worker", "display_name": "新社工", "role": "worker", "neighbourhood_id": app.fx.nb1, "password": crate::support::PASSWORD});
    let r = api()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&sec1)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = api()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["has_password"], true);
    assert!(
        a.get("password_hash").is_none(),
        "hashes never leave the server"
    );
    let r = api()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = api()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&admin)
        .json(&json!({"username": "x1x", "display_name": "X", "role": "worker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"]["neighbourhood_id"]["code"], "required_for_role");
    // The secretary sees her neighbourhood's accounts only.
    let list: Value = api()
        .get(app.url("/api/v1/accounts"))
        .bearer_auth(&sec1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["neighbourhood_id"] == app.fx.nb1)
    );
    // Disabling ends the account's access.
    let c = app.login("new-worker").await;
    let r = api()
        .patch(app.url(&format!("/api/v1/accounts/{}", a["id"])))
        .bearer_auth(&admin)
        .json(&json!({"version": a["version"], "disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(c.get(app.url("/me")).send().await.unwrap().status(), 303);
    // Admins cannot demote themselves.
    let r = api()
        .patch(app.url(&format!("/api/v1/accounts/{}", app.fx.admin)))
        .bearer_auth(&admin)
        .json(&json!({"role": "worker"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    app.stop().await;
}
