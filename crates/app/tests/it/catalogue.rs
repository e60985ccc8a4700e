//! The service catalogue: admins keep it, everyone searches it in residents' words.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::{Value, json};

backend_tests!(the_catalogue_is_searched_in_residents_words);

async fn the_catalogue_is_searched_in_residents_words(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let sec = app.token("sec1").await;
    let c = reqwest::Client::new();
    let item = |name: &str, category: &str, description: &str| {
        json!({"subdistrict_id": app.fx.sd, "category": category, "name": name, "description": description,
               "materials": "身份证\n户口簿", "steps": "登记\n审核", "time_limit_days": 5, "post": "全岗通社工", "remote_assist": true})
    };
    for (n, cat, d) in [
        (
            "老年综合津贴申请",
            "government",
            "本市户籍65周岁及以上老人申请老年综合津贴。",
        ),
        (
            "楼道堆物投诉",
            "management",
            "楼道、消防通道堆放杂物的投诉与清理。",
        ),
        (
            "律师咨询预约",
            "legal",
            "预约家门口签约律师的免费法律咨询。",
        ),
    ] {
        let r = c
            .post(app.url("/api/v1/service_items"))
            .bearer_auth(&admin)
            .json(&item(n, cat, d))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{n}");
    }
    let r = c
        .post(app.url("/api/v1/service_items"))
        .bearer_auth(&sec)
        .json(&item("新事项", "life", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only the subdistrict edits the catalogue");

    let search = |q: &str| {
        let url = app.url(&format!(
            "/api/v1/catalogue/search?q={}",
            crate::support::url_encode(q)
        ));
        let t = sec.clone();
        async move { c_get(url, t).await }
    };
    let r = search("老年津贴").await;
    assert_eq!(r["items"][0]["name"], "老年综合津贴申请");
    assert_eq!(r["items"][0]["materials"], json!(["身份证", "户口簿"]));
    assert_eq!(
        search("楼道里堆东西").await["items"][0]["name"],
        "楼道堆物投诉"
    );
    assert_eq!(search("找律师").await["items"][0]["name"], "律师咨询预约");

    // A change is found at once: the index follows the catalogue's version.
    let id = search("律师").await["items"][0]["id"].as_i64().unwrap();
    let item: Value = c
        .get(app.url(&format!("/api/v1/service_items/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = c
        .patch(app.url(&format!("/api/v1/service_items/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"version": item["version"], "name": "签约律师法律咨询预约"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        search("签约律师").await["items"][0]["name"],
        "签约律师法律咨询预约"
    );

    for q in ["category=nope", "limit=0", "colour=red"] {
        let r = c
            .get(app.url(&format!("/api/v1/catalogue/search?{q}")))
            .bearer_auth(&sec)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{q}");
    }
    let page = app.login("w1").await;
    let html = page
        .get(app.url("/catalogue?q=%E8%80%81%E5%B9%B4%E6%B4%A5%E8%B4%B4"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("老年综合津贴申请") && html.contains("户口簿") && html.contains("可远程帮办")
    );
    app.stop().await;
}

async fn c_get(url: String, token: String) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
