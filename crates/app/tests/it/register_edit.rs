//! The register kept true over HTTP: tags started and ended with their history, details
//! corrected without showing the sealed values, a resident archived and, after the
//! retention period, erased; the admin's own tags and visit plan.

use super::register::register_resident;
use crate::backend_tests;
use doorstep_domain::ResidentId;
use doorstep_store::Backend;

backend_tests!(
    a_worker_keeps_her_register_true,
    a_visit_kept_offline_is_sent_once
);

const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

async fn a_worker_keeps_her_register_true(b: Backend) {
    let app = crate::support::TestApp::spawn(b).await;
    let w1 = app.login("w1").await;
    let csrf = app.csrf(&w1).await;
    let household = register_resident(
        &app,
        &w1,
        &[
            ("room", "502"),
            ("name", "王秀英"),
            ("id_number", ID),
            ("phone", PHONE),
        ],
    )
    .await;
    let reg = app.store().register();
    let hid = household.rsplit('/').next().unwrap().parse().unwrap();
    let rid: ResidentId = reg
        .residents_of(&[doorstep_domain::HouseholdId(hid)])
        .await
        .unwrap()[0]
        .id;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let mut f = form;
        f.push(("_csrf", csrf.clone()));
        w1.post(app.url(&path)).form(&f).send()
    };
    let page = |path: String| {
        let req = w1.get(app.url(&path)).send();
        async move { req.await.unwrap().text().await.unwrap() }
    };
    // A tag with its details; the same tag twice is refused, a bad grade named.
    let tags = format!("/care/residents/{rid}/tags");
    let tag = |t: &str, kind: &str, grade: &str| {
        vec![
            ("tag", t.to_string()),
            ("kind", kind.to_string()),
            ("grade", grade.to_string()),
            ("note", "轮椅出行".to_string()),
            ("started_on", "2026-10-01".to_string()),
        ]
    };
    let r = post(tags.clone(), tag("disability", "physical", "2"))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let text = page(household.clone()).await;
    assert!(
        text.contains("残疾人·肢体·2级") && text.contains("轮椅出行"),
        "{text}"
    );
    let r = post(tags.clone(), tag("disability", "", "")).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("已有这个标签"));
    let r = post(tags.clone(), tag("hardship", "physical", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a disability's kind is no hardship");
    let r = post(tags.clone(), tag("serious_illness", "", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Ending a tag keeps its history.
    let held = reg.tags_of(&[rid], false).await.unwrap();
    let disability = held.iter().find(|t| t.tag == "disability").unwrap();
    let r = post(
        format!("/care/residents/{rid}/tags/{}/end", disability.id),
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    let history = reg.tags_of(&[rid], true).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(reg.tags_of(&[rid], false).await.unwrap().len(), 1);
    assert!(page(household.clone()).await.contains("2026-10-01–2026-"));
    // The correction form never shows the sealed values; blank keeps them.
    let edit = format!("/care/residents/{rid}/edit");
    let form = page(edit.clone()).await;
    assert!(
        !form.contains(ID) && !form.contains(PHONE) && form.contains("王秀英"),
        "{form}"
    );
    let version = reg.find_resident(rid).await.unwrap().unwrap().version;
    let fields = |name: &str, v: i64| {
        vec![
            ("name", name.to_string()),
            ("room", "502".to_string()),
            ("residency", "registered".to_string()),
            ("version", v.to_string()),
        ]
    };
    let r = post(edit.clone(), fields("王秀瑛", version)).await.unwrap();
    assert_eq!(r.status(), 303);
    let after = reg.find_resident(rid).await.unwrap().unwrap();
    assert_eq!(after.name, "王秀瑛");
    assert!(after.id_number_sealed.is_some() && after.phone_sealed.is_some());
    let r = post(edit.clone(), fields("王秀英", version)).await.unwrap();
    assert_eq!(
        r.status(),
        409,
        "a stale version is refused, not overwritten"
    );
    // The admin's own tags and plan; workers may not change them.
    let admin = app.login("admin").await;
    let acsrf = app.csrf(&admin).await;
    let r = admin
        .post(app.url("/care/settings/tags"))
        .form(&[
            ("_csrf", acsrf.as_str()),
            ("name", "失独家庭"),
            ("sensitive", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post(tags.clone(), tag("custom:失独家庭", "", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(page(household.clone()).await.contains("失独家庭"));
    let plan = |who: &reqwest::Client, c: &str, days: &str| {
        who.post(app.url("/care/settings/plan"))
            .form(&[("_csrf", c), ("tag", "elderly_alone"), ("every_days", days)])
            .send()
    };
    assert_eq!(plan(&w1, &csrf, "3").await.unwrap().status(), 403);
    assert_eq!(plan(&admin, &acsrf, "999").await.unwrap().status(), 422);
    assert_eq!(plan(&admin, &acsrf, "3").await.unwrap().status(), 303);
    let settings = admin
        .get(app.url("/care/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("value=\"3\"") && settings.contains("失独家庭"));
    let r = admin
        .post(app.url("/care/settings/tags/retire"))
        .form(&[("_csrf", acsrf.as_str()), ("name", "失独家庭")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post(tags.clone(), tag("custom:失独家庭", "", ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a retired tag is no longer offered");
    // From above: the secretary sees her neighbourhood's coverage and counts; the
    // subdistrict sees every neighbourhood with counts under five as "<5".
    let sec = app.login("sec1").await;
    let text = sec
        .get(app.url("/care"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = text.split("<tbody>").nth(1).unwrap_or_default();
    // 1 household, none visited yet; serious illness 1 (in the seed's order).
    assert!(row.contains("<td class=\"num\">0%</td>"), "{text}");
    assert!(
        row.contains("<td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">0</td></tr>"),
        "{text}"
    );
    let text = admin
        .get(app.url("/care"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("id=\"overview\"") && text.contains("&lt;5"),
        "{text}"
    );
    // Archived: reason required; then out of the household and not to be corrected.
    let archive = format!("/care/residents/{rid}/archive");
    assert_eq!(post(archive.clone(), vec![]).await.unwrap().status(), 422);
    let r = post(archive.clone(), vec![("reason", "moved_away".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!page(household.clone()).await.contains("王秀瑛"));
    let r = post(edit.clone(), fields("王秀英", version + 1))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = post(tags.clone(), tag("hardship", "", "")).await.unwrap();
    assert_eq!(r.status(), 409, "an archived record is not tagged either");
    // The retention rule: nothing before the period ends, the personal data after.
    let sv = &app.state.services;
    let erase = doorstep_services::jobs::erase_archived;
    assert_eq!(erase(sv).await.unwrap(), 0);
    app.clock.advance(chrono::Duration::days(3 * 365 + 1));
    assert_eq!(erase(sv).await.unwrap(), 1);
    let gone = reg.find_resident(rid).await.unwrap().unwrap();
    assert_eq!(gone.name, "已清除");
    assert!(gone.id_number_sealed.is_none() && gone.phone_sealed.is_none());
    assert!(gone.birth_date.is_none());
    assert!(
        reg.tags_of(&[rid], true)
            .await
            .unwrap()
            .iter()
            .all(|t| t.note.is_none())
    );
    assert_eq!(erase(sv).await.unwrap(), 0, "erased once");
    app.stop().await;
}

/// The API the phone sends an offline visit through: once per key, CSRF for cookies,
/// the block's rules as on the page.
async fn a_visit_kept_offline_is_sent_once(b: Backend) {
    let app = crate::support::TestApp::spawn(b).await;
    let w1 = app.login("w1").await;
    let csrf = app.csrf(&w1).await;
    let household: i64 = register_resident(&app, &w1, &[("room", "301"), ("name", "赵阿婆")])
        .await
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let body = serde_json::json!({
        "household_id": household, "kind": "care", "met": "赵阿婆",
        "notes": "身体还好", "finding": "楼道灯坏了", "client_key": "k-2026-12-01-0001",
        "visited_at": "2026-11-30T02:00:00Z",
    });
    let send = |c: &reqwest::Client, token: Option<&str>, body: serde_json::Value| {
        let mut req = c.post(app.url("/api/v1/visits")).json(&body);
        if let Some(t) = token {
            req = req.header("X-CSRF-Token", t);
        }
        req.send()
    };
    // A cookie session without its CSRF token is refused, here as at any API write.
    assert_eq!(send(&w1, None, body.clone()).await.unwrap().status(), 403);
    let r = w1
        .post(app.url("/api/v1/requests"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = w1
        .post(app.url("/api/v1/requests"))
        .header("X-CSRF-Token", &csrf)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "with the token, the body is what is wrong");
    // A visit from further back than a month is refused, not counted in the coverage.
    let mut stale = body.clone();
    stale["visited_at"] = "2026-10-20T02:00:00Z".into();
    stale["client_key"] = "k-2026-10-20-0001".into();
    let r = send(&w1, Some(&csrf), stale).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["fields"]["visited_at"]["code"], "too_old", "{e}");
    let r = send(&w1, Some(&csrf), body.clone()).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: serde_json::Value = r.json().await.unwrap();
    assert!(first["request_id"].is_i64(), "{first}");
    // The resend (the phone did not hear the answer) is the same visit and request.
    let r = send(&w1, Some(&csrf), body.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (&again["id"], &again["request_id"]),
        (&first["id"], &first["request_id"])
    );
    let visits = app
        .store()
        .register()
        .visits_to(doorstep_domain::HouseholdId(household), 10)
        .await
        .unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(
        visits[0].visited_at.to_rfc3339(),
        "2026-11-30T02:00:00+00:00"
    );
    // What residents said at their door is not published through Open311.
    let public: serde_json::Value = app
        .client()
        .get(app.url(&format!(
            "/open311/v2/requests.json?jurisdiction_id={}&service_request_id={}",
            app.fx.sd, first["request_id"]
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public, serde_json::json!([]), "{public}");
    // The finding's request is among the block's recent requests.
    let block = w1
        .get(app.url(&format!("/care/blocks/{}", app.fx.block1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let recent = block.split("id=\"recent\"").nth(1).unwrap_or_default();
    assert!(
        recent.contains(&format!("&#x2f;requests&#x2f;{}\"", first["request_id"]))
            && recent.contains("楼道灯坏了"),
        "{block}"
    );
    // Bad input is named; another neighbourhood's secretary may not log it.
    let mut bad = body.clone();
    bad["kind"] = "party".into();
    bad["client_key"] = "k-2026-12-01-0002".into();
    bad["colour"] = "red".into();
    let r = send(&w1, Some(&csrf), bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let sec2 = app.login("sec2").await;
    let c2 = app.csrf(&sec2).await;
    let mut other = body.clone();
    other["client_key"] = "k-2026-12-01-0003".into();
    assert_eq!(send(&sec2, Some(&c2), other).await.unwrap().status(), 403);
    // Someone else's key is not a resend of theirs.
    let sec1 = app.login("sec1").await;
    let c1 = app.csrf(&sec1).await;
    assert_eq!(send(&sec1, Some(&c1), body).await.unwrap().status(), 409);
    app.stop().await;
}
