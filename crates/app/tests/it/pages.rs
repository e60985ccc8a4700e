//! The web app's pages: every role's home, lists and records, forms that keep what was
//! typed, scope on pages, the audit log, the language switch.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;

backend_tests!(
    every_role_gets_a_home_page_and_the_place_pages,
    forms_show_errors_in_the_users_language_and_keep_input,
    pages_check_scope_like_the_api,
    admins_search_the_audit_log,
    a_stale_form_is_not_silently_overwritten,
    admins_manage_accounts_through_forms,
);

async fn every_role_gets_a_home_page_and_the_place_pages(b: Backend) {
    let app = TestApp::spawn(b).await;
    for (user, expect) in [
        ("admin", "各居民区"),
        ("sec1", "牡丹路100弄"),
        ("w1", "我负责的块区"),
        ("partner1", "牡丹路100弄"),
        ("vol1", "牡丹路100弄"),
    ] {
        let c = app.login(user).await;
        let r = c.get(app.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{user}");
        let html = r.text().await.unwrap();
        assert!(html.contains(expect), "{user}'s home lacks {expect}");
        assert!(html.contains("<html lang=\"zh-CN\">"), "Chinese first");
        for link in ["服务清单", "15 分钟生活圈", "共建单位"] {
            assert!(html.contains(link), "{user}'s menu lacks {link}");
        }
    }
    let c = app.login("admin").await;
    for table in [
        "subdistricts",
        "communities",
        "neighbourhoods",
        "estates",
        "buildings",
        "blocks",
        "stations",
        "rooms",
        "partners",
    ] {
        let r = c.get(app.url(&format!("/{table}"))).send().await.unwrap();
        assert_eq!(r.status(), 200, "/{table}");
    }
    let fx = &app.fx;
    for path in [
        format!("/subdistricts/{}", fx.sd),
        format!("/communities/{}", fx.community),
        format!("/neighbourhoods/{}", fx.nb1),
        format!("/estates/{}", fx.estate1),
        format!("/buildings/{}", fx.building1),
        format!("/blocks/{}", fx.block1),
        format!("/rooms/{}", fx.room1),
        format!("/partners/{}", fx.partner1),
        format!("/estates/{}/edit", fx.estate1),
        "/estates/new".to_string(),
        "/accounts".to_string(),
        format!("/accounts/{}", fx.w1),
        "/accounts/new".to_string(),
        "/me".to_string(),
        "/audit".to_string(),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // The station page shows the office against the service area, and the change.
    let html = c
        .get(app.url(&format!("/stations/{}", fx.station1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("办公面积 30 m²") && html.contains("服务面积 120 m²"),
        "areas"
    );
    assert!(
        html.contains("办公面积由 300 m² 调整为 30 m²"),
        "change since the upgrade"
    );
    let r = c.get(app.url("/nowhere/1")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("找不到该页面或记录"));
    app.stop().await;
}

async fn forms_show_errors_in_the_users_language_and_keep_input(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.login("sec1").await;
    let csrf = app.csrf(&c).await;
    let form = [
        ("_csrf", csrf.clone()),
        ("neighbourhood_id", app.fx.nb1.to_string()),
        ("name", "丁香路88弄".to_string()),
        ("built_year", "一九九六".to_string()),
    ];
    let r = c
        .post(app.url("/estates"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("请输入整数"), "field error in Chinese");
    assert!(
        html.contains("value=\"丁香路88弄\"") && html.contains("value=\"一九九六\""),
        "typed values kept"
    );
    // In English after the switch.
    let r = c
        .get(app.url("/lang/en"))
        .header("referer", app.url("/estates"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/estates");
    let r = c
        .post(app.url("/estates"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Enter a whole number") && html.contains("<html lang=\"en\">"),
        "English"
    );
    // A duplicate name is marked on the name field.
    let dup = [
        ("_csrf", csrf.clone()),
        ("neighbourhood_id", app.fx.nb1.to_string()),
        ("name", "牡丹路100弄".to_string()),
    ];
    let r = c.post(app.url("/estates")).form(&dup).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("Already exists"));
    // A good submission lands on the new record.
    let ok = [
        ("_csrf", csrf),
        ("neighbourhood_id", app.fx.nb1.to_string()),
        ("name", "丁香路88弄".to_string()),
        ("built_year", "1996".to_string()),
    ];
    let r = c.post(app.url("/estates")).form(&ok).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let html = c
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("丁香路88弄") && html.contains("Saved."));
    app.stop().await;
}

async fn pages_check_scope_like_the_api(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.login("sec1").await;
    assert_eq!(
        c.get(app.url(&format!("/estates/{}", app.fx.estate2)))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        c.get(app.url(&format!("/estates/{}/edit", app.fx.estate2)))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(c.get(app.url("/audit")).send().await.unwrap().status(), 403);
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url(&format!("/estates/{}", app.fx.estate2)))
        .form(&[("_csrf", csrf.as_str()), ("name", "改名")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let w = app.login("w1").await;
    assert_eq!(
        w.get(app.url("/estates/new"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        w.get(app.url("/accounts")).send().await.unwrap().status(),
        403
    );
    let html = w
        .get(app.url(&format!("/neighbourhoods/{}", app.fx.nb1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("/edit\""), "workers get no edit button");
    let other = app.login("admin2").await;
    assert_eq!(
        other
            .get(app.url(&format!("/neighbourhoods/{}", app.fx.nb1)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    app.stop().await;
}

async fn admins_search_the_audit_log(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.login("sec1").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url(&format!("/buildings/{}", app.fx.building1)))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", "1"),
            ("number", "1号"),
            ("leader_name", "审计楼组长"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let admin = app.login("admin").await;
    let html = admin
        .get(app.url("/audit?actor=sec1&action=update&entity=building"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("审计楼组长"),
        "the change's detail is in the log"
    );
    assert!(html.contains("修改"));
    let html = admin
        .get(app.url("/audit?action=login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("sec1") && html.contains("admin"));
    let r = admin
        .get(app.url("/audit?from=not-a-date"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("日期格式应为"));

    // Requests are audited under their own kind of record, and the filter finds them.
    let token = app.token("sec1").await;
    let created = reqwest::Client::new()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"channel": "phone", "kind": "help", "description": "审计用诉求：楼道灯坏了"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let html = admin
        .get(app.url("/audit?entity=request"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // (minijinja escapes the slashes of the link)
    assert!(
        html.contains(&format!("&#x2f;requests&#x2f;{id}\"")),
        "{html}"
    );
    assert!(
        !html.contains("审计楼组长"),
        "building changes are filtered out"
    );
    // An action the log does not know is reported beside the form, not ignored.
    let r = admin
        .get(app.url("/audit?action=bogus"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("请从列表中选择"));
    app.stop().await;
}

async fn a_stale_form_is_not_silently_overwritten(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.login("sec1").await;
    let csrf = app.csrf(&c).await;
    let url = app.url(&format!("/buildings/{}", app.fx.building1));
    let first = [
        ("_csrf", csrf.as_str()),
        ("version", "1"),
        ("number", "1号"),
        ("leader_name", "甲"),
    ];
    assert_eq!(
        c.post(&url).form(&first).send().await.unwrap().status(),
        303
    );
    let stale = [
        ("_csrf", csrf.as_str()),
        ("version", "1"),
        ("number", "1号"),
        ("leader_name", "乙"),
    ];
    let r = c.post(&url).form(&stale).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("已被他人修改") && html.contains("value=\"乙\""),
        "the user's input is kept"
    );
    assert!(
        html.contains("name=\"version\" value=\"2\""),
        "a second save is a deliberate overwrite"
    );
    let b1 = app
        .store()
        .places()
        .get(doorstep_domain::Entity::Building, app.fx.building1)
        .await
        .unwrap();
    assert_eq!(b1.get("leader_name").as_str(), Some("甲"));
    app.stop().await;
}

async fn admins_manage_accounts_through_forms(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = app.login("admin").await;
    let csrf = app.csrf(&c).await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("username", "Bad Name"),
        ("display_name", "新志愿者"),
        ("role", "volunteer"),
        ("neighbourhood_id", ""),
        ("locale", "zh-CN"),
        ("password", "short"),
    ];
    let r = c
        .post(app.url("/accounts"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("用户名只能包含") && html.contains("该角色必须填写"),
        "both errors shown"
    );
    let nb = app.fx.nb1.to_string();
    let good = [
        ("_csrf", csrf.as_str()),
        ("username", "vol2"),
        ("display_name", "新志愿者"),
        ("role", "volunteer"),
        ("neighbourhood_id", nb.as_str()),
        ("locale", "zh-CN"),
        ("password", "a long enough password"),
    ];
    let r = c
        .post(app.url("/accounts"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let v = app.client();
    let r = v
        .post(app.url("/login"))
        .form(&[("username", "vol2"), ("password", "a long enough password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the new account can sign in");
    app.stop().await;
}
