//! Requests through the API: intake, the inbox, moves with versions, masking.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::{Value, json};

backend_tests!(
    a_request_goes_from_intake_to_closed,
    desk_staff_work_a_request_through_the_pages,
    the_texts_of_a_move_have_limits
);

/// Issue 9, item 5: a 1 MB reply was stored and shown to residents on /track; a NUL
/// answered 500 on PostgreSQL and was stored on SQLite. Every text of a move has a
/// maximum and no control characters: 422, and nothing changes.
async fn the_texts_of_a_move_have_limits(b: Backend) {
    let app = TestApp::spawn(b).await;
    // The fixture's request is w1's own.
    let sec = app.token("w1").await;
    let c = reqwest::Client::new();
    let id = app.fx.request1;
    let mv = |body: Value| {
        c.post(app.url(&format!("/api/v1/requests/{id}/moves")))
            .bearer_auth(&sec)
            .json(&body)
            .send()
    };
    let cases = [
        (
            json!({"version": 1, "move": "resolve_on_spot", "reply": "已处理\u{0}"}),
            "reply",
            "invalid_characters",
        ),
        (
            json!({"version": 1, "move": "resolve_on_spot", "reply": "好".repeat(100_000)}),
            "reply",
            "too_long",
        ),
        (
            json!({"version": 1, "move": "assign", "to": {"kind": "post", "id": "物业\n经理"}}),
            "to",
            "invalid_characters",
        ),
        (
            json!({"version": 1, "move": "request_extension", "days": 3, "reason": "x".repeat(501)}),
            "reason",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        let r = mv(body).await.unwrap();
        assert_eq!(r.status(), 422, "{field} {code}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["fields"][field]["code"], code, "{e}");
    }
    let stored = app
        .store()
        .requests()
        .get(doorstep_domain::RequestId(id))
        .await
        .unwrap();
    assert_eq!(stored.version, 1, "nothing was written");
    // Line breaks are fine in a reply.
    let r = mv(json!({"version": 1, "move": "resolve_on_spot", "reply": "已处理。\n谢谢"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.stop().await;
}

async fn a_request_goes_from_intake_to_closed(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let w1 = app.token("w1").await;
    let sec2 = app.token("sec2").await;
    let c = reqwest::Client::new();
    let post = |t: &str, path: String, body: Value| {
        c.post(app.url(&path))
            .bearer_auth(t.to_string())
            .json(&body)
            .send()
    };

    // Bad input: nothing stored.
    let r = post(
        &sec,
        "/api/v1/requests".into(),
        json!({"channel": "desk", "kind": "help", "description": "x", "resident_phone": "call me"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        &sec,
        "/api/v1/requests".into(),
        json!({"channel": "desk", "kind": "help", "description": "x", "service_item_id": 99999}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        &sec,
        "/api/v1/requests".into(),
        json!({"channel": "fax", "kind": "help", "description": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);

    let r = post(&sec, "/api/v1/requests".into(), json!({
        "channel": "phone", "kind": "help", "description": "3号楼楼道灯坏了", "building_id": app.fx.building1,
        "resident_name": "王秀英", "resident_phone": "13800138000"
    }))
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let req: Value = r.json().await.unwrap();
    let id = req["id"].as_i64().unwrap();
    assert_eq!(req["state"], "received");
    assert_eq!(req["resident_phone"], "138****8000", "masked by default");
    assert_eq!(req["resident_name"], "王**");
    assert_eq!(req["tracking_code"].as_str().unwrap().len(), 10);
    let mv = |t: &str, body: Value| post(t, format!("/api/v1/requests/{id}/moves"), body);

    // The owner assigns it to worker w1.
    let r = mv(
        &sec,
        json!({"version": 1, "move": "assign", "to": {"kind": "worker", "id": app.fx.w1}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // Only the handler accepts; someone else's neighbourhood cannot even see it.
    assert_eq!(
        mv(&sec, json!({"version": 2, "move": "accept"}))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        mv(&sec2, json!({"version": 2, "move": "accept"}))
            .await
            .unwrap()
            .status(),
        403
    );
    let inbox: Value = c
        .get(app.url("/api/v1/requests?box=assigned"))
        .bearer_auth(&w1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["total"], 1);
    // Two accepts on one version: one wins, the other learns the current version.
    let (x, y) = tokio::join!(
        mv(&w1, json!({"version": 2, "move": "accept"})),
        mv(&w1, json!({"version": 2, "move": "accept"}))
    );
    let mut st = vec![x.unwrap().status().as_u16(), y.unwrap().status().as_u16()];
    st.sort();
    assert_eq!(st, vec![200, 409]);
    // Closing is the owner's; even the owner cannot close an open request: 409.
    assert_eq!(
        mv(&w1, json!({"version": 3, "move": "close"}))
            .await
            .unwrap()
            .status(),
        403
    );
    let r = mv(&sec, json!({"version": 3, "move": "close"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "illegal_move");
    assert_eq!(
        mv(&w1, json!({"version": 3, "move": "start"}))
            .await
            .unwrap()
            .status(),
        200
    );
    // A reply of blanks is no reply: 422 naming the field, and the request stays put.
    let r = mv(&w1, json!({"version": 4, "move": "resolve", "reply": "  "}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e = r.json::<Value>().await.unwrap();
    assert_eq!(e["fields"]["reply"]["code"], "required", "{e}");
    assert_eq!(
        mv(
            &w1,
            json!({"version": 4, "move": "resolve", "reply": "已更换灯泡"})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let r = mv(&sec, json!({"version": 5, "move": "follow_up", "efficiency": "satisfied", "attitude": "satisfied", "result": "basic"})).await.unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = c
        .get(app.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["state"], "closed");
    assert_eq!(got["timeline"].as_array().unwrap().len(), 6);
    assert!(got["closed_at"].is_string());

    // Deadlines: a help request is due in 5 working days; 10 days on it is overdue.
    let r = post(
        &sec,
        "/api/v1/requests".into(),
        json!({"channel": "desk", "kind": "complaint", "description": "噪音扰民"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let overdue: Value = c
        .get(app.url("/api/v1/requests?box=overdue"))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["total"], 0);
    app.clock.advance(chrono::Duration::days(10));
    let overdue: Value = c
        .get(app.url("/api/v1/requests?box=overdue"))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(overdue["total"].as_i64().unwrap() >= 1);
    // The deadline job escalates what is overdue (督办), once.
    let n = doorstep_services::jobs::escalate_overdue(&app.state.services)
        .await
        .unwrap();
    assert!(n >= 1, "{n}");
    assert_eq!(
        doorstep_services::jobs::escalate_overdue(&app.state.services)
            .await
            .unwrap(),
        0
    );
    let first = &overdue["items"][0];
    let got: Value = c
        .get(app.url(&format!("/api/v1/requests/{}", first["id"])))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["workflow"]["escalated"], true);
    assert_eq!(
        got["timeline"].as_array().unwrap().last().unwrap()["relation"],
        "system"
    );
    let r = c
        .get(app.url("/api/v1/requests?box=nope"))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    app.stop().await;
}

async fn desk_staff_work_a_request_through_the_pages(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.login("sec1").await;
    let csrf = app.csrf(&sec).await;
    let form_html = sec
        .get(app.url("/requests/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !form_html.contains("name=\"version\""),
        "a new request has no version to send"
    );
    assert_eq!(
        sec.get(app.url("/requests/new"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // A missing description: the form comes back with the error and what was typed.
    let bad = [
        ("_csrf", csrf.as_str()),
        ("channel", "desk"),
        ("kind", "help"),
        ("description", ""),
        ("resident_name", "李桂英"),
    ];
    let r = sec
        .post(app.url("/requests"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("此项必填") && html.contains("value=\"李桂英\""));
    let good = [
        ("_csrf", csrf.as_str()),
        ("channel", "desk"),
        ("kind", "help"),
        ("description", "家里水管漏水需要帮助"),
        ("resident_phone", "13800138000"),
    ];
    let r = sec
        .post(app.url("/requests"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let taken = r.headers()["location"].to_str().unwrap().to_string();
    assert!(taken.ends_with("?taken=1"), "{taken}");
    let loc = taken.trim_end_matches("?taken=1").to_string();
    let html = sec
        .get(app.url(&taken))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已受理")
            && html.contains("138****8000")
            && html.contains("value=\"assign\"")
    );
    assert!(!html.contains("13800138000"), "the phone is masked");
    let moves = format!("{loc}/moves");
    let w1 = app.fx.w1.to_string();
    let r = sec
        .post(app.url(&moves))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", "1"),
            ("move", "assign"),
            ("to", w1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A stale form: 409 and the page says why.
    let r = sec
        .post(app.url(&moves))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", "1"),
            ("move", "assign"),
            ("to", w1.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // The page says what changed (now assigned, by whom) and shows the request as it is.
    let stale = r.text().await.unwrap();
    assert!(
        stale.contains("已有变动")
            && stale.contains("现在是「已派单」")
            && stale.contains("sec1 派单"),
        "{stale}"
    );
    let worker = app.login("w1").await;
    let wcsrf = app.csrf(&worker).await;
    let inbox = worker
        .get(app.url("/requests?box=assigned"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("家里水管漏水"));
    for (v, m) in [("2", "accept"), ("3", "start")] {
        let r = worker
            .post(app.url(&moves))
            .form(&[("_csrf", wcsrf.as_str()), ("version", v), ("move", m)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{m}");
    }
    let r = worker
        .post(app.url(&moves))
        .form(&[
            ("_csrf", wcsrf.as_str()),
            ("version", "4"),
            ("move", "resolve"),
            ("reply", "已联系物业修好"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The follow-up needs every answer and how the resident was asked: nothing preset.
    let partial = [
        ("_csrf", csrf.as_str()),
        ("version", "5"),
        ("move", "follow_up"),
        ("efficiency", "satisfied"),
        ("attitude", ""),
        ("result", "satisfied"),
        ("channel", "phone"),
    ];
    let r = sec
        .post(app.url(&moves))
        .form(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The worker who resolved it may not take its rating.
    let own = [
        ("_csrf", wcsrf.as_str()),
        ("version", "5"),
        ("move", "follow_up"),
        ("efficiency", "satisfied"),
        ("attitude", "satisfied"),
        ("result", "satisfied"),
        ("channel", "phone"),
    ];
    let r = worker
        .post(app.url(&moves))
        .form(&own)
        .send()
        .await
        .unwrap();
    assert!(matches!(r.status().as_u16(), 403 | 422), "{}", r.status());
    let rate = [
        ("_csrf", csrf.as_str()),
        ("version", "5"),
        ("move", "follow_up"),
        ("efficiency", "satisfied"),
        ("attitude", "satisfied"),
        ("result", "satisfied"),
        ("channel", "phone"),
    ];
    assert_eq!(
        sec.post(app.url(&moves))
            .form(&rate)
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    let html = sec
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("已关闭") && html.contains("已联系物业修好") && html.contains("电话回访")
    );
    app.stop().await;
}
