//! Issue 12, room bookings (一室多用): once or repeating, never two in one room at once, a
//! refusal that names the booking in the way, and a room that many book at the same
//! moment goes to one.

use crate::backend_tests;
use crate::support::TestApp;
use doorstep_store::Backend;
use serde_json::{Value, json};

backend_tests!(
    rooms_are_booked_once_and_never_twice,
    fifty_bookings_of_one_slot_go_to_one,
    a_station_books_its_rooms_on_its_page
);

async fn rooms_are_booked_once_and_never_twice(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let c = reqwest::Client::new();
    let book = |body: Value| {
        c.post(app.url("/api/v1/bookings"))
            .bearer_auth(&sec)
            .json(&body)
            .send()
    };
    let room = app.fx.room1;
    // The calligraphy class, every Wednesday of December.
    let r = book(json!({"room_id": room, "date": "2026-12-02", "start": "14:00", "end": "16:00",
        "purpose": "书法班", "attendance": 20, "repeat": "weekly", "until": "2026-12-30", "except": ["2026-12-30"]}))
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let class: Value = r.json().await.unwrap();
    let class = class["items"].as_array().unwrap().clone();
    assert_eq!(class.len(), 4);
    assert!(
        class
            .iter()
            .all(|b| b["series_id"] == class[0]["series_id"] && !b["series_id"].is_null())
    );
    assert_eq!(class[2]["starts_at"], "2026-12-16T06:00:00Z");
    // A meeting across the third lesson is refused, naming it.
    let r = book(json!({"room_id": room, "date": "2026-12-16", "start": "15:00", "end": "17:00", "purpose": "垃圾分类楼组长会"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "booking_overlap");
    assert_eq!(e["conflict"]["id"], class[2]["id"]);
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("2026-12-16 14:00–16:00") && message.contains("书法班"),
        "{message}"
    );
    // Back to back is fine.
    let r = book(json!({"room_id": room, "date": "2026-12-16", "start": "16:00", "end": "17:00", "purpose": "垃圾分类楼组长会"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // Bad rules and bad rooms are named.
    for (body, field, code) in [
        (
            json!({"room_id": room, "date": "2026-12-03", "start": "10:00", "end": "11:00", "purpose": "x", "repeat": "weekly", "until": "2026-11-01"}),
            "until",
            "before_first",
        ),
        (
            json!({"room_id": room, "date": "2026-12-03", "start": "10:00", "end": "11:00", "purpose": "x", "repeat": "daily", "until": "2026-12-31"}),
            "repeat",
            "invalid",
        ),
        (
            json!({"room_id": room, "date": "2026-12-03", "start": "11:00", "end": "10:00", "purpose": "x"}),
            "end",
            "end_before_start",
        ),
        (
            json!({"room_id": room, "date": "2026-12-03", "start": "10:00", "end": "11:00", "purpose": "x", "repeat": "weekly", "until": "2028-01-01"}),
            "until",
            "too_far",
        ),
        (
            json!({"room_id": 99999, "date": "2026-12-03", "start": "10:00", "end": "11:00", "purpose": "x"}),
            "room_id",
            "invalid_reference",
        ),
        (
            json!({"room_id": room, "date": "2026-12-03", "start": "10:00", "end": "11:00"}),
            "purpose",
            "required",
        ),
    ] {
        let r = book(body).await.unwrap();
        assert_eq!(r.status(), 422, "{field}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["fields"][field]["code"], code, "{e}");
    }
    // Another neighbourhood's secretary books nothing here.
    let other = app.token("sec2").await;
    let r = c
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(&other)
        .json(&json!({"room_id": room, "date": "2026-12-04", "start": "10:00", "end": "11:00", "purpose": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A lesson cancelled frees its time; nothing comes back from cancelled.
    let third = class[2]["id"].as_i64().unwrap();
    let state = |body: Value| {
        c.post(app.url(&format!("/api/v1/bookings/{third}/state")))
            .bearer_auth(&sec)
            .json(&body)
            .send()
    };
    assert_eq!(
        state(json!({"state": "cancelled"})).await.unwrap().status(),
        428
    );
    let r = state(json!({"version": 1, "state": "cancelled"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let again = state(json!({"version": 2, "state": "confirmed"}))
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let r = book(json!({"room_id": room, "date": "2026-12-16", "start": "14:30", "end": "15:30", "purpose": "消防演练筹备会"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // The room's month, in time order: three lessons and two meetings.
    let month: Value = c
        .get(app.url(&format!(
            "/api/v1/rooms/{room}/bookings?from=2026-12-01&to=2026-12-31"
        )))
        .bearer_auth(&sec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let purposes: Vec<&str> = month["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        [
            "书法班",
            "书法班",
            "消防演练筹备会",
            "垃圾分类楼组长会",
            "书法班"
        ]
    );
    app.stop().await;
}

/// Fifty staff book the same slot at the same moment: one gets it, 49 are told who did.
async fn fifty_bookings_of_one_slot_go_to_one(b: Backend) {
    let app = TestApp::spawn(b).await;
    let sec = app.token("sec1").await;
    let tries: Vec<_> = (0..50)
        .map(|i| {
            let (c, url, sec) = (reqwest::Client::new(), app.url("/api/v1/bookings"), sec.clone());
            let body = json!({"room_id": app.fx.room1, "date": "2026-12-05", "start": "09:00", "end": "11:00", "purpose": format!("活动 {i}")});
            tokio::spawn(async move { c.post(url).bearer_auth(sec).json(&body).send().await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap().unwrap().status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    app.stop().await;
}

/// The station's page: a worker books the calligraphy class for three Wednesdays from her
/// phone, sees the two weeks, is told which booking is in the way, and cancels one.
async fn a_station_books_its_rooms_on_its_page(b: Backend) {
    let app = TestApp::spawn(b).await;
    let w1 = app.login("w1").await;
    let csrf = app.csrf(&w1).await;
    let page_url = app.url(&format!("/stations/{}/bookings", app.fx.station1));
    let station = w1
        .get(app.url(&format!("/stations/{}", app.fx.station1)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Links are HTML-escaped (`/` as `&#x2f;`).
    let link = format!("&#x2f;stations&#x2f;{}&#x2f;bookings", app.fx.station1);
    assert!(station.contains(&link), "the station links to its bookings");
    let page = w1
        .get(&page_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("综合活动室") && !page.contains("社工办公区"),
        "rooms, not the office"
    );
    let room = app.fx.room1.to_string();
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("_csrf", csrf.clone()),
            ("room_id", room.clone()),
            ("date", "2026-12-02".to_string()),
            ("start", "14:00".to_string()),
            ("end", "16:00".to_string()),
            ("purpose", "书法班".to_string()),
        ];
        for (k, v) in extra {
            f.retain(|(x, _)| x != k);
            f.push((k, v.to_string()));
        }
        f
    };
    let r = w1
        .post(&page_url)
        .form(&form(&[
            ("repeat", "weekly"),
            ("until", "2026-12-16"),
            ("attendance", "20"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("from=2026-12-02&booked=3"), "{to}");
    let page = w1
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("已预约 3 次") && page.contains("14:00–16:00") && page.contains("书法班"),
        "{page}"
    );
    // Room use: unknown until the station's hours read; then hours booked ÷ hours open
    // over the fortnight (two lessons of 2 h in 10 weekdays of 8.5 h).
    assert!(
        page.contains("无法计算使用率"),
        "the fixture station has no hours"
    );
    let admin = app.token("admin").await;
    let r = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/stations/{}", app.fx.station1)))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"version": 1, "opening_hours": "周一至周五 8:30-17:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = w1
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = "<td>综合活动室</td><td class=\"num\">4.0</td><td class=\"num\">85.0</td><td class=\"num\">5%</td>";
    assert!(page.contains(row), "{page}");
    // The same time again names the class in the way; a bad time names the field.
    let r = w1
        .post(&page_url)
        .form(&form(&[("date", "2026-12-09"), ("purpose", "楼组长会")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("这个时段房间已被预约") && page.contains("2026-12-09 14:00–16:00"),
        "{page}"
    );
    assert!(page.contains("楼组长会"), "what was typed is kept");
    let r = w1
        .post(&page_url)
        .form(&form(&[("end", "13:00")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("结束时间应晚于开始时间"));
    // Another neighbourhood's secretary does not see this station's bookings.
    let sec2 = app.login("sec2").await;
    assert_eq!(sec2.get(&page_url).send().await.unwrap().status(), 403);
    // Cancelling one lesson frees its time.
    let held = app
        .store()
        .bookings()
        .in_room(
            doorstep_domain::RoomId(app.fx.room1),
            chrono::DateTime::parse_from_rfc3339("2026-12-09T00:00:00+08:00")
                .unwrap()
                .into(),
            chrono::DateTime::parse_from_rfc3339("2026-12-10T00:00:00+08:00")
                .unwrap()
                .into(),
        )
        .await
        .unwrap();
    let lesson = &held[0];
    let r = w1
        .post(app.url(&format!("/bookings/{}/cancel", lesson.id)))
        .form(&[("_csrf", csrf.as_str()), ("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = w1
        .post(&page_url)
        .form(&form(&[("date", "2026-12-09"), ("purpose", "楼组长会")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    app.stop().await;
}
