//! The JSON API: CRUD, errors, scopes, concurrency, and the OpenAPI document.

use crate::backend_tests;
use crate::support::{TestApp, v_int};
use doorstep_store::Backend;
use serde_json::{Value, json};

backend_tests!(
    places_are_created_read_changed_and_archived,
    bad_input_gets_clear_errors_in_the_callers_language,
    scopes_are_checked_on_the_server,
    two_writers_on_one_version_one_wins,
    every_documented_operation_is_routed,
    lists_page_and_filter,
);

fn api() -> reqwest::Client {
    reqwest::Client::new()
}

async fn places_are_created_read_changed_and_archived(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = app.token("admin").await;
    let r = api()
        .post(app.url("/api/v1/estates"))
        .bearer_auth(&t)
        .json(&json!({"neighbourhood_id": app.fx.nb1, "name": "玉兰路300弄", "built_year": 1996}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let e: Value = r.json().await.unwrap();
    assert_eq!(loc, format!("/api/v1/estates/{}", e["id"]));
    assert_eq!(e["neighbourhood_id"], app.fx.nb1);
    assert_eq!(e["version"], 1);
    let id = v_int(&e["id"]);
    let got: Value = api()
        .get(app.url(&loc))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"], "玉兰路300弄");
    // PATCH changes only what it names.
    let r = api()
        .patch(app.url(&loc))
        .bearer_auth(&t)
        .json(&json!({"property_manager": "演示物业", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(
        (
            p["property_manager"].as_str(),
            p["built_year"].as_i64(),
            p["version"].as_i64()
        ),
        (Some("演示物业"), Some(1996), Some(2))
    );
    // Archive and restore.
    let r = api()
        .post(app.url(&format!("{loc}/archive")))
        .bearer_auth(&t)
        .json(&json!({"version": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    assert!(a["archived_at"].is_string());
    let list: Value = api()
        .get(app.url(&format!("/api/v1/estates?neighbourhood_id={}", app.fx.nb1)))
        .bearer_auth(&t)
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
            .all(|x| x["id"] != id),
        "archived records leave the list"
    );
    let r = api()
        .post(app.url(&format!("{loc}/restore")))
        .bearer_auth(&t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A record with active children cannot be archived.
    let r = api()
        .post(app.url(&format!("/api/v1/estates/{}/archive", app.fx.estate1)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "in_use");
    // The station's figures: office against service area.
    let s: Value = api()
        .get(app.url(&format!(
            "/api/v1/stats/places?neighbourhood_id={}",
            app.fx.nb1
        )))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["stations"][0]["office_m2"], 30.0);
    assert_eq!(s["stations"][0]["service_m2"], 120.0);
    app.stop().await;
}

async fn bad_input_gets_clear_errors_in_the_callers_language(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = app.token("admin").await;
    let url = app.url("/api/v1/buildings");
    // Issue 9, item 7: a body over the limit (2 MB) is a 413 in the documented JSON.
    let big = format!("{{\"number\": \"{}\"}}", "1".repeat(3 * 1024 * 1024));
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "payload_too_large", "{e}");
    // Invalid and missing fields: 422 with a message per field, Chinese by default.
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .json(&json!({"estate_id": app.fx.estate1, "floors": 0, "lat": "north", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "validation_failed");
    assert_eq!(e["fields"]["number"]["code"], "required");
    assert_eq!(e["fields"]["number"]["message"], "此项必填");
    assert_eq!(e["fields"]["floors"]["message"], "应在 1 到 200 之间");
    assert_eq!(e["fields"]["lat"]["code"], "not_number");
    assert_eq!(e["fields"]["colour"]["code"], "unknown_field");
    // …in English when asked.
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .header("accept-language", "en-GB,en;q=0.8")
        .json(&json!({"estate_id": app.fx.estate1}))
        .send()
        .await
        .unwrap();
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"]["number"]["message"], "Required");
    assert_eq!(e["message"], "Please check the marked fields");
    // Duplicate within the parent: 409 naming the fields.
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .json(&json!({"estate_id": app.fx.estate1, "number": "1号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "duplicate");
    assert_eq!(e["fields"]["number"]["code"], "duplicate");
    // Malformed JSON and non-objects: 400.
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"number\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "bad_request");
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .json(&json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Unknown ids: 404. A parent that does not exist: 422 on its field.
    let r = api()
        .get(app.url("/api/v1/buildings/999999"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = api()
        .post(&url)
        .bearer_auth(&t)
        .json(&json!({"estate_id": 999999, "number": "9号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = api()
        .get(app.url("/api/v1/nothing-here"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = api()
        .get(app.url("/api/v1/buildings?page=x"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Nothing above was stored.
    let list: Value = api()
        .get(app.url("/api/v1/buildings"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    // No credentials: 401 with a JSON body.
    let r = api()
        .get(app.url("/api/v1/buildings"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    app.stop().await;
}

async fn scopes_are_checked_on_the_server(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec1 = app.token("sec1").await;
    let w1 = app.token("w1").await;
    let admin2 = app.token("admin2").await;
    let get = |t: String, path: String| {
        let url = app.url(&path);
        async move {
            api()
                .get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // A secretary reads her neighbourhood, and stations elsewhere, but not other estates.
    assert_eq!(
        get(sec1.clone(), format!("/api/v1/estates/{}", app.fx.estate1)).await,
        200
    );
    assert_eq!(
        get(sec1.clone(), format!("/api/v1/estates/{}", app.fx.estate2)).await,
        403
    );
    assert_eq!(
        get(
            sec1.clone(),
            format!("/api/v1/stations/{}", app.fx.station2)
        )
        .await,
        200
    );
    // Another subdistrict does not even learn that a record exists.
    assert_eq!(
        get(
            admin2.clone(),
            format!("/api/v1/estates/{}", app.fx.estate1)
        )
        .await,
        404
    );
    let list: Value = api()
        .get(app.url("/api/v1/estates"))
        .bearer_auth(&admin2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    // Lists are cut to the caller's scope.
    let list: Value = api()
        .get(app.url("/api/v1/estates"))
        .bearer_auth(&sec1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    // Writes: the secretary inside her neighbourhood only; workers not at all.
    let post = |t: &str, body: Value| {
        api()
            .post(app.url("/api/v1/estates"))
            .bearer_auth(t.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        post(&sec1, json!({"neighbourhood_id": app.fx.nb1, "name": "甲"}))
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(
        post(&sec1, json!({"neighbourhood_id": app.fx.nb2, "name": "乙"}))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        post(&w1, json!({"neighbourhood_id": app.fx.nb1, "name": "丙"}))
            .await
            .unwrap()
            .status(),
        403
    );
    let r = api()
        .patch(app.url(&format!("/api/v1/neighbourhoods/{}", app.fx.nb2)))
        .bearer_auth(&sec1)
        .json(&json!({"secretary_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = api()
        .post(app.url("/api/v1/communities"))
        .bearer_auth(&sec1)
        .json(&json!({"subdistrict_id": app.fx.sd, "name": "新社区"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Accounts: workers see only themselves.
    assert_eq!(get(w1.clone(), "/api/v1/accounts".into()).await, 403);
    assert_eq!(
        get(w1.clone(), format!("/api/v1/accounts/{}", app.fx.w1)).await,
        200
    );
    assert_eq!(
        get(w1.clone(), format!("/api/v1/accounts/{}", app.fx.sec1)).await,
        403
    );
    app.stop().await;
}

async fn two_writers_on_one_version_one_wins(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = app.token("sec1").await;
    let url = app.url(&format!("/api/v1/buildings/{}", app.fx.building1));
    let (a, b2) = tokio::join!(
        api()
            .patch(&url)
            .bearer_auth(&t)
            .json(&json!({"leader_name": "甲", "version": 1}))
            .send(),
        api()
            .patch(&url)
            .bearer_auth(&t)
            .json(&json!({"leader_name": "乙", "version": 1}))
            .send(),
    );
    let mut statuses = vec![a.unwrap(), b2.unwrap()];
    statuses.sort_by_key(|r| r.status().as_u16());
    assert_eq!(statuses[0].status(), 200);
    assert_eq!(statuses[1].status(), 409);
    let loser: Value = statuses.pop().unwrap().json().await.unwrap();
    assert_eq!(loser["error"], "version_conflict");
    assert_eq!(loser["current_version"], 2);
    let now: Value = api()
        .get(&url)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["version"], 2);
    app.stop().await;
}

/// Every path and method in the OpenAPI document reaches its handler (which then refuses
/// the deliberately invalid input, so nothing changes), and the document checked into the
/// repository is the one the code generates.
async fn every_documented_operation_is_routed(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = app.token("admin").await;
    // The circle needs a network.
    let net = doorstep_geo::synth::grid(31.2050, 121.5450, 10, 10, 70.0, 0, 1);
    app.save_network(&net, "t", &[]).await;
    let doc: Value = api()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = [
        ("subdistricts", app.fx.sd),
        ("communities", app.fx.community),
        ("neighbourhoods", app.fx.nb1),
        ("estates", app.fx.estate1),
        ("buildings", app.fx.building1),
        ("blocks", app.fx.block1),
        ("stations", app.fx.station1),
        ("rooms", app.fx.room1),
        ("partners", app.fx.partner1),
        ("service_items", app.fx.service_item1),
        ("requests", app.fx.request1),
        ("accounts", app.fx.w1),
    ];
    let png = crate::support::PNG.to_vec();
    let att: Value = api()
        .post(app.url(&format!("/api/v1/requests/{}/attachments", app.fx.request1)))
        .bearer_auth(&t)
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = att["id"].as_i64().expect("attachment id");
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let resource = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap();
        let id = ids
            .iter()
            .find(|(r, _)| *r == resource)
            .map(|(_, id)| *id)
            .unwrap_or(0);
        let mut url = app.url(
            &path
                .replace("{id}", &id.to_string())
                .replace("{attachment_id}", &attachment.to_string()),
        );
        if path.ends_with("/duplicates") {
            url.push_str(&format!("?neighbourhood_id={}&description=x", app.fx.nb1));
        }
        for (method, op) in ops.as_object().unwrap() {
            let req = match method.as_str() {
                "get" => api().get(&url),
                "post" => api()
                    .post(&url)
                    .json(&json!({"version": "not a number", "zz_unknown": 1})),
                "patch" => api()
                    .patch(&url)
                    .json(&json!({"version": "not a number", "zz_unknown": 1})),
                other => panic!("unexpected method {other}"),
            };
            let r = req.bearer_auth(&t).send().await.unwrap();
            let status = r.status().as_u16();
            let expected: Vec<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.parse().unwrap())
                .collect();
            assert!(
                expected.contains(&status),
                "{method} {path}: {status} is not documented ({expected:?})"
            );
            if method == "get" {
                assert_eq!(status, 200, "{method} {path}");
            } else {
                assert_eq!(status, 422, "{method} {path} must reach validation");
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} operations");
    let committed: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json"))
        .expect("docs/openapi.json parses");
    assert_eq!(
        committed,
        doorstep_web::api::openapi(),
        "docs/openapi.json is stale: run `doorstep openapi > docs/openapi.json`"
    );
    app.stop().await;
}

async fn lists_page_and_filter(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t = app.token("admin").await;
    for i in 2..=30 {
        let r = api()
            .post(app.url("/api/v1/buildings"))
            .bearer_auth(&t)
            .json(&json!({"estate_id": app.fx.estate1, "number": format!("{i}号")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let page: Value = api()
        .get(app.url(&format!(
            "/api/v1/buildings?estate_id={}&per_page=20&page=2",
            app.fx.estate1
        )))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len(),
            page["page"].as_i64()
        ),
        (Some(30), 10, Some(2))
    );
    let page: Value = api()
        .get(app.url("/api/v1/buildings?q=2"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 12); // 2, 12, 20–29
    let r = api()
        .get(app.url("/api/v1/buildings?colour=red"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    app.stop().await;
}
