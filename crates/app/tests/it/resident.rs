//! The resident's side and what the one window does with it: web intake with tracking,
//! photos and a per-address limit; likely duplicates and merging; figures; attachments.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

backend_tests!(
    residents_report_from_the_web_and_follow_by_code,
    duplicates_are_suggested_and_merged,
    figures_count_a_period_per_neighbourhood,
    attachments_are_checked_scoped_and_audited,
    the_board_filters_and_warns_before_deadlines,
    concurrent_intakes_are_committed_together_and_each_answered
);

async fn concurrent_intakes_are_committed_together_and_each_answered(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let c = reqwest::Client::new();
    let before = count_requests(&app).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (c, sec, url) = (c.clone(), sec.clone(), app.url("/api/v1/requests"));
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .bearer_auth(sec)
                .json(&json!({"channel": "phone", "kind": "help", "description": format!("并发受理 {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            (v["id"].as_i64().unwrap(), v["description"].as_str().unwrap().to_string(), i)
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (id, desc, i) = t.await.unwrap();
        assert_eq!(
            desc,
            format!("并发受理 {i}"),
            "each caller gets its own request back"
        );
        let stored = app.store().requests().get(id.into()).await.unwrap();
        assert_eq!(stored.description, desc);
        assert_eq!(
            app.store()
                .requests()
                .timeline(id.into())
                .await
                .unwrap()
                .len(),
            1
        );
        ids.insert(id);
    }
    assert_eq!(ids.len(), 40);
    assert_eq!(count_requests(&app).await, before + 40);
    app.stop().await;
}

async fn the_board_filters_and_warns_before_deadlines(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let c = reqwest::Client::new();
    let mut deadline = String::new();
    for (kind, text) in [
        ("complaint", "噪音扰民，深夜装修"),
        ("suggestion", "建议增加座椅"),
    ] {
        let r: Value = c
            .post(app.url("/api/v1/requests"))
            .bearer_auth(&sec)
            .json(&json!({"channel": "desk", "kind": kind, "description": text}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if kind == "suggestion" {
            deadline = r["deadline_at"].as_str().unwrap().to_string();
        }
    }
    // Pages take API tokens too (the session would idle out when the clock moves).
    let board = |q: &'static str| {
        let (c, sec) = (c.clone(), sec.clone());
        let u = app.url(&format!("/requests{q}"));
        async move {
            c.get(u)
                .bearer_auth(sec)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let page = board("?box=open&kind=complaint").await;
    assert!(
        page.contains("噪音扰民") && !page.contains("建议增加座椅"),
        "{page}"
    );
    let page = board("?box=open&kind=suggestion&state=received").await;
    assert!(page.contains("建议增加座椅") && !page.contains("噪音扰民"));
    let page = board("?box=open&category=life").await;
    assert!(
        !page.contains("建议增加座椅"),
        "no catalogue item, no category"
    );
    // Two hours before its deadline the suggestion is flagged as due soon.
    let due = chrono::DateTime::parse_from_rfc3339(&deadline)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let now = app.state.services.now();
    app.clock.advance(due - now - chrono::Duration::hours(2));
    let page = board("?box=open&kind=suggestion").await;
    assert!(page.contains("即将到期"), "{page}");
    app.stop().await;
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRphoto";

fn report(nb: i64, fields: &[(&str, &str)], photo: Option<&'static [u8]>) -> Form {
    let mut f = Form::new().text("neighbourhood_id", nb.to_string());
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if let Some(p) = photo {
        f = f.part(
            "photo",
            Part::bytes(p)
                .file_name("p.png")
                .mime_str("image/png")
                .unwrap(),
        );
    }
    f
}

async fn count_requests(app: &TestApp) -> i64 {
    app.store()
        .requests()
        .list(&doorstep_store::RequestFilter {
            limit: 1,
            ..doorstep_store::RequestFilter::of(doorstep_domain::SubdistrictId(app.fx.sd))
        })
        .await
        .unwrap()
        .total
}

async fn residents_report_from_the_web_and_follow_by_code(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.client();
    // The sign-in page points residents to their pages.
    let login = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        login.contains("我要反映") && login.contains("查询办理进度"),
        "{login}"
    );
    // No account needed: the neighbourhood list, then the form with its buildings.
    let html = c
        .get(app.url("/report"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("牡丹七") || html.contains("牡丹第七居民区"),
        "{html}"
    );
    let html = c
        .get(app.url(&format!("/report?neighbourhood_id={}", app.fx.nb1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("牡丹路100弄 1号"),
        "buildings of the neighbourhood are offered"
    );
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let before = count_requests(&app).await;
    // Bad input: a wrong phone, a non-image, an unknown building; nothing is stored.
    let desc = ("description", "楼道里堆满了纸箱，影响通行");
    for (fields, photo, what) in [
        (
            vec![("kind", "complaint"), desc, ("resident_phone", "12345")],
            None,
            "电话号码格式不正确",
        ),
        (
            vec![("kind", "complaint"), desc],
            Some(&b"%PDF-1.7 not an image"[..]),
            "JPEG、PNG 或 WebP",
        ),
        (
            vec![("kind", "complaint"), desc, ("building_id", "999999")],
            None,
            "不存在",
        ),
        (vec![("kind", "complaint")], None, "此项必填"),
    ] {
        let r = c
            .post(app.url("/report"))
            .multipart(report(app.fx.nb1, &fields, photo))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{what}");
        let page = r.text().await.unwrap();
        assert!(page.contains(what), "the page names the problem ({what})");
        assert!(
            page.contains("楼道里堆满了纸箱") || what == "此项必填",
            "what was typed is kept"
        );
    }
    assert_eq!(count_requests(&app).await, before, "nothing stored");
    // A good report, with a photo and a phone.
    let building = app.fx.building1.to_string();
    let r = c
        .post(app.url("/report"))
        .multipart(report(
            app.fx.nb1,
            &[
                ("kind", "complaint"),
                desc,
                ("building_id", &building),
                ("resident_phone", "13912345678"),
                ("resident_name", "李梅"),
            ],
            Some(PNG),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/track/") && to.ends_with("?new=1"), "{to}");
    let code = to
        .trim_start_matches("/track/")
        .trim_end_matches("?new=1")
        .to_string();
    let page = c
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&code) && page.contains("已受理"), "{page}");
    assert!(
        !page.contains("13912345678") && !page.contains("李梅"),
        "no personal data on the tracking page"
    );
    // The neighbourhood's secretary owns it; the photo came with it; the channel is web.
    let rec = app
        .store()
        .requests()
        .find_by_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rec.owner_id.get(), rec.channel),
        (app.fx.sec1, doorstep_domain::requests::Channel::Web)
    );
    assert_eq!(
        app.store().attachments().list(rec.id).await.unwrap().len(),
        1
    );
    // Lower-case codes work through the lookup form; unknown codes are a clear 404.
    let r = c
        .get(app.url(&format!("/track?code={}", code.to_lowercase())))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/track/{code}")
    );
    let r = c.get(app.url("/track/NOSUCHCODE")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("没有找到"));
    // The resident sees the reply once resolved, but not internal notes.
    let sec = app.token("sec1").await;
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/requests/{}/moves", rec.id)))
        .bearer_auth(&sec)
        .json(&json!({"version": 1, "move": "resolve_on_spot", "reply": "已联系物业清理纸箱"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = c
        .get(app.url(&format!("/track/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已联系物业清理纸箱") && page.contains("已办结"));
    // Per-address limit: ten an hour by default, then 429 with the form kept.
    let mut limited = false;
    for _ in 0..12 {
        let r = c
            .post(app.url("/report"))
            .multipart(report(
                app.fx.nb1,
                &[("kind", "suggestion"), ("description", "建议增加健身器材")],
                None,
            ))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            assert!(r.text().await.unwrap().contains("过于频繁"));
            limited = true;
            break;
        }
        assert_eq!(r.status(), 303);
    }
    assert!(limited, "the limit applies");
    app.stop().await;
}

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
    assert_eq!(get.bytes().await.unwrap().as_ref(), PNG);
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
