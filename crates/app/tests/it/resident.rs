//! The resident's side: web intake with tracking, photos and a per-address limit;
//! concurrent intake; the board.

use crate::backend_tests;
use crate::support::{PNG, TestApp};
use doorstep_store::Backend;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

backend_tests!(
    residents_land_on_their_pages_and_find_their_neighbourhood,
    residents_report_from_the_web_and_follow_by_code,
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

pub(crate) async fn count_requests(app: &TestApp) -> i64 {
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
    assert!(
        html.contains("name=\"public_description\"") && html.contains("允许公开我的描述"),
        "the resident chooses whether the description may be public"
    );
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
                ("public_description", "on"),
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
        (rec.owner_id.get(), rec.channel, rec.public_description),
        (app.fx.sec1, doorstep_domain::requests::Channel::Web, true)
    );
    assert_eq!(
        app.store().attachments().list(rec.id).await.unwrap().len(),
        1
    );
    // A report may name a matter of the shared place, only one an admin made public; it
    // is then listed publicly, with the description when the resident allowed it.
    let item = app.fx.service_item1.to_string();
    let fields = [
        ("kind", "report"),
        desc,
        ("service_item_id", item.as_str()),
        ("public_description", "on"),
    ];
    let post = || {
        c.post(app.url("/report"))
            .multipart(report(app.fx.nb1, &fields, None))
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 422, "not a public matter");
    let admin = app.token("admin").await;
    let r = c
        .patch(app.url(&format!("/api/v1/service_items/{item}")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"version": 1, "publishable": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let form = c
        .get(app.url(&format!("/report?neighbourhood_id={}", app.fx.nb1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains("垃圾分类投放咨询"),
        "the public matter is offered"
    );
    let r = post().await.unwrap();
    assert_eq!(r.status(), 303);
    let public_code = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/track/")
        .trim_end_matches("?new=1")
        .to_string();
    let public = app
        .store()
        .requests()
        .find_by_code(&public_code)
        .await
        .unwrap()
        .unwrap();
    let listed: serde_json::Value = c
        .get(app.url(&format!(
            "/open311/v2/requests/{}.json?jurisdiction_id={}",
            public.id, app.fx.sd
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed[0]["description"], "楼道里堆满了纸箱，影响通行",
        "{listed}"
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

async fn residents_land_on_their_pages_and_find_their_neighbourhood(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = reqwest::Client::new();
    let get = |path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    // The address residents are given opens on their pages, not on the staff sign-in.
    let home = get("/".into()).await;
    assert!(home.contains("href=\"/report\"") && home.contains("href=\"/track\""));
    assert!(home.contains("登录工作台"), "staff sign in from there too");
    // By short name, with digits or Chinese numerals.
    for q in ["牡丹7", "牡丹七", "牡丹第七居民区"] {
        let page = get(format!("/report?q={}", crate::support::url_encode(q))).await;
        assert!(
            page.contains("id=\"found\"") && page.contains("牡丹第七居民区"),
            "{q}"
        );
        assert!(!page.contains("牡丹第六居民区</strong>"), "{q}");
    }
    // By the estate, even inside a longer answer.
    let page = get(format!(
        "/report?q={}",
        crate::support::url_encode("我住牡丹路100弄1号")
    ))
    .await;
    assert!(page.contains("牡丹第七居民区") && page.contains("您的小区「牡丹路100弄」属于这里"));
    // Nothing found is said, not an empty list.
    let page = get(format!(
        "/report?q={}",
        crate::support::url_encode("火星基地")
    ))
    .await;
    assert!(page.contains("id=\"not-found\"") && page.contains("没有找到"));
    // By the phone's place: the neighbourhood whose building is near, with the distance.
    let page = get("/report?lat=31.2101&lon=121.5501".into()).await;
    assert!(
        page.contains("牡丹第七居民区") && page.contains("米"),
        "{page}"
    );
    let page = get("/report?lat=31.30&lon=121.60".into()).await;
    assert!(page.contains("id=\"not-found\"") && page.contains("1.5 公里"));
    app.stop().await;
}
