//! Issue 9, items 7 and 8: the API answers what its OpenAPI document says, and every
//! refusal is the documented JSON.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::Value;

backend_tests!(
    every_refusal_is_the_documented_json,
    metrics_are_for_operators_only,
    input_is_taken_as_documented_or_refused,
    no_route_stores_control_characters
);

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

/// Issue 9, item 12: `/metrics` in Prometheus text for an admin's token (or the
/// configured addresses, none here); to anyone else it does not exist.
async fn metrics_are_for_operators_only(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (admin, sec) = (app.token("admin").await, app.token("sec1").await);
    let r = api()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&sec)
        .json(
            &serde_json::json!({"neighbourhood_id": app.fx.nb1, "channel": "desk",
            "kind": "consultation", "description": "垃圾分类怎么投放"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = api()
        .get(app.url(&format!("/api/v1/requests/{}", app.fx.request1)))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for who in [None, Some(&sec)] {
        let mut q = api().get(app.url("/metrics"));
        if let Some(t) = who {
            q = q.bearer_auth(t);
        }
        assert_eq!(q.send().await.unwrap().status(), 404, "{who:?}");
    }
    let r = api()
        .get(app.url("/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    for line in [
        "doorstep_http_requests_total{route=\"/api/v1/requests/{id}\",method=\"GET\",status=\"200\"} 1",
        "doorstep_http_requests_total{route=\"/api/v1/requests\",method=\"POST\",status=\"201\"} 1",
        "doorstep_http_request_duration_seconds_count{route=\"/api/v1/requests/{id}\"} 1",
        "doorstep_intake_batch_size_count 1",
        "doorstep_intake_waiting 0",
        "doorstep_db_pool_max_connections ",
    ] {
        assert!(text.contains(line), "{line} missing in\n{text}");
    }
    // The refused scrapes are counted under their route; random paths under one name.
    assert!(
        text.contains("route=\"/metrics\",method=\"GET\",status=\"404\"} 2"),
        "{text}"
    );
    let _ = api()
        .get(app.url("/no/such/page/12345"))
        .send()
        .await
        .unwrap();
    let text = api()
        .get(app.url("/metrics"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("route=\"unmatched\"") && !text.contains("12345"),
        "{text}"
    );
    app.stop().await;
}

/// Issue 9, item 8: what a client written from the document sends is taken as it says,
/// and anything else is refused, never silently fixed.
async fn input_is_taken_as_documented_or_refused(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let building = app.url(&format!("/api/v1/buildings/{}", app.fx.building1));
    let get = |path: String| api().get(app.url(&path)).bearer_auth(&admin).send();
    let patch = |body: Value| {
        api()
            .patch(&building)
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    // A PATCH without the version it read is refused (it could undo another's change).
    let r = patch(serde_json::json!({"floors": 7})).await.unwrap();
    assert_eq!(r.status(), 428, "{}", r.text().await.unwrap());
    // An empty PATCH changes nothing and does not bump the version.
    let r = patch(serde_json::json!({"version": 1})).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 1, "{v}");
    // A text field given a number, paging out of range, a flag that is not one: 422.
    let r = patch(serde_json::json!({"version": 1, "number": 0}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"]["number"]["code"], "not_text", "{e}");
    for (path, param) in [
        ("/api/v1/buildings?page=0", "page"),
        ("/api/v1/buildings?per_page=-5", "per_page"),
        ("/api/v1/circle/buildings?outside=maybe", "outside"),
    ] {
        let r = get(path.to_string()).await.unwrap();
        assert_eq!(r.status(), 422, "{path}");
        let e: Value = r.json().await.unwrap();
        assert!(e["fields"][param]["code"].is_string(), "{path}: {e}");
    }
    app.stop().await;
}

/// Issue 9, item 5: a NUL (which PostgreSQL cannot store) or another control character
/// is refused with the field named wherever text comes in, on both backends; nothing
/// answers 500.
async fn no_route_stores_control_characters(b: Backend) {
    let app = TestApp::spawn(b).await;
    let nul = "身体\u{0}尚可";
    // Sign-in: a wrong sign-in, not an error.
    let r = app
        .client()
        .post(app.url("/login"))
        .form(&[("username", "sec1\u{0}"), ("password", "x\u{0}y")])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().as_u16() < 500 && r.status() != 303,
        "{}",
        r.status()
    );
    // Lookups by code and searches: nothing found or a named refusal, never a 500.
    let sec = app.token("sec1").await;
    for (path, status) in [
        ("/track/%00ABCDEFGH", 404),
        ("/open311/v2/tokens/%00.json", 404),
        ("/api/v1/requests?q=%00", 422),
        ("/api/v1/buildings?q=a%00", 422),
    ] {
        let r = api()
            .get(app.url(path))
            .bearer_auth(&sec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
    }
    // The desk's intake.
    let r = api()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&sec)
        .json(&serde_json::json!({"neighbourhood_id": app.fx.nb1, "channel": "desk", "kind": "help", "description": nul}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"]["description"]["code"], "invalid_characters");
    // Open311: the description and the e-mail.
    for (k, v) in [("description", nul), ("email", "li\u{0}@example.com")] {
        let mut form = vec![
            ("jurisdiction_id", app.fx.sd.to_string()),
            ("service_code", app.fx.service_item1.to_string()),
            ("address_id", app.fx.building1.to_string()),
            ("description", "楼道灯不亮".to_string()),
            ("api_key", sec.clone()),
        ];
        form.retain(|(f, _)| *f != k);
        form.push((k, v.to_string()));
        let r = api()
            .post(app.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{k}");
    }
    // The register and a visit.
    let w1 = app.login("w1").await;
    let csrf = app.csrf(&w1).await;
    let building = app.fx.building1.to_string();
    let r = w1
        .post(app.url("/care/residents/new"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("building_id", building.as_str()),
            ("unit", "1"),
            ("room", "502"),
            ("name", "王\u{0}秀英"),
            ("residency", "registered"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let household = crate::register::register_resident(
        &app,
        &w1,
        &[
            ("unit", "1"),
            ("room", "502"),
            ("name", "王秀英"),
            ("residency", "registered"),
        ],
    )
    .await;
    let r = w1
        .post(app.url(&format!("{household}/visits")))
        .form(&[("_csrf", csrf.as_str()), ("kind", "care"), ("notes", nul)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    app.stop().await;
}
