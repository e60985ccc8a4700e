//! What the one window does with requests once they are in: likely duplicates and
//! merging, figures per period and neighbourhood, attachments.

use crate::backend_tests;
use crate::support::{PNG, TestApp};
use doorstep_store::Backend;

use serde_json::{Value, json};

backend_tests!(
    duplicates_are_suggested_and_merged,
    figures_count_a_period_per_neighbourhood,
    attachments_are_checked_scoped_and_audited
);

async fn duplicates_are_suggested_and_merged(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let w1 = app.token("w1").await;
    let c = reqwest::Client::new();
    let create = |text: &'static str| {
        c.post(app.url("/api/v1/requests"))
            .bearer_auth(&sec)
            .json(&json!({"channel": "phone", "kind": "complaint", "description": text, "building_id": app.fx.building1}))
            .send()
    };
    let first: Value = create("1号楼楼道堆放杂物很多")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second: Value = create("1号楼楼道里堆了很多杂物")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unrelated: Value = create("小区门口路灯不亮")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (a, b2) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    // At intake: the same building and similar words find the first, not the unrelated one.
    let found: Value = c
        .get(app.url(&format!(
            "/api/v1/requests/duplicates?building_id={}&description={}&exclude={b2}",
            app.fx.building1, "1号楼楼道里堆了很多杂物"
        )))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![a], "{found}");
    assert!(!ids.contains(&unrelated["id"].as_i64().unwrap()));
    // Within 50 m by point counts too; 200 m away does not.
    for (lat, expect) in [(31.2103, true), (31.2118, false)] {
        let v: Value = c
            .get(app.url(&format!(
                "/api/v1/requests/duplicates?lat={lat}&lon=121.55&description=楼道堆放杂物"
            )))
            .bearer_auth(&sec)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            !v["items"].as_array().unwrap().is_empty(),
            expect,
            "lat {lat}: {v}"
        );
    }
    // Another neighbourhood's staff cannot look; bad numbers are named.
    let sec2 = app.token("sec2").await;
    let r = c
        .get(app.url(&format!(
            "/api/v1/requests/duplicates?neighbourhood_id={}&description=x",
            app.fx.nb1
        )))
        .bearer_auth(&sec2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .get(app.url("/api/v1/requests/duplicates?lat=north&lon=1"))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Merge: only the owner or the secretary; a stale version is a 409.
    let mv = |t: &str, body: Value| {
        c.post(app.url(&format!("/api/v1/requests/{b2}/moves")))
            .bearer_auth(t.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        mv(&w1, json!({"version": 1, "move": "merge", "into": a}))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        mv(&sec, json!({"version": 7, "move": "merge", "into": a}))
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(
        mv(&sec, json!({"version": 1, "move": "absorb", "from": a}))
            .await
            .unwrap()
            .status(),
        422
    );
    let r = mv(&sec, json!({"version": 1, "move": "merge", "into": a}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let merged: Value = r.json().await.unwrap();
    assert_eq!(merged["state"], "closed");
    assert_eq!(merged["workflow"]["merged_into"], a);
    let survivor: Value = c
        .get(app.url(&format!("/api/v1/requests/{a}")))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = survivor["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["mv"], json!({"move": "absorb", "from": b2}));
    assert_eq!(
        mv(&sec, json!({"version": 2, "move": "merge", "into": a}))
            .await
            .unwrap()
            .status(),
        409,
        "closed already"
    );
    // The request page of the survivor offers no duplicates now; the merged one says where it went.
    let web = app.login("sec1").await;
    let page = web
        .get(app.url(&format!("/requests/{b2}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已合并到"), "{page}");
    // The resident of the merged request sees where the matter stands, never the other
    // request's tracking code (its resident's key to rate it).
    let requests = app.store().requests();
    let merged_code = requests.get(b2.into()).await.unwrap().tracking_code;
    let survivor_code = requests.get(a.into()).await.unwrap().tracking_code;
    let track = reqwest::get(app.url(&format!("/track/{merged_code}")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(track.contains("合并在一起办理"), "{track}");
    assert!(
        !track.contains(&survivor_code),
        "another resident's key leaked"
    );
    app.stop().await;
}

async fn figures_count_a_period_per_neighbourhood(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let admin = app.token("admin").await;
    let c = reqwest::Client::new();
    for (text, kind) in [("咨询垃圾分类", "consultation"), ("楼道灯坏了", "help")] {
        let r: Value = c
            .post(app.url("/api/v1/requests"))
            .bearer_auth(&sec)
            .json(&json!({"channel": "desk", "kind": kind, "description": text, "service_item_id": app.fx.service_item1}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if kind == "consultation" {
            c.post(app.url(&format!("/api/v1/requests/{}/moves", r["id"])))
                .bearer_auth(&sec)
                .json(&json!({"version": 1, "move": "resolve_on_spot", "reply": "已解答"}))
                .send()
                .await
                .unwrap();
        }
    }
    let get = |t: &str, q: &str| {
        c.get(app.url(&format!("/api/v1/figures{q}")))
            .bearer_auth(t.to_string())
            .send()
    };
    let f: Value = get(&sec, "").await.unwrap().json().await.unwrap();
    // The fixture's own request counts too: three received in nb1.
    assert_eq!(f["overall"]["total"], 3, "{f}");
    assert_eq!(f["overall"]["on_spot"], 1);
    assert_eq!(f["by_kind"]["help"], 1);
    assert_eq!(f["by_category"]["life"], 2);
    assert!(f["overall"]["median_hours_to_resolve"].is_number());
    assert_eq!(f["overall"]["resolution_rate"], json!(0.333));
    // Staff see their own neighbourhood only; admins choose.
    assert_eq!(
        get(&sec, &format!("?neighbourhood_id={}", app.fx.nb2))
            .await
            .unwrap()
            .status(),
        403
    );
    let f: Value = get(&admin, &format!("?neighbourhood_id={}", app.fx.nb2))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["overall"]["total"], 0);
    assert!(
        f["overall"]["on_time_rate"].is_null(),
        "no rate without a base"
    );
    // A period before anything was received is empty; bad dates are named.
    let f: Value = get(&admin, "?from=2020-01-01&to=2020-01-31")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["overall"]["total"], 0);
    let r = get(&admin, "?from=2026-13-01").await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("from"));
    assert_eq!(
        get(&admin, "?from=2026-11-02&to=2026-11-01")
            .await
            .unwrap()
            .status(),
        422
    );
    // Volunteers see no figures.
    let vol = app.token("vol1").await;
    assert_eq!(get(&vol, "").await.unwrap().status(), 403);
    // The page shows the same numbers.
    let web = app.login("sec1").await;
    let page = web
        .get(app.url("/figures"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("直办率") && page.contains("33.3%"), "{page}");
    app.stop().await;
}

async fn attachments_are_checked_scoped_and_audited(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let sec2 = app.token("sec2").await;
    let c = reqwest::Client::new();
    let url = app.url(&format!("/api/v1/requests/{}/attachments", app.fx.request1));
    let post = |t: &str, body: Vec<u8>| {
        c.post(&url)
            .bearer_auth(t.to_string())
            .header("content-type", "image/png")
            .body(body)
            .send()
    };
    let r = post(&sec, b"<svg/>".to_vec()).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("JPEG"),
        "the type is named"
    );
    let mut big = b"\xFF\xD8\xFF".to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let r = post(&sec, big).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("5 MB"),
        "the size is named"
    );
    assert_eq!(
        post(&sec2, PNG.to_vec()).await.unwrap().status(),
        403,
        "outside the neighbourhood"
    );
    // Issue 9, item 4: a PNG signature followed by a page is not an image.
    let r = post(
        &sec,
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text().await.unwrap().contains("无法读取"),
        "the problem is named"
    );
    let r = post(&sec, PNG.to_vec()).await.unwrap();
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    let get = c
        .get(app.url(&format!(
            "/api/v1/requests/{}/attachments/{}",
            app.fx.request1, a["id"]
        )))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap();
    assert_eq!(get.headers()["content-type"], "image/png");
    assert_eq!(
        get.headers()["content-disposition"],
        format!(
            "inline; filename=\"request-{}-{}.png\"",
            app.fx.request1, a["id"]
        )
        .as_str()
    );
    let stored = get.bytes().await.unwrap();
    assert!(stored.starts_with(b"\x89PNG\r\n\x1a\n") && stored.ends_with(b"IEND\xaeB`\x82"));
    let audit = app
        .store()
        .audit()
        .list(&doorstep_store::AuditFilter {
            subdistrict_id: Some(doorstep_domain::SubdistrictId(app.fx.sd)),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.action.code() == "view_attachment"),
        "views are audited"
    );
    for _ in 0..2 {
        assert_eq!(post(&sec, PNG.to_vec()).await.unwrap().status(), 201);
    }
    assert_eq!(
        post(&sec, PNG.to_vec()).await.unwrap().status(),
        422,
        "three at most"
    );
    app.stop().await;
}
