//! Open311 GeoReport v2 at /open311/v2, in JSON and XML, with its error format and no
//! personal data in GET answers. (The third-party client test is in open311/.)

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::Value;

backend_tests!(
    open311_georeport_v2_end_to_end,
    open311_clients_are_limited_by_their_key
);

async fn open311_georeport_v2_end_to_end(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = reqwest::Client::new();
    let j = app.fx.sd.to_string();
    let url = |p: &str| app.url(&format!("/open311/v2/{p}"));
    let get_json = |p: String| {
        let c = c.clone();
        async move {
            let r = c.get(p).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Discovery and services (empty jurisdiction_id and api_key parameters are fine for
    // one jurisdiction; the fixture has two, so it is named here).
    let (s, d) = get_json(url("discovery.json")).await;
    assert_eq!(s, 200);
    assert_eq!(
        d["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    // Issue 9, item 9: endpoint URLs are absolute.
    assert_eq!(
        d["endpoints"][0]["url"],
        format!("{}/open311/v2", app.base).as_str()
    );
    let (s, e) = get_json(url("services.json?jurisdiction_id=&api_key=")).await;
    assert_eq!(s, 400, "two subdistricts: the jurisdiction must be named");
    assert!(
        e[0]["description"]
            .as_str()
            .unwrap()
            .contains("jurisdiction_id")
    );
    let (s, services) = get_json(url(&format!("services.json?jurisdiction_id={j}&api_key="))).await;
    assert_eq!(s, 200);
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&app.fx.service_item1.to_string().as_str()) && codes.contains(&"general")
    );
    let xml = c
        .get(url(&format!("services.xml?jurisdiction_id={j}")))
        .send()
        .await
        .unwrap();
    assert_eq!(xml.headers()["content-type"], "text/xml; charset=utf-8");
    let xml = xml.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml")
            && xml.contains("<services><service>")
            && xml.contains("<service_code>general</service_code>"),
        "{xml}"
    );
    let (s, def) = get_json(url(&format!(
        "services/{}.json?jurisdiction_id={j}",
        app.fx.service_item1
    )))
    .await;
    // Every service takes one attribute: the resident's consent to show the description.
    assert_eq!(s, 200);
    assert_eq!(def["attributes"][0]["code"], "publish_description");
    assert_eq!(def["attributes"][0]["values"][1]["key"], "yes");
    let (s, _) = get_json(url(&format!("services/99999.json?jurisdiction_id={j}"))).await;
    assert_eq!(s, 404);
    // POST: form-encoded, api_key in the body or the query; errors in the spec's format.
    let post = |q: String, form: Vec<(&'static str, String)>| {
        c.post(url(&format!("requests.json{q}"))).form(&form).send()
    };
    let base = |extra: Vec<(&'static str, String)>| {
        let mut f = vec![
            ("jurisdiction_id", j.clone()),
            ("service_code", app.fx.service_item1.to_string()),
            ("lat", "31.2101".to_string()),
            ("long", "121.5501".to_string()),
            ("description", "垃圾箱房满溢，气味很大".to_string()),
            ("first_name", "梅".to_string()),
            ("last_name", "李".to_string()),
            ("phone", "13912345678".to_string()),
            ("email", "li.mei@example.com".to_string()),
        ];
        f.extend(extra);
        f
    };
    let r = post(String::new(), base(vec![])).await.unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e[0]["code"], 403);
    let key = app.token("sec1").await;
    let r = post(String::new(), base(vec![("api_key", "wrong".into())]))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    for (bad, why) in [
        (("service_code", "99999".to_string()), "service_code"),
        (("phone", "12345".to_string()), "phone"),
        (("lat", "40.0".to_string()), "300 m"),
    ] {
        let mut f = base(vec![("api_key", key.clone())]);
        f.retain(|(k, _)| *k != bad.0);
        f.push(bad);
        let r = post(String::new(), f).await.unwrap();
        assert_eq!(r.status(), 400, "{why}");
        let e: Value = r.json().await.unwrap();
        assert!(e[0]["description"].as_str().unwrap().contains(why), "{e}");
    }
    // Issue 9, item 3: the key holder's scope holds here as at the desk: 牡丹六's
    // secretary files nothing in 牡丹七.
    let other = app.token("sec2").await;
    let r = post(format!("?api_key={other}"), base(vec![]))
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let e: Value = r.json().await.unwrap();
    assert!(
        e[0]["description"].as_str().unwrap().contains("this place"),
        "{e}"
    );
    let r = post(
        String::new(),
        base(vec![
            ("api_key", key.clone()),
            ("attribute[publish_description]", "maybe".into()),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400, "consent is yes or no");
    // Issue 9, item 2: a request whose matter is not public is not listed.
    let r = post(format!("?api_key={key}"), base(vec![])).await.unwrap();
    assert_eq!(r.status(), 201);
    let early: Value = r.json().await.unwrap();
    let early = early[0]["service_request_id"].as_str().unwrap().to_string();
    let (s, _) = get_json(url(&format!("requests/{early}.json?jurisdiction_id={j}"))).await;
    assert_eq!(s, 404, "the item is not publishable");
    let admin = app.token("admin").await;
    let r = c
        .patch(app.url(&format!("/api/v1/service_items/{}", app.fx.service_item1)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"version": 1, "publishable": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = post(format!("?api_key={key}"), base(vec![])).await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let token = created[0]["token"].as_str().unwrap().to_string();
    // The request sits in the one queue: channel open311, placed at the nearest building.
    let rec = app
        .store()
        .requests()
        .get(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(rec.channel, doorstep_domain::requests::Channel::Open311);
    assert_eq!(
        (
            rec.neighbourhood_id.get(),
            rec.building_id.map(|b| b.get()),
            rec.owner_id.get()
        ),
        (app.fx.nb1, Some(app.fx.building1), app.fx.sec1)
    );
    assert_eq!(rec.resident_email.as_deref(), Some("li.mei@example.com"));
    // Issue 9, item 2: nothing is public until an admin marks the catalogue item
    // publishable; then only what residents filed themselves, the description only with
    // their consent, the place at the building.
    // The matter is public by nature now: what residents filed under it before is listed
    // too, as their consent allows (none here, so no description).
    let (s, before) = get_json(url(&format!("requests/{early}.json?jurisdiction_id={j}"))).await;
    assert_eq!((s, before[0]["description"].as_str()), (200, Some("")));
    let desk = c
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"neighbourhood_id": app.fx.nb1, "channel": "desk", "kind": "report",
            "service_item_id": app.fx.service_item1, "description": "在窗口说的事", "public_description": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), 201);
    let desk: Value = desk.json().await.unwrap();
    let desk_id = desk["id"].to_string();
    let (s, _) = get_json(url(&format!("requests/{desk_id}.json?jurisdiction_id={j}"))).await;
    assert_eq!(s, 404, "what is told at the desk is never public");
    let r = post(
        format!("?api_key={key}"),
        base(vec![("attribute[publish_description]", "yes".into())]),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let consented: Value = r.json().await.unwrap();
    let consented = consented[0]["service_request_id"].as_str().unwrap();
    let (_, shown) = get_json(url(&format!(
        "requests/{consented}.json?jurisdiction_id={j}"
    )))
    .await;
    assert_eq!(shown[0]["description"], "垃圾箱房满溢，气味很大");
    // GET: by id (a one-element array), by token, by search; never the submitter's contacts.
    let (s, one) = get_json(url(&format!("requests/{id}.json?jurisdiction_id={j}"))).await;
    assert_eq!(s, 200);
    assert_eq!(one[0]["description"], "", "no consent, no description");
    let b = app
        .store()
        .places()
        .find(doorstep_domain::Entity::Building, app.fx.building1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (one[0]["lat"].as_f64(), one[0]["long"].as_f64()),
        (b.get("lat").as_f64(), b.get("lon").as_f64()),
        "the building's point, not the resident's"
    );
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(
        (one[0]["status"].as_str(), one[0]["service_code"].as_str()),
        (
            Some("open"),
            Some(app.fx.service_item1.to_string().as_str())
        )
    );
    let (_, tok) = get_json(url(&format!("tokens/{token}.json"))).await;
    assert_eq!(tok[0]["service_request_id"], id.as_str());
    // Guessing tokens is limited per address, as on the tracking page.
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(get_json(url("tokens/ABCDEFGHJK.json")).await.0);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let (s, list) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&status=open&service_code={}",
        app.fx.service_item1
    )))
    .await;
    assert_eq!(s, 200);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|r| r["service_request_id"] == id.as_str())
    );
    let text = list.to_string() + &one.to_string();
    for secret in [
        "13912345678",
        "李梅",
        "li.mei",
        "example.com",
        token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    // The tracking code is the resident's key to rate the service: never listed.
    assert!(one[0].get("token").is_none());
    let ids_of = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().to_string())
            .collect()
    };
    let fixture = app.fx.request1.to_string();
    let (_, general) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&service_code=general"
    )))
    .await;
    assert!(
        ids_of(&general).is_empty(),
        "nothing outside the catalogue is public"
    );
    let (_, both) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&service_code=general,{}",
        app.fx.service_item1
    )))
    .await;
    assert!(!ids_of(&both).contains(&fixture) && ids_of(&both).contains(&id));
    assert!(!ids_of(&both).contains(&desk_id));
    let (_, closed) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&status=closed"
    )))
    .await;
    assert!(closed.as_array().unwrap().is_empty());
    let (_, by_id) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&service_request_id={id},{}",
        app.fx.request1
    )))
    .await;
    assert_eq!(
        ids_of(&by_id),
        vec![id.clone()],
        "the desk's request stays private"
    );
    let (_, old) = get_json(url(&format!("requests.json?jurisdiction_id={j}&start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z"))).await;
    assert!(old.as_array().unwrap().is_empty());
    let (s, e) = get_json(url(&format!(
        "requests.json?jurisdiction_id={j}&start_date=yesterday"
    )))
    .await;
    assert_eq!(s, 400);
    assert!(e[0]["description"].as_str().unwrap().contains("start_date"));
    let (s, _) = get_json(url(&format!(
        "requests/{}.json?jurisdiction_id={j}",
        i64::MAX
    )))
    .await;
    assert_eq!(s, 404);
    // XML for one request and for errors.
    let xml = c
        .get(url(&format!("requests/{id}.xml?jurisdiction_id={j}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("<service_requests><request>")
            && xml.contains(&format!("<service_request_id>{id}</service_request_id>")),
        "{xml}"
    );
    let xml = c
        .get(url("requests/abc.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("<errors><error><code>"), "{xml}");
    // Resolved means closed, with the state in the notes.
    let sec = app.token("sec1").await;
    let r = c
        .post(app.url(&format!("/api/v1/requests/{id}/moves")))
        .bearer_auth(&sec)
        .json(&serde_json::json!({"version": 1, "move": "resolve_on_spot", "reply": "已清运"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, one) = get_json(url(&format!("requests/{id}.json?jurisdiction_id={j}"))).await;
    assert_eq!(one[0]["status"], "closed");
    assert_eq!(one[0]["status_notes"], "已办结");
    app.stop().await;
}

/// Issue 9, item 9: an Open311 client is limited by its key (its own hourly limit, set
/// to 3 for the tests), rejected attempts do not use it up, a 429 says when to retry,
/// and a multipart form gets a message that says what to send instead.
async fn open311_clients_are_limited_by_their_key(b: Backend) {
    let app = TestApp::spawn(b).await;
    let c = reqwest::Client::new();
    let j = app.fx.sd.to_string();
    let key = app.token("sec1").await;
    let post = |key: &str, description: &str| {
        let form = vec![
            ("jurisdiction_id", j.clone()),
            ("service_code", app.fx.service_item1.to_string()),
            ("lat", "31.2101".to_string()),
            ("long", "121.5501".to_string()),
            ("description", description.to_string()),
            ("api_key", key.to_string()),
        ];
        c.post(app.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
    };
    // Rejected attempts (no description) count for nothing.
    for _ in 0..5 {
        assert_eq!(post(&key, "").await.unwrap().status(), 400);
    }
    for i in 0..3 {
        let r = post(&key, &format!("路灯不亮 {i}")).await.unwrap();
        assert_eq!(r.status(), 201, "{i}");
    }
    let r = post(&key, "路灯不亮 3").await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e[0]["code"], 429);
    // Another key from the same address has its own limit, which requests sent at the
    // same moment cannot pass either: of twelve at once, three are filed.
    let admin = app.token("admin").await;
    let burst: Vec<_> = (0..12)
        .map(|i| {
            let form = vec![
                ("jurisdiction_id", j.clone()),
                ("service_code", app.fx.service_item1.to_string()),
                ("address_id", app.fx.building1.to_string()),
                ("description", format!("路灯不亮 同时 {i}")),
                ("api_key", admin.clone()),
            ];
            let (c, url) = (c.clone(), app.url("/open311/v2/requests.json"));
            tokio::spawn(async move { c.post(url).form(&form).send().await })
        })
        .collect();
    let mut filed = 0;
    for r in burst {
        let status = r.await.unwrap().unwrap().status();
        assert!(status == 201 || status == 429, "{status}");
        filed += usize::from(status == 201);
    }
    assert_eq!(filed, 3);
    // An hour later the keys may file again.
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(post(&key, "路灯不亮 4").await.unwrap().status(), 201);
    assert_eq!(post(&admin, "路灯不亮 5").await.unwrap().status(), 201);
    // A multipart form is told what to send.
    let form = reqwest::multipart::Form::new()
        .text("jurisdiction_id", j.clone())
        .text("api_key", key.clone());
    let r = c
        .post(app.url("/open311/v2/requests.json"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(
        e[0]["description"]
            .as_str()
            .unwrap()
            .contains("application/x-www-form-urlencoded"),
        "{e}"
    );
    app.stop().await;
}
