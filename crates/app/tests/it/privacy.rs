//! The privacy matrix: every role against every sensitive route of the care register
//! (and the request's phone), over HTTP against the running server, on both backends.
//! Each cell says whether the role may act on this resident's data; the test fails on
//! any unexpected allow (and on any unexpected refusal, which would hide a broken rule
//! behind a lucky status). Then the case grant: a worker handling a household's open
//! request reads it, without its mental-disorder tag, until the request is resolved.

use crate::backend_tests;
use crate::register::register_resident;
use crate::support::TestApp;
use doorstep_store::Backend;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

backend_tests!(every_role_meets_only_its_own_rights_on_the_register);

const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

/// Everyone who might ask, with a session and an API token (none when signed out).
struct Who {
    name: &'static str,
    client: Client,
    csrf: String,
    token: Option<String>,
}

async fn who(app: &TestApp, name: &'static str) -> Who {
    if name == "anonymous" {
        return Who {
            name,
            client: app.client(),
            csrf: String::new(),
            token: None,
        };
    }
    let client = app.login(name).await;
    Who {
        name,
        csrf: app.csrf(&client).await,
        token: Some(app.token(name).await),
        client,
    }
}

/// One sensitive action: what it is, how to ask, and who may.
struct Route {
    what: &'static str,
    allowed: &'static [&'static str],
    call: Call,
}

enum Call {
    Get(String),
    /// A form post (the session's CSRF token added).
    Form(String, Vec<(&'static str, String)>),
    /// A JSON post with the caller's API token.
    Api(String, Value),
}

/// Whether the server let the caller through: a refusal is 401, 403, 404 or the sign-in
/// page; anything else (a page, a redirect after success, a 409 or 422 about the input)
/// means the rules allowed the action. A 5xx is a failure in itself.
async fn attempt(app: &TestApp, w: &Who, call: &Call, n: usize) -> bool {
    let req = match call {
        Call::Get(path) => w.client.get(app.url(path)),
        Call::Form(path, form) => {
            let mut f = form.clone();
            f.push(("_csrf", w.csrf.clone()));
            w.client.post(app.url(path)).form(&f)
        }
        Call::Api(path, body) => {
            let mut body = body.clone();
            if let Some(k) = body.get_mut("client_key") {
                *k = json!(format!("matrix-{}-{n}", w.name));
            }
            let req = app.client().post(app.url(path)).json(&body);
            match &w.token {
                Some(t) => req.bearer_auth(t),
                None => req,
            }
        }
    };
    let r = req.send().await.unwrap();
    let status = r.status();
    assert!(!status.is_server_error(), "{} got {status}", w.name);
    let to_login = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.starts_with("/login"));
    !(matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ) || to_login)
}

const ROLES: &[&str] = &[
    "anonymous",
    "vol1",
    "partner1",
    "wang2",
    "w1",
    "sec1",
    "sec2",
    "admin",
    "admin2",
];
/// The block's worker and the neighbourhood's secretary.
const KEEPERS: &[&str] = &["w1", "sec1"];

fn routes(app: &TestApp, h: i64, r: i64, request: i64) -> Vec<Route> {
    let reveal = |field: &str| {
        Call::Form(
            format!("/care/residents/{r}/reveal"),
            vec![("field", field.into()), ("reason", "visit".into())],
        )
    };
    vec![
        Route {
            what: "household page",
            allowed: KEEPERS,
            call: Call::Get(format!("/care/households/{h}")),
        },
        Route {
            what: "reveal the phone",
            allowed: KEEPERS,
            call: reveal("phone"),
        },
        Route {
            what: "reveal the ID number",
            allowed: KEEPERS,
            call: reveal("id_number"),
        },
        Route {
            what: "correction form",
            allowed: KEEPERS,
            call: Call::Get(format!("/care/residents/{r}/edit")),
        },
        Route {
            what: "correct the record",
            allowed: KEEPERS,
            call: Call::Form(
                format!("/care/residents/{r}/edit"),
                vec![("version", "999".into()), ("name", "王秀英".into())],
            ),
        },
        Route {
            what: "start a tag",
            allowed: KEEPERS,
            call: Call::Form(
                format!("/care/residents/{r}/tags"),
                vec![
                    ("tag", "core_volunteer".into()),
                    ("started_on", "2026-11-01".into()),
                ],
            ),
        },
        Route {
            what: "archive (with a bad reason)",
            allowed: KEEPERS,
            call: Call::Form(
                format!("/care/residents/{r}/archive"),
                vec![("reason", "bored".into())],
            ),
        },
        Route {
            what: "log a visit (form)",
            allowed: KEEPERS,
            call: Call::Form(
                format!("/care/households/{h}/visits"),
                vec![("kind", "routine".into()), ("client_key", String::new())],
            ),
        },
        Route {
            what: "log a visit (API)",
            allowed: KEEPERS,
            call: Call::Api(
                "/api/v1/visits".into(),
                json!({"household_id": h, "kind": "routine", "client_key": ""}),
            ),
        },
        Route {
            what: "block page",
            allowed: KEEPERS,
            call: Call::Get(format!("/care/blocks/{}", app.fx.block1)),
        },
        Route {
            what: "building page",
            allowed: KEEPERS,
            call: Call::Get(format!(
                "/care/blocks/{}/buildings/{}",
                app.fx.block1, app.fx.building1
            )),
        },
        Route {
            what: "add a resident form",
            allowed: KEEPERS,
            call: Call::Get(format!(
                "/care/residents/new?building_id={}",
                app.fx.building1
            )),
        },
        Route {
            what: "masked export",
            allowed: &["w1", "wang2", "sec1", "sec2"],
            call: Call::Get("/care/export.xlsx".into()),
        },
        Route {
            what: "full export",
            allowed: &["sec1", "sec2"],
            call: Call::Form(
                "/care/export.xlsx".into(),
                vec![("reason", "verify".into())],
            ),
        },
        Route {
            what: "roster import",
            allowed: &["sec1", "sec2", "admin", "admin2"],
            call: Call::Get("/care/import".into()),
        },
        Route {
            what: "care settings",
            allowed: &["admin", "admin2"],
            call: Call::Get("/care/settings".into()),
        },
        Route {
            what: "reveal a request's phone",
            allowed: KEEPERS,
            call: Call::Api(
                format!("/api/v1/requests/{request}/reveal"),
                json!({"field": "resident_phone", "reason": "call_back"}),
            ),
        },
    ]
}

async fn every_role_meets_only_its_own_rights_on_the_register(b: Backend) {
    let app = TestApp::spawn(b).await;
    let admin = app.token("admin").await;
    let r = app
        .client()
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&admin)
        .json(&json!({"username": "wang2", "display_name": "王二", "role": "worker", "neighbourhood_id": app.fx.nb1, "password": crate::support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let w2_id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut people = Vec::new();
    for name in ROLES {
        people.push(who(&app, name).await);
    }
    let w1 = &people[4];
    let household = register_resident(
        &app,
        &w1.client,
        &[
            ("room", "502"),
            ("name", "王秀英"),
            ("id_number", ID),
            ("phone", PHONE),
        ],
    )
    .await;
    let h: i64 = household.rsplit('/').next().unwrap().parse().unwrap();
    let rid = app
        .store()
        .register()
        .residents_of(&[doorstep_domain::HouseholdId(h)])
        .await
        .unwrap()[0]
        .id
        .get();
    for (tag, kind) in [("mental_disorder", ""), ("hardship", "dibao")] {
        let form = [
            ("_csrf", w1.csrf.as_str()),
            ("tag", tag),
            ("kind", kind),
            ("started_on", "2026-10-01"),
        ];
        let r = w1
            .client
            .post(app.url(&format!("/care/residents/{rid}/tags")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{tag}");
    }
    let token = w1.token.clone().unwrap();
    let r = app
        .client()
        .post(app.url("/api/v1/requests"))
        .bearer_auth(&token)
        .json(&json!({"channel": "phone", "kind": "help", "description": "灯坏了", "resident_phone": PHONE}))
        .send()
        .await
        .unwrap();
    let request = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // The matrix.
    let mut unexpected = Vec::new();
    let mut cells = 0;
    for route in routes(&app, h, rid, request) {
        for w in &people {
            cells += 1;
            let got = attempt(&app, w, &route.call, cells).await;
            let want = route.allowed.contains(&w.name);
            if got != want {
                let verdict = if got { "ALLOWED" } else { "refused" };
                unexpected.push(format!("{} {verdict}: {}", w.name, route.what));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "{cells} cells, unexpected:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(cells, 17 * ROLES.len());

    // The case grant: a visit's finding becomes w1's request, handed to w2.
    let household_page = |w: &Who| {
        let req = w
            .client
            .get(app.url(&format!("/care/households/{h}")))
            .send();
        async move {
            let r = req.await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    for w in &people[..4] {
        assert_eq!(
            household_page(w).await.0,
            if w.name == "anonymous" { 303 } else { 403 },
            "{}",
            w.name
        );
    }
    let r = app
        .client()
        .post(app.url("/api/v1/visits"))
        .bearer_auth(&token)
        .json(&json!({"household_id": h, "kind": "care", "notes": "按时服药，情绪稳定", "client_key": "care-visit-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .client()
        .post(app.url("/api/v1/visits"))
        .bearer_auth(&token)
        .json(&json!({"household_id": h, "kind": "care", "finding": "水管漏水，需要物业上门", "client_key": "case-visit-0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let case = r.json::<Value>().await.unwrap()["request_id"]
        .as_i64()
        .unwrap();
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/requests/{case}/moves")))
        .bearer_auth(&token)
        .json(&json!({"version": 1, "move": "assign", "to": {"kind": "worker", "id": w2_id}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let w2 = &people[3];
    let (status, page) = household_page(w2).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("王秀英") && page.contains("低保"),
        "the hardship tag is shown"
    );
    assert!(
        !page.contains("精神"),
        "never the mental-disorder tag: {page}"
    );
    assert!(
        !page.contains("visit-form") && !page.contains("/reveal"),
        "read only"
    );
    let (_, keeper) = household_page(w1).await;
    assert!(keeper.contains("精神"), "the block's worker sees it");
    // Her request page leads to the household; the grant opens nothing to change.
    let req_page = w2
        .client
        .get(app.url(&format!("/requests/{case}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        req_page.contains(&format!("&#x2f;care&#x2f;households&#x2f;{h}\"")),
        "{req_page}"
    );
    for call in [
        Call::Form(
            format!("/care/residents/{rid}/reveal"),
            vec![("field", "phone".into()), ("reason", "visit".into())],
        ),
        Call::Form(
            format!("/care/residents/{rid}/tags"),
            vec![("tag", "core_volunteer".into())],
        ),
        Call::Form(
            format!("/care/households/{h}/visits"),
            vec![("kind", "routine".into())],
        ),
        Call::Get(format!("/care/residents/{rid}/edit")),
    ] {
        assert!(!attempt(&app, w2, &call, 0).await);
    }
    // Resolved, the grant ends.
    let w2_token = app.token("wang2").await;
    for (version, body) in [
        (2, json!({"move": "accept"})),
        (3, json!({"move": "resolve", "reply": "已联系物业修好水管"})),
    ] {
        let mut body = body;
        body["version"] = json!(version);
        let r = app
            .client()
            .post(app.url(&format!("/api/v1/requests/{case}/moves")))
            .bearer_auth(&w2_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    assert_eq!(household_page(w2).await.0, 403);
    assert!(
        app.findings
            .scanned
            .load(std::sync::atomic::Ordering::Relaxed)
            > 150
    );
    app.stop().await;
}
