//! Calling the resident back and hearing how it went: the phone is revealed only to the
//! people on the request, with a reason, and every reveal is audited; the follow-up
//! rating is the resident's own on the tracking page, or taken by someone other than who
//! resolved it.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_domain::audit::AuditAction;
use doorstep_store::{AuditFilter, Backend};
use serde_json::{Value, json};

backend_tests!(
    only_the_people_on_a_request_see_the_residents_phone,
    residents_rate_the_service_and_staff_ratings_are_honest
);

async fn post(token: &str, url: String, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn only_the_people_on_a_request_see_the_residents_phone(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let r = post(
        &admin,
        app.url("/api/v1/accounts"),
        json!({"username": "wang2", "display_name": "王二", "role": "worker", "neighbourhood_id": app.fx.nb1, "password": crate::support::PASSWORD}),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let w2_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (w1, w2, sec1, admin2) = (
        app.token("w1").await,
        app.token("wang2").await,
        app.token("sec1").await,
        app.token("admin2").await,
    );
    let r = post(
        &w1,
        app.url("/api/v1/requests"),
        json!({"channel": "phone", "kind": "help", "description": "老人家里灯坏了", "resident_phone": "13800138000"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let reveal = |who: String, body: Value| {
        let url = app.url(&format!("/api/v1/requests/{id}/reveal"));
        async move { post(&who, url, body).await }
    };
    let call_back = json!({"field": "resident_phone", "reason": "call_back"});
    // The owner may; a colleague at the same station reads the request but not the phone.
    let r = reveal(w1.clone(), call_back.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["value"], "13800138000");
    let got: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&w2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["resident_phone"], "138****8000");
    assert_eq!(reveal(w2.clone(), call_back.clone()).await.status(), 403);
    // Once she handles it, she may.
    let r = post(
        &w1,
        app.url(&format!("/api/v1/requests/{id}/moves")),
        json!({"version": 1, "move": "assign", "to": {"kind": "worker", "id": w2_id}}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(reveal(w2.clone(), call_back.clone()).await.status(), 200);
    // The neighbourhood's secretary may; the subdistrict may not; another one never sees it.
    let visit = json!({"field": "resident_phone", "reason": "visit"});
    assert_eq!(reveal(sec1.clone(), visit).await.status(), 200);
    assert_eq!(reveal(admin.clone(), call_back.clone()).await.status(), 403);
    assert_eq!(
        reveal(admin2.clone(), call_back.clone()).await.status(),
        404
    );
    // A reason is required, and must be one of the list.
    let r = reveal(w1.clone(), json!({"field": "resident_phone"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["fields"]["reason"]["code"],
        "required"
    );
    let r = reveal(
        w1.clone(),
        json!({"field": "resident_name", "reason": "curious"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    // Every reveal is audited with who, why and what; refused ones reveal nothing.
    let log = app
        .store()
        .audit()
        .list(&AuditFilter {
            action: Some(AuditAction::Reveal),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut entries: Vec<(String, String)> = log
        .items
        .iter()
        .map(|e| {
            assert_eq!(e.entity_id, Some(id));
            assert_eq!(e.detail["field"], "resident_phone");
            (
                e.actor_name.clone().unwrap_or_default(),
                e.detail["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        vec![
            ("sec1".to_string(), "visit".to_string()),
            ("w1".to_string(), "call_back".to_string()),
            ("wang2".to_string(), "call_back".to_string()),
        ]
    );
    // On the page: one tap with a reason shows the number as a link to call, kept out of
    // caches; the page itself never carries it.
    let page = app.login("w1").await;
    let csrf = app.csrf(&page).await;
    let html = page
        .get(app.url(&format!("/requests/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("reveal-form") && !html.contains("13800138000"));
    let r = page
        .post(app.url(&format!("/requests/{id}/reveal")))
        .form(&[("_csrf", csrf.as_str()), ("reason", "call_back")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("href=\"tel:13800138000\""));
    let r = page
        .post(app.url(&format!("/requests/{id}/reveal")))
        .form(&[("_csrf", csrf.as_str()), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("13800138000"));
    app.stop().await;
}

async fn residents_rate_the_service_and_staff_ratings_are_honest(b: Backend) {
    let app = TestApp::spawn(b).await;
    let (w1, sec1) = (app.token("w1").await, app.token("sec1").await);
    let new = |text: &'static str| {
        let url = app.url("/api/v1/requests");
        let w1 = w1.clone();
        async move {
            let r = post(
                &w1,
                url,
                json!({"channel": "desk", "kind": "consultation", "description": text}),
            )
            .await;
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            (
                v["id"].as_i64().unwrap(),
                v["tracking_code"].as_str().unwrap().to_string(),
            )
        }
    };
    let resolve = |id: i64| {
        let url = app.url(&format!("/api/v1/requests/{id}/moves"));
        let w1 = w1.clone();
        async move {
            let r = post(
                &w1,
                url,
                json!({"version": 1, "move": "resolve_on_spot", "reply": "已当场解答"}),
            )
            .await;
            assert_eq!(r.status(), 200);
        }
    };
    // A resident rates on the tracking page: three answers, none preset.
    let (id, code) = new("咨询敬老卡怎么办").await;
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let track = page
        .get(app.url(&format!("/track/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !track.contains("rating-form"),
        "nothing to rate before it is resolved"
    );
    resolve(id).await;
    let track = page
        .get(app.url(&format!("/track/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        track.contains("rating-form") && !track.contains("checked"),
        "no preset answer"
    );
    let rate = |fields: Vec<(&'static str, &'static str)>| {
        let url = app.url(&format!("/track/{code}/rating"));
        let page = page.clone();
        async move { page.post(url).form(&fields).send().await.unwrap() }
    };
    let r = rate(vec![("efficiency", "satisfied"), ("attitude", "basic")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请对三项都做出选择"));
    let r = rate(vec![
        ("efficiency", "satisfied"),
        ("attitude", "basic"),
        ("result", "satisfied"),
    ])
    .await;
    assert_eq!(r.status(), 303);
    let got: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&sec1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["state"], "closed");
    assert_eq!(got["workflow"]["rating"], "basic");
    assert_eq!(got["workflow"]["rated_via"], "web");
    let last = got["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["relation"], "resident");
    // Rated once: a second rating is refused.
    let r = rate(vec![
        ("efficiency", "unsatisfied"),
        ("attitude", "unsatisfied"),
        ("result", "unsatisfied"),
    ])
    .await;
    assert_eq!(r.status(), 409);
    // Staff take a rating on the phone or a visit, never as if online, and never for what
    // they resolved themselves.
    let (id, _) = new("咨询居住证").await;
    resolve(id).await;
    let moves = app.url(&format!("/api/v1/requests/{id}/moves"));
    let follow = |channel: &str| json!({"version": 2, "move": "follow_up", "efficiency": "satisfied", "attitude": "satisfied", "result": "satisfied", "channel": channel});
    let r = post(&sec1, moves.clone(), follow("web")).await;
    assert_eq!(r.status(), 422);
    let r = post(&w1, moves.clone(), follow("phone")).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["fields"]["move"]["code"],
        "not_by_resolver"
    );
    let r = post(&sec1, moves, follow("visit")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["workflow"]["rated_via"],
        "visit"
    );
    app.stop().await;
}
